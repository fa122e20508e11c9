"""Inherited disease risk: every source's germline classification of each allele, side by side.

Path: ``Patient -HAS_VARIANT-> Variant <-ABOUT- Evidence -FOR_DISEASE-> Disease`` for ClinVar
classifications (every active ClinVar release: the 2026-02-26 VCF and the 2024-06-01 extract; an older
release's evidence inside a newer one's coverage is superseded and not shown, kg/queries/visibility.py) and
curated evidence, and ``Variant <-INCLUDES- MolecularProfile {kind: 'single'} <-ABOUT- Assertion``
for CIViC's predisposing assertions (and curated evidence about such a profile).

One finding per allele the patient carries (exact match only). Its ``classifications`` list each
source's classification; the combined one is reached so (docs/GRAPH_MODEL.md "Risk answers"):

1. each classification falls in a tier: pathogenic (P, LP), uncertain (VUS), benign (LB, B),
   conflicting (ClinVar's own submitters disagree); drug response, risk factor and other are
   listed but do not vote;
2. each has an authority rank: ClinVar practice guideline (4 stars) 4; ClinVar expert panel
   (3 stars) and CIViC assertions (expert-curated) 3; ClinVar multiple submitters (2 stars) and
   curated evidence accepted by a moderator 2; ClinVar single submitter or conflicting (1 star) 1;
   no assertion criteria 0;
3. the combined classification is that of the highest-ranked sources (the weaker claim where they
   say P and LP); highest-ranked sources in different tiers combine to ``conflicting``;
4. ``conflict`` is set whenever the voting classifications fall in more than one tier, or one of
   them is ClinVar's ``conflicting``; ``sides`` then names the sources of each tier. Nothing is
   dropped: a lower-ranked P/LP claim that the combined classification overrules makes the status
   CONFLICTING, which is shown by default.

Status, from a germline call: AT_RISK / CARRIER when the combined tier is pathogenic (with the
ACMG SF v3.0 inheritance of the gene: one pathogenic allele in a recessive gene makes a carrier,
two -- homozygous, or two different variants of unknown phase -- make them at risk); CONFLICTING
when some source says P/LP but the combined classification is not pathogenic; NOT_A_RISK
otherwise (benign is never risk; listed only when asked). Predisposition comes only from germline
calls (kg.identity.origins): a tumour-only call that would be AT_RISK, CARRIER or CONFLICTING is
POSSIBLE_GERMLINE ("possible germline origin, confirm with a germline test", as PCGR's tumour-only
mode flags it), unless the graph holds somatic evidence for the allele (a known somatic variant,
such as BRAF V600E) and its gene is not on the ACMG SF v3.0 list: then it is withheld (NOT_A_RISK,
saying why). A known somatic variant of a predisposition gene (TP53 R175H, BRCA2) stays
POSSIBLE_GERMLINE: ESMO's Precision Medicine Working Group (Mandelker et al., Ann Oncol 2019)
asks that such tumour-only findings be confirmed in germline. A somatic call of a tumour/normal
pair (absent from the normal) is never a germline risk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kg.db import Graph
from kg.identity.origins import CallOrigin, call_origin_of
from kg.loaders.property_groups import values_as_of
from kg.queries.answers import (
    AS_OF,
    RELEASES_USED,
    DiseaseRef,
    PathNode,
    PathStep,
    SourceRef,
    as_of,
    collected,
    disease_ref,
    patient_conditions,
    releases_of,
    source_refs,
)
from kg.queries.fields import described
from kg.queries.visibility import (
    VISIBLE_EVIDENCE,
    KnowledgeState,
    accepted,
    active_sources,
    kept_before_state,
    release_date,
    state_groups,
    state_params,
    visible_evidence,
)

RISK_CLASSES = ("pathogenic", "likely pathogenic")
CLASSIFYING_TYPES = ["pathogenicity", "predisposing"]

_GERMLINE_ROWS = f"""
MATCH (p:Patient {{id: $patient}})-[hv:HAS_VARIANT]->(v:Variant)
WHERE coalesce(hv.matchLevel, 'exact') = 'exact'
OPTIONAL CALL (v) {{
  MATCH (v)<-[:ABOUT]-(e:Evidence)
  WHERE e.type IN $types AND {VISIBLE_EVIDENCE}
  RETURN e, null AS mp
  UNION
  MATCH (v)<-[inc:INCLUDES]-(mp:MolecularProfile {{kind: 'single'}})<-[:ABOUT]-(e:Evidence)
  WHERE e.type IN $types AND (e:Assertion OR e.source = 'curated') AND NOT coalesce(inc.negated, false)
    AND {VISIBLE_EVIDENCE}
  RETURN e, mp
}}
OPTIONAL MATCH (e)-[:FOR_DISEASE]->(d:Disease)
WITH p, hv, v, e, mp, collect(DISTINCT d {{.id, .name}}) AS diseases
WITH p, hv, v, [c IN collect({{
       evidence: e {{.*, assertion: e:Assertion}}, groups: {state_groups("e")},
       profile: mp {{.id, .name}}, diseases: diseases, sources: {active_sources("e")}}}) WHERE c.evidence IS NOT NULL]
     AS classifications
// no classification in the state: the newest one a kept release no newer than the state made
// (superseded, or its release left the state), for the NO_CURRENT_CLASSIFICATION finding
CALL (v, classifications) {{
  OPTIONAL MATCH (v)<-[:ABOUT]-(h:Evidence)-[:ASSERTED_BY]->(hs:Source)
  WHERE size(classifications) = 0 AND h.type IN $types AND {accepted("h")} AND NOT ({visible_evidence("h")})
    AND {kept_before_state("hs")}
  WITH h, hs ORDER BY {release_date("hs")} DESC, coalesce(hs.seq, 0) DESC, h.id LIMIT 1
  RETURN CASE WHEN h IS NULL THEN null ELSE {{
           evidence: h {{.*, assertion: h:Assertion, superseded: true}}, profile: null, diseases: [],
           sources: [hs {{.key, .name, .version, .licence, fact: h.id}}]}} END AS lastClassification
}}
WITH * WHERE size(classifications) > 0 OR lastClassification IS NOT NULL
OPTIONAL MATCH (v)-[:IN_GENE]->(g:Gene)
WITH p, hv, v, classifications, lastClassification, collect(DISTINCT g.symbol) AS genes
RETURN v {{.id, .name, .rsid, .gene, .proteinChange, .hgvs}} AS variant, properties(hv) AS link,
       p.origin AS sampleOrigin, p.normalSample AS normalSample, classifications, lastClassification, genes,
       {active_sources("v")} AS variantSources,
       [(sf:SecondaryFinding)-[:FOR_GENE]->(g2:Gene) WHERE g2.symbol IN genes
        | sf {{.id, .disorder, .inheritance, .reportWhat, gene: g2.symbol}}] AS secondaryFindings,
       COUNT {{ MATCH (v)<-[i:INCLUDES]-(:MolecularProfile)<-[:ABOUT]-(s:Evidence)
                WHERE s.origin = 'somatic' AND NOT coalesce(i.negated, false) AND {visible_evidence("s")} }}
       + COUNT {{ MATCH (v)<-[:ABOUT]-(s:Evidence)
                  WHERE s.origin IN ['somatic', 'germline/somatic'] AND {visible_evidence("s")} }} AS somaticEvidence
"""
#: Every row of ``_GERMLINE_ROWS`` in one record (kg.queries.answers.collected).
GERMLINE_FINDINGS = collected(
    _GERMLINE_ROWS,
    [
        "variant",
        "link",
        "sampleOrigin",
        "normalSample",
        "classifications",
        "lastClassification",
        "genes",
        "variantSources",
        "secondaryFindings",
        "somaticEvidence",
    ],
)


class RiskStatus(StrEnum):
    AT_RISK = "AT_RISK"
    CARRIER = "CARRIER"
    POSSIBLE_GERMLINE = "POSSIBLE_GERMLINE"  # a tumour-only call: confirm with a germline test
    CONFLICTING = "CONFLICTING"  # a source says P/LP, the combined classification does not
    # the knowledge state classifies the allele no more; a kept older release did (issue 8)
    NO_CURRENT_CLASSIFICATION = "NO_CURRENT_CLASSIFICATION"
    NOT_A_RISK = "NOT_A_RISK"


class Tier(StrEnum):
    """The steps a disagreement is measured in (one tier apart is a conflict)."""

    PATHOGENIC = "pathogenic"  # pathogenic, likely pathogenic
    UNCERTAIN = "uncertain"  # uncertain significance
    BENIGN = "benign"  # likely benign, benign
    CONFLICTING = "conflicting"  # ClinVar's aggregate: its submitters disagree


TIER_OF = {
    "pathogenic": Tier.PATHOGENIC,
    "likely pathogenic": Tier.PATHOGENIC,
    "uncertain significance": Tier.UNCERTAIN,
    "likely benign": Tier.BENIGN,
    "benign": Tier.BENIGN,
    "conflicting": Tier.CONFLICTING,
}

#: Within a tier, the weaker claim first: agreeing P and LP combine to LP (as ClinVar does).
WEAKER_FIRST = ["likely pathogenic", "pathogenic", "likely benign", "benign"]

#: ClinVar gold stars -> (authority, rank).
CLINVAR_AUTHORITY = {
    4: ("practice guideline", 4),
    3: ("expert panel", 3),
    2: ("multiple submitters, no conflicts", 2),
    1: ("single submitter or conflicting", 1),
    0: ("no assertion criteria", 0),
}
CIVIC_ASSERTION = ("CIViC assertion (expert-curated)", 3)
CURATED = ("curated here, accepted by a moderator", 2)
CIVIC_EVIDENCE = ("CIViC evidence item", 1)


@dataclass
class SourceClassification:
    """One source's classification of the allele."""

    source: str | None  # clinvar | civic | curated
    evidence_id: str
    release: str | None  # the Source key asserting it, name@version
    classification: str
    tier: str | None = field(
        metadata=described("pathogenic, uncertain, benign or conflicting; none for drug response, risk factor, other.")
    )
    significance: str | None  # as the source wrote it
    review_status: str | None
    stars: int | None
    authority: str = field(
        metadata=described("What the classification rests on: practice guideline, expert panel, CIViC assertion, ...")
    )
    rank: int = field(
        metadata=described(
            "Authority rank: 4 practice guideline; 3 expert panel, CIViC assertion; 2 multiple "
            "submitters, curated; 1 single submitter; 0 no criteria. The highest decide."
        )
    )
    acmg_codes: list[str]
    conditions: list[str]
    diseases: list[DiseaseRef]
    molecular_profile: str | None
    superseded: bool = field(
        metadata=described(
            "Not part of the knowledge state any more (superseded by a newer release, or its release left the "
            "state): the last classification of a NO_CURRENT_CLASSIFICATION finding; never votes."
        )
    )
    votes: bool = field(metadata=described("Counts toward the combined classification: current and in a tier."))
    conflicting_submissions: str | None  # ClinVar's CLNSIGCONF, when it gives one
    pmids: list[str]


@dataclass
class ClassificationSide:
    """One side of a disagreement: a tier and the classifications (evidence ids) in it."""

    tier: str
    evidence_ids: list[str]
    sources: list[str]


@dataclass
class RiskFinding:
    gene: str | None
    variant: str  # the Variant id
    variant_name: str | None
    rsid: str | None
    evidence_id: str = field(metadata=described("The deciding classification: the highest-ranked voting one."))
    source: str | None
    classification: str = field(metadata=described("The combined classification (see reason)."))
    significance: str | None
    review_status: str | None
    stars: int | None
    conditions: list[str]
    diseases: list[DiseaseRef]
    zygosity: str | None
    genotype: str | None
    inheritance: str | None
    acmg_disorders: list[str]
    status: RiskStatus
    reason: str
    pmids: list[str]
    conflict: bool = field(
        metadata=described(
            "The sources' classifications fall in different tiers (P/LP, VUS, LB/B), or ClinVar's "
            "submitters disagree: see sides."
        )
    )
    sides: list[ClassificationSide]
    classifications: list[SourceClassification]
    call_origin: str = field(
        metadata=described("germline, somatic (a pair's tumour only) or unknown (tumour-only sample).")
    )
    sample_origin: str
    path: list[PathStep] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    last_release: str | None = field(
        default=None,
        metadata=described(
            "NO_CURRENT_CLASSIFICATION: the newest kept release that classified the allele (its class is "
            "last_classification); null otherwise."
        ),
    )
    last_classification: str | None = None
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)


def _classification(e: dict[str, Any]) -> str:
    if e.get("type") == "pathogenicity":
        return e.get("classification") or (e.get("significance") or "other").lower()
    significance = (e.get("significance") or "").lower()
    if (e.get("direction") or "supports") != "supports":
        return f"{significance} (does not support)" if significance else "does not support"
    return "pathogenic" if significance == "predisposition" else significance or "other"


def _authority(e: dict[str, Any]) -> tuple[str, int]:
    if e.get("source") == "clinvar" or e.get("reviewStatus") is not None:
        return CLINVAR_AUTHORITY.get(int(e.get("stars") or 0), CLINVAR_AUTHORITY[0])
    if e.get("assertion"):
        return CIVIC_ASSERTION
    if e.get("source") == "curated":
        return CURATED
    return CIVIC_EVIDENCE


def _source_classification(c: dict[str, Any]) -> SourceClassification:
    e = values_as_of(c["evidence"], c.get("groups"))  # as of a release: that release's words
    classification = _classification(e)
    tier = TIER_OF.get(classification)
    authority, rank = _authority(e)
    releases = [s["key"] for s in c["sources"] if s]
    return SourceClassification(
        source=e.get("source"),
        evidence_id=e["id"],
        release=releases[0] if releases else None,
        classification=classification,
        tier=tier.value if tier else None,
        significance=e.get("significance"),
        review_status=e.get("reviewStatus"),
        stars=e.get("stars"),
        authority=authority,
        rank=rank,
        acmg_codes=list(e.get("acmgCodes") or []),
        conditions=e.get("conditionNames") or ([e["disease"]] if e.get("disease") else []),
        diseases=[disease_ref(d) for d in c["diseases"]],
        molecular_profile=(c.get("profile") or {}).get("name"),
        superseded=bool(e.get("superseded")),
        votes=tier is not None and not e.get("superseded"),
        conflicting_submissions=e.get("conflicting"),
        pmids=[str(x) for x in e.get("pmids") or []],
    )


@dataclass(frozen=True)
class Combined:
    """The combined classification of an allele, and the disagreement it must not hide."""

    classification: str
    tier: Tier | None
    decider: SourceClassification
    conflict: bool
    sides: list[ClassificationSide]
    how: str


def combine(classifications: list[SourceClassification]) -> Combined:
    """The rule of the module docstring: highest rank decides, any tier difference is a conflict."""
    ordered = sorted(classifications, key=lambda c: (-c.rank, not c.votes, c.superseded, c.evidence_id))
    voting = [c for c in ordered if c.votes]
    if not voting:
        first = ordered[0]
        return Combined(
            first.classification,
            None,
            first,
            False,
            [],
            f"{_label(first)}: {first.classification} (not a pathogenicity classification)",
        )
    best = voting[0].rank
    top = [c for c in voting if c.rank == best]
    top_tiers = {c.tier for c in top}
    if len(top_tiers) == 1:
        names = {c.classification for c in top}
        classification = next((n for n in WEAKER_FIRST if n in names), top[0].classification)
        tier: Tier | None = Tier(top[0].tier or "")
    else:
        classification, tier = "conflicting", Tier.CONFLICTING
    tiers = {c.tier for c in voting}
    conflict = len(tiers) > 1 or Tier.CONFLICTING.value in tiers
    sides = (
        [
            ClassificationSide(
                t.value,
                [c.evidence_id for c in voting if c.tier == t.value],
                sorted({c.source or "" for c in voting if c.tier == t.value}),
            )
            for t in Tier
            if t.value in tiers
        ]
        if conflict
        else []
    )
    how = "; ".join(f"{_label(c)}: {c.classification}" for c in voting)
    if len(voting) > 1:
        rule = (
            "the highest-ranked sources disagree"
            if len(top_tiers) > 1
            else f"decided by the highest-ranked ({top[0].authority})"
        )
        how = f"{how}. Combined {classification}: {rule}"
    if conflict:
        how += ". CONFLICT: " + " vs ".join(f"{s.tier} ({', '.join(s.evidence_ids)})" for s in sides)
        clnsigconf = [c.conflicting_submissions for c in voting if c.conflicting_submissions]
        if clnsigconf:
            how += f" [ClinVar submissions: {clnsigconf[0]}]"
    return Combined(classification, tier, top[0], conflict, sides, how)


def _label(c: SourceClassification) -> str:
    stars = f", {c.stars} star{'' if c.stars == 1 else 's'}" if c.stars is not None else ""
    codes = f", ACMG {' '.join(c.acmg_codes)}" if c.acmg_codes else ""
    return f"{c.evidence_id} ({c.authority}{stars}{codes})"


def _inheritance(findings: list[dict[str, Any]]) -> str | None:
    modes = sorted({(f.get("inheritance") or "").strip() for f in findings if f.get("inheritance")})
    return "/".join(modes) if modes else None


def risks(
    graph: Graph, patient: str, include_non_risk: bool = False, state: KnowledgeState | None = None
) -> list[RiskFinding]:
    """One finding per classified allele, risk first; with include_non_risk also NOT_A_RISK. Classifications
    are those of the knowledge ``state`` (None: current); an allele the state classifies no more, that a kept
    older release classified, is NO_CURRENT_CLASSIFICATION (shown by default when that class was P/LP)."""
    (found,) = graph.read(
        GERMLINE_FINDINGS, plain_=True, patient=patient, types=CLASSIFYING_TYPES, **state_params(state)
    )
    rows: list[dict[str, Any]] = found["rows"]
    if not rows:
        patient_conditions(graph, patient)  # raises UnknownPatient; otherwise: no findings
    prepared = []
    unclassified = []
    risky_alleles_per_gene: dict[str, int] = defaultdict(int)
    for row in rows:
        if not row["classifications"]:
            unclassified.append(_no_current_classification(patient, row))
            continue
        combined = combine([_source_classification(c) for c in row["classifications"]])
        call = call_origin_of((row["link"] or {}).get("callOrigin"), row["sampleOrigin"])
        if combined.tier == Tier.PATHOGENIC and call == CallOrigin.GERMLINE:
            for gene in row["genes"] or [row["variant"].get("gene")]:
                copies = 2 if (row["link"] or {}).get("zygosity") == "homozygous" else 1
                risky_alleles_per_gene[gene] += copies
        prepared.append((row, combined, call))
    findings = [_finding(patient, row, combined, call, risky_alleles_per_gene) for row, combined, call in prepared]
    findings = [f for f in findings if include_non_risk or f.status != RiskStatus.NOT_A_RISK]
    findings += [f for f, shown in unclassified if include_non_risk or shown]
    for f in findings:
        f.releases = releases_of(f.sources)
        f.as_of = as_of(state)
    order = list(RiskStatus)
    findings.sort(key=lambda f: (order.index(f.status), -(f.stars or 0), f.gene or "", f.variant))
    return findings


def _germline_status(
    combined: Combined, gene: str | None, zygosity: str | None, inheritance: str | None, alleles: int
) -> tuple[RiskStatus, str]:
    """The status of a germline call from its combined classification and the gene's inheritance."""
    classification = combined.classification
    modes = (inheritance or "").split("/")
    if combined.tier != Tier.PATHOGENIC:
        if any(s.tier == Tier.PATHOGENIC.value for s in combined.sides):
            return RiskStatus.CONFLICTING, (
                f"combined {classification}, but a source classifies it pathogenic/likely pathogenic: "
                "the sources disagree, review before relying on either"
            )
        return RiskStatus.NOT_A_RISK, f"classified {classification}: not reported as a risk"
    if inheritance and "AR" in modes and "AD" not in modes and alleles < 2:
        return RiskStatus.CARRIER, (
            f"one {classification} allele in {gene}, a gene with autosomal recessive inheritance (ACMG SF v3.0): carrier"
        )
    if inheritance and "AR" in modes and zygosity != "homozygous":
        return RiskStatus.AT_RISK, (
            f"two {classification} alleles in the recessive gene {gene} (phase unknown: possible compound heterozygote)"
        )
    mode = f" ({inheritance} inheritance)" if inheritance else " (inheritance not in ACMG SF v3.0)"
    return RiskStatus.AT_RISK, f"{classification} {zygosity or ''} variant in {gene}{mode}".replace("  ", " ")


def _finding(
    patient: str, row: dict[str, Any], combined: Combined, call: CallOrigin, alleles_per_gene: dict[str, int]
) -> RiskFinding:
    link = row["link"] or {}
    gene = (row["genes"] or [row["variant"].get("gene")])[0]
    inheritance = _inheritance(row["secondaryFindings"])
    status, reason = _germline_status(combined, gene, link.get("zygosity"), inheritance, alleles_per_gene.get(gene, 0))
    if call == CallOrigin.SOMATIC:
        status, reason = (
            RiskStatus.NOT_A_RISK,
            (
                f"a somatic call (absent from the matched normal {row.get('normalSample') or ''}): "
                f"predisposition comes only from germline calls; would be: {reason}"
            ).replace("normal :", "normal:"),
        )
    elif call == CallOrigin.UNKNOWN and status != RiskStatus.NOT_A_RISK:
        if row["somaticEvidence"] and not row["secondaryFindings"]:
            status, reason = (
                RiskStatus.NOT_A_RISK,
                (
                    f"withheld: a tumour-only call of a known somatic variant ({row['somaticEvidence']} somatic evidence "
                    f"items) in a gene outside the ACMG SF v3.0 predisposition list, so most likely somatic; as a "
                    f"germline call it would be: {reason}. If a germline origin is suspected clinically, confirm with a "
                    "germline test"
                ),
            )
        else:
            status, reason = (
                RiskStatus.POSSIBLE_GERMLINE,
                (
                    f"possible germline origin, confirm with a germline test: a tumour-only call cannot tell germline "
                    f"from somatic (as a germline call: {reason})"
                ),
            )
    elif call == CallOrigin.GERMLINE and row["sampleOrigin"] == "tumor_normal":
        reason += f" (germline: carried by the matched normal {row.get('normalSample') or ''})".replace(" )", ")")
    reason = f"{reason}. Sources: {combined.how}"
    classifications = sorted(
        (_source_classification(c) for c in row["classifications"]),
        key=lambda c: (-c.rank, not c.votes, c.superseded, c.evidence_id),
    )
    decider = combined.decider
    voting = [c for c in classifications if c.votes] or classifications
    return RiskFinding(
        **_allele(row, call),
        evidence_id=decider.evidence_id,
        source=decider.source,
        classification=combined.classification,
        significance=decider.significance,
        review_status=decider.review_status,
        stars=decider.stars,
        conditions=list(dict.fromkeys(x for c in voting for x in c.conditions)),
        diseases=list(dict.fromkeys(d for c in voting for d in c.diseases)),
        status=status,
        reason=reason,
        pmids=list(dict.fromkeys(p for c in voting for p in c.pmids)),
        conflict=combined.conflict,
        sides=combined.sides,
        classifications=classifications,
        path=_path(patient, row),
        sources=source_refs([s for c in row["classifications"] for s in c["sources"]] + row["variantSources"]),
    )


def _allele(row: dict[str, Any], call: CallOrigin) -> dict[str, Any]:
    """The fields of a finding that describe the patient's allele and call, whatever its classification."""
    link = row["link"] or {}
    return dict(
        gene=(row["genes"] or [row["variant"].get("gene")])[0],
        variant=row["variant"]["id"],
        variant_name=row["variant"].get("name"),
        rsid=row["variant"].get("rsid"),
        zygosity=link.get("zygosity"),
        genotype=link.get("genotype"),
        inheritance=_inheritance(row["secondaryFindings"]),
        acmg_disorders=sorted({f["disorder"] for f in row["secondaryFindings"] if f.get("disorder")}),
        call_origin=call.value,
        sample_origin=row["sampleOrigin"] or "germline",
    )


def _no_current_classification(patient: str, row: dict[str, Any]) -> tuple[RiskFinding, bool]:
    """The finding for an allele the state no longer classifies, and whether it is shown by default:
    when the last class was P/LP and the call may be germline (a somatic call of a pair never is)."""
    last = _source_classification(row["lastClassification"])
    call = call_origin_of((row["link"] or {}).get("callOrigin"), row["sampleOrigin"])
    reason = (
        f"no release of the knowledge state classifies this allele any more (its classification was superseded "
        f"or its release retired); the last was {last.release}: {last.classification} ({_label(last)}). "
        "Re-evaluate before relying on the earlier result"
    )
    finding = RiskFinding(
        **_allele(row, call),
        evidence_id=last.evidence_id,
        source=last.source,
        classification="no current classification",
        significance=None,
        review_status=None,
        stars=None,
        conditions=last.conditions,
        diseases=[],
        status=RiskStatus.NO_CURRENT_CLASSIFICATION,
        reason=reason,
        pmids=last.pmids,
        conflict=False,
        sides=[],
        classifications=[last],
        path=_path(patient, {**row, "classifications": [row["lastClassification"]]}),
        sources=source_refs(row["variantSources"] + row["lastClassification"]["sources"]),
        last_release=last.release,
        last_classification=last.classification,
    )
    return finding, last.tier == Tier.PATHOGENIC.value and call != CallOrigin.SOMATIC


def _path(patient: str, row: dict[str, Any]) -> list[PathStep]:
    link = row["link"] or {}
    v = row["variant"]
    v_node = PathNode(v["id"], "Variant", v.get("name") or v.get("rsid"))
    props = {k: link.get(k) for k in ("zygosity", "genotype", "callOrigin") if link.get(k)}
    path = [PathStep(PathNode(patient, "Patient"), "HAS_VARIANT", v_node, props)]
    for c in row["classifications"]:
        e = c["evidence"]
        e_node = PathNode(e["id"], "Assertion" if e.get("assertion") else "Evidence")
        if c.get("profile"):
            mp_node = PathNode(c["profile"]["id"], "MolecularProfile", c["profile"].get("name"))
            path += [PathStep(mp_node, "INCLUDES", v_node), PathStep(e_node, "ABOUT", mp_node)]
        else:
            path.append(PathStep(e_node, "ABOUT", v_node))
        path += [PathStep(e_node, "FOR_DISEASE", PathNode(d["id"], "Disease", d.get("name"))) for d in c["diseases"]]
    return path


# --- disagreements across the graph -----------------------------------------------------------------

CLASSIFIED_BY_CLINVAR_AND_CIVIC = f"""
MATCH (a:Assertion)-[:ABOUT]->(mp:MolecularProfile {{kind: 'single'}})-[inc:INCLUDES]->(v:Variant)
WHERE a.type IN $types AND {visible_evidence("a")} AND NOT coalesce(inc.negated, false)
MATCH (v)<-[:ABOUT]-(e:Evidence)
WHERE e.source = 'clinvar' AND e.type = 'pathogenicity' AND {VISIBLE_EVIDENCE}
RETURN v.id AS variant, v.name AS name, a {{.*, assertion: true}} AS civic, e {{.*}} AS clinvar
ORDER BY variant, civic.id
"""


@dataclass(frozen=True)
class Disagreement:
    """An allele whose current ClinVar classification and a CIViC assertion fall in different tiers."""

    variant: str
    name: str | None
    clinvar: str  # evidence id: classification
    civic: str


def clinvar_civic_disagreements(graph: Graph) -> tuple[int, list[Disagreement]]:
    """Alleles classified by both ClinVar (current) and a CIViC assertion, and those that disagree
    (in different tiers, or ClinVar conflicting: the rule of :func:`combine`)."""
    rows = graph.read(CLASSIFIED_BY_CLINVAR_AND_CIVIC, types=CLASSIFYING_TYPES, **state_params(None))
    out: dict[str, Disagreement] = {}
    for row in rows:
        clinvar, civic = (
            _source_classification({"evidence": row[k], "diseases": [], "sources": []}) for k in ("clinvar", "civic")
        )
        if combine([clinvar, civic]).conflict:
            out.setdefault(
                row["variant"],
                Disagreement(
                    row["variant"],
                    row["name"],
                    f"{clinvar.evidence_id}: {clinvar.classification}",
                    f"{civic.evidence_id}: {civic.classification}",
                ),
            )
    return len({r["variant"] for r in rows}), list(out.values())

"""Re-interpretation: when a knowledge load changes what a matched patient's answers say, find the
patient by traversal from the changed facts and store what changed (issue 8).

Professional guidance asks labs to re-evaluate reported results when a classification changes
(ACMG points to considerations for re-evaluation, Deignan et al., Genet Med 2019); ClinVar
reclassifies a steady share of variants. A graph can find the affected patients without
recomputing anyone: the facts a load changed lead to them.

``reinterpret(graph, before, after, release)`` (the load hook of kg.loaders.release.load_release;
with ``retirement=True`` the hook of ``retire_release``, run while the retiring facts are still there):

1. **Changed facts.** The release keys in one state and not the other (the loaded release, a
   release the load superseded or retired) name the Sources to start from. Their Evidence
   (``ASSERTED_BY``) and the Evidence they superseded (``SUPERSEDED_IN``, the edge written beside
   each ``supersededBy`` mark) are the candidates -- no other evidence of the source is read; a candidate whose visibility (kg.queries.visibility, the contract's
   rule: asserted by a release of the state, superseded by none) differs between the two states
   is a changed fact. Recommendations of those Sources likewise.
2. **Traversal.** Changed classifications (ClinVar, CIViC predisposing assertions, curated) lead
   ``ABOUT`` (or ``ABOUT`` a single-variant MolecularProfile ``INCLUDES``) to Variants; their
   combined classification is computed in both states with the risk answer's rule
   (kg.queries.risk.combine) and, where it changed, the patients carrying the allele exactly
   (``HAS_VARIANT``) are affected. Changed therapy, diagnostic and prognostic evidence leads
   through its profile to the Variants and their patients (any match level, as the therapy answers
   match); changed recommendations lead ``FOR_PHENOTYPE`` to the patients' diplotype calls
   (``HAS_DIPLOTYPE``).
3. **Kinds.** Per patient and allele: ``NEW`` (no classification before: an allele only the newer
   knowledge classifies), ``NEW_FINDING`` (not pathogenic/likely pathogenic before, now so: a new
   risk finding), ``RETRACTED`` (was P/LP, no longer), ``RECLASSIFIED`` (any other change of the
   combined classification), ``REVIEW_CHANGED`` (the same classification, decided with another review
   status or authority: "criteria provided, single submitter" -> "reviewed by expert panel" changes how
   far a clinician may rely on it, ClinVar's review stars), ``NEW_EVIDENCE`` /
   ``RETIRED_EVIDENCE`` (therapy, diagnostic, prognostic), ``PGX_CHANGED`` (a recommendation for
   the patient's phenotype is new, retired, or its text or strength changed).
4. **Storage.** ``(:Patient)-[:HAS_CHANGE]->(:Change {id, kind, patient, allele, oldClass, oldReview,
   newClass, newReview, fromState, toState, release, at, ...})-[:ABOUT]->(Variant|Phenotype)``,
   ``-[:OLD]->`` / ``-[:NEW]->`` the Evidence (or Recommendation) each side rests on. The id is a
   digest of patient, kind, allele, subject and both states, so the same transition is stored once
   however often it is found (loading the same release twice adds nothing).

Change nodes are patient data: read only through their patient (``patient_changes``,
``changed_patients`` with the caller's scope), never shown by exploration or export
(kg.queries.visibility.patient_shown), deleted with the patient.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from itertools import islice
from typing import Any

from kg.db import Graph
from kg.loaders.property_groups import values_as_of
from kg.queries.answers import patient_conditions
from kg.queries.fields import described
from kg.queries.risk import CLASSIFYING_TYPES, Combined, Tier, _source_classification, combine
from kg.queries.visibility import (
    KnowledgeState,
    PatientScope,
    active,
    asserting_keys,
    in_scope,
    scope_params,
    state_groups,
    visible_in,
)


class ChangeKind(StrEnum):
    NEW = "NEW"  # an allele only the newer knowledge classifies
    NEW_FINDING = "NEW_FINDING"  # now pathogenic / likely pathogenic: a new risk finding
    RETRACTED = "RETRACTED"  # was pathogenic / likely pathogenic, no longer
    RECLASSIFIED = "RECLASSIFIED"  # any other change of the combined classification
    REVIEW_CHANGED = "REVIEW_CHANGED"  # the same classification, now with another review status
    NEW_EVIDENCE = "NEW_EVIDENCE"  # therapy, diagnostic or prognostic evidence now applies
    RETIRED_EVIDENCE = "RETIRED_EVIDENCE"  # ... no longer applies
    PGX_CHANGED = "PGX_CHANGED"  # a recommendation for the patient's phenotype: new, retired or changed


EVIDENCE_TYPES = ["predictive", "diagnostic", "prognostic"]
BATCH = 5000

# --- 1. changed facts ------------------------------------------------------------------------


def _in(predicate: str, state: str) -> str:
    """A kg.queries.visibility predicate (written over ``$releases``) over the state parameter ``$<state>``:
    one query compares both states, with the one visibility rule."""
    if "$releases" not in predicate:
        raise ValueError(f"expected a predicate over $releases, found {predicate!r}")
    return predicate.replace("$releases", f"${state}")


#: Evidence asserted by a release that is in one state only, or superseded by one (both reached from
#: that release's Source: ``ASSERTED_BY`` and the ``SUPERSEDED_IN`` edge kg.loaders.release writes beside
#: each ``supersededBy`` mark -- never the other releases' evidence), whose visibility differs between the
#: states ``$before`` and ``$after``. One row: ``changed``, how many; ``evidence``, the therapy, diagnostic
#: and prognostic ones (``$evidenceTypes``) as ``{id, now}`` (``now``: visible after); ``alleles``, per
#: classifying one (``$types``) that some patient carries, the alleles it classifies that a patient carries
#: exactly (``ABOUT`` the Variant, or ``ABOUT`` a single-variant profile that ``INCLUDES`` it, as the risk
#: answer reads CIViC assertions and curated evidence) -- found in the same walk, not by looking each
#: changed fact up again. One row rather than one per changed fact: a ClinVar release changes tens of
#: thousands, and their rows cost the client more than the walk costs the server.
CHANGED_EVIDENCE = f"""
MATCH (s:Source) WHERE s.key IN $diff
CALL (s) {{
  MATCH (s)<-[:ASSERTED_BY]-(e:Evidence) RETURN e
  UNION
  MATCH (s)<-[:SUPERSEDED_IN]-(e:Evidence) RETURN e
}}
WITH DISTINCT e
WITH e, {asserting_keys("e")} AS keys
WITH e, {visible_in("e", "keys", "before")} AS was, {visible_in("e", "keys", "after")} AS now
WHERE was <> now
CALL (e) {{
  WITH e WHERE e.type IN $types
  CALL (e) {{
    MATCH (e)-[:ABOUT]->(v:Variant) RETURN v
    UNION
    MATCH (e)-[:ABOUT]->(:MolecularProfile {{kind: 'single'}})-[inc:INCLUDES]->(v:Variant)
    WHERE (e:Assertion OR e.source = 'curated') AND NOT coalesce(inc.negated, false)
    RETURN v
  }}
  WITH v WHERE EXISTS {{ (:Patient)-[hv:HAS_VARIANT]->(v) WHERE coalesce(hv.matchLevel, 'exact') = 'exact' }}
  RETURN collect(DISTINCT v.id) AS alleles
}}
WITH count(e) AS changed, collect(CASE WHEN e.type IN $evidenceTypes THEN {{id: e.id, now: now}} END) AS evidence,
     collect(CASE WHEN size(alleles) > 0 THEN alleles END) AS alleles
RETURN changed, evidence, alleles
"""

#: Recommendations of the Sources in one state only, with whether each state holds them and their property
#: groups as each state reads them (kg.queries.visibility ``state_groups``): a PharmGKB recommendation id stays
#: the same across releases, so one in both states may still say something else in each (``_recommendation_facts``).
CHANGED_RECOMMENDATIONS = f"""
MATCH (s:Source)<-[:ASSERTED_BY]-(r:Recommendation) WHERE s.key IN $diff
WITH DISTINCT r
RETURN r.id AS id, r {{.text, .strength}} AS node, {_in(active("r"), "before")} AS was, {_in(active("r"), "after")} AS now,
       {state_groups("r", "before")} AS before, {state_groups("r", "after")} AS after
"""

# --- 2. traversal to patients ----------------------------------------------------------------

#: The classifying evidence of each allele visible in either state, as the risk answer gathers it
#: (kg.queries.risk GERMLINE_FINDINGS): ClinVar and curated evidence about the allele, CIViC assertions
#: and curated evidence about its single-variant profile; only the fields the combined classification
#: reads (kg.queries.risk ``_source_classification``), with the evidence's visibility in each state.
ALLELE_CLASSIFICATIONS = f"""
UNWIND $ids AS id
MATCH (v:Variant {{id: id}})
CALL (v) {{
  MATCH (v)<-[:ABOUT]-(e:Evidence) WHERE e.type IN $types RETURN e
  UNION
  MATCH (v)<-[inc:INCLUDES]-(:MolecularProfile {{kind: 'single'}})<-[:ABOUT]-(e:Evidence)
  WHERE e.type IN $types AND (e:Assertion OR e.source = 'curated') AND NOT coalesce(inc.negated, false)
  RETURN e
}}
WITH v, e, {asserting_keys("e")} AS keys
WITH v, e, {visible_in("e", "keys", "before")} AS was, {visible_in("e", "keys", "after")} AS now
WHERE was OR now
RETURN v.id AS id, collect(e {{.id, .type, .source, .classification, .significance, .direction, .reviewStatus,
       .stars, .conflicting, .acmgCodes, assertion: e:Assertion, was: was, now: now}}) AS evidence
"""

CARRIERS = """
UNWIND $ids AS id
MATCH (p:Patient)-[hv:HAS_VARIANT]->(v:Variant {id: id})
WHERE coalesce(hv.matchLevel, 'exact') = 'exact'
RETURN v.id AS allele, v.name AS name, v.gene AS gene, p.id AS patient
"""

#: Changed therapy / diagnostic / prognostic evidence -> the patients whose variants its profile includes.
EVIDENCE_CARRIERS = """
UNWIND $ids AS id
MATCH (e:Evidence {id: id}) WHERE e.type IN $types
MATCH (e)-[:ABOUT]->(:MolecularProfile)-[inc:INCLUDES]->(v:Variant)<-[:HAS_VARIANT]-(p:Patient)
WHERE NOT coalesce(inc.negated, false)
RETURN DISTINCT e.id AS evidence, e.type AS type, e.significance AS significance, e.direction AS direction,
       e.level AS level, e.source AS source, coalesce(e.recordId, e.id) AS record, e.therapies AS therapies,
       e.disease AS disease, v.id AS allele, v.name AS name, v.gene AS gene, p.id AS patient
"""

RECOMMENDATION_CARRIERS = """
UNWIND $ids AS id
MATCH (r:Recommendation {id: id})-[:FOR_PHENOTYPE]->(ph:Phenotype)<-[:HAS_DIPLOTYPE]-(p:Patient)
RETURN DISTINCT r.id AS recommendation, r.guideline AS guideline, r.drug AS drug, r.text AS text,
       r.strength AS strength, ph.id AS phenotype, ph.gene AS gene, p.id AS patient
"""

# --- 4. storage --------------------------------------------------------------------------------

#: New Change rows only (``store_changes`` leaves out the ids already stored), so CREATE, not MERGE: no
#: locking merges; the Change.id uniqueness constraint still refuses a duplicate.
STORE_CHANGES = """
UNWIND $rows AS row
MATCH (p:Patient {id: row.patient})
CREATE (p)-[:HAS_CHANGE]->(c:Change {id: row.id})
SET c += row.props, c.at = $at
WITH c, row
CALL (c, row) { MATCH (v:Variant {id: row.variant}) CREATE (c)-[:ABOUT]->(v) }
CALL (c, row) { MATCH (ph:Phenotype {id: row.phenotype}) CREATE (c)-[:ABOUT]->(ph) }
CALL (c, row) { UNWIND row.oldEvidence AS x MATCH (e:Evidence {id: x}) CREATE (c)-[:OLD]->(e) }
CALL (c, row) { UNWIND row.newEvidence AS x MATCH (e:Evidence {id: x}) CREATE (c)-[:NEW]->(e) }
CALL (c, row) { UNWIND row.oldRecommendations AS x MATCH (r:Recommendation {id: x}) CREATE (c)-[:OLD]->(r) }
CALL (c, row) { UNWIND row.newRecommendations AS x MATCH (r:Recommendation {id: x}) CREATE (c)-[:NEW]->(r) }
RETURN count(*) AS n
"""

ANY_PATIENT = "MATCH (p:Patient) RETURN p.id AS id LIMIT 1"


@dataclass(frozen=True)
class Change:
    """What changed in one patient's answers for one allele (or phenotype) between two knowledge states."""

    id: str
    kind: ChangeKind
    patient: str
    allele: str = field(metadata=described("The Variant id, or the Phenotype id for a PGX_CHANGED."))
    allele_name: str | None
    gene: str | None
    old_class: str | None = field(
        metadata=described("Before: the combined classification, the evidence's significance, or the recommendation.")
    )
    old_review: str | None = field(metadata=described("Before: ClinVar review status (or authority, or strength)."))
    new_class: str | None
    new_review: str | None
    summary: str = field(metadata=described("What changed, in one sentence a clinician can read."))
    old_evidence: list[str] = field(
        metadata=described("The evidence (or recommendation) ids the old answer rested on.")
    )
    new_evidence: list[str] = field(metadata=described("The evidence (or recommendation) ids the new answer rests on."))
    from_state: list[str] = field(metadata=described("The release keys of the knowledge state before."))
    to_state: list[str] = field(metadata=described("The release keys of the knowledge state after."))
    release: str = field(metadata=described("The release whose load (or retirement) found the change."))
    at: str = field(metadata=described("When the change was found (ISO timestamp, UTC)."))
    retirement: bool = field(
        metadata=described("True when retiring `release` (kg retire, KG_KEEP_RELEASES) found it, not loading it.")
    )


@dataclass
class ReinterpretReport:
    release: str
    changed_facts: int = 0  # evidence and recommendations visible in one state only
    alleles: int = 0  # alleles carried by a patient whose answer changed
    patients: int = 0
    changes: int = 0  # found (stored once each; a repeat finds the same ones)
    stored: int = 0  # Change nodes new to the graph
    by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)  # where the seconds went

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_kind.items()))
        return (
            f"{self.patients:,} patients changed ({self.changes:,} changes{': ' + kinds if kinds else ''}; "
            f"{self.changed_facts:,} facts changed; re-interpreted in {self.seconds:.1f} s)"
        )


def reinterpret(
    graph: Graph, before: KnowledgeState, after: KnowledgeState, release: str, *, retirement: bool = False
) -> ReinterpretReport:
    """Find and store the changes the move from ``before`` to ``after`` (``release`` loaded, or retired:
    ``retirement``, while its facts are still in the graph) makes to matched patients' answers (module
    docstring)."""
    began = time.monotonic()
    report = ReinterpretReport(release)
    old, new = set(before.releases), set(after.releases)
    diff = sorted(old ^ new)  # a re-load of the same key changes no state: nothing to compare
    if not diff or not graph.read(ANY_PATIENT):
        report.seconds = time.monotonic() - began
        return report
    params: dict[str, Any] = {"diff": diff, "before": sorted(old), "after": sorted(new)}
    lap = _Laps(report.phase_seconds)
    types: dict[str, Any] = {"types": CLASSIFYING_TYPES, "evidenceTypes": EVIDENCE_TYPES}
    found = graph.read(CHANGED_EVIDENCE, plain_=True, **types, **params)[0]
    was, now = _split(found["evidence"])
    changed_evidence = sorted(was | now)
    classified = sorted({allele for alleles in found["alleles"] for allele in alleles})
    recommendations = _recommendation_facts(graph.read(CHANGED_RECOMMENDATIONS, plain_=True, **params))
    report.changed_facts = found["changed"] + len(recommendations)
    lap("changed facts")

    context = _Context(before, after, release, retirement)
    changes = _classification_changes(graph, classified, context)
    lap("classifications")
    changes += _evidence_changes(graph, changed_evidence, was, now, context)
    lap("therapy, diagnostic, prognostic evidence")
    changes += _pgx_changes(graph, recommendations, context)
    lap("recommendations")
    unique = {c["id"]: c for c in changes}
    report.stored = store_changes(graph, list(unique.values()))
    lap("storage")
    report.changes = len(unique)
    report.patients = len({c["patient"] for c in unique.values()})
    report.alleles = len({c["props"]["allele"] for c in unique.values()})
    report.by_kind = dict(Counter(c["props"]["kind"] for c in unique.values()))
    report.seconds = time.monotonic() - began
    return report


class _Laps:
    """Seconds per phase of one re-interpretation (``ReinterpretReport.phase_seconds``: where it goes)."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.last = time.monotonic()

    def __call__(self, phase: str) -> None:
        now = time.monotonic()
        self.into[phase] = round(now - self.last, 2)
        self.last = now


def _chunks(items: Iterable[str], size: int = BATCH) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _split(rows: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Changed facts: (visible before only, visible after only)."""
    return {r["id"] for r in rows if not r["now"]}, {r["id"] for r in rows if r["now"]}


@dataclass(frozen=True)
class _Context:
    before: KnowledgeState
    after: KnowledgeState
    release: str
    retirement: bool = False

    def row(self, patient: str, kind: ChangeKind, allele: str, subject: str, **props: Any) -> dict[str, Any]:
        """A Change row for STORE_CHANGES; its id is a digest of what identifies the transition."""
        digest = hashlib.sha256(
            "\0".join(
                [
                    patient,
                    kind.value,
                    allele,
                    subject,
                    ",".join(sorted(self.before.releases)),
                    ",".join(sorted(self.after.releases)),
                ]
            ).encode()
        ).hexdigest()[:32]
        old_evidence = props.pop("oldEvidence", [])
        new_evidence = props.pop("newEvidence", [])
        if self.retirement:
            props["summary"] = f"{self.release} retired: {props['summary']}"
        is_pgx = kind == ChangeKind.PGX_CHANGED
        return {
            "id": f"change:{digest}",
            "patient": patient,
            "variant": None if is_pgx else allele,
            "phenotype": allele if is_pgx else None,
            "oldEvidence": [] if is_pgx else old_evidence,
            "newEvidence": [] if is_pgx else new_evidence,
            "oldRecommendations": old_evidence if is_pgx else [],
            "newRecommendations": new_evidence if is_pgx else [],
            "props": _compact(
                {
                    "kind": kind.value,
                    "patient": patient,
                    "allele": allele,
                    "oldEvidence": old_evidence,
                    "newEvidence": new_evidence,
                    "fromState": sorted(self.before.releases),
                    "toState": sorted(self.after.releases),
                    "release": self.release,
                    "retirement": self.retirement or None,
                    **props,
                }
            ),
        }


def _compact(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j stores no null properties."""
    return {k: v for k, v in props.items() if v is not None}


# --- classifications ---------------------------------------------------------------------------


def _classification_changes(graph: Graph, alleles: list[str], ctx: _Context) -> list[dict[str, Any]]:
    """``alleles``: the carried alleles changed classifying evidence is about (CHANGED_EVIDENCE)."""
    was, now = _combined(graph, alleles, ctx.before, ctx.after)
    moved = {a: kind for a in alleles if (kind := _classification_kind(was.get(a), now.get(a)))}
    out = []
    for chunk in _chunks(sorted(moved)):
        for row in graph.read(CARRIERS, plain_=True, ids=chunk):
            allele = row["allele"]
            before, after = was.get(allele), now.get(allele)
            label = row["name"] or allele
            out.append(
                ctx.row(
                    row["patient"],
                    moved[allele],
                    allele,
                    "classification",
                    alleleName=row["name"],
                    gene=row["gene"],
                    oldClass=before.classification if before else None,
                    oldReview=_review(before),
                    newClass=after.classification if after else None,
                    newReview=_review(after),
                    oldEvidence=_voting(before),
                    newEvidence=_voting(after),
                    summary=_classification_summary(moved[allele], label, before, after),
                )
            )
    return out


def _combined(
    graph: Graph, alleles: list[str], before: KnowledgeState, after: KnowledgeState
) -> tuple[dict[str, Combined], dict[str, Combined]]:
    """Each allele's combined classification (kg.queries.risk.combine) before and after; absent = unclassified."""
    was: dict[str, Combined] = {}
    now: dict[str, Combined] = {}
    states: dict[str, Any] = {"before": list(before.releases), "after": list(after.releases)}
    for chunk in _chunks(alleles):
        for row in graph.read(ALLELE_CLASSIFICATIONS, plain_=True, ids=chunk, types=CLASSIFYING_TYPES, **states):
            for side, out in (("was", was), ("now", now)):
                visible = [e for e in row["evidence"] if e[side]]
                if visible:
                    out[row["id"]] = combine(
                        [_source_classification({"evidence": e, "diseases": [], "sources": []}) for e in visible]
                    )
    return was, now


def _classification_kind(before: Combined | None, after: Combined | None) -> ChangeKind | None:
    """The kind of a move between two combined classifications (module docstring, 3.)."""
    if before is None and after is None:
        return None
    if before is None:
        return ChangeKind.NEW
    was_risk = before.tier == Tier.PATHOGENIC
    is_risk = after is not None and after.tier == Tier.PATHOGENIC
    if is_risk and not was_risk:
        return ChangeKind.NEW_FINDING
    if was_risk and not is_risk:
        return ChangeKind.RETRACTED
    if after is None or after.classification != before.classification:
        return ChangeKind.RECLASSIFIED
    if _review(after) != _review(before):
        return ChangeKind.REVIEW_CHANGED
    return None


def _review(c: Combined | None) -> str | None:
    if c is None:
        return None
    return c.decider.review_status or c.decider.authority


def _voting(c: Combined | None) -> list[str]:
    """The evidence the combined classification rests on: the deciding source first."""
    if c is None:
        return []
    return [c.decider.evidence_id]


def _classification_summary(kind: ChangeKind, label: str, before: Combined | None, after: Combined | None) -> str:
    def said(c: Combined | None) -> str:
        return f"{c.classification} ({_review(c)}; {c.decider.evidence_id})" if c else "not classified"

    what = {
        ChangeKind.NEW: "newly classified",
        ChangeKind.NEW_FINDING: "new risk finding",
        ChangeKind.RETRACTED: "risk finding retracted",
        ChangeKind.RECLASSIFIED: "reclassified",
        ChangeKind.REVIEW_CHANGED: "review status changed",
    }[kind]
    return f"{label}: {what}: {said(before)} -> {said(after)}"


# --- therapy, diagnostic, prognostic evidence -----------------------------------------------------


def _evidence_changes(
    graph: Graph, changed: list[str], was: set[str], now: set[str], ctx: _Context
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(changed):
        rows += graph.read(EVIDENCE_CARRIERS, plain_=True, ids=chunk, types=EVIDENCE_TYPES)
    # a release-scoped id that one release retires and the next re-asserts unchanged is no change
    gained = {
        (r["patient"], r["allele"], r["record"], r["significance"], r["direction"], r["level"])
        for r in rows
        if r["evidence"] in now
    }
    lost = {
        (r["patient"], r["allele"], r["record"], r["significance"], r["direction"], r["level"])
        for r in rows
        if r["evidence"] in was
    }
    out = []
    for r in rows:
        key = (r["patient"], r["allele"], r["record"], r["significance"], r["direction"], r["level"])
        if key in gained and key in lost:
            continue
        is_new = r["evidence"] in now
        what = f"{r['type']} {r['significance'] or ''} {r['direction'] or ''}".replace("  ", " ").strip()
        therapies = f" ({', '.join(r['therapies'])})" if r["therapies"] else ""
        described_ = f"{r['evidence']} level {r['level'] or '-'}: {what}{therapies}"
        out.append(
            ctx.row(
                r["patient"],
                ChangeKind.NEW_EVIDENCE if is_new else ChangeKind.RETIRED_EVIDENCE,
                r["allele"],
                r["evidence"],
                alleleName=r["name"],
                gene=r["gene"],
                oldClass=None if is_new else what,
                newClass=what if is_new else None,
                oldReview=None if is_new else r["level"],
                newReview=r["level"] if is_new else None,
                oldEvidence=[] if is_new else [r["evidence"]],
                newEvidence=[r["evidence"]] if is_new else [],
                evidenceType=r["type"],
                summary=f"{r['name'] or r['allele']}: {'new' if is_new else 'retired'} evidence {described_}",
            )
        )
    return out


# --- pharmacogenomic recommendations ------------------------------------------------------------


def _recommendation_facts(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The changed recommendations by id, ``{old, new}``: each state's text and strength (the property-group
    rule over that state's releases, kg.loaders.property_groups ``values_as_of``), None where the state does not
    hold it. Changed: in one state only, or in both with other words."""
    out = {}
    for r in rows:
        said = {
            side: {k: v.get(k) for k in ("text", "strength")} if held else None
            for side, held, v in (
                ("old", r["was"], values_as_of(r["node"], r["before"])),
                ("new", r["now"], values_as_of(r["node"], r["after"])),
            )
        }
        if r["was"] != r["now"] or said["old"] != said["new"]:
            out[r["id"]] = said
    return out


def _pgx_changes(graph: Graph, changed: dict[str, dict[str, Any]], ctx: _Context) -> list[dict[str, Any]]:
    """``changed``: ``_recommendation_facts``; each side of a patient's (phenotype, guideline, drug)
    holds the recommendations of that state with their text and strength in it."""
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(changed)):
        rows += graph.read(RECOMMENDATION_CARRIERS, plain_=True, ids=chunk)
    sides: dict[tuple[str, str, str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"old": [], "new": []}
    )
    for r in rows:
        key = (r["patient"], r["phenotype"], r["guideline"] or "", r["drug"] or "")
        fact = changed[r["recommendation"]]
        for which in ("old", "new"):
            if fact[which] is not None:
                sides[key][which].append({**r, **fact[which]})
    out = []
    for (patient, phenotype, guideline, drug), side in sorted(sides.items()):
        old, new = side["old"], side["new"]
        if {(r["text"], r["strength"]) for r in old} == {(r["text"], r["strength"]) for r in new}:
            continue  # the same recommendation, re-asserted
        first = (new or old)[0]
        change = "changed" if old and new else ("new" if new else "retired")
        out.append(
            ctx.row(
                patient,
                ChangeKind.PGX_CHANGED,
                phenotype,
                f"{guideline}|{drug}",
                gene=first["gene"],
                alleleName=phenotype,
                oldClass=" / ".join(r["text"] or "" for r in old) or None,
                oldReview=" / ".join(r["strength"] or "" for r in old) or None,
                newClass=" / ".join(r["text"] or "" for r in new) or None,
                newReview=" / ".join(r["strength"] or "" for r in new) or None,
                oldEvidence=[r["recommendation"] for r in old],
                newEvidence=[r["recommendation"] for r in new],
                drug=drug or None,
                guideline=guideline or None,
                summary=f"{phenotype}: {guideline} recommendation for {drug} {change}",
            )
        )
    return out


# --- storage and reading ------------------------------------------------------------------------


def store_changes(graph: Graph, rows: list[dict[str, Any]]) -> int:
    """Store the Change rows not stored yet (by id: a change found again is not stored again, nor written
    again); returns how many were new."""
    if not rows:
        return 0
    existing: set[str] = set()
    for chunk in _chunks([r["id"] for r in rows]):
        existing |= {
            r["id"] for r in graph.read("UNWIND $ids AS id MATCH (c:Change {id: id}) RETURN c.id AS id", ids=chunk)
        }
    fresh = [r for r in rows if r["id"] not in existing]
    at = datetime.now(UTC).isoformat(timespec="seconds")
    for i in range(0, len(fresh), BATCH):
        graph.write(STORE_CHANGES, rows=fresh[i : i + BATCH], at=at)
    return len(fresh)


PATIENT_CHANGES = """
MATCH (p:Patient {id: $patient})-[:HAS_CHANGE]->(c:Change)
WHERE $since IS NULL OR c.at >= $since
RETURN c {.*} AS change
ORDER BY c.at DESC, c.kind, c.allele, c.id
"""

SOURCE_LOADED_AT = "MATCH (s:Source {key: $key}) RETURN s.loadedAt AS loadedAt"


class UnknownSince(ValueError):
    """``since`` is neither a date nor a known release key."""


def since_timestamp(graph: Graph, since: str | None) -> str | None:
    """``since`` as the ISO timestamp changes are compared with: a date (``2026-03-01``) is its start; a
    release key (``clinvar@2026-02-26``) is the time that release was loaded (its own changes included)."""
    if not since:
        return None
    try:
        return date.fromisoformat(since).isoformat()
    except ValueError:
        pass
    if "@" in since:
        rows = graph.read(SOURCE_LOADED_AT, key=since)
        if rows and rows[0]["loadedAt"]:
            return str(rows[0]["loadedAt"])
        raise UnknownSince(f"since: no release {since!r} in the graph (kg stats lists them)")
    raise UnknownSince(f"since: expected a date YYYY-MM-DD or a release key name@version, found {since!r}")


def patient_changes(graph: Graph, patient: str, since: str | None = None) -> list[Change]:
    """The patient's stored changes, newest first (raises UnknownPatient for an unknown patient)."""
    after = since_timestamp(graph, since)
    rows = graph.read(PATIENT_CHANGES, patient=patient, since=after)
    if not rows:
        patient_conditions(graph, patient)  # raises UnknownPatient; otherwise: no changes
    return [_change(row["change"]) for row in rows]


def _change(c: dict[str, Any]) -> Change:
    return Change(
        id=c["id"],
        kind=ChangeKind(c["kind"]),
        patient=c["patient"],
        allele=c["allele"],
        allele_name=c.get("alleleName"),
        gene=c.get("gene"),
        old_class=c.get("oldClass"),
        old_review=c.get("oldReview"),
        new_class=c.get("newClass"),
        new_review=c.get("newReview"),
        summary=c.get("summary") or "",
        old_evidence=list(c.get("oldEvidence") or []),
        new_evidence=list(c.get("newEvidence") or []),
        from_state=list(c.get("fromState") or []),
        to_state=list(c.get("toState") or []),
        release=c["release"],
        at=str(c["at"]),
        retirement=bool(c.get("retirement")),
    )


@dataclass(frozen=True)
class KindCount:
    kind: ChangeKind
    count: int


@dataclass(frozen=True)
class PatientChanges:
    """A patient whose answers a release changed, with the changes counted by kind."""

    patient: str
    changes: int
    by_kind: list[KindCount]


CHANGED_PATIENTS = f"""
MATCH (c:Change {{release: $release}})<-[:HAS_CHANGE]-(p:Patient)
WHERE {in_scope("p")} AND ($since IS NULL OR c.at >= $since)
WITH p.id AS patient, c.kind AS kind, count(*) AS n
ORDER BY patient, kind
RETURN patient, collect({{kind: kind, count: n}}) AS kinds
ORDER BY patient
"""


def changed_patients(
    graph: Graph, release: str, scope: PatientScope = None, since: str | None = None
) -> list[PatientChanges]:
    """The patients (within ``scope``: None = all) whose answers the load of ``release`` changed."""
    params: dict[str, Any] = {"release": release, "since": since_timestamp(graph, since), **scope_params(scope)}
    rows = graph.read(CHANGED_PATIENTS, **params)
    return [
        PatientChanges(
            row["patient"],
            sum(k["count"] for k in row["kinds"]),
            [KindCount(ChangeKind(k["kind"]), k["count"]) for k in row["kinds"]],
        )
        for row in rows
    ]

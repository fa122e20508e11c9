"""Targeted therapy, diagnostic and prognostic answers for a patient's matched variants.

Path: ``Patient -HAS_VARIANT-> Variant <-INCLUDES- MolecularProfile <-ABOUT- Evidence -FOR_DRUG-> Drug``
with ``Evidence -FOR_DISEASE-> Disease`` related to the asked disease through the Disease Ontology
(CIViC evidence and assertions; AMP/ASCO/CAP tier for assertions). The asked disease defaults to
the patient's conditions. Evidence for a disease unrelated to the asked one (neither the same, an
ancestor nor a descendant) is left out, so colorectal-only evidence never answers for melanoma.
Evidence whose disease the source gave only in words no ontology term carries (kg.loaders.disease_names:
unresolved, CIViC's placeholder node) cannot be placed either way: it is shown as ``unmapped``, after
placed evidence of the same strength, rather than silently dropped (CIViC EID7601, dordaviprone in
H3 K27M "Glioma", for a diffuse midline glioma). A disease the source named and kg linked by name takes
part in the ontology walk like any other (``disease_linked_by: name``).
"Does not support" stays "does not support": it is returned with that direction, never as support.

Evidence is weighed by its origin against the origin of the patient's calls (kg.identity.origins):
CIViC's ``origin`` (an assertion, which has none in the TSVs, takes the one origin of the evidence
items supporting it) against ``HAS_VARIANT.callOrigin``. Somatic evidence applies to a tumour's
calls; germline evidence for a tumour-only call ``needs_germline_confirmation``; germline evidence
for a pair's somatic call and somatic evidence for a germline call are marked as such; each answer
says so in ``origin_fit`` and ``origin_note``, and at equal tier, level and direction the better
fit comes first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kg.db import Graph
from kg.identity.origins import FIT_RANK, OriginFit, call_origin_of, origin_fit
from kg.loaders.property_groups import values_as_of
from kg.queries.answers import (
    AS_OF,
    LEVEL_RANK,
    RELEASES_USED,
    DiseaseRef,
    DrugRef,
    PathNode,
    PathStep,
    SourceRef,
    as_of,
    collected,
    disease_ref,
    drug_ref,
    node,
    patient_conditions,
    releases_of,
    source_refs,
)
from kg.queries.fields import INTERNAL, described
from kg.queries.profiles import satisfies
from kg.queries.resolve import resolve_disease
from kg.queries.visibility import VISIBLE_EVIDENCE, KnowledgeState, active_sources, state_groups, state_params

PREDICTIVE = ("predictive",)
DIAGNOSTIC_PROGNOSTIC = ("diagnostic", "prognostic")

_FINDINGS = f"""
MATCH (p:Patient {{id: $patient}})-[hv:HAS_VARIANT]->(v:Variant)<-[:INCLUDES]-(mp:MolecularProfile)
      <-[:ABOUT]-(e:Evidence)
WHERE e.type IN $types AND {VISIBLE_EVIDENCE}
WITH p, mp, e, collect(DISTINCT {{
       variant: v {{.id, .name, .proteinChange, .gene, .kind}}, link: properties(hv),
       sources: {active_sources("v")}}}) AS hits
OPTIONAL MATCH (e)-[fd:FOR_DISEASE]->(ed:Disease)
OPTIONAL MATCH (asked:Disease) WHERE asked.id IN $diseases
WITH p, mp, e, hits, ed, fd.linkedBy AS linkedBy, collect(asked) AS askedDiseases
WITH p, mp, e, hits, ed, linkedBy, askedDiseases,
     CASE
       WHEN size(askedDiseases) = 0 OR ed IS NULL THEN null
       WHEN ed IN askedDiseases THEN 'same'
       WHEN any(a IN askedDiseases WHERE EXISTS {{ (a)-[:IS_A*1..]->(ed) }}) THEN 'ancestor'
       WHEN any(a IN askedDiseases WHERE EXISTS {{ (ed)-[:IS_A*1..]->(a) }}) THEN 'descendant'
       WHEN ed.civicOnly THEN 'unmapped'
       ELSE 'unrelated'
     END AS relation
WHERE size($diseases) = 0 OR relation IN ['same', 'ancestor', 'descendant', 'unmapped']
OPTIONAL MATCH (e)-[:FOR_DRUG]->(drug:Drug)
WITH p, mp, e, hits, ed, linkedBy, relation, collect(DISTINCT drug {{.id, .name}}) AS drugs
RETURN e {{.*, labels: labels(e)}} AS evidence, {state_groups("e")} AS groups,
       mp {{.id, .name, .kind, .variantExpression}} AS profile,
       [(mp)-[:INCLUDES]->(m) | m.id] AS members,
       hits, ed {{.id, .name}} AS disease, linkedBy, relation, drugs, p.origin AS sampleOrigin,
       [(e)-[:SUPPORTED_BY]->(s:Evidence) WHERE s.origin IS NOT NULL | s.origin] AS supportOrigins,
       {active_sources("e")} + {active_sources("mp")}
       + reduce(acc = [], h IN hits | acc + h.sources) AS sources
"""

#: The findings of ``_FINDINGS`` as one list, with the ids of every Variant the patient links (what a
#: complex profile's expression is evaluated over, kg.queries.profiles), in one round trip.
EVIDENCE_FOR_PATIENT = collected(
    _FINDINGS,
    [
        "evidence",
        "groups",
        "profile",
        "members",
        "hits",
        "disease",
        "linkedBy",
        "relation",
        "drugs",
        "sampleOrigin",
        "supportOrigins",
        "sources",
    ],
    "CASE WHEN size(rows) = 0 THEN [] ELSE COLLECT { MATCH (:Patient {id: $patient})-[:HAS_VARIANT]->(v:Variant) "
    "RETURN v.id } END AS observed",
)


@dataclass
class EvidenceAnswer:
    """One evidence item or assertion that applies to the patient."""

    evidence_id: str
    is_assertion: bool
    type: str
    significance: str | None
    direction: str | None
    level: str | None
    amp_tier: str | None
    amp_level: str | None
    therapies: list[str]
    therapy_interaction: str | None
    drugs: list[DrugRef]
    molecular_profile: str | None  # its name
    variants: list[str]  # the patient's Variants (ids) the profile includes
    match_levels: list[str]
    disease: DiseaseRef | None
    disease_linked_by: str | None = field(
        metadata=described(
            "'name' when the source gave the disease only by name and kg linked it to the one ontology term with "
            "that name or exact synonym (docs/GRAPH_MODEL.md); null when the source gave the id."
        )
    )
    disease_relation: str | None = field(
        metadata=described(
            "How the evidence's disease relates to the asked disease: same, ancestor, descendant; unmapped: the "
            "source names the disease only in words no ontology term carries (CIViC's 'Glioma', 'Solid Tumor'), so "
            "its relation to the asked disease is unknown: shown, for the reader to judge, never hidden."
        )
    )
    statement: str | None
    pmids: list[str]
    citations: list[str]
    origin: str | None = field(
        metadata=described("The evidence's origin (somatic, germline, ...), as the source gives it.")
    )
    call_origins: list[str] = field(
        metadata=described("The origins of the patient's calls behind it: germline, somatic, unknown (tumour-only).")
    )
    origin_fit: OriginFit = field(
        metadata=described(
            "How the evidence's origin fits the calls': applies, needs_germline_confirmation (germline evidence, "
            "tumour-only call), germline_evidence_somatic_call, somatic_evidence_germline_call, origin_not_stated."
        )
    )
    origin_note: str
    rating: int | None = field(metadata=INTERNAL)  # CIViC's 1-5 stars: orders equal evidence, not shown
    curated_by: str | None
    curated_at: str | None
    path: list[PathStep] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)

    def sort_key(self) -> tuple[Any, ...]:
        tier = {"Tier I": 0, "Tier II": 1, "Tier III": 2, "Tier IV": 3}.get(self.amp_tier or "", 4)
        exact = 0 if "exact" in self.match_levels else 1 if "codon" in self.match_levels else 2
        return (
            tier if self.is_assertion else 4,
            LEVEL_RANK.get(self.level or "", 6),
            1 if self.disease_relation == "unmapped" else 0,
            0 if self.direction == "supports" else 1,
            FIT_RANK[self.origin_fit],
            exact,
            -(self.rating or 0),
            self.evidence_id,
        )


def patient_evidence(
    graph: Graph,
    patient: str,
    types: tuple[str, ...],
    disease: str | None = None,
    state: KnowledgeState | None = None,
) -> list[EvidenceAnswer]:
    """Evidence of the given types for the patient, strongest first (assertion tier, level, direction),
    in the knowledge ``state`` (None: current)."""
    diseases = [resolve_disease(graph, disease, state).id] if disease else patient_conditions(graph, patient)
    (found,) = graph.read(
        EVIDENCE_FOR_PATIENT, plain_=True, patient=patient, types=list(types), diseases=diseases, **state_params(state)
    )
    rows: list[dict[str, Any]] = found["rows"]
    if not rows and disease:
        patient_conditions(graph, patient)  # raises UnknownPatient; otherwise: no evidence
    observed = set(found["observed"])
    answers = []
    for row in rows:
        profile = row["profile"]
        if satisfies(profile.get("kind"), profile.get("variantExpression"), observed, row["members"]):
            answers.append(_answer(patient, row, state))
    answers.sort(key=EvidenceAnswer.sort_key)
    return answers


def _answer(patient: str, row: dict[str, Any], state: KnowledgeState | None) -> EvidenceAnswer:
    e = values_as_of(row["evidence"], row.get("groups"))  # as of a release: that release's words
    patient_node = PathNode(patient, "Patient")
    mp_node = node(row["profile"], "MolecularProfile")
    ev_node = PathNode(e["id"], "Assertion" if "Assertion" in e["labels"] else "Evidence", e.get("name"))
    path: list[PathStep] = []
    for hit in row["hits"]:
        v = hit["variant"]
        link = hit["link"] or {}
        v_node = PathNode(v["id"], "Variant", v.get("name") or _variant_name(v))
        path.append(
            PathStep(
                patient_node,
                "HAS_VARIANT",
                v_node,
                {k: link.get(k) for k in ("zygosity", "genotype", "matchLevel", "observed") if link.get(k) is not None},
            )
        )
        path.append(PathStep(mp_node, "INCLUDES", v_node))  # type: ignore[arg-type]
    path.append(PathStep(ev_node, "ABOUT", mp_node))  # type: ignore[arg-type]
    for drug in row["drugs"]:
        path.append(PathStep(ev_node, "FOR_DRUG", PathNode(drug["id"], "Drug", drug.get("name"))))
    if row["disease"]:
        path.append(
            PathStep(ev_node, "FOR_DISEASE", PathNode(row["disease"]["id"], "Disease", row["disease"].get("name")))
        )
    calls = sorted({call_origin_of((h["link"] or {}).get("callOrigin"), row["sampleOrigin"]) for h in row["hits"]})
    support = sorted(set(row["supportOrigins"]))
    origin = e.get("origin") or (support[0] if len(support) == 1 else None)
    fit, note = origin_fit(origin, calls)
    return EvidenceAnswer(
        evidence_id=e["id"],
        is_assertion="Assertion" in e["labels"],
        type=e.get("type") or "",
        significance=e.get("significance"),
        direction=e.get("direction"),
        level=e.get("level") or e.get("ampLevel"),
        amp_tier=e.get("ampTier"),
        amp_level=e.get("ampLevel"),
        therapies=e.get("therapies") or [],
        therapy_interaction=e.get("therapyInteraction"),
        drugs=[drug_ref(d) for d in row["drugs"]],
        molecular_profile=row["profile"].get("name"),
        variants=[h["variant"]["id"] for h in row["hits"]],
        match_levels=sorted({(h["link"] or {}).get("matchLevel") or "exact" for h in row["hits"]}),
        disease=disease_ref(row["disease"]) if row["disease"] else None,
        disease_linked_by=row["linkedBy"],
        disease_relation=row["relation"],
        statement=e.get("statement"),
        pmids=[str(p) for p in e.get("pmids") or []],
        citations=e.get("citations") or [],
        origin=origin,
        call_origins=[c.value for c in calls],
        origin_fit=fit,
        origin_note=note,
        rating=e.get("rating"),
        curated_by=e.get("submittedBy"),
        curated_at=e.get("moderatedAt"),
        path=path,
        sources=(sources := source_refs(row["sources"])),
        releases=releases_of(sources),
        as_of=as_of(state),
    )


def _variant_name(v: dict[str, Any]) -> str | None:
    if v.get("gene") and v.get("proteinChange"):
        return f"{v['gene']} {v['proteinChange']}"
    return None


def targeted_therapies(
    graph: Graph, patient: str, disease: str | None = None, state: KnowledgeState | None = None
) -> list[EvidenceAnswer]:
    return patient_evidence(graph, patient, PREDICTIVE, disease, state)


def diagnostic_prognostic(
    graph: Graph, patient: str, disease: str | None = None, state: KnowledgeState | None = None
) -> list[EvidenceAnswer]:
    return patient_evidence(graph, patient, DIAGNOSTIC_PROGNOSTIC, disease, state)

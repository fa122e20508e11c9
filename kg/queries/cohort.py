"""Cohort questions over the matched patients: phenotype counts per gene, actionable findings.

A patient is *actionable* for a drug or a disease when one of their variants is the subject of
visible evidence (kg.queries.visibility, in the knowledge state asked: ``state``, None for the
current one) for it — directly or through a molecular profile the
patient satisfies — that supports a clinically meaningful significance; and, for a drug, when
their pharmacogenomic phenotypes are those of a guideline recommendation for the drug that is
not "No recommendation". Each answer lists the releases of the state asserting what it counted. The
gene, drug and disease named resolve first, in that state (kg.queries.resolve: unknown or ambiguous is an error); then each function is one Cypher round trip,
under the traversal bound (kg.queries.bounds: past it, QueryTooBroad).

Only patients within ``patients`` are counted and listed (kg.queries.visibility.PatientScope: none unless
given; the API passes the caller's grants). ``aggregated`` turns an answer into what a researcher may
see: no patient ids, and counts below the minimum cell size suppressed (null).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kg.db import Graph
from kg.queries.answers import AS_OF, DISEASE_WITH_DESCENDANTS, as_of
from kg.queries.bounds import bounded_read
from kg.queries.fields import INTERNAL, described
from kg.queries.knowledge import Count
from kg.queries.resolve import resolve_disease, resolve_drug, resolve_gene
from kg.queries.visibility import (
    NO_PATIENTS,
    VISIBLE_EVIDENCE,
    KnowledgeState,
    PatientScope,
    active,
    in_scope,
    in_state,
    scope_params,
    state_params,
)

Row = dict[str, Any]

MAX_PATIENTS = 1000
MAX_EVIDENCE_IDS = 50  # per actionable patient; evidence_count has the full number

# One walk over each Phenotype's HAS_DIPLOTYPE edges of the gene, aggregated in the database per diplotype:
# its links counted, its first appearance (the lowest patient id: the patient-id order) and its patients' ids;
# then, in memory, the phenotype's distinct patients (a patient may hold it through two diplotypes), their first
# ``$limit`` ids (a top-k, not a sort of every id) and, over every phenotype, the gene's distinct patients.
# O(links) with constant work per link. Four walks (one per figure) took 1.3-1.5x as long at 100,000 patients
# (bench/README.md, bench_scale). No aggregation inside a subquery that imports the id lists: Neo4j would
# group by them.
COHORT_PHENOTYPES = f"""
MATCH (ph:Phenotype {{gene: $gene}})
CALL (ph) {{
  MATCH (ph)<-[h:HAS_DIPLOTYPE]-(p:Patient) WHERE {in_scope("p")}
  WITH h.diplotype AS diplotype, p.id AS id
  RETURN diplotype, count(*) AS n, min(id) AS first, collect(id) AS ids
}}
WITH ph, collect(CASE WHEN diplotype IS NOT NULL THEN {{key: diplotype, count: n, first: first}} END) AS counted,
     collect(ids) AS idLists
WITH ph, counted, COLLECT {{ UNWIND idLists AS l UNWIND l AS id RETURN DISTINCT id }} AS ids
WITH collect(ids) AS everyone,
     collect({{id: ph.id, phenotype: ph.phenotype, activityScore: ph.activityScore, patients: size(ids),
              patientIds: COLLECT {{ UNWIND ids AS id RETURN id ORDER BY id LIMIT $limit }}, diplotypes: counted,
              releases: [(ph)-[:ASSERTED_BY]->(ps:Source) WHERE {in_state("ps")} | ps.key]}}) AS phenotypes
RETURN size(COLLECT {{ UNWIND everyone AS l UNWIND l AS id RETURN DISTINCT id }}) AS patients, phenotypes
"""


_SUPPRESSED = "Null in aggregate answers when fewer than the minimum cell size (suppressedBelow)."
_MIN_CELL = "Aggregate answers (researchers): counts from 1 to this minus one are null, and no patient ids."


@dataclass(frozen=True)
class PhenotypeCount:
    """Patients with one phenotype of a gene (from their called diplotypes)."""

    id: str
    phenotype: str | None
    activity_score: str | None
    patients: int | None = field(metadata=described(_SUPPRESSED))
    patient_ids: list[str] = field(metadata=described("Empty in aggregate answers (researchers)."))
    diplotypes: list[Count] = field(
        metadata=described(
            "In order of first appearance; aggregate answers leave out those below the minimum cell size."
        )
    )


@dataclass(frozen=True)
class CohortPhenotypes:
    gene: str
    patients: int | None = field(metadata=described("Patients with any called phenotype of the gene. " + _SUPPRESSED))
    phenotypes: list[PhenotypeCount] = field(default_factory=list)
    suppressed_below: int | None = field(default=None, metadata=described(_MIN_CELL))
    releases: list[str] = field(
        default_factory=list,
        metadata=described(
            "Keys (name@version) of the releases of the knowledge state asserting the phenotypes counted "
            "(the patients' calls are theirs in every state)."
        ),
    )
    as_of: str | None = field(default=None, metadata=AS_OF)


def cohort_phenotypes(
    graph: Graph,
    gene: str,
    limit: int = 100,
    *,
    patients: PatientScope = NO_PATIENTS,
    state: KnowledgeState | None = None,
) -> CohortPhenotypes:
    """The gene's symbol (resolved in ``state``: symbol, previous symbol, alias or id), the patients
    (within ``patients``) with a called phenotype of it, and how many per phenotype (most first), with
    up to ``limit`` patient ids each and the diplotypes behind the calls; and the releases of ``state``
    (None: the current knowledge) asserting those phenotypes."""
    symbol = resolve_gene(graph, gene, state).id
    row = bounded_read(
        graph,
        COHORT_PHENOTYPES,
        what=f"the cohort of {symbol}",
        hint="ask for a lower limit of patient ids",
        gene=symbol,
        limit=limit,
        **scope_params(patients),
        **state_params(state),
    )[0]
    out = []
    for ph in row["phenotypes"]:
        counted = sorted(ph["diplotypes"], key=lambda d: (d["first"], str(d["key"])))
        diplotypes = {str(d["key"]): d["count"] for d in counted}
        out.append(
            PhenotypeCount(
                id=ph["id"],
                phenotype=ph.get("phenotype"),
                activity_score=None if ph.get("activityScore") is None else str(ph["activityScore"]),
                patients=ph["patients"],
                patient_ids=ph["patientIds"],
                diplotypes=[Count(key=k, count=v) for k, v in diplotypes.items()],
            )
        )
    out.sort(key=lambda p: (-(p.patients or 0), p.id))
    releases = sorted({k for ph in row["phenotypes"] for k in ph["releases"]})
    return CohortPhenotypes(
        gene=symbol, patients=row["patients"], phenotypes=out, releases=releases, as_of=as_of(state)
    )


def _cell(count: int | None, min_cell: int) -> int | None:
    """A count as an aggregate answer shows it: null when 0 < count < min_cell (small cells re-identify
    patients; the usual disclosure-control rule)."""
    return None if count is not None and 0 < count < min_cell else count


def aggregated_phenotypes(answer: CohortPhenotypes, min_cell: int) -> CohortPhenotypes:
    """``answer`` without patient ids, its small counts suppressed."""
    return replace(
        answer,
        patients=_cell(answer.patients, min_cell),
        suppressed_below=min_cell,
        phenotypes=[
            replace(
                p,
                patients=_cell(p.patients, min_cell),
                patient_ids=[],
                diplotypes=[d for d in p.diplotypes if d.count >= min_cell],
            )
            for p in answer.phenotypes
        ],
    )


# --- actionable findings ---------------------------------------------------------------------

#: Significances that call for no action (ClinVar's benign and uncertain, conflicting, not provided).
_MEANINGFUL = (
    "coalesce(e.direction, 'supports') = 'supports' AND NONE(word IN ['benign', 'uncertain', 'conflicting', "
    "'not provided'] WHERE toLower(coalesce(e.significance, '')) CONTAINS word)"
)

# `drugs` and `diseases`: the resolved drug (or none) and the resolved disease with its descendants.
_SCOPE = (
    """
CALL () {
  OPTIONAL MATCH (d:Drug {id: $drug})
  RETURN [x IN [d] WHERE x IS NOT NULL] AS drugs
}
"""
    + DISEASE_WITH_DESCENDANTS
)

# A patient satisfies a complex (AND) profile with every member present and no negated one.
_SATISFIES = """(mp IS NULL OR coalesce(mp.kind, 'single') <> 'complex' OR (
      all(m IN COLLECT { MATCH (mp)-[i:INCLUDES]->(m) WHERE NOT coalesce(i.negated, false) RETURN m }
          WHERE EXISTS { (p)-[:HAS_VARIANT]->(m) })
      AND none(m IN COLLECT { MATCH (mp)-[i:INCLUDES]->(m) WHERE coalesce(i.negated, false) RETURN m }
          WHERE EXISTS { (p)-[:HAS_VARIANT]->(m) })))"""


def _state_releases(var: str) -> str:
    """The keys of the state's releases asserting the finding ``var`` (code-chosen)."""
    return f"[({var})-[:ASSERTED_BY]->(rs:Source) WHERE {in_state('rs')} | rs.key]"


def _holds(p: str, phenotypes: str) -> str:
    """The Patient ``p`` has a HAS_DIPLOTYPE to every Phenotype of the list ``phenotypes`` (code-chosen)."""
    return f"all(ph IN {phenotypes} WHERE EXISTS {{ ({p})-[:HAS_DIPLOTYPE]->(ph) }})"


# The recommendation sets (``recSets``, each's phenotypes rarest first) grouped by their rarest phenotype, walked
# once to its holders (``p``, rows per holder and group): sets sharing it (a guideline's gene-pair grid) cost one walk,
# and the patient's phenotypes (``held``, one expansion) are read only for a group with a set of several.
_BY_RAREST = """
  UNWIND range(0, size(recSets) - 1) AS i
  WITH recSets, recSets[i].phenotypes[0] AS rarest, collect(i) AS sets
  WITH recSets, rarest, sets, any(i IN sets WHERE size(recSets[i].phenotypes) > 1) AS several
  MATCH (rarest)<-[:HAS_DIPLOTYPE]-(p:Patient)"""
_HELD = "CASE WHEN several THEN [(p)-[:HAS_DIPLOTYPE]->(ph) | ph] ELSE [] END AS held"
_REST_HELD = "all(ph IN recSets[i].phenotypes[1..] WHERE ph IN held)"


def actionable_query(by_drug: bool, by_disease: bool, page: bool = True) -> str:
    """The counts aggregated in the database, route by route, and (``page``) the page out of two top-k lists.

    Evidence route: evidence first (the smaller side), then its variants, then the patients who carry them;
    grouped per patient (every such patient and its evidence: ``viaE``). Recommendation route (a drug): the
    drug's recommendations grouped by their set of phenotypes (many share one), each set walked once from
    its rarest phenotype to the patients holding all of it. ``total`` = evidence + recommendation patients
    less those in both (the evidence patients holding a set). The page is the first ``$limit`` ids after
    ``$after`` of the union: the first ``$limit`` of each route suffice (a patient listed by one route has
    fewer than ``$limit`` of that route's patients before it), merged by the caller. The recommendation
    route's first ``$limit``: when its patients are dense in the cohort, a walk of the Patient.id index
    from the cursor that stops after ``$limit`` holders; when sparse, a top-k over the sets' holders."""
    if by_drug:
        anchor = "UNWIND drugs AS d MATCH (e:Evidence)-[:FOR_DRUG]->(d)"
        extra = " AND EXISTS { (e)-[:FOR_DISEASE]->(x) WHERE x IN diseases }" if by_disease else ""
    else:
        anchor = "UNWIND diseases AS d MATCH (e:Evidence)-[:FOR_DISEASE]->(d)"
        extra = ""
    evidence = f"""
CALL (drugs, diseases) {{
  {anchor}
  WITH DISTINCT e WHERE {VISIBLE_EVIDENCE} AND {_MEANINGFUL}{extra}
  CALL (e) {{
    MATCH (e)-[:ABOUT]->(v:Variant) RETURN v, null AS mp
    UNION
    MATCH (e)-[:ABOUT]->(mp:MolecularProfile)-[i:INCLUDES]->(v:Variant) WHERE NOT coalesce(i.negated, false)
    RETURN v, mp
  }}
  MATCH (p:Patient)-[:HAS_VARIANT]->(v) WHERE {in_scope("p")}
  WITH DISTINCT p, e, mp
  WHERE {_SATISFIES}
  WITH p, collect(DISTINCT e) AS found
  RETURN collect({{patient: p, evidence: found}}) AS viaE
}}
WITH drugs, viaE,
     [e IN COLLECT {{ UNWIND viaE AS x UNWIND x.evidence AS e RETURN DISTINCT e }} | {_state_releases("e")}] AS evidenceKeys
"""
    if not by_drug:
        counts = """
RETURN size(viaE) AS total, size(viaE) AS viaEvidence, 0 AS viaRecommendation,
       evidenceKeys AS keyLists"""
        pages = (
            """,
       COLLECT { UNWIND viaE AS x WITH x WHERE x.patient.id > $after
                 RETURN {patient: x.patient.id, evidence: [e IN x.evidence | e.id]} AS y ORDER BY y.patient LIMIT $limit }
         AS evidencePage,
       [] AS recommendationPage"""
            if page
            else ""
        )
        return f"{_SCOPE}{evidence}{counts}{pages}\n"
    sets = f"""
CALL (drugs) {{
  UNWIND drugs AS d
  MATCH (r:Recommendation)-[:FOR_DRUG]->(d)
  WHERE NOT coalesce(r.noRecommendation, false) AND toLower(coalesce(r.strength, '')) <> 'no recommendation'
    AND {active("r")}
  WITH DISTINCT r
  WITH r, COLLECT {{ MATCH (r)-[:FOR_PHENOTYPE]->(ph:Phenotype) WITH DISTINCT ph
                    WITH ph, COUNT {{ (ph)<-[:HAS_DIPLOTYPE]-() }} AS n ORDER BY n, elementId(ph) RETURN ph }} AS phenotypes
  WHERE size(phenotypes) > 0
  WITH phenotypes, collect(r) AS recs
  RETURN collect({{phenotypes: phenotypes, recs: [r IN recs | {{id: r.id, keys: {_state_releases("r")}}}]}}) AS recSets
}}
CALL (recSets) {{{_BY_RAREST}
  WHERE {in_scope("p")}
  WITH recSets, p, sets, {_HELD}
  UNWIND [i IN sets WHERE {_REST_HELD}] AS i
  RETURN count(DISTINCT p) AS viaR, collect(DISTINCT i) AS setsHit
}}
WITH viaE, evidenceKeys, recSets, viaR, setsHit,
     CASE WHEN viaR = 0 THEN 0 ELSE COUNT {{
       UNWIND viaE AS x WITH x.patient AS p WHERE any(s IN recSets WHERE {_holds("p", "s.phenotypes")}) RETURN p
     }} END AS both
"""
    counts = """
RETURN size(viaE) + viaR - both AS total, size(viaE) AS viaEvidence, viaR AS viaRecommendation,
       evidenceKeys + [i IN setsHit | reduce(ks = [], r IN recSets[i].recs | ks + r.keys)] AS keyLists"""
    if not page:
        return f"{_SCOPE}{evidence}{sets}{counts}\n"
    walk = f"""
WITH *, CASE WHEN $allPatients THEN COUNT {{ MATCH (q:Patient) }} ELSE size($patientIds) END AS population
WITH *, COLLECT {{
  WITH recSets, viaR, population WHERE viaR > 0 AND viaR * viaR >= $limit * population
  MATCH (p:Patient) WHERE p.id > $after AND {in_scope("p")}
  WITH p, recSets, [(p)-[:HAS_DIPLOTYPE]->(ph) | ph] AS held
  WHERE any(s IN recSets WHERE all(ph IN s.phenotypes WHERE ph IN held))
  WITH p ORDER BY p.id LIMIT $limit
  RETURN p
  UNION ALL
  WITH recSets, viaR, population WHERE viaR > 0 AND viaR * viaR < $limit * population
{_BY_RAREST}
  WHERE p.id > $after AND {in_scope("p")}
  WITH recSets, p, sets, {_HELD}
  WHERE any(i IN sets WHERE {_REST_HELD})
  WITH DISTINCT p ORDER BY p.id LIMIT $limit
  RETURN p
}} AS holders"""
    pages = """,
       COLLECT { UNWIND viaE AS x WITH x WHERE x.patient.id > $after
                 RETURN {patient: x.patient.id, evidence: [e IN x.evidence | e.id]} AS y ORDER BY y.patient LIMIT $limit }
         AS evidencePage,
       [x IN [p IN holders | {id: p.id, held: [(p)-[:HAS_DIPLOTYPE]->(ph) | ph]}] | {patient: x.id,
           recommendations: reduce(ids = [], s IN recSets |
             ids + CASE WHEN all(ph IN s.phenotypes WHERE ph IN x.held) THEN [r IN s.recs | r.id] ELSE [] END)}]
         AS recommendationPage"""
    return f"{_SCOPE}{evidence}{sets}{walk}{counts}{pages}\n"


@dataclass(frozen=True)
class ActionablePatient:
    """A patient with actionable findings: the evidence and recommendations behind them."""

    id: str
    evidence: list[str]  # the first MAX_EVIDENCE_IDS in id order
    evidence_count: int
    recommendations: list[str]


@dataclass(frozen=True)
class Actionable:
    """Patients with actionable findings for a drug and/or a disease, in patient-id order."""

    total_count: int | None = field(metadata=described(_SUPPRESSED))
    via_evidence: int | None = field(metadata=described(_SUPPRESSED))
    via_recommendation: int | None = field(metadata=described(_SUPPRESSED))
    patients: list[ActionablePatient] = field(metadata=described("Empty in aggregate answers (researchers)."))
    has_next: bool = field(metadata=INTERNAL)
    suppressed_below: int | None = field(default=None, metadata=described(_MIN_CELL))
    releases: list[str] = field(
        default_factory=list,
        metadata=described(
            "Keys (name@version) of the releases of the knowledge state asserting the findings (of every patient counted)."
        ),
    )
    as_of: str | None = field(default=None, metadata=AS_OF)


def cohort_actionable(
    graph: Graph,
    *,
    drug: str | None = None,
    disease: str | None = None,
    first: int = 100,
    after: str | None = None,
    patients: PatientScope = NO_PATIENTS,
    state: KnowledgeState | None = None,
    page: bool = True,
) -> Actionable:
    """Patients (within ``patients``) with actionable findings for ``drug`` and/or ``disease`` (with its
    descendants), in patient-id order: ``first`` of them after the id ``after`` (each with up to
    MAX_EVIDENCE_IDS evidence ids), and the counts over all; the evidence and recommendations those of
    ``state`` (kg.queries.visibility; None: the current knowledge), whose releases the answer lists.
    ``page=False``: the counts and releases only (no patients listed), for aggregate answers."""
    if not drug and not disease:
        raise ValueError("give a drug or a disease")
    if not 0 <= first <= MAX_PATIENTS:
        raise ValueError(f"first must be between 0 and {MAX_PATIENTS}")
    row = bounded_read(
        graph,
        actionable_query(bool(drug), bool(disease), page),
        what="the actionable cohort",
        hint="give both a drug and a disease, or a more specific disease",
        drug=resolve_drug(graph, drug, state).id if drug else None,
        diseaseIds=[resolve_disease(graph, disease, state).id] if disease else [],
        after=after or "",
        limit=first + 1,
        **scope_params(patients),
        **state_params(state),
    )[0]
    listed = _merged_page(row, first + 1) if page else []
    found = []
    for x in listed[:first]:
        evidence = sorted(x["evidence"])
        found.append(
            ActionablePatient(
                id=x["patient"],
                evidence=evidence[:MAX_EVIDENCE_IDS],
                evidence_count=len(evidence),
                recommendations=sorted(x["recommendations"]),
            )
        )
    return Actionable(
        total_count=row["total"],
        via_evidence=row["viaEvidence"],
        via_recommendation=row["viaRecommendation"],
        patients=found,
        has_next=len(listed) > first,
        releases=sorted({k for keys in row["keyLists"] for k in keys}),
        as_of=as_of(state),
    )


def _merged_page(row: Row, limit: int) -> list[Row]:
    """The first ``limit`` patients of the union of the two routes' pages (each its route's first ``limit``
    after the cursor, in id order): a patient's evidence from the one, its recommendations from the other."""
    merged: dict[str, Row] = {}
    for x in row["evidencePage"]:
        merged[x["patient"]] = {"patient": x["patient"], "evidence": x["evidence"], "recommendations": []}
    for x in row["recommendationPage"]:
        merged.setdefault(x["patient"], {"patient": x["patient"], "evidence": [], "recommendations": []})
        merged[x["patient"]]["recommendations"] = x["recommendations"]
    return [merged[k] for k in sorted(merged)[:limit]]


def aggregated_actionable(answer: Actionable, min_cell: int) -> Actionable:
    """``answer`` without patients, its small counts suppressed."""
    return replace(
        answer,
        total_count=_cell(answer.total_count, min_cell),
        via_evidence=_cell(answer.via_evidence, min_cell),
        via_recommendation=_cell(answer.via_recommendation, min_cell),
        patients=[],
        has_next=False,
        suppressed_below=min_cell,
    )

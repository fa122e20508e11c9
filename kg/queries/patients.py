"""The Cypher that stores and removes a patient's matched links (kg/matcher/match.py).

A match is written in one transaction (``Graph.write_many``) for a batch of patients (one patient,
or up to ``kg.matcher.match.COHORT_BATCH`` of a cohort VCF): each statement UNWINDs ``$patients``;
every Patient is MERGEd, every HAS_VARIANT / HAS_DIPLOTYPE / HAS_CONDITION link of an earlier match
is deleted, and the new links are created from each patient's row lists, so a re-match replaces,
never accumulates, and a failure leaves the earlier state of the whole batch intact. Patient nodes link only to what was observed and are asserted by
no Source.

The call store (issue 8; kg/matcher/calls.py) is patient data too: ``(:Patient)-[:CALLED {call}]->
(:ObservedAllele {id})`` for each non-reference call no exact knowledge Variant matched (an
ObservedAllele is shared by the patients calling that allele and removed with the last of them),
and ``(:Patient)-[:HAS_NO_CALLS]->(:NoCallSet {ranges})`` for the positions whose GT was missing.
A re-match replaces both; deleting the patient removes both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kg.db import Graph

MERGE_PATIENT = """
UNWIND $patients AS pt
MERGE (p:Patient {id: pt.id})
SET p.assembly = 'GRCh38', p.sample = pt.sample, p.vcf = pt.vcf, p.matchedAt = datetime(),
    p.origin = pt.origin, p.originSource = pt.originSource, p.normalSample = pt.normalSample,
    p.normalVcf = pt.normalVcf
WITH p
OPTIONAL MATCH (p)-[r:HAS_VARIANT|HAS_DIPLOTYPE|HAS_CONDITION]->()
DELETE r
"""

#: Remove patient ``p``'s call store: the NoCallSet, the CALLED edges, and the ObservedAlleles no
#: other patient calls (unit subqueries: the outer row stays). Indexed: the Patient by key, then its
#: own edges.
_DROP_CALLS_OF_P = """
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_NO_CALLS]->(n:NoCallSet)
  DETACH DELETE n
}
CALL (p) {
  MATCH (p)-[c:CALLED]->(o:ObservedAllele)
  DELETE c
  WITH DISTINCT o WHERE NOT EXISTS { (o)<-[:CALLED]-() }
  DELETE o
}
"""

#: Replace each patient's call store in one statement over the batch, touching only what changed: a
#: call made again with the same properties keeps its CALLED edge (a re-match of the same file writes
#: nothing), a new or changed one gets a new edge (ObservedAlleles MERGEd: one a re-match calls again is
#: kept, not deleted and re-created, which costs the transaction several times more), then the edges of
#: alleles not called any more go, with their ObservedAlleles when no one else calls them. ``pt.props``
#: maps each called allele to its CALLED properties: a map key look-up, where a list membership test
#: over 20,000 calls would be quadratic. The edges are created before any is deleted (an edge test on a
#: Patient whose edges the transaction deleted costs Neo4j a pass over the deletions). Patients are
#: handled in turn, so an allele two patients of a batch share is never lost.
REPLACE_CALLS = """
UNWIND $patients AS pt
MATCH (p:Patient {id: pt.id})
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_NO_CALLS]->(n:NoCallSet)
  DETACH DELETE n
}
CALL (pt, p) {
  UNWIND pt.calls AS row
  MERGE (o:ObservedAllele {id: row.allele})
  ON CREATE SET o.chrom = row.chrom, o.pos = row.pos, o.ref = row.ref, o.alt = row.alt
  WITH p, o, pt.props[row.allele] AS now
  OPTIONAL MATCH (p)-[old:CALLED]->(o)
  WITH p, o, now, collect(old) AS olds
  WHERE size(olds) <> 1 OR NOT coalesce(properties(olds[0]) = now, false)
  FOREACH (c IN olds | DELETE c)
  CREATE (p)-[c:CALLED]->(o)
  SET c = now
}
CALL (pt, p) {
  MATCH (p)-[c:CALLED]->(o:ObservedAllele)
  WHERE pt.props[o.id] IS NULL
  DELETE c
  WITH o WHERE NOT EXISTS { (o)<-[:CALLED]-() }
  DELETE o
}
"""

#: The call store's summary on each Patient (small scalars; the no-call ranges on the NoCallSet).
SET_CALL_SUMMARY = """
UNWIND $patients AS pt
MATCH (p:Patient {id: pt.id})
WITH p, pt.callSummary AS s
SET p.callsStored = s.calls, p.callsDropped = s.callsDropped, p.callsTruncated = s.callsTruncated,
    p.callsMax = s.callsMax, p.callsComplete = s.callsComplete
CREATE (p)-[:HAS_NO_CALLS]->(:NoCallSet {ranges: s.noCalls, normalRanges: s.normalNoCalls, dropped: s.noCallsDropped})
"""

#: ``<GENE>:No Result`` is CPIC's key for "no genotype available"; MERGEd for genes the pharmcat
#: release gave no such Phenotype (asserted by no Source: it exists for patients only).
MERGE_NO_RESULT = """
UNWIND $genes AS gene
MERGE (ph:Phenotype {id: gene + ':No Result'})
ON CREATE SET ph.gene = gene, ph.phenotype = 'No Result', ph.createdFor = 'patients'
"""

#: ``$rows``: the batch's distinct link rows ``{variant, props}``, each sent once however many patients
#: of the batch have it (a cohort's patients share the rows of the calls they share); each patient's
#: ``links`` are indices into it. A row's props without ``sample`` link the patient's own sample.
LINK_VARIANTS = """
UNWIND $patients AS pt
MATCH (p:Patient {id: pt.id})
UNWIND pt.links AS k
WITH p, pt, $rows[k] AS row
MATCH (v:Variant {id: row.variant})
CREATE (p)-[r:HAS_VARIANT {sample: pt.sample}]->(v)
SET r += row.props
"""

LINK_DIPLOTYPES = """
UNWIND $patients AS pt
MATCH (p:Patient {id: pt.id})
UNWIND pt.diplotypes AS row
MATCH (ph:Phenotype {id: row.phenotype})
CREATE (p)-[r:HAS_DIPLOTYPE]->(ph)
SET r = row.props
"""

LINK_CONDITIONS = """
UNWIND $patients AS pt
MATCH (p:Patient {id: pt.id})
UNWIND pt.diseases AS disease
MATCH (d:Disease {id: disease})
MERGE (p)-[:HAS_CONDITION]->(d)
"""

COUNT_LINKS = """
MATCH (p:Patient {id: $id})
RETURN COUNT { (p)-[:HAS_VARIANT]->() } AS variants, COUNT { (p)-[:HAS_DIPLOTYPE]->() } AS diplotypes,
       COUNT { (p)-[:HAS_CONDITION]->() } AS conditions
"""

DELETE_PATIENT = f"""
MATCH (p:Patient {{id: $id}})
WITH p, COUNT {{ (p)--() }} AS links
{_DROP_CALLS_OF_P}
CALL (p) {{
  OPTIONAL MATCH (p)-[:HAS_CHANGE]->(c:Change)
  DETACH DELETE c
}}
DETACH DELETE p
RETURN links
"""


@dataclass(frozen=True, kw_only=True)
class PatientMatch:
    """What one match writes for one patient (:func:`store_matches`): the one description of it, built
    by kg.matcher.match for one sample and for each sample of a cohort. ``variants`` rows:
    ``{variant, props}``; ``diplotypes`` rows: ``{phenotype, props}``; ``origin``: kg.matcher.origin's
    decision (origin, source, normalSample, normalVcf); ``diseases``: resolved Disease ids."""

    patient: str
    sample: str
    vcf: str
    origin: Mapping[str, Any]
    variants: Sequence[Mapping[str, Any]]
    diplotypes: Sequence[Mapping[str, Any]] = ()
    no_result_genes: Sequence[str] = ()
    diseases: Sequence[str] = ()
    #: the call store (kg/matcher/calls.py): CALLED rows ``{allele, chrom, pos, ref, alt, props}``, and
    #: what the Patient records of it (calls, callsDropped, callsTruncated, callsComplete, callsMax,
    #: noCalls, normalNoCalls, noCallsDropped; absent keys: an empty, complete store)
    calls: Sequence[Mapping[str, Any]] = ()
    call_summary: Mapping[str, Any] | None = None

    def params(self) -> dict[str, Any]:
        """The patient's row of the link statements of :func:`store_matches`."""
        return {
            "id": self.patient,
            "sample": self.sample,
            "vcf": self.vcf,
            "origin": self.origin["origin"],
            "originSource": self.origin["source"],
            "normalSample": self.origin.get("normalSample"),
            "normalVcf": self.origin.get("normalVcf"),
            "diplotypes": list(self.diplotypes),
            "diseases": list(self.diseases),
        }

    def store_params(self) -> dict[str, Any]:
        """The patient's row of the call-store statements (apart: every statement is sent its own rows)."""
        summary = {
            "calls": len(self.calls),
            "callsDropped": 0,
            "callsTruncated": False,
            "callsComplete": True,
            "callsMax": None,
            "noCalls": [],
            "normalNoCalls": None,
            "noCallsDropped": 0,
            **(self.call_summary or {}),
        }
        # the coordinates as a list, the CALLED properties by allele (REPLACE_CALLS looks them up by key)
        return {
            "id": self.patient,
            "calls": [{k: row[k] for k in _ALLELE_KEYS} for row in self.calls],
            "props": {row["allele"]: row["props"] for row in self.calls},
            "callSummary": {k: summary[k] for k in _SUMMARY_KEYS},
        }


_ALLELE_KEYS = ("allele", "chrom", "pos", "ref", "alt")
_SUMMARY_KEYS = (
    "calls",
    "callsDropped",
    "callsTruncated",
    "callsComplete",
    "callsMax",
    "noCalls",
    "normalNoCalls",
    "noCallsDropped",
)


def store_matches(graph: Graph, matches: Sequence[PatientMatch]) -> None:
    """Replace the links and call stores of every patient of ``matches`` in one transaction (a cohort
    writes its patients in batches; one patient is a batch of one): all of the batch is stored or none.
    Every statement UNWINDs the batch, so a transaction costs a fixed number of round trips."""
    if not matches:
        return
    patients = [m.params() for m in matches]
    stores = [m.store_params() for m in matches]
    genes = sorted({g for m in matches for g in m.no_result_genes})
    rows: list[Mapping[str, Any]] = []
    index: dict[int, int] = {}  # id(row) -> its place in ``rows`` (the rows stay referenced meanwhile)
    links = []
    for m in matches:
        ks = []
        for row in m.variants:
            k = index.get(id(row))
            if k is None:
                k = index[id(row)] = len(rows)
                rows.append(row)
            ks.append(k)
        links.append({"id": m.patient, "sample": m.sample, "links": ks})
    graph.write_many(
        [
            (MERGE_PATIENT, {"patients": patients}),
            (MERGE_NO_RESULT, {"genes": genes}),
            (LINK_VARIANTS, {"patients": links, "rows": rows}),
            (LINK_DIPLOTYPES, {"patients": patients}),
            (LINK_CONDITIONS, {"patients": patients}),
            (REPLACE_CALLS, {"patients": stores}),
            (SET_CALL_SUMMARY, {"patients": stores}),
        ]
    )


def link_counts(graph: Graph, patient: str) -> dict[str, int] | None:
    rows = graph.read(COUNT_LINKS, id=patient)
    return rows[0] if rows else None


def delete_patient(graph: Graph, patient: str) -> bool:
    """Remove the Patient node, all its links and its re-interpretations (Change nodes, kg.queries.changes);
    False when there was no such patient."""
    return bool(graph.write(DELETE_PATIENT, id=patient))


def link_conditions(graph: Graph, patient: str, diseases: list[str]) -> None:
    """Add conditions (resolved Disease ids) to a matched patient: a phenopacket's further diseases."""
    graph.write(LINK_CONDITIONS, patients=[{"id": patient, "diseases": diseases}])

"""The Cypher that stores and removes a patient's matched links (kg/matcher/match.py).

A match is written in one transaction (``Graph.write_many``): the Patient is MERGEd, every
HAS_VARIANT / HAS_DIPLOTYPE / HAS_CONDITION link of an earlier match is deleted, and the new links
are created from ``UNWIND $rows`` lists, so a re-match replaces, never accumulates, and a failure
leaves the earlier state intact. Patient nodes link only to what was observed and are asserted by
no Source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kg.db import Graph

MERGE_PATIENT = """
MERGE (p:Patient {id: $id})
SET p.assembly = 'GRCh38', p.sample = $sample, p.vcf = $vcf, p.matchedAt = datetime(),
    p.origin = $origin, p.originSource = $originSource, p.normalSample = $normalSample, p.normalVcf = $normalVcf
WITH p
OPTIONAL MATCH (p)-[r:HAS_VARIANT|HAS_DIPLOTYPE|HAS_CONDITION]->()
DELETE r
"""

#: ``<GENE>:No Result`` is CPIC's key for "no genotype available"; MERGEd for genes the pharmcat
#: release gave no such Phenotype (asserted by no Source: it exists for patients only).
MERGE_NO_RESULT = """
UNWIND $genes AS gene
MERGE (ph:Phenotype {id: gene + ':No Result'})
ON CREATE SET ph.gene = gene, ph.phenotype = 'No Result', ph.createdFor = 'patients'
"""

LINK_VARIANTS = """
MATCH (p:Patient {id: $id})
UNWIND $rows AS row
MATCH (v:Variant {id: row.variant})
CREATE (p)-[r:HAS_VARIANT]->(v)
SET r = row.props
"""

LINK_DIPLOTYPES = """
MATCH (p:Patient {id: $id})
UNWIND $rows AS row
MATCH (ph:Phenotype {id: row.phenotype})
CREATE (p)-[r:HAS_DIPLOTYPE]->(ph)
SET r = row.props
"""

LINK_CONDITIONS = """
MATCH (p:Patient {id: $id})
UNWIND $diseases AS disease
MATCH (d:Disease {id: disease})
MERGE (p)-[:HAS_CONDITION]->(d)
"""

COUNT_LINKS = """
MATCH (p:Patient {id: $id})
RETURN COUNT { (p)-[:HAS_VARIANT]->() } AS variants, COUNT { (p)-[:HAS_DIPLOTYPE]->() } AS diplotypes,
       COUNT { (p)-[:HAS_CONDITION]->() } AS conditions
"""

DELETE_PATIENT = """
MATCH (p:Patient {id: $id})
WITH p, COUNT { (p)--() } AS links, [(p)-[:HAS_CHANGE]->(c:Change) | c] AS changes
FOREACH (c IN changes | DETACH DELETE c)
DETACH DELETE p
RETURN links
"""


def store_match(
    graph: Graph,
    patient: str,
    *,
    sample: str,
    vcf: str,
    origin: Mapping[str, Any],
    variants: Sequence[Mapping[str, Any]],
    diplotypes: Sequence[Mapping[str, Any]],
    no_result_genes: list[str],
    diseases: list[str],
) -> None:
    """Replace the patient's links in one transaction. ``variants`` rows: ``{variant, props}``;
    ``diplotypes`` rows: ``{phenotype, props}``; ``origin``: kg.matcher.origin's decision (origin,
    source, normalSample, normalVcf)."""
    params: dict[str, Any] = {"id": patient}
    graph.write_many(
        [
            (
                MERGE_PATIENT,
                {
                    **params,
                    "sample": sample,
                    "vcf": vcf,
                    "origin": origin["origin"],
                    "originSource": origin["source"],
                    "normalSample": origin.get("normalSample"),
                    "normalVcf": origin.get("normalVcf"),
                },
            ),
            (MERGE_NO_RESULT, {"genes": no_result_genes}),
            (LINK_VARIANTS, {**params, "rows": list(variants)}),
            (LINK_DIPLOTYPES, {**params, "rows": list(diplotypes)}),
            (LINK_CONDITIONS, {**params, "diseases": diseases}),
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
    graph.write(LINK_CONDITIONS, id=patient, diseases=diseases)

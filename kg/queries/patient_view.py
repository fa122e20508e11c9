"""What the graph holds about one patient: matched variants and diplotype calls."""

from __future__ import annotations

from typing import Any

from kg.db import Graph

PATIENT = """
MATCH (p:Patient {id: $patient})
RETURN p {.*} AS patient, [(p)-[:HAS_CONDITION]->(d:Disease) | d {.id, .name}] AS conditions
"""

PATIENT_VARIANTS = """
MATCH (:Patient {id: $patient})-[hv:HAS_VARIANT]->(v:Variant)
RETURN v {.id, .chrom, .pos, .ref, .alt, .rsid, .gene, .proteinChange, .name, .kind} AS variant,
       properties(hv) AS link
ORDER BY v.chrom, v.pos, v.id
"""


def find_patient(graph: Graph, patient: str) -> dict[str, Any] | None:
    rows = graph.read(PATIENT, patient=patient)
    if not rows:
        return None
    return {**rows[0]["patient"], "conditions": rows[0]["conditions"]}


def patient_variants(graph: Graph, patient: str) -> list[dict[str, Any]]:
    return [{**row["variant"], "link": row["link"]} for row in graph.read(PATIENT_VARIANTS, patient=patient)]

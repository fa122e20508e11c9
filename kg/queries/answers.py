"""Shared pieces of the patient answers: paths, sources, the asked disease's subtree, ordering.

An answer item is a path from the patient to the conclusion; each step names its nodes and the
relationship, and every fact along it carries the release (Source) that asserted it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kg.db import Graph
from kg.queries.fields import described
from kg.queries.visibility import KnowledgeState

#: Every answer item says which releases it used and in which knowledge state (issue 8): declared once.
RELEASES_USED = described("Keys (name@version) of the releases whose facts this answer shows: its sources.")
AS_OF = described("The knowledge state answered from: the asOf asked (a release key or a date); null: current.")

# `diseases`: the diseases $diseaseIds (resolved by kg.queries.resolve.resolve_disease, so an
# obsolete term already stands for its replacement) and every descendant through IS_A. Shared by
# the evidence filter and the cohort queries.
DISEASE_WITH_DESCENDANTS = """
CALL () {
  MATCH (root:Disease) WHERE root.id IN $diseaseIds
  MATCH (sub:Disease)-[:IS_A*0..]->(root)
  RETURN collect(DISTINCT sub) AS diseases
}
"""

LEVEL_RANK = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}


@dataclass(frozen=True)
class PathNode:
    id: str
    label: str
    name: str | None = None


@dataclass(frozen=True)
class PathStep:
    """``start -[relationship]-> end`` with the relationship's properties that matter."""

    start: PathNode
    relationship: str
    end: PathNode
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceRef:
    release: str  # the Source key, name@version
    name: str
    version: str
    licence: str | None
    fact: str  # the node id this release asserted


@dataclass(frozen=True)
class DrugRef:
    id: str
    name: str | None


@dataclass(frozen=True)
class DiseaseRef:
    id: str
    name: str | None


@dataclass(frozen=True)
class VariantAllele:
    """Where a Variant lies: its graph id (``GRCh38:chr7:140753336:A:T``, docs/GRAPH_MODEL.md) and
    allele; the fields every view of a Variant starts with. Category Variants (``BRAF V600``) have
    no position."""

    id: str
    chrom: str | None
    pos: int | None
    ref: str | None
    alt: str | None
    rsid: str | None


def allele_fields(v: dict[str, Any]) -> dict[str, Any]:
    """The :class:`VariantAllele` fields of a Variant node's properties (every view starts with them)."""
    return {
        "id": v["id"],
        "chrom": v.get("chrom"),
        "pos": v.get("pos"),
        "ref": v.get("ref"),
        "alt": v.get("alt"),
        "rsid": v.get("rsid"),
    }


def drug_ref(row: dict[str, Any]) -> DrugRef:
    """A drug as a query returns it: ``d {.id, .name}``."""
    return DrugRef(row["id"], row.get("name"))


def disease_ref(row: dict[str, Any]) -> DiseaseRef:
    """A disease as a query returns it: ``d {.id, .name}``."""
    return DiseaseRef(row["id"], row.get("name"))


def json_ready(value: Any) -> Any:
    """Stored properties as JSON values (dates and times as their ISO text), for every reader alike."""
    return json.loads(json.dumps(value, default=str))


def node(row: dict[str, Any] | None, label: str) -> PathNode | None:
    if not row:
        return None
    return PathNode(str(row.get("id") or row.get("symbol") or row.get("key")), label, row.get("name"))


def releases_of(sources: list[SourceRef]) -> list[str]:
    """The release keys an answer used: those of its sources."""
    return sorted({s.release for s in sources})


def as_of(state: KnowledgeState | None) -> str | None:
    """What an answer reports as its state: the as-of asked, None for the current knowledge."""
    return None if state is None else state.as_of


def source_refs(rows: list[dict[str, Any]]) -> list[SourceRef]:
    seen: dict[tuple[str, str], SourceRef] = {}
    for r in rows:
        if r and r.get("key"):
            seen[(r["key"], r["fact"])] = SourceRef(r["key"], r["name"], r["version"], r.get("licence"), r["fact"])
    return list(seen.values())


def collected(statement: str, columns: Sequence[str], *more: str) -> str:
    """``statement``'s rows as one list ``rows`` of maps (its ``columns``), returned in one record with the
    ``more`` columns: Bolt and the driver pay per record streamed (the PGx-panel patient's therapies, 43 rows:
    42 → 37 ms, its risks 12 → 10 ms, medians of 100 interleaved calls; bench/README.md, bench_api)."""
    fields = ", ".join(f"{c}: {c}" for c in columns)
    return f"CALL () {{{statement}}}\nWITH collect({{{fields}}}) AS rows\nRETURN rows" + "".join(f", {m}" for m in more)


PATIENT_EXISTS = "MATCH (p:Patient {id: $patient}) RETURN p.id AS id, [(p)-[:HAS_CONDITION]->(d) | d.id] AS conditions"


class UnknownPatient(LookupError):
    def __init__(self, patient: str) -> None:
        super().__init__(f"no patient {patient!r} in the graph (match a VCF first: kg match VCF --patient ID)")
        self.patient = patient


def patient_conditions(graph: Graph, patient: str) -> list[str]:
    rows = graph.read(PATIENT_EXISTS, patient=patient)
    if not rows:
        raise UnknownPatient(patient)
    return rows[0]["conditions"]

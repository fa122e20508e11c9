"""Counts per label and per source release, and diseases given by name (``kg stats``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kg.db import Graph
from kg.queries.resolve import link_disease_names
from kg.queries.visibility import active, state_params


def label_counts(graph: Graph) -> list[dict[str, Any]]:
    return graph.read(
        "CALL db.labels() YIELD label "
        "CALL { WITH label MATCH (n) WHERE label IN labels(n) RETURN count(n) AS count } "
        "RETURN label, count ORDER BY label"
    )


def release_counts(graph: Graph) -> list[dict[str, Any]]:
    return graph.read(
        "MATCH (s:Source) "
        "CALL { WITH s MATCH (s)<-[:ASSERTED_BY]-(n) RETURN count(n) AS facts } "
        "RETURN s.key AS release, s.status AS status, s.loadedAt AS loadedAt, s.licence AS licence, facts "
        "ORDER BY release"
    )


def active_releases(graph: Graph) -> dict[str, str]:
    """Source name -> key of its active release (``kg update`` compares against these)."""
    rows = graph.read("MATCH (s:Source {status: 'active'}) RETURN s.name AS name, s.key AS key ORDER BY key")
    return {row["name"]: row["key"] for row in rows}


def active_release_keys(graph: Graph) -> dict[str, list[str]]:
    """Source name -> keys of all its active releases (a partial release, such as a ClinVar region
    extract, leaves the older one active outside its coverage: ``kg update`` checks against all)."""
    rows = graph.read("MATCH (s:Source {status: 'active'}) RETURN s.name AS name, s.key AS key ORDER BY key")
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["name"], []).append(row["key"])
    return out


# Evidence of active releases that named a disease without an id (kg.loaders.disease_names).
NAME_LINKS = f"""
MATCH (e:Evidence) WHERE e.diseaseNames IS NOT NULL AND {active("e")}
RETURN coalesce(e.source, '?') AS source, count(e) AS named,
       sum(CASE WHEN EXISTS {{ (e)-[:FOR_DISEASE {{linkedBy: 'name'}}]->() }} THEN 1 ELSE 0 END) AS linked,
       sum(CASE WHEN e.unresolvedDiseases IS NULL THEN 0 ELSE 1 END) AS unresolved
ORDER BY source
"""

UNRESOLVED_NAMES = f"""
MATCH (e:Evidence) WHERE e.unresolvedDiseases IS NOT NULL AND {active("e")}
UNWIND e.unresolvedDiseases AS name
RETURN name, count(e) AS evidence, collect(DISTINCT e.source) AS sources
ORDER BY evidence DESC, name LIMIT $top
"""


@dataclass
class DiseaseNameStats:
    """How the diseases sources give only by name were linked (``kg stats``)."""

    by_source: list[dict[str, Any]]  # source, named, linked (evidence items), unresolved (evidence items)
    unresolved_names: int  # distinct names no single live term names
    top_unresolved: list[dict[str, Any]]  # name, evidence, sources, reason, candidates


def disease_name_stats(graph: Graph, top: int = 10) -> DiseaseNameStats:
    """Evidence items linked to a disease by name per source, and the names left unresolved (the most
    frequent first, each with why: unknown, ambiguous with its candidates, or obsolete)."""
    by_source = graph.read(NAME_LINKS, **state_params(None))
    distinct = graph.read(
        f"MATCH (e:Evidence) WHERE e.unresolvedDiseases IS NOT NULL AND {active('e')} "
        "UNWIND e.unresolvedDiseases AS name RETURN count(DISTINCT name) AS n",
        **state_params(None),
    )[0]["n"]
    rows = graph.read(UNRESOLVED_NAMES, top=top, **state_params(None))
    why = link_disease_names(graph, [r["name"] for r in rows])
    for r in rows:
        found = why.get(r["name"])
        r["reason"] = found.reason if found else None
        r["candidates"] = list(found.candidates) if found else []
    return DiseaseNameStats(by_source, distinct, rows)

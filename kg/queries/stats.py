"""Counts per label and per source release (``kg stats``)."""

from __future__ import annotations

from typing import Any

from kg.db import Graph


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

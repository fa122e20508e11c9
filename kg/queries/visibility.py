"""What an answer may show: one Cypher rule, used by every query in kg/queries.

A node is *active* when an active release asserts it (``Source {status: 'active'}``; a release
being loaded or retired shows nothing, docs/ARCHITECTURE.md "Releases and provenance"). Evidence
is *visible* when it is active and accepted: loaded evidence has no status or CIViC's lowercase
``accepted``; curated evidence is SUBMITTED until a moderator accepts it (kg/queries/curation.py).
"""

from __future__ import annotations


def active(var: str) -> str:
    """The active-release predicate for the code-chosen variable ``var`` (never user input)."""
    return f"EXISTS {{ ({var})-[:ASSERTED_BY]->(:Source {{status: 'active'}}) }}"


def visible_evidence(var: str = "e") -> str:
    """The visible-evidence predicate for the Evidence variable ``var`` (code-chosen)."""
    return f"toUpper(coalesce({var}.status, 'ACCEPTED')) = 'ACCEPTED' AND {active(var)}"


#: Visible evidence bound to ``e``, as most answers write it.
VISIBLE_EVIDENCE = visible_evidence("e")


def active_sources(var: str, key: str = "id") -> str:
    """The active releases asserting ``var`` as answers cite them (``fact``: the node's ``key``)."""
    return (
        f"[({var})-[:ASSERTED_BY]->(s:Source {{status: 'active'}}) "
        f"| s {{.key, .name, .version, .licence, fact: {var}.{key}}}]"
    )

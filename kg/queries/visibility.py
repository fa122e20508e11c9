"""What an answer may show: one Cypher rule, used by every query in kg/queries.

A node is *active* when an active release asserts it (``Source {status: 'active'}``; a release
being loaded or retired shows nothing, docs/ARCHITECTURE.md "Releases and provenance"). Evidence
is *visible* when it is active and accepted: loaded evidence has no status or CIViC's lowercase
``accepted``; curated evidence is SUBMITTED until a moderator accepts it (kg/queries/curation.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.db import Graph


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


# --- patients --------------------------------------------------------------------------------

#: Which patients an answer may show: None for every patient, else these ids (empty: none). The API
#: works it out from the caller's grants (kg.access.roles.Identity.patient_scope); kg holds no roles.
PatientScope = frozenset[str] | None
NO_PATIENTS: PatientScope = frozenset()


def patient_shown(var: str) -> str:
    """The patient-scope predicate for ``var`` (code-chosen): a node that is no Patient, or a Patient in
    scope. Patient edges (HAS_VARIANT, HAS_DIPLOTYPE, HAS_CONDITION) start at a Patient, so a traversal
    that never reaches an out-of-scope Patient never shows them either. A ``Change`` (a patient's
    re-interpretation, kg/queries/changes.py) is never shown: it is read through its patient only.
    Needs ``scope_params``."""
    return f"(NOT {var}:Change AND (NOT {var}:Patient OR $allPatients OR {var}.id IN $patientIds))"


def in_scope(var: str) -> str:
    """``var`` is a Patient (bound by the caller's pattern) the scope allows; needs ``scope_params``."""
    return f"($allPatients OR {var}.id IN $patientIds)"


def scope_params(scope: PatientScope) -> dict[str, object]:
    """The parameters ``patient_shown`` and ``in_scope`` read."""
    return {"allPatients": scope is None, "patientIds": sorted(scope or ())}


# --- knowledge states (provisional until the asof branch's KnowledgeState lands) ----------------


@dataclass(frozen=True)
class KnowledgeState:
    """A set of release keys: what an answer may use (the release-set contract of issue 8)."""

    releases: tuple[str, ...]
    as_of: str | None
    label: str


def knowledge_state(graph: Graph, as_of: str | None = None) -> KnowledgeState:
    """The current state: the keys of the active Sources (as-of states come with the asof branch)."""
    if as_of is not None:
        raise NotImplementedError("as-of states come with kg.queries.visibility of the asof branch")
    rows = graph.read("MATCH (s:Source {status: 'active'}) RETURN s.key AS key ORDER BY key")
    return KnowledgeState(tuple(row["key"] for row in rows), None, "current")


def visible_in_state(var: str = "e") -> str:
    """Evidence ``var`` visible in the state ``$releases``: accepted, asserted by a release of the
    state, and superseded by none of them (``e.supersededBy``)."""
    return (
        f"toUpper(coalesce({var}.status, 'ACCEPTED')) = 'ACCEPTED' "
        f"AND EXISTS {{ ({var})-[:ASSERTED_BY]->(s:Source) WHERE s.key IN $releases }} "
        f"AND none(k IN coalesce({var}.supersededBy, []) WHERE k IN $releases)"
    )

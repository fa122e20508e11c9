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
    """The visible-evidence predicate for the Evidence variable ``var`` (code-chosen): accepted, asserted
    by an active release, and not superseded by an active release (``supersededBy``, written by
    kg/loaders/release.py for an older release's evidence inside a newer one's coverage)."""
    return (
        f"toUpper(coalesce({var}.status, 'ACCEPTED')) = 'ACCEPTED' AND {active(var)} "
        f"AND NOT EXISTS {{ MATCH (x:Source {{status: 'active'}}) WHERE x.key IN coalesce({var}.supersededBy, []) }}"
    )


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
    that never reaches an out-of-scope Patient never shows them either. Needs ``scope_params``."""
    return f"(NOT {var}:Patient OR $allPatients OR {var}.id IN $patientIds)"


def in_scope(var: str) -> str:
    """``var`` is a Patient (bound by the caller's pattern) the scope allows; needs ``scope_params``."""
    return f"($allPatients OR {var}.id IN $patientIds)"


def scope_params(scope: PatientScope) -> dict[str, object]:
    """The parameters ``patient_shown`` and ``in_scope`` read."""
    return {"allPatients": scope is None, "patientIds": sorted(scope or ())}

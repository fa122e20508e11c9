"""What an answer may show, in which knowledge state: one Cypher rule, used by every query in kg/queries.

A *knowledge state* is a set of release keys (``$releases``; issue 8, docs/GRAPH_MODEL.md "Knowledge
states"). A node is *in the state* when a Source whose key is in ``$releases`` asserts it
(``ASSERTED_BY``). Evidence is *visible* when it is in the state, accepted (loaded evidence has no
status or CIViC's lowercase ``accepted``; curated evidence is SUBMITTED until a moderator accepts it,
kg/queries/curation.py) and not superseded in the state: none of ``coalesce(e.supersededBy, [])`` (the
keys of newer releases of its source whose coverage holds it, written by kg/loaders) is in ``$releases``.

The current state is the keys of ``Source {status: 'active'}`` (a release being loaded or retired shows
nothing, docs/ARCHITECTURE.md "Releases and provenance"). ``$releases = null`` stands for it, so the
current state costs no extra round trip: every query that uses these predicates passes
``state_params(state)``, None for the current state. ``knowledge_state(graph, as_of)`` turns an as-of
(a release key or a date) into the list of keys, once per request.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from kg.db import Graph

# --- knowledge states ----------------------------------------------------------------------------

#: Statuses of releases that answers may use: the current ones and those kept for as-of answers.
KEPT = ("active", "superseded")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEY = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class KnowledgeState:
    """The releases an answer reads (``releases``), what was asked (``as_of``: None for the current
    state, a release key or a date) and how answers name it (``label``)."""

    releases: tuple[str, ...]
    as_of: str | None
    label: str


class UnknownKnowledgeState(ValueError):
    """An as-of that names no kept release or date with releases; the API answers BAD_INPUT."""


@dataclass(frozen=True)
class _Release:
    key: str
    name: str
    status: str
    date: str  # releasedOn, or the date of loadedAt when the release has none
    seq: int
    covers_all: bool

    @property
    def order(self) -> tuple[str, int]:
        """Newer sorts higher: by release date, then by activation (``seq``)."""
        return (self.date, self.seq)


KEPT_RELEASES = """
MATCH (s:Source) WHERE s.status IN $kept
RETURN s.key AS key, s.name AS name, s.status AS status, s.releasedOn AS releasedOn,
       s.loadedAt AS loadedAt, s.seq AS seq, s.coverage AS coverage
"""


def _covers_all(coverage: Any) -> bool:
    """A missing coverage counts as 'all' (releases loaded before coverage was recorded)."""
    if coverage is None or coverage == "all":
        return True
    try:
        parsed = json.loads(coverage) if isinstance(coverage, str) else coverage
    except json.JSONDecodeError:
        return False
    return parsed == "all"


def _releases(graph: Graph) -> list[_Release]:
    rows = graph.read(KEPT_RELEASES, kept=list(KEPT))
    return [
        _Release(
            key=r["key"],
            name=r["name"] or r["key"].split("@", 1)[0],
            status=r["status"],
            date=str(r["releasedOn"] or "")[:10] or str(r["loadedAt"] or "")[:10],
            seq=int(r["seq"] or 0),
            covers_all=_covers_all(r["coverage"]),
        )
        for r in rows
    ]


def _as_of(releases: list[_Release], bound: tuple[str, int]) -> list[str]:
    """One source's releases as of ``bound``: those not newer, newest first, up to and including the
    first that covers everything (an older release shows only outside the newer ones' coverage)."""
    chosen = []
    for release in sorted((r for r in releases if r.order <= bound), key=lambda r: r.order, reverse=True):
        chosen.append(release.key)
        if release.covers_all:
            break
    return chosen


def knowledge_state(graph: Graph, as_of: str | None = None) -> KnowledgeState:
    """The knowledge state ``as_of`` names (issue 8's contract): None, the current state (active
    releases); a date ``YYYY-MM-DD``, per source its kept releases released on or before it (newest
    first, down to the first with coverage 'all'); a key ``name@version``, that source as of that
    release (its date, and releases of that date activated before it) and every other source current.
    Raises UnknownKnowledgeState for a malformed value, an unknown key or a date before every release."""
    releases = _releases(graph)
    if as_of is None:
        keys = tuple(sorted(r.key for r in releases if r.status == "active"))
        return KnowledgeState(keys, None, "current")
    text = as_of.strip()
    by_name: dict[str, list[_Release]] = defaultdict(list)
    for release in releases:
        by_name[release.name].append(release)
    if _DATE.match(text):
        try:
            date.fromisoformat(text)
        except ValueError as err:
            raise UnknownKnowledgeState(f"asOf: expected a date YYYY-MM-DD, found {as_of!r} ({err})") from err
        keys = tuple(sorted(k for group in by_name.values() for k in _as_of(group, (text, 2**62))))
        if not keys:
            oldest = min(releases, key=lambda r: r.order, default=None)
            since = f"; the oldest kept release is {oldest.key} of {oldest.date}" if oldest else ""
            raise UnknownKnowledgeState(f"asOf {text}: no kept release is that old{since}")
        return KnowledgeState(keys, text, f"as of {text}")
    if _KEY.match(text):
        asked = next((r for r in releases if r.key == text), None)
        if asked is None:
            kept = sorted(r.key for r in by_name.get(text.split("@", 1)[0], []))
            known = f"kept releases of {text.split('@', 1)[0]}: {', '.join(kept)}" if kept else "no such source"
            raise UnknownKnowledgeState(f"asOf: no kept release {text!r} ({known})")
        keys = tuple(
            sorted(
                k
                for name, group in by_name.items()
                for k in (
                    _as_of(group, asked.order) if name == asked.name else [r.key for r in group if r.status == "active"]
                )
            )
        )
        return KnowledgeState(keys, text, f"as of {text}")
    raise UnknownKnowledgeState(
        f"asOf: expected a release key name@version (clinvar@2024-06-01) or a date YYYY-MM-DD, found {as_of!r}"
    )


def state_params(state: KnowledgeState | None) -> dict[str, Any]:
    """The parameter the predicates below read: the state's keys, or null for the current state."""
    return {"releases": None if state is None else list(state.releases)}


def state_label(state: KnowledgeState | None) -> str:
    return "current" if state is None else state.label


# --- the predicates ------------------------------------------------------------------------------


def in_state(source: str) -> str:
    """The Source bound to ``source`` (code-chosen) belongs to the state ``$releases`` (never null: a
    CASE, since ``x IN null`` is null and would make ``NOT`` of it hide everything)."""
    return f"(CASE WHEN $releases IS NULL THEN {source}.status = 'active' ELSE {source}.key IN $releases END)"


def _key_in_state(key: str) -> str:
    return (
        f"(CASE WHEN $releases IS NULL "
        f"THEN EXISTS {{ MATCH (vis_n:Source {{key: {key}}}) WHERE vis_n.status = 'active' }} "
        f"ELSE {key} IN $releases END)"
    )


def active(var: str) -> str:
    """``var`` (a code-chosen variable, never user input) is asserted by a release of the state."""
    return f"EXISTS {{ ({var})-[:ASSERTED_BY]->(vis_s:Source) WHERE {in_state('vis_s')} }}"


def superseded(var: str) -> str:
    """A release of the state superseded ``var`` (its ``supersededBy`` names one)."""
    return f"ANY(vis_k IN coalesce({var}.supersededBy, []) WHERE {_key_in_state('vis_k')})"


def accepted(var: str) -> str:
    """Loaded evidence (no status, CIViC's ``accepted``) or curated evidence a moderator accepted."""
    return f"toUpper(coalesce({var}.status, 'ACCEPTED')) = 'ACCEPTED'"


def visible_evidence(var: str = "e") -> str:
    """The visible-evidence predicate for the Evidence variable ``var`` (code-chosen)."""
    return f"{accepted(var)} AND {active(var)} AND NOT {superseded(var)}"


#: Visible evidence bound to ``e``, as most answers write it.
VISIBLE_EVIDENCE = visible_evidence("e")


def state_groups(var: str, state: str = "releases") -> str:
    """Every property group of ``var`` (code-chosen) for reading it as of a state: its ASSERTED_BY edges'
    properties with the release's ``seq`` and whether the state holds it, for
    kg.loaders.property_groups ``values_as_of``; null in the current state, whose values the node holds. A node whose id
    stays the same across releases (a PharmGKB recommendation, a CIViC evidence item) then shows, as of an older
    release, that release's words, not the newest. ``state``: the parameter naming the state (re-interpretation
    compares ``$before`` and ``$after``)."""
    return (
        f"(CASE WHEN ${state} IS NULL THEN null ELSE [({var})-[vis_g:ASSERTED_BY]->(vis_gs:Source) | "
        f"{{seq: vis_gs.seq, inState: vis_gs.key IN ${state}, group: properties(vis_g)}}] END)"
    )


def asserting_keys(var: str) -> str:
    """The keys of the releases asserting ``var`` (code-chosen), gathered once for ``visible_in``."""
    return f"[({var})-[:ASSERTED_BY]->(vis_a:Source) | vis_a.key]"


def visible_in(var: str, keys: str, state: str) -> str:
    """``visible_evidence`` spelled for an explicit state, the list parameter ``$<state>`` (never null),
    with ``keys`` the ``asserting_keys`` of ``var`` already bound: the same three conditions (accepted,
    asserted by a release of the state, superseded by none of them), for a query that compares two
    states of many evidence and should walk each one's ``ASSERTED_BY`` once, not once per state
    (kg.queries.changes). tests/test_reinterpret.py checks both spellings agree on every Evidence."""
    return (
        f"({accepted(var)} AND ANY(vis_k IN {keys} WHERE vis_k IN ${state}) "
        f"AND NOT ANY(vis_k IN coalesce({var}.supersededBy, []) WHERE vis_k IN ${state}))"
    )


def release_date(source: str) -> str:
    """A Source's date for as-of answers: ``releasedOn``, else the date of ``loadedAt``."""
    return f"coalesce({source}.releasedOn, substring(toString({source}.loadedAt), 0, 10))"


def kept_before_state(source: str) -> str:
    """The Source bound to ``source`` is a kept release no newer than the state's release of the same
    source: where evidence the state no longer shows came from ("no current classification")."""
    return (
        f"({source}.status IN ['active', 'superseded'] AND (CASE WHEN $releases IS NULL THEN true "
        f"ELSE {source}.key IN $releases OR EXISTS {{ MATCH (vis_c:Source {{name: {source}.name}}) "
        f"WHERE vis_c.key IN $releases AND {release_date('vis_c')} >= {release_date(source)} }} END))"
    )


def active_sources(var: str, key: str = "id") -> str:
    """The releases of the state asserting ``var``, as answers cite them (``fact``: the node's ``key``)."""
    return (
        f"[({var})-[:ASSERTED_BY]->(vis_r:Source) WHERE {in_state('vis_r')} "
        f"| vis_r {{.key, .name, .version, .licence, fact: {var}.{key}}}]"
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

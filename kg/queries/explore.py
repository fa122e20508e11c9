"""Research traversal: a node's neighbourhood, and paths between two nodes.

Nodes are named by their key (kg/schema/model.py: Gene symbol, Source key, lookup-node name,
otherwise id); a label disambiguates when one key names nodes of several labels. Labels and
relationship types from users are checked against the model's allow-lists before they are
placed in a query; everything else is a parameter. Each call is one Cypher round trip, except
``paths(shortest: false)``: one for both ends' partial paths, one for the chosen paths' nodes and edges.
Every query runs under the traversal bound of kg.queries.bounds (Neo4j's transaction timeout, caps).

Evidence that answers may not show in the knowledge state asked (``state``, kg.queries.visibility:
not accepted, no release of the state, superseded in it; None: the current state) is not traversed,
and each answer lists the state's releases asserting its nodes; nor is a Patient outside the caller's
``patients`` scope (kg.queries.visibility: none unless given), so patient
edges and patient ids never appear to a caller who may not read that patient (issue 9).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kg.db import Graph
from kg.queries.answers import AS_OF, as_of, json_ready
from kg.queries.bounds import QueryTooBroad, bounded_read
from kg.queries.fields import INTERNAL, described
from kg.queries.visibility import (
    NO_PATIENTS,
    KnowledgeState,
    PatientScope,
    in_state,
    patient_shown,
    scope_params,
    state_params,
    visible_evidence,
)
from kg.schema.model import INDEX_RELATIONSHIP_TYPES, NODE_KEYS, RELATIONSHIP_TYPES

Row = dict[str, Any]

MAX_DEPTH = 3
MAX_LIMIT = 500
MAX_HOPS = 4
MAX_PATHS = 50

DIRECTIONS = {"OUTGOING": "(a)-[r{types}]->(b)", "INCOMING": "(a)<-[r{types}]-(b)", "BOTH": "(a)-[r{types}]-(b)"}
# Look-up nodes share their key with the entity they name (DrugName "imatinib" -> Drug "imatinib"):
# an entity wins over them.
LOOKUP_LABELS = ("GeneAlias", "DrugName", "DiseaseName", "DiseaseXref")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class TraversalError(ValueError):
    """Arguments the traversal refuses (unknown label or relationship type, too deep, too many)."""


class UnknownNode(LookupError):
    def __init__(self, key: str, label: str | None) -> None:
        what = f"{label} {key!r}" if label else f"{key!r}"
        super().__init__(f"no node {what} in the graph")


class AmbiguousNode(LookupError):
    def __init__(self, key: str, labels: list[str]) -> None:
        super().__init__(f"{key!r} names nodes of several labels ({', '.join(labels)}); give `label` to choose")


@dataclass(frozen=True)
class RelationshipType:
    """A relationship type the traversals accept (kg/schema/model.py's allow-list)."""

    name: str
    lookup: bool = field(
        metadata=described("A provenance or look-up edge (ASSERTED_BY, NAME_OF, ...): paths leave it out unless named.")
    )


def relationship_types() -> list[RelationshipType]:
    """Every type a traversal may name, in the model's order (the explorer's type filter)."""
    return [RelationshipType(t, t in INDEX_RELATIONSHIP_TYPES) for t in RELATIONSHIP_TYPES]


def check_label(label: str | None) -> str | None:
    if label is None:
        return None
    if label not in NODE_KEYS or not _IDENTIFIER.match(label):
        raise TraversalError(f"unknown label {label!r}; known: {', '.join(sorted(NODE_KEYS))}")
    return label


def check_types(types: Sequence[str] | None) -> list[str] | None:
    """The relationship types, each on the allow-list (None: every type)."""
    if types is None:
        return None
    unknown = [t for t in types if t not in RELATIONSHIP_TYPES or not _IDENTIFIER.match(t)]
    if unknown:
        raise TraversalError(
            f"unknown relationship type(s) {', '.join(map(repr, unknown))}; known: {', '.join(RELATIONSHIP_TYPES)}"
        )
    if not types:
        raise TraversalError("relationshipTypes must name at least one type (omit it for every type)")
    return list(dict.fromkeys(types))


def _bounded(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise TraversalError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _type_pattern(types: list[str] | None) -> str:
    return "" if types is None else ":" + "|".join(types)  # each checked against RELATIONSHIP_TYPES


def _find(param: str, label: str | None, var: str) -> str:
    """``CALL () { ... }`` binding ``<var>_found`` to the nodes keyed ``$param`` (one index seek per
    label; always one row, so it composes with what came before)."""
    labels = [label] if label else list(NODE_KEYS)
    heads = "\n  UNION\n".join(
        f"  MATCH (n:{lb} {{{NODE_KEYS[lb]}: ${param}}}) WHERE {patient_shown('n')} RETURN n" for lb in labels
    )
    lookup = " OR ".join(f"x:{lb}" for lb in LOOKUP_LABELS)
    return (
        f"CALL () {{\n  CALL () {{\n{heads}\n  }}\n  WITH collect(DISTINCT n) AS candidates\n"
        f"  RETURN CASE WHEN any(x IN candidates WHERE NOT ({lookup})) "
        f"THEN [x IN candidates WHERE NOT ({lookup})] ELSE candidates END AS {var}_found\n}}\n"
    )


def call_store_hidden(var: str) -> str:
    """A patient's call store (ObservedAllele, NoCallSet; kg/matcher/calls.py) is never traversed: an
    ObservedAllele says some patient carries an allele no knowledge names, so it is patient data
    even beside an in-scope Patient (whose own answers read it through kg.queries.patients)."""
    return f"NOT ({var}:ObservedAllele OR {var}:NoCallSet)"


def _shown(var: str) -> str:
    """Evidence an answer may show and Patients in scope (kg.queries.visibility); other nodes are always traversed."""
    return f"(NOT {var}:Evidence OR ({visible_evidence(var)})) AND {patient_shown(var)} AND {call_store_hidden(var)}"


# Keys and display names are worked out in Python (``_node``): projecting properties inside a list
# comprehension here trips a Neo4j 5.26 planner error ("Property cannot be cast to ASTCachedProperty").
def node_map(var: str) -> str:
    return f"{{eid: elementId({var}), labels: labels({var}), properties: properties({var})}}"


def node_releases(var: str) -> str:
    """The node's map with the keys of the state's releases asserting it (paths list their releases)."""
    return (
        f"{{eid: elementId({var}), labels: labels({var}), properties: properties({var}), "
        f"releases: [({var})-[:ASSERTED_BY]->(rel_s:Source) WHERE {in_state('rel_s')} | rel_s.key]}}"
    )


def edge_map(var: str) -> str:
    return (
        f"{{eid: elementId({var}), type: type({var}), start: elementId(startNode({var})), end: elementId(endNode({var})), "
        f"properties: properties({var})}}"
    )


def primary_label(labels: Sequence[str]) -> str:
    """The label that names the node's kind (Evidence for Evidence:Assertion)."""
    known = [lb for lb in labels if lb in NODE_KEYS and lb != "Assertion"]
    return known[0] if known else (labels[0] if labels else "")


@dataclass(frozen=True)
class Node:
    """A node: its key (Gene symbol, Source key, otherwise id), kind and properties."""

    id: str  # the label's key property (kg/schema/model.py NODE_KEYS)
    label: str
    labels: list[str]
    name: str
    properties: dict[str, Any]  # JSON-ready: temporal values as ISO text
    eid: str = field(metadata=INTERNAL)


@dataclass(frozen=True)
class Edge:
    """A relationship start -[type]-> end, its ends named by key and label."""

    type: str
    start: str
    start_label: str
    end: str
    end_label: str
    properties: dict[str, Any]


NODE_RELEASES = described("Keys of the releases (of the knowledge state) asserting the nodes shown.")


@dataclass(frozen=True)
class Subgraph:
    """A node's neighbourhood, breadth first; truncated when the node limit stopped it."""

    root: Node
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool
    releases: list[str] = field(default_factory=list, metadata=NODE_RELEASES)
    as_of: str | None = field(default=None, metadata=AS_OF)


def _level(direction: str, types: list[str] | None) -> str:
    step = DIRECTIONS[direction].format(types=_type_pattern(types))
    return f"""
CALL (seen, frontier) {{
  UNWIND frontier AS a
  MATCH {step}
  WHERE {_shown("b")}
  WITH r, b LIMIT $limit
  RETURN collect(r) AS newRels, collect(DISTINCT b) AS reached
}}
WITH seen, rels + newRels AS rels, newRels, [b IN reached WHERE NOT b IN seen] AS fresh, truncated
WITH seen + fresh[..($limit + 1 - size(seen))] AS seen,
     [b IN fresh[..($limit + 1 - size(seen))] WHERE NOT b:Source] AS frontier,
     rels, truncated OR size(fresh) > $limit + 1 - size(seen) OR size(newRels) >= $limit AS truncated
"""


def neighborhood_query(label: str | None, types: list[str] | None, direction: str, depth: int) -> str:
    levels = "".join(_level(direction, types) for _ in range(depth))
    return f"""{_find("key", label, "root")}
OPTIONAL CALL (root_found) {{
  WITH root_found WHERE size(root_found) = 1
  WITH [root_found[0]] AS seen, [root_found[0]] AS frontier, [] AS rels, false AS truncated
  {levels}
  CALL (rels, seen) {{
    UNWIND rels AS r
    WITH DISTINCT r WHERE startNode(r) IN seen AND endNode(r) IN seen
    RETURN collect({edge_map("r")}) AS edges
  }}
  RETURN [n IN seen | {node_map("n")}] AS nodes, edges, truncated,
         COLLECT {{ UNWIND seen AS n MATCH (n)-[:ASSERTED_BY]->(s:Source) WHERE {in_state("s")}
                    RETURN DISTINCT s.key ORDER BY s.key }} AS releases
}}
RETURN [n IN root_found | labels(n)] AS found, nodes, edges, truncated, releases
"""


def neighborhood(
    graph: Graph,
    key: str,
    *,
    label: str | None = None,
    relationship_types: Sequence[str] | None = None,
    direction: str = "BOTH",
    depth: int = 1,
    limit: int = 50,
    patients: PatientScope = NO_PATIENTS,
    state: KnowledgeState | None = None,
) -> Subgraph:
    """The node keyed ``key`` and what lies within ``depth`` relationships, breadth first, at most
    ``limit`` nodes besides it. Only edges between returned nodes are returned. A Source (release)
    is reached but not expanded unless it is the start: every fact of a release hangs off it.
    Patients outside ``patients`` (None: every patient) are neither a start nor reached. Evidence is that of
    ``state`` (kg.queries.visibility; None: the current knowledge)."""
    label = check_label(label)
    types = check_types(relationship_types)
    _bounded("depth", depth, 1, MAX_DEPTH)
    _bounded("limit", limit, 1, MAX_LIMIT)
    if direction not in DIRECTIONS:
        raise TraversalError(f"direction must be one of {', '.join(DIRECTIONS)}")
    row = bounded_read(
        graph,
        neighborhood_query(label, types, direction, depth),
        what=f"the neighbourhood of {key!r}",
        hint="name relationshipTypes, a direction, a label, or a lower depth or limit",
        key=key,
        limit=limit,
        **scope_params(patients),
        **state_params(state),
    )[0]
    _check_found(key, label, row["found"])
    nodes = [_node(n) for n in row["nodes"]]
    return Subgraph(
        root=nodes[0],
        nodes=nodes,
        edges=_edges(row["edges"], nodes),
        truncated=row["truncated"],
        releases=row["releases"] or [],
        as_of=as_of(state),
    )


def _check_found(key: str, label: str | None, found: list[list[str]]) -> None:
    if not found:
        raise UnknownNode(key, label)
    if len(found) > 1:
        raise AmbiguousNode(key, sorted({primary_label(lbs) for lbs in found}))


def _node(n: Row) -> Node:
    """Key (the label's key property), primary label and a display name for one node map."""
    label = primary_label(n["labels"])
    props = n["properties"]
    key = props.get(NODE_KEYS.get(label, "id"))
    if key is None:
        key = next((props[k] for k in ("id", "symbol", "key", "name") if props.get(k) is not None), n["eid"])
    name = next((props[k] for k in ("name", "symbol", "key", "id") if props.get(k) is not None), key)
    return Node(
        id=str(key), label=label, labels=list(n["labels"]), name=str(name), properties=json_ready(props), eid=n["eid"]
    )


def _edges(edges: list[Row], nodes: list[Node]) -> list[Edge]:
    """Edges with their ends named by key and label instead of element ids."""
    by_eid = {n.eid: n for n in nodes}
    out = []
    for e in edges:
        start, end = by_eid.get(e["start"]), by_eid.get(e["end"])
        if start is None or end is None:
            continue
        out.append(
            Edge(
                type=e["type"],
                start=start.id,
                start_label=start.label,
                end=end.id,
                end_label=end.label,
                properties=json_ready(e["properties"]),
            )
        )
    return out


# --- paths -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    length: int  # relationships
    nodes: list[Node]
    edges: list[Edge]
    releases: list[str] = field(default_factory=list, metadata=NODE_RELEASES)
    as_of: str | None = field(default=None, metadata=AS_OF)


_PATH_SHOWN = "all(x IN nodes(p) WHERE " + _shown("x") + ")"


def shortest_paths_query(from_label: str | None, to_label: str | None, types: list[str], max_hops: int) -> str:
    """Every shortest path (Neo4j's bidirectional breadth-first search), visible nodes only."""
    return f"""{_find("from", from_label, "a")}
{_find("to", to_label, "b")}
OPTIONAL CALL (a_found, b_found) {{
  WITH a_found, b_found WHERE size(a_found) = 1 AND size(b_found) = 1 AND a_found[0] <> b_found[0]
  WITH a_found[0] AS a, b_found[0] AS b
  MATCH p = allShortestPaths((a)-[{_type_pattern(types)}*1..{max_hops}]-(b))
  WHERE {_PATH_SHOWN}
  WITH p LIMIT $limit
  RETURN collect({{nodes: [n IN nodes(p) | {node_releases("n")}], edges: [r IN relationships(p) | {edge_map("r")}]}}) AS paths
}}
RETURN [n IN a_found | labels(n)] AS fromFound, [n IN b_found | labels(n)] AS toFound, coalesce(paths, []) AS paths
"""


def _half(start: str, other: str, types: list[str], hops: int) -> str:
    """Partial paths of 1..``hops`` relationships from ``start``, at most ``$cap + 1`` of them, as element
    ids. Each step enters a visible node that is no hub (at most ``$hub`` relationships) unless it is
    the other end, and never leaves the other end: the expansion is pruned as it goes (a quantified
    path pattern's inline predicate), so a hub costs one degree look-up, not its neighbourhood."""
    return f"""
CALL ({start}, {other}) {{
  MATCH h = ({start}) ((x)-[{_type_pattern(types)}]-(y)
    WHERE x <> {other} AND (y = {other} OR COUNT {{ (y)--() }} <= $hub) AND {_shown("y")}){{1,{hops}}} (m)
  WITH h LIMIT $cap + 1
  RETURN collect([[n IN nodes(h) | elementId(n)], [r IN relationships(h) | elementId(r)]]) AS {start}_halves
}}"""


def paths_query(from_label: str | None, to_label: str | None, types: list[str], max_hops: int) -> str:
    """Both ends found (and shown in the state, as every node of a path), then partial paths from each
    end (``ceil(maxHops/2)`` hops from ``from``, the rest from ``to``), joined on their meeting node in
    Python (:func:`_join`)."""
    left = _half("a", "b", types, (max_hops + 1) // 2)
    right = _half("b", "a", types, max_hops // 2) if max_hops > 1 else "\nWITH a, b, a_halves, [] AS b_halves"
    return f"""{_find("from", from_label, "a")}
{_find("to", to_label, "b")}
OPTIONAL CALL (a_found, b_found) {{
  WITH a_found, b_found WHERE size(a_found) = 1 AND size(b_found) = 1 AND a_found[0] <> b_found[0]
  WITH a_found[0] AS a, b_found[0] AS b
  WHERE {_shown("a")} AND {_shown("b")}
  {left}
  {right}
  RETURN elementId(a) AS a, elementId(b) AS b, a_halves, b_halves
}}
RETURN [n IN a_found | labels(n)] AS fromFound, [n IN b_found | labels(n)] AS toFound, a, b, a_halves, b_halves
"""


PATH_PARTS = (
    """
CALL () {
  MATCH (n) WHERE elementId(n) IN $nodes
  RETURN collect("""
    + node_releases("n")
    + """) AS nodes
}
CALL () {
  MATCH ()-[r]->() WHERE elementId(r) IN $rels
  RETURN collect("""
    + edge_map("r")
    + """) AS rels
}
RETURN nodes, rels
"""
)

Half = tuple[list[str], list[str]]  # node and relationship element ids


def _join(b: str, lefts: list[Half], rights: list[Half], left_hops: int) -> list[Half]:
    """Simple paths a..b: a left half ending at ``b``, or a full left half (``left_hops``) met by a
    right half at its last node. Every path splits one way only, so none comes twice."""
    by_meet: dict[str, list[Half]] = {}
    for nodes, rels in rights:
        by_meet.setdefault(nodes[-1], []).append((nodes, rels))
    out: list[Half] = []
    for nodes, rels in lefts:
        if nodes[-1] == b:
            joined = [(nodes, rels)]
        elif len(rels) == left_hops:
            joined = [(nodes + rn[::-1][1:], rels + rr[::-1]) for rn, rr in by_meet.get(nodes[-1], [])]
        else:
            continue
        out += [(n, r) for n, r in joined if len(set(n)) == len(n)]
    return out


def find_paths(
    graph: Graph,
    start: str,
    end: str,
    *,
    from_label: str | None = None,
    to_label: str | None = None,
    relationship_types: Sequence[str] | None = None,
    max_hops: int = 3,
    limit: int = 10,
    shortest: bool = True,
    patients: PatientScope = NO_PATIENTS,
    state: KnowledgeState | None = None,
) -> list[Path]:
    """Shortest paths (or, ``shortest=False``, every simple path) of at most ``max_hops`` between two
    nodes, shortest first. Provenance and look-up edges are left out unless named in ``relationship_types``;
    no path passes through a Patient outside ``patients`` (None: every patient), nor through evidence
    ``state`` does not show (kg.queries.visibility; None: the current knowledge). Each path lists the
    releases of the state asserting its nodes.

    Bounded (kg.queries.bounds): Neo4j's transaction timeout, and for every simple path an expansion
    from both ends that passes no hub (``Settings.hub_degree``) and keeps at most
    ``Settings.max_expanded_paths`` partial paths per end; past either, :class:`QueryTooBroad`."""
    from_label, to_label = check_label(from_label), check_label(to_label)
    types = check_types(relationship_types)
    if types is None:
        types = [t for t in RELATIONSHIP_TYPES if t not in INDEX_RELATIONSHIP_TYPES]
    _bounded("maxHops", max_hops, 1, MAX_HOPS)
    _bounded("limit", limit, 1, MAX_PATHS)
    params = {"from": start, "to": end, "limit": limit, **scope_params(patients), **state_params(state)}
    what = f"paths from {start!r} to {end!r}"
    hint = "name relationshipTypes, lower maxHops, give fromLabel/toLabel, or ask for shortest: true"
    if shortest:
        row = bounded_read(
            graph, shortest_paths_query(from_label, to_label, types, max_hops), what=what, hint=hint, **params
        )[0]
        _check_found(start, from_label, row["fromFound"])
        _check_found(end, to_label, row["toFound"])
        return [_path(p["nodes"], p["edges"], state) for p in row["paths"]]
    settings = graph.settings
    cap = settings.max_expanded_paths
    row = bounded_read(
        graph,
        paths_query(from_label, to_label, types, max_hops),
        what=what,
        hint=hint,
        **params,
        hub=settings.hub_degree,
        cap=cap,
    )[0]
    _check_found(start, from_label, row["fromFound"])
    _check_found(end, to_label, row["toFound"])
    if row["a"] is None:  # the same node at both ends, or an end the state does not show
        return []
    lefts, rights = row["a_halves"], row["b_halves"]
    if len(lefts) > cap or len(rights) > cap:
        raise QueryTooBroad(what, f"more than {cap} partial paths from one end; {hint}")
    found = sorted(_join(row["b"], lefts, rights, (max_hops + 1) // 2), key=lambda p: (len(p[1]), p[1]))[:limit]
    if not found:
        return []
    parts = graph.read(
        PATH_PARTS,
        nodes=sorted({n for nodes, _ in found for n in nodes}),
        rels=sorted({r for _, rels in found for r in rels}),
        timeout_=settings.traversal_timeout,
        **state_params(state),
    )[0]
    nodes_by_eid = {n["eid"]: n for n in parts["nodes"]}
    rels_by_eid = {r["eid"]: r for r in parts["rels"]}
    return [_path([nodes_by_eid[n] for n in nodes], [rels_by_eid[r] for r in rels], state) for nodes, rels in found]


def _path(node_maps: list[Row], edge_maps: list[Row], state: KnowledgeState | None) -> Path:
    nodes = [_node(n) for n in node_maps]
    path_edges = _edges(edge_maps, nodes)
    releases = sorted({k for n in node_maps for k in n.get("releases") or ()})
    return Path(length=len(path_edges), nodes=nodes, edges=path_edges, releases=releases, as_of=as_of(state))

"""Property groups: which releases assert each property a loader sets on a node (issue 8: "every node,
property group and fact edge records which releases assert it").

A node's release set is its ASSERTED_BY edges (kg/loaders/release.py). What one release says about the
node -- its *property group* -- is kept on that release's edge ``a``: every value under the property's
own name (``a.rsid``), and the names in one of three lists, by how the sources' values combine:

- ``a.props`` -- **newest wins** (HGNC's gene name, ClinVar's rsid, CIViC's variant fields): the node
  holds the value of the most recently loaded release (``Source.seq``; the release being loaded is the
  newest) that asserts the name;
- ``a.firstProps`` -- **first wins**, a fallback (the name CIViC gives a disease DOID also names, a drug
  name a PGx source gives): the earliest-loaded asserting release's value, used only when no release
  asserts the name in ``props``;
- ``a.unionProps`` -- **lists united** (hgvs, drug synonyms, ATC codes): every asserting release's list
  united in load order, used only when no release asserts the name in the other two lists.

A release asserts a name only with a value (null leaves the node's value to the other releases); within
one release the last value written wins (a CIViC allele written twice unites its lists itself).
Identity properties (keys and what they spell: Variant chrom/pos/ref/alt) are nobody's assertion.

Loaders write a node's group with :func:`asserts` (which also MERGEs the ASSERTED_BY edge), so the value
a load leaves on the node is the one the rule derives. Retiring or discarding a release runs
:data:`REDERIVE` before its ASSERTED_BY edges go: each name its edges carry is derived again from the
node's remaining edges, or removed when none carries it -- "as if the retired release had never been
loaded", walked from the Source, never a scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: The three lists of an ASSERTED_BY edge, in the order their values take precedence.
MODES = ("props", "firstProps", "unionProps")

#: Variant properties that spell its key (kg.identity.variants.variant_id): nobody's assertion.
VARIANT_IDENTITY = ("id", "chrom", "pos", "ref", "alt", "assembly", "kind")


def edge(node: str) -> str:
    """The Cypher variable :func:`asserts` gives the ASSERTED_BY edge of ``node`` (for expressions that
    read the release's earlier value, e.g. to unite a list written twice by one release)."""
    return f"{node}_by"


def asserts(
    node: str,
    *,
    latest: Mapping[str, str] | None = None,
    first: Mapping[str, str] | None = None,
    union: Mapping[str, str] | None = None,
    group: str | None = None,
    identity: Sequence[str] = ("id",),
    source: str = "src",
) -> str:
    """Cypher that MERGEs ``(node)-[:ASSERTED_BY]->(source)`` and writes the release's property group.

    ``latest`` / ``first`` / ``union`` map property names to Cypher expressions of the row (one name may
    appear in two modes when the row decides: the non-null one counts); ``group`` is a map expression
    (``row.props``) whose non-null entries are asserted newest-wins, except ``identity`` names, which are
    written to the node but asserted by nobody (kept when the release retires). The edge keeps
    each value (a null keeps this release's earlier one) and the names by mode; the node then takes
    the value the module's rule gives while this release is the newest loaded.
    """
    by = edge(node)
    # a fallback never replaces what this release asserts newest-wins (a name two statements write)
    fallback = {
        n: f"CASE WHEN '{n}' IN coalesce({by}.props, []) THEN null ELSE {e} END" for n, e in (first or {}).items()
    }
    modes = {"props": dict(latest or {}), "firstProps": fallback, "unionProps": dict(union or {})}
    names = list(dict.fromkeys(n for exprs in modes.values() for n in exprs))
    lines = [f"MERGE ({node})-[{by}:ASSERTED_BY]->({source})"]
    items: list[str] = []
    for name in names:
        values = [modes[m][name] for m in MODES if name in modes[m]]
        items.append(f"{by}.`{name}` = coalesce({', '.join(values)}, {by}.`{name}`)")
    for mode, exprs in modes.items():
        if not exprs and not (group and mode == "props"):
            continue
        said = [f"CASE WHEN {e} IS NOT NULL THEN '{n}' END" for n, e in exprs.items()]
        listed = f"[x IN [{', '.join(said)}] WHERE x IS NOT NULL]" if said else "[]"
        if group and mode == "props":
            listed += f" + [k IN keys({group}) WHERE {group}[k] IS NOT NULL AND NOT k IN {list(identity)!r}]"
        items.append(
            f"{by}.{mode} = coalesce({by}.{mode}, []) + [x IN {listed} WHERE NOT x IN coalesce({by}.{mode}, [])]"
        )
    if items:
        lines.append("SET " + ",\n    ".join(items))
    if group:
        lines.append(
            f"FOREACH (k IN [k IN keys({group}) WHERE {group}[k] IS NOT NULL] |\n"
            f"  SET {node}[k] = {group}[k])\n"
            f"FOREACH (k IN [k IN keys({group}) WHERE {group}[k] IS NOT NULL AND NOT k IN {list(identity)!r}] |\n"
            f"  SET {by}[k] = {group}[k])"
        )
    node_items = []
    for name in names:
        cases = []
        if name in modes["props"]:
            cases.append(f"WHEN '{name}' IN {by}.props THEN {by}.`{name}`")
        if name in modes["firstProps"]:
            cases.append(f"WHEN '{name}' IN {by}.firstProps THEN coalesce({node}.`{name}`, {by}.`{name}`)")
        if name in modes["unionProps"]:
            cases.append(
                f"WHEN '{name}' IN {by}.unionProps THEN coalesce({node}.`{name}`, []) + "
                f"[x IN {by}.`{name}` WHERE NOT x IN coalesce({node}.`{name}`, [])]"
            )
        node_items.append(f"{node}.`{name}` = CASE {' '.join(cases)} ELSE {node}.`{name}` END")
    if node_items:
        lines.append("SET " + ",\n    ".join(node_items))
    return "\n".join(lines) + "\n"


def derive(groups: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The properties ``groups`` (ASSERTED_BY edges' properties, in load order: oldest first) give a node by
    the module's rule -- newest ``props``, else earliest ``firstProps``, else the ``unionProps`` lists united in
    load order -- the rule :data:`REDERIVE` applies in Cypher, here for a node read as of a knowledge state."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(n for g in groups for mode in MODES for n in g.get(mode) or ()):
        newest = [g.get(name) for g in groups if name in (g.get("props") or ())]
        earliest = [g.get(name) for g in groups if name in (g.get("firstProps") or ())]
        if newest:
            out[name] = newest[-1]
        elif earliest:
            out[name] = earliest[0]
        else:
            united: list[Any] = []
            for values in (g.get(name) or [] for g in groups if name in (g.get("unionProps") or ())):
                united += [x for x in values if x not in united]
            out[name] = united
    return out


def values_as_of(node: Mapping[str, Any], groups: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    """``node``'s properties in a knowledge state: ``groups`` are every ASSERTED_BY edge of the node as
    kg.queries.visibility ``state_groups`` gives them (``{seq, inState, group}``; None in the current state,
    whose values the node holds). A name some release asserts is derived from the state's releases alone, or
    left out when none of them asserts it; names nobody asserts (keys, identity) stay as the node has them."""
    if groups is None:
        return dict(node)
    held = sorted((g for g in groups if g["inState"]), key=lambda g: (g["seq"] is None, g["seq"] or 0))
    asserted = {n for g in groups for mode in MODES for n in g["group"].get(mode) or ()}
    out = {k: v for k, v in node.items() if k not in asserted}
    out.update(derive([g["group"] for g in held]))
    return out


# For each node release $key asserted with a property group: every name of the group derived again
# from the node's other ASSERTED_BY edges (newest `props`, else earliest `firstProps`, else the union
# of `unionProps` in load order), or removed. A release being loaded has no seq yet: the newest.
REDERIVE = """
MATCH (:Source {key: $key})<-[a:ASSERTED_BY]-(n)
WHERE a.props IS NOT NULL OR a.firstProps IS NOT NULL OR a.unionProps IS NOT NULL
CALL (a, n) {
  UNWIND coalesce(a.props, []) + coalesce(a.firstProps, []) + coalesce(a.unionProps, []) AS p
  CALL (n, p) {
    OPTIONAL MATCH (n)-[o:ASSERTED_BY]->(s:Source)
    WHERE s.key <> $key AND (p IN coalesce(o.props, []) OR p IN coalesce(o.firstProps, [])
                             OR p IN coalesce(o.unionProps, []))
    WITH o, s ORDER BY coalesce(s.seq, 9223372036854775807)
    WITH collect(CASE WHEN p IN coalesce(o.props, []) THEN o[p] END) AS newest,
         collect(CASE WHEN p IN coalesce(o.firstProps, []) THEN o[p] END) AS earliest,
         collect(CASE WHEN p IN coalesce(o.unionProps, []) THEN o[p] END) AS lists
    RETURN CASE WHEN size(newest) > 0 THEN newest[-1]
                WHEN size(earliest) > 0 THEN earliest[0]
                WHEN size(lists) > 0 THEN reduce(acc = [], l IN lists | acc + [x IN l WHERE NOT x IN acc])
           END AS value
  }
  SET n[p] = value
} IN TRANSACTIONS OF 5000 ROWS
"""

"""Diseases a source gives only by name: linked through the disease resolver, or left visible.

CIViC rows without a DOID (``Glioma``, ``Solid Tumor``) and PharmGKB phenotype names name a disease
in words only. Loaders resolve each name with :func:`kg.queries.resolve.link_disease_names` (the
resolver's name look-up, conservative: one live DOID term by name or EXACT synonym, else
unresolved) and write:

* ``(Evidence)-[:FOR_DISEASE {linkedBy: 'name', name}]->(Disease)`` for a resolved name (``name``:
  the source's words), with the Evidence's own ``release``;
* ``Evidence.diseaseNames``: every name the source gave without an id (what re-linking reads), and
  ``Evidence.unresolvedDiseases``: those no single live term names (``kg stats`` counts them).

Names are resolved against the DOID release active when the source loads. ``kg load all`` loads
DOID first; when a DOID release loads later (or again), :func:`relink` resolves every recorded
name again (``kg.loaders.doid.load`` runs it; ``kg link-diseases`` runs it by hand), so the links
follow the active ontology in either load order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kg.db import Graph
from kg.loaders.property_groups import asserts
from kg.loaders.statements import stamped
from kg.queries.resolve import NameLink, link_disease_names

Row = dict[str, Any]

#: CIViC's own node for a disease it names without a DOID (docs/GRAPH_MODEL.md, CIViC)
CIVIC_PLACEHOLDER = "civic:disease:"


def civic_placeholder(name: str) -> str:
    """The ``Disease {id}`` CIViC's loader gives a name it could not link: ``civic:disease:glioma``."""
    return CIVIC_PLACEHOLDER + name.lower()


class NameResolver:
    """Resolves the names of a stream of rows in chunks (one query per chunk of new names) and
    counts what it linked and left unresolved (``tally``, for the load report)."""

    def __init__(self, graph: Graph, tally: Counter[str] | None = None) -> None:
        self.graph = graph
        self.tally: Counter[str] = tally if tally is not None else Counter()
        self.links: dict[str, NameLink] = {}

    def resolve(self, names: Iterable[str]) -> None:
        new = sorted({n for n in names if n and n not in self.links})
        if new:
            self.links.update(link_disease_names(self.graph, new))

    def link(self, name: str) -> NameLink:
        if name not in self.links:
            self.resolve([name])
        found = self.links[name]
        self.tally[
            "disease names linked by name" if found.disease else f"disease names unresolved ({found.reason})"
        ] += 1
        return found

    def annotate(self, rows: Iterable[Row], chunk: int = 2000) -> Iterator[Row]:
        """Rows with ``diseaseNames`` (names given without an id) get ``diseaseLinks`` (``[{id, name}]``)
        and ``props.diseaseNames`` / ``props.unresolvedDiseases``."""
        buffer: list[Row] = []
        for row in rows:
            buffer.append(row)
            if len(buffer) >= chunk:
                yield from self._annotated(buffer)
                buffer = []
        yield from self._annotated(buffer)

    def _annotated(self, rows: list[Row]) -> Iterator[Row]:
        self.resolve(n for row in rows for n in row.get("diseaseNames") or ())
        for row in rows:
            names = list(dict.fromkeys(row.pop("diseaseNames", None) or ()))
            found = [self.link(n) for n in names]
            row["diseaseLinks"] = [{"id": f.disease, "name": f.name} for f in found if f.disease]
            props = row.setdefault("props", {})
            props["diseaseNames"] = names or None
            props["unresolvedDiseases"] = [f.name for f in found if not f.disease] or None
            yield row


# Appended to an Evidence statement that has ``e`` and ``row`` in scope (PharmGKB).
FOR_DISEASE_BY_NAME = stamped("""
CALL (e, row) {
  UNWIND row.diseaseLinks AS link
  MATCH (d:Disease {id: link.id})
  MERGE (e)-[r:FOR_DISEASE]->(d)
  SET RELEASES(r), r.linkedBy = 'name', r.name = link.name
}
""")

# --- re-linking after an ontology load -------------------------------------------------------

NAMED = """
MATCH (e:Evidence)-[:ASSERTED_BY]->(s:Source)
WHERE e.diseaseNames IS NOT NULL AND s.status = 'active' AND s.name <> 'curated'
RETURN e.id AS id, e.source AS source, e.diseaseNames AS names, s.key AS release
"""

# The by-name links of each Evidence replaced by what the names resolve to now; a CIViC name that
# does not resolve links CIViC's placeholder node again (kept as the CIViC loader writes it).
RELINK = stamped(
    """
UNWIND $rows AS row
MATCH (e:Evidence {id: row.id})
CALL (e, row) {
  OPTIONAL MATCH (e)-[old:FOR_DISEASE]->(x:Disease)
  WHERE old.linkedBy = 'name' OR (x.civicOnly AND x.id IN row.placeholderIds)
  DELETE old
}
SET e.unresolvedDiseases = row.unresolved
WITH e, row
CALL (e, row) {
  UNWIND row.links AS link
  MATCH (d:Disease {id: link.id})
  MERGE (e)-[r:FOR_DISEASE]->(d)
  SET RELEASES(r, row.release), r.linkedBy = 'name', r.name = link.name
}
CALL (e, row) {
  UNWIND row.placeholders AS p
  MATCH (src:Source {key: row.release})
  MERGE (d:Disease {id: p.id})
"""
    + asserts("d", latest={"name": "p.name", "civicOnly": "true"})
    + """  MERGE (e)-[r:FOR_DISEASE]->(d)
  SET RELEASES(r, row.release)
}
"""
)


@dataclass
class RelinkReport:
    """What :func:`relink` found: evidence items with names, links made, names left unresolved."""

    evidence: int = 0
    linked: Counter[str] = field(default_factory=Counter)  # source -> evidence items linked by name
    unresolved: Counter[str] = field(default_factory=Counter)  # name -> evidence items

    def summary(self) -> str:
        linked = ", ".join(f"{s} {n:,}" for s, n in sorted(self.linked.items())) or "none"
        return (
            f"disease names re-linked: {self.evidence:,} evidence items name a disease without an id; "
            f"linked by name: {linked}; {sum(self.unresolved.values()):,} names unresolved "
            f"({len(self.unresolved):,} distinct)"
        )


def relink(graph: Graph, batch: int = 1000) -> RelinkReport:
    """Resolve every name recorded on active Evidence again (after a DOID load)."""
    rows = graph.read(NAMED)
    resolver = NameResolver(graph)
    resolver.resolve(n for r in rows for n in r["names"] or ())
    report = RelinkReport(evidence=len(rows))
    out: list[Row] = []
    for r in rows:
        found = [resolver.links[n] for n in r["names"] if n in resolver.links]
        unresolved = [f.name for f in found if not f.disease]
        civic = r["source"] == "civic"
        out.append(
            {
                "id": r["id"],
                "release": r["release"],
                "links": [{"id": f.disease, "name": f.name} for f in found if f.disease],
                "unresolved": unresolved or None,
                "placeholderIds": [civic_placeholder(n) for n in r["names"]] if civic else [],
                "placeholders": [{"id": civic_placeholder(n), "name": n} for n in unresolved] if civic else [],
            }
        )
        if any(f.disease for f in found):
            report.linked[r["source"] or "?"] += 1
        report.unresolved.update(unresolved)
    for start in range(0, len(out), batch):
        graph.write(RELINK, rows=out[start : start + batch])
    return report

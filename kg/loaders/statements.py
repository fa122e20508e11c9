"""The write Cypher shared by several loaders (a source loader and the seed loader; FDA and PharmGKB),
and the one rule that stamps a fact edge with its release.

Each statement takes ``$rows`` and ``$source`` (the release key) and follows the convention of
kg/loaders/release.py: nodes link to their release with ASSERTED_BY, fact edges carry the list
``releases`` of the release keys that assert them. Loaders write ``SET RELEASES(r)`` (or
``RELEASES(r, row.release)`` for a key taken from the row) in their Cypher and pass it through
:func:`stamped`, which expands the marker with :func:`stamp`. Names and synonyms are also written as
lowercased lookup nodes (GeneAlias, DiseaseName, DrugName) so that resolving a user's word is an index
seek, not a scan. The properties a release sets on a node are its property group, written with
``kg.loaders.property_groups.asserts`` (which MERGEs the ASSERTED_BY edge that carries them).
"""

from __future__ import annotations

import re

from kg.loaders.property_groups import asserts

_MARKER = re.compile(r"RELEASES\((\w+)(?:,\s*([\w.$]+))?\)")


def stamp(var: str, key: str = "$source") -> str:
    """The SET item adding release ``key`` (a Cypher expression) to the release set of edge ``var``,
    once: an edge MERGEd by several releases lists each of them (kg/loaders/release.py)."""
    return (
        f"{var}.releases = CASE WHEN {key} IN coalesce({var}.releases, []) THEN {var}.releases "
        f"ELSE coalesce({var}.releases, []) + {key} END"
    )


def stamped(cypher: str) -> str:
    """``cypher`` with each ``RELEASES(var)`` / ``RELEASES(var, key)`` marker replaced by :func:`stamp`."""
    return _MARKER.sub(lambda m: stamp(m.group(1), m.group(2) or "$source"), cypher)


_GENE_FIELDS = ("name", "hgncId", "ncbiGeneId", "ensemblId", "location", "aliases", "previousSymbols", "locusType")

GENES = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (g:Gene {symbol: row.symbol})
"""
    + asserts("g", latest={name: f"row.{name}" for name in _GENE_FIELDS})
    + """WITH g, row, src
UNWIND ([x IN row.previousSymbols | {name: toLower(x), kind: 'previous'}] +
        [x IN row.aliases | {name: toLower(x), kind: 'alias'}]) AS a
MERGE (al:GeneAlias {name: a.name})
MERGE (al)-[r:ALIAS_OF]->(g)
SET r.kind = a.kind, RELEASES(r)
MERGE (al)-[:ASSERTED_BY]->(src)
"""
)

DISEASE_PARENTS = stamped("""
UNWIND $rows AS row
MATCH (child:Disease {id: row.id})
UNWIND row.parents AS parentId
MATCH (parent:Disease {id: parentId})
MERGE (child)-[r:IS_A]->(parent)
SET RELEASES(r)
""")

# The start of a PGx evidence statement (FDA, PharmGKB): one Evidence per row with its properties,
# its release and its drugs (``row.drugIds``, Drug nodes already written); each source appends the
# CALL blocks for what its evidence is ABOUT.
PGX_EVIDENCE = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (e:Evidence {id: row.id})
"""
    + asserts("e", group="row.props")
    + """WITH e, row, src
CALL (e, row) {
  UNWIND row.drugIds AS drugId
  MATCH (d:Drug {id: drugId})
  MERGE (e)-[r:FOR_DRUG]->(d)
  SET RELEASES(r)
}
"""
)

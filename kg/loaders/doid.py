"""Human Disease Ontology (DOID) -> ``Disease`` nodes, ``IS_A`` hierarchy, xref look-up nodes.

Reads the OBO release (``doid_*.obo.gz``, OBO 1.2) with kg.loaders.obo, or an OWL file
(``doid.owl``, MONDO ``.owl``; RDF/XML or Turtle) with kg.loaders.owl, chosen by extension.

Written (see docs/GRAPH_MODEL.md):

* ``Disease {id}`` with name, definition, synonyms (EXACT), otherSynonyms (RELATED/BROAD/NARROW),
  xrefs (``PREFIX:ID`` as the file spells them), altIds, subsets, obsolete, replacedBy, consider;
  ``DiseaseName`` look-ups for name and EXACT synonyms, keyed by kg.identity.diseases.disease_name (the key
  kg.queries.resolve looks names up by).
* ``(Disease)-[:IS_A]->(Disease)`` between live terms; obsolete terms have none and keep
  ``(old)-[:REPLACED_BY]->(new)`` so an old id still resolves.
* ``(DiseaseXref {id})-[:XREF_OF {kind}]->(Disease)`` for live terms: every xref under its
  canonical keys (kg.identity.diseases: ``UMLS_CUI:C…`` also as ``UMLS:C…``, ``ORDO:n`` also as
  ``ORPHANET:n``, ``MIM:`` as ``OMIM:``), kind ``xref``, or ``exactMatch`` when DOID also states
  it as a skos exactMatch (``property_value: exactMatch "MESH:…"``); alt ids (``DOID:267``), kind
  ``altId``. Other loaders (ClinVar conditions via MeSH, MedGen/UMLS, OMIM, Orphanet) map to a
  DOID by looking up ``xref_keys(theirs)``. One key may name several diseases (244 MeSH keys do
  in the 2024-01-31 release); prefer ``exactMatch`` edges, then the most specific term.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.identity.diseases import disease_name, xref_keys
from kg.loaders import statements
from kg.loaders.disease_names import relink
from kg.loaders.errors import SourceFormatError
from kg.loaders.obo import OboTerm, TermEdges, read_terms, release_version
from kg.loaders.owl import is_owl, read_owl
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, SourceRelease, Stage, load_release
from kg.loaders.sourcefile import find_release_file
from kg.loaders.statements import stamped

SOURCE = "doid"
LICENCE = "CC0 1.0 (Human Disease Ontology, disease-ontology.org)"
URL = "https://github.com/DiseaseOntology/HumanDiseaseOntology"

# One statement per term: the Disease with all its properties, its DiseaseName look-ups
# (``row.nameKeys``: kg.identity.diseases.disease_name of name and EXACT synonyms) and its
# DiseaseXref keys, so the file is streamed and
# sent once for all three instead of once per kind of node.
_TERM_FIELDS = (
    "name",
    "synonyms",
    "xrefs",
    "definition",
    "replacedBy",
    "otherSynonyms",
    "altIds",
    "subsets",
    "consider",
)

TERMS = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (d:Disease {id: row.id})
"""
    + asserts("d", latest={**{f: f"row.{f}" for f in _TERM_FIELDS}, "obsolete": "coalesce(row.obsolete, false)"})
    + """WITH d, row, src
CALL (d, row, src) {
  UNWIND row.nameKeys AS name
  MERGE (dn:DiseaseName {name: name})
  MERGE (dn)-[r:NAME_OF]->(d)
  SET RELEASES(r)
  MERGE (dn)-[:ASSERTED_BY]->(src)
}
CALL (d, row, src) {
  UNWIND row.xrefKeys AS x
  MERGE (dx:DiseaseXref {id: x.id})
  SET dx.prefix = x.prefix
  MERGE (dx)-[r:XREF_OF]->(d)
  SET r.kind = x.kind, RELEASES(r)
  MERGE (dx)-[:ASSERTED_BY]->(src)
}
"""
)

DISEASE_REPLACEMENTS = stamped("""
UNWIND $rows AS row
MATCH (old:Disease {id: row.id})
UNWIND row.replacements AS newId
MATCH (new:Disease {id: newId})
MERGE (old)-[r:REPLACED_BY]->(new)
SET RELEASES(r)
""")

_KIND_RANK = {"exactMatch": 0, "xref": 1, "altId": 2}  # a curated skos exactMatch says the most


def xref_rows(term: OboTerm) -> list[dict[str, str]]:
    """The DiseaseXref keys of one live term, each once; when a key is both a plain xref and an
    exactMatch it is an ``exactMatch`` (the hint to prefer when a key names several diseases)."""
    kinds: dict[str, str] = {}
    for kind, values in (("xref", term.xrefs), ("exactMatch", term.exact_matches), ("altId", term.alt_ids)):
        for value in values:
            for key in xref_keys(value):
                if key not in kinds or _KIND_RANK[kind] < _KIND_RANK[kinds[key]]:
                    kinds[key] = kind
    return [{"id": key, "prefix": key.split(":", 1)[0], "kind": kind} for key, kind in kinds.items()]


def term_row(term: OboTerm) -> dict[str, Any]:
    """What TERMS reads for one term (no parents: the hierarchy stage sends those)."""
    row = term.as_row()
    del row["parents"], row["replacements"]
    row["xrefKeys"] = [] if term.obsolete else xref_rows(term)
    labels = [row.get("name"), *(row.get("synonyms") or [])]
    row["nameKeys"] = list(dict.fromkeys(disease_name(x) for x in labels if x and x.strip()))
    return row


def stages(terms: Callable[[], Iterable[OboTerm]]) -> list[Stage]:
    edges = TermEdges()
    return [
        Stage("terms", TERMS, lambda: edges.rows(terms, term_row), batch_size=2000),
        Stage("hierarchy", statements.DISEASE_PARENTS, lambda: edges.parents, batch_size=10000),
        Stage("replacements", DISEASE_REPLACEMENTS, lambda: edges.replacements, batch_size=10000),
    ]


def find_file(path: Path) -> Path:
    """``path`` itself, or in a folder the newest ``doid*.obo(.gz)``, else ``doid*.owl(.gz)``."""
    return find_release_file(path, ("doid*.obo.gz", "doid*.obo", "doid*.owl.gz", "doid*.owl"))


def load(
    graph: Graph,
    path: Path,
    *,
    progress: bool = True,
    version: str | None = None,
    source_name: str = SOURCE,
) -> LoadReport:
    """Load the DOID release at ``path`` (folder or file); ``version`` overrides the data's own."""
    file = find_file(Path(path))
    if is_owl(file):
        ontology = read_owl(file)
        release_of = version or ontology.version
        if not release_of:
            raise SourceFormatError(file, None, "an owl:versionIRI / owl:versionInfo or a dated file name", file.name)
        licence = ontology.licence or LICENCE
        terms: Callable[[], Iterable[OboTerm]] = ontology.terms
    else:
        release_of = version or release_version(file)
        licence = LICENCE
        terms = lambda: read_terms(file)  # noqa: E731
    release = SourceRelease(source_name, release_of, licence, (file,), URL)
    report = load_release(graph, release, stages(terms), progress=progress)
    if not report.skipped:  # names other sources gave without an id follow the new ontology
        relink(graph)
    return report

"""Sequence Ontology (SO, OBO 1.2) -> ``SequenceOntologyTerm`` nodes with their ``IS_A`` hierarchy.

ClinVar's molecular consequences (``MC=SO:0001583|missense_variant``) and CIViC's variant types
(SO term names) link to these terms. Written (see docs/GRAPH_MODEL.md):
``SequenceOntologyTerm {id: "SO:0001583"}`` with name, synonyms (EXACT), otherSynonyms, definition,
altIds, obsolete, replacedBy; ``(term)-[:IS_A]->(term)`` between live terms (``relationship:``
lines such as part_of are not loaded); obsolete terms keep ``(old)-[:REPLACED_BY]->(new)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.loaders.obo import OboTerm, TermEdges, read_terms, release_version
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, SourceRelease, Stage, load_release
from kg.loaders.sourcefile import find_release_file
from kg.loaders.statements import stamped

SOURCE = "so"
LICENCE = "CC BY 4.0 (The Sequence Ontology, sequenceontology.org; attribution required)"
URL = "https://github.com/The-Sequence-Ontology/SO-Ontologies"

TERMS = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (t:SequenceOntologyTerm {id: row.id})
""" + asserts(
    "t",
    latest={
        f: f"row.{f}" for f in ("name", "synonyms", "otherSynonyms", "definition", "altIds", "obsolete", "replacedBy")
    },
)

PARENTS = stamped("""
UNWIND $rows AS row
MATCH (child:SequenceOntologyTerm {id: row.id})
UNWIND row.parents AS parentId
MATCH (parent:SequenceOntologyTerm {id: parentId})
MERGE (child)-[r:IS_A]->(parent)
SET RELEASES(r)
""")

REPLACEMENTS = stamped("""
UNWIND $rows AS row
MATCH (old:SequenceOntologyTerm {id: row.id})
UNWIND row.replacements AS newId
MATCH (new:SequenceOntologyTerm {id: newId})
MERGE (old)-[r:REPLACED_BY]->(new)
SET RELEASES(r)
""")


def term_row(term: OboTerm) -> dict[str, Any]:
    """What TERMS reads for one term (the hierarchy stages send parents and replacements)."""
    return {
        "id": term.id,
        "name": term.name,
        "synonyms": term.synonyms,
        "otherSynonyms": term.other_synonyms,
        "definition": term.definition,
        "altIds": term.alt_ids,
        "obsolete": term.obsolete,
        "replacedBy": term.replaced_by[0] if term.replaced_by else None,
    }


def stages(path: Path) -> list[Stage]:
    edges = TermEdges()  # gathered while the terms stage streams the file: one validated read in all
    return [
        Stage("terms", TERMS, lambda: edges.rows(lambda: read_terms(path), term_row)),
        Stage("hierarchy", PARENTS, lambda: edges.parents, batch_size=10000),
        Stage("replacements", REPLACEMENTS, lambda: edges.replacements, batch_size=10000),
    ]


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    """Load the SO release at ``path`` (the ontology folder, or an ``so*.obo(.gz)`` file)."""
    file = find_release_file(Path(path), ("so*.obo.gz", "so*.obo"))
    release = SourceRelease(SOURCE, version or release_version(file), LICENCE, (file,), URL)
    return load_release(graph, release, stages(file), progress=progress)

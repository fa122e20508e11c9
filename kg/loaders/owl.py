"""OBO-style OWL ontologies (doid.owl, mondo.owl; RDF/XML or Turtle) read through rdflib.

Terms are named ``owl:Class`` es with OBO PURLs (``http://purl.obolibrary.org/obo/DOID_1909`` ->
``DOID:1909``). The mapping follows the OBO-to-OWL conventions (oboInOwl):
``rdfs:label`` -> name, ``IAO:0000115`` -> definition, ``oboInOwl:hasExactSynonym`` -> synonyms
(related/broad/narrow -> other synonyms), ``oboInOwl:hasDbXref`` -> xrefs,
``oboInOwl:hasAlternativeId`` -> alt ids, ``rdfs:subClassOf`` a *named* class -> parents
(restrictions are blank nodes and are skipped), ``owl:deprecated`` -> obsolete,
``IAO:0100001`` (term replaced by) -> replaced by, ``oboInOwl:consider`` -> consider.

A triple store keeps everything it parses, and MONDO's OWL is hundreds of megabytes of
triples; the store used here keeps only the triples listed above (with a named subject), in
plain dicts, so memory grows with the terms and their labels, not with the axioms and
annotations of the file. rdflib's RDF/XML parser still reads every triple (about 5,000 kept
triples/s here; a DOID-sized file of 14k classes takes ~15 s), so the OBO release is the fast path.
"""

from __future__ import annotations

import re
import xml.sax
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from rdflib import Graph, Literal, URIRef
from rdflib.exceptions import ParserError
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, Namespace
from rdflib.store import Store

from kg.loaders.errors import SourceFormatError
from kg.loaders.obo import OboTerm
from kg.loaders.sourcefile import date_in, open_binary, read_errors

OBO = Namespace("http://purl.obolibrary.org/obo/")
OBO_IN_OWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
DEFINITION = OBO["IAO_0000115"]
REPLACED_BY = OBO["IAO_0100001"]

_SYNONYMS = {
    OBO_IN_OWL.hasExactSynonym: "EXACT",
    OBO_IN_OWL.hasRelatedSynonym: "RELATED",
    OBO_IN_OWL.hasBroadSynonym: "BROAD",
    OBO_IN_OWL.hasNarrowSynonym: "NARROW",
}
_KEPT = {
    RDFS.label,
    RDFS.subClassOf,
    DEFINITION,
    REPLACED_BY,
    OWL.deprecated,
    OWL.versionIRI,
    OWL.versionInfo,
    OBO_IN_OWL.hasDbXref,
    OBO_IN_OWL.hasAlternativeId,
    OBO_IN_OWL.inSubset,
    OBO_IN_OWL.consider,
    SKOS.exactMatch,
    DCTERMS.license,
    *_SYNONYMS,
}
_TYPES = {OWL.Class, OWL.Ontology}
_OBO_IRI = re.compile(r"^http://purl\.obolibrary\.org/obo/([A-Za-z][A-Za-z0-9]*)_([^/#]+)$")
_FORMATS = {".owl": "xml", ".rdf": "xml", ".xml": "xml", ".ttl": "turtle"}


def is_owl(path: Path) -> bool:
    return _suffix(path) in _FORMATS


def _suffix(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    return Path(name).suffix.lower()


def curie(node: Any) -> str | None:
    """``http://purl.obolibrary.org/obo/DOID_1909`` -> ``DOID:1909``; a literal ``DOID:1909`` as is."""
    if isinstance(node, URIRef):
        match = _OBO_IRI.match(str(node))
        return f"{match.group(1)}:{match.group(2)}" if match else None
    if isinstance(node, Literal) and ":" in str(node):
        return str(node)
    return None


class _TermTriples(Store):
    """A write-only rdflib store that keeps, per named subject, only the triples a term needs.

    rdflib's own Memory store indexes every triple three ways; plain dicts of the few kept
    predicates take a fraction of that memory and time.
    """

    def __init__(self) -> None:
        super().__init__()
        self.classes: set[str] = set()
        self.ontologies: list[str] = []
        self.values: dict[str, dict[URIRef, list[Any]]] = {}

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        subject, predicate, obj = triple
        if not isinstance(subject, URIRef):
            return
        if predicate == RDF.type:
            if obj == OWL.Class:
                self.classes.add(str(subject))
            elif obj == OWL.Ontology:
                self.ontologies.append(str(subject))
            return
        if predicate in _KEPT and not (predicate == RDFS.subClassOf and not isinstance(obj, URIRef)):
            self.values.setdefault(str(subject), {}).setdefault(predicate, []).append(obj)

    def __len__(self, context: Any = None) -> int:
        return sum(len(v) for props in self.values.values() for v in props.values())


@dataclass
class OwlOntology:
    path: Path
    store: _TermTriples
    prefix: str  # the id prefix of the ontology's own classes: DOID, MONDO

    def _ontology_values(self, predicate: URIRef) -> list[Any]:
        return [v for iri in self.store.ontologies for v in self.store.values.get(iri, {}).get(predicate, [])]

    @property
    def version(self) -> str | None:
        """The date in ``owl:versionIRI`` (else ``owl:versionInfo``), else the date in the file name."""
        for value in self._ontology_values(OWL.versionIRI):
            if found := date_in(str(value)):
                return found
        for value in self._ontology_values(OWL.versionInfo):
            return date_in(str(value)) or str(value)
        return date_in(self.path.name)

    @property
    def licence(self) -> str | None:
        values = self._ontology_values(DCTERMS.license)
        return str(values[0]) if values else None

    def terms(self) -> Iterator[OboTerm]:
        """The ontology's own classes, sorted by id, as OboTerm (``line`` is 0: RDF has no stanza lines)."""
        ids = sorted(
            (term_id, iri)
            for iri in self.store.classes
            if (term_id := curie(URIRef(iri))) is not None and term_id.split(":", 1)[0] == self.prefix
        )
        for term_id, iri in ids:
            yield self._term(term_id, self.store.values.get(iri, {}))

    @staticmethod
    def _term(term_id: str, props: dict[URIRef, list[Any]]) -> OboTerm:
        def values(predicate: URIRef) -> list[Any]:
            return props.get(predicate, [])

        term = OboTerm(term_id, 0)
        term.name = _first_text(values(RDFS.label))
        term.definition = _first_text(values(DEFINITION))
        for predicate, scope in _SYNONYMS.items():
            target = term.synonyms if scope == "EXACT" else term.other_synonyms
            target.extend(sorted({str(v) for v in values(predicate)} - set(target)))
        term.xrefs = sorted({str(v) for v in values(OBO_IN_OWL.hasDbXref)})
        term.exact_matches = sorted({c for v in values(SKOS.exactMatch) if (c := _mapping(v))})
        term.alt_ids = sorted({str(v) for v in values(OBO_IN_OWL.hasAlternativeId)})
        term.subsets = sorted({_local_name(v) for v in values(OBO_IN_OWL.inSubset)})
        term.parents = sorted({c for v in values(RDFS.subClassOf) if (c := curie(v)) and c != term_id})
        term.obsolete = any(str(v).lower() == "true" for v in values(OWL.deprecated))
        term.replaced_by = sorted({c for v in values(REPLACED_BY) if (c := curie(v))})
        term.consider = sorted({c for v in values(OBO_IN_OWL.consider) if (c := curie(v))})
        return term


def _first_text(values: list[Any]) -> str | None:
    """One value, deterministically: the first (sorted) untagged or English one, else any."""
    items = values
    english = sorted(str(v) for v in items if not isinstance(v, Literal) or v.language in (None, "en"))
    ordered = english or sorted(str(v) for v in items)
    return ordered[0] if ordered else None


def _local_name(node: Any) -> str:
    text = str(node)
    return re.split(r"[#/]", text)[-1] if isinstance(node, URIRef) else text


def _mapping(node: Any) -> str | None:
    """A skos:exactMatch target as ``PREFIX:ID`` (OBO PURL or identifiers.org-style IRIs, or a literal)."""
    if (found := curie(node)) is not None:
        return found
    text = str(node)
    match = re.match(r"^https?://identifiers\.org/([^/:]+)[/:](.+)$", text)
    return f"{match.group(1)}:{match.group(2)}" if match else None


def _ontology_prefix(store: _TermTriples, path: Path) -> str:
    """The id prefix of the ontology's own classes: from its IRI (``…/obo/doid.owl``), else the
    prefix most classes carry."""
    counts = Counter(term_id.split(":", 1)[0] for iri in store.classes if (term_id := curie(URIRef(iri))) is not None)
    for ontology in store.ontologies:
        stem = Path(ontology).name.split(".")[0].upper()
        if counts.get(stem):
            return stem
    if not counts:
        raise SourceFormatError(
            path, None, "owl:Class declarations with OBO PURLs (http://purl.obolibrary.org/obo/X_n)", "none"
        )
    return counts.most_common(1)[0][0]


def read_owl(path: Path) -> OwlOntology:
    """Parse ``path`` (``.owl``/``.rdf`` RDF/XML or ``.ttl``, optionally gzipped) into a filtered store."""
    store = _TermTriples()
    graph = Graph(store=store)
    reader = open_binary(path)
    fmt = _FORMATS.get(_suffix(path), "xml")
    with reader, read_errors(path, lambda: reader.line):
        try:
            # a binary stream rdflib reads like a file (its stubs list IO[bytes], not RawIOBase)
            graph.parse(source=cast(IO[bytes], reader), format=fmt, publicID=path.as_uri())
        except xml.sax.SAXParseException as err:
            raise SourceFormatError(path, err.getLineNumber(), "well-formed RDF/XML", err.getMessage()) from err
        except (ParserError, SyntaxError, ValueError) as err:  # rdflib turtle/RDF-level errors
            line = _line_in(str(err)) or reader.line
            raise SourceFormatError(path, line, f"valid {fmt} RDF", str(err)[:200]) from err
    return OwlOntology(path, store, _ontology_prefix(store, path))


def _line_in(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None

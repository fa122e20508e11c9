"""DOID and SO loaders: the active releases (the seed subsets, or the real releases in
../shared/data/ontology once loaded; tests/releases.py), the real releases' counts (``realdata``),
corrupted copies of the seed files, an OWL file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kg.db import Graph
from kg.identity.diseases import xref_keys
from kg.loaders import doid, obo, so
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import LoadReport, discard_release
from kg.loaders.seeds import default_seed_dir
from tests.releases import active_release

DOID_RELEASE = "doid@2024-01-31"
SO_RELEASE = "so@2024-11-18"
# ontology/SOURCES.md: "13,982 [Term] stanzas (11,501 live, 2,481 is_obsolete: true)"; SO "2,615 terms (211 obsolete)"
DOID_TERMS, DOID_LIVE, DOID_OBSOLETE = 13_982, 11_501, 2_481
SO_TERMS, SO_OBSOLETE = 2_615, 211


@pytest.fixture(scope="module")
def real_doid_file(data_dir: Path) -> Path:
    return data_dir / "ontology" / "doid_2024-01-31.obo.gz"


@pytest.fixture(scope="module")
def doid_file() -> Path:
    return default_seed_dir() / "ontology" / "doid_2024-01-31.obo.gz"


@pytest.fixture(scope="module")
def so_file() -> Path:
    return default_seed_dir() / "ontology" / "so_2024-11-18.obo.gz"


@pytest.fixture(scope="module")
def real_doid(seeded: Graph, data_dir: Path) -> LoadReport:
    return doid.load(seeded, data_dir / "ontology", progress=False)


@pytest.fixture(scope="module")
def real_so(seeded: Graph, data_dir: Path) -> LoadReport:
    return so.load(seeded, data_dir / "ontology", progress=False)


def _load_active(graph: Graph, loader, name: str) -> LoadReport:  # type: ignore[no-untyped-def]
    release = active_release(graph, name)
    return loader.load(graph, release.folder, progress=False, version=release.version)


@pytest.fixture(scope="module")
def doid_loaded(seeded: Graph) -> LoadReport:
    """The active DOID release (seed subset or real), loaded again: a no-op."""
    return _load_active(seeded, doid, "doid")


@pytest.fixture(scope="module")
def so_loaded(seeded: Graph) -> LoadReport:
    return _load_active(seeded, so, "so")


def _counts(graph: Graph) -> dict[str, int]:
    return dict(
        graph.read(
            "CALL { MATCH (d:Disease) RETURN count(d) AS diseases } "
            "CALL { MATCH (x:DiseaseXref) RETURN count(x) AS xrefs } "
            "CALL { MATCH (n:DiseaseName) RETURN count(n) AS names } "
            "CALL { MATCH (t:SequenceOntologyTerm) RETURN count(t) AS soTerms } "
            "CALL { MATCH ()-[r:IS_A]->() RETURN count(r) AS isA } "
            "CALL { MATCH ()-[r:REPLACED_BY]->() RETURN count(r) AS replacedBy } "
            "CALL { MATCH ()-[r:XREF_OF]->() RETURN count(r) AS xrefOf } "
            "CALL { MATCH (s:Source) RETURN count(s) AS sources } "
            "RETURN diseases, xrefs, names, soTerms, isA, replacedBy, xrefOf, sources"
        )[0]
    )


def _live_is_a_lines(path: Path) -> int:
    """is_a lines of non-obsolete [Term] stanzas, counted from the text without the loader's parser."""
    total = 0
    stanza: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in [*handle, "[End]\n"]:
            if line.startswith("["):
                if stanza and stanza[0] == "[Term]" and "is_obsolete: true" not in stanza:
                    total += sum(1 for s in stanza if s.startswith("is_a:"))
                stanza = [line.strip()]
            else:
                stanza.append(line.strip())
    return total


# --- parsers, no database ------------------------------------------------------------------


def test_xref_keys_normalise_prefixes() -> None:
    assert xref_keys("UMLS_CUI:C0025202") == ["UMLS_CUI:C0025202", "UMLS:C0025202"]
    assert xref_keys("MedGen:C0025202") == ["MEDGEN:C0025202", "UMLS:C0025202"]
    assert xref_keys("MedGen:CN517202") == ["MEDGEN:CN517202"]
    assert xref_keys("ORDO:540") == ["ORDO:540", "ORPHANET:540"]
    assert xref_keys("Orphanet:540") == xref_keys("Orphanet:ORPHA540") == ["ORPHANET:540", "ORDO:540"]
    assert xref_keys("MIM:155600") == ["OMIM:155600"]
    assert xref_keys("MeSH:D008545") == ["MESH:D008545"]
    assert xref_keys("MONDO:MONDO:0005105") == ["MONDO:0005105"]
    assert xref_keys("no prefix") == []


OBO_HEADER = "format-version: 1.2\ndata-version: releases/2099-01-01/test.obo\nontology: test\n\n"


def test_obo_reader_scopes_escapes_comments(tmp_path: Path) -> None:
    path = tmp_path / "t.obo"
    path.write_text(
        OBO_HEADER
        + (
            "[Term]\nid: T:1\nname: root\n\n"
            '[Term]\nid: T:2\nname: child {comment="x"}\n'
            'def: "A \\"quoted\\" child." [PMID:1]\n'
            'synonym: "kid" EXACT []\nsynonym: "offspring" RELATED [PMID:2]\nsynonym: "sprog" []\n'
            'xref: http://example.org/a\\:b "a url"\nxref: MESH:D1 {source="x"}\n'
            "is_a: T:1 ! root\n\n"
            "[Term]\nid: T:3\nname: obsolete three\nis_obsolete: true\nis_a: T:1\nreplaced_by: T:2\n\n"
            "[Typedef]\nid: part_of\nname: part of\n"
        )
    )
    assert obo.release_version(path) == "2099-01-01"
    terms = {t.id: t for t in obo.read_terms(path)}
    assert list(terms) == ["T:1", "T:2", "T:3"]
    child = terms["T:2"]
    assert child.name == "child" and child.definition == 'A "quoted" child.'
    assert child.synonyms == ["kid"] and child.other_synonyms == ["offspring", "sprog"]
    assert child.xrefs == ["http://example.org/a:b", "MESH:D1"] and child.parents == ["T:1"]
    assert terms["T:3"].as_row()["parents"] == [] and terms["T:3"].as_row()["replacedBy"] == "T:2"


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("xref MESH:D1", "a 'tag: value' line"),
        ('def: "no closing quote [PMID:1]', 'a closing quote (")'),
        ('synonym: "x" SOMETIMES []', "a synonym scope"),
        ("[Trem]", "a stanza header"),
    ],
)
def test_obo_reader_reports_broken_line(tmp_path: Path, broken: str, expected: str) -> None:
    path = tmp_path / "t.obo"
    path.write_text(OBO_HEADER + f"[Term]\nid: T:1\nname: one\n{broken}\n")
    with pytest.raises(SourceFormatError) as err:
        list(obo.read_terms(path))
    assert err.value.line == 8 and err.value.expected.startswith(expected) and err.value.found == broken


# --- the DOID release in the graph ---------------------------------------------------------


@pytest.mark.realdata
def test_doid_counts_match_sources_md(seeded: Graph, real_doid: LoadReport, real_doid_file: Path) -> None:
    doid_loaded, doid_file = real_doid, real_doid_file
    assert doid_loaded.skipped or doid_loaded.rows["terms"] == DOID_TERMS
    row = seeded.read(
        "MATCH (s:Source {key: $key})<-[:ASSERTED_BY]-(d:Disease) "
        "RETURN s.status AS status, count(d) AS terms, sum(CASE WHEN d.obsolete THEN 1 ELSE 0 END) AS obsolete",
        key=DOID_RELEASE,
    )[0]
    assert row == {"status": "active", "terms": DOID_TERMS, "obsolete": DOID_OBSOLETE}
    assert DOID_TERMS - DOID_OBSOLETE == DOID_LIVE
    edges = seeded.read(
        "MATCH (:Disease)-[r:IS_A]->(:Disease) WHERE $key IN r.releases RETURN count(r) AS n", key=DOID_RELEASE
    )
    assert edges[0]["n"] == _live_is_a_lines(doid_file) == 15_995
    assert (
        seeded.read("MATCH ()-[r:REPLACED_BY]->() WHERE $key IN r.releases RETURN count(r) AS n", key=DOID_RELEASE)[0][
            "n"
        ]
        == 13
    )
    old = seeded.read("MATCH (:Disease {id: 'DOID:0080091'})-[:REPLACED_BY]->(new) RETURN new.id AS id")
    assert old == [{"id": "DOID:0080094"}]


def test_melanoma_xref_and_path_to_cancer(seeded: Graph, doid_loaded: LoadReport) -> None:
    melanoma = seeded.read("MATCH (d:Disease {id: 'DOID:1909'}) RETURN d {.*} AS d")[0]["d"]
    assert melanoma["name"] == "melanoma" and "MESH:D008545" in melanoma["xrefs"]
    assert "malignant melanoma" in melanoma["synonyms"] and melanoma["obsolete"] is False
    path = seeded.read(
        "MATCH p = shortestPath((:Disease {id: 'DOID:1909'})-[:IS_A*]->(:Disease {id: 'DOID:162'})) "
        "RETURN [n IN nodes(p) | n.id] AS ids"
    )
    assert path and path[0]["ids"] == ["DOID:1909", "DOID:0050687", "DOID:162"]
    for key in ("MESH:D008545", "UMLS_CUI:C0025202", "UMLS:C0025202"):
        hits = seeded.read(
            "MATCH (:DiseaseXref {id: $key})-[:XREF_OF]->(d:Disease) RETURN collect(d.id) AS ids", key=key
        )
        assert hits[0]["ids"] == ["DOID:1909"], key
    assert seeded.read("MATCH (:DiseaseName {name: 'malignant melanoma'})-[:NAME_OF]->(d) RETURN d.id AS id") == [
        {"id": "DOID:1909"}
    ]


@pytest.mark.parametrize(
    ("theirs", "disease"),
    [
        ("MedGen:C0677776", "DOID:5683"),  # hereditary breast ovarian cancer syndrome, UMLS_CUI:C0677776
        ("MeSH:D061325", "DOID:5683"),
        ("Orphanet:733", "DOID:0050424"),  # familial adenomatous polyposis, ORDO:733
        ("OMIM:608456", "DOID:0080410"),  # familial adenomatous polyposis 2
        ("DOID:183", "DOID:3347"),  # alt_id of osteosarcoma
    ],
)
def test_condition_maps_to_doid_by_xref(seeded: Graph, doid_loaded: LoadReport, theirs: str, disease: str) -> None:
    hits = seeded.read(
        "MATCH (x:DiseaseXref)-[:XREF_OF]->(d:Disease) WHERE x.id IN $keys RETURN collect(DISTINCT d.id) AS ids",
        keys=xref_keys(theirs),
    )
    assert hits[0]["ids"] == [disease]


def test_obsolete_term_resolves_via_replaced_by(seeded: Graph, doid_loaded: LoadReport) -> None:
    row = seeded.read(
        "MATCH (old:Disease {id: 'DOID:955'})-[:REPLACED_BY]->(new:Disease) "
        "RETURN old.obsolete AS obsolete, old.replacedBy AS replacedBy, new.id AS new, new.obsolete AS newObsolete, "
        "       COUNT { (old)-[:IS_A]-() } AS isA, COUNT { (old)<-[:XREF_OF]-() } AS xrefs"
    )
    # DOID:955 "obsolete benign neurilemmoma" (xref UMLS_CUI:C0854906), replaced_by DOID:3192
    assert row == [
        {"obsolete": True, "replacedBy": "DOID:3192", "new": "DOID:3192", "newObsolete": False, "isA": 0, "xrefs": 0}
    ]
    assert seeded.read("MATCH (d:Disease {obsolete: true})-[:IS_A]-() RETURN count(*) AS n")[0]["n"] == 0


def test_doid_reload_is_idempotent(seeded: Graph, doid_loaded: LoadReport, so_loaded: LoadReport) -> None:
    before = _counts(seeded)
    assert _load_active(seeded, doid, "doid").skipped
    assert _load_active(seeded, so, "so").skipped
    assert _counts(seeded) == before


# --- the SO release in the graph -----------------------------------------------------------


@pytest.mark.realdata
def test_so_counts_and_obsolete_terms(seeded: Graph, real_so: LoadReport) -> None:
    row = seeded.read(
        "MATCH (s:Source {key: $key})<-[:ASSERTED_BY]-(t:SequenceOntologyTerm) "
        "RETURN count(t) AS terms, sum(CASE WHEN t.obsolete THEN 1 ELSE 0 END) AS obsolete",
        key=SO_RELEASE,
    )[0]
    assert row == {"terms": SO_TERMS, "obsolete": SO_OBSOLETE}
    assert seeded.read("MATCH (t:SequenceOntologyTerm {obsolete: true})-[:IS_A]-() RETURN count(*) AS n")[0]["n"] == 0
    replaced = seeded.read("MATCH (:SequenceOntologyTerm {id: 'SO:0000053'})-[:REPLACED_BY]->(t) RETURN t.id AS id")
    assert replaced == [{"id": "SO:0001556"}]


def test_so_missense_hierarchy(seeded: Graph, so_loaded: LoadReport) -> None:
    missense = seeded.read("MATCH (t:SequenceOntologyTerm {id: 'SO:0001583'}) RETURN t {.*} AS t")[0]["t"]
    assert missense["name"] == "missense_variant" and "missense" in missense["synonyms"]
    assert "SO:0001584" in missense["altIds"]
    reaches = seeded.read(
        "MATCH p = (:SequenceOntologyTerm {id: 'SO:0001583'})-[:IS_A*]->(:SequenceOntologyTerm {id: 'SO:0001060'}) "
        "RETURN count(p) > 0 AS ok"
    )
    assert reaches == [{"ok": True}]


# --- corrupted copies of the seed files: clean failure, nothing kept -------------------------


def _expect_clean_failure(graph: Graph, loader, path: Path, source: str, *, line: int | None) -> SourceFormatError:
    before = _counts(graph)
    with pytest.raises(SourceFormatError) as err:
        loader.load(graph, path, progress=False, version="corrupt-test")
    assert err.value.path == path and f"{path}:" in str(err.value)
    if line is not None:
        assert err.value.line == line
    assert not graph.read("MATCH (s:Source {key: $key}) RETURN s", key=f"{source}@corrupt-test")
    assert _counts(graph) == before
    return err.value


def test_truncated_doid_gzip_fails_cleanly(
    seeded: Graph, doid_loaded: LoadReport, so_loaded: LoadReport, doid_file: Path, tmp_path: Path
) -> None:
    data = doid_file.read_bytes()
    copy = tmp_path / "doid_2024-01-31.obo.gz"
    copy.write_bytes(data[: len(data) * 3 // 4])
    error = _expect_clean_failure(seeded, doid, copy, "doid", line=None)
    assert error.line is not None and error.line > 1 and "gzip" in error.expected


def test_truncated_so_gzip_fails_cleanly(
    seeded: Graph, doid_loaded: LoadReport, so_loaded: LoadReport, so_file: Path, tmp_path: Path
) -> None:
    data = so_file.read_bytes()
    copy = tmp_path / "so_2024-11-18.obo.gz"
    copy.write_bytes(data[: len(data) // 2])
    _expect_clean_failure(seeded, so, copy, "so", line=None)


def test_broken_obo_line_fails_cleanly(
    seeded: Graph, doid_loaded: LoadReport, so_loaded: LoadReport, doid_file: Path, tmp_path: Path
) -> None:
    with gzip.open(doid_file, "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    number = lines.index("xref: MESH:D008545\n") + 1  # melanoma's stanza, inside the file
    lines[number - 1] = "xref MESH:D008545\n"
    copy = tmp_path / "doid_2024-01-31.obo.gz"
    with gzip.open(copy, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)
    error = _expect_clean_failure(seeded, doid, copy, "doid", line=number)
    assert error.found == "xref MESH:D008545" and error.expected == "a 'tag: value' line"
    # the melanoma of the active release is untouched
    assert seeded.read("MATCH (d:Disease {id: 'DOID:1909'})-[r:IS_A]->() RETURN r.releases AS r") == [
        {"r": [active_release(seeded, "doid").key]}
    ]


# --- the OWL path (a tiny made-up ontology under a made-up source name) -------------------

OWL = """<?xml version="1.0"?>
<rdf:RDF xmlns="http://purl.obolibrary.org/obo/doid.owl#"
     xmlns:obo="http://purl.obolibrary.org/obo/"
     xmlns:owl="http://www.w3.org/2002/07/owl#"
     xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
     xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
     xmlns:xsd="http://www.w3.org/2001/XMLSchema#"
     xmlns:oboInOwl="http://www.geneontology.org/formats/oboInOwl#">
  <owl:Ontology rdf:about="http://purl.obolibrary.org/obo/doid.owl">
    <owl:versionIRI rdf:resource="http://purl.obolibrary.org/obo/doid/releases/2099-12-31/doid.owl"/>
  </owl:Ontology>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/DOID_99000001">
    <rdfs:label>test root disease</rdfs:label>
  </owl:Class>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/DOID_99000002">
    <rdfs:subClassOf rdf:resource="http://purl.obolibrary.org/obo/DOID_99000001"/>
    <rdfs:subClassOf>
      <owl:Restriction>
        <owl:onProperty rdf:resource="http://purl.obolibrary.org/obo/RO_0004027"/>
        <owl:someValuesFrom rdf:resource="http://purl.obolibrary.org/obo/DOID_99000001"/>
      </owl:Restriction>
    </rdfs:subClassOf>
    <rdfs:label xml:lang="en">test child disease</rdfs:label>
    <obo:IAO_0000115>A made-up disease for a test.</obo:IAO_0000115>
    <oboInOwl:hasExactSynonym>test kid disease</oboInOwl:hasExactSynonym>
    <oboInOwl:hasRelatedSynonym>test cousin disease</oboInOwl:hasRelatedSynonym>
    <oboInOwl:hasDbXref>MESH:D99000002</oboInOwl:hasDbXref>
    <oboInOwl:hasDbXref>UMLS_CUI:C9900002</oboInOwl:hasDbXref>
    <oboInOwl:hasDbXref>ORDO:99000002</oboInOwl:hasDbXref>
    <oboInOwl:hasAlternativeId>DOID:99000009</oboInOwl:hasAlternativeId>
  </owl:Class>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/DOID_99000003">
    <rdfs:label>obsolete test disease</rdfs:label>
    <rdfs:subClassOf rdf:resource="http://purl.obolibrary.org/obo/DOID_99000001"/>
    <owl:deprecated rdf:datatype="http://www.w3.org/2001/XMLSchema#boolean">true</owl:deprecated>
    <obo:IAO_0100001 rdf:resource="http://purl.obolibrary.org/obo/DOID_99000002"/>
    <oboInOwl:hasDbXref>MESH:D99000003</oboInOwl:hasDbXref>
  </owl:Class>
  <owl:Axiom>
    <owl:annotatedSource rdf:resource="http://purl.obolibrary.org/obo/DOID_99000002"/>
    <oboInOwl:hasDbXref>PMID:1</oboInOwl:hasDbXref>
  </owl:Axiom>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/UBERON_0000001">
    <rdfs:label>not a disease</rdfs:label>
  </owl:Class>
</rdf:RDF>
"""

OWL_SOURCE = "doid-owl-test"


def test_owl_file_loads_through_rdflib(seeded: Graph, tmp_path: Path) -> None:
    path = tmp_path / "doid_test.owl"
    path.write_text(OWL)
    before = _counts(seeded)
    report = doid.load(seeded, path, progress=False, source_name=OWL_SOURCE)
    key = f"{OWL_SOURCE}@2099-12-31"
    try:
        assert report.source == key and report.rows["terms"] == 3
        rows = seeded.read(
            "MATCH (s:Source {key: $key})<-[:ASSERTED_BY]-(d:Disease) "
            "RETURN d.id AS id, d.name AS name, d.obsolete AS obsolete, d.synonyms AS synonyms, "
            "       d.otherSynonyms AS other, d.xrefs AS xrefs, d.definition AS definition, "
            "       [(d)-[:IS_A]->(p) | p.id] AS parents, [(d)-[:REPLACED_BY]->(n) | n.id] AS replacedBy "
            "ORDER BY id",
            key=key,
        )
        assert [r["id"] for r in rows] == ["DOID:99000001", "DOID:99000002", "DOID:99000003"]
        child, obsolete = rows[1], rows[2]
        assert child["name"] == "test child disease" and child["definition"] == "A made-up disease for a test."
        assert child["synonyms"] == ["test kid disease"] and child["other"] == ["test cousin disease"]
        assert child["xrefs"] == ["MESH:D99000002", "ORDO:99000002", "UMLS_CUI:C9900002"]  # not the axiom's PMID
        assert child["parents"] == ["DOID:99000001"]  # the restriction is not a parent
        assert (
            obsolete["obsolete"] is True and obsolete["parents"] == [] and obsolete["replacedBy"] == ["DOID:99000002"]
        )
        keys = seeded.read(
            "MATCH (x:DiseaseXref)-[r:XREF_OF]->(d) WHERE $key IN r.releases RETURN x.id AS id, r.kind AS kind, d.id AS d "
            "ORDER BY id",
            key=key,
        )
        assert {(k["id"], k["kind"]) for k in keys} == {
            ("MESH:D99000002", "xref"),
            ("UMLS_CUI:C9900002", "xref"),
            ("UMLS:C9900002", "xref"),
            ("ORDO:99000002", "xref"),
            ("ORPHANET:99000002", "xref"),
            ("DOID:99000009", "altId"),
        }
        assert {k["d"] for k in keys} == {"DOID:99000002"}
    finally:
        discard_release(seeded, key)
    assert _counts(seeded) == before


def test_malformed_owl_fails_with_line(seeded: Graph, tmp_path: Path) -> None:
    path = tmp_path / "doid_test.owl"
    lines = OWL.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "test root disease" in line)
    lines[index] = lines[index].replace("</rdfs:label>", "</rdfs:lable>")  # a mismatched closing tag
    path.write_text("".join(lines))
    before = _counts(seeded)
    with pytest.raises(SourceFormatError) as err:
        doid.load(seeded, path, progress=False, source_name=OWL_SOURCE)
    assert err.value.line == index + 1 and err.value.expected == "well-formed RDF/XML"
    assert not seeded.read("MATCH (s:Source) WHERE s.name = $name RETURN s", name=OWL_SOURCE)
    assert _counts(seeded) == before

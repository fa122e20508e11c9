"""One resolver per entity (kg/queries/resolve.py), on the seeds: every spelling of a disease, drug,
gene and variant names the same node wherever it is asked for — kg functions, GraphQL arguments
(disease, targetedTherapies, pharmacogenomics, evidence and cohort filters) and `kg match --disease`.

The facts asserted are the seed releases' own (seeds/curate.py): DOID:1909 melanoma has the EXACT
synonym "malignant melanoma", the xrefs MESH:D008545 (also a skos exactMatch), NCI:C3224 and
UMLS_CUI:C0025202; DOID:955 is obsolete, replaced by DOID:3192 neurilemmoma; MESH:D016889 is an
xref of two terms; clopidogrel is RxNorm 32968, DrugBank DB00758, ATC B01AC04, PharmGKB PA449053,
trade name Plavix; BRAF is HGNC:1097, NCBI Gene 673, ENSG00000157764.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from kg.db import Graph
from kg.identity.diseases import disease_ids, disease_xref_keys
from kg.identity.drugs import drug_identifier, drug_key
from kg.identity.genes import gene_identifier
from kg.loaders.seeds import default_seed_dir
from kg.queries import cohort, knowledge, pgx, therapy
from kg.queries.resolve import (
    AmbiguousEntity,
    UnknownEntity,
    find_diseases,
    resolve_disease,
    resolve_drug,
    resolve_gene,
    resolve_variant,
)
from tests.api_graph import api_graph, client, gql  # noqa: F401 (fixtures)

PREFIX = "test-resolve-"
BRAF_V600E = "GRCh38:chr7:140753336:A:T"


# --- pure keys (kg/identity) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["DOID:1909", "doid:1909", "DOID_1909", "doid_1909", "1909", "http://purl.obolibrary.org/obo/DOID_1909"]
)
def test_doid_in_any_spelling_has_one_canonical_id(text: str) -> None:
    assert disease_ids(text)[0] == "DOID:1909"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("MeSH:D008545", "MESH:D008545"),
        ("mesh:d008545", "MESH:D008545"),
        ("MSH:D008545", "MESH:D008545"),
        ("MedGen:C0025202", "UMLS:C0025202"),
        ("UMLS_CUI:C0025202", "UMLS:C0025202"),
        ("UMLS:C0025202", "UMLS:C0025202"),
        ("MIM:151623", "OMIM:151623"),
        ("OMIM:151623", "OMIM:151623"),
        ("Orphanet:ORPHA524", "ORDO:524"),
        ("ORPHA:524", "ORDO:524"),
        ("ORDO:524", "ORDO:524"),
        ("NCIt:C3224", "NCI:C3224"),
        ("NCI:C3224", "NCI:C3224"),
    ],
)
def test_cross_reference_prefixes_are_normalised_to_the_keys_doid_is_stored_under(text: str, key: str) -> None:
    assert key in disease_xref_keys(text)


def test_drug_and_gene_identifiers() -> None:
    assert drug_key("  Vemurafenib  Mesylate ") == "vemurafenib mesylate"
    assert drug_identifier("rxnorm:32968") == ("rxnormId", "32968")
    assert drug_identifier("DB00758") == drug_identifier("DrugBank:db00758") == ("drugbankId", "DB00758")
    assert drug_identifier("b01ac04") == ("atc", "B01AC04")
    assert drug_identifier("PA449053") == ("pharmgkbId", "PA449053")
    assert drug_identifier("clopidogrel") is None and drug_identifier("Foo:1") is None
    assert gene_identifier("HGNC:1097") == ("hgncId", "HGNC:1097")
    assert gene_identifier("Entrez:673") == gene_identifier("673") == ("ncbiGeneId", "673")
    assert gene_identifier("ENSG00000157764.15") == ("ensemblId", "ENSG00000157764")
    assert gene_identifier("BRAF") is None


# --- the resolvers on the seeds --------------------------------------------------------------

RETIRED, LOADING = PREFIX + "old@1", PREFIX + "next@2"


@pytest.fixture(scope="module")
def kg(api_graph: Graph) -> Iterator[Graph]:
    """The seeds and the API test graph (tests/api_graph.py), plus a disease, a drug and a gene asserted only by a retired release and another
    set only by a release still loading: neither counts."""
    _cleanup(api_graph)
    api_graph.write(
        """
        UNWIND [{key: $retired, status: 'retired', n: 1}, {key: $loading, status: 'loading', n: 2}] AS r
        MERGE (s:Source {key: r.key}) SET s.name = $prefix + 'src', s.version = toString(r.n), s.status = r.status
        MERGE (d:Disease {id: 'TESTRESOLVE:' + r.n}) SET d.name = 'test resolve ' + r.status + ' disease'
        MERGE (d)-[:ASSERTED_BY]->(s)
        MERGE (dn:DiseaseName {name: 'test resolve ' + r.status + ' disease'}) MERGE (dn)-[:NAME_OF]->(d)
        MERGE (dn)-[:ASSERTED_BY]->(s)
        MERGE (x:DiseaseXref {id: 'TESTRESOLVEX:' + r.n}) MERGE (x)-[:XREF_OF {kind: 'xref'}]->(d)
        MERGE (x)-[:ASSERTED_BY]->(s)
        MERGE (dr:Drug {id: $prefix + r.status + '-drug'}) SET dr.name = dr.id, dr.drugbankId = 'DB9999' + r.n
        MERGE (dr)-[:ASSERTED_BY]->(s)
        MERGE (g:Gene {symbol: toUpper($prefix + r.status)}) MERGE (g)-[:ASSERTED_BY]->(s)
        """,
        retired=RETIRED,
        loading=LOADING,
        prefix=PREFIX,
    )
    try:
        yield api_graph
    finally:
        _cleanup(api_graph)


def _cleanup(kg: Graph) -> None:
    kg.write(
        """
        MATCH (n) WHERE any(k IN ['id', 'key', 'name', 'symbol'] WHERE toLower(toString(n[k])) STARTS WITH $prefix)
           OR n.id STARTS WITH 'TESTRESOLVE' OR n.name STARTS WITH 'test resolve '
        DETACH DELETE n
        """,
        prefix=PREFIX,
    )
    kg.write("MATCH (p:Patient) WHERE p.id STARTS WITH $prefix DETACH DELETE p", prefix=PREFIX)


@pytest.mark.parametrize(
    ("text", "matched_as"),
    [
        ("DOID:1909", "id"),
        ("doid_1909", "id"),
        ("DOID_1909", "id"),
        ("1909", "id"),
        ("melanoma", "name"),
        ("  Malignant   MELANOMA ", "name"),
        ("MESH:D008545", "xref"),
        ("MeSH:D008545", "xref"),
        ("mesh:d008545", "xref"),
        ("UMLS:C0025202", "xref"),
        ("UMLS_CUI:C0025202", "xref"),
        ("MedGen:C0025202", "xref"),
        ("NCI:C3224", "xref"),
        ("NCIt:C3224", "xref"),
    ],
)
def test_melanoma_in_every_spelling(kg: Graph, text: str, matched_as: str) -> None:
    found = resolve_disease(kg, text)
    assert (found.id, found.name, found.matched_as, found.replaced_from) == ("DOID:1909", "melanoma", matched_as, None)


def test_omim_and_orphanet_cross_references(kg: Graph) -> None:
    row = kg.read("MATCH (d:Disease {name: 'Li-Fraumeni syndrome'}) RETURN d.id AS id, d.xrefs AS xrefs")[0]
    assert {"OMIM:PS151623", "ORDO:524"} <= set(row["xrefs"])
    for text in ("OMIM:PS151623", "MIM:PS151623", "Orphanet:ORPHA524", "ORPHA:524", "ORDO:524"):
        assert resolve_disease(kg, text).id == row["id"], text


def test_obsolete_term_follows_its_replacement_and_says_so(kg: Graph) -> None:
    old = kg.read("MATCH (d:Disease {id: 'DOID:955'})-[:REPLACED_BY]->(r) RETURN d.obsolete AS o, r.id AS r")
    assert old == [{"o": True, "r": "DOID:3192"}]
    for text in ("DOID:955", "doid_955", "obsolete benign neurilemmoma"):
        found = resolve_disease(kg, text)
        assert (found.id, found.name) == ("DOID:3192", "neurilemmoma"), text
        assert found.replaced_from == {"id": "DOID:955", "name": "obsolete benign neurilemmoma"}, text
        assert found.ref()["replacedFrom"]["id"] == "DOID:955"
    assert resolve_disease(kg, "schwannoma").replaced_from is None  # the live term by its own synonym


def test_ambiguous_text_is_an_error_listing_the_candidates(kg: Graph) -> None:
    named = kg.read("MATCH (:DiseaseXref {id: 'MESH:D016889'})-[:XREF_OF]->(d) RETURN d.id AS id ORDER BY id")
    assert len(named) == 2
    with pytest.raises(AmbiguousEntity) as err:
        resolve_disease(kg, "MeSH:D016889")
    assert [c.id for c in err.value.candidates] == [r["id"] for r in named]
    assert all(r["id"] in str(err.value) for r in named) and "ambiguous" in str(err.value)
    assert [m.id for m in find_diseases(kg, "MeSH:D016889")] == [r["id"] for r in named]


def test_only_active_releases_count(kg: Graph) -> None:
    for status, n in (("retired", 1), ("loading", 2)):
        for text in (f"TESTRESOLVE:{n}", f"test resolve {status} disease", f"TESTRESOLVEX:{n}"):
            with pytest.raises(UnknownEntity):
                resolve_disease(kg, text)
        for text in (f"{PREFIX}{status}-drug", f"DB9999{n}"):
            with pytest.raises(UnknownEntity):
                resolve_drug(kg, text)
        with pytest.raises(UnknownEntity):
            resolve_gene(kg, f"{PREFIX}{status}")
    assert kg.read("MATCH (d:Disease {id: 'TESTRESOLVE:1'}) RETURN count(d) AS n")[0]["n"] == 1  # it is there


def test_unknown_disease_names_the_text_and_the_forms(kg: Graph) -> None:
    with pytest.raises(UnknownEntity, match="unknown disease 'no such disease xyz': give a DOID id"):
        resolve_disease(kg, "no such disease xyz")


@pytest.mark.parametrize(
    ("text", "matched_as"),
    [
        ("clopidogrel", "id"),
        ("Clopidogrel", "id"),
        ("Plavix", "name"),
        ("clopidogrel sulfate", "name"),
        ("RxNorm:32968", "rxnormId"),
        ("DB00758", "drugbankId"),
        ("DrugBank:DB00758", "drugbankId"),
        ("ATC:B01AC04", "atc"),
        ("B01AC04", "atc"),
        ("PA449053", "pharmgkbId"),
        ("PharmGKB:PA449053", "pharmgkbId"),
    ],
)
def test_drug_by_name_synonym_or_identifier(kg: Graph, text: str, matched_as: str) -> None:
    found = resolve_drug(kg, text)
    assert (found.id, found.matched_as) == ("clopidogrel", matched_as)


@pytest.mark.parametrize(
    ("text", "matched_as"),
    [
        ("BRAF", "symbol"),
        ("braf", "symbol"),
        ("BRAF1", "alias"),
        ("HGNC:1097", "hgncId"),
        ("673", "ncbiGeneId"),
        ("ENSG00000157764", "ensemblId"),
    ],
)
def test_gene_by_symbol_alias_or_identifier(kg: Graph, text: str, matched_as: str) -> None:
    found = resolve_gene(kg, text)
    assert (found.id, found.matched_as) == ("BRAF", matched_as)
    assert resolve_gene(kg, "KRAS2").id == "KRAS" and resolve_gene(kg, "KRAS2").matched_as == "previous"


def test_variant_by_id_rsid_hgvs_and_protein_change(kg: Graph) -> None:
    braf = kg.read("MATCH (v:Variant {id: $id}) RETURN v.rsid AS rsid, v.hgvs AS hgvs", id=BRAF_V600E)
    assert braf == [{"rsid": "rs113488022", "hgvs": braf[0]["hgvs"]}] and "NM_004333.4:c.1799T>A" in braf[0]["hgvs"]
    for text in (
        "7-140753336-A-T",
        "chr7:140753336:A:T",
        "BRAF V600E",
        "braf p.Val600Glu",
        "BRAF1 V600E",
        "RS113488022",
        "NM_004333.4:c.1799T>A",
        "NM_004333.4(BRAF):c.1799T>A",
    ):
        assert resolve_variant(kg, text).id == BRAF_V600E, text


# --- everywhere the same: answers, filters, cohorts --------------------------------------------


def _patient(kg: Graph, name: str, variants: list[str] = (), phenotypes: list[str] = ()) -> str:
    pid = PREFIX + name
    kg.write("MATCH (p:Patient {id: $id}) DETACH DELETE p", id=pid)
    kg.write("CREATE (:Patient {id: $id, assembly: 'GRCh38'})", id=pid)
    for v in variants:
        assert kg.write(
            "MATCH (p:Patient {id: $id}), (v:Variant {id: $v}) "
            "CREATE (p)-[:HAS_VARIANT {zygosity: 'heterozygous', genotype: '0/1', matchLevel: 'exact'}]->(v) "
            "RETURN v.id AS id",
            id=pid,
            v=v,
        )
    for ph in phenotypes:
        assert kg.write(
            "MATCH (p:Patient {id: $id}), (ph:Phenotype {id: $ph}) "
            "CREATE (p)-[:HAS_DIPLOTYPE {gene: ph.gene, diplotype: '*2/*2', status: 'called', "
            "ambiguous: false}]->(ph) RETURN ph.id AS id",
            id=pid,
            ph=ph,
        )
    return pid


def test_targeted_therapies_by_cross_reference_equal_those_by_id(kg: Graph) -> None:
    pid = _patient(kg, "braf", [BRAF_V600E])
    by_id = [a.evidence_id for a in therapy.targeted_therapies(kg, pid, "DOID:1909")]
    assert by_id, "the seeds hold BRAF V600E melanoma evidence"
    for text in ("MESH:D008545", "doid_1909", "malignant melanoma"):
        assert [a.evidence_id for a in therapy.targeted_therapies(kg, pid, text)] == by_id, text


def test_drug_synonyms_and_ids_in_pharmacogenomics_evidence_and_cohorts(kg: Graph) -> None:
    pid = _patient(kg, "cyp2c19", phenotypes=["CYP2C19:Poor Metabolizer"])
    by_name = [(a.drug, a.guideline, a.state) for a in pgx.pharmacogenomics(kg, pid, "clopidogrel")]
    assert by_name and {d.id for d, _, _ in by_name} == {"clopidogrel"}
    for text in ("Plavix", "DB00758", "RxNorm:32968"):
        assert [(a.drug, a.guideline, a.state) for a in pgx.pharmacogenomics(kg, pid, text)] == by_name, text
    zelboraf = resolve_drug(kg, "Zelboraf")  # PharmGKB's trade name of vemurafenib
    assert zelboraf.id == "vemurafenib"
    page = knowledge.evidence_page(kg, knowledge.EvidenceFilter(drug="Zelboraf"), 100)
    assert (
        page.total
        and page.total == knowledge.evidence_page(kg, knowledge.EvidenceFilter(drug="vemurafenib"), 100).total
    )
    braf = _patient(kg, "braf-cohort", [BRAF_V600E])
    found = cohort.cohort_actionable(
        kg, drug="Zelboraf", disease="MESH:D008545", first=1000, patients=None
    )  # every patient
    assert braf in {p.id for p in found.patients}
    with pytest.raises(AmbiguousEntity):
        cohort.cohort_actionable(kg, disease="MESH:D016889")


# --- GraphQL and the CLI -----------------------------------------------------------------------

THERAPIES = """query($id: String!, $disease: String) {
  patient(id: $id) { targetedTherapies(disease: $disease) { evidenceId disease { id } } } }"""
PGX = """query($id: String!, $drug: String) { patient(id: $id) { pharmacogenomics(drug: $drug) { drug { id } state } } }"""
DISEASE = """query($q: String!) { disease(query: $q) { id name matchedAs obsolete replacedFrom { id name } } }"""


def test_graphql_disease_and_targeted_therapies_by_mesh(kg: Graph, client: TestClient) -> None:
    assert gql(client, DISEASE, q="MESH:D008545")["data"]["disease"] == {
        "id": "DOID:1909",
        "name": "melanoma",
        "matchedAs": "xref",
        "obsolete": False,
        "replacedFrom": None,
    }
    pid = _patient(kg, "braf-api", [BRAF_V600E])
    by_id = gql(client, THERAPIES, id=pid, disease="DOID:1909")["data"]["patient"]["targetedTherapies"]
    by_mesh = gql(client, THERAPIES, id=pid, disease="MESH:D008545")
    assert "errors" not in by_mesh, by_mesh
    assert by_id and by_mesh["data"]["patient"]["targetedTherapies"] == by_id


def test_graphql_obsolete_disease_says_what_it_follows(client: TestClient) -> None:
    assert gql(client, DISEASE, q="doid_955")["data"]["disease"] == {
        "id": "DOID:3192",
        "name": "neurilemmoma",
        "matchedAs": "id",
        "obsolete": False,
        "replacedFrom": {"id": "DOID:955", "name": "obsolete benign neurilemmoma"},
    }


def test_graphql_ambiguous_argument_is_bad_input_with_the_candidates(kg: Graph, client: TestClient) -> None:
    pid = _patient(kg, "ambiguous-api", [BRAF_V600E])
    for body in (gql(client, THERAPIES, id=pid, disease="MESH:D016889"), gql(client, DISEASE, q="MESH:D016889")):
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_INPUT" and error["extensions"]["entity"] == "disease"
        assert sorted(c["id"] for c in error["extensions"]["candidates"]) == ["DOID:1380", "DOID:2871"]
    unknown = gql(client, THERAPIES, id=pid, disease="TESTRESOLVE:1")["errors"][0]  # only in a retired release
    assert unknown["extensions"]["code"] == "BAD_INPUT" and "unknown disease 'TESTRESOLVE:1'" in unknown["message"]


def test_graphql_pharmacogenomics_by_drug_synonym_and_id(kg: Graph, client: TestClient) -> None:
    pid = _patient(kg, "cyp2c19-api", phenotypes=["CYP2C19:Poor Metabolizer"])
    by_name = gql(client, PGX, id=pid, drug="clopidogrel")["data"]["patient"]["pharmacogenomics"]
    assert by_name and {a["drug"]["id"] for a in by_name} == {"clopidogrel"}
    for text in ("Plavix", "DB00758", "ATC:B01AC04"):
        assert gql(client, PGX, id=pid, drug=text)["data"]["patient"]["pharmacogenomics"] == by_name, text


def test_kg_match_disease_by_cross_reference_obsolete_id_and_ambiguous_text(
    kg: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kg import cli

    monkeypatch.setattr(cli, "_settings", lambda: kg.settings)
    vcf = str(default_seed_dir() / "patients" / "demo.vcf")
    pid = PREFIX + "cli"
    runner = CliRunner()

    def condition() -> list[str]:
        return [r["id"] for r in kg.read("MATCH (:Patient {id: $p})-[:HAS_CONDITION]->(d) RETURN d.id AS id", p=pid)]

    result = runner.invoke(cli.main, ["match", vcf, "--patient", pid, "--disease", "MESH:D008545"])
    assert result.exit_code == 0, result.output
    assert "condition DOID:1909 melanoma" in result.output and condition() == ["DOID:1909"]
    old = runner.invoke(cli.main, ["match", vcf, "--patient", pid, "--disease", "doid_955"])
    assert old.exit_code == 0, old.output
    assert "condition DOID:3192 neurilemmoma (the obsolete DOID:955 is replaced by it)" in old.output
    assert condition() == ["DOID:3192"]
    bad = runner.invoke(cli.main, ["match", vcf, "--patient", pid, "--disease", "MESH:D016889"])
    assert bad.exit_code == 1 and "is ambiguous" in bad.output
    assert "DOID:1380" in bad.output and "DOID:2871" in bad.output and "nothing was stored" in bad.output
    assert condition() == ["DOID:3192"]  # the refused match changed nothing


# --- the real Disease Ontology ---------------------------------------------------------------


@pytest.mark.realdata
def test_real_doid_melanoma_by_mesh_and_an_obsolete_term(real_data: Graph) -> None:
    assert resolve_disease(real_data, "MESH:D008545").id == "DOID:1909"
    old = real_data.read(
        "MATCH (d:Disease {obsolete: true})-[:REPLACED_BY]->(r:Disease) "
        "RETURN d.id AS old, r.id AS new ORDER BY old LIMIT 1"
    )[0]
    found = resolve_disease(real_data, old["old"].replace(":", "_").lower())
    assert found.id == old["new"] and found.replaced_from and found.replaced_from["id"] == old["old"]

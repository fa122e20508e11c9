"""Knowledge look-ups over GraphQL against a real Neo4j: variants in every spelling, drugs and
diseases by synonym, the evidence filter (disease descendants included) and stable pagination."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from kg.db import Graph
from tests import api_graph as t
from tests.api_graph import api_graph, client, error_code, gql  # noqa: F401 (fixtures)

VARIANT = """query($q: String!) { variant(query: $q) {
  id chrom pos ref alt rsid hgvs proteinChange gene kind
  molecularProfiles { id kind }
  evidence { total byType { key count } bySource { key count } } } }"""


@pytest.mark.parametrize(
    "query",
    [
        t.V1,  # the graph id
        "22-1000001-C-G",  # gnomAD style
        "chr22:1000001:C:G",  # without the assembly
        "rs999000001",  # dbSNP
        "NM_999001.1:c.100C>G",  # HGVS (full-text index, then an exact comparison)
        "NM_999001.1(TEST-API-G1):c.100C>G",  # ClinVar's HGVS with the gene
        "NP_999001.1:p.Val34Glu",  # protein HGVS
        "TEST-API-G1 V34E",  # gene + protein change
        "test-api-g1 p.Val34Glu",  # three-letter amino acids, any case
        "TEST-API-G1 p.(Val34Glu)",  # predicted change in parentheses
        "test-api-alias1 V34E",  # the gene by an alias
    ],
)
def test_variant_by_every_spelling(client: TestClient, query: str) -> None:
    body = gql(client, VARIANT, q=query)
    assert "errors" not in body, body
    v = body["data"]["variant"]
    assert v["id"] == t.V1 and v["chrom"] == "chr22" and v["pos"] == 1000001 and v["ref"] == "C" and v["alt"] == "G"
    assert v["rsid"] == "rs999000001" and v["proteinChange"] == "V34E" and v["gene"] == t.GENE and v["kind"] == "exact"
    assert "NM_999001.1:c.100C>G" in v["hgvs"]
    assert v["molecularProfiles"] == [{"id": t.MP1, "kind": "single"}]


def test_variant_evidence_summary_counts_only_visible_evidence(client: TestClient) -> None:
    v = gql(client, VARIANT, q=t.V1)["data"]["variant"]
    # 12 through the profile, 6 direct, 1 CIViC-style 'accepted'; not the loading release's, not the SUBMITTED one
    assert v["evidence"]["total"] == 19
    assert {c["key"]: c["count"] for c in v["evidence"]["byType"]} == {
        "predictive": 12,
        "prognostic": 6,
        "functional": 1,
    }


def test_ambiguous_protein_change_lists_variants_and_refuses_the_single_form(client: TestClient) -> None:
    listed = gql(client, "query($q: String!) { variants(query: $q) { id } }", q=f"{t.GENE} L35Q")
    assert [v["id"] for v in listed["data"]["variants"]] == [t.V2, t.V3]
    single = gql(client, VARIANT, q=f"{t.GENE} L35Q")
    assert error_code(single) == "BAD_INPUT"
    assert t.V2 in single["errors"][0]["message"] and t.V3 in single["errors"][0]["message"]


def test_unknown_variant_is_null_and_empty_query_bad_input(client: TestClient) -> None:
    assert gql(client, VARIANT, q="TEST-API-G1 W999X")["data"] == {"variant": None}
    assert gql(client, VARIANT, q="rs1")["data"] == {"variant": None}
    assert error_code(gql(client, VARIANT, q="   ")) == "BAD_INPUT"


DRUG = "query($n: String!) { drug(name: $n) { id name synonyms rxnormId } }"


@pytest.mark.parametrize("name", ["Test-API-Drugone", "tad-1", "  TESTAPIMAB ", t.DRUG1])
def test_drug_by_name_or_synonym(client: TestClient, name: str) -> None:
    drug = gql(client, DRUG, n=name)["data"]["drug"]
    assert drug == {
        "id": t.DRUG1,
        "name": "Test-API-Drugone",
        "synonyms": ["TAD-1", "Testapimab"],
        "rxnormId": "test-api-rx",
    }


def test_unknown_drug_is_null(client: TestClient) -> None:
    assert gql(client, DRUG, n="no such drug")["data"] == {"drug": None}


DISEASE = """query($q: String!) { disease(query: $q) {
  id name obsolete matchedAs replacedBy { id name } parents { id name } children { id } } }"""


def test_disease_by_id_synonym_and_xref_with_parents_and_children(client: TestClient) -> None:
    by_id = gql(client, DISEASE, q="testapi:0002")["data"]["disease"]
    assert by_id["id"] == t.D_LUNG and by_id["matchedAs"] == "id"
    assert by_id["parents"] == [{"id": t.D_ROOT, "name": "test api cancer"}]
    assert by_id["children"] == [{"id": t.D_ADENO}]
    by_synonym = gql(client, DISEASE, q="TEST API nsclc")["data"]["disease"]
    assert by_synonym["id"] == t.D_LUNG and by_synonym["matchedAs"] == "name"
    by_xref = gql(client, DISEASE, q="testapix:42")["data"]["disease"]
    assert by_xref["id"] == t.D_ADENO and by_xref["matchedAs"] == "xref"


def test_obsolete_disease_stands_for_its_replacement_and_says_so(client: TestClient) -> None:
    found = gql(
        client, "query($q: String!) { disease(query: $q) { id obsolete replacedFrom { id name } } }", q=t.D_OLD
    )["data"]["disease"]
    assert found == {
        "id": t.D_LUNG,
        "obsolete": False,
        "replacedFrom": {"id": t.D_OLD, "name": "obsolete test api lung tumour"},
    }


def test_real_doid_disease_from_the_seeds_by_synonym(client: TestClient) -> None:
    disease = gql(client, DISEASE, q="malignant intestinal tumors")["data"]["disease"]
    assert disease["id"] == "DOID:10155" and disease["name"] == "intestinal cancer"
    assert {p["id"] for p in disease["parents"]} == {"DOID:3119", "DOID:5295"}


def test_ontology_walk_nests_through_a_dataloader(client: TestClient) -> None:
    body = gql(
        client, "query($q: String!) { disease(query: $q) { children { children { id parents { id } } } } }", q=t.D_ROOT
    )
    assert body["data"]["disease"]["children"][0]["children"] == [{"id": t.D_ADENO, "parents": [{"id": t.D_LUNG}]}]


def test_over_deep_query_is_refused_by_the_depth_limiter(client: TestClient) -> None:
    nested = "id"
    for _ in range(11):
        nested = f"parents {{ {nested} }}"
    body = gql(client, f"query($q: String!) {{ disease(query: $q) {{ {nested} }} }}", q=t.D_ADENO)
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


EVIDENCE = """query($f: EvidenceFilter, $first: Int!, $after: String) {
  evidence(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id type level significance status disease { id } drugs { id }
            molecularProfile { id } sources { key licence loadedAt } } } } }"""


def _ids(body: dict) -> list[str]:
    return [e["node"]["id"] for e in body["data"]["evidence"]["edges"]]


def test_evidence_filter_by_disease_includes_descendants(client: TestClient) -> None:
    lung = gql(client, EVIDENCE, f={"disease": "test api lung cancer"}, first=100)
    # 6 on the lung itself (diagnostic) + 12 on its child adenocarcinoma; not the root's, not the other disease's
    assert lung["data"]["evidence"]["totalCount"] == 18
    assert {e["node"]["disease"]["id"] for e in lung["data"]["evidence"]["edges"]} == {t.D_LUNG, t.D_ADENO}
    root = gql(client, EVIDENCE, f={"disease": t.D_ROOT}, first=100)
    assert root["data"]["evidence"]["totalCount"] == 24
    obsolete = gql(client, EVIDENCE, f={"disease": t.D_OLD}, first=1)  # stands for its replacement
    assert obsolete["data"]["evidence"]["totalCount"] == 18


def test_evidence_filters_combine(client: TestClient) -> None:
    body = gql(
        client, EVIDENCE, f={"drug": "TAD-1", "disease": t.D_ADENO, "level": "b", "type": "Predictive"}, first=100
    )
    nodes = [e["node"] for e in body["data"]["evidence"]["edges"]]
    assert body["data"]["evidence"]["totalCount"] == 6 == len(nodes)
    assert all(
        n["level"] == "B" and n["drugs"] == [{"id": t.DRUG1}] and n["molecularProfile"] == {"id": t.MP1} for n in nodes
    )
    assert nodes[0]["sources"] == [{"key": t.SOURCE, "licence": "CC0 1.0", "loadedAt": "2026-01-01T00:00:00+00:00"}]
    by_variant = gql(client, EVIDENCE, f={"variant": "22-1000001-C-G"}, first=100)
    assert by_variant["data"]["evidence"]["totalCount"] == 19  # through the profile too
    by_gene = gql(client, EVIDENCE, f={"gene": t.GENE, "significance": "positive"}, first=100)
    assert by_gene["data"]["evidence"]["totalCount"] == 6


def test_evidence_hides_loading_releases_and_unaccepted_items(client: TestClient) -> None:
    body = gql(client, EVIDENCE, f={"variant": t.V1, "significance": "resistance"}, first=100)
    assert body["data"]["evidence"]["totalCount"] == 0  # both 'resistance' items are invisible
    civic_style = gql(client, EVIDENCE, f={"variant": t.V1, "type": "functional"}, first=10)
    assert _ids(civic_style) == ["test-api:Y-civic-style"]
    assert civic_style["data"]["evidence"]["edges"][0]["node"]["status"] == "ACCEPTED"


def test_evidence_by_id_is_one_visible_item(client: TestClient) -> None:
    """The explorer opens an evidence item by id; an item answers may not show stays hidden."""
    one = gql(client, EVIDENCE, f={"id": "test-api:E13"}, first=5)
    assert _ids(one) == ["test-api:E13"] and one["data"]["evidence"]["totalCount"] == 1
    narrowed = gql(client, EVIDENCE, f={"id": "test-api:E13", "type": "predictive"}, first=5)
    assert _ids(narrowed) == []  # E13 is prognostic
    for hidden in ("test-api:X-submitted", "test-api:X-loading"):
        assert _ids(gql(client, EVIDENCE, f={"id": hidden}, first=5)) == []


def test_unknown_filter_reference_is_bad_input(client: TestClient) -> None:
    body = gql(client, EVIDENCE, f={"drug": "no such drug"}, first=5)
    assert error_code(body) == "BAD_INPUT" and "drug 'no such drug'" in body["errors"][0]["message"]


def test_pagination_walks_every_item_once_in_a_stable_order(client: TestClient, api_graph: Graph) -> None:
    expected = sorted([f"test-api:E{n:02d}" for n in range(1, 31)] + ["test-api:Y-civic-style"])
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = gql(client, EVIDENCE, f={"source": "test-api"}, first=7, after=after)
        assert "errors" not in body, body
        connection = body["data"]["evidence"]
        assert connection["totalCount"] == len(expected) + (1 if pages else 0)
        seen += _ids(body)
        pages += 1
        if pages == 1:  # an item sorting before the cursor appears meanwhile: later pages are unaffected
            api_graph.write(
                "MATCH (s:Source {key: $source}) CREATE (e:Evidence {id: 'test-api:E00', source: 'test-api'}) "
                "CREATE (e)-[:ASSERTED_BY]->(s)",
                source=t.SOURCE,
            )
        if not connection["pageInfo"]["hasNextPage"]:
            break
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        after = connection["pageInfo"]["endCursor"]
    api_graph.write("MATCH (e:Evidence {id: 'test-api:E00'}) DETACH DELETE e")
    assert pages == 5
    assert seen == expected  # no duplicates, no gaps, in id order


def test_first_above_100_and_foreign_cursors_are_refused(client: TestClient) -> None:
    body = gql(client, EVIDENCE, first=500)
    assert error_code(body) == "BAD_INPUT" and "first" in body["errors"][0]["message"]
    assert error_code(gql(client, EVIDENCE, first=5, after="not-a-cursor")) == "BAD_INPUT"
    assert error_code(gql(client, EVIDENCE, first=5, after="cGF0aWVudDp4")) == "BAD_INPUT"  # a patient cursor

"""Research queries over GraphQL against a real Neo4j: neighbourhoods and their limits, paths,
cohort counts on patients made here, and the RDF export read back with rdflib."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import rdflib
from prometheus_client.parser import text_string_to_metric_families
from rdflib import RDF, RDFS, Literal
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.config import Settings
from kg.db import Graph
from kg.queries.export import NODE, VOCAB
from tests import api_graph as t
from tests.api_graph import api_graph, bearer, client, error_code, gql, token_for  # noqa: F401 (fixtures)

NEIGHBORS = """query($id: String!, $label: String, $types: [String!], $direction: Direction!, $depth: Int!, $limit: Int!) {
  neighbors(id: $id, label: $label, relationshipTypes: $types, direction: $direction, depth: $depth, limit: $limit) {
    root { id label } truncated
    nodes { id label labels name properties }
    edges { type start startLabel end endLabel properties } } }"""


def _neighbors(client: TestClient, node: str, **kw: object) -> dict:
    args = {"label": None, "types": None, "direction": "BOTH", "depth": 1, "limit": 50, **kw}
    return gql(client, NEIGHBORS, id=node, **args)


def test_neighbors_of_a_variant(client: TestClient) -> None:
    body = _neighbors(client, t.V1)
    assert "errors" not in body, body
    sub = body["data"]["neighbors"]
    assert sub["root"] == {"id": t.V1, "label": "Variant"} and not sub["truncated"]
    keys = {n["id"] for n in sub["nodes"]}
    assert {t.GENE, t.MP1, "test-api-p1", "test-api-p2", "test-api:E13", t.SOURCE} <= keys
    assert "test-api:X-submitted" not in keys and "test-api:X-loading" not in keys  # not shown to answers
    assert {
        "type": "IN_GENE",
        "start": t.V1,
        "startLabel": "Variant",
        "end": t.GENE,
        "endLabel": "Gene",
        "properties": {"releases": [t.SOURCE]},
    } in sub["edges"]
    variant = next(n for n in sub["nodes"] if n["id"] == t.V1)
    assert variant["properties"]["rsid"] == "rs999000001" and variant["name"] == f"{t.GENE} V34E"


def test_neighbors_by_type_direction_and_depth(client: TestClient) -> None:
    sub = _neighbors(client, t.MP1, types=["INCLUDES", "IN_GENE"], direction="OUTGOING", depth=2)["data"]["neighbors"]
    assert {n["id"] for n in sub["nodes"]} == {t.MP1, t.V1, t.GENE}
    assert {(e["type"], e["start"], e["end"]) for e in sub["edges"]} == {
        ("INCLUDES", t.MP1, t.V1),
        ("IN_GENE", t.V1, t.GENE),
    }
    wider = _neighbors(client, t.MP1, types=["INCLUDES", "IN_GENE"], depth=3)["data"]["neighbors"]
    assert {n["id"] for n in wider["nodes"]} == {t.MP1, t.V1, t.GENE, t.V2, t.V3}


def test_neighbors_limit_truncates(client: TestClient) -> None:
    sub = _neighbors(client, t.V1, types=["ABOUT"], direction="INCOMING", limit=3)["data"]["neighbors"]
    assert len(sub["nodes"]) == 4 and sub["truncated"]
    assert all(e["type"] == "ABOUT" and e["end"] == t.V1 for e in sub["edges"]) and len(sub["edges"]) == 3


def test_label_disambiguates_and_entities_win_over_lookup_nodes(client: TestClient) -> None:
    drug = _neighbors(client, t.DRUG1)["data"]["neighbors"]["root"]  # a Drug and a DrugName share the key
    assert drug == {"id": t.DRUG1, "label": "Drug"}
    name = _neighbors(client, t.DRUG1, label="DrugName")["data"]["neighbors"]["root"]
    assert name == {"id": t.DRUG1, "label": "DrugName"}


def test_relationship_types_list_the_allow_list(client: TestClient) -> None:
    """The explorer's type filter: every type neighbors accepts, the look-up ones marked."""
    types = gql(client, "{ relationshipTypes { name lookup } }")["data"]["relationshipTypes"]
    names = [x["name"] for x in types]
    assert "IN_GENE" in names and "ASSERTED_BY" in names and len(names) == len(set(names))
    assert {x["name"] for x in types if x["lookup"]} == {
        "ASSERTED_BY",
        "SUPERSEDED_IN",
        "ALIAS_OF",
        "NAME_OF",
        "XREF_OF",
    }
    sub = _neighbors(client, t.V1, types=names)["data"]["neighbors"]  # each name is accepted
    assert sub["root"]["id"] == t.V1


def test_neighbors_errors(client: TestClient) -> None:
    assert error_code(_neighbors(client, "test-api-nothing")) == "NOT_FOUND"
    assert error_code(_neighbors(client, t.GENE, label="Gene) DETACH DELETE (n")) == "BAD_INPUT"
    assert error_code(_neighbors(client, t.GENE, limit=501)) == "BAD_INPUT"


@pytest.fixture(scope="module")
def unreachable(auth_settings: AuthSettings) -> Iterator[TestClient]:
    """An app whose Neo4j does not exist: any query that reached Cypher would fail UNAVAILABLE."""
    app = create_app(Settings(uri="bolt://127.0.0.1:1", retry_seconds=1), auth=auth_settings)
    with TestClient(app, headers=bearer(token_for(auth_settings, Role.ADMIN)), base_url="http://localhost") as c:
        yield c


def test_depth_4_is_refused_before_any_cypher(unreachable: TestClient) -> None:
    body = _neighbors(unreachable, t.GENE, depth=4)
    assert error_code(body) == "BAD_INPUT" and "depth" in body["errors"][0]["message"]


def test_unknown_relationship_type_is_refused_before_any_cypher(unreachable: TestClient) -> None:
    body = _neighbors(unreachable, t.GENE, types=["IN_GENE", "KNOWS]->() DETACH DELETE n //"])
    assert error_code(body) == "BAD_INPUT" and "unknown relationship type" in body["errors"][0]["message"]
    assert error_code(_neighbors(unreachable, t.GENE)) == "UNAVAILABLE"  # the control: this one did reach Neo4j


def _error_counts(c: TestClient) -> dict[str, float]:
    """kg_graphql_errors_total by code, as /metrics serves it."""
    return {
        sample.labels["code"]: sample.value
        for family in text_string_to_metric_families(c.get("/metrics").text)
        if family.name == "kg_graphql_errors"
        for sample in family.samples
        if sample.name == "kg_graphql_errors_total"
    }


def test_graphql_errors_are_counted_by_code_in_the_metrics(unreachable: TestClient) -> None:
    before = _error_counts(unreachable)
    assert error_code(_neighbors(unreachable, t.GENE, depth=4)) == "BAD_INPUT"
    assert error_code(_neighbors(unreachable, t.GENE)) == "UNAVAILABLE"
    assert error_code(gql(unreachable, "{ noSuchField }")) is None  # a query that does not validate
    assert error_code(_neighbors(unreachable, t.GENE)) == "UNAVAILABLE"
    after = _error_counts(unreachable)
    assert {code: n - before.get(code, 0) for code, n in after.items() if n != before.get(code, 0)} == {
        "BAD_INPUT": 1,
        "UNAVAILABLE": 2,
        "GRAPHQL_VALIDATION": 1,
    }


def test_an_unexpected_error_is_masked_as_internal_and_counted(api_graph: Graph, auth_settings: AuthSettings) -> None:
    """A database the server does not have: the driver's error is not a client's, so it is masked."""
    settings = dataclasses.replace(api_graph.settings, database="testapinosuchdatabase", retry_seconds=1)
    app = create_app(settings, auth=auth_settings, apply_schema_on_start=False)
    with TestClient(app, headers=bearer(token_for(auth_settings, Role.ADMIN))) as c:
        body = _neighbors(c, t.GENE)
        assert error_code(body) == "INTERNAL" and body["errors"][0]["message"] == "internal error"
        assert "testapinosuchdatabase" not in str(body)  # nothing of the cause leaves the server
        assert _error_counts(c) == {"INTERNAL": 1}


PATHS = """query($from: String!, $to: String!, $hops: Int!, $shortest: Boolean!) {
  paths(from: $from, to: $to, maxHops: $hops, limit: 50, shortest: $shortest) {
    length nodes { id label } edges { type start end } } }"""


def test_paths_between_a_drug_and_a_gene(client: TestClient) -> None:
    body = gql(client, PATHS, **{"from": "Test-API-Drugone".lower(), "to": t.GENE, "hops": 4, "shortest": True})
    assert "errors" not in body, body
    paths = body["data"]["paths"]
    assert len(paths) == 12 and {p["length"] for p in paths} == {4}  # drug <- evidence -> profile -> variant -> gene
    first = paths[0]
    assert [n["label"] for n in first["nodes"]] == ["Drug", "Evidence", "MolecularProfile", "Variant", "Gene"]
    assert [e["type"] for e in first["edges"]] == ["FOR_DRUG", "ABOUT", "INCLUDES", "IN_GENE"]
    assert all(n["id"] != t.SOURCE for p in paths for n in p["nodes"])  # no shortcut through provenance


def test_paths_beyond_max_hops_and_limits(client: TestClient) -> None:
    assert gql(client, PATHS, **{"from": t.DRUG1, "to": t.GENE, "hops": 3, "shortest": True})["data"]["paths"] == []
    every = gql(client, PATHS, **{"from": t.DRUG2, "to": t.GENE, "hops": 4, "shortest": False})["data"]["paths"]
    assert every and all(len({n["id"] for n in p["nodes"]}) == len(p["nodes"]) for p in every)  # simple paths
    assert error_code(gql(client, PATHS, **{"from": t.DRUG1, "to": t.GENE, "hops": 5, "shortest": True})) == "BAD_INPUT"
    assert (
        error_code(gql(client, PATHS, **{"from": t.DRUG1, "to": "nowhere", "hops": 2, "shortest": True})) == "NOT_FOUND"
    )


def test_cohort_phenotypes(client: TestClient) -> None:
    body = gql(
        client,
        "query($g: String!) { cohortPhenotypes(gene: $g) { gene patients releases asOf "
        "phenotypes { id patients patientIds diplotypes { key count } } } }",
        g="test-api-pg",
    )
    cohort = body["data"]["cohortPhenotypes"]
    assert cohort["gene"] == "TEST-API-PG" and cohort["patients"] == 4
    assert cohort.pop("releases") == [t.SOURCE] and cohort.pop("asOf") is None
    assert cohort["phenotypes"] == [
        {
            "id": t.PHENO_NM,
            "patients": 2,
            "patientIds": ["test-api-p2", "test-api-p4"],
            "diplotypes": [{"key": "*1/*2", "count": 2}],
        },
        {
            "id": t.PHENO_PM,
            "patients": 2,
            "patientIds": ["test-api-p1", "test-api-p3"],
            "diplotypes": [{"key": "*1/*2", "count": 2}],
        },
    ]


ACTIONABLE = """query($drug: String, $disease: String, $first: Int!, $after: String) {
  cohortActionable(drug: $drug, disease: $disease, first: $first, after: $after) {
    totalCount viaEvidence viaRecommendation patients { id evidenceCount recommendations }
    pageInfo { hasNextPage endCursor } } }"""


def _actionable(client: TestClient, **kw: object) -> dict:
    return gql(client, ACTIONABLE, **{"drug": None, "disease": None, "first": 100, "after": None, **kw})


def test_cohort_actionable_for_a_drug(client: TestClient) -> None:
    by_evidence = _actionable(client, drug="TAD-1")["data"]["cohortActionable"]
    assert by_evidence["totalCount"] == 2 and by_evidence["viaEvidence"] == 2
    assert [p["id"] for p in by_evidence["patients"]] == ["test-api-p1", "test-api-p2"]  # V1, via the profile
    by_guideline = _actionable(client, drug=t.DRUG3)["data"]["cohortActionable"]
    # poor metabolizers have a recommendation; normal metabolizers only a "No recommendation"
    assert by_guideline["viaRecommendation"] == 2 and by_guideline["viaEvidence"] == 0
    assert [(p["id"], p["recommendations"]) for p in by_guideline["patients"]] == [
        ("test-api-p1", ["test-api:R1"]),
        ("test-api-p3", ["test-api:R1"]),
    ]


def test_cohort_actionable_for_a_disease_with_descendants_paged(client: TestClient) -> None:
    first = _actionable(client, disease="test api cancer", first=2)["data"]["cohortActionable"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    rest = _actionable(client, disease="test api cancer", first=2, after=first["pageInfo"]["endCursor"])["data"][
        "cohortActionable"
    ]
    assert [p["id"] for p in first["patients"] + rest["patients"]] == ["test-api-p1", "test-api-p2", "test-api-p3"]
    assert not rest["pageInfo"]["hasNextPage"]
    # p5 carries only V3, which no evidence is about
    both = _actionable(client, drug="TAD-1", disease=t.D_OTHER)["data"]["cohortActionable"]
    assert both["totalCount"] == 0


def test_cohort_actionable_needs_a_known_drug_or_disease(client: TestClient) -> None:
    assert error_code(_actionable(client)) == "BAD_INPUT"
    assert error_code(_actionable(client, drug="no such drug")) == "BAD_INPUT"


EXPORT = """query($id: String!, $format: ExportFormat!) {
  exportSubgraph(id: $id, depth: 1, format: $format) { format mediaType nodeCount edgeCount content } }"""


def test_turtle_export_parses_back_with_rdflib(client: TestClient) -> None:
    body = gql(client, EXPORT, id=t.V1, format="TURTLE")
    assert "errors" not in body, body
    export = body["data"]["exportSubgraph"]
    assert export["mediaType"] == "text/turtle" and export["nodeCount"] > 5
    rdf = rdflib.Graph().parse(data=export["content"], format="turtle")
    variant = rdflib.URIRef(f"{NODE}Variant/{quote(t.V1, safe='')}")
    gene = rdflib.URIRef(f"{NODE}Gene/{quote(t.GENE, safe='')}")
    assert (variant, RDF.type, VOCAB.Variant) in rdf
    assert (variant, VOCAB.rsid, Literal("rs999000001")) in rdf
    assert (variant, VOCAB.pos, Literal(1000001)) in rdf
    assert (variant, RDFS.label, Literal(f"{t.GENE} V34E")) in rdf
    assert (variant, VOCAB.IN_GENE, gene) in rdf
    assert set(rdf.objects(variant, VOCAB.hgvs)) == {Literal("NM_999001.1:c.100C>G"), Literal("NP_999001.1:p.Val34Glu")}


def test_json_export_and_the_plain_http_route(client: TestClient) -> None:
    export = gql(client, EXPORT, id=t.MP1, format="JSON")["data"]["exportSubgraph"]
    assert export["mediaType"] == "application/json" and f'"{t.V1}"' in export["content"]
    response = client.get("/export", params={"id": t.V1, "format": "turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=response.text, format="turtle")) > 10
    assert client.get("/export", params={"id": "test-api-nothing"}).status_code == 404
    assert client.get("/export", params={"id": t.V1, "depth": "9"}).status_code == 400

"""Issue 2: schema, seeds, the gene query and /health against a real Neo4j."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.config import Settings
from kg.db import Graph
from kg.loaders.seeds import load_seeds
from kg.queries.stats import label_counts
from kg.schema import apply_schema, schema_statements
from tests.api_graph import bearer, token_for


def _counts(graph: Graph) -> dict[str, int]:
    return {row["label"]: row["count"] for row in label_counts(graph)}


def test_schema_apply_twice_is_harmless(graph: Graph) -> None:
    apply_schema(graph)
    constraints = {row["name"] for row in graph.read("SHOW CONSTRAINTS YIELD name")}
    indexes = len(graph.read("SHOW INDEXES"))
    apply_schema(graph)
    assert {row["name"] for row in graph.read("SHOW CONSTRAINTS YIELD name")} == constraints
    assert len(graph.read("SHOW INDEXES")) == indexes
    assert "gene_symbol_unique" in constraints and "variant_id_unique" in constraints
    assert len(constraints) == sum(s.startswith("CREATE CONSTRAINT") for s in schema_statements())


def test_gene_key_is_unique(seeded: Graph) -> None:
    with pytest.raises(Exception, match="already exists"):
        seeded.write("CREATE (:Gene {symbol: 'BRAF'})")


def test_seeds_loaded_twice_give_no_duplicates(seeded: Graph) -> None:
    before = _counts(seeded)
    edges_before = seeded.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    report = load_seeds(seeded, progress=False)
    assert report.skipped
    assert _counts(seeded) == before
    assert seeded.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"] == edges_before
    duplicates = seeded.read("MATCH (g:Gene) WITH g.symbol AS s, count(*) AS c WHERE c > 1 RETURN s")
    assert duplicates == []


def test_every_seed_fact_knows_its_release(seeded: Graph) -> None:
    orphans = seeded.read(
        "MATCH (n) WHERE (n:Gene OR n:Disease) AND NOT (n)-[:ASSERTED_BY]->(:Source) RETURN count(n) AS n"
    )[0]["n"]
    assert orphans == 0
    # the seeds are subsets of the real releases, loaded as <source>@seed-<version> (or replaced by the real ones)
    sources = seeded.read(
        "MATCH (s:Source {status: 'active'}) WHERE s.name IN ['hgnc', 'doid'] RETURN s.name AS name, s.checksum AS sum"
    )
    assert sorted(s["name"] for s in sources) == ["doid", "hgnc"] and all(len(s["sum"]) == 64 for s in sources)


@pytest.fixture(scope="module")
def client(seeded: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    """A clinician without patient grants: knowledge look-ups only."""
    token = token_for(auth_settings, Role.CLINICIAN, "test-api-clinician-none")
    with TestClient(create_app(seeded.settings, auth=auth_settings), headers=bearer(token)) as c:
        yield c


def _gene(client: TestClient, symbol: str) -> dict:
    query = "query($s: String!) { gene(symbol: $s) { symbol name hgncId matchedAs aliases previousSymbols } }"
    return client.post("/graphql", json={"query": query, "variables": {"s": symbol}}).json()


def test_gene_by_symbol(client: TestClient) -> None:
    body = _gene(client, "BRAF")
    assert "errors" not in body
    gene = body["data"]["gene"]
    assert gene["symbol"] == "BRAF" and gene["hgncId"] == "HGNC:1097" and gene["matchedAs"] == "symbol"
    assert gene["name"].startswith("B-Raf proto-oncogene")


def test_gene_by_alias_and_previous_symbol(client: TestClient) -> None:
    alias = _gene(client, "erbb1")["data"]["gene"]
    assert alias["symbol"] == "EGFR" and alias["matchedAs"] == "alias"
    previous = _gene(client, "KRAS2")["data"]["gene"]
    assert previous["symbol"] == "KRAS" and previous["matchedAs"] == "previous"


def test_unknown_symbol_is_null_not_error(client: TestClient) -> None:
    body = _gene(client, "NOTAGENE123")
    assert body == {"data": {"gene": None}}


def test_empty_symbol_is_bad_input(client: TestClient) -> None:
    body = _gene(client, "  ")
    assert body["errors"][0]["extensions"]["code"] == "BAD_INPUT"


def test_health_reports_neo4j_up(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json()["neo4j"] == "up"


def test_health_reports_neo4j_down_when_unreachable(auth_settings: AuthSettings) -> None:
    unreachable = Settings(uri="bolt://127.0.0.1:1", retry_seconds=1)  # nothing listens on port 1
    token = token_for(auth_settings, Role.RESEARCHER, "test-api-researcher-down")
    with TestClient(
        create_app(unreachable, auth=auth_settings), headers=bearer(token), base_url="http://localhost"
    ) as c:
        response = c.get("/health")
        assert response.status_code == 503
        assert response.json()["neo4j"] == "down"
        body = c.post("/graphql", json={"query": '{ gene(symbol: "BRAF") { symbol } }'}).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert "Traceback" not in str(body)

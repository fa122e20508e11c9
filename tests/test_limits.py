"""Limits (issue 9): bounded research traversals on the real releases, Neo4j's transaction timeout on
every query, per-identity rate limits, production mode without GraphiQL and introspection, the one
argument validator."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from api.limits import ArgumentError, check_string, rate_key
from kg.access.settings import AuthSettings
from kg.config import Settings
from kg.db import Graph, QueryTimeout
from kg.queries import explore
from kg.queries.bounds import QueryTooBroad, bounded_read
from tests.api_graph import admin_client, api_graph, error_code  # noqa: F401 (fixture)

PATHS = """query($from: String!, $to: String!, $hops: Int!, $shortest: Boolean!) {
  paths(from: $from, to: $to, maxHops: $hops, shortest: $shortest, limit: 10) { length nodes { id label } } }"""


@pytest.fixture(scope="module")
def real_client(real_data: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    with admin_client(real_data.settings, auth_settings) as client:
        yield client


def test_the_481_second_paths_example_answers_promptly(real_client: TestClient, real_data: Graph) -> None:
    """`paths(from: "TP53", to: "DOID:4", maxHops: 4, shortest: false, limit: 10)` ran 481 s on the full
    releases and returned nothing. Now it is bounded: a result or QUERY_TOO_BROAD, within the
    traversal timeout (the guard: Neo4j itself ends the transaction there)."""
    started = time.monotonic()
    body = real_client.post(
        "/graphql", json={"query": PATHS, "variables": {"from": "TP53", "to": "DOID:4", "hops": 4, "shortest": False}}
    ).json()
    elapsed = time.monotonic() - started
    assert "errors" not in body or error_code(body) == "QUERY_TOO_BROAD", body
    for path in (body.get("data") or {}).get("paths") or []:
        assert path["nodes"][0]["id"] == "TP53" and path["nodes"][-1]["id"] == "DOID:4" and path["length"] <= 4
    assert elapsed < 2 * real_data.settings.traversal_timeout + 30  # a guard, not a benchmark
    print(f"\npaths TP53 -> DOID:4 (maxHops 4, shortest false): {elapsed:.2f} s, {body.get('data')}")


def test_paths_from_both_ends_match_a_plain_search(real_data: Graph) -> None:
    """The bidirectional plan finds the simple paths a plain variable-length match finds, where the
    plain match is cheap (TP53 to a specific disease, maxHops 4), shortest first."""
    bounded = explore.find_paths(real_data, "TP53", "DOID:3908", max_hops=4, limit=50, shortest=False)
    assert bounded and [p.length for p in bounded] == sorted(p.length for p in bounded)
    assert all(p.nodes[0].id == "TP53" and p.nodes[-1].id == "DOID:3908" for p in bounded)
    assert all(len({n.eid for n in p.nodes}) == len(p.nodes) for p in bounded)  # simple paths
    shortest = explore.find_paths(real_data, "TP53", "DOID:3908", max_hops=4, limit=50, shortest=True)
    assert min(p.length for p in bounded) == min(p.length for p in shortest)


def test_a_traversal_over_its_cap_is_query_too_broad(real_client: TestClient) -> None:
    body = real_client.post(
        "/graphql",
        json={"query": PATHS, "variables": {"from": "BRCA2", "to": "DOID:162", "hops": 4, "shortest": False}},
    ).json()
    assert error_code(body) == "QUERY_TOO_BROAD", body
    assert "relationshipTypes" in body["errors"][0]["message"]  # says how to narrow it


def test_neo4j_ends_a_query_at_its_timeout(api_graph: Graph) -> None:
    slow = "UNWIND range(1, 2000000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*) AS n"
    with pytest.raises(QueryTimeout):
        api_graph.read(slow, timeout_=1)
    # a traversal past the traversal timeout is QUERY_TOO_BROAD with the hint (a query that surely runs
    # longer than the bound: a tiny neighbourhood can finish inside even a 1 ms bound once its plan is cached)
    settings = dataclasses.replace(api_graph.settings, traversal_timeout=1)
    with Graph(settings) as tight, pytest.raises(QueryTooBroad, match="did not finish within 1 s; narrow it"):
        bounded_read(tight, slow, what="a slow traversal", hint="narrow it")


def test_rate_limit_per_identity(api_graph: Graph, auth_settings: AuthSettings) -> None:
    settings = dataclasses.replace(api_graph.settings, rate_limit="3/minute")
    with admin_client(settings, auth_settings) as client:
        answers = [client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[-1].json()["code"] == "RATE_LIMITED" and int(answers[-1].headers["retry-after"]) >= 1
        assert client.get("/health").status_code == 200  # not counted
    assert rate_key({"client": ("10.0.0.1", 1)}) == "ip:10.0.0.1"
    identity = type("Identity", (), {"subject": "alice"})()
    assert rate_key({"client": ("10.0.0.1", 1), "state": {"identity": identity}}) == "id:alice"


def test_production_mode_has_no_graphiql_and_no_introspection(api_graph: Graph, auth_settings: AuthSettings) -> None:
    production = dataclasses.replace(api_graph.settings, env="production")
    with admin_client(production, auth_settings) as client:
        assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 404
        body = client.post("/graphql", json={"query": "{ __schema { types { name } } }"}).json()
        assert body.get("errors") and not body.get("data")
        assert "gene" in str(
            client.post("/graphql", json={"query": '{ gene(symbol: "TEST-API-G1") { symbol } }'}).json()
        )
    with admin_client(api_graph.settings, auth_settings) as client:  # development: both on
        assert "graphiql" in client.get("/graphql", headers={"accept": "text/html"}).text.lower()
        assert client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}).json()["data"]


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_ENV", "Production")
    monkeypatch.setenv("KG_ALLOWED_HOSTS", "kg.example.org, *.kg.example.org")
    monkeypatch.setenv("KG_TRAVERSAL_TIMEOUT", "7.5")
    settings = Settings.from_env()
    assert settings.production and settings.traversal_timeout == 7.5
    assert (
        settings.allowed_hosts[-2:] == ("kg.example.org", "*.kg.example.org") and "localhost" in settings.allowed_hosts
    )


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("symbol", "BRAF", True),
        ("symbol", "B" * 1000, True),
        ("symbol", "B" * 1001, False),
        ("symbol", "BR\nAF", False),
        ("statement", "line one\nline two\ttabbed", True),
        ("statement", "x" * 20001, False),
        ("statement", "nul\x00", False),
        ("query", "BRAF\u200b V600E", True),  # a zero-width space is text; the resolver decides
        ("query", "\ud800", False),
        ("query", "\x7f", False),
    ],
)
def test_one_validator_for_every_string(name: str, value: str, ok: bool) -> None:
    settings = Settings()
    if ok:
        check_string(name, value, settings)
    else:
        with pytest.raises(ArgumentError):
            check_string(name, value, settings)

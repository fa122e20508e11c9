"""The local Neo4j (kg/neo4j_server) as the test session runs it: authentication on with the
instance's generated password kept owner-only, and no HTTP connector (Bolt only)."""

from __future__ import annotations

import stat

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from kg.config import Settings
from kg.db import Graph


@pytest.fixture()
def local(graph: Graph) -> Settings:
    if not graph.settings.is_local:
        pytest.skip("KG_TEST_NEO4J_URI points at another server: not the local one kg starts")
    return graph.settings


def test_the_generated_password_is_owner_only(local: Settings) -> None:
    if local.password:
        pytest.skip("NEO4J_PASSWORD is set: the local server uses it, no password was generated")
    mode = local.password_file.stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert len(local.password_file.read_text().strip()) >= 24


@pytest.mark.parametrize("auth", [None, ("neo4j", "neo4j")])  # two: Neo4j locks the user after 3 failures
def test_bolt_refuses_no_credentials_and_the_default_password(local: Settings, auth: tuple[str, str] | None) -> None:
    with GraphDatabase.driver(local.bolt_uri, auth=auth, connection_timeout=5) as driver, pytest.raises(AuthError):
        driver.verify_connectivity()


def test_the_server_runs_without_http_and_with_auth(graph: Graph, local: Settings) -> None:
    rows = graph.read(
        "SHOW SETTINGS YIELD name, value WHERE name IN $names RETURN name, value",
        names=["server.http.enabled", "server.https.enabled", "dbms.security.auth_enabled"],
    )
    assert {r["name"]: r["value"] for r in rows} == {
        "server.http.enabled": "false",
        "server.https.enabled": "false",
        "dbms.security.auth_enabled": "true",
    }

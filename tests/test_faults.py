"""Faults of the database itself, on a second local Neo4j of this module's own (never the session's).

* A load whose Neo4j JVM is killed (SIGKILL, the pid in the instance's ``run/neo4j.pid``) in the middle
  of writing: after a restart, the rerun finds exactly one copy of everything and no half release
  (kg/loaders/release.py: checksum only on activation, ``recover`` before each load).
* The service started while Neo4j is down: /health 503, queries UNAVAILABLE, and it answers (schema
  applied) as soon as Neo4j is back, without a restart (api/app.py, kg.schema.SchemaOnFirstConnection).

The spare instance is ``.kg/test-spare`` on Bolt ``KG_TEST_SPARE_BOLT_PORT`` (default: the test
server's port + 1), wiped at the start and stopped at the end.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError
from starlette.testclient import TestClient

from api.app import create_app
from kg import neo4j_server
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.config import Settings
from kg.db import Graph
from kg.loaders import hgnc
from kg.loaders.release import discard_release
from kg.schema import apply_schema
from kg.schema.model import NODE_KEYS, PATIENT_NODE_KEYS
from tests.api_graph import bearer, token_for
from tests.conftest import TEST_BOLT_PORT

ROOT = Path(__file__).resolve().parents[1]
SPARE_BOLT_PORT = int(os.environ.get("KG_TEST_SPARE_BOLT_PORT", TEST_BOLT_PORT + 1))
WAIT = 900.0  # generous bound on waiting for the load to write something (never asserted as a time)


@pytest.fixture(scope="module")
def spare() -> Iterator[Settings]:
    settings = Settings.from_env(
        uri=None, instance="test-spare", bolt_port=SPARE_BOLT_PORT, heap="512m", pagecache="256m", retry_seconds=2
    )
    neo4j_server.stop(settings)
    neo4j_server.wipe(settings)
    try:
        yield settings
    finally:
        neo4j_server.stop(settings)


def _label_counts(graph: Graph) -> dict[str, tuple[int, int]]:
    """label -> (nodes, distinct keys): equal when nothing is there twice."""
    counts = {}
    for label, key in NODE_KEYS.items():
        row = graph.read(f"MATCH (n:{label}) RETURN count(n) AS n, count(DISTINCT n.{key}) AS k")[0]
        if row["n"]:
            counts[label] = (row["n"], row["k"])
    return counts


def _relationship_counts(graph: Graph) -> dict[str, int]:
    rows = graph.read("MATCH ()-[r]->() RETURN type(r) AS type, count(r) AS n")
    return {row["type"]: row["n"] for row in rows}


def _half_releases(graph: Graph) -> tuple[list[str], int]:
    """Sources not active, and nodes asserted only by such sources."""
    sources = [r["key"] for r in graph.read("MATCH (s:Source) WHERE s.status <> 'active' RETURN s.key AS key")]
    orphans = graph.read(
        "MATCH (n) WHERE EXISTS { (n)-[:ASSERTED_BY]->() } "
        "AND NOT EXISTS { (n)-[:ASSERTED_BY]->(:Source {status: 'active'}) } RETURN count(n) AS n"
    )[0]["n"]
    return sources, orphans


@pytest.mark.realdata
def test_a_load_whose_database_is_killed_is_whole_after_a_rerun(spare: Settings, data_dir: Path) -> None:
    folder = data_dir / "genes"
    neo4j_server.start(spare)
    with Graph(spare) as graph:
        apply_schema(graph)
    env = dict(os.environ, **spare.connection_env(), PYTHONPATH=str(ROOT), KG_NEO4J_RETRY_SECONDS="2")
    loader = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "load", "hgnc", str(folder), "--no-progress"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with Graph(spare) as graph:
            written = 0
            deadline = time.monotonic() + WAIT
            while not written and time.monotonic() < deadline:
                assert loader.poll() is None, f"the load ended before it could be interrupted:\n{loader.stdout}"
                row = graph.read(
                    "MATCH (s:Source {name: 'hgnc', status: 'loading'}) RETURN COUNT { (s)<-[:ASSERTED_BY]-() } AS n"
                )
                written = row[0]["n"] if row else 0
                time.sleep(0.1)
            assert written, "the load wrote nothing in time"
            pid = neo4j_server.status(spare).pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)  # the JVM, in the middle of the load
        output, _ = loader.communicate(timeout=600)
    finally:
        if loader.poll() is None:
            loader.kill()
    assert loader.returncode != 0, output  # the load failed: its database went away
    print(f"\nkilled Neo4j (pid {pid}) with {written} nodes of hgnc asserted by the loading release")

    neo4j_server.start(spare)
    with Graph(spare) as graph:
        left = graph.read(
            "MATCH (s:Source {name: 'hgnc'}) RETURN s.status AS status, s.checksum AS checksum, "
            "COUNT { (s)<-[:ASSERTED_BY]-() } AS n"
        )
        # what the kill left: part of the release, still 'loading' (invisible), never taken for loaded
        assert len(left) == 1 and left[0]["status"] == "loading" and left[0]["checksum"] is None
        assert left[0]["n"] >= written
        print(f"after restart: {left[0]['n']} nodes asserted by the leftover 'loading' release")

        rerun = hgnc.load(graph, folder, progress=False)
        assert not rerun.skipped
        after = (_label_counts(graph), _relationship_counts(graph))
        assert _half_releases(graph) == ([], 0)
        sources = graph.read("MATCH (s:Source {name: 'hgnc'}) RETURN s.key AS key, s.status AS status")
        assert sources == [{"key": rerun.source, "status": "active"}]
        assert all(nodes == keys for nodes, keys in after[0].values()), after[0]
        assert after[0]["Gene"][0] == rerun.rows["genes"]  # one Gene per approved row of the file

        # the same release loaded into a graph that never saw a crash gives the same graph
        discard_release(graph, rerun.source)
        assert _label_counts(graph).get("Gene") is None
        clean = hgnc.load(graph, folder, progress=False)
        assert (_label_counts(graph), _relationship_counts(graph)) == after
        assert clean.rows == rerun.rows
        print(f"after the rerun: {after[0]}, relationships {after[1]}")


def test_the_service_starts_without_neo4j_and_recovers_when_it_returns(
    spare: Settings, auth_settings: AuthSettings
) -> None:
    neo4j_server.stop(spare)
    neo4j_server.wipe(spare)  # a new store: no constraints until the service applies them
    query = {"query": '{ gene(symbol: "BRAF") { symbol } }'}
    app = create_app(dataclasses.replace(spare, retry_seconds=1), auth=auth_settings)
    researcher = bearer(token_for(auth_settings, Role.RESEARCHER, name="test-faults-researcher"))
    with TestClient(app, headers=researcher, base_url="http://localhost") as client:
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["neo4j"] == "down"
        down = client.post("/graphql", json=query)
        assert down.status_code == 200
        assert [e["extensions"]["code"] for e in down.json()["errors"]] == ["UNAVAILABLE"]
        assert client.get("/export", params={"id": "BRAF"}).status_code == 503

        neo4j_server.start(spare)  # Neo4j returns; the service is not restarted
        assert client.get("/health").status_code == 200
        answer = client.post("/graphql", json=query).json()
        assert answer == {"data": {"gene": None}}  # answered by the (empty) graph, no error
    with Graph(spare) as graph:
        constraints = graph.read("SHOW CONSTRAINTS YIELD name RETURN count(*) AS n")[0]["n"]
    assert constraints == len(NODE_KEYS) + len(PATIENT_NODE_KEYS)  # the schema was applied on the first connection


def test_a_store_made_without_authentication_gets_the_password(spare: Settings) -> None:
    """The upgrade path of a ``.kg/<instance>`` made before authentication was on, still running as it
    was started then (it takes anyone): ``start`` restarts it with authentication, and since its
    ``neo4j`` user still has Neo4j's default password, gives it the generated one; the data stays."""
    neo4j_server.stop(spare)
    neo4j_server.wipe(spare)
    spare.password_file.unlink(missing_ok=True)
    conf = neo4j_server.layout_home(spare) / "conf" / "neo4j.conf"
    conf.write_text(conf.read_text().replace("dbms.security.auth_enabled=true", "dbms.security.auth_enabled=false"))
    assert neo4j_server._launcher(spare, "start").returncode == 0  # as the launcher ran before this change
    with Graph(spare) as graph:  # no password file yet: no credentials
        deadline = time.monotonic() + WAIT
        while not graph.is_reachable() and time.monotonic() < deadline:
            time.sleep(0.5)
        graph.write("CREATE (:Source {key: 'made-without-auth@1', name: 'made-without-auth', status: 'active'})")
    assert not spare.password_file.exists()

    neo4j_server.start(spare)
    assert stat.S_IMODE(spare.password_file.stat().st_mode) == 0o600
    with GraphDatabase.driver(spare.bolt_uri, auth=None, connection_timeout=5) as driver, pytest.raises(AuthError):
        driver.verify_connectivity()  # restarted: authentication is on now
    with Graph(spare) as graph:  # the generated password, and the data of before
        assert graph.read("MATCH (s:Source {name: 'made-without-auth'}) RETURN s.key AS key") == [
            {"key": "made-without-auth@1"}
        ]


def test_a_password_that_begins_with_a_dash_is_set_on_a_new_store(spare: Settings) -> None:
    """``secrets.token_urlsafe`` begins with ``-`` one time in 64: neo4j-admin must take it as the password,
    not as an unknown option (a fresh clone's CI once drew one for its spare instance)."""
    neo4j_server.stop(spare)
    neo4j_server.wipe(spare)
    spare.password_file.parent.mkdir(parents=True, exist_ok=True)
    spare.password_file.write_text("-starts-with-a-dash-" + os.urandom(8).hex() + "\n")
    spare.password_file.chmod(0o600)
    try:
        neo4j_server.start(spare)
        with Graph(spare) as graph:
            assert graph.read("RETURN 1 AS one") == [{"one": 1}]
    finally:
        neo4j_server.stop(spare)
        neo4j_server.wipe(spare)
        spare.password_file.unlink(missing_ok=True)

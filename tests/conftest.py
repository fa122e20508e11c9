"""One real Neo4j for the whole test run.

By default a dedicated local instance (``.kg/test``, Bolt 7688, authentication on with the
instance's generated password, no HTTP connector) is started fresh for the session and stopped at
the end. ``KG_TEST_NEO4J_URI`` points the tests at another
server instead (its database is cleared: never point it at data you want to keep).
The real releases in ../shared/data are loaded once per run, by the ``real_data`` fixture.
``KG_TEST_REUSE=1`` (development only) keeps the local test instance and its data between runs:
loads of unchanged releases are then checksum-matched no-ops, so a re-run starts in seconds.

Tests that need ../shared/data are ``realdata`` (marked automatically when they use ``data_dir``
or ``real_data``): they skip without the data, and with the data present a skipped ``realdata``
test fails the session (tests/realdata_guard.py). Every other test runs on the seeds (``seeded``)
or on files it writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import neo4j_server
from kg.access.settings import AuthSettings
from kg.config import LOCAL_HOSTS, Settings
from kg.db import Graph
from kg.schema import apply_schema
from tests.realdata_guard import (  # noqa: F401  (the guard's hooks, registered by name)
    data_dir_path,
    data_present,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

TEST_BOLT_PORT = int(os.environ.get("KG_TEST_BOLT_PORT", 7688))
REUSE = os.environ.get("KG_TEST_REUSE") == "1"


def test_settings() -> Settings:
    uri = os.environ.get("KG_TEST_NEO4J_URI")
    return Settings.from_env(
        uri=uri or None,
        instance="test",
        bolt_port=TEST_BOLT_PORT,
        allowed_hosts=(*LOCAL_HOSTS, "testserver"),  # Starlette's TestClient sends Host: testserver
    )


test_settings.__test__ = False  # type: ignore[attr-defined]


def clear_database(graph: Graph) -> None:
    while graph.write("MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n")[0]["n"]:
        pass


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    settings = test_settings()
    started = False
    if settings.is_local:
        if not REUSE:
            neo4j_server.stop(settings)
            neo4j_server.wipe(settings)
        neo4j_server.start(settings)
        started = not REUSE
    try:
        yield settings
    finally:
        if started:
            neo4j_server.stop(settings)


@pytest.fixture(scope="session")
def graph(neo4j_settings: Settings) -> Iterator[Graph]:
    with Graph(neo4j_settings) as g:
        if not REUSE:
            clear_database(g)
        apply_schema(g)
        yield g


@pytest.fixture(scope="session")
def seeded(graph: Graph) -> Graph:
    from kg.loaders.seeds import load_seeds

    load_seeds(graph, progress=False)
    return graph


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = data_dir_path()
    if not data_present():
        pytest.skip(f"the shared reference data is absent ({path}); set KG_DATA_DIR to run these tests")
    return path


@pytest.fixture(scope="session")
def real_data(seeded: Graph, data_dir: Path) -> Graph:
    """Every source, loaded once for the whole run from ../shared/data."""
    from kg.loaders import registry

    for spec in registry.SOURCES:
        registry.loader_for(spec.name).load(seeded, data_dir / spec.default_path, progress=False)
    return seeded


@pytest.fixture(scope="session")
def auth_settings(tmp_path_factory: pytest.TempPathFactory) -> AuthSettings:
    """The API's access settings for the run: signing key, token records and audit log in a fresh
    folder (tests/api_graph.py ``token_for`` makes tokens with them, as ``kg token create`` does)."""
    return AuthSettings(home=tmp_path_factory.mktemp("auth"))

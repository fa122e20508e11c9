"""Driver lifecycle and transactions.

``Graph`` wraps one ``neo4j.Driver``: managed read and write transactions (the driver retries
transient errors such as leader switches and deadlocks), parameters only, never Cypher built
from input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import neo4j
from neo4j import GraphDatabase, RoutingControl

from kg.config import Settings


class GraphUnavailable(RuntimeError):
    """Neo4j cannot be reached; the message says where we tried."""


class Graph:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.driver = GraphDatabase.driver(
            self.settings.bolt_uri,
            auth=self.settings.auth,
            max_connection_pool_size=50,
            connection_acquisition_timeout=30,
            connection_timeout=10,
            max_transaction_retry_time=self.settings.retry_seconds,
            notifications_min_severity="OFF",
        )

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> Graph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_reachable(self) -> bool:
        try:
            self.driver.verify_connectivity()
            return True
        except Exception:
            return False

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run a read query (routed to a reader on clusters) and return plain dicts."""
        return self._run(cypher, params, RoutingControl.READ)

    def write(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run one write query in its own managed transaction."""
        return self._run(cypher, params, RoutingControl.WRITE)

    def write_many(self, statements: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Run several write queries in one transaction (all or nothing)."""
        items = list(statements)

        def work(tx: neo4j.ManagedTransaction) -> None:
            for cypher, params in items:
                tx.run(cypher, dict(params)).consume()

        with self.driver.session(database=self.settings.database) as session:
            session.execute_write(work)

    def write_in_transactions(self, cypher: str, **params: Any) -> None:
        """Run one ``CALL { ... } IN TRANSACTIONS`` statement: it needs an auto-commit transaction, and
        Neo4j commits each of its batches itself (one pass over a large release instead of a scan per
        batch). Not retried by the driver: callers use statements that can simply be run again."""
        try:
            with self.driver.session(database=self.settings.database) as session:
                session.run(cypher, dict(params)).consume()
        except neo4j.exceptions.ServiceUnavailable as err:
            raise GraphUnavailable(f"Neo4j at {self.settings.bolt_uri} is unavailable: {err}") from err

    def _run(self, cypher: str, params: Mapping[str, Any], routing: RoutingControl) -> list[dict[str, Any]]:
        try:
            records, _, _ = self.driver.execute_query(
                cypher, dict(params), database_=self.settings.database, routing_=routing
            )
        except neo4j.exceptions.ServiceUnavailable as err:
            raise GraphUnavailable(f"Neo4j at {self.settings.bolt_uri} is unavailable: {err}") from err
        return [r.data() for r in records]

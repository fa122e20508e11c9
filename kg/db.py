"""Driver lifecycle and transactions.

``Graph`` wraps one ``neo4j.Driver``: managed read and write transactions (the driver retries
transient errors such as leader switches and deadlocks), parameters only, never Cypher built
from input. A read is first tried as one auto-commit statement (one round trip fewer than a managed
transaction's BEGIN/RUN/PULL then COMMIT: ~1.4 ms of a 10 ms answer on loopback, bench/README.md), and
run again as a managed, retried transaction if that attempt fails with an error the driver would retry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import neo4j
from neo4j import GraphDatabase, RoutingControl

from kg.config import Settings


class GraphUnavailable(RuntimeError):
    """Neo4j cannot be reached; the message says where we tried."""


class QueryTimeout(RuntimeError):
    """Neo4j ended the transaction at its timeout (``Settings.read_timeout`` / ``write_timeout``, or the
    one the caller gave), or refused it for the memory it would take: the query asked too much."""

    def __init__(self, seconds: float | None, cause: BaseException) -> None:
        self.seconds = seconds
        super().__init__(f"the query was stopped after {seconds} s" if seconds else f"the query was stopped: {cause}")


# Server codes of a transaction ended for its time or memory (Neo4j 5 status codes).
_STOPPED = ("TransactionTimedOut", "MemoryPoolOutOfMemoryError", "TransactionMemoryLimit", "Terminated")


def _stopped(err: neo4j.exceptions.Neo4jError) -> bool:
    code = err.code or ""
    return any(part in code for part in _STOPPED)


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

    def read(
        self, cypher: str, *, timeout_: float | None = None, plain_: bool = False, **params: Any
    ) -> list[dict[str, Any]]:
        """Run a read query (routed to a reader on clusters) and return plain dicts. Neo4j ends it after
        ``timeout_`` seconds (default ``Settings.read_timeout``): :class:`QueryTimeout`. ``plain_``: the
        statement returns only maps, lists and scalars (no node, relationship or path), so its rows are
        taken as the driver decoded them, without ``Record.data()``'s walk over every value (35 ms of a
        PGx-panel patient's 150,000-value pharmacogenomics answer; bench/bench_api.py)."""
        return self._run(cypher, params, RoutingControl.READ, timeout_ or self.settings.read_timeout, plain_)

    def committed(self) -> str:
        """The database's state: the bookmark of an empty read, which names the last transaction the read
        saw (Neo4j 5 gives reads the bookmark of the last commit). Equal before and after an answer is
        read: nothing was committed in between (kg.answer_cache)."""
        try:
            with self.driver.session(
                database=self.settings.database,
                default_access_mode=neo4j.READ_ACCESS,
                bookmark_manager=self.driver.execute_query_bookmark_manager,  # after this process's writes
            ) as session:
                session.run("RETURN 1").consume()
                return "|".join(sorted(session.last_bookmarks().raw_values))
        except neo4j.exceptions.ServiceUnavailable as err:
            raise GraphUnavailable(f"Neo4j at {self.settings.bolt_uri} is unavailable: {err}") from err

    def write(self, cypher: str, *, timeout_: float | None = None, **params: Any) -> list[dict[str, Any]]:
        """Run one write query in its own managed transaction (timeout: ``Settings.write_timeout``)."""
        return self._run(cypher, params, RoutingControl.WRITE, timeout_ or self.settings.write_timeout)

    def write_many(self, statements: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Run several write queries in one transaction (all or nothing)."""
        items = list(statements)

        @neo4j.unit_of_work(timeout=self.settings.write_timeout)
        def work(tx: neo4j.ManagedTransaction) -> None:
            for cypher, params in items:
                tx.run(cypher, dict(params)).consume()

        with self.driver.session(database=self.settings.database) as session:
            try:
                session.execute_write(work)
            except neo4j.exceptions.Neo4jError as err:
                if _stopped(err):
                    raise QueryTimeout(self.settings.write_timeout, err) from err
                raise

    def write_in_transactions(self, cypher: str, **params: Any) -> dict[str, int]:
        """Run one ``CALL { ... } IN TRANSACTIONS`` statement: it needs an auto-commit transaction, and
        Neo4j commits each of its batches itself (one pass over a large release instead of a scan per
        batch). Not retried by the driver: callers use statements that can simply be run again.
        Returns the statement's update counters (``nodes_deleted``, ``relationships_deleted``, ...)."""
        try:
            with self.driver.session(database=self.settings.database) as session:
                counters = session.run(cypher, dict(params)).consume().counters
                return {name: value for name, value in vars(counters).items() if isinstance(value, int)}
        except neo4j.exceptions.ServiceUnavailable as err:
            raise GraphUnavailable(f"Neo4j at {self.settings.bolt_uri} is unavailable: {err}") from err

    def _run(
        self, cypher: str, params: Mapping[str, Any], routing: RoutingControl, timeout: float, plain: bool = False
    ) -> list[dict[str, Any]]:
        query = neo4j.Query(cypher, timeout=timeout)
        try:
            records = self._read_once(query, params) if routing is RoutingControl.READ else None
            if records is None:
                records, _, _ = self.driver.execute_query(
                    query, dict(params), database_=self.settings.database, routing_=routing
                )
        except neo4j.exceptions.ServiceUnavailable as err:
            raise GraphUnavailable(f"Neo4j at {self.settings.bolt_uri} is unavailable: {err}") from err
        except neo4j.exceptions.Neo4jError as err:
            if _stopped(err):
                raise QueryTimeout(timeout, err) from err
            raise
        return [dict(r.items()) for r in records] if plain else [r.data() for r in records]

    def _read_once(self, query: neo4j.Query, params: Mapping[str, Any]) -> list[neo4j.Record] | None:
        """A read as one auto-commit statement, after the writes ``execute_query`` made (its bookmarks);
        None when it failed in a way a managed transaction would retry (the caller then runs one)."""
        try:
            with self.driver.session(
                database=self.settings.database,
                default_access_mode=neo4j.READ_ACCESS,
                bookmark_manager=self.driver.execute_query_bookmark_manager,
            ) as session:
                return list(session.run(query, dict(params)))
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as err:
            if err.is_retryable():
                return None
            raise

"""Apply the model's constraints and indexes; ``IF NOT EXISTS`` makes it safe to repeat."""

from __future__ import annotations

from kg.db import Graph
from kg.schema.model import FULLTEXT_INDEXES, NODE_KEYS, RANGE_INDEXES


def schema_statements() -> list[str]:
    statements = [
        f"CREATE CONSTRAINT {label.lower()}_{key}_unique IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
        for label, key in NODE_KEYS.items()
    ]
    statements += [
        f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
        for label, props in RANGE_INDEXES.items()
        for prop in props
    ]
    statements += [
        f"CREATE FULLTEXT INDEX {label.lower()}_fulltext IF NOT EXISTS FOR (n:{label}) "
        f"ON EACH [{', '.join('n.' + p for p in props)}]"
        for label, props in FULLTEXT_INDEXES.items()
    ]
    return statements


def apply_schema(graph: Graph) -> int:
    """Create what is missing and wait for the indexes to come online; returns statements run."""
    statements = schema_statements()
    for statement in statements:
        graph.write(statement)
    graph.write("CALL db.awaitIndexes(300)")
    return len(statements)

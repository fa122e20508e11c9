"""Constraints and indexes of the graph model, applied idempotently."""

from kg.schema.apply import apply_schema, schema_statements

__all__ = ["apply_schema", "schema_statements"]

"""Constraints and indexes of the graph model, applied idempotently."""

from kg.schema.apply import SchemaOnFirstConnection, apply_schema, schema_statements

__all__ = ["SchemaOnFirstConnection", "apply_schema", "schema_statements"]

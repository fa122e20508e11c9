"""GraphQL types of the patient answers; each item carries its path and its sources."""

from __future__ import annotations

import json
from typing import Any

import strawberry
from strawberry.scalars import JSON

from kg.queries.answers import PathStep, SourceRef


@strawberry.type(description="A node on an answer's path.")
class PathNodeType:
    id: str
    label: str
    name: str | None


@strawberry.type(description="One edge of an answer's path: start -[relationship]-> end.")
class PathStepType:
    start: PathNodeType
    relationship: str
    end: PathNodeType
    properties: JSON

    @classmethod
    def of(cls, step: PathStep) -> "PathStepType":
        return cls(
            start=PathNodeType(id=step.start.id, label=step.start.label, name=step.start.name),
            relationship=step.relationship,
            end=PathNodeType(id=step.end.id, label=step.end.label, name=step.end.name),
            properties=step.properties,
        )


@strawberry.type(description="The release (Source) that asserted a fact on the path.")
class SourceRefType:
    release: str
    name: str
    version: str
    licence: str | None
    fact: str

    @classmethod
    def of(cls, ref: SourceRef) -> "SourceRefType":
        return cls(release=ref.key, name=ref.name, version=ref.version, licence=ref.licence, fact=ref.fact)


def paths(steps: list[PathStep]) -> list[PathStepType]:
    return [PathStepType.of(s) for s in steps]


def sources(refs: list[SourceRef]) -> list[SourceRefType]:
    return [SourceRefType.of(r) for r in refs]


@strawberry.type
class DrugRef:
    id: str
    name: str | None


@strawberry.type
class DiseaseRef:
    id: str
    name: str | None


def drug_refs(rows: list[dict[str, Any]]) -> list[DrugRef]:
    return [DrugRef(id=r["id"], name=r.get("name")) for r in rows]


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))

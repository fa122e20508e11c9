"""The short path for plain leaf fields (api/execution.py, issue 12) answers exactly as graphql-core's own
executor: the same data and the same errors (message, path, location) for every shape a field can take, the
real schema's answer types take it, and a seeded patient's summary through the API is the same JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from enum import Enum
from typing import Any, cast

import pytest
import strawberry
from graphql import GraphQLObjectType
from starlette.testclient import TestClient
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import api.execution
import api.schema
from api.app import create_app
from api.execution import PlainFieldExecutionContext, plain_leaf
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.config import Settings
from kg.db import Graph
from kg.loaders.seeds import default_seed_dir
from kg.matcher.match import delete_patient, match_patient
from tests.api_graph import bearer, token_for
from tests.counting import Calls


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Item:
    name: str
    count: int
    maybe: str | None
    colour: Colour
    tags: list[str]
    holes: list[str | None]
    optional_tags: list[str] | None
    score: float | None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def repeat(self, times: int) -> str:
        return self.name * times

    @strawberry.field(permission_classes=[Never])
    def secret(self) -> str | None:
        return self.name


@strawberry.type
class Box:
    """Nullable around the items, so one refused value nulls its item only and every case is reported."""

    label: str
    item: Item | None
    items: list[Item | None]
    maybe_item: Item | None


def _item(name: str, **overrides: Any) -> Item:
    values: dict[str, Any] = {
        "name": name,
        "count": 3,
        "maybe": None,
        "colour": Colour.RED,
        "tags": ["a", "b"],
        "holes": ["x", None],
        "optional_tags": None,
        "score": 1.5,
    }
    values.update(overrides)
    return Item(**values)


BOXES: dict[str, Box] = {
    "good": Box(label="good", item=_item("one"), items=[_item("two"), _item("three")], maybe_item=None),
    # values the types refuse: graphql-core must report each exactly as without the short path
    "null-name": Box(label="n", item=_item(None), items=[_item("ok"), _item(None)], maybe_item=_item(None)),  # type: ignore[arg-type]
    "bad-int": Box(label="i", item=_item("x", count="many"), items=[], maybe_item=_item("y", count=2**40)),
    "null-tag": Box(label="t", item=_item("x", tags=["a", None]), items=[_item("z", tags="abc")], maybe_item=None),
    "bad-enum": Box(label="e", item=_item("x", colour="green"), items=[], maybe_item=_item("y", holes=None)),
    "exception": Box(label="x", item=_item("x", maybe=ValueError("boom")), items=[], maybe_item=None),
    "tuple": Box(label="u", item=_item("x", tags=("p", "q"), optional_tags={"r": 1}.keys()), items=[], maybe_item=None),
}


@strawberry.type
class Query:
    @strawberry.field
    def box(self, key: str) -> Box | None:
        return BOXES[key]

    @strawberry.field
    async def later(self, key: str) -> Box:  # non-null: an error inside reaches the top
        await asyncio.sleep(0)
        return BOXES[key]


ITEM_FIELDS = "name count maybe colour tags holes optionalTags score shout repeat(times: 2) secret __typename"
QUERIES = [
    f'{{ box(key: "{key}") {{ label item {{ {ITEM_FIELDS} }} items {{ {ITEM_FIELDS} }} maybeItem {{ {ITEM_FIELDS} }} }} }}'
    for key in BOXES
] + [
    '{ box(key: "good") { item { n: name name again: name count @include(if: false) tags @skip(if: true) } } }',
    '{ box(key: "good") { item { ...F } items { ... on Item { name tags } } } } fragment F on Item { name colour }',
    'query Q($c: Boolean!) { later(key: "good") { label item { name count @include(if: $c) } } }',
    '{ later(key: "null-tag") { item { tags name } items { tags } } }',
]


class Shouting(SchemaExtension):
    """An extension with ``resolve``: every field then goes through it (the short path must step aside)."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) else result


def _schema(context_class: type, *extensions: Any) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=context_class, extensions=list(extensions))


def _answer(schema: strawberry.Schema, query: str) -> tuple[Any, list[tuple[str, Any, Any]]]:
    result = asyncio.run(schema.execute(query, variable_values={"c": True}))
    errors = [(e.message, e.path, [(loc.line, loc.column) for loc in e.locations or ()]) for e in result.errors or ()]
    return result.data, errors


@pytest.mark.parametrize("query", QUERIES)
def test_the_short_path_answers_and_errs_as_graphql_core(query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _answer(_schema(StrawberryGraphQLCoreExecutionContext), query)
    short = Calls(monkeypatch, api.execution, "complete_plain")
    assert _answer(_schema(PlainFieldExecutionContext), query) == expected
    assert short.count > 0  # the short path ran (not everything fell back)


def test_an_extension_with_resolve_sees_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    query = QUERIES[0]
    expected = _answer(_schema(StrawberryGraphQLCoreExecutionContext, Shouting), query)
    short = Calls(monkeypatch, api.execution, "complete_plain")
    data, errors = _answer(_schema(PlainFieldExecutionContext, Shouting), query)
    assert (data, errors) == expected and data["box"]["item"]["name"] == "ONE"
    assert short.count == 0


def test_only_fields_that_read_an_attribute_are_plain() -> None:
    fields = cast(GraphQLObjectType, _schema(PlainFieldExecutionContext)._schema.type_map["Item"]).fields
    plain = {name for name, field in fields.items() if plain_leaf(field) is not None}
    assert plain == {"name", "count", "maybe", "colour", "tags", "holes", "optionalTags", "score"}


def test_the_answer_types_of_a_summary_take_the_short_path() -> None:
    """A guard for strawberry upgrades: the short path keys on strawberry's basic resolver."""
    types = api.schema.make_schema(Settings())._schema.type_map
    for name, expected in (
        ("PgxAnswer", {"guideline", "state", "genes", "releases"}),
        ("EvidenceFinding", {"evidenceId", "significance", "therapies"}),
        ("RiskFinding", {"gene", "classification", "stars"}),
    ):
        fields = cast(GraphQLObjectType, types[name]).fields
        assert expected <= {n for n, f in fields.items() if plain_leaf(f) is not None}, name


PATIENT = "test-execution"
DISEASE = "DOID:1909"
SUMMARY = f"""{{ patient(id: "{PATIENT}") {{ id
  pharmacogenomics {{ drug {{ id name }} guideline state reason genes genesWithoutResult releases
    diplotypes {{ gene diplotype phenotype phenotypes activityScore status }}
    recommendations {{ id lookupKey text strength population path {{ relationship end {{ id label }} }}
      sources {{ release fact }} }} }}
  targetedTherapies(disease: "{DISEASE}") {{ evidenceId significance direction level therapies releases
    path {{ relationship end {{ id label }} }} sources {{ release }} }}
  risks {{ gene variant evidenceId classification stars zygosity status releases path {{ relationship end {{ id }} }} }}
}} }}"""


@pytest.fixture(scope="module")
def patient(seeded: Graph) -> Iterator[str]:
    match_patient(seeded, default_seed_dir() / "patients" / "demo.vcf", patient_id=PATIENT, disease=DISEASE)
    yield PATIENT
    delete_patient(seeded, PATIENT)


def test_a_patient_summary_is_the_same_json_with_either_executor(
    seeded: Graph, auth_settings: AuthSettings, patient: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = bearer(token_for(auth_settings, Role.CLINICIAN, "test-execution", all_patients=True))
    bodies = []
    for context_class in (StrawberryGraphQLCoreExecutionContext, PlainFieldExecutionContext):
        monkeypatch.setattr(api.schema, "PlainFieldExecutionContext", context_class)
        with TestClient(create_app(seeded.settings, auth=auth_settings), headers=headers) as client:
            response = client.post("/graphql", json={"query": SUMMARY})
        assert response.status_code == 200, response.text
        bodies.append(response.text)
    assert bodies[0] == bodies[1] and '"errors"' not in bodies[1]  # byte for byte, key order included
    answers = json.loads(bodies[1])["data"]["patient"]
    assert answers["pharmacogenomics"] and answers["targetedTherapies"] and answers["risks"]

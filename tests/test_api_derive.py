"""GraphQL types derived from kg dataclasses (api/derive.py): the type rules, the converter, and the
contract that every answer field a kg dataclass declares is in the served schema."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

import pytest
import strawberry

from api.derive import derived, to_type
from api.schema import make_schema
from kg.config import Settings
from kg.matcher import report
from kg.queries import answers, cohort, explore, export, knowledge, patient_view, pgx, risk, therapy
from kg.queries.fields import INTERNAL, described

schema = make_schema(Settings())  # the schema the app serves (its limits from default settings)


class Colour(enum.StrEnum):
    RED = "RED"
    BLUE = "BLUE"


@dataclass(frozen=True)
class Leaf:
    id: str
    score: float | None


@dataclass
class Answer:
    name: str
    colour: Colour
    leaves: list[Leaf]
    counts: tuple[int, ...]
    extra: dict[str, Any]
    note: str | None = field(metadata=described("Why the note is there."))
    secret: int = field(default=0, metadata=INTERNAL)
    best: Leaf | None = None


@derived(Leaf, name="DeriveTestLeaf")
class LeafType:
    pass


@derived(Answer, name="DeriveTestAnswer", description="A made-up answer.")
class AnswerType:
    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class _Query:
    @strawberry.field
    def answer(self) -> AnswerType:
        made = Answer(
            "x", Colour.BLUE, [Leaf("a", 1.5), Leaf("b", None)], (1, 2), {"k": [1]}, "n", secret=7, best=Leaf("a", 1.5)
        )
        return to_type(AnswerType, made)


def test_the_type_rules_and_the_converter() -> None:
    sdl = str(strawberry.Schema(query=_Query))
    assert '"""A made-up answer."""\ntype DeriveTestAnswer {' in sdl
    for line in (
        "name: String!",
        "colour: Colour!",
        "leaves: [DeriveTestLeaf!]!",
        "counts: [Int!]!",
        "extra: JSON!",
        '"""Why the note is there."""\n  note: String',
        "best: DeriveTestLeaf",
        "shout: String!",
        "score: Float\n",
    ):
        assert line in sdl, line
    assert "secret" not in sdl  # internal: kg's own
    assert sdl.index("name: String!") < sdl.index("colour: Colour!") < sdl.index("best:") < sdl.index("shout:")
    result = strawberry.Schema(query=_Query).execute_sync(
        "{ answer { name colour leaves { id score } counts extra note best { id } shout } }"
    )
    assert result.errors is None
    assert result.data == {
        "answer": {
            "name": "x",
            "colour": "BLUE",
            "leaves": [{"id": "a", "score": 1.5}, {"id": "b", "score": None}],
            "counts": [1, 2],
            "extra": {"k": [1]},
            "note": "n",
            "best": {"id": "a"},
            "shout": "X",
        }
    }


@dataclass
class Bad:
    choice: int | str


@dataclass
class Holder:
    inner: Leaf
    other: NotDerived


@dataclass
class NotDerived:
    id: str


def test_a_type_with_no_graphql_form_is_refused_naming_the_field() -> None:
    with pytest.raises(TypeError, match=r"Bad\.choice: a union of several types"):
        derived(Bad)(type("BadType", (), {}))
    with pytest.raises(TypeError, match=r"Holder\.other: derive the type of NotDerived before"):
        derived(Holder)(type("HolderType", (), {}))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize(
    ("model", "graphql_name"),
    [
        (answers.PathNode, "PathNodeType"),
        (answers.PathStep, "PathStepType"),
        (answers.SourceRef, "SourceRefType"),
        (answers.DrugRef, "DrugRef"),
        (answers.DiseaseRef, "DiseaseRef"),
        (patient_view.PatientRecord, "Patient"),
        (patient_view.PatientVariant, "PatientVariant"),
        (pgx.GeneCallSummary, "Diplotype"),
        (pgx.PgxRecommendation, "PgxRecommendation"),
        (pgx.PgxAnswer, "PgxAnswer"),
        (therapy.EvidenceAnswer, "EvidenceFinding"),
        (risk.RiskFinding, "RiskFinding"),
        (knowledge.VariantView, "Variant"),
        (knowledge.EvidenceSummary, "EvidenceSummary"),
        (knowledge.Count, "Count"),
        (knowledge.MolecularProfileRef, "MolecularProfileRef"),
        (knowledge.GeneView, "Gene"),
        (knowledge.DrugView, "Drug"),
        (knowledge.DiseaseView, "Disease"),
        (knowledge.Release, "Release"),
        (knowledge.NodeRef, "NodeRef"),
        (knowledge.EvidenceView, "Evidence"),
        (explore.Node, "GraphNode"),
        (explore.Edge, "GraphEdge"),
        (explore.Subgraph, "Subgraph"),
        (explore.Path, "GraphPath"),
        (cohort.PhenotypeCount, "PhenotypeCount"),
        (cohort.CohortPhenotypes, "CohortPhenotypes"),
        (cohort.ActionablePatient, "ActionablePatient"),
        (cohort.Actionable, "CohortActionable"),
        (export.Export, "SubgraphExport"),
        (report.MatchSummary, "VcfMatchSummary"),
    ],
)
def test_every_answer_field_is_served(model: type, graphql_name: str) -> None:
    """A field added to a kg answer dataclass is in the schema with nothing else written."""
    served = schema.get_type_by_name(graphql_name)
    assert served is not None, graphql_name
    names = [f.graphql_name or _camel(f.python_name) for f in served.fields]  # type: ignore[union-attr]
    declared = [_camel(f.name) for f in dataclasses.fields(model) if not f.metadata.get("internal")]
    assert names[: len(declared)] == declared


@dataclass
class PlainAnswer:
    id: str
    leaf: Leaf


@derived(PlainAnswer, name="DeriveTestPlain")
class PlainAnswerType:
    pass


@dataclass
class HoldsShouting:
    answer: Answer


@derived(HoldsShouting, name="DeriveTestHolds")
class HoldsShoutingType:
    pass


def test_a_type_that_adds_nothing_serves_the_answer_itself_and_one_that_adds_a_field_is_converted() -> None:
    plain = PlainAnswer("p", Leaf("a", 1.0))
    assert to_type(PlainAnswerType, plain) is plain  # every field read by name from the kg answer
    made = Answer("x", Colour.RED, [], (), {}, None)
    assert isinstance(to_type(AnswerType, made), AnswerType)  # adds `shout`: a copy that has it
    holder = to_type(HoldsShoutingType, HoldsShouting(made))  # adds nothing, but nests a type that does
    assert isinstance(holder, HoldsShoutingType) and isinstance(holder.answer, AnswerType)  # type: ignore[attr-defined]

    @strawberry.type
    class Query:
        @strawberry.field
        def plain(self) -> PlainAnswerType:
            return to_type(PlainAnswerType, plain)

        @strawberry.field
        def holder(self) -> HoldsShoutingType:
            return to_type(HoldsShoutingType, HoldsShouting(made))

    result = strawberry.Schema(query=Query).execute_sync(
        "{ plain { id leaf { id score } } holder { answer { shout } } }"
    )
    assert result.errors is None
    assert result.data == {
        "plain": {"id": "p", "leaf": {"id": "a", "score": 1.0}},
        "holder": {"answer": {"shout": "X"}},
    }

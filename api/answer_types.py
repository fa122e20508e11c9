"""GraphQL types every answer item carries: its path and its sources, and the drug and disease
references; each derived from its kg dataclass (kg/queries/answers.py) by api/derive.py."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.derive import derived
from kg.queries import answers

#: The ``asOf`` argument of every answer that reads knowledge (patient answers, look-ups, exports).
AsOf = Annotated[
    str | None,
    strawberry.argument(
        description="Answer from the knowledge of then: a release key (clinvar@2024-06-01: that source as of that "
        "release, the others current) or a date YYYY-MM-DD (every source's releases of that date); omitted: "
        "current. An unknown key or a date before every release is BAD_INPUT."
    ),
]


@derived(answers.PathNode, description="A node on an answer's path.")
class PathNodeType:
    pass


@derived(answers.PathStep, description="One edge of an answer's path: start -[relationship]-> end.")
class PathStepType:
    pass


@derived(answers.SourceRef, description="The release (Source) that asserted a fact on the path.")
class SourceRefType:
    pass


@derived(answers.DrugRef)
class DrugRef:
    pass


@derived(answers.DiseaseRef)
class DiseaseRef:
    pass

"""GraphQL types every answer item carries: its path and its sources, and the drug and disease
references; each derived from its kg dataclass (kg/queries/answers.py) by api/derive.py."""

from __future__ import annotations

from api.derive import derived
from kg.queries import answers


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

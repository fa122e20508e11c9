"""GraphQL types of the knowledge look-ups: variants, drugs, diseases, evidence and its pages.

Each derived (api/derive.py) from its kg.queries.knowledge dataclass; names follow docs/GRAPH_MODEL.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

import api.answer_types  # noqa: F401  (derives DiseaseRef and DrugRef, which Evidence holds)
from api.context import Context
from api.derive import derived, to_types
from api.loaders import disease_relatives_loader
from kg.queries import knowledge


@derived(knowledge.Count, description="How many items share one value (a type, a source, a significance).")
class Count:
    pass


@derived(
    knowledge.EvidenceSummary,
    description="Visible (accepted, active-release) evidence about a variant, directly or via its profiles.",
)
class EvidenceSummary:
    pass


@derived(
    knowledge.MolecularProfileRef, description="A CIViC molecular profile: one variant, a combination, or a category."
)
class MolecularProfileRef:
    pass


@derived(
    knowledge.VariantView,
    name="Variant",
    description="A variant: GRCh38 allele (GRCh38:chr7:140753336:A:T) or a CIViC codon/gene-level category.",
)
class Variant:
    pass


@derived(
    knowledge.GeneView, name="Gene", description="A gene (HGNC), found by current symbol, previous symbol or alias."
)
class Gene:
    pass


@derived(knowledge.DrugView, name="Drug", description="A drug (key: lowercased preferred name) with its identifiers.")
class Drug:
    pass


@derived(
    knowledge.DiseaseView,
    name="Disease",
    description="A disease (Disease Ontology term, or MONDO) with its place in the IS_A hierarchy.",
)
class Disease:
    if TYPE_CHECKING:  # derived from DiseaseView at run time (api/derive.py); declared here for mypy only
        id: str
        as_of: str | None

    @strawberry.field(description="Direct parents (IS_A), in the knowledge state of this disease (its asOf).")
    async def parents(self, info: Info[Context, None]) -> list[Disease]:
        return to_types(Disease, await disease_relatives_loader(info, "parents", self.as_of).load(self.id))

    @strawberry.field(description="Direct children (IS_A), in the knowledge state of this disease (its asOf).")
    async def children(self, info: Info[Context, None]) -> list[Disease]:
        return to_types(Disease, await disease_relatives_loader(info, "children", self.as_of).load(self.id))


@derived(knowledge.Release, description="A source release: what asserted a fact, under which licence, loaded when.")
class Release:
    pass


@derived(
    knowledge.NodeRef, description="A node an evidence item is ABOUT: molecular profile, variant, gene or phenotype."
)
class NodeRef:
    pass


@derived(
    knowledge.EvidenceView,
    name="Evidence",
    description="One graded evidence item (or assertion), with its links and the releases behind it.",
)
class Evidence:
    pass


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class EvidenceEdge:
    cursor: str
    node: Evidence


@strawberry.type(description="A page of evidence in id order; pass pageInfo.endCursor as `after` for the next.")
class EvidenceConnection:
    edges: list[EvidenceEdge]
    page_info: PageInfo
    total_count: int
    releases: list[str] = strawberry.field(
        default_factory=list, description="Keys (name@version) of the releases of the evidence on this page."
    )
    as_of: str | None = strawberry.field(
        default=None, description="The knowledge state answered from: the asOf asked; null: current."
    )


@strawberry.input(description="Every field narrows the result; disease includes its descendants (IS_A*).")
class EvidenceFilter:
    id: str | None = strawberry.field(default=None, description="One evidence item by id (civic:EID1409).")
    gene: str | None = None
    variant: str | None = strawberry.field(
        default=None, description="A variant id (GRCh38:chr7:140753336:A:T or 7-140753336-A-T)."
    )
    drug: str | None = strawberry.field(default=None, description="A drug name or synonym.")
    disease: str | None = strawberry.field(
        default=None, description="A disease id (DOID:1909) or name; descendants included."
    )
    type: str | None = None
    level: str | None = None
    significance: str | None = None
    direction: str | None = None
    source: str | None = None

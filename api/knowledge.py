"""Knowledge look-ups: genes, variants, drugs, diseases and pages of evidence.

Every look-up needs Permission.KNOWLEDGE: any role, and anonymous callers when KG_AUTH_ANONYMOUS is on.
Resolvers validate arguments and shape results; which entity a text names is kg.queries.resolve's
(one resolver per entity), the Cypher of the look-ups is in kg.queries.knowledge. Each look-up takes an
optional ``asOf`` (kg.queries.visibility.knowledge_state, once per request): entities and evidence of then.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api import cursors
from api.answer_types import AsOf
from api.auth import needs
from api.context import Context
from api.derive import to_type, to_types
from api.errors import bad_input, unresolved
from api.knowledge_types import (
    Disease,
    Drug,
    Evidence,
    EvidenceConnection,
    EvidenceEdge,
    EvidenceFilter,
    Gene,
    PageInfo,
    Variant,
)
from kg.access.roles import Permission as P
from kg.queries import knowledge, resolve

MAX_QUERY_LENGTH = 500


def _text(value: str, what: str) -> str:
    """A non-empty, bounded search text (BAD_INPUT otherwise)."""
    text = value.strip()
    if not text:
        raise bad_input(f"{what} must not be empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise bad_input(f"{what} is longer than {MAX_QUERY_LENGTH} characters")
    return text


def _one(matches: list[resolve.Match], entity: str, query: str) -> resolve.Match | None:
    """The one match, None for none; several are BAD_INPUT listing the candidates."""
    if len(matches) > 1:
        raise unresolved(resolve.AmbiguousEntity(entity, query, matches))
    return matches[0] if matches else None


@strawberry.type
class KnowledgeQuery:
    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="A gene by current HGNC symbol, previous symbol or alias; null if unknown.",
    )
    async def gene(self, info: Info[Context, None], symbol: str, as_of: AsOf = None) -> Gene | None:
        state = await info.context.state(as_of)
        matches = await info.context.run(resolve.find_genes, _text(symbol, "symbol"), state)
        match = _one(matches, "gene", symbol)
        return to_type(Gene, knowledge.gene_view(match, state)) if match else None

    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="Every variant a text names: graph id (GRCh38:chr7:140753336:A:T), 7-140753336-A-T, "
        "chr7:140753336:A:T, rsID, HGVS, or gene + protein change (BRAF V600E, BRAF p.Val600Glu).",
    )
    async def variants(self, info: Info[Context, None], query: str, as_of: AsOf = None) -> list[Variant]:
        state = await info.context.state(as_of)
        hits = await info.context.run(knowledge.find_variants, _text(query, "query"), state)
        return to_types(Variant, hits)

    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="The one variant a text names (forms as in `variants`); null if none, BAD_INPUT if several.",
    )
    async def variant(self, info: Info[Context, None], query: str, as_of: AsOf = None) -> Variant | None:
        state = await info.context.state(as_of)
        hits = await info.context.run(knowledge.find_variants, _text(query, "query"), state)
        if len(hits) > 1:
            _one([resolve.Match("Variant", h.id, h.name, "", {"id": h.id}) for h in hits], "variant", query)
        return to_type(Variant, hits[0]) if hits else None

    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="A drug by name or synonym (case-insensitive), or by RxNorm, DrugBank, ATC or PharmGKB id; "
        "null if unknown, BAD_INPUT if several.",
    )
    async def drug(self, info: Info[Context, None], name: str, as_of: AsOf = None) -> Drug | None:
        state = await info.context.state(as_of)
        matches = await info.context.run(resolve.find_drugs, _text(name, "name"), state)
        match = _one(matches, "drug", name)
        return to_type(Drug, knowledge.found_drug(match, state)) if match else None

    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="Every disease a text names at the best rank: id in any spelling (DOID:1909, doid_1909), else "
        "name or exact synonym, else cross-reference (MESH:D008545, OMIM, Orphanet, NCIt, UMLS, MedGen). An obsolete "
        "term stands for its replacement (replacedFrom says so).",
    )
    async def diseases(self, info: Info[Context, None], query: str, as_of: AsOf = None) -> list[Disease]:
        state = await info.context.state(as_of)
        matches = await info.context.run(resolve.find_diseases, _text(query, "query"), state)
        return to_types(Disease, [knowledge.found_disease(m, state) for m in matches])

    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="The one disease a text names (as in `diseases`); null if none, BAD_INPUT if several.",
    )
    async def disease(self, info: Info[Context, None], query: str, as_of: AsOf = None) -> Disease | None:
        state = await info.context.state(as_of)
        matches = await info.context.run(resolve.find_diseases, _text(query, "query"), state)
        match = _one(matches, "disease", query)
        return to_type(Disease, knowledge.found_disease(match, state)) if match else None

    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description=f"Accepted evidence of the knowledge state (asOf; default: active releases), in id order, {knowledge.MAX_PAGE} at most per page "
        "(Relay cursors: pass pageInfo.endCursor as `after`).",
    )
    async def evidence(
        self,
        info: Info[Context, None],
        filter: EvidenceFilter | None = None,
        first: int = 20,
        after: str | None = None,
        as_of: AsOf = None,
    ) -> EvidenceConnection:
        if not 0 <= first <= knowledge.MAX_PAGE:
            raise bad_input(f"first must be between 0 and {knowledge.MAX_PAGE}, got {first}")
        f = filter or EvidenceFilter()
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in vars(f).items()}
        for name, value in values.items():
            if isinstance(value, str) and len(value) > MAX_QUERY_LENGTH:
                raise bad_input(f"filter.{name} is longer than {MAX_QUERY_LENGTH} characters")
        query_filter = knowledge.EvidenceFilter(**{k: v or None for k, v in values.items()})
        state = await info.context.state(as_of)
        page = await info.context.run(
            knowledge.evidence_page, query_filter, first, cursors.decode("evidence", after), state
        )
        edges = [EvidenceEdge(cursor=cursors.encode("evidence", e.id), node=to_type(Evidence, e)) for e in page.items]
        return EvidenceConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total,
            releases=page.releases,
            as_of=page.as_of,
        )

"""Knowledge look-ups: genes, variants, drugs, diseases and pages of evidence.

Resolvers validate arguments and shape results; the Cypher is in kg.queries (genes, knowledge).
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api import cursors
from api.context import Context
from api.derive import to_type, to_types
from api.errors import bad_input
from api.knowledge_types import (
    Disease,
    Drug,
    Evidence,
    EvidenceConnection,
    EvidenceEdge,
    EvidenceFilter,
    PageInfo,
    Variant,
)
from api.types import Gene
from kg.queries import knowledge
from kg.queries.genes import AmbiguousSymbol, find_gene

MAX_QUERY_LENGTH = 500


def _text(value: str, what: str) -> str:
    """A non-empty, bounded search text (BAD_INPUT otherwise)."""
    text = value.strip()
    if not text:
        raise bad_input(f"{what} must not be empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise bad_input(f"{what} is longer than {MAX_QUERY_LENGTH} characters")
    return text


def _one(items: list, what: str, query: str, ids: list[str]) -> object | None:
    if len(items) > 1:
        raise bad_input(f"{query!r} names {len(items)} {what}s: {', '.join(ids)}; ask with one of these ids")
    return items[0] if items else None


@strawberry.type
class KnowledgeQuery:
    @strawberry.field(description="A gene by current HGNC symbol, previous symbol or alias; null if unknown.")
    async def gene(self, info: Info[Context, None], symbol: str) -> Gene | None:
        if not symbol.strip():
            raise bad_input("symbol must not be empty")
        try:
            match = await info.context.run(find_gene, symbol)
        except AmbiguousSymbol as err:
            raise bad_input(str(err)) from err
        return Gene.from_row(match.gene, match.matched_as) if match else None

    @strawberry.field(
        description="Every variant a text names: graph id (GRCh38:chr7:140753336:A:T), 7-140753336-A-T, "
        "chr7:140753336:A:T, rsID, HGVS, or gene + protein change (BRAF V600E, BRAF p.Val600Glu)."
    )
    async def variants(self, info: Info[Context, None], query: str) -> list[Variant]:
        hits = await info.context.run(knowledge.find_variants, _text(query, "query"))
        return to_types(Variant, hits)

    @strawberry.field(description="The one variant a text names (forms as in `variants`); null if none, BAD_INPUT if several.")
    async def variant(self, info: Info[Context, None], query: str) -> Variant | None:
        hits = await info.context.run(knowledge.find_variants, _text(query, "query"))
        hit = _one(hits, "variant", query, [h.id for h in hits])
        return to_type(Variant, hit) if hit else None

    @strawberry.field(description="A drug by name or synonym (case-insensitive); null if unknown, BAD_INPUT if several.")
    async def drug(self, info: Info[Context, None], name: str) -> Drug | None:
        rows = await info.context.run(knowledge.find_drugs, _text(name, "name"))
        row = _one(rows, "drug", name, [r["id"] for r in rows])
        return Drug.of(row) if row else None  # type: ignore[arg-type]

    @strawberry.field(description="Every disease a text names: id (DOID:1909), else name or exact synonym, else xref (MESH:D008545).")
    async def diseases(self, info: Info[Context, None], query: str) -> list[Disease]:
        rows = await info.context.run(knowledge.find_diseases, _text(query, "query"))
        return [Disease.of(r["disease"], r["matchedAs"], r["replacedBy"]) for r in rows]

    @strawberry.field(description="The one disease a text names (as in `diseases`); null if none, BAD_INPUT if several.")
    async def disease(self, info: Info[Context, None], query: str) -> Disease | None:
        rows = await info.context.run(knowledge.find_diseases, _text(query, "query"))
        row = _one(rows, "disease", query, [r["disease"]["id"] for r in rows])
        return Disease.of(row["disease"], row["matchedAs"], row["replacedBy"]) if row else None  # type: ignore[index]

    @strawberry.field(
        description=f"Accepted evidence from active releases, in id order, {knowledge.MAX_PAGE} at most per page "
        "(Relay cursors: pass pageInfo.endCursor as `after`)."
    )
    async def evidence(
        self, info: Info[Context, None], filter: EvidenceFilter | None = None, first: int = 20, after: str | None = None
    ) -> EvidenceConnection:
        if not 0 <= first <= knowledge.MAX_PAGE:
            raise bad_input(f"first must be between 0 and {knowledge.MAX_PAGE}, got {first}")
        f = filter or EvidenceFilter()
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in vars(f).items()}
        for name, value in values.items():
            if isinstance(value, str) and len(value) > MAX_QUERY_LENGTH:
                raise bad_input(f"filter.{name} is longer than {MAX_QUERY_LENGTH} characters")
        query_filter = knowledge.EvidenceFilter(**{k: v or None for k, v in values.items()})
        page = await info.context.run(knowledge.evidence_page, query_filter, first, cursors.decode("evidence", after))
        if page.unresolved:
            named = ", ".join(f"{name} {values[name]!r}" for name in page.unresolved)
            raise bad_input(f"unknown {named} in the evidence filter")
        edges = [EvidenceEdge(cursor=cursors.encode("evidence", r["props"]["id"]), node=Evidence.of(r)) for r in page.rows]
        return EvidenceConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total,
        )

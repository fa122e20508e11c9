"""Knowledge look-ups: genes (and, as they grow, variants, drugs, diseases, evidence)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.errors import bad_input
from api.types import Gene
from kg.queries.genes import AmbiguousSymbol, find_gene


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

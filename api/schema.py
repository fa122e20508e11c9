"""The GraphQL schema: queries resolve through kg.queries; no Cypher here."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, QueryDepthLimiter
from strawberry.types import Info

from api.context import Context
from api.errors import bad_input, is_client_error
from api.types import Gene
from kg.queries.genes import AmbiguousSymbol, find_gene


@strawberry.type
class Query:
    @strawberry.field(description="A gene by current HGNC symbol, previous symbol or alias; null if unknown.")
    async def gene(self, info: Info[Context, None], symbol: str) -> Gene | None:
        if not symbol.strip():
            raise bad_input("symbol must not be empty")
        try:
            match = await info.context.run(find_gene, symbol)
        except AmbiguousSymbol as err:
            raise bad_input(str(err)) from err
        return Gene.from_row(match.gene, match.matched_as) if match else None


def _should_mask(error: GraphQLError) -> bool:
    return not is_client_error(error)


schema = strawberry.Schema(
    query=Query,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=10),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="internal error"),
    ],
)

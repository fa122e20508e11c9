"""The GraphQL schema: queries resolve through kg.queries; no Cypher here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import Info

from api.context import Context
from api.errors import bad_input, is_client_error
from api.types import Gene
from kg.queries.genes import AmbiguousSymbol, find_gene


MAX_DEPTH = 10  # deep enough for patient -> answer -> path -> node; refuses abusive nesting
MAX_ALIASES = 30
MAX_TOKENS = 3000


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


class KgSchema(strawberry.Schema):
    """Logs only unexpected errors (with their stack, server side); client errors stay quiet."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [e for e in errors if not is_client_error(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


schema = KgSchema(
    query=Query,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="internal error"),
    ],
)

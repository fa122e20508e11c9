"""The GraphQL schema: one Query merged from the concept modules (knowledge, patients, research)
and the curation Mutation; resolvers call kg.queries, never Cypher."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from api.errors import is_client_error
from api.knowledge import KnowledgeQuery
from api.patients import PatientQuery
from api.curation import CurationMutation, CurationQuery
from api.research import ResearchQuery


MAX_DEPTH = 10  # deep enough for patient -> answer -> path -> node; refuses abusive nesting
MAX_ALIASES = 30
MAX_TOKENS = 3000


Query = merge_types("Query", (PatientQuery, KnowledgeQuery, ResearchQuery, CurationQuery))


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
    mutation=CurationMutation,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="internal error"),
    ],
)

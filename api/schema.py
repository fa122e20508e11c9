"""The GraphQL schema: one Query merged from the concept modules (knowledge, patients, research,
curation, admin) and one Mutation (curation, phenopacket submission, admin); resolvers call kg.queries,
never Cypher. Every root field declares the permission it needs (api/auth.py ``needs``; tests/test_access.py checks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from api.admin import AdminMutation, AdminQuery
from api.curation import CurationMutation, CurationQuery
from api.errors import internal, is_client_error
from api.execution import PlainFieldExecutionContext
from api.knowledge import KnowledgeQuery
from api.limits import ArgumentLimits
from api.patients import PatientQuery
from api.phenopackets import PhenopacketMutation
from api.research import ResearchQuery
from kg.config import Settings

MAX_DEPTH = 10  # deep enough for patient -> answer -> path -> node; refuses abusive nesting
MAX_ALIASES = 30
MAX_TOKENS = 3000
DOCUMENT_CACHE_SIZE = 256  # distinct query texts whose parse and validation are kept (LRU, bounded)

# The depth and alias limits as validation rule classes built once: each QueryDepthLimiter /
# MaxAliasesLimiter instance makes a new rule class, so built per request they would make every
# request's rule set a new key and the validation cache would never hit.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


Query = merge_types("Query", (PatientQuery, KnowledgeQuery, ResearchQuery, CurationQuery, AdminQuery))
Mutation = merge_types("Mutation", (CurationMutation, PhenopacketMutation, AdminMutation))


def _should_mask(error: GraphQLError) -> bool:
    return not is_client_error(error)


class MaskInternalErrors(MaskErrors):
    """Strawberry's masking, with the INTERNAL code on the masked error (api/errors.py)."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return internal(error, self.error_message)


class KgSchema(strawberry.Schema):
    """Logs only unexpected errors (with their stack, server side); client errors stay quiet."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [e for e in errors if not is_client_error(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def make_schema(settings: Settings, extra_queries: Sequence[type] = ()) -> KgSchema:
    """The schema with its limits: depth, aliases and tokens, every string argument's length and
    characters (api.limits), and in production (``KG_ENV=production``) no introspection.
    ``extra_queries``: more root query types merged in; only bench/api_floor.py passes any (its
    benchmark-only payload floor), the service never does."""
    extensions: list[Any] = [
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        # parsing and validating the same query text again cost about half of a summary query's
        # GraphQL CPU time (bench/bench_api.py); both are pure functions of text (and token limit)
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ArgumentLimits(settings),
        lambda: MaskInternalErrors(should_mask_error=_should_mask, error_message="internal error"),
    ]
    if settings.production:
        extensions.insert(0, DisableIntrospection)
    query = merge_types("Query", (Query, *extra_queries)) if extra_queries else Query
    return KgSchema(
        query=query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=PlainFieldExecutionContext,  # leaf fields read off answers: a shorter path
    )


schema = make_schema(Settings())

"""A leaner GraphQL executor for the fields that only read an attribute (issue 12: the payload floor).

A patient summary is ~5,300 fields, ~4,100 of them leaves read straight off an answer object (a gene, a
release, a recommendation's text). graphql-core handles each as any field: a ``GraphQLResolveInfo`` built,
arguments looked up, the resolver called through strawberry's wrapper, then ``complete_value`` once per
type wrapper (NonNull, List, leaf) with an awaitable test at every step: most of the summary's GraphQL time.

``PlainFieldExecutionContext`` takes a shorter path for one kind of field only: strawberry made its
resolver the *basic* one (no resolver function, no permission or other field extension, so strawberry
itself calls it without ``info`` or arguments: ``_get_basic_result``), it has no arguments and no
directives, there is no middleware, and its type is a leaf (scalar or enum), or a list of leaves, either
nullable or not. The value is read and each leaf coerced by the type's own ``coerce_output_value``
(GraphQL spec, "Value Completion") as graphql-core would. Anything unusual (a null where the type says
non-null, an exception, an awaitable, a value that is not a list, a coercion that fails) is left to
graphql-core's own ``execute_fields``, which reads the attribute again and reports the error exactly as
before. Every other field (objects, lists of objects, anything with a resolver) takes graphql-core's path.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_leaf_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF  # a GraphQLField's strawberry field
#: the name strawberry gives the resolver it builds for a basic field (strawberry/schema/schema_converter.py
#: ``from_resolver``): it calls the field's default resolver (``getattr``) without info or arguments
BASIC_RESOLVER = "_get_basic_result"


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    """How to complete one plain field: how strawberry reads it (its default resolver and the attribute),
    its leaf type, whether the field (``non_null``) and, for a list of leaves, whether each item
    (``item_non_null``) may not be null."""

    read: Callable[[Any, str], Any]
    attribute: str
    leaf: GraphQLLeafType
    non_null: bool
    is_list: bool
    item_non_null: bool


def plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    """The field's plan when it only reads an attribute holding a leaf or a list of leaves, else None.

    Strawberry's basic resolver is ``field.get_result(source, info=None, args=[], kwargs={})``, which for a
    field without a resolver is ``field.default_resolver(source, field.python_name)``: the plan calls that."""
    definition = (field.extensions or {}).get(DEFINITION_BACKREF)
    if field.args or getattr(field.resolve, "__name__", None) != BASIC_RESOLVER or definition is None:
        return None
    if definition.base_resolver is not None or definition.extensions:  # strawberry's own test, is_basic_field
        return None
    read = definition.default_resolver
    kind: GraphQLOutputType = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if is_leaf_type(kind):
        return PlainLeaf(read, definition.python_name, kind, non_null, False, False)
    if not isinstance(kind, GraphQLList):
        return None
    item = kind.of_type
    item_non_null = isinstance(item, GraphQLNonNull)
    item = item.of_type if isinstance(item, GraphQLNonNull) else item
    if not is_leaf_type(item):
        return None
    return PlainLeaf(read, definition.python_name, item, non_null, True, item_non_null)


#: per schema: (type name, field name) -> its PlainLeaf, or None when the field takes graphql-core's path
_PLANS: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], PlainLeaf | None]] = weakref.WeakKeyDictionary()


class _Unusual(Exception):
    """Raised inside the short path: let graphql-core complete the field (and report what it finds)."""


def _leaf(leaf: GraphQLLeafType, value: Any, non_null: bool) -> Any:
    if value is None:
        if non_null:
            raise _Unusual
        return None
    coerced = leaf.coerce_output_value(value)
    if coerced is None or coerced is Undefined:
        raise _Unusual
    return coerced


def complete_plain(plan: PlainLeaf, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The field's completed value, as graphql-core's ``complete_value`` gives it when nothing is wrong;
    raises when something is (graphql-core then completes the field and reports the error)."""
    value = plan.read(source, plan.attribute)
    if isinstance(value, Exception) or is_awaitable(value):
        raise _Unusual
    if not plan.is_list:
        return _leaf(plan.leaf, value, plan.non_null)
    if value is None:
        if plan.non_null:
            raise _Unusual
        return None
    if not isinstance(value, (list, tuple)) and (
        isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable)
    ):
        raise _Unusual
    leaf, item_non_null = plan.leaf, plan.item_non_null
    return [_leaf(leaf, item, item_non_null) for item in value]


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context with the short path above for plain leaf fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = _PLANS.get(self.schema)
        self._plans = _PLANS[self.schema] = {} if plans is None else plans
        manager = self.middleware_manager  # strawberry passes one on every request; it holds middleware only
        self._plain = not (manager is not None and manager.middlewares)  # when an extension has ``resolve``
        self._selections: dict[int, Selection] = {}

    def _plan(self, parent_type: GraphQLObjectType, node: FieldNode) -> PlainLeaf | None:
        key = (parent_type.name, node.name.value)
        try:
            plan = self._plans[key]
        except KeyError:
            field = self.schema.get_field(parent_type, node.name.value)
            plan = self._plans[key] = plain_leaf(field) if field is not None else None
        return None if plan is None or node.arguments or node.directives else plan

    def _split(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> Selection:
        """The selection's plain fields and the rest, worked out once per selection and request
        (graphql-core hands every item of a list the same selection object)."""
        kept = self._selections.get(id(grouped))
        if kept is not None and kept.grouped is grouped:
            return kept
        plain = [
            (name, plan) for name, details in grouped.items() if (plan := self._plan(parent_type, details[0].node))
        ]
        names = {name for name, _ in plain}
        rest = {name: details for name, details in grouped.items() if name not in names}
        selection = self._selections[id(grouped)] = Selection(grouped, plain, rest)  # holding it keeps its id
        return selection

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """The plain fields here, the others by graphql-core; the answer's keys in the selection's order."""
        if not self._plain:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        selection = self._split(parent_type, grouped_field_set)
        done: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        for name, plan in selection.plain:
            try:
                done[name] = complete_plain(plan, source_value, is_awaitable)
            except Exception:  # graphql-core completes it below and reports what is wrong
                continue
        if len(done) == len(selection.plain):
            if not selection.rest:
                return done
            rest = selection.rest
        else:
            rest = {name: details for name, details in grouped_field_set.items() if name not in done}
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if not done:
            return others
        if is_awaitable(others):
            return _in_order(grouped_field_set, done, others)
        return _ordered(grouped_field_set, done, cast("dict[str, Any]", others))


@dataclass(frozen=True, slots=True)
class Selection:
    """One selection (a grouped field set) split: its plain fields with their plans, the rest for graphql-core."""

    grouped: GroupedFieldSet
    plain: list[tuple[str, PlainLeaf]]
    rest: GroupedFieldSet


def _ordered(grouped: GroupedFieldSet, done: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """Both halves in the selection's order (a field graphql-core left out, ``Undefined``, stays out)."""
    return {name: done[name] if name in done else others[name] for name in grouped if name in done or name in others}


async def _in_order(
    grouped: GroupedFieldSet, done: dict[str, Any], others: Awaitable[dict[str, Any]]
) -> dict[str, Any]:
    return _ordered(grouped, done, await others)

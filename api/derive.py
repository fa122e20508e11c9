"""GraphQL types derived from kg's answer dataclasses, so an answer's fields are declared once.

``@derived(Model)`` on an (often empty) class makes it the Strawberry type of the kg dataclass
``Model``: one GraphQL field per dataclass field, in the dataclass's order, named as Strawberry
names them (``match_levels`` -> ``matchLevels``), with the field's description from its metadata
(kg/queries/fields.py); fields marked internal are left out. Field types map as follows:

- ``str``, ``int``, ``float``, ``bool`` and ``X | None`` as themselves (``None`` allowed = nullable);
- ``list[X]`` and ``tuple[X, ...]`` -> ``[X]``;
- another dataclass -> the type derived from it (derive it first);
- an ``Enum`` -> a GraphQL enum of the same name (the kg enum itself, so its members serialise);
- ``dict[...]`` and ``Any`` -> the ``JSON`` scalar.

The decorated class may add fields of its own (resolvers with arguments, DataLoader fields, values
the answer does not hold); they follow the derived ones. ``to_type(Type, instance, **extra)`` is the
one converter: it copies every derived field, converting nested dataclasses to their derived types.
A type that adds nothing (nor do the types of its nested dataclasses) resolves every field by name
from the kg instance itself, so ``to_type`` hands that instance on unconverted: copying a large
answer (a PGx-panel patient's summary holds ~30,000 values) cost about a fifth of the GraphQL layer's
time (bench/bench_api.py); Strawberry checks no Python class for a type without interfaces.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON

from kg.queries import fields

T = TypeVar("T")

_SCALARS = (str, int, float, bool)
_DERIVED: dict[type, type] = {}  # kg dataclass -> its Strawberry type
_FIELDS: dict[type, tuple[str, ...]] = {}  # Strawberry type -> the names it copies from the dataclass
_ENUMS: set[type] = set()
_AS_IS: dict[type, bool] = {}  # Strawberry type -> whether the kg instance serves as it is (``_as_is``)


def derived(model: type, *, name: str | None = None, description: str | None = None) -> Callable[[type[T]], type[T]]:
    """Make the decorated class the Strawberry type of the kg dataclass ``model``."""
    if not dataclasses.is_dataclass(model):
        raise TypeError(f"{model!r} is not a dataclass")

    def wrap(cls: type[T]) -> type[T]:
        hints = typing.get_type_hints(model)
        own = dict(inspect.get_annotations(cls))
        annotations: dict[str, Any] = {}
        copied = []
        for f in dataclasses.fields(model):
            if fields.is_internal(f) or f.name in own:
                continue
            annotations[f.name] = _graphql_type(hints[f.name], f"{model.__name__}.{f.name}")
            text = fields.description(f)
            if text:
                setattr(cls, f.name, strawberry.field(description=text))
            copied.append(f.name)
        cls.__annotations__ = {**annotations, **own}
        typed = strawberry.type(cls, name=name, description=description)
        _DERIVED[model] = typed
        _FIELDS[typed] = tuple(copied)
        return typed

    return wrap


def _graphql_type(hint: Any, where: str) -> Any:
    """The Strawberry annotation for a dataclass field's type (rules in the module docstring)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is dict or origin is dict:
        return JSON
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"{where}: a union of several types ({hint}) has no GraphQL type here")
        mapped = _graphql_type(inner[0], where)
        return mapped | None if len(inner) < len(args) else mapped
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return list[_graphql_type(args[0], where)]  # type: ignore[misc]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if hint not in _ENUMS:
            strawberry.enum(hint)
            _ENUMS.add(hint)
        return hint
    if hint in _SCALARS:
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint not in _DERIVED:
            raise TypeError(f"{where}: derive the type of {hint.__name__} before the types that hold it")
        return _DERIVED[hint]
    raise TypeError(f"{where}: no GraphQL type for {hint!r}")


def _dataclasses_in(hint: Any) -> list[type]:
    """The dataclasses a field's type holds (``X``, ``list[X]``, ``X | None``)."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return [hint]
    return [d for arg in typing.get_args(hint) for d in _dataclasses_in(arg)]


def _as_is(cls: type) -> bool:
    """``cls`` adds no field of its own, nor does any type derived from a dataclass it holds: the kg
    instance answers every field by name (Strawberry's default resolver reads the attribute)."""
    if cls not in _AS_IS:
        model = next(m for m, t in _DERIVED.items() if t is cls)
        own = {f.python_name for f in cls.__strawberry_definition__.fields} - set(_FIELDS[cls])  # type: ignore[attr-defined]
        hints = typing.get_type_hints(model)
        _AS_IS[cls] = not own and all(
            nested in _DERIVED and _as_is(_DERIVED[nested])
            for name in _FIELDS[cls]
            for nested in _dataclasses_in(hints[name])
        )
    return _AS_IS[cls]


def to_type(cls: type[T], value: Any, **extra: Any) -> T:
    """``value`` (an instance of the dataclass ``cls`` derives from) as ``cls``; ``extra`` fills
    the fields the class adds itself. The instance itself when ``cls`` adds nothing (``_as_is``)."""
    if not extra and _as_is(cls):
        return typing.cast(T, value)
    values = {name: _convert(getattr(value, name)) for name in _FIELDS[cls]}
    return cls(**values, **extra)


def to_types(cls: type[T], values: typing.Iterable[Any]) -> list[T]:
    return [to_type(cls, v) for v in values]


def _convert(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        derived_from = next((t for t in type(value).__mro__ if t in _DERIVED), None)
        if derived_from is None:
            raise TypeError(f"no GraphQL type is derived from {type(value).__name__}")
        return to_type(_DERIVED[derived_from], value)
    if isinstance(value, (list, tuple)):
        return [_convert(v) for v in value]
    return value

"""What an answer dataclass says about its own fields, for every reader of the answer.

An answer's fields are declared once, on its dataclass in kg/queries; api/derive.py builds the
GraphQL type from those fields. A field's metadata may add a description (shown in the GraphQL
schema) or mark it internal: kg uses it (for ordering, say) but it is not part of the answer::

    disease_relation: str | None = field(metadata=described("How ... relates to the asked disease"))
    rating: int | None = field(metadata=INTERNAL)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field
from typing import Any

_DESCRIPTION = "description"
_INTERNAL = "internal"

INTERNAL: Mapping[str, Any] = {_INTERNAL: True}


def described(text: str) -> Mapping[str, Any]:
    """Field metadata carrying a description."""
    return {_DESCRIPTION: text}


def is_internal(f: Field[Any]) -> bool:
    return bool(f.metadata.get(_INTERNAL))


def description(f: Field[Any]) -> str | None:
    return f.metadata.get(_DESCRIPTION)

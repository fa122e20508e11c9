"""What an answer dataclass says about its own fields, for every reader of the answer.

An answer's fields are declared once, on its dataclass in kg/queries; api/derive.py builds the
GraphQL type from those fields. A field's metadata may add a ``description`` (shown in the GraphQL
schema) or mark it ``internal``: kg uses it (for ordering, say) but it is not part of the answer.
"""

from __future__ import annotations

from dataclasses import Field, field
from typing import Any

DESCRIPTION = "description"
INTERNAL = "internal"


def described(text: str, **kwargs: Any) -> Any:
    """A dataclass field with a description (``dataclasses.field`` arguments pass through)."""
    return field(metadata={DESCRIPTION: text}, **kwargs)


def internal(**kwargs: Any) -> Any:
    """A dataclass field kg keeps for itself: no reader of the answer sees it."""
    return field(metadata={INTERNAL: True}, **kwargs)


def is_internal(f: Field[Any]) -> bool:
    return bool(f.metadata.get(INTERNAL))


def description(f: Field[Any]) -> str | None:
    return f.metadata.get(DESCRIPTION)

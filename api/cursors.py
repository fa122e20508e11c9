"""Opaque Relay cursors: base64 of the last item's sort key, tagged with what was paged.

The tag stops a cursor of one list being replayed against another; a cursor that does not
decode is the client's mistake (BAD_INPUT), never a server error.
"""

from __future__ import annotations

import base64
import binascii

from api.errors import bad_input


def encode(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode(kind: str, cursor: str | None) -> str | None:
    """The sort key inside ``cursor`` (None for no cursor); BAD_INPUT if it is not one of ours."""
    if cursor is None or cursor == "":
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_input(f"invalid cursor {cursor!r}") from None
    tag, sep, key = text.partition(":")
    if not sep or tag != kind or not key:
        raise bad_input(f"the cursor {cursor!r} does not belong to this list")
    return key

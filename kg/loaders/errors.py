"""Errors a loader raises for bad input: file, line, what was expected, what was found."""

from __future__ import annotations

from pathlib import Path


class SourceFormatError(ValueError):
    """A source file does not have the format its loader expects.

    The load stops at the first such error and the release is discarded, so nothing half
    loaded stays visible.
    """

    def __init__(self, path: Path | str, line: int | None, expected: str, found: str = "") -> None:
        self.path = Path(path)
        self.line = line
        self.expected = expected
        self.found = found
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        detail = f"expected {expected}" + (f", found {found!r}" if found else "")
        super().__init__(f"{where}: {detail}")

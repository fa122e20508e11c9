"""Reading source files, plain or gzip, with the line reached known when the bytes run out.

The reference releases are plain gzip (not bgzip). A truncated or damaged gzip surfaces only
while streaming, as ``EOFError``, ``gzip.BadGzipFile`` or ``zlib.error``; :func:`read_errors`
turns those into :class:`SourceFormatError` naming the file and the last line that could be
read, so a parser never has to know about compression.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from kg.loaders.errors import SourceFormatError

DECOMPRESSION_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)

T = TypeVar("T")

_DATE = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?)")


class LineCountingReader(io.RawIOBase):
    """A binary stream that counts the newlines it has handed out (for parsers that read in chunks)."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self._raw = raw
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.newlines += data.count(b"\n")
        return size

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.newlines += data.count(b"\n")
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()

    @property
    def line(self) -> int:
        """The line the reader is on: newlines handed out so far, plus one."""
        return self.newlines + 1


def is_gzip(path: Path) -> bool:
    return path.suffix == ".gz"


def open_binary(path: Path) -> LineCountingReader:
    """Open ``path`` for binary reading, decompressing ``.gz``."""
    raw: io.BufferedIOBase = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115 (the caller closes the returned reader)
    return LineCountingReader(raw)


def open_text(path: Path) -> io.TextIOWrapper:
    """Open ``path`` as UTF-8 text with universal newlines handled by the csv module (``newline=''``)."""
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


@contextmanager
def read_errors(path: Path, line: Callable[[], int | None]) -> Iterator[None]:
    """Re-raise decompression and decoding failures as SourceFormatError at ``line()``."""
    try:
        yield
    except DECOMPRESSION_ERRORS as err:
        raise SourceFormatError(path, line(), "a complete gzip stream", f"{type(err).__name__}: {err}") from err
    except UnicodeDecodeError as err:
        raise SourceFormatError(path, line(), "UTF-8 text", f"{err.object[err.start : err.end]!r}") from err


def date_in(text: str) -> str | None:
    """The first ``YYYY-MM-DD`` or ``YYYY-MM`` in ``text`` (release versions in file names, headers, IRIs)."""
    found = _DATE.search(text)
    return found.group(1) if found else None


def checked_first(read: Callable[[], Iterable[T]]) -> Iterator[T]:
    """Read the whole file once (discarding what it yields), then stream it again.

    Use it for a loader's first stage. A fact edge carries a single ``release``; rows written by
    a release that later proves malformed can re-tag edges it shares with the active release
    (the same IS_A or ALIAS_OF edge), and discarding the failed release would then delete those
    edges. Checking the file before the first write means a malformed file writes nothing.
    """
    for _ in read():
        pass
    yield from read()


def find_release_file(path: Path, patterns: tuple[str, ...]) -> Path:
    """``path`` itself when it is a file; in a folder, the last (newest-dated) match of the first
    pattern that matches anything."""
    if path.is_file():
        return path
    for pattern in patterns:
        found = sorted(path.glob(pattern))
        if found:
            return found[-1]
    raise SourceFormatError(path, None, f"a file matching {' or '.join(patterns)}", "none in this folder")

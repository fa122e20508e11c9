"""Reading the pharmacogenomics source files (PharmCAT JSON, PharmGKB TSV, FDA JSON) strictly.

Every reader turns a malformed file into :class:`SourceFormatError` naming the file, the line
reached, what was expected and what was found: broken JSON (the decoder's line), a truncated or
corrupt gzip (the last decompressed line reached), a TSV header that is not the documented one
or a row with the wrong number of columns. ``.gz`` files are plain gzip (../shared/data README).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from kg.loaders.errors import SourceFormatError

_CHUNK = 1 << 16
_FIELD_LIMIT = 1 << 24


def read_text(path: Path) -> str:
    """The whole (decompressed) text of one file; a truncated gzip names the line it reached."""
    if not path.name.endswith(".gz"):
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise SourceFormatError(path, None, "UTF-8 text", str(err)) from err
    parts: list[str] = []
    lines = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            while chunk := handle.read(_CHUNK):
                parts.append(chunk)
                lines += chunk.count("\n")
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise SourceFormatError(path, lines + 1, "a complete gzip stream", f"{type(err).__name__}: {err}") from err
    except UnicodeDecodeError as err:
        raise SourceFormatError(path, lines + 1, "UTF-8 text", str(err)) from err
    return "".join(parts)


def read_json(path: Path) -> Any:
    """Parse one JSON (or gzipped JSON) document."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceFormatError(path, err.lineno, "valid JSON", f"{err.msg} (column {err.colno})") from err


def require(path: Path, record: Any, keys: Sequence[str], where: str) -> None:
    """``record`` (at JSON location ``where``) must be an object holding ``keys``."""
    if not isinstance(record, dict):
        raise SourceFormatError(path, None, f"a JSON object at {where}", type(record).__name__)
    missing = [k for k in keys if k not in record]
    if missing:
        raise SourceFormatError(path, None, f"{where} to have {', '.join(missing)}", ", ".join(sorted(record)))


def read_tsv(path: Path, expected_header: Sequence[str] | None = None) -> Iterator[dict[str, str]]:
    """Rows of a tab-separated file with a header line, as dicts (see :func:`numbered_tsv`)."""
    for _, row in numbered_tsv(path, expected_header):
        yield row


def numbered_tsv(path: Path, expected_header: Sequence[str] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row dict)`` of a tab-separated file with a header line; strict about the shape.

    PharmGKB TSVs are unquoted (a ``"`` is literal text), so the reader uses ``QUOTE_NONE``.
    ``expected_header``: the columns the file must start with, in order (extra trailing columns
    are allowed so that a release adding a column still loads).
    """
    # PharmGKB's drugs.tsv has cross-reference cells over csv's default 128 KiB field limit.
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    opener = gzip.open if path.name.endswith(".gz") else open
    line = 0
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            line = 1
            if header is None:
                raise SourceFormatError(path, 1, "a header line", "an empty file")
            header = [h.lstrip("\ufeff").strip() for h in header]
            if expected_header is not None and header[: len(expected_header)] != list(expected_header):
                raise SourceFormatError(path, 1, "header " + "\\t".join(expected_header), "\\t".join(header))
            width = len(header)
            for row in reader:
                line = reader.line_num
                if not row or row == [""]:
                    continue
                if len(row) != width:
                    raise SourceFormatError(
                        path, line, f"{width} tab-separated columns", f"{len(row)} columns: {_clip(row)}"
                    )
                yield line, dict(zip(header, row, strict=True))
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise SourceFormatError(path, line + 1, "a complete gzip stream", f"{type(err).__name__}: {err}") from err
    except UnicodeDecodeError as err:
        raise SourceFormatError(path, line + 1, "UTF-8 text", str(err)) from err
    except csv.Error as err:
        raise SourceFormatError(path, line + 1, "tab-separated text", str(err)) from err


def _clip(row: Sequence[str], limit: int = 80) -> str:
    text = "\\t".join(row)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def split_list(text: str | None, sep: str = ";") -> list[str]:
    """``"a; b;;c"`` -> ``["a", "b", "c"]``."""
    if not text:
        return []
    return [part.strip() for part in text.split(sep) if part.strip()]


class _TextExtractor(HTMLParser):
    """Plain text from PharmGKB's small recommendation HTML (p, h4, ul/ol/li, table, br)."""

    _BLOCK = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "thead", "tbody", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = io.StringIO()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK or tag == "br":
            self.out.write("\n")
        elif tag == "li":
            self.out.write("\n- ")
        elif tag in ("td", "th"):
            self.out.write(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCK:
            self.out.write("\n")

    def handle_data(self, data: str) -> None:
        self.out.write(data)


def html_to_text(html: str | None) -> str | None:
    """Readable plain text of an HTML fragment: one line per block, entities decoded."""
    if html is None:
        return None
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in parser.out.getvalue().splitlines()]
    return "\n".join(line for line in lines if line)

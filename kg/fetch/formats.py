"""What a downloaded file must start with: a format check from its first bytes only.

A publisher that renames a column, moves a file or answers with an HTML error page (HTTP 200 and
a login or "not found" page is common) must be refused before the file is taken as a release.
These checks read at most the first 64 KiB (decompressed for gzip) or, for zip archives, the
member names from the central directory; they do not parse a release: the loaders remain its
only readers and apply the full format checks (``kg.loaders``).
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 64 * 1024


class FormatChanged(Exception):
    """The file does not start as its publisher's format does (message: expected ..., found ...)."""


@dataclass(frozen=True)
class Check:
    """One file type: a description for messages and the test of its first bytes."""

    kind: str
    test: Callable[[Path], None]

    def __call__(self, path: Path) -> None:
        self.test(path)


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of ``path``, decompressed when it starts with the gzip magic number."""
    with open(path, "rb") as handle:
        raw = handle.read(size)
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(raw, size)
    except zlib.error as err:
        raise FormatChanged(f"expected a gzip stream, found damaged gzip data ({err})") from err


def _shown(data: bytes) -> str:
    text = data[:80].decode("utf-8", "replace").splitlines()
    return repr(text[0] if text else "")


def _not_html(data: bytes) -> None:
    start = data.lstrip()[:15].lower()
    if start.startswith((b"<!doctype html", b"<html", b"<?xml")):
        raise FormatChanged(f"found an HTML/XML page instead ({_shown(data.lstrip())})")


def gzipped(inner: Check) -> Check:
    """``inner`` applied to the decompressed start of a gzip file (plain gzip or BGZF)."""

    def test(path: Path) -> None:
        with open(path, "rb") as handle:
            magic = handle.read(2)
        if magic != b"\x1f\x8b":
            raise FormatChanged(f"expected gzip data (1f 8b), found {magic.hex(' ') or 'an empty file'}")
        inner(path)

    return Check(f"gzip-compressed {inner.kind}", test)


def starting_with(kind: str, *prefixes: bytes) -> Check:
    """A text file whose first line starts with one of ``prefixes``."""

    def test(path: Path) -> None:
        data = head(path)
        _not_html(data)
        if not data.lstrip(b"\xef\xbb\xbf").startswith(prefixes):
            wanted = " or ".join(repr(p.decode()) for p in prefixes)
            raise FormatChanged(f"expected {kind} starting with {wanted}, found {_shown(data)}")

    return Check(kind, test)


def tsv_with(*columns: str) -> Check:
    """A tab-separated file whose header line names ``columns``."""
    kind = f"a tab-separated file with the columns {', '.join(columns)}"

    def test(path: Path) -> None:
        data = head(path)
        _not_html(data)
        header = data.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r").split("\t")
        missing = [c for c in columns if c not in header]
        if missing:
            raise FormatChanged(f"expected {kind}, found the header {_shown(data)} (missing {', '.join(missing)})")

    return Check(kind, test)


def json_object() -> Check:
    def test(path: Path) -> None:
        data = head(path)
        _not_html(data)
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            raise FormatChanged(f"expected a JSON object, found {_shown(data)}")

    return Check("a JSON object", test)


def zip_with(*prefixes: str) -> Check:
    """A zip archive holding at least one member under each of ``prefixes`` (names only are read)."""
    kind = f"a zip archive with {', '.join(p + '*' for p in prefixes)}"

    def test(path: Path) -> None:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as err:
            with open(path, "rb") as handle:
                data = handle.read(80)
            _not_html(data)
            raise FormatChanged(f"expected {kind}, found no zip archive ({err})") from err
        missing = [p for p in prefixes if not any(n.startswith(p) for n in names)]
        if missing:
            raise FormatChanged(f"expected {kind}, found no member under {', '.join(missing)}")

    return Check(kind, test)


VCF = starting_with("a VCF file", b"##fileformat=VCF")
VCF_GZ = gzipped(VCF)
OBO = starting_with("an OBO file", b"format-version:")
CHAIN_GZ = gzipped(starting_with("a UCSC chain file", b"chain "))
JSON = json_object()

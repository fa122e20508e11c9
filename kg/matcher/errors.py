"""Errors of the VCF reading layer, and the integrity checks that raise them.

Bad input gets a clear error: which file, which record (and text line where the file has
lines), what was expected and what was found. htslib, under cyvcf2, prints its own
diagnostics to stderr and in some cases stops early without failing: a BGZF file cut at a
block boundary simply ends. :func:`check_complete` closes that hole by checking for the
BGZF end-of-file marker (SAM/BAM specification section 4.1.2, which VCF.gz and BCF share).
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

#: The 28-byte empty BGZF block that terminates every complete BGZF file (SAM spec 4.1.2).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class VcfError(ValueError):
    """A VCF that cannot be read as it stands.

    ``record`` is the 1-based number of the data record, ``line`` the 1-based text line
    (``None`` for BCF, or when unknown).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        message: str,
        *,
        record: int | None = None,
        line: int | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message
        self.record = record
        self.line = line
        self.expected = expected
        self.found = found
        super().__init__(self._text())

    def _text(self) -> str:
        where = self.path
        if self.line is not None:
            where += f", line {self.line}"
        if self.record is not None:
            where += f" (record {self.record})"
        text = f"{where}: {self.message}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.found is not None:
            text += f"; found {self.found}"
        return text


class Compression(str, Enum):
    NONE = "none"  # plain text VCF, or uncompressed BCF
    GZIP = "gzip"  # gzip but not BGZF: readable, never indexable
    BGZF = "bgzf"  # blocked gzip: VCF.gz from bgzip, or BCF


@dataclass(frozen=True)
class FileKind:
    compression: Compression
    bcf: bool

    @property
    def indexable(self) -> bool:
        return self.compression is Compression.BGZF


def sniff(path: str | os.PathLike[str]) -> FileKind:
    """Compression and format from the magic bytes, not the file name."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] != b"\x1f\x8b":
        return FileKind(Compression.NONE, head[:3] == b"BCF")
    bgzf = len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC"
    try:
        with gzip.open(path, "rb") as gz:
            bcf = gz.read(3) == b"BCF"
    except (OSError, EOFError, zlib.error):
        bcf = False
    return FileKind(Compression.BGZF if bgzf else Compression.GZIP, bcf)


def check_complete(path: str | os.PathLike[str], kind: FileKind | None = None) -> None:
    """Raise :class:`VcfError` when a BGZF file lacks its EOF block (it was truncated).

    Plain gzip has no such marker; a truncated plain gzip stream is caught while reading,
    when zlib reports the missing trailer (see :func:`diagnose`).
    """
    kind = kind or sniff(path)
    if kind.compression is not Compression.BGZF:
        return
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.seek(max(0, size - len(BGZF_EOF)))
        tail = fh.read()
    if tail != BGZF_EOF:
        raise VcfError(
            path,
            "file is truncated",
            expected="the 28-byte BGZF end-of-file block at the end of the file",
            found=f"{size} bytes ending without it (incomplete copy or download?)",
        )


def diagnose(path: str | os.PathLike[str], record: int, cause: BaseException | str) -> VcfError:
    """Build the clearest error for a read that failed at data record ``record``.

    Re-reads the file with Python's gzip module (only on this error path) to tell a
    truncated stream from a malformed line, and to quote the offending line.
    """
    kind = sniff(path)
    if kind.bcf:
        return VcfError(
            path,
            f"cannot decode BCF record: {cause}",
            record=record,
            expected="a well-formed BCF record",
            found="undecodable data",
        )
    header_lines = 0
    opener = gzip.open if kind.compression is not Compression.NONE else open
    try:
        with opener(path, "rb") as fh:
            n_data = 0
            for lineno, raw in enumerate(fh, start=1):
                if raw.startswith(b"#"):
                    header_lines = lineno
                    continue
                n_data += 1
                if n_data == record:
                    text = raw.decode("utf-8", "replace").rstrip("\r\n")
                    return VcfError(
                        path,
                        "malformed VCF record",
                        record=record,
                        line=lineno,
                        expected=_expected_for(text),
                        found=_quote(text),
                    )
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        return VcfError(
            path,
            "file is truncated or corrupt",
            record=record,
            expected="a complete gzip/BGZF stream",
            found=f"decompression stopped: {exc}",
        )
    return VcfError(path, f"read failed: {cause}", record=record, line=header_lines + record if header_lines else None)


def _expected_for(text: str) -> str:
    cols = text.split("\t")
    if len(cols) < 8:
        return f"at least 8 tab-separated columns (VCF 4.2 section 1.6), got {len(cols)}"
    if not cols[1].isdigit():
        return "POS to be a positive integer (VCF 4.2 section 1.6.1)"
    if len(cols) >= 10:
        return "sample columns matching FORMAT, GT as allele indexes joined by / or | (VCF 4.2 section 1.6.2)"
    return "a data line as described by VCF 4.2 section 1.6"


def _quote(text: str, limit: int = 160) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def expected_path(path: str | os.PathLike[str]) -> Path:
    """The path as given, checked to exist; a missing file is a VcfError too."""
    p = Path(path)
    if not p.is_file():
        raise VcfError(p, "no such file", expected="a readable VCF, VCF.gz or BCF file", found="nothing at this path")
    return p

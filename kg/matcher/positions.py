"""Fast filtering of a VCF to the positions the knowledge graph knows about.

A whole-genome VCF holds ~4.5 million records; the graph asks about a few thousand
positions. Strategies, best first (:func:`fetch` picks one):

``index``
    the file is BGZF (VCF.gz from bgzip, or BCF) with a current ``.tbi``/``.csi``:
    htslib region queries (``cyvcf2.VCF(...)(region)``), one per cluster of nearby
    positions. Cost grows with the positions asked, not with the file.
``built-index``
    BGZF without an index: build one into a temporary directory with htslib's
    ``tbx_index_build3``/``bcf_index_build3`` (reached through ctypes in the htslib that
    cyvcf2 links; nothing is written next to the patient's file), then query as above.
    Indexing parses only CHROM/POS/REF, so it is faster than decoding every record.
``text-scan``
    plain text or plain gzip (not indexable), or BGZF that htslib refused to index
    (unsorted): numpy over the raw text finds candidate lines; only those reach htslib.
``stream``
    BCF that cannot be indexed: iterate cyvcf2 in a tight loop (one string compare and
    one bisect per record).

Records are returned when their reference span overlaps a position of interest, so a
deletion that covers a position is found even though it starts before it.
"""

from __future__ import annotations

import ctypes
import gzip
import os
import shutil
import tempfile
import time
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
from cyvcf2 import VCF, Variant

from kg.identity.variants import canonical_chrom
from kg.matcher.errors import Compression, FileKind, VcfError, sniff

Strategy = Literal["index", "built-index", "text-scan", "stream"]


@dataclass(frozen=True, order=True)
class Interval:
    """``chrom:start-end``, 1-based and inclusive as in VCF POS; chrom canonical (``chr7``)."""

    chrom: str
    start: int
    end: int

    @classmethod
    def point(cls, chrom: str, pos: int) -> Interval:
        return cls(canonical_chrom(chrom), pos, pos)


class PositionIndex:
    """Positions and intervals of interest, merged per chromosome for O(log n) overlap tests."""

    def __init__(self, intervals: Iterable[Interval | tuple[str, int] | tuple[str, int, int]]) -> None:
        per_chrom: dict[str, list[tuple[int, int]]] = {}
        for item in intervals:
            iv = item if isinstance(item, Interval) else _interval(item)
            if iv.end < iv.start:
                raise ValueError(f"interval end before start: {iv}")
            # Stored 0-based half-open, like cyvcf2's Variant.start / Variant.end.
            per_chrom.setdefault(canonical_chrom(iv.chrom), []).append((iv.start - 1, iv.end))
        self._starts: dict[str, list[int]] = {}
        self._ends: dict[str, list[int]] = {}
        for chrom, spans in per_chrom.items():
            starts, ends = self._starts.setdefault(chrom, []), self._ends.setdefault(chrom, [])
            for s, e in sorted(spans):
                if starts and s <= ends[-1]:
                    ends[-1] = max(ends[-1], e)
                else:
                    starts.append(s)
                    ends.append(e)

    @classmethod
    def from_positions(cls, positions: Iterable[tuple[str, int]]) -> PositionIndex:
        return cls(Interval.point(c, p) for c, p in positions)

    @property
    def chroms(self) -> list[str]:
        return list(self._starts)

    def __len__(self) -> int:
        """Number of merged intervals."""
        return sum(len(s) for s in self._starts.values())

    def overlaps(self, chrom: str, start0: int, end0: int) -> bool:
        """Does the 0-based half-open span ``[start0, end0)`` on ``chrom`` (canonical) hit?"""
        starts = self._starts.get(chrom)
        if starts is None:
            return False
        i = bisect_left(starts, max(end0, start0 + 1)) - 1
        return i >= 0 and self._ends[chrom][i] > start0

    def __contains__(self, key: tuple[str, int]) -> bool:
        chrom, pos = key
        return self.overlaps(canonical_chrom(chrom), pos - 1, pos)

    def intervals(self) -> Iterator[Interval]:
        for chrom, starts in self._starts.items():
            for s, e in zip(starts, self._ends[chrom], strict=True):
                yield Interval(chrom, s + 1, e)

    def query_regions(self, max_gap: int = 5000) -> list[Interval]:
        """Intervals coalesced when closer than ``max_gap`` bp: one htslib query each.

        A BGZF block holds 64 KiB of text (~600 WGS records, ~300 kb of genome), so
        positions a few kb apart share blocks and one query serves them all.
        """
        out: list[Interval] = []
        for chrom, starts in self._starts.items():
            ends = self._ends[chrom]
            cur_s, cur_e = starts[0], ends[0]
            for s, e in zip(starts[1:], ends[1:], strict=True):
                if s - cur_e <= max_gap:
                    cur_e = max(cur_e, e)
                else:
                    out.append(Interval(chrom, cur_s + 1, cur_e))
                    cur_s, cur_e = s, e
            out.append(Interval(chrom, cur_s + 1, cur_e))
        return out


def _interval(t: tuple[str, int] | tuple[str, int, int]) -> Interval:
    if len(t) == 2:
        return Interval.point(t[0], t[1])
    return Interval(canonical_chrom(t[0]), t[1], t[2])


@dataclass
class FilterStats:
    """How a filtered read went; ``scanned`` is ``None`` when an index skipped the rest."""

    strategy: Strategy | None = None
    returned: int = 0
    scanned: int | None = None
    queries: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# -- index discovery and construction -------------------------------------------------


class _TbxConf(ctypes.Structure):
    _fields_ = [
        ("preset", ctypes.c_int32),
        ("sc", ctypes.c_int32),
        ("bc", ctypes.c_int32),
        ("ec", ctypes.c_int32),
        ("meta_char", ctypes.c_int32),
        ("line_skip", ctypes.c_int32),
    ]


def _htslib() -> ctypes.CDLL | None:
    """The htslib inside cyvcf2 (its extension links or embeds it), or None if unreachable."""
    try:
        from cyvcf2 import cyvcf2 as ext

        lib = ctypes.CDLL(ext.__file__)
        lib.tbx_index_build3.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(_TbxConf),
        ]
        lib.bcf_index_build3.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
        _TbxConf.in_dll(lib, "tbx_conf_vcf")
        return lib
    except (OSError, AttributeError, ValueError):
        return None


def find_index(path: str | os.PathLike[str], kind: FileKind | None = None) -> Path | None:
    """An index next to the file (``.tbi`` or ``.csi``) that is not older than the file."""
    kind = kind or sniff(path)
    if not kind.indexable:
        return None
    p = Path(path)
    for suffix in (".csi",) if kind.bcf else (".tbi", ".csi"):
        idx = p.with_name(p.name + suffix)
        if idx.is_file() and idx.stat().st_mtime >= p.stat().st_mtime - 1:
            return idx
    return None


class TemporaryIndex:
    """An index built by htslib into a private temporary directory, removed on close."""

    def __init__(self, path: str | os.PathLike[str], kind: FileKind, threads: int = 2) -> None:
        lib = _htslib()
        if lib is None:
            raise OSError("htslib index builder not reachable through cyvcf2")
        self._dir = tempfile.mkdtemp(prefix="kg-vcfidx-")
        fn = os.fsencode(os.fspath(path))
        if kind.bcf:
            self.path = Path(self._dir) / "index.csi"
            rc = lib.bcf_index_build3(fn, os.fsencode(self.path), 14, threads)
        else:
            self.path = Path(self._dir) / "index.tbi"
            conf = _TbxConf.in_dll(lib, "tbx_conf_vcf")
            rc = lib.tbx_index_build3(fn, os.fsencode(self.path), 0, threads, ctypes.byref(conf))
        if rc != 0:
            self.close()
            raise OSError(f"htslib could not index {os.fspath(path)} (code {rc}; unsorted?)")

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> TemporaryIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the filters ----------------------------------------------------------------------


def query_indexed(vcf: VCF, index: PositionIndex, stats: FilterStats, max_gap: int = 5000) -> Iterator[Variant]:
    """Region queries on a VCF whose index is loaded (``vcf.set_index``)."""
    names = {canonical_chrom(n): n for n in vcf.seqnames}
    seen: set[tuple[str, int, str]] = set()
    for region in index.query_regions(max_gap):
        name = names.get(region.chrom)
        if name is None:
            continue
        stats.queries += 1
        for v in vcf(f"{name}:{region.start}-{region.end}"):
            start, end = v.start, v.end
            if not index.overlaps(region.chrom, start, end):
                continue
            # A record longer than the gap between two regions is returned by both queries.
            if start < region.start - 1 or end > region.end:
                key = (region.chrom, start, str(v))
                if key in seen:
                    continue
                seen.add(key)
            stats.returned += 1
            yield v


def stream(vcf: VCF, index: PositionIndex, stats: FilterStats, max_span: int = 10_000) -> Iterator[Variant]:
    """Whole-file pass through cyvcf2, for BCF that cannot be indexed.

    Per record: CHROM compared with the previous record's, then one bisect on the start.
    ``Variant.end`` costs an INFO unpack in cyvcf2, so the exact span is computed only for
    records starting less than ``max_span`` bp before an interval of interest.
    """
    n = 0
    last_chrom: str | None = None
    canon = ""
    starts: list[int] = []
    ends: list[int] = []
    try:
        for v in vcf:
            n += 1
            chrom = v.CHROM
            if chrom != last_chrom:
                last_chrom, canon = chrom, canonical_chrom(chrom)
                starts, ends = index._starts.get(canon, []), index._ends.get(canon, [])
            if not starts:
                continue
            s = v.start
            i = bisect_left(starts, s + max_span) - 1
            if i < 0 or ends[i] <= s:
                continue
            if index.overlaps(canon, s, v.end):
                stats.returned += 1
                yield v
    finally:
        stats.scanned = n


# -- text scan: plain or gzip text, vectorised ----------------------------------------

_CHUNK = 32 << 20


def _text_chunks(path: str | os.PathLike[str], kind: FileKind) -> Iterator[bytes]:
    """Decompressed text in ~32 MiB pieces, each ending at a line end."""
    opener = gzip.open if kind.compression is not Compression.NONE else open
    with opener(path, "rb") as fh:
        rest = b""
        while True:
            block = fh.read(_CHUNK)
            if not block:
                break
            data = rest + block
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            yield data[: cut + 1]
            rest = data[cut + 1 :]
        if rest:
            yield rest + b"\n"


@dataclass(frozen=True)
class ChunkLines:
    """The data lines of one text chunk, as numpy arrays of byte offsets into ``bytes``: line
    ``starts``/``ends`` (the newline), every tab offset (``tabs``) and, per line, the index in
    ``tabs`` of its first tab (``first_tab``), its 0-based REF span (``start0``, ``end0``), and
    ``runs`` of lines on one chromosome: ``(first line, end line, canonical chrom)``."""

    bytes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    tabs: np.ndarray
    first_tab: np.ndarray
    start0: np.ndarray
    end0: np.ndarray
    runs: list[tuple[int, int, str]]


class _Scan:
    """State carried across chunks: header text, line and record counters."""

    def __init__(self, path: str | os.PathLike[str], index: PositionIndex) -> None:
        self.path = path
        self.index = index
        self.header: list[bytes] = []
        self.in_header = True
        self.lines = 0
        self.records = 0
        self._arrays = {
            c: (np.asarray(index._starts[c], dtype=np.int64), np.asarray(index._ends[c], dtype=np.int64))
            for c in index._starts
        }
        self._canon: dict[bytes, str] = {}

    def malformed(self, buf: bytes, s: int, e: int, line: int, record: int, expected: str) -> VcfError:
        text = buf[s:e].decode("utf-8", "replace")
        return VcfError(
            self.path,
            "malformed VCF record",
            record=record,
            line=line,
            expected=expected,
            found=repr(text[:160] + ("..." if len(text) > 160 else "")),
        )

    def columns(self, buf: bytes) -> ChunkLines | None:
        """The data lines of one chunk with their columns (numpy over the bytes, Python per
        chromosome run); None when the chunk holds no data line. Malformed lines raise."""
        a = np.frombuffer(buf, dtype=np.uint8)
        ends = np.flatnonzero(a == 10)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        n_lines = len(ends)
        hashes = a[starts] == 35
        data = ~hashes & (starts != ends)
        if self.in_header:
            first_data = int(np.argmax(data)) if data.any() else n_lines
            self.header += [buf[starts[i] : ends[i] + 1] for i in range(first_data) if hashes[i]]
            self.in_header = first_data == n_lines
        line_of = np.flatnonzero(data) + self.lines + 1
        self.lines += n_lines
        ds, de = starts[data], ends[data]
        rec0 = self.records
        self.records += len(ds)
        if not len(ds):
            return None
        tabs = np.flatnonzero(a == 9)
        k = np.searchsorted(tabs, ds)
        k8 = np.minimum(k + 6, len(tabs) - 1)  # 8 fixed columns: 7 tabs within the line
        ok = (k + 6 < len(tabs)) & (tabs[k8] < de) if len(tabs) else np.zeros(len(ds), bool)
        if not ok.all():
            j = int(np.argmin(ok))
            raise self.malformed(
                buf,
                ds[j],
                de[j],
                int(line_of[j]),
                rec0 + j + 1,
                "at least 8 tab-separated columns (VCF 4.2 section 1.6)",
            )
        t1, t2, t3, t4 = tabs[k], tabs[k + 1], tabs[k + 2], tabs[k + 3]
        # POS: up to 10 decimal digits between the first two tabs, Horner column by column.
        plen = t2 - t1 - 1
        bad = (plen < 1) | (plen > 10)
        pos = np.zeros(len(ds), dtype=np.int64)
        last = len(a) - 1
        for c in range(int(min(plen.max(), 10))):
            use = plen > c
            d = a[np.minimum(t1 + (1 + c), last)].astype(np.int64) - 48
            bad |= use & ((d < 0) | (d > 9))
            pos = np.where(use, pos * 10 + d, pos)
        if bad.any():
            j = int(np.argmax(bad))
            raise self.malformed(
                buf, ds[j], de[j], int(line_of[j]), rec0 + j + 1, "POS to be a positive integer (VCF 4.2 section 1.6.1)"
            )
        start0 = pos - 1
        end0 = start0 + np.maximum(t4 - t3 - 1, 1)  # span of REF
        # CHROM: runs of identical names, compared exactly byte by byte.
        clen = t1 - ds
        width = int(clen.max())
        names = a[np.minimum(ds[:, None] + np.arange(width), len(a) - 1)].copy()
        names[np.arange(width) >= clen[:, None]] = 0
        same = np.zeros(len(ds), bool)
        same[1:] = (names[1:] == names[:-1]).all(axis=1) & (clen[1:] == clen[:-1])
        runs: list[tuple[int, int, str]] = []
        for r0, r1 in pairwise([*np.flatnonzero(~same).tolist(), len(ds)]):
            raw = buf[ds[r0] : t1[r0]]
            canon = self._canon.get(raw)
            if canon is None:
                canon = self._canon[raw] = canonical_chrom(raw.decode("utf-8", "replace"))
            runs.append((r0, r1, canon))
        return ChunkLines(a, ds, de, tabs, k, start0, end0, runs)

    def chunk(self, buf: bytes) -> list[bytes]:
        """Candidate data lines of one chunk: those overlapping the index."""
        lines = self.columns(buf)
        if lines is None:
            return []
        out: list[bytes] = []
        ds, de = lines.starts, lines.ends
        for r0, r1, canon in lines.runs:
            arrays = self._arrays.get(canon)
            if arrays is None:
                continue
            st, en = arrays
            s0, e0 = lines.start0[r0:r1], lines.end0[r0:r1]
            i = np.searchsorted(st, e0, side="left") - 1
            hit = (i >= 0) & (en[np.maximum(i, 0)] > s0)
            for j in (np.flatnonzero(hit) + r0).tolist():
                out.append(buf[ds[j] : de[j] + 1])
        return out


def scan_text(
    path: str | os.PathLike[str],
    index: PositionIndex,
    stats: FilterStats,
    *,
    kind: FileKind | None = None,
    samples: list[str] | None = None,
) -> Iterator[Variant]:
    """Filter a text VCF (plain, gzip or unindexable BGZF) without decoding every record.

    The text is scanned in large chunks with numpy: line and tab offsets, POS digits, REF
    length and runs of identical CHROM, so Python work is per chunk and per chromosome run,
    not per record. Only candidate lines reach htslib, through a small temporary VCF with the
    original header. Malformed lines found on the way raise :class:`VcfError` with their line.
    """
    kind = kind or sniff(path)
    scan = _Scan(path, index)
    candidates: list[bytes] = []
    try:
        for buf in _text_chunks(path, kind):
            candidates += scan.chunk(buf)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise VcfError(
            path,
            "file is truncated or corrupt",
            record=scan.records + 1,
            expected="a complete gzip stream",
            found=f"decompression stopped: {exc}",
        ) from exc
    finally:
        stats.scanned = scan.records
    if not candidates:
        return
    with tempfile.TemporaryDirectory(prefix="kg-vcfscan-") as tmp:
        small = Path(tmp) / "candidates.vcf"
        small.write_bytes(b"".join(scan.header) + b"".join(candidates))
        vcf = VCF(os.fspath(small), samples=samples)
        try:
            for v in vcf:
                stats.returned += 1
                yield v
        finally:
            vcf.close()


def fetch(
    path: str | os.PathLike[str],
    index: PositionIndex,
    *,
    samples: list[str] | None = None,
    threads: int = 2,
    stats: FilterStats | None = None,
) -> Iterator[Variant]:
    """Records of ``path`` overlapping ``index``, by the fastest strategy the file allows."""
    stats = stats if stats is not None else FilterStats()
    t0 = time.perf_counter()
    kind = sniff(path)
    try:
        if not len(index):
            return
        existing = find_index(path, kind)
        tmp: TemporaryIndex | None = None
        if existing is None and kind.indexable:
            try:
                tmp = TemporaryIndex(path, kind, threads)
            except OSError as exc:
                stats.notes.append(str(exc))
        if existing is not None or tmp is not None:
            stats.strategy = "index" if existing is not None else "built-index"
            vcf = VCF(os.fspath(path), samples=samples, threads=threads)
            try:
                vcf.set_index(os.fspath(existing if existing is not None else tmp.path))  # type: ignore[union-attr]
                yield from query_indexed(vcf, index, stats)
            finally:
                vcf.close()
                if tmp is not None:
                    tmp.close()
            return
        if not kind.bcf:
            stats.strategy = "text-scan"
            yield from scan_text(path, index, stats, kind=kind, samples=samples)
            return
        stats.strategy = "stream"
        vcf = VCF(os.fspath(path), samples=samples, threads=threads if kind.indexable else None)
        try:
            yield from stream(vcf, index, stats)
        finally:
            vcf.close()
    finally:
        stats.seconds = time.perf_counter() - t0

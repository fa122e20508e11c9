"""Fast filtering of a VCF to the positions the knowledge graph knows about.

A whole-genome VCF holds ~4.5 million records; the graph asks about a few thousand
positions. Three strategies, best first:

``index``
    the file is BGZF (VCF.gz from bgzip, or BCF) with a current ``.tbi``/``.csi``:
    htslib region queries (``cyvcf2.VCF(...)(region)``), one per cluster of nearby
    positions. Cost grows with the positions asked, not with the file.
``built-index``
    BGZF without an index: build one into a temporary directory with htslib's
    ``tbx_index_build3``/``bcf_index_build3`` (reached through ctypes in the htslib that
    cyvcf2 links; nothing is written next to the patient's file), then query as above.
    Indexing reads only CHROM/POS/REF, so it is faster than decoding every record.
``stream``
    plain text or plain gzip (not indexable), or an unsorted file: iterate cyvcf2 in a
    tight loop, one dict lookup per record and a bisect only on chromosomes of interest.

Records are returned when their reference span overlaps a position of interest, so a
deletion that covers a position is found even though it starts before it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Literal

from cyvcf2 import VCF, Variant

from kg.matcher.errors import FileKind, sniff
from kg.matcher.normalize import canonical_chrom

Strategy = Literal["index", "built-index", "stream"]


@dataclass(frozen=True, order=True)
class Interval:
    """``chrom:start-end``, 1-based and inclusive as in VCF POS; chrom canonical (``chr7``)."""

    chrom: str
    start: int
    end: int

    @classmethod
    def point(cls, chrom: str, pos: int) -> "Interval":
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
    def from_positions(cls, positions: Iterable[tuple[str, int]]) -> "PositionIndex":
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
            for s, e in zip(starts, self._ends[chrom]):
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
            for s, e in zip(starts[1:], ends[1:]):
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
    return Interval(canonical_chrom(t[0]), t[1], t[2])  # type: ignore[misc]


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
    _fields_ = [("preset", ctypes.c_int32), ("sc", ctypes.c_int32), ("bc", ctypes.c_int32),
                ("ec", ctypes.c_int32), ("meta_char", ctypes.c_int32), ("line_skip", ctypes.c_int32)]


def _htslib() -> ctypes.CDLL | None:
    """The htslib inside cyvcf2 (its extension links or embeds it), or None if unreachable."""
    try:
        from cyvcf2 import cyvcf2 as ext

        lib = ctypes.CDLL(ext.__file__)
        lib.tbx_index_build3.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                                         ctypes.c_int, ctypes.POINTER(_TbxConf)]
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
    for suffix in ((".csi",) if kind.bcf else (".tbi", ".csi")):
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

    def __enter__(self) -> "TemporaryIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the filters ----------------------------------------------------------------------


def query_indexed(vcf: VCF, index: PositionIndex, stats: FilterStats, max_gap: int = 5000) -> Iterator[Variant]:
    """Region queries on a VCF whose index is loaded (``vcf.set_index``) or discoverable."""
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
            if start < region.start - 1:  # may also have come from the previous region
                key = (region.chrom, start, str(v))
                if key in seen:
                    continue
                seen.add(key)
            stats.returned += 1
            yield v


def stream(vcf: VCF, index: PositionIndex, stats: FilterStats, max_span: int = 10_000) -> Iterator[Variant]:
    """Whole-file pass, at close to htslib's own decoding speed.

    Per record: CHROM compared with the previous record's, then one bisect on the start.
    ``Variant.end`` costs an INFO unpack in cyvcf2, so the exact span is computed only for
    records starting less than ``max_span`` bp before an interval of interest: a record
    longer than that (an SV spelled out in sequence) starting further upstream is missed
    here, while the index strategies would find it.
    """
    n = 0
    last_chrom: str | None = None
    canon: str | None = None
    starts: list[int] = []
    ends: list[int] = []
    overlaps = index.overlaps
    try:
        for v in vcf:
            n += 1
            chrom = v.CHROM
            if chrom != last_chrom:
                last_chrom = chrom
                canon = canonical_chrom(chrom)
                starts = index._starts.get(canon, [])
                ends = index._ends.get(canon, [])
            if not starts:
                continue
            s = v.start
            i = bisect_left(starts, s + max_span) - 1
            if i < 0 or ends[i] <= s:
                continue
            if overlaps(canon, s, v.end):  # type: ignore[arg-type]
                stats.returned += 1
                yield v
    finally:
        stats.scanned = n


def fetch(
    path: str | os.PathLike[str],
    index: PositionIndex,
    *,
    samples: list[str] | None = None,
    threads: int = 2,
    stats: FilterStats | None = None,
) -> Iterator[Variant]:
    """Records of ``path`` overlapping ``index``, choosing the fastest strategy available."""
    stats = stats if stats is not None else FilterStats()
    kind = sniff(path)
    vcf = VCF(os.fspath(path), samples=samples, lazy=True, threads=threads if kind.indexable else None)
    try:
        yield from filter_open(vcf, path, index, kind=kind, stats=stats, threads=threads)
    finally:
        vcf.close()


def filter_open(
    vcf: VCF,
    path: str | os.PathLike[str],
    index: PositionIndex,
    *,
    kind: FileKind | None = None,
    stats: FilterStats,
    threads: int = 2,
) -> Iterator[Variant]:
    """Filter an already opened reader (sample subsetting already applied) of ``path``."""
    t0 = time.perf_counter()
    kind = kind or sniff(path)
    try:
        existing = find_index(path, kind)
        if existing is not None:
            stats.strategy = "index"
            vcf.set_index(os.fspath(existing))
            yield from query_indexed(vcf, index, stats)
            return
        tmp: TemporaryIndex | None = None
        if kind.indexable:
            try:
                tmp = TemporaryIndex(path, kind, threads)
            except OSError as exc:
                stats.notes.append(str(exc))
        if tmp is not None:
            with tmp:
                stats.strategy = "built-index"
                vcf.set_index(os.fspath(tmp.path))
                yield from query_indexed(vcf, index, stats)
            return
        stats.strategy = "stream"
        yield from stream(vcf, index, stats)
    finally:
        stats.seconds = time.perf_counter() - t0

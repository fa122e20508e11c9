"""The patient's call store: every non-reference call of the sample, and its no-call positions.

Issue 8 ("new knowledge about alleles the patient already carries"): the knowledge read
(:meth:`kg.matcher.vcf.PatientVcf.fetch`) only sees positions some loaded release knows, so a
release that adds an allele could never reach a patient matched earlier. :func:`read_calls` reads
the file once more, cheaply (a large one only in part, see below), for what re-interpretation needs: the records whose genotype
carries an ALT (any allele index 1-9 in GT) and the records whose GT is missing (``./.``: a no-call,
never to be taken for reference; VCF 4.2 section 1.6.2). kg/matcher/match.py stores the calls that
no exact knowledge Variant matched as ``(:Patient)-[:CALLED]->(:ObservedAllele)`` and the no-calls
on the Patient (kg.queries.patients); kg.queries.patient_calls links them when a release adds the
Variant.

Bounded per patient (``KG_PATIENT_CALLS_MAX``): a whole genome carries 4-5 million non-reference
calls, far more than a graph should hold per patient. Beyond the bound, calls near what the
knowledge already covers (within :data:`PRIORITY_PAD` bp of a known exact position, or inside a
CIViC gene span: where new releases mostly add alleles) are kept first, then the others in file
order; the rest are counted (``dropped``) and the Patient and the match report say so.

Small files (an exome, a panel: up to :data:`WHOLE_FILE_TEXT_BYTES` of text, compressed files
counted at :data:`COMPRESSION_RATIO` times their size) are read whole: text (plain, gzip, BGZF) with
numpy (the knowledge read's chunking, :class:`kg.matcher.positions._Scan`), only the kept lines
reaching htslib through a small temporary VCF with the file's header; BCF through cyvcf2. A larger
file (a whole genome: its 4-5 million calls would be cut to the bound anyway, and decoding all of them
costs several times the knowledge read) is read only where calls are kept first, the
:func:`priority_index` regions, by the knowledge read's strategies (:func:`kg.matcher.positions.fetch`:
index queries, a temporary index, a text scan); calls elsewhere are then neither kept nor counted, and
the Patient and the report say so (``complete`` False). A single-sample match reads those regions in
its knowledge read's own pass (:class:`RegionCalls`: one set of index queries, one temporary index or
one text scan for both), with the result :func:`read_calls` gives.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cyvcf2 import VCF, Variant

from kg.identity.variants import PRIMARY_CHROMS, canonical_chrom
from kg.matcher.errors import Compression
from kg.matcher.knowledge import Knowledge
from kg.matcher.positions import ChunkLines, FilterStats, Interval, PositionIndex, _Scan, _text_chunks, fetch
from kg.matcher.vcf import PatientVcf, ReadStats, VcfRecord

#: Calls within this many bp of a position the knowledge knows are kept first when the bound bites.
PRIORITY_PAD = 10_000
#: Files up to this much VCF text are read whole; larger ones only in the priority regions.
WHOLE_FILE_TEXT_BYTES = 16 << 20
#: Bytes of VCF text per byte of a gzip / BGZF / BCF file, for the size test (a genotyped VCF
#: compresses about 5 times).
COMPRESSION_RATIO = 5
#: Bytes of the sample column read for its GT (``0/0/0/1`` fits; longer polyploid calls are read
#: by their first 8 bytes).
_GT_WIDTH = 8
_END = re.compile(rb"(?:^|;)END=(\d+)")


@dataclass
class StoredCalls:
    """What :func:`read_calls` found: the kept non-reference alleles (normalised, with the sample's
    call), the no-call ranges (``chr1:100-100``, 1-based inclusive, merged when adjacent), and how
    many non-reference records / no-call ranges the bound left out."""

    calls: list[VcfRecord] = field(default_factory=list)
    no_calls: list[str] = field(default_factory=list)
    dropped: int = 0
    no_calls_dropped: int = 0
    records: int = 0  # non-reference records seen
    complete: bool = True  # False: a large file read in the priority regions only
    strategy: str = ""
    seconds: float = 0.0


class _Pools:
    """Kept lines: priority ones first, others in file order, never more than ``limit`` in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.priority: list[bytes] = []
        self.other: list[bytes] = []
        self.seen = 0

    def add(self, line: bytes, priority: bool) -> None:
        self.add_lines(
            [line] if priority else [], 1 if priority else 0, [] if priority else [line], 0 if priority else 1
        )

    def room(self, priority: bool) -> int:
        """How many more lines of the kind could be kept now."""
        return self.limit - len(self.priority) - (0 if priority else len(self.other))

    def add_lines(self, near: list[bytes], n_near: int, far: list[bytes], n_far: int) -> None:
        """The priority and other non-reference lines of one stretch of the file, in file order,
        each list cut to :meth:`room` by the caller; ``n_near`` / ``n_far`` count them all."""
        self.seen += n_near + n_far
        self.priority += near[: self.room(True)]
        del self.other[max(0, self.limit - len(self.priority)) :]
        self.other += far[: self.room(False)]

    @property
    def kept(self) -> list[bytes]:
        return self.priority + self.other


class NoCallRanges:
    """One sample's no-call ranges, merged when adjacent or overlapping, at most ``limit`` (the rest
    counted in ``dropped``); a cohort pass keeps one per sample (kg.matcher.cohort)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ranges: list[list[object]] = []  # [chrom, start, end]
        self.dropped = 0

    def add(self, chrom: str, start: int, end: int) -> None:
        last = self.ranges[-1] if self.ranges else None
        if last is not None and last[0] == chrom and start <= int(last[2]) + 1:  # type: ignore[call-overload]
            last[2] = max(int(last[2]), end)  # type: ignore[call-overload]
        elif len(self.ranges) < self.limit:
            self.ranges.append([chrom, start, end])
        else:
            self.dropped += 1

    def texts(self) -> list[str]:
        return [f"{c}:{s}-{e}" for c, s, e in self.ranges]


_PRIORITY: dict[tuple[object, ...], PositionIndex] = {}


def priority_index(knowledge: Knowledge) -> PositionIndex:
    """Where calls are kept first: :data:`PRIORITY_PAD` bp around the knowledge's exact positions
    (runs of positions closer than twice the pad as one interval) and the CIViC gene spans; once
    per state of the knowledge."""
    index = _PRIORITY.get(knowledge.key)
    if index is None:
        intervals: list[Interval] = [iv for spans in knowledge.spans.values() for iv in spans]
        for chrom, positions in knowledge.exact_positions.items():
            pos = np.unique(np.asarray(positions, dtype=np.int64))
            if not len(pos):
                continue
            breaks = np.flatnonzero(np.diff(pos) > 2 * PRIORITY_PAD)
            starts = np.concatenate(([pos[0]], pos[breaks + 1])) - PRIORITY_PAD
            ends = np.concatenate((pos[breaks], [pos[-1]])) + PRIORITY_PAD
            intervals += [Interval(chrom, max(1, s), e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        _PRIORITY.clear()
        index = _PRIORITY[knowledge.key] = PositionIndex(intervals)
    return index


class _CallScan(_Scan):
    """The numpy text scan, keeping non-reference and no-call lines of one sample column."""

    def __init__(self, path: Path, priority: PositionIndex, column: int, pools: _Pools, no_calls: NoCallRanges) -> None:
        super().__init__(path, priority)
        self.column = column  # 0-based sample column: the tab before it is the line's (8 + column)th
        self.pools = pools
        self.no_calls = no_calls

    def scan(self, buf: bytes) -> None:
        lines = self.columns(buf)
        if lines is None:
            return
        nonref, nocall = self._genotypes(lines)
        ds, de = lines.starts, lines.ends
        for r0, r1, canon in lines.runs:
            alt = np.flatnonzero(nonref[r0:r1]) + r0
            arrays = self._arrays.get(canon)
            if arrays is None or not len(alt):
                near = np.zeros(len(alt), bool)
            else:
                st, en = arrays
                s0, e0 = lines.start0[alt], lines.end0[alt]
                i = np.searchsorted(st, e0, side="left") - 1
                near = (i >= 0) & (en[np.maximum(i, 0)] > s0)
            # Python only for the lines kept: a whole genome's millions of calls are counted by numpy.
            close, other = alt[near][: self.pools.room(True)], alt[~near][: self.pools.room(False)]
            self.pools.add_lines(
                [buf[ds[j] : de[j] + 1] for j in close.tolist()],
                int(near.sum()),
                [buf[ds[j] : de[j] + 1] for j in other.tolist()],
                int(len(alt) - near.sum()),
            )
            for j in (np.flatnonzero(nocall[r0:r1]) + r0).tolist():
                self._no_call(canon, int(lines.start0[j]) + 1, int(lines.end0[j]), buf[ds[j] : de[j] + 1])

    def _genotypes(self, lines: ChunkLines) -> tuple[np.ndarray, np.ndarray]:
        """Per line: GT carries an ALT; GT is missing. Lines without GT first in FORMAT (VCF 4.2
        section 1.4.2: GT, when present, comes first) or without the sample column are neither."""
        a, tabs, k, de = lines.bytes, lines.tabs, lines.first_tab, lines.ends
        last = len(a) - 1
        col = k + 8 + self.column
        has_col = col < len(tabs)
        col = np.minimum(col, len(tabs) - 1)
        has_col &= tabs[col] < de
        fmt = tabs[np.minimum(k + 7, len(tabs) - 1)] + 1
        gt_first = (
            (a[np.minimum(fmt, last)] == 71)  # G
            & (a[np.minimum(fmt + 1, last)] == 84)  # T
            & np.isin(a[np.minimum(fmt + 2, last)], (58, 9, 10, 13))  # : TAB LF CR: GT alone or first
        )
        window = a[np.minimum((tabs[col] + 1)[:, None] + np.arange(_GT_WIDTH), last)]
        stop = (window == 58) | (window == 9) | (window == 10) | (window == 13)  # : TAB LF CR end GT
        length = np.where(stop.any(axis=1), stop.argmax(axis=1), _GT_WIDTH)
        inside = np.arange(_GT_WIDTH) < length[:, None]
        digit = inside & (window >= 48) & (window <= 57)
        alt = (digit & (window >= 49)).any(axis=1)
        ok = has_col & gt_first
        return ok & alt, ok & ~digit.any(axis=1) & (length > 0)

    def _no_call(self, chrom: str, start: int, end: int, line: bytes) -> None:
        info = line.split(b"\t", 8)[7] if line.count(b"\t") >= 7 else b""
        m = _END.search(info)  # a gVCF block: END in INFO (VCF 4.2 section 1.6.1, INFO END)
        self.no_calls.add(chrom, start, max(end, int(m.group(1))) if m else end)


def read_whole(vcf: PatientVcf, samples: int = 1) -> bool:
    """Is the file read whole for the call store: at most :data:`WHOLE_FILE_TEXT_BYTES` of VCF text
    (compressed files at :data:`COMPRESSION_RATIO` times their size) per sample column it has
    (``samples``: a cohort's file is shared by its columns; an exome cohort stays whole, a genome's not)."""
    size = vcf.path.stat().st_size * (1 if vcf.kind.compression is Compression.NONE else COMPRESSION_RATIO)
    return size <= WHOLE_FILE_TEXT_BYTES * max(samples, 1)


#: Every primary chromosome whole: where a cohort read goes when it reads the whole file.
WHOLE_GENOME = PositionIndex(Interval(f"chr{c}", 1, 2**31 - 1) for c in sorted(PRIMARY_CHROMS))


def cohort_read(
    vcf: PatientVcf, samples: int, index: PositionIndex, knowledge: Knowledge, limit: int
) -> tuple[PositionIndex, str]:
    """Where a cohort pass (kg.matcher.match.match_cohort) reads, and how its call stores say so:
    ``index`` (the knowledge read) alone when the store is off (``limit`` <= 0: ``off``); the whole of
    every primary chromosome when the file is small per sample (:func:`read_whole`: ``whole file``);
    else ``index`` and the :func:`priority_index` regions (``priority regions``: calls elsewhere are
    neither kept nor counted, as for one large file). One pass serves the knowledge read and the store."""
    if limit <= 0:
        return index, "off"
    if read_whole(vcf, samples):
        return WHOLE_GENOME, "whole file"
    return PositionIndex([*index.intervals(), *priority_index(knowledge).intervals()]), "priority regions"


_READ_INDEXES: dict[tuple[object, ...], tuple[PositionIndex, PositionIndex]] = {}


class RegionCalls:
    """The call store's read of a large file (not :func:`read_whole`) made in the knowledge read's
    pass instead of a second one: the pass reads ``index`` (the knowledge's) and the
    :func:`priority_index` regions (:meth:`read_index`), :meth:`tap` passes on the records of
    ``index`` and sorts those of the priority regions as :func:`read_calls` does, and :meth:`result`
    is what :func:`read_calls` would have found. For a whole genome the regions' index queries, a
    temporary index or a text scan are paid once, not twice.

    Same result, same order: each chromosome's calls are counted in full and its first ``limit``
    lines kept, then the chromosomes are put in the order :func:`read_calls`' own pass visits them
    (index queries: the priority index's chromosome order; a text scan or a stream: the file's)
    before the bound and the no-call ranges apply."""

    def __init__(self, vcf: PatientVcf, knowledge: Knowledge, limit: int) -> None:
        self.vcf = vcf
        self.knowledge = knowledge
        self.priority = priority_index(knowledge)
        self.limit = limit
        self.strategy: str | None = None  # kg.matcher.positions.fetch's, once the pass has begun
        # runs of records on one chromosome, in the pass's order: [chrom, kept lines, non-reference
        # records, no-calls (start, end)]
        self._runs: list[tuple[str, list[bytes], list[int], list[tuple[int, int]]]] = []
        self.seconds = 0.0

    def read_index(self, index: PositionIndex) -> PositionIndex:
        """``index`` and the priority regions: where the one pass reads (once per knowledge state)."""
        key = (self.knowledge.key, id(index))
        cached = _READ_INDEXES.get(key)
        if cached is None or cached[0] is not index:
            _READ_INDEXES.clear()
            cached = _READ_INDEXES[key] = (index, PositionIndex([*index.intervals(), *self.priority.intervals()]))
        return cached[1]

    def tap(self, source: Iterable[Variant], index: PositionIndex, stats: FilterStats) -> Iterator[Variant]:
        """The records of ``source`` (the pass over :meth:`read_index`) that overlap ``index``; those
        overlapping the priority regions are sorted on the way. ``stats.returned`` counts ``index``'s."""
        priority, limit = self.priority, self.limit
        canon: dict[str, str] = {}
        run: tuple[str, list[bytes], list[int], list[tuple[int, int]]] | None = None
        spent = 0.0
        for v in source:
            t0 = time.perf_counter()
            if self.strategy is None:
                self.strategy = stats.strategy
            raw = v.CHROM
            chrom = canon.get(raw)
            if chrom is None:
                chrom = canon[raw] = canonical_chrom(raw)
            start, end = v.start, v.end
            if priority.overlaps(chrom, start, end) and "GT" in v.FORMAT:
                if run is None or run[0] != chrom:
                    run = (chrom, [], [0], [])
                    self._runs.append(run)
                kind = _call_kind(v)
                if kind == "call":
                    run[2][0] += 1
                    if len(run[1]) < limit:
                        run[1].append(str(v).encode())
                elif kind == "no-call":
                    run[3].append((start + 1, end))
            keep = index.overlaps(chrom, start, end)
            spent += time.perf_counter() - t0
            if keep:
                yield v
            else:
                stats.returned -= 1
        self.seconds += spent

    def result(self) -> StoredCalls:
        """What :func:`read_calls` finds in the priority regions, from what :meth:`tap` kept."""
        began = time.perf_counter()
        runs = self._runs
        if self.strategy in ("index", "built-index"):  # read_calls' queries go chromosome by chromosome
            rank = {c: n for n, c in enumerate(self.priority.chroms)}
            runs = sorted(runs, key=lambda r: rank[r[0]])
        pools, no_calls = _Pools(self.limit), NoCallRanges(self.limit)
        for chrom, lines, count, gaps in runs:
            pools.add_lines(lines, count[0], [], 0)
            for start, end in gaps:
                no_calls.add(chrom, start, end)
        out = StoredCalls(strategy="priority regions", complete=False)
        out.calls = _convert(self.vcf, "", pools.kept)
        out.records = pools.seen
        out.dropped = pools.seen - len(pools.kept)
        out.no_calls, out.no_calls_dropped = no_calls.texts(), no_calls.dropped
        out.seconds = round(self.seconds + time.perf_counter() - began, 4)
        return out


def read_calls(vcf: PatientVcf, *, limit: int, priority: PositionIndex) -> StoredCalls:
    """The sample's non-reference alleles and no-call ranges, up to ``limit`` of each (see the
    module docstring for which are kept first)."""
    began = time.perf_counter()
    pools, no_calls = _Pools(limit), NoCallRanges(limit)
    out = StoredCalls()
    if limit <= 0:
        out.strategy = "off"
        return out
    header = ""
    if not read_whole(vcf):
        out.strategy, out.complete = "priority regions", False
        _classify(fetch(vcf.path, priority, samples=[vcf.sample], threads=vcf.threads), priority, pools, no_calls)
    elif vcf.kind.bcf:
        out.strategy = "stream"
        reader = VCF(os.fspath(vcf.path), samples=[vcf.sample])
        try:
            _classify(reader, priority, pools, no_calls)
        finally:
            reader.close()
    else:
        out.strategy = "text-scan"
        scan = _CallScan(vcf.path, priority, vcf.samples.index(vcf.sample), pools, no_calls)
        for buf in _text_chunks(vcf.path, vcf.kind):
            scan.scan(buf)
        header = b"".join(scan.header).decode("utf-8", "replace")
    out.calls = _convert(vcf, header, pools.kept)
    out.records = pools.seen
    out.dropped = pools.seen - len(pools.kept)
    out.no_calls, out.no_calls_dropped = no_calls.texts(), no_calls.dropped
    out.seconds = round(time.perf_counter() - began, 4)
    return out


def _call_kind(v: Variant) -> str | None:
    """A record read by cyvcf2 (one sample): ``'call'`` when an allele index > 0 is in its GT, ``'no-call'``
    when every index is missing (VCF 4.2 section 1.6.2), else None (reference, or no GT)."""
    if "GT" not in v.FORMAT:
        return None
    gt = v.genotypes[0][:-1]
    if any(i > 0 for i in gt):
        return "call"
    if all(i < 0 for i in gt):
        return "no-call"
    return None


def _classify(records: Iterable[Variant], priority: PositionIndex, pools: _Pools, no_calls: NoCallRanges) -> None:
    """Records read by cyvcf2 (one sample), sorted by :func:`_call_kind`."""
    for v in records:
        kind = _call_kind(v)
        if kind is None:
            continue
        chrom = canonical_chrom(v.CHROM)
        if kind == "call":
            pools.add(str(v).encode(), priority.overlaps(chrom, v.start, v.end))
        else:
            no_calls.add(chrom, v.start + 1, v.end)


def _convert(vcf: PatientVcf, header: str, lines: list[bytes]) -> list[VcfRecord]:
    """The kept lines as :class:`VcfRecord` alleles the sample carries, parsed by htslib through a
    small temporary VCF (the file's header and these lines) and normalised by the reader."""
    if not lines:
        return []
    saved = vcf.stats  # the reader counts skipped ALTs: keep the knowledge read's counters
    vcf.stats = ReadStats()
    out: list[VcfRecord] = []
    try:
        with tempfile.TemporaryDirectory(prefix="kg-calls-") as tmp:
            small = Path(tmp) / "calls.vcf"
            small.write_bytes((header or vcf.header).encode() + b"".join(lines))
            reader = VCF(os.fspath(small), samples=[vcf.sample])
            try:
                for v in reader:
                    out += [r for r in PatientVcf._convert(vcf, v, None) if r.alt_count > 0]
            finally:
                reader.close()
    finally:
        vcf.stats = saved
    return out

"""A multi-sample VCF read once: every sample's carried alleles and PGx genotypes, kept compactly.

``kg match`` of a cohort (:func:`kg.matcher.match.match_cohort`) reads each record once
(:meth:`kg.matcher.vcf.CohortVcf.sites`: the shared columns and the samples' GT as cyvcf2's arrays)
and hands it to :class:`CohortCalls`, which keeps only what the patients need, as numpy arrays:

- per carried ALT allele one template :class:`kg.matcher.levels.Observed` (no call fields), and
  per carrier (sample, allele, genotype pattern, depth) -- a few bytes each; the knowledge hits of a
  sample are few, so memory grows with the carriers, not with sample x record;
- the samples' calls at the PharmCAT definition positions (int16 per allele), from which the
  star alleles are called once per distinct genotype of a gene (:meth:`gene_groups`): samples
  with the same alleles at a gene's positions get the same call, as PharmCAT's
  NamedAlleleMatcher is a function of those alleles alone;
- per sample the counts a single-sample report gives (alleles not carried, no-calls) and the
  reason it failed, if it did: a GT allele index beyond the record's ALTs (VCF 4.2 section
  1.6.2) makes that sample's calls unusable, and a sample with no call at any record read has
  no genotypes. A failed sample is reported and skipped; the others go on.

The per-sample rules (a call's zygosity, genotype text, PharmCAT's first record at a definition
position) are the single-sample matcher's: :func:`kg.matcher.vcf.genotype_call`,
:func:`kg.matcher.vcf.zygosity`, :func:`kg.matcher.levels.observed_allele`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from kg.matcher.calls import NoCallRanges
from kg.matcher.genotype import Genotype, keep_first
from kg.matcher.levels import Observed, observed_allele
from kg.matcher.positions import Interval, PositionIndex
from kg.matcher.vcf import Site, SiteCalls, genotype_call, zygosity


def genotype_text(g: Genotype) -> str:
    """``C/T``, ``T|C``, ``./T``: a call as HAS_VARIANT.genotype stores it."""
    return ("|" if g.phased else "/").join("." if a is None else a for a in g.alleles)


@dataclass
class _PgxSite:
    site: Site
    gt: np.ndarray  # int16 (samples, ploidy)
    phased: np.ndarray  # bool (samples,)
    depth: np.ndarray | None


@dataclass
class _Carriers:
    """The samples carrying one ALT allele of one record: its template, each one's genotype pattern
    and depth (-1: none), and its class (0: knowledge read, 1: priority region, 2: elsewhere)."""

    samples: np.ndarray  # int32
    template: int
    patterns: np.ndarray  # int32
    depth: np.ndarray | None
    klass: int


def rows_with(hit: np.ndarray) -> np.ndarray:
    """The rows (samples) of a 2-D boolean array (samples x alleles of a call) with any True, in
    order: from the flat positions, as numpy's per-row ``any(axis=1)`` is several times slower on
    the few columns of a genotype (this runs once per ALT allele of every record of a cohort)."""
    flat = np.flatnonzero(hit)
    width = hit.shape[1]
    if width == 1 or not flat.size:
        return flat
    rows = flat // width
    return rows[np.concatenate(([True], rows[1:] != rows[:-1]))]


@dataclass
class GeneGroups:
    """The samples of a cohort grouped by their alleles at one gene's positions."""

    of_sample: np.ndarray  # group index per sample
    genotypes: list[dict[tuple[str, int], Genotype] | None]  # per group: a member's genotypes (None: unusable)
    warnings: list[list[str]] = field(default_factory=list)  # per group


class CohortCalls:
    """What one pass over a cohort VCF keeps (see the module docstring)."""

    def __init__(
        self,
        path: str,
        columns: tuple[str, ...],
        pgx_index: PositionIndex,
        *,
        index: PositionIndex | None = None,
        priority: PositionIndex | None = None,
        calls_max: int = 0,
    ) -> None:
        """``index``: the knowledge read's positions; a site outside it (read for the call store only)
        is not matched, and is kept first when it lies in ``priority`` (None: every site is matched).
        ``calls_max``: the call store's bound, here for the no-call ranges (0: none kept)."""
        n = len(columns)
        self.path = path
        self.columns = columns
        self.pgx_index = pgx_index
        self.index = index
        self.priority = priority
        self.alleles_read = 0  # sequence ALT alleles read: the same for every sample
        self.no_call = np.zeros(n, dtype=np.int64)
        self.not_carried = np.zeros(n, dtype=np.int64)  # beyond _not_carried_all, which every sample has
        self._not_carried_all = 0
        self.called = np.zeros(n, dtype=bool)
        self.failures: dict[int, str] = {}
        self.templates: list[Observed] = []
        self.patterns: list[tuple[str, str]] = []  # (genotype text, zygosity)
        self._carriers: list[_Carriers] = []
        self.pgx_sites: list[_PgxSite] = []
        # the call store's: alleles of sites outside ``index`` (class 1: in ``priority``, 2: elsewhere)
        self.stored_templates: list[Observed] = []
        self._stored: list[_Carriers] = []
        self.no_calls = [NoCallRanges(calls_max) for _ in columns] if calls_max > 0 else None

    def __len__(self) -> int:
        return len(self.columns)

    def add(self, calls: SiteCalls) -> None:
        """One record: carriers of each sequence ALT, no-call counts, PGx genotypes, failures."""
        site, gt = calls.site, calls.gt
        n_alleles = len(site.alleles)
        start0, end0 = site.pos - 1, site.pos - 1 + max(len(site.ref), 1)
        low, high = int(gt.min()), int(gt.max())
        if low < 0 and self.no_calls is not None:  # the call store's no-calls: every GT allele missing
            end = site.end or end0
            for i in np.flatnonzero(((gt == -1) | (gt == -2)).all(axis=1)).tolist():
                self.no_calls[i].add(site.chrom, site.pos, end)
        if self.index is not None and not self.index.overlaps(site.chrom, start0, end0):
            if high > 0:
                klass = 1 if self.priority is not None and self.priority.overlaps(site.chrom, start0, end0) else 2
                self._keep_stored(calls, klass)
            return
        if self.pgx_index.overlaps(site.chrom, start0, end0):
            self.pgx_sites.append(_PgxSite(site, gt.copy(), calls.phased.copy(), calls.depth))
        if low >= 0 and high == 0:  # everyone homozygous reference: the common record of a cohort
            self.called[:] = True
            self._not_carried_all += n_alleles
            self.alleles_read += n_alleles
            return
        missing_all: np.ndarray | None = None  # per sample: no allele called at this record
        if low < 0:
            missing_all = ((gt == -1) | (gt == -2)).all(axis=1)
            self.called |= ~missing_all
        else:
            self.called[:] = True
        if high >= len(site.seqs):
            for i in np.flatnonzero((gt >= len(site.seqs)).any(axis=1)).tolist():
                self.failures.setdefault(
                    i,
                    f"{self.path}: {site.chrom}:{site.pos}"
                    + (f" (record {site.record})" if site.record else "")
                    + f": GT allele index {int(gt[i].max())} beyond the record's {len(site.seqs) - 1} ALT "
                    "allele(s) (VCF 4.2 section 1.6.2): the sample's calls are unusable",
                )
        if not n_alleles:
            return
        self.alleles_read += n_alleles
        patterns: dict[tuple[Any, ...], int] = {}  # this record's distinct calls of carriers
        for a in site.alleles:
            carriers = rows_with(gt == a.index)
            if missing_all is None:
                self._not_carried_all += 1
            else:
                self.no_call += missing_all
                self.not_carried += ~missing_all
            if not carriers.size:
                continue
            self.not_carried[carriers] -= 1
            self._carriers.append(self._carriers_of(site, a, calls, carriers, patterns, self.templates, 0))

    def _keep_stored(self, calls: SiteCalls, klass: int) -> None:
        """A site outside the knowledge read: its carriers for the call store only (usable calls)."""
        site, gt = calls.site, calls.gt
        usable = (gt < len(site.seqs)).all(axis=1)
        patterns: dict[tuple[Any, ...], int] = {}
        for a in site.alleles:
            carriers = np.flatnonzero((gt == a.index).any(axis=1) & usable)
            if carriers.size:
                self._stored.append(self._carriers_of(site, a, calls, carriers, patterns, self.stored_templates, klass))

    def _carriers_of(
        self,
        site: Site,
        a: Any,
        calls: SiteCalls,
        carriers: np.ndarray,
        patterns: dict[tuple[Any, ...], int],
        templates: list[Observed],
        klass: int,
    ) -> _Carriers:
        """One ALT allele's template (no call fields) and per carrier its genotype pattern and depth."""
        gt = calls.gt
        template = len(templates)
        templates.append(
            observed_allele(
                a.allele,
                a.annotations,
                zygosity="",
                genotype="",
                depth=None,
                filter=site.filter,
                quality=site.quality,
                rsid=site.rsid,
                record=site.record,
            )
        )
        ids = np.empty(carriers.size, dtype=np.int32)
        rows, phased = gt[carriers].tolist(), calls.phased[carriers].tolist()
        for j, (row, ph) in enumerate(zip(rows, phased, strict=True)):
            key = (a.index, *row, ph)
            pid = patterns.get(key)
            if pid is None:
                pid = patterns[key] = len(self.patterns)
                idx = [x for x in row if x != -2]
                if max(idx) >= len(site.seqs):  # an unusable call: the sample has failed already
                    self.patterns.append(("", ""))
                else:
                    g = genotype_call(site.chrom, site.pos, site.seqs, idx, ph, None)
                    zyg = zygosity(idx.count(a.index), len(idx))
                    self.patterns.append((genotype_text(g), zyg.value if zyg else ""))
            ids[j] = pid
        depth = calls.depth[carriers] if calls.depth is not None else None
        return _Carriers(carriers.astype(np.int32), template, ids, depth, klass)

    # -- after the pass ----------------------------------------------------------------------

    def failure(self, i: int) -> str | None:
        """Why sample ``i`` cannot be matched (None: it can)."""
        if i in self.failures:
            return self.failures[i]
        if not self.called[i] and (self.alleles_read or self.pgx_sites):
            return (
                f"{self.path}: sample {self.columns[i]!r} has no genotype call (GT missing) at any of the "
                "records read: nothing to match"
            )
        return None

    def allele_ids(self) -> list[str]:
        return sorted({t.id for t in self.templates})

    def observed(self) -> Iterator[tuple[int, list[Observed], list[Observed]]]:
        """``(sample index, carried alleles of the knowledge read in reading order, carried alleles read
        for the call store only)`` for every sample, in order; the latter those in the priority regions
        first, each group in reading order."""
        made: dict[tuple[int, int, int], Observed] = {}  # one Observed per distinct call, shared (frozen)
        matched = self._per_sample(self._carriers, self.templates, made)
        made_stored: dict[tuple[int, int, int], Observed] = {}
        stored = self._per_sample(self._stored, self.stored_templates, made_stored)
        for i in range(len(self.columns)):
            yield i, next(matched), next(stored)

    def _per_sample(
        self, chunks: list[_Carriers], templates: list[Observed], made: dict[tuple[int, int, int], Observed]
    ) -> Iterator[list[Observed]]:
        """Each sample's carried alleles of ``chunks``, in sample order; by class, then reading order."""
        if chunks:
            sample = np.concatenate([c.samples for c in chunks])
            template = np.concatenate([np.full(len(c.samples), c.template, dtype=np.int32) for c in chunks])
            pattern = np.concatenate([c.patterns for c in chunks])
            depth = np.concatenate(
                [c.depth if c.depth is not None else np.full(len(c.samples), -1, dtype=np.int32) for c in chunks]
            )
            klass = np.concatenate([np.full(len(c.samples), c.klass, dtype=np.int8) for c in chunks])
            order = np.lexsort((np.arange(len(sample)), klass, sample))
            sample, template, pattern, depth = sample[order], template[order], pattern[order], depth[order]
            bounds = np.searchsorted(sample, np.arange(len(self.columns) + 1))
        else:
            bounds = np.zeros(len(self.columns) + 1, dtype=np.int64)
        for i in range(len(self.columns)):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            out = []
            if hi > lo:
                for key in zip(template[lo:hi].tolist(), pattern[lo:hi].tolist(), depth[lo:hi].tolist(), strict=True):
                    o = made.get(key)
                    if o is None:
                        t, (text, zyg), d = templates[key[0]], self.patterns[key[1]], key[2]
                        o = made[key] = replace(t, zygosity=zyg, genotype=text, depth=d if d >= 0 else None)
                    out.append(o)
            yield out

    def no_call_ranges(self, i: int) -> tuple[list[str], int]:
        """Sample ``i``'s no-call ranges (``chrN:start-end``) and how many the bound left out."""
        if self.no_calls is None:
            return [], 0
        return self.no_calls[i].texts(), self.no_calls[i].dropped

    def skipped(self, i: int) -> dict[str, int]:
        """The single-sample report's per-sample skip counts: alleles not carried, no-calls."""
        out = {"no_call": int(self.no_call[i]), "not_carried": int(self.not_carried[i]) + self._not_carried_all}
        return {k: v for k, v in out.items() if v}

    def gene_groups(self, intervals: tuple[Interval, ...]) -> GeneGroups:
        """The samples grouped by their calls at the records inside ``intervals`` (one gene's), with
        one member's genotypes per group, built by the single-sample rules: the first record at a
        position is used (a second one that differs is a warning)."""
        index = PositionIndex(intervals)
        sites = [
            s
            for s in self.pgx_sites
            if index.overlaps(s.site.chrom, s.site.pos - 1, s.site.pos - 1 + max(len(s.site.ref), 1))
        ]
        n = len(self.columns)
        if not sites:
            return GeneGroups(np.zeros(n, dtype=np.int64), [{}], [[]])
        key = np.column_stack([np.column_stack([s.gt, s.phased]) for s in sites])
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        genotypes: list[dict[tuple[str, int], Genotype] | None] = []
        warnings: list[list[str]] = []
        for member in first.tolist():
            found: dict[tuple[str, int], Genotype] = {}
            said: list[str] = []
            try:
                for s in sites:
                    row = [x for x in s.gt[member].tolist() if x != -2]
                    depth = int(s.depth[member]) if s.depth is not None and s.depth[member] >= 0 else None
                    g = genotype_call(s.site.chrom, s.site.pos, s.site.seqs, row, bool(s.phased[member]), depth)
                    keep_first(found, g, said)
            except ValueError:
                genotypes.append(None)
                warnings.append([])
                continue
            genotypes.append(found)
            warnings.append(said)
        return GeneGroups(inverse.ravel(), genotypes, warnings)


# -- patient ids ----------------------------------------------------------------------------


class PatientIdError(ValueError):
    """Patient ids of a cohort that cannot be: empty, repeated, a template without ``{sample}``."""


def patient_ids(
    samples: tuple[str, ...] | list[str],
    *,
    template: str | None = None,
    prefix: str | None = None,
    mapping: dict[str, str] | None = None,
) -> dict[str, str]:
    """Each sample's patient id: from ``mapping`` (every sample must be in it), else ``template``
    with ``{sample}`` replaced, else ``prefix`` + sample (else the sample name). The single-sample
    rule applies to each (an id is its text stripped, never empty), and two samples never share one."""
    if template is not None and "{sample}" not in template:
        raise PatientIdError(
            f"the patient id template {template!r} names no {{sample}}: every sample would be the same patient"
        )
    out: dict[str, str] = {}
    for s in samples:
        if mapping is not None:
            if s not in mapping:
                raise PatientIdError(f"sample {s!r} has no patient id in the mapping file")
            pid = mapping[s]
        elif template is not None:
            pid = template.replace("{sample}", s)
        else:
            pid = (prefix or "") + s
        pid = pid.strip()
        if not pid:
            raise PatientIdError(f"sample {s!r} would get an empty patient id")
        out[s] = pid
    seen: dict[str, str] = {}
    for s, pid in out.items():
        if pid in seen:
            raise PatientIdError(f"samples {seen[pid]!r} and {s!r} would both be patient {pid!r}")
        seen[pid] = s
    return out


def read_patient_map(path: str | os.PathLike[str]) -> dict[str, str]:
    """A sample -> patient id file: one ``sample<TAB>patient`` per line (``#`` comments, blank lines
    skipped). A line without two fields or a sample given twice is ``file:line: expected ..., found ...``."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            text = line.rstrip("\n\r")
            if not text.strip() or text.startswith("#"):
                continue
            parts = text.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise PatientIdError(f"{path}:{n}: expected 'sample<TAB>patient id', found {text[:120]!r}")
            sample = parts[0].strip()
            if sample in out:
                raise PatientIdError(f"{path}:{n}: expected each sample once, found {sample!r} again")
            out[sample] = parts[1].strip()
    return out


def read_sample_list(path: str | os.PathLike[str]) -> list[str]:
    """``--samples-file``: one sample name per line (blank lines and ``#`` comments skipped)."""
    with open(path, encoding="utf-8") as fh:
        return [s for line in fh if (s := line.strip()) and not s.startswith("#")]

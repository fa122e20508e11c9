"""Read one patient's calls from a VCF, VCF.gz or BCF (VCF 4.2) with cyvcf2.

``open_vcf(path, sample)`` checks the file (complete, GRCh38, has samples and GT), picks
one sample, and iterates :class:`VcfRecord` objects, one per ALT allele:

- multi-allelic records are split (VCF 4.2 section 1.6.1: ALT is a comma-separated list);
- each REF/ALT pair is trimmed to its parsimonious form with :func:`kg.identity.variants.normalize`, the
  chromosome made canonical (``7`` and ``chr7`` both give ``chr7``);
- the sample's GT (section 1.6.2: allele indexes joined by ``/`` unphased or ``|`` phased,
  ``.`` missing) becomes a :class:`Genotype` holding allele sequences, ``None`` if missing;
- ALTs that name no sequence are skipped and counted: symbolic ``<DEL>``/``<NON_REF>``
  (section 1.4.5), the spanning deletion ``*``, breakends (section 5.4), ``.`` (no ALT);
- VEP ``CSQ`` and snpEff ``ANN`` annotations are parsed per ALT, ``p.Val600Glu`` also
  given as ``V600E`` (:func:`kg.identity.protein.protein_short`).

A record whose GT does not carry a given ALT (``0/0``, or ``0/1`` for the second ALT) is
still returned, with ``alt_count == 0`` and ``zygosity is None``: a called position is
evidence of reference, unlike a position absent from the file, which is a no-call.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote

import numpy as np
from cyvcf2 import VCF, Variant

from kg.identity.protein import protein_short
from kg.identity.variants import Allele, canonical_chrom, is_primary_chrom, is_sequence, normalize
from kg.matcher.build import BuildCheck, check_grch38, check_position
from kg.matcher.errors import FileKind, VcfError, check_complete, diagnose, expected_path, sniff
from kg.matcher.genotype import Genotype
from kg.matcher.positions import FilterStats, PositionIndex, fetch


class Zygosity(str, Enum):
    """Copies of one ALT in the sample's genotype."""

    HETEROZYGOUS = "heterozygous"  # one copy among two or more alleles (also 1/. half calls)
    HOMOZYGOUS = "homozygous"  # every allele is this ALT
    HEMIZYGOUS = "hemizygous"  # haploid call of this ALT (e.g. male chrX outside PARs)


@dataclass(frozen=True)
class Annotation:
    """One transcript-level consequence from VEP ``CSQ`` or snpEff ``ANN``."""

    source: str  # "CSQ" or "ANN"
    gene: str | None
    consequence: str | None  # e.g. "missense_variant"
    hgvsp: str | None  # as written, URL-unescaped: "ENSP00000288602.6:p.Val600Glu"
    protein_change: str | None  # one-letter short form: "V600E"
    hgvsc: str | None = None
    transcript: str | None = None


@dataclass(frozen=True)
class VcfRecord:
    """One ALT allele of one VCF record, normalised, with the chosen sample's call."""

    allele: Allele  # normalised chrom (chr-prefixed), pos, ref, alt
    genotype: Genotype
    zygosity: Zygosity | None  # None when the genotype does not carry this ALT
    alt_count: int  # copies of this ALT in the genotype
    alt_index: int  # 1-based index of this ALT in the record's ALT list
    annotations: tuple[Annotation, ...] = ()
    rsid: str | None = None
    filter: str | None = None  # "PASS", or the failed filters joined by ';'; None for '.'
    quality: float | None = None
    record: int | None = None  # 1-based data record number (None when read by region)

    @property
    def id(self) -> str:
        return self.allele.id

    @property
    def gene(self) -> str | None:
        return next((a.gene for a in self.annotations if a.gene), None)

    @property
    def protein_change(self) -> str | None:
        return next((a.protein_change for a in self.annotations if a.protein_change), None)


@dataclass(frozen=True)
class SiteAllele:
    """One sequence ALT of a record, normalised, with its annotations."""

    index: int  # 1-based index in the record's ALT list (the GT allele index)
    allele: Allele
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class Site:
    """The columns of one VCF record that every sample shares (CHROM to INFO)."""

    chrom: str  # canonical
    pos: int
    ref: str
    seqs: tuple[str, ...]  # REF, then every ALT as written: what a GT allele index names
    alleles: tuple[SiteAllele, ...]  # the ALTs that name a sequence (others skipped and counted)
    rsid: str | None = None
    filter: str | None = None
    quality: float | None = None
    record: int | None = None
    end: int | None = None  # 1-based inclusive: htslib's, so a gVCF block's INFO END (VCF 4.2 section 1.6.1)


@dataclass
class ReadStats:
    """Counters of the latest pass: records read, alleles returned, skipped ALTs by reason."""

    records_read: int = 0
    alleles_returned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    filter: FilterStats | None = None


# -- annotations ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Schema:
    tag: str  # INFO key: CSQ or ANN
    fields: tuple[str, ...]

    def index(self, *names: str) -> int | None:
        for name in names:
            if name in self.fields:
                return self.fields.index(name)
        return None


_INFO_DESC = re.compile(r'^##INFO=<ID=(CSQ|ANN),.*?Description="(.*)"', re.MULTILINE)


def annotation_schemas(header: str) -> list[_Schema]:
    """Field lists of ``CSQ`` (``... Format: Allele|Consequence|...``) and ``ANN``."""
    out = []
    for tag, desc in _INFO_DESC.findall(header):
        if tag == "CSQ" and "Format:" in desc:
            spec = desc.split("Format:", 1)[1]
        elif tag == "ANN" and "'" in desc:
            spec = desc.split("'")[1]
        elif ":" in desc:
            spec = desc.split(":", 1)[1]
        else:
            continue
        fields = tuple(f.strip().strip("'\" ") for f in spec.split("|"))
        if len(fields) > 1:
            out.append(_Schema(tag, fields))
    return out


def _vep_alleles(ref: str, alts: list[str]) -> list[str]:
    """ALTs as VEP writes them in CSQ ``Allele``: when every allele (REF and all ALTs)
    starts with the same base, VEP drops that base, an emptied allele becoming ``-``."""
    first = ref[:1]
    if first and all(a[:1] == first for a in alts):
        return [a[1:] or "-" for a in alts]
    return list(alts)


def _field(parts: list[str], i: int | None) -> str | None:
    return parts[i] or None if i is not None and i < len(parts) else None


def parse_annotations(schema: _Schema, value: str, ref: str, alts: list[str]) -> dict[int, list[Annotation]]:
    """Annotations of one INFO value, keyed by 1-based ALT index."""
    i_allele = schema.index("Allele")
    i_num = schema.index("ALLELE_NUM")
    i_gene = schema.index("SYMBOL", "Gene_Name")
    i_cons = schema.index("Consequence", "Annotation")
    i_hgvsp = schema.index("HGVSp", "HGVS.p")
    i_hgvsc = schema.index("HGVSc", "HGVS.c")
    i_tx = schema.index("Feature", "Feature_ID")
    i_pick = schema.index("PICK")
    i_canon = schema.index("CANONICAL")
    keys = _vep_alleles(ref, alts) if schema.tag == "CSQ" else list(alts)
    lookup = {k: n for n, k in enumerate(keys, start=1)}
    out: dict[int, list[tuple[int, Annotation]]] = {}
    for entry in value.split(","):
        parts = entry.split("|")
        number, allele = _field(parts, i_num), _field(parts, i_allele)
        num: int | None = None
        if number is not None and number.isdigit():
            num = int(number)
        elif allele is not None:
            num = lookup.get(allele, 1 if len(alts) == 1 else None)
        if num is None:
            continue
        hgvsp = unquote(_field(parts, i_hgvsp) or "") or None
        rank = 0 if _field(parts, i_pick) == "1" else 1 if _field(parts, i_canon) == "YES" else 2
        ann = Annotation(
            schema.tag,
            _field(parts, i_gene),
            _field(parts, i_cons),
            hgvsp,
            protein_short(hgvsp),
            _field(parts, i_hgvsc),
            _field(parts, i_tx),
        )
        out.setdefault(num, []).append((rank, ann))
    return {k: [a for _, a in sorted(v, key=lambda t: t[0])] for k, v in out.items()}


# -- reader ---------------------------------------------------------------------------

_T = TypeVar("_T")

_GT_DECL = re.compile(r"^##FORMAT=<ID=GT,", re.MULTILINE)
_DP_DECL = re.compile(r"^##FORMAT=<ID=DP,", re.MULTILINE)
_IUPAC = re.compile(r"^[ACGTNRYSWKMBDHVU]+$")


def _skip_reason(alt: str) -> str | None:
    """Why an ALT names no concrete sequence (None when it does)."""
    if alt == "*":
        return "spanning_deletion"
    if alt in (".", ""):
        return "no_alt"
    if alt.startswith("<"):
        return "symbolic_alt"
    if "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith("."):
        return "breakend"
    return None


class PatientVcf:
    """One sample of one VCF. Iterate it for every record, or :meth:`fetch` a subset.

    Each pass opens its own cyvcf2 reader, so a PatientVcf can be read more than once;
    :attr:`stats` holds the counters of the latest pass.
    """

    def __init__(
        self,
        path: Path,
        sample: str,
        samples: tuple[str, ...],
        kind: FileKind,
        header: str,
        build: BuildCheck,
        threads: int = 2,
    ) -> None:
        self.path = path
        self.sample = sample
        self.samples = samples
        self.kind = kind
        self.header = header
        self.build = build
        self.threads = threads
        self.stats = ReadStats()
        self._schemas = annotation_schemas(header)
        self._has_dp = bool(_DP_DECL.search(header))

    @property
    def annotation_sources(self) -> tuple[str, ...]:
        return tuple(s.tag for s in self._schemas)

    def _reader(self) -> VCF:
        # Never lazy=True: cyvcf2 0.35 crashes reading FORMAT of a record not yet unpacked.
        return VCF(os.fspath(self.path), samples=[self.sample], threads=self.threads if self.kind.indexable else None)

    def __iter__(self) -> Iterator[VcfRecord]:
        self.stats = ReadStats()
        vcf = self._reader()
        try:
            yield from self._convert_all(vcf, numbered=True)
        finally:
            vcf.close()

    def fetch(self, index: PositionIndex) -> Iterator[VcfRecord]:
        """Only the records overlapping ``index``, at htslib speed (see :mod:`positions`)."""
        fstats = FilterStats()
        self.stats = ReadStats(filter=fstats)
        source = fetch(self.path, index, samples=[self.sample], threads=self.threads, stats=fstats)
        yield from self._convert_all(source, numbered=False)

    def _convert_all(self, source: Iterable[Variant], numbered: bool) -> Iterator[VcfRecord]:
        return self._each(source, numbered, self._convert)

    def _each(
        self, source: Iterable[Variant], numbered: bool, convert: Callable[[Variant, int | None], list[_T]]
    ) -> Iterator[_T]:
        """``convert`` of every record, a failure inside htslib raised as the file's VcfError."""
        it = iter(source)
        n = 0
        while True:
            try:
                v = next(it)
            except StopIteration:
                return
            except VcfError:
                raise
            except Exception as exc:  # htslib parse/decompression failure surfaced by cyvcf2
                raise (
                    diagnose(self.path, n + 1, exc)
                    if numbered
                    else VcfError(self.path, f"read failed after {n} records: {exc}")
                ) from exc
            n += 1
            self.stats.records_read = n
            for rec in convert(v, n if numbered else None):
                self.stats.alleles_returned += 1
                yield rec

    def _malformed(self, v: Variant, record: int | None, why: str) -> VcfError:
        if record is not None:
            return diagnose(self.path, record, why)
        return VcfError(self.path, f"malformed VCF record: {why}", found=repr(str(v)[:160]))

    def _convert(self, v: Variant, record: int | None) -> list[VcfRecord]:
        try:
            genotype, idx = self._genotype(v, self._chrom(v, record))
        except VcfError:
            raise
        except Exception as exc:
            raise self._malformed(v, record, str(exc)) from exc
        site = self._site(v, record)
        return [
            VcfRecord(
                allele=a.allele,
                genotype=genotype,
                zygosity=zygosity(idx.count(a.index), len(idx)),
                alt_count=idx.count(a.index),
                alt_index=a.index,
                annotations=a.annotations,
                rsid=site.rsid,
                filter=site.filter,
                quality=site.quality,
                record=record,
            )
            for a in site.alleles
        ]

    def _chrom(self, v: Variant, record: int | None) -> str:
        chrom_raw = v.CHROM
        if not chrom_raw or any(c.isspace() for c in chrom_raw) or v.end <= v.start:
            # htslib accepts a line without tabs as a one-column record; touching its REF
            # would crash cyvcf2, so refuse it here.
            raise self._malformed(v, record, "no REF/ALT columns")
        return chrom_raw

    def _site(self, v: Variant, record: int | None) -> Site:
        """The record's columns every sample shares: its sequence ALTs normalised and annotated;
        the other ALTs counted in ``stats.skipped`` by reason (a Site without alleles when none is left)."""
        chrom_raw = self._chrom(v, record)
        try:
            ref, alts = v.REF, list(v.ALT)
        except Exception as exc:
            raise self._malformed(v, record, str(exc)) from exc
        chrom = canonical_chrom(chrom_raw)
        check_position(self.path, chrom, v.POS, record)
        filters = v.FILTERS
        site = Site(
            chrom, v.POS, ref, (ref, *alts), (), v.ID, ";".join(filters) if filters else None, v.QUAL, record, v.end
        )
        skipped = self.stats.skipped
        if not alts:
            skipped["no_alt"] += 1
            return site
        if not is_primary_chrom(chrom):
            skipped["non_primary_contig"] += len(alts)
            return site
        if not is_sequence(ref.upper()):
            if _IUPAC.match(ref.upper()):
                skipped["iupac_bases"] += len(alts)
                return site
            raise self._malformed(v, record, f"REF {ref!r} is not a base sequence")
        anns: dict[int, list[Annotation]] = {}
        for schema in self._schemas:
            value = v.INFO.get(schema.tag)
            if isinstance(value, str):
                for k, lst in parse_annotations(schema, value, ref, alts).items():
                    anns.setdefault(k, []).extend(lst)
        alleles = []
        for k, alt in enumerate(alts, start=1):
            reason = _skip_reason(alt)
            if reason is None and not is_sequence(alt.upper()):
                if not _IUPAC.match(alt.upper()):
                    raise self._malformed(v, record, f"ALT {alt!r} is neither bases nor a symbolic allele")
                reason = "iupac_bases"
            if reason is not None:
                skipped[reason] += 1
                continue
            alleles.append(SiteAllele(k, normalize(chrom_raw, v.POS, ref, alt), tuple(anns.get(k, ()))))
        return replace(site, alleles=tuple(alleles))

    def _genotype(self, v: Variant, chrom_raw: str) -> tuple[Genotype, list[int]]:
        """The sample's call; a record without GT in FORMAT is a diploid no-call."""
        chrom = canonical_chrom(chrom_raw)
        depth = None
        if self._has_dp:
            dp = v.format("DP")
            if dp is not None and dp.size and dp[0][0] >= 0:
                depth = int(dp[0][0])
        if "GT" not in v.FORMAT:
            return Genotype(chrom, v.POS, v.REF, (None, None), False, depth), [-1, -1]
        gt = v.genotypes[0]
        idx = list(gt[:-1])
        return genotype_call(chrom, v.POS, (v.REF, *v.ALT), idx, bool(gt[-1]), depth), idx


def zygosity(count: int, ploidy: int) -> Zygosity | None:
    """Copies of one ALT among a call's ``ploidy`` alleles as a zygosity (None: not carried)."""
    if count == 0:
        return None
    if ploidy == 1:
        return Zygosity.HEMIZYGOUS
    return Zygosity.HOMOZYGOUS if count == ploidy else Zygosity.HETEROZYGOUS


def genotype_call(
    chrom: str, pos: int, seqs: tuple[str, ...], idx: list[int], phased: bool, depth: int | None
) -> Genotype:
    """One sample's GT allele indexes (``-1`` missing) as a :class:`Genotype` of sequences.

    VCF 4.2 section 1.6.2: an index names REF (0) or one of the ALTs, anything beyond is an error
    (``ValueError``); a haploid call has no phase.
    """
    beyond = [i for i in idx if i >= len(seqs)]
    if beyond:
        raise ValueError(f"GT allele index {beyond[0]} beyond the record's {len(seqs) - 1} ALT allele(s)")
    alleles = tuple(seqs[i] if 0 <= i < len(seqs) else None for i in idx)
    return Genotype(chrom, pos, seqs[0], alleles, phased and len(idx) > 1, depth)


def _choose_sample(path: Path, samples: list[str], sample: str | None) -> str:
    listed = ", ".join(samples[:20]) + (f" ... ({len(samples)} in all)" if len(samples) > 20 else "")
    if not samples:
        raise VcfError(
            path,
            "the VCF has no sample columns (sites-only)",
            expected="FORMAT and one sample column per VCF 4.2 section 1.4",
            found="8 columns: #CHROM ... INFO",
        )
    if sample is not None:
        if sample not in samples:
            raise VcfError(
                path, f"sample {sample!r} is not in the file", expected=f"one of: {listed}", found=repr(sample)
            )
        return sample
    if len(samples) > 1:
        raise VcfError(
            path,
            f"the VCF holds {len(samples)} samples; choose one with --sample",
            expected="--sample NAME",
            found=f"samples: {listed}",
        )
    return samples[0]


def _check_gt(path: Path, header: str) -> None:
    if _GT_DECL.search(header):
        return
    # Not declared: htslib tolerates undeclared FORMAT keys, so look at the first record.
    vcf = VCF(os.fspath(path))
    try:
        first = next(iter(vcf), None)
        fmt = list(first.FORMAT) if first is not None else []
    finally:
        vcf.close()
    if "GT" not in fmt:
        raise VcfError(
            path,
            "the VCF has no genotypes (no GT FORMAT field)",
            expected="##FORMAT=<ID=GT,...> and GT first in FORMAT (VCF 4.2 section 1.6.2)",
            found=f"FORMAT {':'.join(fmt) or '(none)'}",
        )


@dataclass(frozen=True)
class VcfHeader:
    """A checked file's header and sample columns, read before a sample is chosen."""

    path: Path
    kind: FileKind
    text: str
    samples: list[str]


def read_header(path: str | os.PathLike[str]) -> VcfHeader:
    """The header of a complete VCF/VCF.gz/BCF (raises VcfError otherwise)."""
    p = expected_path(path)
    kind = sniff(p)
    check_complete(p, kind)
    try:
        vcf = VCF(os.fspath(p))
    except Exception as exc:  # cyvcf2 raises OSError, or a bare Exception ("Failed to read BCF header")
        with open(p, "rb") as fh:
            head = fh.read(40)
        raise VcfError(
            p, "not a VCF, VCF.gz or BCF file", expected="a '##fileformat=VCFv4.x' header", found=repr(head)
        ) from exc
    try:
        return VcfHeader(p, kind, vcf.raw_header, list(vcf.samples))
    finally:
        vcf.close()


def open_vcf(
    path: str | os.PathLike[str], sample: str | None = None, *, check_build: bool = True, threads: int = 2
) -> PatientVcf:
    """Open a patient VCF/VCF.gz/BCF and choose its sample; raises VcfError or BuildMismatchError."""
    head = read_header(path)
    p, kind, header, samples = head.path, head.kind, head.text, head.samples
    chosen = _choose_sample(p, samples, sample)
    _check_gt(p, header)
    build = check_grch38(p, header, warn=True) if check_build else BuildCheck(None, ["not checked"])
    return PatientVcf(p, chosen, tuple(samples), kind, header, build, threads)


# -- several samples in one pass ------------------------------------------------------


@dataclass(frozen=True)
class SiteCalls:
    """One record's shared columns and every read sample's call, as arrays over the samples."""

    site: Site
    gt: np.ndarray  # int16 (samples, ploidy): allele indexes, -1 missing, -2 absent (a lower ploidy)
    phased: np.ndarray  # bool (samples,)
    depth: np.ndarray | None  # int32 (samples,), -1 unknown; None when the header declares no DP


class CohortVcf(PatientVcf):
    """Several sample columns of one VCF, read in one pass (:meth:`sites`): per record the shared
    :class:`Site` and the samples' GT as cyvcf2's arrays, so the cost per record does not grow with
    Python objects per sample. ``columns`` are the samples read, in the file's order."""

    def __init__(
        self,
        path: Path,
        columns: tuple[str, ...],
        samples: tuple[str, ...],
        kind: FileKind,
        header: str,
        build: BuildCheck,
        threads: int = 2,
    ) -> None:
        super().__init__(path, columns[0], samples, kind, header, build, threads)
        self.columns = columns

    def sites(self, index: PositionIndex) -> Iterator[SiteCalls]:
        """The records overlapping ``index``, by :func:`kg.matcher.positions.fetch`'s fastest strategy."""
        fstats = FilterStats()
        self.stats = ReadStats(filter=fstats)
        subset = None if self.columns == self.samples else list(self.columns)
        source = fetch(self.path, index, samples=subset, threads=self.threads, stats=fstats)
        return self._each(source, False, self._calls)

    def _calls(self, v: Variant, record: int | None) -> list[SiteCalls]:
        site = self._site(v, record)
        n = len(self.columns)
        try:
            if "GT" in v.FORMAT:
                a = v.genotype.array()
                # contiguous: the per-record reductions (kg.matcher.cohort) are ~10x slower on the strided view
                gt, phased = np.ascontiguousarray(a[:, :-1]), a[:, -1].astype(bool)
            else:  # no GT in FORMAT: a diploid no-call for everyone, as for one sample
                gt, phased = np.full((n, 2), -1, dtype=np.int16), np.zeros(n, dtype=bool)
            depth = None
            if self._has_dp:
                dp = v.format("DP")
                depth = np.full(n, -1, dtype=np.int32) if dp is None else np.where(dp[:, 0] >= 0, dp[:, 0], -1)
        except Exception as exc:
            raise self._malformed(v, record, str(exc)) from exc
        return [SiteCalls(site, gt, phased, depth)]


def open_cohort(
    path: str | os.PathLike[str], samples: list[str] | None = None, *, check_build: bool = True, threads: int = 2
) -> CohortVcf:
    """Open a multi-sample VCF to read ``samples`` (None: every sample) in one pass.

    Raises VcfError naming the file and the samples it has when a chosen sample is not in it,
    when the file has no sample columns or no GT, and BuildMismatchError when it is not GRCh38.
    """
    head = read_header(path)
    p, kind, header, have = head.path, head.kind, head.text, head.samples
    _choose_sample(p, have, have[0] if have else None)  # sites-only: the same error as for one sample
    wanted = list(dict.fromkeys(samples)) if samples is not None else list(have)
    unknown = [s for s in wanted if s not in have]
    if unknown:
        listed = ", ".join(have[:50]) + (f" ... ({len(have)} in all)" if len(have) > 50 else "")
        raise VcfError(
            p,
            f"{len(unknown)} chosen sample(s) not in the file: {', '.join(unknown[:20])}"
            + (" ..." if len(unknown) > 20 else ""),
            expected=f"samples of {p.name}: {listed}",
            found=", ".join(unknown[:20]),
        )
    if not wanted:
        raise VcfError(p, "no sample chosen", expected=f"samples of {p.name}: {', '.join(have[:50])}")
    _check_gt(p, header)
    build = check_grch38(p, header, warn=True) if check_build else BuildCheck(None, ["not checked"])
    chosen = set(wanted)
    return CohortVcf(p, tuple(s for s in have if s in chosen), tuple(have), kind, header, build, threads)

"""Refuse a VCF that is not on GRCh38 (patients are GRCh38; DESIGN.md "Genome build is data").

Evidence is taken from the header, strongest first:

1. ``##contig=<ID=..,length=..>`` lengths. Every primary chromosome except chrM differs in
   length between GRCh37 and GRCh38 (chr1: 249,250,621 vs 248,956,422), so lengths are
   decisive when present; they are written by GATK, bcftools, DeepVariant and most callers.
2. ``##reference=`` and ``##assembly=`` lines, and ``assembly=`` in ``##contig`` lines
   (VCF 4.2 section 1.4.7): names such as hg19, GRCh37, b37, hs37d5, human_g1k_v37 mean
   GRCh37; GRCh38, hg38, hs38DH, GCA_000001405.15 mean GRCh38.

Any evidence for another build refuses the file; evidence for GRCh38 with none against
accepts it. A header with neither is *unknown*: without the reference genome the REF bases
of records cannot be checked, so the file is accepted with a :class:`BuildUnknownWarning`.
One record-level check needs no reference and runs while reading (:func:`check_position`):
a position beyond the end of the GRCh38 chromosome proves another build.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from enum import Enum

from kg.identity.variants import canonical_chrom


class Build(str, Enum):
    GRCH38 = "GRCh38"
    GRCH37 = "GRCh37"
    NCBI36 = "NCBI36"
    CHM13 = "T2T-CHM13"


#: Primary chromosome lengths per build (NCBI assembly reports). chrM is left out on
#: purpose: the rCRS mitochondrion (16,569 bp) is shared by GRCh37 and GRCh38.
CONTIG_LENGTHS: dict[Build, dict[str, int]] = {
    Build.GRCH38: {
        "chr1": 248956422,
        "chr2": 242193529,
        "chr3": 198295559,
        "chr4": 190214555,
        "chr5": 181538259,
        "chr6": 170805979,
        "chr7": 159345973,
        "chr8": 145138636,
        "chr9": 138394717,
        "chr10": 133797422,
        "chr11": 135086622,
        "chr12": 133275309,
        "chr13": 114364328,
        "chr14": 107043718,
        "chr15": 101991189,
        "chr16": 90338345,
        "chr17": 83257441,
        "chr18": 80373285,
        "chr19": 58617616,
        "chr20": 64444167,
        "chr21": 46709983,
        "chr22": 50818468,
        "chrX": 156040895,
        "chrY": 57227415,
    },
    Build.GRCH37: {
        "chr1": 249250621,
        "chr2": 243199373,
        "chr3": 198022430,
        "chr4": 191154276,
        "chr5": 180915260,
        "chr6": 171115067,
        "chr7": 159138663,
        "chr8": 146364022,
        "chr9": 141213431,
        "chr10": 135534747,
        "chr11": 135006516,
        "chr12": 133851895,
        "chr13": 115169878,
        "chr14": 107349540,
        "chr15": 102531392,
        "chr16": 90354753,
        "chr17": 81195210,
        "chr18": 78077248,
        "chr19": 59128983,
        "chr20": 63025520,
        "chr21": 48129895,
        "chr22": 51304566,
        "chrX": 155270560,
        "chrY": 59373566,
    },
    Build.NCBI36: {"chr1": 247249719, "chr7": 158821424, "chrX": 154913754},
    Build.CHM13: {"chr1": 248387328, "chr7": 160567428, "chrX": 154259566},
}

GRCH38_LENGTHS = CONTIG_LENGTHS[Build.GRCH38]

_B = r"(?<![a-z0-9])"  # token must not continue a longer word on the left
_NAME_PATTERNS: list[tuple[Build, re.Pattern[str]]] = [
    (
        Build.GRCH38,
        re.compile(_B + r"(grch38|hg38|hs38|b38|assembly38|gca_000001405\.15|gcf_000001405\.(2[6-9]|3\d|40))"),
    ),
    (
        Build.GRCH37,
        re.compile(
            _B + r"(grch37|hg19|hs37|b37|g1k_v37|assembly19|gca_000001405\.1(?!\d)|gcf_000001405\.(1[3-9]|2[0-5]))"
        ),
    ),
    (Build.NCBI36, re.compile(_B + r"(ncbi36|hg18|b36)")),
    (Build.CHM13, re.compile(_B + r"(chm13|t2t|hs1(?![a-z0-9]))")),
]

_CONTIG = re.compile(r"^##contig=<(.*)>\s*$")
_KV = re.compile(r'(\w+)=("[^"]*"|[^,]*)')


class BuildMismatchError(ValueError):
    """The VCF is on another genome build than GRCh38."""

    def __init__(self, path: str, build: str, evidence: list[str]) -> None:
        self.path = path
        self.build = build
        self.evidence = evidence
        super().__init__(
            f"{path}: VCF is not GRCh38 (looks like {build}); patients must be on GRCh38, "
            f"lift the calls over or re-call on GRCh38. Evidence: " + "; ".join(evidence)
        )


class BuildUnknownWarning(UserWarning):
    """The header carries no build evidence; the VCF is read as GRCh38 unverified."""


@dataclass(frozen=True)
class BuildCheck:
    """What the header says about the build. ``build`` is ``None`` when it says nothing."""

    build: Build | None
    evidence: list[str] = field(default_factory=list)
    against: dict[Build, list[str]] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.build is Build.GRCH38


def _name_build(text: str) -> Build | None:
    low = text.lower()
    for build, pat in _NAME_PATTERNS:
        if pat.search(low):
            return build
    return None


def detect_build(header: str) -> BuildCheck:
    """Collect build evidence from a VCF header text (the ``##`` lines)."""
    votes: dict[Build, list[str]] = {}
    for line in header.splitlines():
        if line.startswith(("##reference=", "##assembly=")):
            key, _, value = line[2:].partition("=")
            b = _name_build(value)
            if b is not None:
                votes.setdefault(b, []).append(f"##{key}={value.strip()[:120]}")
            continue
        m = _CONTIG.match(line)
        if not m:
            continue
        attrs = {k: v.strip('"') for k, v in _KV.findall(m.group(1))}
        name, length = attrs.get("ID"), attrs.get("length", "")
        if name and length.isdigit():
            chrom = canonical_chrom(name)
            for b, table in CONTIG_LENGTHS.items():
                if table.get(chrom) == int(length):
                    votes.setdefault(b, []).append(f"{name} length {int(length):,} is {b.value}")
        if "assembly" in attrs:
            b = _name_build(attrs["assembly"])
            if b is not None:
                votes.setdefault(b, []).append(f"contig {name} assembly={attrs['assembly']}")
    against: dict[Build, list[str]] = {b: ev for b, ev in votes.items() if b is not Build.GRCH38}
    if against:
        worst = max(against, key=lambda b: len(against[b]))
        return BuildCheck(worst, against[worst][:4] + votes.get(Build.GRCH38, [])[:2], against)
    if Build.GRCH38 in votes:
        return BuildCheck(Build.GRCH38, votes[Build.GRCH38][:4])
    return BuildCheck(None, ["no ##reference, ##assembly or ##contig length in the header"])


def check_grch38(path: str | os.PathLike[str], header: str | None = None, *, warn: bool = True) -> BuildCheck:
    """Return the build check for a VCF, raising :class:`BuildMismatchError` if not GRCh38.

    ``header`` is the header text when already read (``cyvcf2.VCF(...).raw_header``);
    otherwise it is read from ``path``. An unknown build passes with a warning.
    """
    if header is None:
        from cyvcf2 import VCF

        vcf = VCF(os.fspath(path))
        try:
            header = vcf.raw_header
        finally:
            vcf.close()
    result = detect_build(header)
    if result.build is not None and result.build is not Build.GRCH38:
        raise BuildMismatchError(os.fspath(path), result.build.value, result.evidence)
    if result.build is None and warn:
        warnings.warn(
            f"{os.fspath(path)}: genome build not stated (no ##reference or ##contig lengths); "
            "reading it as GRCh38 unverified, positions beyond GRCh38 chromosome ends will still be refused",
            BuildUnknownWarning,
            stacklevel=2,
        )
    return result


def check_position(path: str | os.PathLike[str], chrom: str, pos: int, record: int | None = None) -> None:
    """Refuse a record whose position lies past the end of the GRCh38 chromosome."""
    length = GRCH38_LENGTHS.get(chrom)
    if length is not None and pos > length:
        where = f"record {record} at " if record is not None else ""
        raise BuildMismatchError(
            os.fspath(path),
            "another build",
            [f"{where}{chrom}:{pos:,} lies beyond the end of GRCh38 {chrom} ({length:,} bp)"],
        )

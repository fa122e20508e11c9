"""The files of one CIViC monthly release and how to read them, line numbers kept for errors.

A release folder holds ``DD-Mon-YYYY-<Kind>.tsv`` files (CIViC "Releases" page: tab-separated,
one header row, UTF-8, no quoting; empty string = missing), the CIViCpy VCF
``DD-Mon-YYYY-civic_accepted.vcf`` (GRCh37) and, beside them, the UCSC chain
``hg19ToHg38.over.chain.gz`` used to lift GRCh37 coordinates.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kg.identity.variants import is_sequence
from kg.loaders.errors import SourceFormatError

csv.field_size_limit(sys.maxsize)

_PREFIX = re.compile(r"^(\d{2}-[A-Z][a-z]{2}-\d{4})-")
CHAIN_NAME = "hg19ToHg38.over.chain.gz"

# Columns each loader stage reads (a release may add columns; these must be present).
REQUIRED: dict[str, tuple[str, ...]] = {
    "GeneSummaries": ("gene_id", "name", "entrez_id", "description"),
    "VariantSummaries": (
        "variant_id",
        "gene",
        "entrez_id",
        "variant",
        "variant_groups",
        "chromosome",
        "start",
        "stop",
        "reference_bases",
        "variant_bases",
        "representative_transcript",
        "reference_build",
        "chromosome2",
        "start2",
        "stop2",
        "variant_types",
        "hgvs_descriptions",
        "allele_registry_id",
        "clinvar_ids",
        "variant_aliases",
        "single_variant_molecular_profile_id",
    ),
    "MolecularProfileSummaries": (
        "name",
        "molecular_profile_id",
        "summary",
        "variant_ids",
        "evidence_score",
        "aliases",
    ),
    "ClinicalEvidenceSummaries": (
        "molecular_profile",
        "molecular_profile_id",
        "disease",
        "doid",
        "phenotypes",
        "therapies",
        "therapy_interaction_type",
        "evidence_type",
        "evidence_direction",
        "evidence_level",
        "significance",
        "evidence_statement",
        "citation_id",
        "source_type",
        "asco_abstract_id",
        "citation",
        "nct_ids",
        "rating",
        "evidence_status",
        "evidence_id",
        "variant_origin",
    ),
    "AssertionSummaries": (
        "molecular_profile",
        "molecular_profile_id",
        "disease",
        "doid",
        "phenotypes",
        "therapies",
        "assertion_type",
        "assertion_direction",
        "significance",
        "acmg_codes",
        "amp_category",
        "nccn_guideline",
        "nccn_guideline_version",
        "regulatory_approval",
        "fda_companion_test",
        "assertion_summary",
        "assertion_description",
        "assertion_id",
        "evidence_item_ids",
    ),
}


@dataclass(frozen=True)
class CivicFiles:
    folder: Path
    prefix: str  # "01-Aug-2024"

    @property
    def version(self) -> str:
        """``01-Aug-2024`` -> ``2024-08-01``."""
        return datetime.strptime(self.prefix, "%d-%b-%Y").date().isoformat()

    def tsv(self, kind: str) -> Path:
        return self.folder / f"{self.prefix}-{kind}.tsv"

    @property
    def vcf(self) -> Path:
        return self.folder / f"{self.prefix}-civic_accepted.vcf"

    @property
    def chain(self) -> Path:
        return self.folder / CHAIN_NAME

    @property
    def all(self) -> tuple[Path, ...]:
        """What the loader reads, in a fixed order (the release checksum covers these)."""
        return (*(self.tsv(kind) for kind in REQUIRED), self.vcf, self.chain)


def find_release(path: Path) -> CivicFiles:
    """The release in a folder, or the release a single CIViC file belongs to."""
    if path.is_file():
        found = _PREFIX.match(path.name)
        if not found:
            raise SourceFormatError(path, None, "a CIViC release file named DD-Mon-YYYY-<Kind>.tsv", path.name)
        files = CivicFiles(path.parent, found.group(1))
    else:
        candidates = sorted(path.glob("*-ClinicalEvidenceSummaries.tsv"))
        if len(candidates) != 1:
            raise SourceFormatError(
                path,
                None,
                "one DD-Mon-YYYY-ClinicalEvidenceSummaries.tsv",
                ", ".join(p.name for p in candidates) or "none",
            )
        found = _PREFIX.match(candidates[0].name)
        if not found:
            raise SourceFormatError(candidates[0], None, "a file name starting DD-Mon-YYYY-", candidates[0].name)
        files = CivicFiles(path, found.group(1))
    try:
        _ = files.version  # parses the release date from the file names
    except ValueError as err:
        raise SourceFormatError(
            files.folder, None, "a release date DD-Mon-YYYY in the file names", files.prefix
        ) from err
    missing = [p.name for p in files.all if not p.exists()]
    if missing:
        raise SourceFormatError(
            files.folder, None, "the CIViC release files and the chain", "missing " + ", ".join(missing)
        )
    return files


def read_tsv(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` for each data row; the header must name ``required`` columns
    and every row must have as many fields as the header."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None:
                raise SourceFormatError(path, 1, "a header row", "an empty file")
            missing = [c for c in required if c not in header]
            if missing:
                raise SourceFormatError(path, 1, f"a header with columns {', '.join(missing)}", "\t".join(header)[:200])
            width = len(header)
            for fields in reader:
                line = reader.line_num
                if len(fields) != width:
                    raise SourceFormatError(path, line, f"{width} tab-separated fields", f"{len(fields)} fields")
                yield line, dict(zip(header, fields, strict=True))
    except UnicodeDecodeError as err:
        raise SourceFormatError(path, None, "UTF-8 text", repr(err.object[err.start : err.end])) from err


def to_int(path: Path, line: int, column: str, value: str) -> int | None:
    """An integer field ('' = missing); anything else is a format error naming file:line."""
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as err:
        raise SourceFormatError(path, line, f"an integer in column {column}", value) from err


def to_float(path: Path, line: int, column: str, value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError as err:
        raise SourceFormatError(path, line, f"a number in column {column}", value) from err


@dataclass(frozen=True)
class VcfAllele:
    chrom: str
    pos: int
    ref: str
    alt: str


def read_vcf_alleles(path: Path) -> dict[int, VcfAllele]:
    """CIViC variant id -> the GRCh37 VCF allele CIViCpy wrote (REF/ALT padded with the anchor base).

    The VCF (VCF 4.2, no samples; ID = CIViC variant id) is small (one record per variant with
    coordinates); only CHROM, POS, ID, REF, ALT are kept.
    """
    alleles: dict[int, VcfAllele] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline()
            if not first.startswith("##fileformat=VCF"):
                raise SourceFormatError(path, 1, "##fileformat=VCFv4.x", first.strip()[:80])
            line = 1
            seen_header = False
            for line, text in enumerate(handle, start=2):
                if text.startswith("##"):
                    continue
                if text.startswith("#"):
                    if not text.startswith("#CHROM\tPOS\tID\tREF\tALT"):
                        raise SourceFormatError(path, line, "#CHROM POS ID REF ALT ... header", text.strip()[:80])
                    seen_header = True
                    continue
                if not seen_header:
                    raise SourceFormatError(path, line, "the #CHROM header line before records", text.strip()[:80])
                fields = text.rstrip("\n").split("\t")
                if len(fields) < 8:
                    raise SourceFormatError(path, line, "8 tab-separated VCF columns", f"{len(fields)} columns")
                chrom, pos, vid, ref, alt = fields[:5]
                if not pos.isdigit() or not vid.isdigit():
                    raise SourceFormatError(path, line, "an integer POS and a CIViC variant id in ID", f"{pos} {vid}")
                if not is_sequence(ref) or not is_sequence(alt):
                    raise SourceFormatError(path, line, "REF and ALT bases", f"{ref} {alt}")
                alleles[int(vid)] = VcfAllele(chrom, int(pos), ref, alt)
    except UnicodeDecodeError as err:
        raise SourceFormatError(path, None, "UTF-8 text", repr(err.object[err.start : err.end])) from err
    return alleles

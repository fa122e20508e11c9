"""How a variant is named: canonical chromosomes, the parsimonious allele and its graph key.

Every variant in the graph and every patient allele is keyed the same way, so that matching is a
plain key lookup: ``GRCh38:chr7:140753336:A:T`` (:func:`variant_id`). Loaders, the matcher and the
queries all build and read keys here; nothing else spells or splits them.

Normalisation follows the parsimony rule of Tan et al. 2015 (Bioinformatics 31:2202, "Unified
representation of genetic variants"), as used by ``vt normalize`` and ``bcftools norm``: trim bases
shared at the right end, then at the left end, keeping one anchor base for insertions and
deletions (VCF 4.2 section 1.6.1: REF and ALT of an indel start with the base before the event).
Left-alignment through repeats needs the reference sequence, which the service does not ship, so
it is not done here.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

ASSEMBLY = "GRCh38"

#: The chromosomes alleles are keyed on: 1-22, X, Y and the mitochondrion (alt contigs, decoys and
#: unplaced scaffolds are not matched).
PRIMARY_CHROMS = frozenset({*(str(n) for n in range(1, 23)), "X", "Y", "M"})

#: ALT of a record that states no alteration (VCF 4.2 section 1.4.1: ``.`` when there is no
#: alternate allele); ClinVar keys its "no sequence alteration" records with it.
NO_ALT = "."

#: Neo4j's range index refuses keys over ~8 kB, and ClinVar has deletions of up to 17,866 bases:
#: a key longer than this holds a digest of REF and ALT instead of the bases (:func:`variant_id`).
MAX_ID_CHARS = 4000
DIGEST_PREFIX = "sha256-"

#: Prefix of the keys of CIViC variants that are no single GRCh38 allele (codon, gene-level,
#: protein-only, unplaceable): ``civic:variant:<VID>`` (docs/GRAPH_MODEL.md).
CIVIC_VARIANT_PREFIX = "civic:variant:"

_SEQUENCE = re.compile(r"^[ACGTN]+$")
_RSID = re.compile(r"^rs(\d+)$", re.IGNORECASE)


class Allele(NamedTuple):
    """A normalised allele: chromosome with the ``chr`` prefix, 1-based position, REF, ALT."""

    chrom: str
    pos: int
    ref: str
    alt: str

    @property
    def id(self) -> str:
        """The Variant key of this allele in the graph (:func:`variant_id`)."""
        return variant_id(self.chrom, self.pos, self.ref, self.alt)


def canonical_chrom(chrom: str) -> str:
    """``7``, ``chr7``, ``CHR7`` -> ``chr7``; ``MT``/``chrMT`` -> ``chrM`` (UCSC naming, as GRCh38 VCFs use)."""
    c = chrom.strip()
    if c[:3].lower() == "chr":
        c = c[3:]
    c = c.upper()
    if c == "MT":
        c = "M"
    return f"chr{c}"


def is_primary_chrom(chrom: str) -> bool:
    """True for chr1-22, X, Y, M in any spelling :func:`canonical_chrom` reads."""
    return canonical_chrom(chrom)[3:] in PRIMARY_CHROMS


def is_sequence(bases: str) -> bool:
    """True for a non-empty run of A, C, G, T, N (VCF 4.2 section 1.4.1, REF and ALT bases; upper case)."""
    return _SEQUENCE.match(bases) is not None


def normalize(chrom: str, pos: int, ref: str, alt: str) -> Allele:
    """Return the parsimonious representation of one REF/ALT pair.

    ``normalize("7", 140753336, "A", "T")`` -> ``Allele("chr7", 140753336, "A", "T")``;
    ``normalize("chr1", 100, "CAT", "CGT")`` -> ``Allele("chr1", 101, "A", "G")``;
    ``normalize("chr1", 100, "CTT", "CT")`` -> ``Allele("chr1", 100, "CT", "C")``.
    Trimming keeps at least one base on each side, so non-empty alleles stay non-empty.
    """
    ref = ref.upper()
    alt = alt.upper()
    # Right-trim while both keep at least one base.
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    # Left-trim while both keep at least one base, moving the position.
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt = ref[1:], alt[1:]
        pos += 1
    return Allele(canonical_chrom(chrom), pos, ref, alt)


def variant_id(chrom: str, pos: int, ref: str, alt: str, assembly: str = ASSEMBLY) -> str:
    """The graph key of a normalised variant: ``GRCh38:chr7:140753336:A:T``.

    A key that would be longer than :data:`MAX_ID_CHARS` becomes
    ``GRCh38:chr13:32315000:sha256-<32 hex of "REF>ALT">``: still indexable, and the same for every
    writer and reader of that allele; REF and ALT stay on the node in full.
    """
    ref, alt = ref.upper(), alt.upper()
    head = f"{assembly}:{canonical_chrom(chrom)}:{pos}"
    full = f"{head}:{ref}:{alt}"
    if len(full) <= MAX_ID_CHARS:
        return full
    digest = hashlib.sha256(f"{ref}>{alt}".encode()).hexdigest()[:32]
    return f"{head}:{DIGEST_PREFIX}{digest}"


def is_digest_id(key: str) -> bool:
    """True for a key :func:`variant_id` wrote with a digest in place of REF and ALT."""
    return key.rpartition(":")[2].startswith(DIGEST_PREFIX)


def parse_variant_id(text: str) -> Allele | None:
    """Parse ``GRCh38:chr7:140753336:A:T``, ``chr7:140753336:A:T`` or ``7-140753336-A-T``.

    The allele comes back normalised, so ``parse_variant_id(a.id) == a`` for every normalised
    allele ``a`` whose key holds its bases; None for other text (and for digest keys).
    """
    t = text.strip()
    if is_digest_id(t):
        return None
    if t.startswith(f"{ASSEMBLY}:"):
        t = t[len(ASSEMBLY) + 1 :]
    parts = t.replace("-", ":").split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        return None
    chrom, pos, ref, alt = parts
    if not chrom or not ref.isalpha() or not (alt.isalpha() or alt == NO_ALT):
        return None
    return normalize(chrom, int(pos), ref, alt)


def parse_rsid(text: str) -> str | None:
    """A dbSNP reference SNP id in the graph's spelling: ``RS113488022`` / ``rs113488022`` ->
    ``rs113488022``; None for anything else."""
    found = _RSID.match(text.strip())
    return f"rs{found.group(1)}" if found else None


def civic_variant_id(vid: int) -> str:
    """The key of a CIViC variant that is not one GRCh38 allele: ``civic:variant:12``."""
    return f"{CIVIC_VARIANT_PREFIX}{vid}"

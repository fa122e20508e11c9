"""Variant normalisation shared by loaders and the matcher.

Every variant in the graph and every patient allele is keyed the same way, so that
matching is a plain key lookup: ``GRCh38:chr7:140753336:A:T``.

Normalisation follows the parsimony rule of Tan et al. 2015 (Bioinformatics 31:2202,
"Unified representation of genetic variants"), as used by ``vt normalize`` and
``bcftools norm``: trim bases shared at the right end, then at the left end, keeping one
anchor base for insertions and deletions (VCF 4.2 section 1.6.1: REF and ALT of an indel
start with the base before the event). Left-alignment through repeats needs the reference
sequence, which the service does not ship, so it is not done here.
"""

from __future__ import annotations

from typing import NamedTuple

ASSEMBLY = "GRCh38"

_CANONICAL_CHROMS = {str(n) for n in range(1, 23)} | {"X", "Y", "M"}


class Allele(NamedTuple):
    """A normalised allele: chromosome with the ``chr`` prefix, 1-based position, REF, ALT."""

    chrom: str
    pos: int
    ref: str
    alt: str

    @property
    def id(self) -> str:
        return variant_id(self.chrom, self.pos, self.ref, self.alt)


def canonical_chrom(chrom: str) -> str:
    """``7``, ``chr7``, ``CHR7`` -> ``chr7``; ``MT``/``chrMT`` -> ``chrM``."""
    c = chrom.strip()
    if c[:3].lower() == "chr":
        c = c[3:]
    c = c.upper()
    if c == "MT":
        c = "M"
    return f"chr{c}"


def is_primary_chrom(chrom: str) -> bool:
    """True for chr1-22, X, Y, M (alt contigs and decoys are not matched)."""
    return canonical_chrom(chrom)[3:] in _CANONICAL_CHROMS


def normalize(chrom: str, pos: int, ref: str, alt: str) -> Allele:
    """Return the parsimonious representation of one REF/ALT pair.

    ``normalize("7", 140753336, "A", "T")`` -> ``Allele("chr7", 140753336, "A", "T")``;
    ``normalize("chr1", 100, "CAT", "CGT")`` -> ``Allele("chr1", 101, "A", "G")``;
    ``normalize("chr1", 100, "CTT", "CT")`` -> ``Allele("chr1", 100, "CT", "C")``.
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
    """The graph key of a normalised variant: ``GRCh38:chr7:140753336:A:T``."""
    return f"{assembly}:{canonical_chrom(chrom)}:{pos}:{ref.upper()}:{alt.upper()}"


def parse_variant_id(text: str) -> Allele | None:
    """Parse ``GRCh38:chr7:140753336:A:T``, ``chr7:140753336:A:T`` or ``7-140753336-A-T``."""
    t = text.strip()
    if t.startswith(f"{ASSEMBLY}:"):
        t = t[len(ASSEMBLY) + 1 :]
    parts = t.replace("-", ":").split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        return None
    chrom, pos, ref, alt = parts
    if not ref.isalpha() or not alt.isalpha():
        return None
    return normalize(chrom, int(pos), ref, alt)

"""PharmCAT named-allele definitions: one ``GeneDefinition`` per ``<GENE>_translation.json``.

The files are PharmCAT's (``definition/alleles/*_translation.json``, format version 2), built
from the CPIC allele definition tables. Each file lists the gene's positions (``variants``,
GRCh38, VCF-style 1-based ``position``) and its named alleles; ``namedAlleles[j].alleles`` is
index-aligned with ``variants`` and holds the VCF-representation allele at each position, or
``null`` where the position is not part of the allele. Single-letter IUPAC codes (``R``, ``Y``,
``S``...) mean "any of these bases" (PharmCAT ``Iupac``). The first named allele is the reference
allele (``reference: true``); PharmCAT fills a non-reference allele's ``null`` cells with the
reference allele's base before matching (NamedAlleleMatcher 101/201), but scores an allele by
its non-null cells only.

``exemptions.json`` changes the matcher per gene (PharmCAT ``DefinitionExemption``):
``ignoredPositions`` are not matched, ``ignoredAlleles`` are never called, ``extraPositions``
are reported but belong to no allele (CYP2C9 rs12777823), ``allHits`` asks for every
matching diplotype instead of the top-scoring ones.

Pure data: :mod:`kg.loaders.pharmcat_files` reads the files, :mod:`kg.pharmcat.stored` stores
these objects in the graph and reads them back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: IUPAC nucleotide codes as PharmCAT's ``Iupac`` enum expands them.
IUPAC: Mapping[str, frozenset[str]] = {
    "A": frozenset("A"),
    "C": frozenset("C"),
    "G": frozenset("G"),
    "T": frozenset("T"),
    "U": frozenset("T"),
    "R": frozenset("AG"),
    "Y": frozenset("CT"),
    "S": frozenset("GC"),
    "W": frozenset("AT"),
    "K": frozenset("GT"),
    "M": frozenset("AC"),
    "B": frozenset("CGT"),
    "D": frozenset("AGT"),
    "H": frozenset("ACT"),
    "V": frozenset("ACG"),
    "N": frozenset("ACGT"),
}

_COMBINATION_NAME = re.compile(r"^\[.*\]$")


def is_wobble(allele: str) -> bool:
    """True for a single-letter IUPAC ambiguity code (anything but A, C, G, T)."""
    return len(allele) == 1 and allele.upper() in IUPAC and allele.upper() not in "ACGT"


def position_label(chrom: str, position: int, rsid: str | None) -> str:
    """``chr10:94761900 rs12248560`` (rsid left off when the position has none): how reports and
    ``missingPositions`` name a definition position."""
    return f"{chrom}:{position} {rsid}" if rsid else f"{chrom}:{position}"


@dataclass(frozen=True)
class VariantLocus:
    """One definition position (PharmCAT ``VariantLocus``), alleles in VCF representation."""

    chrom: str
    position: int  # GRCh38, VCF-style (for indels: the anchor base before the event)
    ref: str
    alts: tuple[str, ...]
    rsid: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        """The lookup key the VCF reader uses: ``("chr10", 94761900)``."""
        return (self.chrom, self.position)

    @property
    def label(self) -> str:
        return position_label(self.chrom, self.position, self.rsid)

    @property
    def is_snv(self) -> bool:
        return len(self.ref) == 1 and all(len(a) == 1 for a in self.alts)


@dataclass(frozen=True)
class NamedAllele:
    """A star allele / named allele, its defining alleles index-aligned with the gene's loci."""

    name: str
    id: str
    alleles: tuple[str | None, ...]  # VCF representation (CPIC notation translated), IUPAC codes kept
    reference: bool = False
    num_combinations: int = 0
    num_partials: int = 0

    @property
    def defined_indexes(self) -> tuple[int, ...]:
        """Indexes of the loci this allele is defined at (non-null cells)."""
        return tuple(i for i, a in enumerate(self.alleles) if a is not None)

    @property
    def is_combination(self) -> bool:
        return self.num_combinations > 1 or bool(_COMBINATION_NAME.match(self.name))

    @property
    def is_partial(self) -> bool:
        return self.num_partials > 0


@dataclass(frozen=True)
class Exemption:
    """Per-gene calling exceptions from ``exemptions.json``."""

    gene: str
    ignored_positions: tuple[VariantLocus, ...] = ()
    extra_positions: tuple[VariantLocus, ...] = ()
    ignored_alleles: frozenset[str] = frozenset()
    all_hits: bool | None = None

    def ignores_allele(self, name: str) -> bool:
        return name.lower() in {a.lower() for a in self.ignored_alleles}


@dataclass(frozen=True)
class GeneDefinition:
    """All named-allele definitions of one gene, plus its exemption (if any)."""

    gene: str
    chromosome: str
    genome_build: str
    version: str
    source: str
    loci: tuple[VariantLocus, ...]
    named_alleles: tuple[NamedAllele, ...]
    exemption: Exemption | None = None

    @property
    def reference_allele(self) -> NamedAllele:
        for allele in self.named_alleles:
            if allele.reference:
                return allele
        return self.named_alleles[0]

    @property
    def ignored_position_keys(self) -> frozenset[tuple[str, int]]:
        if self.exemption is None:
            return frozenset()
        return frozenset(v.key for v in self.exemption.ignored_positions)

    @property
    def callable_alleles(self) -> tuple[NamedAllele, ...]:
        """Named alleles the matcher may call (exemption ``ignoredAlleles`` removed)."""
        if self.exemption is None or not self.exemption.ignored_alleles:
            return self.named_alleles
        return tuple(a for a in self.named_alleles if not self.exemption.ignores_allele(a.name))

    def allele(self, name: str) -> NamedAllele | None:
        for a in self.named_alleles:
            if a.name == name:
                return a
        return None


_HGVS_NAME = re.compile(r"^(?:.*:)?[cgnmopr]\.(\d+)")
_TOP_NAMES = frozenset({"any", "all", "reference"})
_BOTTOM_NAMES = frozenset({"other", "unknown"})


def _natural(name: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(tok), "") if tok.isdigit() else (1, 0, tok.lower()) for tok in re.split(r"(\d+)", name) if tok)


def allele_sort_key(name: str, reference: str | None = None) -> tuple[Any, ...]:
    """Order of allele names inside a diplotype, as PharmCAT's ``HaplotypeNameComparator``.

    The reference allele (and ``Reference``) first, combinations (``[*2 + *3]``) last, HGVS-named
    alleles (DPYD ``c.1905+1G>A (*2A)``) by their c. position, star alleles by number
    (``*2`` < ``*3A`` < ``*17``).
    """
    low = name.lower()
    if name == reference or low in _TOP_NAMES:
        return (0,)
    if low in _BOTTOM_NAMES:
        return (4, low)
    if _COMBINATION_NAME.match(name):
        parts = [p.strip() for p in name[1:-1].split(" + ")]
        return (3, len(parts), tuple(allele_sort_key(p, reference) for p in parts))
    hgvs = _HGVS_NAME.match(name)
    if hgvs:
        return (1, int(hgvs.group(1)), _natural(name))
    return (2, _natural(name))

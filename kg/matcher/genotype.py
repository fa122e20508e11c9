"""A sample's genotype at one position, as the VCF reader hands it to the callers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Genotype:
    """One sample's call at one VCF record, after splitting and normalisation.

    ``alleles`` holds the called allele sequences (REF or one ALT, in the VCF record's own
    representation), ``None`` for a missing allele (``./.`` or ``0/.``). A position absent
    from the VCF has no Genotype at all: it is a no-call, never reference.
    """

    chrom: str  # canonical, with the chr prefix
    pos: int  # 1-based, as in the VCF record
    ref: str  # REF of the VCF record
    alleles: tuple[str | None, ...]  # e.g. ("A", "T"); ("A", None) for a half call
    phased: bool = False
    depth: int | None = None

    @property
    def is_no_call(self) -> bool:
        return all(a is None for a in self.alleles)


def keep_first(found: dict[tuple[str, int], Genotype], g: Genotype, warnings: list[str]) -> None:
    """Keep ``g`` under its (chrom, POS) unless a record there came first: PharmCAT reads one record
    per definition position; a second one that differs is said, not used."""
    key = (g.chrom, g.pos)
    other = found.get(key)
    if other is None:
        found[key] = g
    elif other != g:
        warnings.append(f"{g.chrom}:{g.pos}: two records at one definition position; the first is used")

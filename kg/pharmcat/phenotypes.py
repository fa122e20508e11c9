"""A gene's diplotype -> phenotype table from one guideline source (PharmCAT ``GenePhenotype``).

PharmCAT ships one table per gene and source (``phenotype/cpic/<GENE>.json``,
``phenotype/dpwg/<GENE>.json``). A diplotype is found by its ``diplotypekey`` (allele -> copy
count), so ``*2/*1`` and ``*1/*2`` are the same row. Each row gives the gene result
(``generesult``, e.g. ``Poor Metabolizer``), the activity score for activity-score genes (CPIC
CYP2C9, CYP2D6, DPYD) and the ``lookupkey`` that guideline recommendations use
(``recommendations[].lookupKey[gene]`` in ``guidelines/*.json``). Two tables of the v2.10.0 data
are older snapshots (``phenotype/cpic_older_snapshot``: RYR1, G6PD): ``older_snapshot`` says so.

Pure data: :mod:`kg.loaders.pharmcat_files` reads the files; the lookups (DPYD's two lowest
activity values, outside calls) are the matcher's (:mod:`kg.matcher.pgx.phenotype`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

SOURCES = ("CPIC", "DPWG")
_NA = frozenset({"", "n/a", "na", "none"})


class DiplotypeRecord(NamedTuple):
    """One row of a gene's diplotype table (a named tuple: the big tables have ~18,000 rows, and
    the matcher builds them in every fresh process)."""

    diplotype: str
    alleles: Mapping[str, int]  # diplotypekey: allele -> copies (1 for haploid rows)
    phenotype: str | None
    lookup_key: str | None
    activity_score: str | None


@dataclass(frozen=True)
class GenePhenotypes:
    """A gene's translation table from one source (``CPIC`` or ``DPWG``)."""

    gene: str
    source: str
    version: str
    functions: Mapping[str, str]  # allele -> function ("No function")
    activity_values: Mapping[str, str]  # allele -> activity value ("0.5"), activity genes only
    diplotypes: Mapping[frozenset[tuple[str, int]], DiplotypeRecord]
    older_snapshot: bool = False

    @property
    def uses_activity_score(self) -> bool:
        """True when lookups go by activity score (PharmCAT ``isMatchedByActivityScore``)."""
        return any(v and v.lower() not in _NA for v in self.activity_values.values())

    @cached_property
    def allele_names(self) -> frozenset[str]:
        """Every allele the table names (computed once per table: a cohort translates thousands of calls)."""
        names = set(self.functions) | set(self.activity_values)
        for key in self.diplotypes:
            names.update(a for a, _ in key)
        return frozenset(names)

    def activity(self, allele: str) -> float | None:
        value = self.activity_values.get(allele)
        if value is None or value.strip().lower() in _NA:
            return None
        try:
            return float(value)
        except ValueError:
            return None


def diplotype_table_key(alleles: Mapping[str, int]) -> frozenset[tuple[str, int]]:
    """The key a table row is found by: its ``diplotypekey`` as a set of (allele, copies)."""
    return frozenset(alleles.items())

"""Diplotype -> phenotype, activity score and guideline lookup key, from PharmCAT's tables.

The tables (:class:`kg.pharmcat.phenotypes.GenePhenotypes`, one per gene and source; that module
says what a row holds) come from the graph (kg/matcher/knowledge.py). A diplotype is found by
its ``diplotypekey`` (allele -> copy count), so ``*2/*1`` and ``*1/*2`` are the same row. Two
tables of the v2.10.0 data are older snapshots (RYR1, G6PD), used for CPIC when the current CPIC
tables lack the gene; results from them say so in ``notes``.

DPYD follows the CPIC guideline (PMID 29152729) as PharmCAT implements it (``DpydCaller``):
the gene activity score is the sum of the two lowest variant activity values. A haplotype list
(unphased call) or a combination on one gene copy (``[a + b]``) is reduced to the lowest-activity
haplotypes (CPIC activity values; unknown activity sorts lowest; ties prefer an allele DPWG
knows). For DPWG, CPIC normal-function alleles other than the reference are read as
``Reference``, because the DPWG table only lists the decreased/no-function variants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kg.pharmcat.alleles import allele_sort_key
from kg.pharmcat.phenotypes import SOURCES, GenePhenotypes

if TYPE_CHECKING:
    from kg.matcher.pgx.caller import GeneCall
    from kg.matcher.pgx.outside_calls import OutsideCall

DPYD = "DPYD"


@dataclass(frozen=True)
class PhenotypeResult:
    """What a diplotype means, and the key its guideline recommendations are filed under."""

    gene: str
    source: str
    diplotype: str  # as found in the table (may differ from the call, see ``inferred``)
    phenotype: str | None
    activity_score: str | None
    lookup_key: str | None
    alleles: tuple[str, ...] = ()  # the haplotypes looked up (DPYD: the lowest-function ones used)
    allele_functions: tuple[str | None, ...] = ()
    allele_activity_values: tuple[str | None, ...] = ()
    inferred: bool = False  # DPYD: reduced to the two lowest activity values, or DPWG mapping
    called_as: str | None = None  # the call it was derived from, when ``inferred``
    table_version: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


class PhenotypeTables:
    """All CPIC and DPWG gene translation tables of one PharmCAT data release."""

    def __init__(self, tables: Iterable[GenePhenotypes]) -> None:
        self._tables: dict[tuple[str, str], GenePhenotypes] = {}
        for table in tables:
            key = (table.source, table.gene)
            if key in self._tables and table.older_snapshot:
                continue  # the current table wins over an older snapshot
            self._tables[key] = table

    # -- tables ------------------------------------------------------------------------------

    def genes(self, source: str = "CPIC") -> list[str]:
        return sorted(g for s, g in self._tables if s == source.upper())

    def table(self, gene: str, source: str = "CPIC") -> GenePhenotypes | None:
        return self._tables.get((source.upper(), gene))

    def allele_function(self, gene: str, allele: str, source: str = "CPIC") -> str | None:
        table = self.table(gene, source)
        return table.functions.get(allele) if table else None

    def activity_value(self, gene: str, allele: str, source: str = "CPIC") -> str | None:
        table = self.table(gene, source)
        return table.activity_values.get(allele) if table else None

    # -- lookups -----------------------------------------------------------------------------

    def phenotype_for(
        self,
        gene: str,
        diplotype: str | Sequence[str],
        source: str = "CPIC",
    ) -> PhenotypeResult | None:
        """Phenotype of a diplotype (``"*1/*2"``, haploid ``"B (reference)"``).

        ``diplotype`` may also be a sequence of haplotype names: two for a diplotype, or for
        DPYD any number (an unphased PharmCAT haplotype list), reduced to the two lowest
        activity values. Returns None when the gene, source or diplotype is not in the tables.
        """
        table = self.table(gene, source)
        if table is None or not table.diplotypes:
            return None
        if isinstance(diplotype, str):
            sides = split_diplotype(diplotype, gene, table.allele_names)
            called_as = diplotype
            is_list = False
        else:
            sides = [strip_gene(str(h), gene) for h in diplotype]
            called_as = " ; ".join(sides)
            is_list = len(sides) > 2
        if not sides:
            return None
        notes: list[str] = []
        inferred = False
        if gene == DPYD:
            sides, inferred, notes = self._dpyd_reduce(sides, is_list, source.upper())
        elif any(s.startswith("[") for s in sides):
            return None  # combination calls have no row in the tables
        key = frozenset(_count(sides).items())
        record = table.diplotypes.get(key)
        if record is None:
            return None
        if table.older_snapshot:
            notes.append(f"{gene} {table.source} table is an older snapshot ({table.version})")
        names = sorted(sides, key=allele_sort_key)
        return PhenotypeResult(
            gene=gene,
            source=table.source,
            diplotype=record.diplotype,
            phenotype=record.phenotype,
            activity_score=record.activity_score,
            lookup_key=record.lookup_key,
            alleles=tuple(names),
            allele_functions=tuple(table.functions.get(n) for n in names),
            allele_activity_values=tuple(table.activity_values.get(n) for n in names),
            inferred=inferred,
            called_as=called_as if inferred else None,
            table_version=table.version,
            notes=tuple(notes),
        )

    def phenotype_for_call(
        self,
        call: GeneCall,
        source: str = "CPIC",
        include_alternatives: bool = False,
    ) -> list[PhenotypeResult]:
        """Phenotypes for a caller result: one per top diplotype (ties give several).

        A DPYD haplotype list goes through the two-lowest-activity rule. With
        ``include_alternatives`` every viable candidate is translated too, so a phase
        ambiguity (TPMT ``*1/*3A`` vs ``*3B/*3C``) shows its clinical spread.
        """
        if call.gene == DPYD and call.haplotypes and not call.diplotypes:
            result = self.phenotype_for(call.gene, call.haplotypes, source)
            return [result] if result else []
        names = list(call.diplotypes)
        if include_alternatives:
            names += [c.name for c in call.candidates if c.name not in names]
        out = []
        for name in names:
            result = self.phenotype_for(call.gene, name, source)
            if result is not None:
                out.append(result)
        return out

    def phenotype_for_outside_call(self, call: OutsideCall, source: str = "CPIC") -> PhenotypeResult | None:
        """Resolve an outside call as PharmCAT does (Outside Call Format).

        Activity-score genes: a given activity score wins, else the phenotype, else the
        diplotype. Other genes: a given phenotype wins over the diplotype. Disagreements
        between the given fields are reported in ``notes``.
        """
        table = self.table(call.gene, source)
        if table is None:
            return None
        from_dip = self.phenotype_for(call.gene, call.diplotype, source) if call.diplotype else None
        notes: list[str] = [] if from_dip is None else list(from_dip.notes)
        if call.diplotype and from_dip is None:
            notes.append(f"diplotype {call.diplotype} is not in the {table.source} {call.gene} table")
        given_score = _score_text(call.activity_score) if call.activity_score else None
        if table.uses_activity_score and given_score:
            row = next((r for r in table.diplotypes.values() if _score_text(r.activity_score) == given_score), None)
            if from_dip and _score_text(from_dip.activity_score) != given_score:
                notes.append(
                    f"activity score {given_score} given, {from_dip.activity_score} expected for {call.diplotype}"
                )
            return PhenotypeResult(
                gene=call.gene,
                source=table.source,
                diplotype=call.diplotype or "",
                phenotype=row.phenotype if row else call.phenotype,
                activity_score=given_score,
                lookup_key=row.lookup_key if row else given_score,
                table_version=table.version,
                notes=tuple(notes),
            )
        if call.phenotype:
            row = next(
                (r for r in table.diplotypes.values() if r.phenotype and r.phenotype.lower() == call.phenotype.lower()),
                None,
            )
            if from_dip and from_dip.phenotype and from_dip.phenotype.lower() != call.phenotype.lower():
                notes.append(f"phenotype {call.phenotype} given, {from_dip.phenotype} expected for {call.diplotype}")
            if row is None:
                notes.append(f"phenotype {call.phenotype} is not a {table.source} {call.gene} phenotype")
            return PhenotypeResult(
                gene=call.gene,
                source=table.source,
                diplotype=call.diplotype or "",
                phenotype=row.phenotype if row else call.phenotype,
                activity_score=(from_dip.activity_score if from_dip else None),
                lookup_key=row.lookup_key if row else None,
                table_version=table.version,
                notes=tuple(notes),
            )
        if from_dip is None:
            return None
        return from_dip

    # -- DPYD ---------------------------------------------------------------------------------

    def _dpyd_reduce(self, sides: list[str], is_list: bool, source: str) -> tuple[list[str], bool, list[str]]:
        cpic = self.table(DPYD, "CPIC")
        dpwg = self.table(DPYD, "DPWG")
        reference = "Reference"
        inferred = False
        notes: list[str] = []

        def prepare(names: list[str]) -> list[str]:
            nonlocal inferred
            out = []
            for n in names:
                function = (cpic.functions.get(n) if cpic else None) or ""
                if source == "DPWG" and n != reference and function.lower() == "normal function":
                    out.append(reference)
                    inferred = True
                else:
                    out.append(n)
            return out

        def lowest(names: list[str]) -> list[str]:
            def key(n: str) -> tuple[Any, ...]:
                value = cpic.activity(n) if cpic else None
                in_dpwg = 0 if dpwg and n in dpwg.functions else 1
                return (value is not None, value or 0.0, in_dpwg, allele_sort_key(n))

            return sorted(names, key=key)

        if is_list:
            ordered = lowest(prepare(sides))
            chosen = ordered[:2]
            inferred = True
            notes.append(
                f"DPYD: {len(sides)} haplotypes; phenotype from the two lowest activity values ({', '.join(chosen)})"
            )
            return chosen, inferred, notes
        reduced = []
        for side in sides:
            parts = split_combination(side)
            if len(parts) > 1:
                inferred = True
            reduced.append(lowest(prepare(parts))[0])
        if inferred and any(len(split_combination(s)) > 1 for s in sides):
            notes.append("DPYD: each gene copy reduced to its lowest-activity variant")
        return reduced, inferred, notes


# --------------------------------------------------------------------------------------------
# Diplotype text


def strip_gene(allele: str, gene: str) -> str:
    """``CYP2D6*4`` / ``CYP2D6 *4`` -> ``*4`` (PharmCAT outside calls allow the gene prefix)."""
    text = allele.strip()
    if text.startswith(gene) and len(text) > len(gene) and text[len(gene)] in "* ":
        text = text[len(gene) :].strip()
    return text


def split_combination(name: str) -> list[str]:
    """``[*6 + *14]`` -> ``["*6", "*14"]``; a plain name -> ``[name]``."""
    text = name.strip()
    if text.startswith("[") and text.endswith("]"):
        return [p.strip() for p in text[1:-1].split(" + ") if p.strip()]
    return [text]


def split_diplotype(text: str, gene: str, known: Iterable[str] = ()) -> list[str]:
    """Split ``"*1/*2"`` into its alleles, coping with names that contain ``/`` (G6PD
    ``Telti/Kobe``) by preferring the split whose parts are known allele names."""
    raw = text.strip()
    if not raw:
        return []
    known_set = set(known)
    if strip_gene(raw, gene) in known_set:
        return [strip_gene(raw, gene)]
    cuts = [i for i, ch in enumerate(raw) if ch == "/"]
    if not cuts:
        return [strip_gene(raw, gene)]
    for cut in cuts:
        left, right = strip_gene(raw[:cut], gene), strip_gene(raw[cut + 1 :], gene)
        if left in known_set and right in known_set:
            return [left, right]
    return [strip_gene(p, gene) for p in raw.split("/")]


def _count(names: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in names:
        out[n] = out.get(n, 0) + 1
    return out


def _score_text(value: str | None) -> str | None:
    """``"1"`` -> ``"1.0"`` so activity scores compare as CPIC writes them."""
    if value is None:
        return None
    text = value.strip()
    try:
        return f"{float(text):.1f}" if "." not in text or len(text.split(".")[1]) <= 1 else text
    except ValueError:
        return text


__all__ = [
    "SOURCES",
    "PhenotypeResult",
    "PhenotypeTables",
    "split_combination",
    "split_diplotype",
    "strip_gene",
]

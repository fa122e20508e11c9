"""Diplotype -> phenotype, activity score and guideline lookup key, from PharmCAT's tables.

PharmCAT ships one translation table per gene and source (``phenotype/cpic/<GENE>.json``,
``phenotype/dpwg/<GENE>.json``; PharmCAT ``GenePhenotype``). A diplotype is found by its
``diplotypekey`` (allele -> copy count), so ``*2/*1`` and ``*1/*2`` are the same row. Each row
gives the gene result (``generesult``, e.g. ``Poor Metabolizer``), the activity score for
activity-score genes (CPIC CYP2C9, CYP2D6, DPYD) and the ``lookupkey`` that guideline
recommendations use (``recommendations[].lookupKey[gene]`` in ``guidelines/*.json``).

Two tables here are older snapshots (``phenotype/cpic_older_snapshot``: RYR1, G6PD), used for
CPIC when ``phenotype/cpic`` lacks the gene; results from them say so in ``notes``.

DPYD follows the CPIC guideline (PMID 29152729) as PharmCAT implements it (``DpydCaller``):
the gene activity score is the sum of the two lowest variant activity values. A haplotype list
(unphased call) or a combination on one gene copy (``[a + b]``) is reduced to the lowest-activity
haplotypes (CPIC activity values; unknown activity sorts lowest; ties prefer an allele DPWG
knows). For DPWG, CPIC normal-function alleles other than the reference are read as
``Reference``, because the DPWG table only lists the decreased/no-function variants.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from kg.matcher.pgx.definitions import allele_sort_key

if TYPE_CHECKING:
    from kg.matcher.pgx.caller import GeneCall
    from kg.matcher.pgx.outside_calls import OutsideCall

SOURCES = ("CPIC", "DPWG")
DPYD = "DPYD"
_NA = frozenset({"", "n/a", "na", "none"})


@dataclass(frozen=True)
class DiplotypeRecord:
    """One row of a gene's diplotype table."""

    diplotype: str
    alleles: Mapping[str, int]  # diplotypekey: allele -> copies (1 for haploid rows)
    phenotype: str | None
    lookup_key: str | None
    activity_score: str | None
    description: str | None = None


@dataclass(frozen=True)
class GenePhenotypes:
    """A gene's translation table from one source."""

    gene: str
    source: str
    version: str
    functions: Mapping[str, str]  # allele -> function ("No function")
    activity_values: Mapping[str, str]  # allele -> activity value ("0.5"), activity genes only
    diplotypes: Mapping[frozenset[tuple[str, int]], DiplotypeRecord]
    path: str = ""
    older_snapshot: bool = False

    @property
    def uses_activity_score(self) -> bool:
        """True when lookups go by activity score (PharmCAT ``isMatchedByActivityScore``)."""
        return any(v and v.lower() not in _NA for v in self.activity_values.values())

    @property
    def allele_names(self) -> frozenset[str]:
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


@dataclass(frozen=True)
class PhenotypeResult:
    """What a diplotype means, and the key its guideline recommendations are filed under."""

    gene: str
    source: str
    diplotype: str  # as found in the table (may differ from the call, see ``inferred``)
    phenotype: str | None
    activity_score: str | None
    lookup_key: str | None
    allele_functions: tuple[str | None, ...] = ()
    allele_activity_values: tuple[str | None, ...] = ()
    inferred: bool = False  # DPYD: reduced to the two lowest activity values, or DPWG mapping
    called_as: str | None = None  # the call it was derived from, when ``inferred``
    table_version: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _read_json(path: Path) -> Any:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _none_if_blank(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_phenotype_file(path: Path, source: str, older_snapshot: bool = False) -> GenePhenotypes:
    """Read one PharmCAT ``phenotype/<source>/<GENE>.json``."""
    raw = _read_json(path)
    records: dict[frozenset[tuple[str, int]], DiplotypeRecord] = {}
    for row in raw.get("diplotypes") or ():
        alleles = {str(k): int(v) for k, v in (row.get("diplotypekey") or {}).items()}
        records[frozenset(alleles.items())] = DiplotypeRecord(
            diplotype=str(row.get("diplotype")),
            alleles=alleles,
            phenotype=_none_if_blank(row.get("generesult") or row.get("phenotype")),
            lookup_key=_none_if_blank(row.get("lookupkey")),
            activity_score=_none_if_blank(row.get("activityScore")),
            description=_none_if_blank(row.get("description")),
        )
    # ``namedAlleles[].functionValue`` is the allele function; ``haplotypes`` holds the same for
    # most genes but the activity value for activity-score genes, so it is only a fallback
    # (older snapshots have no ``namedAlleles``).
    functions = {str(na["name"]): str(na["functionValue"])
                 for na in raw.get("namedAlleles") or () if na.get("functionValue")}
    if not functions:
        functions = {str(k): str(v) for k, v in (raw.get("haplotypes") or {}).items()}
    return GenePhenotypes(
        gene=str(raw["gene"]),
        source=source,
        version=str(raw.get("version") or ""),
        functions=functions,
        activity_values={str(k): str(v) for k, v in (raw.get("activityValues") or {}).items() if v is not None},
        diplotypes=records,
        path=str(path),
        older_snapshot=older_snapshot,
    )


class PhenotypeTables:
    """All CPIC and DPWG gene translation tables of one PharmCAT data release."""

    def __init__(self, tables: Iterable[GenePhenotypes]) -> None:
        self._tables: dict[tuple[str, str], GenePhenotypes] = {}
        for table in tables:
            key = (table.source, table.gene)
            if key in self._tables and table.older_snapshot:
                continue  # the current table wins over an older snapshot
            self._tables[key] = table

    @classmethod
    def from_dir(cls, pharmcat_dir: Path) -> PhenotypeTables:
        """Load ``<pharmcat_dir>/phenotype/{cpic,dpwg,cpic_older_snapshot}`` (cached per dir)."""
        return _load_cached(Path(pharmcat_dir).resolve())

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
        self, gene: str, diplotype: str | Sequence[str], source: str = "CPIC",
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
            allele_functions=tuple(table.functions.get(n) for n in names),
            allele_activity_values=tuple(table.activity_values.get(n) for n in names),
            inferred=inferred,
            called_as=called_as if inferred else None,
            table_version=table.version,
            notes=tuple(notes),
        )

    def phenotype_for_call(
        self, call: GeneCall, source: str = "CPIC", include_alternatives: bool = False,
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
                notes.append(f"activity score {given_score} given, {from_dip.activity_score} expected for {call.diplotype}")
            return PhenotypeResult(
                gene=call.gene, source=table.source, diplotype=call.diplotype or "",
                phenotype=row.phenotype if row else call.phenotype, activity_score=given_score,
                lookup_key=row.lookup_key if row else given_score,
                table_version=table.version, notes=tuple(notes),
            )
        if call.phenotype:
            row = next((r for r in table.diplotypes.values()
                        if r.phenotype and r.phenotype.lower() == call.phenotype.lower()), None)
            if from_dip and from_dip.phenotype and from_dip.phenotype.lower() != call.phenotype.lower():
                notes.append(f"phenotype {call.phenotype} given, {from_dip.phenotype} expected for {call.diplotype}")
            if row is None:
                notes.append(f"phenotype {call.phenotype} is not a {table.source} {call.gene} phenotype")
            return PhenotypeResult(
                gene=call.gene, source=table.source, diplotype=call.diplotype or "",
                phenotype=row.phenotype if row else call.phenotype,
                activity_score=(from_dip.activity_score if from_dip else None),
                lookup_key=row.lookup_key if row else None,
                table_version=table.version, notes=tuple(notes),
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
                f"DPYD: {len(sides)} haplotypes; phenotype from the two lowest activity values "
                f"({', '.join(chosen)})"
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


@lru_cache(maxsize=4)
def _load_cached(pharmcat_dir: Path) -> PhenotypeTables:
    base = pharmcat_dir / "phenotype" if (pharmcat_dir / "phenotype").is_dir() else pharmcat_dir
    tables: list[GenePhenotypes] = []
    for folder, source, older in (("cpic", "CPIC", False), ("dpwg", "DPWG", False),
                                  ("cpic_older_snapshot", "CPIC", True)):
        for path in sorted((base / folder).glob("*.json*")):
            tables.append(read_phenotype_file(path, source, older))
    if not tables:
        raise FileNotFoundError(f"no phenotype tables under {base}")
    return PhenotypeTables(tables)


# --------------------------------------------------------------------------------------------
# Diplotype text


def strip_gene(allele: str, gene: str) -> str:
    """``CYP2D6*4`` / ``CYP2D6 *4`` -> ``*4`` (PharmCAT outside calls allow the gene prefix)."""
    text = allele.strip()
    if text.startswith(gene) and len(text) > len(gene) and text[len(gene)] in "* ":
        text = text[len(gene):].strip()
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
        left, right = strip_gene(raw[:cut], gene), strip_gene(raw[cut + 1:], gene)
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


def phenotype_tables(pharmcat_dir: Path) -> PhenotypeTables:
    """Shortcut for :meth:`PhenotypeTables.from_dir`."""
    return PhenotypeTables.from_dir(pharmcat_dir)


__all__ = [
    "DiplotypeRecord",
    "GenePhenotypes",
    "PhenotypeResult",
    "PhenotypeTables",
    "phenotype_tables",
    "split_combination",
    "split_diplotype",
    "strip_gene",
]


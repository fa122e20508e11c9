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
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from kg.identity.variants import canonical_chrom

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

#: Genes where PharmCAT sets a variant the definitions do not know to reference, so that a
#: toxicity-relevant call is still made (NamedAlleleMatcher 201, "Undocumented Variations").
TREAT_UNDOCUMENTED_AS_REFERENCE = frozenset({"CACNA1S", "DPYD", "G6PD", "NUDT15", "RYR1", "TPMT"})

#: Genes PharmCAT does not call from VCF by default: CYP2D6 needs copy number and hybrid
#: detection (an outside call from e.g. StellarPGx/Cyrius is expected).
OUTSIDE_CALL_GENES = frozenset({"CYP2D6"})

_COMBINATION_NAME = re.compile(r"^\[.*\]$")


def is_wobble(allele: str) -> bool:
    """True for a single-letter IUPAC ambiguity code (anything but A, C, G, T)."""
    return len(allele) == 1 and allele.upper() in IUPAC and allele.upper() not in "ACGT"


@dataclass(frozen=True)
class VariantLocus:
    """One definition position (PharmCAT ``VariantLocus``)."""

    chrom: str
    position: int  # GRCh38, VCF-style (for indels: the anchor base before the event)
    ref: str
    alts: tuple[str, ...]
    rsid: str | None = None
    cpic_position: int | None = None
    hgvs: str | None = None
    cpic_alleles: tuple[str, ...] = ()
    cpic_to_vcf: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        """The lookup key the VCF reader uses: ``("chr10", 94761900)``."""
        return (self.chrom, self.position)

    @property
    def label(self) -> str:
        """``chr10:94761900 rs12248560`` (rsid left off when the position has none)."""
        base = f"{self.chrom}:{self.position}"
        return f"{base} {self.rsid}" if self.rsid else base

    @property
    def is_snv(self) -> bool:
        return len(self.ref) == 1 and all(len(a) == 1 for a in self.alts)

    def vcf_allele(self, allele: str) -> str:
        """Translate a CPIC-notation allele (``TA(8)``, ``delT``) to VCF form when the file maps it."""
        if allele == self.ref or allele in self.alts or is_wobble(allele):
            return allele
        return self.cpic_to_vcf.get(allele, allele)


@dataclass(frozen=True)
class NamedAllele:
    """A star allele / named allele, its defining alleles index-aligned with the gene's loci."""

    name: str
    id: str
    alleles: tuple[str | None, ...]
    cpic_alleles: tuple[str | None, ...]
    reference: bool = False
    num_combinations: int = 0
    num_partials: int = 0
    function: str | None = None  # the translation files carry none; phenotype tables do

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
    path: str | None = None

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

    @property
    def treats_undocumented_as_reference(self) -> bool:
        return self.gene in TREAT_UNDOCUMENTED_AS_REFERENCE

    def allele(self, name: str) -> NamedAllele | None:
        for a in self.named_alleles:
            if a.name == name:
                return a
        return None


_HGVS_NAME = re.compile(r"^(?:.*:)?[cgnmopr]\.(\d+)")
_TOP_NAMES = frozenset({"any", "all", "reference"})
_BOTTOM_NAMES = frozenset({"other", "unknown"})


def _natural(name: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(
        (0, int(tok), "") if tok.isdigit() else (1, 0, tok.lower())
        for tok in re.split(r"(\d+)", name)
        if tok
    )


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


def _read_json(path: Path) -> Any:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _locus(raw: Mapping[str, Any]) -> VariantLocus:
    return VariantLocus(
        chrom=canonical_chrom(str(raw["chromosome"])),
        position=int(raw["position"]),
        ref=str(raw["ref"]).upper(),
        alts=tuple(str(a).upper() for a in raw.get("alts") or ()),
        rsid=raw.get("rsid"),
        cpic_position=raw.get("cpicPosition"),
        hgvs=raw.get("chromosomeHgvsName"),
        cpic_alleles=tuple(raw.get("cpicAlleles") or ()),
        cpic_to_vcf=dict(raw.get("cpicToVcfAlleleMap") or {}),
    )


def _named_allele(raw: Mapping[str, Any], loci: tuple[VariantLocus, ...], path: Path) -> NamedAllele:
    alleles = raw.get("alleles") or []
    if len(alleles) != len(loci):
        raise ValueError(
            f"{path}: named allele {raw.get('name')!r} has {len(alleles)} alleles, "
            f"expected {len(loci)} (one per variant)"
        )
    vcf_alleles = tuple(
        None if a is None else loci[i].vcf_allele(str(a)).upper() for i, a in enumerate(alleles)
    )
    cpic = raw.get("cpicAlleles") or [None] * len(loci)
    return NamedAllele(
        name=str(raw["name"]),
        id=str(raw.get("id") or raw["name"]),
        alleles=vcf_alleles,
        cpic_alleles=tuple(cpic),
        reference=bool(raw.get("reference")),
        num_combinations=int(raw.get("numCombinations") or 0),
        num_partials=int(raw.get("numPartials") or 0),
        function=raw.get("function"),
    )


def read_definition_file(path: Path, exemption: Exemption | None = None) -> GeneDefinition:
    """Read one ``<GENE>_translation.json`` (or ``.json.gz``)."""
    raw = _read_json(path)
    loci = tuple(_locus(v) for v in raw["variants"])
    alleles = tuple(_named_allele(a, loci, path) for a in raw["namedAlleles"])
    if not alleles:
        raise ValueError(f"{path}: no named alleles")
    return GeneDefinition(
        gene=str(raw["gene"]),
        chromosome=canonical_chrom(str(raw["chromosome"])),
        genome_build=str(raw.get("genomeBuild") or ""),
        version=str(raw.get("version") or ""),
        source=str(raw.get("source") or ""),
        loci=loci,
        named_alleles=alleles,
        exemption=exemption,
        path=str(path),
    )


def read_exemptions(path: Path) -> dict[str, Exemption]:
    """Read ``exemptions.json`` into ``{gene: Exemption}``."""
    if not path.exists():
        return {}
    out: dict[str, Exemption] = {}
    for raw in _read_json(path):
        gene = str(raw["gene"])
        out[gene] = Exemption(
            gene=gene,
            ignored_positions=tuple(_locus(v) for v in raw.get("ignoredPositions") or ()),
            extra_positions=tuple(_locus(v) for v in raw.get("extraPositions") or ()),
            ignored_alleles=frozenset(raw.get("ignoredAlleles") or ()),
            all_hits=raw.get("allHits"),
        )
    return out


def _alleles_dir(pharmcat_dir: Path) -> Path:
    for candidate in (pharmcat_dir / "definition" / "alleles", pharmcat_dir / "alleles", pharmcat_dir):
        if any(candidate.glob("*_translation.json*")):
            return candidate
    raise FileNotFoundError(f"no *_translation.json files under {pharmcat_dir}")


@lru_cache(maxsize=8)
def _load_cached(alleles_dir: Path) -> dict[str, GeneDefinition]:
    exemptions = read_exemptions(alleles_dir / "exemptions.json")
    out: dict[str, GeneDefinition] = {}
    for path in sorted(alleles_dir.glob("*_translation.json*")):
        if not (path.name.endswith(".json") or path.name.endswith(".json.gz")):
            continue
        gene = path.name.split("_translation.json")[0]
        definition = read_definition_file(path, exemptions.get(gene))
        out[definition.gene] = definition
    return out


def load_gene_definitions(pharmcat_dir: Path) -> dict[str, GeneDefinition]:
    """Load every gene's definitions from a PharmCAT data dir (cached per directory).

    ``pharmcat_dir`` is the folder holding ``definition/alleles/`` (the alleles folder itself
    is accepted too). The returned dict is shared between callers: treat it as read-only.
    """
    return _load_cached(_alleles_dir(Path(pharmcat_dir).resolve()))

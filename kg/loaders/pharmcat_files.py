"""The one reader of PharmCAT's release files (PharmCAT v2.10.0 layout; ../shared/data/pgx/SOURCES.md).

Only the pharmcat loader (kg/loaders/pharmcat.py) reads these files; it writes what the matcher
needs into the graph with the release (:mod:`kg.pharmcat.stored`), so nothing else opens them.
Every reader is strict: a malformed file is a :class:`SourceFormatError` naming the file, the
JSON location, what was expected and what was found.

- ``definition/alleles/<GENE>_translation.json`` -> :class:`kg.pharmcat.alleles.GeneDefinition`,
  with the gene's ``exemptions.json`` entry attached. Cells are translated to VCF representation
  (``cpicToVcfAlleleMap``: ``TA(7)`` -> the VCF allele) and must then be REF, an ALT or a single
  IUPAC letter.
- ``phenotype/{cpic,dpwg,cpic_older_snapshot}/<GENE>.json`` -> checked JSON, and
  :class:`kg.pharmcat.phenotypes.GenePhenotypes`; a current CPIC table wins over an older snapshot.
- ``guidelines/*.json`` -> checked JSON (PharmGKB guideline annotations).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.identity.variants import canonical_chrom
from kg.loaders.errors import SourceFormatError
from kg.loaders.pgx_files import read_json, require
from kg.pharmcat.alleles import IUPAC, Exemption, GeneDefinition, NamedAllele, VariantLocus, is_wobble
from kg.pharmcat.phenotypes import DiplotypeRecord, GenePhenotypes, diplotype_table_key

_BASES = frozenset("ACGT")


@dataclass(frozen=True)
class PharmcatFiles:
    """The files of one PharmCAT release folder, in load order."""

    root: Path
    definitions: tuple[Path, ...]
    exemptions: Path | None
    phenotypes: tuple[tuple[str, Path, bool], ...]  # (guideline, file, older snapshot)
    guidelines: tuple[Path, ...]
    cpic_drugs: Path | None

    @property
    def all(self) -> tuple[Path, ...]:
        files = [*self.definitions, *([self.exemptions] if self.exemptions else [])]
        files += [p for _, p, _ in self.phenotypes] + list(self.guidelines)
        return tuple(files + ([self.cpic_drugs] if self.cpic_drugs else []))


def _json_files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.name.endswith((".json", ".json.gz")))


def _stem(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".json")


def find_files(path: Path) -> PharmcatFiles:
    """The release's files under ``path`` (the pharmcat folder, or the pgx folder holding it)."""
    root = Path(path)
    if (root / "pharmcat").is_dir() and not (root / "definition").is_dir():
        root = root / "pharmcat"
    alleles = root / "definition" / "alleles"
    definitions = tuple(_json_files(alleles, "*_translation.json*"))
    if not definitions:
        raise SourceFormatError(alleles, None, "PharmCAT <GENE>_translation.json files", "none")
    phenotypes: list[tuple[str, Path, bool]] = []
    seen: set[tuple[str, str]] = set()
    # The current CPIC tables win over the older snapshots kept for genes too large to store.
    for sub, guideline, older in (
        ("cpic", "CPIC", False),
        ("cpic_older_snapshot", "CPIC", True),
        ("dpwg", "DPWG", False),
    ):
        for file in _json_files(root / "phenotype" / sub):
            if (guideline, _stem(file)) not in seen:
                seen.add((guideline, _stem(file)))
                phenotypes.append((guideline, file, older))
    guidelines = tuple(_json_files(root / "guidelines"))
    if not guidelines:
        raise SourceFormatError(root / "guidelines", None, "CPIC_*.json / DPWG_*.json guideline files", "none")
    exemptions = alleles / "exemptions.json"
    cpic_drugs = root.parent / "cpic" / "cpic_drug.tsv"
    return PharmcatFiles(
        root=root,
        definitions=definitions,
        exemptions=exemptions if exemptions.exists() else None,
        phenotypes=tuple(phenotypes),
        guidelines=guidelines,
        cpic_drugs=cpic_drugs if cpic_drugs.exists() else None,
    )


# --- allele definitions --------------------------------------------------------------------------


def read_locus(path: Path, raw: Any, where: str) -> VariantLocus:
    """One ``variants[i]`` (or exemption position) record: GRCh38, VCF-style, bases A/C/G/T."""
    require(path, raw, ("chromosome", "position", "ref", "alts"), where)
    position = raw["position"]
    if isinstance(position, str) and position.isdigit():
        position = int(position)
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        raise SourceFormatError(path, None, f"{where}.position to be a positive integer", repr(position))
    ref = str(raw["ref"]).upper()
    alts = tuple(str(a).upper() for a in raw["alts"] or ())
    for allele in (ref, *alts):
        if not allele or not set(allele) <= _BASES:
            raise SourceFormatError(path, None, f"{where} REF/ALT made of A, C, G, T", allele)
    return VariantLocus(canonical_chrom(str(raw["chromosome"])), position, ref, alts, raw.get("rsid") or None)


def _vcf_cell(cell: Any, locus: VariantLocus, to_vcf: Mapping[str, Any]) -> str:
    """A definition cell in VCF representation: REF, an ALT, an IUPAC code, or CPIC notation
    (``TA(7)``, ``delT``) translated by the position's ``cpicToVcfAlleleMap``."""
    text = str(cell)
    if text.upper() == locus.ref or text.upper() in locus.alts or is_wobble(text):
        return text.upper()
    return str(to_vcf.get(text, text)).upper()


def read_definition(path: Path, exemption: Exemption | None = None) -> GeneDefinition:
    """Parse and check one allele-definition file (PharmCAT format version 2)."""
    raw = read_json(path)
    require(path, raw, ("gene", "chromosome", "variants", "namedAlleles"), "the top level")
    if not isinstance(raw["variants"], list) or not isinstance(raw["namedAlleles"], list):
        raise SourceFormatError(path, None, "variants and namedAlleles to be lists", "")
    loci = tuple(read_locus(path, v, f"variants[{i}]") for i, v in enumerate(raw["variants"]))
    maps = [v.get("cpicToVcfAlleleMap") or {} for v in raw["variants"]]
    alleles = []
    for j, named in enumerate(raw["namedAlleles"]):
        where = f"namedAlleles[{j}]"
        require(path, named, ("name", "alleles"), where)
        cells = named["alleles"]
        if not isinstance(cells, list) or len(cells) != len(loci):
            found = f"{len(cells)} entries" if isinstance(cells, list) else type(cells).__name__
            raise SourceFormatError(path, None, f"{where}.alleles with {len(loci)} entries (one per variant)", found)
        vcf: list[str | None] = []
        for i, cell in enumerate(cells):
            if cell is None:
                vcf.append(None)
                continue
            allele = _vcf_cell(cell, loci[i], maps[i])
            if allele != loci[i].ref and allele not in loci[i].alts and not (len(allele) == 1 and allele in IUPAC):
                raise SourceFormatError(
                    path,
                    None,
                    f"{where}.alleles[{i}] to be REF, an ALT or an IUPAC code at {loci[i].position}",
                    str(cell),
                )
            vcf.append(allele)
        alleles.append(
            NamedAllele(
                name=str(named["name"]),
                id=str(named.get("id") or named["name"]),
                alleles=tuple(vcf),
                reference=bool(named.get("reference")),
                num_combinations=int(named.get("numCombinations") or 0),
                num_partials=int(named.get("numPartials") or 0),
            )
        )
    if not alleles:
        raise SourceFormatError(path, None, "at least one named allele", "none")
    return GeneDefinition(
        gene=str(raw["gene"]),
        chromosome=canonical_chrom(str(raw["chromosome"])),
        genome_build=str(raw.get("genomeBuild") or ""),
        version=str(raw.get("version") or ""),
        source=str(raw.get("source") or ""),
        loci=loci,
        named_alleles=tuple(alleles),
        exemption=exemption,
    )


def read_exemptions(path: Path | None) -> dict[str, Exemption]:
    """``exemptions.json`` as ``{gene: Exemption}`` (none without the file)."""
    if path is None:
        return {}
    raw = read_json(path)
    if not isinstance(raw, list):
        raise SourceFormatError(path, 1, "a JSON list of gene exemptions", type(raw).__name__)
    out: dict[str, Exemption] = {}
    for k, entry in enumerate(raw):
        require(path, entry, ("gene",), f"[{k}]")
        gene = str(entry["gene"])
        out[gene] = Exemption(
            gene=gene,
            ignored_positions=tuple(
                read_locus(path, v, f"[{k}].ignoredPositions[{i}]")
                for i, v in enumerate(entry.get("ignoredPositions") or ())
            ),
            extra_positions=tuple(
                read_locus(path, v, f"[{k}].extraPositions[{i}]")
                for i, v in enumerate(entry.get("extraPositions") or ())
            ),
            ignored_alleles=frozenset(str(a) for a in entry.get("ignoredAlleles") or ()),
            all_hits=entry.get("allHits"),
        )
    return out


def definition_gene(path: Path) -> str:
    """``CYP2C19_translation.json(.gz)`` -> ``CYP2C19``."""
    return path.name.split("_translation.json")[0]


def read_definitions(files: PharmcatFiles) -> dict[str, GeneDefinition]:
    """Every gene's definitions, each with its exemption (PharmCAT ``DefinitionReader``)."""
    exemptions = read_exemptions(files.exemptions)
    out: dict[str, GeneDefinition] = {}
    for path in files.definitions:
        definition = read_definition(path, exemptions.get(definition_gene(path)))
        out[definition.gene] = definition
    return out


# --- phenotype tables ----------------------------------------------------------------------------


def read_phenotype_table(path: Path) -> dict[str, Any]:
    """One ``phenotype/<source>/<GENE>.json``, checked: rows with a text lookup key and a
    diplotype key of copy counts 1 or 2."""
    raw = read_json(path)
    require(path, raw, ("gene", "diplotypes"), "the top level")
    if not isinstance(raw["diplotypes"], list):
        raise SourceFormatError(path, None, "diplotypes to be a list", type(raw["diplotypes"]).__name__)
    for k, row in enumerate(raw["diplotypes"]):
        require(path, row, ("diplotype", "diplotypekey", "generesult", "lookupkey"), f"diplotypes[{k}]")
        if not isinstance(row["lookupkey"], str) or not isinstance(row["diplotypekey"], dict):
            raise SourceFormatError(
                path, None, f"diplotypes[{k}] with a text lookupkey and an object diplotypekey", json.dumps(row)[:80]
            )
        for count in row["diplotypekey"].values():
            if not isinstance(count, (int, float)) or isinstance(count, bool) or count not in (1, 2):
                raise SourceFormatError(path, None, f"diplotypes[{k}].diplotypekey counts of 1 or 2", repr(count))
    for name in ("haplotypes", "activityValues"):
        if not isinstance(raw.get(name) or {}, dict):
            raise SourceFormatError(path, None, f"{name} to be an object", type(raw[name]).__name__)
    return raw


def _none_if_blank(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def gene_phenotypes(raw: Mapping[str, Any], guideline: str, older_snapshot: bool = False) -> GenePhenotypes:
    """A checked table (:func:`read_phenotype_table`) as the caller's :class:`GenePhenotypes`.

    ``namedAlleles[].functionValue`` is the allele function; ``haplotypes`` holds the same for most
    genes but the activity value for activity-score genes, so it is only a fallback (the older
    snapshots have no ``namedAlleles``).
    """
    records: dict[frozenset[tuple[str, int]], DiplotypeRecord] = {}
    for row in raw["diplotypes"]:
        alleles = {str(k): int(v) for k, v in row["diplotypekey"].items()}
        records[diplotype_table_key(alleles)] = DiplotypeRecord(
            diplotype=str(row["diplotype"]),
            alleles=alleles,
            phenotype=_none_if_blank(row.get("generesult") or row.get("phenotype")),
            lookup_key=_none_if_blank(row.get("lookupkey")),
            activity_score=_none_if_blank(row.get("activityScore")),
        )
    functions = {
        str(na["name"]): str(na["functionValue"])
        for na in raw.get("namedAlleles") or ()
        if isinstance(na, dict) and na.get("functionValue")
    }
    if not functions:
        functions = {str(k): str(v) for k, v in (raw.get("haplotypes") or {}).items()}
    return GenePhenotypes(
        gene=str(raw["gene"]),
        source=guideline,
        version=str(raw.get("version") or ""),
        functions=functions,
        activity_values={str(k): str(v) for k, v in (raw.get("activityValues") or {}).items() if v is not None},
        diplotypes=records,
        older_snapshot=older_snapshot,
    )


def read_gene_phenotypes(files: PharmcatFiles) -> list[GenePhenotypes]:
    """Every CPIC and DPWG table of the release (a current table, else an older snapshot)."""
    return [
        gene_phenotypes(read_phenotype_table(path), guideline, older) for guideline, path, older in files.phenotypes
    ]


# --- guideline recommendations -------------------------------------------------------------------


def read_guideline(path: Path) -> dict[str, Any]:
    """One ``guidelines/<SOURCE>_<drugs>_and_<genes>.json``, checked: a guideline with id, name and
    source, recommendations with a gene -> value (or allele-count) lookup key."""
    raw = read_json(path)
    require(path, raw, ("guideline", "recommendations"), "the top level")
    require(path, raw["guideline"], ("id", "name", "source"), "guideline")
    if not isinstance(raw["recommendations"], list):
        raise SourceFormatError(path, None, "recommendations to be a list", type(raw["recommendations"]).__name__)
    for k, rec in enumerate(raw["recommendations"]):
        require(path, rec, ("id", "lookupKey"), f"recommendations[{k}]")
        if not isinstance(rec["lookupKey"], dict) or not rec["lookupKey"]:
            raise SourceFormatError(
                path, None, f"recommendations[{k}].lookupKey to be a gene -> value object", repr(rec["lookupKey"])
            )
        for gene, value in rec["lookupKey"].items():
            if isinstance(value, dict):
                if not all(isinstance(c, (int, float)) and c in (1, 2) for c in value.values()):
                    raise SourceFormatError(
                        path, None, f"recommendations[{k}].lookupKey.{gene} allele counts of 1 or 2", repr(value)
                    )
            elif not isinstance(value, str):
                raise SourceFormatError(path, None, f"recommendations[{k}].lookupKey.{gene} to be text", repr(value))
    return raw

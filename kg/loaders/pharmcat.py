"""PharmCAT's pharmacogenomic reference data: star alleles, phenotype tables, CPIC/DPWG guidance.

Reads the PharmCAT resource folder (../shared/data/pgx/pharmcat, PharmCAT v2.10.0; see its
SOURCES.md) and writes:

- ``Gene {symbol}`` with ``pgx = true`` for every gene a definition, phenotype table or
  recommendation names (HLA-A/HLA-B/MT-RNR1 included: they are outside-call genes).
- ``Variant`` for every position/alternate allele of the named-allele definitions
  (``definition/alleles/<GENE>_translation.json``, GRCh38, VCF-style, normalised with
  :func:`kg.matcher.normalize.normalize`) -[:IN_GENE]-> Gene.
- ``Haplotype {id: "CYP2C19*2"}`` -[:DEFINED_BY {allele, iupac}]-> Variant for each defining
  non-reference allele. The definitions' ``alleles`` are already in VCF representation; an IUPAC
  ambiguity code (``R`` = A or G) is linked to each non-reference base it allows, with
  ``iupac: true`` and ``allele`` the code itself, so the edge reads "may carry". Indels (multi-base
  REF or ALT) are normalised like any other allele; reference cells and the reference allele
  itself define nothing. Function / activity value come from the CPIC (else DPWG) phenotype
  tables; alleles those tables name without a definition (CYP2D6 ``*5``, ``*1x2``; MT-RNR1) are
  Haplotypes with ``defined = false``.
- ``Phenotype {id: "<GENE>:<lookup value>"}`` for every lookup value of the CPIC and DPWG
  gene-phenotype tables and every recommendation lookup key.
- ``Diplotype {id: "CYP2C19:*1/*2"}`` -[:HAS_PHENOTYPE {guideline, phenotype, activityScore}]->
  Phenotype: the tables' diplotype -> lookup value mapping, one edge per guideline.
- ``Recommendation {id: <PharmGKB recommendation id>}`` -[:FOR_DRUG]-> Drug and
  -[:FOR_PHENOTYPE]-> Phenotype (one per gene of the lookup key) from ``guidelines/*.json``
  (PharmGKB guideline annotations, CC BY-SA 4.0). "No recommendation" rows are kept.
- ``Drug`` / ``DrugName`` for the guideline drugs, with RxNorm / DrugBank / ATC from the CPIC
  drug table (``../cpic/cpic_drug.tsv``, CPIC 2020) when that folder sits beside this one.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.loaders.errors import SourceFormatError
from kg.identity.drugs import drug_key
from kg.loaders.pgx_common import DRUGS, GENES, load_validated
from kg.loaders.pgx_files import html_to_text, read_json, read_tsv, require
from kg.loaders.release import LoadReport, SourceRelease, Stage
from kg.matcher.normalize import normalize
from kg.matcher.pgx.definitions import IUPAC, allele_sort_key

SOURCE = "pharmcat"
LICENCE = (
    "PharmCAT MPL-2.0; allele definitions and phenotype tables CPIC CC0 1.0; "
    "guideline annotations PharmGKB CC BY-SA 4.0 (attribution, share-alike)"
)
URL = "https://github.com/PharmGKB/PharmCAT"

Row = dict[str, Any]

_BASES = re.compile(r"^[ACGT]+$")
_LEADING_SCORE = re.compile(r"^\s*((?:≥|>=|>)?\s*\d+(?:\.\d+)?)")
_OTHER_CONSIDERATIONS = "Other Considerations"


# --- files ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PharmcatFiles:
    root: Path
    definitions: tuple[Path, ...]
    exemptions: Path | None
    phenotypes: tuple[tuple[str, Path], ...]  # (guideline, file)
    guidelines: tuple[Path, ...]
    cpic_drugs: Path | None

    @property
    def all(self) -> tuple[Path, ...]:
        files = [*self.definitions, *([self.exemptions] if self.exemptions else [])]
        files += [p for _, p in self.phenotypes] + list(self.guidelines)
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
    phenotypes: list[tuple[str, Path]] = []
    seen: set[tuple[str, str]] = set()
    # The current CPIC tables win over the older snapshots kept for genes too large to store.
    for sub, guideline in (("cpic", "CPIC"), ("cpic_older_snapshot", "CPIC"), ("dpwg", "DPWG")):
        for file in _json_files(root / "phenotype" / sub):
            if (guideline, _stem(file)) not in seen:
                seen.add((guideline, _stem(file)))
                phenotypes.append((guideline, file))
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


@dataclass(frozen=True)
class Locus:
    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    rsid: str | None


@dataclass(frozen=True)
class Definition:
    """One ``<GENE>_translation.json``: loci and named alleles (alleles index-aligned with loci)."""

    path: Path
    gene: str
    version: str
    source: str
    loci: tuple[Locus, ...]
    alleles: tuple[tuple[str, str, bool, tuple[str | None, ...]], ...]  # (name, id, reference, cells)


def haplotype_id(gene: str, name: str) -> str:
    """``CYP2C19`` + ``*2`` -> ``CYP2C19*2``; other names get a space: ``DPYD c.1905+1G>A (*2A)``."""
    return f"{gene}{name}" if name.startswith("*") else f"{gene} {name}"


def _locus(path: Path, raw: Any, where: str) -> Locus:
    require(path, raw, ("chromosome", "position", "ref", "alts"), where)
    position = raw["position"]
    if isinstance(position, str) and position.isdigit():
        position = int(position)
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        raise SourceFormatError(path, None, f"{where}.position to be a positive integer", repr(position))
    ref = str(raw["ref"]).upper()
    alts = tuple(str(a).upper() for a in raw["alts"] or ())
    for allele in (ref, *alts):
        if not _BASES.match(allele):
            raise SourceFormatError(path, None, f"{where} REF/ALT made of A, C, G, T", allele)
    return Locus(str(raw["chromosome"]), position, ref, alts, raw.get("rsid") or None)


def read_definition(path: Path) -> Definition:
    """Parse and check one allele-definition file (PharmCAT format version 2)."""
    raw = read_json(path)
    require(path, raw, ("gene", "chromosome", "variants", "namedAlleles"), "the top level")
    if not isinstance(raw["variants"], list) or not isinstance(raw["namedAlleles"], list):
        raise SourceFormatError(path, None, "variants and namedAlleles to be lists", "")
    loci = tuple(_locus(path, v, f"variants[{i}]") for i, v in enumerate(raw["variants"]))
    maps = [dict((v.get("cpicToVcfAlleleMap") or {})) for v in raw["variants"]]
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
            allele = str(cell).upper()
            locus = loci[i]
            if allele != locus.ref and allele not in locus.alts and allele not in IUPAC:
                allele = str(maps[i].get(cell, allele)).upper()  # CPIC notation such as TA(7)
            if allele != locus.ref and allele not in locus.alts and not (len(allele) == 1 and allele in IUPAC):
                raise SourceFormatError(
                    path, None, f"{where}.alleles[{i}] to be REF, an ALT or an IUPAC code at {locus.pos}", str(cell)
                )
            vcf.append(allele)
        alleles.append((str(named["name"]), str(named.get("id") or named["name"]), bool(named.get("reference")), tuple(vcf)))
    if not alleles:
        raise SourceFormatError(path, None, "at least one named allele", "none")
    return Definition(
        path=path,
        gene=str(raw["gene"]),
        version=str(raw.get("version") or ""),
        source=str(raw.get("source") or ""),
        loci=loci,
        alleles=tuple(alleles),
    )


def _variant_row(gene: str, locus: Locus, alt: str) -> Row:
    a = normalize(locus.chrom, locus.pos, locus.ref, alt)
    return {"id": a.id, "chrom": a.chrom, "pos": a.pos, "ref": a.ref, "alt": a.alt, "rsid": locus.rsid, "gene": gene}


def _defining_alts(locus: Locus, allele: str) -> list[str]:
    """The non-reference bases a definition cell stands for (an IUPAC code may stand for several)."""
    if allele == locus.ref:
        return []
    if len(allele) == 1 and allele not in "ACGT":
        return sorted(b for b in IUPAC[allele] if b != locus.ref)
    return [allele]


def variant_rows(files: PharmcatFiles) -> Iterator[Row]:
    """Every alternate allele at every definition position (and the exemptions' extra positions)."""
    for path in files.definitions:
        definition = read_definition(path)
        seen: set[str] = set()
        for i, locus in enumerate(definition.loci):
            wanted = set(locus.alts)
            for _, _, _, cells in definition.alleles:
                if cells[i] is not None:
                    wanted.update(_defining_alts(locus, cells[i]))
            for alt in sorted(wanted):
                row = _variant_row(definition.gene, locus, alt)
                if row["id"] not in seen:
                    seen.add(row["id"])
                    yield row
    if files.exemptions is not None:
        raw = read_json(files.exemptions)
        if not isinstance(raw, list):
            raise SourceFormatError(files.exemptions, 1, "a JSON list of gene exemptions", type(raw).__name__)
        for k, exemption in enumerate(raw):
            require(files.exemptions, exemption, ("gene",), f"[{k}]")
            for i, extra in enumerate(exemption.get("extraPositions") or ()):
                locus = _locus(files.exemptions, extra, f"[{k}].extraPositions[{i}]")
                for alt in locus.alts:
                    yield _variant_row(str(exemption["gene"]), locus, alt)


# --- phenotype tables ----------------------------------------------------------------------------


@dataclass
class PhenotypeTables:
    """What the gene-phenotype tables say, aggregated over CPIC and DPWG (a few hundred entries)."""

    phenotypes: dict[str, Row] = field(default_factory=dict)  # Phenotype id -> row
    functions: dict[tuple[str, str], Row] = field(default_factory=dict)  # (gene, allele) -> function row
    activity_genes: set[str] = field(default_factory=set)
    genes: set[str] = field(default_factory=set)
    versions: Counter[str] = field(default_factory=Counter)


def read_phenotype_table(path: Path) -> dict[str, Any]:
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


def leading_score(value: str) -> str | None:
    """``"1.5"`` -> ``"1.5"``; ``"1.5 (Intermediate Metabolizer)"`` -> ``"1.5"``; ``"≥4.0"`` kept."""
    match = _LEADING_SCORE.match(value)
    return match.group(1).replace(" ", "") if match else None


def alleles_of(key: dict[str, Any]) -> list[str]:
    """A diplotype key ``{"*1": 1, "*28": 1}`` as its sorted allele list (the canonical match key)."""
    return sorted(name for name, count in key.items() for _ in range(int(count)))


def read_phenotype_tables(files: PharmcatFiles) -> PhenotypeTables:
    tables = PhenotypeTables()
    for guideline, path in files.phenotypes:
        raw = read_phenotype_table(path)
        gene = str(raw["gene"])
        tables.genes.add(gene)
        tables.versions[str(raw.get("version"))] += 1
        activity = raw.get("activityValues") or {}
        named = {str(a.get("name")): a for a in raw.get("namedAlleles") or () if isinstance(a, dict)}
        for allele, function in (raw.get("haplotypes") or {}).items():
            entry = tables.functions.setdefault((gene, allele), {"gene": gene, "name": allele})
            # ``namedAlleles[].functionValue`` is the function name; for activity-score genes such as
            # DPYD the ``haplotypes`` map holds the activity value instead.
            function = (named.get(allele) or {}).get("functionValue") or function
            value = activity.get(allele) or (named.get(allele) or {}).get("activityValue")
            prefix = "cpic" if guideline == "CPIC" else "dpwg"
            entry.setdefault(f"{prefix}Function", function)
            if value is not None:
                entry.setdefault(f"{prefix}ActivityValue", str(value))
        for row in raw["diplotypes"]:
            if row.get("activityScore") not in (None, ""):
                tables.activity_genes.add(gene)
            pid = f"{gene}:{row['lookupkey']}"
            entry = tables.phenotypes.setdefault(
                pid, {"id": pid, "gene": gene, "value": row["lookupkey"], "guidelines": [], "activityScore": None}
            )
            if guideline not in entry["guidelines"]:
                entry["guidelines"].append(guideline)
            entry.setdefault(f"{guideline.lower()}Phenotype", row["generesult"])
            if row.get("activityScore") not in (None, "") and entry["activityScore"] is None:
                entry["activityScore"] = str(row["activityScore"])
    for entry in tables.phenotypes.values():
        entry["phenotype"] = entry.get("cpicPhenotype") or entry.get("dpwgPhenotype")
        if entry["activityScore"] is None and entry["gene"] in tables.activity_genes:
            entry["activityScore"] = leading_score(entry["value"])
    return tables


def phenotype_rows(tables: PhenotypeTables) -> Iterator[Row]:
    for entry in tables.phenotypes.values():
        yield {
            "id": entry["id"],
            "gene": entry["gene"],
            "phenotype": entry["phenotype"],
            "cpicPhenotype": entry.get("cpicPhenotype"),
            "dpwgPhenotype": entry.get("dpwgPhenotype"),
            "activityScore": entry["activityScore"],
            "guidelines": sorted(entry["guidelines"]),
        }


def diplotype_rows(files: PharmcatFiles, tables: PhenotypeTables) -> Iterator[Row]:
    """One row per diplotype per table: ``CYP2C19:*1/*2`` -> ``CYP2C19:Intermediate Metabolizer``."""
    for guideline, path in files.phenotypes:
        raw = read_phenotype_table(path)
        gene = str(raw["gene"])
        for row in raw["diplotypes"]:
            score = row.get("activityScore")
            if score in (None, "") and gene in tables.activity_genes:
                score = leading_score(row["lookupkey"])
            yield {
                "id": f"{gene}:{row['diplotype']}",
                "gene": gene,
                "diplotype": row["diplotype"],
                "alleles": alleles_of(row["diplotypekey"]),
                "guideline": guideline,
                "phenotypeId": f"{gene}:{row['lookupkey']}",
                "phenotype": row["generesult"],
                "activityScore": None if score in (None, "") else str(score),
                "lookupKey": row["lookupkey"],
            }


def haplotype_rows(files: PharmcatFiles, tables: PhenotypeTables) -> Iterator[Row]:
    """Defined named alleles with their defining variants, then table-only alleles."""
    defined: set[tuple[str, str]] = set()
    for path in files.definitions:
        definition = read_definition(path)
        for name, pharmcat_id, reference, cells in definition.alleles:
            defined.add((definition.gene, name))
            defs: list[Row] = []
            if not reference:
                for locus, cell in zip(definition.loci, cells):
                    if cell is None:
                        continue
                    iupac = len(cell) == 1 and cell not in "ACGT"
                    for alt in _defining_alts(locus, cell):
                        defs.append({"variant": _variant_row(definition.gene, locus, alt)["id"], "allele": cell, "iupac": iupac})
            yield _haplotype(tables, definition.gene, name, pharmcat_id, reference, True, definition.version, defs)
    for (gene, name) in sorted(tables.functions):
        if (gene, name) not in defined:
            yield _haplotype(tables, gene, name, None, False, False, None, [])


def _haplotype(
    tables: PhenotypeTables, gene: str, name: str, pharmcat_id: str | None, reference: bool,
    is_defined: bool, version: str | None, defs: list[Row],
) -> Row:
    function = tables.functions.get((gene, name), {})
    return {
        "id": haplotype_id(gene, name),
        "gene": gene,
        "name": name,
        "pharmcatId": pharmcat_id,
        "reference": reference,
        "defined": is_defined,
        "definitionVersion": version,
        "function": function.get("cpicFunction") or function.get("dpwgFunction"),
        "dpwgFunction": function.get("dpwgFunction"),
        "activityValue": function.get("cpicActivityValue") or function.get("dpwgActivityValue"),
        "defs": defs,
    }


# --- guideline recommendations -------------------------------------------------------------------


def read_guideline(path: Path) -> dict[str, Any]:
    raw = read_json(path)
    require(path, raw, ("guideline", "recommendations"), "the top level")
    require(path, raw["guideline"], ("id", "name", "source"), "guideline")
    if not isinstance(raw["recommendations"], list):
        raise SourceFormatError(path, None, "recommendations to be a list", type(raw["recommendations"]).__name__)
    for k, rec in enumerate(raw["recommendations"]):
        require(path, rec, ("id", "lookupKey"), f"recommendations[{k}]")
        if not isinstance(rec["lookupKey"], dict) or not rec["lookupKey"]:
            raise SourceFormatError(path, None, f"recommendations[{k}].lookupKey to be a gene -> value object", repr(rec["lookupKey"]))
        for gene, value in rec["lookupKey"].items():
            if isinstance(value, dict):
                if not all(isinstance(c, (int, float)) and c in (1, 2) for c in value.values()):
                    raise SourceFormatError(path, None, f"recommendations[{k}].lookupKey.{gene} allele counts of 1 or 2", repr(value))
            elif not isinstance(value, str):
                raise SourceFormatError(path, None, f"recommendations[{k}].lookupKey.{gene} to be text", repr(value))
    return raw


def _chemicals(rec: dict[str, Any], guideline: dict[str, Any]) -> list[dict[str, Any]]:
    chems = [c for c in rec.get("relatedChemicals") or guideline.get("relatedChemicals") or () if isinstance(c, dict) and c.get("name")]
    return chems


def _cpic_drug_table(path: Path | None) -> tuple[dict[str, Row], dict[str, Row]]:
    """CPIC drug identifiers by PharmGKB id and by lowercased name (``cpic_drug.tsv``, 230 rows)."""
    by_pa: dict[str, Row] = {}
    by_name: dict[str, Row] = {}
    if path is None:
        return by_pa, by_name
    header = ("drugid", "name", "pharmgkbid", "rxnormid", "drugbankid", "atcid")
    for row in read_tsv(path, header):
        atc = [a.strip() for a in row["atcid"].strip("{}").split(",") if a.strip()]
        entry = {"rxnormId": row["rxnormid"] or None, "drugbankId": row["drugbankid"] or None, "atc": atc or None}
        if row["pharmgkbid"]:
            by_pa[row["pharmgkbid"]] = entry
        by_name[drug_key(row["name"])] = entry
    return by_pa, by_name


def drug_rows(files: PharmcatFiles) -> Iterator[Row]:
    by_pa, by_name = _cpic_drug_table(files.cpic_drugs)
    seen: set[str] = set()
    for path in files.guidelines:
        raw = read_guideline(path)
        chems = list(raw["guideline"].get("relatedChemicals") or ())
        for rec in raw["recommendations"]:
            chems += _chemicals(rec, raw["guideline"])
        for chem in chems:
            if not isinstance(chem, dict) or not chem.get("name"):
                continue
            did = drug_key(chem["name"])
            if did in seen:
                continue
            seen.add(did)
            ids = by_pa.get(chem.get("id") or "") or by_name.get(did) or {}
            yield {
                "id": did, "name": chem["name"], "pharmgkbId": chem.get("id"),
                "rxnormId": ids.get("rxnormId"), "drugbankId": ids.get("drugbankId"), "atc": ids.get("atc"),
                "synonyms": [], "tradeNames": [],
            }


def gene_rows(files: PharmcatFiles, tables: PhenotypeTables) -> Iterator[Row]:
    genes: dict[str, str | None] = {g: None for g in tables.genes}
    for path in files.definitions:
        genes.setdefault(path.name.split("_translation")[0], None)
    for path in files.guidelines:
        raw = read_guideline(path)
        for gene in raw["guideline"].get("relatedGenes") or ():
            if isinstance(gene, dict) and gene.get("symbol"):
                genes[gene["symbol"]] = gene.get("id") or genes.get(gene["symbol"])
        for rec in raw["recommendations"]:
            for symbol in rec["lookupKey"]:
                genes.setdefault(symbol, None)
    for symbol in sorted(genes):
        yield {"symbol": symbol, "pharmgkbId": genes[symbol]}


def split_recommendation_text(html: str | None) -> tuple[str | None, str | None]:
    """The recommendation proper and its "Other Considerations" (PharmGKB puts both in one HTML)."""
    text = html_to_text(html)
    if not text:
        return text, None
    lines = text.split("\n")
    if _OTHER_CONSIDERATIONS in lines:
        cut = lines.index(_OTHER_CONSIDERATIONS)
        return "\n".join(lines[:cut]) or None, "\n".join(lines[cut + 1 :]) or None
    return text, None


def lookup_phenotypes(lookup: dict[str, Any], tables: PhenotypeTables) -> list[Row]:
    """The Phenotype each gene of a lookup key points at.

    A text value is the phenotype or activity score itself (``CYP2D6:1.25``). A diplotype value
    (DPWG irinotecan/UGT1A1, phenytoin/CYP2C9: ``{"*1": 1, "*28": 1}``) becomes the Phenotype
    ``UGT1A1:*1/*28`` with ``alleles`` so the matching Diplotype can be linked to it.
    """
    out = []
    for gene, value in sorted(lookup.items()):
        if isinstance(value, dict):
            alleles = alleles_of(value)
            diplotype = "/".join(sorted(alleles, key=allele_sort_key))
            out.append({
                "id": f"{gene}:{diplotype}", "gene": gene, "value": diplotype, "phenotype": diplotype,
                "activityScore": None, "alleles": alleles,
                "diplotypeKey": json.dumps({k: int(v) for k, v in value.items()}, sort_keys=True),
            })
        else:
            score = leading_score(value) if gene in tables.activity_genes else None
            out.append({
                "id": f"{gene}:{value}", "gene": gene, "value": value, "phenotype": value,
                "activityScore": score, "alleles": None, "diplotypeKey": None,
            })
    return out


def recommendation_rows(files: PharmcatFiles, tables: PhenotypeTables) -> Iterator[Row]:
    for path in files.guidelines:
        raw = read_guideline(path)
        guideline = raw["guideline"]
        source = str(guideline["source"]).upper()
        pmids = [str(c["pmid"]) for c in raw.get("citations") or () if isinstance(c, dict) and c.get("pmid")]
        for rec in raw["recommendations"]:
            chems = _chemicals(rec, guideline)
            html = (rec.get("text") or {}).get("html")
            text, comments = split_recommendation_text(html)
            strength = (rec.get("classification") or {}).get("term")
            lookup = rec["lookupKey"]
            yield {
                "id": str(rec["id"]),
                "drugIds": [drug_key(c["name"]) for c in chems],
                "phenotypes": lookup_phenotypes(lookup, tables),
                "guideline": source,
                "props": {
                    "guideline": source,
                    "guidelineId": str(guideline["id"]),
                    "guidelineName": guideline["name"],
                    "url": guideline.get("url"),
                    "drug": " / ".join(c["name"] for c in chems) or None,
                    "text": text,
                    "textHtml": html,
                    "comments": comments,
                    "implications": [str(i) for i in rec.get("implications") or ()],
                    "strength": strength,
                    "noRecommendation": strength == "No recommendation" or (text or "").strip() == "No recommendation",
                    "population": rec.get("population"),
                    "lookupKey": json.dumps(lookup, sort_keys=True, ensure_ascii=False),
                    "genes": sorted(lookup),
                    "citations": pmids,
                    "dosingInformation": rec.get("dosingInformation"),
                    "alternateDrugAvailable": rec.get("alternateDrugAvailable"),
                    "otherPrescribingGuidance": rec.get("otherPrescribingGuidance"),
                    "version": raw.get("version"),
                    "file": path.name,
                },
            }


# --- Cypher --------------------------------------------------------------------------------------

VARIANTS = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (g:Gene {symbol: row.gene})
SET g.pgx = true
MERGE (g)-[:ASSERTED_BY]->(src)
MERGE (v:Variant {id: row.id})
SET v.chrom = row.chrom, v.pos = row.pos, v.ref = row.ref, v.alt = row.alt, v.assembly = 'GRCh38',
    v.rsid = coalesce(v.rsid, row.rsid), v.gene = coalesce(v.gene, row.gene), v.kind = coalesce(v.kind, 'exact')
MERGE (v)-[:ASSERTED_BY]->(src)
MERGE (v)-[r:IN_GENE]->(g)
SET r.release = $source
"""

HAPLOTYPES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (h:Haplotype {id: row.id})
SET h.gene = row.gene, h.name = row.name, h.pharmcatId = row.pharmcatId, h.reference = row.reference,
    h.defined = row.defined, h.definitionVersion = row.definitionVersion, h.function = row.function,
    h.dpwgFunction = row.dpwgFunction, h.activityValue = row.activityValue
MERGE (h)-[:ASSERTED_BY]->(src)
WITH h, row
UNWIND row.defs AS def
MATCH (v:Variant {id: def.variant})
MERGE (h)-[r:DEFINED_BY]->(v)
SET r.allele = def.allele, r.iupac = def.iupac, r.release = $source
"""

PHENOTYPES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (p:Phenotype {id: row.id})
SET p.gene = row.gene, p.phenotype = row.phenotype, p.cpicPhenotype = row.cpicPhenotype,
    p.dpwgPhenotype = row.dpwgPhenotype, p.activityScore = row.activityScore, p.guidelines = row.guidelines
MERGE (p)-[:ASSERTED_BY]->(src)
"""

DIPLOTYPES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (d:Diplotype {id: row.id})
SET d.gene = row.gene, d.diplotype = row.diplotype, d.alleles = row.alleles
MERGE (d)-[:ASSERTED_BY]->(src)
WITH d, row
MATCH (p:Phenotype {id: row.phenotypeId})
MERGE (d)-[r:HAS_PHENOTYPE {guideline: row.guideline}]->(p)
SET r.phenotype = row.phenotype, r.activityScore = row.activityScore, r.lookupKey = row.lookupKey,
    r.release = $source
"""

RECOMMENDATIONS = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (rec:Recommendation {id: row.id})
SET rec += row.props
MERGE (rec)-[:ASSERTED_BY]->(src)
WITH rec, row, src
CALL (rec, row) {
  UNWIND row.drugIds AS drugId
  MATCH (d:Drug {id: drugId})
  MERGE (rec)-[r:FOR_DRUG]->(d)
  SET r.release = $source
}
CALL (rec, row, src) {
  UNWIND row.phenotypes AS ph
  MERGE (p:Phenotype {id: ph.id})
  ON CREATE SET p.gene = ph.gene, p.phenotype = ph.phenotype, p.activityScore = ph.activityScore,
                p.diplotypeKey = ph.diplotypeKey, p.guidelines = [row.guideline]
  MERGE (p)-[:ASSERTED_BY]->(src)
  MERGE (rec)-[r:FOR_PHENOTYPE]->(p)
  SET r.gene = ph.gene, r.value = ph.value, r.release = $source
  WITH p, ph
  WHERE ph.alleles IS NOT NULL
  MATCH (d:Diplotype {gene: ph.gene})
  WHERE d.alleles = ph.alleles
  MERGE (d)-[h:HAS_PHENOTYPE {guideline: row.guideline}]->(p)
  SET h.phenotype = ph.phenotype, h.lookupKey = ph.diplotypeKey, h.release = $source
}
"""


# --- load ----------------------------------------------------------------------------------------


def release_version(files: PharmcatFiles, tables: PhenotypeTables) -> str:
    """``<PharmGKB export of the guidelines>+cpic-<CPIC allele-definition version>``."""
    guideline_versions: Counter[str] = Counter()
    for path in files.guidelines:
        version = read_guideline(path).get("version")
        if version:
            guideline_versions[str(version)] += 1
    definition_versions: Counter[str] = Counter()
    for path in files.definitions:
        definition = read_definition(path)
        if definition.source.upper() == "CPIC" and definition.version:
            definition_versions[definition.version] += 1
    export = max(guideline_versions) if guideline_versions else (max(tables.versions) if tables.versions else "unknown")
    cpic = definition_versions.most_common(1)[0][0] if definition_versions else None
    return f"{export}+cpic-{cpic}" if cpic else export


def stages(files: PharmcatFiles, tables: PhenotypeTables) -> list[Stage]:
    return [
        Stage("genes", GENES, lambda: gene_rows(files, tables)),
        Stage("drugs", DRUGS, lambda: drug_rows(files)),
        Stage("variants", VARIANTS, lambda: variant_rows(files)),
        Stage("haplotypes", HAPLOTYPES, lambda: haplotype_rows(files, tables), batch_size=500),
        Stage("phenotypes", PHENOTYPES, lambda: phenotype_rows(tables)),
        Stage("diplotypes", DIPLOTYPES, lambda: diplotype_rows(files, tables)),
        Stage("recommendations", RECOMMENDATIONS, lambda: recommendation_rows(files, tables), batch_size=500),
    ]


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    files = find_files(Path(path))
    tables = read_phenotype_tables(files)
    release = SourceRelease(SOURCE, version or release_version(files, tables), LICENCE, files.all, URL)
    return load_validated(graph, release, stages(files, tables), progress=progress)

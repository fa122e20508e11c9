"""PharmCAT's pharmacogenomic reference data: star alleles, phenotype tables, CPIC/DPWG guidance.

Reads the PharmCAT resource folder (../shared/data/pgx/pharmcat, PharmCAT v2.10.0; see its
SOURCES.md) through its one reader, :mod:`kg.loaders.pharmcat_files`, and writes:

- ``Gene {symbol}`` with ``pgx = true`` for every gene a definition, phenotype table or
  recommendation names (HLA-A/HLA-B/MT-RNR1 included: they are outside-call genes).
- ``Variant`` for every position/alternate allele of the named-allele definitions
  (``definition/alleles/<GENE>_translation.json``, GRCh38, VCF-style, normalised with
  :func:`kg.identity.variants.normalize`) -[:IN_GENE]-> Gene.
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
- ``Guideline {id: <PharmGKB guideline annotation id>}`` -[:FOR_DRUG]-> every drug the guideline
  names (``guideline.relatedChemicals``), one per ``guidelines/*.json``: a drug the guideline
  covers is answered even where the file has no recommendation row for it (CPIC warfarin is an
  algorithm, CPIC peginterferon/ribavirin with IFNL3 has no lookup table).
- ``Recommendation {id: <PharmGKB recommendation id>}`` -[:PART_OF]-> Guideline, -[:FOR_DRUG]-> Drug
  and -[:FOR_PHENOTYPE]-> Phenotype (one per gene of the lookup key) from ``guidelines/*.json``
  (PharmGKB guideline annotations, CC BY-SA 4.0). "No recommendation" rows are kept.
- On each Guideline's ASSERTED_BY edge to the release, its gene sets per drug (``geneSetDrugs``,
  ``geneSetGenes``; ``GENE_SETS``), derived from the recommendations just written, for the PGx answer.
- ``Drug`` / ``DrugName`` for the guideline drugs, with RxNorm / DrugBank / ATC from the CPIC
  drug table (``../cpic/cpic_drug.tsv``, CPIC 2020) when that folder sits beside this one.
- What the star-allele caller needs, stored with the release so that the matcher reads no file:
  ``AlleleDefinition {id: "<release>:<GENE>"}`` (every gene's named-allele definitions with its
  exemption) and ``PhenotypeTable {id: "<release>:<CPIC|DPWG>:<GENE>"}`` (every diplotype table),
  each holding the :mod:`kg.pharmcat.stored` JSON (no edge but ASSERTED_BY: they are for the
  matcher, not for traversal).
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
from kg.identity.drugs import drug_key
from kg.identity.variants import normalize
from kg.loaders.pgx_common import GENES, drug_stage, load_validated
from kg.loaders.pgx_files import html_to_text, read_tsv
from kg.loaders.pharmcat_files import (
    PharmcatFiles,
    definition_gene,
    find_files,
    read_definitions,
    read_exemptions,
    read_gene_phenotypes,
    read_guideline,
    read_phenotype_table,
)
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, SourceRelease, Stage
from kg.loaders.statements import stamped
from kg.pharmcat.alleles import IUPAC, VariantLocus, allele_sort_key
from kg.pharmcat.stored import FORMAT, SOURCE, definition_to_json, table_to_json

LICENCE = (
    "PharmCAT MPL-2.0; allele definitions and phenotype tables CPIC CC0 1.0; "
    "guideline annotations PharmGKB CC BY-SA 4.0 (attribution, share-alike)"
)
URL = "https://github.com/PharmGKB/PharmCAT"

Row = dict[str, Any]

_LEADING_SCORE = re.compile(r"^\s*((?:≥|>=|>)?\s*\d+(?:\.\d+)?)")
_OTHER_CONSIDERATIONS = "Other Considerations"


# --- allele definitions --------------------------------------------------------------------------


def haplotype_id(gene: str, name: str) -> str:
    """``CYP2C19`` + ``*2`` -> ``CYP2C19*2``; other names get a space: ``DPYD c.1905+1G>A (*2A)``."""
    return f"{gene}{name}" if name.startswith("*") else f"{gene} {name}"


def _variant_row(gene: str, locus: VariantLocus, alt: str) -> Row:
    a = normalize(locus.chrom, locus.position, locus.ref, alt)
    return {"id": a.id, "chrom": a.chrom, "pos": a.pos, "ref": a.ref, "alt": a.alt, "rsid": locus.rsid, "gene": gene}


def _defining_alts(locus: VariantLocus, allele: str) -> list[str]:
    """The non-reference bases a definition cell stands for (an IUPAC code may stand for several)."""
    if allele == locus.ref:
        return []
    if len(allele) == 1 and allele not in "ACGT":
        return sorted(b for b in IUPAC[allele] if b != locus.ref)
    return [allele]


def variant_rows(files: PharmcatFiles) -> Iterator[Row]:
    """Every alternate allele at every definition position (and the exemptions' extra positions)."""
    definitions = read_definitions(files)
    for definition in definitions.values():
        seen: set[str] = set()
        for i, locus in enumerate(definition.loci):
            wanted = set(locus.alts)
            for allele in definition.named_alleles:
                cell = allele.alleles[i]
                if cell is not None:
                    wanted.update(_defining_alts(locus, cell))
            for alt in sorted(wanted):
                row = _variant_row(definition.gene, locus, alt)
                if row["id"] not in seen:
                    seen.add(row["id"])
                    yield row
    for gene, exemption in read_exemptions(files.exemptions).items():
        for locus in exemption.extra_positions:
            for alt in locus.alts:
                yield _variant_row(gene, locus, alt)


# --- phenotype tables ----------------------------------------------------------------------------


@dataclass
class PhenotypeSummary:
    """What the gene-phenotype tables say, aggregated over CPIC and DPWG (a few hundred entries)."""

    phenotypes: dict[str, Row] = field(default_factory=dict)  # Phenotype id -> row
    functions: dict[tuple[str, str], Row] = field(default_factory=dict)  # (gene, allele) -> function row
    activity_genes: set[str] = field(default_factory=set)
    genes: set[str] = field(default_factory=set)
    versions: Counter[str] = field(default_factory=Counter)


def leading_score(value: str) -> str | None:
    """``"1.5"`` -> ``"1.5"``; ``"1.5 (Intermediate Metabolizer)"`` -> ``"1.5"``; ``"≥4.0"`` kept."""
    match = _LEADING_SCORE.match(value)
    return match.group(1).replace(" ", "") if match else None


def alleles_of(key: dict[str, Any]) -> list[str]:
    """A diplotype key ``{"*1": 1, "*28": 1}`` as its sorted allele list (the canonical match key)."""
    return sorted(name for name, count in key.items() for _ in range(int(count)))


def summarise_phenotype_tables(files: PharmcatFiles) -> PhenotypeSummary:
    tables = PhenotypeSummary()
    for guideline, path, _ in files.phenotypes:
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


def phenotype_rows(tables: PhenotypeSummary) -> Iterator[Row]:
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


def diplotype_rows(files: PharmcatFiles, tables: PhenotypeSummary) -> Iterator[Row]:
    """One row per diplotype per table: ``CYP2C19:*1/*2`` -> ``CYP2C19:Intermediate Metabolizer``."""
    for guideline, path, _ in files.phenotypes:
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


def haplotype_rows(files: PharmcatFiles, tables: PhenotypeSummary) -> Iterator[Row]:
    """Defined named alleles with their defining variants, then table-only alleles."""
    defined: set[tuple[str, str]] = set()
    for definition in read_definitions(files).values():
        for allele in definition.named_alleles:
            name, pharmcat_id, reference = allele.name, allele.id, allele.reference
            defined.add((definition.gene, name))
            defs: list[Row] = []
            if not reference:
                for locus, cell in zip(definition.loci, allele.alleles, strict=True):
                    if cell is None:
                        continue
                    iupac = len(cell) == 1 and cell not in "ACGT"
                    for alt in _defining_alts(locus, cell):
                        defs.append(
                            {"variant": _variant_row(definition.gene, locus, alt)["id"], "allele": cell, "iupac": iupac}
                        )
            yield _haplotype(tables, definition.gene, name, pharmcat_id, reference, True, definition.version, defs)
    for gene, name in sorted(tables.functions):
        if (gene, name) not in defined:
            yield _haplotype(tables, gene, name, None, False, False, None, [])


def _haplotype(
    tables: PhenotypeSummary,
    gene: str,
    name: str,
    pharmcat_id: str | None,
    reference: bool,
    is_defined: bool,
    version: str | None,
    defs: list[Row],
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


# --- what the star-allele caller reads back ------------------------------------------------------


def allele_definition_rows(files: PharmcatFiles) -> Iterator[Row]:
    """One row per gene: its named-allele definitions and exemption as :mod:`kg.pharmcat.stored` JSON."""
    for definition in read_definitions(files).values():
        yield {
            "gene": definition.gene,
            "version": definition.version,
            "format": FORMAT,
            "json": definition_to_json(definition),
        }


def phenotype_table_rows(files: PharmcatFiles) -> Iterator[Row]:
    """One row per gene and guideline table, as :mod:`kg.pharmcat.stored` JSON."""
    for table in read_gene_phenotypes(files):
        yield {
            "gene": table.gene,
            "guideline": table.source,
            "version": table.version,
            "olderSnapshot": table.older_snapshot,
            "format": FORMAT,
            "json": table_to_json(table),
        }


# --- guideline recommendations -------------------------------------------------------------------


def _chemicals(rec: dict[str, Any], guideline: dict[str, Any]) -> list[dict[str, Any]]:
    chems = [
        c
        for c in rec.get("relatedChemicals") or guideline.get("relatedChemicals") or ()
        if isinstance(c, dict) and c.get("name")
    ]
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
                "id": did,
                "name": chem["name"],
                "pharmgkbId": chem.get("id"),
                "rxnormId": ids.get("rxnormId"),
                "drugbankId": ids.get("drugbankId"),
                "atc": ids.get("atc"),
                "synonyms": [],
                "tradeNames": [],
            }


def guideline_rows(files: PharmcatFiles) -> Iterator[Row]:
    """One row per guideline file: the guideline and every drug it or one of its recommendations names."""
    for path in files.guidelines:
        raw = read_guideline(path)
        guideline = raw["guideline"]
        chems = [c for c in guideline.get("relatedChemicals") or () if isinstance(c, dict) and c.get("name")]
        chems += [c for rec in raw["recommendations"] for c in _chemicals(rec, guideline)]
        drugs = [drug_key(c["name"]) for c in chems]
        genes = {g["symbol"] for g in guideline.get("relatedGenes") or () if isinstance(g, dict) and g.get("symbol")}
        genes.update(gene for rec in raw["recommendations"] for gene in rec["lookupKey"])
        yield {
            "id": str(guideline["id"]),
            "drugIds": sorted(set(drugs)),
            "props": {
                "source": str(guideline["source"]).upper(),
                "name": guideline["name"],
                "url": guideline.get("url"),
                "genes": sorted(genes),
                "recommendations": len(raw["recommendations"]),
                "version": raw.get("version"),
                "file": path.name,
            },
        }


def gene_rows(files: PharmcatFiles, tables: PhenotypeSummary) -> Iterator[Row]:
    genes: dict[str, str | None] = {g: None for g in tables.genes}
    for path in files.definitions:
        genes.setdefault(definition_gene(path), None)
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


def lookup_phenotypes(lookup: dict[str, Any], tables: PhenotypeSummary) -> list[Row]:
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
            out.append(
                {
                    "id": f"{gene}:{diplotype}",
                    "gene": gene,
                    "value": diplotype,
                    "phenotype": diplotype,
                    "activityScore": None,
                    "alleles": alleles,
                    "diplotypeKey": json.dumps({k: int(v) for k, v in value.items()}, sort_keys=True),
                }
            )
        else:
            score = leading_score(value) if gene in tables.activity_genes else None
            out.append(
                {
                    "id": f"{gene}:{value}",
                    "gene": gene,
                    "value": value,
                    "phenotype": value,
                    "activityScore": score,
                    "alleles": None,
                    "diplotypeKey": None,
                }
            )
    return out


def recommendation_rows(files: PharmcatFiles, tables: PhenotypeSummary) -> Iterator[Row]:
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

VARIANTS = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (g:Gene {symbol: row.gene})
"""
    + asserts("g", latest={"pgx": "true"})
    + """MERGE (v:Variant {id: row.id})
SET v.chrom = row.chrom, v.pos = row.pos, v.ref = row.ref, v.alt = row.alt, v.assembly = 'GRCh38',
    v.kind = coalesce(v.kind, 'exact')
"""
    + asserts("v", first={"rsid": "row.rsid", "gene": "row.gene"})
    + """MERGE (v)-[r:IN_GENE]->(g)
SET RELEASES(r)
"""
)


def _fields(*names: str) -> dict[str, str]:
    """A property group taken from the row's keys of the same names (kg/loaders/property_groups.py)."""
    return {name: f"row.{name}" for name in names}


HAPLOTYPES = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (h:Haplotype {id: row.id})
"""
    + asserts(
        "h",
        latest=_fields(
            "gene",
            "name",
            "pharmcatId",
            "reference",
            "defined",
            "definitionVersion",
            "function",
            "dpwgFunction",
            "activityValue",
        ),
    )
    + """WITH h, row
UNWIND row.defs AS def
MATCH (v:Variant {id: def.variant})
MERGE (h)-[r:DEFINED_BY]->(v)
SET r.allele = def.allele, r.iupac = def.iupac, RELEASES(r)
"""
)

PHENOTYPES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (p:Phenotype {id: row.id})
""" + asserts("p", latest=_fields("gene", "phenotype", "cpicPhenotype", "dpwgPhenotype", "activityScore", "guidelines"))

DIPLOTYPES = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (d:Diplotype {id: row.id})
"""
    + asserts("d", latest=_fields("gene", "diplotype", "alleles"))
    + """WITH d, row
MATCH (p:Phenotype {id: row.phenotypeId})
MERGE (d)-[r:HAS_PHENOTYPE {guideline: row.guideline}]->(p)
SET r.phenotype = row.phenotype, r.activityScore = row.activityScore, r.lookupKey = row.lookupKey,
    RELEASES(r)
"""
)

GUIDELINES = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (gl:Guideline {id: row.id})
"""
    + asserts("gl", group="row.props")
    + """WITH gl, row
UNWIND row.drugIds AS drugId
MATCH (d:Drug {id: drugId})
MERGE (gl)-[r:FOR_DRUG]->(d)
SET RELEASES(r)
"""
)

# Keyed by release: a release's stored definitions are its own (a newer release loading beside the
# active one never changes what the matcher reads until it is active; see kg/loaders/release.py).
# No edge to the Gene: the JSON is for the matcher, not for traversal (research neighbours would
# carry megabytes of it).
ALLELE_DEFINITIONS = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (a:AlleleDefinition {id: $source + ':' + row.gene})
SET a.gene = row.gene, a.release = $source, a.version = row.version, a.format = row.format, a.json = row.json
MERGE (a)-[:ASSERTED_BY]->(src)
"""

PHENOTYPE_TABLES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (t:PhenotypeTable {id: $source + ':' + row.guideline + ':' + row.gene})
SET t.gene = row.gene, t.guideline = row.guideline, t.release = $source, t.version = row.version,
    t.olderSnapshot = row.olderSnapshot, t.format = row.format, t.json = row.json
MERGE (t)-[:ASSERTED_BY]->(src)
"""

# A phenotype a recommendation names that the phenotype tables lack gets its fields as a fallback.
RECOMMENDATIONS = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (rec:Recommendation {id: row.id})
"""
    + asserts("rec", group="row.props")
    + """WITH rec, row, src
CALL (rec, row) {
  MATCH (gl:Guideline {id: row.props.guidelineId})
  MERGE (rec)-[r:PART_OF]->(gl)
  SET RELEASES(r)
}
CALL (rec, row) {
  UNWIND row.drugIds AS drugId
  MATCH (d:Drug {id: drugId})
  MERGE (rec)-[r:FOR_DRUG]->(d)
  SET RELEASES(r)
}
CALL (rec, row, src) {
  UNWIND row.phenotypes AS ph
  MERGE (p:Phenotype {id: ph.id})
"""
    + asserts(
        "p",
        first={
            "gene": "ph.gene",
            "phenotype": "ph.phenotype",
            "activityScore": "ph.activityScore",
            "diplotypeKey": "ph.diplotypeKey",
            "guidelines": "[row.guideline]",
        },
    )
    + """  MERGE (rec)-[r:FOR_PHENOTYPE]->(p)
  SET r.gene = ph.gene, r.value = ph.value, RELEASES(r)
  WITH p, ph
  WHERE ph.alleles IS NOT NULL
  MATCH (d:Diplotype {gene: ph.gene})
  WHERE d.alleles = ph.alleles
  MERGE (d)-[h:HAS_PHENOTYPE {guideline: row.guideline}]->(p)
  SET h.phenotype = ph.phenotype, h.lookupKey = ph.diplotypeKey, RELEASES(h)
}
"""
)

# Each guideline's gene sets as this release states them, stored on the guideline's ASSERTED_BY edge
# to the release: ``geneSetDrugs[i]`` is a drug and ``geneSetGenes[i]`` the genes (comma-joined,
# sorted) of a recommendation of the release for it, each pair once, in order. The PGx answer reads
# them instead of walking the guideline's recommendations per request (kg/queries/pgx.py
# ``GUIDELINE_GENE_SETS``, which still walks when an edge lacks them). Derived from what the
# release wrote (its recommendations' PART_OF, FOR_DRUG and the genes on their ASSERTED_BY edge).
# Not a property group (no ``props`` list names them): a retiring release's edge takes them along.
GENE_SETS = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MATCH (gl:Guideline {id: row.id})-[held:ASSERTED_BY]->(src)
CALL (gl, src) {
  OPTIONAL MATCH (gl)<-[:PART_OF]-(rec:Recommendation)-[stated:ASSERTED_BY]->(src)
  OPTIONAL MATCH (rec)-[:FOR_DRUG]->(d:Drug)
  WITH d.id AS drug, coalesce(stated.genes, rec.genes, []) AS genes
  WHERE drug IS NOT NULL
  WITH DISTINCT drug, reduce(s = '', g IN genes | s + CASE s WHEN '' THEN '' ELSE ',' END + g) AS genes
  ORDER BY drug, genes
  RETURN collect(drug) AS drugs, collect(genes) AS geneLists
}
SET held.geneSetDrugs = drugs, held.geneSetGenes = geneLists
"""


def gene_set_rows(files: PharmcatFiles) -> Iterator[Row]:
    """The guidelines whose gene sets ``GENE_SETS`` stores: every guideline of the release."""
    for path in files.guidelines:
        yield {"id": str(read_guideline(path)["guideline"]["id"])}


# --- load ----------------------------------------------------------------------------------------


def release_version(files: PharmcatFiles, tables: PhenotypeSummary) -> str:
    """``<PharmGKB export of the guidelines>+cpic-<CPIC allele-definition version>``."""
    guideline_versions: Counter[str] = Counter()
    for path in files.guidelines:
        version = read_guideline(path).get("version")
        if version:
            guideline_versions[str(version)] += 1
    definition_versions: Counter[str] = Counter()
    for definition in read_definitions(files).values():
        if definition.source.upper() == "CPIC" and definition.version:
            definition_versions[definition.version] += 1
    export = max(guideline_versions) if guideline_versions else (max(tables.versions) if tables.versions else "unknown")
    cpic = definition_versions.most_common(1)[0][0] if definition_versions else None
    return f"{export}+cpic-{cpic}" if cpic else export


def stages(files: PharmcatFiles, tables: PhenotypeSummary) -> list[Stage]:
    return [
        Stage("genes", GENES, lambda: gene_rows(files, tables)),
        drug_stage(lambda: drug_rows(files)),
        Stage("variants", VARIANTS, lambda: variant_rows(files)),
        Stage("haplotypes", HAPLOTYPES, lambda: haplotype_rows(files, tables), batch_size=500),
        Stage("phenotypes", PHENOTYPES, lambda: phenotype_rows(tables)),
        Stage("diplotypes", DIPLOTYPES, lambda: diplotype_rows(files, tables)),
        Stage("guidelines", GUIDELINES, lambda: guideline_rows(files)),
        Stage("recommendations", RECOMMENDATIONS, lambda: recommendation_rows(files, tables), batch_size=500),
        Stage("guideline gene sets", GENE_SETS, lambda: gene_set_rows(files), batch_size=500),
        Stage("allele definitions", ALLELE_DEFINITIONS, lambda: allele_definition_rows(files), batch_size=4),
        Stage("phenotype tables", PHENOTYPE_TABLES, lambda: phenotype_table_rows(files), batch_size=4),
    ]


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    files = find_files(Path(path))
    tables = summarise_phenotype_tables(files)
    release = SourceRelease(SOURCE, version or release_version(files, tables), LICENCE, files.all, URL)
    return load_validated(graph, release, stages(files, tables), progress=progress)

"""FDA pharmacogenomic tables (US government work, public domain), as scraped to JSON by
PharmGKB/fda-biomarker (../shared/data/pgx/fda, see its SOURCES.md).

- ``fda_pgx_biomarker_table.json`` ("Table of Pharmacogenomic Biomarkers in Drug Labeling"):
  one ``Evidence {id: "fda:biomarker:<drug>:<biomarker>", kind: "biomarker in labeling",
  level: "FDA label", labelingSections, therapeuticArea, biomarker}`` per row. The drug cell's
  ``(1)``, ``(2)`` suffix (one label, several biomarkers) is dropped from the drug name and kept
  in ``labelEntry``. The biomarker cell is free text (``ERBB2 (HER2)``, ``ESR, PGR (Hormone
  Receptor)``, ``Chromosome 5q``, ``Nonspecific (...)``): every symbol-like word before the
  parenthesis is looked up as an existing Gene (or a previous symbol), never created, so
  ``Chromosome 5q`` or ``ACHR`` make no Gene nodes (a few family names, ``BRCA``, ``RAS``,
  ``ESR``, ``NTRK``, ``CYB5R``, are read as their genes: :data:`FAMILIES`); the text stays in
  ``biomarker``.
- ``fda_pgx_associations_table.json`` ("Table of Pharmacogenetic Associations"): one
  ``Evidence {id: "fda:association:<section>:<drug>:<gene>:<subgroup>", kind: "pharmacogenetic
  association", level: "FDA association: <section>"}`` per row; its Gene column names genes
  (``TPMT and/or NUDT15`` names two), which are MERGEd.

Edges: -[:FOR_DRUG]-> Drug (lowercased name), -[:ABOUT]-> Gene.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.identity.drugs import drug_key
from kg.loaders import statements
from kg.loaders.errors import SourceFormatError
from kg.loaders.pgx_common import drug_stage, load_validated, name_only_drug, slug
from kg.loaders.pgx_files import read_json, require
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, SourceRelease, Stage
from kg.loaders.statements import stamped

SOURCE = "fda"
LICENCE = "US Government work (public domain); scrape by PharmGKB/fda-biomarker (ISC)"
URL = "https://www.fda.gov/drugs/science-research-drugs/table-pharmacogenomic-biomarkers-drug-labeling"

Row = dict[str, Any]

BIOMARKER_FILE = "fda_pgx_biomarker_table.json"
ASSOCIATION_FILE = "fda_pgx_associations_table.json"
BIOMARKER_COLUMNS = ("Drug", "Therapeutic Area", "Biomarker", "Labeling Sections")
ASSOCIATION_COLUMNS = ("Drug", "Gene", "Affected Subgroups+", "Description of Gene-Drug Interaction", "table")

#: The three sections of the FDA associations table (its ``table`` field).
ASSOCIATION_SECTIONS = {
    "recommendation": "Pharmacogenetic associations for which the data support therapeutic management recommendations",
    "impact": "Pharmacogenetic associations for which the data indicate a potential impact on safety or response",
    "pk": "Pharmacogenetic associations for which the data demonstrate a potential impact on pharmacokinetic properties only",
}

#: Family names the biomarker table uses for specific genes (ESR = estrogen receptor, RAS =
#: KRAS/NRAS in the anti-EGFR antibody labels, CYB5R = the methemoglobinemia gene CYB5R3).
FAMILIES: dict[str, tuple[str, ...]] = {
    "BRCA": ("BRCA1", "BRCA2"),
    "ESR": ("ESR1",),
    "RAS": ("KRAS", "NRAS"),
    "NTRK": ("NTRK1", "NTRK2", "NTRK3"),
    "CYB5R": ("CYB5R3",),
}

_ENTRY = re.compile(r"^(.*?)\s*\((\d+)\)\s*$")
_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
_SPLIT = re.compile(r"\s*(?:,|;|\band/or\b|\band\b)\s*")


@dataclass(frozen=True)
class FdaFiles:
    biomarkers: Path | None
    associations: Path | None

    @property
    def all(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.biomarkers, self.associations) if p is not None)


def find_files(path: Path) -> FdaFiles:
    """``path`` is the fda folder, or one of its two JSON files."""
    path = Path(path)
    if path.is_file():
        if path.name == ASSOCIATION_FILE:
            return FdaFiles(None, path)
        return FdaFiles(path, None)
    files = FdaFiles(
        path / BIOMARKER_FILE if (path / BIOMARKER_FILE).exists() else None,
        path / ASSOCIATION_FILE if (path / ASSOCIATION_FILE).exists() else None,
    )
    if not files.all:
        raise SourceFormatError(path, None, f"{BIOMARKER_FILE} or {ASSOCIATION_FILE}", "neither file")
    return files


def _table(path: Path, columns: tuple[str, ...]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    raw = read_json(path)
    require(path, raw, ("table",), "the top level")
    if not isinstance(raw["table"], list):
        raise SourceFormatError(path, None, "table to be a list of rows", type(raw["table"]).__name__)
    for k, row in enumerate(raw["table"]):
        require(path, row, columns, f"table[{k}]")
    return raw, raw["table"]


def release_version(files: FdaFiles) -> str:
    """The FDA content dates the scrapes carry: ``biomarkers-2022-08-11+associations-2021-03-22``."""
    parts = []
    if files.biomarkers is not None:
        raw, _ = _table(files.biomarkers, BIOMARKER_COLUMNS)
        parts.append("biomarkers-" + _iso_date(str(raw.get("fdaContentCurrentDate") or raw.get("collectedOn") or "")))
    if files.associations is not None:
        raw, _ = _table(files.associations, ASSOCIATION_COLUMNS)
        parts.append("associations-" + _iso_date(str(raw.get("fdaContentCurrentDate") or raw.get("collectedOn") or "")))
    return "+".join(parts)


def _iso_date(text: str) -> str:
    """``08/11/2022`` -> ``2022-08-11``; ``2021-03-22T17:01:03.533Z`` -> ``2021-03-22``."""
    if m := re.match(r"^(\d{2})/(\d{2})/(\d{4})", text):
        return f"{m.group(3)}-{m.group(1)}-{m.group(2)}"
    return text[:10] or "unknown"


def _clean(text: str) -> str:
    return " ".join(str(text).replace("\xa0", " ").split())


def drug_name(cell: str) -> tuple[str, int | None]:
    """``"Abemaciclib (2)"`` -> ``("Abemaciclib", 2)``."""
    text = _clean(cell)
    if m := _ENTRY.match(text):
        return m.group(1), int(m.group(2))
    return text, None


def biomarker_symbols(text: str) -> list[str]:
    """Gene-symbol-like words of a biomarker cell, parentheses dropped; fusions give both partners.

    ``"ESR, PGR (Hormone Receptor)"`` -> ``["ESR", "PGR"]``; ``"BCR-ABL1 (Philadelphia chromosome)"``
    -> ``["BCR-ABL1", "BCR", "ABL1"]``; ``"Chromosome 5q"`` -> ``[]``. Only those that are Genes in
    the graph are linked.
    """
    head = re.sub(r"\([^)]*\)", " ", _clean(text))
    out: list[str] = []
    for token in _SPLIT.split(head):
        token = token.strip()
        if not _SYMBOL.match(token):
            continue
        out.append(token)
        out.extend(FAMILIES.get(token, ()))
        if "-" in token and not token.startswith("HLA-"):
            out.extend(p for p in token.split("-") if _SYMBOL.match(p))
    return list(dict.fromkeys(out))


def association_genes(text: str) -> list[str]:
    """``"TPMT and/or NUDT15"`` -> ``["TPMT", "NUDT15"]``; ``"Nonspecific (NAT)"`` -> ``[]``."""
    return [t for t in (s.strip() for s in _SPLIT.split(_clean(text))) if _SYMBOL.match(t)]


def _key(*parts: str) -> str:
    key = ":".join(slug(p) for p in parts)
    return key if len(key) <= 200 else key[:180] + "-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def biomarker_rows(path: Path) -> Iterator[Row]:
    raw, table = _table(path, BIOMARKER_COLUMNS)
    seen: set[str] = set()
    for k, row in enumerate(table):
        name, entry = drug_name(row["Drug"])
        if not name:
            raise SourceFormatError(path, None, f"table[{k}].Drug to name a drug", repr(row["Drug"]))
        biomarker = _clean(row["Biomarker"])
        sections = [s for s in (_clean(x) for x in str(row["Labeling Sections"]).split(",")) if s]
        eid = "fda:biomarker:" + _key(_clean(row["Drug"]), biomarker)
        if eid in seen:
            raise SourceFormatError(path, None, f"table[{k}] to be the only row for its drug and biomarker", eid)
        seen.add(eid)
        yield {
            "id": eid,
            "drugIds": [drug_key(name)],
            "drugNames": [name],
            "genes": [],
            "geneCandidates": biomarker_symbols(biomarker),
            "props": {
                "source": SOURCE,
                "type": "pgx",
                "kind": "biomarker in labeling",
                "level": "FDA label",
                "statement": f"{name}: {biomarker} in the FDA drug labeling ({', '.join(sections)}).",
                "biomarker": biomarker,
                "labelingSections": sections,
                "therapeuticArea": _clean(row["Therapeutic Area"]) or None,
                "therapies": [name],
                "labelEntry": entry,
                "fdaContentDate": raw.get("fdaContentCurrentDate"),
                "url": raw.get("sourceUrl"),
            },
        }


def association_rows(path: Path) -> Iterator[Row]:
    raw, table = _table(path, ASSOCIATION_COLUMNS)
    seen: set[str] = set()
    for k, row in enumerate(table):
        name, _ = drug_name(row["Drug"])
        section = _clean(row["table"])
        if section not in ASSOCIATION_SECTIONS:
            raise SourceFormatError(path, None, f"table[{k}].table one of {', '.join(ASSOCIATION_SECTIONS)}", section)
        gene_text = _clean(row["Gene"])
        subgroup = _clean(row["Affected Subgroups+"])
        description = _clean(row["Description of Gene-Drug Interaction"])
        eid = "fda:association:" + _key(section, name, gene_text, subgroup)
        if eid in seen:
            raise SourceFormatError(
                path, None, f"table[{k}] to be the only row for its section, drug, gene and subgroup", eid
            )
        seen.add(eid)
        yield {
            "id": eid,
            "drugIds": [drug_key(name)],
            "drugNames": [name],
            "genes": association_genes(gene_text),
            "geneCandidates": [],
            "props": {
                "source": SOURCE,
                "type": "pgx",
                "kind": "pharmacogenetic association",
                "level": f"FDA association: {section}",
                "category": ASSOCIATION_SECTIONS[section],
                "statement": description,
                "affectedSubgroups": subgroup or None,
                "geneText": gene_text,
                "therapies": [name],
                "collectedOn": raw.get("collectedOn"),
                "url": raw.get("sourceUrl"),
            },
        }


def evidence_rows(files: FdaFiles) -> Iterator[Row]:
    if files.biomarkers is not None:
        yield from biomarker_rows(files.biomarkers)
    if files.associations is not None:
        yield from association_rows(files.associations)


def drug_rows(files: FdaFiles) -> Iterator[Row]:
    seen: set[str] = set()
    for row in evidence_rows(files):
        for did, name in zip(row["drugIds"], row["drugNames"], strict=True):
            if did not in seen:
                seen.add(did)
                yield name_only_drug(did, name.lower())


EVIDENCE = stamped(
    statements.PGX_EVIDENCE
    + """CALL (e, row, src) {
  UNWIND row.genes AS symbol
  MERGE (g:Gene {symbol: symbol})
"""
    + asserts("g", latest={"pgx": "true"})
    + """  MERGE (e)-[r:ABOUT]->(g)
  SET RELEASES(r)
}
CALL (e, row) {
  UNWIND row.geneCandidates AS symbol
  OPTIONAL MATCH (current:Gene {symbol: symbol})
  OPTIONAL MATCH (:GeneAlias {name: toLower(symbol)})-[:ALIAS_OF {kind: 'previous'}]->(renamed:Gene)
  WITH e, current, collect(DISTINCT renamed) AS renamed
  WITH e, CASE WHEN current IS NOT NULL THEN current WHEN size(renamed) = 1 THEN renamed[0] END AS g
  WHERE g IS NOT NULL
  MERGE (e)-[r:ABOUT]->(g)
  SET RELEASES(r)
}
"""
)


def stages(files: FdaFiles) -> list[Stage]:
    return [
        drug_stage(lambda: drug_rows(files)),
        Stage("evidence", EVIDENCE, lambda: evidence_rows(files), batch_size=1000),
    ]


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    files = find_files(Path(path))
    release = SourceRelease(SOURCE, version or release_version(files), LICENCE, files.all, URL)
    return load_validated(graph, release, stages(files), progress=progress)

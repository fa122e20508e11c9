"""PharmGKB (ClinPGx) clinical annotations and drug-label annotations (download of 2022-07-05).

Reads ../shared/data/pgx/pharmgkb (see its SOURCES.md; CC BY-SA 4.0, attribute PharmGKB):

- ``clinical_annotations.tsv`` -> ``Evidence {id: "pharmgkb:<Clinical Annotation ID>", kind:
  "clinical annotation", type: "pgx", level: 1A..4, ...}`` -[:FOR_DRUG]-> Drug,
  -[:ABOUT]-> Variant (every graph Variant with a named rsID; all rsIDs stay in ``rsids``),
  -[:ABOUT]-> Haplotype (a named star allele the PharmCAT loader wrote, e.g. ``CYP2C19*2``),
  -[:ABOUT]-> Gene, -[:FOR_DISEASE {linkedBy: 'name'}]-> Disease when one live DOID term has the
  phenotype's name (kg.loaders.disease_names; the others are listed in ``unresolvedDiseases``).
  The genotype-level text (``clinical_ann_alleles.tsv``) is not in the store, so ``statement``
  is a one-line summary built from the row; there are no PMIDs in this file (``pmidCount`` only).
- ``drugLabels.tsv`` -> ``Evidence {id: "pharmgkb:<label PA id>", kind: "drug label", agency,
  level: testing level}`` with the same edges.
- ``drugs.tsv.gz`` (or ``drugs.tsv`` as PharmGKB's ``drugs.zip`` holds it) fills in identifiers (PharmGKB, RxNorm, ATC), generic and trade names of the
  drugs those rows name (``DrugName`` lookups).

Variant and Haplotype links are to what is already in the graph: load after pharmcat (registry
order does), and after hgnc/doid for gene-symbol renames and disease links.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.identity.drugs import drug_key
from kg.loaders import statements
from kg.loaders.disease_names import FOR_DISEASE_BY_NAME, NameResolver
from kg.loaders.errors import SourceFormatError
from kg.loaders.pgx_common import drug_stage, load_validated, name_only_drug
from kg.loaders.pgx_files import numbered_tsv, read_tsv, split_list
from kg.loaders.release import LoadReport, SourceRelease, Stage
from kg.loaders.statements import stamped

SOURCE = "pharmgkb"
LICENCE = "CC BY-SA 4.0 (PharmGKB / ClinPGx; attribution required, share-alike)"
URL = "https://www.pharmgkb.org/downloads"

Row = dict[str, Any]

ANNOTATION_COLUMNS = (
    "Clinical Annotation ID",
    "Variant/Haplotypes",
    "Gene",
    "Level of Evidence",
    "Level Override",
    "Level Modifiers",
    "Score",
    "Phenotype Category",
    "PMID Count",
    "Evidence Count",
    "Drug(s)",
    "Phenotype(s)",
    "Latest History Date (YYYY-MM-DD)",
    "URL",
    "Specialty Population",
)
LABEL_COLUMNS = (
    "PharmGKB ID",
    "Name",
    "Source",
    "Biomarker Flag",
    "Testing Level",
    "Has Prescribing Info",
    "Has Dosing Info",
    "Has Alternate Drug",
    "Cancer Genome",
    "Prescribing",
    "Chemicals",
    "Genes",
    "Variants/Haplotypes",
    "Latest History Date (YYYY-MM-DD)",
)
DRUG_COLUMNS = ("PharmGKB Accession Id", "Name", "Generic Names", "Trade Names")

LEVELS = frozenset({"1A", "1B", "2A", "2B", "3", "4"})
_RSID = re.compile(r"\brs\d+\b")
_CREATED = re.compile(r"CREATED_(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class PharmgkbFiles:
    annotations: Path
    labels: Path | None
    drugs: Path | None
    created: Path | None

    @property
    def all(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.annotations, self.labels, self.drugs) if p is not None)


def find_files(path: Path) -> PharmgkbFiles:
    """``path`` is the pharmgkb folder, or clinical_annotations.tsv itself (then only that file)."""
    path = Path(path)
    if path.is_file():
        return PharmgkbFiles(path, None, None, None)
    annotations = path / "clinical_annotations.tsv"
    if not annotations.exists():
        raise SourceFormatError(path, None, "clinical_annotations.tsv in the PharmGKB folder", "no such file")
    created = sorted(path.glob("CREATED_*.txt"))

    def optional(name: str) -> Path | None:
        return path / name if (path / name).exists() else None

    return PharmgkbFiles(
        annotations,
        optional("drugLabels.tsv"),
        optional("drugs.tsv.gz") or optional("drugs.tsv"),
        created[-1] if created else None,
    )


def release_version(files: PharmgkbFiles) -> str:
    """The export date PharmGKB stamps on the download (``CREATED_2022-07-05.txt``), else the
    latest annotation history date."""
    if files.created is not None and (match := _CREATED.search(files.created.name)):
        return match.group(1)
    latest = max(
        (r["Latest History Date (YYYY-MM-DD)"] for r in read_tsv(files.annotations, ANNOTATION_COLUMNS)), default=""
    )
    return latest or "unknown"


# --- rows ----------------------------------------------------------------------------------------


def haplotype_candidates(text: str, genes: list[str], sep: str) -> list[str]:
    """Haplotype ids a ``Variant/Haplotypes`` cell may name, in the PharmCAT loader's id form.

    ``"CYP2C19*1, CYP2C19*2"`` -> ``["CYP2C19*1", "CYP2C19*2"]``; with one gene, a bare ``*2`` or
    ``Mediterranean`` is tried as ``G6PD*2`` / ``G6PD Mediterranean``. The whole cell is tried too
    (DPYD names contain ", ").
    """
    tokens = [t for t in split_list(text, sep) if not _RSID.fullmatch(t)]
    out: list[str] = []
    whole = text.strip()
    if whole and not _RSID.fullmatch(whole):
        out.append(whole)
    for token in tokens:
        out.append(token)
        if len(genes) == 1 and not token.startswith(genes[0]):
            out.append(genes[0] + token if token.startswith("*") else f"{genes[0]} {token}")
    return list(dict.fromkeys(out))


def _number(path: Path, line: int, value: str, column: str, kind: type) -> Any:
    if value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        raise SourceFormatError(path, line, f"{column} to be a number", value) from None


def annotation_rows(path: Path) -> Iterator[Row]:
    """One Evidence row per clinical annotation."""
    for line, row in numbered_tsv(path, ANNOTATION_COLUMNS):
        annotation_id = row["Clinical Annotation ID"].strip()
        if not annotation_id.isdigit():
            raise SourceFormatError(path, line, "a numeric Clinical Annotation ID", annotation_id)
        level = row["Level of Evidence"].strip()
        if level not in LEVELS:
            raise SourceFormatError(path, line, "Level of Evidence 1A, 1B, 2A, 2B, 3 or 4", level)
        variants = row["Variant/Haplotypes"].strip()
        genes = split_list(row["Gene"])
        drugs = split_list(row["Drug(s)"])
        categories = split_list(row["Phenotype Category"])
        phenotypes = split_list(row["Phenotype(s)"])
        rsids = sorted(set(_RSID.findall(variants)))
        haplotypes = [t for t in split_list(variants, ",") if not _RSID.fullmatch(t)]
        statement = (
            f"{variants} ({', '.join(genes) or 'no gene'}) and {', '.join(drugs) or 'no drug'}: "
            f"{' and '.join(c.lower() for c in categories) or 'clinical'} association"
            + (f" in {', '.join(phenotypes)}" if phenotypes else "")
            + f" (PharmGKB clinical annotation, level {level})."
        )
        yield {
            "id": f"pharmgkb:{annotation_id}",
            "drugIds": [drug_key(d) for d in drugs],
            "rsids": rsids,
            "haplotypeIds": haplotype_candidates(variants, genes, ","),
            "genes": genes,
            "diseaseNames": phenotypes,  # kg.loaders.disease_names
            "props": {
                "source": SOURCE,
                "type": "pgx",
                "kind": "clinical annotation",
                "annotationId": annotation_id,
                "level": level,
                "levelOverride": row["Level Override"] or None,
                "levelModifiers": split_list(row["Level Modifiers"]),
                "score": _number(path, line, row["Score"], "Score", float),
                "phenotypeCategory": categories,
                "significance": "; ".join(c.lower() for c in categories) or None,
                "statement": statement,
                "variants": variants,
                "rsids": rsids,
                "haplotypes": haplotypes,
                "genes": genes,
                "therapies": drugs,
                "phenotypes": phenotypes,
                "pmidCount": _number(path, line, row["PMID Count"], "PMID Count", int),
                "evidenceCount": _number(path, line, row["Evidence Count"], "Evidence Count", int),
                "specialtyPopulation": row["Specialty Population"] or None,
                "latestHistoryDate": row["Latest History Date (YYYY-MM-DD)"] or None,
                "url": row["URL"] or f"https://www.pharmgkb.org/clinicalAnnotation/{annotation_id}",
                "origin": "germline",
            },
        }


def label_rows(path: Path) -> Iterator[Row]:
    """One Evidence row per drug-label annotation (FDA, EMA, PMDA, HCSC, Swissmedic)."""
    for line, row in numbered_tsv(path, LABEL_COLUMNS):
        label_id = row["PharmGKB ID"].strip()
        if not label_id.startswith("PA"):
            raise SourceFormatError(path, line, "a PharmGKB PA id", label_id)
        genes = split_list(row["Genes"])
        drugs = split_list(row["Chemicals"])
        variants = row["Variants/Haplotypes"].strip()
        rsids = sorted(set(_RSID.findall(variants)))
        yield {
            "id": f"pharmgkb:{label_id}",
            "drugIds": [drug_key(d) for d in drugs],
            "rsids": rsids,
            "haplotypeIds": haplotype_candidates(variants, genes, ";") if variants else [],
            "genes": genes,
            "diseaseLinks": [],
            "props": {
                "source": SOURCE,
                "type": "pgx",
                "kind": "drug label",
                "agency": row["Source"] or None,
                "level": row["Testing Level"] or None,
                "statement": row["Name"],
                "biomarkerFlag": row["Biomarker Flag"] or None,
                "hasPrescribingInfo": bool(row["Has Prescribing Info"]),
                "hasDosingInfo": bool(row["Has Dosing Info"]),
                "hasAlternateDrug": bool(row["Has Alternate Drug"]),
                "cancerGenome": bool(row["Cancer Genome"]),
                "variants": variants or None,
                "rsids": rsids,
                "genes": genes,
                "therapies": drugs,
                "latestHistoryDate": row["Latest History Date (YYYY-MM-DD)"] or None,
                "url": f"https://www.pharmgkb.org/labelAnnotation/{label_id}",
            },
        }


def _quoted_list(cell: str) -> list[str]:
    """PharmGKB list cells: ``"Clopidogrel sulfate","Plavix"`` (or a single bare name)."""
    if not cell:
        return []
    return [v.strip() for v in next(csv.reader([cell])) if v.strip()]


def _xref_ids(cell: str) -> list[str]:
    return [v.strip() for v in cell.replace('"', "").split(",") if v.strip()]


def drug_rows(files: PharmgkbFiles) -> Iterator[Row]:
    """The drugs the annotations and labels name, with PharmGKB's identifiers and names."""
    wanted: dict[str, str] = {}
    sources: list[Iterable[Row]] = [annotation_rows(files.annotations)]
    if files.labels is not None:
        sources.append(label_rows(files.labels))
    for rows in sources:
        for row in rows:
            for name, did in zip(row["props"]["therapies"], row["drugIds"], strict=True):
                wanted.setdefault(did, name)
    if files.drugs is not None:
        for row in read_tsv(files.drugs, DRUG_COLUMNS):
            did = drug_key(row["Name"])
            if did not in wanted:
                continue
            name = wanted.pop(did)
            rxnorm = _xref_ids(row.get("RxNorm Identifiers", ""))
            yield {
                "id": did,
                "name": name,
                "pharmgkbId": row["PharmGKB Accession Id"] or None,
                "rxnormId": rxnorm[0] if rxnorm else None,
                "drugbankId": None,
                "atc": _xref_ids(row.get("ATC Identifiers", "")) or None,
                "synonyms": _quoted_list(row["Generic Names"]),
                "tradeNames": _quoted_list(row["Trade Names"]),
            }
    for did, name in wanted.items():
        yield name_only_drug(did, name)


# --- Cypher --------------------------------------------------------------------------------------

EVIDENCE = stamped(
    statements.PGX_EVIDENCE
    + """CALL (e, row) {
  UNWIND row.rsids AS rsid
  MATCH (v:Variant {rsid: rsid})
  MERGE (e)-[r:ABOUT]->(v)
  SET RELEASES(r)
}
CALL (e, row) {
  UNWIND row.haplotypeIds AS haplotypeId
  MATCH (h:Haplotype {id: haplotypeId})
  MERGE (e)-[r:ABOUT]->(h)
  SET RELEASES(r)
}
CALL (e, row, src) {
  UNWIND row.genes AS symbol
  OPTIONAL MATCH (current:Gene {symbol: symbol})
  OPTIONAL MATCH (:GeneAlias {name: toLower(symbol)})-[:ALIAS_OF {kind: 'previous'}]->(renamed:Gene)
  WITH e, src, symbol, current, collect(DISTINCT renamed) AS renamed
  WITH e, src, CASE WHEN current IS NULL AND size(renamed) = 1 THEN renamed[0].symbol ELSE symbol END AS resolved
  MERGE (g:Gene {symbol: resolved})
  MERGE (g)-[:ASSERTED_BY]->(src)
  MERGE (e)-[r:ABOUT]->(g)
  SET RELEASES(r)
}
"""
    + FOR_DISEASE_BY_NAME
)


def stages(files: PharmgkbFiles, names: NameResolver) -> list[Stage]:
    """Phenotype names are diseases given by name: linked through the disease resolver
    (kg.loaders.disease_names), the others listed as unresolved on the Evidence."""
    out = [
        drug_stage(lambda: drug_rows(files)),
        Stage(
            "clinical annotations",
            EVIDENCE,
            lambda: names.annotate(annotation_rows(files.annotations)),
            batch_size=1000,
        ),
    ]
    if files.labels is not None:
        labels = files.labels
        out.append(Stage("drug labels", EVIDENCE, lambda: label_rows(labels), batch_size=1000))
    return out


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    files = find_files(Path(path))
    release = SourceRelease(SOURCE, version or release_version(files), LICENCE, files.all, URL)
    return load_validated(graph, release, stages(files, NameResolver(graph)), progress=progress)

"""ClinVar 2024-06-01 (a column extract), a release of the source ``clinvar``, and the ACMG SF v3.0 gene list.

``clinvar_YYYYMMDD_GRCh38_selected_genes.tsv.gz``: eight columns cut from NCBI's GRCh38 ClinVar VCF
(CHROM, POS, REF, first ALT, CLNSIG, CLNREVSTAT, first GENEINFO symbol, last MC term), no
VariationID, RS, conditions or ORIGIN. The folder is ``clinvar_more/`` and ``kg load clinvar_more`` loads it,
but it is release ``clinvar@2024-06-01`` of the one source ``clinvar`` (``clinvar/``'s VCF is
``clinvar@2026-02-26``). Each row becomes a ``Variant`` and a release-scoped
``Evidence {id: "clinvar@2024-06-01:<variant id>"}`` (recordId = the variant id, the extract having
no VariationID; ``release`` = the key) of type pathogenicity, origin germline (CLNSIG is
ClinVar's aggregate *germline* classification). The consequence column is only the *last* MC term
(HFE C282Y reads ``intron_variant``), so it is kept as ``Variant.lastConsequence`` (a ClinVar MC
name) and not as a HAS_CONSEQUENCE edge, which means a consequence of the variant as a whole.
Its coverage is its gene list (the distinct GeneSymbol values): a newer ClinVar release covering only
some regions (the 2026-02-26 VCF) supersedes its evidence there only, whichever is loaded first
(kg/loaders/release.py; ``Evidence.supersededBy``).

``acmg_sf_v3.0_secondary_findings.tsv`` (Miller DT et al., Genet Med 23:1381-1390, 2021,
Supplementary Table 1): one ``SecondaryFinding`` per gene-disorder row, ``-[:FOR_GENE]->(Gene)``
and ``-[:FOR_DISEASE]->`` the Diseases its OMIM phenotype numbers reach through DOID xrefs.
``allelesRequired`` (2 for "P and LP (2 variants)" and homozygote-only rows, else 1) lets a risk
answer tell a heterozygous carrier in a recessive gene from a patient at risk.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.identity.variants import NO_ALT, is_primary_chrom, is_sequence, normalize
from kg.loaders import clinvar_fields as cv
from kg.loaders import coverage
from kg.loaders.clinvar import disease_lookup, numbered_lines
from kg.loaders.errors import SourceFormatError
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, Row, SourceRelease, Stage, load_release
from kg.loaders.sourcefile import checked_first
from kg.loaders.statements import stamped

NAME = "clinvar"  # the Source name; the folder, the module and `kg load clinvar_more` keep theirs
LICENCE = (
    "ClinVar: public domain (NCBI; cite Landrum MJ et al., Nucleic Acids Res 2018); "
    "ACMG SF v3.0: published table, cite Miller DT et al., Genet Med 2021"
)
URL = "https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/archive_2.0/2024/clinvar_20240601.vcf.gz"
TSV_HEADER = (
    "Chromosome",
    "Position",
    "RefAllele",
    "AltAllele",
    "ClinicalSignificance",
    "ReviewStatus",
    "GeneSymbol",
    "VariantType",
)
ACMG_HEADER = (
    "Gene",
    "Gene MIM",
    "Disease/Phentyope",
    "Disorder MIM",
    "Phenotype Category",
    "Inheritance",
    "SF List Version",
    "Variants to report",
)
ACMG_CITATION = (
    "Miller DT et al. ACMG SF v3.0 list for reporting of secondary findings in clinical exome and genome "
    "sequencing. Genet Med 23:1381-1390 (2021). doi:10.1038/s41436-021-01172-3"
)


def find_files(path: Path) -> tuple[Path, Path | None]:
    """(ClinVar TSV, ACMG table or None) in a folder; a single file is taken as the ClinVar TSV."""
    if path.is_file():
        return path, None
    tsvs = sorted(path.glob("clinvar_*.tsv.gz")) or sorted(path.glob("clinvar_*.tsv"))
    if len(tsvs) != 1:
        raise SourceFormatError(
            path, None, "exactly one clinvar_YYYYMMDD_*.tsv.gz in the folder", ", ".join(p.name for p in tsvs)
        )
    acmg = sorted(path.glob("acmg_sf*.tsv"))
    return tsvs[0], (acmg[0] if acmg else None)


def release_date(path: Path) -> str:
    """``clinvar_20240601_...`` -> ``2024-06-01`` (the extract has no header date)."""
    if match := re.search(r"clinvar_(\d{4})-?(\d{2})-?(\d{2})", path.name):
        return "-".join(match.groups())
    raise SourceFormatError(
        path, None, "a file name like clinvar_YYYYMMDD_*.tsv.gz carrying the release date", path.name
    )


def read_records(path: Path, release: str) -> Iterator[Row]:
    """One row per ClinVar record of the TSV, every field precomputed for the write Cypher."""
    for lineno, line in numbered_lines(path):
        if lineno == 1:
            if tuple(line.split("\t")) != TSV_HEADER:
                raise SourceFormatError(path, 1, "the header " + "\\t".join(TSV_HEADER), line[:160])
            continue
        if not line:
            continue
        yield _record(path, lineno, line, release)


def _record(path: Path, lineno: int, line: str, release: str) -> Row:
    fields = line.split("\t")
    if len(fields) != len(TSV_HEADER):
        raise SourceFormatError(
            path, lineno, f"{len(TSV_HEADER)} tab-separated columns", f"{len(fields)} columns: {line[:80]}"
        )
    chrom, pos_text, ref, alt, clnsig, revstat, gene, consequence = fields
    if not is_primary_chrom(chrom):
        raise SourceFormatError(path, lineno, "a chromosome 1-22, X, Y or MT", chrom)
    if not pos_text.isdigit() or int(pos_text) < 1:
        raise SourceFormatError(path, lineno, "a positive integer Position", pos_text)
    ref, alt = ref.upper(), alt.upper() or NO_ALT
    if not is_sequence(ref):
        raise SourceFormatError(path, lineno, "RefAllele made of A, C, G, T, N", ref)
    if alt != NO_ALT and not is_sequence(alt):
        raise SourceFormatError(path, lineno, "AltAllele made of A, C, G, T, N (or empty)", alt)
    allele = normalize(chrom, int(pos_text), ref, alt)
    return cv.compact(
        {
            **cv.variant_key(allele),
            "gene": gene if gene and not gene.startswith("LOC") else None,
            **_classification(clnsig, revstat),
            "consequence": consequence or None,
            "clinvarRelease": release,
        }
    )


@lru_cache(maxsize=4096)
def _classification(clnsig: str, revstat: str) -> dict[str, object]:
    """significance, classification, reviewStatus and stars of a CLNSIG/CLNREVSTAT pair (few distinct)."""
    significance = cv.spaced(clnsig)
    status = cv.spaced(revstat)
    return {
        "significance": significance,
        "classification": cv.classification(significance),
        "reviewStatus": status,
        "stars": cv.stars(status),
    }


def read_acmg(path: Path) -> Iterator[Row]:
    """ACMG SF rows; ``#`` comment lines skipped; quoted cells may hold newlines (CSV quoting)."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quotechar='"', strict=True)
        version = _acmg_version(path)
        header_seen = False
        for cells in _csv_rows(path, reader):
            if not cells or (cells[0].startswith("#") and not header_seen):
                continue
            cells = [c.strip() for c in cells]
            if not header_seen:
                if tuple(cells) != ACMG_HEADER:
                    raise SourceFormatError(
                        path, reader.line_num, "the header " + "\\t".join(ACMG_HEADER), "\t".join(cells)[:160]
                    )
                header_seen = True
                continue
            if len(cells) != len(ACMG_HEADER):
                raise SourceFormatError(
                    path, reader.line_num, f"{len(ACMG_HEADER)} tab-separated columns", f"{len(cells)} columns"
                )
            yield _acmg_row(path, reader.line_num, cells, version)
        if not header_seen:
            raise SourceFormatError(path, None, "the ACMG SF table header", "end of file")


def _csv_rows(path: Path, reader: Any) -> Iterator[list[str]]:
    try:
        yield from reader
    except (csv.Error, UnicodeDecodeError) as err:
        raise SourceFormatError(
            path, reader.line_num, "tab-separated cells with balanced quotes, UTF-8", str(err)
        ) from err


def _acmg_version(path: Path) -> str:
    match = re.search(r"v(\d+(?:\.\d+)+)", path.name)
    return match.group(1) if match else "3.0"


def _acmg_row(path: Path, lineno: int, cells: list[str], version: str) -> Row:
    gene, gene_mim, disorder, disorder_mim, category, inheritance, added, report = cells
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]*", gene):
        raise SourceFormatError(path, lineno, "an HGNC gene symbol in Gene", gene)
    if not added.isdigit():
        raise SourceFormatError(path, lineno, "an integer SF List Version", added)
    mims = re.findall(r"\d{6}", disorder_mim)
    key = "+".join(mims) if mims else re.sub(r"[^a-z0-9]+", "-", disorder.lower()).strip("-")
    biallelic = "2 variants" in report or "homozygote" in report.lower()
    return cv.compact(
        {
            "id": f"ACMG_SF_v{version}:{gene}:{key}",
            "gene": gene,
            "geneMim": gene_mim or None,
            "disorder": disorder,
            "phenotypeMim": mims[0] if mims else None,
            "phenotypeMims": mims,
            "categories": [c.strip() for c in category.splitlines() if c.strip()],
            "inheritance": inheritance,
            "addedInVersion": int(added),
            "reportWhat": report,
            "allelesRequired": 2 if biallelic else 1,
            "listVersion": version,
            "citation": ACMG_CITATION,
            "diseaseXrefs": [f"OMIM:{m}" for m in mims],
        }
    )


WRITE = stamped(
    """
MATCH (src:Source {key: $source})
CALL (src) {
  UNWIND $rows AS r
  WITH DISTINCT r.gene AS symbol WHERE symbol IS NOT NULL
  MERGE (g:Gene {symbol: symbol})
  MERGE (g)-[:ASSERTED_BY]->(src)
}
UNWIND $rows AS row
"""
    + cv.VARIANT_MERGE
    + """
"""
    + asserts("v", first={"gene": "row.gene"}, latest={"lastConsequence": "row.consequence"})
    + """MERGE (e:Evidence {id: $source + ':' + row.id})
SET e.source = 'clinvar', e.release = $source, e.recordId = row.id, e.type = 'pathogenicity', e.significance = row.significance,
    e.classification = row.classification, e.reviewStatus = row.reviewStatus, e.stars = row.stars,
    e.origin = 'germline', e.clinvarRelease = row.clinvarRelease
MERGE (e)-[:ASSERTED_BY]->(src)
MERGE (e)-[about:ABOUT]->(v)
SET RELEASES(about)
WITH v, row
CALL (v, row) {
  MATCH (g:Gene {symbol: row.gene})
  MERGE (v)-[r:IN_GENE]->(g)
  SET RELEASES(r)
}
"""
)

WRITE_ACMG = stamped("""
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (g:Gene {symbol: row.gene})
MERGE (g)-[:ASSERTED_BY]->(src)
MERGE (f:SecondaryFinding {id: row.id})
SET f.gene = row.gene, f.geneMim = row.geneMim, f.disorder = row.disorder, f.phenotypeMim = row.phenotypeMim,
    f.phenotypeMims = row.phenotypeMims, f.categories = row.categories, f.inheritance = row.inheritance,
    f.addedInVersion = row.addedInVersion, f.reportWhat = row.reportWhat, f.allelesRequired = row.allelesRequired,
    f.listVersion = row.listVersion, f.citation = row.citation
MERGE (f)-[:ASSERTED_BY]->(src)
MERGE (f)-[fg:FOR_GENE]->(g)
SET RELEASES(fg)
WITH f, row
CALL (f, row) {
  UNWIND row.diseaseIds AS diseaseId
  MATCH (d:Disease {id: diseaseId})
  MERGE (f)-[r:FOR_DISEASE]->(d)
  SET RELEASES(r)
}
""")


def stages(graph: Graph, tsv: Path, acmg: Path | None, date: str, genes: set[str] | None = None) -> list[Stage]:
    """The stages of a clinvar_more release; the ACMG table (82 rows) is checked before anything is written.
    ``genes`` collects the release's coverage (its gene symbols) from the rows written."""
    findings = list(read_acmg(acmg)) if acmg else []

    def rows() -> Iterator[Row]:
        for row in checked_first(lambda: read_records(tsv, date)):
            if genes is not None and row.get("gene"):
                genes.add(row["gene"])
            yield row

    result = [Stage("variants", WRITE, rows, batch_size=2000)]  # see clinvar.py
    if findings:
        result.append(Stage("secondary findings", WRITE_ACMG, lambda: _with_diseases(graph, findings), batch_size=500))
    return result


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    """Load the clinvar_more folder at ``path`` (ClinVar TSV + ACMG table), or one ClinVar TSV file."""
    tsv, acmg = find_files(Path(path))
    date = release_date(tsv)
    files = (tsv,) + ((acmg,) if acmg else ())
    genes: set[str] = set()
    release = SourceRelease(
        NAME,
        cv.release_version(version, date),
        LICENCE,
        files,
        URL,
        released_on=date,
        coverage=lambda: coverage.genes(genes),
    )
    return load_release(graph, release, stages(graph, tsv, acmg, date, genes), progress=progress)


def _with_diseases(graph: Graph, findings: list[Row]) -> Iterator[Row]:
    """Add ``diseaseIds``: the Diseases the row's OMIM phenotype numbers name (DOID ``OMIM:`` xrefs)."""
    lookup = disease_lookup(graph)
    for row in findings:
        diseases = sorted({d for xref in row.get("diseaseXrefs", ()) for d in lookup.get(xref, ())})
        yield cv.compact({**row, "diseaseIds": diseases})

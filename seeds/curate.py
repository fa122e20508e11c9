#!/usr/bin/env python3
"""Curate precision-kg's seed set: small subsets of the real releases, in each source's own format.

Run from the repository root; it reads the reference releases (``KG_DATA_DIR``, default
``../shared/data``) and rewrites the seed files, byte for byte the same on every run::

    python seeds/curate.py            # write seeds/
    python seeds/curate.py --check    # rebuild in a temporary folder, fail if seeds/ differs

``seeds/`` is laid out like the data directory, so every loader reads its seed folder exactly as
it reads the real release (kg.loaders.seeds loads each with version ``seed-<manifest version>``):

    genes/hgnc_complete_set_2024-10.txt.gz                      hgnc
    ontology/doid_2024-01-31.obo.gz, so_2024-11-18.obo.gz        doid, so
    civic/01-Aug-2024-*.tsv, -civic_accepted.vcf, hg19ToHg38.over.chain.gz     civic
    clinvar/clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz            clinvar
    clinvar_more/clinvar_20240601_GRCh38_selected_genes.tsv.gz, acmg_sf_v3.0_secondary_findings.tsv
    pgx/pharmcat/{definition/alleles,phenotype/cpic,phenotype/dpwg,guidelines}/, pgx/cpic/cpic_drug.tsv
    pgx/pharmgkb/clinical_annotations.tsv, drugLabels.tsv, drugs.tsv.gz (+ CREATED_, LICENSE.txt)
    pgx/fda/fda_pgx_biomarker_table.json, fda_pgx_associations_table.json
    patients/demo.vcf                                            the demo patient (not a release)

Rules. Every seed file keeps the real file's name and format (header lines, column order, line
ends, JSON layout) and holds whole, unmodified records of that release, selected by id; no value is
edited. ``.gz`` files are re-compressed deterministically (gzip, mtime 0). JSON tables (FDA,
PharmCAT exemptions) are cut to the selected entries and written in the release file's own layout
(the script checks that re-serialising the whole original that way reproduces it byte for byte).
Whole files are taken only where one file is one record — a PharmCAT gene definition, phenotype
table or guideline, stored gzipped when larger than 8 KB (the loaders read ``.json`` and
``.json.gz``, as the data directory itself does for its largest files) — and for PharmGKB's release
stamp and licence text.

What is selected, and why (a demo patient with melanoma, DOID:1909: see seeds/patients/README.md):

* civic (01-Aug-2024): evidence items for the targeted-therapy question —
  BRAF V600E in melanoma: EID1409 (skin melanoma, vemurafenib, level A), EID1398 (vemurafenib, B),
  EID95 (dabrafenib + trametinib combination, B) and the four items behind assertion AID7 (BRAF V600E,
  melanoma, dabrafenib + trametinib, AMP Tier I - Level A); BRAF V600E in colorectal cancer
  (EID1405: vemurafenib, *does not support*; EID9851: encorafenib + cetuximab, A), so an answer for
  melanoma can show colorectal-only evidence excluded; BRAF V600 at codon level (EID93, EID1411);
  EGFR T790M (EID238 erlotinib resistance A, EID239 gefitinib resistance B, EID1592 osimertinib
  sensitivity A); EGFR L858R (EID2994 erlotinib A) with assertion AID5 (erlotinib, NSCLC, Tier I -
  Level A) and its eight supporting items; KRAS G12C (EID9431 sotorasib A); the gene-level category
  KRAS Mutation (EID5345, colorectal, cetuximab/panitumumab resistance A); for the matcher's levels,
  BRAF V600D (EID94, dabrafenib, melanoma, B: the allele whose codon spelling CA>TT is V600E at
  protein level) and the codon-level KRAS G13 (EID488, multiple myeloma, prognostic B: an annotated
  p.Gly13Asp anywhere in KRAS meets it); for the loader's reading of CIViC, EGFR E746_A750del (EID4198,
  gefitinib, NSCLC, C: a deletion whose anchor base only the VCF gives), the complex profile
  "BRAF Amplification AND ( BRAF V600E OR BRAF V600K )" (EID6262, melanoma, resistance B) and KRAS
  G12C in "Solid Tumor" (EID7572, adagrasib, D: a disease without a DOID). Then every molecular
  profile those rows name, every variant of those profiles, the GeneSummaries rows of their genes,
  the civic_accepted.vcf records of those variants (with the VCF header), and the chain blocks of
  hg19ToHg38.over.chain.gz that contain the variants' GRCh37 positions (each original chain cut
  down to those blocks: same score, names, sizes, strand and id; positions outside them are
  unmapped). The script checks that every selected variant lifts to the same GRCh38 place with the
  subset chain as with the full one.
* clinvar (2026-02-26 VCF): the full header and 16 records by VariationID — BRCA1 17662 (c.68_69del)
  and 17677 (c.5266dup), BRCA2 9325 (c.5946del), all Pathogenic, reviewed by expert panel (3 stars);
  BRCA2 9329 (N372H, Benign, expert panel), BRCA1 54664 (Likely benign, expert panel), BRCA1 491071
  (Uncertain significance, expert panel), BRCA2 37722 (conflicting classifications); MUTYH 5293
  (Y179C) and 5294 (G396D), Pathogenic/Likely pathogenic (recessive: one allele makes a carrier);
  TP53 12374 (R175H) and 12347 (R248W), Pathogenic, expert panel; APC 816, Pathogenic, expert panel;
  MLH1 495762 and 663235, which the older clinvar_more release classifies differently; APC 825
  (T>G, Pathogenic) and 42238 (T>C, Benign) at the same position 5:112827157, a multi-allelic site.
* clinvar_more (2024-06-01 extract): the header and five rows by CHROM/POS/REF/ALT — MLH1
  3:37048507 C>T (Uncertain significance in 2024, Likely benign in the clinvar subset: newer wins) and
  3:37048964 T>G (Uncertain significance in 2024, Likely pathogenic later), CFTR F508del
  7:117559590 ATCT>A (Pathogenic, practice guideline), DPYD 1:97082391 T>A (rs67376798, drug response,
  expert panel) and CYP2C19 10:94775367 A>G (rs12769205, drug response, practice guideline); the ACMG
  SF v3.0 table's two comment lines, header and the rows for APC, BRCA1, BRCA2, MLH1, MUTYH, TP53.
* pharmcat (PharmCAT v2.10.0): complete allele definitions, CPIC and DPWG phenotype tables of
  CYP2C19, CYP2C9, CYP3A5, DPYD, NUDT15, SLCO1B1, TPMT, UGT1A1, VKORC1 (complete, because a trimmed
  definition would change the star-allele caller's results; the script checks that the loader's
  reader reads each seed gene's definition, exemption and tables exactly as from the release), the
  exemptions.json entries of those genes, and the guideline files for clopidogrel (CYP2C19), fluorouracil and capecitabine (DPYD),
  azathioprine / mercaptopurine / thioguanine (TPMT, NUDT15), warfarin (CYP2C9, VKORC1; CPIC's file
  has no recommendations, DPWG's have), simvastatin (SLCO1B1), tacrolimus (CYP3A5), atazanavir and
  irinotecan (UGT1A1); the cpic_drug.tsv rows of the drugs those guidelines name.
* pharmgkb (2022-07-05): level-1A clinical annotations for those drug-gene pairs, the FDA drug-label
  annotations of the targeted therapies and PGx drugs in the seeds, the drugs.tsv.gz rows of the
  drugs they name, and the release's CREATED_ stamp and LICENSE.txt (CC BY-SA 4.0 attribution).
* fda: biomarker-table rows for those drugs' BRAF/EGFR/KRAS/RAS/CYP2C19/DPYD/CYP2C9/VKORC1/TPMT/NUDT15
  labels and the pharmacogenetic-association rows for clopidogrel, fluorouracil, capecitabine,
  mercaptopurine, warfarin, simvastatin and tacrolimus (top-level metadata kept).
* hgnc (2024-10): the genes the other subsets name (listed in GENES, plus every HGNC symbol found in
  the selected records), with the file's header; and for gene-symbol resolution KMT2A (previous
  symbol MLL), ERBB2 (alias HER2), ABCC9 and MED23 (both have the alias SUR2: an ambiguous name).
* doid (2024-01-31): the terms the CIViC rows use, the diseases the selected ClinVar conditions and
  ACMG rows reach through DOID xrefs (the same xref keys the loaders use), a few named terms (breast
  and ovarian cancer, hereditary breast ovarian cancer syndrome, familial adenomatous polyposis,
  Lynch and Li-Fraumeni syndromes; the obsolete DOID:955 with its replacement DOID:3192, so that
  following REPLACED_BY is tested on the seeds), and all their IS_A ancestors; the OBO header and
  Typedefs.
* so (2024-11-18): the terms the selected ClinVar records (MC, CLNVCSO) and CIViC variant types
  name, with all IS_A ancestors; the OBO header and Typedefs.
* patients/demo.vcf is written from the seed files themselves (CYP2C19 and DPYD definition
  positions and REF bases, ClinVar records, the lifted CIViC alleles): see seeds/patients/README.md.

Left out on purpose: CIViC VariantGroupSummaries (the loader does not read it), PharmCAT
messages.json / pharmcat_positions.vcf / chr_build_mapping.tsv, PharmGKB clinicalVariants.tsv and
drugLabels.byGene.tsv, CPIC gene/term tables, PGS scores (no loader).
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import gzip
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.identity.diseases import xref_keys  # noqa: E402
from kg.identity.variants import Allele, canonical_chrom, civic_variant_id, normalize  # noqa: E402
from kg.loaders.liftover import Liftover  # noqa: E402
from kg.loaders.obo import read_terms  # noqa: E402
from kg.loaders.pharmcat_files import find_files, read_definitions, read_gene_phenotypes  # noqa: E402
from kg.matcher.build import GRCH38_LENGTHS  # noqa: E402

csv.field_size_limit(sys.maxsize)

# --- the selection --------------------------------------------------------------------------

CIVIC_PREFIX = "01-Aug-2024"
CIVIC_EVIDENCE = (
    1409,
    1398,
    95,  # BRAF V600E, melanoma: vemurafenib (A, B), dabrafenib + trametinib
    1405,
    9851,  # BRAF V600E, colorectal: vemurafenib does not support; encorafenib + cetuximab
    93,
    1411,  # BRAF V600 (codon level), melanoma / skin melanoma, dabrafenib + trametinib
    238,
    239,
    1592,  # EGFR T790M: erlotinib / gefitinib resistance, osimertinib sensitivity
    2994,  # EGFR L858R, erlotinib, A
    9431,  # KRAS G12C, sotorasib, A
    5345,  # KRAS Mutation (gene-level category), colorectal, anti-EGFR antibody resistance
    94,  # BRAF V600D, melanoma, dabrafenib, B: V600E's other codon spelling meets it at protein level
    488,  # KRAS G13 (codon level), multiple myeloma, prognostic B
    4198,  # EGFR E746_A750del, NSCLC, gefitinib, C: deletion, anchor base from the VCF
    6262,  # BRAF Amplification AND ( BRAF V600E OR BRAF V600K ), melanoma, resistance B: a complex profile
    7572,  # KRAS G12C, Solid Tumor (no DOID: a CIViC-only disease), adagrasib, D
)
CIVIC_ASSERTIONS = (7, 5)  # BRAF V600E + dabrafenib/trametinib; EGFR L858R + erlotinib (AMP Tier I)

CLINVAR_FILE = "clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz"
CLINVAR_IDS = (
    17662,
    17677,
    9325,  # BRCA1/BRCA2 Pathogenic, reviewed by expert panel
    9329,
    54664,
    491071,
    37722,  # Benign, Likely benign, Uncertain significance, conflicting
    5293,
    5294,  # MUTYH Pathogenic/Likely pathogenic (recessive)
    12374,
    12347,  # TP53 R175H, R248W
    816,  # APC
    495762,
    663235,  # MLH1, classified differently by the older clinvar_more release
    825,
    42238,  # APC 5:112827157 T>G Pathogenic and T>C Benign: one multi-allelic site
)

CLINVAR_MORE_FILE = "clinvar_20240601_GRCh38_selected_genes.tsv.gz"
ACMG_FILE = "acmg_sf_v3.0_secondary_findings.tsv"
CLINVAR_MORE_ROWS = (
    ("3", "37048507", "C", "T"),  # MLH1: VUS here, Likely benign in clinvar 2026-02-26
    ("3", "37048964", "T", "G"),  # MLH1: VUS here, Likely pathogenic in clinvar 2026-02-26
    ("7", "117559590", "ATCT", "A"),  # CFTR F508del, practice guideline
    ("1", "97082391", "T", "A"),  # DPYD rs67376798 (c.2846A>T), drug response
    ("10", "94775367", "A", "G"),  # CYP2C19 rs12769205 (part of *2), drug response
)
ACMG_GENES = ("APC", "BRCA1", "BRCA2", "MLH1", "MUTYH", "TP53")

PGX_GENES = ("CYP2C19", "CYP2C9", "CYP3A5", "DPYD", "NUDT15", "SLCO1B1", "TPMT", "UGT1A1", "VKORC1")
GUIDELINES = (
    "CPIC_clopidogrel_and_CYP2C19",
    "DPWG_clopidogrel_and_CYP2C19",
    "CPIC_fluorouracil_and_DPYD",
    "CPIC_capecitabine_and_DPYD",
    "DPWG_fluorouracil_and_DPYD",
    "DPWG_capecitabine_and_DPYD",
    "CPIC_azathioprine_and_NUDT15_TPMT",
    "CPIC_mercaptopurine_and_NUDT15_TPMT",
    "CPIC_thioguanine_and_NUDT15_TPMT",
    "DPWG_mercaptopurine_and_TPMT",
    "DPWG_mercaptopurine_and_NUDT15",
    "CPIC_warfarin_and_CYP2C9_CYP4F2_VKORC1",
    "DPWG_warfarin_and_CYP2C9",
    "DPWG_warfarin_and_VKORC1",
    "CPIC_simvastatin_and_SLCO1B1",
    "DPWG_simvastatin_and_SLCO1B1",
    "CPIC_tacrolimus_and_CYP3A5",
    "DPWG_tacrolimus_and_CYP3A5",
    "CPIC_atazanavir_and_UGT1A1",
    "DPWG_irinotecan_and_UGT1A1",
)
GZIP_OVER = 8 * 1024  # PharmCAT JSON larger than this is stored gzipped

PHARMGKB_ANNOTATIONS = (
    "1043858794",  # CYP2C19 star alleles, clopidogrel
    "981203618",
    "1451274090",  # DPYD rs67376798, fluorouracil / capecitabine
    "1184648909",
    "1451448820",  # TPMT / NUDT15 star alleles, mercaptopurine
    "1447672658",
    "655385012",  # CYP2C9 star alleles / VKORC1 rs9923231, warfarin
    "655384011",  # SLCO1B1 rs4149056, simvastatin
    "981203719",  # CYP3A5 star alleles, tacrolimus
)
PHARMGKB_LABELS = (
    "PA166104858",
    "PA166114912",
    "PA166115365",  # FDA: vemurafenib, dabrafenib, trametinib and BRAF
    "PA166131627",
    "PA166246485",  # osimertinib and EGFR, sotorasib and KRAS
    "PA166104777",
    "PA166104807",
    "PA166104802",  # clopidogrel CYP2C19, fluorouracil / capecitabine DPYD
    "PA166104810",
    "PA166104776",  # mercaptopurine NUDT15/TPMT, warfarin CYP2C9/VKORC1
)
FDA_BIOMARKER_DRUGS = (
    "Vemurafenib (1)",
    "Dabrafenib (1)",
    "Trametinib (1)",
    "Encorafenib (1)",
    "Osimertinib",
    "Erlotinib",
    "Sotorasib",
    "Cetuximab (2)",
    "Clopidogrel",
    "Capecitabine",
    "Fluorouracil (1)",
    "Fluorouracil (2)",
    "Warfarin (1)",
    "Warfarin (2)",
    "Mercaptopurine (1)",
    "Mercaptopurine (2)",
)
FDA_ASSOCIATION_DRUGS = (
    "Clopidogrel",
    "Capecitabine",
    "Fluorouracil",
    "Mercaptopurine",
    "Warfarin",
    "Simvastatin",
    "Tacrolimus",
)

GENES = (  # the genes the demo questions are about; symbols found in the selected records are added
    "BRAF",
    "EGFR",
    "KRAS",
    "NRAS",
    "BRCA1",
    "BRCA2",
    "TP53",
    "MUTYH",
    "APC",
    "MLH1",
    "CFTR",
    *PGX_GENES,
    "CYP4F2",
    "KMT2A",
    "ERBB2",
    "ABCC9",
    "MED23",  # resolution: previous symbol MLL, alias HER2, SUR2 of two genes
)
DISEASES = (  # named terms besides those the records reach (ancestors are added)
    "DOID:1909",
    "DOID:8923",
    "DOID:9256",
    "DOID:3908",
    "DOID:3910",
    "DOID:1612",
    "DOID:2394",
    "DOID:5683",
    "DOID:0050424",
    "DOID:3883",
    "DOID:3012",
    "DOID:955",  # obsolete benign neurilemmoma, replaced by neurilemmoma (DOID:3192): an old id resolves
)

HGNC_FILE = "hgnc_complete_set_2024-10.txt.gz"
DOID_FILE = "doid_2024-01-31.obo.gz"
SO_FILE = "so_2024-11-18.obo.gz"
CHAIN_FILE = "hg19ToHg38.over.chain.gz"

# --- writing --------------------------------------------------------------------------------


@dataclass
class Curation:
    data: Path
    out: Path
    genes: set[str] = field(default_factory=set)
    diseases: set[str] = field(default_factory=set)
    disease_xrefs: set[str] = field(default_factory=set)  # canonical xref keys the records name
    so_ids: set[str] = field(default_factory=set)
    so_names: set[str] = field(default_factory=set)
    counts: dict[str, str] = field(default_factory=dict)
    lifted: dict[int, Allele] = field(default_factory=dict)  # CIViC variant id -> GRCh38 allele

    def write(self, relative: str, text: str, note: str) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        if path.name.endswith(".gz"):
            with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(data)
        else:
            path.write_bytes(data)
        self.counts[relative] = note

    def copy(self, relative_from: str, relative_to: str, note: str) -> None:
        """A whole file (PharmCAT JSON, licence text); gzipped on the way when it is large."""
        text = read_text(self.data / relative_from)
        if relative_to.endswith(".json") and len(text.encode()) > GZIP_OVER:
            relative_to += ".gz"
        self.write(relative_to, text, note)


def read_text(path: Path) -> str:
    """The file's text with its own line ends (``newline=''``), decompressing ``.gz``."""
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            return handle.read()
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def dump_like(original: str, subset: object) -> str:
    """``subset`` serialised exactly as the release's JSON file is (indent, escaping, final newline);
    checked by re-serialising the whole original file the same way."""
    for indent in (2, 4, None):
        for ascii_only in (False, True):

            def dump(obj: object, indent: int | None = indent, ascii_only: bool = ascii_only) -> str:
                text = json.dumps(obj, indent=indent, ensure_ascii=ascii_only)
                return text + "\n" if original.endswith("\n") else text

            if dump(json.loads(original)) == original:
                return dump(subset)
    raise SystemExit("curate: cannot reproduce the layout of a JSON file; refusing to re-serialise it")


def lines_of(path: Path) -> list[str]:
    return read_text(path).splitlines(keepends=True)


def tsv_rows(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """(raw line, header -> cell) of a tab-separated file without quoting (first line = header)."""
    iterator = iter(lines)
    header = next(iterator).rstrip("\r\n").split("\t")
    for line in iterator:
        yield line, dict(zip(header, line.rstrip("\r\n").split("\t"), strict=False))


def require(found: Iterable[object], wanted: Iterable[object], what: str) -> None:
    missing = sorted(set(map(str, wanted)) - set(map(str, found)))
    if missing:
        raise SystemExit(f"curate: {what} not found in the release: {', '.join(missing)}")


# --- CIViC ----------------------------------------------------------------------------------


def curate_civic(c: Curation) -> None:
    src = c.data / "civic"

    def table(kind: str) -> list[tuple[str, dict[str, str]]]:
        return list(tsv_rows(lines_of(src / f"{CIVIC_PREFIX}-{kind}.tsv")))

    def keep(kind: str, rows: list[tuple[str, dict[str, str]]], what: str) -> None:
        header = lines_of(src / f"{CIVIC_PREFIX}-{kind}.tsv")[0]
        c.write(f"civic/{CIVIC_PREFIX}-{kind}.tsv", header + "".join(line for line, _ in rows), f"{len(rows)} {what}")

    assertions = [
        (line, row) for line, row in table("AssertionSummaries") if int(row["assertion_id"]) in CIVIC_ASSERTIONS
    ]
    require((r["assertion_id"] for _, r in assertions), CIVIC_ASSERTIONS, "CIViC assertions")
    evidence_ids = {str(e) for e in CIVIC_EVIDENCE}
    for _, row in assertions:
        evidence_ids |= {e.strip() for e in row["evidence_item_ids"].split(",") if e.strip()}
    evidence = [(line, row) for line, row in table("ClinicalEvidenceSummaries") if row["evidence_id"] in evidence_ids]
    require((r["evidence_id"] for _, r in evidence), evidence_ids, "CIViC evidence items")

    profile_ids = {row["molecular_profile_id"] for _, row in evidence + assertions}
    profiles = [
        (line, row) for line, row in table("MolecularProfileSummaries") if row["molecular_profile_id"] in profile_ids
    ]
    require((r["molecular_profile_id"] for _, r in profiles), profile_ids, "CIViC molecular profiles")
    variant_ids = {v.strip() for _, row in profiles for v in row["variant_ids"].split(",") if v.strip()}
    variants = [(line, row) for line, row in table("VariantSummaries") if row["variant_id"] in variant_ids]
    require((r["variant_id"] for _, r in variants), variant_ids, "CIViC variants")
    gene_names = {row["gene"] for _, row in variants}
    genes = [(line, row) for line, row in table("GeneSummaries") if row["name"] in gene_names]
    require((r["name"] for _, r in genes), gene_names, "CIViC genes")

    keep("ClinicalEvidenceSummaries", evidence, "evidence items")
    keep("AssertionSummaries", assertions, "assertions")
    keep("MolecularProfileSummaries", profiles, "molecular profiles")
    keep("VariantSummaries", variants, "variants")
    keep("GeneSummaries", genes, "genes")

    vcf_lines = lines_of(src / f"{CIVIC_PREFIX}-civic_accepted.vcf")
    header = [line for line in vcf_lines if line.startswith("#")]
    records = [line for line in vcf_lines if not line.startswith("#") and line.split("\t")[2] in variant_ids]
    c.write(f"civic/{CIVIC_PREFIX}-civic_accepted.vcf", "".join(header + records), f"{len(records)} VCF records")

    c.genes |= gene_names
    for _, row in evidence + assertions:
        if row["doid"]:
            c.diseases.add(f"DOID:{row['doid']}")
    for _, row in variants:
        c.so_names |= {t.strip() for t in row["variant_types"].split(",") if t.strip()}
    curate_chain(c, [row for _, row in variants])


def _positions(variant: dict[str, str]) -> set[tuple[str, int]]:
    """0-based GRCh37 positions a lift of this CIViC variant reads (alleles: every base and the
    anchor base before it; long regions: both ends)."""
    out: set[tuple[str, int]] = set()
    if variant["reference_build"] not in ("", "GRCh37"):
        return out
    for chrom, start, stop in (
        (variant["chromosome"], variant["start"], variant["stop"]),
        (variant["chromosome2"], variant["start2"], variant["stop2"]),
    ):
        if not chrom or not start:
            continue
        first, last = int(start), int(stop or start)
        name = canonical_chrom(chrom)
        span = range(first - 1, last + 1) if last - first < 1000 else (first, last)
        out |= {(name, p - 1) for p in span}
    return out


@dataclass
class _Chain:
    header: list[str]
    blocks: list[tuple[int, int, int]]  # (tStart, qStart, size), 0-based


def _read_chains(path: Path) -> list[_Chain]:
    chains: list[_Chain] = []
    current: _Chain | None = None
    t = q = 0
    for line in read_text(path).splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "chain":
            current = _Chain(fields, [])
            chains.append(current)
            t, q = int(fields[5]), int(fields[10])
            continue
        assert current is not None
        size = int(fields[0])
        current.blocks.append((t, q, size))
        if len(fields) == 3:
            t += size + int(fields[1])
            q += size + int(fields[2])
    return chains


def curate_chain(c: Curation, variants: list[dict[str, str]]) -> None:
    wanted: set[tuple[str, int]] = set()
    for variant in variants:
        wanted |= _positions(variant)
    out: list[str] = []
    kept = 0
    for chain in _read_chains(c.data / "civic" / CHAIN_FILE):
        name = chain.header[2]
        blocks = [b for b in chain.blocks if any(n == name and b[0] <= p < b[0] + b[2] for n, p in wanted)]
        if not blocks:
            continue
        header = list(chain.header)
        header[5], header[6] = str(blocks[0][0]), str(blocks[-1][0] + blocks[-1][2])
        header[10], header[11] = str(blocks[0][1]), str(blocks[-1][1] + blocks[-1][2])
        out.append(" ".join(header) + "\n")
        for (t, q, size), following in zip(blocks, [*blocks[1:], None], strict=True):
            if following is None:
                out.append(f"{size}\n")
            else:
                out.append(f"{size}\t{following[0] - t - size}\t{following[1] - q - size}\n")
        out.append("\n")
        kept += len(blocks)
    c.write(f"civic/{CHAIN_FILE}", "".join(out), f"{kept} chain blocks covering the selected variants")

    full, subset = Liftover(c.data / "civic" / CHAIN_FILE), Liftover(c.out / "civic" / CHAIN_FILE)
    for variant in variants:
        if variant["reference_build"] not in ("", "GRCh37") or not variant["start"]:
            continue
        chrom, start, stop = variant["chromosome"], int(variant["start"]), int(variant["stop"] or variant["start"])
        ref, alt = variant["reference_bases"], variant["variant_bases"]
        checks = [
            (lo.lift_region(chrom, start, stop), lo.lift_allele(chrom, start, ref or "N")) for lo in (full, subset)
        ]
        if checks[0] != checks[1]:
            raise SystemExit(f"curate: CIViC variant {variant['variant_id']} lifts differently with the subset chain")
        allele = checks[1][1]
        if ref and alt and len(ref) == len(alt) == 1 and hasattr(allele, "pos"):
            c.lifted[int(variant["variant_id"])] = normalize(allele.chrom, allele.pos, ref, alt)


# --- ClinVar --------------------------------------------------------------------------------


def _info(text: str) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in text.split(";"))


def curate_clinvar(c: Curation) -> dict[int, list[str]]:
    """Returns VariationID -> the record's VCF columns (the demo patient reads them)."""
    lines = lines_of(c.data / "clinvar" / CLINVAR_FILE)
    header = [line for line in lines if line.startswith("#")]
    wanted = {str(i) for i in CLINVAR_IDS}
    records = [line for line in lines if not line.startswith("#") and line.split("\t", 3)[2] in wanted]
    require((r.split("\t", 3)[2] for r in records), wanted, "ClinVar VariationIDs")
    c.write(f"clinvar/{CLINVAR_FILE}", "".join(header + records), f"{len(records)} records")
    out: dict[int, list[str]] = {}
    for record in records:
        fields = record.rstrip("\r\n").split("\t")
        info = _info(fields[7])
        out[int(fields[2])] = fields
        c.genes |= {g.split(":")[0] for g in info.get("GENEINFO", "").split("|") if g}
        for condition in info.get("CLNDISDB", "").split("|"):
            for xref in condition.split(","):
                if xref and xref != ".":
                    c.disease_xrefs.update(xref_keys(xref))
        for consequence in info.get("MC", "").split(","):
            if consequence:
                c.so_ids.add(consequence.split("|")[0])
        if info.get("CLNVCSO"):
            c.so_ids.add(info["CLNVCSO"])
    return out


def curate_clinvar_more(c: Curation) -> None:
    lines = lines_of(c.data / "clinvar_more" / CLINVAR_MORE_FILE)
    wanted = set(CLINVAR_MORE_ROWS)
    rows = [line for line in lines[1:] if tuple(line.split("\t", 4)[:4]) in wanted]
    require((tuple(r.split("\t", 4)[:4]) for r in rows), wanted, "clinvar_more rows")
    c.write(f"clinvar_more/{CLINVAR_MORE_FILE}", lines[0] + "".join(rows), f"{len(rows)} records")
    for row in rows:
        fields = row.rstrip("\r\n").split("\t")
        c.genes.add(fields[6])
        c.so_names.add(fields[7])

    # The ACMG table has CRLF and LF line ends and quoted cells with newlines: keep whole records.
    text = read_text(c.data / "clinvar_more" / ACMG_FILE)
    records: list[str] = []
    for line in text.splitlines(keepends=True):
        if records and records[-1].count('"') % 2:
            records[-1] += line
        else:
            records.append(line)
    comments = [r for r in records if r.startswith("#")]
    header = next(r for r in records if r.startswith("Gene\t"))
    chosen = [r for r in records if r.split("\t", 1)[0] in ACMG_GENES]
    require((r.split("\t", 1)[0] for r in chosen), ACMG_GENES, "ACMG SF genes")
    c.write(f"clinvar_more/{ACMG_FILE}", "".join([*comments, header, *chosen]), f"{len(chosen)} gene-disorder rows")
    c.genes |= set(ACMG_GENES)
    for row in csv.reader(io.StringIO("".join(chosen), newline=""), delimiter="\t"):
        for mim in re.findall(r"\d{6}", row[3]):
            c.disease_xrefs.update(xref_keys(f"OMIM:{mim}"))


# --- PGx ------------------------------------------------------------------------------------


def curate_pharmcat(c: Curation) -> set[str]:
    """Returns the drug names the guidelines relate to."""
    base = "pgx/pharmcat"
    for gene in PGX_GENES:
        c.copy(
            f"{base}/definition/alleles/{gene}_translation.json",
            f"{base}/definition/alleles/{gene}_translation.json",
            "whole definition file",
        )
        for table in ("cpic", "dpwg"):
            for name in (f"{gene}.json", f"{gene}.json.gz"):
                if (c.data / base / "phenotype" / table / name).exists():
                    text = read_text(c.data / base / "phenotype" / table / name)
                    target = f"{base}/phenotype/{table}/{gene}.json" + (".gz" if len(text.encode()) > GZIP_OVER else "")
                    c.write(target, text, "whole phenotype table")
    original = read_text(c.data / base / "definition/alleles/exemptions.json")
    exemptions = json.loads(original)
    kept = [e for e in exemptions if e["gene"] in PGX_GENES]
    c.write(
        f"{base}/definition/alleles/exemptions.json",
        dump_like(original, kept),
        f"{len(kept)} of {len(exemptions)} gene entries",
    )
    drugs: set[str] = set()
    for name in GUIDELINES:
        c.copy(f"{base}/guidelines/{name}.json", f"{base}/guidelines/{name}.json", "whole guideline file")
        raw = json.loads(read_text(c.data / base / "guidelines" / f"{name}.json"))
        drugs |= {chem["name"] for chem in raw["guideline"].get("relatedChemicals") or ()}
        c.genes |= {g["symbol"] for g in raw["guideline"].get("relatedGenes") or ()}
    c.genes |= set(PGX_GENES)
    check_pharmcat_complete(c)

    lines = lines_of(c.data / "pgx/cpic/cpic_drug.tsv")
    rows = [line for line, row in tsv_rows(lines) if row["name"] in drugs]
    c.write("pgx/cpic/cpic_drug.tsv", lines[0] + "".join(rows), f"{len(rows)} drugs")
    return drugs


def check_pharmcat_complete(c: Curation) -> None:
    """The seed genes' definitions (with their exemptions) and phenotype tables, read by the loader's
    one PharmCAT reader, are exactly the release's: the star-allele caller, fed from a seed graph,
    calls these genes as it would from the full release."""
    seed, real = find_files(c.out / "pgx/pharmcat"), find_files(c.data / "pgx/pharmcat")
    seed_definitions, real_definitions = read_definitions(seed), read_definitions(real)
    if set(seed_definitions) != set(PGX_GENES):
        raise SystemExit(f"curate: seed PharmCAT definitions are {sorted(seed_definitions)}, expected {PGX_GENES}")
    for gene, definition in seed_definitions.items():
        if definition != real_definitions[gene]:
            raise SystemExit(f"curate: the seed {gene} allele definition differs from the release's")
    real_tables = {(t.source, t.gene): t for t in read_gene_phenotypes(real)}
    seed_tables = read_gene_phenotypes(seed)
    for table in seed_tables:
        if table != real_tables.get((table.source, table.gene)):
            raise SystemExit(f"curate: the seed {table.source} {table.gene} phenotype table differs from the release's")
    kept = {(t.source, t.gene) for t in seed_tables}
    missing = sorted(f"{s} {g}" for s, g in real_tables if g in PGX_GENES and (s, g) not in kept)
    if missing:
        raise SystemExit(f"curate: phenotype tables of seed genes left out: {', '.join(missing)}")


def curate_pharmgkb(c: Curation, hgnc_symbols: set[str]) -> None:
    base = c.data / "pgx/pharmgkb"
    drugs: set[str] = set()
    lines = lines_of(base / "clinical_annotations.tsv")
    rows = [(line, row) for line, row in tsv_rows(lines) if row["Clinical Annotation ID"] in PHARMGKB_ANNOTATIONS]
    require((r["Clinical Annotation ID"] for _, r in rows), PHARMGKB_ANNOTATIONS, "PharmGKB clinical annotations")
    c.write(
        "pgx/pharmgkb/clinical_annotations.tsv",
        lines[0] + "".join(raw for raw, _ in rows),
        f"{len(rows)} clinical annotations",
    )
    for _, row in rows:
        drugs |= {d.strip() for d in row["Drug(s)"].split(";") if d.strip()}
        c.genes |= {g.strip() for g in row["Gene"].split(";") if g.strip() in hgnc_symbols}
    lines = lines_of(base / "drugLabels.tsv")
    rows = [(line, row) for line, row in tsv_rows(lines) if row["PharmGKB ID"] in PHARMGKB_LABELS]
    require((r["PharmGKB ID"] for _, r in rows), PHARMGKB_LABELS, "PharmGKB drug labels")
    c.write(
        "pgx/pharmgkb/drugLabels.tsv", lines[0] + "".join(raw for raw, _ in rows), f"{len(rows)} drug-label annotations"
    )
    for _, row in rows:
        drugs |= {d.strip() for d in row["Chemicals"].split(";") if d.strip()}
        c.genes |= {g.strip() for g in row["Genes"].split(";") if g.strip() in hgnc_symbols}
    lines = lines_of(base / "drugs.tsv.gz")
    rows = [(line, row) for line, row in tsv_rows(lines) if row["Name"] in drugs]
    require((r["Name"] for _, r in rows), drugs, "PharmGKB drugs")
    c.write("pgx/pharmgkb/drugs.tsv.gz", lines[0] + "".join(raw for raw, _ in rows), f"{len(rows)} drugs")
    for name in ("CREATED_2022-07-05.txt", "LICENSE.txt"):
        c.write(f"pgx/pharmgkb/{name}", read_text(base / name), "release stamp / licence (whole file)")


def curate_fda(c: Curation, hgnc_symbols: set[str]) -> None:
    for name, key, wanted in (
        ("fda_pgx_biomarker_table.json", "Drug", FDA_BIOMARKER_DRUGS),
        ("fda_pgx_associations_table.json", "Drug", FDA_ASSOCIATION_DRUGS),
    ):
        text = read_text(c.data / "pgx/fda" / name)
        raw = json.loads(text)
        rows = [row for row in raw["table"] if row[key].strip() in wanted]
        require((r[key].strip() for r in rows), wanted, f"FDA {name} rows")
        subset = {k: (rows if k == "table" else v) for k, v in raw.items()}
        c.write(f"pgx/fda/{name}", dump_like(text, subset), f"{len(rows)} of {len(raw['table'])} rows")
        for row in rows:
            c.genes |= {
                t
                for t in re.findall(r"[A-Z0-9-]+", row.get("Biomarker", "") + " " + row.get("Gene", ""))
                if t in hgnc_symbols
            }


# --- genes and ontologies -------------------------------------------------------------------


def hgnc_symbols(c: Curation) -> set[str]:
    return {row["symbol"] for _, row in tsv_rows(lines_of(c.data / "genes" / HGNC_FILE))}


def curate_hgnc(c: Curation) -> None:
    lines = lines_of(c.data / "genes" / HGNC_FILE)
    wanted = (c.genes | set(GENES)) - {""}
    wanted = {g for g in wanted if not g.startswith("LOC")}
    rows = [line for line, row in tsv_rows(lines) if row["symbol"] in wanted]
    found = {line.split("\t", 2)[1] for line in rows}
    unknown = sorted(wanted - found)
    if unknown:
        print(f"curate: not HGNC approved symbols, left to the loaders that name them: {', '.join(unknown)}")
    c.write(f"genes/{HGNC_FILE}", lines[0] + "".join(rows), f"{len(rows)} genes")


def _stanzas(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(header, [(kind, id, raw stanza)]) of an OBO file; each stanza keeps its trailing blank line."""
    parts = re.split(r"(?m)^(?=\[(?:Term|Typedef|Instance)\]$)", text)
    stanzas = []
    for part in parts[1:]:
        kind = part.split("\n", 1)[0]
        found = re.search(r"(?m)^id: (\S+)", part)
        stanzas.append((kind, found.group(1) if found else "", part))
    return parts[0], stanzas


def _closure(seeds: set[str], parents: dict[str, list[str]], extra: dict[str, list[str]]) -> set[str]:
    chosen: set[str] = set()
    todo = [s for s in seeds if s in parents]
    while todo:
        term = todo.pop()
        if term in chosen:
            continue
        chosen.add(term)
        todo += [p for p in parents.get(term, ()) + extra.get(term, ()) if p in parents and p not in chosen]
    return chosen


def curate_ontology(c: Curation, file: str, wanted: set[str], by_xref: set[str], by_name: set[str], what: str) -> None:
    path = c.data / "ontology" / file
    parents: dict[str, list[str]] = {}
    replaced: dict[str, list[str]] = {}
    picked = set(wanted)
    for term in read_terms(path):
        parents[term.id] = list(term.parents)
        replaced[term.id] = list(term.replaced_by)
        if term.obsolete:
            continue
        if term.name in by_name:
            picked.add(term.id)
        if by_xref:
            keys = {k for x in (*term.xrefs, *term.exact_matches) for k in xref_keys(x)}
            if keys & by_xref:
                picked.add(term.id)
    chosen = _closure(picked, parents, replaced)
    header, stanzas = _stanzas(read_text(path))
    body = [raw for kind, term_id, raw in stanzas if kind == "[Typedef]" or (kind == "[Term]" and term_id in chosen)]
    terms = sum(1 for kind, term_id, _ in stanzas if kind == "[Term]" and term_id in chosen)
    if not body[-1].endswith("\n"):
        body[-1] += "\n"
    c.write(f"ontology/{file}", header + "".join(body), f"{terms} {what} terms with their IS_A ancestors")
    c.diseases |= chosen if file == DOID_FILE else set()


# --- the demo patient -----------------------------------------------------------------------


def write_demo_patient(c: Curation, clinvar: dict[int, list[str]]) -> None:
    """seeds/patients/demo.vcf: GRCh38, one sample DEMO; IDs and INFO SEED cite the source facts."""
    records: list[tuple[str, int, str, str, str, str, str]] = []  # chrom, pos, id, ref, alt, gt, seed

    def definition(gene: str) -> dict:
        base = c.out / "pgx/pharmcat/definition/alleles"
        path = base / f"{gene}_translation.json"
        return json.loads(read_text(path if path.exists() else path.with_name(path.name + ".gz")))

    cyp2c19 = definition("CYP2C19")
    star2 = next(a for a in cyp2c19["namedAlleles"] if a["name"] == "*2")
    for variant, allele in zip(cyp2c19["variants"], star2["alleles"], strict=True):
        alt = variant["cpicToVcfAlleleMap"].get(allele, allele) if allele else None
        hom = alt is not None and alt in variant["alts"]
        records.append(
            (
                variant["chromosome"],
                variant["position"],
                variant["rsid"] or ".",
                variant["ref"],
                ",".join(variant["alts"]),
                "1/1" if hom else "0/0",
                f"pharmcat:CYP2C19*2_{'defining_allele' if hom else 'reference_call'}",
            )
        )
    dpyd = definition("DPYD")
    for variant in dpyd["variants"]:
        het = variant["rsid"] == "rs67376798"
        records.append(
            (
                variant["chromosome"],
                variant["position"],
                variant["rsid"] or ".",
                variant["ref"],
                ",".join(variant["alts"]),
                "0/1" if het else "0/0",
                "pharmcat:DPYD_c.2846A>T_decreased_function" if het else "pharmcat:DPYD_reference_call",
            )
        )

    def from_clinvar(vid: int, note: str) -> None:
        chrom, pos, _, ref, alt, _, _, info = clinvar[vid]
        records.append(
            (canonical_chrom(chrom), int(pos), "rs" + _info(info)["RS"], ref, alt, "0/1", f"clinvar:{vid}_{note}")
        )

    from_clinvar(9325, "BRCA2_c.5946del_Pathogenic_expert_panel")
    from_clinvar(9329, "BRCA2_N372H_Benign_expert_panel")
    from_clinvar(5293, "MUTYH_Y179C_Pathogenic_carrier")
    from_clinvar(495762, "MLH1_VUS_in_2024_Likely_benign_in_2026")
    for vid, name, note in ((12, "BRAF_V600E", "rs113488022"), (34, "EGFR_T790M", "rs121434569")):
        lifted = c.lifted[vid]
        records.append(
            (lifted.chrom, lifted.pos, note, lifted.ref, lifted.alt, "0/1", f"{civic_variant_id(vid)}_{name}")
        )

    order = {f"chr{n}": i for i, n in enumerate([*map(str, range(1, 23)), "X", "Y"])}
    records.sort(key=lambda r: (order[r[0]], r[1]))
    contigs = sorted({r[0] for r in records}, key=order.__getitem__)
    lines = [
        "##fileformat=VCFv4.2\n",
        "##source=precision-kg seeds/curate.py (demo patient; genotypes chosen to demonstrate the seed facts)\n",
        "##reference=GRCh38\n",
        *(f"##contig=<ID={chrom},length={GRCH38_LENGTHS[chrom]},assembly=GRCh38>\n" for chrom in contigs),
        '##INFO=<ID=SEED,Number=1,Type=String,Description="The seed fact this record demonstrates: '
        'source:id_what (see seeds/patients/README.md)">\n',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tDEMO\n",
    ]
    for chrom, pos, rsid, ref, alt, gt, seed in records:
        lines.append(f"{chrom}\t{pos}\t{rsid}\t{ref}\t{alt}\t.\tPASS\tSEED={seed}\tGT\t{gt}\n")
    c.write("patients/demo.vcf", "".join(lines), f"{len(records)} records")


# --- main -----------------------------------------------------------------------------------


def curate(data: Path, out: Path) -> Curation:
    c = Curation(data=data, out=out)
    symbols = hgnc_symbols(c)
    curate_civic(c)
    clinvar = curate_clinvar(c)
    curate_clinvar_more(c)
    curate_pharmcat(c)
    curate_pharmgkb(c, symbols)
    curate_fda(c, symbols)
    curate_hgnc(c)
    curate_ontology(c, DOID_FILE, c.diseases | set(DISEASES), c.disease_xrefs, set(), "DOID")
    curate_ontology(c, SO_FILE, set(c.so_ids), set(), set(c.so_names), "SO")
    write_demo_patient(c, clinvar)
    return c


def _compare(built: Path, seeds: Path) -> list[str]:
    differences: list[str] = []
    for path in sorted(built.rglob("*")):
        if path.is_file():
            relative = path.relative_to(built)
            if not (seeds / relative).exists() or not filecmp.cmp(path, seeds / relative, shallow=False):
                differences.append(str(relative))
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("KG_DATA_DIR") or ROOT.parent / "shared" / "data")
    )
    parser.add_argument("--out", type=Path, default=ROOT / "seeds")
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary folder and compare with --out")
    args = parser.parse_args(argv)
    if not (args.data / "civic").is_dir():
        print(f"curate: no reference data at {args.data} (set KG_DATA_DIR)", file=sys.stderr)
        return 2
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            curate(args.data, Path(tmp))
            differences = _compare(Path(tmp), args.out)
        for relative in differences:
            print(f"differs from a fresh curation: {relative}")
        return 1 if differences else 0
    for sub in ("genes", "ontology", "civic", "clinvar", "clinvar_more", "pgx"):
        shutil.rmtree(args.out / sub, ignore_errors=True)
    c = curate(args.data, args.out)
    total = 0
    for relative, note in sorted(c.counts.items()):
        size = (args.out / relative).stat().st_size
        total += size
        print(f"{relative:<72} {size:>8,} B  {note}")
    print(f"{'total':<72} {total:>8,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""ClinVar's controlled vocabularies and the Cypher shared by the two loaders of the source ``clinvar``:
kg/loaders/clinvar.py (the VCF, ``clinvar/``) and kg/loaders/clinvar_more.py (the 2024-06-01 column extract).

Values follow the ClinVar VCF INFO fields (NCBI ``vcf_GRCh38/clinvar.vcf.gz``, header v4.1):
``CLNSIG`` and ``CLNREVSTAT`` write spaces as ``_`` because ``,`` separates VCF values; ``ORIGIN``
is a bit set; ``CLNDISDB`` holds per-condition ``DB:ID`` cross-references. Star ratings are
ClinVar's documented review-status mapping (https://www.ncbi.nlm.nih.gov/clinvar/docs/review_status/).
"""

from __future__ import annotations

import re
from typing import Any

from kg.identity.diseases import xref_keys
from kg.identity.variants import Allele, is_digest_id
from kg.loaders.release import is_seed_release

# CLNREVSTAT (spaces restored) -> ClinVar gold stars.
REVIEW_STARS: dict[str, int] = {
    "practice guideline": 4,
    "reviewed by expert panel": 3,
    "criteria provided, multiple submitters, no conflicts": 2,
    "criteria provided, multiple submitters": 2,
    "criteria provided, conflicting classifications": 1,
    "criteria provided, conflicting interpretations": 1,  # the wording before 2024
    "criteria provided, single submitter": 1,
    "no assertion criteria provided": 0,
    "no classification provided": 0,
    "no assertion provided": 0,
    "no classification for the single variant": 0,
    "no classifications from unflagged records": 0,
    "no interpretation for the single variant": 0,
}

# The normalised categories a risk answer filters on (Evidence.classification).
CLASSIFICATIONS = (
    "pathogenic",
    "likely pathogenic",
    "uncertain significance",
    "likely benign",
    "benign",
    "conflicting",
    "drug response",
    "risk factor",
    "other",
)

_TERM_CATEGORY: dict[str, str] = {
    "pathogenic": "P",
    "pathogenic, low penetrance": "P",
    "likely pathogenic": "LP",
    "likely pathogenic, low penetrance": "LP",
    "uncertain significance": "VUS",
    "uncertain risk allele": "VUS",
    "likely benign": "LB",
    "benign": "B",
    "drug response": "drug response",
    "risk factor": "risk factor",
    "established risk allele": "risk factor",
    "likely risk allele": "risk factor",
}

# ORIGIN bits, as the ClinVar VCF header defines them.
ORIGIN_BITS: tuple[tuple[int, str], ...] = (
    (1, "germline"),
    (2, "somatic"),
    (4, "inherited"),
    (8, "paternal"),
    (16, "maternal"),
    (32, "de novo"),
    (64, "biparental"),
    (128, "uniparental"),
    (256, "not tested"),
    (512, "tested inconclusive"),
    (1073741824, "other"),
)
_GERMLINE_BITS = 1 | 4 | 8 | 16 | 32 | 64 | 128  # inherited, parental, de novo, ... are germline
_SOMATIC_BIT = 2
_OTHER_BIT = 1073741824


def variant_key(allele: Allele) -> dict[str, str]:
    """The row fields that identify a Variant: its id, plus REF/ALT when the id is a digest
    (kg.identity.variants.variant_id), for VARIANT_MERGE to set on the node."""
    key = allele.id
    if is_digest_id(key):
        return {"id": key, "ref": allele.ref, "alt": allele.alt}
    return {"id": key}


def compact(row: dict[str, Any]) -> dict[str, Any]:
    """Drop None values and empty lists: a missing key reads as null in Cypher, and batches shrink."""
    return {k: v for k, v in row.items() if v is not None and v != []}


def spaced(value: str | None) -> str | None:
    """``Pathogenic/Likely_pathogenic`` -> ``pathogenic/likely pathogenic``; empty or ``.`` -> None."""
    if not value or value == ".":
        return None
    return value.replace("_", " ").strip().lower()


def stars(status: str | None) -> int | None:
    """ClinVar's 0-4 stars for a (spaced) review status; 0 when absent, None when unknown."""
    if status is None:
        return 0
    return REVIEW_STARS.get(status)


def classification(significance: str | None) -> str:
    """The category of a (spaced) CLNSIG, one of CLASSIFICATIONS.

    ``|`` separates independent statements (the germline classification first, then terms such as
    ``drug response``); the first part that names a category decides. Within a part, ``/`` joins
    the classes submitters gave; a combined class takes the weaker claim
    (``pathogenic/likely pathogenic`` -> likely pathogenic, ``benign/likely benign`` -> likely benign).
    """
    if not significance:
        return "other"
    for part in significance.split("|"):
        part = part.strip()
        if part.startswith("conflicting"):
            return "conflicting"
        found = {_TERM_CATEGORY.get(term.strip(), "other") for term in part.split("/")}
        pathogenic, benign = found & {"P", "LP"}, found & {"B", "LB"}
        if pathogenic and benign:
            return "conflicting"
        if pathogenic:
            return "likely pathogenic" if "LP" in pathogenic else "pathogenic"
        if benign:
            return "likely benign" if "LB" in benign else "benign"
        for category, label in (
            ("VUS", "uncertain significance"),
            ("risk factor", "risk factor"),
            ("drug response", "drug response"),
        ):
            if category in found:
                return label
    return "other"


def _origin_bits(value: str | None) -> int:
    bits = 0
    for token in re.split(r"[|,]", value or ""):
        if token.strip().isdigit():
            bits |= int(token)
    return bits


def origins(value: str | None) -> list[str]:
    """ORIGIN bit flags -> names: ``17`` -> ``["germline", "maternal"]``; ``0`` or absent -> []."""
    bits = _origin_bits(value)
    return [name for bit, name in ORIGIN_BITS if bits & bit]


def origin(value: str | None) -> str:
    """One word for the ORIGIN bits: germline, somatic, germline/somatic, other or unknown."""
    bits = _origin_bits(value)
    germline, somatic = bool(bits & _GERMLINE_BITS), bool(bits & _SOMATIC_BIT)
    if germline and somatic:
        return "germline/somatic"
    if germline:
        return "germline"
    if somatic:
        return "somatic"
    return "other" if bits & _OTHER_BIT else "unknown"


DISEASE_PREFIXES = frozenset({"MESH", "MEDGEN", "UMLS", "OMIM", "ORPHANET", "ORDO", "MONDO"})


def condition_xref(entry: str) -> tuple[str, list[str]] | None:
    """One CLNDISDB ``DB:ID``: (the key stored on Evidence.diseaseXrefs, every DiseaseXref key to look up).

    Keys are kg.identity.diseases canonical keys, as the DOID loader writes them: ``MeSH:D001943`` ->
    ``MESH:D001943``; ``MedGen:C0006142`` -> stored ``UMLS:C0006142`` (a MedGen ``C`` id is a
    UMLS CUI); ``OMIM:114480``; ``Orphanet:145`` -> ``ORPHANET:145``; ``MONDO:MONDO:0011450`` ->
    ``MONDO:0011450``.
    """
    keys = [k for k in xref_keys(entry) if k.partition(":")[0] in DISEASE_PREFIXES]
    if not keys:
        return None  # HPO phenotypes, Gene, EFO, ...: not disease ids DOID maps
    stored = next((k for k in keys if k.startswith("UMLS:")), keys[0])
    return stored, keys


# DiseaseXref key -> the live Diseases it names, as the DOID loader wrote them. Where one key
# names several diseases, the ones DOID states as a skos exactMatch win, then the most specific
# (a candidate that is an ancestor of another candidate is dropped).
DISEASE_LOOKUP = """
MATCH (x:DiseaseXref)-[r:XREF_OF]->(d:Disease)
WHERE x.prefix IN $prefixes AND r.kind IN ['xref', 'exactMatch'] AND NOT coalesce(d.obsolete, false)
WITH x, collect(DISTINCT {d: d, exact: r.kind = 'exactMatch'}) AS found
WITH x, CASE WHEN any(f IN found WHERE f.exact) THEN [f IN found WHERE f.exact | f.d]
             ELSE [f IN found | f.d] END AS candidates
RETURN x.id AS xref,
       CASE WHEN size(candidates) = 1 THEN [candidates[0].id]
            ELSE [d IN candidates WHERE NOT EXISTS { MATCH (d)<-[:IS_A*1..]-(o:Disease) WHERE o IN candidates } | d.id]
       END AS diseases
"""


def release_version(override: str | None, date: str) -> str:
    """The version of a ClinVar release: its date (``2024-06-01``), or the version a load names. Both
    ClinVar folders are releases of the one source ``clinvar``, so a seed subset keeps the data's date
    after the seed version (``seed-2026.11-2+2024-06-01``): the two seed files stay two releases."""
    if override is None:
        return date
    if is_seed_release(override) and not override.endswith(f"+{date}"):
        return f"{override}+{date}"
    return override


def span(row: dict[str, Any]) -> tuple[str, int, int]:
    """(chromosome, first, last position) of a row's Variant, read back from its key (the key's layout is
    kg.identity.variants.variant_id; REF comes with the row when the key holds a digest)."""
    _, chrom, pos, *rest = row["id"].split(":")
    ref = row.get("ref") or rest[0]
    return chrom, int(pos), int(pos) + max(len(ref), 1) - 1


# Variant coordinates are read back from the key ``GRCh38:chr7:140753336:A:T`` rather than sent
# with every row (the key's layout is kg.identity.variants.variant_id); REF and ALT are sent only where
# the key holds a digest. The statement ends inside its ON CREATE SET list: a loader may append more items
# (``, v.rsid = row.rsid``), then ON MATCH SET / SET.
VARIANT_MERGE = """
WITH src, row, split(row.id, ':') AS part
MERGE (v:Variant {id: row.id})
ON CREATE SET v.chrom = part[1], v.pos = toInteger(part[2]), v.ref = coalesce(row.ref, part[3]),
              v.alt = coalesce(row.alt, part[4]), v.assembly = part[0],
              v.kind = CASE coalesce(row.alt, part[4]) WHEN '.' THEN 'reference' ELSE 'exact' END
"""

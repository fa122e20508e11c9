"""CIViC release rows -> graph rows (plain generators of dicts, testable without a database).

One generator per CIViC TSV (CIViC monthly release, see ../shared/data/civic/SOURCES.md):
genes, variants, molecular profiles, evidence items, assertions. Conventions they implement
are in docs/GRAPH_MODEL.md; the Cypher that writes them is in kg/loaders/civic.py.

Variants: CIViC gives GRCh37 coordinates (two rows GRCh38, three with no build, taken as
GRCh37). Deletions and insertions come without the VCF anchor base; the anchored form is taken
from the release's own civic_accepted.vcf (CIViCpy) when it agrees with the TSV. Alleles are
lifted to GRCh38 (kg/loaders/liftover.py) and keyed with kg.identity.variants.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.identity.drugs import drug_key
from kg.identity.variants import (
    ASSEMBLY,
    canonical_chrom,
    civic_variant_id,
    is_primary_chrom,
    is_sequence,
    normalize,
    parse_rsid,
)
from kg.loaders.civic_files import REQUIRED, CivicFiles, VcfAllele, read_tsv, to_float, to_int
from kg.loaders.civic_names import (
    VariantName,
    classify_variant,
    component_key,
    parse_profile_name,
    render_expression,
    split_therapies,
)
from kg.loaders.disease_names import civic_placeholder
from kg.loaders.errors import SourceFormatError
from kg.loaders.liftover import LiftFailure, Liftover

Row = dict[str, Any]

_BUILDS = {"", "GRCh37", "GRCh38"}
_MISSING = {"", "N/A", "NONE FOUND"}


def _text(value: str) -> str | None:
    value = " ".join(value.split())
    return value or None


def _list(value: str, sep: str = ",") -> list[str]:
    return [item.strip() for item in value.split(sep) if item.strip() and item.strip() not in _MISSING]


def _lower(value: str) -> str | None:
    text = _text(value)
    return None if text is None or text == "N/A" else text.lower()


def _bool(value: str) -> bool | None:
    value = value.strip().lower()
    return {"true": True, "false": False}.get(value)


def _required_int(path: Path, line: int, column: str, value: str) -> int:
    number = to_int(path, line, column, value)
    if number is None:
        raise SourceFormatError(path, line, f"an integer in column {column}", "an empty field")
    return number


# --- genes ---------------------------------------------------------------------------------


def gene_rows(files: CivicFiles) -> Iterator[Row]:
    """GeneSummaries.tsv: CIViC gene id and description for the HGNC symbol."""
    path = files.tsv("GeneSummaries")
    for line, r in read_tsv(path, REQUIRED["GeneSummaries"]):
        symbol = _text(r["name"])
        if symbol is None:
            raise SourceFormatError(path, line, "a gene symbol in column name", "an empty field")
        yield {
            "symbol": symbol,
            "civicGeneId": _required_int(path, line, "gene_id", r["gene_id"]),
            "description": _text(r["description"]),
        }


# --- variants ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantRef:
    """What the molecular-profile stage needs to know about a loaded variant."""

    id: str
    gene: str
    name: str
    kind: str


class VariantIndex(dict[int, VariantRef]):
    """CIViC variant id -> its graph Variant; filled by ``variant_rows`` as it streams."""


@dataclass(frozen=True)
class _Placed:
    id: str
    chrom: str
    pos: int
    ref: str
    alt: str


class VariantReader:
    """Turns VariantSummaries.tsv rows into Variant rows, lifting and keying exact alleles."""

    def __init__(self, files: CivicFiles, lifter: Liftover, anchors: dict[int, VcfAllele], tally: Counter[str]) -> None:
        self.files = files
        self.lifter = lifter
        self.anchors = anchors
        self.tally = tally

    def rows(self, index: VariantIndex) -> Iterator[Row]:
        path = self.files.tsv("VariantSummaries")
        for line, r in read_tsv(path, REQUIRED["VariantSummaries"]):
            row = self.variant(path, line, r)
            index[row["civicVariantId"]] = VariantRef(row["id"], row["gene"] or "", row["civicName"] or "", row["kind"])
            yield row

    # One row --------------------------------------------------------------------------------

    def variant(self, path: Path, line: int, r: dict[str, str]) -> Row:
        vid = _required_int(path, line, "variant_id", r["variant_id"])
        gene = _text(r["gene"])
        name = _text(r["variant"]) or ""
        reading = classify_variant(name)
        chrom = r["chromosome"].strip()
        start = to_int(path, line, "start", r["start"])
        stop = to_int(path, line, "stop", r["stop"])
        ref = r["reference_bases"].strip().upper()
        alts = [a for a in r["variant_bases"].strip().upper().split("/") if a] if r["variant_bases"].strip() else []
        build = r["reference_build"].strip()
        if build not in _BUILDS:
            raise SourceFormatError(path, line, "reference_build GRCh37, GRCh38 or empty", build)
        if chrom and not is_primary_chrom(chrom):
            raise SourceFormatError(path, line, "a chromosome 1-22, X, Y or MT", chrom)
        if (ref and not is_sequence(ref)) or any(not is_sequence(a) for a in alts):
            raise SourceFormatError(
                path,
                line,
                "reference/variant bases of A, C, G, T, N ('/' between alternatives)",
                f"{r['reference_bases']} {r['variant_bases']}",
            )
        if start is not None and stop is not None and stop < start:
            raise SourceFormatError(path, line, "stop >= start", f"{start}-{stop}")

        placed, reason, lift_failed, source = self._place(vid, chrom, start, ref, alts, build)
        single_change = reading.kind == "protein" and len(reading.protein_changes) == 1
        exact_capable = single_change or (reading.kind == "other" and reading.category_type is None)
        kind = reading.kind
        if exact_capable and len(placed) == 1:
            kind = "exact"
        elif exact_capable:
            reason = reason or (
                "no reference/alternate bases" if start is not None else "no coordinates in VariantSummaries"
            )
            self.tally[f"unplaced: {reason.split(':')[0]}"] += 1

        row: Row = {
            "id": placed[0].id if kind == "exact" else civic_variant_id(vid),
            "kind": kind,
            "civicVariantId": vid,
            "civicName": name,
            "name": f"{gene} {name}" if gene else name,
            "gene": gene,
            "proteinChange": reading.protein_change,
            "proteinChanges": list(reading.protein_changes),
            "codon": reading.codons[0] if reading.codons else None,
            "codons": list(reading.codons),
            "aminoAcidRef": reading.amino_acid_ref,
            "category": reading.category if kind == "gene" else None,
            "categoryType": reading.category_type,
            "exons": list(reading.exons),
            "fusion": reading.fusion,
            "zygosity": reading.zygosity,
            "chrom": None,
            "pos": None,
            "ref": None,
            "alt": None,
            "assembly": None,
            "start": None,
            "end": None,
            "alleleIds": [p.id for p in placed] if kind != "exact" else [],
            "liftoverFailed": True if lift_failed and kind != "exact" else None,
            "reason": reason if kind != "exact" else None,
            "coordinateSource": source,
            "civicBuild": build or None,
            **self._grch37(chrom, start, stop, ref, alts, build),
            **self._annotations(r, reading),
        }
        if kind == "exact":
            allele = placed[0]
            row.update(chrom=allele.chrom, pos=allele.pos, ref=allele.ref, alt=allele.alt, assembly=ASSEMBLY)
            self.tally["exact GRCh38 variants"] += 1
        elif chrom and start is not None:
            region = self._region(chrom, start, stop or start, build)
            if region is not None:
                row.update(chrom=region[0], start=region[1], end=region[2])
        self.tally[f"kind {kind}"] += 1
        return row

    def _place(
        self, vid: int, chrom: str, start: int | None, ref: str, alts: list[str], build: str
    ) -> tuple[list[_Placed], str | None, bool, str | None]:
        """GRCh38 alleles for the row, or why there are none: (alleles, reason, liftover failed, source)."""
        if start is None or not (ref or alts):
            return [], None, False, None
        if not chrom:
            return [], "no chromosome for the start position", False, None
        source = "tsv"
        if ref and alts:
            candidates = [(chrom, start, ref, alt) for alt in alts if alt != ref]
            if not candidates:
                return [], "reference equals alternate", False, source
        else:
            anchored = self._anchored(vid, chrom, start, ref, alts[0] if alts else "")
            if anchored is None:
                return [], "an indel without its anchor base and no matching civic_accepted.vcf record", False, None
            candidates, source = [anchored], "civic_accepted.vcf"
        placed: list[_Placed] = []
        for c_chrom, c_pos, c_ref, c_alt in candidates:
            if build == "GRCh38":
                lifted_chrom, lifted_pos = canonical_chrom(c_chrom), c_pos
            else:
                lifted = self.lifter.lift_allele(c_chrom, c_pos, c_ref)
                if isinstance(lifted, LiftFailure):
                    return [], f"liftover failed: {lifted.reason}", True, source
                lifted_chrom, lifted_pos = lifted.chrom, lifted.pos
            allele = normalize(lifted_chrom, lifted_pos, c_ref, c_alt)
            placed.append(_Placed(allele.id, allele.chrom, allele.pos, allele.ref, allele.alt))
        return placed, None, False, source

    def _anchored(self, vid: int, chrom: str, start: int, ref: str, alt: str) -> tuple[str, int, str, str] | None:
        """The VCF-anchored form of a TSV indel, when civic_accepted.vcf has it and agrees.

        TSV deletion ``start, REF, -`` is VCF ``start-1, aREF, a``; insertion ``start, -, ALT``
        (between start and start+1) is VCF ``start, a, aALT`` (VCF 4.2 section 1.6.1).
        """
        vcf = self.anchors.get(vid)
        if vcf is None or canonical_chrom(vcf.chrom) != canonical_chrom(chrom):
            return None
        if ref:  # deletion
            ok = vcf.pos == start - 1 and vcf.ref[1:] == ref and vcf.alt == vcf.ref[:1]
        else:  # insertion
            ok = vcf.pos == start and len(vcf.ref) == 1 and vcf.alt == vcf.ref + alt
        return (chrom, vcf.pos, vcf.ref, vcf.alt) if ok else None

    def _region(self, chrom: str, start: int, end: int, build: str) -> tuple[str, int, int] | None:
        if build == "GRCh38":
            return canonical_chrom(chrom), start, end
        lifted = self.lifter.lift_region(chrom, start, end)
        if isinstance(lifted, LiftFailure):
            self.tally["regions not lifted"] += 1
            return None
        return lifted.chrom, lifted.pos, lifted.end

    @staticmethod
    def _grch37(chrom: str, start: int | None, stop: int | None, ref: str, alts: list[str], build: str) -> Row:
        """The coordinates as CIViC gave them (GRCh37, or no build); GRCh38 rows keep none here."""
        if build == "GRCh38" or start is None:
            return {"grch37Chrom": None, "grch37Pos": None, "grch37End": None, "grch37Ref": None, "grch37Alt": None}
        return {
            "grch37Chrom": canonical_chrom(chrom) if chrom else None,
            "grch37Pos": start,
            "grch37End": stop,
            "grch37Ref": ref or None,
            "grch37Alt": "/".join(alts) or None,
        }

    @staticmethod
    def _annotations(r: dict[str, str], reading: VariantName) -> Row:
        aliases = _list(r["variant_aliases"])
        rsids = [rsid for a in aliases if (rsid := parse_rsid(a))]
        if reading.rsid and reading.rsid not in rsids:
            rsids.insert(0, reading.rsid)
        return {
            "rsid": rsids[0] if rsids else None,
            "rsids": rsids,
            "hgvs": _list(r["hgvs_descriptions"]),
            "variantTypes": _list(r["variant_types"]),
            "alleleRegistryId": _text(r["allele_registry_id"]),
            "clinvarIds": _list(r["clinvar_ids"]),
            "aliases": aliases,
            "variantGroups": _list(r["variant_groups"]),
            "representativeTranscript": _text(r["representative_transcript"]),
        }


# --- molecular profiles --------------------------------------------------------------------


def profile_rows(files: CivicFiles, index: VariantIndex, tally: Counter[str]) -> Iterator[Row]:
    """MolecularProfileSummaries.tsv: one MP, its kind, boolean expression and member variants.

    ``expression`` is CIViC's name (``BRAF V600E AND BRAF V600M``); ``variantExpression`` is the
    same with each component replaced by its Variant id, for the matcher to evaluate.
    Variant ids absent from VariantSummaries (CIViC "factors" such as ``Kataegis Positive``)
    become stub Variants of kind ``other`` so the profile is not left empty.
    """
    if not index:
        raise RuntimeError("the variants stage must run before the molecular-profile stage")
    path = files.tsv("MolecularProfileSummaries")
    for line, r in read_tsv(path, REQUIRED["MolecularProfileSummaries"]):
        mpid = _required_int(path, line, "molecular_profile_id", r["molecular_profile_id"])
        name = _text(r["name"]) or ""
        vids = [_required_int(path, line, "variant_ids", v) for v in r["variant_ids"].split(",") if v.strip()]
        expression = parse_profile_name(name)
        stubs: list[Row] = []
        refs: list[VariantRef] = []
        for vid in vids:
            ref = index.get(vid)
            if ref is None:
                ref = VariantRef(civic_variant_id(vid), "", name if len(vids) == 1 else f"variant {vid}", "other")
                stubs.append(
                    {
                        "id": ref.id,
                        "civicVariantId": vid,
                        "name": ref.name,
                        "reason": "not in VariantSummaries (a CIViC factor or unreleased variant)",
                    }
                )
                tally["variant stubs (ids absent from VariantSummaries)"] += 1
            refs.append(ref)
        ids = _resolve_components(expression.components, refs)
        negated_ids = {ids[c] for c in expression.negated if c in ids}
        complete = all(c in ids for c in expression.components)
        if not complete:
            tally["profiles with unresolved expression"] += 1
        if len(refs) > 1 or expression.has_operators:
            kind = "complex"
        elif refs and refs[0].kind in ("codon", "gene"):
            kind = "category"
        else:
            kind = "single"
        tally[f"profiles {kind}"] += 1
        yield {
            "id": f"civic:MP{mpid}",
            "civicId": mpid,
            "name": name,
            "kind": kind,
            "score": to_float(path, line, "evidence_score", r["evidence_score"]),
            "summary": _text(r["summary"]),
            "aliases": _list(r["aliases"]),
            "expression": name,
            "variantExpression": render_expression(expression, ids) if complete else None,
            "members": [{"id": ref.id, "negated": ref.id in negated_ids} for ref in refs],
            "stubs": stubs,
        }


def _resolve_components(components: list[str], refs: list[VariantRef]) -> dict[str, str]:
    """Match each MP component (``BRAF V600E``) to one member variant by ``<gene> <name>``."""
    ids: dict[str, str] = {}
    for component in components:
        key = component_key(component)
        hits = {ref.id for ref in refs if component_key(f"{ref.gene} {ref.name}") == key}
        if len(hits) == 1:
            ids[component] = hits.pop()
    if len(components) == 1 and len(refs) == 1 and components[0] not in ids:
        ids[components[0]] = refs[0].id  # a factor stub: its only component is its name
    return ids


# --- evidence items and assertions ---------------------------------------------------------


def _disease(path: Path, line: int, name: str, doid: str, tally: Counter[str]) -> Row:
    disease = _text(name)
    doid = doid.strip()
    if doid:
        if not doid.isdigit():
            raise SourceFormatError(path, line, "digits in column doid", doid)
        return {"diseaseId": f"DOID:{doid}", "disease": disease, "civicOnlyDisease": False}
    if disease:
        tally["disease names without DOID"] += 1
        return {"diseaseId": civic_placeholder(disease), "disease": disease, "civicOnlyDisease": True}
    return {"diseaseId": None, "disease": None, "civicOnlyDisease": False}


def _therapies(value: str) -> Row:
    names = split_therapies(value)
    return {"therapies": names, "drugs": [{"id": drug_key(n), "name": n} for n in names]}


def _origin(value: str) -> Row:
    detail = _lower(value)
    coarse = detail
    if detail and detail.endswith("germline"):
        coarse = "germline"
    return {"origin": coarse, "variantOrigin": detail}


def _citations(path: Path, line: int, r: dict[str, str]) -> Row:
    cid = r["citation_id"].strip()
    kind = r["source_type"].strip()
    if kind == "PubMed" and cid and not cid.isdigit():
        raise SourceFormatError(path, line, "a PubMed id (digits) in column citation_id", cid)
    return {
        "pmids": [cid] if kind == "PubMed" and cid else [],
        "citations": [f"PMID:{cid}" if kind == "PubMed" else f"{kind}:{cid}"] if cid else [],
        "sourceType": kind or None,
        "citationId": cid or None,
        "citation": _text(r["citation"]),
        "ascoAbstractId": _text(r["asco_abstract_id"]),
    }


def evidence_rows(files: CivicFiles, tally: Counter[str]) -> Iterator[Row]:
    """ClinicalEvidenceSummaries.tsv: one Evidence per evidence item (all types)."""
    path = files.tsv("ClinicalEvidenceSummaries")
    for line, r in read_tsv(path, REQUIRED["ClinicalEvidenceSummaries"]):
        eid = _required_int(path, line, "evidence_id", r["evidence_id"])
        mpid = _required_int(path, line, "molecular_profile_id", r["molecular_profile_id"])
        rating = to_int(path, line, "rating", r["rating"])
        yield {
            "id": f"civic:EID{eid}",
            "civicId": eid,
            "profileId": f"civic:MP{mpid}",
            "profileName": _text(r["molecular_profile"]),
            "type": _lower(r["evidence_type"]),
            "level": _text(r["evidence_level"]),
            "direction": _lower(r["evidence_direction"]),
            "significance": _lower(r["significance"]),
            "statement": _text(r["evidence_statement"]),
            "therapyInteraction": _lower(r["therapy_interaction_type"]),
            "rating": rating,
            "status": _lower(r["evidence_status"]),
            "phenotypes": _list(r["phenotypes"]),
            "nctIds": _list(r["nct_ids"]),
            "flagged": _bool(r.get("is_flagged", "")),
            "lastReviewDate": _text(r.get("last_review_date", "")),
            **_origin(r["variant_origin"]),
            **_citations(path, line, r),
            **_disease(path, line, r["disease"], r["doid"], tally),
            **_therapies(r["therapies"]),
        }


def _amp(value: str) -> Row:
    """``Tier I - Level A`` -> tier ``Tier I``, level ``A``."""
    text = _text(value)
    found = re.fullmatch(r"(Tier [IV]+)(?: - Level ([A-D]))?", text or "")
    return {
        "ampCategory": text,
        "ampTier": found.group(1) if found else None,
        "ampLevel": found.group(2) if found else None,
    }


def assertion_rows(files: CivicFiles, tally: Counter[str]) -> Iterator[Row]:
    """AssertionSummaries.tsv: curated assertions, each supported by evidence items."""
    path = files.tsv("AssertionSummaries")
    for line, r in read_tsv(path, REQUIRED["AssertionSummaries"]):
        aid = _required_int(path, line, "assertion_id", r["assertion_id"])
        mpid = _required_int(path, line, "molecular_profile_id", r["molecular_profile_id"])
        eids = [
            _required_int(path, line, "evidence_item_ids", e) for e in r["evidence_item_ids"].split(",") if e.strip()
        ]
        yield {
            "id": f"civic:AID{aid}",
            "civicId": aid,
            "profileId": f"civic:MP{mpid}",
            "profileName": _text(r["molecular_profile"]),
            "type": _lower(r["assertion_type"]),
            "direction": _lower(r["assertion_direction"]),
            "significance": _lower(r["significance"]),
            "acmgCodes": _list(r["acmg_codes"]),
            "nccnGuideline": _text(r["nccn_guideline"]),
            "nccnGuidelineVersion": _text(r["nccn_guideline_version"]),
            "fdaApproval": _bool(r["regulatory_approval"]),
            "fdaCompanionTest": _bool(r["fda_companion_test"]),
            "summary": _text(r["assertion_summary"]),
            "statement": _text(r["assertion_description"]),
            "phenotypes": _list(r["phenotypes"]),
            "evidenceIds": [f"civic:EID{e}" for e in eids],
            "flagged": _bool(r.get("is_flagged", "")),
            "lastReviewDate": _text(r.get("last_review_date", "")),
            **_amp(r["amp_category"]),
            **_disease(path, line, r["disease"], r["doid"], tally),
            **_therapies(r["therapies"]),
        }

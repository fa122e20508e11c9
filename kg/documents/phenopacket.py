"""GA4GH Phenopacket v2 in and out (https://phenopacket-schema.readthedocs.io, schema v2.0).

In: a phenopacket names the patient (``subject.id``, else ``id``), their diseases (``diseases[].term``,
``excluded`` ones skipped) and a VCF in ``files`` (``uri`` ``file://PATH``, a path relative to the
upload folder, or absolute inside it; ``individualToFileIdentifiers`` names the sample column). Every
disease term goes through the disease resolver (DOID directly, MONDO ids and OMIM / ORPHA / MeSH
cross-references through the DOID loader's xrefs, the label as a last resort): all must resolve before
anything is stored. The VCF is matched by the one matcher (kg.matcher.match.match_patient) with the
first disease, and the other diseases are linked as further conditions.

Out: the patient's conditions as ``diseases`` and one ``interpretation`` whose genomic
interpretations are the patient's alleles that an answer of kg.queries.patient_report names: an
inherited-risk finding (ACMG class from the classification; CONTRIBUTORY when at risk) or targeted
therapy evidence that supports a response (ACTIONABLE, CONTRIBUTORY). Each carries a
VariationDescriptor with its vcfRecord, gene context (HGNC) and allelic state (GENO). The releases
behind the answers are ``metaData.externalReferences``. Both directions are checked against the
schema by the ``phenopackets`` package's protobuf classes (``google.protobuf.json_format``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from phenopackets import Phenopacket

from kg.db import Graph
from kg.matcher.report import MatchReport
from kg.queries.patient_report import PatientReport
from kg.queries.resolve import Unresolved, resolve_disease
from kg.queries.risk import RiskStatus

SCHEMA_VERSION = "2.0"
ACMG = {
    "pathogenic": "PATHOGENIC",
    "likely pathogenic": "LIKELY_PATHOGENIC",
    "uncertain significance": "UNCERTAIN_SIGNIFICANCE",
    "likely benign": "LIKELY_BENIGN",
    "benign": "BENIGN",
}
ALLELIC_STATE = {  # GENO, the Genotype Ontology (the schema's recommended allelic-state terms)
    "heterozygous": ("GENO:0000135", "heterozygous"),
    "homozygous": ("GENO:0000136", "homozygous"),
    "hemizygous": ("GENO:0000134", "hemizygous"),
}
VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz")


class PhenopacketError(ValueError):
    """A phenopacket that cannot be read or used: ``<name>: expected ..., found ...``."""


@dataclass(frozen=True)
class PhenopacketSubmission:
    """What a phenopacket asks to store: the patient, resolved disease ids, the VCF and its sample."""

    patient_id: str
    diseases: list[str]
    vcf: Path
    vcf_uri: str
    sample: str | None


def patient_of(packet: Phenopacket, patient_id: str | None = None, name: str = "phenopacket") -> str:
    """The patient a submission is for: the caller's id, else the packet's subject (or its own id)."""
    patient = (patient_id or packet.subject.id or packet.id).strip()
    if not patient:
        raise PhenopacketError(f"{name}: expected subject.id (or id) naming the patient, found neither")
    return patient


def parse_phenopacket(data: str | bytes | dict[str, Any], name: str = "phenopacket") -> Phenopacket:
    """The schema's own parser: unknown fields, wrong types or enum values are errors."""
    try:
        obj = json.loads(data) if isinstance(data, str | bytes) else data
        if not isinstance(obj, dict):
            raise PhenopacketError(f"{name}: expected a JSON object (a Phenopacket v2), found {type(obj).__name__}")
        return json_format.ParseDict(obj, Phenopacket())
    except json.JSONDecodeError as err:
        raise PhenopacketError(f"{name}:{err.lineno}: expected JSON, found {err.msg}") from err
    except json_format.ParseError as err:
        raise PhenopacketError(f"{name}: expected a GA4GH Phenopacket v2, found {err}") from err


def submission(
    graph: Graph, packet: Phenopacket, *, upload_dir: Path, patient_id: str | None = None, name: str = "phenopacket"
) -> PhenopacketSubmission:
    """Check a parsed phenopacket against the graph (diseases) and the upload folder (the VCF); no writes."""
    patient = patient_of(packet, patient_id, name)
    diseases: list[str] = []
    for d in packet.diseases:
        if d.excluded:
            continue
        found = _resolve(graph, d.term.id, d.term.label, name)
        if found not in diseases:
            diseases.append(found)
    vcf, uri, sample = _vcf(packet, upload_dir, patient, name)
    return PhenopacketSubmission(patient, diseases, vcf, uri, sample)


def _resolve(graph: Graph, term_id: str, label: str, name: str) -> str:
    try:
        return resolve_disease(graph, term_id).id
    except Unresolved as by_id:
        if not label:
            raise PhenopacketError(f"{name}: disease {term_id}: {by_id}") from by_id
        try:
            return resolve_disease(graph, label).id
        except Unresolved as err:
            raise PhenopacketError(f"{name}: disease {term_id} ({label}): {by_id}; by label: {err}") from err


def _vcf(packet: Phenopacket, upload_dir: Path, patient: str, name: str) -> tuple[Path, str, str | None]:
    files = [
        f
        for f in packet.files
        if f.uri.lower().endswith(VCF_SUFFIXES) or f.file_attributes.get("fileFormat", "").lower() == "vcf"
    ]
    if not files:
        raise PhenopacketError(
            f"{name}: expected a VCF in files (uri file://PATH.vcf), found {len(packet.files)} other file(s)"
        )
    f = files[0]
    if not f.uri.startswith("file://"):
        raise PhenopacketError(f"{name}: expected a file:// uri for the VCF, found {f.uri!r}")
    base = upload_dir.resolve()
    path = (base / f.uri.removeprefix("file://")).resolve()
    if not path.is_relative_to(base):
        raise PhenopacketError(f"{name}: the VCF {f.uri!r} lies outside the upload folder {base}; refused")
    if not path.is_file():
        raise PhenopacketError(f"{name}: the VCF {f.uri!r} is not a file in the upload folder {base}")
    ids = dict(f.individual_to_file_identifiers)
    sample = ids.get(patient) or ids.get(packet.subject.id) or (next(iter(ids.values())) if len(ids) == 1 else None)
    return path, f.uri, sample


def import_phenopacket(
    graph: Graph,
    data: str | bytes | dict[str, Any],
    *,
    upload_dir: Path,
    patient_id: str | None = None,
    name: str = "phenopacket",
    **match_options: Any,
) -> MatchReport:
    """Parse, check, then match the VCF and link the conditions; returns the matcher's MatchReport.
    ``match_options`` pass through to match_patient (the sample origin, once the matcher takes it)."""
    from kg.matcher.match import match_patient
    from kg.queries.patients import link_conditions

    s = submission(graph, parse_phenopacket(data, name), upload_dir=upload_dir, patient_id=patient_id, name=name)
    report = match_patient(
        graph,
        s.vcf,
        patient_id=s.patient_id,
        disease=s.diseases[0] if s.diseases else None,
        sample=s.sample,
        vcf_name=os.path.basename(s.vcf_uri),
        **match_options,
    )
    if len(s.diseases) > 1:
        link_conditions(graph, s.patient_id, s.diseases[1:])
    return report


# --- out ------------------------------------------------------------------------------------


def phenopacket(report: PatientReport, *, created: datetime | None = None) -> dict[str, Any]:
    """The patient as a Phenopacket v2 (JSON dict in the schema's camelCase), checked by the schema."""
    pid = report.patient.id
    diseases = [{"term": {"id": d.id, "label": d.name or d.id}} for d in report.patient.conditions]
    when = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    interpretation: dict[str, Any] = {
        "id": f"{pid}-precision-kg",
        "progressStatus": "COMPLETED",
        "summary": "Variants an answer of the knowledge graph names: inherited risks and targeted-therapy evidence.",
    }
    genomic = _genomic_interpretations(report)
    diagnosis: dict[str, Any] = {}
    if diseases:
        diagnosis["disease"] = diseases[0]["term"]
    if genomic:
        diagnosis["genomicInterpretations"] = genomic
    if diagnosis:
        interpretation["diagnosis"] = diagnosis
    packet = {
        "id": pid,
        "subject": {"id": pid},
        "diseases": diseases,
        "interpretations": [interpretation],
        "metaData": {
            "created": when,
            "createdBy": "precision-kg",
            "phenopacketSchemaVersion": SCHEMA_VERSION,
            "resources": [
                {
                    "id": "doid",
                    "name": "Human Disease Ontology",
                    "url": "http://purl.obolibrary.org/obo/doid.owl",
                    "version": report.active.get("doid", "doid@unknown").split("@", 1)[1],
                    "namespacePrefix": "DOID",
                    "iriPrefix": "http://purl.obolibrary.org/obo/DOID_",
                },
                {
                    "id": "geno",
                    "name": "Genotype Ontology",
                    "url": "http://purl.obolibrary.org/obo/geno.owl",
                    "version": "unknown",
                    "namespacePrefix": "GENO",
                    "iriPrefix": "http://purl.obolibrary.org/obo/GENO_",
                },
            ],
            "externalReferences": [
                {"id": r.release, "description": f"{r.name} {r.version}" + (f"; {r.licence}" if r.licence else "")}
                for r in report.releases
            ],
        },
    }
    return json_format.MessageToDict(parse_phenopacket(packet, f"phenopacket of {pid}"))


def _genomic_interpretations(report: PatientReport) -> list[dict[str, Any]]:
    by_id = {v.id: v for v in report.variants}
    acmg: dict[str, str] = {}
    at_risk: set[str] = set()
    for r in report.risks:
        acmg.setdefault(r.variant, ACMG.get(r.classification, "NOT_PROVIDED"))
        if r.status == RiskStatus.AT_RISK:
            at_risk.add(r.variant)
    actionable: set[str] = set()
    for e in report.targeted_therapies:
        if e.direction == "supports":
            for vid in e.variants:
                v = by_id.get(vid)
                actionable.add(v.observed if v and v.match_level != "exact" and v.observed else vid)
    found = []
    for vid in sorted(
        set(acmg) | actionable, key=lambda i: (by_id[i].chrom or "", by_id[i].pos or 0) if i in by_id else ("", 0)
    ):
        v = by_id.get(vid)
        if v is None or v.pos is None:
            continue
        descriptor: dict[str, Any] = {
            "id": v.id,
            "label": v.name or v.id,
            "vcfRecord": {
                "genomeAssembly": "GRCh38",
                "chrom": v.chrom,
                "pos": str(v.pos),
                "ref": v.ref,
                "alt": v.alt,
                **({"id": v.rsid} if v.rsid else {}),
            },
            "moleculeContext": "genomic",
        }
        if v.gene:
            descriptor["geneContext"] = {"valueId": report.hgnc_ids.get(v.gene, v.gene), "symbol": v.gene}
        if v.zygosity in ALLELIC_STATE:
            term, label = ALLELIC_STATE[v.zygosity]
            descriptor["allelicState"] = {"id": term, "label": label}
        found.append(
            {
                "subjectOrBiosampleId": report.patient.id,
                "interpretationStatus": "CONTRIBUTORY" if vid in at_risk or vid in actionable else "UNKNOWN_STATUS",
                "variantInterpretation": {
                    "acmgPathogenicityClassification": acmg.get(vid, "NOT_PROVIDED"),
                    "therapeuticActionability": "ACTIONABLE" if vid in actionable else "UNKNOWN_ACTIONABILITY",
                    "variationDescriptor": descriptor,
                },
            }
        )
    return found

"""What the graph holds about one patient: who they are and the Variants their VCF matched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kg.db import Graph
from kg.identity.origins import DEFAULT_ORIGIN
from kg.queries.answers import DiseaseRef, VariantAllele, allele_fields, disease_ref
from kg.queries.fields import described

#: The conditions of the Patient bound to ``p`` (``patient_record`` reads them).
CONDITIONS = "[(p)-[:HAS_CONDITION]->(d:Disease) | d {.id, .name}]"

PATIENT = f"""
MATCH (p:Patient {{id: $patient}})
RETURN p {{.*}} AS patient, {CONDITIONS} AS conditions
"""

PATIENT_VARIANTS = """
MATCH (:Patient {id: $patient})-[hv:HAS_VARIANT]->(v:Variant)
RETURN v {.id, .chrom, .pos, .ref, .alt, .rsid, .gene, .proteinChange, .name, .kind} AS variant,
       properties(hv) AS link
ORDER BY v.chrom, v.pos, v.id
"""


@dataclass(frozen=True)
class PatientRecord:
    """A Patient node: its id, the assembly of its calls and its conditions (HAS_CONDITION)."""

    id: str
    assembly: str | None
    conditions: list[DiseaseRef]
    origin: str = field(
        default="germline",
        metadata=described(
            "What the sample is: germline (the default when neither the matcher's argument nor the VCF header "
            "said otherwise), tumor (tumour-only) or tumor_normal (a tumour with its matched normal)."
        ),
    )
    origin_source: str | None = field(default=None, metadata=described("Who said so: argument, header or default."))
    normal_sample: str | None = None


@dataclass(frozen=True)
class PatientVariant(VariantAllele):
    """A knowledge Variant the patient's VCF matched, with the call on the HAS_VARIANT link."""

    gene: str | None
    protein_change: str | None
    name: str | None
    kind: str | None
    zygosity: str | None
    genotype: str | None
    depth: int | None
    sample: str | None
    match_level: str  # exact | protein | codon | gene (kg/matcher/levels.py)
    call_origin: str | None = field(
        metadata=described(
            "germline (a germline sample's call, or one the matched normal carries), somatic (only the tumour "
            "carries it) or unknown (a tumour-only call)."
        )
    )
    observed: str | None = field(metadata=described("The patient's own allele when the match is codon or gene level."))


def find_patient(graph: Graph, patient: str) -> PatientRecord | None:
    rows = graph.read(PATIENT, plain_=True, patient=patient)
    return patient_record(rows[0]["patient"], rows[0]["conditions"]) if rows else None


def patient_record(patient: dict[str, Any], conditions: list[dict[str, Any]]) -> PatientRecord:
    """The record of a Patient's properties and its ``CONDITIONS`` (here and beside an answer, kg.queries.pgx)."""
    return PatientRecord(
        id=patient["id"],
        assembly=patient.get("assembly"),
        conditions=[disease_ref(d) for d in conditions],
        origin=patient.get("origin") or DEFAULT_ORIGIN.value,
        origin_source=patient.get("originSource"),
        normal_sample=patient.get("normalSample"),
    )


def patient_variants(graph: Graph, patient: str) -> list[PatientVariant]:
    found = []
    for row in graph.read(PATIENT_VARIANTS, patient=patient):
        v, link = row["variant"], row["link"] or {}
        found.append(
            PatientVariant(
                **allele_fields(v),
                gene=v.get("gene"),
                protein_change=v.get("proteinChange"),
                name=v.get("name"),
                kind=v.get("kind"),
                zygosity=link.get("zygosity"),
                genotype=link.get("genotype"),
                depth=link.get("depth"),
                sample=link.get("sample"),
                match_level=link.get("matchLevel") or "exact",
                call_origin=link.get("callOrigin"),
                observed=link.get("observed"),
            )
        )
    return found

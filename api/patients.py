"""The patient answers: variants, diplotypes, pharmacogenomics, targeted therapies, risks.

Each answer item carries ``path`` (patient → conclusion) and ``sources`` (the releases behind it).
"""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.answer_types import (
    DiseaseRef,
    DrugRef,
    PathStepType,
    SourceRefType,
    drug_refs,
    paths,
    sources,
)
from api.context import Context
from api.errors import not_found
from kg.queries import pgx, risk, therapy
from kg.queries.answers import UnknownPatient
from kg.queries.patient_view import find_patient, patient_variants


@strawberry.enum(description="How a patient's variant matched the knowledge.")
class MatchLevel(enum.Enum):
    EXACT = "exact"
    CODON = "codon"
    GENE = "gene"


@strawberry.type
class PatientVariant:
    id: str
    chrom: str | None
    pos: int | None
    ref: str | None
    alt: str | None
    rsid: str | None
    gene: str | None
    protein_change: str | None
    name: str | None
    kind: str | None
    zygosity: str | None
    genotype: str | None
    depth: int | None
    sample: str | None
    match_level: str
    observed: str | None = strawberry.field(description="The patient's own allele when the match is codon or gene level.")


@strawberry.type
class Diplotype:
    gene: str
    diplotype: str | None
    phenotype: str | None
    phenotypes: list[str]
    activity_score: float | None
    status: str
    ambiguous: bool
    candidates: list[str]
    missing_positions: list[str]
    warnings: list[str]


@strawberry.type
class PgxRecommendation:
    id: str
    guideline: str
    guideline_name: str | None
    drug: str
    genes: list[str]
    lookup_key: JSON
    phenotypes: list[str]
    text: str | None
    implications: list[str]
    strength: str | None
    population: str | None
    citations: list[str]
    url: str | None
    path: list[PathStepType]
    sources: list[SourceRefType]


@strawberry.enum
class PgxState(enum.Enum):
    RECOMMENDATION = "RECOMMENDATION"
    NO_RECOMMENDATION = "NO_RECOMMENDATION"
    AMBIGUOUS = "AMBIGUOUS"
    CANNOT_BE_DETERMINED = "CANNOT_BE_DETERMINED"


@strawberry.type(description="What the patient's genotype means for one drug under one guideline.")
class PgxAnswer:
    drug: DrugRef
    guideline: str
    guideline_name: str | None
    state: PgxState
    reason: str | None
    genes: list[str]
    diplotypes: list[Diplotype]
    recommendations: list[PgxRecommendation]


@strawberry.type(description="A predictive, diagnostic or prognostic evidence item or assertion for the patient.")
class EvidenceFinding:
    evidence_id: str
    is_assertion: bool
    type: str
    significance: str | None
    direction: str | None
    level: str | None
    amp_tier: str | None
    amp_level: str | None
    therapies: list[str]
    therapy_interaction: str | None
    drugs: list[DrugRef]
    molecular_profile: str | None
    variants: list[str]
    match_levels: list[str]
    disease: DiseaseRef | None
    disease_relation: str | None = strawberry.field(
        description="How the evidence's disease relates to the asked disease: same, ancestor, descendant.")
    statement: str | None
    pmids: list[str]
    citations: list[str]
    origin: str | None
    curated_by: str | None
    curated_at: str | None
    path: list[PathStepType]
    sources: list[SourceRefType]


@strawberry.enum
class RiskStatus(enum.Enum):
    AT_RISK = "AT_RISK"
    CARRIER = "CARRIER"
    NOT_A_RISK = "NOT_A_RISK"


@strawberry.type(description="A germline finding: pathogenic / likely pathogenic (or, when asked, the others apart).")
class RiskFinding:
    gene: str | None
    variant: str
    variant_name: str | None
    rsid: str | None
    evidence_id: str
    source: str | None
    classification: str
    significance: str | None
    review_status: str | None
    stars: int | None
    conditions: list[str]
    diseases: list[DiseaseRef]
    zygosity: str | None
    genotype: str | None
    inheritance: str | None
    acmg_disorders: list[str]
    status: RiskStatus
    reason: str
    pmids: list[str]
    path: list[PathStepType]
    sources: list[SourceRefType]


def _diplotype(call: pgx.GeneCallSummary) -> Diplotype:
    if call.ambiguous:  # never pick one phenotype for an ambiguous call
        phenotype = call.phenotypes[0] if len(call.phenotypes) == 1 else None
    else:  # CPIC and DPWG may name the same result differently: CPIC's name first
        phenotype = (call.phenotypes_for("CPIC") or call.phenotypes or [None])[0]
    return Diplotype(
        gene=call.gene, diplotype=call.diplotype, phenotype=phenotype,
        phenotypes=call.phenotypes, activity_score=call.activity_score, status=call.status,
        ambiguous=call.ambiguous, candidates=call.candidates,
        missing_positions=call.missing_positions, warnings=call.warnings,
    )


def _evidence(a: therapy.EvidenceAnswer) -> EvidenceFinding:
    return EvidenceFinding(
        evidence_id=a.evidence_id, is_assertion=a.is_assertion, type=a.type, significance=a.significance,
        direction=a.direction, level=a.level, amp_tier=a.amp_tier, amp_level=a.amp_level, therapies=a.therapies,
        therapy_interaction=a.therapy_interaction, drugs=drug_refs(a.drugs),
        molecular_profile=a.profile.get("name"), variants=[v["id"] for v in a.variants], match_levels=a.match_levels,
        disease=DiseaseRef(id=a.disease["id"], name=a.disease.get("name")) if a.disease else None,
        disease_relation=a.disease_relation, statement=a.statement, pmids=a.pmids, citations=a.citations,
        origin=a.origin, curated_by=a.curated_by, curated_at=a.curated_at, path=paths(a.path), sources=sources(a.sources),
    )


def _risk(f: risk.RiskFinding) -> RiskFinding:
    return RiskFinding(
        gene=f.gene, variant=f.variant["id"], variant_name=f.variant.get("name"), rsid=f.variant.get("rsid"),
        evidence_id=f.evidence_id, source=f.source, classification=f.classification, significance=f.significance,
        review_status=f.review_status, stars=f.stars, conditions=f.conditions,
        diseases=[DiseaseRef(id=d["id"], name=d.get("name")) for d in f.diseases], zygosity=f.zygosity,
        genotype=f.genotype, inheritance=f.inheritance, acmg_disorders=f.acmg_disorders,
        status=RiskStatus(f.status), reason=f.reason, pmids=f.pmids, path=paths(f.path), sources=sources(f.sources),
    )


def _pgx(a: pgx.PgxAnswer) -> PgxAnswer:
    return PgxAnswer(
        drug=DrugRef(id=a.drug, name=a.drug_name), guideline=a.guideline, guideline_name=a.guideline_name,
        state=PgxState(a.state), reason=a.reason, genes=a.genes, diplotypes=[_diplotype(c) for c in a.calls],
        recommendations=[
            PgxRecommendation(
                id=r.recommendation_id, guideline=r.guideline, guideline_name=r.guideline_name, drug=r.drug,
                genes=r.genes, lookup_key=r.lookup_key, phenotypes=r.phenotypes, text=r.text,
                implications=r.implications, strength=r.strength, population=r.population, citations=r.citations,
                url=r.url, path=paths(r.path), sources=sources(r.sources),
            )
            for r in a.recommendations
        ],
    )


async def _guarded(info: Info[Context, None], fn: Any, *args: Any) -> Any:
    try:
        return await info.context.run(fn, *args)
    except UnknownPatient as err:  # an unknown or ambiguous drug or disease: BAD_INPUT (api.context)
        raise not_found(str(err)) from err


@strawberry.type(description="A patient: what was observed, and what it means.")
class Patient:
    id: str
    assembly: str | None
    conditions: list[DiseaseRef]

    @strawberry.field(description="The patient's variants matched to the knowledge (not the whole genome).")
    async def variants(self, info: Info[Context, None]) -> list[PatientVariant]:
        rows = await _guarded(info, patient_variants, self.id)
        return [
            PatientVariant(
                id=r["id"], chrom=r.get("chrom"), pos=r.get("pos"), ref=r.get("ref"), alt=r.get("alt"),
                rsid=r.get("rsid"), gene=r.get("gene"), protein_change=r.get("proteinChange"), name=r.get("name"),
                kind=r.get("kind"), zygosity=r["link"].get("zygosity"), genotype=r["link"].get("genotype"),
                depth=r["link"].get("depth"), sample=r["link"].get("sample"),
                match_level=r["link"].get("matchLevel") or "exact", observed=r["link"].get("observed"),
            )
            for r in rows
        ]

    @strawberry.field(description="Pharmacogenomic diplotype calls per gene.")
    async def diplotypes(self, info: Info[Context, None]) -> list[Diplotype]:
        calls = await _guarded(info, pgx.patient_gene_calls, self.id)
        return [_diplotype(c) for c in sorted(calls.values(), key=lambda c: c.gene)]

    @strawberry.field(description="CPIC and DPWG recommendations for every drug, or the one given; explicit states.")
    async def pharmacogenomics(self, info: Info[Context, None], drug: str | None = None) -> list[PgxAnswer]:
        answers = await _guarded(info, pgx.pharmacogenomics, self.id, drug)
        return [_pgx(a) for a in answers]

    @strawberry.field(description="Predictive evidence and assertions for the patient's variants, strongest first.")
    async def targeted_therapies(self, info: Info[Context, None], disease: str | None = None) -> list[EvidenceFinding]:
        answers = await _guarded(info, therapy.targeted_therapies, self.id, disease)
        return [_evidence(a) for a in answers]

    @strawberry.field(description="Diagnostic and prognostic evidence for the patient's variants.")
    async def diagnostic_prognostic(self, info: Info[Context, None], disease: str | None = None) -> list[EvidenceFinding]:
        answers = await _guarded(info, therapy.diagnostic_prognostic, self.id, disease)
        return [_evidence(a) for a in answers]

    @strawberry.field(description="Pathogenic / likely pathogenic germline findings; others only with includeNonRisk.")
    async def risks(self, info: Info[Context, None], include_non_risk: bool = False) -> list[RiskFinding]:
        findings = await _guarded(info, risk.risks, self.id, include_non_risk)
        return [_risk(f) for f in findings]


@strawberry.type
class PatientQuery:
    @strawberry.field(description="A patient by id; null if unknown.")
    async def patient(self, info: Info[Context, None], id: str) -> Patient | None:
        row = await info.context.run(find_patient, id)
        if row is None:
            return None
        return Patient(
            id=row["id"], assembly=row.get("assembly"),
            conditions=[DiseaseRef(id=d["id"], name=d.get("name")) for d in row["conditions"]],
        )

"""The patient's answers as a FHIR R4 Bundle following HL7's Genomics Reporting IG (STU2/STU3 profiles).

Shape (http://hl7.org/fhir/uv/genomics-reporting, profiles in input/fsh of HL7/genomics-reporting):

- ``DiagnosticReport`` (profile ``genomic-report``, LOINC 51969-4 "Genetic analysis report", category GE):
  every observation as ``result``, every medication recommendation as ``recommended-action``, the
  plain-language summary as ``conclusion``.
- ``Observation`` ``variant`` (LOINC 69548-6, value LA9633-4 "Present"), one per allele the VCF showed
  (the exact Variant the patient links; a codon- or gene-level link points at it through ``observed``):
  gene studied 48018-6, dbSNP 81252-9, assembly 62374-4, chromosome 48000-4, 1-based coordinates
  92822-6 / 81254-5, ref 69547-8, alt 69551-0, allelic state 53034-5.
- ``Observation`` ``genotype`` (LOINC 84413-4), one per called pharmacogene, ``derivedFrom`` its variants.
- ``Observation`` ``therapeutic-implication`` (tbd-codes-cs#therapeutic-implication): each predictive
  evidence item (medication assessed 51963-7, treatment context 81259-4, evidence level 93044-6) and
  each pharmacogenomic answer with a recommendation (derived from the genotype observations).
- ``Observation`` ``diagnostic-implication`` (tbd-codes-cs#diagnostic-implication): diagnostic and
  prognostic evidence and the inherited risks (clinical significance 53037-8, predicted phenotype
  81259-4, mode of inheritance).
- ``Task`` ``medication-recommendation`` (status requested, intent proposal), one per guideline
  recommendation, ``reasonReference`` its therapeutic implication.
- ``Provenance`` naming each source release behind a statement (entity role ``source``).

Every implication has ``derivedFrom`` (1..* in the IG). Citations travel as ``workflow-relatedArtifact``
extensions. The bundle is validated by building it with fhir.resources' R4B models (R4B's Observation,
DiagnosticReport, Task and Provenance have R4's elements; fhir.resources 8 ships no plain R4 package).
What the profiles bind to value sets the graph does not code (therapeutic-implication values, the
medication-recommendation action) is given as text, never as a guessed code.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from kg.documents.plain_language import plain_summary
from kg.queries.patient_report import PatientReport
from kg.queries.patient_view import PatientVariant
from kg.queries.pgx import CALLED_STATUSES, GeneCallSummary, PgxAnswer, PgxRecommendation
from kg.queries.risk import RiskFinding, RiskStatus
from kg.queries.therapy import EvidenceAnswer

IG = "http://hl7.org/fhir/uv/genomics-reporting"
TBD = f"{IG}/CodeSystem/tbd-codes-cs"
LOINC = "http://loinc.org"
DOID = "http://purl.obolibrary.org/obo/doid.owl"
DBSNP = "http://www.ncbi.nlm.nih.gov/snp"
HGNC = "http://www.genenames.org/geneId"
RELATED_ARTIFACT = "http://hl7.org/fhir/StructureDefinition/workflow-relatedArtifact"
RECOMMENDED_ACTION = f"{IG}/StructureDefinition/recommended-action"
ID_SYSTEM = "urn:precision-kg"  # identifiers: urn:precision-kg:<kind>, value the graph's id

ZYGOSITY = {  # LOINC LL381-5 allelic state
    "heterozygous": ("LA6706-1", "Heterozygous"),
    "homozygous": ("LA6705-3", "Homozygous"),
    "hemizygous": ("LA6707-9", "Hemizygous"),
}
CLINICAL_SIGNIFICANCE = {  # LOINC LL4034-6
    "pathogenic": ("LA6668-3", "Pathogenic"),
    "likely pathogenic": ("LA26332-9", "Likely pathogenic"),
    "uncertain significance": ("LA26333-7", "Uncertain significance"),
    "likely benign": ("LA26334-5", "Likely benign"),
    "benign": ("LA6675-8", "Benign"),
}


def _cc(text: str | None = None, *codings: tuple[str, str, str | None]) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if codings:
        concept["coding"] = [{"system": s, "code": c, **({"display": d} if d else {})} for s, c, d in codings]
    if text:
        concept["text"] = text
    return concept


def _component(code: tuple[str, str, str | None], **value: Any) -> dict[str, Any]:
    return {"code": _cc(None, code), **value}


def _gene(symbol: str, hgnc_ids: dict[str, str]) -> dict[str, Any]:
    return _cc(symbol, (HGNC, hgnc_ids[symbol], symbol)) if symbol in hgnc_ids else _cc(symbol)


def _disease(d: Any) -> dict[str, Any]:
    return _cc(d.name, (DOID, d.id, d.name)) if d.id.startswith("DOID:") else _cc(d.name or d.id)


def _citations(pmids: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {
            "url": RELATED_ARTIFACT,
            "valueRelatedArtifact": {
                "type": "citation",
                "citation": f"PMID:{p}",
                "url": f"https://pubmed.ncbi.nlm.nih.gov/{p}/",
            },
        }
        for p in dict.fromkeys(pmids)
    ]


class _Bundle:
    """Collects resources under stable ``urn:uuid`` full URLs (uuid5 of patient, kind and graph id)."""

    def __init__(self, patient: str, issued: str) -> None:
        self.patient = patient
        self.issued = issued
        self.entries: list[dict[str, Any]] = []

    def url(self, kind: str, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{ID_SYSTEM}:{self.patient}:{kind}:{key}')}"

    def add(self, kind: str, key: str, resource: dict[str, Any]) -> str:
        full = self.url(kind, key)
        resource.setdefault("id", full.removeprefix("urn:uuid:"))
        self.entries.append({"fullUrl": full, "resource": resource})
        return full

    def observation(
        self, profile: str, code: dict[str, Any], identifier: tuple[str, str], **rest: Any
    ) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "meta": {"profile": [f"{IG}/StructureDefinition/{profile}"]},
            "identifier": [{"system": f"{ID_SYSTEM}:{identifier[0]}", "value": identifier[1]}],
            "status": "final",
            "category": [
                _cc(None, ("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory")),
                _cc(None, ("http://terminology.hl7.org/CodeSystem/v2-0074", "GE", "Genetics")),
            ],
            "code": code,
            "subject": {"reference": self.url("Patient", self.patient)},
            "issued": self.issued,
            **rest,
        }


def fhir_bundle(report: PatientReport, *, issued: datetime | None = None) -> dict[str, Any]:
    """The bundle as JSON (a dict), validated by fhir.resources (raises pydantic's ValidationError)."""
    from fhir.resources.R4B.bundle import Bundle

    when = (issued or datetime.now(UTC)).isoformat(timespec="seconds")
    b = _Bundle(report.patient.id, when)
    b.add(
        "Patient",
        report.patient.id,
        {"resourceType": "Patient", "identifier": [{"system": f"{ID_SYSTEM}:patient", "value": report.patient.id}]},
    )
    variants = _variant_observations(b, report.variants, report.hgnc_ids)
    genotypes = _genotype_observations(b, report.diplotypes, report.variants, variants, report.hgnc_ids)
    implications: list[str] = []
    tasks: list[str] = []
    for e in report.targeted_therapies:
        implications.append(_evidence_implication(b, e, variants, "therapeutic-implication"))
    for e in report.diagnostic_prognostic:
        implications.append(_evidence_implication(b, e, variants, "diagnostic-implication"))
    for r in report.risks:
        implications.append(_risk_implication(b, r, variants))
    for a in report.pharmacogenomics:
        pgx_urls = _pgx_implications(b, a, genotypes)
        implications += [u for u, _ in pgx_urls]
        tasks += [_medication_recommendation(b, a, rec, u) for u, rec in pgx_urls]
    observations = [*variants.values(), *genotypes.values(), *implications]
    report_url = b.add(
        "DiagnosticReport",
        "report",
        {
            "resourceType": "DiagnosticReport",
            "meta": {"profile": [f"{IG}/StructureDefinition/genomic-report"]},
            "extension": [{"url": RECOMMENDED_ACTION, "valueReference": {"reference": t}} for t in tasks],
            "status": "final",
            "category": [_cc(None, ("http://terminology.hl7.org/CodeSystem/v2-0074", "GE", "Genetics"))],
            "code": _cc(None, (LOINC, "51969-4", "Genetic analysis report")),
            "subject": {"reference": b.url("Patient", report.patient.id)},
            "issued": when,
            "result": [{"reference": u} for u in dict.fromkeys(observations)],
            "conclusion": " ".join(f"{p.topic}: {p.text}" for p in plain_summary(report)),
        },
    )
    b.add(
        "Provenance",
        "provenance",
        {
            "resourceType": "Provenance",
            "target": [{"reference": u} for u in [report_url, *dict.fromkeys(observations), *tasks]],
            "recorded": when,
            "agent": [{"who": {"display": "precision-kg (answers from the knowledge graph)"}}],
            "entity": [
                {
                    "role": "source",
                    "what": {
                        "identifier": {"system": f"{ID_SYSTEM}:release", "value": s.release},
                        "display": f"{s.name} {s.version}" + (f" ({s.licence})" if s.licence else ""),
                    },
                }
                for s in report.releases
            ],
        },
    )
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": when, "entry": b.entries}
    Bundle.model_validate(bundle)  # the library's validation: types, cardinalities, required elements
    return bundle


def _observed_id(v: PatientVariant) -> str:
    """The allele the VCF showed: the exact Variant, or the patient's own allele of a coarser link."""
    return v.id if v.match_level == "exact" or not v.observed else v.observed


def _variant_observations(b: _Bundle, variants: list[PatientVariant], hgnc_ids: dict[str, str]) -> dict[str, str]:
    """Knowledge Variant id (exact or coarse) -> the full URL of the observation of the allele seen."""
    urls: dict[str, str] = {}
    by_observed: dict[str, PatientVariant] = {}
    for v in variants:
        seen = _observed_id(v)
        if v.match_level == "exact" or seen not in by_observed:  # the exact link describes the allele best
            by_observed[seen] = v
    for seen, v in by_observed.items():
        components = []
        if v.gene:
            components.append(
                _component((LOINC, "48018-6", "Gene studied [ID]"), valueCodeableConcept=_gene(v.gene, hgnc_ids))
            )
        if v.rsid and v.match_level == "exact":
            components.append(
                _component(
                    (LOINC, "81252-9", "Discrete genetic variant"),
                    valueCodeableConcept=_cc(None, (DBSNP, v.rsid, None)),
                )
            )
        components.append(
            _component(
                (LOINC, "62374-4", "Human reference sequence assembly version"),
                valueCodeableConcept=_cc(None, (LOINC, "LA26806-2", "GRCh38")),
            )
        )
        parts = seen.split(":")  # GRCh38:chr7:140753336:A:T (kg.identity.variants.variant_id)
        if len(parts) == 5 and parts[2].isdigit():
            chrom, pos, ref, alt = parts[1], int(parts[2]), parts[3], parts[4]
            components += [
                _component((LOINC, "48000-4", "Chromosome"), valueCodeableConcept=_cc(chrom)),
                _component(
                    (LOINC, "92822-6", "Genomic coordinate system"),
                    valueCodeableConcept=_cc(None, (LOINC, "LA30102-0", "1-based character counting")),
                ),
                _component(
                    (LOINC, "81254-5", "Genomic allele start-end"),
                    valueRange={"low": {"value": pos}, "high": {"value": pos + len(ref) - 1}},
                ),
                _component((LOINC, "69547-8", "Genomic ref allele [ID]"), valueString=ref),
                _component((LOINC, "69551-0", "Genomic alt allele [ID]"), valueString=alt),
            ]
        if v.zygosity in ZYGOSITY:
            code, display = ZYGOSITY[v.zygosity]
            components.append(
                _component((LOINC, "53034-5", "Allelic state"), valueCodeableConcept=_cc(None, (LOINC, code, display)))
            )
        url = b.add(
            "variant",
            seen,
            b.observation(
                "variant",
                _cc(None, (LOINC, "69548-6", "Genetic variant assessment")),
                ("variant", seen),
                valueCodeableConcept=_cc(None, (LOINC, "LA9633-4", "Present")),
                component=components,
                note=[{"text": f"{v.name or seen}; genotype {v.genotype or 'not given'}"}],
            ),
        )
        urls[seen] = url
    for v in variants:
        urls[v.id] = urls[_observed_id(v)]
    return urls


def _genotype_observations(
    b: _Bundle,
    calls: list[GeneCallSummary],
    variants: list[PatientVariant],
    urls: dict[str, str],
    hgnc_ids: dict[str, str],
) -> dict[str, str]:
    """Gene -> the genotype observation of a called pharmacogene."""
    found = {}
    for c in calls:
        if c.status not in CALLED_STATUSES or not c.diplotype:
            continue
        derived = [{"reference": urls[v.id]} for v in variants if v.gene == c.gene and v.id in urls]
        found[c.gene] = b.add(
            "genotype",
            c.gene,
            b.observation(
                "genotype",
                _cc(None, (LOINC, "84413-4", "Genotype display name")),
                ("genotype", c.gene),
                valueCodeableConcept=_cc(f"{c.gene} {c.diplotype}"),
                component=[
                    _component((LOINC, "48018-6", "Gene studied [ID]"), valueCodeableConcept=_gene(c.gene, hgnc_ids))
                ],
                **({"derivedFrom": list({d["reference"]: d for d in derived}.values())} if derived else {}),
                **({"interpretation": [_cc(c.phenotype)]} if c.phenotype else {}),
            ),
        )
    return found


def _derived(ids: Iterable[str], urls: dict[str, str]) -> list[dict[str, str]]:
    return [{"reference": u} for u in dict.fromkeys(urls[i] for i in ids if i in urls)]


def _knowledge_base(names: Iterable[str]) -> dict[str, Any]:
    return _component(
        (TBD, "knowledge-base", "Knowledge Base"), valueCodeableConcept=_cc(", ".join(dict.fromkeys(names)))
    )


def _evidence_implication(b: _Bundle, e: EvidenceAnswer, urls: dict[str, str], profile: str) -> str:
    components = []
    if e.level:
        components.append(
            _component(
                (LOINC, "93044-6", "Level of evidence"),
                valueCodeableConcept=_cc(f"CIViC level {e.level}" + (f"; AMP {e.amp_tier}" if e.amp_tier else "")),
            )
        )
    if profile == "therapeutic-implication":
        if e.significance:
            value = e.significance + ("" if e.direction in (None, "supports") else f" ({e.direction})")
            components.append(_component((TBD, "therapeutic-implication", None), valueCodeableConcept=_cc(value)))
        components += [
            _component((LOINC, "51963-7", "Medication assessed [ID]"), valueCodeableConcept=_cc(d.name or d.id))
            for d in e.drugs
        ]
        if e.disease:
            components.append(
                _component((LOINC, "81259-4", "Associated phenotype"), valueCodeableConcept=_disease(e.disease))
            )
    else:
        if e.significance:
            components.append(
                _component(
                    (LOINC, "53037-8", "Genetic variation clinical significance"),
                    valueCodeableConcept=_cc(e.significance),
                )
            )
        if e.disease:
            components.append(
                _component((LOINC, "81259-4", "Associated phenotype"), valueCodeableConcept=_disease(e.disease))
            )
    components.append(_knowledge_base(s.name for s in e.sources))
    return b.add(
        profile,
        e.evidence_id,
        b.observation(
            profile,
            _cc(None, (TBD, profile, None)),
            ("evidence", e.evidence_id),
            extension=_citations(e.pmids),
            derivedFrom=_derived(e.variants, urls),
            component=components,
            note=[{"text": t} for t in [e.statement, f"disease relation: {e.disease_relation}"] if t],
        ),
    )


def _risk_implication(b: _Bundle, r: RiskFinding, urls: dict[str, str]) -> str:
    components = []
    if r.classification in CLINICAL_SIGNIFICANCE:
        code, display = CLINICAL_SIGNIFICANCE[r.classification]
        components.append(
            _component(
                (LOINC, "53037-8", "Genetic variation clinical significance"),
                valueCodeableConcept=_cc(None, (LOINC, code, display)),
            )
        )
    if r.review_status:
        components.append(
            _component((LOINC, "93044-6", "Level of evidence"), valueCodeableConcept=_cc(r.review_status))
        )
    components += [
        _component((LOINC, "81259-4", "Associated phenotype"), valueCodeableConcept=_disease(d)) for d in r.diseases
    ]
    if r.inheritance:
        components.append(_component((TBD, "condition-inheritance", None), valueCodeableConcept=_cc(r.inheritance)))
    components.append(_knowledge_base([r.source or s.name for s in r.sources[:1]] or ["ClinVar"]))
    status = {
        RiskStatus.AT_RISK: "at risk",
        RiskStatus.CARRIER: "carrier",
        RiskStatus.NO_CURRENT_CLASSIFICATION: "no current classification",
    }.get(r.status, "not a risk")
    return b.add(
        "diagnostic-implication",
        f"{r.evidence_id}|{r.variant}",
        b.observation(
            "diagnostic-implication",
            _cc(None, (TBD, "diagnostic-implication", None)),
            ("evidence", r.evidence_id),
            extension=_citations(r.pmids),
            derivedFrom=_derived([r.variant], urls),
            component=components,
            interpretation=[_cc(status)],
            note=[{"text": r.reason}],
        ),
    )


def _pgx_implications(b: _Bundle, a: PgxAnswer, genotypes: dict[str, str]) -> list[tuple[str, PgxRecommendation]]:
    """One therapeutic implication per recommendation of the answer, derived from the genotypes of its
    genes; none when no gene of it was genotyped (the IG requires derivedFrom)."""
    made = []
    for rec in a.recommendations:
        genes = sorted({p.split(":", 1)[0] for p in rec.phenotypes} & set(genotypes))
        if not genes:
            continue
        components = [
            _component((TBD, "therapeutic-implication", None), valueCodeableConcept=_cc(p.replace(":", " ", 1)))
            for p in rec.phenotypes
        ]
        components.append(
            _component(
                (LOINC, "51963-7", "Medication assessed [ID]"), valueCodeableConcept=_cc(a.drug.name or a.drug.id)
            )
        )
        if rec.strength:
            components.append(
                _component(
                    (LOINC, "93044-6", "Level of evidence"), valueCodeableConcept=_cc(f"{a.guideline} {rec.strength}")
                )
            )
        components.append(_knowledge_base([a.guideline, *(s.name for s in rec.sources)]))
        url = b.add(
            "therapeutic-implication",
            rec.id,
            b.observation(
                "therapeutic-implication",
                _cc(None, (TBD, "therapeutic-implication", None)),
                ("recommendation", rec.id),
                extension=_citations(rec.citations),
                derivedFrom=[{"reference": genotypes[g]} for g in genes],
                component=components,
                note=[{"text": t} for t in [a.guideline_name, a.reason] if t],
            ),
        )
        made.append((url, rec))
    return made


def _medication_recommendation(b: _Bundle, a: PgxAnswer, rec: PgxRecommendation, implication: str) -> str:
    return b.add(
        "medication-recommendation",
        rec.id,
        {
            "resourceType": "Task",
            "meta": {"profile": [f"{IG}/StructureDefinition/medication-recommendation"]},
            "identifier": [{"system": f"{ID_SYSTEM}:recommendation", "value": rec.id}],
            "status": "requested",
            "intent": "proposal",
            "code": _cc(f"{a.drug.name or a.drug.id}: {rec.text or 'see the guideline'}"),
            "description": rec.text or "",
            "for": {"reference": b.url("Patient", b.patient)},
            "authoredOn": b.issued,
            "reasonReference": {"reference": implication},
            "note": [
                {"text": f"{a.guideline} {a.guideline_name or ''}; strength {rec.strength or 'not stated'}".strip()}
            ]
            + ([{"text": rec.url}] if rec.url else []),
        },
    )

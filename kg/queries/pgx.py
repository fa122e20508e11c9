"""Pharmacogenomic answers: what the patient's genotype means for a drug (CPIC, DPWG).

Path: ``Patient -HAS_DIPLOTYPE-> Phenotype <-FOR_PHENOTYPE- Recommendation -FOR_DRUG-> Drug``.
A recommendation applies when the patient's phenotype matches its lookup key for *every* gene
of the key (CPIC/DPWG lookup keys: phenotype, activity score, or allele status per gene).

Every drug with a guideline for any of the patient's genes gets an explicit state per guideline:
``RECOMMENDATION`` (a matching recommendation), ``NO_RECOMMENDATION`` (the guideline says so, or
has nothing for this phenotype), ``AMBIGUOUS`` (candidate diplotypes differ in phenotype; each
candidate's recommendation is shown), or ``CANNOT_BE_DETERMINED`` (a gene the key needs was not
called: missing positions, no call, or an outside call such as CYP2D6 or HLA-B is needed).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kg.db import Graph
from kg.queries.answers import PathNode, PathStep, SourceRef, patient_conditions, source_refs
from kg.queries.resolve import resolve_drug

PATIENT_CALLS = """
MATCH (p:Patient {id: $patient})-[hd:HAS_DIPLOTYPE]->(ph:Phenotype)
RETURN ph.gene AS gene, ph.id AS phenotypeId, ph.phenotype AS phenotype, ph.activityScore AS activityScore,
       properties(hd) AS call
"""

GUIDELINE_GENES = """
MATCH (rec:Recommendation)-[:FOR_DRUG]->(d:Drug)
WHERE EXISTS { (rec)-[:ASSERTED_BY]->(:Source {status: 'active'}) }
  AND ($drugs IS NULL OR d.id IN $drugs)
  AND any(g IN rec.genes WHERE g IN $genes)
RETURN d.id AS drug, d.name AS drugName, rec.guideline AS guideline, rec.guidelineName AS guidelineName,
       collect(DISTINCT rec.genes) AS geneSets
"""

MATCHING_RECOMMENDATIONS = """
MATCH (p:Patient {id: $patient})-[hd:HAS_DIPLOTYPE]->(ph:Phenotype)<-[:FOR_PHENOTYPE]-(rec:Recommendation)
      -[:FOR_DRUG]->(d:Drug)
WHERE ($drugs IS NULL OR d.id IN $drugs)
  AND (hd.guideline IS NULL OR hd.guideline = rec.guideline)
  AND EXISTS { (rec)-[:ASSERTED_BY]->(:Source {status: 'active'}) }
WITH p, rec, d, collect(DISTINCT ph.id) AS matched
MATCH (rec)-[:FOR_PHENOTYPE]->(need:Phenotype)
WITH p, rec, d, matched, collect(DISTINCT need.id) AS needed
WHERE all(n IN needed WHERE n IN matched)
RETURN d.id AS drug, d.name AS drugName, rec {.*} AS rec, needed,
       [(rec)-[:ASSERTED_BY]->(s:Source {status: 'active'}) | s {.key, .name, .version, .licence, fact: rec.id}] AS sources
"""

# statuses of kg/matcher/pharmacogenomics.py that give a usable phenotype
CALLED_STATUSES = ("called", "ambiguous", "haplotype_list", "outside call")


@dataclass
class GeneCallSummary:
    gene: str
    diplotype: str | None
    phenotypes: list[str]
    activity_score: float | None
    status: str
    ambiguous: bool
    candidates: list[str]
    missing_positions: list[str]
    warnings: list[str]
    by_guideline: dict[str, list[str]] = field(default_factory=dict)  # guideline ("" = any) -> phenotypes

    def phenotypes_for(self, guideline: str) -> list[str]:
        """The phenotypes that apply under one guideline (edges without a guideline apply to all)."""
        return sorted(set(self.by_guideline.get(guideline, [])) | set(self.by_guideline.get("", [])))


@dataclass
class PgxRecommendation:
    recommendation_id: str
    guideline: str
    guideline_name: str | None
    drug: str
    genes: list[str]
    lookup_key: dict[str, Any]
    phenotypes: list[str]
    text: str | None
    implications: list[str]
    strength: str | None
    population: str | None
    citations: list[str]
    url: str | None
    path: list[PathStep] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)


@dataclass
class PgxAnswer:
    drug: str
    drug_name: str | None
    guideline: str
    guideline_name: str | None
    state: str  # RECOMMENDATION | NO_RECOMMENDATION | AMBIGUOUS | CANNOT_BE_DETERMINED
    genes: list[str]
    reason: str | None
    recommendations: list[PgxRecommendation]
    calls: list[GeneCallSummary]


def patient_gene_calls(graph: Graph, patient: str) -> dict[str, GeneCallSummary]:
    """One summary per gene from the patient's HAS_DIPLOTYPE links."""
    calls: dict[str, GeneCallSummary] = {}
    rows = graph.read(PATIENT_CALLS, patient=patient)
    if not rows:
        patient_conditions(graph, patient)  # raises UnknownPatient; otherwise: no calls stored
    for row in rows:
        call = row["call"] or {}
        gene = row["gene"] or call.get("gene")
        summary = calls.get(gene)
        if summary is None:
            summary = calls[gene] = GeneCallSummary(
                gene=gene, diplotype=call.get("diplotype"), phenotypes=[], activity_score=row["activityScore"],
                status=call.get("status") or "called", ambiguous=bool(call.get("ambiguous")),
                candidates=list(call.get("candidates") or []),
                missing_positions=list(call.get("missingPositions") or []), warnings=list(call.get("warnings") or []),
            )
        summary.ambiguous = summary.ambiguous or bool(call.get("ambiguous"))
        if row["phenotype"] and row["phenotype"] not in summary.phenotypes:
            summary.phenotypes.append(row["phenotype"])
        if row["phenotype"]:
            summary.by_guideline.setdefault(call.get("guideline") or "", []).append(row["phenotype"])
    return calls


def pharmacogenomics(graph: Graph, patient: str, drug: str | None = None) -> list[PgxAnswer]:
    calls = patient_gene_calls(graph, patient)
    drugs = [resolve_drug(graph, drug).id] if drug else None
    genes = sorted(calls)
    if drug:
        # for one drug, also report guidelines on genes the patient has no call for at all
        genes = sorted({g for row in graph.read(
            "MATCH (rec:Recommendation)-[:FOR_DRUG]->(:Drug {id: $d}) UNWIND rec.genes AS g RETURN DISTINCT g", d=drugs[0]
        ) for g in [row["g"]]} | set(calls))
    guidelines = graph.read(GUIDELINE_GENES, drugs=drugs, genes=genes)
    matches = graph.read(MATCHING_RECOMMENDATIONS, patient=patient, drugs=drugs)
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for m in matches:
        by_key[(m["drug"], m["rec"].get("guideline"), m["rec"].get("guidelineName"))].append(m)
    answers = [
        _answer(patient, g, by_key.get((g["drug"], g["guideline"], g["guidelineName"]), []), calls)
        for g in guidelines
    ]
    order = {"RECOMMENDATION": 0, "AMBIGUOUS": 1, "CANNOT_BE_DETERMINED": 2, "NO_RECOMMENDATION": 3}
    answers.sort(key=lambda a: (order[a.state], a.drug, a.guideline))
    return answers


def _answer(patient: str, guideline: dict[str, Any], matches: list[dict[str, Any]],
            calls: dict[str, GeneCallSummary]) -> PgxAnswer:
    gene_sets: list[list[str]] = guideline["geneSets"]
    # the smallest gene set the patient can satisfy decides; report what is missing for the others
    genes_needed = sorted({g for s in gene_sets for g in s})
    relevant_calls = [calls[g] for g in genes_needed if g in calls]
    recommendations = [_recommendation(patient, m, calls) for m in matches]
    base = dict(drug=guideline["drug"], drug_name=guideline["drugName"], guideline=guideline["guideline"],
                guideline_name=guideline["guidelineName"], genes=genes_needed, calls=relevant_calls)

    undetermined = _undetermined_reason(gene_sets, calls)
    if undetermined:
        # CPIC also publishes guidance keyed on "No Result"; it is shown, but the state stays explicit
        return PgxAnswer(state="CANNOT_BE_DETERMINED", recommendations=recommendations, reason=undetermined, **base)
    ambiguous_genes = [c.gene for c in relevant_calls
                       if c.ambiguous and len(c.phenotypes_for(guideline["guideline"])) > 1]
    if recommendations and ambiguous_genes:
        return PgxAnswer(state="AMBIGUOUS", recommendations=recommendations,
                         reason=f"the phenotype of {', '.join(ambiguous_genes)} depends on which candidate diplotype is "
                                "true (unphased or missing data); each candidate's recommendation is listed", **base)
    real = [r for r in recommendations if not _is_no_recommendation(r)]
    if real:
        return PgxAnswer(state="RECOMMENDATION", recommendations=real, reason=None, **base)
    if recommendations:
        return PgxAnswer(state="NO_RECOMMENDATION", recommendations=recommendations,
                         reason="the guideline gives no recommendation for this phenotype", **base)
    phen = "; ".join(f"{c.gene} {'/'.join(c.phenotypes) or c.status}" for c in relevant_calls)
    return PgxAnswer(state="NO_RECOMMENDATION", recommendations=[],
                     reason=f"the guideline has no recommendation for {phen}", **base)


def _undetermined_reason(gene_sets: list[list[str]], calls: dict[str, GeneCallSummary]) -> str | None:
    """Why no gene set of the guideline can be evaluated for this patient, or None if one can."""
    reasons = []
    for genes in gene_sets:
        missing = []
        for gene in genes:
            call = calls.get(gene)
            if call is None:
                missing.append(f"{gene}: no call (an outside call is needed for genes the VCF cannot call, "
                               "such as CYP2D6, HLA-A, HLA-B)")
            elif call.status not in CALLED_STATUSES or not call.phenotypes or \
                    all(p.lower() in ("indeterminate", "n/a", "no result") for p in call.phenotypes):
                detail = f"missing positions {', '.join(call.missing_positions[:5])}" if call.missing_positions else call.status
                missing.append(f"{gene}: could not be determined ({detail})")
        if not missing:
            return None
        reasons.append("; ".join(missing))
    return reasons[0] if reasons else None


def _is_no_recommendation(rec: PgxRecommendation) -> bool:
    text = (rec.text or "").strip().lower()
    return (rec.strength or "").lower() == "no recommendation" or text in ("no recommendation", "")


def _recommendation(patient: str, m: dict[str, Any], calls: dict[str, GeneCallSummary]) -> PgxRecommendation:
    rec = m["rec"]
    try:
        lookup = json.loads(rec.get("lookupKey") or "{}")
    except json.JSONDecodeError:
        lookup = {}
    p_node = PathNode(patient, "Patient")
    rec_node = PathNode(rec["id"], "Recommendation", rec.get("guidelineName"))
    path = []
    for phenotype_id in m["needed"]:
        gene = phenotype_id.split(":", 1)[0]
        call = calls.get(gene)
        ph_node = PathNode(phenotype_id, "Phenotype", phenotype_id.split(":", 1)[-1])
        path.append(PathStep(p_node, "HAS_DIPLOTYPE", ph_node,
                             {"diplotype": call.diplotype if call else None, "ambiguous": call.ambiguous if call else None}))
        path.append(PathStep(rec_node, "FOR_PHENOTYPE", ph_node))
    path.append(PathStep(rec_node, "FOR_DRUG", PathNode(m["drug"], "Drug", m["drugName"])))
    return PgxRecommendation(
        recommendation_id=rec["id"], guideline=rec.get("guideline") or "", guideline_name=rec.get("guidelineName"),
        drug=rec.get("drug") or m["drugName"] or m["drug"], genes=rec.get("genes") or sorted(lookup),
        lookup_key=lookup, phenotypes=m["needed"], text=rec.get("text"),
        implications=rec.get("implications") or [], strength=rec.get("strength"), population=rec.get("population"),
        citations=[str(c) for c in rec.get("citations") or []], url=rec.get("url"), path=path,
        sources=source_refs(m["sources"]),
    )

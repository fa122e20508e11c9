"""Inherited disease risk: pathogenic and likely pathogenic germline findings.

Path: ``Patient -HAS_VARIANT-> Variant <-ABOUT- Evidence -FOR_DISEASE-> Disease`` for ClinVar
classifications (the newest release's only: older ones carry SUPERSEDED_BY) and CIViC
predisposing evidence that supports pathogenicity. Benign, likely benign, uncertain and
conflicting classifications are never reported as risk; they are listed apart only when asked.
With the ACMG SF v3.0 inheritance of the gene, one pathogenic allele in a recessive gene makes
the patient a carrier, not at risk; two (homozygous, or two different variants of unknown
phase) make them at risk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kg.db import Graph
from kg.queries.answers import (
    DiseaseRef,
    PathNode,
    PathStep,
    SourceRef,
    disease_ref,
    patient_conditions,
    source_refs,
)
from kg.queries.visibility import VISIBLE_EVIDENCE, active_sources

RISK_CLASSES = ("pathogenic", "likely pathogenic")
CIVIC_RISK_SIGNIFICANCE = ("pathogenic", "likely pathogenic", "predisposition")

GERMLINE_FINDINGS = f"""
MATCH (p:Patient {{id: $patient}})-[hv:HAS_VARIANT]->(v:Variant)<-[:ABOUT]-(e:Evidence)
WHERE e.type IN ['pathogenicity', 'predisposing'] AND {VISIBLE_EVIDENCE}
  AND NOT EXISTS {{ (e)-[:SUPERSEDED_BY]->() }}
  AND coalesce(hv.matchLevel, 'exact') = 'exact'
OPTIONAL MATCH (e)-[:FOR_DISEASE]->(d:Disease)
WITH p, hv, v, e, collect(DISTINCT d {{.id, .name}}) AS diseases
OPTIONAL MATCH (v)-[:IN_GENE]->(g:Gene)
WITH p, hv, v, e, diseases, collect(DISTINCT g.symbol) AS genes
RETURN v {{.id, .name, .rsid, .gene, .proteinChange, .hgvs}} AS variant, properties(hv) AS link,
       e {{.*}} AS evidence, diseases, genes,
       {active_sources("e")} + {active_sources("v")} AS sources,
       [(sf:SecondaryFinding)-[:FOR_GENE]->(g2:Gene) WHERE g2.symbol IN genes
        | sf {{.id, .disorder, .inheritance, .reportWhat, gene: g2.symbol}}] AS secondaryFindings
"""


class RiskStatus(StrEnum):
    AT_RISK = "AT_RISK"
    CARRIER = "CARRIER"
    NOT_A_RISK = "NOT_A_RISK"


@dataclass
class RiskFinding:
    gene: str | None
    variant: str  # the Variant id
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
    path: list[PathStep] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)


def _classification(e: dict[str, Any]) -> str:
    if e.get("type") == "pathogenicity":
        return e.get("classification") or "other"
    significance = (e.get("significance") or "").lower()
    if (e.get("direction") or "supports") != "supports":
        return f"{significance} (does not support)" if significance else "does not support"
    return "pathogenic" if significance == "predisposition" else significance or "other"


def _inheritance(findings: list[dict[str, Any]]) -> str | None:
    modes = sorted({(f.get("inheritance") or "").strip() for f in findings if f.get("inheritance")})
    return "/".join(modes) if modes else None


def risks(graph: Graph, patient: str, include_non_risk: bool = False) -> list[RiskFinding]:
    """Pathogenic / likely pathogenic germline findings; with include_non_risk, the others apart."""
    rows = graph.read(GERMLINE_FINDINGS, patient=patient)
    if not rows:
        patient_conditions(graph, patient)  # raises UnknownPatient; otherwise: no findings
    risky_alleles_per_gene: dict[str, int] = defaultdict(int)
    for row in rows:
        if _classification(row["evidence"]) in RISK_CLASSES:
            for gene in row["genes"] or [row["variant"].get("gene")]:
                copies = 2 if (row["link"] or {}).get("zygosity") == "homozygous" else 1
                risky_alleles_per_gene[gene] += copies
    findings = [f for row in rows if (f := _finding(patient, row, risky_alleles_per_gene))]
    findings = [f for f in findings if include_non_risk or f.status != RiskStatus.NOT_A_RISK]
    order = list(RiskStatus)
    findings.sort(key=lambda f: (order.index(f.status), -(f.stars or 0), f.gene or "", f.variant))
    return findings


def _finding(patient: str, row: dict[str, Any], alleles_per_gene: dict[str, int]) -> RiskFinding | None:
    e = row["evidence"]
    link = row["link"] or {}
    classification = _classification(e)
    gene = (row["genes"] or [row["variant"].get("gene")])[0]
    inheritance = _inheritance(row["secondaryFindings"])
    if classification not in RISK_CLASSES:
        status, reason = RiskStatus.NOT_A_RISK, f"classified {classification}: not reported as a risk"
    elif (
        inheritance
        and "AR" in inheritance.split("/")
        and "AD" not in inheritance.split("/")
        and alleles_per_gene.get(gene, 0) < 2
    ):
        status, reason = (
            RiskStatus.CARRIER,
            (
                f"one {classification} allele in {gene}, a gene with autosomal recessive "
                "inheritance (ACMG SF v3.0): carrier"
            ),
        )
    elif inheritance and "AR" in inheritance.split("/") and link.get("zygosity") != "homozygous":
        status, reason = (
            RiskStatus.AT_RISK,
            (
                f"two {classification} alleles in the recessive gene {gene} "
                "(phase unknown: possible compound heterozygote)"
            ),
        )
    else:
        mode = f" ({inheritance} inheritance)" if inheritance else " (inheritance not in ACMG SF v3.0)"
        status, reason = (
            RiskStatus.AT_RISK,
            f"{classification} {link.get('zygosity') or ''} variant in {gene}{mode}".replace("  ", " "),
        )
    p_node = PathNode(patient, "Patient")
    v = row["variant"]
    v_node = PathNode(v["id"], "Variant", v.get("name") or v.get("rsid"))
    e_node = PathNode(e["id"], "Evidence")
    path = [
        PathStep(p_node, "HAS_VARIANT", v_node, {k: link.get(k) for k in ("zygosity", "genotype") if link.get(k)}),
        PathStep(e_node, "ABOUT", v_node),
    ]
    path += [PathStep(e_node, "FOR_DISEASE", PathNode(d["id"], "Disease", d.get("name"))) for d in row["diseases"]]
    return RiskFinding(
        gene=gene,
        variant=v["id"],
        variant_name=v.get("name"),
        rsid=v.get("rsid"),
        evidence_id=e["id"],
        source=e.get("source"),
        classification=classification,
        significance=e.get("significance"),
        review_status=e.get("reviewStatus"),
        stars=e.get("stars"),
        conditions=e.get("conditionNames") or ([e["disease"]] if e.get("disease") else []),
        diseases=[disease_ref(d) for d in row["diseases"]],
        zygosity=link.get("zygosity"),
        genotype=link.get("genotype"),
        inheritance=inheritance,
        acmg_disorders=sorted({f["disorder"] for f in row["secondaryFindings"] if f.get("disorder")}),
        status=status,
        reason=reason,
        pmids=[str(x) for x in e.get("pmids") or []],
        path=path,
        sources=source_refs(row["sources"]),
    )

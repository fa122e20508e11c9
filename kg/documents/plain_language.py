"""The report's summary for the patient: the same answers in everyday words, one point per topic.

Written for a reader without medical training (plain-language guidance: short sentences, the
medicine's name, what to do next: talk to the care team). Every sentence is built from an answer of
kg.queries.patient_report; nothing is concluded here that the answer does not say.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.queries.patient_report import PatientReport
from kg.queries.pgx import PgxState
from kg.queries.risk import RiskStatus


@dataclass(frozen=True)
class SummaryPoint:
    topic: str
    text: str


def _names(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plain_summary(report: PatientReport) -> list[SummaryPoint]:
    points: list[SummaryPoint] = []
    pgx = [a for a in report.pharmacogenomics if a.state == PgxState.RECOMMENDATION]
    if pgx:
        by_gene: dict[str, list[str]] = {}
        for a in pgx:
            for call in a.diplotypes:
                if call.gene not in a.genes_without_result:
                    by_gene.setdefault(f"{call.gene} ({call.phenotype or call.status})", []).append(
                        a.drug.name or a.drug.id
                    )
        genes = "; ".join(f"{gene} affects {_names(drugs)}" for gene, drugs in by_gene.items())
        points.append(
            SummaryPoint(
                "Medicines",
                f"Your genes change how your body handles some medicines: {genes}. Guidelines suggest a "
                "different dose or another medicine for these. Show this report to anyone who prescribes them.",
            )
        )
    therapies = [e for e in report.targeted_therapies if e.direction == "supports"]
    if therapies:
        drugs = sorted({t for e in therapies for t in e.therapies})
        profiles = sorted({e.molecular_profile for e in therapies if e.molecular_profile})
        points.append(
            SummaryPoint(
                "Targeted treatment",
                f"Gene changes found in your sample ({_names(profiles)}) are linked in published studies to how well "
                f"some treatments work ({_names(drugs)}). Your care team decides whether one suits you.",
            )
        )
    if report.diagnostic_prognostic:
        points.append(
            SummaryPoint(
                "Diagnosis and outlook",
                f"{len(report.diagnostic_prognostic)} published finding(s) connect your variants with the "
                "diagnosis or the likely course of the disease; your care team can explain what they mean for you.",
            )
        )
    at_risk = [r for r in report.risks if r.status == RiskStatus.AT_RISK]
    carrier = [r for r in report.risks if r.status == RiskStatus.CARRIER]
    if at_risk:
        genes = _names([r.gene or r.variant for r in at_risk])
        points.append(
            SummaryPoint(
                "Inherited risk",
                f"You inherited a change in {genes} that raises the chance of some diseases. This can matter "
                "for your relatives too; genetic counselling can explain the options.",
            )
        )
    if carrier:
        genes = _names([r.gene or r.variant for r in carrier])
        points.append(
            SummaryPoint(
                "Carrier",
                f"You carry one changed copy of {genes}. On its own this does not make you ill, but it can "
                "matter for your children if a partner carries a change in the same gene.",
            )
        )
    if report.undetermined_genes:
        points.append(
            SummaryPoint(
                "Not tested",
                f"Some genes could not be read from your data ({_names([g.gene for g in report.undetermined_genes])}). "
                "This does not mean they are normal; another test may be needed before some medicines.",
            )
        )
    if not points:
        points.append(SummaryPoint("Summary", "No finding in this report calls for a change in your care."))
    return points

"""Everything the graph answers about one patient, gathered for a document (report, FHIR, Phenopacket).

One place computes: each part is the return value of the function the GraphQL resolver of the same
answer calls (api/patients.py), with the same arguments (the patient's own conditions, every drug,
risks without the non-risk classifications), so a document can never say something the API does not.
What this module adds is grouping only: what could not be determined (gene calls without a usable
result, drugs in state CANNOT_BE_DETERMINED, genes no VCF can call) and the releases every statement
cites. No Cypher here: the answer modules hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.db import Graph
from kg.queries import patient_view, pgx, risk, therapy
from kg.queries.answers import SourceRef, UnknownPatient
from kg.queries.knowledge import gene_view
from kg.queries.resolve import Unresolved, resolve_gene
from kg.queries.stats import active_releases
from kg.queries.visibility import KnowledgeState, state_label


@dataclass(frozen=True)
class UndeterminedGene:
    """A pharmacogene the patient has no usable result for, and why (kg.queries.pgx's call summary)."""

    gene: str
    status: str  # the matcher's status (no_data, no_call, ...), or "outside call needed"
    missing_positions: list[str]
    drugs: list[str]  # drugs whose answer names this gene among genes_without_result
    outside_call_needed: bool  # no VCF call exists at all (CYP2D6, HLA-A, HLA-B: kg.queries.pgx)


@dataclass(frozen=True)
class ReleaseRef:
    """A source release that asserted at least one fact of the report (SourceRef without the fact)."""

    release: str
    name: str
    version: str
    licence: str | None


@dataclass
class PatientReport:
    """The answers for one patient, in the order a reader meets them."""

    patient: patient_view.PatientRecord
    variants: list[patient_view.PatientVariant]
    diplotypes: list[pgx.GeneCallSummary]  # sorted by gene, as Patient.diplotypes
    pharmacogenomics: list[pgx.PgxAnswer]
    targeted_therapies: list[therapy.EvidenceAnswer]
    diagnostic_prognostic: list[therapy.EvidenceAnswer]
    risks: list[risk.RiskFinding]
    undetermined_genes: list[UndeterminedGene] = field(default_factory=list)
    undetermined_drugs: list[pgx.PgxAnswer] = field(default_factory=list)
    releases: list[ReleaseRef] = field(default_factory=list)
    hgnc_ids: dict[str, str] = field(default_factory=dict)  # gene symbol -> HGNC id, for the genes named
    active: dict[str, str] = field(default_factory=dict)  # source name -> its active release (the ontologies')
    knowledge: str = "current"  # the knowledge state's label: current, or "as of <key or date>" (issue 8)
    as_of: str | None = None  # the as-of asked; None: current

    def all_sources(self) -> list[SourceRef]:
        """Every SourceRef of every statement (answer items, their recommendations)."""
        refs: list[SourceRef] = []
        for a in self.pharmacogenomics:
            for rec in a.recommendations:
                refs += rec.sources
        for e in (*self.targeted_therapies, *self.diagnostic_prognostic):
            refs += e.sources
        for r in self.risks:
            refs += r.sources
        return refs


def patient_report(graph: Graph, patient: str, state: KnowledgeState | None = None) -> PatientReport:
    """The patient's answers as the API gives them, in the knowledge ``state`` (None: current; raises
    UnknownPatient for an unknown id)."""
    record = patient_view.find_patient(graph, patient)
    if record is None:
        raise UnknownPatient(patient)
    calls = pgx.patient_gene_calls(graph, patient)
    report = PatientReport(
        patient=record,
        variants=patient_view.patient_variants(graph, patient),
        diplotypes=sorted(calls.values(), key=lambda c: c.gene),
        pharmacogenomics=pgx.pharmacogenomics(graph, patient, state=state),
        targeted_therapies=therapy.targeted_therapies(graph, patient, state=state),
        diagnostic_prognostic=therapy.diagnostic_prognostic(graph, patient, state=state),
        risks=risk.risks(graph, patient, state=state),
        knowledge=state_label(state),
        as_of=None if state is None else state.as_of,
    )
    report.undetermined_drugs = [a for a in report.pharmacogenomics if a.state == pgx.PgxState.CANNOT_BE_DETERMINED]
    report.undetermined_genes = _undetermined_genes(report.diplotypes, report.pharmacogenomics)
    report.releases = _releases(report.all_sources())
    report.hgnc_ids = _hgnc_ids(graph, [v.gene for v in report.variants] + [c.gene for c in report.diplotypes])
    report.active = active_releases(graph) if state is None else _newest_per_source(state)
    return report


def _newest_per_source(state: KnowledgeState) -> dict[str, str]:
    """Source name -> its release in the state (keys sort by version: the newest last)."""
    out: dict[str, str] = {}
    for key in sorted(state.releases):
        out[key.split("@", 1)[0]] = key
    return out


def _hgnc_ids(graph: Graph, symbols: list[str | None]) -> dict[str, str]:
    """HGNC ids of the named genes, through the gene resolver (the one place a symbol is looked up)."""
    found = {}
    for symbol in sorted({s for s in symbols if s}):
        try:
            hgnc = gene_view(resolve_gene(graph, symbol)).hgnc_id
        except Unresolved:
            continue
        if hgnc:
            found[symbol] = hgnc
    return found


def _undetermined_genes(calls: list[pgx.GeneCallSummary], answers: list[pgx.PgxAnswer]) -> list[UndeterminedGene]:
    """Genes some answer lists in ``genes_without_result``: the pgx module decided they have no usable
    result; here they are only grouped with the drugs they leave open and their missing positions."""
    by_gene = {c.gene: c for c in calls}
    drugs: dict[str, list[str]] = {}
    for a in answers:
        for gene in a.genes_without_result:
            names = drugs.setdefault(gene, [])
            name = a.drug.name or a.drug.id
            if name not in names:
                names.append(name)
    found = []
    for gene in sorted(drugs):
        call = by_gene.get(gene)
        found.append(
            UndeterminedGene(
                gene=gene,
                status=call.status if call else "outside call needed",
                missing_positions=list(call.missing_positions) if call else [],
                drugs=sorted(drugs[gene]),
                outside_call_needed=call is None,
            )
        )
    return found


def _releases(refs: list[SourceRef]) -> list[ReleaseRef]:
    seen: dict[str, ReleaseRef] = {}
    for ref in refs:
        seen.setdefault(ref.release, ReleaseRef(ref.release, ref.name, ref.version, ref.licence))
    return sorted(seen.values(), key=lambda r: r.release)

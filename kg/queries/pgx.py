"""Pharmacogenomic answers: what the patient's genotype means for a drug (CPIC, DPWG).

Path: ``Patient -HAS_DIPLOTYPE-> Phenotype <-FOR_PHENOTYPE- Recommendation -FOR_DRUG-> Drug``.
A recommendation applies when the patient's phenotype matches its lookup key for *every* gene
of the key (CPIC/DPWG lookup keys: phenotype, activity score, or allele status per gene). A gene
the patient has no result for (no call, no data, or an outside-call gene such as HLA-A without an
outside call) matches the key value ``No Result``: CPIC writes recommendations for that case
(carbamazepine ``HLA-A: No Result; HLA-B: *15:02 positive``), and PharmCAT reports them.

Every drug of every guideline (``Guideline -FOR_DRUG-> Drug``) gets an explicit state per guideline:
``RECOMMENDATION`` (a matching recommendation; ``genes_without_result`` names the genes it was
given without, whose outside call could refine it), ``NO_RECOMMENDATION`` (the guideline says so,
has nothing for this phenotype, or has no lookup table for the drug at all: CPIC warfarin),
``AMBIGUOUS`` (candidate diplotypes differ in phenotype; each candidate's recommendation is shown),
or ``CANNOT_BE_DETERMINED`` (a gene the key needs has no result and the guideline has no
recommendation keyed on ``No Result`` for it: missing positions, no call, or an outside call such
as CYP2D6 or HLA-B is needed).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from kg.db import Graph
from kg.loaders.property_groups import values_as_of
from kg.queries import patient_view
from kg.queries.answers import (
    AS_OF,
    RELEASES_USED,
    DrugRef,
    PathNode,
    PathStep,
    SourceRef,
    UnknownPatient,
    as_of,
    releases_of,
    source_refs,
)
from kg.queries.fields import INTERNAL, described
from kg.queries.resolve import DRUG_CANDIDATES_COLLECTED, Unresolved, drug_params, drugs_of, one_drug
from kg.queries.visibility import KnowledgeState, active, active_sources, in_state, state_groups, state_params

#: One call row per HAS_DIPLOTYPE link of the patient ``p`` (gene_calls reads them).
_CALL_ROWS = """[(p)-[hd:HAS_DIPLOTYPE]->(ph:Phenotype) | {gene: ph.gene, phenotypeId: ph.id, phenotype: ph.phenotype,
  activityScore: ph.activityScore, call: properties(hd)}]"""

PATIENT_CALLS = f"""
MATCH (p:Patient {{id: $patient}})
RETURN {_CALL_ROWS} AS calls
"""

#: CPIC's lookup-key value for a gene whose genotype is not available (``HLA-A: No Result``);
#: kg/matcher/pharmacogenomics.py links a gene it cannot call to ``<GENE>:No Result``.
NO_RESULT = "No Result"


#: Per guideline ``gl`` (its ASSERTED_BY edges to the state's releases bound to ``held``), its
#: recommendations' gene sets per drug (``geneSets``: ``{drug, genes}`` maps): the sets each release
#: stored on its edge at load time (``geneSetDrugs`` / ``geneSetGenes``, kg/loaders/pharmcat.py), or,
#: when an edge lacks them (a release loaded before they were stored), walked from the guideline's
#: recommendations (each of the state's, its drugs and its genes). One branch gives one row.
GUIDELINE_GENE_SETS = f"""
    WITH gl, held WHERE size(held) > 0 AND all(a IN held WHERE a.geneSetDrugs IS NOT NULL)
    RETURN reduce(sets = [], a IN held | sets + [i IN range(0, size(a.geneSetDrugs) - 1) |
      {{drug: a.geneSetDrugs[i], genes: CASE a.geneSetGenes[i] WHEN '' THEN [] ELSE split(a.geneSetGenes[i], ',') END}}
    ]) AS geneSets
    UNION ALL
    WITH gl, held WHERE size(held) = 0 OR any(a IN held WHERE a.geneSetDrugs IS NULL)
    RETURN COLLECT {{
      MATCH (rec:Recommendation)-[:PART_OF]->(gl) WHERE {active("rec")}
      MATCH (rec)-[:FOR_DRUG]->(recDrug:Drug)
      RETURN DISTINCT {{drug: recDrug.id, genes: rec.genes}} AS geneSet
    }} AS geneSets
  """

#: The Recommendation properties an answer reads (``_answers``, ``_recommendation``): the statement returns these
#: only, not the node's every property (its HTML text, file name and version are half of a recommendation's bytes;
#: the PGx-panel patient's every-drug answer 36.8 -> 33.9 ms, same answers, bench/README.md "bench_api").
RECOMMENDATION_PROPERTIES = (
    "id",
    "guidelineId",
    "guideline",
    "guidelineName",
    "drug",
    "genes",
    "lookupKey",
    "text",
    "implications",
    "strength",
    "population",
    "citations",
    "url",
)
_REC_MAP = "rec {" + ", ".join(f".{name}" for name in RECOMMENDATION_PROPERTIES) + "}"

#: The patient's own record beside the answer (``patient_pharmacogenomics``; kg.queries.patient_view).
PATIENT_COLUMNS = f""",
  p {{.*}} AS patient, CASE WHEN p IS NULL THEN [] ELSE {patient_view.CONDITIONS} END AS conditions"""


def _answer_statement(one_drug: bool, with_patient: bool = False) -> str:
    """The whole PGx answer in one statement (one round trip): the patient's calls, the asked drug's
    candidates (kg.queries.resolve, the same rule as every drug argument), every guideline of the drug
    (or of every drug), and the recommendations the patient's phenotypes match.

    Guidelines: every drug a guideline names, with the gene sets of its recommendations for that drug
    (none: the guideline has no lookup table for it, e.g. CPIC warfarin, a dosing algorithm), read once
    per guideline (its recommendations' distinct drug and gene set; per guideline and drug, the
    recommendations were read again for each drug of the guideline: a third of the statement's time).
    With one drug the statement starts from that Drug (an index seek), not from every guideline.

    Calls: with one drug only those of the genes its guidelines name (what the answer reports and the
    matching reads; a patient's other calls were a third of the row's bytes).

    Matches: a recommendation applies when each Phenotype of its key is one the patient links (under
    the recommendation's guideline), or is ``<GENE>:No Result`` for a gene the patient links nothing
    to under that guideline (outside-call genes without an outside call). Found by traversal, never by
    reading every Recommendation: with one drug, from the Drug; for every drug, from the patient's
    Phenotypes and the ``No Result`` Phenotypes of the guidelines' genes back along FOR_PHENOTYPE to
    the Recommendations keyed on them (a recommendation is keyed on one Phenotype at least)."""
    if one_drug:
        drugs = (
            "reduce(best = null, c IN drugCandidates | CASE WHEN best IS NULL OR c.rank < best THEN c.rank ELSE best "
            "END) AS bestRank\nWITH p, calls, drugCandidates, [c IN drugCandidates WHERE c.rank = bestRank | c.node.id]"
        )
        guidelines = (
            f"UNWIND drugs AS drugId\n  MATCH (gl:Guideline)-[:FOR_DRUG]->(d:Drug {{id: drugId}}) WHERE {active('gl')}"
        )
        candidates = f"CALL () {{{DRUG_CANDIDATES_COLLECTED}}}"
        recommendations = "UNWIND drugs AS drugId\n  MATCH (rec:Recommendation)-[:FOR_DRUG]->(d:Drug {id: drugId})"
    else:
        drugs, guidelines = "null", f"MATCH (gl:Guideline) WHERE {active('gl')}"
        recommendations = """UNWIND [l IN links | l.id] + [g IN genes | g + ':' + $noResult] AS phenotypeId
  WITH DISTINCT links, phenotypeId
  MATCH (:Phenotype {id: phenotypeId})<-[:FOR_PHENOTYPE]-(rec:Recommendation)
  WITH DISTINCT links, rec
  MATCH (rec)-[:FOR_DRUG]->(d:Drug)"""
        candidates = "WITH p, calls, [] AS drugCandidates"
    return f"""
OPTIONAL MATCH (p:Patient {{id: $patient}})
WITH p, CASE WHEN p IS NULL THEN [] ELSE {_CALL_ROWS} END AS calls
{candidates}
WITH p, calls, drugCandidates, {drugs} AS drugs
CALL (drugs) {{
  {guidelines}
  WITH gl{", d" if one_drug else ""}, [(gl)-[held:ASSERTED_BY]->(gls:Source) WHERE {in_state("gls")} | held] AS held
  CALL (gl, held) {{{GUIDELINE_GENE_SETS}}}
  {"" if one_drug else "MATCH (gl)-[:FOR_DRUG]->(d:Drug)"}
  RETURN collect({{drug: d.id, drugName: d.name, guidelineId: gl.id, guideline: gl.source, guidelineName: gl.name,
    url: gl.url, genes: gl.genes, sources: {active_sources("gl")},
    geneSets: [s IN geneSets WHERE s.drug = d.id | s.genes]}}) AS guidelines
}}
WITH p, calls, drugCandidates, drugs, guidelines,
     reduce(gs = [], g IN guidelines | gs + coalesce(g.genes, []) + reduce(x = [], s IN g.geneSets | x + s)) AS genes
CALL (p, calls, drugs, genes) {{
  WITH [c IN calls | {{id: c.phenotypeId, gene: c.gene, guideline: c.call.guideline}}] AS links, genes
  {recommendations}
  WHERE {active("rec")}
  WITH rec, d, [l IN links WHERE l.guideline IS NULL OR l.guideline = rec.guideline] AS applicable,
       [(rec)-[:FOR_PHENOTYPE]->(need:Phenotype) | need {{.id, .gene}}] AS needed
  WITH rec, d, needed, [n IN needed WHERE any(l IN applicable WHERE l.id = n.id) | n.id] AS linked,
       [l IN applicable | l.gene] AS called
  WHERE size(needed) > 0
    AND all(n IN needed WHERE n.id IN linked OR (n.id = n.gene + ':' + $noResult AND NOT n.gene IN called))
  RETURN collect({{drug: d.id, drugName: d.name, rec: {_REC_MAP}, needed: [n IN needed | n.id], linked: linked,
    sources: {active_sources("rec")}, groups: {state_groups("rec")}}}) AS matches
}}
RETURN p IS NOT NULL AS known, {"[c IN calls WHERE c.gene IN genes]" if one_drug else "calls"} AS calls,
  drugCandidates, guidelines, matches{PATIENT_COLUMNS if with_patient else ""}
"""


#: The answer for one drug (``$key`` etc.: kg.queries.resolve.drug_params) and for every drug.
ONE_DRUG_ANSWER = _answer_statement(one_drug=True)
ALL_DRUGS_ANSWER = _answer_statement(one_drug=False)
#: The same with the patient's record (``patient_pharmacogenomics``): one round trip for both.
PATIENT_ONE_DRUG_ANSWER = _answer_statement(one_drug=True, with_patient=True)
PATIENT_ALL_DRUGS_ANSWER = _answer_statement(one_drug=False, with_patient=True)

# statuses of kg/matcher/pharmacogenomics.py that give a usable phenotype
CALLED_STATUSES = ("called", "ambiguous", "haplotype_list", "outside call")


@dataclass
class GeneCallSummary:
    gene: str
    diplotype: str | None
    phenotype: str | None = field(default=None, kw_only=True)  # set from the others: see single_phenotype
    phenotypes: list[str]
    activity_score: float | None
    status: str
    ambiguous: bool
    candidates: list[str]
    missing_positions: list[str]
    warnings: list[str]
    haplotypes: list[str] = field(
        default_factory=list,
        metadata=described(
            "DPYD in unphased data: every haplotype detected, listed instead of a diplotype because phase is "
            "unknown (PharmCAT v2.10.0); diplotype is then null."
        ),
    )
    lowest_function_haplotypes: list[str] = field(
        default_factory=list,
        metadata=described(
            "DPYD haplotype list: the two lowest-function haplotypes the activity score and the recommendation "
            "use (CPIC DPYD guideline)."
        ),
    )
    phased: bool = field(default=False, metadata=described("Whether the VCF genotypes of this gene carry phase."))
    phase_note: str | None = field(
        default=None,
        metadata=described(
            "Set when phase is unknown and matters (unphased data with several heterozygous positions): "
            "what was reported instead of a single diplotype."
        ),
    )
    by_guideline: dict[str, list[str]] = field(
        default_factory=dict, metadata=INTERNAL
    )  # guideline ("" = any) -> phenotypes

    def single_phenotype(self) -> str | None:
        """The one phenotype to name: an ambiguous call names one only if all candidates agree
        (never pick one); CPIC and DPWG may name the same result differently: CPIC's name first."""
        if self.ambiguous:
            return self.phenotypes[0] if len(self.phenotypes) == 1 else None
        named = self.phenotypes_for("CPIC") or self.phenotypes
        return named[0] if named else None

    def phenotypes_for(self, guideline: str) -> list[str]:
        """The phenotypes that apply under one guideline (edges without a guideline apply to all)."""
        return sorted(set(self.by_guideline.get(guideline, [])) | set(self.by_guideline.get("", [])))


@dataclass
class PgxRecommendation:
    id: str
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


class PgxState(StrEnum):
    RECOMMENDATION = "RECOMMENDATION"
    NO_RECOMMENDATION = "NO_RECOMMENDATION"
    AMBIGUOUS = "AMBIGUOUS"
    CANNOT_BE_DETERMINED = "CANNOT_BE_DETERMINED"


@dataclass
class PgxAnswer:
    drug: DrugRef
    guideline: str
    guideline_name: str | None
    state: PgxState
    reason: str | None
    genes: list[str]
    diplotypes: list[GeneCallSummary]  # the patient's calls for the guideline's genes
    recommendations: list[PgxRecommendation]
    genes_without_result: list[str] = field(
        default_factory=list,
        metadata=described(
            "Genes of the guideline the patient has no usable result for (not called, no data, indeterminate); "
            "an outside call for them could refine the answer."
        ),
    )
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)


def patient_gene_calls(graph: Graph, patient: str) -> dict[str, GeneCallSummary]:
    """One summary per gene from the patient's HAS_DIPLOTYPE links."""
    rows = graph.read(PATIENT_CALLS, patient=patient)
    if not rows:
        raise UnknownPatient(patient)
    return gene_calls(rows[0]["calls"])


def gene_calls(rows: list[dict[str, Any]]) -> dict[str, GeneCallSummary]:
    """One summary per gene from ``_CALL_ROWS`` (one row per HAS_DIPLOTYPE link)."""
    calls: dict[str, GeneCallSummary] = {}
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        call = row["call"] or {}
        gene = cast(str, row["gene"] or call.get("gene"))  # every Phenotype node has a gene (kg/loaders/pharmcat.py)
        links[gene].append(row)
        summary = calls.get(gene)
        if summary is None:
            summary = calls[gene] = GeneCallSummary(
                gene=gene,
                diplotype=call.get("diplotype"),
                phenotypes=[],
                activity_score=None,  # after every link is read: _activity_score
                status=call.get("status") or "called",
                ambiguous=bool(call.get("ambiguous")),
                candidates=list(call.get("candidates") or []),
                missing_positions=list(call.get("missingPositions") or []),
                warnings=list(call.get("warnings") or []),
                haplotypes=list(call.get("haplotypes") or []),
                lowest_function_haplotypes=list(call.get("lowestFunction") or []),
                phased=bool(call.get("phased")),
                phase_note=call.get("phaseNote"),
            )
        summary.ambiguous = summary.ambiguous or bool(call.get("ambiguous"))
        if row["phenotype"] and row["phenotype"] not in summary.phenotypes:
            summary.phenotypes.append(row["phenotype"])
        if row["phenotype"]:
            summary.by_guideline.setdefault(call.get("guideline") or "", []).append(row["phenotype"])
    for gene, summary in calls.items():
        summary.phenotype = summary.single_phenotype()
        summary.activity_score = _activity_score(links[gene])
    return calls


def _activity_score(rows: list[dict[str, Any]]) -> Any:
    """The gene's activity score, whatever the order the graph returns its HAS_DIPLOTYPE links in.

    A link states a score when the matcher wrote one on it (``activityScore``: the CPIC/DPWG table
    row's score of the call, kg/matcher/match.py) or its Phenotype has one (a lookup value that is a
    score, ``CYP2C9:2.0``); a DPWG diplotype-keyed Phenotype (``CYP2C9:*1/*1``) states none, and
    says nothing against the score the other links state. Links that apply to every guideline or to
    CPIC come first (CPIC's score, as ``single_phenotype`` names CPIC's phenotype); candidates of an
    ambiguous call that differ in score give None, as they give no single phenotype."""
    tiers: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})  # CPIC's (or every guideline's), the others'
    for row in rows:
        call = row["call"] or {}
        score = call.get("activityScore")
        if score in (None, ""):
            score = row["activityScore"]
        if score not in (None, ""):
            tiers[0 if call.get("guideline") in (None, "", "CPIC") else 1].setdefault(_score_key(score), score)
    for scores in tiers:
        if scores:
            return next(iter(scores.values())) if len(scores) == 1 else None
    return None


def _score_key(score: Any) -> Any:
    """``"2"``, ``"2.0"`` and ``2.0`` are one score; text that is no number (``"≥4.0"``) stands for itself."""
    try:
        return float(score)
    except (TypeError, ValueError):
        return str(score)


def pharmacogenomics(
    graph: Graph, patient: str, drug: str | None = None, state: KnowledgeState | None = None
) -> list[PgxAnswer]:
    """One answer per drug and guideline; every guideline's drugs when ``drug`` is None (none for
    a patient with no pharmacogenomic results at all); guidelines and recommendations of the
    knowledge ``state`` (None: current). The patient's calls are the patient's, whatever the state.
    One statement, one round trip (``_answer_statement``); UnknownPatient for an unknown patient,
    kg.queries.resolve's UnknownEntity / AmbiguousEntity for a drug text naming no drug or several."""
    statement, asked = (ALL_DRUGS_ANSWER, {}) if drug is None else (ONE_DRUG_ANSWER, drug_params(drug))
    (row,) = graph.read(statement, plain_=True, patient=patient, noResult=NO_RESULT, **asked, **state_params(state))
    if not row["known"]:
        raise UnknownPatient(patient)
    return _answers(row, patient, drug, state)


@dataclass
class PatientPharmacogenomics:
    """A patient's record and its PGx answer, read in one round trip (``patient_pharmacogenomics``)."""

    id: str
    patient: patient_view.PatientRecord | None  # None: no such patient (and no answer)
    _answers: list[PgxAnswer]
    _problem: Exception | None = None  # the drug named no drug, or several: raised by ``answers``

    def answers(self) -> list[PgxAnswer]:
        """The answers ``pharmacogenomics`` gives for the same arguments, or the error it raises."""
        if self.patient is None:
            raise UnknownPatient(self.id)
        if self._problem is not None:  # raised afresh each time: the record may be kept (kg.answer_cache)
            raise self._problem.with_traceback(None)
        return self._answers


def patient_pharmacogenomics(
    graph: Graph, patient: str, drug: str | None = None, state: KnowledgeState | None = None
) -> PatientPharmacogenomics:
    """``patient_view.find_patient`` and ``pharmacogenomics`` in one statement (the question a prescribing
    system asks at order time: who, and what their genotype means for this drug): the same record and
    the same answers, by the same traversal, in one round trip. An unknown patient is a None record; a
    drug that names none or several is kept for ``answers()`` to raise, so the record is still read."""
    statement, asked = (PATIENT_ALL_DRUGS_ANSWER, {}) if drug is None else (PATIENT_ONE_DRUG_ANSWER, drug_params(drug))
    (row,) = graph.read(statement, plain_=True, patient=patient, noResult=NO_RESULT, **asked, **state_params(state))
    if not row["known"]:
        return PatientPharmacogenomics(patient, None, [])
    record = patient_view.patient_record(row["patient"], row["conditions"])
    try:
        return PatientPharmacogenomics(patient, record, _answers(row, patient, drug, state))
    except Unresolved as err:
        return PatientPharmacogenomics(patient, record, [], err)


def _answers(row: dict[str, Any], patient: str, drug: str | None, state: KnowledgeState | None) -> list[PgxAnswer]:
    """The answers of one row of ``_answer_statement`` for a known patient."""
    calls = gene_calls(row["calls"])
    if drug is None and not calls:
        return []
    if drug is not None:
        one_drug(drug, drugs_of(row["drugCandidates"]))  # names no drug, or several: the resolver's error
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for m in sorted(row["matches"], key=lambda m: m["rec"]["id"]):  # a stable order, whatever the plan
        by_key[(m["drug"], m["rec"].get("guidelineId"))].append(m)
    answers = []
    for g in row["guidelines"]:
        answer = _answer(patient, g, by_key.get((g["drug"], g["guidelineId"]), []), calls)
        answer.releases = releases_of(
            source_refs(g["sources"]) + [s for r in answer.recommendations for s in r.sources]
        )
        answer.as_of = as_of(state)
        answers.append(answer)
    order = {"RECOMMENDATION": 0, "AMBIGUOUS": 1, "CANNOT_BE_DETERMINED": 2, "NO_RECOMMENDATION": 3}
    answers.sort(key=lambda a: (order[a.state], a.drug.id, a.guideline, a.guideline_name or ""))
    return answers


def _answer(
    patient: str, guideline: dict[str, Any], matches: list[dict[str, Any]], calls: dict[str, GeneCallSummary]
) -> PgxAnswer:
    source = guideline["guideline"]
    gene_sets = sorted({tuple(sorted(s)) for s in guideline["geneSets"]})
    # the smallest gene set the patient can satisfy decides; report what is missing for the others
    genes_needed = sorted({g for s in gene_sets for g in s} or set(guideline["genes"] or ()))
    relevant_calls = [calls[g] for g in genes_needed if g in calls]
    without = {g: why for g in genes_needed if (why := _without_result(g, calls.get(g), source))}
    recommendations = [_recommendation(patient, m, calls) for m in matches]
    base = dict(
        drug=DrugRef(guideline["drug"], guideline["drugName"]),
        guideline=source,
        guideline_name=guideline["guidelineName"],
        genes=genes_needed,
        diplotypes=relevant_calls,
        genes_without_result=sorted(without),
    )

    if not gene_sets:
        return PgxAnswer(
            state=PgxState.NO_RECOMMENDATION,
            recommendations=[],
            **base,
            reason="the guideline has no recommendation looked up by genotype for this drug "
            f"(a dosing algorithm or text only): read the guideline, {guideline['url']}",
        )
    if recommendations:
        note = _without_result_note(recommendations, without)
        ambiguous_genes = [c.gene for c in relevant_calls if c.ambiguous and len(c.phenotypes_for(source)) > 1]
        if ambiguous_genes:
            ambiguity = (
                f"the phenotype of {', '.join(ambiguous_genes)} depends on which candidate diplotype is "
                "true (unphased or missing data); each candidate's recommendation is listed"
            )
            return PgxAnswer(
                state=PgxState.AMBIGUOUS,
                recommendations=recommendations,
                **base,
                reason="; ".join(filter(None, [ambiguity, note])),
            )
        real = [r for r in recommendations if not _is_no_recommendation(r)]
        if real:
            return PgxAnswer(state=PgxState.RECOMMENDATION, recommendations=real, reason=note, **base)
        return PgxAnswer(
            state=PgxState.NO_RECOMMENDATION,
            recommendations=recommendations,
            **base,
            reason="; ".join(filter(None, ["the guideline gives no recommendation for this phenotype", note])),
        )
    undetermined = _undetermined_reason(gene_sets, calls, source)
    if undetermined:
        return PgxAnswer(state=PgxState.CANNOT_BE_DETERMINED, recommendations=[], reason=undetermined, **base)
    phen = "; ".join(f"{c.gene} {'/'.join(c.phenotypes_for(source)) or c.status}" for c in relevant_calls)
    return PgxAnswer(
        state=PgxState.NO_RECOMMENDATION,
        recommendations=[],
        reason=f"the guideline has no recommendation for {phen}",
        **base,
    )


def _without_result(gene: str, call: GeneCallSummary | None, guideline: str) -> str | None:
    """Why the patient has no usable ``gene`` result under ``guideline``; None when it has one."""
    if call is None:
        return (
            f"{gene}: no call (an outside call is needed for genes the VCF cannot call, such as CYP2D6, HLA-A, HLA-B)"
        )
    phenotypes = call.phenotypes_for(guideline)
    if (
        call.status in CALLED_STATUSES
        and phenotypes
        and not all(p.lower() in ("indeterminate", "n/a", NO_RESULT.lower()) for p in phenotypes)
    ):
        return None
    if call.missing_positions:
        detail = f"missing positions {', '.join(call.missing_positions[:5])}"
    elif call.status in CALLED_STATUSES and not phenotypes:
        detail = f"{call.diplotype or call.status}: not in the {guideline} phenotype table"
    else:
        detail = call.status
    return f"{gene}: could not be determined ({detail})"


def _undetermined_reason(
    gene_sets: list[tuple[str, ...]], calls: dict[str, GeneCallSummary], guideline: str
) -> str | None:
    """Why no gene set of the guideline can be evaluated for this patient, or None if one can."""
    reasons = []
    for genes in gene_sets:
        missing = [why for gene in genes if (why := _without_result(gene, calls.get(gene), guideline))]
        if not missing:
            return None
        reasons.append("; ".join(missing))
    return reasons[0] if reasons else None


def _without_result_note(recommendations: list[PgxRecommendation], without: dict[str, str]) -> str | None:
    """What a recommendation given without some genes' results says about them."""
    if not without:
        return None
    genes = ", ".join(without)
    keyed = sorted({g for r in recommendations for g, v in r.lookup_key.items() if v == NO_RESULT and g in without})
    given = (
        f"the guideline's own recommendation for {' and '.join(f'{g} = {NO_RESULT}' for g in keyed)} is given"
        if keyed
        else f"the recommendation given does not depend on {genes}"
    )
    return f"{'; '.join(without.values())}; {given}; an outside call for {genes} could refine it"


def _is_no_recommendation(rec: PgxRecommendation) -> bool:
    text = (rec.text or "").strip().lower()
    return (rec.strength or "").lower() == "no recommendation" or text in ("no recommendation", "")


def _recommendation(patient: str, m: dict[str, Any], calls: dict[str, GeneCallSummary]) -> PgxRecommendation:
    rec = values_as_of(m["rec"], m.get("groups"))  # as of a release: that release's words
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
        if phenotype_id in m["linked"]:  # a gene without any call matches "No Result" with no edge
            path.append(
                PathStep(
                    p_node,
                    "HAS_DIPLOTYPE",
                    ph_node,
                    {
                        "diplotype": call.diplotype if call else None,
                        "haplotypes": call.haplotypes if call and call.haplotypes else None,
                        "ambiguous": call.ambiguous if call else None,
                    },
                )
            )
        path.append(PathStep(rec_node, "FOR_PHENOTYPE", ph_node))
    path.append(PathStep(rec_node, "FOR_DRUG", PathNode(m["drug"], "Drug", m["drugName"])))
    return PgxRecommendation(
        id=rec["id"],
        guideline=rec.get("guideline") or "",
        guideline_name=rec.get("guidelineName"),
        drug=rec.get("drug") or m["drugName"] or m["drug"],
        genes=rec.get("genes") or sorted(lookup),
        lookup_key=lookup,
        phenotypes=m["needed"],
        text=rec.get("text"),
        implications=rec.get("implications") or [],
        strength=rec.get("strength"),
        population=rec.get("population"),
        citations=[str(c) for c in rec.get("citations") or []],
        url=rec.get("url"),
        path=path,
        sources=source_refs(m["sources"]),
    )

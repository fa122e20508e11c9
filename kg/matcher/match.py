"""A patient's VCF becomes normalised variants and star-allele diplotypes linked into the graph.

``match_patient(graph, vcf, patient_id=...)``:

1. checks its inputs before anything is read: the disease resolves
   (:func:`kg.queries.resolve.resolve_disease`), the outside-call TSV parses, the VCF is complete,
   has the sample and GT, and is GRCh38 (:func:`kg.matcher.vcf.open_vcf`; a GRCh37 file raises
   :class:`kg.matcher.build.BuildMismatchError`), and the sample's origin -- germline (the
   default), tumour, or tumour with its matched normal -- agrees with what the header says
   (:mod:`kg.matcher.origin`);
2. reads only the records at positions the knowledge has something to say about
   (:mod:`kg.matcher.knowledge`, cached per process) plus the PharmCAT definition positions, by the
   fastest strategy the file allows (:meth:`PatientVcf.fetch`: index, temporary index, text scan);
3. matches each allele the sample carries (of a tumour/normal pair: the normal's alleles as
   germline calls, the tumour's others as somatic calls; ``HAS_VARIANT.callOrigin``) — never a reference call, and a position absent from the
   VCF is a no-call, not reference — at the levels of :mod:`kg.matcher.levels`, with one graph
   read for all alleles;
4. calls star-allele diplotypes and translates them to CPIC/DPWG phenotypes
   (:mod:`kg.matcher.pharmacogenomics`), outside calls replacing the VCF call of their gene;
5. keeps the patient's call store (:mod:`kg.matcher.calls`, issue 8): every non-reference call that
   no exact knowledge Variant matched, as ``CALLED`` edges to ``ObservedAllele`` nodes, and the
   no-call ranges, up to ``KG_PATIENT_CALLS_MAX`` (``calls_max``) each, so that a later release
   can link what it adds (kg.queries.patient_calls.link_known_alleles);
6. writes everything in one transaction (:func:`kg.queries.patients.store_matches`): a re-match
   replaces the patient's links and calls; an error before this step stores nothing.

``match_cohort(graph, vcf, patients=...)`` does the same for every chosen sample of a multi-sample
VCF in one pass over the file, each sample its own patient (see its docstring and
:mod:`kg.matcher.cohort`); the steps and rules per sample are the ones above, shared by both.
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import neo4j
from cyvcf2 import Variant

from kg.db import Graph, GraphUnavailable, QueryTimeout
from kg.identity.origins import SINGLE_SAMPLE_CALLS, CallOrigin, SampleOrigin
from kg.matcher.calls import (
    PRIORITY_PAD,
    WHOLE_FILE_TEXT_BYTES,
    RegionCalls,
    cohort_read,
    priority_index,
    read_calls,
    read_whole,
)
from kg.matcher.cohort import CohortCalls, genotype_text
from kg.matcher.cohort_pgx import StarAlleleJob, StarAlleles
from kg.matcher.genotype import Genotype, keep_first
from kg.matcher.knowledge import Knowledge, knowledge_state, load_knowledge
from kg.matcher.levels import AlleleMatch, ExactHit, Link, Observed, match_allele, observed_allele
from kg.matcher.origin import SampleOriginError, SampleRoles, cohort_roles, decide, header_roles, parse_origin
from kg.matcher.pgx.outside_calls import parse_outside_calls
from kg.matcher.pharmacogenomics import (
    NO_RESULT,
    GeneResult,
    PgxData,
    PhenotypeLink,
    outside_results,
    pgx_release,
    vcf_results,
)
from kg.matcher.positions import FilterStats, PositionIndex, fetch
from kg.matcher.report import CohortReport, MatchedVariant, MatchReport, SampleOutcome
from kg.matcher.vcf import PatientVcf, ReadStats, VcfRecord, open_cohort, open_vcf, read_header
from kg.queries import matching as mq
from kg.queries import patients as pq
from kg.queries.resolve import resolve_disease

__all__ = ["CohortReport", "MatchReport", "delete_patient", "match_cohort", "match_patient"]


def match_patient(
    graph: Graph,
    vcf_path: str | os.PathLike[str],
    *,
    patient_id: str,
    disease: str | None = None,
    sample: str | None = None,
    outside_calls: str | os.PathLike[str] | None = None,
    vcf_name: str | None = None,
    origin: str | SampleOrigin | None = None,
    normal_sample: str | None = None,
    normal_vcf: str | os.PathLike[str] | None = None,
    calls_max: int | None = None,
) -> MatchReport:
    """Match one sample of a VCF to the graph as patient ``patient_id``; see the module docstring.

    Raises :class:`kg.matcher.errors.VcfError` (unreadable, truncated, no GT, unknown sample),
    :class:`kg.matcher.build.BuildMismatchError` (not GRCh38),
    :class:`kg.queries.resolve.Unresolved` (unknown or ambiguous disease), :class:`kg.matcher.pgx.outside_calls.OutsideCallError`,
    :class:`kg.matcher.pharmacogenomics.PgxKnowledgeMissing` (an active pharmcat release without its
    stored definitions) and ``ValueError`` for an empty patient id; in every case nothing is stored.
    ``vcf_name`` is the file name to record when ``vcf_path`` is a temporary copy (an upload).
    ``origin`` (germline | tumor | tumor_normal; default: what the header says, else germline),
    ``normal_sample`` (the matched normal's column) and ``normal_vcf`` (the normal's own VCF) are
    reconciled with the header by :func:`kg.matcher.origin.decide`; a contradiction raises
    :class:`kg.matcher.origin.SampleOriginError` (a VcfError) and stores nothing. ``calls_max``
    bounds the call store (default: the settings' ``KG_PATIENT_CALLS_MAX``).
    """
    timings: dict[str, float] = {}
    began = clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 4)
        clock = now

    patient = (patient_id or "").strip()
    if not patient:
        raise ValueError("a patient id is required")
    condition = resolve_disease(graph, disease).ref() if disease else None  # replacedFrom: an obsolete id given
    outside = parse_outside_calls(outside_calls) if outside_calls is not None else []
    roles = _roles(vcf_path, origin, sample, normal_sample, normal_vcf)
    vcf = _CallsVcf.of(open_vcf(vcf_path, roles.sample))
    normal = _open_normal(vcf_path, roles)
    lap("open")

    warnings: list[str] = []
    annotated = bool(vcf.annotation_sources)
    knowledge, pgx, pgx_info, index, pgx_index = _knowledge(graph, annotated, warnings)
    lap("knowledge")

    limit = graph.settings.patient_calls_max if calls_max is None else calls_max
    for source in (vcf, normal):  # a large file's call-store read rides on its knowledge read
        if source is not None and limit > 0 and not read_whole(source):
            source.region = RegionCalls(source, knowledge, limit)
    observed, genotypes, skipped, alleles_read = _read(vcf, index, pgx_index, warnings)
    call_origin = dict.fromkeys((o.id for o in observed), SINGLE_SAMPLE_CALLS.get(roles.origin, CallOrigin.UNKNOWN))
    call_sample = dict.fromkeys((o.id for o in observed), vcf.sample)
    if normal is not None:  # a pair: the normal's alleles are germline, the tumour's others somatic
        normal_observed, genotypes, normal_skipped, normal_read = _read(normal, index, pgx_index, warnings)
        germline = {o.id for o in normal_observed}
        observed = normal_observed + [o for o in observed if o.id not in germline]
        call_origin = {o.id: CallOrigin.GERMLINE if o.id in germline else CallOrigin.SOMATIC for o in observed}
        call_sample = {o.id: normal.sample if o.id in germline else vcf.sample for o in observed}
        skipped += normal_skipped
        alleles_read += normal_read
    elif roles.origin == SampleOrigin.TUMOR:
        warnings.append(
            "star alleles called from a tumour-only sample: loss of heterozygosity can hide a germline allele"
        )
    lap("read")

    hits = _exact_hits(graph, [o.id for o in observed])
    links, undetermined = _match_alleles(observed, hits, knowledge, {})
    lap("match")

    calls = _call_store(vcf, normal, roles, knowledge, hits, observed, call_origin, call_sample, limit, warnings)
    lap("calls")

    genes: list[GeneResult] = []
    if pgx is not None:  # an outside call replaces the VCF call of its gene (PharmCAT)
        _, genes = vcf_results(pgx, genotypes, skip=frozenset(c.gene for c in outside))
    if outside:
        if pgx is None:
            warnings.append("outside calls given but no PharmCAT phenotype tables: linked by their stated result only")
        genes += outside_results(outside, pgx.tables if pgx else None, lambda gene: mq.gene_phenotypes(graph, gene))
    genes.sort(key=lambda g: g.gene)
    diplotype_rows, no_result_genes = _diplotype_rows(genes, mq.phenotypes_present(graph, _phenotype_ids(genes)))
    lap("pgx")

    variant_rows = [_variant_row(link, call_sample[link.observed.id], call_origin[link.observed.id]) for link in links]
    origin_info = _origin_info(roles, vcf.sample, normal, call_origin)
    write = pq.PatientMatch(
        patient=patient,
        sample=vcf.sample,
        vcf=vcf_name or vcf.path.name,
        origin=origin_info,
        variants=variant_rows,
        diplotypes=diplotype_rows,
        no_result_genes=no_result_genes,
        diseases=[condition["id"]] if condition else [],
        calls=calls.rows,
        call_summary=calls.summary,
    )
    pq.store_matches(graph, [write])
    lap("store")
    timings["total"] = round(time.perf_counter() - began, 4)

    return _report(
        patient,
        vcf,
        vcf.sample,
        vcf_name or vcf.path.name,
        condition,
        links,
        undetermined,
        genes,
        pgx_info,
        skipped,
        alleles_read,
        len(observed),
        index,
        knowledge,
        annotated,
        warnings,
        timings,
        origin_info,
        {
            "variants": len(variant_rows),
            "diplotypes": len(diplotype_rows),
            "conditions": 1 if condition else 0,
            "calls": len(calls.rows),
            "callsDropped": calls.summary["callsDropped"],
            "noCalls": len(calls.summary["noCalls"]),
        },
    )


#: Patients written per transaction by a cohort run (one UNWIND per statement over the batch): with a few
#: hundred links per patient, 50 patients are ~20,000 rows, and two batches (one being written, one being
#: put together) are the run's output buffers.
COHORT_BATCH = 50


def match_cohort(
    graph: Graph,
    vcf_path: str | os.PathLike[str],
    *,
    patients: Mapping[str, str] | None = None,
    samples: list[str] | None = None,
    disease: str | None = None,
    origin: str | SampleOrigin | None = None,
    vcf_name: str | None = None,
    batch_size: int = COHORT_BATCH,
    on_batch: Callable[[list[SampleOutcome]], None] | None = None,
    calls_max: int | None = None,
    writers: int | None = None,
) -> CohortReport:
    """Match every sample of a multi-sample VCF (or ``samples``, a subset) in one pass, each as its own
    patient (``patients``: sample -> patient id, see :func:`kg.matcher.cohort.patient_ids`; default the
    sample's name).

    The same steps and rules as :func:`match_patient`, per sample: the knowledge positions read once
    (:meth:`kg.matcher.vcf.CohortVcf.sites`), every record's calls kept as arrays
    (:class:`kg.matcher.cohort.CohortCalls`), each distinct allele matched once, star alleles called
    once per distinct genotype of a gene (by a child process beside the pass,
    :mod:`kg.matcher.cohort_pgx`), then per sample its links and diplotypes, written
    ``batch_size`` patients per transaction (:func:`kg.queries.patients.store_matches`; a batch that
    fails is written again one patient at a time, so only the failing patient fails; ``writers``
    transactions at once, default ``KG_COHORT_WRITERS``). ``on_batch`` gets each batch's outcomes
    after its write, in order (the CLI audits them).

    Each patient keeps its call store as when matched alone (:mod:`kg.matcher.calls`, bounded by
    ``calls_max``, default ``KG_PATIENT_CALLS_MAX``): every non-reference call no exact Variant matched,
    those of the knowledge read first, then those near the knowledge, then the rest in file order, and
    its no-call ranges, read in the same pass (:func:`kg.matcher.calls.cohort_read`).

    A sample that cannot be matched -- its calls unusable, no call at all, an origin contradicting the
    header, its write refused -- is a failed :class:`SampleOutcome` with the reason; the others go on.
    Whole-run problems raise as for one sample (VcfError naming the file and the samples it has for an
    unknown sample, BuildMismatchError, Unresolved disease, PgxKnowledgeMissing, SampleOriginError for
    ``tumor_normal``), storing nothing.
    """
    timings: dict[str, float] = {}
    began = clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(timings.get(step, 0.0) + now - clock, 4)
        clock = now

    condition = resolve_disease(graph, disease).ref() if disease else None
    vcf = open_cohort(vcf_path, samples)
    columns = vcf.columns
    ids = dict(patients) if patients is not None else {s: s for s in columns}
    missing = [s for s in columns if not (ids.get(s) or "").strip()]
    if missing:
        raise ValueError(f"no patient id for sample(s) {', '.join(missing[:20])}")
    roles = cohort_roles(vcf.path, header_roles(vcf.path, vcf.header, vcf.samples), columns, parse_origin(origin))
    name = vcf_name or vcf.path.name
    lap("open")

    warnings: list[str] = []
    annotated = bool(vcf.annotation_sources)
    knowledge, pgx, pgx_info, index, pgx_index = _knowledge(graph, annotated, warnings)
    lap("knowledge")

    # One pass for the knowledge read and the call stores (kg.matcher.calls.cohort_read: the whole file,
    # or the knowledge's neighbourhood of a large one, or the knowledge positions alone when the store is off).
    limit = graph.settings.patient_calls_max if calls_max is None else calls_max
    read_index, store_read = cohort_read(vcf, len(vcf.samples), index, knowledge, limit)
    calls = CohortCalls(
        str(vcf.path),
        columns,
        pgx_index,
        index=index,
        priority=priority_index(knowledge) if store_read == "priority regions" else None,
        calls_max=limit,
    )
    # Star alleles are called by a child process beside this pass (kg.matcher.cohort_pgx).
    star_job = StarAlleleJob(vcf.path, columns, pgx, pgx_index) if pgx is not None else None
    try:
        for site in vcf.sites(read_index):
            calls.add(site)
        lap("read")

        hits = _exact_hits(graph, calls.allele_ids())
        lap("match")

        # per gene, once per group of samples with the same calls at its positions
        star = star_job.result(calls) if star_job is not None else StarAlleles({}, {})
    finally:
        if star_job is not None:
            star_job.close()
    groups, results = star.groups, star.results
    if star.beside:
        timings["pgx beside the read"] = round(star.seconds, 4)
    every = [r for rs in results.values() for r in rs if r is not None]
    present = mq.phenotypes_present(graph, _phenotype_ids(every))
    rows = {gene: [None if r is None else _diplotype_rows([r], present) for r in rs] for gene, rs in results.items()}
    lap("pgx")

    cache: dict[tuple[Any, ...], AlleleMatch] = {}
    # per shared Observed (kg.matcher.cohort: one object per distinct call) its HAS_VARIANT rows; the
    # Observed is kept with them so its id() is not reused
    rows_of: dict[tuple[int, CallOrigin], tuple[Observed, list[dict[str, Any]]]] = {}
    outcomes: list[SampleOutcome] = []
    batch: list[tuple[SampleOutcome, pq.PatientMatch | None]] = []
    # Writer threads (``KG_COHORT_WRITERS``): Neo4j stores batches while the next one is put together,
    # several transactions at once on disjoint patients (they only read the Variant and Phenotype
    # nodes they link; a deadlock between two is retried by the driver). Batches finish in order.
    writers = writers or graph.settings.cohort_writers
    writer = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="kg-cohort-write")
    pending: deque[tuple[Future[None], list[tuple[SampleOutcome, pq.PatientMatch | None]]]] = deque()
    waited = 0.0

    def finish_pending(keep: int = 0) -> None:
        nonlocal waited
        while len(pending) > keep:
            future, done_batch = pending.popleft()
            t0 = time.perf_counter()
            future.result()  # GraphUnavailable stops the run here
            waited += time.perf_counter() - t0
            done = [o for o, _ in done_batch]
            if on_batch is not None and done:
                on_batch(done)

    def flush() -> None:
        finish_pending(keep=writers - 1)
        todo = list(batch)
        batch.clear()
        pending.append((writer.submit(_store_batch, graph, todo), todo))

    def interpret(
        i: int, observed: list[Observed], stored: list[Observed]
    ) -> tuple[SampleOutcome, pq.PatientMatch | None]:
        """One sample's links and diplotypes from what the pass kept, by the single-sample steps."""
        sample = columns[i]
        outcome = SampleOutcome(sample, ids[sample].strip())
        decided = roles[sample]
        failure = str(decided) if isinstance(decided, SampleOriginError) else calls.failure(i)
        if failure is None and any(rows[gene][int(groups[gene].of_sample[i])] is None for gene in rows):
            failure = "the calls at a PharmCAT definition position are unusable"
        if failure is not None:
            outcome.error = failure
            return outcome, None  # reported and audited, not written
        assert isinstance(decided, SampleRoles)
        outcome.origin = decided.origin.value
        call_origin = SINGLE_SAMPLE_CALLS.get(decided.origin, CallOrigin.UNKNOWN)
        variant_rows: list[dict[str, Any]] = []
        for o in observed:  # the rows of one call, made once and shared (the link's sample: the patient's)
            made = rows_of.get((id(o), call_origin))
            if made is None:
                links, _ = _match_alleles([o], hits, knowledge, cache)
                made = rows_of[(id(o), call_origin)] = (o, [_variant_row(link, None, call_origin) for link in links])
            variant_rows += made[1]
        genes: list[GeneResult] = []
        diplotype_rows: list[dict[str, Any]] = []
        no_result: set[str] = set()
        for gene in sorted(results):
            k = int(groups[gene].of_sample[i])
            result, gene_rows = results[gene][k], rows[gene][k]
            assert result is not None and gene_rows is not None
            genes.append(result)
            diplotype_rows += gene_rows[0]
            no_result.update(gene_rows[1])
        origin_info = _origin_info(decided, sample, None, {o.id: call_origin for o in observed})
        outcome.variants_matched = len(variant_rows)
        outcome.genes_called = sum(1 for g in genes if g.called)
        kept, dropped = _kept_calls(((o, sample, call_origin) for o in [*observed, *stored]), hits, limit)
        no_calls, no_calls_dropped = calls.no_call_ranges(i)
        summary = _call_summary(
            kept, dropped, store_read != "priority regions", limit, no_calls, None, no_calls_dropped
        )
        outcome.calls_stored, outcome.calls_dropped = len(kept), dropped
        write = pq.PatientMatch(
            patient=outcome.patient,
            sample=sample,
            vcf=name,
            origin=origin_info,
            variants=variant_rows,
            diplotypes=diplotype_rows,
            no_result_genes=sorted(no_result),
            diseases=[condition["id"]] if condition else [],
            calls=kept,
            call_summary=summary,
        )
        return outcome, write

    try:
        writes = 0
        for i, observed, stored in calls.observed():
            outcome, write = interpret(i, observed, stored)
            outcomes.append(outcome)
            batch.append((outcome, write))
            writes += write is not None
            if writes >= batch_size:
                flush()
                writes = 0
        flush()
        finish_pending()
    finally:
        writer.shutdown(wait=True)
    lap("interpret and store")
    timings["waiting for writes"] = round(waited, 4)
    timings["total"] = round(time.perf_counter() - began, 4)
    fstats = vcf.stats.filter
    group_warnings = sorted({w for g in groups.values() for ws in g.warnings for w in ws})
    return CohortReport(
        vcf=name,
        samples=outcomes,
        build=_build_info(vcf),
        disease=condition,
        pgx=pgx_info,
        records_read=vcf.stats.records_read,
        alleles_read=calls.alleles_read,
        skipped=dict(vcf.stats.skipped),
        reading={
            "strategy": fstats.strategy if fstats else None,
            "scanned": fstats.scanned if fstats else None,
            "queries": fstats.queries if fstats else None,
            "intervals": len(index),
            "annotated": list(vcf.annotation_sources),
            "knowledgePositions": knowledge.n_exact_positions,
            "distinctAlleles": len(calls.templates),
            "callStore": store_read,
            "callsMax": limit,
            "pgxGroups": {gene: len(rs) for gene, rs in results.items()},
        },
        warnings=warnings + group_warnings + _cohort_store_warnings(outcomes, store_read, limit),
        timings=timings,
    )


def _store_batch(graph: Graph, batch: list[tuple[SampleOutcome, pq.PatientMatch | None]]) -> None:
    """Write a batch in one transaction; when it fails, each patient alone, so one bad write fails
    only its own sample. Neo4j unreachable stops the run (:class:`GraphUnavailable`)."""
    writes = [(o, m) for o, m in batch if m is not None]
    if not writes:
        return
    try:
        pq.store_matches(graph, [m for _, m in writes])
    except neo4j.exceptions.ServiceUnavailable as err:
        raise GraphUnavailable(f"Neo4j at {graph.settings.bolt_uri} is unavailable: {err}") from err
    except (neo4j.exceptions.Neo4jError, QueryTimeout):
        for outcome, m in writes:
            try:
                pq.store_matches(graph, [m])
            except neo4j.exceptions.ServiceUnavailable as err:
                raise GraphUnavailable(f"Neo4j at {graph.settings.bolt_uri} is unavailable: {err}") from err
            except (neo4j.exceptions.Neo4jError, QueryTimeout) as err:
                outcome.error = f"the write of patient {outcome.patient} failed: {err}"
                continue
            outcome.stored = True
        return
    for outcome, _ in writes:
        outcome.stored = True


def _build_info(vcf: PatientVcf) -> dict[str, Any]:
    """The genome build check as a report shows it."""
    return {
        "build": vcf.build.build.value if vcf.build.build else None,
        "verified": vcf.build.verified,
        "evidence": list(vcf.build.evidence),
    }


def _knowledge(
    graph: Graph, annotated: bool, warnings: list[str]
) -> tuple[Knowledge, PgxData | None, dict[str, Any], PositionIndex, PositionIndex]:
    """What a match reads of the graph before the VCF: the knowledge (cached per release set), the
    active PharmCAT release's definitions and what the report says of them, where to read the VCF
    (knowledge positions and PGx definition positions) and the PGx positions alone."""
    state = knowledge_state(graph)
    knowledge = load_knowledge(graph, state)
    pgx, pgx_info = pgx_release(knowledge.pgx, state["sources"], warnings)
    pgx_intervals = pgx.intervals() if pgx else ()
    index = knowledge.index(annotated=annotated, extra=pgx_intervals)
    return knowledge, pgx, pgx_info, index, _pgx_index(pgx_intervals)


def _exact_hits(graph: Graph, ids: list[str], batch: int = 20_000) -> dict[str, ExactHit]:
    """The Variants whose ids are the observed alleles' (one read per ``batch`` ids)."""
    wanted = sorted(set(ids))
    out: dict[str, ExactHit] = {}
    for i in range(0, len(wanted), batch):
        out.update((h.id, h) for h in (ExactHit.of(r) for r in mq.exact_hits(graph, wanted[i : i + batch])))
    return out


def _match_alleles(
    observed: list[Observed],
    hits: dict[str, ExactHit],
    knowledge: Knowledge,
    cache: dict[tuple[Any, ...], AlleleMatch],
) -> tuple[list[Link], dict[tuple[str, str], dict[str, Any]]]:
    """Links and undetermined Variants of a sample's alleles. ``cache`` keeps each distinct allele's
    match (what :func:`match_allele` looks at: the allele, its annotation, homozygous or not), so a
    cohort matches an allele once, however many samples carry it."""
    links: list[Link] = []
    undetermined: dict[tuple[str, str], dict[str, Any]] = {}
    for o in observed:
        key = (o.id, o.homozygous, o.gene, o.protein_change, o.consequences)
        result = cache.get(key)
        if result is None:
            result = cache[key] = match_allele(o, hits.get(o.id), knowledge)
        links += [link if link.observed is o else replace(link, observed=o) for link in result.links]
        for u in result.undetermined:
            undetermined.setdefault(
                (u.variant_id, u.observed_id),
                {"variant": u.variant_id, "name": u.variant_name, "observed": u.observed_id, "reason": u.reason},
            )
    return links, undetermined


def _report(
    patient: str,
    vcf: PatientVcf,
    sample: str,
    vcf_name: str,
    condition: dict[str, Any] | None,
    links: list[Link],
    undetermined: dict[tuple[str, str], dict[str, Any]],
    genes: list[GeneResult],
    pgx_info: dict[str, Any],
    skipped: Counter[str],
    alleles_read: int,
    carried: int,
    index: PositionIndex,
    knowledge: Knowledge,
    annotated: bool,
    warnings: list[str],
    timings: dict[str, float],
    origin: dict[str, Any],
    stored: dict[str, int],
) -> MatchReport:
    stats = vcf.stats
    fstats = stats.filter
    skipped_all = Counter(stats.skipped) + skipped
    return MatchReport(
        patient=patient,
        sample=sample,
        vcf=vcf_name,
        samples=list(vcf.samples),
        origin=origin,
        build=_build_info(vcf),
        disease=condition,
        variants=sorted((_matched(link) for link in links), key=lambda m: (m.observed, m.match_level, m.variant)),
        undetermined=sorted(undetermined.values(), key=lambda u: (u["observed"], u["variant"])),
        genes=genes,
        pgx=pgx_info,
        records_read=stats.records_read,
        records_skipped=sum(skipped_all.values()),
        skipped=dict(skipped_all),
        alleles_read=alleles_read,
        alleles_carried=carried,
        reading={
            "strategy": fstats.strategy if fstats else None,
            "scanned": fstats.scanned if fstats else None,
            "queries": fstats.queries if fstats else None,
            "notes": list(fstats.notes) if fstats else [],
            "intervals": len(index),
            "annotated": list(vcf.annotation_sources),
            "knowledgePositions": knowledge.n_exact_positions,
            "geneSpans": len(knowledge.spans) if annotated else 0,
        },
        warnings=warnings,
        timings=timings,
        stored=stored,
    )


def delete_patient(graph: Graph, patient_id: str) -> bool:
    """Remove the Patient and every link of it; False when there was none. Phenotype nodes MERGEd
    for patients (``<GENE>:No Result``) stay: they are shared and harmless."""
    return pq.delete_patient(graph, patient_id)


# --- sample origin ---------------------------------------------------------------------------


def _roles(
    vcf_path: str | os.PathLike[str],
    origin: str | SampleOrigin | None,
    sample: str | None,
    normal_sample: str | None,
    normal_vcf: str | os.PathLike[str] | None,
) -> SampleRoles:
    head = read_header(vcf_path)
    return decide(
        head.path,
        header_roles(head.path, head.text, head.samples),
        head.samples,
        origin=parse_origin(origin),
        sample=sample,
        normal_sample=normal_sample,
        normal_vcf=normal_vcf,
    )


def _open_normal(vcf_path: str | os.PathLike[str], roles: SampleRoles) -> _CallsVcf | None:
    """The matched normal's sample: a column of the same VCF, or of its own VCF (whose single
    sample, or the one its header calls the normal, is read when no name is given)."""
    if roles.origin != SampleOrigin.TUMOR_NORMAL:
        return None
    if roles.normal_vcf is None:
        return _CallsVcf.of(open_vcf(vcf_path, roles.normal_sample))
    sample = roles.normal_sample
    if sample is None:
        head = read_header(roles.normal_vcf)
        sample = header_roles(head.path, head.text, head.samples).normal
    return _CallsVcf.of(open_vcf(roles.normal_vcf, sample))


def _origin_info(
    roles: SampleRoles, sample: str, normal: PatientVcf | None, call_origin: dict[str, CallOrigin]
) -> dict[str, Any]:
    """The origin as the report shows it and the Patient node stores it."""
    return {
        "origin": roles.origin.value,
        "source": roles.source,
        "sample": sample,
        "normalSample": normal.sample if normal else None,
        "normalVcf": roles.normal_vcf.name if roles.normal_vcf else None,
        "header": list(roles.header_lines),
        "notes": list(roles.notes),
        "calls": dict(Counter(c.value for c in call_origin.values())),
    }


# --- reading ---------------------------------------------------------------------------------


class _CallsVcf(PatientVcf):
    """A :class:`PatientVcf` that also keeps the genotype of records yielding no allele (ALT ``.``,
    or only symbolic ALTs such as ``<NON_REF>``): a called position is evidence of reference for
    the star-allele caller, where an absent one is a no-call. With ``region`` set (a large file and
    the call store on), :meth:`fetch` reads the call store's priority regions in the same pass
    (:class:`kg.matcher.calls.RegionCalls`)."""

    allele_less: list[Genotype]
    region: RegionCalls | None

    @classmethod
    def of(cls, vcf: PatientVcf) -> _CallsVcf:
        out = cls(vcf.path, vcf.sample, vcf.samples, vcf.kind, vcf.header, vcf.build, vcf.threads)
        out.allele_less = []
        out.region = None
        return out

    def fetch(self, index: PositionIndex) -> Iterator[VcfRecord]:
        region = self.region
        if region is None:
            yield from super().fetch(index)
            return
        fstats = FilterStats()
        self.stats = ReadStats(filter=fstats)
        source = fetch(self.path, region.read_index(index), samples=[self.sample], threads=self.threads, stats=fstats)
        yield from self._convert_all(region.tap(source, index, fstats), numbered=False)

    def _convert(self, v: Variant, record: int | None) -> list[VcfRecord]:
        out = super()._convert(v, record)
        if not out:
            genotype, _ = self._genotype(v, v.CHROM)
            self.allele_less.append(genotype)
        return out


_PGX_INDEXES: dict[tuple[Any, ...], PositionIndex] = {}


def _pgx_index(intervals: tuple[Any, ...]) -> PositionIndex:
    index = _PGX_INDEXES.get(intervals)
    if index is None:
        _PGX_INDEXES.clear()
        index = _PGX_INDEXES[intervals] = PositionIndex(intervals)
    return index


def _read(
    vcf: _CallsVcf, index: PositionIndex, pgx_index: PositionIndex, warnings: list[str]
) -> tuple[list[Observed], dict[tuple[str, int], Genotype], Counter[str], int]:
    """The carried alleles, the PGx genotypes by (chrom, POS), skip counts and alleles read."""
    observed: list[Observed] = []
    genotypes: dict[tuple[str, int], Genotype] = {}
    skipped: Counter[str] = Counter()
    n = 0

    def keep_genotype(g: Genotype) -> None:
        if pgx_index.overlaps(g.chrom, g.pos - 1, g.pos - 1 + max(len(g.ref), 1)):
            keep_first(genotypes, g, warnings)

    for rec in vcf.fetch(index):
        n += 1
        g = rec.genotype
        keep_genotype(g)
        if rec.alt_count == 0:
            skipped["no_call" if g.is_no_call else "not_carried"] += 1
            continue
        observed.append(_observed(rec))
    for g in vcf.allele_less:
        keep_genotype(g)
    return observed, genotypes, skipped, n


def _observed(rec: VcfRecord) -> Observed:
    """One carried allele of a record, with its call and (first protein-changing) annotation."""
    g = rec.genotype
    return observed_allele(
        rec.allele,
        rec.annotations,
        zygosity=rec.zygosity.value if rec.zygosity else "",
        genotype=genotype_text(g),
        depth=g.depth,
        filter=rec.filter,
        quality=rec.quality,
        rsid=rec.rsid,
        record=rec.record,
    )


# --- the call store --------------------------------------------------------------------------


@dataclass
class _CallStore:
    rows: list[dict[str, Any]]  # CALLED rows for kg.queries.patients.PatientMatch
    summary: dict[str, Any]  # what the Patient records: stored, dropped, truncated, no-call ranges


def _call_store(
    vcf: _CallsVcf,
    normal: _CallsVcf | None,
    roles: SampleRoles,
    knowledge: Knowledge,
    hits: dict[str, ExactHit],
    observed: list[Observed],
    call_origin: dict[str, CallOrigin],
    call_sample: dict[str, str],
    limit: int,
    warnings: list[str],
) -> _CallStore:
    """The calls no exact knowledge Variant matched (a representative-allele or coarser link does
    not count: a later release may add the exact allele), the knowledge read's own first, then the
    whole-file read's (of a pair: the normal's as germline, the tumour's others as somatic); at most
    ``limit``, the rest counted."""
    candidates: list[tuple[Observed, str, CallOrigin]] = [(o, call_sample[o.id], call_origin[o.id]) for o in observed]
    reads = (
        [(normal, CallOrigin.GERMLINE), (vcf, CallOrigin.SOMATIC)]
        if normal is not None
        else [(vcf, SINGLE_SAMPLE_CALLS.get(roles.origin, CallOrigin.UNKNOWN))]
    )
    priority = priority_index(knowledge) if limit > 0 else None
    dropped = 0
    complete = True
    no_calls: dict[str, list[str]] = {}
    no_calls_dropped = 0
    seconds = 0.0
    for source, origin in reads:
        if priority is None:
            break
        found = (
            source.region.result() if source.region is not None else read_calls(source, limit=limit, priority=priority)
        )
        seconds += found.seconds
        dropped += found.dropped
        complete &= found.complete
        no_calls[source.sample] = found.no_calls
        no_calls_dropped += found.no_calls_dropped
        candidates += [(_observed(rec), source.sample, origin) for rec in found.calls]
    kept, over = _kept_calls(candidates, hits, limit)
    dropped += over
    summary = _call_summary(
        kept,
        dropped,
        complete,
        limit,
        no_calls.get(vcf.sample, []),
        no_calls.get(normal.sample) if normal is not None else None,
        no_calls_dropped,
    )
    summary["seconds"] = round(seconds, 4)
    if dropped:
        warnings.append(
            f"call store truncated: {dropped:,} non-reference call(s) beyond KG_PATIENT_CALLS_MAX={limit:,} not kept; "
            "a later release cannot link them to this patient"
        )
    if not complete:
        warnings.append(
            f"call store: the VCF is larger than an exome (over {WHOLE_FILE_TEXT_BYTES >> 20} MiB of text), so only "
            f"calls within {PRIORITY_PAD:,} bp of a known position or in a CIViC gene span were read; calls "
            "elsewhere are neither kept nor counted, and a later release cannot link them to this patient"
        )
    if no_calls_dropped:
        warnings.append(f"{no_calls_dropped:,} no-call range(s) beyond KG_PATIENT_CALLS_MAX={limit:,} not kept")
    return _CallStore(kept, summary)


def _kept_calls(
    candidates: Iterable[tuple[Observed, str, CallOrigin]], hits: Mapping[str, ExactHit], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The CALLED rows of ``candidates`` (a call, the sample that made it, its origin) in their order:
    each allele once, none that an exact knowledge Variant matched (``hits``), at most ``limit``; and
    how many more there were."""
    rows: dict[str, dict[str, Any]] = {}
    for o, sample, origin in candidates:
        if o.id not in hits and o.id not in rows:
            rows[o.id] = _call_row(o, sample, origin)
    kept = list(rows.values())
    bound = max(limit, 0)
    return kept[:bound], max(0, len(kept) - bound)


def _call_summary(
    kept: list[dict[str, Any]],
    dropped: int,
    complete: bool,
    limit: int,
    no_calls: list[str],
    normal_no_calls: list[str] | None,
    no_calls_dropped: int,
) -> dict[str, Any]:
    """What the Patient records of its call store (kg.queries.patients.PatientMatch.call_summary)."""
    return {
        "calls": len(kept),
        "callsDropped": dropped,
        "callsTruncated": dropped > 0 or not complete,
        "callsComplete": complete,
        "callsMax": limit,
        "noCalls": no_calls,
        "normalNoCalls": normal_no_calls,
        "noCallsDropped": no_calls_dropped,
    }


def _cohort_store_warnings(outcomes: list[SampleOutcome], store_read: str, limit: int) -> list[str]:
    """A cohort's call-store warnings, once for the run (a single match says them per patient)."""
    out = []
    cut = [o for o in outcomes if o.calls_dropped]
    if cut:
        out.append(
            f"call store truncated for {len(cut):,} patient(s): {sum(o.calls_dropped for o in cut):,} non-reference "
            f"call(s) beyond KG_PATIENT_CALLS_MAX={limit:,} not kept; a later release cannot link them"
        )
    if store_read == "priority regions":
        out.append(
            f"call store: the VCF is larger than an exome per sample (over {WHOLE_FILE_TEXT_BYTES >> 20} MiB of text "
            f"per sample column), so only calls within {PRIORITY_PAD:,} bp of a known position or in a CIViC gene span "
            "were read; calls elsewhere are neither kept nor counted"
        )
    return out


def _call_row(o: Observed, sample: str, call_origin: CallOrigin) -> dict[str, Any]:
    """One CALLED row: the ObservedAllele's key and coordinates, and the call as HAS_VARIANT holds it
    (kg.queries.patient_calls copies these properties onto the link)."""
    a = o.allele
    return {
        "allele": o.id,
        "chrom": a.chrom,
        "pos": a.pos,
        "ref": a.ref,
        "alt": a.alt,
        "props": _compact(
            {
                "zygosity": o.zygosity,
                "genotype": o.genotype,
                "phased": "|" in o.genotype,
                "depth": o.depth,
                "sample": sample,
                "filter": o.filter,
                "quality": o.quality,
                "callOrigin": call_origin.value,
                "rsid": o.rsid,
                "gene": o.gene,
                "proteinChange": o.protein_change,
                "consequences": sorted(o.consequences),
            }
        ),
    }


# --- pharmacogenomics ------------------------------------------------------------------------


def _phenotype_ids(genes: list[GeneResult]) -> list[str]:
    return sorted({p.phenotype_id for g in genes for p in g.phenotypes})


def _diplotype_rows(genes: list[GeneResult], present: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """HAS_DIPLOTYPE rows; Phenotypes the graph lacks (not in ``present``) are dropped (diplotype-keyed
    ones silently, others with a warning), ``No Result`` ones are MERGEd. Settles each GeneResult's
    phenotypes (once: a cohort shares one result among the samples with the same call)."""
    rows: list[dict[str, Any]] = []
    no_result: set[str] = set()
    for g in genes:
        kept = []
        for p in g.phenotypes:
            if p.phenotype_id in present or (p.phenotype == NO_RESULT and p.phenotype_id == f"{g.gene}:{NO_RESULT}"):
                kept.append(p)
            elif p.lookup != "diplotype":
                g.warnings.append(
                    f"{g.gene}: Phenotype {p.phenotype_id} is not in the graph (another PharmCAT "
                    "release loaded?); not linked"
                )
        if g.phenotypes and not kept:
            kept = [PhenotypeLink(f"{g.gene}:{NO_RESULT}", NO_RESULT, None, [])]
        g.phenotypes = kept
        for p in kept:
            if p.phenotype_id not in present:
                no_result.add(g.gene)
            rows.append({"phenotype": p.phenotype_id, "props": _diplotype_props(g, p)})
    return rows, sorted(no_result)


def _diplotype_props(g: GeneResult, p: PhenotypeLink) -> dict[str, Any]:
    return _compact(
        {
            "gene": g.gene,
            "diplotype": " or ".join(p.diplotypes) if p.diplotypes else g.diplotype,
            "call": g.diplotype,
            "status": g.status,
            "ambiguous": g.ambiguous,
            "candidates": g.candidates,
            "missingPositions": g.missing_positions,
            "warnings": g.warnings,
            "activityScore": p.activity_score or g.activity_score,
            "guideline": p.guideline,
            "lookup": p.lookup,
            "source": "outside call" if g.source == "outside call" else "vcf",
            "phased": g.phased,
            "phaseNote": g.phase_note,
            "haplotypes": g.haplotypes,
            "lowestFunction": g.lowest_function,
        }
    )


# --- variant links ---------------------------------------------------------------------------


def _variant_row(link: Link, sample: str | None, call_origin: CallOrigin) -> dict[str, Any]:
    """A HAS_VARIANT row; ``sample`` None: the patient's own sample (kg.queries.patients.LINK_VARIANTS)."""
    o = link.observed
    return {
        "variant": link.variant_id,
        "props": _compact(
            {
                "zygosity": o.zygosity,
                "genotype": o.genotype,
                "depth": o.depth,
                "sample": sample,
                "matchLevel": link.level,
                "observed": o.id,
                "filter": o.filter,
                "quality": o.quality,
                "matchReason": link.reason,
                "callOrigin": call_origin.value,
            }
        ),
    }


def _matched(link: Link) -> MatchedVariant:
    o = link.observed
    return MatchedVariant(
        variant=link.variant_id,
        name=link.variant_name,
        kind=link.variant_kind,
        match_level=link.level,
        observed=o.id,
        reason=link.reason,
        zygosity=o.zygosity,
        genotype=o.genotype,
        depth=o.depth,
        filter=o.filter,
        quality=o.quality,
    )


def _compact(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j stores no null properties and no null list items."""
    out = {}
    for k, v in props.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            v = [x for x in v if x is not None]
        out[k] = v
    return out

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
6. writes everything in one transaction (:func:`kg.queries.patients.store_match`): a re-match
   replaces the patient's links and calls; an error before this step stores nothing.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cyvcf2 import Variant

from kg.db import Graph
from kg.identity.origins import SINGLE_SAMPLE_CALLS, CallOrigin, SampleOrigin
from kg.matcher.calls import PRIORITY_PAD, WHOLE_FILE_TEXT_BYTES, priority_index, read_calls
from kg.matcher.consequences import consequence_terms
from kg.matcher.genotype import Genotype
from kg.matcher.knowledge import Knowledge, knowledge_state, load_knowledge
from kg.matcher.levels import ExactHit, Link, Observed, match_allele
from kg.matcher.origin import SampleRoles, decide, header_roles, parse_origin
from kg.matcher.pgx.outside_calls import parse_outside_calls
from kg.matcher.pharmacogenomics import NO_RESULT, GeneResult, PhenotypeLink, outside_results, pgx_release, vcf_results
from kg.matcher.positions import PositionIndex
from kg.matcher.report import MatchedVariant, MatchReport
from kg.matcher.vcf import PatientVcf, VcfRecord, open_vcf, read_header
from kg.queries import matching as mq
from kg.queries import patients as pq
from kg.queries.resolve import resolve_disease

__all__ = ["MatchReport", "delete_patient", "match_patient"]


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
    state = knowledge_state(graph)
    knowledge = load_knowledge(graph, state)
    pgx, pgx_info = pgx_release(knowledge.pgx, state["sources"], warnings)
    pgx_intervals = pgx.intervals() if pgx else ()
    annotated = bool(vcf.annotation_sources)
    index = knowledge.index(annotated=annotated, extra=pgx_intervals)
    pgx_index = _pgx_index(pgx_intervals)
    lap("knowledge")

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

    hits = {h.id: h for h in (ExactHit.of(r) for r in mq.exact_hits(graph, sorted({o.id for o in observed})))}
    links: list[Link] = []
    undetermined: dict[tuple[str, str], dict[str, Any]] = {}
    for o in observed:
        result = match_allele(o, hits.get(o.id), knowledge)
        links += result.links
        for u in result.undetermined:
            undetermined.setdefault(
                (u.variant_id, u.observed_id),
                {"variant": u.variant_id, "name": u.variant_name, "observed": u.observed_id, "reason": u.reason},
            )
    lap("match")

    limit = graph.settings.patient_calls_max if calls_max is None else calls_max
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
    diplotype_rows, no_result_genes = _diplotype_rows(graph, genes, warnings)
    lap("pgx")

    variant_rows = [_variant_row(link, call_sample[link.observed.id], call_origin[link.observed.id]) for link in links]
    origin_info = _origin_info(roles, vcf, normal, call_origin)
    pq.store_match(
        graph,
        patient,
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
    lap("store")
    timings["total"] = round(time.perf_counter() - began, 4)

    return _report(
        patient,
        vcf,
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


def _report(
    patient: str,
    vcf: PatientVcf,
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
        sample=vcf.sample,
        vcf=vcf_name,
        samples=list(vcf.samples),
        origin=origin,
        build={
            "build": vcf.build.build.value if vcf.build.build else None,
            "verified": vcf.build.verified,
            "evidence": list(vcf.build.evidence),
        },
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
    roles: SampleRoles, vcf: PatientVcf, normal: PatientVcf | None, call_origin: dict[str, CallOrigin]
) -> dict[str, Any]:
    """The origin as the report shows it and the Patient node stores it."""
    return {
        "origin": roles.origin.value,
        "source": roles.source,
        "sample": vcf.sample,
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
    the star-allele caller, where an absent one is a no-call."""

    allele_less: list[Genotype]

    @classmethod
    def of(cls, vcf: PatientVcf) -> _CallsVcf:
        out = cls(vcf.path, vcf.sample, vcf.samples, vcf.kind, vcf.header, vcf.build, vcf.threads)
        out.allele_less = []
        return out

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


def _genotype_text(g: Genotype) -> str:
    return ("|" if g.phased else "/").join("." if a is None else a for a in g.alleles)


def _read(
    vcf: _CallsVcf, index: PositionIndex, pgx_index: PositionIndex, warnings: list[str]
) -> tuple[list[Observed], dict[tuple[str, int], Genotype], Counter[str], int]:
    """The carried alleles, the PGx genotypes by (chrom, POS), skip counts and alleles read."""
    observed: list[Observed] = []
    genotypes: dict[tuple[str, int], Genotype] = {}
    skipped: Counter[str] = Counter()
    n = 0

    def keep_genotype(g: Genotype) -> None:
        if not pgx_index.overlaps(g.chrom, g.pos - 1, g.pos - 1 + max(len(g.ref), 1)):
            return
        key = (g.chrom, g.pos)
        other = genotypes.get(key)
        if other is None:
            genotypes[key] = g
        elif other != g:
            warnings.append(f"{g.chrom}:{g.pos}: two records at one definition position; the first is used")

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
    ann = next((a for a in rec.annotations if a.protein_change), None) or next(iter(rec.annotations), None)
    g = rec.genotype
    return Observed(
        id=rec.allele.id,
        allele=rec.allele,
        zygosity=rec.zygosity.value if rec.zygosity else "",
        genotype=_genotype_text(g),
        depth=g.depth,
        filter=rec.filter,
        quality=rec.quality,
        rsid=rec.rsid,
        gene=ann.gene if ann else None,
        protein_change=ann.protein_change if ann else None,
        consequences=consequence_terms([ann.consequence] if ann else []),
        record=rec.record,
    )


# --- the call store --------------------------------------------------------------------------


@dataclass
class _CallStore:
    rows: list[dict[str, Any]]  # CALLED rows for kg.queries.patients.store_match
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
    rows: dict[str, dict[str, Any]] = {}
    for o in observed:
        if o.id not in hits:
            rows.setdefault(o.id, _call_row(o, call_sample[o.id], call_origin[o.id]))
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
        found = read_calls(source, limit=limit, priority=priority)
        seconds += found.seconds
        dropped += found.dropped
        complete &= found.complete
        no_calls[source.sample] = found.no_calls
        no_calls_dropped += found.no_calls_dropped
        for rec in found.calls:
            if rec.id not in hits and rec.id not in rows:
                rows[rec.id] = _call_row(_observed(rec), source.sample, origin)
    kept = list(rows.values())
    if len(kept) > limit:
        dropped += len(kept) - limit
        kept = kept[: max(limit, 0)]
    sample_no_calls = no_calls.get(vcf.sample, [])
    summary = {
        "calls": len(kept),
        "callsDropped": dropped,
        "callsTruncated": dropped > 0 or not complete,
        "callsComplete": complete,
        "callsMax": limit,
        "noCalls": sample_no_calls,
        "normalNoCalls": no_calls.get(normal.sample) if normal is not None else None,
        "noCallsDropped": no_calls_dropped,
        "seconds": round(seconds, 4),
    }
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


def _diplotype_rows(
    graph: Graph, genes: list[GeneResult], warnings: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """HAS_DIPLOTYPE rows; Phenotypes the graph lacks are dropped (diplotype-keyed ones silently,
    others with a warning), ``No Result`` ones are MERGEd."""
    wanted = sorted({p.phenotype_id for g in genes for p in g.phenotypes})
    present = mq.phenotypes_present(graph, wanted)
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


def _variant_row(link: Link, sample: str, call_origin: CallOrigin) -> dict[str, Any]:
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

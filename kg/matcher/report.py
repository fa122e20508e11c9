"""What one match did: the report ``kg match`` prints and ``submitPatientVcf`` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kg.matcher.levels import Level
from kg.matcher.pharmacogenomics import GeneResult
from kg.queries.answers import json_ready
from kg.queries.fields import described


@dataclass
class MatchedVariant:
    """One HAS_VARIANT link: the knowledge Variant, its match level and the patient's allele."""

    variant: str  # the knowledge Variant's id
    name: str | None
    kind: str  # exact | protein | codon | gene (the Variant's kind)
    match_level: Level  # exact | protein | codon | gene
    observed: str  # the patient's allele id
    reason: str
    zygosity: str
    genotype: str
    depth: int | None = None
    filter: str | None = None
    quality: float | None = None


@dataclass
class MatchReport:
    """The outcome of :func:`kg.matcher.match.match_patient`."""

    patient: str
    sample: str
    vcf: str
    samples: list[str] = field(default_factory=list)
    origin: dict[str, Any] = field(default_factory=dict)  # kg.matcher.origin: origin, source, normalSample, calls
    build: dict[str, Any] = field(default_factory=dict)  # {"build", "verified", "evidence"}
    disease: dict[str, Any] | None = None
    variants: list[MatchedVariant] = field(default_factory=list)
    undetermined: list[dict[str, Any]] = field(default_factory=list)
    genes: list[GeneResult] = field(default_factory=list)
    pgx: dict[str, Any] = field(default_factory=dict)  # {"release", "skipped", "genes"}
    records_read: int = 0
    records_skipped: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> ALT alleles
    alleles_read: int = 0
    alleles_carried: int = 0
    reading: dict[str, Any] = field(default_factory=dict)  # strategy, scanned, queries, positions
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    stored: dict[str, int] = field(default_factory=dict)

    @property
    def variants_matched(self) -> int:
        return len(self.variants)

    @property
    def genes_called(self) -> int:
        return sum(1 for g in self.genes if g.called)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["variants_matched"] = self.variants_matched
        out["genes_called"] = self.genes_called
        for gene, result in zip(out["genes"], self.genes, strict=True):
            gene["called"] = result.called
        return out

    def summary(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"patient {self.patient}: sample {self.sample} of {self.vcf} "
            f"({'GRCh38' if self.build.get('verified') else 'build not stated, read as GRCh38'})",
            f"  read {self.records_read:,} records by {self.reading.get('strategy')}"
            + (f" (of {self.reading['scanned']:,} scanned)" if self.reading.get("scanned") is not None else "")
            + f"; {self.alleles_carried:,} carried alleles, {self.records_skipped:,} alleles skipped"
            + (f" ({', '.join(f'{k} {v:,}' for k, v in sorted(self.skipped.items()))})" if self.skipped else ""),
            f"  {self.variants_matched} variant links:",
        ]
        if self.origin:
            o = self.origin
            lines.insert(
                1,
                f"  origin {o['origin']} ({'default: nothing said otherwise' if o['source'] == 'default' else o['source']})"
                + (f", matched normal {o['normalSample']}" if o.get("normalSample") else "")
                + (f" of {o['normalVcf']}" if o.get("normalVcf") else "")
                + (f"; calls {', '.join(f'{k} {v}' for k, v in sorted(o['calls'].items()))}" if o.get("calls") else ""),
            )
            lines += [f"  note: {n}" for n in o.get("notes") or []]
        if self.disease:  # the condition as kg.queries.resolve.Match.ref() gives it
            replaced = self.disease.get("replacedFrom")
            lines.insert(
                1,
                f"  condition {self.disease['id']} {self.disease.get('name') or ''}".rstrip()
                + (f" (the obsolete {replaced['id']} is replaced by it)" if replaced else ""),
            )
        for v in self.variants:
            lines.append(f"    {v.match_level:<7} {v.name or v.variant}  <- {v.observed} {v.genotype} ({v.zygosity})")
        if self.undetermined:
            lines.append(f"  {len(self.undetermined)} undetermined:")
            lines += [f"    {u['name'] or u['variant']}: {u['reason']}" for u in self.undetermined[:20]]
        if self.genes:
            lines.append("  pharmacogenes:")
        for g in self.genes:
            phen = (
                "; ".join(f"{p.phenotype}" + (f" [{p.guideline}]" if p.guideline else "") for p in g.phenotypes) or "-"
            )
            flag = " AMBIGUOUS" if g.ambiguous else ""
            call = g.diplotype or (" ; ".join(g.haplotypes) + " (haplotype list)" if g.haplotypes else "-")
            lines.append(f"    {g.gene:<8} {call:<24} {phen}  ({g.status}{flag})")
        if self.pgx.get("skipped"):
            lines.append(f"  pharmacogenomics skipped: {self.pgx['skipped']}")
        elif self.pgx.get("release"):
            lines.append(f"  star alleles called with the definitions of {self.pgx['release']} (from the graph)")
        if "calls" in self.stored:  # the call store (kg/matcher/calls.py): what a later release can link
            lines.append(
                f"  call store: {self.stored['calls']:,} calls no knowledge Variant matched kept"
                + (
                    f", {self.stored['callsDropped']:,} beyond KG_PATIENT_CALLS_MAX dropped"
                    if self.stored.get("callsDropped")
                    else ""
                )
                + f"; {self.stored.get('noCalls', 0):,} no-call ranges"
            )
        lines += [f"  warning: {w}" for w in self.warnings]
        lines.append("  timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items()))
        return "\n".join(lines)


@dataclass(frozen=True)
class MatchSummary:
    """What matching a VCF did for the patient: the counts, and the full report as JSON."""

    patient_id: str
    variants_matched: int | None
    genes_called: int | None
    records_read: int | None
    records_skipped: int | None
    details: dict[str, Any] = field(metadata=described("The matcher's full report."))

    @classmethod
    def of(cls, report: MatchReport) -> MatchSummary:
        return cls(
            patient_id=report.patient,
            variants_matched=report.variants_matched,
            genes_called=report.genes_called,
            records_read=report.records_read,
            records_skipped=report.records_skipped,
            details=json_ready(report.to_dict()),
        )


@dataclass
class SampleOutcome:
    """One sample of a cohort run: stored as its patient, or why not."""

    sample: str
    patient: str
    stored: bool = False
    error: str | None = None
    variants_matched: int = 0
    genes_called: int = 0
    origin: str | None = None
    calls_stored: int = 0  # the call store's kept calls (kg.matcher.calls)
    calls_dropped: int = 0  # and those beyond KG_PATIENT_CALLS_MAX


@dataclass
class CohortReport:
    """The outcome of :func:`kg.matcher.match.match_cohort`: per sample, and for the run."""

    vcf: str
    samples: list[SampleOutcome] = field(default_factory=list)
    build: dict[str, Any] = field(default_factory=dict)
    disease: dict[str, Any] | None = None
    pgx: dict[str, Any] = field(default_factory=dict)
    records_read: int = 0
    alleles_read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> ALT alleles (the file's, once)
    reading: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return sum(1 for s in self.samples if s.stored)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.samples if not s.stored)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["stored"], out["failed"] = self.stored, self.failed
        return out

    def summary(self) -> str:
        """A few lines for the terminal: counts, then every failed sample with its reason."""
        lines = [
            f"{self.vcf}: {len(self.samples):,} samples read in one pass ({self.records_read:,} records by "
            f"{self.reading.get('strategy')}); {self.stored:,} stored as patients, {self.failed:,} failed",
        ]
        if self.disease:
            lines.append(f"  condition {self.disease['id']} {self.disease.get('name') or ''}".rstrip())
        if self.samples and self.stored:
            done = [s for s in self.samples if s.stored]
            lines.append(
                f"  variant links per patient: {min(s.variants_matched for s in done)}-"
                f"{max(s.variants_matched for s in done)} (total {sum(s.variants_matched for s in done):,}); "
                f"pharmacogenes called per patient: {min(s.genes_called for s in done)}-"
                f"{max(s.genes_called for s in done)}"
            )
            lines.append(
                f"  call store ({self.reading.get('callStore')}): {min(s.calls_stored for s in done):,}-"
                f"{max(s.calls_stored for s in done):,} calls per patient (total {sum(s.calls_stored for s in done):,}), "
                f"{sum(s.calls_dropped for s in done):,} beyond the bound"
            )
        if self.pgx.get("skipped"):
            lines.append(f"  pharmacogenomics skipped: {self.pgx['skipped']}")
        elif self.pgx.get("release"):
            lines.append(f"  star alleles called with the definitions of {self.pgx['release']} (from the graph)")
        for s in self.samples:
            if not s.stored:
                lines.append(f"  FAILED {s.sample} (patient {s.patient}): {s.error}")
        lines += [f"  warning: {w}" for w in self.warnings]
        lines.append("  timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items()))
        return "\n".join(lines)

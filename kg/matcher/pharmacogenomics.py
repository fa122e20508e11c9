"""A patient's pharmacogenomic results: star-allele calls and outside calls -> Phenotype links.

PharmCAT's order of work (https://pharmcat.org/methods): the NamedAlleleMatcher calls diplotypes
from the VCF (:func:`kg.matcher.pgx.call_genes`), the Phenotyper translates each into the CPIC and
DPWG gene result and **lookup key** (:class:`kg.matcher.pgx.phenotype.PhenotypeTables`), and the
reporter finds recommendations by that key. The graph files recommendations under
``Phenotype {id: "<GENE>:<lookup key>"}`` (kg/loaders/pharmcat.py), so a call becomes links to those
nodes:

- CPIC and DPWG may give different lookup values (``CYP2D6:2.5`` is Ultrarapid for CPIC, Normal
  for DPWG): one link each, with ``guideline``; a value both give is one link without.
- An ambiguous call (ties, or lower-scoring candidates that unphased or missing data cannot rule
  out — TPMT ``*1/*3A`` vs ``*3B/*3C``) links every distinct phenotype of its candidates, all
  flagged ``ambiguous`` with the candidates listed: the answer is "depends on phase".
- A gene that cannot be called (no call, no data, a diplotype the tables do not know) links to
  ``<GENE>:No Result``, CPIC's own key for "genotype not available", with the status and missing
  positions, so answers say why it cannot be determined.
- CYP2D6 is not called from a VCF (PharmCAT's default: copy number and hybrids are invisible to
  it); without an outside call it is ``No Result`` with status ``outside call needed``.
- DPWG keys some recommendations by diplotype (irinotecan/UGT1A1 ``*1/*28``): a call also links
  to such a ``Phenotype {id: "UGT1A1:*1/*28"}`` when the graph has it (guideline DPWG).
- Outside calls (PharmCAT outside-call TSV: CYP2D6, HLA-A, HLA-B, any gene) replace the VCF call
  of their gene; HLA genes have no phenotype table, so a given result (``*57:01 positive``) links
  directly, and a given diplotype links ``positive``/``negative`` for every HLA allele a guideline
  keys on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kg.matcher.genotype import Genotype
from kg.matcher.pgx.caller import OUTSIDE_CALL_GENES, GeneCall, call_genes
from kg.matcher.pgx.outside_calls import OutsideCall
from kg.matcher.pgx.phenotype import SOURCES, PhenotypeResult, PhenotypeTables, split_diplotype
from kg.matcher.positions import Interval
from kg.pharmcat.alleles import GeneDefinition, allele_sort_key
from kg.pharmcat.stored import SOURCE as PHARMCAT
from kg.pharmcat.stored import definition_from_json, table_from_json

NO_RESULT = "No Result"
#: bp around an indel definition position where the caller looks for a differently anchored
#: record (kg.matcher.pgx.caller._find_record uses 50).
INDEL_WINDOW = 50


@dataclass
class PhenotypeLink:
    """One (Patient)-[:HAS_DIPLOTYPE]->(Phenotype) link of a gene."""

    phenotype_id: str
    phenotype: str | None
    guideline: str | None  # None: every guideline with a table for the gene gives this phenotype
    diplotypes: list[str]  # the calls (candidates) that give it
    activity_score: str | None = None
    lookup: str = "phenotype"  # "phenotype" | "diplotype" (DPWG diplotype-keyed)


@dataclass
class GeneResult:
    """What the patient's data say about one pharmacogene."""

    gene: str
    source: str  # "vcf" | "outside call"
    status: str  # called | ambiguous | haplotype_list | no_call | no_data | outside call | outside call needed
    diplotype: str | None
    ambiguous: bool = False
    candidates: list[str] = field(default_factory=list)
    haplotypes: list[str] = field(default_factory=list)
    missing_positions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    activity_score: str | None = None
    phenotypes: list[PhenotypeLink] = field(default_factory=list)
    phased: bool = False
    phase_note: str | None = None  # set when phase is unknown and could matter: see phase_note()
    lowest_function: list[str] = field(default_factory=list)  # DPYD list: the two haplotypes scored

    @property
    def called(self) -> bool:
        return self.status in ("called", "ambiguous", "haplotype_list", "outside call") and any(
            p.phenotype != NO_RESULT for p in self.phenotypes
        )


class PgxKnowledgeMissing(LookupError):
    """The graph's active pharmcat release holds no allele definitions or phenotype tables (it was
    loaded by a kg that did not store them): ``kg load pharmcat`` of the same release stores them."""


@dataclass(frozen=True)
class PgxData:
    """A PharmCAT release's allele definitions and phenotype tables, as the graph stores them
    (``AlleleDefinition`` / ``PhenotypeTable`` nodes of the active release, kg.pharmcat.stored)."""

    release: str
    definitions: Mapping[str, GeneDefinition]
    tables: PhenotypeTables

    @classmethod
    def from_stored(cls, release: str, definitions: list[str], tables: list[str]) -> PgxData:
        """From the stored JSON texts of one release (kg.queries.matching.pgx_knowledge)."""
        parsed = [definition_from_json(text) for text in definitions]
        return cls(release, {d.gene: d for d in parsed}, PhenotypeTables(table_from_json(t) for t in tables))

    def intervals(self) -> tuple[Interval, ...]:
        """Definition positions (indels with the caller's window), exemption extra positions."""
        return tuple(sorted({iv for gene in self.definitions for iv in self.gene_intervals(gene)}))

    def gene_intervals(self, gene: str) -> tuple[Interval, ...]:
        """:meth:`intervals` of one gene: every record its call can look at (a cohort groups the
        samples whose calls agree there, kg/matcher/cohort.py)."""
        d = self.definitions[gene]
        out: set[Interval] = set()
        for locus in list(d.loci) + list(d.exemption.extra_positions if d.exemption else ()):
            if locus.is_snv:
                out.add(Interval(locus.chrom, locus.position, locus.position))
            else:
                out.add(
                    Interval(
                        locus.chrom,
                        max(1, locus.position - INDEL_WINDOW),
                        locus.position + len(locus.ref) + INDEL_WINDOW,
                    )
                )
        return tuple(sorted(out))


def pgx_release(
    pgx: PgxData | None, active_sources: Iterable[Mapping[str, Any]], warnings: list[str]
) -> tuple[PgxData | None, dict[str, Any]]:
    """The PGx knowledge a match uses (``pgx``: the active release's, read from the graph by
    kg/matcher/knowledge.py) and what the report says of it.

    No active pharmcat release: pharmacogenomics is not assessed, and the report and its warnings
    say so. An active release without stored definitions or tables (loaded by an older kg) raises
    :class:`PgxKnowledgeMissing`: an error, not a silent skip.
    """
    if pgx is not None and pgx.definitions and any(pgx.tables.genes(source) for source in SOURCES):
        return pgx, {"release": pgx.release, "skipped": None, "genes": sorted(pgx.definitions)}
    active = sorted(str(s["key"]) for s in active_sources if s.get("name") == PHARMCAT)
    if pgx is not None or active:
        raise PgxKnowledgeMissing(
            f"the active pharmcat release {', '.join(active or [pgx.release if pgx else ''])} holds no PharmCAT allele definitions or phenotype "
            "tables in the graph (loaded by an older kg?): run `kg load pharmcat` again to store them"
        )
    reason = "no active pharmcat release in the graph: star alleles not called, pharmacogenomics not assessed"
    warnings.append(f"pharmacogenomics skipped: {reason}")
    return None, {"release": None, "skipped": reason, "genes": []}


def vcf_results(
    data: PgxData, genotypes: Mapping[tuple[str, int], Genotype], skip: frozenset[str] = frozenset()
) -> tuple[dict[str, GeneCall], list[GeneResult]]:
    """Call every definition gene (except ``skip``, genes with an outside call) and translate."""
    definitions = {g: d for g, d in data.definitions.items() if g not in skip and g not in OUTSIDE_CALL_GENES}
    calls = call_genes(definitions, genotypes)
    results = [_from_call(call, data.tables) for call in calls.values()]
    for gene in sorted(OUTSIDE_CALL_GENES & set(data.definitions) - skip):
        results.append(
            GeneResult(
                gene=gene,
                source="vcf",
                status="outside call needed",
                diplotype=None,
                warnings=[
                    f"{gene} is not called from a VCF (PharmCAT's default: gene deletions, duplications and "
                    "hybrids are invisible to it); give an outside call (--outside-calls) from a dedicated tool"
                ],
                phenotypes=[PhenotypeLink(f"{gene}:{NO_RESULT}", NO_RESULT, None, [])],
            )
        )
    return calls, results


def phase_note(call: GeneCall) -> str | None:
    """What unknown phase means for a call; None when phase cannot change it (phased data, or at
    most one heterozygous position: PharmCAT's "effectively phased").

    PharmCAT reports unphased data as it is: DPYD as the list of detected haplotypes (no diplotype;
    the two lowest-function ones are scored, CPIC), other genes with every diplotype the genotype
    allows (docs/methods/Gene-Definition-Exceptions.md and NamedAlleleMatcher-101.md, v2.10.0).
    """
    if call.effectively_phased or not call.called:
        return None
    if call.haplotypes and not call.diplotypes:
        return (
            f"phase unknown: {len(call.haplotypes)} {call.gene} haplotypes detected in unphased data cannot be "
            "assigned to gene copies, so they are listed, not called as a diplotype; the phenotype uses the two "
            "lowest-function haplotypes (CPIC)"
        )
    if call.ambiguous:
        return (
            f"phase unknown: the unphased {call.gene} genotype fits {len(call.candidates)} diplotypes; "
            "every candidate is listed"
        )
    return f"phase unknown (unphased data, several heterozygous positions); only {call.best} fits the genotype"


def _from_call(call: GeneCall, tables: PhenotypeTables) -> GeneResult:
    candidates = [c.name for c in call.candidates]
    if call.haplotypes and not call.diplotypes:
        diplotype: str | None = None  # DPYD unphased: a haplotype list (``haplotypes``), not a diplotype
    elif call.best is not None:
        diplotype = call.best
    else:
        diplotype = " or ".join(call.diplotypes) or None
    result = GeneResult(
        gene=call.gene,
        source="vcf",
        status=call.status,
        diplotype=diplotype,
        ambiguous=call.ambiguous,
        candidates=candidates if call.ambiguous else [],
        haplotypes=list(call.haplotypes),
        missing_positions=list(call.missing_positions),
        warnings=list(call.warnings),
        phased=call.phased,
        phase_note=phase_note(call),
    )
    guidelines = [s for s in SOURCES if tables.table(call.gene, s) is not None]
    if not guidelines:
        result.warnings.append(f"{call.gene}: no CPIC or DPWG phenotype table; the call is reported, not linked")
        return result
    if not call.called:
        result.phenotypes = [PhenotypeLink(f"{call.gene}:{NO_RESULT}", NO_RESULT, None, [])]
        return result
    names = list(call.diplotypes)
    if call.ambiguous:
        names += [c for c in candidates if c not in names]
    per_guideline: dict[str, list[tuple[str, PhenotypeResult]]] = {}
    for source in guidelines:
        if call.haplotypes and not call.diplotypes:
            found = [("", r) for r in tables.phenotype_for_call(call, source)]
            if source == "CPIC" and found:  # CPIC's activity values pick the two lowest
                result.lowest_function = list(found[0][1].alleles)
        else:
            found = [(n, r) for n in names if (r := tables.phenotype_for(call.gene, n, source)) is not None]
        per_guideline[source] = [(n, r) for n, r in found if r.lookup_key]
        for n in names:
            if not any(m == n for m, _ in found) and not call.haplotypes:
                result.warnings.append(f"{call.gene}: {n} is not in the {source} phenotype table")
        for _, r in found:
            result.warnings += [note for note in r.notes if note not in result.warnings]
    result.phenotypes = _links(call.gene, per_guideline, guidelines)
    if not result.phenotypes:
        result.phenotypes = [PhenotypeLink(f"{call.gene}:{NO_RESULT}", NO_RESULT, None, [])]
    result.activity_score = next(
        (r.activity_score for s in guidelines for _, r in per_guideline.get(s, ()) if r.activity_score), None
    )
    # DPWG diplotype-keyed phenotypes (kept only if the graph has them: see match.py)
    if "DPWG" in guidelines:
        for name in names if not call.haplotypes else []:
            key = diplotype_key(call.gene, name, tables)
            if key is not None:
                result.phenotypes.append(PhenotypeLink(f"{call.gene}:{key}", key, "DPWG", [name], lookup="diplotype"))
    return result


def _links(
    gene: str, per_guideline: dict[str, list[tuple[str, PhenotypeResult]]], guidelines: list[str]
) -> list[PhenotypeLink]:
    by_id: dict[str, PhenotypeLink] = {}
    given_by: dict[str, set[str]] = {}
    for source in guidelines:
        for name, r in per_guideline.get(source, ()):
            pid = f"{gene}:{r.lookup_key}"
            link = by_id.get(pid)
            if link is None:
                link = by_id[pid] = PhenotypeLink(pid, r.phenotype, None, [], r.activity_score)
            if name and name not in link.diplotypes:
                link.diplotypes.append(name)
            link.activity_score = link.activity_score or r.activity_score
            given_by.setdefault(pid, set()).add(source)
    for pid, link in by_id.items():
        sources = given_by[pid]
        link.guideline = None if sources == set(guidelines) else sorted(sources)[0] if len(sources) == 1 else None
    return list(by_id.values())


def diplotype_key(gene: str, diplotype: str, tables: PhenotypeTables) -> str | None:
    """``*28/*1`` -> ``*1/*28``: the diplotype as kg/loaders/pharmcat.py keys DPWG's
    diplotype-keyed phenotypes (alleles in PharmCAT's order)."""
    table = tables.table(gene, "DPWG")
    sides = split_diplotype(diplotype, gene, table.allele_names if table else ())
    if len(sides) != 2 or any(s.startswith("[") for s in sides):
        return None
    return "/".join(sorted(sides, key=allele_sort_key))


def outside_results(
    calls: list[OutsideCall], tables: PhenotypeTables | None, gene_phenotypes: Callable[[str], list[str]]
) -> list[GeneResult]:
    """Outside calls -> results; ``gene_phenotypes(gene)`` lists the graph's Phenotype ids of a
    gene without a table (HLA)."""
    out = []
    for oc in calls:
        result = GeneResult(
            gene=oc.gene,
            source="outside call",
            status="outside call",
            diplotype=oc.diplotype or None,
            activity_score=oc.activity_score,
            warnings=[
                f"{oc.gene}: outside call from {os.path.basename(oc.path)} line {oc.line} "
                "(replaces any call from the VCF)"
            ],
        )
        guidelines = [s for s in SOURCES if tables is not None and tables.table(oc.gene, s) is not None]
        per_guideline: dict[str, list[tuple[str, PhenotypeResult]]] = {}
        for source in guidelines:
            assert tables is not None
            r = tables.phenotype_for_outside_call(oc, source)
            if r is not None:
                result.warnings += [n for n in r.notes if n not in result.warnings]
            if r is not None and r.lookup_key:
                per_guideline[source] = [(oc.diplotype or "", r)]
        if per_guideline:
            result.phenotypes = _links(oc.gene, per_guideline, guidelines)
            result.activity_score = result.activity_score or next(
                (p.activity_score for p in result.phenotypes if p.activity_score), None
            )
        elif guidelines:
            result.warnings.append(f"{oc.gene}: the outside call matches no CPIC/DPWG lookup key")
        else:
            result.phenotypes = _untabled(oc, gene_phenotypes(oc.gene))
            if not result.phenotypes:
                result.warnings.append(f"{oc.gene}: no guideline phenotype for this outside call")
        if not result.phenotypes:
            result.status = "outside call not interpretable"
            result.phenotypes = [PhenotypeLink(f"{oc.gene}:{NO_RESULT}", NO_RESULT, None, [])]
        out.append(result)
    return out


def _untabled(oc: OutsideCall, known: list[str]) -> list[PhenotypeLink]:
    """Genes without a phenotype table (HLA-A, HLA-B): the given result, or positive/negative per
    allele a guideline keys on (``HLA-B:*57:01 positive``)."""
    prefix = f"{oc.gene}:"
    values = {k[len(prefix) :] for k in known if k.startswith(prefix)}
    given = [v for v in (oc.phenotype, oc.activity_score) if v]
    for value in given:
        match = next((v for v in values if v.lower() == value.lower()), None)
        if match is not None:
            return [PhenotypeLink(prefix + match, match, None, [oc.diplotype] if oc.diplotype else [])]
    if not oc.diplotype:
        return []
    alleles = {a.strip() for a in oc.diplotype.split("/")}
    links = []
    for value in sorted(values):
        if value.endswith(" positive"):
            allele = value[: -len(" positive")]
            state = "positive" if allele in alleles else "negative"
            if f"{allele} {state}" in values:
                links.append(PhenotypeLink(f"{prefix}{allele} {state}", f"{allele} {state}", None, [oc.diplotype]))
    return links

"""Match levels: which knowledge Variants one patient allele satisfies, and how exactly.

The rules are docs/GRAPH_MODEL.md's ("Deciding exact vs codon vs gene"), tested in order:

1. **exact** — the allele id is a Variant id, or one of a Variant's representative ``alleleIds``.
2. **protein** — same gene and protein change (:func:`kg.identity.protein.protein_key`) as a
   ``protein``/``exact`` Variant. The patient's change comes from the exact Variant it hit
   (CIViC/ClinVar ``proteinChange``) or from the record's VEP ``CSQ`` / snpEff ``ANN``.
3. **codon** — a codon-level Variant (``BRAF V600``) of the same gene whose reference amino acid
   and codon the change starts at, unless synonymous. Without any protein change, an allele inside
   the codon's GRCh38 region is only a *possible* match: reported as undetermined, never linked.
4. **gene** — gene-level categories by ``categoryType``: ``mutation`` (any protein-altering
   consequence), ``truncating`` (nonsense, frameshift, splice donor/acceptor); both only for
   alleles not classified benign / likely benign by ClinVar. ``exon`` (no exon number is read
   from annotations here), ``domain`` (no domain coordinates in the graph) and ``function``
   (unless CIViC functional evidence about the exact variant states that function) are reported
   as undetermined. Copy number, fusions, expression, methylation and wild type are never
   concluded from a small-variant VCF.

Variants with ``zygosity: homozygous`` (CIViC's ``... HOMOZYGOSITY``) need a homozygous (or
hemizygous) genotype. Pure functions: the graph reads happen in kg/matcher/match.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kg.identity.protein import consequences_of_change, first_codon, protein_key
from kg.identity.variants import Allele
from kg.matcher.consequences import PROTEIN_ALTERING, TRUNCATING, consequence_terms
from kg.matcher.knowledge import CoarseVariant, Knowledge
from kg.matcher.vcf import Annotation

Level = Literal["exact", "protein", "codon", "gene"]
LEVELS: tuple[Level, ...] = ("exact", "protein", "codon", "gene")
BENIGN = frozenset({"benign", "likely benign"})


@dataclass(frozen=True)
class Observed:
    """One non-reference allele the sample carries, normalised, with its call and annotation."""

    id: str  # graph key of the allele (kg.identity.variants.variant_id)
    allele: Allele
    zygosity: str
    genotype: str  # "C/T", "T|C", "./T"
    depth: int | None = None
    filter: str | None = None
    quality: float | None = None
    rsid: str | None = None
    gene: str | None = None  # annotation (CSQ/ANN) gene symbol
    protein_change: str | None = None  # annotation, one-letter short form
    consequences: frozenset[str] = frozenset()  # annotation SO terms
    record: int | None = None

    @property
    def homozygous(self) -> bool:
        return self.zygosity in ("homozygous", "hemizygous")


def observed_allele(
    allele: Allele,
    annotations: Sequence[Annotation],
    *,
    zygosity: str,
    genotype: str,
    depth: int | None,
    filter: str | None,
    quality: float | None,
    rsid: str | None,
    record: int | None,
) -> Observed:
    """The :class:`Observed` of one carried ALT: gene, protein change and consequence from its
    first annotation with a protein change (else its first annotation)."""
    ann = next((a for a in annotations if a.protein_change), None) or next(iter(annotations), None)
    return Observed(
        id=allele.id,
        allele=allele,
        zygosity=zygosity,
        genotype=genotype,
        depth=depth,
        filter=filter,
        quality=quality,
        rsid=rsid,
        gene=ann.gene if ann else None,
        protein_change=ann.protein_change if ann else None,
        consequences=consequence_terms([ann.consequence] if ann else []),
        record=record,
    )


@dataclass(frozen=True)
class ExactHit:
    """A Variant whose id equals an observed allele id, with what the coarser levels need."""

    id: str
    kind: str
    gene: str | None
    name: str | None
    genes: frozenset[str] = frozenset()
    protein_changes: tuple[str, ...] = ()
    homozygous_only: bool = False
    consequences: frozenset[str] = frozenset()
    classifications: tuple[str, ...] = ()
    functions: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, row: dict[str, Any]) -> ExactHit:
        v = row["variant"]
        changes = v.get("proteinChanges") or ([v["proteinChange"]] if v.get("proteinChange") else [])
        genes = {g for g in row.get("genes") or () if g} | ({v["gene"]} if v.get("gene") else set())
        return cls(
            id=v["id"],
            kind=v.get("kind") or "exact",
            gene=v.get("gene"),
            name=v.get("name"),
            genes=frozenset(genes),
            protein_changes=tuple(changes),
            homozygous_only=v.get("zygosity") == "homozygous",
            consequences=consequence_terms(row.get("consequences") or ()),
            classifications=tuple(c for c in row.get("classifications") or () if c),
            functions=tuple(f for f in row.get("functions") or () if f),
        )

    @property
    def benign(self) -> bool:
        return any(c in BENIGN for c in self.classifications)


@dataclass(frozen=True)
class Link:
    """(Patient)-[:HAS_VARIANT {matchLevel}]->(Variant) for one observed allele."""

    variant_id: str
    variant_name: str | None
    variant_kind: str
    level: Level
    observed: Observed
    reason: str


@dataclass(frozen=True)
class Undetermined:
    """A knowledge Variant the allele may satisfy, which the VCF cannot decide."""

    variant_id: str
    variant_name: str | None
    observed_id: str
    reason: str


@dataclass
class AlleleMatch:
    links: list[Link] = field(default_factory=list)
    undetermined: list[Undetermined] = field(default_factory=list)


def match_allele(o: Observed, hit: ExactHit | None, knowledge: Knowledge) -> AlleleMatch:
    """Every knowledge Variant ``o`` satisfies, best level per Variant."""
    found: dict[str, Link] = {}
    open_questions: dict[str, Undetermined] = {}

    def link(v_id: str, name: str | None, kind: str, level: Level, reason: str, homozygous_only: bool) -> None:
        if homozygous_only and not o.homozygous:
            return
        current = found.get(v_id)
        if current is None or LEVELS.index(level) < LEVELS.index(current.level):
            found[v_id] = Link(v_id, name, kind, level, o, reason)

    def undetermined(v: CoarseVariant, reason: str) -> None:
        if v.id not in found and not (v.homozygous_only and not o.homozygous):
            open_questions.setdefault(v.id, Undetermined(v.id, v.name, o.id, reason))

    # 1. exact
    if hit is not None:
        link(hit.id, hit.name, hit.kind, "exact", "same normalised allele", hit.homozygous_only)
    for v in knowledge.by_allele.get(o.id, ()):
        link(v.id, v.name, v.kind, "exact", "a representative allele of this variant", v.homozygous_only)

    # What the coarser levels compare: genes, protein changes, consequences.
    changes: list[tuple[str, str]] = []  # (gene, change)
    if hit is not None:
        for gene in _genes(hit.gene, hit.genes):
            changes += [(gene, c) for c in hit.protein_changes]
    if o.gene and o.protein_change:
        changes.append((o.gene, o.protein_change))
    genes = _genes(o.gene, hit.genes if hit else ())
    terms = set(o.consequences) | set(hit.consequences if hit else ())
    for _, change in changes:
        terms |= consequences_of_change(change)
    altering = bool(terms & PROTEIN_ALTERING)
    truncating = bool(terms & TRUNCATING)
    benign = hit is not None and hit.benign
    changed_genes = {g for g, _ in changes}

    for gene in genes:
        for v in knowledge.by_gene.get(gene, ()):
            # 2. protein
            if v.kind in ("protein", "exact") and v.protein_keys:
                for g, change in changes:
                    key = protein_key(change)
                    if g == gene and key in v.protein_keys:
                        link(v.id, v.name, v.kind, "protein", f"{gene} {change}", v.homozygous_only)
            # 3. codon
            elif v.kind == "codon":
                for g, change in changes:
                    codon = first_codon(change)
                    if (
                        g == gene
                        and codon is not None
                        and not codon.synonymous
                        and codon.ref == v.amino_acid_ref
                        and codon.position in v.codons
                    ):
                        link(
                            v.id,
                            v.name,
                            v.kind,
                            "codon",
                            f"{gene} {change} at codon {codon.ref}{codon.position}",
                            v.homozygous_only,
                        )
            # 4. gene
            elif v.kind == "gene":
                _gene_level(o, v, hit, terms, altering, truncating, benign, link, undetermined)
    for v in knowledge.codon_variants:
        if v.gene not in changed_genes and v.region is not None and _inside(o.allele, v):
            undetermined(
                v,
                "inside the codon's GRCh38 region, but no protein change is known for the "
                "allele (annotate the VCF with VEP or snpEff)",
            )
    # a Variant linked at some level is not also undetermined
    return AlleleMatch(list(found.values()), [u for k, u in open_questions.items() if k not in found])


def _gene_level(
    o: Observed,
    v: CoarseVariant,
    hit: ExactHit | None,
    terms: set[str],
    altering: bool,
    truncating: bool,
    benign: bool,
    link: Any,
    undetermined: Any,
) -> None:
    ct = v.category_type
    if ct not in ("mutation", "truncating", "exon", "domain", "function"):
        return  # copy number, fusion, expression, epigenetic, wild type: not from a small-variant VCF
    if benign:
        return
    if not terms:
        undetermined(v, "the allele's consequence is unknown (no annotation, no ClinVar consequence)")
        return
    shown = ", ".join(sorted(terms & PROTEIN_ALTERING)) or ", ".join(sorted(terms))
    if ct == "mutation":
        if altering:
            link(v.id, v.name, v.kind, "gene", f"protein-altering: {shown}", v.homozygous_only)
    elif ct == "truncating":
        if truncating:
            link(
                v.id, v.name, v.kind, "gene", f"truncating: {', '.join(sorted(terms & TRUNCATING))}", v.homozygous_only
            )
    elif not altering:
        return
    elif ct == "exon":
        if _exon_kind_fits(v.category or "", terms):
            undetermined(v, f"protein-altering ({shown}), but the exon number is not read from the annotation")
    elif ct == "domain":
        undetermined(v, f"protein-altering ({shown}); the graph holds no protein domain positions")
    elif ct == "function":
        wanted = _function_of(v.category or "")
        if (
            wanted is not None
            and hit is not None
            and any(
                (f.get("significance") or "").lower() == wanted and f.get("direction") == "supports"
                for f in hit.functions
            )
        ):
            link(v.id, v.name, v.kind, "gene", f"CIViC functional evidence: {wanted}", v.homozygous_only)
        else:
            undetermined(
                v,
                f"protein-altering ({shown}); needs a functional interpretation "
                f"({wanted or v.category}) the knowledge does not state for this allele",
            )


_DELETION = frozenset(
    {
        "inframe_deletion",
        "frameshift_variant",
        "disruptive_inframe_deletion",
        "conservative_inframe_deletion",
        "inframe_indel",
        "exon_loss_variant",
        "feature_truncation",
    }
)
_INSERTION = frozenset(
    {
        "inframe_insertion",
        "frameshift_variant",
        "disruptive_inframe_insertion",
        "conservative_inframe_insertion",
        "inframe_indel",
    }
)


def _exon_kind_fits(category: str, terms: set[str]) -> bool:
    """Can an allele of these consequences be an instance of an exon category at all?
    ``Exon 19 Deletion`` needs a deletion, ``Exon 20 Insertion`` an insertion; ``Exon 11
    Mutation`` any protein-altering change; ``Exon 14 Skipping`` a splice change."""
    low = category.lower()
    if "deletion" in low:
        return bool(terms & _DELETION)
    if "insertion" in low or "dup" in low:
        return bool(terms & _INSERTION)
    if "skipping" in low:
        return bool(terms & {"splice_donor_variant", "splice_acceptor_variant"})
    return bool(terms & PROTEIN_ALTERING)


def _function_of(category: str) -> str | None:
    """``Loss-of-function`` / ``Inactivating Mutation`` -> ``loss of function``; ``Activating
    Mutation`` / ``Gain-of-function`` -> ``gain of function``; biallelic inactivation -> None (needs
    two hits, which one allele cannot show)."""
    low = category.lower()
    if "biallelic" in low:
        return None
    if "gain" in low or re.search(r"\bactivating", low):
        return "gain of function"
    return "loss of function"


def _genes(first: str | None, more: Iterable[str]) -> list[str]:
    out = [first] if first else []
    out += sorted(g for g in more if g and g != first)
    return out


def _inside(allele: Allele, v: CoarseVariant) -> bool:
    region = v.region
    assert region is not None
    end = allele.pos + max(len(allele.ref), 1) - 1
    return allele.chrom == region.chrom and allele.pos <= region.end and end >= region.start

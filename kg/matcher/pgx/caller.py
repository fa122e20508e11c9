"""Diplotype (star-allele) calling from VCF genotypes, after PharmCAT's NamedAlleleMatcher.

The method is PharmCAT's (NamedAlleleMatcher 101/201, ``MatchData``/``DiplotypeMatcher``):

1. Definition positions the sample has no genotype for, or a no-call / half call at, are
   **missing**. They are dropped from matching (never assumed reference); an allele keeps only
   its available defining positions, and an allele with none left cannot be called.
2. A non-reference allele's undefined cells are filled with the reference allele's base, so
   every allele is a full haplotype over the available positions.
3. A diplotype ``A/B`` is viable when the two haplotypes together explain the genotype at every
   available position: for unphased data each heterozygous position may go either way (this is
   PharmCAT's permutation set, checked position by position); for phased data ``A`` must be
   one strand and ``B`` the other.
4. Each viable diplotype is scored by the number of *defined* (non-null, available) positions
   of its two alleles, so the reference allele scores highest; the top-scoring diplotypes are
   the call. Several at the top score make the call ambiguous; lower-scoring viable diplotypes
   are kept in ``candidates`` and also flag the call as ambiguous ("cannot be ruled out without
   phased data", as PharmCAT's curated ambiguity messages say).

Alleles are compared in the definition's own VCF representation. A sample allele written in
another representation (a trimmed or shifted indel, e.g. UGT1A1 *28 ``C>CAT`` instead of
``CAT>CATAT``) is translated by normalising both sides with :func:`kg.identity.variants.normalize`
and left-shifting indels through the reference bases both records reveal.

Combination and partial alleles (PharmCAT research mode, e.g. CYP2B6 ``[*6 + *14]``) are **not**
searched for, except for DPYD where PharmCAT always does so: when no pair of defined alleles
explains the genotype the gene is reported as a no call (``status == "no_call"``), with the
reason in ``warnings``. DPYD follows PharmCAT's special path (HapB3 called from its intronic
variant; unphased samples with several heterozygous variants are reported as a haplotype list,
for the CPIC "two lowest activity values" phenotype, see :mod:`kg.matcher.pgx.phenotype`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from kg.identity.variants import normalize
from kg.matcher.genotype import Genotype
from kg.pharmcat.alleles import (
    IUPAC,
    GeneDefinition,
    NamedAllele,
    VariantLocus,
    allele_sort_key,
    is_wobble,
    position_label,
)

Status = Literal["called", "ambiguous", "no_call", "no_data", "haplotype_list"]
PositionStatus = Literal["called", "missing", "no_call", "half_call", "ref_mismatch", "ignored"]

#: DPYD HapB3 (PharmCAT ``DpydHapB3Matcher``): called from the intronic causal variant.
HAPB3_INTRONIC_RSID = "rs75017182"
HAPB3_EXONIC_RSID = "rs56038477"

_MAX_LISTED = 12

#: Genes where PharmCAT sets a variant the definitions do not know to reference, so that a
#: toxicity-relevant call is still made (NamedAlleleMatcher 201, "Undocumented Variations").
TREAT_UNDOCUMENTED_AS_REFERENCE = frozenset({"CACNA1S", "DPYD", "G6PD", "NUDT15", "RYR1", "TPMT"})

#: Genes PharmCAT does not call from VCF by default: CYP2D6 needs copy number and hybrid
#: detection (an outside call from e.g. StellarPGx/Cyrius is expected).
OUTSIDE_CALL_GENES = frozenset({"CYP2D6"})


@dataclass(frozen=True)
class PositionCall:
    """The sample at one definition position, and what it matched."""

    chrom: str
    position: int
    rsid: str | None
    ref: str
    status: PositionStatus
    sample_alleles: tuple[str | None, ...] = ()  # as the VCF record wrote them
    #: the same alleles in the definition's representation; None = allele no definition knows
    definition_alleles: tuple[str | None, ...] = ()
    phased: bool = False
    vcf_position: int | None = None  # set when the record sat at another position
    treated_as_reference: bool = False  # undocumented allele set to reference (PharmCAT 201)

    @property
    def label(self) -> str:
        return position_label(self.chrom, self.position, self.rsid)

    @property
    def is_missing(self) -> bool:
        return self.status not in ("called", "ignored")


@dataclass(frozen=True)
class DiplotypeCandidate:
    """One viable diplotype (or haplotype, for haploid data) and its PharmCAT score."""

    name: str
    haplotypes: tuple[str, ...]
    score: int


@dataclass
class GeneCall:
    """The result of calling one gene for one sample."""

    gene: str
    diplotypes: list[str] = field(default_factory=list)  # top-scoring calls, PharmCAT order
    best: str | None = None  # the single top call; None when tied or not called
    ambiguous: bool = False
    score: int | None = None
    missing_positions: list[str] = field(default_factory=list)  # "chr10:94781859 rs4244285"
    positions: list[PositionCall] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    phased: bool = False
    #: phase does not change the call: phased data, or unphased with at most one heterozygous
    #: position (PharmCAT's "effectively phased")
    effectively_phased: bool = True
    haploid: bool = False
    status: Status = "no_call"
    candidates: list[DiplotypeCandidate] = field(default_factory=list)  # every viable call
    #: alleles whose every defining position is missing: never tested, cannot be ruled out
    uncallable_alleles: list[str] = field(default_factory=list)
    #: alleles with some defining positions missing: matched on the rest only
    partially_tested_alleles: list[str] = field(default_factory=list)
    #: DPYD unphased list call (PharmCAT): every matched haplotype, repeated when homozygous; set
    #: instead of ``diplotypes`` when two or more variant haplotypes cannot be put on gene copies
    haplotypes: list[str] = field(default_factory=list)
    extra_positions: list[PositionCall] = field(default_factory=list)
    definition_version: str = ""

    @property
    def called(self) -> bool:
        return bool(self.diplotypes) or bool(self.haplotypes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Definitions compiled for matching (cached per GeneDefinition object)


@dataclass(frozen=True)
class _Allele:
    allele: NamedAllele
    #: per locus the definition strings this allele accepts; None = undefined (filled later)
    accepts: tuple[frozenset[str] | None, ...]
    defined: tuple[int, ...]  # loci with a non-null cell
    nonfill: tuple[int, ...]  # defined loci where it differs from the reference fill


@dataclass(frozen=True)
class _Compiled:
    definition: GeneDefinition
    vocab: tuple[frozenset[str], ...]  # concrete allele strings the definitions use, per locus
    fill: tuple[frozenset[str], ...]  # the reference allele's base(s), per locus
    alleles: tuple[_Allele, ...]  # callable alleles, reference first


_COMPILED: dict[int, _Compiled] = {}


def _accepts(value: str) -> frozenset[str]:
    return IUPAC[value] if is_wobble(value) else frozenset({value})


def _compile(definition: GeneDefinition) -> _Compiled:
    cached = _COMPILED.get(id(definition))
    if cached is not None and cached.definition is definition:
        return cached
    ref_allele = definition.reference_allele
    vocab: list[frozenset[str]] = []
    fill: list[frozenset[str]] = []
    for i, locus in enumerate(definition.loci):
        words = {locus.ref, *locus.alts}
        for na in definition.named_alleles:
            value = na.alleles[i]
            if value is not None:
                words |= _accepts(value)
        vocab.append(frozenset(words))
        ref_value = ref_allele.alleles[i]
        fill.append(frozenset({locus.ref if ref_value is None or is_wobble(ref_value) else ref_value}))
    callable_alleles = sorted(definition.callable_alleles, key=lambda a: (not a.reference, allele_sort_key(a.name)))
    alleles = []
    for na in callable_alleles:
        accepts = tuple(None if v is None else _accepts(v) for v in na.alleles)
        nonfill = tuple(i for i, acc in enumerate(accepts) if acc is not None and acc != fill[i])
        alleles.append(_Allele(na, accepts, na.defined_indexes, nonfill))
    compiled = _Compiled(definition, tuple(vocab), tuple(fill), tuple(alleles))
    _COMPILED[id(definition)] = compiled
    return compiled


# --------------------------------------------------------------------------------------------
# Reading the sample's genotypes at the definition positions


def _left_shift(pos: int, ref: str, alt: str, known: Mapping[int, str]) -> tuple[int, str, str]:
    """Left-align a normalised indel through the reference bases in ``known`` (Tan et al. 2015)."""
    while True:
        if len(ref) == 1 and len(alt) > 1 and alt[0] == ref:  # insertion of alt[1:] after pos
            inserted = alt[1:]
            before = known.get(pos - 1)
            if before is None or inserted[-1] != ref:
                break
            pos, ref, alt = pos - 1, before, before + ref + inserted[:-1]
        elif len(alt) == 1 and len(ref) > 1 and ref[0] == alt:  # deletion of ref[1:]
            deleted = ref[1:]
            before = known.get(pos - 1)
            if before is None or deleted[-1] != alt:
                break
            pos, ref, alt = pos - 1, before + alt + deleted[:-1], before
        else:
            break
    return pos, ref, alt


def _variant_key(chrom: str, pos: int, ref: str, alt: str, known: Mapping[int, str]) -> tuple[int, str, str]:
    allele = normalize(chrom, pos, ref, alt)
    p, r, a = allele.pos, allele.ref, allele.alt
    if len(r) != len(a):
        p, r, a = _left_shift(p, r, a, known)
    return (p, r, a)


def _known_bases(*records: tuple[int, str]) -> dict[int, str]:
    known: dict[int, str] = {}
    for start, seq in records:
        for offset, base in enumerate(seq.upper()):
            known.setdefault(start + offset, base)
    return known


def _translate(locus: VariantLocus, vocab: frozenset[str], g: Genotype, allele: str) -> str | None:
    """Express one sample allele in the definition's representation (None if unknown)."""
    allele = allele.upper()
    g_ref = g.ref.upper()
    if allele == g_ref:
        return locus.ref
    if g.pos == locus.position and g_ref == locus.ref and allele in vocab:
        return allele
    if not allele.isalpha():  # "*" (spanning deletion), "<DEL>" and other symbolic alleles
        return None
    known = _known_bases((locus.position, locus.ref), (g.pos, g_ref))
    key = _variant_key(locus.chrom, g.pos, g_ref, allele, known)
    for word in vocab:
        if (
            word != locus.ref
            and len(word) >= 1
            and not is_wobble(word)
            and _variant_key(locus.chrom, locus.position, locus.ref, word, known) == key
        ):
            return word
    return None


def _find_record(
    locus: VariantLocus,
    vocab: frozenset[str],
    genotypes: Mapping[tuple[str, int], Genotype],
    exact_keys: frozenset[tuple[str, int]],
) -> Genotype | None:
    """The record for a locus: at its position, or (for indels) a record elsewhere whose
    normalised ALT equals one of the definition's ALTs."""
    g = genotypes.get(locus.key)
    if g is not None or locus.is_snv:
        return g
    window = range(locus.position - 50, locus.position + len(locus.ref) + 50)
    for key, other in genotypes.items():
        if key in exact_keys or key[0] != locus.chrom or key[1] not in window:
            continue
        if any(
            a is not None
            and a.upper() != other.ref.upper()
            and _translate(locus, vocab, other, a) not in (None, locus.ref)
            for a in other.alleles
        ):
            return other
    return None


@dataclass
class _Sample:
    """The sample's alleles at the available (called, not ignored) positions."""

    positions: list[PositionCall]
    alleles: dict[int, tuple[str, ...]]  # locus index -> definition-representation alleles
    phased_flags: dict[int, bool]
    missing: list[int]
    ignored: list[int]
    warnings: list[str]

    @property
    def available(self) -> list[int]:
        return sorted(self.alleles)

    @property
    def haploid(self) -> bool:
        return bool(self.alleles) and all(len(a) == 1 for a in self.alleles.values())

    @property
    def het_positions(self) -> list[int]:
        return [i for i, a in self.alleles.items() if len(set(a)) > 1]

    @property
    def phased(self) -> bool:
        """Phased in PharmCAT's sense: every available genotype carries phase."""
        return bool(self.alleles) and all(self.phased_flags[i] for i in self.alleles)

    @property
    def hets_phased(self) -> bool:
        return all(self.phased_flags[i] for i in self.het_positions)


def _read_sample(compiled: _Compiled, genotypes: Mapping[tuple[str, int], Genotype]) -> _Sample:
    definition = compiled.definition
    ignored_keys = definition.ignored_position_keys
    exact_keys = frozenset(v.key for v in definition.loci if v.key in genotypes)
    sample = _Sample([], {}, {}, [], [], [])
    for i, locus in enumerate(definition.loci):
        vocab = compiled.vocab[i]
        base: dict[str, Any] = dict(chrom=locus.chrom, position=locus.position, rsid=locus.rsid, ref=locus.ref)
        if locus.key in ignored_keys:
            sample.ignored.append(i)
            sample.positions.append(PositionCall(**base, status="ignored"))
            continue
        g = _find_record(locus, vocab, genotypes, exact_keys)
        if g is None:
            sample.missing.append(i)
            sample.positions.append(PositionCall(**base, status="missing"))
            continue
        raw = tuple(g.alleles)
        where = None if g.pos == locus.position else g.pos
        common: dict[str, Any] = dict(base, sample_alleles=raw, phased=g.phased, vcf_position=where)
        if g.is_no_call or not raw:
            sample.missing.append(i)
            sample.positions.append(PositionCall(**common, status="no_call"))
            continue
        if any(a is None for a in raw):
            sample.missing.append(i)
            sample.positions.append(PositionCall(**common, status="half_call"))
            sample.warnings.append(f"{locus.label}: half call {_gt(raw)} treated as missing")
            continue
        if g.pos == locus.position and not (g.ref.upper().startswith(locus.ref) or locus.ref.startswith(g.ref.upper())):
            sample.missing.append(i)
            sample.positions.append(PositionCall(**common, status="ref_mismatch"))
            sample.warnings.append(
                f"{locus.label}: VCF REF {g.ref} does not match the GRCh38 definition REF {locus.ref} "
                "(wrong genome build or reference?); position treated as missing"
            )
            continue
        translated = tuple(_translate(locus, vocab, g, a) for a in raw if a is not None)
        as_reference = False
        if any(t is None for t in translated):
            novel = [a for a, t in zip(raw, translated, strict=True) if t is None]
            if definition.gene in TREAT_UNDOCUMENTED_AS_REFERENCE:
                translated = tuple(locus.ref if t is None else t for t in translated)
                as_reference = True
                sample.warnings.append(
                    f"{locus.label}: allele {', '.join(map(str, novel))} is not in any {definition.gene} "
                    "definition; set to reference (PharmCAT treats undocumented variation as reference "
                    f"for {definition.gene})"
                )
            else:
                sample.warnings.append(
                    f"{locus.label}: allele {', '.join(map(str, novel))} is not in any {definition.gene} "
                    "definition; no named allele can match it"
                )
        sample.positions.append(
            PositionCall(**common, status="called", definition_alleles=translated, treated_as_reference=as_reference)
        )
        sample.alleles[i] = tuple(t if t is not None else f"?{a}" for t, a in zip(translated, raw, strict=True))
        sample.phased_flags[i] = g.phased
    if not sample.haploid and any(len(a) == 1 for a in sample.alleles.values()):
        sample.warnings.append(
            f"{definition.gene}: mixed haploid and diploid genotypes; haploid ones treated as homozygous"
        )
        for i, a in list(sample.alleles.items()):
            if len(a) == 1:
                sample.alleles[i] = (a[0], a[0])
    return sample


def _gt(alleles: Sequence[str | None]) -> str:
    return "/".join("." if a is None else a for a in alleles)


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class _Prepared:
    """An allele restricted to the available positions, reference-filled (PharmCAT MatchData)."""

    name: str
    reference: bool
    score: int
    effective: Mapping[int, frozenset[str]]  # positions where it differs from the reference fill
    missing: tuple[int, ...]


def _prepare_alleles(
    compiled: _Compiled,
    sample: _Sample,
    exclude: frozenset[int] = frozenset(),
    skip_names: frozenset[str] = frozenset(),
) -> tuple[list[_Prepared], list[str], list[str]]:
    available = set(sample.alleles) - exclude
    missing = set(sample.missing)
    prepared: list[_Prepared] = []
    uncallable: list[str] = []
    partial: list[str] = []
    for ca in compiled.alleles:
        na = ca.allele
        if na.name in skip_names:
            continue
        defined = [i for i in ca.defined if i not in exclude] if exclude else ca.defined
        score = len(available.intersection(defined))
        lost = tuple(i for i in defined if i in missing) if missing else ()
        if lost and not na.reference:
            (partial if score else uncallable).append(na.name)
        if score == 0 and not na.reference:
            continue
        # nonfill loci are defined ones, whose accepts is never None
        effective = {i: cast(frozenset[str], ca.accepts[i]) for i in ca.nonfill if i in available}
        prepared.append(_Prepared(na.name, na.reference, score, effective, lost))
    return prepared, uncallable, partial


def _viable_diplotypes(
    compiled: _Compiled,
    sample: _Sample,
    alleles: list[_Prepared],
    exclude: frozenset[int] = frozenset(),
) -> list[tuple[_Prepared, _Prepared | None, bool]]:
    """Every viable (allele1, allele2, strand1-is-allele1) pair; allele2 None for haploid data.

    Per-allele checks touch only the allele's own (non-fill) positions; away from them an
    allele is the reference, which fits wherever the sample carries a reference allele. The
    unphased pair test is a bitmask test over the heterozygous positions: at each one, one
    allele must take the first sample allele and the other the second.
    """
    fill = compiled.fill
    genotype = {i: a for i, a in sample.alleles.items() if i not in exclude}
    haploid = bool(genotype) and all(len(a) == 1 for a in genotype.values())

    def fits(p: _Prepared, values: Mapping[int, str], off_reference: set[int]) -> bool:
        return off_reference <= p.effective.keys() and all(values[i] in acc for i, acc in p.effective.items())

    if haploid:
        values = {i: a[0] for i, a in genotype.items()}
        off_reference = {i for i, k in values.items() if k not in fill[i]}
        return [(p, None, True) for p in alleles if fits(p, values, off_reference)]

    diploid = {i: (a[0], a[-1]) for i, a in genotype.items()}
    # positions where neither strand carries the reference: an allele must be defined there
    no_ref = {i for i, (k1, k2) in diploid.items() if k1 not in fill[i] and k2 not in fill[i]}
    candidates = [
        p
        for p in alleles
        if no_ref <= p.effective.keys()
        and all(diploid[i][0] in acc or diploid[i][1] in acc for i, acc in p.effective.items())
    ]
    hets = [i for i, (k1, k2) in diploid.items() if k1 != k2]
    out: list[tuple[_Prepared, _Prepared | None, bool]] = []
    if all(sample.phased_flags[i] for i in hets):
        strands = [{i: k[s] for i, k in diploid.items()} for s in (0, 1)]
        off = [{i for i, k in strands[s].items() if k not in fill[i]} for s in (0, 1)]
        on = [[p for p in candidates if fits(p, strands[s], off[s])] for s in (0, 1)]
        seen: set[tuple[str, ...]] = set()
        for a in on[0]:
            for b in on[1]:
                key = tuple(sorted((a.name, b.name)))
                if key not in seen:
                    seen.add(key)
                    out.append((a, b, True))
        return out
    bit = {i: 1 << n for n, i in enumerate(hets)}
    full = (1 << len(hets)) - 1
    fill1 = sum(bit[i] for i in hets if diploid[i][0] in fill[i])
    fill2 = sum(bit[i] for i in hets if diploid[i][1] in fill[i])
    masks: list[tuple[int, int]] = []
    for p in candidates:
        own = [i for i in p.effective if i in bit]
        m1, m2 = fill1, fill2
        for i in own:
            acc = p.effective[i]
            m1 = (m1 | bit[i]) if diploid[i][0] in acc else (m1 & ~bit[i])
            m2 = (m2 | bit[i]) if diploid[i][1] in acc else (m2 & ~bit[i])
        masks.append((m1, m2))
    for x, a in enumerate(candidates):
        a1, a2 = masks[x]
        for y in range(x, len(candidates)):
            b1, b2 = masks[y]
            if (a1 & b2) | (a2 & b1) == full:
                out.append((a, candidates[y], True))
    return out


def _diplotype_name(names: Iterable[str], reference: str) -> tuple[str, tuple[str, ...]]:
    ordered = tuple(sorted(names, key=lambda n: allele_sort_key(n, reference)))
    return "/".join(ordered), ordered


def _candidates(
    pairs: list[tuple[_Prepared, _Prepared | None, bool]],
    reference: str,
) -> list[DiplotypeCandidate]:
    out: dict[str, DiplotypeCandidate] = {}
    for a, b, _ in pairs:
        names = [a.name] if b is None else [a.name, b.name]
        score = a.score + (b.score if b is not None else 0)
        name, haps = _diplotype_name(names, reference)
        if name not in out or out[name].score < score:
            out[name] = DiplotypeCandidate(name, haps, score)
    return sorted(
        out.values(),
        key=lambda c: (-c.score, tuple(allele_sort_key(h, reference) for h in c.haplotypes)),
    )


# --------------------------------------------------------------------------------------------
# Public entry point


def call_gene(definition: GeneDefinition, genotypes: Mapping[tuple[str, int], Genotype]) -> GeneCall:
    """Call one gene's diplotype from the sample's genotypes at the gene's positions.

    ``genotypes`` is keyed by ``(canonical chrom, VCF position)``; positions absent from it are
    missing, not reference. See the module docstring for the method and its limits.
    """
    compiled = _compile(definition)
    sample = _read_sample(compiled, genotypes)
    call = _base_call(definition, sample)
    call.extra_positions = _extra_positions(definition, genotypes)
    if not sample.alleles:
        call.status = "no_data"
        call.warnings.append(f"{definition.gene}: no genotype at any definition position; not called")
        return call
    if definition.gene == "DPYD":
        return _call_dpyd(compiled, sample, call)
    alleles, call.uncallable_alleles, call.partially_tested_alleles = _prepare_alleles(compiled, sample)
    pairs = _viable_diplotypes(compiled, sample, alleles)
    candidates = _candidates(pairs, definition.reference_allele.name)
    all_hits = bool(definition.exemption and definition.exemption.all_hits)
    _finish(call, candidates, all_hits)
    _missing_warnings(call)
    return call


def call_genes(
    definitions: Mapping[str, GeneDefinition],
    genotypes: Mapping[tuple[str, int], Genotype],
) -> dict[str, GeneCall]:
    """Call every gene; ``genotypes`` may hold all of a sample's PGx positions at once."""
    return {gene: call_gene(d, genotypes) for gene, d in definitions.items()}


def _base_call(definition: GeneDefinition, sample: _Sample) -> GeneCall:
    call = GeneCall(
        gene=definition.gene,
        positions=sample.positions,
        missing_positions=[p.label for p in sample.positions if p.is_missing],
        warnings=list(sample.warnings),
        phased=sample.phased,
        effectively_phased=sample.hets_phased or len(sample.het_positions) <= 1,
        haploid=sample.haploid,
        definition_version=definition.version,
    )
    if definition.gene in OUTSIDE_CALL_GENES:
        call.warnings.append(
            f"{definition.gene}: PharmCAT does not call {definition.gene} from VCF by default; these "
            "definitions hold SNVs/indels only (no deletion *5, duplications or hybrids). Prefer an "
            "outside call."
        )
    return call


def _extra_positions(definition: GeneDefinition, genotypes: Mapping[tuple[str, int], Genotype]) -> list[PositionCall]:
    """Exemption ``extraPositions``: reported with the gene, used by no allele (CYP2C9 rs12777823)."""
    out: list[PositionCall] = []
    for v in definition.exemption.extra_positions if definition.exemption else ():
        g = genotypes.get(v.key)
        if g is None or g.is_no_call:
            out.append(PositionCall(v.chrom, v.position, v.rsid, v.ref, "missing" if g is None else "no_call"))
        else:
            out.append(
                PositionCall(
                    v.chrom, v.position, v.rsid, v.ref, "called", sample_alleles=tuple(g.alleles), phased=g.phased
                )
            )
    return out


def _finish(call: GeneCall, candidates: list[DiplotypeCandidate], all_hits: bool = False) -> None:
    call.candidates = candidates
    if not candidates:
        call.status = "no_call"
        call.warnings.append(
            f"{call.gene}: no pair of defined named alleles explains the genotype (novel allele, "
            "combination or partial allele); not called. Combination/partial calling is not implemented."
        )
        return
    top = candidates[0].score
    chosen = candidates if all_hits else [c for c in candidates if c.score == top]
    call.diplotypes = [c.name for c in chosen]
    call.score = top
    call.best = call.diplotypes[0] if len(call.diplotypes) == 1 else None
    call.ambiguous = len(candidates) > 1
    call.status = "ambiguous" if call.ambiguous else "called"
    if len(chosen) > 1:
        call.warnings.append(
            f"{call.gene}: {len(chosen)} diplotypes tie at score {top}: {', '.join(call.diplotypes[:_MAX_LISTED])}"
        )
    rest = [c.name for c in candidates if c.name not in call.diplotypes]
    if rest and call.best is not None:
        why = "without phased data" if not call.phased else "with the available data"
        shown = ", ".join(rest[:_MAX_LISTED]) + (" ..." if len(rest) > _MAX_LISTED else "")
        call.warnings.append(f"The assigned genotype is {call.best}; however, {shown} cannot be ruled out {why}.")


def _missing_warnings(call: GeneCall) -> None:
    if not call.missing_positions:
        return
    shown = ", ".join(call.missing_positions[:_MAX_LISTED])
    more = f" (+{len(call.missing_positions) - _MAX_LISTED} more)" if len(call.missing_positions) > _MAX_LISTED else ""
    call.warnings.append(
        f"{call.gene}: {len(call.missing_positions)} definition position(s) missing or not called: {shown}{more}; "
        "they were not assumed reference"
    )
    if call.uncallable_alleles:
        call.warnings.append(
            f"{call.gene}: alleles defined only at missing positions could not be tested and cannot be "
            f"ruled out: {', '.join(call.uncallable_alleles[:_MAX_LISTED])}"
            + (" ..." if len(call.uncallable_alleles) > _MAX_LISTED else "")
        )
    if call.partially_tested_alleles:
        call.warnings.append(
            f"{call.gene}: alleles matched on part of their definition only (missing positions): "
            f"{', '.join(call.partially_tested_alleles[:_MAX_LISTED])}"
            + (" ..." if len(call.partially_tested_alleles) > _MAX_LISTED else "")
        )


# --------------------------------------------------------------------------------------------
# DPYD (PharmCAT NamedAlleleMatcher.callDpyd, DpydHapB3Matcher; CPIC PMID 29152729)


def _combo_name(names: Sequence[str], reference: str) -> str:
    parts = sorted(set(names), key=lambda n: allele_sort_key(n, reference))
    if not parts:
        return reference
    return parts[0] if len(parts) == 1 else "[" + " + ".join(parts) + "]"


def _hapb3(compiled: _Compiled, sample: _Sample, call: GeneCall) -> tuple[set[int], str | None, list[bool] | None]:
    """HapB3 loci, the HapB3 allele name and its per-strand presence (None if not assessable)."""
    loci = compiled.definition.loci
    idx = {locus.rsid: i for i, locus in enumerate(loci) if locus.rsid in (HAPB3_INTRONIC_RSID, HAPB3_EXONIC_RSID)}
    hapb3 = next((a.allele for a in compiled.alleles if "(HapB3)" in a.allele.name), None)
    if hapb3 is None or len(idx) < 2:
        return set(), None, None
    intronic, exonic = idx[HAPB3_INTRONIC_RSID], idx[HAPB3_EXONIC_RSID]

    def strands(i: int) -> list[bool]:
        value = hapb3.alleles[i]
        return [a == value for a in sample.alleles[i]]

    have_i, have_e = intronic in sample.alleles, exonic in sample.alleles
    if not have_i and not have_e:
        return set(idx.values()), hapb3.name, None
    if have_i:
        flags = strands(intronic)
        if have_e and sum(strands(exonic)) != sum(flags):
            call.warnings.append(
                f"DPYD: HapB3 intronic {HAPB3_INTRONIC_RSID} and exonic {HAPB3_EXONIC_RSID} genotypes "
                "disagree; HapB3 is called from the intronic (causal) variant"
            )
    else:
        flags = strands(exonic)
        call.warnings.append(
            f"DPYD: HapB3 called from exonic {HAPB3_EXONIC_RSID} only; intronic {HAPB3_INTRONIC_RSID} is missing"
        )
    return set(idx.values()), hapb3.name, flags


def _call_dpyd(compiled: _Compiled, sample: _Sample, call: GeneCall) -> GeneCall:
    reference = compiled.definition.reference_allele.name
    hap_loci, hapb3_name, hapb3_flags = _hapb3(compiled, sample, call)
    exclude = frozenset(hap_loci) if hapb3_flags is not None else frozenset()
    skip = frozenset({hapb3_name}) if hapb3_flags is not None and hapb3_name else frozenset()
    alleles, call.uncallable_alleles, call.partially_tested_alleles = _prepare_alleles(compiled, sample, exclude, skip)
    if hapb3_flags is not None:
        call.uncallable_alleles = [n for n in call.uncallable_alleles if n not in skip and "5923C>G" not in n]
    hapb3_count = sum(hapb3_flags) if hapb3_flags else 0
    effectively_phased = call.effectively_phased
    _missing_warnings(call)

    if effectively_phased:
        pairs = _viable_diplotypes(compiled, sample, alleles, exclude)
        if len({c.name for c in _candidates(pairs, reference)}) == 1:
            a, b, _ = pairs[0]
            sides = [[a.name], [b.name if b is not None else a.name]]
        else:
            sides = [list(s) for s in _dpyd_strands(compiled, sample, alleles, exclude, reference)]
            call.warnings.append(
                "DPYD: no single pair of defined alleles fits; each gene copy is reported as the "
                "combination of the variants on it (PharmCAT DPYD combination call)"
            )
        for s, present in enumerate(hapb3_flags or []):
            if present and hapb3_name:
                side = s if sample.hets_phased else (1 if hapb3_count == 1 else s)
                sides[side] = [n for n in sides[side] if n != reference] + [hapb3_name]
        names = [_combo_name([n for n in side if n != reference] or [reference], reference) for side in sides]
        name, haps = _diplotype_name(names, reference)
        score = sum(p.score for p in alleles if p.name in {n for s in sides for n in s})
        _finish(call, [DiplotypeCandidate(name, haps, score)])
        return call

    # Unphased, several heterozygous positions: list the matched haplotypes (PharmCAT); the
    # phenotype uses the two with the lowest activity values (CPIC DPYD guideline).
    matched: list[str] = []
    homozygous: set[str] = set()
    genotype = {i: a for i, a in sample.alleles.items() if i not in exclude}
    for p in alleles:
        if p.reference:
            if all(any(k in compiled.fill[i] for k in a) for i, a in genotype.items()):
                matched.append(p.name)
            continue
        if p.effective and all(any(k in p.effective[i] for k in genotype[i]) for i in p.effective):
            matched.append(p.name)
            if all(all(k in p.effective[i] for k in genotype[i]) for i in p.effective):
                homozygous.add(p.name)
    if len(matched) + hapb3_count > 2:
        matched = [n for n in matched if n != reference]
    haplotypes: list[str] = []
    for n in matched:
        haplotypes += [n, n] if n in homozygous else [n]
    if hapb3_name:
        haplotypes += [hapb3_name] * hapb3_count
    while len(haplotypes) < 2:
        haplotypes.append(reference)
    call.haplotypes = sorted(haplotypes, key=lambda n: allele_sort_key(n, reference))
    call.status = "haplotype_list"
    if reference in call.haplotypes and len(call.haplotypes) == 2:
        # one variant haplotype and the reference: the same diplotype whatever the phase
        name, haps = _diplotype_name(call.haplotypes, reference)
        call.diplotypes, call.best, call.status = [name], name, "called"
        call.candidates = [DiplotypeCandidate(name, haps, 0)]
        call.haplotypes = []
        return call
    # PharmCAT v2.10.0 (docs/methods/Gene-Definition-Exceptions.md, "Unphased data"): no diplotype
    # is called, the detected haplotypes are listed; CPIC presumes two different decreased/no
    # function variants to be on different gene copies when it scores the two lowest.
    call.warnings.append(
        f"DPYD: unphased data with {len(call.haplotypes)} variant haplotypes ({', '.join(call.haplotypes)}); "
        "phase is unknown, so no diplotype is called: the phenotype uses the two with the lowest activity "
        "values (CPIC; PharmCAT DPYD method)"
    )
    return call


def _dpyd_strands(
    compiled: _Compiled,
    sample: _Sample,
    alleles: list[_Prepared],
    exclude: frozenset[int],
    reference: str,
) -> tuple[list[str], list[str]]:
    """The non-reference alleles carried whole on each strand (phased or effectively phased)."""
    genotype = {i: (a[0], a[-1]) for i, a in sample.alleles.items() if i not in exclude}
    sides: tuple[list[str], list[str]] = ([], [])
    for p in alleles:
        if p.reference or not p.effective:
            continue
        for s in (0, 1):
            if all(genotype[i][s] in p.effective[i] for i in p.effective):
                sides[s].append(p.name)
    return (sides[0] or [reference], sides[1] or [reference])

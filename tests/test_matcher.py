"""The patient matcher on the seed releases (or the real ones, once loaded): VCF -> links -> answers.

Every VCF here is written by the test from facts in the data: PGx positions, REF and alleles from
the PharmCAT definition files (seeds/pgx/pharmcat holds them whole), expected phenotypes from the
PharmCAT phenotype tables, knowledge variants (BRAF V600E, BRAF V600, multi-allelic ClinVar sites)
from the graph. Nothing is typed
from memory except the CSQ annotations, which are the VCF's own claims the matcher must trust.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.identity.variants import normalize
from kg.loaders.seeds import default_seed_dir
from kg.matcher.build import CONTIG_LENGTHS, Build, BuildMismatchError
from kg.matcher.errors import VcfError
from kg.matcher.match import delete_patient, match_patient
from kg.matcher.report import MatchReport
from kg.queries.patient_view import find_patient
from kg.queries.pgx import pharmacogenomics
from kg.queries.resolve import UnknownEntity
from kg.queries.therapy import targeted_therapies
from tests.test_vcf_reader import convert

# ---------------------------------------------------------------------------------------------
# Facts from the PharmCAT files


@pytest.fixture(scope="module")
def pharmcat() -> Path:
    """The seeds' PharmCAT folder: complete definitions and tables of its genes, byte for byte
    the release's (seeds/curate.py), so a VCF written from it is one the real release calls alike."""
    return default_seed_dir() / "pgx" / "pharmcat"


def _json(path: Path) -> Any:
    if not path.exists():
        path = path.with_name(path.name + ".gz")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return json.load(fh)


class Pharmcat:
    def __init__(self, root: Path) -> None:
        self.root = root

    def definition(self, gene: str) -> dict[str, Any]:
        return _json(self.root / "definition" / "alleles" / f"{gene}_translation.json")

    def named(self, gene: str, name: str) -> list[str | None]:
        return next(a["alleles"] for a in self.definition(gene)["namedAlleles"] if a["name"] == name)

    def reference_name(self, gene: str) -> str:
        return next(a["name"] for a in self.definition(gene)["namedAlleles"] if a["reference"])

    def locus(self, gene: str, rsid: str) -> dict[str, Any]:
        return next(v for v in self.definition(gene)["variants"] if v["rsid"] == rsid)

    def defining(self, gene: str, name: str) -> list[dict[str, Any]]:
        variants = self.definition(gene)["variants"]
        return [variants[i] for i, a in enumerate(self.named(gene, name)) if a is not None]

    def row(self, gene: str, source: str, *alleles: str) -> dict[str, Any]:
        """The phenotype-table row of a diplotype (matched on its diplotypekey)."""
        key: dict[str, int] = {}
        for a in alleles:
            key[a] = key.get(a, 0) + 1
        table = _json(self.root / "phenotype" / source.lower() / f"{gene}.json")
        return next(r for r in table["diplotypes"] if r["diplotypekey"] == key)

    def lookup(self, gene: str, source: str, *alleles: str) -> str:
        return f"{gene}:{self.row(gene, source, *alleles)['lookupkey']}"


@pytest.fixture(scope="module")
def pc(pharmcat: Path) -> Pharmcat:
    return Pharmcat(pharmcat)


@pytest.fixture(scope="module")
def real_pc(data_dir: Path) -> Pharmcat:
    """The real PharmCAT release's files: genes the seeds lack (CYP2D6, the HLA genes)."""
    return Pharmcat(data_dir / "pgx" / "pharmcat")


# ---------------------------------------------------------------------------------------------
# Writing VCFs


@dataclass(frozen=True)
class Rec:
    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]  # () writes ALT "."
    gt: str
    id: str = "."
    info: str = "."


CSQ_HEADER = (
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
    'Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|HGVSc|HGVSp">'
)


def vcf_text(
    records: list[Rec],
    *,
    plain: bool = False,
    build: Build = Build.GRCH38,
    sample: str = "S1",
    formats: str = "GT:DP",
    annotated: bool = False,
) -> str:
    def name(chrom: str) -> str:
        return chrom[3:] if plain else chrom

    lines = ["##fileformat=VCFv4.2", f"##reference={build.value}"]
    lengths = CONTIG_LENGTHS[build]
    for chrom in sorted({r.chrom for r in records} | {"chr1"}, key=_chrom_order):
        lines.append(f"##contig=<ID={name(chrom)},length={lengths[chrom]}>")
    if annotated:
        lines.append(CSQ_HEADER)
    if "GT" in formats:
        lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    lines.append('##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">')
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]))
    for r in sorted(records, key=lambda r: (_chrom_order(r.chrom), r.pos)):
        sample_value = f"{r.gt}:33" if formats == "GT:DP" else "33"
        lines.append(
            "\t".join(
                [
                    name(r.chrom),
                    str(r.pos),
                    r.id,
                    r.ref,
                    ",".join(r.alts) or ".",
                    "50",
                    "PASS",
                    r.info,
                    formats,
                    sample_value,
                ]
            )
        )
    return "\n".join(lines) + "\n"


def _chrom_order(chrom: str) -> tuple[int, str]:
    tail = chrom[3:]
    return (int(tail), "") if tail.isdigit() else (100, tail)


def _concrete(allele: str | None, variant: dict[str, Any]) -> str:
    """A definition cell as a VCF would carry it: empty cells and IUPAC codes are REF."""
    if allele is None or (len(allele) == 1 and allele not in "ACGT"):
        return variant["ref"]
    return allele


def pgx_records(
    pc: Pharmcat,
    gene: str,
    hap1: str,
    hap2: str,
    *,
    drop: tuple[str, ...] = (),
    phased: bool = False,
    ref_alt: str = "first",
) -> list[Rec]:
    """A record at every definition position of ``gene`` for a sample carrying hap1/hap2.

    Homozygous-reference positions get the definition's first ALT with GT 0/0 (``ref_alt="first"``)
    or ALT ``.`` (``ref_alt="dot"``); rsids in ``drop`` are left out (absent = no-call).
    """
    a1, a2 = pc.named(gene, hap1), pc.named(gene, hap2)
    out = []
    for i, v in enumerate(pc.definition(gene)["variants"]):
        if v["rsid"] in drop:
            continue
        c1, c2 = _concrete(a1[i], v), _concrete(a2[i], v)
        alts: list[str] = []
        for c in (c1, c2):
            if c != v["ref"] and c not in alts:
                alts.append(c)
        if not alts and ref_alt == "first":
            alts = [v["alts"][0]]

        def index(c: str, ref: str = v["ref"], alts: list[str] = alts) -> int:
            return 0 if c == ref else alts.index(c) + 1

        gt = f"{index(c1)}{'|' if phased else '/'}{index(c2)}"
        out.append(Rec(v["chromosome"], v["position"], v["ref"], tuple(alts), gt, v["rsid"] or "."))
    return out


# ---------------------------------------------------------------------------------------------
# Graph facts and reading back


def variant_named(graph: Graph, name: str) -> dict[str, Any]:
    rows = graph.read("MATCH (v:Variant {name: $name}) RETURN v {.*} AS v ORDER BY v.id", name=name)
    assert rows, f"no Variant named {name!r} in the graph"
    return rows[0]["v"]


def links(graph: Graph, patient: str) -> dict[str, list[dict[str, Any]]]:
    """HAS_VARIANT links (their stored properties) by knowledge Variant id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in graph.read(
        "MATCH (:Patient {id: $id})-[hv:HAS_VARIANT]->(v:Variant) "
        "RETURN v.id AS id, properties(hv) AS link ORDER BY v.id",
        id=patient,
    ):
        out.setdefault(row["id"], []).append(row["link"])
    return out


def diplotypes(graph: Graph, patient: str, gene: str) -> list[dict[str, Any]]:
    rows = graph.read(
        "MATCH (:Patient {id: $id})-[r:HAS_DIPLOTYPE]->(ph:Phenotype) WHERE r.gene = $gene "
        "RETURN ph.id AS phenotype, properties(r) AS link ORDER BY ph.id",
        id=patient,
        gene=gene,
    )
    return [{"phenotype": r["phenotype"], **r["link"]} for r in rows]


def traces(graph: Graph, patient: str) -> int:
    """Patient nodes with this id plus relationships touching them."""
    row = graph.read(
        "OPTIONAL MATCH (p:Patient {id: $id}) RETURN count(p) AS n, COUNT { (p)--() } AS rels", id=patient
    )[0]
    return row["n"] + row["rels"]


Match = Callable[..., MatchReport]


@pytest.fixture
def match(seeded: Graph, tmp_path: Path) -> Iterator[Match]:
    """``match(records, **vcf_options, patient=..., **match_options)``: write, match, clean up."""
    created: list[str] = []

    def run(
        records: list[Rec],
        *,
        patient: str | None = None,
        name: str = "p.vcf",
        vcf_options: dict[str, Any] | None = None,
        **options: Any,
    ) -> MatchReport:
        path = tmp_path / name
        path.write_text(vcf_text(records, **(vcf_options or {})))
        patient = patient or f"test-matcher-{uuid.uuid4().hex[:8]}"
        created.append(patient)
        return match_patient(seeded, path, patient_id=patient, **options)

    yield run
    for patient in created:
        delete_patient(seeded, patient)


# ---------------------------------------------------------------------------------------------
# CYP2C19


@pytest.mark.parametrize(("hap1", "hap2"), [("*1", "*2"), ("*2", "*2"), ("*17", "*17")])
def test_cyp2c19_diplotype_and_phenotype(match: Match, seeded: Graph, pc: Pharmcat, hap1: str, hap2: str) -> None:
    report = match(pgx_records(pc, "CYP2C19", hap1, hap2))
    expected = {pc.lookup("CYP2C19", "CPIC", hap1, hap2), pc.lookup("CYP2C19", "DPWG", hap1, hap2)}
    edges = diplotypes(seeded, report.patient, "CYP2C19")
    assert {e["phenotype"] for e in edges} == expected
    for e in edges:
        assert e["diplotype"] == f"{hap1}/{hap2}" and e["status"] == "called" and not e["ambiguous"]
        assert e["source"] == "vcf" and not e.get("missingPositions")
        # one edge when CPIC and DPWG agree, otherwise one per guideline
        assert e.get("guideline") is None if len(expected) == 1 else e["guideline"] in ("CPIC", "DPWG")
    gene = next(g for g in report.genes if g.gene == "CYP2C19")
    assert gene.diplotype == f"{hap1}/{hap2}" and not gene.ambiguous
    # the defining alleles the sample carries are HAS_VARIANT exact links
    for v in pc.defining("CYP2C19", hap2):
        allele = normalize(
            v["chromosome"],
            v["position"],
            v["ref"],
            _concrete(pc.named("CYP2C19", hap2)[pc.definition("CYP2C19")["variants"].index(v)], v),
        )
        if allele.ref != allele.alt:
            assert links(seeded, report.patient)[allele.id][0]["matchLevel"] == "exact"


def test_cyp2c19_star38_is_reference_and_dot_alt_records_are_calls(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    """*38 is the GRCh38 reference allele in PharmCAT 2.10 (*1 differs at rs3758581); homozygous
    reference records written with ALT '.' still count as called positions."""
    assert pc.reference_name("CYP2C19") == "*38"
    report = match(pgx_records(pc, "CYP2C19", "*38", "*38", ref_alt="dot"))
    gene = next(g for g in report.genes if g.gene == "CYP2C19")
    assert gene.diplotype == "*38/*38" and gene.status == "called" and not gene.missing_positions
    assert {e["phenotype"] for e in diplotypes(seeded, report.patient, "CYP2C19")} == {
        pc.lookup("CYP2C19", "CPIC", "*38", "*38")
    }


def test_cyp2c19_missing_position_is_ambiguous_never_reference(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    missing = pc.locus("CYP2C19", "rs4244285")  # one of *2's defining positions
    assert missing in pc.defining("CYP2C19", "*2")
    report = match(pgx_records(pc, "CYP2C19", "*1", "*2", drop=("rs4244285",)))
    label = f"{missing['chromosome']}:{missing['position']} rs4244285"
    edges = diplotypes(seeded, report.patient, "CYP2C19")
    assert edges and all(e["ambiguous"] and label in e["missingPositions"] for e in edges)
    candidates = edges[0]["candidates"]
    assert "*1/*2" in candidates and len(candidates) > 1
    # one edge per distinct phenotype of the candidates; here they all mean the same phenotype, so
    # the recommendation is determined although the diplotype is not
    expected = set()
    for name in candidates:
        for source in ("CPIC", "DPWG"):
            with contextlib.suppress(StopIteration):
                expected.add(pc.lookup("CYP2C19", source, *name.split("/")))
    assert {e["phenotype"] for e in edges} == expected
    cpic = next(a for a in pharmacogenomics(seeded, report.patient, "clopidogrel") if a.guideline == "CPIC")
    assert cpic.state == ("RECOMMENDATION" if len(expected) == 1 else "AMBIGUOUS")


# ---------------------------------------------------------------------------------------------
# DPYD, TPMT, UGT1A1, VKORC1


def test_dpyd_activity_score(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    variant = "c.1905+1G>A (*2A)"
    report = match(pgx_records(pc, "DPYD", "Reference", variant))
    cpic = pc.row("DPYD", "CPIC", "Reference", variant)
    edges = {e["phenotype"]: e for e in diplotypes(seeded, report.patient, "DPYD")}
    assert f"DPYD:{cpic['lookupkey']}" in edges
    assert float(edges[f"DPYD:{cpic['lookupkey']}"]["activityScore"]) == float(cpic["activityScore"])
    assert pc.lookup("DPYD", "DPWG", "Reference", variant) in edges
    answer = pharmacogenomics(seeded, report.patient, "fluorouracil")
    cpic_answer = next(a for a in answer if a.guideline == "CPIC")
    assert cpic_answer.state == "RECOMMENDATION"
    assert all(r.lookup_key == {"DPYD": cpic["lookupkey"]} for r in cpic_answer.recommendations)


def test_tpmt_unphased_double_heterozygote_links_both_phenotypes(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    report = match(pgx_records(pc, "TPMT", "*1", "*3A"))
    edges = diplotypes(seeded, report.patient, "TPMT")
    one, other = pc.lookup("TPMT", "CPIC", "*1", "*3A"), pc.lookup("TPMT", "CPIC", "*3B", "*3C")
    assert one != other
    assert {one, other} <= {e["phenotype"] for e in edges}
    assert all(e["ambiguous"] and {"*1/*3A", "*3B/*3C"} <= set(e["candidates"]) for e in edges)
    phased = match(pgx_records(pc, "TPMT", "*1", "*3A", phased=True))
    phased_edges = diplotypes(seeded, phased.patient, "TPMT")
    assert one in {e["phenotype"] for e in phased_edges} and other not in {e["phenotype"] for e in phased_edges}
    assert not any(e["ambiguous"] for e in phased_edges)


def test_ugt1a1_star28_indel(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    (locus,) = pc.defining("UGT1A1", "*28")
    report = match(pgx_records(pc, "UGT1A1", "*1", "*28"))
    assert next(g for g in report.genes if g.gene == "UGT1A1").diplotype == "*1/*28"
    edges = {e["phenotype"]: e for e in diplotypes(seeded, report.patient, "UGT1A1")}
    assert pc.lookup("UGT1A1", "CPIC", "*1", "*28") in edges
    # the TA insertion, normalised, is the graph's Variant
    alt = pc.named("UGT1A1", "*28")[pc.definition("UGT1A1")["variants"].index(locus)]
    allele = normalize(locus["chromosome"], locus["position"], locus["ref"], alt)
    assert links(seeded, report.patient)[allele.id][0]["zygosity"] == "heterozygous"
    # DPWG files irinotecan under the diplotype itself
    diplotype_keyed = seeded.read("MATCH (p:Phenotype {id: 'UGT1A1:*1/*28'}) RETURN p.diplotypeKey AS k")
    if diplotype_keyed:
        assert edges["UGT1A1:*1/*28"]["guideline"] == "DPWG"


def test_vkorc1_rs9923231(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    (locus,) = pc.definition("VKORC1")["variants"]
    assert locus["rsid"] == "rs9923231"
    reference = pc.reference_name("VKORC1")
    variant = next(a["name"] for a in pc.definition("VKORC1")["namedAlleles"] if not a["reference"])
    report = match(pgx_records(pc, "VKORC1", reference, variant))
    edges = diplotypes(seeded, report.patient, "VKORC1")
    assert {e["phenotype"] for e in edges} == {pc.lookup("VKORC1", "DPWG", reference, variant)}


def test_genes_without_positions_are_no_result_with_the_missing_positions(
    match: Match, seeded: Graph, pc: Pharmcat
) -> None:
    report = match(pgx_records(pc, "CYP2C19", "*1", "*1"))
    (tpmt,) = diplotypes(seeded, report.patient, "TPMT")
    assert tpmt["phenotype"] == "TPMT:No Result" and tpmt["status"] == "no_data"
    assert len(tpmt["missingPositions"]) == len(pc.definition("TPMT")["variants"])


@pytest.mark.realdata
def test_cyp2d6_without_an_outside_call_is_no_result(match: Match, real_data: Graph, pc: Pharmcat) -> None:
    """CYP2D6 (no PharmCAT definition positions; in the real release, not the seeds) needs an outside call."""
    report = match(pgx_records(pc, "CYP2C19", "*1", "*1"))
    (cyp2d6,) = diplotypes(real_data, report.patient, "CYP2D6")
    assert cyp2d6["phenotype"] == "CYP2D6:No Result" and cyp2d6["status"] == "outside call needed"
    answer = next(a for a in pharmacogenomics(real_data, report.patient, "codeine") if a.guideline == "CPIC")
    assert answer.state != "RECOMMENDATION" or all("CYP2D6:No Result" in r.phenotypes for r in answer.recommendations)


@pytest.mark.realdata
def test_outside_calls(match: Match, real_data: Graph, real_pc: Pharmcat, tmp_path: Path) -> None:
    """CYP2D6 and HLA-B phenotypes are in the real PharmCAT release, not in the seeds."""
    seeded, pc = real_data, real_pc
    hla = seeded.read(
        "MATCH (p:Phenotype {gene: 'HLA-B'}) WHERE p.id ENDS WITH ' positive' RETURN p.id AS id ORDER BY id LIMIT 1"
    )[0]["id"]
    allele = hla.split(":", 1)[1].removesuffix(" positive")
    calls = tmp_path / "outside.tsv"
    calls.write_text(f"CYP2D6\t*1/*4\nHLA-B\t\t{allele} positive\n", encoding="utf-8")
    report = match(pgx_records(pc, "CYP2C19", "*1", "*1"), outside_calls=calls)
    cyp2d6 = diplotypes(seeded, report.patient, "CYP2D6")
    assert pc.lookup("CYP2D6", "CPIC", "*1", "*4") in {e["phenotype"] for e in cyp2d6}
    assert all(e["source"] == "outside call" and e["status"] == "outside call" for e in cyp2d6)
    (hla_b,) = diplotypes(seeded, report.patient, "HLA-B")
    assert hla_b["phenotype"] == hla and hla_b["source"] == "outside call"


# ---------------------------------------------------------------------------------------------
# CIViC: exact, protein, codon, gene


def _braf_v600e(graph: Graph) -> dict[str, Any]:
    v = variant_named(graph, "BRAF V600E")
    assert v["kind"] == "exact"
    return v


def test_braf_v600e_exact_codon_gene_and_therapy(match: Match, seeded: Graph) -> None:
    v = _braf_v600e(seeded)
    codon = variant_named(seeded, "BRAF V600")
    report = match([Rec(v["chrom"], v["pos"], v["ref"], (v["alt"],), "0/1")], disease="melanoma")
    got = links(seeded, report.patient)
    assert got[v["id"]][0]["matchLevel"] == "exact" and got[v["id"]][0]["observed"] == v["id"]
    assert got[codon["id"]][0]["matchLevel"] == "codon" and got[codon["id"]][0]["observed"] == v["id"]
    mutation = seeded.read("MATCH (m:Variant {gene: 'BRAF', kind: 'gene', categoryType: 'mutation'}) RETURN m.id AS id")
    for row in mutation:
        assert got[row["id"]][0]["matchLevel"] == "gene"
    assert {m.match_level for m in report.variants} >= {"exact", "codon"}
    assert got[v["id"]][0]["zygosity"] == "heterozygous" and got[v["id"]][0]["genotype"] == f"{v['ref']}/{v['alt']}"
    answers = targeted_therapies(seeded, report.patient, "melanoma")
    assert any("vemurafenib" in {d.id for d in a.drugs} and a.direction == "supports" for a in answers)
    assert any("codon" in a.match_levels for a in answers)
    assert find_patient(seeded, report.patient).conditions[0].id == report.disease["id"]


def test_annotated_allele_matches_at_protein_codon_and_gene_level(match: Match, seeded: Graph) -> None:
    """BRAF V600E from the other codon (GTG>GAA, c.1799_1800delinsAA: genomic CA>TT where the graph
    has V600D CA>AT): the VEP annotation gives the protein change, so it meets CIViC's V600E at
    protein level and BRAF V600 at codon level."""
    v600e, v600d = _braf_v600e(seeded), variant_named(seeded, "BRAF V600D")
    csq = (
        "CSQ=TT|missense_variant|MODERATE|BRAF|ENSG00000157764|Transcript|ENST00000646891|protein_coding|"
        "ENST00000646891.2:c.1799_1800delinsAA|ENSP00000493543.1:p.Val600Glu"
    )
    record = Rec(v600d["chrom"], v600d["pos"], v600d["ref"], ("TT",), "0/1", info=csq)
    report = match([record], vcf_options={"annotated": True})
    got = links(seeded, report.patient)
    assert [link["matchLevel"] for link in got[v600e["id"]]] == ["protein"]
    assert got[v600e["id"]][0]["observed"] == normalize(record.chrom, record.pos, record.ref, "TT").id
    assert got[variant_named(seeded, "BRAF V600")["id"]][0]["matchLevel"] == "codon"
    assert v600d["id"] not in got
    assert report.reading["geneSpans"] > 0 and report.reading["annotated"] == ["CSQ"]


def test_annotated_vcf_reads_gene_spans(match: Match, seeded: Graph) -> None:
    """A protein-altering allele anywhere in KRAS (not at a knowledge position) meets KRAS Mutation."""
    from kg.matcher.knowledge import SPAN_PADDING

    kras = seeded.read(
        "MATCH (v:Variant {gene: 'KRAS'}) WHERE v.kind = 'exact' RETURN v.chrom AS chrom, min(v.pos) AS first"
    )[0]
    # inside the span's padding, where no knowledge position is near
    pos = kras["first"] - SPAN_PADDING // 2
    while seeded.read(
        "MATCH (v:Variant) WHERE v.chrom = $c AND v.pos >= $p - 50 AND v.pos <= $p + 50 RETURN v.id LIMIT 1",
        c=kras["chrom"],
        p=pos,
    ):
        pos += 101
    ref = "A"  # REF is not checked against the genome; the position is what the span test needs
    csq = (
        "CSQ=T|missense_variant|MODERATE|KRAS|ENSG00000133703|Transcript|ENST00000256078|protein_coding||"
        "ENSP00000256078.5:p.Gly13Asp"
    )
    record = Rec(kras["chrom"], pos, ref, ("T",), "0/1", info=csq)
    report = match([record], vcf_options={"annotated": True})
    levels = {m.name: m.match_level for m in report.variants}
    assert levels.get("KRAS Mutation") == "gene"
    assert levels.get("KRAS G13") == "codon"
    plain = match([Rec(kras["chrom"], pos, ref, ("T",), "0/1")])
    assert plain.records_read == 0 and not plain.variants  # no annotation: no span read, nothing to match


def test_unannotated_allele_in_codon_region_is_undetermined(match: Match, seeded: Graph) -> None:
    """A novel allele inside BRAF V600's GRCh38 codon with no annotation: possible, never a hit."""
    codon = variant_named(seeded, "BRAF V600")
    v600d = variant_named(seeded, "BRAF V600D")
    ref = v600d["ref"]  # two reference bases of the codon, as the graph's V600D allele gives them
    known = {
        r["id"]
        for r in seeded.read(
            "MATCH (x:Variant) WHERE x.chrom = $c AND x.pos >= $p AND x.pos <= $p + 3 RETURN x.id AS id",
            c=v600d["chrom"],
            p=v600d["pos"],
        )
    }
    alt = next(
        a for a in (ref[0], ref + "A", ref[0] + "GG") if normalize(v600d["chrom"], v600d["pos"], ref, a).id not in known
    )
    report = match([Rec(v600d["chrom"], v600d["pos"], ref, (alt,), "0/1")])
    assert codon["id"] not in links(seeded, report.patient)
    assert any(u["variant"] == codon["id"] and "no protein change" in u["reason"] for u in report.undetermined)


# ---------------------------------------------------------------------------------------------
# Reading: contigs, multi-allelic, build, broken files


def test_chr_prefixed_and_plain_contigs_match_alike(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    v = _braf_v600e(seeded)
    records = [Rec(v["chrom"], v["pos"], v["ref"], (v["alt"],), "0/1"), *pgx_records(pc, "CYP2C19", "*1", "*2")]
    prefixed = match(records)
    plain = match(records, vcf_options={"plain": True})

    def levels(report: MatchReport) -> set[tuple[str, str]]:
        return {(m.variant, m.match_level) for m in report.variants}

    assert levels(plain) == levels(prefixed)
    assert [(g.gene, g.diplotype) for g in plain.genes] == [(g.gene, g.diplotype) for g in prefixed.genes]
    assert links(seeded, plain.patient).keys() == links(seeded, prefixed.patient).keys()


def test_multiallelic_record_is_split(match: Match, seeded: Graph) -> None:
    site = seeded.read(
        "MATCH (v:Variant) WHERE v.kind = 'exact' AND size(v.ref) = 1 AND size(v.alt) = 1 "
        "WITH v.chrom AS chrom, v.pos AS pos, v.ref AS ref, collect(v.alt) AS alts WHERE size(alts) >= 2 "
        "RETURN chrom, pos, ref, alts[0..2] AS alts ORDER BY chrom, pos LIMIT 1"
    )[0]
    report = match([Rec(site["chrom"], site["pos"], site["ref"], tuple(site["alts"]), "1/2")])
    got = links(seeded, report.patient)
    for alt in site["alts"]:
        (link,) = got[f"GRCh38:{site['chrom']}:{site['pos']}:{site['ref']}:{alt}"]
        assert link["matchLevel"] == "exact" and link["zygosity"] == "heterozygous"
        assert link["genotype"] == "/".join(site["alts"])


def test_grch37_vcf_is_refused_and_nothing_stored(match: Match, seeded: Graph) -> None:
    v = _braf_v600e(seeded)
    with pytest.raises(BuildMismatchError, match="not GRCh38"):
        match(
            [Rec(v["chrom"], v["pos"], v["ref"], (v["alt"],), "0/1")],
            patient="test-matcher-grch37",
            vcf_options={"build": Build.GRCH37},
        )
    assert traces(seeded, "test-matcher-grch37") == 0


def test_truncated_file_fails_cleanly(seeded: Graph, pc: Pharmcat, tmp_path: Path) -> None:
    text = vcf_text(pgx_records(pc, "DPYD", "Reference", "Reference"))
    plain = tmp_path / "whole.vcf"
    plain.write_text(text)
    data = convert(plain, tmp_path / "whole.vcf.gz", "wz").read_bytes()  # BGZF, as bgzip writes it
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: len(data) - 40])
    with pytest.raises(VcfError, match="truncated"):
        match_patient(seeded, cut, patient_id="test-matcher-truncated")
    assert traces(seeded, "test-matcher-truncated") == 0


def test_vcf_without_gt_is_refused(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    with pytest.raises(VcfError, match="GT"):
        match(pgx_records(pc, "CYP2C19", "*1", "*2"), patient="test-matcher-nogt", vcf_options={"formats": "DP"})
    assert traces(seeded, "test-matcher-nogt") == 0


def test_unknown_disease_is_refused_before_reading(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    with pytest.raises(UnknownEntity):
        match(
            pgx_records(pc, "CYP2C19", "*1", "*2"), patient="test-matcher-nodisease", disease="no such disease at all"
        )
    assert traces(seeded, "test-matcher-nodisease") == 0


# ---------------------------------------------------------------------------------------------
# Storing: replace, delete, answers


def test_rematch_replaces_every_link(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    v = _braf_v600e(seeded)
    first = match(
        [Rec(v["chrom"], v["pos"], v["ref"], (v["alt"],), "0/1")], patient="test-matcher-rematch", disease="melanoma"
    )
    assert v["id"] in links(seeded, first.patient)
    second = match(pgx_records(pc, "CYP2C19", "*2", "*2"), patient="test-matcher-rematch")
    got = links(seeded, second.patient)
    assert v["id"] not in got and len(got) == second.stored["variants"]
    count = seeded.read("MATCH (:Patient {id: $id})-[r:HAS_DIPLOTYPE]->() RETURN count(r) AS n", id=second.patient)
    assert count[0]["n"] == second.stored["diplotypes"]
    assert find_patient(seeded, second.patient).conditions == []


def test_delete_removes_every_trace(match: Match, seeded: Graph, pc: Pharmcat, tmp_path: Path) -> None:
    v = _braf_v600e(seeded)
    calls = tmp_path / "outside.tsv"
    calls.write_text("CYP2D6\t*1/*4\n", encoding="utf-8")
    report = match(
        [Rec(v["chrom"], v["pos"], v["ref"], (v["alt"],), "1/1"), *pgx_records(pc, "CYP2C19", "*2", "*2")],
        patient="test-matcher-delete",
        disease="DOID:1909",
        outside_calls=calls,
    )
    assert traces(seeded, report.patient) > 1
    assert delete_patient(seeded, report.patient) is True
    assert traces(seeded, report.patient) == 0
    assert delete_patient(seeded, report.patient) is False


def test_clopidogrel_with_cyp2c19_star2_star2(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    report = match(pgx_records(pc, "CYP2C19", "*2", "*2"))
    poor = pc.row("CYP2C19", "CPIC", "*2", "*2")
    answers = pharmacogenomics(seeded, report.patient, "clopidogrel")
    cpic = next(a for a in answers if a.guideline == "CPIC")
    assert cpic.state == "RECOMMENDATION" and cpic.recommendations
    for rec in cpic.recommendations:
        assert rec.lookup_key == {"CYP2C19": poor["lookupkey"]}
        assert rec.phenotypes == [f"CYP2C19:{poor['lookupkey']}"]
    assert poor["generesult"] == "Poor Metabolizer"


def test_report_is_json_and_counts(match: Match, seeded: Graph, pc: Pharmcat) -> None:
    v = _braf_v600e(seeded)
    report = match([Rec(v["chrom"], v["pos"], v["ref"], (v["alt"],), "0/0"), *pgx_records(pc, "CYP2C19", "*1", "*2")])
    data = json.loads(json.dumps(report.to_dict(), default=str))
    assert data["patient"] == report.patient and data["sample"] == "S1" and data["vcf"] == "p.vcf"
    assert data["build"]["verified"] and data["records_read"] == len(pgx_records(pc, "CYP2C19", "*1", "*2")) + 1
    assert data["skipped"]["not_carried"] >= 1  # BRAF 0/0: a reference call is never matched
    assert v["id"] not in links(seeded, report.patient)
    assert {"open", "knowledge", "read", "match", "pgx", "store", "total"} <= set(data["timings"])
    assert data["variants_matched"] == len(report.variants) and data["genes_called"] >= 1
    assert report.pgx["release"].startswith("pharmcat@") and not report.pgx["skipped"]


def test_cli_match_and_delete(seeded: Graph, pc: Pharmcat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from kg import cli

    monkeypatch.setattr(cli, "_settings", lambda: seeded.settings)
    path = tmp_path / "cli.vcf"
    path.write_text(vcf_text(pgx_records(pc, "CYP2C19", "*2", "*2")))
    runner = CliRunner()
    result = runner.invoke(cli.main, ["match", str(path), "--patient", "test-matcher-cli", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert any(g["gene"] == "CYP2C19" and g["diplotype"] == "*2/*2" for g in data["genes"])
    bad = runner.invoke(cli.main, ["match", str(path), "--patient", "test-matcher-cli", "--sample", "NOPE"])
    assert bad.exit_code == 1 and "nothing was stored" in bad.output
    deleted = runner.invoke(cli.main, ["patient", "delete", "test-matcher-cli"])
    assert deleted.exit_code == 0 and traces(seeded, "test-matcher-cli") == 0


def test_kg_up_links_the_seed_demo_patient(seeded: Graph, capsys: pytest.CaptureFixture[str]) -> None:
    from kg import cli

    existed = find_patient(seeded, "demo") is not None
    cli._match_demo_patient(seeded)
    assert "demo patient:" in capsys.readouterr().out
    calls = {
        row["gene"]: row
        for row in seeded.read(
            "MATCH (:Patient {id: 'demo'})-[r:HAS_DIPLOTYPE]->() RETURN r.gene AS gene, r.diplotype AS diplotype"
        )
    }
    assert calls["CYP2C19"]["diplotype"] == "*2/*2"
    if not existed:
        delete_patient(seeded, "demo")


def test_knowledge_cached_on_disk_is_the_same(seeded: Graph) -> None:
    from kg.matcher import knowledge

    from_graph = knowledge.load_knowledge(seeded, disk=False)
    knowledge.clear_cache()
    knowledge.load_knowledge(seeded, disk=True)  # written (or already there)
    knowledge.clear_cache()
    from_disk = knowledge.load_knowledge(seeded, disk=True)
    assert from_disk.key == from_graph.key and from_disk.exact_positions == from_graph.exact_positions
    assert from_disk.coarse == from_graph.coarse and from_disk.spans == from_graph.spans
    assert from_graph.n_exact_positions > 0 and from_graph.by_gene["BRAF"]


@pytest.mark.realdata
def test_knowledge_of_the_real_releases_covers_every_exact_position(real_data: Graph) -> None:
    from kg.matcher import knowledge

    loaded = knowledge.load_knowledge(real_data, disk=False)
    assert loaded.n_exact_positions > 100_000 and loaded.by_gene["BRAF"]

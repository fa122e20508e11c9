"""CIViC loader: its parsers on the seed files (seeds/civic, whole records of the 01-Aug-2024
release), the active CIViC release in a real Neo4j, and the real release itself (``realdata``).

Counts are the ones ../shared/data/civic/SOURCES.md states; specific facts were read from the
release files (evidence ids quoted in each test). Graph tests that are not about the real release
check the active one (tests/releases.py): the seed subset without ../shared/data, the real release
once loaded, so they name records the seeds hold.
"""

from __future__ import annotations

import gzip
import shutil
from collections import Counter
from pathlib import Path

import pytest

from kg.db import Graph
from kg.loaders import civic
from kg.loaders.civic_files import REQUIRED, find_release, read_vcf_alleles
from kg.loaders.civic_names import classify_variant, parse_profile_name, split_therapies
from kg.loaders.civic_rows import VariantIndex, VariantReader, assertion_rows, evidence_rows, profile_rows
from kg.loaders.errors import SourceFormatError
from kg.loaders.liftover import LiftFailure, Liftover
from kg.loaders.seeds import default_seed_dir
from tests.releases import ActiveRelease, active_release

KEY = "civic@2024-08-01"
SEED_CIVIC = default_seed_dir() / "civic"


# --- names (no data, no database) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "detail"),
    [
        ("V600E", "protein", {"protein_change": "V600E"}),
        ("E746_A750del", "protein", {"protein_change": "E746_A750del"}),
        ("K706FS*19", "protein", {"protein_change": "K706FS*19"}),
        ("L178P (c.532C>T)", "protein", {"protein_change": "L178P"}),
        ("Q157P/R", "protein", {"protein_changes": ("Q157P", "Q157R")}),
        ("H1047L or H1047R", "protein", {"protein_changes": ("H1047L", "H1047R")}),
        ("V600", "codon", {"codons": (600,), "amino_acid_ref": "V"}),
        ("G12/G13", "codon", {"codons": (12, 13), "amino_acid_ref": "G"}),
        ("Mutation", "gene", {"category_type": "mutation"}),
        ("Exon 2 Mutation", "gene", {"category_type": "exon", "exons": (2,)}),
        ("Rare Exon 18-21 Mutation", "gene", {"category_type": "exon", "exons": (18, 19, 20, 21)}),
        ("Exon 19 Deletion", "gene", {"category_type": "exon", "exons": (19,)}),
        ("Amplification", "gene", {"category_type": "copy_number"}),
        ("Deletion", "gene", {"category_type": "copy_number"}),
        ("Fusion", "gene", {"category_type": "fusion"}),
        ("Loss-of-function", "gene", {"category_type": "function"}),
        ("Truncating Mutation", "gene", {"category_type": "truncating"}),
        ("Overexpression", "gene", {"category_type": "expression"}),
        ("Exon 18 Overexpression", "gene", {"category_type": "expression"}),
        ("Wildtype", "gene", {"category_type": "wildtype"}),
        ("EML4::ALK", "other", {"category_type": "fusion", "fusion": "EML4::ALK"}),
        ("PML::RARA A216V", "protein", {"protein_change": "A216V", "fusion": "PML::RARA"}),
        ("RS34743033", "other", {"rsid": "rs34743033"}),
        ("DPYD*2A HOMOZYGOSITY", "other", {"zygosity": "homozygous"}),
        ("c.1641+1dup", "other", {}),
        ("Rare Mutation", "other", {}),
    ],
)
def test_variant_names(name: str, kind: str, detail: dict[str, object]) -> None:
    reading = classify_variant(name)
    assert reading.kind == kind
    for attribute, value in detail.items():
        assert getattr(reading, attribute) == value


def test_profile_names_keep_operators_and_inner_parentheses() -> None:
    expr = parse_profile_name("BRAF Amplification AND ( BRAF V600E OR BRAF V600K )")
    assert expr.tokens == ["BRAF Amplification", "AND", "(", "BRAF V600E", "OR", "BRAF V600K", ")"]
    assert parse_profile_name("MET Amplification AND MET Splice Site (c.3028G>A)").components == [
        "MET Amplification",
        "MET Splice Site (c.3028G>A)",
    ]
    assert parse_profile_name("NOT KIT D816V").negated == {"KIT D816V"}


def test_therapy_names_with_commas_stay_whole() -> None:
    assert split_therapies("Dabrafenib,Trametinib") == ["Dabrafenib", "Trametinib"]
    assert split_therapies("Gefitinib,HER2 Inhibitor CP-724,714,Selumetinib") == [
        "Gefitinib",
        "HER2 Inhibitor CP-724,714",
        "Selumetinib",
    ]
    assert split_therapies("2,4-pyrimidinediamine") == ["2,4-pyrimidinediamine"]
    assert split_therapies("FGF/VEGF Receptor Tyrosine Kinase Inhibitor, PD173074,Infigratinib") == [
        "FGF/VEGF Receptor Tyrosine Kinase Inhibitor, PD173074",
        "Infigratinib",
    ]
    assert split_therapies("") == []


# --- parsers on the seed and the real files (no database) -------------------------------------


@pytest.fixture(scope="module")
def civic_dir(data_dir: Path) -> Path:
    return data_dir / "civic"


def _parse_variants(folder: Path) -> tuple[list[dict], Counter[str], VariantIndex]:
    files = find_release(folder)
    tally: Counter[str] = Counter()
    index = VariantIndex()
    reader = VariantReader(files, Liftover(files.chain), read_vcf_alleles(files.vcf), tally)
    return list(reader.rows(index)), tally, index


@pytest.fixture(scope="module")
def parsed_variants(civic_dir: Path) -> tuple[list[dict], Counter[str], VariantIndex]:
    return _parse_variants(civic_dir)


def test_release_version_from_file_names() -> None:
    assert find_release(SEED_CIVIC).version == "2024-08-01"
    one_file = SEED_CIVIC / "01-Aug-2024-VariantSummaries.tsv"
    assert find_release(one_file).folder == SEED_CIVIC


def test_chain_lifts_braf() -> None:
    lifter = Liftover(SEED_CIVIC / "hg19ToHg38.over.chain.gz")  # the real chain's blocks around the seed alleles
    braf = lifter.lift_allele("7", 140453136, "A")
    assert not isinstance(braf, LiftFailure) and (braf.chrom, braf.pos) == ("chr7", 140753336)
    assert isinstance(lifter.lift_allele("1", 5000, "A"), LiftFailure)  # before the first chr1 chain


@pytest.mark.realdata
def test_real_chain_keeps_jak2_and_release_facts_outside_the_seeds(
    civic_dir: Path, real_civic: Graph, parsed_variants: tuple[list[dict], Counter[str], VariantIndex]
) -> None:
    """The real release's instances of what the seeds test: an exon category, a drug name with a
    comma, an indel and an insertion without a VCF record, a negated profile member, every
    evidence item and assertion on the CIViC-only "Solid Tumor"."""
    jak2 = Liftover(civic_dir / "hg19ToHg38.over.chain.gz").lift_allele("9", 5073770, "G")
    assert not isinstance(jak2, LiftFailure) and jak2.pos == 5073770
    exon19 = real_civic.read("MATCH (v:Variant {id: 'civic:variant:133'}) RETURN v{.*} AS v")[0]["v"]
    assert (exon19["kind"], exon19["categoryType"], exon19["exons"], exon19["gene"]) == ("gene", "exon", [19], "EGFR")
    assert "pos" not in exon19 and exon19["chrom"] == "chr7"  # a lifted region, not an allele
    assert real_civic.read("MATCH (d:Drug {id: 'her2 inhibitor cp-724,714'}) RETURN count(d) AS n")[0]["n"] == 1
    rows = {r["civicVariantId"]: r for r in parsed_variants[0]}
    deletion = rows[762]  # MSH2 V273FS: TSV 2:47641433 T>- ; VCF 2:47641432 GT>G
    assert deletion["coordinateSource"] == "civic_accepted.vcf"
    assert (deletion["ref"], deletion["alt"], deletion["grch37Ref"], deletion["grch37Alt"]) == ("GT", "G", "T", None)
    kit = rows[1558]  # KIT A502_Y503insAY: an insertion with no VCF record
    assert kit["id"] == "civic:variant:1558" and "anchor base" in kit["reason"]
    negated = real_civic.read(
        "MATCH (:MolecularProfile {id: 'civic:MP4353'})-[r:INCLUDES]->(v) "
        "RETURN r.negated AS negated, v.proteinChange AS change"
    )
    assert negated == [{"negated": True, "change": "D816V"}]
    d = real_civic.read(
        "MATCH (e:Evidence)-[:FOR_DISEASE]->(d:Disease {id: 'civic:disease:solid tumor'}) "
        "RETURN d.civicOnly AS civicOnly, count(e) AS n, sum(CASE WHEN e:Assertion THEN 1 END) AS a"
    )
    assert d == [{"civicOnly": True, "n": 16 + 5, "a": 5}]  # 16 evidence items, 5 assertions (AID 8, 51, 57, 127, 131)
    assert (
        real_civic.read(
            "MATCH (n:DiseaseName)-[:NAME_OF]->(:Disease {id: 'civic:disease:solid tumor'}) RETURN count(n) AS n"
        )[0]["n"]
        == 0
    )


@pytest.mark.realdata
def test_variant_counts_agree_with_sources_md(parsed_variants: tuple[list[dict], Counter[str], VariantIndex]) -> None:
    rows, tally, _ = parsed_variants
    assert len(rows) == 1717
    with_coordinates = [r for r in rows if r["grch37Pos"] is not None or r["civicBuild"] == "GRCh38"]
    assert len(with_coordinates) == 1261  # 1,256 GRCh37 + 2 GRCh38 + 3 without a build
    assert sum(r["civicBuild"] == "GRCh38" for r in rows) == 2
    kinds = Counter(r["kind"] for r in rows)
    assert kinds["exact"] == 802 and kinds["codon"] == 27
    assert sum(kinds.values()) == 1717
    unplaced = sum(v for k, v in tally.items() if k.startswith("unplaced: "))
    assert unplaced == sum(1 for r in rows if r.get("reason"))
    assert tally["unplaced: liftover failed"] == 0  # every CIViC allele of this release lifts


def test_grch38_rows_are_not_lifted() -> None:
    """Rows written as the release writes its two GRCh38 variants (2416: chr1:226064434 A>T; 2885:
    chr9:130872895 AC>GT); the seed chain has no block there, so a lift would have failed."""
    files = find_release(SEED_CIVIC)
    reader = VariantReader(files, Liftover(files.chain), {}, Counter())
    base = {c: "" for c in REQUIRED["VariantSummaries"]}  # the columns the reader needs, all blank
    snv = reader.variant(
        files.tsv("VariantSummaries"),
        2,
        {
            **base,
            "variant_id": "2416",
            "gene": "X",
            "variant": "K28M",
            "chromosome": "1",
            "start": "226064434",
            "stop": "226064434",
            "reference_bases": "A",
            "variant_bases": "T",
            "reference_build": "GRCh38",
        },
    )
    assert snv["id"] == "GRCh38:chr1:226064434:A:T" and snv["grch37Pos"] is None and snv["civicBuild"] == "GRCh38"
    mnv = reader.variant(
        files.tsv("VariantSummaries"),
        3,
        {
            **base,
            "variant_id": "2885",
            "gene": "X",
            "variant": "P5G",
            "chromosome": "9",
            "start": "130872895",
            "stop": "130872896",
            "reference_bases": "AC",
            "variant_bases": "GT",
            "reference_build": "GRCh38",
        },
    )
    assert mnv["id"] == "GRCh38:chr9:130872895:AC:GT"


def test_indels_take_their_anchor_base_from_the_vcf() -> None:
    rows = {r["civicVariantId"]: r for r in _parse_variants(SEED_CIVIC)[0]}
    # EGFR E746_A750del: TSV 7:55242465-55242479 GGAATTAAGAGAAGC>- ; VCF 7:55242464 AGGAATTAAGAGAAGC>A
    deletion = rows[1002]
    assert deletion["coordinateSource"] == "civic_accepted.vcf"
    assert (deletion["ref"], deletion["alt"]) == ("AGGAATTAAGAGAAGC", "A")
    assert (deletion["grch37Ref"], deletion["grch37Alt"]) == ("GGAATTAAGAGAAGC", None)
    assert deletion["id"].startswith("GRCh38:chr7:") and deletion["kind"] == "exact"
    # an insertion with no VCF record (as the release has KIT A502_Y503insAY): kept, with the reason
    files = find_release(SEED_CIVIC)
    reader = VariantReader(files, Liftover(files.chain), {}, Counter())
    insertion = reader.variant(
        files.tsv("VariantSummaries"),
        2,
        {
            **{c: "" for c in REQUIRED["VariantSummaries"]},
            "variant_id": "900003",
            "gene": "BRAF",
            "variant": "T599_V600insTT",
            "chromosome": "7",
            "start": "140453136",
            "stop": "140453137",
            "variant_bases": "AGTAGT",
            "reference_build": "GRCh37",
        },
    )
    assert insertion["id"] == "civic:variant:900003" and "anchor base" in insertion["reason"]


def test_unliftable_and_baseless_alleles_are_kept_with_a_reason() -> None:
    files = find_release(SEED_CIVIC)
    tally: Counter[str] = Counter()
    reader = VariantReader(files, Liftover(files.chain), {}, tally)
    base = {c: "" for c in REQUIRED["VariantSummaries"]}  # the columns the reader needs, all blank
    unliftable = reader.variant(
        files.chain,
        1,
        {
            **base,
            "variant_id": "900001",
            "gene": "X",
            "variant": "V5E",
            "chromosome": "1",
            "start": "5000",
            "stop": "5000",
            "reference_bases": "A",
            "variant_bases": "T",
            "reference_build": "GRCh37",
        },
    )
    assert unliftable["id"] == "civic:variant:900001" and unliftable["liftoverFailed"] is True
    assert unliftable["reason"].startswith("liftover failed") and unliftable["grch37Pos"] == 5000
    baseless = reader.variant(
        files.chain,
        2,
        {
            **base,
            "variant_id": "900002",
            "gene": "X",
            "variant": "A190T",
            "chromosome": "7",
            "start": "140453136",
            "stop": "140453136",
            "reference_build": "GRCh37",
        },
    )
    assert baseless["id"] == "civic:variant:900002" and baseless["reason"] == "no reference/alternate bases"
    assert tally["unplaced: liftover failed"] == 1 and tally["unplaced: no reference/alternate bases"] == 1


@pytest.mark.realdata
def test_every_profile_expression_resolves(
    civic_dir: Path, parsed_variants: tuple[list[dict], Counter[str], VariantIndex]
) -> None:
    tally: Counter[str] = Counter()
    profiles = list(profile_rows(find_release(civic_dir), parsed_variants[2], tally))
    assert len(profiles) == 1739
    assert all(p["variantExpression"] for p in profiles)
    assert tally["variant stubs (ids absent from VariantSummaries)"] == 2  # MP 5119, 5120: CIViC factors


# --- the release in Neo4j ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_civic(seeded: Graph, civic_dir: Path) -> Graph:
    civic.load(seeded, civic_dir, progress=False)
    return seeded


@pytest.fixture(scope="module")
def loaded(seeded: Graph) -> Graph:
    """The graph with its active CIViC release (seed or real; see the module docstring)."""
    return seeded


@pytest.fixture
def active(loaded: Graph) -> ActiveRelease:
    return active_release(loaded, "civic")


def _count(graph: Graph, cypher: str, **params: object) -> int:
    return graph.read(cypher, key=KEY, **params)[0]["n"]


def _totals(graph: Graph) -> tuple[int, int]:
    nodes = graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    edges = graph.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return nodes, edges


@pytest.mark.realdata
def test_release_is_active_with_counts_from_sources_md(real_civic: Graph) -> None:
    loaded = real_civic
    source = loaded.read("MATCH (s:Source {key: $key}) RETURN s.status AS status, s.version AS v", key=KEY)
    assert source == [{"status": "active", "v": "2024-08-01"}]
    evidence = "MATCH (e:Evidence)-[:ASSERTED_BY]->(:Source {key: $key}) WHERE NOT e:Assertion RETURN count(e) AS n"
    assert _count(loaded, evidence) == 4375
    assert _count(loaded, "MATCH (a:Assertion)-[:ASSERTED_BY]->(:Source {key: $key}) RETURN count(a) AS n") == 66
    ids = (
        "MATCH (v:Variant)-[:ASSERTED_BY]->(:Source {key: $key}) WHERE v.reason IS NULL OR NOT v.reason "
        "STARTS WITH 'not in VariantSummaries' UNWIND v.civicVariantIds AS id RETURN count(DISTINCT id) AS n"
    )
    assert _count(loaded, ids) == 1717
    coords = (
        "MATCH (v:Variant)-[:ASSERTED_BY]->(:Source {key: $key}) "
        "WHERE v.grch37Pos IS NOT NULL OR v.civicBuild = 'GRCh38' "
        "UNWIND v.civicVariantIds AS id RETURN count(DISTINCT id) AS n"
    )
    assert _count(loaded, coords) == 1261
    profiles = (
        "MATCH (m:MolecularProfile)-[:ASSERTED_BY]->(:Source {key: $key}) WHERE m.reason IS NULL RETURN count(m) AS n"
    )
    assert _count(loaded, profiles) == 1739
    genes = "MATCH (g:Gene)-[:ASSERTED_BY]->(:Source {key: $key}) WHERE g.civicGeneId IS NOT NULL RETURN count(g) AS n"
    assert _count(loaded, genes) == 614
    levels = loaded.read(
        "MATCH (e:Evidence {source: 'civic'}) WHERE NOT e:Assertion RETURN e.level AS level, count(*) AS n"
    )
    assert {r["level"]: r["n"] for r in levels} == {"A": 147, "B": 1455, "C": 1530, "D": 1211, "E": 32}
    types = loaded.read(
        "MATCH (e:Evidence {source: 'civic'}) WHERE NOT e:Assertion RETURN e.type AS type, count(*) AS n"
    )
    assert {r["type"]: r["n"] for r in types} == {
        "predictive": 2634,
        "predisposing": 662,
        "prognostic": 528,
        "diagnostic": 316,
        "functional": 129,
        "oncogenic": 106,
    }
    count = _count(
        loaded,
        "MATCH (e:Evidence {source: 'civic', direction: 'does not support'}) "
        "WHERE NOT e:Assertion RETURN count(e) AS n",
    )
    assert count == 503
    acmg = loaded.read("MATCH (a:Assertion) WHERE a.acmgCodes IS NOT NULL RETURN count(a) AS n")[0]["n"]
    assert acmg == 5


def test_braf_v600e_is_lifted_and_keeps_grch37(loaded: Graph) -> None:
    row = loaded.read(
        "MATCH (mp:MolecularProfile {id: 'civic:MP12'})-[:INCLUDES]->(v:Variant)-[:IN_GENE]->(g:Gene) "
        "RETURN DISTINCT v{.*} AS v, g.symbol AS gene, mp.kind AS kind"
    )
    assert len(row) == 1
    v = row[0]["v"]
    assert v["id"] == "GRCh38:chr7:140753336:A:T" and row[0]["gene"] == "BRAF" and row[0]["kind"] == "single"
    assert (v["chrom"], v["pos"], v["ref"], v["alt"], v["kind"]) == ("chr7", 140753336, "A", "T", "exact")
    assert (v["grch37Chrom"], v["grch37Pos"], v["grch37Ref"], v["grch37Alt"]) == ("chr7", 140453136, "A", "T")
    assert v["proteinChange"] == "V600E" and v["civicVariantId"] == 12 and v["rsid"] == "rs113488022"
    assert "NP_004324.2:p.Val600Glu" in v["hgvs"] and v["variantTypes"] == ["missense_variant"]


def test_codon_and_gene_level_variants(loaded: Graph) -> None:
    v600 = loaded.read(
        "MATCH (m:MolecularProfile {id: 'civic:MP17'})-[:INCLUDES]->(v:Variant {id: 'civic:variant:17'}) "
        "RETURN v{.*} AS v, m.kind AS kind"
    )[0]
    assert v600["kind"] == "category"
    assert (v600["v"]["kind"], v600["v"]["codon"], v600["v"]["aminoAcidRef"]) == ("codon", 600, "V")
    mutation = loaded.read("MATCH (v:Variant {id: 'civic:variant:336'}) RETURN v{.*} AS v")[0]["v"]  # KRAS Mutation
    assert (mutation["kind"], mutation["categoryType"], mutation["gene"]) == ("gene", "mutation", "KRAS")
    assert "pos" not in mutation and mutation["chrom"] == "chr12"  # a lifted region, not an allele


@pytest.mark.realdata
def test_egfr_t790m_drug_evidence(real_civic: Graph) -> None:
    rows = real_civic.read(
        "MATCH (e:Evidence)-[:ABOUT]->(:MolecularProfile {name: 'EGFR T790M'}) "
        "MATCH (e)-[:FOR_DRUG]->(d:Drug) WHERE d.id IN ['osimertinib', 'erlotinib', 'gefitinib'] "
        "RETURN d.id AS drug, e.significance AS significance, e.direction AS direction, collect(e.civicId) AS ids"
    )
    facts = {(r["drug"], r["significance"], r["direction"]): sorted(r["ids"]) for r in rows}
    assert facts[("osimertinib", "sensitivity/response", "supports")] == [963, 965, 966, 967, 1397, 1592, 1867, 2157]
    assert facts[("osimertinib", "sensitivity/response", "does not support")] == [6006]
    assert facts[("erlotinib", "resistance", "supports")] == [238, 1391, 1667, 2158, 3810]
    assert facts[("gefitinib", "resistance", "supports")] == [239, 642, 1391, 1667, 2158, 2159, 3810]


def test_does_not_support_is_kept(loaded: Graph) -> None:
    # EID1405: BRAF V600E, colorectal cancer, vemurafenib, "Does Not Support"
    e = loaded.read(
        "MATCH (e:Evidence {id: 'civic:EID1405'})-[:FOR_DISEASE]->(d:Disease) "
        "RETURN e.direction AS direction, e.significance AS sig, d.id AS disease"
    )[0]
    assert e == {"direction": "does not support", "sig": "sensitivity/response", "disease": "DOID:9256"}


def test_combination_therapy_keeps_its_drugs_and_interaction(loaded: Graph, active: ActiveRelease) -> None:
    e = loaded.read(
        "MATCH (e:Evidence {id: 'civic:EID95'})-[r:FOR_DRUG]->(d:Drug) "
        "RETURN e.therapies AS therapies, e.therapyInteraction AS kind, collect(d.id) AS drugs, "
        "collect(r.releases) AS releases"
    )[0]
    assert e["therapies"] == ["Dabrafenib", "Trametinib"] and e["kind"] == "combination"
    assert sorted(e["drugs"]) == ["dabrafenib", "trametinib"] and {k for rel in e["releases"] for k in rel} == {
        active.key
    }
    name = loaded.read("MATCH (:DrugName {name: 'dabrafenib'})-[:NAME_OF]->(d:Drug) RETURN d.name AS name")
    assert name == [{"name": "Dabrafenib"}]


def test_assertion_tier_support_and_context(loaded: Graph) -> None:
    # AID7: BRAF V600E, melanoma, dabrafenib + trametinib, AMP Tier I - Level A, NCCN Melanoma 2.2018
    a = loaded.read(
        "MATCH (a:Evidence:Assertion {id: 'civic:AID7'})-[:ABOUT]->(mp:MolecularProfile) "
        "MATCH (a)-[:FOR_DISEASE]->(d:Disease) "
        "RETURN a{.*} AS a, mp.id AS mp, d.id AS disease, "
        "COLLECT { MATCH (a)-[:FOR_DRUG]->(drug:Drug) RETURN drug.id ORDER BY drug.id } AS drugs, "
        "COLLECT { MATCH (a)-[:SUPPORTED_BY]->(e:Evidence) RETURN e.civicId ORDER BY e.civicId } AS support"
    )[0]
    assert (a["a"]["ampTier"], a["a"]["ampLevel"], a["a"]["fdaApproval"], a["a"]["fdaCompanionTest"]) == (
        "Tier I",
        "A",
        True,
        True,
    )
    assert a["a"]["nccnGuideline"] == "Melanoma" and a["a"]["type"] == "predictive"
    assert (a["mp"], a["disease"], a["drugs"]) == ("civic:MP12", "DOID:1909", ["dabrafenib", "trametinib"])
    assert a["support"] == [3758, 6178, 6938, 6940]


def test_complex_profiles_keep_their_boolean_expression(loaded: Graph) -> None:
    mp = loaded.read(
        "MATCH (mp:MolecularProfile {id: 'civic:MP4174'})-[r:INCLUDES]->(v:Variant) "
        "RETURN mp.kind AS kind, mp.expression AS expr, mp.variantExpression AS ids, collect(v.id) AS members"
    )[0]
    assert mp["kind"] == "complex" and mp["expr"] == "BRAF Amplification AND ( BRAF V600E OR BRAF V600K )"
    assert mp["ids"] == ("civic:variant:1269 AND ( GRCh38:chr7:140753336:A:T OR GRCh38:chr7:140753336:AC:TT )")
    assert sorted(mp["members"]) == sorted(
        ["civic:variant:1269", "GRCh38:chr7:140753336:A:T", "GRCh38:chr7:140753336:AC:TT"]
    )


def test_diseases_without_doid_get_a_civic_id(loaded: Graph) -> None:
    # "Solid Tumor" has no DOID in CIViC (the seeds: EID7572, KRAS G12C, adagrasib)
    d = loaded.read(
        "MATCH (e:Evidence)-[:FOR_DISEASE]->(d:Disease {id: 'civic:disease:solid tumor'}) "
        "RETURN d.civicOnly AS civicOnly, count(e) > 0 AS linked"
    )
    assert d == [{"civicOnly": True, "linked": True}]
    assert (
        loaded.read(
            "MATCH (n:DiseaseName)-[:NAME_OF]->(:Disease {id: 'civic:disease:solid tumor'}) RETURN count(n) AS n"
        )[0]["n"]
        == 0
    )


def test_every_civic_fact_has_its_release(loaded: Graph, active: ActiveRelease) -> None:
    orphans = loaded.read(
        "MATCH (n) WHERE (n:Evidence AND n.source = 'civic') OR (n:Variant AND n.civicVariantId IS NOT NULL) "
        "OR (n:MolecularProfile AND n.id STARTS WITH 'civic:') "
        "WITH n WHERE NOT (n)-[:ASSERTED_BY]->(:Source {key: $key}) RETURN count(n) AS n",
        key=active.key,
    )[0]["n"]
    assert orphans == 0
    unreleased = loaded.read(
        "MATCH (:Source {key: $key})<-[:ASSERTED_BY]-(n)"
        "-[r:INCLUDES|ABOUT|FOR_DISEASE|FOR_DRUG|SUPPORTED_BY|IN_GENE]->() "
        "WHERE r.releases IS NULL RETURN count(r) AS n",
        key=active.key,
    )[0]["n"]
    assert unreleased == 0
    edges = loaded.read("MATCH ()-[r:FOR_DRUG]->() WHERE $key IN r.releases RETURN count(r) AS n", key=active.key)[0][
        "n"
    ]
    files = find_release(active.folder)
    therapies = sum(len(r["drugs"]) for r in evidence_rows(files, Counter())) + sum(
        len(r["drugs"]) for r in assertion_rows(files, Counter())
    )
    assert edges == therapies  # one per therapy of each evidence item and assertion


def test_reload_is_idempotent(loaded: Graph, active: ActiveRelease) -> None:
    before = _totals(loaded)
    report = civic.load(loaded, active.folder, progress=False, version=active.version)
    assert report.skipped
    assert _totals(loaded) == before


# --- corrupted copies (of the seed files) fail cleanly ----------------------------------------


def _copy_release(civic_dir: Path, target: Path) -> Path:
    target.mkdir()
    for path in civic_dir.iterdir():
        if path.name != "SOURCES.md":
            shutil.copyfile(path, target / path.name)
    return target


def _rewrite_line(path: Path, line: int, edit) -> None:  # type: ignore[no-untyped-def]
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = edit(lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def _drop_last_field(text: str) -> str:
    return text.rsplit("\t", 1)[0]


def _bad_start(text: str) -> str:
    fields = text.split("\t")
    fields[7] = "140453l36"  # start
    return "\t".join(fields)


def _bad_header(text: str) -> str:
    return text.replace("variant_ids", "variant_id_list")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("file_name", "line", "corrupt"),
    [
        ("01-Aug-2024-ClinicalEvidenceSummaries.tsv", 20, lambda p: _rewrite_line(p, 20, _drop_last_field)),
        ("01-Aug-2024-VariantSummaries.tsv", 3, lambda p: _rewrite_line(p, 3, _bad_start)),  # BRAF V600E
        ("01-Aug-2024-MolecularProfileSummaries.tsv", 1, lambda p: _rewrite_line(p, 1, _bad_header)),
        ("01-Aug-2024-AssertionSummaries.tsv", 3, lambda p: _rewrite_line(p, 3, lambda t: t + "\textra")),
        ("hg19ToHg38.over.chain.gz", None, _truncate),
    ],
    ids=["wrong-column-count", "unparsable-coordinate", "bad-header", "extra-column", "truncated-chain"],
)
def test_corrupted_copy_fails_and_leaves_nothing(
    loaded: Graph, active: ActiveRelease, tmp_path: Path, file_name: str, line: int | None, corrupt
) -> None:  # type: ignore[no-untyped-def]
    copy = _copy_release(SEED_CIVIC, tmp_path / "civic")
    corrupt(copy / file_name)
    before = _totals(loaded)
    with pytest.raises(SourceFormatError) as failure:
        civic.load(loaded, copy, progress=False, version="corrupt-test")
    assert failure.value.path.name == file_name
    if line is not None:
        assert failure.value.line == line
        assert f"{file_name}:{line}" in str(failure.value)
    else:
        assert failure.value.line is not None  # the chain line reached
    assert loaded.read("MATCH (s:Source {key: 'civic@corrupt-test'}) RETURN count(s) AS n")[0]["n"] == 0
    assert _totals(loaded) == before
    assert active_release(loaded, "civic") == active  # the active release stays as it was


def test_truncated_chain_names_gzip(tmp_path: Path) -> None:
    chain = tmp_path / "hg19ToHg38.over.chain.gz"
    data = (SEED_CIVIC / "hg19ToHg38.over.chain.gz").read_bytes()
    chain.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFormatError, match="gzip"):
        Liftover(chain)
    plain = tmp_path / "bad.chain.gz"
    with gzip.open(plain, "wt") as handle:
        handle.write("chain 1 chr1 100 + 0 100 chr1 100 + 0 100 1\nnot numbers here\n")
    with pytest.raises(SourceFormatError):
        Liftover(plain)

"""CIViC loader: the real 01-Aug-2024 release in a real Neo4j, plus its parsers on their own.

Counts are the ones ../shared/data/civic/SOURCES.md states; specific facts were read from the
release files (evidence ids quoted in each test).
"""

from __future__ import annotations

import gzip
import shutil
from collections import Counter
from pathlib import Path

import pytest

from kg.db import Graph
from kg.loaders import civic
from kg.loaders.civic_files import find_release, read_vcf_alleles
from kg.loaders.civic_names import classify_variant, parse_profile_name, split_therapies
from kg.loaders.civic_rows import VariantIndex, VariantReader, assertion_rows, evidence_rows, profile_rows
from kg.loaders.errors import SourceFormatError
from kg.loaders.liftover import LiftFailure, Liftover

KEY = "civic@2024-08-01"


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
        "MET Amplification", "MET Splice Site (c.3028G>A)"]
    assert parse_profile_name("NOT KIT D816V").negated == {"KIT D816V"}


def test_therapy_names_with_commas_stay_whole() -> None:
    assert split_therapies("Dabrafenib,Trametinib") == ["Dabrafenib", "Trametinib"]
    assert split_therapies("Gefitinib,HER2 Inhibitor CP-724,714,Selumetinib") == [
        "Gefitinib", "HER2 Inhibitor CP-724,714", "Selumetinib"]
    assert split_therapies("2,4-pyrimidinediamine") == ["2,4-pyrimidinediamine"]
    assert split_therapies("FGF/VEGF Receptor Tyrosine Kinase Inhibitor, PD173074,Infigratinib") == [
        "FGF/VEGF Receptor Tyrosine Kinase Inhibitor, PD173074", "Infigratinib"]
    assert split_therapies("") == []


# --- parsers on the real files (no database) ------------------------------------------------


@pytest.fixture(scope="module")
def civic_dir(data_dir: Path) -> Path:
    return data_dir / "civic"


@pytest.fixture(scope="module")
def parsed_variants(civic_dir: Path) -> tuple[list[dict], Counter[str], VariantIndex]:
    files = find_release(civic_dir)
    tally: Counter[str] = Counter()
    index = VariantIndex()
    reader = VariantReader(files, Liftover(files.chain), read_vcf_alleles(files.vcf), tally)
    return list(reader.rows(index)), tally, index


def test_release_version_from_file_names(civic_dir: Path) -> None:
    assert find_release(civic_dir).version == "2024-08-01"
    one_file = civic_dir / "01-Aug-2024-VariantSummaries.tsv"
    assert find_release(one_file).folder == civic_dir


def test_chain_lifts_braf_and_keeps_jak2(civic_dir: Path) -> None:
    lifter = Liftover(civic_dir / "hg19ToHg38.over.chain.gz")
    braf = lifter.lift_allele("7", 140453136, "A")
    assert not isinstance(braf, LiftFailure) and (braf.chrom, braf.pos) == ("chr7", 140753336)
    jak2 = lifter.lift_allele("9", 5073770, "G")
    assert not isinstance(jak2, LiftFailure) and jak2.pos == 5073770
    assert isinstance(lifter.lift_allele("1", 5000, "A"), LiftFailure)  # before the first chr1 chain


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


def test_grch38_rows_are_not_lifted(parsed_variants: tuple[list[dict], Counter[str], VariantIndex]) -> None:
    rows = {r["civicVariantId"]: r for r in parsed_variants[0]}
    assert rows[2416]["id"] == "GRCh38:chr1:226064434:A:T" and rows[2416]["grch37Pos"] is None
    assert rows[2885]["id"] == "GRCh38:chr9:130872895:AC:GT"


def test_indels_take_their_anchor_base_from_the_vcf(parsed_variants: tuple[list[dict], Counter[str], VariantIndex]) -> None:
    rows = {r["civicVariantId"]: r for r in parsed_variants[0]}
    deletion = rows[762]  # MSH2 V273FS: TSV 2:47641433 T>- ; VCF 2:47641432 GT>G
    assert deletion["coordinateSource"] == "civic_accepted.vcf"
    assert (deletion["ref"], deletion["alt"], deletion["grch37Ref"], deletion["grch37Alt"]) == ("GT", "G", "T", None)
    kit = rows[1558]  # KIT A502_Y503insAY: an insertion with no VCF record
    assert kit["id"] == "civic:variant:1558" and "anchor base" in kit["reason"]


def test_unliftable_and_baseless_alleles_are_kept_with_a_reason(civic_dir: Path) -> None:
    files = find_release(civic_dir)
    tally: Counter[str] = Counter()
    reader = VariantReader(files, Liftover(files.chain), {}, tally)
    columns = ("variant_id", "gene", "entrez_id", "variant", "variant_groups", "chromosome", "start", "stop",
               "reference_bases", "variant_bases", "representative_transcript", "reference_build", "chromosome2",
               "start2", "stop2", "variant_types", "hgvs_descriptions", "allele_registry_id", "clinvar_ids",
               "variant_aliases", "single_variant_molecular_profile_id")
    base = {c: "" for c in columns}
    unliftable = reader.variant(files.chain, 1, {**base, "variant_id": "900001", "gene": "X", "variant": "V5E",
                                                  "chromosome": "1", "start": "5000", "stop": "5000",
                                                  "reference_bases": "A", "variant_bases": "T",
                                                  "reference_build": "GRCh37"})
    assert unliftable["id"] == "civic:variant:900001" and unliftable["liftoverFailed"] is True
    assert unliftable["reason"].startswith("liftover failed") and unliftable["grch37Pos"] == 5000
    baseless = reader.variant(files.chain, 2, {**base, "variant_id": "900002", "gene": "X", "variant": "A190T",
                                                "chromosome": "7", "start": "140453136", "stop": "140453136",
                                                "reference_build": "GRCh37"})
    assert baseless["id"] == "civic:variant:900002" and baseless["reason"] == "no reference/alternate bases"
    assert tally["unplaced: liftover failed"] == 1 and tally["unplaced: no reference/alternate bases"] == 1


def test_every_profile_expression_resolves(civic_dir: Path, parsed_variants: tuple[list[dict], Counter[str], VariantIndex]) -> None:
    tally: Counter[str] = Counter()
    profiles = list(profile_rows(find_release(civic_dir), parsed_variants[2], tally))
    assert len(profiles) == 1739
    assert all(p["variantExpression"] for p in profiles)
    assert tally["variant stubs (ids absent from VariantSummaries)"] == 2  # MP 5119, 5120: CIViC factors


# --- the release in Neo4j ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(graph: Graph, civic_dir: Path) -> Graph:
    civic.load(graph, civic_dir, progress=False)
    return graph


def _count(graph: Graph, cypher: str, **params: object) -> int:
    return graph.read(cypher, key=KEY, **params)[0]["n"]


def _totals(graph: Graph) -> tuple[int, int]:
    nodes = graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    edges = graph.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return nodes, edges


def test_release_is_active_with_counts_from_sources_md(loaded: Graph) -> None:
    source = loaded.read("MATCH (s:Source {key: $key}) RETURN s.status AS status, s.version AS v", key=KEY)
    assert source == [{"status": "active", "v": "2024-08-01"}]
    evidence = "MATCH (e:Evidence)-[:ASSERTED_BY]->(:Source {key: $key}) WHERE NOT e:Assertion RETURN count(e) AS n"
    assert _count(loaded, evidence) == 4375
    assert _count(loaded, "MATCH (a:Assertion)-[:ASSERTED_BY]->(:Source {key: $key}) RETURN count(a) AS n") == 66
    ids = ("MATCH (v:Variant)-[:ASSERTED_BY]->(:Source {key: $key}) WHERE v.reason IS NULL OR NOT v.reason "
           "STARTS WITH 'not in VariantSummaries' UNWIND v.civicVariantIds AS id RETURN count(DISTINCT id) AS n")
    assert _count(loaded, ids) == 1717
    coords = ("MATCH (v:Variant)-[:ASSERTED_BY]->(:Source {key: $key}) "
              "WHERE v.grch37Pos IS NOT NULL OR v.civicBuild = 'GRCh38' "
              "UNWIND v.civicVariantIds AS id RETURN count(DISTINCT id) AS n")
    assert _count(loaded, coords) == 1261
    profiles = ("MATCH (m:MolecularProfile)-[:ASSERTED_BY]->(:Source {key: $key}) "
                "WHERE m.reason IS NULL RETURN count(m) AS n")
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
        "predictive": 2634, "predisposing": 662, "prognostic": 528, "diagnostic": 316, "functional": 129,
        "oncogenic": 106}


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
    v600 = loaded.read("MATCH (m:MolecularProfile {id: 'civic:MP17'})-[:INCLUDES]->(v:Variant {id: 'civic:variant:17'}) "
                       "RETURN v{.*} AS v, m.kind AS kind")[0]
    assert v600["kind"] == "category"
    assert (v600["v"]["kind"], v600["v"]["codon"], v600["v"]["aminoAcidRef"]) == ("codon", 600, "V")
    exon19 = loaded.read("MATCH (v:Variant {id: 'civic:variant:133'}) RETURN v{.*} AS v")[0]["v"]
    assert (exon19["kind"], exon19["categoryType"], exon19["exons"], exon19["gene"]) == ("gene", "exon", [19], "EGFR")
    assert "pos" not in exon19 and exon19["chrom"] == "chr7"  # a lifted region, not an allele


def test_egfr_t790m_drug_evidence(loaded: Graph) -> None:
    rows = loaded.read(
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
    e = loaded.read("MATCH (e:Evidence {id: 'civic:EID6006'})-[:FOR_DISEASE]->(d:Disease) "
                    "RETURN e.direction AS direction, e.significance AS sig, d.id AS disease")[0]
    assert e == {"direction": "does not support", "sig": "sensitivity/response", "disease": "DOID:4074"}
    count = _count(loaded, "MATCH (e:Evidence {source: 'civic', direction: 'does not support'}) "
                           "WHERE NOT e:Assertion RETURN count(e) AS n")
    assert count == 503


def test_combination_therapy_keeps_its_drugs_and_interaction(loaded: Graph) -> None:
    e = loaded.read(
        "MATCH (e:Evidence {id: 'civic:EID95'})-[r:FOR_DRUG]->(d:Drug) "
        "RETURN e.therapies AS therapies, e.therapyInteraction AS kind, collect(d.id) AS drugs, "
        "collect(r.release) AS releases"
    )[0]
    assert e["therapies"] == ["Dabrafenib", "Trametinib"] and e["kind"] == "combination"
    assert sorted(e["drugs"]) == ["dabrafenib", "trametinib"] and set(e["releases"]) == {KEY}
    name = loaded.read("MATCH (:DrugName {name: 'dabrafenib'})-[:NAME_OF]->(d:Drug) RETURN d.name AS name")
    assert name == [{"name": "Dabrafenib"}]
    assert loaded.read("MATCH (d:Drug {id: 'her2 inhibitor cp-724,714'}) RETURN count(d) AS n")[0]["n"] == 1


def test_assertion_tier_support_and_context(loaded: Graph) -> None:
    a = loaded.read(
        "MATCH (a:Evidence:Assertion {id: 'civic:AID2'})-[:ABOUT]->(mp:MolecularProfile) "
        "MATCH (a)-[:FOR_DISEASE]->(d:Disease) MATCH (a)-[:FOR_DRUG]->(drug:Drug) "
        "MATCH (a)-[:SUPPORTED_BY]->(e:Evidence) "
        "RETURN a{.*} AS a, mp.id AS mp, d.id AS disease, drug.id AS drug, collect(e.civicId) AS support"
    )[0]
    assert (a["a"]["ampTier"], a["a"]["ampLevel"], a["a"]["fdaApproval"], a["a"]["fdaCompanionTest"]) == (
        "Tier I", "A", True, True)
    assert a["a"]["nccnGuideline"] == "Breast Cancer" and a["a"]["type"] == "predictive"
    assert (a["mp"], a["disease"], a["drug"]) == ("civic:MP302", "DOID:0060079", "trastuzumab")
    assert sorted(a["support"]) == [528, 529, 1122]
    acmg = loaded.read("MATCH (a:Assertion) WHERE a.acmgCodes IS NOT NULL RETURN count(a) AS n")[0]["n"]
    assert acmg == 5


def test_complex_profiles_keep_their_boolean_expression(loaded: Graph) -> None:
    mp = loaded.read(
        "MATCH (mp:MolecularProfile {id: 'civic:MP4174'})-[r:INCLUDES]->(v:Variant) "
        "RETURN mp.kind AS kind, mp.expression AS expr, mp.variantExpression AS ids, collect(v.id) AS members"
    )[0]
    assert mp["kind"] == "complex" and mp["expr"] == "BRAF Amplification AND ( BRAF V600E OR BRAF V600K )"
    assert mp["ids"] == ("civic:variant:1269 AND ( GRCh38:chr7:140753336:A:T OR GRCh38:chr7:140753336:AC:TT )")
    assert sorted(mp["members"]) == sorted(["civic:variant:1269", "GRCh38:chr7:140753336:A:T",
                                            "GRCh38:chr7:140753336:AC:TT"])
    negated = loaded.read("MATCH (:MolecularProfile {id: 'civic:MP4353'})-[r:INCLUDES]->(v) "
                          "RETURN r.negated AS negated, v.proteinChange AS change")
    assert negated == [{"negated": True, "change": "D816V"}]


def test_diseases_without_doid_get_a_civic_id(loaded: Graph) -> None:
    d = loaded.read("MATCH (e:Evidence)-[:FOR_DISEASE]->(d:Disease {id: 'civic:disease:solid tumor'}) "
                    "RETURN d.civicOnly AS civicOnly, count(e) AS n, sum(CASE WHEN e:Assertion THEN 1 END) AS a")
    assert d == [{"civicOnly": True, "n": 16 + 5, "a": 5}]  # 16 evidence items, 5 assertions (AID 8, 51, 57, 127, 131)
    assert loaded.read("MATCH (n:DiseaseName)-[:NAME_OF]->(:Disease {id: 'civic:disease:solid tumor'}) "
                       "RETURN count(n) AS n")[0]["n"] == 0


def test_every_civic_fact_has_its_release(loaded: Graph, civic_dir: Path) -> None:
    orphans = loaded.read(
        "MATCH (n) WHERE (n:Evidence AND n.source = 'civic') OR (n:Variant AND n.civicVariantId IS NOT NULL) "
        "OR (n:MolecularProfile AND n.id STARTS WITH 'civic:') "
        "WITH n WHERE NOT (n)-[:ASSERTED_BY]->(:Source {key: $key}) RETURN count(n) AS n", key=KEY)[0]["n"]
    assert orphans == 0
    unreleased = loaded.read(
        "MATCH (:Source {key: $key})<-[:ASSERTED_BY]-(n)"
        "-[r:INCLUDES|ABOUT|FOR_DISEASE|FOR_DRUG|SUPPORTED_BY|IN_GENE]->() "
        "WHERE r.release IS NULL RETURN count(r) AS n", key=KEY)[0]["n"]
    assert unreleased == 0
    edges = loaded.read("MATCH ()-[r:FOR_DRUG]->() WHERE r.release = $key RETURN count(r) AS n", key=KEY)[0]["n"]
    files = find_release(civic_dir)
    therapies = sum(len(r["drugs"]) for r in evidence_rows(files, Counter())) + sum(
        len(r["drugs"]) for r in assertion_rows(files, Counter()))
    assert edges == therapies  # one per therapy of each evidence item and assertion


def test_reload_is_idempotent(loaded: Graph, civic_dir: Path) -> None:
    before = _totals(loaded)
    report = civic.load(loaded, civic_dir, progress=False)
    assert report.skipped
    assert _totals(loaded) == before


# --- corrupted copies fail cleanly ------------------------------------------------------------


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
        ("01-Aug-2024-ClinicalEvidenceSummaries.tsv", 2000, lambda p: _rewrite_line(p, 2000, _drop_last_field)),
        ("01-Aug-2024-VariantSummaries.tsv", 12, lambda p: _rewrite_line(p, 12, _bad_start)),
        ("01-Aug-2024-MolecularProfileSummaries.tsv", 1, lambda p: _rewrite_line(p, 1, _bad_header)),
        ("01-Aug-2024-AssertionSummaries.tsv", 40, lambda p: _rewrite_line(p, 40, lambda t: t + "\textra")),
        ("hg19ToHg38.over.chain.gz", None, _truncate),
    ],
    ids=["wrong-column-count", "unparsable-coordinate", "bad-header", "extra-column", "truncated-chain"],
)
def test_corrupted_copy_fails_and_leaves_nothing(
    loaded: Graph, civic_dir: Path, tmp_path: Path, file_name: str, line: int | None, corrupt
) -> None:  # type: ignore[no-untyped-def]
    copy = _copy_release(civic_dir, tmp_path / "civic")
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
    assert loaded.read("MATCH (s:Source {name: 'civic'}) RETURN s.key AS key, s.status AS status") == [
        {"key": KEY, "status": "active"}]


def test_truncated_chain_names_gzip(tmp_path: Path, civic_dir: Path) -> None:
    chain = tmp_path / "hg19ToHg38.over.chain.gz"
    data = (civic_dir / "hg19ToHg38.over.chain.gz").read_bytes()
    chain.write_bytes(data[:5000])
    with pytest.raises(SourceFormatError, match="gzip"):
        Liftover(chain)
    plain = tmp_path / "bad.chain.gz"
    with gzip.open(plain, "wt") as handle:
        handle.write("chain 1 chr1 100 + 0 100 chr1 100 + 0 100 1\nnot numbers here\n")
    with pytest.raises(SourceFormatError):
        Liftover(plain)

"""ClinVar loaders: the 2026-02-26 VCF (clinvar/), the 2024-06-01 extract and ACMG SF v3.0 (clinvar_more/),
two releases of the one source ``clinvar`` (superseding between them: tests/test_release_sets.py).

Parsers and corrupted copies on the seed files (seeds/clinvar, seeds/clinvar_more: whole records
of both releases), graph facts of the active releases (tests/releases.py: the seeds, or the real
releases once loaded, with the Disease Ontology for condition mapping), counts of the real releases
from ../shared/data (``realdata``), and made-up copies written in tmp_path. Made-up releases use their own Source names and fake
VariationIDs/positions, so they never replace or touch the real ones.
"""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from kg.db import Graph
from kg.identity.variants import normalize
from kg.loaders import clinvar, clinvar_more, registry
from kg.loaders import clinvar_fields as cv
from kg.loaders.coverage import Windows
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import LoadReport, SourceRelease, discard_release, load_release
from kg.loaders.seeds import default_seed_dir
from kg.queries.visibility import VISIBLE_EVIDENCE, state_params
from tests.releases import active_release

CLINVAR_RELEASE = "clinvar@2026-02-26"
MORE_RELEASE = "clinvar@2024-06-01"
VCF_RECORDS = 69_302  # clinvar/SOURCES.md: "69,302 variant records"
TSV_RECORDS = 262_323  # clinvar_more/SOURCES.md: "262,323 records + 1 header line"
ACMG_ROWS, ACMG_GENES = 82, 73  # "82 gene-disorder rows covering 73 genes"
IN_BOTH = 4_925  # variants (normalised GRCh38 keys) in both files: MLH1, PALB2, ATM, MSH2, ... overlap

BRCA1_EXPERT_PANEL = "17662"  # BRCA1 c.68_69del, SOURCES.md sample row: Pathogenic, reviewed by expert panel
BRCA2_BENIGN = "9329"  # BRCA2 N372H (13:32332592 A>C): Benign, reviewed by expert panel
MLH1_CHANGED = "GRCh38:chr3:37048964:T:G"  # 2024: Uncertain significance; 2026 (VariationID 663235): Likely pathogenic
SEED_VCF = clinvar.find_vcf(default_seed_dir() / "clinvar")
SEED_TSV, SEED_ACMG = clinvar_more.find_files(default_seed_dir() / "clinvar_more")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vcf(data_dir: Path) -> Path:
    return clinvar.find_vcf(data_dir / "clinvar")


@pytest.fixture(scope="module")
def tsv(data_dir: Path) -> Path:
    return clinvar_more.find_files(data_dir / "clinvar_more")[0]


@pytest.fixture(scope="module")
def acmg(data_dir: Path) -> Path:
    found = clinvar_more.find_files(data_dir / "clinvar_more")[1]
    assert found is not None
    return found


@pytest.fixture(scope="module")
def diseases(seeded: Graph, data_dir: Path) -> Graph:
    """The real Disease Ontology (its DiseaseXref look-ups), loaded before ClinVar as `kg load all` does."""
    registry.loader_for("doid").load(seeded, data_dir / "ontology", progress=False)
    return seeded


@pytest.fixture(scope="module")
def loaded(diseases: Graph, data_dir: Path) -> tuple[LoadReport, LoadReport]:
    first = clinvar.load(diseases, data_dir / "clinvar", progress=False)
    second = clinvar_more.load(diseases, data_dir / "clinvar_more", progress=False)
    return first, second


@pytest.fixture(scope="module")
def real_kg(diseases: Graph, loaded: tuple[LoadReport, LoadReport]) -> Graph:
    return diseases


@pytest.fixture(scope="module")
def kg(seeded: Graph) -> Graph:
    """The graph with its active ClinVar releases: seeds, or the real ones once loaded."""
    return seeded


def _one(graph: Graph, cypher: str, **params: object) -> dict:  # type: ignore[type-arg]
    rows = graph.read(cypher, **params)
    assert len(rows) == 1, rows
    return rows[0]


def _totals(graph: Graph) -> dict[str, int]:
    return _one(
        graph,
        "CALL { MATCH (n) RETURN count(n) AS nodes } CALL { MATCH ()-[r]->() RETURN count(r) AS edges } "
        "CALL { MATCH (s:Source) RETURN count(s) AS sources } RETURN nodes, edges, sources",
    )


def _visible_classifications(graph: Graph, variant: str) -> list[str]:
    rows = graph.read(
        "MATCH (v:Variant {id: $id})<-[:ABOUT]-(e:Evidence {type: 'pathogenicity'}) "
        f"WHERE {VISIBLE_EVIDENCE} RETURN e.classification AS c ORDER BY c",
        id=variant,
        **state_params(None),
    )
    return [r["c"] for r in rows]


def _vcf_key(graph: Graph) -> str:
    return active_release(graph, "clinvar").key


def _tsv_key(graph: Graph) -> str:
    return active_release(graph, "clinvar_more").key


# --- vocabularies, no database -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stars"),
    [
        ("practice_guideline", 4),
        ("reviewed_by_expert_panel", 3),
        ("criteria_provided,_multiple_submitters,_no_conflicts", 2),
        ("criteria_provided,_single_submitter", 1),
        ("criteria_provided,_conflicting_classifications", 1),
        ("criteria_provided,_conflicting_interpretations", 1),
        ("no_assertion_criteria_provided", 0),
        ("no_classification_provided", 0),
        ("no_classification_for_the_single_variant", 0),
        (None, 0),
        ("a_status_clinvar_never_used", None),
    ],
)
def test_star_rating_follows_clinvar_review_status(status: str | None, stars: int | None) -> None:
    assert cv.stars(cv.spaced(status)) == stars


@pytest.mark.parametrize(
    ("clnsig", "significance", "category"),
    [
        ("Pathogenic", "pathogenic", "pathogenic"),
        ("Pathogenic/Likely_pathogenic", "pathogenic/likely pathogenic", "likely pathogenic"),
        ("Likely_pathogenic,_low_penetrance", "likely pathogenic, low penetrance", "likely pathogenic"),
        ("Uncertain_significance", "uncertain significance", "uncertain significance"),
        ("Benign/Likely_benign", "benign/likely benign", "likely benign"),
        ("Benign", "benign", "benign"),
        (
            "Conflicting_classifications_of_pathogenicity|association|risk_factor",
            "conflicting classifications of pathogenicity|association|risk factor",
            "conflicting",
        ),
        ("drug_response", "drug response", "drug response"),
        ("association|drug_response|risk_factor", "association|drug response|risk factor", "drug response"),
        (
            "Pathogenic/Pathogenic,_low_penetrance|other|risk_factor",
            "pathogenic/pathogenic, low penetrance|other|risk factor",
            "pathogenic",
        ),
        ("risk_factor", "risk factor", "risk factor"),
        ("not_provided", "not provided", "other"),
        (None, None, "other"),
    ],
)
def test_significance_and_classification(clnsig: str | None, significance: str | None, category: str) -> None:
    assert cv.spaced(clnsig) == significance
    assert cv.classification(significance) == category
    assert category in cv.CLASSIFICATIONS


@pytest.mark.parametrize(
    ("bits", "origin", "names"),
    [
        ("1", "germline", ["germline"]),
        ("2", "somatic", ["somatic"]),
        ("3", "germline/somatic", ["germline", "somatic"]),
        ("17", "germline", ["germline", "maternal"]),
        ("32", "germline", ["de novo"]),
        ("0", "unknown", []),
        (None, "unknown", []),
        ("1073741824", "other", ["other"]),
    ],
)
def test_origin_bit_flags(bits: str | None, origin: str, names: list[str]) -> None:
    assert cv.origin(bits) == origin and cv.origins(bits) == names


def test_clinvar_condition_xrefs_take_the_doid_loaders_keys() -> None:
    assert cv.condition_xref("MedGen:C0006142") == ("UMLS:C0006142", ["MEDGEN:C0006142", "UMLS:C0006142"])
    assert cv.condition_xref("MeSH:D001943")[0] == "MESH:D001943"  # type: ignore[index]
    assert cv.condition_xref("OMIM:114480")[0] == "OMIM:114480"  # type: ignore[index]
    assert cv.condition_xref("Orphanet:145")[0] == "ORPHANET:145"  # type: ignore[index]
    assert cv.condition_xref("MONDO:MONDO:0011450")[0] == "MONDO:0011450"  # type: ignore[index]
    assert cv.condition_xref("Human_Phenotype_Ontology:HP:0001258") is None


def test_very_long_alleles_get_an_indexable_digest_key() -> None:
    allele = normalize("13", 32315000, "A" + "C" * 9000, "A")
    key = cv.variant_key(allele)
    assert key["id"].startswith("GRCh38:chr13:32315000:sha256-") and len(key["id"]) < 80
    assert key["ref"] == allele.ref and key["alt"] == "A"
    assert cv.variant_key(normalize("7", 140753336, "A", "T")) == {"id": "GRCh38:chr7:140753336:A:T"}


# --- parsers, no database ------------------------------------------------------------------------

VCF_HEADER = (
    "##fileformat=VCFv4.1\n##fileDate=2099-01-31\n##source=ClinVar\n##reference=GRCh38\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)
INFO = (
    "ALLELEID={a};CLNDISDB=MeSH:D061325,MedGen:C0677776,Orphanet:145;CLNDN=Hereditary_breast_ovarian_cancer_syndrome;"
    "CLNHGVS=NC_000022.11:g.{pos}A>T;CLNREVSTAT={rev};CLNSIG={sig};CLNVC=single_nucleotide_variant;"
    "CLNVCSO=SO:0001483;GENEINFO=KREMEN1:83999;MC=SO:0001583|missense_variant;ORIGIN=1;RS=999"
)


def _vcf_line(
    vid: int, pos: int, ref: str, alt: str, sig: str, rev: str = "criteria_provided,_single_submitter"
) -> str:
    return f"22\t{pos}\t{vid}\t{ref}\t{alt}\t.\t.\t{INFO.format(a=vid + 1, pos=pos, rev=rev, sig=sig)}\n"


def _write_vcf(path: Path, *lines: str, header: str = VCF_HEADER) -> Path:
    with gzip.open(path, "wt", newline="") as handle:
        handle.write(header + "".join(lines))
    return path


TSV_HEADER = "\t".join(clinvar_more.TSV_HEADER) + "\n"


def _write_tsv(path: Path, *lines: str, header: str = TSV_HEADER) -> Path:
    with gzip.open(path, "wt", newline="") as handle:
        handle.write(header + "".join(lines))
    return path


@pytest.mark.realdata
def test_real_vcf_has_one_row_per_record(vcf: Path) -> None:
    assert clinvar.release_date(vcf) == "2026-02-26"
    rows = list(clinvar.read_records(vcf, "2026-02-26"))
    assert len(rows) == VCF_RECORDS
    assert len({r["variationId"] for r in rows}) == VCF_RECORDS == len({r["id"] for r in rows})
    assert Counter(r.get("significance") is None for r in rows)[True] == 2_294  # no germline classification
    assert sum(r["id"].endswith(":.") for r in rows) == 9  # "no sequence alteration" records keep ALT "."
    assert sum("sha256-" in r["id"] for r in rows) == 56  # REF+ALT over 4,000 bases: digest keys


def test_vcf_parser_splits_multiallelic_records_and_decodes_info(tmp_path: Path) -> None:
    path = _write_vcf(tmp_path / "clinvar_20990131.vcf.gz", _vcf_line(900000001, 19000001, "A", "T,G", "Benign"))
    rows = list(clinvar.read_records(path, clinvar.release_date(path)))
    assert [r["id"] for r in rows] == ["GRCh38:chr22:19000001:A:T", "GRCh38:chr22:19000001:A:G"]
    assert {r["variationId"] for r in rows} == {"900000001"}
    row = rows[0]
    assert row["clinvarRelease"] == "2099-01-31" and row["rsid"] == "rs999" and row["gene"] == "KREMEN1"
    assert row["diseaseXrefs"] == ["MESH:D061325", "UMLS:C0677776", "ORPHANET:145"]
    assert row["conditionNames"] == ["Hereditary breast ovarian cancer syndrome"]
    assert row["consequences"] == [{"id": "SO:0001583", "name": "missense_variant"}]


@pytest.mark.realdata
def test_real_tsv_rows_are_distinct_variants(tsv: Path) -> None:
    rows = list(clinvar_more.read_records(tsv, clinvar_more.release_date(tsv)))
    assert len(rows) == TSV_RECORDS
    # Every record is its own variant: 262,323 distinct keys. The 80 no_sequence_alteration rows
    # (empty AltAllele) keep ALT "." so that two of them at one position with different REF stay apart.
    assert len({r["id"] for r in rows}) == TSV_RECORDS
    assert sum(r["id"].endswith(":.") for r in rows) == 80
    assert sum("sha256-" in r["id"] for r in rows) == 135
    assert {r["clinvarRelease"] for r in rows} == {"2024-06-01"}


@pytest.mark.realdata
def test_acmg_table(acmg: Path) -> None:
    rows = list(clinvar_more.read_acmg(acmg))
    assert len(rows) == ACMG_ROWS and len({r["gene"] for r in rows}) == ACMG_GENES
    assert len({r["id"] for r in rows}) == ACMG_ROWS
    by_gene = {r["gene"]: r for r in rows}
    assert by_gene["HFE"]["reportWhat"] == "p.C282Y homozygotes only" and by_gene["HFE"]["allelesRequired"] == 2
    assert by_gene["MUTYH"]["inheritance"] == "AR" and by_gene["MUTYH"]["reportWhat"] == "P and LP (2 variants)"
    assert by_gene["APC"]["inheritance"] == "AD" and by_gene["APC"]["allelesRequired"] == 1  # "AD " trimmed
    assert by_gene["GLA"]["inheritance"] == "XL" and by_gene["GLA"]["categories"] == ["Cardiovascular", "Metabolic"]
    assert by_gene["RPE65"]["phenotypeMims"] == ["204100", "613794"]
    assert Counter(r["inheritance"] for r in rows) == {"AD": 71, "AR": 9, "XL": 2}


def test_acmg_rows_of_the_seed_table() -> None:
    assert SEED_ACMG is not None
    by_gene = {r["gene"]: r for r in clinvar_more.read_acmg(SEED_ACMG)}
    assert by_gene["MUTYH"]["inheritance"] == "AR" and by_gene["MUTYH"]["allelesRequired"] == 2
    assert by_gene["MUTYH"]["reportWhat"] == "P and LP (2 variants)"
    assert by_gene["APC"]["inheritance"] == "AD" and by_gene["APC"]["allelesRequired"] == 1  # "AD " trimmed


# --- the releases in the graph ------------------------------------------------------------------


@pytest.mark.realdata
def test_counts_agree_with_sources_md(real_kg: Graph, loaded: tuple[LoadReport, LoadReport]) -> None:
    kg = real_kg
    first, second = loaded
    assert first.skipped or first.rows["variants"] == VCF_RECORDS
    assert second.skipped or second.rows["variants"] == TSV_RECORDS
    row = _one(
        kg,
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, "
        "COUNT { (s)<-[:ASSERTED_BY]-(:Evidence {source: 'clinvar'}) } AS evidence, "
        "COUNT { (s)<-[:ASSERTED_BY]-(:Variant) } AS variants, s.releasedOn AS releasedOn",
        key=CLINVAR_RELEASE,
    )
    assert row == {"status": "active", "evidence": VCF_RECORDS, "variants": VCF_RECORDS, "releasedOn": "2026-02-26"}
    row = _one(
        kg,
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, "
        "COUNT { (s)<-[:ASSERTED_BY]-(:Evidence {source: 'clinvar'}) } AS evidence, "
        "COUNT { (s)<-[:ASSERTED_BY]-(:Variant) } AS variants, "
        "COUNT { (s)<-[:ASSERTED_BY]-(:SecondaryFinding) } AS findings",
        key=MORE_RELEASE,
    )
    assert row == {"status": "active", "evidence": TSV_RECORDS, "variants": TSV_RECORDS, "findings": ACMG_ROWS}
    total = _one(
        kg,
        "MATCH (v:Variant) WHERE EXISTS { (v)-[:ASSERTED_BY]->(:Source {key: $a}) } "
        "OR EXISTS { (v)-[:ASSERTED_BY]->(:Source {key: $b}) } RETURN count(v) AS n",
        a=CLINVAR_RELEASE,
        b=MORE_RELEASE,
    )["n"]
    assert total == VCF_RECORDS + TSV_RECORDS - IN_BOTH
    shared = _one(
        kg,
        "MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(:Evidence)-[:ABOUT]->(v:Variant)"
        "<-[:ABOUT]-(:Evidence)-[:ASSERTED_BY]->(:Source {key: $new}) RETURN count(DISTINCT v) AS n",
        old=MORE_RELEASE,
        new=CLINVAR_RELEASE,
    )["n"]
    assert shared == IN_BOTH
    mapped = _one(
        kg,
        "MATCH (e:Evidence {release: $key}) WHERE EXISTS { (e)-[:FOR_DISEASE]->(:Disease) } RETURN count(e) AS n",
        key=CLINVAR_RELEASE,
    )["n"]
    assert mapped > VCF_RECORDS // 2  # 44,958 of 69,302 with DOID 2024-01-31
    findings = _one(kg, "MATCH (f:SecondaryFinding) WHERE EXISTS { (f)-[:FOR_DISEASE]->() } RETURN count(f) AS n")
    assert findings["n"] > 70  # OMIM phenotype numbers that DOID cross-references (75 of 82)


def test_brca1_expert_panel_pathogenic_has_three_stars(kg: Graph) -> None:
    row = _one(
        kg,
        "MATCH (e:Evidence {id: $id})-[:ABOUT]->(v:Variant)-[:IN_GENE]->(g:Gene) "
        "RETURN e {.source, .type, .significance, .classification, .reviewStatus, .stars, .origin, .url} AS e, "
        "v {.id, .chrom, .pos, .ref, .alt, .kind, .rsid, .gene, .hgvs, .variantType} AS v, g.symbol AS gene, "
        "[(v)-[:HAS_CONSEQUENCE]->(t) | t.id] AS consequences, [(e)-[:FOR_DISEASE]->(d) | d.id] AS diseases",
        id=f"{_vcf_key(kg)}:{BRCA1_EXPERT_PANEL}",
    )
    assert row["e"] == {
        "source": "clinvar",
        "type": "pathogenicity",
        "significance": "pathogenic",
        "classification": "pathogenic",
        "reviewStatus": "reviewed by expert panel",
        "stars": 3,
        "origin": "germline",
        "url": "https://www.ncbi.nlm.nih.gov/clinvar/variation/17662/",
    }
    assert row["v"] == {
        "id": "GRCh38:chr17:43124027:ACT:A",
        "chrom": "chr17",
        "pos": 43124027,
        "ref": "ACT",
        "alt": "A",
        "kind": "exact",
        "rsid": "rs80357914",
        "gene": "BRCA1",
        "hgvs": ["NC_000017.11:g.43124028CT[1]"],
        "variantType": "Microsatellite",
    }
    assert row["gene"] == "BRCA1" and "SO:0001589" in row["consequences"]  # frameshift_variant
    assert "DOID:5683" in row["diseases"]  # hereditary breast ovarian cancer syndrome, via MeSH/UMLS


def test_benign_variant_is_classified_benign(kg: Graph) -> None:
    row = _one(
        kg,
        "MATCH (e:Evidence {id: $id})-[:ABOUT]->(v:Variant) RETURN e.classification AS c, e.stars AS stars, v.id AS v",
        id=f"{_vcf_key(kg)}:{BRCA2_BENIGN}",
    )
    assert row == {"c": "benign", "stars": 3, "v": "GRCh38:chr13:32332592:A:C"}
    assert _visible_classifications(kg, row["v"]) == ["benign"]


@pytest.mark.realdata
def test_star_ratings_and_origins_in_the_graph(real_kg: Graph) -> None:
    kg = real_kg
    stars = {
        (r["status"], r["stars"]): r["n"]
        for r in kg.read(
            "MATCH (e:Evidence {release: $key}) RETURN e.reviewStatus AS status, e.stars AS stars, count(*) AS n",
            key=CLINVAR_RELEASE,
        )
    }
    assert stars[("reviewed by expert panel", 3)] == 8_056
    assert stars[("criteria provided, multiple submitters, no conflicts", 2)] == 18_059
    assert stars[("criteria provided, single submitter", 1)] == 27_607
    assert stars[("no assertion criteria provided", 0)] == 2_089
    guideline = _one(
        kg,
        "MATCH (e:Evidence {release: $key, reviewStatus: 'practice guideline'}) "
        "RETURN count(e) AS n, collect(DISTINCT e.stars) AS stars",
        key=MORE_RELEASE,
    )
    assert guideline == {"n": 51, "stars": [4]}
    origins = {
        r["id"]: (r["origin"], r["origins"])
        for r in kg.read(
            "MATCH (e:Evidence {release: $key}) WHERE e.recordId IN ['5299', '5298', '17662'] "
            "RETURN e.recordId AS id, e.origin AS origin, e.origins AS origins",
            key=CLINVAR_RELEASE,
        )
    }
    assert origins == {
        "5299": ("somatic", ["somatic"]),
        "5298": ("germline/somatic", ["germline", "somatic"]),
        "17662": ("germline", ["germline", "inherited", "maternal"]),
    }
    assert _one(kg, "MATCH (e:Evidence {release: $key}) RETURN collect(DISTINCT e.origin) AS o", key=MORE_RELEASE)[
        "o"
    ] == ["germline"]


def test_newer_release_wins_where_a_variant_is_in_both(kg: Graph) -> None:
    old_key, new_key = _tsv_key(kg), _vcf_key(kg)
    row = _one(
        kg,
        "MATCH (old:Evidence {release: $old})-[:ABOUT]->(v:Variant {id: $id})<-[:ABOUT]-(new:Evidence {release: $new}) "
        "RETURN old.classification AS old, new.classification AS new, old.supersededBy AS superseded",
        id=MLH1_CHANGED,
        old=old_key,
        new=new_key,
    )
    assert row == {"old": "uncertain significance", "new": "likely pathogenic", "superseded": [new_key]}
    assert _visible_classifications(kg, MLH1_CHANGED) == ["likely pathogenic"]
    marked = _one(
        kg,
        "MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(e:Evidence) WHERE $new IN coalesce(e.supersededBy, []) "
        "RETURN count(e) AS n",
        old=old_key,
        new=new_key,
    )
    assert marked["n"] >= 2  # the seeds: both MLH1 records
    # one visible classification per variant: no variant keeps two current ClinVar classifications
    doubles = _one(
        kg,
        f"MATCH (v:Variant)<-[:ABOUT]-(e:Evidence {{type: 'pathogenicity', source: 'clinvar'}}) WHERE {VISIBLE_EVIDENCE} "
        "WITH v, count(e) AS n WHERE n > 1 RETURN count(v) AS n",
        **state_params(None),
    )
    assert doubles["n"] == 0


def test_conditions_map_to_disease_ontology(kg: Graph) -> None:
    mapped = _one(
        kg,
        "MATCH (e:Evidence {release: $key}) WHERE EXISTS { (e)-[:FOR_DISEASE]->(:Disease) } RETURN count(e) AS n",
        key=_vcf_key(kg),
    )["n"]
    vcf = clinvar.find_vcf(active_release(kg, "clinvar").folder)
    expected = sum(
        1
        for row in clinvar.with_diseases(clinvar.read_records(vcf, "2026-02-26"), clinvar.disease_lookup(kg))
        if row.get("diseaseIds")
    )
    assert mapped == expected > 0
    findings = _one(
        kg,
        "MATCH (f:SecondaryFinding)-[:FOR_GENE]->(:Gene {symbol: 'MUTYH'}) "
        "RETURN [(f)-[:FOR_DISEASE]->(d) | d.id] AS diseases",
    )
    assert findings["diseases"] == ["DOID:0080410"]  # OMIM 608456, MUTYH-associated polyposis


def test_secondary_findings_tell_carriers_from_patients_at_risk(kg: Graph) -> None:
    rows = kg.read(
        "MATCH (f:SecondaryFinding)-[:FOR_GENE]->(g:Gene) WHERE g.symbol IN ['MUTYH', 'BRCA1'] "
        "RETURN g.symbol AS gene, f.inheritance AS inheritance, f.allelesRequired AS alleles, f.reportWhat AS report, "
        "f.phenotypeMim AS mim ORDER BY gene"
    )
    assert rows == [
        {"gene": "BRCA1", "inheritance": "AD", "alleles": 1, "report": "All P and LP", "mim": "604370"},
        {"gene": "MUTYH", "inheritance": "AR", "alleles": 2, "report": "P and LP (2 variants)", "mim": "608456"},
    ]


def test_reload_is_idempotent(kg: Graph) -> None:
    before = _totals(kg)
    for loader, name in ((clinvar, "clinvar"), (clinvar_more, "clinvar_more")):
        active = active_release(kg, name)
        assert loader.load(kg, active.folder, progress=False, version=active.version).skipped
    assert _totals(kg) == before


# --- the newer release wins inside its coverage, in either load order (made-up releases) ----------

FAKE_POS = 19_000_001  # chr22, outside the ClinVar windows of both files
FAKE_VARIANT = f"GRCh38:chr22:{FAKE_POS}:A:T"
FAKE_SOURCE = "test_clinvar"
FAKE_NEW, FAKE_OLD = f"{FAKE_SOURCE}@2099-01-31", f"{FAKE_SOURCE}@2098-01-01"


def _load_fake_new(graph: Graph, tmp_path: Path) -> None:
    path = _write_vcf(tmp_path / "clinvar_20990131.vcf.gz", _vcf_line(990000001, FAKE_POS, "A", "T", "Benign"))
    windows = Windows()
    release = SourceRelease(FAKE_SOURCE, "2099-01-31", "test", (path,), coverage=windows.text)
    load_release(graph, release, clinvar.stages(graph, path, "2099-01-31", windows), progress=False)


def _load_fake_old(graph: Graph, tmp_path: Path) -> None:
    line = f"22\t{FAKE_POS}\tA\tT\tPathogenic\treviewed_by_expert_panel\tKREMEN1\tmissense_variant\n"
    path = _write_tsv(tmp_path / "clinvar_20980101_test.tsv.gz", line)
    release = SourceRelease(FAKE_SOURCE, "2098-01-01", "test", (path,), coverage='{"genes": ["KREMEN1"]}')
    load_release(graph, release, clinvar_more.stages(graph, path, None, "2098-01-01"), progress=False)


@pytest.mark.parametrize("newer_first", [True, False])
def test_newest_classification_wins_in_either_order(kg: Graph, tmp_path: Path, newer_first: bool) -> None:
    before = _totals(kg)
    loads = [_load_fake_new, _load_fake_old] if newer_first else [_load_fake_old, _load_fake_new]
    try:
        for load in loads:
            load(kg, tmp_path)
        assert _visible_classifications(kg, FAKE_VARIANT) == ["benign"]
        assert _one(
            kg, "MATCH (e:Evidence {id: $id}) RETURN e.supersededBy AS by", id=f"{FAKE_OLD}:{FAKE_VARIANT}"
        ) == {"by": [FAKE_NEW]}
        # the newer release goes (as when a later release drops the variant): the older one shows again
        discard_release(kg, FAKE_NEW)
        assert _visible_classifications(kg, FAKE_VARIANT) == ["pathogenic"]
    finally:
        discard_release(kg, FAKE_NEW)
        discard_release(kg, FAKE_OLD)
    assert _totals(kg) == before


def test_each_record_is_one_evidence_and_each_allele_one_asserted_variant(kg: Graph, tmp_path: Path) -> None:
    """WRITE creates a record's Evidence once (a multi-allelic record's alleles share it) and links a
    Variant to the release once, however many records name it (kg/loaders/clinvar.py)."""
    before = _totals(kg)
    lines = (
        _vcf_line(990000011, FAKE_POS, "A", "T,G", "Benign"),  # two alleles, one record
        _vcf_line(990000012, FAKE_POS, "A", "T", "Pathogenic"),  # the first allele again, another record
    )
    path = _write_vcf(tmp_path / "clinvar_20990131.vcf.gz", *lines)
    release = SourceRelease(FAKE_SOURCE, "2099-01-31", "test", (path,), coverage=Windows().text)
    try:
        report = load_release(kg, release, clinvar.stages(kg, path, "2099-01-31"), progress=False)
        assert report.rows["variants"] == 3
        rows = kg.read(
            "MATCH (e:Evidence)-[:ASSERTED_BY]->(:Source {key: $key}) "
            "RETURN e.id AS id, e.classification AS c, [(e)-[a:ABOUT]->(v) | [v.id, a.releases]] AS about, "
            "COUNT { (e)-[:ASSERTED_BY]->() } AS asserted ORDER BY id",
            key=FAKE_NEW,
        )
        other = f"GRCh38:chr22:{FAKE_POS}:A:G"
        assert [(r["id"], r["c"], sorted(r["about"]), r["asserted"]) for r in rows] == [
            (f"{FAKE_NEW}:990000011", "benign", [[other, [FAKE_NEW]], [FAKE_VARIANT, [FAKE_NEW]]], 1),
            (f"{FAKE_NEW}:990000012", "pathogenic", [[FAKE_VARIANT, [FAKE_NEW]]], 1),
        ]
        links = kg.read(
            "MATCH (v:Variant)-[a:ASSERTED_BY]->(:Source {key: $key}) RETURN v.id AS id, count(a) AS n ORDER BY id",
            key=FAKE_NEW,
        )
        assert links == [{"id": other, "n": 1}, {"id": FAKE_VARIANT, "n": 1}]  # ...:A:G before ...:A:T
        genes = kg.read(
            "MATCH (g:Gene)-[a:ASSERTED_BY]->(:Source {key: $key}) RETURN g.symbol AS symbol, count(a) AS n",
            key=FAKE_NEW,
        )
        assert genes == [{"symbol": "KREMEN1", "n": 1}]  # written once for the release, not per row
    finally:
        discard_release(kg, FAKE_NEW)
    assert _totals(kg) == before


def test_vcf_with_a_variation_id_used_twice(kg: Graph, tmp_path: Path) -> None:
    lines = (_vcf_line(990000021, FAKE_POS, "A", "T", "Benign"), _vcf_line(990000021, FAKE_POS + 5, "A", "G", "Benign"))
    path = _write_vcf(tmp_path / "clinvar_20990131.vcf.gz", *lines)
    err = _fails_cleanly(kg, clinvar.load, path, len(VCF_HEADER.splitlines()) + 2, "clinvar")
    assert "VariationID" in err.expected and err.found == "990000021"


# --- corrupted copies (of the seed files) fail with file:line and leave nothing ------------------


def _fails_cleanly(graph: Graph, load: object, path: Path, line: int | None, name: str) -> SourceFormatError:
    before = _totals(graph)
    with pytest.raises(SourceFormatError) as err:
        load(graph, path, progress=False, version="corrupt-test")  # type: ignore[operator]
    assert err.value.path.is_relative_to(path) or err.value.path.parent == path.parent
    if line is not None:
        assert err.value.line == line, str(err.value)
    assert f"{err.value.path}:" in str(err.value)
    assert graph.read("MATCH (s:Source {key: $key}) RETURN s", key=f"{name}@corrupt-test") == []
    assert _totals(graph) == before
    return err.value


def _real_lines(path: Path, count: int) -> list[str]:
    lines: list[str] = []
    with gzip.open(path, "rt", newline="") as handle:
        for line in handle:
            lines.append(line)
            if len(lines) == count:
                break
    return lines


def test_truncated_vcf_gzip(kg: Graph, tmp_path: Path) -> None:
    vcf = SEED_VCF
    copy = tmp_path / vcf.name
    copy.write_bytes(vcf.read_bytes()[: vcf.stat().st_size * 2 // 3])
    err = _fails_cleanly(kg, clinvar.load, copy, None, "clinvar")
    assert err.line is not None and err.line > 1 and "gzip" in err.expected


def test_vcf_with_unparsable_pos(kg: Graph, tmp_path: Path) -> None:
    vcf = SEED_VCF
    lines = _real_lines(vcf, 500)
    fields = lines[49].split("\t")
    fields[1] = "45x331"
    lines[49] = "\t".join(fields)
    path = _write_vcf(tmp_path / vcf.name, *lines, header="")
    err = _fails_cleanly(kg, clinvar.load, path, 50, "clinvar")
    assert "POS" in err.expected and err.found == "45x331"


def test_vcf_with_bad_column_header(kg: Graph, tmp_path: Path) -> None:
    vcf = SEED_VCF
    lines = _real_lines(vcf, 200)
    assert lines[44].startswith("#CHROM")
    lines[44] = lines[44].replace("\tREF\tALT", "\tALT\tREF")
    path = _write_vcf(tmp_path / vcf.name, *lines, header="")
    _fails_cleanly(kg, clinvar.load, path, 45, "clinvar")


def test_tsv_with_wrong_column_count(kg: Graph, tmp_path: Path) -> None:
    tsv, acmg = SEED_TSV, SEED_ACMG
    assert acmg is not None
    lines = _real_lines(tsv, 3000)
    lines[3] = "\t".join(lines[3].split("\t")[:6]) + "\n"
    folder = tmp_path / "clinvar_more"
    folder.mkdir()
    _write_tsv(folder / tsv.name, *lines, header="")
    (folder / acmg.name).write_bytes(acmg.read_bytes())
    err = _fails_cleanly(kg, clinvar_more.load, folder, 4, "clinvar")
    assert err.path.name == tsv.name and "8 tab-separated columns" in err.expected


def test_tsv_with_bad_header(kg: Graph, tmp_path: Path) -> None:
    tsv = SEED_TSV
    lines = _real_lines(tsv, 100)
    lines[0] = lines[0].replace("ClinicalSignificance", "Significance")
    path = _write_tsv(tmp_path / tsv.name, *lines, header="")
    _fails_cleanly(kg, clinvar_more.load, path, 1, "clinvar")


def test_acmg_table_with_wrong_column_count(kg: Graph, tmp_path: Path) -> None:
    tsv, acmg = SEED_TSV, SEED_ACMG
    assert acmg is not None
    folder = tmp_path / "clinvar_more"
    folder.mkdir()
    (folder / tsv.name).write_bytes(tsv.read_bytes())
    text = acmg.read_text(encoding="utf-8").replace("TP53\t191170\tLi-Fraumeni syndrome\t", "TP53\t191170\t")
    (folder / acmg.name).write_text(text, encoding="utf-8")
    err = _fails_cleanly(kg, clinvar_more.load, folder, None, "clinvar")
    assert err.path.name == acmg.name and err.line is not None and "8 tab-separated columns" in err.expected

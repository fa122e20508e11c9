"""The pharmacogenomics loaders (pharmcat, pharmgkb, fda): the active releases (the seeds, whose
PharmCAT genes are complete, or the real releases in ../shared/data/pgx once loaded; see
tests/releases.py), the real releases' counts (``realdata``), corrupted copies of the seed files.

Counts come from ../shared/data/pgx/SOURCES.md (119 guideline files, 20 definition files, 5,007
PharmGKB clinical annotations) or, where SOURCES.md gives none (FDA rows, recommendations), from
the files themselves; facts are checked against the files (CYP2C19*2 = rs4244285 G>A at
chr10:94781859, the CPIC clopidogrel and DPYD recommendations).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

from kg.db import Graph
from kg.loaders import fda, pharmcat, pharmgkb
from kg.loaders.errors import SourceFormatError
from kg.loaders.pgx_files import html_to_text
from kg.loaders.seeds import default_seed_dir
from tests.releases import active_release

SEED_PGX = default_seed_dir() / "pgx"


@pytest.fixture(scope="module")
def real_pgx(seeded: Graph, data_dir: Path) -> Graph:
    """The three real PGx releases, loaded once (a second load of the same release is a skip)."""
    pharmcat.load(seeded, data_dir / "pgx" / "pharmcat", progress=False)
    pharmgkb.load(seeded, data_dir / "pgx" / "pharmgkb", progress=False)
    fda.load(seeded, data_dir / "pgx" / "fda", progress=False)
    return seeded


@pytest.fixture(scope="module")
def pgx(seeded: Graph) -> Graph:
    """The graph with its active PGx releases: the seeds, or the real releases once loaded."""
    return seeded


def one(graph: Graph, cypher: str, **params: object) -> dict:
    rows = graph.read(cypher, **params)
    assert len(rows) == 1, rows
    return rows[0]


def graph_counts(graph: Graph) -> tuple[int, int]:
    return (
        graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"],
        graph.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"],
    )


# --- parsers (no database) -----------------------------------------------------------------------


def test_parsers_small_pieces() -> None:
    assert pharmcat.haplotype_id("CYP2C19", "*2") == "CYP2C19*2"
    assert pharmcat.haplotype_id("DPYD", "c.1905+1G>A (*2A)") == "DPYD c.1905+1G>A (*2A)"
    assert pharmcat.leading_score("1.5 (Intermediate Metabolizer)") == "1.5"
    assert pharmcat.leading_score("≥4.0") == "≥4.0"
    assert pharmcat.leading_score("Poor Metabolizer") is None
    assert pharmcat.alleles_of({"*28": 2}) == ["*28", "*28"]
    assert fda.biomarker_symbols("BCR-ABL1 (Philadelphia chromosome)") == ["BCR-ABL1", "BCR", "ABL1"]
    assert fda.biomarker_symbols("Chromosome 5q") == []
    assert fda.association_genes("TPMT and/or NUDT15") == ["TPMT", "NUDT15"]
    text, comments = pharmcat.split_recommendation_text(
        '<p>Use A &amp; B.</p>\n<h4 id="x">Other Considerations</h4>\n<p>Note.</p>'
    )
    assert (text, comments) == ("Use A & B.", "Note.")
    assert html_to_text("<ul><li>one</li><li>two</li></ul>") == "- one\n- two"


@pytest.mark.realdata
def test_file_counts_agree_with_sources_md(data_dir: Path) -> None:
    files = pharmcat.find_files(data_dir / "pgx" / "pharmcat")
    assert len(files.guidelines) == 119
    assert sum(p.name.startswith("CPIC_") for p in files.guidelines) == 56
    assert sum(p.name.startswith("DPWG_") for p in files.guidelines) == 63
    assert len(files.definitions) == 20
    assert files.cpic_drugs is not None  # ../cpic/cpic_drug.tsv beside the pharmcat folder


# --- pharmcat ------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_pharmcat_release_and_counts(real_pgx: Graph, data_dir: Path) -> None:
    pgx = real_pgx
    src = one(pgx, "MATCH (s:Source {name: 'pharmcat'}) RETURN s.version AS v, s.status AS status")
    assert src == {"v": "2024-03-11-09-29+cpic-v1.38.0-1-g39f50e7", "status": "active"}
    # 20 definition files -> defined haplotypes of 20 genes, every one of them a pgx Gene.
    genes = pgx.read("MATCH (h:Haplotype {defined: true}) RETURN DISTINCT h.gene AS g ORDER BY g")
    assert len(genes) == 20
    flagged = one(pgx, "MATCH (g:Gene) WHERE g.symbol IN $s AND g.pgx RETURN count(g) AS n", s=[r["g"] for r in genes])
    assert flagged["n"] == 20
    # Every recommendation of the 119 guideline files; two CPIC files carry none: warfarin (an
    # algorithm) and peginterferon/ribavirin with IFNL3 (no phenotype table either).
    files = pharmcat.find_files(data_dir / "pgx" / "pharmcat")
    expected = sum(len(json.loads(p.read_text())["recommendations"]) for p in files.guidelines)
    assert expected == 2586
    counted = one(
        pgx,
        "MATCH (r:Recommendation)-[:ASSERTED_BY]->(:Source {name: 'pharmcat'}) "
        "RETURN count(r) AS n, count(DISTINCT r.file) AS files",
    )
    assert counted == {"n": 2586, "files": 117}
    no_rec = one(pgx, "MATCH (r:Recommendation {strength: 'No recommendation'}) RETURN count(r) AS n")
    assert no_rec["n"] == 247  # 107 CPIC + 140 DPWG "No recommendation" rows, kept as explicit states
    unlinked = one(
        pgx,
        "MATCH (r:Recommendation) WHERE NOT (r)-[:FOR_PHENOTYPE]->() OR NOT (r)-[:FOR_DRUG]->() RETURN count(r) AS n",
    )
    assert unlinked["n"] == 0


def test_cyp2c19_star2_is_defined_by_rs4244285(pgx: Graph) -> None:
    hap = one(
        pgx,
        "MATCH (h:Haplotype {id: 'CYP2C19*2'}) RETURN h.gene AS gene, h.name AS name, "
        "h.function AS function, h.reference AS reference",
    )
    assert hap == {"gene": "CYP2C19", "name": "*2", "function": "No function", "reference": False}
    edge = one(
        pgx,
        "MATCH (:Haplotype {id: 'CYP2C19*2'})-[r:DEFINED_BY]->(v:Variant {rsid: 'rs4244285'}) "
        "RETURN v.id AS id, v.chrom AS chrom, v.pos AS pos, v.ref AS ref, v.alt AS alt, "
        "r.allele AS allele, r.iupac AS iupac",
    )
    assert edge == {
        "id": "GRCh38:chr10:94781859:G:A",
        "chrom": "chr10",
        "pos": 94781859,
        "ref": "G",
        "alt": "A",
        "allele": "A",
        "iupac": False,
    }
    # The definition's IUPAC cell R (A or G) at chr10:94775507 G>A is an optional ("may carry") edge.
    wobble = one(
        pgx,
        "MATCH (:Haplotype {id: 'CYP2C19*2'})-[r:DEFINED_BY {iupac: true}]->(v:Variant) "
        "RETURN v.id AS id, r.allele AS allele",
    )
    assert wobble == {"id": "GRCh38:chr10:94775507:G:A", "allele": "R"}
    gene = one(pgx, "MATCH (:Variant {id: 'GRCh38:chr10:94781859:G:A'})-[:IN_GENE]->(g:Gene) RETURN g.symbol AS s")
    assert gene["s"] == "CYP2C19"
    # The reference allele (*38 in CYP2C19) defines nothing.
    ref = one(
        pgx, "MATCH (h:Haplotype {id: 'CYP2C19*38'}) RETURN h.reference AS r, size([(h)-[:DEFINED_BY]->() | 1]) AS n"
    )
    assert ref == {"r": True, "n": 0}


def test_cpic_clopidogrel_poor_metabolizer(pgx: Graph) -> None:
    rows = pgx.read(
        "MATCH (d:Drug {id: 'clopidogrel'})<-[:FOR_DRUG]-(r:Recommendation {guideline: 'CPIC'})"
        "-[:FOR_PHENOTYPE]->(:Phenotype {id: 'CYP2C19:Poor Metabolizer'}) "
        "RETURN r.population AS population, r.strength AS strength, r.text AS text, r.citations AS pmids, "
        "d.rxnormId AS rxnorm ORDER BY population"
    )
    assert [(r["population"], r["strength"]) for r in rows] == [
        ("CVI ACS PCI", "Strong"),
        ("CVI non-ACS non-PCI", "Moderate"),
        ("NVI", "Moderate"),
    ]
    acs = rows[0]
    assert (
        acs["text"]
        == "Avoid clopidogrel if possible. Use prasugrel or ticagrelor at standard dose if no contraindication."
    )
    assert "35034351" in acs["pmids"]  # the 2022 CPIC clopidogrel update
    assert acs["rxnorm"] == "32968"  # from cpic/cpic_drug.tsv


def test_dpyd_activity_score_and_fluoropyrimidines(pgx: Graph) -> None:
    phen = one(pgx, "MATCH (p:Phenotype {id: 'DPYD:1.0'}) RETURN p.activityScore AS score, p.phenotype AS name")
    assert phen == {"score": "1.0", "name": "Intermediate Metabolizer"}
    rows = pgx.read(
        "MATCH (p:Phenotype {id: 'DPYD:1.0'})<-[:FOR_PHENOTYPE]-(r:Recommendation {guideline: 'CPIC'})-[:FOR_DRUG]->(d:Drug) "
        "RETURN d.id AS drug, r.strength AS strength, r.text AS text ORDER BY drug"
    )
    assert [r["drug"] for r in rows] == ["capecitabine", "fluorouracil"]
    assert all(r["strength"] == "Strong" and r["text"].startswith("Reduce starting dose by 50%") for r in rows)
    # DPWG keys its DPYD advice "1.5 (Intermediate Metabolizer)": a Phenotype of its own, score 1.5.
    dpwg = one(
        pgx,
        "MATCH (p:Phenotype {id: 'DPYD:1.5 (Intermediate Metabolizer)'})<-[:FOR_PHENOTYPE]-"
        "(r:Recommendation {guideline: 'DPWG'})-[:FOR_DRUG]->(:Drug {id: 'capecitabine'}) "
        "RETURN p.activityScore AS score",
    )
    assert dpwg["score"] == "1.5"


def test_diplotype_to_phenotype(pgx: Graph) -> None:
    rows = pgx.read(
        "MATCH (:Diplotype {id: 'CYP2C19:*2/*2'})-[r:HAS_PHENOTYPE]->(p:Phenotype) "
        "RETURN r.guideline AS guideline, p.id AS id ORDER BY guideline"
    )
    assert rows == [
        {"guideline": "CPIC", "id": "CYP2C19:Poor Metabolizer"},
        {"guideline": "DPWG", "id": "CYP2C19:Poor Metabolizer"},
    ]
    # Activity-score genes map to the score; the edge keeps the guideline's phenotype name.
    dpyd = one(
        pgx,
        "MATCH (:Diplotype {id: 'DPYD:Reference/c.1905+1G>A (*2A)'})-[r:HAS_PHENOTYPE {guideline: 'CPIC'}]->(p) "
        "RETURN p.id AS id, r.phenotype AS phenotype, r.activityScore AS score",
    )
    assert dpyd == {"id": "DPYD:1.0", "phenotype": "Intermediate Metabolizer", "score": "1.0"}
    # DPWG irinotecan is keyed by UGT1A1 diplotype: the Diplotype reaches that key too.
    ugt = one(
        pgx,
        "MATCH (:Diplotype {id: 'UGT1A1:*28/*28'})-[:HAS_PHENOTYPE {guideline: 'DPWG'}]->(p:Phenotype {id: 'UGT1A1:*28/*28'})"
        "<-[:FOR_PHENOTYPE]-(r:Recommendation)-[:FOR_DRUG]->(:Drug {id: 'irinotecan'}) RETURN count(r) AS n",
    )
    assert ugt["n"] == 1


def test_each_guideline_stores_its_gene_sets_on_its_release_edge(pgx: Graph) -> None:
    """``geneSetDrugs`` / ``geneSetGenes`` on the Guideline's ASSERTED_BY edge (kg/loaders/pharmcat.py
    GENE_SETS) are the (drug, genes) pairs of the release's recommendations of the guideline, each once."""
    key = active_release(pgx, "pharmcat").key
    rows = pgx.read(
        "MATCH (gl:Guideline)-[a:ASSERTED_BY]->(:Source {key: $key}) "
        "RETURN gl.id AS id, a.geneSetDrugs AS drugs, a.geneSetGenes AS genes, COLLECT { "
        "  MATCH (gl)<-[:PART_OF]-(rec:Recommendation)-[:ASSERTED_BY]->(:Source {key: $key}) "
        "  MATCH (rec)-[:FOR_DRUG]->(d:Drug) RETURN DISTINCT [d.id] + rec.genes } AS walked",
        key=key,
    )
    assert len(rows) >= 20
    for row in rows:
        assert row["drugs"] is not None and len(row["drugs"]) == len(row["genes"]), row["id"]
        stored = list(zip(row["drugs"], [tuple(g.split(",")) if g else () for g in row["genes"]], strict=True))
        assert stored == sorted(set(stored)), row["id"]  # each pair once, in order
        assert set(stored) == {(w[0], tuple(sorted(w[1:]))) for w in row["walked"]}, row["id"]
    # CPIC azathioprine keys on NUDT15 and TPMT together; CPIC warfarin (an algorithm) has no lookup
    assert any("NUDT15,TPMT" in r["genes"] for r in rows if "azathioprine" in r["drugs"])
    assert [] in [r["drugs"] for r in rows]  # stored empty: no set, not "not stored"


@pytest.mark.realdata
def test_outside_call_genes_have_phenotypes_and_recommendations(real_pgx: Graph) -> None:
    """CYP2D6 and the HLA, MT-RNR1 tables are in the real PharmCAT release, not in the seeds."""
    pgx = real_pgx
    # CPIC and DPWG disagree on CYP2D6 activity score 2.5; both names are kept.
    d6 = one(pgx, "MATCH (p:Phenotype {id: 'CYP2D6:2.5'}) RETURN p.cpicPhenotype AS cpic, p.dpwgPhenotype AS dpwg")
    assert d6 == {"cpic": "Ultrarapid Metabolizer", "dpwg": "Normal Metabolizer"}
    rows = pgx.read(
        "MATCH (p:Phenotype {id: 'HLA-B:*57:01 positive'})<-[:FOR_PHENOTYPE]-(r:Recommendation)"
        "-[:FOR_DRUG]->(:Drug {id: 'abacavir'}) RETURN r.guideline AS g, r.text AS text ORDER BY g"
    )
    assert [r["g"] for r in rows] == ["CPIC", "DPWG"]
    assert rows[0]["text"] == "Abacavir is not recommended"
    for pid in ("MT-RNR1:increased risk of aminoglycoside-induced hearing loss", "CYP2D6:0.0", "HLA-A:*31:01 positive"):
        assert one(pgx, "MATCH (p:Phenotype {id: $id})<-[:FOR_PHENOTYPE]-(r) RETURN count(r) > 0 AS ok", id=pid)["ok"]
    multi = one(
        pgx,
        "MATCH (r:Recommendation {file: 'CPIC_amitriptyline_and_CYP2C19_CYP2D6.json'}) "
        "WHERE r.lookupKey = $key RETURN size([(r)-[:FOR_PHENOTYPE]->(p) | p.id]) AS n",
        key=json.dumps({"CYP2C19": "Poor Metabolizer", "CYP2D6": "1.0"}, sort_keys=True),
    )
    assert multi["n"] == 2


def test_every_guideline_names_its_drugs(pgx: Graph, data_dir: Path) -> None:
    """A Guideline per file, linked to every drug it names, even without recommendation rows (issue 15)."""
    files = pharmcat.find_files(data_dir / "pgx" / "pharmcat")
    expected = {}
    for path in files.guidelines:
        raw = json.loads(path.read_text())
        expected[raw["guideline"]["id"]] = sorted(c["name"].lower() for c in raw["guideline"]["relatedChemicals"])
    rows = pgx.read(
        "MATCH (gl:Guideline)-[:ASSERTED_BY]->(:Source {name: 'pharmcat'}) "
        "RETURN gl.id AS id, [(gl)-[:FOR_DRUG]->(d:Drug) | d.id] AS drugs"
    )
    assert {r["id"]: sorted(r["drugs"]) for r in rows} == expected
    warfarin = one(
        pgx,
        "MATCH (gl:Guideline {source: 'CPIC'})-[:FOR_DRUG]->(:Drug {id: 'warfarin'}) "
        "RETURN gl.recommendations AS n, gl.genes AS genes, COUNT { (gl)<-[:PART_OF]-() } AS parts",
    )
    assert warfarin == {"n": 0, "genes": ["CYP2C9", "CYP4F2", "VKORC1"], "parts": 0}
    misfiled = one(
        pgx,
        "MATCH (r:Recommendation) WHERE COUNT { (r)-[:PART_OF]->(:Guideline {id: r.guidelineId}) } <> 1 "
        "OR COUNT { (r)-[:PART_OF]->() } <> 1 RETURN count(r) AS n",
    )
    assert misfiled["n"] == 0


# --- pharmgkb ------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_pharmgkb_counts_and_links(real_pgx: Graph) -> None:
    pgx = real_pgx
    src = one(pgx, "MATCH (s:Source {name: 'pharmgkb'}) RETURN s.version AS v")
    assert src["v"] == "2022-07-05"
    kinds = {
        r["kind"]: r["n"]
        for r in pgx.read("MATCH (e:Evidence {source: 'pharmgkb'}) RETURN e.kind AS kind, count(e) AS n")
    }
    assert kinds == {"clinical annotation": 5007, "drug label": 837}
    levels = {
        r["level"]: r["n"]
        for r in pgx.read(
            "MATCH (e:Evidence {source: 'pharmgkb', kind: 'clinical annotation'}) RETURN e.level AS level, count(e) AS n"
        )
    }
    assert levels == {"1A": 289, "1B": 16, "2A": 41, "2B": 24, "3": 4370, "4": 267}
    snp = one(
        pgx,
        "MATCH (e:Evidence {id: 'pharmgkb:982040598'}) "
        "OPTIONAL MATCH (e)-[:ABOUT]->(v:Variant) OPTIONAL MATCH (e)-[:FOR_DRUG]->(d:Drug) "
        "OPTIONAL MATCH (e)-[:ABOUT]->(g:Gene) "
        "RETURN e.level AS level, e.type AS type, e.phenotypeCategory AS cat, collect(DISTINCT v.id) AS variants, "
        "collect(DISTINCT d.id) AS drugs, collect(DISTINCT g.symbol) AS genes",
    )
    assert snp == {
        "level": "3",
        "type": "pgx",
        "cat": ["Efficacy"],
        "variants": ["GRCh38:chr10:94781859:G:A"],
        "drugs": ["prasugrel"],
        "genes": ["CYP2C19"],
    }
    star = pgx.read(
        "MATCH (:Evidence {id: 'pharmgkb:1451245600'})-[:ABOUT]->(h:Haplotype) RETURN h.id AS id ORDER BY id"
    )
    assert [r["id"] for r in star] == ["CYP2C19*1", "CYP2C19*2", "CYP2C19*3"]
    plavix = one(pgx, "MATCH (:DrugName {name: 'plavix'})-[:NAME_OF]->(d:Drug) RETURN d.id AS id, d.pharmgkbId AS pa")
    assert plavix == {"id": "clopidogrel", "pa": "PA449053"}


# --- fda -----------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_fda_rows_and_links(real_pgx: Graph, data_dir: Path) -> None:
    pgx = real_pgx
    biomarkers = json.loads((data_dir / "pgx" / "fda" / fda.BIOMARKER_FILE).read_text())["table"]
    associations = json.loads((data_dir / "pgx" / "fda" / fda.ASSOCIATION_FILE).read_text())["table"]
    assert (len(biomarkers), len(associations)) == (517, 111)
    kinds = {
        r["kind"]: r["n"] for r in pgx.read("MATCH (e:Evidence {source: 'fda'}) RETURN e.kind AS kind, count(e) AS n")
    }
    assert kinds == {"biomarker in labeling": 517, "pharmacogenetic association": 111}
    abacavir = one(
        pgx,
        "MATCH (e:Evidence {id: 'fda:biomarker:abacavir:hla-b'})-[:FOR_DRUG]->(:Drug {id: 'abacavir'}) "
        "MATCH (e)-[:ABOUT]->(g:Gene) RETURN e.level AS level, e.labelingSections AS sections, g.symbol AS gene",
    )
    assert abacavir["level"] == "FDA label" and abacavir["gene"] == "HLA-B"
    assert "Boxed Warning" in abacavir["sections"]


def test_fda_association_links_each_gene(pgx: Graph) -> None:
    thiopurine = pgx.read(
        "MATCH (e:Evidence {source: 'fda', kind: 'pharmacogenetic association'})-[:FOR_DRUG]->(:Drug {id: 'mercaptopurine'}) "
        "MATCH (e)-[:ABOUT]->(g:Gene) RETURN e.level AS level, g.symbol AS gene ORDER BY gene"
    )
    assert [(r["level"], r["gene"]) for r in thiopurine] == [
        ("FDA association: recommendation", "NUDT15"),
        ("FDA association: recommendation", "TPMT"),
    ]


# --- idempotence and bad input -------------------------------------------------------------------


def test_reload_is_idempotent(pgx: Graph) -> None:
    before = graph_counts(pgx)
    for module, name in ((pharmcat, "pharmcat"), (pharmgkb, "pharmgkb"), (fda, "fda")):
        active = active_release(pgx, name)
        report = module.load(pgx, active.folder, progress=False, version=active.version)
        assert report.skipped, report.summary()
    assert graph_counts(pgx) == before


def _mirror(src: Path, dst: Path) -> None:
    """A copy of a release folder made of symlinks (the test then replaces one file)."""
    for path in src.rglob("*"):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, target)


def _assert_failed_cleanly(graph: Graph, key: str, before: tuple[int, int]) -> None:
    assert graph.read("MATCH (s:Source {key: $key}) RETURN s", key=key) == []
    assert graph_counts(graph) == before


def test_broken_guideline_json_fails_cleanly(pgx: Graph, tmp_path: Path) -> None:
    copy = tmp_path / "pharmcat"
    _mirror(SEED_PGX / "pharmcat", copy)
    broken = copy / "guidelines" / "DPWG_clopidogrel_and_CYP2C19.json"
    text = broken.read_text()
    broken.unlink()
    cut = text.index('"lookupKey"', len(text) // 2)
    broken.write_text(text[:cut] + text[cut + 1 :])  # drop the opening quote of a key
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(broken.read_text())
    before = graph_counts(pgx)
    with pytest.raises(SourceFormatError) as err:
        pharmcat.load(pgx, copy, progress=False, version="broken-json")
    assert err.value.path.name == broken.name
    assert err.value.line == expected.value.lineno
    assert f"{broken.name}:{expected.value.lineno}" in str(err.value)
    _assert_failed_cleanly(pgx, "pharmcat@broken-json", before)


def test_truncated_definition_gzip_fails_cleanly(pgx: Graph, tmp_path: Path) -> None:
    copy = tmp_path / "pharmcat"
    _mirror(SEED_PGX / "pharmcat", copy)
    ryr1 = copy / "definition" / "alleles" / "CYP2C19_translation.json.gz"
    data = ryr1.read_bytes()
    ryr1.unlink()
    ryr1.write_bytes(data[: len(data) // 2])
    before = graph_counts(pgx)
    with pytest.raises(SourceFormatError) as err:
        pharmcat.load(pgx, copy, progress=False, version="truncated-gzip")
    assert err.value.path.name == "CYP2C19_translation.json.gz"
    assert err.value.line is not None  # the whole seed file is one gzip read: line 1 (RYR1's real file: deeper)
    assert "gzip" in err.value.expected
    _assert_failed_cleanly(pgx, "pharmcat@truncated-gzip", before)


def test_pharmgkb_wrong_column_count_fails_cleanly(pgx: Graph, tmp_path: Path) -> None:
    lines = (SEED_PGX / "pharmgkb" / "clinical_annotations.tsv").read_text().split("\n")
    lines[4] = "\t".join(lines[4].split("\t")[:-2])  # line 5 loses two columns
    (tmp_path / "clinical_annotations.tsv").write_text("\n".join(lines))
    before = graph_counts(pgx)
    with pytest.raises(SourceFormatError) as err:
        pharmgkb.load(pgx, tmp_path, progress=False, version="wrong-columns")
    assert (err.value.path.name, err.value.line) == ("clinical_annotations.tsv", 5)
    assert "15 tab-separated columns" in str(err.value) and "13 columns" in str(err.value)
    _assert_failed_cleanly(pgx, "pharmgkb@wrong-columns", before)


def test_pharmgkb_bad_header_and_fda_bad_json(pgx: Graph, tmp_path: Path) -> None:
    text = (SEED_PGX / "pharmgkb" / "clinical_annotations.tsv").read_text()
    (tmp_path / "clinical_annotations.tsv").write_text(text.replace("Level of Evidence", "Level", 1))
    before = graph_counts(pgx)
    with pytest.raises(SourceFormatError) as err:
        pharmgkb.load(pgx, tmp_path / "clinical_annotations.tsv", progress=False, version="bad-header")
    assert err.value.line == 1 and "header" in err.value.expected
    fda_dir = tmp_path / "fda"
    fda_dir.mkdir()
    shutil.copy(SEED_PGX / "fda" / fda.ASSOCIATION_FILE, fda_dir)
    (fda_dir / fda.BIOMARKER_FILE).write_text('{"table": [{"Drug": "Abacavir", "Biomarker": "HLA-B"}]}')
    with pytest.raises(SourceFormatError) as err:
        fda.load(pgx, fda_dir, progress=False, version="bad-rows")
    assert "Therapeutic Area" in str(err.value)
    _assert_failed_cleanly(pgx, "pharmgkb@bad-header", before)
    _assert_failed_cleanly(pgx, "fda@bad-rows", before)


def test_truncated_gzip_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.json.gz"
    payload = ("[\n" + ",\n".join(f'{{"n": {i}}}' for i in range(20000)) + "\n]\n").encode()
    data = gzip.compress(payload)
    path.write_bytes(data[: len(data) // 2])
    from kg.loaders.pgx_files import read_json

    with pytest.raises(SourceFormatError) as err:
        read_json(path)
    assert err.value.line is not None and 1 < err.value.line < 20002

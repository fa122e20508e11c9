"""The seed set: subsets of the real releases (seeds/curate.py), loaded by the real loaders as
``<source>@seed-<version>``, and the demo patient.

The test session shares one Neo4j with modules that load the real releases (``real_data``), in
any order. So the graph checks read state through Source keys: a fact must be asserted by an
active release of its source, which is the seed release unless a real release has replaced it,
and a real release, once loaded, must stay. Nothing here replaces a real release by a seed one.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.db import Graph
from kg.loaders import registry, so
from kg.loaders.pharmcat_files import find_files, read_definitions, read_gene_phenotypes
from kg.loaders.seeds import (
    LEGACY_SOURCE,
    SeedReport,
    default_seed_dir,
    is_seed_release,
    load_seeds,
    seed_sources,
    seed_version,
)
from kg.matcher.genotype import Genotype
from kg.matcher.pgx.caller import call_gene
from kg.matcher.pgx.phenotype import PhenotypeTables
from kg.matcher.vcf import open_vcf
from tests.releases import active_release

SEEDS = default_seed_dir()
VERSION = seed_version(SEEDS)
DEMO = SEEDS / "patients" / "demo.vcf"
PHARMCAT = SEEDS / "pgx" / "pharmcat"


def _text(path: Path) -> str:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            return handle.read()
    return path.read_text(encoding="utf-8")


def _lines(path: Path) -> list[str]:
    return _text(path).splitlines()


def _seed_files() -> Iterator[Path]:
    for spec in seed_sources(SEEDS):
        yield from (p for p in sorted((SEEDS / spec.default_path).rglob("*")) if p.is_file())


# --- the files (no database) ---------------------------------------------------------------


def test_seed_folders_mirror_the_data_directory_and_stay_small() -> None:
    assert (
        VERSION.startswith("seed-")
        and "seed-" + json.loads((SEEDS / "manifest.json").read_text())["version"] == VERSION
    )
    names = [spec.name for spec in seed_sources(SEEDS)]
    assert names == ["so", "hgnc", "doid", "civic", "clinvar", "clinvar_more", "pharmcat", "pharmgkb", "fda"]
    assert not (SEEDS / "genes.json").exists() and not (SEEDS / "diseases.json").exists()
    total = sum(p.stat().st_size for p in SEEDS.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert total < 700_000, f"seeds/ holds {total:,} bytes"


def _record_counts(root: Path) -> dict[str, int]:
    """Records per source file, counted the same way in a seed folder and in the real release."""

    def data_lines(path: Path, skip: str = "#") -> int:
        return sum(1 for line in _lines(path)[1:] if line and not line.startswith(skip))

    civic = root / "civic"
    pharmcat = root / "pgx" / "pharmcat"
    return {
        "hgnc genes": data_lines(root / "genes" / "hgnc_complete_set_2024-10.txt.gz"),
        "doid terms": _text(root / "ontology" / "doid_2024-01-31.obo.gz").count("[Term]"),
        "so terms": _text(root / "ontology" / "so_2024-11-18.obo.gz").count("[Term]"),
        "civic evidence": data_lines(civic / "01-Aug-2024-ClinicalEvidenceSummaries.tsv"),
        "civic assertions": data_lines(civic / "01-Aug-2024-AssertionSummaries.tsv"),
        "civic variants": data_lines(civic / "01-Aug-2024-VariantSummaries.tsv"),
        "civic vcf records": sum(
            1 for line in _lines(civic / "01-Aug-2024-civic_accepted.vcf") if not line.startswith("#")
        ),
        "chain blocks": sum(
            1 for line in _lines(civic / "hg19ToHg38.over.chain.gz") if line and not line.startswith("chain")
        ),
        "clinvar records": sum(
            1
            for line in _lines(root / "clinvar" / "clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz")
            if not line.startswith("#")
        ),
        "clinvar_more records": data_lines(root / "clinvar_more" / "clinvar_20240601_GRCh38_selected_genes.tsv.gz"),
        "pharmcat definitions": len(list((pharmcat / "definition" / "alleles").glob("*_translation.json*"))),
        "pharmcat guidelines": len(list((pharmcat / "guidelines").glob("*.json*"))),
        "pharmgkb annotations": data_lines(root / "pgx" / "pharmgkb" / "clinical_annotations.tsv"),
        "fda biomarker rows": len(json.loads(_text(root / "pgx" / "fda" / "fda_pgx_biomarker_table.json"))["table"]),
    }


@pytest.mark.realdata
def test_every_seed_folder_is_a_strict_subset_of_its_release(data_dir: Path) -> None:
    seed, real = _record_counts(SEEDS), _record_counts(data_dir)
    for what, count in seed.items():
        assert 0 < count < real[what], f"{what}: {count} in the seeds, {real[what]} in the release"
    assert seed["civic evidence"] == 29 and seed["clinvar records"] == 16


@pytest.mark.realdata
def test_seed_records_are_unmodified_records_of_the_release(data_dir: Path) -> None:
    line_files = [
        "civic/01-Aug-2024-ClinicalEvidenceSummaries.tsv",
        "civic/01-Aug-2024-AssertionSummaries.tsv",
        "civic/01-Aug-2024-MolecularProfileSummaries.tsv",
        "civic/01-Aug-2024-VariantSummaries.tsv",
        "civic/01-Aug-2024-GeneSummaries.tsv",
        "civic/01-Aug-2024-civic_accepted.vcf",
        "clinvar/clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz",
        "clinvar_more/clinvar_20240601_GRCh38_selected_genes.tsv.gz",
        "clinvar_more/acmg_sf_v3.0_secondary_findings.tsv",
        "genes/hgnc_complete_set_2024-10.txt.gz",
        "pgx/cpic/cpic_drug.tsv",
        "pgx/pharmgkb/clinical_annotations.tsv",
        "pgx/pharmgkb/drugLabels.tsv",
        "pgx/pharmgkb/drugs.tsv.gz",
    ]
    for relative in line_files:
        seed, real = _lines(SEEDS / relative), _lines(data_dir / relative)
        assert seed[0] == real[0], f"{relative}: the first line differs"
        assert set(seed) <= set(real), f"{relative}: {sorted(set(seed) - set(real))[:1]} is not in the release"
    # VCFs: the release's whole header
    for relative in (
        "clinvar/clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz",
        "civic/01-Aug-2024-civic_accepted.vcf",
    ):
        assert [x for x in _lines(SEEDS / relative) if x.startswith("#")] == [
            x for x in _lines(data_dir / relative) if x.startswith("#")
        ]
    # PharmCAT files are whole files of the release (some stored gzipped)
    for path in sorted(PHARMCAT.rglob("*.json*")):
        relative = path.relative_to(SEEDS)
        if path.name == "exemptions.json":
            real_entries = json.loads(_text(data_dir / relative))
            assert all(entry in real_entries for entry in json.loads(_text(path)))
            continue
        candidates = [data_dir / relative, data_dir / str(relative).removesuffix(".gz"), data_dir / f"{relative}.gz"]
        real_file = next(p for p in candidates if p.exists())
        assert _text(path) == _text(real_file), f"{relative} differs from the release"
    # FDA rows are rows of the release's tables
    for name in ("fda_pgx_biomarker_table.json", "fda_pgx_associations_table.json"):
        real_rows = json.loads(_text(data_dir / "pgx" / "fda" / name))["table"]
        assert all(row in real_rows for row in json.loads(_text(SEEDS / "pgx" / "fda" / name))["table"])


@pytest.mark.realdata
def test_curate_rebuilds_exactly_the_committed_seeds(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SEEDS / "curate.py"), "--check", "--data", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the demo patient (no database) --------------------------------------------------------


def _demo_genotypes() -> dict[tuple[str, int], Genotype]:
    out: dict[tuple[str, int], Genotype] = {}
    for line in _lines(DEMO):
        if line.startswith("#"):
            continue
        chrom, pos, _, ref, alt, _, _, _, _, gt = line.split("\t")
        alleles = [ref, *alt.split(",")]
        out[(chrom, int(pos))] = Genotype(chrom, int(pos), ref, tuple(alleles[int(i)] for i in re.split(r"[/|]", gt)))
    return out


def test_demo_vcf_is_grch38_with_one_sample_and_cites_its_facts() -> None:
    vcf = open_vcf(DEMO)
    assert vcf.sample == "DEMO" and vcf.samples == ("DEMO",)
    assert vcf.build.build is not None and vcf.build.build.value == "GRCh38"
    records = [line.split("\t") for line in _lines(DEMO) if not line.startswith("#")]
    assert all(r[7].startswith("SEED=") and (r[2].startswith("rs") or r[2] == ".") for r in records)
    variants = {
        r[7].split("=", 1)[1].split("_")[0]: (r[0], int(r[1]), r[3], r[4], r[9]) for r in records if r[9] != "0/0"
    }
    assert variants["civic:variant:12"] == ("chr7", 140753336, "A", "T", "0/1")  # BRAF V600E
    assert variants["clinvar:9325"][4] == "0/1" and variants["clinvar:5293"][4] == "0/1"


def test_demo_patient_is_cyp2c19_poor_metabolizer_and_dpyd_activity_1_5() -> None:
    genotypes = _demo_genotypes()
    definitions = read_definitions(find_files(PHARMCAT))
    tables = PhenotypeTables(read_gene_phenotypes(find_files(PHARMCAT)))
    cyp2c19 = call_gene(definitions["CYP2C19"], genotypes)
    assert cyp2c19.diplotypes == ["*2/*2"] and not cyp2c19.missing_positions and not cyp2c19.ambiguous
    (pheno,) = tables.phenotype_for_call(cyp2c19)
    assert pheno.phenotype == "Poor Metabolizer" and pheno.lookup_key == "Poor Metabolizer"
    dpyd = call_gene(definitions["DPYD"], genotypes)
    assert not dpyd.missing_positions
    (pheno,) = tables.phenotype_for_call(dpyd)
    assert pheno.activity_score == "1.5" and pheno.phenotype == "Intermediate Metabolizer"


# --- the graph ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds(seeded: Graph) -> Graph:
    """The shared graph after load_seeds (the ``seeded`` fixture loaded them; loading again is harmless)."""
    load_seeds(seeded, progress=False)
    return seeded


def _active(graph: Graph, name: str) -> list[str]:
    return [
        r["key"] for r in graph.read("MATCH (s:Source {name: $name, status: 'active'}) RETURN s.key AS key", name=name)
    ]


def _snapshot(graph: Graph) -> dict[str, object]:
    return graph.read(
        "CALL { MATCH (n) RETURN count(n) AS nodes } CALL { MATCH ()-[r]->() RETURN count(r) AS edges } "
        "CALL { MATCH (s:Source) RETURN collect(s.key + ' ' + s.status + ' ' + s.checksum) AS sources } "
        "RETURN nodes, edges, sources"
    )[0]


def test_loading_the_seeds_again_changes_nothing(seeds: Graph) -> None:
    before = _snapshot(seeds)
    report = load_seeds(seeds, progress=False)
    assert isinstance(report, SeedReport) and report.skipped and report.loaded == []
    assert _snapshot(seeds) == before
    assert report.summary().startswith(f"seeds {VERSION}:")


def test_every_seed_release_is_a_seed_version_or_a_kept_real_release(seeds: Graph) -> None:
    report = load_seeds(seeds, progress=False)
    for spec in seed_sources(SEEDS):
        active = [active_release(seeds, spec.name).key]  # the one its loader wrote (clinvar_more: source clinvar)
        version = active[0].split("@", 1)[1]
        if spec.name in report.kept:
            assert not is_seed_release(version) and active[0] in report.kept[spec.name].split(", ")
        else:
            assert active[0].startswith(f"{spec.source_name}@{VERSION}")
            assert any(r.source == active[0] for r in report.reports)
    seed_keys = [
        r["key"] for r in seeds.read("MATCH (s:Source) WHERE s.version STARTS WITH 'seed-' RETURN s.key AS key")
    ]
    # ClinVar's two seed files are two releases of one source: the seed version + the data's date
    assert all(key.split("@", 1)[1].split("+", 1)[0] == VERSION for key in seed_keys)


def _asserted_by_active(graph: Graph, node_query: str, source: str, **params: object) -> str:
    """The active release the loader ``source`` wrote (kg.loaders.registry: clinvar_more writes source
    clinvar) asserting the node ``node_query`` returns as ``n``."""
    name = registry.spec_for(source).source_name
    rows = graph.read(
        f"{node_query} MATCH (n)-[:ASSERTED_BY]->(s:Source {{name: $source, status: 'active'}}) RETURN s.key AS key",
        source=name,
        **params,
    )
    assert rows, f"no active {name} release asserts it"
    key = rows[0]["key"]
    assert key.startswith(f"{name}@{VERSION}") or not is_seed_release(key.split("@", 1)[1])
    return key


def test_braf_v600e_vemurafenib_evidence_in_melanoma(seeds: Graph) -> None:
    rows = seeds.read(
        "MATCH (e:Evidence {id: 'civic:EID1409'})-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->"
        "(:Variant {id: 'GRCh38:chr7:140753336:A:T'}) "
        "MATCH (e)-[:FOR_DRUG]->(d:Drug), (e)-[:FOR_DISEASE]->(x:Disease)-[:IS_A*0..]->(:Disease {id: 'DOID:1909'}) "
        "RETURN d.id AS drug, e.level AS level, e.direction AS direction, x.id AS disease"
    )
    assert rows == [{"drug": "vemurafenib", "level": "A", "direction": "supports", "disease": "DOID:8923"}]
    _asserted_by_active(seeds, "MATCH (n:Evidence {id: 'civic:EID1409'})", "civic")
    colorectal = seeds.read(
        "MATCH (e:Evidence {id: 'civic:EID1405'})-[:FOR_DISEASE]->(x:Disease) "
        "RETURN e.direction AS direction, x.id AS disease, EXISTS { (x)-[:IS_A*0..]->(:Disease {id: 'DOID:1909'}) } AS melanoma"
    )
    assert colorectal == [{"direction": "does not support", "disease": "DOID:9256", "melanoma": False}]


def test_egfr_t790m_of_the_demo_vcf_is_the_lifted_civic_variant(seeds: Graph) -> None:
    (row,) = seeds.read("MATCH (v:Variant {civicVariantId: 34}) RETURN v.id AS id, v.grch37Pos AS grch37")
    demo = next(line.split("\t") for line in _lines(DEMO) if "civic:variant:34_" in line)
    assert row == {"id": f"GRCh38:{demo[0]}:{demo[1]}:{demo[3]}:{demo[4]}", "grch37": 55249071}


def test_cpic_clopidogrel_poor_metabolizer_recommendation(seeds: Graph) -> None:
    rows = seeds.read(
        "MATCH (r:Recommendation {guideline: 'CPIC'})-[:FOR_PHENOTYPE]->(:Phenotype {id: 'CYP2C19:Poor Metabolizer'}), "
        "(r)-[:FOR_DRUG]->(:Drug {id: 'clopidogrel'}) RETURN r.id AS id, r.strength AS strength, r.text AS text "
        "ORDER BY id"
    )
    assert rows and any(r["strength"] == "Strong" and "Avoid clopidogrel" in r["text"] for r in rows)
    _asserted_by_active(seeds, "MATCH (n:Recommendation {id: $id})", "pharmcat", id=rows[0]["id"])


def test_pathogenic_brca_clinvar_classification(seeds: Graph) -> None:
    rows = seeds.read(
        "MATCH (e:Evidence {source: 'clinvar', recordId: '17662'})-[:ABOUT]->(v:Variant)-[:IN_GENE]->(g:Gene {symbol: 'BRCA1'}) "
        "RETURN e.classification AS classification, e.stars AS stars, v.id AS variant, "
        "EXISTS { (e)-[:FOR_DISEASE]->(:Disease {id: 'DOID:5683'}) } AS hboc"
    )
    assert rows == [
        {"classification": "pathogenic", "stars": 3, "variant": "GRCh38:chr17:43124027:ACT:A", "hboc": True}
    ]
    _asserted_by_active(seeds, "MATCH (n:Evidence {source: 'clinvar', recordId: '17662'})", "clinvar")


def test_acmg_secondary_finding_for_mutyh_is_recessive(seeds: Graph) -> None:
    rows = seeds.read(
        "MATCH (f:SecondaryFinding)-[:FOR_GENE]->(:Gene {symbol: 'MUTYH'}) "
        "RETURN f.id AS id, f.inheritance AS inheritance, f.allelesRequired AS required"
    )
    assert rows == [{"id": "ACMG_SF_v3.0:MUTYH:608456", "inheritance": "AR", "required": 2}]
    _asserted_by_active(seeds, "MATCH (n:SecondaryFinding {id: $id})", "clinvar_more", id=rows[0]["id"])


def test_newer_clinvar_classification_supersedes_the_older(seeds: Graph) -> None:
    """The two ClinVar folders are releases of one source: the 2026 VCF supersedes the 2024 extract's
    evidence inside its windows (kg/loaders/release.py), here MLH1 chr3:37048507 C>T."""
    rows = seeds.read(
        "MATCH (old:Evidence {source: 'clinvar', recordId: 'GRCh38:chr3:37048507:C:T'})-[:ABOUT]->(v:Variant)"
        "<-[:ABOUT]-(new:Evidence {source: 'clinvar', recordId: '495762'}) "
        "RETURN old.classification AS old, new.recordId AS id, new.classification AS new, "
        "old.supersededBy = [new.release] AS superseded"
    )
    assert rows == [{"old": "uncertain significance", "id": "495762", "new": "likely benign", "superseded": True}]


def test_real_release_replaces_the_seed_one_and_seeds_then_leave_it_alone(seeds: Graph, data_dir: Path) -> None:
    real = so.load(seeds, data_dir / "ontology", progress=False)  # a no-op if another module loaded it already
    real_key = real.source
    assert not is_seed_release(real_key.split("@", 1)[1])
    assert _active(seeds, "so") == [real_key]
    assert not seeds.read("MATCH (s:Source {key: $key}) RETURN s", key=f"so@{VERSION}")
    report = load_seeds(seeds, progress=False)
    assert report.kept["so"] == real_key and all(r.source != f"so@{VERSION}" for r in report.reports)
    assert _active(seeds, "so") == [real_key]
    assert not seeds.read("MATCH (s:Source {key: $key}) RETURN s", key=f"so@{VERSION}")
    assert f"so: real release {real_key} is active" in report.summary()


def test_the_old_json_seed_release_is_retired(seeds: Graph) -> None:
    key = f"{LEGACY_SOURCE}@legacy-test"
    seeds.write(
        "CREATE (s:Source {key: $key, name: $name, version: 'legacy-test', status: 'active', checksum: ''}) "
        "CREATE (:Gene {symbol: 'SEEDTEST1'})-[:ASSERTED_BY]->(s)",
        key=key,
        name=LEGACY_SOURCE,
    )
    report = load_seeds(seeds, progress=False)
    assert report.retired == [key] and not report.skipped
    assert not seeds.read("MATCH (n) WHERE n.key = $key OR n.symbol = 'SEEDTEST1' RETURN n", key=key)


def test_every_seed_source_has_a_loader() -> None:
    for spec in seed_sources(SEEDS):
        assert callable(registry.loader_for(spec.name).load), spec.name  # an import error fails here

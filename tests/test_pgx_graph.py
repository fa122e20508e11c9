"""PharmCAT's definitions and phenotype tables travel with the release, inside the graph.

The loader stores each gene's allele definitions and phenotype tables (kg.pharmcat.stored JSON on
``AlleleDefinition`` / ``PhenotypeTable`` nodes of its release); the matcher reads them back from
the graph alone. Checked here: the stored form gives back exactly what the one reader
(kg.loaders.pharmcat_files) reads from the files; only active releases count; an active release
without them is an error, not a skip; Source nodes name files without the loading machine's
paths; and a separate process that has nothing but ``NEO4J_URI`` (no data folder, no seeds, no
checkout around its code) calls the demo patient's diplotypes exactly as this process does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kg.db import Graph
from kg.loaders import pharmcat, registry
from kg.loaders.pharmcat_files import find_files, read_definitions, read_gene_phenotypes
from kg.loaders.release import SourceRelease, release_checksum
from kg.loaders.seeds import default_seed_dir, seed_version
from kg.matcher.knowledge import clear_cache
from kg.matcher.match import delete_patient, match_patient
from kg.matcher.pgx.phenotype import PhenotypeTables
from kg.matcher.pharmacogenomics import PgxData, PgxKnowledgeMissing, pgx_release
from kg.pharmcat.stored import (
    StoredFormatError,
    definition_from_json,
    definition_to_json,
    table_from_json,
    table_to_json,
)
from kg.queries import matching

ROOT = Path(__file__).resolve().parents[1]
SEEDS = default_seed_dir()
SEED_PHARMCAT = SEEDS / "pgx" / "pharmcat"
DEMO = SEEDS / "patients" / "demo.vcf"


def _folders(data_dir: Path | None = None) -> list[Path]:
    return [SEED_PHARMCAT] + ([data_dir / "pgx" / "pharmcat"] if data_dir else [])


# --- the stored form (no database) ------------------------------------------------------------


def test_stored_json_gives_back_every_seed_definition_and_table() -> None:
    files = find_files(SEED_PHARMCAT)
    definitions = read_definitions(files)
    assert {"CYP2C19", "DPYD", "TPMT"} <= set(definitions)
    for definition in definitions.values():
        assert definition_from_json(definition_to_json(definition)) == definition
    tables = read_gene_phenotypes(files)
    assert {(t.source, t.gene) for t in tables} >= {("CPIC", "CYP2C19"), ("DPWG", "DPYD")}
    for table in tables:
        back = table_from_json(table_to_json(table))
        assert back == table and list(back.diplotypes) == list(table.diplotypes)  # the table's order too


@pytest.mark.realdata
def test_stored_json_gives_back_every_real_definition_and_table(data_dir: Path) -> None:
    files = find_files(data_dir / "pgx" / "pharmcat")
    definitions = read_definitions(files)
    assert len(definitions) == 20 and definitions["CYP2C9"].exemption is not None
    assert all(definition_from_json(definition_to_json(d)) == d for d in definitions.values())
    tables = read_gene_phenotypes(files)
    assert any(t.older_snapshot for t in tables)  # RYR1, G6PD
    assert all(table_from_json(table_to_json(t)) == t for t in tables)


def test_stored_json_of_another_format_is_refused() -> None:
    definition = read_definitions(find_files(SEED_PHARMCAT))["CYP2C19"]
    raw = json.loads(definition_to_json(definition))
    raw["format"] = 99
    with pytest.raises(StoredFormatError, match="expected format 1, found 99"):
        definition_from_json(json.dumps(raw))
    with pytest.raises(StoredFormatError, match="not JSON"):
        table_from_json("{")


def test_no_active_pharmcat_release_is_reported_and_one_without_definitions_is_an_error() -> None:
    warnings: list[str] = []
    pgx, info = pgx_release(None, [{"key": "civic@2024-08-01", "name": "civic"}], warnings)
    assert pgx is None and info["release"] is None and "no active pharmcat release" in info["skipped"]
    assert warnings == [f"pharmacogenomics skipped: {info['skipped']}"]
    with pytest.raises(PgxKnowledgeMissing, match="pharmcat@old holds no PharmCAT allele definitions"):
        pgx_release(None, [{"key": "pharmcat@old", "name": "pharmcat"}], [])
    definitions = read_definitions(find_files(SEED_PHARMCAT))
    without_tables = PgxData("pharmcat@partial", definitions, PhenotypeTables([]))
    with pytest.raises(PgxKnowledgeMissing, match="pharmcat@partial holds no"):
        pgx_release(without_tables, [{"key": "pharmcat@partial", "name": "pharmcat"}], [])
    whole = PgxData("pharmcat@seed", definitions, PhenotypeTables(read_gene_phenotypes(find_files(SEED_PHARMCAT))))
    assert pgx_release(whole, [{"key": "pharmcat@seed", "name": "pharmcat"}], warnings) == (
        whole,
        {"release": "pharmcat@seed", "skipped": None, "genes": sorted(definitions)},
    )


# --- the graph ----------------------------------------------------------------------------------


def _active_pharmcat(graph: Graph) -> str:
    (row,) = graph.read("MATCH (s:Source {name: 'pharmcat', status: 'active'}) RETURN s.key AS key")
    return str(row["key"])


def _folder_of(key: str) -> Path:
    """The files an active pharmcat release was loaded from: the seeds, or ../shared/data."""
    if key == f"pharmcat@{seed_version(SEEDS)}":
        return SEED_PHARMCAT
    from kg.config import default_data_dir

    return default_data_dir() / "pgx" / "pharmcat"


def test_graph_holds_the_active_release_definitions_and_tables_as_the_files_say(seeded: Graph) -> None:
    key = _active_pharmcat(seeded)
    stored = matching.pgx_knowledge(seeded)
    assert stored is not None and stored["release"] == key
    pgx = PgxData.from_stored(stored["release"], stored["definitions"], stored["tables"])
    files = find_files(_folder_of(key))
    assert dict(pgx.definitions) == read_definitions(files)
    tables = read_gene_phenotypes(files)
    assert len(stored["tables"]) == len(tables)
    for table in tables:
        assert pgx.tables.table(table.gene, table.source) == table
    counts = seeded.read(
        "MATCH (n)-[:ASSERTED_BY]->(:Source {key: $key}) WHERE n:AlleleDefinition OR n:PhenotypeTable "
        "RETURN labels(n)[0] AS label, count(*) AS n, collect(DISTINCT n.format) AS formats ORDER BY label",
        key=key,
    )
    assert counts == [
        {"label": "AlleleDefinition", "n": len(files.definitions), "formats": [1]},
        {"label": "PhenotypeTable", "n": len(tables), "formats": [1]},
    ]


def test_a_release_still_loading_is_not_read(seeded: Graph) -> None:
    key = f"pharmcat@test-loading-{uuid.uuid4().hex[:8]}"
    active = matching.pgx_knowledge(seeded)
    assert active is not None
    seeded.write(
        "CREATE (s:Source {key: $key, name: 'pharmcat', status: 'loading'}) "
        "CREATE (:AlleleDefinition {id: $key + ':CYP2C19', gene: 'CYP2C19', json: '{}'})-[:ASSERTED_BY]->(s) "
        "CREATE (:PhenotypeTable {id: $key + ':CPIC:CYP2C19', gene: 'CYP2C19', json: '{}'})-[:ASSERTED_BY]->(s)",
        key=key,
    )
    try:
        assert matching.pgx_knowledge(seeded) == active
    finally:
        seeded.write("MATCH (s:Source {key: $key}) OPTIONAL MATCH (n)-[:ASSERTED_BY]->(s) DETACH DELETE n, s", key=key)


def test_sources_name_their_files_without_the_loading_machines_paths(seeded: Graph) -> None:
    rows = seeded.read("MATCH (s:Source) WHERE s.files IS NOT NULL RETURN s.key AS key, s.files AS files")
    assert rows
    for row in rows:
        assert all(not f.startswith("/") and ".." not in f.split("/") for f in row["files"]), row
    files = next(r["files"] for r in rows if r["key"] == _active_pharmcat(seeded))
    assert any(f.startswith("pharmcat/definition/alleles/CYP2C19_translation.json") for f in files)
    assert "cpic/cpic_drug.tsv" in files


def test_loading_a_release_that_lacks_its_stored_definitions_stores_them(seeded: Graph) -> None:
    """A release loaded before the definitions were stored with it (by a loader without those stages,
    so its Source checksum covers other stages) is loaded again, not skipped."""
    key = _active_pharmcat(seeded)
    folder = _folder_of(key)
    version = key.split("@", 1)[1]
    before = seeded.read(
        "MATCH (a:AlleleDefinition {release: $key}) RETURN a.id AS id, a.json AS json ORDER BY id", key=key
    )
    files = find_files(folder)
    stages = pharmcat.stages(files, pharmcat.summarise_phenotype_tables(files))
    older = [s for s in stages if s.name not in ("allele definitions", "phenotype tables")]
    release = SourceRelease(pharmcat.SOURCE, version, pharmcat.LICENCE, files.all, pharmcat.URL)
    seeded.write("MATCH (a:AlleleDefinition {release: $key}) DETACH DELETE a", key=key)
    seeded.write("MATCH (s:Source {key: $key}) SET s.checksum = $sum", key=key, sum=release_checksum(release, older))
    report = registry.loader_for("pharmcat").load(seeded, folder, progress=False, version=version)
    assert not report.skipped and report.rows["allele definitions"] == len(before)
    after = seeded.read(
        "MATCH (a:AlleleDefinition {release: $key}) RETURN a.id AS id, a.json AS json ORDER BY id", key=key
    )
    assert after == before
    again = registry.loader_for("pharmcat").load(seeded, folder, progress=False, version=version)
    assert again.skipped  # complete now: an unchanged release is a no-op again


# --- a process with nothing but NEO4J_URI -----------------------------------------------------


def _gene_calls(report: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        g["gene"]: {
            "diplotype": g["diplotype"],
            "status": g["status"],
            "activity_score": g["activity_score"],
            "phenotypes": sorted(p["phenotype_id"] for p in g["phenotypes"]),
        }
        for g in report["genes"]
    }


def test_a_process_with_only_neo4j_uri_calls_the_demo_diplotypes_as_this_one(seeded: Graph, tmp_path: Path) -> None:
    """The code is copied away from the checkout (so ``project_root()`` finds no seeds beside it), the
    working directory and KG_DATA_DIR / KG_CACHE_DIR are empty folders: the graph is all it has."""
    code, work, data, cache = (tmp_path / d for d in ("code", "work", "data", "cache"))
    shutil.copytree(ROOT / "kg", code / "kg", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in (work, data, cache):
        folder.mkdir()
    vcf = work / "demo.vcf"
    shutil.copyfile(DEMO, vcf)
    settings = seeded.settings
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(code),
        "KG_DATA_DIR": str(data),
        "KG_CACHE_DIR": str(cache),
        **settings.connection_env(),  # NEO4J_URI and the test server's credentials
    }
    patient = f"test-pgx-uri-only-{uuid.uuid4().hex[:8]}"
    local = f"{patient}-local"
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from kg.cli import main; main()",
                "match",
                str(vcf),
                "--patient",
                patient,
                "--json",
            ],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        remote = json.loads(done.stdout)
        clear_cache()
        here = match_patient(seeded, DEMO, patient_id=local).to_dict()
    finally:
        delete_patient(seeded, patient)
        delete_patient(seeded, local)
    assert remote["pgx"] == here["pgx"] and remote["pgx"]["release"] == _active_pharmcat(seeded)
    assert not remote["pgx"]["skipped"] and not any("pharmacogenomics skipped" in w for w in remote["warnings"])
    assert _gene_calls(remote) == _gene_calls(here)
    calls = _gene_calls(remote)
    assert calls["CYP2C19"]["diplotype"] == "*2/*2" and calls["CYP2C19"]["status"] == "called"
    assert "CYP2C19:Poor Metabolizer" in calls["CYP2C19"]["phenotypes"]
    assert calls["DPYD"]["activity_score"] == "1.5" and "DPYD:1.5" in calls["DPYD"]["phenotypes"]
    assert not list(data.iterdir())  # nothing looked for, nothing left in the empty data folder

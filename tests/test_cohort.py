"""Cohort VCFs (issue 12): one pass over a multi-sample VCF, every sample its own patient.

The cohort is made from the demo patient's records (seeds/patients/demo.vcf: ClinVar and CIViC
alleles and full PharmCAT genotypes for several genes) with columns whose calls differ, so the
samples get different links and diplotypes. Each cohort patient must equal the same column matched
alone by the single-sample matcher (kg.matcher.match.match_patient).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from kg.access.audit import AuditLog
from kg.access.settings import AuthSettings
from kg.cli import main as kg
from kg.db import Graph
from kg.matcher import cohort_pgx
from kg.matcher.cohort import PatientIdError, patient_ids, rows_with
from kg.matcher.errors import VcfError
from kg.matcher.match import delete_patient, match_cohort, match_patient
from kg.matcher.origin import SampleOriginError
from tests.patient_documents import cli_env

DEMO = Path(__file__).resolve().parents[1] / "seeds" / "patients" / "demo.vcf"
PREFIX = "test-cohort-"


def _demo() -> tuple[list[str], list[list[str]]]:
    """The demo VCF's header lines (without #CHROM) and its data rows split in columns."""
    header, rows = [], []
    for line in DEMO.read_text().splitlines():
        if line.startswith("##"):
            header.append(line)
        elif line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return header, rows


def _swap(gt: str) -> str:
    """Heterozygous calls become homozygous ALT and homozygous ALT calls heterozygous."""
    return {"0/1": "1/1", "1/1": "0/1"}.get(gt, gt)


#: column -> the GT it gives a record, from the demo's GT and the record's number
COLUMNS: dict[str, Any] = {
    "DEMO": lambda gt, n: gt,
    "REF": lambda gt, n: "0/0",
    "SWAP": lambda gt, n: _swap(gt),
    "PHASED": lambda gt, n: gt.replace("/", "|") if n % 2 else ("./." if n % 7 == 0 else gt),
}


def write_cohort(path: Path, columns: dict[str, Any], extra: str = "") -> Path:
    """A multi-sample VCF of the demo's records, one column per entry of ``columns``."""
    header, rows = _demo()
    lines = header + [line for line in extra.splitlines() if line]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *columns]))
    for n, row in enumerate(rows):
        lines.append("\t".join(row[:9] + [make(row[9], n) for make in columns.values()]))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_alone(path: Path, make: Any) -> Path:
    return write_cohort(path, {"S": make})


def links(graph: Graph, patient: str) -> dict[str, Any]:
    """Everything a patient links to, with the link properties (the sample's name left out)."""
    rows = graph.read(
        "MATCH (p:Patient {id: $id})-[r:HAS_VARIANT|HAS_DIPLOTYPE|HAS_CONDITION]->(n) "
        "RETURN type(r) AS type, n.id AS node, properties(r) AS props",
        id=patient,
    )
    out: dict[str, Any] = {}
    for r in rows:
        props = {k: v for k, v in r["props"].items() if k != "sample"}
        out.setdefault(f"{r['type']} {r['node']}", []).append(props)
    return {k: sorted(v, key=repr) for k, v in out.items()}


def patient_node(graph: Graph, patient: str) -> dict[str, Any] | None:
    rows = graph.read("MATCH (p:Patient {id: $id}) RETURN properties(p) AS p", id=patient)
    return rows[0]["p"] if rows else None


@pytest.fixture
def cleanup(seeded: Graph) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for patient in made:
        delete_patient(seeded, patient)


def test_every_sample_is_its_own_patient_with_the_answers_of_matching_it_alone(
    seeded: Graph, tmp_path: Path, cleanup: list[str]
) -> None:
    path = write_cohort(tmp_path / "cohort.vcf", COLUMNS)
    ids = {s: f"{PREFIX}{s}" for s in COLUMNS}
    cleanup += list(ids.values())
    report = match_cohort(seeded, path, patients=ids, disease="DOID:1909")
    assert (report.stored, report.failed) == (len(COLUMNS), 0), report.summary()
    assert {o.sample: o.patient for o in report.samples} == ids
    seen: dict[str, dict[str, Any]] = {}
    for sample, make in COLUMNS.items():
        alone = f"{PREFIX}alone-{sample}"
        cleanup.append(alone)
        single = match_patient(
            seeded, write_alone(tmp_path / f"{sample}.vcf", make), patient_id=alone, disease="DOID:1909"
        )
        got, want = links(seeded, ids[sample]), links(seeded, alone)
        assert got == want, f"{sample}: cohort and single-sample links differ"
        outcome = next(o for o in report.samples if o.sample == sample)
        assert outcome.variants_matched == single.variants_matched
        assert outcome.genes_called == single.genes_called
        node = patient_node(seeded, ids[sample])
        assert node is not None and node["sample"] == sample and node["vcf"] == "cohort.vcf"
        assert node["origin"] == "germline" and node["originSource"] == "default"
        seen[sample] = got
    # the columns really differ: links and diplotypes are each sample's own
    demo_variants = {k for k in seen["DEMO"] if k.startswith("HAS_VARIANT")}
    assert demo_variants and not any(k.startswith("HAS_VARIANT") for k in seen["REF"])
    assert seen["SWAP"] != seen["DEMO"] and {k for k in seen["SWAP"] if k.startswith("HAS_VARIANT")} == demo_variants
    assert any(k.startswith("HAS_DIPLOTYPE") for k in seen["DEMO"])
    diplotypes = {s: {k for k in v if k.startswith("HAS_DIPLOTYPE")} for s, v in seen.items()}
    assert diplotypes["DEMO"] != diplotypes["REF"]


def test_parallel_writers_store_the_same_patients_and_report_batches_in_order(
    seeded: Graph, tmp_path: Path, cleanup: list[str]
) -> None:
    """Two writer transactions at once (KG_COHORT_WRITERS), one patient per batch: every patient has the
    links of a one-writer run, each HAS_VARIANT names the patient's own sample (the rows are shared by
    the samples with the same call), and ``on_batch`` sees the batches in the file's order."""
    path = write_cohort(tmp_path / "cohort.vcf", COLUMNS)
    one = {s: f"{PREFIX}w1-{s}" for s in COLUMNS}
    two = {s: f"{PREFIX}w2-{s}" for s in COLUMNS}
    cleanup += [*one.values(), *two.values()]
    seen: list[str] = []
    match_cohort(seeded, path, patients=one, batch_size=1, writers=1)
    report = match_cohort(
        seeded, path, patients=two, batch_size=1, writers=2, on_batch=lambda done: seen.extend(o.sample for o in done)
    )
    assert (report.stored, report.failed) == (len(COLUMNS), 0), report.summary()
    assert seen == list(COLUMNS)
    for sample in COLUMNS:
        assert links(seeded, two[sample]) == links(seeded, one[sample]), sample
        samples = seeded.read(
            "MATCH (:Patient {id: $id})-[r:HAS_VARIANT]->() RETURN collect(DISTINCT r.sample) AS s", id=two[sample]
        )[0]["s"]
        assert samples == ([] if sample == "REF" else [sample]), sample


def _child_exits(send: Any, *args: Any) -> None:
    os._exit(3)  # killed, say: no result, no message


def _child_fails(send: Any, *args: Any) -> None:
    send.send(("error", "RuntimeError: a failure inside the child"))
    send.close()


@pytest.mark.parametrize("child", [_child_exits, _child_fails], ids=["child exits", "child fails"])
def test_star_alleles_called_beside_the_read_are_those_called_in_process(
    seeded: Graph, tmp_path: Path, cleanup: list[str], monkeypatch: pytest.MonkeyPatch, child: Any
) -> None:
    """The star alleles come from a child process reading the PGx positions beside the pass
    (kg.matcher.cohort_pgx); when it gives no result the parent calls them from its own pass: the same
    diplotypes and links either way."""
    path = write_cohort(tmp_path / "cohort.vcf", COLUMNS)
    beside = {s: f"{PREFIX}beside-{s}" for s in COLUMNS}
    here = {s: f"{PREFIX}here-{s}" for s in COLUMNS}
    cleanup += [*beside.values(), *here.values()]
    report = match_cohort(seeded, path, patients=beside)
    assert report.timings.get("pgx beside the read", 0) > 0, report.timings
    monkeypatch.setattr(cohort_pgx, "_child", child)
    again = match_cohort(seeded, path, patients=here)
    assert "pgx beside the read" not in again.timings
    assert (again.stored, again.failed) == (len(COLUMNS), 0), again.summary()
    for sample in COLUMNS:
        assert links(seeded, here[sample]) == links(seeded, beside[sample]), sample
    assert any(k.startswith("HAS_DIPLOTYPE") for k in links(seeded, here["DEMO"]))


def test_a_chosen_subset_is_matched_and_nothing_else(seeded: Graph, tmp_path: Path, cleanup: list[str]) -> None:
    path = write_cohort(tmp_path / "cohort.vcf", COLUMNS)
    ids = patient_ids(["SWAP", "DEMO"], template=PREFIX + "subset-{sample}")
    cleanup += [*ids.values(), f"{PREFIX}subset-REF", f"{PREFIX}subset-PHASED"]
    report = match_cohort(seeded, path, patients=ids, samples=["SWAP", "DEMO"])
    assert [o.sample for o in report.samples] == ["DEMO", "SWAP"]  # the file's order
    assert report.stored == 2 and report.failed == 0
    assert patient_node(seeded, f"{PREFIX}subset-DEMO") and patient_node(seeded, f"{PREFIX}subset-SWAP")
    assert patient_node(seeded, f"{PREFIX}subset-REF") is None
    assert patient_node(seeded, f"{PREFIX}subset-PHASED") is None


def test_a_failing_sample_is_reported_and_the_others_are_stored(
    seeded: Graph, tmp_path: Path, cleanup: list[str]
) -> None:
    """BAD calls ALT 2 of a one-ALT record (VCF 4.2 1.6.2: unusable), NOCALL has no GT at all, and
    LONG's patient id is too long for Neo4j's index (its write fails): each is reported with its
    reason; DEMO and REF are stored all the same."""
    columns = {
        "DEMO": COLUMNS["DEMO"],
        "BAD": lambda gt, n: "2/2" if n == 5 else gt,
        "NOCALL": lambda gt, n: "./.",
        "REF": COLUMNS["REF"],
        "LONG": COLUMNS["SWAP"],
    }
    path = write_cohort(tmp_path / "cohort.vcf", columns)
    ids = {s: f"{PREFIX}fail-{s}" for s in columns}
    ids["LONG"] = PREFIX + "x" * 40_000
    cleanup += list(ids.values())
    report = match_cohort(seeded, path, patients=ids, batch_size=2)
    by = {o.sample: o for o in report.samples}
    assert {s for s, o in by.items() if o.stored} == {"DEMO", "REF"}, report.summary()
    assert report.stored == 2 and report.failed == 3
    row = _demo()[1][5]
    assert f"{row[0]}:{row[1]}" in (by["BAD"].error or "") and "beyond the record's 1 ALT" in (by["BAD"].error or "")
    assert str(path) in (by["BAD"].error or "")
    assert "no genotype call" in (by["NOCALL"].error or "")
    assert "write" in (by["LONG"].error or "")
    for s in ("BAD", "NOCALL", "LONG"):
        assert patient_node(seeded, ids[s]) is None, f"{s} must not be stored"
    assert links(seeded, ids["DEMO"]) and patient_node(seeded, ids["REF"])
    assert "FAILED BAD" in report.summary() and "2 stored as patients, 3 failed" in report.summary()


def test_unknown_samples_are_a_clear_error_naming_the_file_and_its_samples(seeded: Graph, tmp_path: Path) -> None:
    path = write_cohort(tmp_path / "cohort.vcf", COLUMNS)
    with pytest.raises(VcfError) as err:
        match_cohort(seeded, path, samples=["DEMO", "NOBODY", "ALSO_NOT"])
    text = str(err.value)
    assert str(path) in text and "NOBODY" in text and "ALSO_NOT" in text
    assert all(s in text for s in COLUMNS), text
    assert patient_node(seeded, "DEMO") is None


def test_patient_id_rules_apply_per_patient() -> None:
    assert patient_ids(["A", "B"], prefix="p-") == {"A": "p-A", "B": "p-B"}
    with pytest.raises(PatientIdError, match="names no"):
        patient_ids(["A", "B"], template="same")
    with pytest.raises(PatientIdError, match="both be patient"):
        patient_ids(["A", "B"], mapping={"A": "x", "B": " x "})
    with pytest.raises(PatientIdError, match="no patient id in the mapping"):
        patient_ids(["A", "B"], mapping={"A": "x"})


def test_origin_per_cohort_run_follows_the_header(seeded: Graph, tmp_path: Path, cleanup: list[str]) -> None:
    """A header naming a tumour sample: without --origin that sample is read as a tumour and the others
    as germline; --origin germline contradicts the header for the tumour only (it fails, the others
    are stored); tumor_normal is not a cohort origin."""
    columns = {"DEMO": COLUMNS["DEMO"], "TUM": COLUMNS["SWAP"]}
    path = write_cohort(tmp_path / "cohort.vcf", columns, extra="##tumor_sample=TUM")
    ids = {s: f"{PREFIX}origin-{s}" for s in columns}
    cleanup += list(ids.values())
    report = match_cohort(seeded, path, patients=ids)
    assert {o.sample: o.origin for o in report.samples} == {"DEMO": "germline", "TUM": "tumor"}
    node = patient_node(seeded, ids["TUM"])
    assert node is not None and node["originSource"] == "header"
    contradicted = match_cohort(seeded, path, patients=ids, origin="germline")
    by = {o.sample: o for o in contradicted.samples}
    assert by["DEMO"].stored and not by["TUM"].stored and "tumour" in (by["TUM"].error or "")
    with pytest.raises(SampleOriginError):
        match_cohort(seeded, path, patients=ids, origin="tumor_normal")


def test_kg_match_cohort_audits_every_patient_and_exits_by_outcome(
    seeded: Graph, tmp_path: Path, auth_settings: AuthSettings, cleanup: list[str]
) -> None:
    env = cli_env(seeded, auth_settings)
    path = write_cohort(tmp_path / "cohort.vcf", COLUMNS)
    prefix = f"{PREFIX}cli-"
    cleanup += [prefix + s for s in COLUMNS]
    ok = CliRunner().invoke(kg, ["match", str(path), "--samples", "all", "--patient-prefix", prefix], env=env)
    assert ok.exit_code == 0, ok.output
    assert f"{len(COLUMNS)} stored as patients, 0 failed" in ok.output
    entries = [e for e in AuditLog(auth_settings.audit_log).entries() if e.operation == "match"]
    audited = {p for e in entries if e.outcome == "ok" for p in e.patients}
    assert {prefix + s for s in COLUMNS} <= audited
    assert all(len(e.patients) == 1 for e in entries[-len(COLUMNS) :])

    mixed = write_cohort(tmp_path / "mixed.vcf", {"DEMO": COLUMNS["DEMO"], "NOCALL": lambda gt, n: "./."})
    samples = tmp_path / "samples.txt"
    samples.write_text("NOCALL\nDEMO\n")
    mapping = tmp_path / "map.tsv"
    mapping.write_text(f"DEMO\t{prefix}mapped-DEMO\nNOCALL\t{prefix}mapped-NOCALL\n")
    cleanup += [f"{prefix}mapped-DEMO", f"{prefix}mapped-NOCALL"]
    partial = CliRunner().invoke(
        kg, ["match", str(mixed), "--samples-file", str(samples), "--patient-map", str(mapping)], env=env
    )
    assert partial.exit_code == 3, partial.output
    assert "1 stored as patients, 1 failed" in partial.output and "FAILED NOCALL" in partial.output
    last = {e.patients[0]: e.outcome for e in AuditLog(auth_settings.audit_log).entries() if e.operation == "match"}
    assert last[f"{prefix}mapped-DEMO"] == "ok" and last[f"{prefix}mapped-NOCALL"].startswith("error:")

    unknown = CliRunner().invoke(
        kg, ["match", str(path), "--samples", "DEMO,NOBODY", "--patient-prefix", prefix], env=env
    )
    assert unknown.exit_code == 1 and "NOBODY" in unknown.output and "SWAP" in unknown.output


def test_rows_with_any_true_are_numpys_per_row_any() -> None:
    """kg.matcher.cohort.rows_with (the carriers of an allele) against numpy's own ``any(axis=1)`` on
    random calls: haploid to triploid, missing (-1) and padding (-2) values, no carrier, every carrier."""
    rng = np.random.default_rng(12)
    for _ in range(500):
        n, width = int(rng.integers(0, 40)), int(rng.integers(1, 4))
        gt = rng.integers(-2, 4, size=(n, width)).astype(np.int16)
        for allele in range(4):
            hit = gt == allele
            assert np.array_equal(rows_with(hit), np.flatnonzero(hit.any(axis=1))), (gt, allele)
    everyone = np.ones((5, 2), dtype=bool)
    assert rows_with(everyone).tolist() == [0, 1, 2, 3, 4]

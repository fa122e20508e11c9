"""The patient call store (issue 8): calls kept at match time, linked when a release adds the Variant.

The releases here are ClinVar VCFs the tests write (records copied from the seed ClinVar release,
with an ALT or a position the graph does not know) and load with kg.loaders.clinvar's own stages,
under a source name of their own (``clinvar_calls_test``) so that the session's ClinVar releases are
left as they are; the release is discarded at the end. Patients' VCFs are written by the tests too.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cyvcf2 import VCF, Writer

from kg.access.settings import AuthSettings
from kg.db import Graph
from kg.identity.variants import normalize
from kg.loaders import clinvar
from kg.loaders.release import LoadReport, SourceRelease, discard_release, load_release
from kg.loaders.seeds import default_seed_dir
from kg.matcher import calls
from kg.matcher.calls import read_calls
from kg.matcher.match import delete_patient, match_patient
from kg.matcher.positions import PositionIndex
from kg.matcher.vcf import open_vcf
from kg.queries import patient_calls
from kg.queries.explore import TraversalError, UnknownNode, check_label, neighborhood
from kg.queries.export import export_subgraph
from kg.queries.knowledge import find_variants
from kg.queries.risk import risks
from tests.test_matcher import Rec, vcf_text
from tests.test_sample_origin import MUTECT_PAIR, write_vcf

TEST_SOURCE = "clinvar_calls_test"


@dataclass(frozen=True)
class SeedRecord:
    """A pathogenic single-base ClinVar record of the seed release: its columns as written."""

    chrom: str
    pos: int
    ref: str
    alt: str
    info: str


@pytest.fixture(scope="module")
def template() -> SeedRecord:
    path = clinvar.find_vcf(default_seed_dir() / "clinvar")
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            chrom, pos, _, ref, alt, _, _, info = line.rstrip("\n").split("\t")[:8]
            if "CLNSIG=Pathogenic;" in info and len(ref) == 1 and len(alt) == 1:
                return SeedRecord(chrom, int(pos), ref, alt, info)
    raise AssertionError("the seed ClinVar release has no pathogenic SNV")


def _unknown(graph: Graph, chrom: str, pos: int, ref: str, exclude: str = "") -> str:
    """An ALT at chrom:pos that no Variant of the graph has."""
    for alt in "ACGT":
        if alt in (ref, exclude):
            continue
        vid = normalize(chrom, pos, ref, alt).id
        if not graph.read("MATCH (v:Variant {id: $id}) RETURN v.id AS id", id=vid):
            return alt
    raise AssertionError(f"every ALT at {chrom}:{pos} is known")


def _free_position(graph: Graph, chrom: str, near: int) -> int:
    """A position at least 100 bp from any Variant of the graph on ``chrom``."""
    pos = near
    canon = normalize(chrom, near, "A", "T").chrom
    while graph.read(
        "MATCH (v:Variant) WHERE v.chrom = $chrom AND v.pos >= $lo AND v.pos <= $hi RETURN v.id AS id LIMIT 1",
        chrom=canon,
        lo=pos - 100,
        hi=pos + 100,
    ):
        pos += 1000
    return pos


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _clinvar_vcf(path: Path, records: list[tuple[str, int, int, str, str, str]]) -> Path:
    """A ClinVar VCF release (header as ClinVar writes it): ``(chrom, pos, variation id, ref, alt, info)``."""
    header = (
        "##fileformat=VCFv4.1\n##fileDate=2099-01-31\n##source=ClinVar\n##reference=GRCh38\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    lines = [
        f"{c}\t{p}\t{vid}\t{r}\t{a}\t.\t.\t{info}\n" for c, p, vid, r, a, info in sorted(records, key=lambda x: x[1])
    ]
    with gzip.open(path, "wt", newline="") as handle:
        handle.write(header + "".join(lines))
    return path


def _load_test_release(graph: Graph, vcf: Path) -> LoadReport:
    date = clinvar.release_date(vcf)
    release = SourceRelease(TEST_SOURCE, date, clinvar.LICENCE, (vcf,), clinvar.URL)
    return load_release(graph, release, clinvar.stages(graph, vcf, date), progress=False)


@pytest.fixture
def test_release(seeded: Graph) -> Iterator[list[str]]:
    keys: list[str] = []
    yield keys
    for key in keys:
        discard_release(seeded, key)


@pytest.fixture
def patient_id(seeded: Graph, test_release: list[str]) -> Iterator[str]:
    """Deleted before the test's release is discarded (the release's Variants the patient links would
    otherwise stay, unasserted, and a re-run on a kept server would find every ALT known)."""
    pid = f"calls-{uuid.uuid4().hex[:8]}"
    yield pid
    delete_patient(seeded, pid)


def _called(graph: Graph, patient: str) -> dict[str, dict[str, Any]]:
    rows = graph.read(
        "MATCH (:Patient {id: $id})-[c:CALLED]->(o:ObservedAllele) RETURN o.id AS id, properties(c) AS call",
        id=patient,
    )
    return {row["id"]: row["call"] for row in rows}


def _linked(graph: Graph, patient: str) -> dict[str, dict[str, Any]]:
    rows = graph.read(
        "MATCH (:Patient {id: $id})-[r:HAS_VARIANT]->(v:Variant) RETURN v.id AS id, properties(r) AS link",
        id=patient,
    )
    return {row["id"]: row["link"] for row in rows}


def test_a_release_that_adds_an_allele_links_the_patient_matched_before_it(
    seeded: Graph, template: SeedRecord, tmp_path: Path, patient_id: str, test_release: list[str]
) -> None:
    t = template
    chrom = "chr" + t.chrom
    # A: the seed record's position with an ALT no release knows (found by the knowledge read);
    # B: a position far from every Variant (found only by the whole-file read);
    # C: a no-call and D: a reference call at positions the new release classifies too.
    alt_a = _unknown(seeded, t.chrom, t.pos, t.ref, exclude=t.alt)
    pos_b = _free_position(seeded, t.chrom, t.pos + 5000)
    pos_c = _free_position(seeded, t.chrom, pos_b + 5000)
    pos_d = _free_position(seeded, t.chrom, pos_c + 5000)
    ids = {
        "A": normalize(t.chrom, t.pos, t.ref, alt_a).id,
        "B": normalize(t.chrom, pos_b, "A", "G").id,
        "C": normalize(t.chrom, pos_c, "C", "T").id,
        "D": normalize(t.chrom, pos_d, "G", "A").id,
    }
    vcf = _write(
        tmp_path / "patient.vcf",
        vcf_text(
            [
                Rec(chrom, t.pos, t.ref, (alt_a,), "0/1"),
                Rec(chrom, pos_b, "A", ("G",), "1|1"),
                Rec(chrom, pos_c, "C", ("T",), "./."),
                Rec(chrom, pos_d, "G", ("A",), "0/0"),
            ]
        ),
    )
    report = match_patient(seeded, vcf, patient_id=patient_id)
    assert report.stored["calls"] == 2 and report.stored["callsDropped"] == 0
    called = _called(seeded, patient_id)
    assert set(called) == {ids["A"], ids["B"]}
    assert called[ids["A"]]["zygosity"] == "heterozygous" and called[ids["A"]]["callOrigin"] == "germline"
    assert called[ids["B"]]["genotype"] == "G|G" and called[ids["B"]]["phased"] is True
    no_calls = seeded.read(
        "MATCH (:Patient {id: $id})-[:HAS_NO_CALLS]->(n:NoCallSet) RETURN n.ranges AS ranges", id=patient_id
    )
    assert no_calls[0]["ranges"] == [f"{chrom}:{pos_c}-{pos_c}"]
    assert not any(f.variant in ids.values() for f in risks(seeded, patient_id))

    # The release: A pathogenic (the seed record's classification), B, C and D too.
    vcf_release = _clinvar_vcf(
        tmp_path / "clinvar_20990131.vcf.gz",
        [
            (t.chrom, t.pos, 990000001, t.ref, alt_a, t.info),
            (t.chrom, pos_b, 990000002, "A", "G", t.info),
            (t.chrom, pos_c, 990000003, "C", "T", t.info),
            (t.chrom, pos_d, 990000004, "G", "A", t.info),
        ],
    )
    loaded = _load_test_release(seeded, vcf_release)
    test_release.append(loaded.source)
    assert loaded.patients_linked >= 1
    assert "linked known alleles of" in loaded.summary()

    linked = _linked(seeded, patient_id)
    assert {ids["A"], ids["B"]} <= set(linked)
    assert ids["C"] not in linked and ids["D"] not in linked  # a no-call / a reference call: never linked
    link = linked[ids["A"]]
    assert link["matchLevel"] == "exact" and link["observed"] == ids["A"] and link["linkedBy"] == loaded.source
    assert link["zygosity"] == "heterozygous" and link["genotype"] == f"{t.ref}/{alt_a}"
    assert link["callOrigin"] == "germline" and link["sample"] == "S1"
    # the linked calls left the store, and their ObservedAlleles with them (no other patient calls them)
    assert _called(seeded, patient_id) == {}
    assert not seeded.read("MATCH (o:ObservedAllele) WHERE o.id IN $ids RETURN o.id AS id", ids=list(ids.values()))
    assert seeded.read("MATCH (p:Patient {id: $id}) RETURN p.callsStored AS n", id=patient_id)[0]["n"] == 0

    found = {f.variant: f for f in risks(seeded, patient_id)}
    assert ids["A"] in found and found[ids["A"]].classification.lower().startswith("pathogenic")

    # one audit record per patient linked, by the load
    audit = AuthSettings.from_env(seeded.settings).audit_log
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    mine = [e for e in entries if patient_id in e["patients"] and e["operation"] == "linkKnownAlleles"]
    assert len(mine) == 1 and mine[0]["who"] == f"load:{loaded.source}"
    assert set(mine[0]["detail"]["variants"]) == {ids["A"], ids["B"]}

    # linking again finds nothing new
    assert patient_calls.link_alleles(seeded, loaded.source).links == 0


def test_the_bound_truncates_and_says_so(seeded: Graph, template: SeedRecord, tmp_path: Path, patient_id: str) -> None:
    chrom = "chr" + template.chrom
    start = _free_position(seeded, template.chrom, template.pos + 200_000)
    recs = [Rec(chrom, start + 10 * i, "A", ("C",), "0/1") for i in range(5)]
    recs += [Rec(chrom, start + 10 * i + 5, "A", ("C",), "./.") for i in range(3)]
    vcf = _write(tmp_path / "many.vcf", vcf_text(recs))
    report = match_patient(seeded, vcf, patient_id=patient_id, calls_max=2)
    assert report.stored["calls"] == 2 and report.stored["callsDropped"] == 3
    assert any("call store truncated" in w and "KG_PATIENT_CALLS_MAX=2" in w for w in report.warnings)
    assert (
        "call store: 2 calls no knowledge Variant matched kept, 3 beyond KG_PATIENT_CALLS_MAX dropped"
        in report.summary()
    )
    row = seeded.read(
        "MATCH (p:Patient {id: $id})-[:HAS_NO_CALLS]->(n:NoCallSet) "
        "RETURN p.callsTruncated AS truncated, p.callsDropped AS dropped, p.callsStored AS stored, "
        "p.callsMax AS max, n.ranges AS ranges, n.dropped AS noCallsDropped",
        id=patient_id,
    )[0]
    assert row == {"truncated": True, "dropped": 3, "stored": 2, "max": 2, "ranges": row["ranges"], "noCallsDropped": 1}
    assert len(row["ranges"]) == 2
    assert len(_called(seeded, patient_id)) == 2

    # a re-match without the bound replaces the store, never accumulates
    report = match_patient(seeded, vcf, patient_id=patient_id)
    assert report.stored["calls"] == 5 and len(_called(seeded, patient_id)) == 5
    assert seeded.read("MATCH (p:Patient {id: $id}) RETURN p.callsTruncated AS t", id=patient_id)[0]["t"] is False
    assert (
        seeded.read("MATCH (:Patient {id: $id})-[:HAS_NO_CALLS]->(n) RETURN count(n) AS n", id=patient_id)[0]["n"] == 1
    )


def test_calls_near_the_knowledge_are_kept_first(
    seeded: Graph, template: SeedRecord, tmp_path: Path, patient_id: str
) -> None:
    """Beyond the bound, a call within kg.matcher.calls.PRIORITY_PAD of a known position beats an
    earlier one far from all knowledge."""
    chrom = "chr" + template.chrom
    far = _free_position(seeded, template.chrom, 1_000_000)
    near_pos = template.pos + 50
    assert far < near_pos - 20_000
    near_alt = _unknown(seeded, template.chrom, near_pos, "A")
    vcf = _write(
        tmp_path / "two.vcf.gz",
        "",
    )
    text = vcf_text([Rec(chrom, far, "A", ("C",), "0/1"), Rec(chrom, near_pos, "A", (near_alt,), "0/1")])
    with gzip.open(vcf, "wt") as fh:  # gzip text: the whole-file read decompresses it too
        fh.write(text)
    match_patient(seeded, vcf, patient_id=patient_id, calls_max=1)
    assert set(_called(seeded, patient_id)) == {normalize(template.chrom, near_pos, "A", near_alt).id}


def _orphan_no_call_sets(graph: Graph) -> int:
    return graph.read("MATCH (n:NoCallSet) WHERE NOT EXISTS { (n)<-[:HAS_NO_CALLS]-() } RETURN count(n) AS n")[0]["n"]


def test_deleting_a_patient_removes_its_call_store(seeded: Graph, template: SeedRecord, tmp_path: Path) -> None:
    chrom = "chr" + template.chrom
    pos = _free_position(seeded, template.chrom, template.pos + 400_000)
    shared, own = normalize(template.chrom, pos, "T", "G").id, normalize(template.chrom, pos + 30, "T", "G").id
    first, second = f"calls-{uuid.uuid4().hex[:8]}", f"calls-{uuid.uuid4().hex[:8]}"
    try:
        match_patient(
            seeded,
            _write(
                tmp_path / "a.vcf",
                vcf_text(
                    [
                        Rec(chrom, pos, "T", ("G",), "0/1"),
                        Rec(chrom, pos + 30, "T", ("G",), "1/1"),
                        Rec(chrom, pos + 60, "T", ("G",), "./."),
                    ]
                ),
            ),
            patient_id=first,
        )
        match_patient(
            seeded, _write(tmp_path / "b.vcf", vcf_text([Rec(chrom, pos, "T", ("G",), "0/1")])), patient_id=second
        )
        orphans = _orphan_no_call_sets(seeded)  # other tests' raw-Cypher cleanups may leave some
        assert delete_patient(seeded, first)
        left = {
            r["id"]
            for r in seeded.read("MATCH (o:ObservedAllele) WHERE o.id IN $ids RETURN o.id AS id", ids=[shared, own])
        }
        assert left == {shared}  # the other patient still calls it
        assert set(_called(seeded, second)) == {shared}
        assert _orphan_no_call_sets(seeded) == orphans  # the deleted patient's NoCallSet went with it
        assert delete_patient(seeded, second)
        assert not seeded.read("MATCH (o:ObservedAllele) WHERE o.id IN $ids RETURN o.id AS id", ids=[shared, own])
    finally:
        delete_patient(seeded, first)
        delete_patient(seeded, second)


def test_observed_alleles_never_show_in_knowledge_answers(
    seeded: Graph, template: SeedRecord, tmp_path: Path, patient_id: str
) -> None:
    chrom = "chr" + template.chrom
    pos = _free_position(seeded, template.chrom, template.pos + 600_000)
    allele = normalize(template.chrom, pos, "C", "A").id
    match_patient(
        seeded, _write(tmp_path / "p.vcf", vcf_text([Rec(chrom, pos, "C", ("A",), "0/1")])), patient_id=patient_id
    )
    assert allele in _called(seeded, patient_id)

    with pytest.raises(UnknownNode):  # no look-up by its key, whatever the patient scope
        neighborhood(seeded, allele, patients=None)
    with pytest.raises(TraversalError):
        check_label("ObservedAllele")
    around = neighborhood(seeded, patient_id, label="Patient", patients=None, depth=2, limit=500)
    assert not any("ObservedAllele" in n.labels or "NoCallSet" in n.labels for n in around.nodes)
    assert not any(e.type in ("CALLED", "HAS_NO_CALLS") for e in around.edges)
    exported = export_subgraph(seeded, patient_id, fmt="JSON", label="Patient", depth=2, patients=None).content
    assert allele not in exported and "ObservedAllele" not in exported
    assert find_variants(seeded, allele) == []


def test_linking_seeks_by_index(seeded: Graph) -> None:
    """Each side of link_known_alleles starts from one scan of its own side and seeks the other by
    its key: the release's Variants through its Source, or the ObservedAlleles (EXPLAIN plans)."""

    def operators(cypher: str) -> list[str]:
        with seeded.driver.session(database=seeded.settings.database) as session:
            plan = session.run("EXPLAIN " + cypher, release="x@1").consume().plan
        out: list[str] = []

        def walk(p: dict[str, Any]) -> None:
            out.append(f"{p['operatorType']} {p.get('args', {}).get('Details', '')}")
            for child in p.get("children", []):
                walk(child)

        assert plan is not None
        walk(plan)
        return out

    release_side = operators(patient_calls.FROM_RELEASE)
    assert any("NodeUniqueIndexSeek" in op and "Source" in op for op in release_side)
    assert any("NodeUniqueIndexSeek" in op and "ObservedAllele" in op for op in release_side)
    assert not any(("NodeByLabelScan" in op or "AllNodesScan" in op) for op in release_side)
    calls_side = operators(patient_calls.FROM_CALLS)
    assert any("NodeUniqueIndexSeek" in op and "Variant" in op for op in calls_side)
    scans = [op for op in calls_side if "NodeByLabelScan" in op or "AllNodesScan" in op]
    assert scans and all("ObservedAllele" in op for op in scans)
    representative = operators(patient_calls.REPRESENTATIVE)
    assert not any(("NodeByLabelScan" in op or "AllNodesScan" in op) for op in representative)


def test_a_pair_keeps_the_normals_calls_as_germline_and_the_tumours_own_as_somatic(
    seeded: Graph, template: SeedRecord, tmp_path: Path, patient_id: str
) -> None:
    chrom = "chr" + template.chrom
    pos = _free_position(seeded, template.chrom, template.pos + 800_000)
    both = {"chrom": chrom, "pos": pos, "ref": "G", "alt": "T"}
    tumour_only = {"chrom": chrom, "pos": pos + 40, "ref": "G", "alt": "T"}
    normal_no_call = {"chrom": chrom, "pos": pos + 80, "ref": "G", "alt": "T"}
    path = write_vcf(
        tmp_path / "pair.vcf",
        ["NORMAL", "TUMOR"],
        [
            (both, {"NORMAL": "0/1", "TUMOR": "0/1"}),
            (tumour_only, {"NORMAL": "0/0", "TUMOR": "0/1"}),
            (normal_no_call, {"NORMAL": "./.", "TUMOR": "0/0"}),
        ],
        MUTECT_PAIR,
    )
    match_patient(seeded, path, patient_id=patient_id)
    called = _called(seeded, patient_id)
    first, second = normalize(chrom, pos, "G", "T").id, normalize(chrom, pos + 40, "G", "T").id
    assert set(called) == {first, second}
    assert (called[first]["callOrigin"], called[first]["sample"]) == ("germline", "NORMAL")
    assert (called[second]["callOrigin"], called[second]["sample"]) == ("somatic", "TUMOR")
    row = seeded.read(
        "MATCH (:Patient {id: $id})-[:HAS_NO_CALLS]->(n) RETURN n.ranges AS tumour, n.normalRanges AS normal",
        id=patient_id,
    )[0]
    assert row == {"tumour": [], "normal": [f"{chrom}:{pos + 80}-{pos + 80}"]}


@pytest.mark.parametrize("kind", ["vcf", "vcf.gz", "bcf"])
def test_the_whole_file_read_of_each_kind(tmp_path: Path, kind: str) -> None:
    """Text (plain, gzip: numpy scan) and BCF (cyvcf2 stream) give the same calls and no-calls; a
    multi-allelic record gives each ALT the sample carries; the bound counts records."""
    text = vcf_text(
        [
            Rec("chr1", 1000, "A", ("C",), "0/1"),
            Rec("chr1", 2000, "A", ("C", "G"), "1/2"),
            Rec("chr1", 3000, "A", ("C",), "./."),
            Rec("chr1", 4000, "A", ("C",), "0/0"),
        ]
    )
    plain = _write(tmp_path / "a.vcf", text)
    path = plain
    if kind == "vcf.gz":
        path = tmp_path / "a.vcf.gz"
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    elif kind == "bcf":
        path = tmp_path / "a.bcf"
        reader = VCF(str(plain))
        writer = Writer(str(path), reader, mode="wb")
        for v in reader:
            writer.write_record(v)
        writer.close()
        reader.close()
    vcf = open_vcf(path, None)
    near_2000 = PositionIndex([("chr1", 2000)])
    found = read_calls(vcf, limit=10, priority=near_2000)
    assert [c.id for c in found.calls] == [
        "GRCh38:chr1:2000:A:C",
        "GRCh38:chr1:2000:A:G",
        "GRCh38:chr1:1000:A:C",
    ]
    assert found.no_calls == ["chr1:3000-3000"] and found.dropped == 0 and found.records == 2
    bounded = read_calls(vcf, limit=1, priority=near_2000)
    assert [c.id for c in bounded.calls] == ["GRCh38:chr1:2000:A:C", "GRCh38:chr1:2000:A:G"]
    assert bounded.dropped == 1


def test_a_large_file_is_read_only_near_the_knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past kg.matcher.calls.WHOLE_FILE_TEXT_BYTES (a whole genome) only the priority regions are
    read: calls elsewhere are neither kept nor counted, and the result says it is not complete."""
    path = _write(
        tmp_path / "big.vcf",
        vcf_text([Rec("chr1", 1000, "A", ("C",), "0/1"), Rec("chr1", 50_000, "A", ("G",), "1/1")]),
    )
    monkeypatch.setattr(calls, "WHOLE_FILE_TEXT_BYTES", 0)
    found = read_calls(open_vcf(path, None), limit=10, priority=PositionIndex([("chr1", 49_000, 51_000)]))
    assert found.strategy == "priority regions" and found.complete is False
    assert [c.id for c in found.calls] == ["GRCh38:chr1:50000:A:G"] and found.dropped == 0


def _cohort_vcf(path: Path, records: list[Rec], gts: dict[str, list[str]]) -> Path:
    """A multi-sample VCF of ``records`` (in order), sample -> the GT it gives each record."""
    samples = list(gts)
    rows = [Rec(r.chrom, r.pos, r.ref, r.alts, ":33\t".join(gts[s][n] for s in samples)) for n, r in enumerate(records)]
    text = vcf_text(rows).replace("\tFORMAT\tS1\n", "\tFORMAT\t" + "\t".join(samples) + "\n")
    return _write(path, text)


def _store(graph: Graph, patient: str) -> dict[str, Any]:
    """A patient's call store: its calls (without the sample's name), no-call ranges and summary."""
    row = graph.read(
        "MATCH (p:Patient {id: $id}) OPTIONAL MATCH (p)-[:HAS_NO_CALLS]->(n:NoCallSet) "
        "RETURN p {.callsStored, .callsDropped, .callsTruncated, .callsComplete, .callsMax} AS summary, "
        "n.ranges AS noCalls",
        id=patient,
    )[0]
    calls = {k: {f: v for f, v in c.items() if f != "sample"} for k, c in _called(graph, patient).items()}
    return {"calls": calls, "noCalls": row["noCalls"], **row["summary"]}


def test_a_cohort_keeps_each_samples_call_store_as_when_matched_alone(
    seeded: Graph, template: SeedRecord, tmp_path: Path, test_release: list[str]
) -> None:
    """Issue 8 for cohort runs: each sample's calls no exact Variant matched (the knowledge read's and
    the whole file's) and its no-calls are kept as a single-sample match keeps them, so a later release
    links cohort patients too; the bound applies per patient."""
    from kg.matcher.match import match_cohort

    t = template
    chrom = "chr" + t.chrom
    alt_a = _unknown(seeded, t.chrom, t.pos, t.ref, exclude=t.alt)
    pos_b = _free_position(seeded, t.chrom, t.pos + 7000)
    pos_c = _free_position(seeded, t.chrom, pos_b + 5000)
    ids = {
        "A": normalize(t.chrom, t.pos, t.ref, alt_a).id,
        "B": normalize(t.chrom, pos_b, "A", "G").id,
        "C": normalize(t.chrom, pos_c, "C", "T").id,
    }
    records = [
        Rec(chrom, t.pos, t.ref, (alt_a,), ""),
        Rec(chrom, pos_b, "A", ("G",), ""),
        Rec(chrom, pos_c, "C", ("T",), ""),
    ]
    gts = {"X": ["0/1", "1|1", "./."], "Y": ["0/0", "0/1", "0/1"], "Z": ["0/0", "0/0", "0/0"]}
    run = uuid.uuid4().hex[:8]
    cohort = {s: f"calls-cohort-{run}-{s}" for s in gts}
    alone = {s: f"calls-alone-{run}-{s}" for s in gts}
    try:
        # the bound, per patient: X keeps the knowledge read's call first, and the run says what it cut;
        # matched again without it, the store is replaced
        report = match_cohort(seeded, _cohort_vcf(tmp_path / "cohort.vcf", records, gts), patients=cohort, calls_max=1)
        assert {o.sample: (o.calls_stored, o.calls_dropped) for o in report.samples} == {
            "X": (1, 1),
            "Y": (1, 1),
            "Z": (0, 0),
        }
        assert any("call store truncated for 2 patient(s)" in w for w in report.warnings)
        x = _store(seeded, cohort["X"])
        assert set(x["calls"]) == {ids["A"]} and x["callsTruncated"] is True and x["callsDropped"] == 1
        report = match_cohort(seeded, _cohort_vcf(tmp_path / "cohort.vcf", records, gts), patients=cohort)
        assert report.stored == 3 and report.reading["callStore"] == "whole file"
        assert {o.sample: o.calls_stored for o in report.samples} == {"X": 2, "Y": 2, "Z": 0}
        for s, column in gts.items():
            match_patient(seeded, _cohort_vcf(tmp_path / f"{s}.vcf", records, {s: column}), patient_id=alone[s])
            assert _store(seeded, cohort[s]) == _store(seeded, alone[s]), s
        x, y = _store(seeded, cohort["X"]), _store(seeded, cohort["Y"])
        assert set(x["calls"]) == {ids["A"], ids["B"]} and set(y["calls"]) == {ids["B"], ids["C"]}
        assert x["calls"][ids["B"]]["genotype"] == "G|G" and x["callsComplete"] is True
        assert x["noCalls"] == [f"{chrom}:{pos_c}-{pos_c}"] and y["noCalls"] == []

        # a later release classifying A, B and C reaches the cohort's patients
        vcf_release = _clinvar_vcf(
            tmp_path / "clinvar_20990228.vcf.gz",
            [
                (t.chrom, t.pos, 990000011, t.ref, alt_a, t.info),
                (t.chrom, pos_b, 990000012, "A", "G", t.info),
                (t.chrom, pos_c, 990000013, "C", "T", t.info),
            ],
        )
        loaded = _load_test_release(seeded, vcf_release)
        test_release.append(loaded.source)
        assert set(_linked(seeded, cohort["X"])) >= {ids["A"], ids["B"]}
        assert set(_linked(seeded, cohort["Y"])) >= {ids["B"], ids["C"]}
        assert ids["C"] not in _linked(seeded, cohort["X"])  # X's no-call there is never linked
        assert _linked(seeded, cohort["Y"])[ids["C"]]["linkedBy"] == loaded.source
        assert _called(seeded, cohort["X"]) == {} and _called(seeded, cohort["Y"]) == {}
    finally:
        for pid in [*cohort.values(), *alone.values()]:
            delete_patient(seeded, pid)

"""Release sets with the real ClinVar releases (../shared/data): ``clinvar_more/`` is ``clinvar@2024-06-01``
and ``clinvar/`` is ``clinvar@2026-02-26`` of the one source ``clinvar`` (kg/loaders/release.py).

``real_data`` loads the sources in registry order, so ClinVar 2026-02-26 first and 2024-06-01 after it:
the opposite of date order. The module then retires 2026-02-26 and loads it again: date order. In both,
the 2026 release supersedes the 2024 evidence inside its windows only (PALB2, MLH1, ATM, ...), and the
2024 facts elsewhere stay current. What a patient or a curator owns survives the retirement.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.loaders import clinvar, clinvar_more
from kg.loaders import clinvar_fields as cv
from kg.loaders import release as release_module
from kg.loaders.coverage import Region, Windows
from kg.loaders.release import SourceRelease, load_release, recover, retire_release
from kg.matcher.match import delete_patient, match_patient
from kg.queries.changes import ChangeKind, patient_changes
from kg.queries.curation import Submission, moderate_evidence, submit_evidence
from kg.queries.release_compare import compare
from kg.queries.visibility import VISIBLE_EVIDENCE, state_params

OLD, NEW = "clinvar@2024-06-01", "clinvar@2026-02-26"
IN_BOTH = 4_925  # alleles in both files (tests/test_loader_clinvar.py)
MLH1_CHANGED = "GRCh38:chr3:37048964:T:G"  # 2024: uncertain significance; 2026: likely pathogenic
PATIENT = "test-release-sets-patient"


@pytest.fixture(scope="module")
def expected(data_dir: Path) -> dict[str, Any]:
    """From the files alone: the 2026 windows and, per gene, the 2024 records inside them."""
    windows = Windows()
    for row in clinvar.read_records(clinvar.find_vcf(data_dir / "clinvar"), "2026-02-26"):
        windows.add(*cv.span(row))
    regions = windows.regions()
    tsv = clinvar_more.find_files(data_dir / "clinvar_more")[0]
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for row in clinvar_more.read_records(tsv, "2024-06-01"):
        chrom, pos, _ = cv.span(row)
        hit = any(r.chrom == chrom.removeprefix("chr") and r.start <= pos <= r.end for r in regions)
        (inside if hit else outside)[row.get("gene") or ""] += 1
    return {"regions": regions, "inside": inside, "outside": outside}


def _marks_by_gene(graph: Graph) -> Counter[str]:
    rows = graph.read(
        "MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(e:Evidence)-[:ABOUT]->(v:Variant) "
        "WHERE $new IN coalesce(e.supersededBy, []) RETURN coalesce(v.gene, '') AS gene, count(e) AS n",
        old=OLD,
        new=NEW,
    )
    return Counter({r["gene"]: r["n"] for r in rows})


def _visible(graph: Graph, variant: str) -> list[tuple[str, str]]:
    rows = graph.read(
        f"MATCH (:Variant {{id: $id}})<-[:ABOUT]-(e:Evidence {{source: 'clinvar'}}) WHERE {VISIBLE_EVIDENCE} "
        "RETURN e.release AS release, e.classification AS c ORDER BY release",
        id=variant,
        **state_params(None),
    )
    return [(r["release"], r["c"]) for r in rows]


def _supersedes_inside_windows_only(graph: Graph, expected: dict[str, Any]) -> None:
    coverage = graph.read(
        "MATCH (s:Source {name: 'clinvar'}) WHERE s.key IN [$old, $new] RETURN s.key AS key, s.status AS status, "
        "s.coverage AS coverage, s.releasedOn AS releasedOn",
        old=OLD,
        new=NEW,
    )
    by_key = {r["key"]: r for r in coverage}
    assert by_key[OLD]["status"] == by_key[NEW]["status"] == "active"  # partial releases: both current
    assert by_key[OLD]["releasedOn"] == "2024-06-01" and by_key[NEW]["releasedOn"] == "2026-02-26"
    assert [Region.parse(r) for r in json.loads(by_key[NEW]["coverage"])["regions"]] == expected["regions"]
    assert {"ATM", "PALB2", "MLH1", "CFTR"} <= set(json.loads(by_key[OLD]["coverage"])["genes"])
    marks = _marks_by_gene(graph)
    # exactly the 2024 records inside the 2026 windows (Variant.gene is the VCF's symbol where both name one)
    assert sum(marks.values()) == sum(expected["inside"].values())
    # each mark has its SUPERSEDED_IN edge to the newer Source, and no edge lacks its mark
    assert graph.read(
        "MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(e:Evidence)-[m:SUPERSEDED_IN]->(s:Source) "
        "RETURN s.key AS key, count(m) AS n, sum(CASE WHEN s.key IN e.supersededBy THEN 1 ELSE 0 END) AS marked",
        old=OLD,
    ) == [{"key": NEW, "n": sum(marks.values()), "marked": sum(marks.values())}]
    assert expected["inside"]["PALB2"] > 100 and expected["inside"]["MLH1"] > 100 and expected["inside"]["ATM"] > 100
    assert marks["PALB2"] > 100 and marks["MLH1"] > 100 and marks["ATM"] > 100
    assert expected["outside"]["ATM"] > 0 and expected["outside"]["MLH1"] > 0  # both genes reach past the windows
    assert marks["CFTR"] == 0 and marks["MSH6"] == 0  # genes the 2026 file does not cover
    assert _visible(graph, MLH1_CHANGED) == [(NEW, "likely pathogenic")]
    # 2024 records outside the windows stay current: every CFTR one
    cftr = graph.read(
        "MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(e:Evidence)-[:ABOUT]->(:Variant {gene: 'CFTR'}) "
        f"RETURN count(e) AS n, sum(CASE WHEN {VISIBLE_EVIDENCE} THEN 1 ELSE 0 END) AS visible",
        old=OLD,
        **state_params(None),
    )[0]
    assert cftr["n"] == cftr["visible"] > 4000


def test_opposite_order_2024_does_not_override_2026(real_data: Graph, expected: dict[str, Any]) -> None:
    """As loaded: 2026-02-26 first, then 2024-06-01: the older release loaded later is superseded inside the
    newer one's windows and current elsewhere."""
    seqs = {
        r["key"]: r["seq"]
        for r in real_data.read("MATCH (s:Source {name: 'clinvar'}) RETURN s.key AS key, s.seq AS seq")
    }
    if seqs[OLD] < seqs[NEW]:  # another module re-loaded 2026 after 2024: load 2024 last again
        retire_release(real_data, OLD)
        clinvar_more.load(real_data, real_data_dir() / "clinvar_more", progress=False)
    _supersedes_inside_windows_only(real_data, expected)


def real_data_dir() -> Path:
    from kg.config import default_data_dir

    return default_data_dir()


def test_figures_of_the_two_releases(real_data: Graph) -> None:
    figures = compare(real_data, OLD, NEW)
    assert figures.shared == IN_BOTH
    assert figures.superseded == IN_BOTH  # every shared allele lies inside the 2026 windows
    assert 0 < figures.changed <= figures.reclassified < figures.shared
    assert sum(figures.by_change.values()) == figures.changed
    assert figures.by_change[("VUS", "P/LP")] > 0 and figures.by_change[("P/LP", "VUS")] >= 0
    print("\n".join(figures.lines()))


@pytest.fixture(scope="module")
def owned(real_data: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A patient carrying an allele only ClinVar 2026-02-26 asserts and the MLH1 allele both classify, and
    accepted curated evidence about the first allele."""
    only_new = real_data.read(
        "MATCH (:Source {key: $new})<-[:ASSERTED_BY]-(e:Evidence {classification: 'pathogenic'})-[:ABOUT]->(v:Variant) "
        "WHERE v.chrom = 'chr17' AND size(v.ref) = 1 AND size(v.alt) = 1 "
        "AND COUNT { (v)-[:ASSERTED_BY]->() } = 1 AND NOT EXISTS { (v)<--(:Patient) } "
        "RETURN v.id AS id, v.chrom AS chrom, v.pos AS pos, v.ref AS ref, v.alt AS alt ORDER BY v.pos LIMIT 1",
        new=NEW,
    )[0]
    vcf = tmp_path_factory.mktemp("release-sets") / "patient.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr3,length=198295559>\n##contig=<ID=chr17,length=83257441>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "chr3\t37048964\t.\tT\tG\t.\tPASS\t.\tGT\t0/1\n"
        f"chr17\t{only_new['pos']}\t.\t{only_new['ref']}\t{only_new['alt']}\t.\tPASS\t.\tGT\t0/1\n"
    )
    match_patient(real_data, vcf, patient_id=PATIENT)
    sub = Submission(
        target=only_new["id"],
        disease="DOID:1612",
        type="pathogenicity",
        significance="pathogenic",
        direction="supports",
        statement="test-release-sets: a curator's evidence about an allele only one release asserts",
        submitter="test-release-sets-curator",
    )
    curated = submit_evidence(real_data, sub).id
    moderate_evidence(real_data, curated, "ACCEPTED", "checked", "test-release-sets-moderator")
    yield {"variant": only_new["id"], "curated": curated}
    delete_patient(real_data, PATIENT)
    real_data.write("MATCH (e:Evidence {id: $id}) DETACH DELETE e", id=curated)


def _patient_links(graph: Graph) -> list[str]:
    return sorted(
        r["id"]
        for r in graph.read("MATCH (:Patient {id: $p})-[:HAS_VARIANT]->(v:Variant) RETURN v.id AS id", p=PATIENT)
    )


def _asserted(graph: Graph) -> dict[str, int]:
    return {
        r["key"]: r["n"]
        for r in graph.read(
            "MATCH (s:Source {name: 'clinvar'}) RETURN s.key AS key, COUNT { (s)<-[:ASSERTED_BY]-() } AS n"
        )
    }


def _groups(graph: Graph) -> dict[str, dict[str, Any]]:
    """For every Variant 2026-02-26 asserts: its node properties and each ASSERTED_BY edge's property
    group (kg/loaders/property_groups.py) with its release's key and seq."""
    rows = graph.read(
        "MATCH (:Source {key: $new})<-[:ASSERTED_BY]-(v:Variant) "
        "RETURN v.id AS id, properties(v) AS node, "
        "[(v)-[a:ASSERTED_BY]->(s) | {key: s.key, seq: s.seq, edge: properties(a)}] AS groups",
        new=NEW,
    )
    return {r["id"]: {"node": r["node"], "groups": r["groups"]} for r in rows}


def _derive(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule of kg/loaders/property_groups.py, written again here: newest ``props``, else earliest
    ``firstProps``, else the union of ``unionProps`` (as a sorted list: load order is not compared)."""
    ordered = sorted(groups, key=lambda g: g["seq"])
    names = {n for g in ordered for mode in ("props", "firstProps", "unionProps") for n in g["edge"].get(mode, [])}
    out: dict[str, Any] = {}
    for name in names:
        newest = [g["edge"][name] for g in ordered if name in g["edge"].get("props", [])]
        earliest = [g["edge"][name] for g in ordered if name in g["edge"].get("firstProps", [])]
        lists = [g["edge"][name] for g in ordered if name in g["edge"].get("unionProps", [])]
        out[name] = newest[-1] if newest else earliest[0] if earliest else sorted({x for v in lists for x in v})
    return out


def _asserted_properties(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The node properties some release asserts, union lists sorted (as :func:`_derive` gives them)."""
    derived = _derive(snapshot["groups"])
    single = {n for g in snapshot["groups"] for mode in ("props", "firstProps") for n in g["edge"].get(mode, [])}
    node = snapshot["node"]
    return {n: sorted(node[n]) if n not in single and n in node else node.get(n) for n in derived}


def test_retire_and_reload_in_date_order(real_data: Graph, expected: dict[str, Any], owned: dict[str, str]) -> None:
    """Retire 2026-02-26 (an edge both releases assert survives; the patient's links and the curated
    evidence stay; the properties it alone asserted go, those another release also asserts take that
    release's value), then load it again after 2024-06-01: date order gives the same superseding and the
    same properties."""
    groups = _groups(real_data)
    assert len(groups) > 10_000
    for snapshot in groups.values():  # as loaded, every node holds what the rule derives from its groups
        assert _asserted_properties(snapshot) == _derive(snapshot["groups"]), snapshot
    shared = [i for i, g in groups.items() if {x["key"] for x in g["groups"]} == {OLD, NEW}]
    assert len(shared) > 4000  # alleles both ClinVar releases (and no other source) assert
    assert all(groups[i]["node"].get("clinvarVariationId") for i in shared)  # only the 2026 VCF gives it
    assert all(groups[i]["node"].get("gene") for i in shared)
    links = _patient_links(real_data)
    assert {MLH1_CHANGED, owned["variant"]} <= set(links)  # and CIViC's TP53 gene- and codon-level variants
    shared_edges = {
        r["id"]: r["releases"]
        for r in real_data.read(
            "MATCH (:Source {key: $new})<-[:ASSERTED_BY]-(v:Variant)-[r:IN_GENE]->() "
            "WHERE $old IN r.releases AND $new IN r.releases RETURN elementId(r) AS id, r.releases AS releases",
            old=OLD,
            new=NEW,
        )
    }
    assert len(shared_edges) > 1000  # IN_GENE of the alleles both releases hold
    before = _asserted(real_data)
    report = retire_release(real_data, NEW)
    # indexed: what the retirement touched is what the release asserted, nothing more
    assert report.links_removed == before[NEW]
    assert report.nodes_deleted + report.nodes_kept <= report.links_removed
    assert report.nodes_kept >= 1  # the patient's allele only 2026 asserted
    assert report.marks_removed == sum(expected["inside"].values())
    after = {
        r["id"]: r["releases"]
        for r in real_data.read(
            "MATCH ()-[r]->() WHERE elementId(r) IN $ids RETURN elementId(r) AS id, r.releases AS releases",
            ids=list(shared_edges),
        )
    }
    assert after == {i: [k for k in releases if k != NEW] for i, releases in shared_edges.items()}
    assert {frozenset(r) for r in after.values()} >= {frozenset([OLD]), frozenset([OLD, "civic@2024-08-01"])}
    assert _patient_links(real_data) == links  # nothing a patient owns is lost
    kept = real_data.read(
        "MATCH (v:Variant {id: $id}) RETURN COUNT { (v)-[:ASSERTED_BY]->() } AS asserted, "
        "COUNT { (v)<-[:ABOUT]-(:Evidence {id: $curated}) } AS curated, COUNT { (v)<-[:ABOUT]-(:Evidence {source: 'clinvar'}) } AS clinvar",
        id=owned["variant"],
        curated=owned["curated"],
    )
    assert kept == [{"asserted": 0, "curated": 1, "clinvar": 0}]  # its facts end; the curator's evidence stays
    assert _visible(real_data, MLH1_CHANGED) == [(OLD, "uncertain significance")]  # the older is current again
    assert _marks_by_gene(real_data) == Counter()
    # properties: derived again from the remaining releases, or gone (kg/loaders/property_groups.py)
    left = {
        r["id"]: {"node": r["node"], "groups": r["groups"]}
        for r in real_data.read(
            "MATCH (v:Variant) WHERE v.id IN $ids RETURN v.id AS id, properties(v) AS node, "
            "[(v)-[a:ASSERTED_BY]->(s) | {key: s.key, seq: s.seq, edge: properties(a)}] AS groups",
            ids=list(groups),
        )
    }
    for vid, snapshot in left.items():
        assert _asserted_properties(snapshot) == _derive(snapshot["groups"]), snapshot
        mine = {
            n
            for g in groups[vid]["groups"]
            if g["key"] == NEW
            for mode in ("props", "firstProps", "unionProps")
            for n in g["edge"].get(mode, [])
        }
        assert not (mine - set(_derive(snapshot["groups"]))) & set(snapshot["node"]), (vid, snapshot)
    assert not [i for i in shared if "clinvarVariationId" in left[i]["node"] or "variantType" in left[i]["node"]]
    old_gene = {i: next(g["edge"].get("gene") for g in left[i]["groups"] if g["key"] == OLD) for i in shared}
    assert sum(1 for v in old_gene.values() if v) > 4000
    assert {i: left[i]["node"].get("gene") for i in shared} == old_gene  # 2024's value, where 2026's stood
    changed = [i for i in shared if groups[i]["node"].get("gene") != old_gene[i]]
    print(f"\n{len(shared):,} alleles only ClinVar asserts in both releases; {len(changed):,} change gene symbol")
    patient_allele = left[owned["variant"]]["node"]  # kept unasserted for the patient: nothing asserted on it
    assert not {"rsid", "gene", "clinvarVariationId", "clinvarAlleleId"} & set(patient_allele)
    assert patient_allele["id"] == owned["variant"] and patient_allele["pos"] > 0  # identity stays
    assert not real_data.read(
        "MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(:Evidence)-[m:SUPERSEDED_IN]->() RETURN m LIMIT 1", old=OLD
    )
    # re-interpreted before the facts went: the patient's MLH1 allele is back to uncertain significance
    assert report.reinterpreted is not None and report.reinterpreted.patients >= 1
    back = [c for c in patient_changes(real_data, PATIENT) if c.retirement and c.allele == MLH1_CHANGED]
    assert [(c.kind, c.old_class, c.new_class, c.release) for c in back] == [
        (ChangeKind.RETRACTED, "likely pathogenic", "uncertain significance", NEW)
    ]

    clinvar.load(real_data, real_data_dir() / "clinvar", progress=False)  # date order: 2026 after 2024
    _supersedes_inside_windows_only(real_data, expected)
    assert _asserted(real_data) == before
    assert _patient_links(real_data) == links
    assert real_data.read(
        "MATCH (v:Variant {id: $id}) RETURN [(v)-[:ASSERTED_BY]->(s) | s.key] AS by", id=owned["variant"]
    ) == [{"by": [NEW]}]
    again = _groups(real_data)  # the same properties and groups as before the retirement
    assert {i: _asserted_properties(g) for i, g in again.items()} == {
        i: _asserted_properties(g) for i, g in groups.items()
    }
    assert {i: sorted((x["key"], repr(sorted(x["edge"].items()))) for x in g["groups"]) for i, g in again.items()} == {
        i: sorted((x["key"], repr(sorted(x["edge"].items()))) for x in g["groups"]) for i, g in groups.items()
    }


def _release_sets(graph: Graph) -> dict[str, Any]:
    """The ClinVar source's release sets: ASSERTED_BY per Source, edge release lists by type, marks; and in
    full for the MLH1 window (each Variant's assertions and edges)."""
    edges = graph.read(
        "MATCH (s:Source {name: 'clinvar'})<-[:ASSERTED_BY]-(n)-[r]->() WHERE r.releases IS NOT NULL "
        "WITH DISTINCT r RETURN type(r) AS t, r.releases AS releases, count(r) AS n"
    )
    marks = graph.read(
        "MATCH (s:Source {name: 'clinvar'})<-[:ASSERTED_BY]-(e:Evidence) WHERE e.supersededBy IS NOT NULL "
        "RETURN e.supersededBy AS by, COUNT { (e)-[:SUPERSEDED_IN]->() } AS edges, count(e) AS n"
    )
    window = graph.read(
        "MATCH (v:Variant) WHERE v.pos >= 37035121 AND v.pos <= 37091508 AND v.chrom = 'chr3' "
        "RETURN v.id AS id, [(v)-[:ASSERTED_BY]->(s) | s.key] AS by, "
        "[(v)-[r]->(m) WHERE r.releases IS NOT NULL | [type(r), coalesce(m.id, m.symbol), r.releases]] AS out, "
        "[(v)<-[:ABOUT]-(e) | [e.id, e.supersededBy]] AS evidence ORDER BY id"
    )
    sources = graph.read(
        "MATCH (s:Source {name: 'clinvar'}) RETURN s.key AS key, s.status AS status, s.checksum AS checksum, "
        "s.seq AS seq ORDER BY key"
    )

    def canon(rows: list[dict[str, Any]]) -> list[str]:
        return sorted(repr(sorted(r.items())) for r in rows)

    return {
        "asserted": _asserted(graph),
        "edges": canon(edges),
        "marks": canon(marks),
        "window": canon(window),
        "sources": sources,
    }


def test_a_load_that_fails_part_way_leaves_release_sets_as_they_were(
    real_data: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer ClinVar release written whole (its key joined thousands of shared edges and its superseding
    marks were applied to both kept releases' evidence) whose activation never happens (the database went
    away): the next load's recovery leaves every release set exactly as before."""
    before = _release_sets(real_data)
    vcf = clinvar.find_vcf(real_data_dir() / "clinvar")
    windows = Windows()
    crashed = SourceRelease(
        "clinvar", "2026-03-01", clinvar.LICENCE, (vcf,), released_on="2026-03-01", coverage=windows.text
    )

    def gone(*_: object) -> None:
        raise ConnectionError("the database went away at activation")

    monkeypatch.setattr(release_module, "_activate", gone)
    with pytest.raises(ConnectionError):
        load_release(real_data, crashed, clinvar.stages(real_data, vcf, "2026-02-26", windows), progress=False)
    monkeypatch.undo()
    left = real_data.read(
        "MATCH (s:Source {key: 'clinvar@2026-03-01'}) RETURN s.status AS status, "
        "COUNT { (s)<-[:ASSERTED_BY]-() } AS asserted",
    )
    assert left and left[0]["status"] == "loading" and left[0]["asserted"] > 100_000
    marked = real_data.read(
        "MATCH (e:Evidence) WHERE e.id STARTS WITH $new + ':' AND 'clinvar@2026-03-01' IN coalesce(e.supersededBy, []) "
        "RETURN count(e) AS n",
        new=NEW,
    )[0]["n"]
    assert marked > 60_000  # the marks were applied before the crash
    assert (
        real_data.read("MATCH (:Source {key: 'clinvar@2026-03-01'})<-[m:SUPERSEDED_IN]-() RETURN count(m) AS n")[0]["n"]
        >= marked
    )  # ... with their edges (on both kept releases' evidence)
    assert recover(real_data, "clinvar") == ["clinvar@2026-03-01"]
    assert _release_sets(real_data) == before

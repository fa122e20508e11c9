"""kg/loaders/release.py: all-or-nothing, idempotent, attributable loads with release sets (made-up sources).

The ClinVar releases themselves are tested in tests/test_loader_clinvar.py and tests/test_release_sets.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import (
    RETIRE_STATEMENTS,
    SourceRelease,
    Stage,
    discard_release,
    load_release,
    recover,
    retire_release,
)
from kg.loaders.statements import stamped

NODES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (n:Disease {id: row.id}) SET n.name = row.name
MERGE (n)-[:ASSERTED_BY]->(src)
"""

EDGES = stamped("""
UNWIND $rows AS row
MATCH (a:Disease {id: row.id}) MATCH (b:Disease {id: row.parent})
MERGE (a)-[r:IS_A]->(b) SET RELEASES(r)
""")

# Evidence about variants on a made-up chromosome, for superseding inside coverage.
EVIDENCE = stamped("""
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (v:Variant {id: row.vid}) SET v.chrom = 'chr99', v.pos = row.pos
MERGE (v)-[:ASSERTED_BY]->(src)
MERGE (e:Evidence {id: $source + ':' + row.vid})
SET e.type = 'pathogenicity', e.classification = row.cls, e.release = $source
MERGE (e)-[:ASSERTED_BY]->(src)
MERGE (e)-[r:ABOUT]->(v) SET RELEASES(r)
""")

PREFIX = "test-release:"
NAMES = ("test-release", "test-other")


@pytest.fixture()
def graph_clean(graph: Graph) -> Iterator[Graph]:
    yield graph
    for row in graph.read("MATCH (s:Source) WHERE s.name IN $names RETURN s.key AS key", names=list(NAMES)):
        discard_release(graph, row["key"])
    graph.write("MATCH (n:Disease|Variant|Evidence|Patient) WHERE n.id STARTS WITH $p DETACH DELETE n", p=PREFIX)
    graph.write("MATCH (e:Evidence) WHERE e.id STARTS WITH 'test-' DETACH DELETE e")


def _release(
    tmp_path: Path,
    version: str,
    content: str = "x",
    name: str = "test-release",
    released_on: str | None = None,
    coverage: str = "all",
) -> SourceRelease:
    f = tmp_path / f"{name}-{version}.txt"
    f.write_text(content)
    return SourceRelease(name, version, "CC0", (f,), released_on=released_on, coverage=coverage)


def _stages(ids: list[str], parents: dict[str, str], fail_at: int | None = None) -> list[Stage]:
    def nodes() -> Iterator[dict]:
        for i, x in enumerate(ids):
            if fail_at is not None and i == fail_at:
                raise SourceFormatError("made-up.tsv", i + 2, "a valid row", "garbage")
            yield {"id": PREFIX + x, "name": x}

    edges = [{"id": PREFIX + c, "parent": PREFIX + p} for c, p in parents.items()]
    return [Stage("nodes", NODES, nodes, batch_size=2), Stage("edges", EDGES, lambda: edges)]


def _evidence(rows: dict[int, str], fail: bool = False) -> list[Stage]:
    """One Evidence per position: {pos: classification} on chr99."""

    def produce() -> Iterator[dict]:
        for pos, cls in rows.items():
            yield {"vid": f"{PREFIX}chr99:{pos}", "pos": pos, "cls": cls}
        if fail:
            raise SourceFormatError("made-up.vcf", 99, "a record", "garbage")

    return [Stage("evidence", EVIDENCE, produce, batch_size=1)]


def _state(graph: Graph) -> tuple[set[str], set[tuple[str, str, tuple[str, ...]]], set[str]]:
    nodes = {r["id"] for r in graph.read("MATCH (n:Disease) WHERE n.id STARTS WITH $p RETURN n.id AS id", p=PREFIX)}
    edges = {
        (r["a"], r["b"], tuple(r["rel"]))
        for r in graph.read(
            "MATCH (a:Disease)-[r:IS_A]->(b:Disease) WHERE a.id STARTS WITH $p "
            "RETURN a.id AS a, b.id AS b, r.releases AS rel",
            p=PREFIX,
        )
    }
    sources = {r["key"] for r in graph.read("MATCH (s:Source {name: 'test-release'}) RETURN s.key AS key")}
    return nodes, edges, sources


def _release_sets(graph: Graph) -> dict[str, Any]:
    """Everything release sets are made of, for the test nodes: ASSERTED_BY per node, r.releases per
    edge, supersededBy per Evidence, the Sources with status and checksum."""
    return {
        "nodes": sorted(
            (r["id"], sorted(r["by"]))
            for r in graph.read(
                "MATCH (n) WHERE (n:Disease OR n:Variant OR n:Evidence) AND n.id STARTS WITH 'test-' "
                "RETURN n.id AS id, [(n)-[:ASSERTED_BY]->(s) | s.key] AS by"
            )
        ),
        "edges": sorted(
            (r["a"], r["t"], r["b"], r["rel"])
            for r in graph.read(
                "MATCH (a)-[r]->(b) WHERE (a:Disease OR a:Evidence) AND a.id STARTS WITH 'test-' AND type(r) <> 'ASSERTED_BY' "
                "RETURN a.id AS a, type(r) AS t, b.id AS b, r.releases AS rel"
            )
        ),
        "marks": sorted(
            (r["id"], r["by"])
            for r in graph.read(
                "MATCH (e:Evidence) WHERE e.id STARTS WITH 'test-' AND e.supersededBy IS NOT NULL "
                "RETURN e.id AS id, e.supersededBy AS by"
            )
        ),
        "sources": sorted(
            (r["key"], r["status"], r["checksum"], r["seq"])
            for r in graph.read(
                "MATCH (s:Source) WHERE s.name IN $names RETURN s.key AS key, s.status AS status, "
                "s.checksum AS checksum, s.seq AS seq",
                names=list(NAMES),
            )
        ),
    }


def _status(graph: Graph, key: str) -> str | None:
    rows = graph.read("MATCH (s:Source {key: $key}) RETURN s.status AS status", key=key)
    return rows[0]["status"] if rows else None


def test_same_release_twice_changes_nothing(graph_clean: Graph, tmp_path: Path) -> None:
    rel = _release(tmp_path, "v1")
    first = load_release(graph_clean, rel, _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    before = _release_sets(graph_clean)
    second = load_release(graph_clean, rel, _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    assert not first.skipped and second.skipped
    assert _release_sets(graph_clean) == before and len(_state(graph_clean)[0]) == 3


def test_source_records_date_seq_and_coverage(graph_clean: Graph, tmp_path: Path) -> None:
    load_release(graph_clean, _release(tmp_path, "2021-05-04"), _stages(["a"], {}), progress=False)
    load_release(graph_clean, _release(tmp_path, "v2", name="test-other"), _stages(["b"], {}), progress=False)
    rows = {
        r["key"]: r
        for r in graph_clean.read(
            "MATCH (s:Source) WHERE s.name IN $names RETURN s.key AS key, s.releasedOn AS releasedOn, "
            "s.seq AS seq, s.coverage AS coverage, s.status AS status",
            names=list(NAMES),
        )
    }
    dated, undated = rows["test-release@2021-05-04"], rows["test-other@v2"]
    assert dated["releasedOn"] == "2021-05-04" and undated["releasedOn"] is None
    assert dated["coverage"] == undated["coverage"] == "all"
    assert undated["seq"] > dated["seq"] >= 1  # one counter across sources, growing with each activation


def test_newer_full_release_supersedes_the_older_and_keeps_it(graph_clean: Graph, tmp_path: Path) -> None:
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c"], {"a": "b", "c": "b"}), progress=False)
    report = load_release(graph_clean, _release(tmp_path, "v2", "y"), _stages(["a", "b"], {"a": "b"}), progress=False)
    nodes, edges, sources = _state(graph_clean)
    assert report.replaced == ["test-release@v1"] and report.retired == []
    assert _status(graph_clean, "test-release@v1") == "superseded"  # kept for as-of answers, not current
    assert _status(graph_clean, "test-release@v2") == "active"
    assert nodes == {PREFIX + "a", PREFIX + "b", PREFIX + "c"}  # c: still asserted by the superseded v1
    assert edges == {
        (PREFIX + "a", PREFIX + "b", ("test-release@v1", "test-release@v2")),  # both assert it
        (PREFIX + "c", PREFIX + "b", ("test-release@v1",)),
    }
    assert sources == {"test-release@v1", "test-release@v2"}


def test_releases_beyond_keep_are_retired(graph_clean: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_KEEP_RELEASES", "2")
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "c"], {"c": "a"}), progress=False)
    load_release(graph_clean, _release(tmp_path, "v2", "y"), _stages(["a", "b"], {"b": "a"}), progress=False)
    report = load_release(graph_clean, _release(tmp_path, "v3", "z"), _stages(["a", "b"], {"b": "a"}), progress=False)
    nodes, edges, sources = _state(graph_clean)
    assert report.retired == ["test-release@v1"]
    assert sources == {"test-release@v2", "test-release@v3"}
    assert nodes == {PREFIX + "a", PREFIX + "b"}  # c only v1 asserted: gone with it
    assert edges == {(PREFIX + "b", PREFIX + "a", ("test-release@v2", "test-release@v3"))}


def test_failed_load_leaves_nothing_visible(graph_clean: Graph, tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match=r"made-up.tsv:4: expected a valid row"):
        load_release(
            graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c", "d"], {}, fail_at=2), progress=False
        )
    assert _state(graph_clean) == (set(), set(), set())


def test_failed_newer_release_leaves_release_sets_exactly_as_they_were(graph_clean: Graph, tmp_path: Path) -> None:
    """A load that fails part-way after re-MERGEing edges and nodes the kept releases assert, and after
    its evidence: every ASSERTED_BY, every r.releases list (in order), every mark as before."""
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    load_release(
        graph_clean,
        _release(tmp_path, "2020-01-01", name="test-other", released_on="2020-01-01"),
        _evidence({100: "benign", 200: "pathogenic"}),
        progress=False,
    )
    before = _release_sets(graph_clean)
    bad = _stages(["a", "b", "c", "x", "y"], {"a": "b"}, fail_at=4)
    bad.insert(0, Stage("edges first", EDGES, lambda: [{"id": PREFIX + "a", "parent": PREFIX + "b"}]))
    with pytest.raises(SourceFormatError):
        load_release(graph_clean, _release(tmp_path, "v2", "y"), bad, progress=False)
    assert _release_sets(graph_clean) == before
    # a newer partial release of the other source that fails after writing all its evidence
    with pytest.raises(SourceFormatError):
        load_release(
            graph_clean,
            _release(
                tmp_path, "2022-01-01", name="test-other", released_on="2022-01-01", coverage=_regions("99:1-150")
            ),
            _evidence({100: "pathogenic", 300: "benign"}, fail=True),
            progress=False,
        )
    assert _release_sets(graph_clean) == before


def _regions(*regions: str) -> str:
    return json.dumps({"regions": list(regions)})


def _marks(graph: Graph) -> dict[str, list[str] | None]:
    return {
        r["id"]: r["by"]
        for r in graph.read(
            "MATCH (e:Evidence) WHERE e.id STARTS WITH 'test-other@' RETURN e.id AS id, e.supersededBy AS by"
        )
    }


@pytest.mark.parametrize("date_order", [True, False], ids=["date order", "opposite order"])
def test_newer_partial_release_supersedes_only_inside_its_coverage(
    graph_clean: Graph, tmp_path: Path, date_order: bool
) -> None:
    old = (
        _release(tmp_path, "2020-01-01", name="test-other", released_on="2020-01-01"),
        _evidence({100: "benign", 200: "pathogenic", 900: "uncertain significance"}),
    )
    new = (
        _release(tmp_path, "2022-01-01", name="test-other", released_on="2022-01-01", coverage=_regions("99:50-250")),
        _evidence({100: "pathogenic", 150: "benign"}),
    )
    for release, stages in (old, new) if date_order else (new, old):
        load_release(graph_clean, release, stages, progress=False)
    marks = _marks(graph_clean)
    v = f"{PREFIX}chr99:"
    assert marks == {
        f"test-other@2020-01-01:{v}100": ["test-other@2022-01-01"],  # inside, both classify it
        f"test-other@2020-01-01:{v}200": ["test-other@2022-01-01"],  # inside, the newer dropped it
        f"test-other@2020-01-01:{v}900": None,  # outside the newer coverage: stays current
        f"test-other@2022-01-01:{v}100": None,
        f"test-other@2022-01-01:{v}150": None,
    }
    assert _status(graph_clean, "test-other@2020-01-01") == _status(graph_clean, "test-other@2022-01-01") == "active"
    # retiring the newer release removes its marks: the older classification is current again
    retire_release(graph_clean, "test-other@2022-01-01")
    assert set(_marks(graph_clean).values()) == {None}


def test_an_edge_asserted_by_two_sources_survives_retiring_one(graph_clean: Graph, tmp_path: Path) -> None:
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b"], {"a": "b"}), progress=False)
    load_release(
        graph_clean, _release(tmp_path, "v1", name="test-other"), _stages(["a", "b"], {"a": "b"}), progress=False
    )
    edge = "MATCH (:Disease {id: $a})-[r:IS_A]->(:Disease {id: $b}) RETURN r.releases AS releases"
    assert graph_clean.read(edge, a=PREFIX + "a", b=PREFIX + "b") == [
        {"releases": ["test-release@v1", "test-other@v1"]}
    ]
    report = retire_release(graph_clean, "test-release@v1")
    assert graph_clean.read(edge, a=PREFIX + "a", b=PREFIX + "b") == [{"releases": ["test-other@v1"]}]
    assert (report.edges_updated, report.edges_deleted, report.nodes_deleted) == (1, 0, 0)
    retire_release(graph_clean, "test-other@v1")
    assert graph_clean.read(edge, a=PREFIX + "a", b=PREFIX + "b") == [] and _state(graph_clean)[0] == set()


def test_retiring_keeps_what_a_patient_or_a_curator_owns(graph_clean: Graph, tmp_path: Path) -> None:
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    graph_clean.write(
        "MATCH (a:Disease {id: $p + 'a'}), (b:Disease {id: $p + 'b'}) "
        "CREATE (:Patient {id: $p + 'patient'})-[:HAS_CONDITION]->(a) "
        "CREATE (e:Evidence {id: 'test-curated', source: 'curated', status: 'ACCEPTED'})-[:FOR_DISEASE]->(b)",
        p=PREFIX,
    )
    report = retire_release(graph_clean, "test-release@v1")
    nodes, edges, sources = _state(graph_clean)
    assert nodes == {PREFIX + "a", PREFIX + "b"} and edges == set() and sources == set()  # c: nobody owned it
    assert (report.nodes_kept, report.nodes_deleted) == (2, 1)
    assert graph_clean.read(
        "MATCH (:Patient {id: $p + 'patient'})-[:HAS_CONDITION]->(d:Disease) "
        "RETURN d.id AS id, EXISTS { (d)-[:ASSERTED_BY]->() } AS asserted",
        p=PREFIX,
    ) == [{"id": PREFIX + "a", "asserted": False}]


def test_retiring_walks_from_the_source(graph_clean: Graph, tmp_path: Path) -> None:
    """Every statement of a retirement starts at the Source's key (a unique-index seek) and expands
    from there: no scan of all nodes, of a label or of a relationship type."""
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b"], {"a": "b"}), progress=False)
    scans = ("AllNodesScan", "NodeByLabelScan", "RelationshipTypeScan", "AllRelationshipsScan", "UnionNodeByLabelsScan")
    for statement in RETIRE_STATEMENTS:
        plan = _operators(graph_clean, "EXPLAIN " + statement, key="test-release@v1")
        assert any("NodeUniqueIndexSeek" in op for op in plan), (statement, plan)
        assert not [op for op in plan if any(scan in op for scan in scans)], (statement, plan)
    # touched entities = what the release asserted: 2 nodes, 2 links, 1 edge (with other data present)
    report = retire_release(graph_clean, "test-release@v1")
    assert (report.links_removed, report.nodes_deleted, report.edges_deleted, report.edges_updated) == (2, 2, 1, 0)
    assert report.touched == 5


def _operators(graph: Graph, cypher: str, **params: Any) -> list[str]:
    with graph.driver.session(database=graph.settings.database) as session:
        plan = session.run(cypher, params).consume().plan
    out: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        out.append(str(node.get("operatorType", "")))
        for child in node.get("children", []):
            walk(child)

    walk(dict(plan or {}))
    return out


def _source(graph: Graph, key: str) -> dict[str, Any] | None:
    rows = graph.read(
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, s.checksum AS checksum, s.reloadOf AS reloadOf",
        key=key,
    )
    return rows[0] if rows else None


def test_failed_reload_of_the_active_release_restores_it(graph_clean: Graph, tmp_path: Path) -> None:
    """The same release with changed files (same key): a failure keeps the active one as it was,
    checksum included, so the next run loads it again instead of skipping a half-written release."""
    key = "test-release@v1"
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    before, source_before = _release_sets(graph_clean), _source(graph_clean, key)
    bad = _stages(["a", "b", "d", "e", "f"], {"d": "a"}, fail_at=4)
    bad.insert(0, Stage("edges first", EDGES, lambda: [{"id": PREFIX + "a", "parent": PREFIX + "b"}]))
    with pytest.raises(SourceFormatError):
        load_release(graph_clean, _release(tmp_path, "v1", "changed"), bad, progress=False)
    assert _release_sets(graph_clean) == before  # d was written by the failed load and is gone; a->b is v1's alone
    assert source_before is not None and source_before["status"] == "active"
    assert _source(graph_clean, key) == source_before


def test_reload_of_the_active_release_swaps_in_whole(graph_clean: Graph, tmp_path: Path) -> None:
    key = "test-release@v1"
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    loaded = _source(graph_clean, key)
    assert loaded is not None
    old_checksum = loaded["checksum"]
    report = load_release(
        graph_clean, _release(tmp_path, "v1", "changed"), _stages(["a", "b", "d"], {"d": "a"}), progress=False
    )
    assert not report.skipped and report.replaced == []
    nodes, edges, sources = _state(graph_clean)
    assert nodes == {PREFIX + "a", PREFIX + "b", PREFIX + "d"}  # c only the old load asserted: gone
    assert edges == {(PREFIX + "d", PREFIX + "a", (key,))}  # the staging key renamed on the edge
    assert sources == {key}
    source = _source(graph_clean, key)
    assert source is not None and source["status"] == "active" and source["reloadOf"] is None
    assert source["checksum"] not in (None, old_checksum)
    again = load_release(
        graph_clean, _release(tmp_path, "v1", "changed"), _stages(["a", "b", "d"], {"d": "a"}), progress=False
    )
    assert again.skipped


def test_reload_renames_ids_and_marks(graph_clean: Graph, tmp_path: Path) -> None:
    """A partial release re-loaded beside itself: its release-scoped Evidence ids, ``release``
    properties and the supersededBy marks it made carry the staging key until the swap renames them."""
    load_release(
        graph_clean,
        _release(tmp_path, "2020-01-01", name="test-other", released_on="2020-01-01"),
        _evidence({100: "benign", 900: "benign"}),
        progress=False,
    )
    newer = "test-other@2022-01-01"
    cover = _regions("99:50-250")
    load_release(
        graph_clean,
        _release(tmp_path, "2022-01-01", name="test-other", released_on="2022-01-01", coverage=cover),
        _evidence({100: "pathogenic"}),
        progress=False,
    )
    before = _release_sets(graph_clean)
    load_release(
        graph_clean,
        _release(tmp_path, "2022-01-01", "changed", name="test-other", released_on="2022-01-01", coverage=cover),
        _evidence({100: "pathogenic"}),
        progress=False,
    )
    after = _release_sets(graph_clean)
    assert after["nodes"] == before["nodes"] and after["edges"] == before["edges"]
    assert after["marks"] == before["marks"] == [(f"test-other@2020-01-01:{PREFIX}chr99:100", [newer])]
    assert graph_clean.read(
        "MATCH (e:Evidence {id: $id}) RETURN e.release AS release", id=f"{newer}:{PREFIX}chr99:100"
    ) == [{"release": newer}]


def test_leftovers_of_a_crashed_load_are_removed_by_the_next_load(graph_clean: Graph, tmp_path: Path) -> None:
    """What a killed loader leaves (a ``loading`` Source with some rows, an edge it joined, marks it made,
    no checksum) is discarded by the next load of that source. (tests/test_faults.py kills the database.)"""
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b"], {"a": "b"}), progress=False)
    before = _release_sets(graph_clean)
    graph_clean.write(
        "CREATE (s:Source {key: 'test-release@v2', name: 'test-release', status: 'loading'}) "
        "MERGE (x:Disease {id: $p + 'x'}) MERGE (x)-[:ASSERTED_BY]->(s) "
        "WITH s MATCH (a:Disease {id: $p + 'a'})-[r:IS_A]->() MERGE (a)-[:ASSERTED_BY]->(s) "
        "SET r.releases = r.releases + 'test-release@v2'",
        p=PREFIX,
    )
    assert PREFIX + "x" in _state(graph_clean)[0]
    assert recover(graph_clean, "test-release") == ["test-release@v2"]
    assert _release_sets(graph_clean) == before
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b"], {"a": "b"}), progress=False)
    nodes, edges, sources = _state(graph_clean)
    assert nodes == {PREFIX + "a", PREFIX + "b"} and sources == {"test-release@v1"}
    assert edges == {(PREFIX + "a", PREFIX + "b", ("test-release@v1",))}


def test_retire_refuses_unknown_keys_and_curated(graph_clean: Graph) -> None:
    from kg.loaders.release import UnknownRelease

    with pytest.raises(UnknownRelease, match="no release 'test-release@nope'"):
        retire_release(graph_clean, "test-release@nope")
    graph_clean.write("MERGE (:Source {key: 'curated@live', name: 'curated', status: 'active'})")
    with pytest.raises(ValueError, match="never retired"):
        retire_release(graph_clean, "curated@live")

"""kg/loaders/release.py: all-or-nothing, idempotent, attributable loads (a made-up source)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import SourceRelease, Stage, discard_release, load_release

NODES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (n:Disease {id: row.id}) SET n.name = row.name
MERGE (n)-[:ASSERTED_BY]->(src)
"""

EDGES = """
UNWIND $rows AS row
MATCH (a:Disease {id: row.id}) MATCH (b:Disease {id: row.parent})
MERGE (a)-[r:IS_A]->(b) SET r.release = $source
"""

PREFIX = "test-release:"


@pytest.fixture()
def graph_clean(graph: Graph) -> Iterator[Graph]:
    yield graph
    for row in graph.read("MATCH (s:Source {name: 'test-release'}) RETURN s.key AS key"):
        discard_release(graph, row["key"])
    graph.write("MATCH (n:Disease) WHERE n.id STARTS WITH $p DETACH DELETE n", p=PREFIX)


def _release(tmp_path: Path, version: str, content: str = "x") -> SourceRelease:
    f = tmp_path / f"{version}.txt"
    f.write_text(content)
    return SourceRelease("test-release", version, "CC0", (f,))


def _stages(ids: list[str], parents: dict[str, str], fail_at: int | None = None) -> list[Stage]:
    def nodes() -> Iterator[dict]:
        for i, x in enumerate(ids):
            if fail_at is not None and i == fail_at:
                raise SourceFormatError("made-up.tsv", i + 2, "a valid row", "garbage")
            yield {"id": PREFIX + x, "name": x}

    edges = [{"id": PREFIX + c, "parent": PREFIX + p} for c, p in parents.items()]
    return [Stage("nodes", NODES, nodes, batch_size=2), Stage("edges", EDGES, lambda: edges)]


def _state(graph: Graph) -> tuple[set[str], set[tuple[str, str, str]], set[str]]:
    nodes = {r["id"] for r in graph.read("MATCH (n:Disease) WHERE n.id STARTS WITH $p RETURN n.id AS id", p=PREFIX)}
    edges = {
        (r["a"], r["b"], r["rel"])
        for r in graph.read(
            "MATCH (a:Disease)-[r:IS_A]->(b:Disease) WHERE a.id STARTS WITH $p "
            "RETURN a.id AS a, b.id AS b, r.release AS rel",
            p=PREFIX,
        )
    }
    sources = {r["key"] for r in graph.read("MATCH (s:Source {name: 'test-release'}) RETURN s.key AS key")}
    return nodes, edges, sources


def test_same_release_twice_changes_nothing(graph_clean: Graph, tmp_path: Path) -> None:
    rel = _release(tmp_path, "v1")
    first = load_release(graph_clean, rel, _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    before = _state(graph_clean)
    second = load_release(graph_clean, rel, _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    assert not first.skipped and second.skipped
    assert _state(graph_clean) == before and len(before[0]) == 3


def test_newer_release_replaces_older_without_orphans(graph_clean: Graph, tmp_path: Path) -> None:
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c"], {"a": "b", "c": "b"}), progress=False)
    report = load_release(graph_clean, _release(tmp_path, "v2", "y"), _stages(["a", "b"], {"a": "b"}), progress=False)
    nodes, edges, sources = _state(graph_clean)
    assert report.replaced == ["test-release@v1"]
    assert nodes == {PREFIX + "a", PREFIX + "b"}  # c is gone: no release asserts it any more
    assert edges == {(PREFIX + "a", PREFIX + "b", "test-release@v2")}
    assert sources == {"test-release@v2"}


def test_failed_load_leaves_nothing_visible(graph_clean: Graph, tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match=r"made-up.tsv:4: expected a valid row"):
        load_release(
            graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c", "d"], {}, fail_at=2), progress=False
        )
    assert _state(graph_clean) == (set(), set(), set())


def test_failed_newer_release_keeps_the_active_one_whole(graph_clean: Graph, tmp_path: Path) -> None:
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b", "c"], {"a": "b"}), progress=False)
    before = _state(graph_clean)
    bad = _stages(["a", "b", "c", "x", "y"], {"a": "b"}, fail_at=4)
    # the edges stage never runs; rerun edges first to simulate a re-MERGE before the failure
    bad.insert(0, Stage("edges first", EDGES, lambda: [{"id": PREFIX + "a", "parent": PREFIX + "b"}]))
    with pytest.raises(SourceFormatError):
        load_release(graph_clean, _release(tmp_path, "v2", "y"), bad, progress=False)
    assert _state(graph_clean) == before


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
    before, source_before = _state(graph_clean), _source(graph_clean, key)
    bad = _stages(["a", "b", "d", "e", "f"], {"d": "a"}, fail_at=4)
    bad.insert(0, Stage("edges first", EDGES, lambda: [{"id": PREFIX + "a", "parent": PREFIX + "b"}]))
    with pytest.raises(SourceFormatError):
        load_release(graph_clean, _release(tmp_path, "v1", "changed"), bad, progress=False)
    assert _state(graph_clean) == before  # d was written by the failed load and is gone; a->b is v1's again
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
    assert edges == {(PREFIX + "d", PREFIX + "a", key)}  # the staging key renamed on the edge
    assert sources == {key}
    source = _source(graph_clean, key)
    assert source is not None and source["status"] == "active" and source["reloadOf"] is None
    assert source["checksum"] not in (None, old_checksum)
    again = load_release(
        graph_clean, _release(tmp_path, "v1", "changed"), _stages(["a", "b", "d"], {"d": "a"}), progress=False
    )
    assert again.skipped


def test_leftovers_of_a_crashed_load_are_removed_by_the_next_load(graph_clean: Graph, tmp_path: Path) -> None:
    """What a killed loader leaves (a ``loading`` Source with some rows, no checksum) is discarded by the
    next load of that source, which then loads the release whole. (tests/test_load_faults.py kills the
    database itself.)"""
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b"], {"a": "b"}), progress=False)
    graph_clean.write(
        "CREATE (s:Source {key: 'test-release@v2', name: 'test-release', status: 'loading'}) "
        "MERGE (x:Disease {id: $p + 'x'}) MERGE (x)-[:ASSERTED_BY]->(s) "
        "WITH s MATCH (a:Disease {id: $p + 'a'}) MERGE (a)-[:ASSERTED_BY]->(s)",
        p=PREFIX,
    )
    assert PREFIX + "x" in _state(graph_clean)[0]
    load_release(graph_clean, _release(tmp_path, "v1"), _stages(["a", "b"], {"a": "b"}), progress=False)
    nodes, edges, sources = _state(graph_clean)
    assert nodes == {PREFIX + "a", PREFIX + "b"} and sources == {"test-release@v1"}
    assert edges == {(PREFIX + "a", PREFIX + "b", "test-release@v1")}

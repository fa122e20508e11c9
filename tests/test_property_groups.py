"""kg/loaders/property_groups.py with made-up sources: a node's properties follow the releases that assert
them (newest wins, first wins, lists united), and retiring or discarding a release leaves the node as if
that release had never been loaded. The real releases: tests/test_release_sets.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.loaders.errors import SourceFormatError
from kg.loaders.property_groups import asserts, values_as_of
from kg.loaders.release import SourceRelease, Stage, discard_release, load_release, retire_release
from kg.queries.visibility import state_groups

PREFIX = "test-props:"
NAMES = ("test-props-a", "test-props-b", "test-props-c", "test-props-d")
DRUG = PREFIX + "drug"

STATEMENT = "MATCH (src:Source {key: $source}) UNWIND $rows AS row MERGE (d:Drug {id: row.id})\n" + asserts(
    "d", latest={"rxnormId": "row.rx"}, first={"name": "row.name"}, union={"synonyms": "row.syn"}
)

# What each made-up release says about the one drug (None: it asserts the drug, not the property).
SAYS: dict[str, dict[str, Any]] = {
    "test-props-a": {"rx": "1", "name": "first name", "syn": ["x", "y"]},
    "test-props-b": {"rx": "2", "name": "second name", "syn": ["y", "z"]},
    "test-props-c": {"rx": None, "name": None, "syn": None},
}


@pytest.fixture()
def clean(graph: Graph) -> Iterator[Graph]:
    def wipe() -> None:
        for row in graph.read("MATCH (s:Source) WHERE s.name IN $n RETURN s.key AS key", n=list(NAMES)):
            discard_release(graph, row["key"])
        graph.write("MATCH (d:Drug) WHERE d.id STARTS WITH $p DETACH DELETE d", p=PREFIX)

    wipe()
    yield graph
    wipe()


def _load(graph: Graph, tmp_path: Path, name: str, says: dict[str, Any], fail: bool = False) -> None:
    f = tmp_path / f"{name}.txt"
    f.write_text(repr(says))

    def broken() -> Iterator[dict[str, Any]]:
        raise SourceFormatError(str(f), 2, "a row", "garbage")
        yield {}

    stages = [Stage("drugs", STATEMENT, lambda: [{"id": DRUG, **says}])]
    if fail:  # the drug is written whole, then a later stage fails
        stages.append(Stage("more", STATEMENT, broken))
    load_release(graph, SourceRelease(name, "v1", "CC0", (f,)), stages, progress=False)


def _drug(graph: Graph) -> dict[str, Any]:
    rows = graph.read("MATCH (d:Drug {id: $id}) RETURN properties(d) AS p", id=DRUG)
    return rows[0]["p"] if rows else {}


def _edges(graph: Graph) -> list[dict[str, Any]]:
    return sorted(
        (r["p"] for r in graph.read("MATCH (:Drug {id: $id})-[a:ASSERTED_BY]->() RETURN properties(a) AS p", id=DRUG)),
        key=repr,
    )


def _only(graph: Graph, tmp_path: Path, names: list[str]) -> dict[str, Any]:
    """The drug as loading only ``names`` (in that order) leaves it, into a clean graph."""
    for row in graph.read("MATCH (s:Source) WHERE s.name IN $n RETURN s.key AS key", n=list(NAMES)):
        discard_release(graph, row["key"])
    graph.write("MATCH (d:Drug {id: $id}) DETACH DELETE d", id=DRUG)
    for name in names:
        _load(graph, tmp_path, name, SAYS[name])
    return _drug(graph)


def test_the_node_holds_what_the_rule_derives(clean: Graph, tmp_path: Path) -> None:
    for name in SAYS:
        _load(clean, tmp_path, name, SAYS[name])
    drug = _drug(clean)
    assert drug["rxnormId"] == "2"  # newest wins
    assert drug["name"] == "first name"  # first wins
    assert drug["synonyms"] == ["x", "y", "z"]  # united in load order
    by = {e.get("rxnormId"): e for e in _edges(clean)}
    assert by["1"]["props"] == ["rxnormId"] and by["1"]["firstProps"] == ["name"] and by["1"]["synonyms"] == ["x", "y"]
    assert by[None].get("props", []) == [] and "name" not in by[None]  # c asserts the drug, not its properties


@pytest.mark.parametrize("retired", [["test-props-b"], ["test-props-a"], ["test-props-a", "test-props-b"]])
def test_retiring_leaves_the_node_as_if_never_loaded(clean: Graph, tmp_path: Path, retired: list[str]) -> None:
    for name in SAYS:
        _load(clean, tmp_path, name, SAYS[name])
    for name in retired:
        retire_release(clean, f"{name}@v1")
    after = _drug(clean)
    expected = _only(clean, tmp_path, [n for n in SAYS if n not in retired])
    assert after == expected
    if retired == ["test-props-a", "test-props-b"]:
        assert after == {"id": DRUG}  # every property only retired releases asserted is gone
    if retired == ["test-props-b"]:
        assert after["rxnormId"] == "1" and after["synonyms"] == ["x", "y"]  # the remaining release's values


def test_a_failed_load_leaves_the_properties_as_they_were(clean: Graph, tmp_path: Path) -> None:
    for name in ("test-props-a", "test-props-b"):
        _load(clean, tmp_path, name, SAYS[name])
    before, edges = _drug(clean), _edges(clean)
    with pytest.raises(SourceFormatError):
        _load(clean, tmp_path, "test-props-d", {"rx": "9", "name": "bad", "syn": ["w"]}, fail=True)
    assert _drug(clean) == before and _edges(clean) == edges


def test_loading_the_same_release_again_changes_nothing(clean: Graph, tmp_path: Path) -> None:
    for name in SAYS:
        _load(clean, tmp_path, name, SAYS[name])
    before, edges = _drug(clean), _edges(clean)
    _load(clean, tmp_path, "test-props-a", SAYS["test-props-a"])
    assert _drug(clean) == before and _edges(clean) == edges


def test_a_node_read_as_of_a_state_is_the_node_those_releases_alone_leave(clean: Graph, tmp_path: Path) -> None:
    """kg.queries.visibility ``state_groups`` + kg.loaders.property_groups ``values_as_of``: read as of a set of
    the releases, the drug is what loading only those releases (in the same order) leaves; in the current state
    it is the node as stored. (An as-of answer about a node whose id stays the same across releases -- a
    PharmGKB recommendation, a CIViC evidence item -- shows that state's words.)"""
    graph = clean
    loaded = ["test-props-a", "test-props-b", "test-props-c"]
    for name in loaded:
        _load(graph, tmp_path, name, SAYS[name])
    keys = {
        r["name"]: r["key"]
        for r in graph.read("MATCH (s:Source) WHERE s.name IN $n RETURN s.name AS name, s.key AS key", n=loaded)
    }
    read = f"MATCH (d:Drug {{id: $id}}) RETURN properties(d) AS node, {state_groups('d')} AS groups"
    current = graph.read(read, id=DRUG, releases=None)[0]
    assert current["groups"] is None and values_as_of(current["node"], current["groups"]) == current["node"]
    subsets = [["test-props-a"], ["test-props-b"], ["test-props-c"], ["test-props-a", "test-props-b"]]
    subsets += [["test-props-b", "test-props-c"], ["test-props-a", "test-props-c"], loaded]
    seen = {}
    for subset in subsets:
        row = graph.read(read, id=DRUG, releases=[keys[n] for n in subset])[0]
        seen[tuple(subset)] = values_as_of(row["node"], row["groups"])
    assert seen[tuple(loaded)] == current["node"]
    assert seen[("test-props-a",)]["rxnormId"] == "1" and seen[("test-props-b",)]["rxnormId"] == "2"
    for subset, got in seen.items():
        assert got == _only(graph, tmp_path, list(subset)), subset

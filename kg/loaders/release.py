"""One source release, loaded all or nothing, idempotently, with provenance.

Every load creates a ``(:Source {key: "<name>@<version>"})`` node with release, licence, file
names (relative to the release folder: no path of the loading machine), checksum and load time. Each stage writes batches of rows with one ``UNWIND`` query; its Cypher
receives ``$rows`` and ``$source`` and, by convention, begins with
``MATCH (src:Source {key: $source}) UNWIND $rows AS row`` and links every node it asserts with
``MERGE (n)-[:ASSERTED_BY]->(src)``; fact edges (IS_A, IN_GENE, ...) carry ``r.release = $source``.

Visibility: the Source is ``status: 'loading'`` while its rows are written and becomes
``'active'`` only when every stage has finished; answers read facts through active sources.
Its ``checksum`` is recorded only then, so a release whose load was interrupted is never taken
for loaded. If any stage fails (a malformed file, a lost connection), what this release alone
asserted is deleted, its edges are unlinked and its Source node removed, so no half release remains.
When the failure is the database itself going away (a killed server), that clean-up cannot run; the
next load of the source finishes it first (``recover``): leftovers of crashed loads are discarded,
an interrupted swap is completed, and of two active releases of one source the older is retired.
A newer release of the same source replaces the older: after activation, the older release's
assertions are unlinked and nodes left with no assertion at all are deleted (no orphans).
Re-loading a release that is already active (its files or its loader changed) writes it beside the
active one under a staging key (``<key>#reload``, ``loading``) and swaps it in only when complete
(the old one retired like an older release, then the staging key renamed in ``Source.key``, every
``release`` stamp and every ``id`` that begins with it); a failure discards the staging release and
the active one answers as before.
Loading the same release (same name, version and checksums) again changes nothing. The checksum covers
the files and what the loader writes (each stage's name and Cypher), so a loader that now writes
something else loads an unchanged release again instead of skipping it.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from kg.db import Graph
from kg.queries.changes import ReinterpretReport, reinterpret
from kg.queries.patient_calls import link_known_alleles
from kg.queries.visibility import knowledge_state

Row = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class SourceRelease:
    name: str  # "hgnc", "civic", ...
    version: str  # the release the data says it is, e.g. "2024-08-01"
    licence: str
    files: tuple[Path, ...]
    url: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Stage:
    """Rows from ``rows()`` written ``batch_size`` at a time by ``cypher``."""

    name: str
    cypher: str
    rows: Callable[[], Iterable[Row]]
    batch_size: int = 5000


@dataclass
class LoadReport:
    source: str
    skipped: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    replaced: list[str] = field(default_factory=list)
    # per stage: wall seconds, and the part of them spent waiting for the database (the rest is
    # reading and parsing the files); bench/bench_load.py reports both
    stage_seconds: dict[str, float] = field(default_factory=dict)
    write_seconds: dict[str, float] = field(default_factory=dict)
    patients_linked: int = 0  # patients whose stored calls this release's Variants linked (issue 8)
    # the patients whose answers the load changed (kg.queries.changes); its time is not in ``seconds``
    reinterpreted: ReinterpretReport | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        if self.skipped:
            return f"{self.source}: already loaded, nothing changed"
        per = ", ".join(f"{k} {v:,}" for k, v in self.rows.items())
        rate = self.total_rows / self.seconds if self.seconds else 0.0
        extra = f"; replaced {', '.join(self.replaced)}" if self.replaced else ""
        if self.patients_linked:
            extra += f"; linked known alleles of {self.patients_linked:,} patient(s)"
        if self.reinterpreted:
            extra += f"; {self.reinterpreted.summary()}"
        return f"{self.source}: {per} in {self.seconds:.1f} s ({rate:,.0f} rows/s){extra}"


def file_names(paths: Iterable[Path]) -> list[str]:
    """The release's files relative to the folder that holds them all (``pharmcat/definition/alleles/
    CYP2C19_translation.json``, ``cpic/cpic_drug.tsv``): ``Source.files`` names what was loaded
    without the loading machine's absolute paths, which mean nothing to another host."""
    resolved = [Path(p).resolve() for p in paths]
    if not resolved:
        return []
    base = Path(os.path.commonpath([p.parent for p in resolved]))
    return [p.relative_to(base).as_posix() for p in resolved]


def file_checksum(paths: Iterable[Path]) -> str:
    """sha256 over the files' bytes, in order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def release_checksum(release: SourceRelease, stages: Iterable[Stage]) -> str:
    """sha256 over the release's files and the loader's stages (name and Cypher): the ``Source.checksum``
    that decides whether a load is a no-op."""
    digest = hashlib.sha256(file_checksum(release.files).encode())
    for stage in stages:
        digest.update(f"\0{stage.name}\0{stage.cypher}".encode())
    return digest.hexdigest()


def is_loaded(graph: Graph, release: SourceRelease, stages: Iterable[Stage]) -> bool:
    """True when ``release`` is active with the same files, written by the same stages."""
    existing = graph.read(
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, s.checksum AS checksum", key=release.key
    )
    return (
        bool(existing)
        and existing[0]["status"] == "active"
        and existing[0]["checksum"] == release_checksum(release, stages)
    )


def batched(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


STAGING_SUFFIX = "#reload"


def load_release(
    graph: Graph,
    release: SourceRelease,
    stages: list[Stage],
    *,
    progress: bool = True,
) -> LoadReport:
    """Load ``stages`` as ``release``; see the module docstring for the guarantees."""
    started = time.monotonic()
    checksum = release_checksum(release, stages)
    recover(graph, release.name)
    existing = graph.read(
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, s.checksum AS checksum", key=release.key
    )
    if existing and existing[0]["checksum"] == checksum:  # after recover, only an active release is left
        return LoadReport(release.key, skipped=True)
    # an active release of this very key is re-loaded beside itself and swapped in when complete
    key = release.key + STAGING_SUFFIX if existing else release.key
    previous = _active_keys(graph, release.name)
    graph.write(
        "CREATE (s:Source {key: $key, status: 'loading'}) "
        "SET s.name = $name, s.version = $version, s.licence = $licence, s.url = $url, s.files = $files, "
        "    s.reloadOf = $reload_of",
        key=key,
        name=release.name,
        version=release.version,
        licence=release.licence,
        url=release.url,
        files=file_names(release.files),
        reload_of=release.key if key != release.key else None,
    )
    report = LoadReport(release.key)
    try:
        for stage in stages:
            began = time.monotonic()
            report.rows[stage.name], report.write_seconds[stage.name] = _write_stage(
                graph, key, release.name, stage, progress
            )
            report.stage_seconds[stage.name] = time.monotonic() - began
    except BaseException as failure:
        try:
            discard_release(graph, key, fallback=previous[0] if previous else None)
        except Exception as cleanup:  # the database is gone too: the next load's recover() finishes this
            failure.add_note(f"{key} was left 'loading' ({cleanup.__class__.__name__}); the next load removes it")
        raise
    before = knowledge_state(graph)
    report.replaced = _activate(graph, release.name, key, checksum)
    report.patients_linked = link_known_alleles(graph, release.key)  # issue-8 hook
    report.seconds = time.monotonic() - started
    report.reinterpreted = reinterpret(graph, before, knowledge_state(graph), release.key)  # issue-8 hook
    return report


def _active_keys(graph: Graph, name: str) -> list[str]:
    """The source's active releases, newest activation first (normally one)."""
    rows = graph.read(
        "MATCH (s:Source {name: $name, status: 'active'}) RETURN s.key AS key ORDER BY s.loadedAt DESC, s.key DESC",
        name=name,
    )
    return [row["key"] for row in rows]


def recover(graph: Graph, name: str) -> list[str]:
    """Finish what a crashed load of source ``name`` left behind; returns the release keys it discarded.

    A crash (the loading process or the database killed) can leave: a ``loading`` Source with part of
    its rows (discarded, edges it re-stamped handed back to the active release); an activated staging
    release whose swap did not finish (finished); two active releases (the older retired, as
    activation would have). Each step is safe to repeat, so a crash during recovery is recovered too.
    """
    discarded: list[str] = []
    active = _active_keys(graph, name)
    for row in graph.read("MATCH (s:Source {name: $name}) WHERE s.status <> 'active' RETURN s.key AS key", name=name):
        discard_release(graph, row["key"], fallback=active[0] if active else None)
        discarded.append(row["key"])
    for row in graph.read(
        "MATCH (s:Source {name: $name, status: 'active'}) WHERE s.reloadOf IS NOT NULL "
        "RETURN s.key AS key, s.reloadOf AS target",
        name=name,
    ):
        _swap_in(graph, row["key"], row["target"])
    for older in _active_keys(graph, name)[1:]:
        discard_release(graph, older)
        discarded.append(older)
    return discarded


def _write_stage(graph: Graph, key: str, name: str, stage: Stage, progress: bool) -> tuple[int, float]:
    """Write one stage as Source ``key``; returns (rows written, seconds spent in the database's writes)."""
    written = 0
    waited = 0.0
    bar = tqdm(
        desc=f"{name}: {stage.name}",
        unit=" rows",
        unit_scale=True,
        file=sys.stderr,
        disable=not progress,
        leave=True,
        dynamic_ncols=True,
    )
    with bar:
        for batch in prefetched(lambda: batched(stage.rows(), stage.batch_size)):
            began = time.monotonic()
            graph.write(stage.cypher, rows=batch, source=key)
            waited += time.monotonic() - began
            written += len(batch)
            bar.update(len(batch))
    return written, waited


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def prefetched(produce: Callable[[], Iterable[T]], depth: int = 2) -> Iterator[T]:
    """The items of ``produce()``, made in a helper thread up to ``depth`` ahead of the consumer.

    A stage's next batch is read and parsed while the database writes the previous one (the
    client waits on a socket then, and the machine has a second core). Errors raised while
    producing (a SourceFormatError) are raised here, in the consumer, as they would have been
    without the thread; when the consumer stops early, the producer stops at its next item.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce():
                if not put(item):
                    return
            put(_DONE)
        except BaseException as err:  # handed to the consumer, raised there
            put(_Failed(err))

    worker = threading.Thread(target=run, name="kg-loader-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


def _activate(graph: Graph, name: str, key: str, checksum: str) -> list[str]:
    """Make the release visible and record its checksum (only now: an interrupted load is never taken
    for loaded), then retire older releases of the same source; a staging release takes its key."""
    graph.write(
        "MATCH (s:Source {key: $key}) SET s.status = 'active', s.checksum = $checksum, s.loadedAt = $now",
        key=key,
        checksum=checksum,
        now=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    target = key.removesuffix(STAGING_SUFFIX)
    older = graph.read(
        "MATCH (s:Source {name: $name}) WHERE s.key <> $key AND s.key <> $target RETURN s.key AS key",
        name=name,
        key=key,
        target=target,
    )
    for row in older:
        discard_release(graph, row["key"])
    if key != target:
        _swap_in(graph, key, target)
    return [row["key"] for row in older]


def _swap_in(graph: Graph, staging: str, target: str) -> None:
    """The activated staging release ``staging`` becomes ``target``: the release it re-loaded is retired,
    then the staging key is renamed wherever the loaders wrote ``$source`` (Source.key, ``release``
    stamps on edges and nodes, ids that begin with it). Each step can be run again after a crash."""
    if graph.read("MATCH (s:Source {key: $target}) RETURN s.key AS key", target=target):
        discard_release(graph, target)
    graph.write_in_transactions(
        "MATCH ()-[r]->() WHERE r.release = $staging "
        "CALL { WITH r SET r.release = $target } IN TRANSACTIONS OF 10000 ROWS",
        staging=staging,
        target=target,
    )
    graph.write_in_transactions(
        "MATCH (n) WHERE n.release = $staging CALL { WITH n SET n.release = $target } IN TRANSACTIONS OF 10000 ROWS",
        staging=staging,
        target=target,
    )
    graph.write_in_transactions(
        "MATCH (:Source {key: $staging})<-[:ASSERTED_BY]-(n) WHERE n.id STARTS WITH $staging "
        "CALL { WITH n SET n.id = $target + substring(n.id, size($staging)) } IN TRANSACTIONS OF 10000 ROWS",
        staging=staging,
        target=target,
    )
    graph.write(
        "MATCH (s:Source {key: $staging}) SET s.key = $target REMOVE s.reloadOf", staging=staging, target=target
    )


def discard_release(graph: Graph, key: str, fallback: str | None = None) -> None:
    """Remove a release: nodes only it asserted, its assertion links, its fact edges, its Source.

    ``fallback`` is the still-active older release of the same source when a load fails: a fact
    edge carries one ``release``, so an edge the failed load re-MERGEd between two nodes that the
    older release also asserts is handed back to it instead of being deleted. (Loaders also read
    their files to the end before the first write, so a malformed file never gets this far.)
    Deletes in bounded batches so a large release never needs one huge transaction.
    """
    if fallback:
        _restamp_shared_edges(graph, key, fallback)
    _delete_in_batches(graph, key)
    _delete_edges_in_batches(graph, key)
    graph.write("MATCH (s:Source {key: $key}) DETACH DELETE s", key=key)


def _delete_in_batches(graph: Graph, key: str) -> None:
    while True:
        deleted = graph.write(
            "MATCH (s:Source {key: $key})<-[:ASSERTED_BY]-(n) "
            "WHERE NOT EXISTS { (n)-[:ASSERTED_BY]->(o:Source) WHERE o <> s } "
            "WITH n LIMIT 5000 DETACH DELETE n RETURN count(*) AS n",
            key=key,
        )[0]["n"]
        if deleted == 0:
            break
    while True:
        unlinked = graph.write(
            "MATCH (:Source {key: $key})<-[a:ASSERTED_BY]-() WITH a LIMIT 10000 DELETE a RETURN count(*) AS n",
            key=key,
        )[0]["n"]
        if unlinked == 0:
            break


def _restamp_shared_edges(graph: Graph, key: str, fallback: str) -> None:
    while True:
        moved = graph.write(
            "MATCH (a)-[r]->(b) WHERE r.release = $key "
            "AND EXISTS { (a)-[:ASSERTED_BY]->(:Source {key: $fallback}) } "
            "AND EXISTS { (b)-[:ASSERTED_BY]->(:Source {key: $fallback}) } "
            "WITH r LIMIT 10000 SET r.release = $fallback RETURN count(*) AS n",
            key=key,
            fallback=fallback,
        )[0]["n"]
        if moved == 0:
            break


def _delete_edges_in_batches(graph: Graph, key: str) -> None:
    while True:
        deleted = graph.write(
            "MATCH ()-[r]->() WHERE r.release = $key WITH r LIMIT 10000 DELETE r RETURN count(*) AS n", key=key
        )[0]["n"]
        if deleted == 0:
            break

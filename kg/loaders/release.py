"""One source release, loaded all or nothing, idempotently, with provenance and a release set per fact.

**Sources.** Every load creates a ``(:Source {key: "<name>@<version>"})``: name, version, licence, url,
files (relative to the release folder: no path of the loading machine), checksum, loadedAt, and
``releasedOn`` (ISO date of the data: the loader's, else the newest ``YYYY-MM-DD`` in the version; null
when the release has none, e.g. a seed subset -- as-of then uses loadedAt's date), ``seq`` (an integer
that grows with every activation, over all sources) and ``coverage`` (kg/loaders/coverage.py: ``'all'``,
``{"genes": [...]}`` or ``{"regions": [...]}``, from the file or declared with ``kg load --coverage``).
``status``: ``loading`` while its rows are written, ``active`` (part of the current knowledge),
``superseded`` (a newer release of the source with coverage ``'all'`` exists: kept for as-of answers,
not current), ``retiring`` while it is being removed; gone once retired.

**Release sets.** Each stage writes batches with one ``UNWIND`` query receiving ``$rows`` and
``$source``; by convention it begins ``MATCH (src:Source {key: $source}) UNWIND $rows AS row`` and
links every node it asserts with ``MERGE (n)-[:ASSERTED_BY]->(src)`` (one ASSERTED_BY per release =
the node's release set). Fact edges carry ``r.releases``, the list of release keys asserting the edge,
written only by ``kg.loaders.statements.stamp`` (adds the key once): an IN_GENE edge that four loaders
MERGE lists all four and lives until the last of them retires it. The start node of every fact edge
is asserted by the release that stamps it, so a release's edges are found from its Source:
``(:Source {key})<-[:ASSERTED_BY]-(n)-[r]->()`` -- indexed, proportional to the release, never a scan
of the store's relationships.

**Superseding inside coverage.** Before a release R of source S becomes active, for every other kept
release O of S the older of the two (``releasedOn``, then ``seq``) has its Evidence inside the newer
one's coverage marked ``e.supersededBy += [newer key]`` and linked ``(e)-[:SUPERSEDED_IN]->(newer
Source)`` (the list is what visibility reads; the edge lets re-interpretation reach the evidence a
release superseded from its Source; both written and removed together) (load order does not matter: loading ClinVar
2024-06-01 after 2026-02-26 marks the 2024 evidence inside 2026's windows); then every kept release
of S is ``superseded`` when a newer one covers ``'all'``, else ``active``. Evidence is current when an
active release asserts it and no active key is in its ``supersededBy`` (kg/queries/visibility.py).

**Retiring** (``retire_release``; ``kg retire KEY``; automatically the releases of a source beyond
``KG_KEEP_RELEASES``, default 3, oldest first; a source's seed releases once a real one is loaded):
the release is first set ``retiring`` (out of every knowledge state, its facts still there) and the
patients whose answers the move to the remaining state changes are re-interpreted (retired facts ->
RETIRED_EVIDENCE, RETRACTED, RECLASSIFIED back to what remains; kg.queries.changes); then
its key leaves ``supersededBy`` marks and every ``r.releases`` (edges whose list empties are deleted),
the properties it asserted on nodes that stay are derived again from the other releases' property groups
or removed (kg/loaders/property_groups.py), its ASSERTED_BY edges go, and nodes left with no assertion are deleted **unless** a Patient links them
(HAS_VARIANT, HAS_DIPLOTYPE, ...) or curated evidence points at them: those stay, unasserted (nothing
a patient or curator owns is deleted by a knowledge load). ``RetireReport`` counts what was touched.

**Failures and crashes.** Superseding marks are written just before activation and the checksum is
recorded only at activation, so an interrupted release is never taken for loaded. If a stage fails
(a malformed file, a lost connection) the release is discarded as above: its key leaves every
release list it joined and every mark it made, so the release sets are exactly as before. When the
database itself went away, the next load of the source finishes it first (``recover``): ``loading``
and ``retiring`` leftovers are discarded, an interrupted swap is completed, statuses are settled.
Re-loading a release that is already kept (its files or its loader changed) writes it beside itself
under a staging key (``<key>#reload``) and swaps it in when complete (the old one retired, then the
staging key renamed in ``Source.key``, ``r.releases``, ``supersededBy``, ``release`` properties and
ids that begin with it); a failure discards the staging release and the kept one answers as before.
Loading the same release (same name, version and checksums) again changes nothing. The checksum covers
the files, what the loader writes (each stage's name and Cypher) and a declared coverage.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from kg.db import Graph
from kg.loaders import coverage as cov
from kg.loaders.property_groups import REDERIVE
from kg.queries.changes import ReinterpretReport, reinterpret
from kg.queries.patient_calls import link_known_alleles
from kg.queries.visibility import knowledge_state

Row = dict[str, Any]
T = TypeVar("T")

#: Releases of one source kept (active or superseded) beyond which the oldest are retired.
KEEP_RELEASES_ENV = "KG_KEEP_RELEASES"
DEFAULT_KEEP_RELEASES = 3
#: Versions of the project's seed subsets (kg/loaders/seeds.py): a real release retires them.
SEED_PREFIX = "seed-"
STAGING_SUFFIX = "#reload"
KEPT = ("active", "superseded")


def is_seed_release(version: str | None) -> bool:
    return bool(version) and str(version).startswith(SEED_PREFIX)


def keep_releases() -> int:
    """``KG_KEEP_RELEASES`` (default 3): how many releases of one source are kept."""
    text = os.environ.get(KEEP_RELEASES_ENV, "").strip()
    if not text:
        return DEFAULT_KEEP_RELEASES
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{KEEP_RELEASES_ENV}: expected a whole number of releases >= 1, found {text!r}")
    return int(text)


def newest_date(text: str) -> str | None:
    """The newest date in a version (``biomarkers-2022-08-11+associations-2021-03-22`` ->
    ``2022-08-11``); a month release (``hgnc`` ``2024-10``) counts from its first day
    (``2024-10-01``); None when it has none (``seed-2026.11-2``, ``v2.10.0``)."""
    found = re.findall(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)", text)
    found += [f"{month}-01" for month in re.findall(r"(?<![\d.-])(\d{4}-(?:0[1-9]|1[0-2]))(?![\d.-])", text)]
    return max(found) if found else None


@dataclass(frozen=True)
class SourceRelease:
    name: str  # "hgnc", "civic", ...
    version: str  # the release the data says it is, e.g. "2024-08-01"
    licence: str
    files: tuple[Path, ...]
    url: str = ""
    released_on: str | None = None  # the data's date when the version does not carry it
    # 'all', or coverage text (kg.loaders.coverage) -- or a function giving it once the stages have
    # read the file (the ClinVar loaders collect genes / windows while reading)
    coverage: str | Callable[[], str] = cov.ALL

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def released(self) -> str | None:
        return self.released_on or newest_date(self.version)


_declared: ContextVar[str | None] = ContextVar("kg_declared_coverage", default=None)


@contextmanager
def declared_coverage(text: str | None) -> Iterator[None]:
    """Loads inside this block record ``text`` (kg.loaders.coverage.declared) as their coverage instead
    of their loader's (``kg load SOURCE PATH --coverage ...``)."""
    token = _declared.set(text)
    try:
        yield
    finally:
        _declared.reset(token)


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
    replaced: list[str] = field(default_factory=list)  # kept releases no longer current (superseded or retired)
    retired: list[str] = field(default_factory=list)  # releases removed (beyond KG_KEEP_RELEASES, seeds)
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
        superseded = [k for k in self.replaced if k not in self.retired]
        extra = f"; superseded {', '.join(superseded)}" if superseded else ""
        extra += f"; retired {', '.join(self.retired)}" if self.retired else ""
        if self.patients_linked:
            extra += f"; linked known alleles of {self.patients_linked:,} patient(s)"
        if self.reinterpreted:
            extra += f"; {self.reinterpreted.summary()}"
        return f"{self.source}: {per} in {self.seconds:.1f} s ({rate:,.0f} rows/s){extra}"


@dataclass
class RetireReport:
    """What retiring (or discarding) one release touched: each count is a walk from its Source."""

    key: str
    edges_updated: int = 0  # fact edges that lost the key from r.releases and kept others
    edges_deleted: int = 0  # fact edges whose release list emptied
    nodes_deleted: int = 0
    nodes_kept: int = 0  # no assertion left, but a Patient links them or curated evidence points at them
    links_removed: int = 0  # ASSERTED_BY edges
    marks_removed: int = 0  # supersededBy entries of the key on other releases' evidence
    # the patients whose answers the retirement changed (``kg retire``; kg.queries.changes)
    reinterpreted: ReinterpretReport | None = None

    @property
    def touched(self) -> int:
        return (
            self.edges_updated
            + self.edges_deleted
            + self.nodes_deleted
            + self.nodes_kept
            + self.links_removed
            + self.marks_removed
        )

    def summary(self) -> str:
        return (
            f"{self.key}: retired; {self.links_removed:,} assertions removed, {self.nodes_deleted:,} nodes deleted, "
            f"{self.nodes_kept:,} kept for patients or curated evidence, {self.edges_deleted:,} edges deleted, "
            f"{self.edges_updated:,} shared edges kept by other releases, {self.marks_removed:,} superseding marks removed"
            + (f"; {self.reinterpreted.summary()}" if self.reinterpreted else "")
        )


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


def release_checksum(release: SourceRelease, stages: Iterable[Stage], declared: str | None = None) -> str:
    """sha256 over the release's files, the loader's stages (name and Cypher) and a declared coverage:
    the ``Source.checksum`` that decides whether a load is a no-op."""
    digest = hashlib.sha256(file_checksum(release.files).encode())
    for stage in stages:
        digest.update(f"\0{stage.name}\0{stage.cypher}".encode())
    if declared:
        digest.update(f"\0coverage\0{declared}".encode())
    return digest.hexdigest()


def is_loaded(graph: Graph, release: SourceRelease, stages: Iterable[Stage]) -> bool:
    """True when ``release`` is kept (active or superseded) with the same files, written by the same stages."""
    existing = graph.read(
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, s.checksum AS checksum", key=release.key
    )
    return (
        bool(existing)
        and existing[0]["status"] in KEPT
        and existing[0]["checksum"] == release_checksum(release, stages, _declared.get())
    )


def batched(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def load_release(
    graph: Graph,
    release: SourceRelease,
    stages: list[Stage],
    *,
    progress: bool = True,
) -> LoadReport:
    """Load ``stages`` as ``release``; see the module docstring for the guarantees."""
    started = time.monotonic()
    declared = _declared.get()
    checksum = release_checksum(release, stages, declared)
    recover(graph, release.name)
    existing = graph.read(
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, s.checksum AS checksum", key=release.key
    )
    if existing and existing[0]["checksum"] == checksum:  # after recover, only a kept release is left
        return LoadReport(release.key, skipped=True)
    # a kept release of this very key is re-loaded beside itself and swapped in when complete
    key = release.key + STAGING_SUFFIX if existing else release.key
    graph.write(
        "CREATE (s:Source {key: $key, status: 'loading'}) "
        "SET s.name = $name, s.version = $version, s.licence = $licence, s.url = $url, s.files = $files, "
        "    s.reloadOf = $reload_of, s.releasedOn = $released",
        key=key,
        name=release.name,
        version=release.version,
        licence=release.licence,
        url=release.url,
        files=file_names(release.files),
        reload_of=release.key if key != release.key else None,
        released=release.released,
    )
    report = LoadReport(release.key)
    try:
        for stage in stages:
            began = time.monotonic()
            report.rows[stage.name], report.write_seconds[stage.name] = _write_stage(
                graph, key, release.name, stage, progress
            )
            report.stage_seconds[stage.name] = time.monotonic() - began
        coverage = declared or (release.coverage() if callable(release.coverage) else release.coverage)
        graph.write("MATCH (s:Source {key: $key}) SET s.coverage = $coverage", key=key, coverage=coverage)
        _mark_superseding(graph, key)
    except BaseException as failure:
        try:
            discard_release(graph, key)
        except Exception as cleanup:  # the database is gone too: the next load's recover() finishes this
            failure.add_note(f"{key} was left 'loading' ({cleanup.__class__.__name__}); the next load removes it")
        raise
    before = knowledge_state(graph)
    report.replaced, report.retired = _activate(graph, release.name, key, checksum)
    report.patients_linked = link_known_alleles(graph, release.key)  # issue-8 hook
    loaded = time.monotonic()
    # issue-8 hook; releases the activation retired are still in the graph ('retiring'), so what they
    # asserted is compared too, and removed only after
    report.reinterpreted = reinterpret(graph, before, knowledge_state(graph), release.key)
    reinterpreted = time.monotonic()
    for retired in report.retired:
        discard_release(graph, retired)
    report.seconds = (loaded - started) + (time.monotonic() - reinterpreted)
    return report


def recover(graph: Graph, name: str) -> list[str]:
    """Finish what a crashed load or retirement of source ``name`` left behind; returns the keys removed.

    A crash (the loading process or the database killed) can leave: a ``loading`` Source with part of
    its rows and perhaps its superseding marks, or a ``retiring`` one half removed (both discarded:
    their keys leave every release list and mark); an activated staging release whose swap did not
    finish (finished); statuses not yet settled (settled). Each step is safe to repeat, so a crash
    during recovery is recovered too.
    """
    discarded: list[str] = []
    for row in graph.read(
        "MATCH (s:Source {name: $name}) WHERE NOT s.status IN $kept RETURN s.key AS key", name=name, kept=list(KEPT)
    ):
        discard_release(graph, row["key"])
        discarded.append(row["key"])
    for row in graph.read(
        "MATCH (s:Source {name: $name}) WHERE s.status IN $kept AND s.reloadOf IS NOT NULL "
        "RETURN s.key AS key, s.reloadOf AS target",
        name=name,
        kept=list(KEPT),
    ):
        _swap_in(graph, row["key"], row["target"])
    _, retired = _settle(graph, name)
    for key in retired:  # a crash's leftovers: not re-interpreted (the crashed load's state is unknown)
        discard_release(graph, key)
    return discarded + retired


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


def _kept(graph: Graph, name: str) -> list[dict[str, Any]]:
    """The source's kept releases, newest first (``releasedOn``, else loadedAt's date; then ``seq``)."""
    rows = graph.read(
        "MATCH (s:Source {name: $name}) WHERE s.status IN $kept "
        "RETURN s.key AS key, s.version AS version, s.status AS status, s.releasedOn AS releasedOn, "
        "s.loadedAt AS loadedAt, s.seq AS seq, s.coverage AS coverage, s.reloadOf AS reloadOf",
        name=name,
        kept=list(KEPT),
    )
    return sorted(rows, key=_rank, reverse=True)


def _rank(source: dict[str, Any]) -> tuple[str, float]:
    """Order of two releases of one source: the data's date, else the load's; then activation order
    (a release being loaded has no ``seq`` yet and is the newest of its date)."""
    day = source.get("releasedOn") or (source.get("loadedAt") or "")[:10] or date.today().isoformat()
    seq = source.get("seq")
    return day, float("inf") if seq is None else float(seq)


def _mark_superseding(graph: Graph, key: str) -> None:
    """Before ``key`` becomes active: for each other kept release of its source, mark the older one's
    evidence inside the newer one's coverage ``supersededBy`` the newer (nothing for coverage 'all':
    the whole older Source becomes ``superseded`` when statuses are settled)."""
    me = graph.read(
        "MATCH (s:Source {key: $key}) RETURN s.key AS key, s.name AS name, s.releasedOn AS releasedOn, "
        "s.loadedAt AS loadedAt, s.seq AS seq, s.coverage AS coverage, s.reloadOf AS reloadOf",
        key=key,
    )[0]
    for other in _kept(graph, me["name"]):
        if other["key"] in (me["reloadOf"], key) or other["reloadOf"]:
            continue
        older, newer = sorted((me, other), key=_rank)
        _marks(graph, "mark", older["key"], newer["key"], newer["coverage"])


# What a superseding pass does to the evidence ``e`` of $older inside $newer's coverage. Each mark is
# written twice, kept in step: the key in ``e.supersededBy`` (what the visibility rule reads) and an edge
# ``(e)-[:SUPERSEDED_IN]->(newer Source)``, so the evidence a release superseded is reached from its Source
# (re-interpretation, kg.queries.changes) instead of by reading every list of the older release. A rename
# keeps the edge: it points at the staging Source, whose key is renamed in place.
_MARK_OPS = {
    "mark": "MATCH (newer:Source {key: $newer}) "
    "FOREACH (_ IN CASE WHEN $newer IN coalesce(e.supersededBy, []) THEN [] ELSE [1] END | "
    "SET e.supersededBy = coalesce(e.supersededBy, []) + $newer) "
    "MERGE (e)-[:SUPERSEDED_IN]->(newer) WITH e",
    "unmark": "WHERE $newer IN coalesce(e.supersededBy, []) OR EXISTS { (e)-[:SUPERSEDED_IN]->(:Source {key: $newer}) } "
    "WITH e, [x IN coalesce(e.supersededBy, []) WHERE x <> $newer] AS rest "
    "SET e.supersededBy = CASE WHEN size(rest) = 0 THEN null ELSE rest END "
    "WITH e OPTIONAL MATCH (e)-[m:SUPERSEDED_IN]->(:Source {key: $newer}) DELETE m WITH DISTINCT e",
    "rename": "WHERE $newer IN coalesce(e.supersededBy, []) "
    "SET e.supersededBy = [x IN e.supersededBy | CASE WHEN x = $newer THEN $renamed ELSE x END]",
}


def _marks(graph: Graph, op: str, older: str, newer: str, coverage: str | None, renamed: str | None = None) -> int:
    """Mark, unmark or rename ``newer`` in ``supersededBy`` of ``older``'s evidence inside ``coverage``
    (kg.loaders.coverage.inside: a walk from the covered genes / positions); returns how many."""
    covered = cov.parsed(coverage)
    if covered.get("all"):
        return 0
    rows = graph.write(
        cov.inside(covered) + _MARK_OPS[op] + " RETURN count(e) AS n",
        older=older,
        newer=newer,
        renamed=renamed,
        genes=covered.get("genes", []),
        regions=covered.get("regions", []),
    )
    return int(rows[0]["n"]) if rows else 0


def _activate(graph: Graph, name: str, key: str, checksum: str) -> tuple[list[str], list[str]]:
    """Make the release visible, with its checksum (only now: an interrupted load is never taken for
    loaded) and the next ``seq``; a staging release then takes its key; statuses are settled.
    Returns (releases no longer current, releases retired: left ``retiring`` for the caller to
    re-interpret and then discard)."""
    before = {row["key"] for row in _kept(graph, name) if row["status"] == "active"}
    graph.write(
        "MATCH (every:Source) WITH coalesce(max(every.seq), 0) + 1 AS seq "
        "MATCH (s:Source {key: $key}) SET s.status = 'active', s.checksum = $checksum, s.loadedAt = $now, s.seq = seq",
        key=key,
        checksum=checksum,
        now=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    target = key.removesuffix(STAGING_SUFFIX)
    if key != target:
        _swap_in(graph, key, target)
    _, retired = _settle(graph, name)
    now_active = {row["key"] for row in _kept(graph, name) if row["status"] == "active"}
    return sorted((before - now_active - {target}) | set(retired)), retired


def _settle(graph: Graph, name: str) -> tuple[list[str], list[str]]:
    """Retire the source's seed releases once a real one is kept, set each kept release ``active`` or
    ``superseded`` (a newer one covers 'all'), retire those beyond KG_KEEP_RELEASES.
    Returns (superseded keys, retired keys). A retired release is only set ``retiring`` here (out of
    every knowledge state, its facts still in the graph): the caller re-interprets the patients it
    changes, then discards it (``discard_release``; a crash in between leaves it to ``recover``)."""
    retired: list[str] = []
    kept = [row for row in _kept(graph, name) if not row["reloadOf"]]
    if any(not is_seed_release(row["version"]) for row in kept):
        for row in [row for row in kept if is_seed_release(row["version"])]:
            _set_retiring(graph, row["key"])
            retired.append(row["key"])
        kept = [row for row in kept if row["key"] not in retired]
    for row in kept[keep_releases() :]:
        _set_retiring(graph, row["key"])
        retired.append(row["key"])
    kept = kept[: keep_releases()]
    superseded: list[str] = []
    covered_all = False
    for row in kept:
        status = "superseded" if covered_all else "active"
        covered_all = covered_all or (row["coverage"] or cov.ALL) == cov.ALL
        if status == "superseded":
            superseded.append(row["key"])
        if row["status"] != status:
            graph.write("MATCH (s:Source {key: $key}) SET s.status = $status", key=row["key"], status=status)
    return superseded, retired


def _swap_in(graph: Graph, staging: str, target: str) -> None:
    """The activated staging release ``staging`` becomes ``target``: the release it re-loaded is retired,
    then the staging key is renamed wherever the loaders wrote ``$source`` (Source.key, ``r.releases``,
    ``release`` properties, ids that begin with it) and in the superseding marks it made. Every step
    walks from the staging Source and can be run again after a crash."""
    if graph.read("MATCH (s:Source {key: $target}) RETURN s.key AS key", target=target):
        discard_release(graph, target)
    graph.write_in_transactions(
        "MATCH (:Source {key: $staging})<-[:ASSERTED_BY]-(n)-[r]->() WHERE $staging IN r.releases "
        "CALL (r) { SET r.releases = [x IN r.releases | CASE WHEN x = $staging THEN $target ELSE x END] } "
        "IN TRANSACTIONS OF 10000 ROWS",
        staging=staging,
        target=target,
    )
    graph.write_in_transactions(
        "MATCH (:Source {key: $staging})<-[:ASSERTED_BY]-(n) WHERE n.release = $staging "
        "CALL (n) { SET n.release = $target } IN TRANSACTIONS OF 10000 ROWS",
        staging=staging,
        target=target,
    )
    graph.write_in_transactions(
        "MATCH (:Source {key: $staging})<-[:ASSERTED_BY]-(n) WHERE n.id STARTS WITH $staging "
        "CALL (n) { SET n.id = $target + substring(n.id, size($staging)) } IN TRANSACTIONS OF 10000 ROWS",
        staging=staging,
        target=target,
    )
    source = graph.read(
        "MATCH (s:Source {key: $staging}) RETURN s.name AS name, s.coverage AS coverage", staging=staging
    )
    if source:
        for other in _kept(graph, source[0]["name"]):
            if other["key"] != staging:
                _marks(graph, "rename", other["key"], staging, source[0]["coverage"], renamed=target)
    graph.write(
        "MATCH (s:Source {key: $staging}) SET s.key = $target REMOVE s.reloadOf", staging=staging, target=target
    )


class UnknownRelease(LookupError):
    """``kg retire KEY`` of a key no Source has."""


def retire_release(graph: Graph, key: str) -> RetireReport:
    """Retire a kept release (``kg retire KEY``); the source's other releases are settled again (an
    older one a retired 'all' release superseded is current again), the patients whose answers the
    move to the remaining state changes are re-interpreted (kg.queries.changes, ``release`` = the
    retired key) while the retiring facts are still there, then the release is discarded.
    Curated evidence is never retired."""
    rows = graph.read("MATCH (s:Source {key: $key}) RETURN s.name AS name, s.status AS status", key=key)
    if not rows:
        known = [r["key"] for r in graph.read("MATCH (s:Source) RETURN s.key AS key ORDER BY key")]
        raise UnknownRelease(f"no release {key!r}; kept: {', '.join(known) or 'none'}")
    if rows[0]["name"] == "curated":
        raise ValueError(f"{key} holds the curators' evidence; it is never retired")
    if rows[0]["status"] == "loading":
        raise ValueError(f"{key} is being loaded; a failed or interrupted load is discarded by the next load")
    before = knowledge_state(graph)
    _set_retiring(graph, key)
    _, also = _settle(graph, rows[0]["name"])  # nothing beyond KG_KEEP_RELEASES is left to retire, as a rule
    reinterpreted = reinterpret(graph, before, knowledge_state(graph), key, retirement=True)
    report = discard_release(graph, key)
    for other in also:
        discard_release(graph, other)
    report.reinterpreted = reinterpreted
    return report


def _set_retiring(graph: Graph, key: str) -> None:
    """Out of every knowledge state from now on; ``discard_release`` (or ``recover``) removes it."""
    graph.write("MATCH (s:Source {key: $key}) SET s.status = 'retiring'", key=key)


# The statements of a retirement, each a walk from the Source (tests/test_release.py checks their plans).
# A node is kept, unasserted, when a Patient links it or curated evidence points at it.
OWNED = "(EXISTS { (n)<--(:Patient) } OR EXISTS { (n)<--(c:Evidence) WHERE c.source = 'curated' })"
ONLY_HERE = "NOT EXISTS { (n)-[:ASSERTED_BY]->(o:Source) WHERE o.key <> $key }"
RETIRE_EDGES = """
MATCH (:Source {key: $key})<-[:ASSERTED_BY]-(n)-[r]->() WHERE $key IN r.releases
CALL (r) {
  WITH r, [x IN r.releases WHERE x <> $key] AS rest
  FOREACH (_ IN CASE WHEN size(rest) = 0 THEN [1] ELSE [] END | DELETE r)
  FOREACH (_ IN CASE WHEN size(rest) > 0 THEN [1] ELSE [] END | SET r.releases = rest)
} IN TRANSACTIONS OF 10000 ROWS
"""
COUNT_EDGES = """
MATCH (:Source {key: $key})<-[:ASSERTED_BY]-(n)-[r]->() WHERE $key IN r.releases
RETURN sum(CASE WHEN size(r.releases) = 1 THEN 1 ELSE 0 END) AS deleted,
       sum(CASE WHEN size(r.releases) > 1 THEN 1 ELSE 0 END) AS updated
"""
COUNT_NODES = f"""
MATCH (:Source {{key: $key}})<-[:ASSERTED_BY]-(n)
RETURN count(n) AS links, sum(CASE WHEN {ONLY_HERE} AND {OWNED} THEN 1 ELSE 0 END) AS kept
"""
RETIRE_NODES = f"""
MATCH (:Source {{key: $key}})<-[:ASSERTED_BY]-(n) WHERE {ONLY_HERE} AND NOT {OWNED}
CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS
"""
RETIRE_LINKS = """
MATCH (:Source {key: $key})<-[a:ASSERTED_BY]-()
CALL (a) { DELETE a } IN TRANSACTIONS OF 10000 ROWS
"""
RETIRE_STATEMENTS = (RETIRE_EDGES, COUNT_EDGES, COUNT_NODES, RETIRE_NODES, REDERIVE, RETIRE_LINKS)


def discard_release(graph: Graph, key: str) -> RetireReport:
    """Remove release ``key``: its superseding marks on the source's other releases, its key from
    ``r.releases`` (edges left with none deleted), nodes only it asserted (except what a Patient or
    curated evidence owns), the properties it asserted on the nodes that stay (derived again from the
    other releases' groups, or removed: kg/loaders/property_groups.py), its ASSERTED_BY edges, its Source. Every step walks from the Source (or,
    for marks, from the covered positions), in bounded transactions, and is safe to repeat."""
    report = RetireReport(key)
    source = graph.read("MATCH (s:Source {key: $key}) RETURN s.name AS name, s.coverage AS coverage", key=key)
    if not source:
        return report
    for other in graph.read(
        "MATCH (s:Source {name: $name}) WHERE s.key <> $key RETURN s.key AS key", name=source[0]["name"], key=key
    ):
        report.marks_removed += _marks(graph, "unmark", other["key"], key, source[0]["coverage"])
    counted = graph.read(COUNT_EDGES, key=key)[0]
    report.edges_deleted, report.edges_updated = int(counted["deleted"] or 0), int(counted["updated"] or 0)
    graph.write_in_transactions(RETIRE_EDGES, key=key)
    counted = graph.read(COUNT_NODES, key=key)[0]
    report.links_removed, report.nodes_kept = int(counted["links"]), int(counted["kept"] or 0)
    report.nodes_deleted = int(graph.write_in_transactions(RETIRE_NODES, key=key).get("nodes_deleted", 0))
    graph.write_in_transactions(REDERIVE, key=key)
    graph.write_in_transactions(RETIRE_LINKS, key=key)
    graph.write("MATCH (s:Source {key: $key}) DETACH DELETE s", key=key)
    return report

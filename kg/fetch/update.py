"""``kg fetch`` and ``kg update``: releases from their publishers into the data folder and the graph.

``kg update`` is meant for cron or a scheduled compose service: one run at a time per data folder
(the cache lock), and never a source without an active release. For each source it asks the
publisher for its newest release; a source whose cached release is that one and is the graph's
active release is left alone. Otherwise the release is fetched (staged and verified), swapped into
the data folder and loaded. A load is all or nothing (kg.loaders.release): when it fails, the
previous release stays active in the graph, and the swap is rolled back so the data folder again
holds the files of that active release. Unversioned publishers (PharmGKB, the FDA table) are
downloaded every time and count as new only when a file's sha256 changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from kg.db import Graph
from kg.fetch.cache import ReleaseCache
from kg.fetch.download import FetchError
from kg.fetch.fetcher import Fetched, latest_release, stage_release
from kg.fetch.publishers import PUBLISHERS, Publisher, publisher_for
from kg.fetch.settings import FetchSettings
from kg.loaders import registry
from kg.queries.stats import active_release_keys

Echo = Callable[[str], None]


def selected(names: list[str] | tuple[str, ...]) -> list[Publisher]:
    """Publishers for ``names`` (``all`` or empty = every one), each after what it needs, in PUBLISHERS order."""
    wanted = {p.source for p in PUBLISHERS} if not names or "all" in names else {publisher_for(n).source for n in names}
    for name in list(wanted):
        wanted.update(publisher_for(name).needs)
    return [p for p in PUBLISHERS if p.source in wanted]


def fetch_sources(
    settings: FetchSettings,
    dest: Path,
    names: list[str],
    *,
    release: str | None = None,
    progress: bool = True,
    echo: Echo = print,
) -> tuple[list[Fetched], list[str]]:
    """``kg fetch``: each release committed as soon as it is verified; returns (fetched, errors).

    A failing source does not stop the others (``kg fetch all``); its error names the URL.
    ``release`` applies to the named source only, not to what it needs.
    """
    cache = ReleaseCache(dest)
    done: list[Fetched] = []
    errors: list[str] = []
    publishers = selected(names)
    with cache.lock(), settings.client() as client:
        for publisher in publishers:
            needed_only = publisher.source not in names and "all" not in names
            if needed_only and cache.manifest(publisher.source):
                continue
            try:
                fetched = stage_release(
                    client, settings, cache, publisher, None if needed_only else release, progress=progress
                )
            except FetchError as err:
                errors.append(f"{publisher.source}: {err}")
                echo(f"{publisher.source}: failed: {err}")
                continue
            if fetched.swap:
                fetched.swap.commit()
            done.append(fetched)
            echo(fetched.summary())
    return done, errors


@dataclass
class Outcome:
    source: str
    action: str  # "up to date", "loaded", "failed"
    detail: str = ""

    def summary(self) -> str:
        return f"{self.source}: {self.action}" + (f": {self.detail}" if self.detail else "")


def update(
    graph: Graph,
    settings: FetchSettings,
    dest: Path,
    names: list[str] | tuple[str, ...] = (),
    *,
    progress: bool = True,
    echo: Echo = print,
) -> list[Outcome]:
    """``kg update`` (see the module docstring); one Outcome per loadable source asked for."""
    cache = ReleaseCache(dest)
    outcomes: list[Outcome] = []
    with cache.lock(), settings.client() as client:
        active = active_release_keys(graph)
        for publisher in selected(names):
            if publisher.loads is None:  # the chain: fetched for CIViC when absent, loaded with it
                if cache.manifest(publisher.source) is None:
                    try:
                        fetched = stage_release(client, settings, cache, publisher, progress=progress)
                    except FetchError as err:
                        outcomes.append(Outcome(publisher.source, "failed", str(err)))
                        echo(outcomes[-1].summary())
                        continue
                    if fetched.swap:
                        fetched.swap.commit()
                continue
            keys = active.get(registry.spec_for(publisher.loads).source_name, [])
            outcome = _update_one(graph, client, settings, cache, publisher, keys, progress)
            outcomes.append(outcome)
            echo(outcome.summary())
    return outcomes


def _update_one(
    graph: Graph,
    client: httpx.Client,
    settings: FetchSettings,
    cache: ReleaseCache,
    publisher: Publisher,
    active_keys: list[str],
    progress: bool,
) -> Outcome:
    source = publisher.source
    current = cache.manifest(source)
    # the release this cache folder last loaded, when it is still active (a source can have several
    # active releases: ClinVar's 2024 extract and 2026 region file are both releases of clinvar)
    loaded = current.get("loaded") if current else None
    active_key = loaded if loaded in active_keys else None
    try:
        newest = latest_release(client, settings, publisher)
        if (
            newest is not None
            and current
            and current["release"] == newest
            and current.get("loaded") == active_key
            and active_key
        ):
            return Outcome(source, "up to date", f"{newest} is active as {active_key}")
        fetched = stage_release(client, settings, cache, publisher, newest, progress=progress)
    except FetchError as err:
        return Outcome(source, "failed", f"{err}; {_still(active_keys)}")
    if not fetched.changed and fetched.manifest.get("loaded") == active_key and active_key:
        return Outcome(source, "up to date", f"{fetched.release} is active as {active_key}")
    assert publisher.loads is not None
    try:
        report = registry.loader_for(publisher.loads).load(graph, cache.root / publisher.folder, progress=progress)
    except Exception as err:
        if fetched.swap:
            fetched.swap.rollback()
        return Outcome(
            source,
            "failed",
            f"loading {fetched.release} failed: {err}; {_still(active_keys)}; "
            f"the data folder holds the previous files again",
        )
    if fetched.swap:
        fetched.swap.commit()
    manifest = dict(fetched.manifest, loaded=report.source)
    cache.write_manifest(source, manifest)
    if report.skipped:  # the graph already had these very files active (same checksum)
        return Outcome(source, "up to date", f"{fetched.release} is active as {report.source}")
    return Outcome(source, "loaded", f"{fetched.release} as {report.summary()}")


def _still(active_keys: list[str]) -> str:
    if not active_keys:
        return "no release of it is active"
    return f"{', '.join(active_keys)} {'stays' if len(active_keys) == 1 else 'stay'} active"

"""The project's own seed set (seeds/): small subsets of the real releases, loaded by the real loaders.

``seeds/`` is laid out like the reference data directory (``genes/``, ``ontology/``, ``civic/``,
``clinvar/``, ``clinvar_more/``, ``pgx/...``; kg.loaders.registry gives each source's folder), and
each folder holds whole records of that source's release in the release's own file names and
format, selected by ``seeds/curate.py`` (its docstring says what and why). :func:`load_seeds` runs
each source's loader on its seed folder with version ``seed-<manifest version>``, so a seed release
is a Source like any other, visibly a subset: ``civic@seed-2026.11-2``.

A source that already has a kept release whose version does not start with ``seed-`` (a real
release was loaded) is left alone: a seed subset is a stand-in until real data is there. The other
way round needs nothing here: kg.loaders.release retires a source's seed releases once a real release
of it is kept. The two ClinVar seed folders are two releases of the source ``clinvar``
(``clinvar@seed-<v>+2026-02-26`` and ``clinvar@seed-<v>+2024-06-01``, kg.loaders.clinvar_fields).
Loading the seeds twice changes nothing (each loader skips a release it already holds).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kg.config import project_root
from kg.db import Graph
from kg.loaders import registry
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import SEED_PREFIX, LoadReport, discard_release, is_seed_release

__all__ = ["SEED_PREFIX", "is_seed_release", "load_seeds", "seed_version"]
#: The Source name of the old JSON seed loader (genes.json/diseases.json), retired on first load.
LEGACY_SOURCE = "seeds"


def default_seed_dir() -> Path:
    return project_root() / "seeds"


def read_manifest(seed_dir: Path) -> dict[str, str]:
    path = seed_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise SourceFormatError(path, None, "a seeds manifest.json", "no such file") from err
    except json.JSONDecodeError as err:
        raise SourceFormatError(path, err.lineno, "valid JSON", err.msg) from err
    if not isinstance(manifest, dict) or not str(manifest.get("version") or "").strip():
        raise SourceFormatError(path, 1, 'an object with a "version"', json.dumps(manifest)[:80])
    return manifest


def seed_version(seed_dir: Path) -> str:
    """``seed-<manifest version>``, the version every seed release is loaded as."""
    return SEED_PREFIX + str(read_manifest(seed_dir)["version"]).strip()


@dataclass
class SeedReport:
    """What one :func:`load_seeds` call did, source by source."""

    version: str
    reports: list[LoadReport] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # source -> the real release left in place
    retired: list[str] = field(default_factory=list)  # legacy seed releases removed

    @property
    def source(self) -> str:
        return f"seeds@{self.version}"

    @property
    def skipped(self) -> bool:
        """True when nothing changed: every seed release was already loaded or a real one is kept."""
        return all(r.skipped for r in self.reports) and not self.retired

    @property
    def loaded(self) -> list[str]:
        return [r.source for r in self.reports if not r.skipped]

    @property
    def total_rows(self) -> int:
        return sum(r.total_rows for r in self.reports)

    def summary(self) -> str:
        lines = [f"seeds {self.version}:"]
        lines += [f"  {r.summary()}" for r in self.reports]
        lines += [
            f"  {name}: real release {key} is active; its seed subset was not loaded" for name, key in self.kept.items()
        ]
        lines += [f"  retired the old seed release {key}" for key in self.retired]
        return "\n".join(lines)


def _active_releases(graph: Graph, names: Iterable[str]) -> dict[str, list[str]]:
    rows = graph.read(
        "MATCH (s:Source) WHERE s.name IN $names AND s.status IN ['active', 'superseded'] "
        "RETURN s.name AS name, s.version AS version, s.key AS key",
        names=list(names),
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        if not is_seed_release(row["version"]):
            out.setdefault(row["name"], []).append(row["key"])
    return out


def seed_sources(seed_dir: Path) -> list[registry.SourceSpec]:
    """The sources, in load order, whose seed folder exists."""
    return [spec for spec in registry.SOURCES if (seed_dir / spec.default_path).is_dir()]


def load_seeds(graph: Graph, seed_dir: Path | None = None, *, progress: bool = True) -> SeedReport:
    """Load every source's seed subset as ``<source>@seed-<version>`` (see the module docstring)."""
    seed_dir = Path(seed_dir or default_seed_dir())
    report = SeedReport(seed_version(seed_dir))
    specs = seed_sources(seed_dir)
    if not specs:
        raise SourceFormatError(
            seed_dir, None, "seed folders laid out like the data directory (genes/, civic/, ...)", "none"
        )
    for spec in specs:
        real = _active_releases(graph, [spec.source_name]).get(spec.source_name)
        if real:
            report.kept[spec.name] = ", ".join(sorted(real))
            continue
        loader = registry.loader_for(spec.name)
        report.reports.append(
            loader.load(graph, seed_dir / spec.default_path, progress=progress, version=report.version)
        )
    for row in graph.read("MATCH (s:Source {name: $name}) RETURN s.key AS key", name=LEGACY_SOURCE):
        discard_release(graph, row["key"])
        report.retired.append(row["key"])
    return report

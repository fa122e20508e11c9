"""The release of a source that is active in the test graph, and the folder it was loaded from.

The session shares one Neo4j between modules that load only the seeds (``seeded``) and modules that
load the real releases (``real_data``), in any order; a seed release is retired once its real
release is loaded, never the other way round (kg.loaders.seeds). A logic test on the graph therefore
asserts facts of *the active release*: the seed subset without ../shared/data, the real release once
it is loaded; it picks records the seeds hold, which the real release holds as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg.config import default_data_dir
from kg.db import Graph
from kg.loaders import registry
from kg.loaders.seeds import default_seed_dir, is_seed_release


@dataclass(frozen=True)
class ActiveRelease:
    key: str  # the Source key, e.g. civic@seed-2026.11-2 or civic@2024-08-01
    version: str
    folder: Path  # the seeds' or the data directory's folder of this source

    @property
    def is_seed(self) -> bool:
        return is_seed_release(self.version)


def active_release(graph: Graph, name: str) -> ActiveRelease:
    rows = graph.read(
        "MATCH (s:Source {name: $name, status: 'active'}) RETURN s.key AS key, s.version AS version", name=name
    )
    assert len(rows) == 1, f"{name}: expected one active release, found {rows}"
    version = rows[0]["version"]
    root = default_seed_dir() if is_seed_release(version) else default_data_dir()
    return ActiveRelease(rows[0]["key"], version, root / registry.spec_for(name).default_path)

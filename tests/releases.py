"""The release of a source that is active in the test graph, and the folder it was loaded from.

The session shares one Neo4j between modules that load only the seeds (``seeded``) and modules that
load the real releases (``real_data``), in any order; a seed release is retired once a real release of
its source is loaded, never the other way round (kg.loaders.release). A logic test on the graph
therefore asserts facts of *the active release*: the seed subset without ../shared/data, the real
release once it is loaded; it picks records the seeds hold, which the real release holds as well.
Two loaders can write releases of one source (``clinvar`` and ``clinvar_more`` both write source
``clinvar``): the release of a loader is the active one whose files lie in that loader's folder.
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
    """The active release the loader ``name`` (a registry name: ``clinvar_more`` too) wrote."""
    spec = registry.spec_for(name)
    rows = graph.read(
        "MATCH (s:Source {name: $name, status: 'active'}) RETURN s.key AS key, s.version AS version, s.files AS files",
        name=spec.source_name,
    )
    found = []
    for row in rows:
        root = default_seed_dir() if is_seed_release(row["version"]) else default_data_dir()
        folder = root / spec.default_path
        if len(rows) == 1 or all((folder / f).exists() for f in row["files"] or []):
            found.append(ActiveRelease(row["key"], row["version"], folder))
    assert len(found) == 1, f"{name}: expected one active release from its folder, found {found} of {rows}"
    return found[0]

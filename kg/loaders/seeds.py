"""The project's own curated seed set (seeds/), so a fresh clone can answer questions.

Every record in seeds/*.json carries a ``citation`` naming the release and id it was taken
from; the seed release itself is a Source like any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kg.config import project_root
from kg.db import Graph
from kg.loaders import statements
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import LoadReport, SourceRelease, Stage, load_release


def default_seed_dir() -> Path:
    return project_root() / "seeds"


def read_seed(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """A seed file is a JSON list of objects; each must have the ``required`` keys."""
    try:
        records = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SourceFormatError(path, err.lineno, "valid JSON", err.msg) from err
    if not isinstance(records, list):
        raise SourceFormatError(path, 1, "a JSON list of records", type(records).__name__)
    for index, record in enumerate(records):
        missing = [k for k in required if k not in record]
        if missing:
            raise SourceFormatError(path, None, f"record {index} to have {', '.join(missing)}", json.dumps(record)[:80])
    return records


def seed_stages(seed_dir: Path) -> list[Stage]:
    genes = read_seed(seed_dir / "genes.json", ("symbol", "name", "citation"))
    diseases = read_seed(seed_dir / "diseases.json", ("id", "name", "citation"))
    for gene in genes:
        gene.setdefault("aliases", [])
        gene.setdefault("previousSymbols", [])
        gene.setdefault("locusType", None)
    for disease in diseases:
        disease.setdefault("definition", None)
        disease.setdefault("replacedBy", None)
    return [
        Stage("genes", statements.GENES, lambda: genes),
        Stage("diseases", statements.DISEASES, lambda: diseases),
        Stage("disease hierarchy", statements.DISEASE_PARENTS, lambda: diseases),
    ]


def load_seeds(graph: Graph, seed_dir: Path | None = None, *, progress: bool = True) -> LoadReport:
    seed_dir = seed_dir or default_seed_dir()
    manifest = json.loads((seed_dir / "manifest.json").read_text())
    files = tuple(sorted(p for p in seed_dir.glob("*.json")))
    release = SourceRelease(manifest["name"], manifest["version"], manifest["licence"], files)
    return load_release(graph, release, seed_stages(seed_dir), progress=progress)

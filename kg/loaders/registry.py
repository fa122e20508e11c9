"""Which loader reads which source, and where each lives in a data directory laid out like
../shared/data. Loader modules are imported only when used.

Every loader module exposes ``load(graph, path, *, progress=True, version=None) -> LoadReport``
(``version`` overrides the release's own, e.g. ``seed-2026.11-2`` for the seed subsets).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kg.db import Graph
from kg.loaders.release import LoadReport


class LoaderModule(Protocol):
    def load(self, graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport: ...


@dataclass(frozen=True)
class SourceSpec:
    name: str
    module: str
    default_path: str  # relative to a data directory
    description: str
    source: str = ""  # the Source name its releases carry, when not ``name`` (clinvar_more: clinvar)

    @property
    def source_name(self) -> str:
        return self.source or self.name


# Order matters for `kg load all`: genes and diseases before what links to them.
SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("so", "kg.loaders.so", "ontology", "Sequence Ontology (variant types)"),
    SourceSpec("hgnc", "kg.loaders.hgnc", "genes", "HGNC complete gene set"),
    SourceSpec("doid", "kg.loaders.doid", "ontology", "Human Disease Ontology (OBO, or OWL via rdflib)"),
    SourceSpec("civic", "kg.loaders.civic", "civic", "CIViC variants, molecular profiles, evidence, assertions"),
    SourceSpec("clinvar", "kg.loaders.clinvar", "clinvar", "ClinVar GRCh38 VCF"),
    SourceSpec(
        "clinvar_more",
        "kg.loaders.clinvar_more",
        "clinvar_more",
        "ClinVar 2024-06-01 extract + ACMG SF v3.0",
        "clinvar",
    ),
    SourceSpec("pharmcat", "kg.loaders.pharmcat", "pgx/pharmcat", "PharmCAT alleles, phenotypes, CPIC/DPWG guidelines"),
    SourceSpec("pharmgkb", "kg.loaders.pharmgkb", "pgx/pharmgkb", "PharmGKB clinical annotations"),
    SourceSpec("fda", "kg.loaders.fda", "pgx/fda", "FDA table of pharmacogenomic biomarkers"),
)


def source_names() -> list[str]:
    return [spec.name for spec in SOURCES]


def spec_for(name: str) -> SourceSpec:
    for spec in SOURCES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown source {name!r}; known: seeds, {', '.join(source_names())}")


def loader_for(name: str) -> LoaderModule:
    """The loader module of a source; a missing dependency of it raises (ImportError), never skips."""
    module = importlib.import_module(spec_for(name).module)
    return module

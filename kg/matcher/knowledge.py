"""What the matcher needs to know of the graph before it reads a VCF, cached per process.

A whole-genome VCF is read only where the knowledge has something to say
(:meth:`kg.matcher.vcf.PatientVcf.fetch` with a :class:`PositionIndex`):

- every exact Variant position (ClinVar, CIViC, PharmCAT definition alleles, ...);
- the GRCh38 region of codon-level CIViC Variants (``BRAF V600``), so an unannotated allele there
  can at least be reported as a *possible* codon match;
- the PharmCAT allele definitions and phenotype tables of the active pharmcat release
  (``AlleleDefinition`` / ``PhenotypeTable`` nodes, :class:`kg.matcher.pharmacogenomics.PgxData`):
  the star-allele caller needs nothing else, so a process with only ``NEO4J_URI`` calls diplotypes;
- for VCFs annotated by VEP (``CSQ``) or snpEff (``ANN``), the spans of genes that have protein-,
  codon- or gene-level CIViC Variants, so that any protein-altering allele of, say, KRAS can meet
  ``KRAS Mutation``. The graph holds no gene coordinates (HGNC gives a cytoband only), so a span is
  **approximated** as the first to the last exact-Variant position of the gene in the graph,
  widened by :data:`SPAN_PADDING` on both sides. Alleles of the gene outside that window (far
  introns, untranslated ends not covered by any ClinVar/CIViC record) are not read; for the genes
  CIViC names, ClinVar's records span the coding exons, which is what the categories are about.

The cache key is the graph (URI, database), the set of active releases and the Variant count, so a
new release (or a curated Variant) is picked up on the next match without restarting the process.
The knowledge is cached in the process and, because each ``kg match`` is a fresh process, also on
disk (``<KG_CACHE_DIR>/matcher/knowledge-<digest>.json.gz``, under the same key; a cold read of the
full releases costs 1-2 s, the file 0.05 s). An edit that changes neither the releases nor the
Variant count (a curator correcting a ``proteinChange``) is not seen until the next release.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.db import Graph
from kg.identity.protein import protein_key
from kg.identity.variants import canonical_chrom, parse_variant_id
from kg.matcher.pharmacogenomics import PgxData
from kg.matcher.positions import Interval, PositionIndex
from kg.queries import matching as q

#: bp added before the first and after the last exact Variant of a gene (see module docstring).
SPAN_PADDING = 2_000

#: Exact-Variant positions at most this far apart are read as one interval: 330,000 positions give
#: 20,000 intervals instead of 108,000 (the index builds 5x faster), and a whole genome yields a few
#: hundred more records to look up, which match nothing.
MERGE_GAP = 10

#: Gene-level category types that a small-variant VCF can satisfy (GRAPH_MODEL.md rule 4).
_SPAN_CATEGORY_TYPES = frozenset({"mutation", "truncating", "exon", "domain", "function"})


@dataclass(frozen=True)
class CoarseVariant:
    """A Variant matched by something other than its own allele id."""

    id: str
    kind: str
    gene: str | None
    name: str | None
    protein_keys: frozenset[str] = frozenset()
    codons: tuple[int, ...] = ()
    amino_acid_ref: str | None = None
    category: str | None = None
    category_type: str | None = None
    exons: tuple[int, ...] = ()
    region: Interval | None = None
    homozygous_only: bool = False
    allele_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: dict[str, Any]) -> CoarseVariant:
        changes = row.get("proteinChanges") or ([row["proteinChange"]] if row.get("proteinChange") else [])
        region = None
        if row.get("chrom") and row.get("start") is not None:
            start = int(row["start"])
            end = int(row["end"]) if row.get("end") is not None else start
            region = Interval(canonical_chrom(row["chrom"]), start, max(start, end))
        return cls(
            id=row["id"],
            kind=row.get("kind") or "",
            gene=row.get("gene"),
            name=row.get("name"),
            protein_keys=frozenset(k for c in changes if (k := protein_key(c))),
            codons=tuple(int(c) for c in row.get("codons") or ()),
            amino_acid_ref=row.get("aminoAcidRef"),
            category=row.get("category"),
            category_type=row.get("categoryType"),
            exons=tuple(int(e) for e in row.get("exons") or ()),
            region=region,
            homozygous_only=row.get("zygosity") == "homozygous",
            allele_ids=tuple(row.get("alleleIds") or ()),
        )


@dataclass
class Knowledge:
    """Positions to read and coarse Variants to match, for one state of the graph."""

    key: tuple[Any, ...]
    exact_positions: dict[str, list[int]]
    coarse: list[CoarseVariant]
    spans: dict[str, list[Interval]]  # gene -> approximate span(s)
    pgx: PgxData | None = None  # the active pharmcat release's definitions and tables
    sources: list[str] = field(default_factory=list)
    by_gene: dict[str, list[CoarseVariant]] = field(default_factory=dict)
    by_allele: dict[str, list[CoarseVariant]] = field(default_factory=dict)
    codon_variants: list[CoarseVariant] = field(default_factory=list)
    seconds: float = 0.0
    _indexes: dict[tuple[Any, ...], PositionIndex] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_gene: dict[str, list[CoarseVariant]] = defaultdict(list)
        by_allele: dict[str, list[CoarseVariant]] = defaultdict(list)
        for v in self.coarse:
            if v.gene:
                by_gene[v.gene].append(v)
            for allele in v.allele_ids:
                by_allele[allele].append(v)
        self.by_gene, self.by_allele = dict(by_gene), dict(by_allele)
        self.codon_variants = [v for v in self.coarse if v.kind == "codon" and v.region is not None]

    @property
    def n_exact_positions(self) -> int:
        return sum(len(p) for p in self.exact_positions.values())

    def index(self, *, annotated: bool, extra: tuple[Interval, ...] = ()) -> PositionIndex:
        """The :class:`PositionIndex` of :meth:`intervals` plus ``extra`` (the PGx definition
        positions), built once per state of the graph and per flavour."""
        key = (annotated, extra)
        cached = self._indexes.get(key)
        if cached is None:
            cached = self._indexes[key] = PositionIndex([*self.intervals(annotated=annotated), *extra])
        return cached

    def intervals(self, *, annotated: bool) -> list[Interval]:
        """Where to read a VCF: exact positions, representative alleles, codon regions, and for
        annotated VCFs the gene spans. Positions less than :data:`MERGE_GAP` bp apart come as one
        interval (a fifth as many intervals; the few records between them read in vain)."""
        out: list[Interval] = []
        for chrom, positions in self.exact_positions.items():
            pos = np.unique(np.asarray(positions, dtype=np.int64))
            if not len(pos):
                continue
            breaks = np.flatnonzero(np.diff(pos) > MERGE_GAP)
            starts = np.concatenate(([pos[0]], pos[breaks + 1])).tolist()
            ends = np.concatenate((pos[breaks], [pos[-1]])).tolist()
            out.extend(Interval(chrom, s, e) for s, e in zip(starts, ends, strict=True))
        for v in self.coarse:
            for allele_id in v.allele_ids:
                allele = parse_variant_id(allele_id)
                if allele is not None:
                    out.append(Interval(allele.chrom, allele.pos, allele.pos + max(len(allele.ref), 1) - 1))
            if v.kind == "codon" and v.region is not None:
                out.append(v.region)
        if annotated:
            for spans in self.spans.values():
                out.extend(spans)
        return out


_CACHE: dict[tuple[Any, ...], Knowledge] = {}
_LOCK = threading.Lock()


def knowledge_state(graph: Graph) -> dict[str, Any]:
    """The active releases (key, name) and the Variant count: one quick query."""
    return q.knowledge_state(graph)


def load_knowledge(graph: Graph, state: dict[str, Any] | None = None, *, disk: bool | None = None) -> Knowledge:
    """The knowledge for the graph's current releases: from the process cache, else from the disk
    cache (``<KG_CACHE_DIR>/matcher/``, same key; ``disk=False`` or ``KG_MATCHER_DISK_CACHE=0``
    skips it), else read from the graph (the positions and the coarse Variants concurrently, then the
    gene spans and the PharmCAT definitions) and written to the disk cache."""
    state = state if state is not None else knowledge_state(graph)
    sources = sorted(s["key"] for s in state["sources"])
    key = (graph.settings.bolt_uri, graph.settings.database, tuple(sources), state["variants"])
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    use_disk = disk if disk is not None else os.environ.get("KG_MATCHER_DISK_CACHE", "1") != "0"
    path = _disk_path(graph, key)
    rows = _read_disk(path, key) if use_disk else None
    if rows is None:
        rows = _read_graph(graph)
        if use_disk:
            _write_disk(path, key, rows)
    knowledge = _knowledge(key, rows, sources)
    knowledge.seconds = time.perf_counter() - t0
    with _LOCK:
        for old in [k for k in _CACHE if k[:2] == key[:2]]:
            del _CACHE[old]  # one state per graph: a newer release replaces the older
        _CACHE[key] = knowledge
    return knowledge


def _read_graph(graph: Graph) -> dict[str, Any]:
    """The rows the knowledge is made of: positions per chromosome, coarse Variants, gene spans."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        position_rows = pool.submit(q.exact_positions, graph)
        coarse = q.coarse_variants(graph)
        span_genes = sorted(
            {
                row["gene"]
                for row in coarse
                if row.get("gene")
                and (
                    row.get("kind") in ("protein", "codon")
                    or (row.get("kind") == "gene" and row.get("categoryType") in _SPAN_CATEGORY_TYPES)
                )
            }
        )
        spans = q.gene_spans(graph, span_genes)
        pgx = q.pgx_knowledge(graph)
        positions: dict[str, list[int]] = {}
        for row in position_rows.result():
            if row["chrom"]:
                positions.setdefault(canonical_chrom(row["chrom"]), []).extend(row["positions"])
    return {"positions": positions, "coarse": coarse, "spans": spans, "pgx": pgx}


def _knowledge(key: tuple[Any, ...], rows: dict[str, Any], sources: list[str]) -> Knowledge:
    spans: dict[str, list[Interval]] = defaultdict(list)
    for row in rows["spans"]:
        spans[row["gene"]].append(
            Interval(
                canonical_chrom(row["chrom"]), max(1, int(row["start"]) - SPAN_PADDING), int(row["end"]) + SPAN_PADDING
            )
        )
    stored = rows["pgx"]
    pgx = None if stored is None else PgxData.from_stored(stored["release"], stored["definitions"], stored["tables"])
    return Knowledge(
        key, rows["positions"], [CoarseVariant.of(row) for row in rows["coarse"]], dict(spans), pgx, sources
    )


# -- disk cache: a fresh process (each `kg match`) need not read 330,000 positions again ---------

_DISK_KEEP = 4


def _disk_path(graph: Graph, key: tuple[Any, ...]) -> Path:
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]
    return graph.settings.cache_dir / "matcher" / f"knowledge-{digest}.json.gz"


def _read_disk(path: Path, key: tuple[Any, ...]) -> dict[str, Any] | None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError, EOFError):
        return None
    rows = data.get("rows") if data.get("key") == json.loads(json.dumps(key)) else None
    return rows if isinstance(rows, dict) and "pgx" in rows else None  # older cache files lack "pgx"


def _write_disk(path: Path, key: tuple[Any, ...], rows: dict[str, Any]) -> None:
    """Write atomically (temporary file, then rename); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8", compresslevel=1) as fh:
            json.dump({"key": key, "rows": rows}, fh)
        os.replace(tmp, path)
        # keep the newest few (several graphs may share the cache dir; older release sets go)
        files = sorted(path.parent.glob("knowledge-*.json.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[_DISK_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()

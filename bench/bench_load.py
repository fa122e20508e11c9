"""Benchmark: load every available source of a data directory (../shared/data) into a fresh Neo4j.

    python bench/bench_load.py [--data-dir DIR] [--runs N] [--no-baseline] [--no-per-source-import]

What it does, in one run:

1. Starts its own local Neo4j (instance ``bench`` under KG_CACHE_DIR / .kg, Bolt 7790, HTTP 7590;
   wiped first) unless ``NEO4J_URI`` is set (then that database is used and cleared first: never
   point it at data you want to keep). Applies the schema.
2. Runs every available loader of kg.loaders.registry.SOURCES, in order, as ``kg load all`` does,
   and records per source: rows, wall seconds, rows/s, and per stage the seconds spent waiting for
   the database versus reading/parsing the files (kg.loaders.release.LoadReport). ``--runs N``
   repeats this N times, each on a wiped database, and reports the range.
3. The loader process's peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``), taken after the loads and
   before the baseline's dump.
4. The reference baseline: the same rows (the loaders' own row generators, driven through their
   own ``load()`` with a stand-in database) dumped to CSV node and relationship files, then
   ``neo4j-admin database import full`` of those files into an empty database, once per source and
   once for everything, timed. The baseline writes less than the loaders: see BASELINE_NOTE.

Results go to bench/out/bench_load-<timestamp>.json and .md (git-ignored) and stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kg import neo4j_server
from kg.config import Settings, default_data_dir
from kg.db import Graph
from kg.identity.variants import ASSEMBLY, parse_variant_id
from kg.loaders import registry, release
from kg.schema import apply_schema

OUT_DIR = Path(__file__).resolve().parent / "out"
BENCH_INSTANCE = "bench"
IMPORT_INSTANCE = "bench-import"
BOLT_PORT = 7790
ADMIN_LAUNCHER = "org.neo4j.server.startup.Neo4jAdminCommand"
ARRAY_DELIMITER = "\x1f"  # passed to neo4j-admin as U+001F; never inside a value

BASELINE_NOTE = (
    "Baseline = neo4j-admin database import full (offline, into an empty store) of CSV files made "
    "from the loaders' own rows: per row one node with its key and its scalar / string-list "
    "properties (the columns the stage's first row has; line breaks inside a text become spaces), the look-up nodes the loaders derive "
    "(GeneAlias, DiseaseName, DrugName, DiseaseXref) and the relationships that follow directly from "
    "a row's ids (IS_A, REPLACED_BY, ALIAS_OF, NAME_OF, XREF_OF, IN_GENE, INCLUDES, ABOUT, FOR_DISEASE, "
    "FOR_DRUG, FOR_PHENOTYPE, SUPPORTED_BY, DEFINED_BY, HAS_PHENOTYPE, HAS_CONSEQUENCE, FOR_GENE) with "
    "their `release`, plus ASSERTED_BY from every node to its release's Source node. It does NOT do what "
    "the loaders do beyond that: no MERGE against existing data (each source's CSV holds a node or "
    "edge once; a node two sources share is imported once, the rest skipped as duplicates; an edge to "
    "a node the import lacks is skipped), no property "
    "merging/uniting across releases, no look-ups by non-key properties (ABOUT by rsid, FOR_DISEASE via "
    "DiseaseName, renamed genes via GeneAlias, Diplotype by alleles, ClinVar SUPERSEDED_BY), no "
    "constraints or indexes (the loaders maintain ~40 of them), no transactions, no release "
    "bookkeeping (validate-first pass, status, replacement of older releases). Import seconds exclude "
    "reading the source files; `dump s` (rows -> CSV, parsing included) is shown beside them."
)


# --- the loader run -----------------------------------------------------------------------------


@dataclass
class SourceRun:
    name: str
    rows: int = 0
    seconds: float = 0.0
    loader_cpu: float = 0.0  # CPU seconds of this (the loader) process during the load
    server_cpu: float | None = None  # CPU seconds of the local Neo4j JVM during the load
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # stage -> rows, seconds, db_seconds
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def bench_settings() -> Settings:
    return Settings.from_env(instance=BENCH_INSTANCE, bolt_port=BOLT_PORT)


def clear_database(graph: Graph) -> None:
    while graph.write("MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n")[0]["n"]:
        pass


@contextmanager
def fresh_graph(settings: Settings) -> Iterator[Graph]:
    """A wiped database with the schema applied; a local instance is started here and stopped after."""
    started = False
    if settings.is_local:
        neo4j_server.stop(settings)
        neo4j_server.wipe(settings)
        neo4j_server.start(settings)
        started = True
    try:
        with Graph(settings) as graph:
            if not settings.is_local:
                clear_database(graph)
            apply_schema(graph)
            yield graph
    finally:
        if started:
            neo4j_server.stop(settings)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int | None) -> float | None:
    """utime + stime of a process (the server JVM, all its threads) from /proc, in seconds."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(settings: Settings) -> int | None:
    return neo4j_server.status(settings).pid if settings.is_local else None


def run_loaders(graph: Graph, data_dir: Path, only: list[str] | None, pid: int | None = None) -> list[SourceRun]:
    """Every available loader in registry order; CPU seconds of this process and of ``pid`` (the
    local server) are taken per source, as they are much less disturbed than wall seconds by
    other work on the machine."""
    runs: list[SourceRun] = []
    for spec in registry.SOURCES:
        if only and spec.name not in only:
            continue
        run = SourceRun(spec.name)
        runs.append(run)
        began, cpu, server = time.monotonic(), _own_cpu(), _process_cpu(pid)
        try:
            report = registry.loader_for(spec.name).load(graph, data_dir / spec.default_path, progress=False)
        except Exception as err:  # a loader still being written must not stop the benchmark
            run.seconds = time.monotonic() - began
            run.error = f"{type(err).__name__}: {str(err)[:300]}"
            print(f"  {spec.name}: FAILED after {run.seconds:.1f} s: {run.error}", flush=True)
            continue
        run.seconds = time.monotonic() - began
        run.loader_cpu = round(_own_cpu() - cpu, 2)
        if server is not None and (after := _process_cpu(pid)) is not None:
            run.server_cpu = round(after - server, 2)
        run.rows = report.total_rows
        for stage, rows in report.rows.items():
            run.stages[stage] = {
                "rows": rows,
                "seconds": round(report.stage_seconds.get(stage, 0.0), 3),
                "db_seconds": round(report.write_seconds.get(stage, 0.0), 3),
            }
        cpu_text = f"; CPU s: loader {run.loader_cpu:.1f}" + (
            f", server {run.server_cpu:.1f}" if run.server_cpu is not None else ""
        )
        print(f"  {spec.name}: {run.rows:,} rows in {run.seconds:.1f} s ({run.rate:,.0f} rows/s){cpu_text}", flush=True)
    return runs


# --- the baseline: the same rows as CSV for neo4j-admin import ------------------------------------


@dataclass(frozen=True)
class N:
    """A node: ID space (= first label), key property and value, properties, extra labels."""

    space: str
    key: str
    value: Any
    props: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class R:
    type: str
    start: tuple[str, Any]  # (ID space, key value)
    end: tuple[str, Any]
    props: dict[str, Any] = field(default_factory=dict)


Item = N | R


def _scalars(*maps: dict[str, Any] | None, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The scalar and string-list values of ``maps`` (later maps win), for node properties."""
    out: dict[str, Any] = {}
    skipped = set(skip)
    for m in maps:
        for k, v in (m or {}).items():
            if k in skipped or k == "props":
                continue
            if isinstance(v, (str, int, float, bool)) or (
                isinstance(v, list) and v and all(isinstance(x, str) for x in v)
            ):
                out[k] = v
    return out


def _many(row: dict[str, Any], key: str) -> list[Any]:
    return [x for x in (row.get(key) or []) if x is not None]


def _drug(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Drug", "id", row["id"], _scalars(row))
    names = [row.get("name"), *_many(row, "synonyms"), *_many(row, "tradeNames")]
    for name in dict.fromkeys(" ".join(str(n).split()).lower() for n in names if n):
        yield N("DrugName", "name", name)
        yield R("NAME_OF", ("DrugName", name), ("Drug", row["id"]), {"release": rel})


def _gene(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Gene", "symbol", row["symbol"], _scalars(row))
    for kind, key in (("previous", "previousSymbols"), ("alias", "aliases")):
        for alias in _many(row, key):
            yield N("GeneAlias", "name", alias.lower())
            yield R("ALIAS_OF", ("GeneAlias", alias.lower()), ("Gene", row["symbol"]), {"kind": kind, "release": rel})


def _edges(kind: str, space: str, row: dict[str, Any], key: str, rel: str) -> Iterator[Item]:
    for other in _many(row, key):
        yield R(kind, (space, row["id"]), (space, other), {"release": rel})


def _disease_terms(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Disease", "id", row["id"], _scalars(row, skip=("parents", "replacements")))
    for name in dict.fromkeys(n.lower() for n in [row.get("name"), *_many(row, "synonyms")] if n):
        yield N("DiseaseName", "name", name)
        yield R("NAME_OF", ("DiseaseName", name), ("Disease", row["id"]), {"release": rel})


def _disease_xrefs(row: dict[str, Any], rel: str) -> Iterator[Item]:
    for x in row.get("xrefKeys") or []:
        yield N("DiseaseXref", "id", x["id"], {"prefix": x["prefix"]})
        yield R("XREF_OF", ("DiseaseXref", x["id"]), ("Disease", row["id"]), {"kind": x["kind"], "release": rel})


def _civic_variant(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Variant", "id", row["id"], _scalars(row.get("props"), row, skip=("duplicate",)))
    if row.get("gene"):
        yield N("Gene", "symbol", row["gene"])
        yield R("IN_GENE", ("Variant", row["id"]), ("Gene", row["gene"]), {"release": rel})


def _civic_profile(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("MolecularProfile", "id", row["id"], _scalars(row.get("props")))
    for stub in row.get("stubs") or []:
        yield N("Variant", "id", stub["id"], _scalars(stub))
    for m in row.get("members") or []:
        yield R(
            "INCLUDES", ("MolecularProfile", row["id"]), ("Variant", m["id"]), {"negated": m["negated"], "release": rel}
        )


def _civic_evidence(row: dict[str, Any], rel: str, assertion: bool = False) -> Iterator[Item]:
    yield N("Evidence", "id", row["id"], _scalars(row.get("props")), ("Assertion",) if assertion else ())
    yield N("MolecularProfile", "id", row["profileId"], {"name": row.get("profileName")})
    yield R("ABOUT", ("Evidence", row["id"]), ("MolecularProfile", row["profileId"]), {"release": rel})
    if row.get("diseaseId"):
        yield N("Disease", "id", row["diseaseId"])
        yield R("FOR_DISEASE", ("Evidence", row["id"]), ("Disease", row["diseaseId"]), {"release": rel})
    for t in row.get("drugs") or []:
        yield N("Drug", "id", t["id"], {"name": t["name"]})
        yield N("DrugName", "name", t["id"])
        yield R("NAME_OF", ("DrugName", t["id"]), ("Drug", t["id"]), {"release": rel})
        yield R("FOR_DRUG", ("Evidence", row["id"]), ("Drug", t["id"]), {"release": rel})
    for eid in _many(row, "evidenceIds"):
        yield R("SUPPORTED_BY", ("Evidence", row["id"]), ("Evidence", eid), {"release": rel})


def _clinvar(row: dict[str, Any], rel: str, prefix: str) -> Iterator[Item]:
    """A ClinVar row (both ClinVar loaders): Variant, Evidence, genes, consequences, diseases.
    Tolerant of the row's shape (coordinates may be read back from the key, a consequence may be
    a {id, name} or only a name, which the baseline then leaves out)."""
    evidence_id = f"{prefix}:{row.get('variationId') or row['id']}"
    variant_keys = ("chrom", "pos", "ref", "alt", "kind", "rsid", "gene", "hgvs", "variantType", "variantTypeSo")
    variant = {k: row.get(k) for k in variant_keys}
    allele = parse_variant_id(str(row["id"]))
    if allele is not None and variant["chrom"] is None:
        variant.update(assembly=ASSEMBLY, chrom=allele.chrom, pos=allele.pos, ref=allele.ref, alt=allele.alt)
    yield N("Variant", "id", row["id"], _scalars(variant))
    yield N("Evidence", "id", evidence_id, _scalars(row, skip=(*variant_keys, "id", "genes", "diseaseIds")))
    yield R("ABOUT", ("Evidence", evidence_id), ("Variant", row["id"]), {"release": rel})
    genes = row.get("genes") if "genes" in row else ([row["gene"]] if row.get("gene") else [])
    for symbol in genes or []:
        yield N("Gene", "symbol", symbol)
        yield R("IN_GENE", ("Variant", row["id"]), ("Gene", symbol), {"release": rel})
    consequences = row.get("consequences") if "consequences" in row else [row.get("consequence")]
    for c in consequences or []:
        if isinstance(c, dict) and c.get("id"):
            yield N("SequenceOntologyTerm", "id", c["id"], {"name": c.get("name")})
            yield R("HAS_CONSEQUENCE", ("Variant", row["id"]), ("SequenceOntologyTerm", c["id"]), {"release": rel})
    for d in _many(row, "diseaseIds"):
        yield R("FOR_DISEASE", ("Evidence", evidence_id), ("Disease", d), {"release": rel})


def _clinvar_vocabulary(row: dict[str, Any], rel: str) -> Iterator[Item]:
    """ClinVar's genes and consequence terms, written once per release before its variants."""
    if row.get("symbol"):
        yield N("Gene", "symbol", row["symbol"])
    if row.get("so"):
        yield N("SequenceOntologyTerm", "id", row["so"], {"name": row.get("name")})


def _secondary_finding(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("SecondaryFinding", "id", row["id"], _scalars(row, skip=("diseaseXrefs", "diseaseIds")))
    yield N("Gene", "symbol", row["gene"])
    yield R("FOR_GENE", ("SecondaryFinding", row["id"]), ("Gene", row["gene"]), {"release": rel})
    for d in _many(row, "diseaseIds"):
        yield R("FOR_DISEASE", ("SecondaryFinding", row["id"]), ("Disease", d), {"release": rel})


def _pgx_variant(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Gene", "symbol", row["gene"], {"pgx": True})
    yield N("Variant", "id", row["id"], _scalars(row))
    yield R("IN_GENE", ("Variant", row["id"]), ("Gene", row["gene"]), {"release": rel})


def _haplotype(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Haplotype", "id", row["id"], _scalars(row))
    for d in row.get("defs") or []:
        yield R(
            "DEFINED_BY",
            ("Haplotype", row["id"]),
            ("Variant", d["variant"]),
            {"allele": d["allele"], "iupac": d["iupac"], "release": rel},
        )


def _diplotype(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Diplotype", "id", row["id"], {k: row.get(k) for k in ("gene", "diplotype", "alleles")})
    yield R(
        "HAS_PHENOTYPE",
        ("Diplotype", row["id"]),
        ("Phenotype", row["phenotypeId"]),
        {"guideline": row.get("guideline"), "phenotype": row.get("phenotype"), "release": rel},
    )


def _recommendation(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Recommendation", "id", row["id"], _scalars(row.get("props")))
    for d in _many(row, "drugIds"):
        yield R("FOR_DRUG", ("Recommendation", row["id"]), ("Drug", d), {"release": rel})
    for ph in row.get("phenotypes") or []:
        yield N("Phenotype", "id", ph["id"], _scalars(ph, skip=("alleles",)))
        yield R(
            "FOR_PHENOTYPE",
            ("Recommendation", row["id"]),
            ("Phenotype", ph["id"]),
            {"gene": ph.get("gene"), "value": ph.get("value"), "release": rel},
        )


def _pgx_evidence(row: dict[str, Any], rel: str) -> Iterator[Item]:
    yield N("Evidence", "id", row["id"], _scalars(row.get("props")))
    for d in _many(row, "drugIds"):
        yield R("FOR_DRUG", ("Evidence", row["id"]), ("Drug", d), {"release": rel})
    for h in _many(row, "haplotypeIds"):
        yield R("ABOUT", ("Evidence", row["id"]), ("Haplotype", h), {"release": rel})
    for symbol in dict.fromkeys([*_many(row, "genes"), *_many(row, "geneCandidates")]):
        yield N("Gene", "symbol", symbol)
        yield R("ABOUT", ("Evidence", row["id"]), ("Gene", symbol), {"release": rel})


Mapper = Callable[[dict[str, Any], str], Iterable[Item]]

# (source, stage) -> the items the baseline imports for one row of that stage
MAPPERS: dict[tuple[str, str], Mapper] = {
    ("so", "terms"): lambda r, rel: [
        N("SequenceOntologyTerm", "id", r["id"], _scalars(r, skip=("parents", "replacements")))
    ],
    ("so", "hierarchy"): lambda r, rel: _edges("IS_A", "SequenceOntologyTerm", r, "parents", rel),
    ("so", "replacements"): lambda r, rel: _edges("REPLACED_BY", "SequenceOntologyTerm", r, "replacements", rel),
    ("hgnc", "genes"): _gene,
    ("doid", "terms"): lambda r, rel: [*_disease_terms(r, rel), *_disease_xrefs(r, rel)],
    ("doid", "xrefs"): _disease_xrefs,
    ("doid", "hierarchy"): lambda r, rel: _edges("IS_A", "Disease", r, "parents", rel),
    ("doid", "replacements"): lambda r, rel: _edges("REPLACED_BY", "Disease", r, "replacements", rel),
    ("civic", "genes"): lambda r, rel: [N("Gene", "symbol", r["symbol"], _scalars(r))],
    ("civic", "variants"): _civic_variant,
    ("civic", "molecular profiles"): _civic_profile,
    ("civic", "evidence items"): _civic_evidence,
    ("civic", "assertions"): lambda r, rel: _civic_evidence(r, rel, assertion=True),
    ("clinvar", "variants"): lambda r, rel: _clinvar(r, rel, "clinvar"),
    ("clinvar", "genes and terms"): _clinvar_vocabulary,
    ("clinvar_more", "variants"): lambda r, rel: _clinvar(r, rel, "clinvar_more"),
    ("clinvar_more", "secondary findings"): _secondary_finding,
    ("pharmcat", "genes"): lambda r, rel: [N("Gene", "symbol", r["symbol"], _scalars(r))],
    ("pharmcat", "drugs"): _drug,
    ("pharmcat", "variants"): _pgx_variant,
    ("pharmcat", "haplotypes"): _haplotype,
    ("pharmcat", "phenotypes"): lambda r, rel: [N("Phenotype", "id", r["id"], _scalars(r))],
    ("pharmcat", "diplotypes"): _diplotype,
    ("pharmcat", "recommendations"): _recommendation,
    ("pharmgkb", "drugs"): _drug,
    ("pharmgkb", "clinical annotations"): _pgx_evidence,
    ("pharmgkb", "drug labels"): _pgx_evidence,
    ("fda", "drugs"): _drug,
    ("fda", "evidence"): _pgx_evidence,
}

_ANCHOR = re.compile(r"MERGE \((\w+):(\w+) \{(\w+): row\.(\w+)\}\)")


def generic_mapper(cypher: str) -> Mapper:
    """For a stage the table does not know: one node per row from the Cypher's first MERGE."""
    found = _ANCHOR.search(cypher)
    if not found:
        return lambda r, rel: []
    _, label, key, row_field = found.groups()

    def nodes(row: Any, rel: str) -> list[Item]:
        if not isinstance(row, dict) or row.get(row_field) is None:
            return []
        return [N(label, key, row[row_field], _scalars(row.get("props"), row))]

    return nodes


def _csv_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "string[]"
    return None


def _text(value: Any) -> str:
    """A string cell on one line (so neo4j-admin may split files for parallel parsing, without
    --multiline-fields) and without the array delimiter."""
    return str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace(ARRAY_DELIMITER, " ")


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "string[]":
        if not isinstance(value, list):
            value = [value]
        return ARRAY_DELIMITER.join(_text(x) for x in value)
    if kind == "boolean":
        return "true" if value is True else "false" if value is False else ""
    if kind == "long":
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""
    if kind == "double":
        return repr(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
    return _text(value)


class CsvWriter:
    """CSV files for one source: node files per (stage, ID space), relationship files per
    (type, start space, end space); the header comes from the first item of each file."""

    def __init__(self, folder: Path, source: str, release_key: str) -> None:
        self.folder = folder
        self.source = source
        self.release_key = release_key
        self.files: dict[tuple, tuple[Any, Any, list[tuple[str, str]]]] = {}
        self.node_files: list[Path] = []
        self.rel_files: list[Path] = []
        self.nodes = 0
        self.rels = 0
        self.seen: set[tuple[Any, ...]] = set()  # nodes and relationships already written by this source
        self.spaces: set[str] = {"Source"}  # ID spaces with a node file
        self.referenced: set[str] = set()  # ID spaces relationships point into
        folder.mkdir(parents=True, exist_ok=True)
        source_file = folder / f"{source}-source.csv"
        with open(source_file, "w", newline="") as handle:
            w = csv.writer(handle)
            w.writerow(["key:ID(Source)", "name", "status", ":LABEL"])
            w.writerow([release_key, source, "active", "Source"])
        self.node_files.append(source_file)
        self.nodes += 1

    def _open(self, key: tuple, name: str, header: list[str], columns: list[tuple[str, str]], nodes: bool):
        path = self.folder / f"{self.source}-{re.sub(r'[^A-Za-z0-9]+', '_', name)}.csv"
        handle = open(path, "w", newline="")  # noqa: SIM115 (kept open for the whole export; closed in close())
        writer = csv.writer(handle)
        writer.writerow(header)
        (self.node_files if nodes else self.rel_files).append(path)
        self.files[key] = (handle, writer, columns)
        return self.files[key]

    def node(self, stage: str, n: N) -> None:
        # a node (a relationship) the source names twice is written once, as the loaders' MERGE
        # makes it once: the import then spends no time on duplicates within a source
        if (n.space, n.value) in self.seen:
            return
        self.seen.add((n.space, n.value))
        key = ("N", stage, n.space, n.labels)
        if key not in self.files:
            columns = [(k, t) for k, v in n.props.items() if k != n.key and (t := _csv_type(v))]
            header = [f"{n.key}:ID({n.space})"] + [f"{k}:{t}" for k, t in columns] + [":LABEL"]
            self._open(key, f"n-{stage}-{n.space}{'-'.join(n.labels)}", header, columns, True)
            self.spaces.add(n.space)
        _, writer, columns = self.files[key]
        writer.writerow(
            [_text(n.value)] + [_cell(n.props.get(k), t) for k, t in columns] + [";".join((n.space, *n.labels))]
        )
        self.nodes += 1
        self.rel(R("ASSERTED_BY", (n.space, n.value), ("Source", self.release_key)))

    def rel(self, r: R) -> None:
        edge = (r.type, r.start, r.end, r.props.get("guideline"))  # HAS_PHENOTYPE: one per guideline
        if edge in self.seen:
            return
        self.seen.add(edge)
        key = ("R", r.type, r.start[0], r.end[0])
        if key not in self.files:
            columns = [(k, t) for k, v in r.props.items() if (t := _csv_type(v))] or [("release", "string")]
            header = [f":START_ID({r.start[0]})", f":END_ID({r.end[0]})", ":TYPE"] + [f"{k}:{t}" for k, t in columns]
            self._open(key, f"r-{r.type}-{r.start[0]}-{r.end[0]}", header, columns, False)
            self.referenced.update((r.start[0], r.end[0]))
        _, writer, columns = self.files[key]
        writer.writerow([_text(r.start[1]), _text(r.end[1]), r.type] + [_cell(r.props.get(k), t) for k, t in columns])
        self.rels += 1

    def close(self) -> None:
        for handle, _, _ in self.files.values():
            handle.close()
        # an edge may point into an ID space this source never writes a node of (CIViC's
        # FOR_DISEASE -> Disease); neo4j-admin needs the space declared: a header-only file
        for space in sorted(self.referenced - self.spaces):
            path = self.folder / f"{self.source}-empty-{space}.csv"
            path.write_text(f"id:ID({space}),:LABEL\n")
            self.node_files.append(path)


class _DumpGraph:
    """Stands in for the database while a loader's ``load()`` drives its stages for the dump: no
    release exists yet (Source reads are empty), writes go nowhere, other reads (ClinVar's disease
    look-up) go to the real database when there is one."""

    def __init__(self, real: Graph | None) -> None:
        self.real = real

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        if "Source" in cypher or self.real is None:
            return []
        return self.real.read(cypher, **params)

    def write(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        return [{"n": 0}]


class _StagesDone(Exception):
    """Raised in place of the release bookkeeping that follows a loader's stages in a dump."""


@dataclass
class Dump:
    source: str
    node_files: list[Path] = field(default_factory=list)
    rel_files: list[Path] = field(default_factory=list)
    rows: int = 0
    nodes: int = 0
    rels: int = 0
    seconds: float = 0.0
    stages: dict[str, int] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    error: str | None = None


def dump_source(name: str, path: Path, folder: Path, real: Graph | None) -> Dump:
    """Drive the loader's own load() with a stand-in database; its stages' rows become CSV."""
    dump = Dump(name)
    writer_box: dict[str, CsvWriter] = {}
    original = release._write_stage

    def write_stage(graph: Any, key: str, source: str, stage: release.Stage, progress: bool) -> tuple[int, float]:
        writer = writer_box.setdefault("w", CsvWriter(folder, name, key))
        mapper = MAPPERS.get((name, stage.name))
        if mapper is None:
            dump.unmapped.append(stage.name)
            mapper = generic_mapper(stage.cypher)
        count = 0
        for row in stage.rows():
            count += 1
            for item in mapper(row, key):
                if isinstance(item, N):
                    writer.node(stage.name, item)
                else:
                    writer.rel(item)
        dump.stages[stage.name] = count
        return count, 0.0

    def stages_done(graph: Any, key: str) -> None:
        raise _StagesDone  # every stage is dumped: the release bookkeeping after them needs a real Source

    began = time.monotonic()
    marking = release._mark_superseding
    release._write_stage = write_stage  # type: ignore[assignment]
    release._mark_superseding = stages_done
    try:
        registry.loader_for(name).load(_DumpGraph(real), path, progress=False)  # type: ignore[arg-type]
    except _StagesDone:
        pass
    except Exception as err:
        dump.error = f"{type(err).__name__}: {str(err)[:300]}"
    finally:
        release._write_stage = original
        release._mark_superseding = marking
        if "w" in writer_box:
            writer_box["w"].close()
    dump.seconds = time.monotonic() - began
    if "w" in writer_box:
        w = writer_box["w"]
        dump.node_files, dump.rel_files, dump.nodes, dump.rels = w.node_files, w.rel_files, w.nodes, w.rels
    dump.rows = sum(dump.stages.values())
    return dump


@dataclass
class Import:
    label: str
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU of neo4j-admin's JVMs (getrusage of children)
    tool_seconds: float | None = None  # what neo4j-admin reports ("IMPORT DONE in ...")
    nodes: int | None = None
    relationships: int | None = None
    properties: int | None = None
    skipped: int = 0  # lines of the bad-entries report: duplicate nodes, edges to absent nodes
    error: str | None = None


def _duration(text: str) -> float | None:
    """``1m 2s 345ms`` -> 62.345."""
    total, found = 0.0, False
    for amount, unit in re.findall(r"(\d+)\s*(ms|h|m|s)\b", text):
        found = True
        total += int(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return total if found else None


def run_import(settings: Settings, label: str, dumps: list[Dump], work: Path) -> Import:
    """``neo4j-admin database import full`` of the dumps' CSV into a wiped data dir."""
    result = Import(label)
    home = neo4j_server.layout_home(settings)
    shutil.rmtree(home / "data", ignore_errors=True)
    (home / "data").mkdir()
    report = work / f"import-{label}.report"
    args = [
        neo4j_server.java_executable(),
        "-Xmx256m",
        "-cp",
        f"{neo4j_server.lib_dir(settings)}/*",
        ADMIN_LAUNCHER,
        "database",
        "import",
        "full",
        "neo4j",
        "--overwrite-destination=true",
        "--skip-duplicate-nodes=true",
        "--skip-bad-relationships=true",
        "--bad-tolerance=100000000",
        "--ignore-empty-strings=true",
        f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}",
        "--verbose",
        f"--report-file={report}",
        "--max-off-heap-memory=1G",
    ]
    args += [f"--nodes={p}" for d in dumps for p in d.node_files]
    args += [f"--relationships={p}" for d in dumps for p in d.rel_files]
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"), HEAP_SIZE=settings.heap)
    began = time.monotonic()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(args, env=env, cwd=home, capture_output=True, text=True)
    result.wall_seconds = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu_seconds = round(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, 2)
    out = done.stdout + done.stderr
    (work / f"import-{label}.log").write_text(out)
    if done.returncode != 0:
        causes = re.findall(r"Caused by: (.+)", out)
        result.error = f"exit {done.returncode}: {causes[-1] if causes else out.strip()[-600:]}"
        return result
    if m := re.search(r"IMPORT DONE in ([^.\n]+)", out):
        result.tool_seconds = _duration(m.group(1))
    for attr, word in (("nodes", "nodes"), ("relationships", "relationships"), ("properties", "properties")):
        if m := re.search(rf"Imported:\s*(?:.*\n)*?\s*([\d,]+) {word}", out):
            setattr(result, attr, int(m.group(1).replace(",", "")))
    try:
        with open(report) as handle:
            result.skipped = sum(1 for _ in handle)
        report.unlink()
    except OSError:
        pass
    shutil.rmtree(home / "data", ignore_errors=True)
    return result


# --- report ---------------------------------------------------------------------------------------


def _range(values: list[float], fmt: str = "{:.1f}") -> str:
    if not values:
        return "–"
    lo, hi = min(values), max(values)
    return (
        fmt.format(lo) if len(values) == 1 or fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"
    )


def markdown(result: dict[str, Any]) -> str:
    runs: list[list[dict[str, Any]]] = result["runs"]
    names = [s["name"] for s in runs[0]]
    base = {d["source"]: d for d in result.get("baseline", {}).get("dumps", [])}
    imports = {i["label"]: i for i in result.get("baseline", {}).get("imports", [])}
    lines = [
        f"# Load benchmark {result['started']}",
        "",
        f"Data: `{result['data_dir']}`; Neo4j: {result['neo4j']}; runs: {len(runs)}; "
        f"load average (1/5/15 min) at start {result['loadavg_start']}, at end {result['loadavg_end']}; "
        f"{os.cpu_count()} cores.",
        "",
        "| source | rows | loader s | rows/s | DB wait | CPU s loader + server | import s tool / wall | import CPU s | "
        "loader ÷ import: wall / CPU | nodes + rels imported |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def stats(name: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": 0, "secs": [], "cpu": [], "db": 0.0}
        for run in runs:
            sel = [s for s in run if name is None or s["name"] == name]
            if not sel or any(s["error"] for s in sel):
                continue
            out["rows"] = sum(s["rows"] for s in sel)
            out["secs"].append(sum(s["seconds"] for s in sel))
            out["db"] += sum(st["db_seconds"] for s in sel for st in s["stages"].values())
            if all(s.get("server_cpu") is not None for s in sel):
                out["cpu"].append(sum(s["loader_cpu"] + s["server_cpu"] for s in sel))
        return out

    for name in [*names, None]:
        st = stats(name)
        label = name or "**total**"
        secs, cpu = st["secs"], st["cpu"]
        if not secs:
            errs = [s["error"] for run in runs for s in run if s["name"] == name and s["error"]]
            lines.append(f"| {label} | – | failed: {errs[0][:60] if errs else ''} | | | | | | | |")
            continue
        share = st["db"] / sum(secs) if sum(secs) else 0.0
        rates = [st["rows"] / x for x in secs if x]
        cpu_cell = _range(cpu) if cpu else "–"
        imp = imports.get(name or "all")
        if imp and not imp.get("error"):
            tool, wall, icpu = imp.get("tool_seconds"), imp["wall_seconds"], imp.get("cpu_seconds") or 0.0
            imp_cell = (f"{tool:.1f}" if tool is not None else "?") + f" / {wall:.1f}"
            ratio = f"{_range([x / wall for x in secs])}× / " + (
                f"{_range([c / icpu for c in cpu])}×" if cpu and icpu else "–"
            )
            size = f"{imp.get('nodes') or 0:,} + {imp.get('relationships') or 0:,}"
            icpu_cell = f"{icpu:.1f}"
        else:
            imp_cell, icpu_cell, ratio, size = ("failed" if imp else "–"), "–", "–", "–"
        lines.append(
            f"| {label} | {st['rows']:,} | {_range(secs)} | {_range(rates, '{:,.0f}')} | {share:.0%} | "
            f"{cpu_cell} | {imp_cell} | {icpu_cell} | {ratio} | {size} |"
        )
    lines += [
        "",
        f"Peak RSS of the loader process: {result['peak_rss_mb']:.0f} MB "
        f"(getrusage ru_maxrss after the loads, before the baseline dump).",
        "",
        "`loader s`: wall seconds of the source's `load()` (reading, validating, parsing, writing, "
        "activating); a range over the runs. `DB wait`: the share of those spent waiting for the "
        "stages' write transactions (the rest is reading and parsing the files). `CPU s`: CPU seconds "
        "of the loader process plus the Neo4j server JVM during the load (less disturbed than wall "
        "time by other work on the machine). `import s`: neo4j-admin's own `IMPORT DONE in` time / its "
        "wall time including the JVM starts, for that source's CSV alone (total row: one import of "
        "everything); `import CPU s`: CPU seconds of neo4j-admin's JVMs. Ratios: loader wall ÷ import "
        "wall, loader+server CPU ÷ import CPU. `dump s` of the baseline (rows -> CSV) is listed below.",
        "",
        "## Stages (last run)",
        "",
        "| source | stage | rows | s | DB s | rows/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for s in runs[-1]:
        for stage, st in s["stages"].items():
            rate = st["rows"] / st["seconds"] if st["seconds"] else 0
            lines.append(
                f"| {s['name']} | {stage} | {st['rows']:,} | {st['seconds']:.2f} | {st['db_seconds']:.2f} | {rate:,.0f} |"
            )
    lines += ["", "## Baseline", "", BASELINE_NOTE, ""]
    for d in base.values():
        extra = f"; stages without a mapping (generic node-only): {', '.join(d['unmapped'])}" if d["unmapped"] else ""
        err = f"; dump failed: {d['error']}" if d.get("error") else ""
        lines.append(
            f"- {d['source']}: {d['rows']:,} rows -> {d['nodes']:,} node lines, {d['rels']:,} relationship "
            f"lines, dumped in {d['seconds']:.1f} s{extra}{err}"
        )
    for i in imports.values():
        if i.get("error"):
            lines.append(f"- import {i['label']}: {i['error'][:300]}")
        elif i.get("skipped"):
            lines.append(
                f"- import {i['label']}: {i['skipped']:,} report lines (duplicate nodes / edges to absent nodes skipped)"
            )
    return "\n".join(lines) + "\n"


def _loadavg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=default_data_dir())
    ap.add_argument("--runs", type=int, default=1, help="loader runs, each on a wiped database")
    ap.add_argument("--sources", nargs="*", help="only these sources (default: all available)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the neo4j-admin import baseline")
    ap.add_argument("--no-per-source-import", action="store_true", help="one import of everything only")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)

    settings = bench_settings()
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result: dict[str, Any] = {
        "started": started,
        "data_dir": str(args.data_dir),
        "loadavg_start": _loadavg(),
        "neo4j": settings.uri
        or f"local {settings.neo4j_version}, instance {settings.instance}, heap "
        f"{settings.heap}, page cache {settings.pagecache}",
        "runs": [],
    }
    print(f"load average {result['loadavg_start']}; data {args.data_dir}", flush=True)
    work = args.out / f"bench_load-{started}"
    work.mkdir(parents=True, exist_ok=True)
    dumps: list[Dump] = []
    for number in range(1, args.runs + 1):
        print(f"run {number}/{args.runs}", flush=True)
        with fresh_graph(settings) as graph:
            began = time.monotonic()
            runs = run_loaders(graph, args.data_dir, args.sources, server_pid(settings))
            print(f"  total {time.monotonic() - began:.1f} s", flush=True)
            result["runs"].append([vars(r) for r in runs])
            result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if number == args.runs and not args.no_baseline:
                print("baseline: dumping the loaders' rows to CSV", flush=True)
                for run in runs:
                    if run.error is None:
                        spec = registry.spec_for(run.name)
                        dumps.append(dump_source(run.name, args.data_dir / spec.default_path, work / "csv", graph))
    if dumps:
        import_settings = Settings.from_env(uri=None, instance=IMPORT_INSTANCE, bolt_port=BOLT_PORT + 1)
        neo4j_server.fetch_jars(import_settings)
        imports: list[Import] = []
        if not args.no_per_source_import:
            for dump in dumps:
                print(f"baseline: neo4j-admin import of {dump.source}", flush=True)
                imports.append(run_import(import_settings, dump.source, [dump], work))
        print("baseline: neo4j-admin import of everything", flush=True)
        imports.append(run_import(import_settings, "all", dumps, work))
        result["baseline"] = {
            "note": BASELINE_NOTE,
            "dumps": [{**vars(d), "node_files": len(d.node_files), "rel_files": len(d.rel_files)} for d in dumps],
            "imports": [vars(i) for i in imports],
        }
        shutil.rmtree(work / "csv", ignore_errors=True)
    result["loadavg_end"] = _loadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench_load-{started}.json").write_text(json.dumps(result, indent=2, default=str))
    text = markdown(result)
    (args.out / f"bench_load-{started}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

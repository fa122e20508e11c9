"""Benchmark: the ClinVar loader on a full-size GRCh38 VCF (about 3 million records).

    python bench/bench_clinvar_full.py [--records 3000000] [--data-dir DIR] [--keep-file] [--no-baseline]
                                       [--instance bench-clinvar] [--bolt-port 7717]

No complete ClinVar VCF is in ../shared/data (see clinvar/SOURCES.md), so the file is made from
the real one there: its 69,302 records repeated until ``--records`` is reached, each copy on
another chromosome (1-22) and position block, so that every record has a distinct position and
VariationID while keeping its REF/ALT and INFO exactly (CLNSIG, CLNREVSTAT, CLNDN, CLNDISDB, GENEINFO,
MC, ...; CLNHGVS still names the original coordinates). Plain gzip, as NCBI's file is read here.

In one run:

1. Its own Neo4j (instance ``bench-clinvar``, Bolt 7717, or ``--instance``/``--bolt-port``, so that two
   runs can share the machine; wiped, stopped after) with the schema, SO, HGNC and DOID loaded first, as ``kg load all`` orders them (ClinVar links conditions
   through DOID's cross-references).
2. The ClinVar load in a child process (``kg.loaders.clinvar.load``, as ``kg load clinvar FILE``),
   which reports its rows, wall seconds and peak RSS (``getrusage`` ru_maxrss): the loader's memory,
   apart from this script's.
3. The baseline from bench/bench_load.py: the loader's own rows dumped to CSV and imported by
   ``neo4j-admin database import full`` into an empty store (``dump_source``, ``run_import``; what
   the import does and does not do is its BASELINE_NOTE).

Results: bench/out/bench_clinvar_full-<UTC time>.json and .md (git-ignored) and stdout.
Targets (issue 13): the full-size file loaded in under 5 minutes, loader memory under 1 GB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_load import BASELINE_NOTE, OUT_DIR, _loadavg, dump_source, fresh_graph, run_import
from kg import neo4j_server
from kg.config import Settings, default_data_dir
from kg.loaders import registry

INSTANCE, BOLT_PORT = "bench-clinvar", 7717
SOURCE_FILE = "clinvar/clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz"
BLOCK = 1_000_000  # positions of one copy: 10,000 + index of the original position * SPACING
SPACING = 15
FIRST_SOURCES = ("so", "hgnc", "doid")


def bench_settings(instance: str = INSTANCE, bolt_port: int = BOLT_PORT) -> Settings:
    return Settings.from_env(uri=None, instance=instance, bolt_port=bolt_port)


def import_settings(settings: Settings) -> Settings:
    """The baseline's neo4j-admin home: ``<instance>-import``, beside the bench's own instance."""
    return Settings.from_env(uri=None, instance=f"{settings.instance}-import", bolt_port=settings.bolt_port + 1)


def make_vcf(source: Path, target: Path, records: int) -> int:
    """``records`` records from ``source``'s, copied to distinct positions (module docstring)."""
    header: list[str] = []
    body: list[list[str]] = []
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                header.append(line)
            else:
                body.append(line.rstrip("\n").split("\t", 7))
    index: dict[tuple[str, str], int] = {}
    for fields in body:
        index.setdefault((fields[0], fields[1]), len(index))
    if 10_000 + len(index) * SPACING >= BLOCK:
        raise SystemExit(f"{source}: {len(index)} positions do not fit a block of {BLOCK:,}")
    max_id = max(int(f[2]) for f in body) + 1
    written = 0
    with gzip.open(target, "wt", encoding="utf-8", compresslevel=1) as out:
        out.writelines(header)
        copy = 0
        while written < records:
            chrom = str(copy % 22 + 1)
            offset = (copy // 22) * BLOCK + 10_000
            for fields in body:
                if written >= records:
                    break
                pos = offset + index[(fields[0], fields[1])] * SPACING
                vid = int(fields[2]) + copy * max_id
                info = fields[7].replace("ALLELEID=", f"ALLELEID={copy}0", 1) if copy else fields[7]
                out.write(f"{chrom}\t{pos}\t{vid}\t{fields[3]}\t{fields[4]}\t{fields[5]}\t{fields[6]}\t{info}\n")
                written += 1
            copy += 1
    return written


def child_load(path: Path, settings: Settings) -> None:
    """Run in the child process: load ClinVar, print rows, seconds and peak RSS as JSON."""
    from kg.db import Graph

    began = time.monotonic()
    with Graph(settings) as graph:
        report = registry.loader_for("clinvar").load(graph, path, progress=False)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "rows": report.rows,
                "seconds": time.monotonic() - began,
                "load_seconds": report.seconds,
                "stage_seconds": report.stage_seconds,
                "write_seconds": report.write_seconds,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        )
    )


def variant_rows(load: dict[str, Any]) -> int:
    """The rows of the stage ``variants`` (one per allele): the rate's numerator. The stage ``genes and terms``
    (a few thousand rows, written once per release) is listed apart."""
    return int(load["rows"].get("variants", sum(load["rows"].values())))


def load_in_child(vcf: Path, instance: str, bolt_port: int) -> dict[str, Any]:
    """The ClinVar load in its own process, so that its peak RSS is the loader's alone."""
    print("loading ClinVar in a child process", flush=True)
    command = [
        sys.executable,
        __file__,
        "--child-load",
        str(vcf),
        "--instance",
        instance,
        "--bolt-port",
        str(bolt_port),
    ]
    child = subprocess.run(command, capture_output=True, text=True)
    if child.returncode != 0:
        raise SystemExit(f"the ClinVar load failed:\n{child.stderr[-3000:]}")
    load: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"  {variant_rows(load):,} rows in {load['seconds']:.1f} s, peak RSS {load['peak_rss_mb']:.0f} MB", flush=True
    )
    return load


def markdown(result: dict[str, Any]) -> str:
    load = result.get("load") or {
        "rows": {"variants": 0},
        "seconds": float("nan"),
        "peak_rss_mb": 0.0,
        "stage_seconds": {},
        "write_seconds": {},
    }
    rows = variant_rows(load)
    lines = [
        f"# ClinVar full-size benchmark {result['started']}",
        "",
        f"File: {result['records']:,} records ({result['file_mb']:.0f} MB gzip), made in {result['make_seconds']:.0f} s "
        f"from `{SOURCE_FILE}`; load average at start {result['loadavg_start']}, at end {result['loadavg_end']}; "
        f"{os.cpu_count()} cores; Neo4j heap {result['heap']}, page cache {result['pagecache']}.",
        "",
        "| what | rows | seconds | rows/s | peak RSS |",
        "|---|---:|---:|---:|---:|",
        f"| ClinVar loader (child process; variant rows) | {rows:,} | {load['seconds']:.1f} | {rows / load['seconds']:,.0f} | {load['peak_rss_mb']:.0f} MB |",
    ]
    for stage, secs in load["stage_seconds"].items():
        lines.append(
            f"| stage {stage} (DB wait {load['write_seconds'].get(stage, 0):.1f} s) | {load['rows'][stage]:,} | {secs:.1f} | | |"
        )
    imp = result.get("import")
    if imp and not imp.get("error"):
        lines.append(
            f"| neo4j-admin import (tool / wall) | {imp.get('nodes') or 0:,} nodes + {imp.get('relationships') or 0:,} rels "
            f"| {imp.get('tool_seconds') or 0:.1f} / {imp['wall_seconds']:.1f} | | |"
        )
        lines += [
            "",
            f"Loader ÷ import (wall): **{load['seconds'] / imp['wall_seconds']:.1f}×**; dump of the rows to CSV "
            f"{result['dump_seconds']:.0f} s (not in the import time).",
        ]
    elif imp:
        lines += ["", f"neo4j-admin import failed: {imp['error'][:300]}"]
    target = "met" if load["seconds"] < 300 else "missed"
    memory = "met" if load["peak_rss_mb"] < 1024 else "missed"
    if "load" not in result:
        target = memory = "not measured (--no-load)"
    lines += ["", f"Targets: under 5 minutes: {target}; loader memory under 1 GB: {memory}.", "", BASELINE_NOTE]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=3_000_000)
    ap.add_argument("--data-dir", type=Path, default=default_data_dir())
    ap.add_argument("--keep-file", action="store_true", help="keep (and reuse) the synthetic VCF in bench/out")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-load", action="store_true", help="the baseline alone (the prerequisites are still loaded)")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--instance", default=INSTANCE, help=f"the bench's Neo4j instance (default {INSTANCE})")
    ap.add_argument(
        "--bolt-port", type=int, default=BOLT_PORT, help=f"its Bolt port (default {BOLT_PORT}; +1 for the import)"
    )
    ap.add_argument("--child-load", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    settings = bench_settings(args.instance, args.bolt_port)
    if args.child_load:
        child_load(args.child_load, settings)
        return 0

    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = args.out / f"bench_clinvar_full-{started}"
    work.mkdir(parents=True, exist_ok=True)
    vcf = args.out / f"clinvar_synthetic_{args.records}.vcf.gz"
    result: dict[str, Any] = {
        "started": started,
        "records": args.records,
        "loadavg_start": _loadavg(),
        "heap": settings.heap,
        "pagecache": settings.pagecache,
        "instance": settings.instance,
    }
    began = time.monotonic()
    if not (args.keep_file and vcf.exists()):
        print(f"making {args.records:,} records -> {vcf}", flush=True)
        make_vcf(args.data_dir / SOURCE_FILE, vcf, args.records)
    result["make_seconds"] = time.monotonic() - began
    result["file_mb"] = vcf.stat().st_size / 1e6
    try:
        with fresh_graph(settings) as graph:
            for name in FIRST_SOURCES:
                report = registry.loader_for(name).load(
                    graph, args.data_dir / registry.spec_for(name).default_path, progress=False
                )
                print(f"  {report.summary()}", flush=True)
            if not args.no_load:
                result["load"] = load_in_child(vcf, args.instance, args.bolt_port)
            if not args.no_baseline:
                print("baseline: dumping the loader's rows to CSV", flush=True)
                dump = dump_source("clinvar", vcf, work / "csv", graph)
                result["dump_seconds"] = dump.seconds
                if dump.error:
                    result["import"] = {"error": f"dump: {dump.error}"}
    finally:
        result["loadavg_end"] = _loadavg()
    if not args.no_baseline and "import" not in result:
        admin = import_settings(settings)
        neo4j_server.fetch_jars(admin)
        print("baseline: neo4j-admin import", flush=True)
        result["import"] = vars(run_import(admin, "clinvar", [dump], work))
        shutil.rmtree(work / "csv", ignore_errors=True)
    result["loadavg_end"] = _loadavg()
    if not args.keep_file:
        vcf.unlink(missing_ok=True)
    (args.out / f"bench_clinvar_full-{started}.json").write_text(json.dumps(result, indent=2, default=str))
    text = markdown(result)
    (args.out / f"bench_clinvar_full-{started}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

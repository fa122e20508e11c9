"""Benchmark: match a whole-genome-sized VCF to the graph, against ``bcftools view -H | wc -l``.

    python bench/bench_match.py [--records 4500000] [--instance bench-match --bolt-port 7780]
                                [--data-dir DIR] [--keep-files]

What one run does:

1. Uses its own local Neo4j (instance ``bench-match`` under KG_CACHE_DIR / .kg, Bolt 7780;
   not wiped: loads of releases already in it are checksum-matched no-ops), started if it is not
   running and stopped at the end if this run started it; ``NEO4J_URI`` set uses that server. Loads
   every available source of the data dir (``kg load all``).
2. Writes a synthetic GRCh38 genome with bench/make_genome_vcf.py (~4.5 million records), planting
   knowledge variants taken from the graph (BRAF V600E, EGFR T790M, a pathogenic BRCA2 allele) and
   full PGx genotypes taken from the PharmCAT definitions (CYP2C19 *2/*2, DPYD Reference/c.2846A>T,
   TPMT *1/*3A): a record at every definition position, 0/0 where the sample is reference.
3. Three copies: BGZF + tabix index, BGZF without index, plain text. For each, in the same run:
   the baseline ``bcftools view -H FILE | wc -l`` (decode every record once, print it, count), then
   ``match_patient`` end to end in a fresh Python process with the matcher's disk cache off (it pays
   for reading the knowledge positions from the graph: "cold"), a second match in that process
   ("warm": knowledge cached in the process, as in the API server), and one match in another fresh
   process with the disk cache on ("cold, disk cache": each ``kg match``). Ratio = match seconds /
   baseline seconds (target <= 2). Both cold starts once more with ``KG_PATIENT_CALLS_MAX=0`` (no call
   store, issue 8): what keeping the sample's calls for re-interpretation costs, in the same run.
4. PGx calling alone per sample: star-allele calling and CPIC/DPWG translation of every gene from the
   sample's genotypes (``vcf_results``), median of 20 (target < 1 s).
5. Peak memory of each match process: ``getrusage(RUSAGE_SELF).ru_maxrss`` (target < 1 GB).

Results go to bench/out/bench_match-<timestamp>/results.json and report.md (git-ignored) and stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"
PATIENT = "bench-match"


# --- the worker: one fresh process per file ---------------------------------------------------


def worker(vcf: Path, patient: str, quick: bool = False) -> dict[str, Any]:
    """Match ``vcf`` twice (cold, warm), time PGx calling alone, report peak RSS; ``quick``: one
    match only (the cold start with the knowledge from the disk cache)."""
    from kg.config import Settings
    from kg.db import Graph
    from kg.matcher.knowledge import load_knowledge
    from kg.matcher.match import match_patient
    from kg.matcher.pharmacogenomics import vcf_results
    from kg.matcher.positions import PositionIndex
    from kg.matcher.vcf import open_vcf

    out: dict[str, Any] = {"file": vcf.name}
    with Graph(Settings.from_env()) as graph:
        for run in ("cold",) if quick else ("cold", "warm"):
            t0 = time.perf_counter()
            report = match_patient(graph, vcf, patient_id=patient)
            out[run] = round(time.perf_counter() - t0, 3)
            out[f"{run}_timings"] = report.timings
        if quick:
            return out
        out["report"] = {
            "strategy": report.reading.get("strategy"),
            "scanned": report.reading.get("scanned"),
            "records_read": report.records_read,
            "alleles_carried": report.alleles_carried,
            "variants_matched": report.variants_matched,
            "intervals": report.reading.get("intervals"),
            "matched": sorted({f"{v.match_level}:{v.name or v.variant}" for v in report.variants}),
            "genes": {
                g.gene: {
                    "diplotype": g.diplotype,
                    "status": g.status,
                    "phenotypes": [p.phenotype_id for p in g.phenotypes],
                }
                for g in report.genes
                if g.status not in ("no_data",)
            },
            "pgxRelease": report.pgx.get("release"),
        }
        pgx = load_knowledge(graph).pgx
        assert pgx is not None, report.pgx
    # PGx alone: the sample's genotypes at the definition positions, then call + translate.
    sample = open_vcf(vcf)
    genotypes = {}
    for rec in sample.fetch(PositionIndex(pgx.intervals())):
        genotypes.setdefault((rec.genotype.chrom, rec.genotype.pos), rec.genotype)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        vcf_results(pgx, genotypes)
        times.append(time.perf_counter() - t0)
    out["pgx_calling"] = {
        "first": round(times[0], 4),
        "median": round(statistics.median(times), 4),
        "genotypes": len(genotypes),
        "genes": len(pgx.definitions),
    }
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


# --- the driver ---------------------------------------------------------------------------------


def baseline(path: Path) -> tuple[float, int]:
    """``bcftools view -H FILE | wc -l``: seconds and the record count."""
    t0 = time.perf_counter()
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; bcftools view -H '{path}' | wc -l"],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - t0, int(done.stdout.strip())


def plants(graph: Any, pharmcat: Path) -> list[str]:
    """``chrom:pos:ref:alt:GT`` for the planted knowledge variants and PGx genotypes."""
    from kg.loaders.pharmcat_files import find_files, read_definitions

    out: dict[tuple[str, int], str] = {}
    rows = graph.read(
        "MATCH (v:Variant) WHERE v.name IN ['BRAF V600E', 'EGFR T790M'] AND v.kind = 'exact' "
        "RETURN v.chrom AS chrom, v.pos AS pos, v.ref AS ref, v.alt AS alt"
    )
    rows += graph.read(
        "MATCH (e:Evidence {type: 'pathogenicity', classification: 'pathogenic'})"
        "-[:ABOUT]->(v:Variant {gene: 'BRCA2'}) "
        "WHERE size(v.ref) = 1 AND size(v.alt) = 1 RETURN v.chrom AS chrom, v.pos AS pos, v.ref AS ref, v.alt AS alt "
        "ORDER BY v.pos LIMIT 1"
    )
    for r in rows:
        out[(r["chrom"], r["pos"])] = f"{r['chrom']}:{r['pos']}:{r['ref']}:{r['alt']}:0/1"
    definitions = read_definitions(find_files(pharmcat))
    for gene, (h1, h2) in {"CYP2C19": ("*2", "*2"), "DPYD": ("Reference", "c.2846A>T"), "TPMT": ("*1", "*3A")}.items():
        d = definitions[gene]
        a1, a2 = d.allele(h1), d.allele(h2)
        assert a1 is not None and a2 is not None, (gene, h1, h2)
        for i, locus in enumerate(d.loci):
            c1 = _concrete(a1.alleles[i], locus.ref)
            c2 = _concrete(a2.alleles[i], locus.ref)
            alts = [c for c in dict.fromkeys((c1, c2)) if c != locus.ref] or [locus.alts[0]]
            gt = "/".join("0" if c == locus.ref else str(alts.index(c) + 1) for c in (c1, c2))
            out[locus.key] = f"{locus.chrom}:{locus.position}:{locus.ref}:{','.join(alts)}:{gt}"
    return list(out.values())


def _run_worker(path: Path, env: dict[str, str], quick: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", str(path), "--patient", PATIENT] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise RuntimeError(f"match worker failed on {path}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _concrete(cell: str | None, ref: str) -> str:
    return ref if cell is None or (len(cell) == 1 and cell not in "ACGT") else cell


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=4_500_000)
    ap.add_argument("--instance", default="bench-match")
    ap.add_argument("--bolt-port", type=int, default=7780)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--keep-files", action="store_true", help="keep the generated VCFs")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--patient", default=PATIENT, help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.patient, args.quick)))
        return 0

    from kg import neo4j_server
    from kg.config import Settings, default_data_dir
    from kg.db import Graph
    from kg.loaders import registry
    from kg.matcher.knowledge import load_knowledge
    from kg.matcher.match import delete_patient
    from kg.schema import apply_schema

    for tool in ("bcftools", "bgzip", "tabix"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed", file=sys.stderr)
            return 2
    data_dir = args.data_dir or default_data_dir()
    settings = Settings.from_env(instance=args.instance, bolt_port=args.bolt_port)
    started = False
    if settings.is_local and not neo4j_server.status(settings).running:
        neo4j_server.start(settings)
        started = True
    env = dict(os.environ, **settings.connection_env())  # the workers reach the same server, password included
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = args.out / f"bench_match-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"records": args.records, "started": stamp, "files": []}
    try:
        with Graph(settings) as graph:
            apply_schema(graph)
            t0 = time.perf_counter()
            for spec in registry.SOURCES:
                registry.loader_for(spec.name).load(graph, data_dir / spec.default_path, progress=False)
            results["load_seconds"] = round(time.perf_counter() - t0, 1)
            planted = plants(graph, data_dir / "pgx" / "pharmcat")
            load_knowledge(graph, disk=True)  # the disk cache the "cold, disk cache" runs start from
        results["planted"] = len(planted)

        indexed = out_dir / "genome.vcf.gz"
        t0 = time.perf_counter()
        cmd = [
            sys.executable,
            str(HERE / "make_genome_vcf.py"),
            "-o",
            str(indexed),
            "-n",
            str(args.records),
            "--seed",
            "7",
        ]
        for p in planted:
            cmd += ["--plant", p]
        subprocess.run(cmd, check=True)
        unindexed = out_dir / "genome-noindex.vcf.gz"
        shutil.copyfile(indexed, unindexed)
        plain = out_dir / "genome.vcf"
        subprocess.run(["bash", "-c", f"bgzip -dc '{indexed}' > '{plain}'"], check=True)
        results["generate_seconds"] = round(time.perf_counter() - t0, 1)

        for label, path in (("bgzip+tabix", indexed), ("bgzip, no index", unindexed), ("plain VCF", plain)):
            base_s, n = baseline(path)
            row = _run_worker(path, dict(env, KG_MATCHER_DISK_CACHE="0"))
            row["cold_disk"] = _run_worker(path, env, quick=True)["cold"]
            # the same cold start without the call store (issue 8): what keeping the calls costs
            nostore = dict(env, KG_PATIENT_CALLS_MAX="0")
            row["cold_nostore"] = _run_worker(path, dict(nostore, KG_MATCHER_DISK_CACHE="0"), quick=True)["cold"]
            row["cold_disk_nostore"] = _run_worker(path, nostore, quick=True)["cold"]
            row.update(
                label=label,
                bytes=path.stat().st_size,
                baseline=round(base_s, 3),
                baseline_records=n,
                ratio_cold=round(row["cold"] / base_s, 2),
                ratio_warm=round(row["warm"] / base_s, 2),
                ratio_cold_disk=round(row["cold_disk"] / base_s, 2),
                ratio_cold_nostore=round(row["cold_nostore"] / base_s, 2),
                ratio_cold_disk_nostore=round(row["cold_disk_nostore"] / base_s, 2),
            )
            results["files"].append(row)
            print(
                f"{label:<16} bcftools {base_s:6.2f}s ({n:,} records) | match cold {row['cold']:6.2f}s "
                f"(x{row['ratio_cold']}) cold+disk cache {row['cold_disk']:6.2f}s (x{row['ratio_cold_disk']}) "
                f"warm {row['warm']:6.2f}s (x{row['ratio_warm']}) | no call store: cold {row['cold_nostore']:6.2f}s "
                f"(x{row['ratio_cold_nostore']}) cold+disk cache {row['cold_disk_nostore']:6.2f}s "
                f"(x{row['ratio_cold_disk_nostore']}) | "
                f"PGx calling {row['pgx_calling']['median'] * 1000:.0f} ms | peak {row['peak_rss_mb']:.0f} MB | "
                f"{row['report']['strategy']}, {row['report']['records_read']:,} records read, "
                f"{row['report']['variants_matched']} links",
                flush=True,
            )
        with Graph(settings) as graph:
            delete_patient(graph, PATIENT)
    finally:
        if started:
            neo4j_server.stop(settings)
        if not args.keep_files:
            for f in out_dir.glob("genome*"):
                f.unlink()
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "report.md").write_text(markdown(results))
    print(f"results: {out_dir}")
    return 0


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# bench_match {results['started']}",
        "",
        f"{results['records']:,} generated records + {results['planted']} planted; "
        f"knowledge load (no-op when already loaded) {results.get('load_seconds')} s.",
        "",
        "| file | bcftools view -H \\| wc -l | match cold | ratio | cold, disk cache | ratio | match warm | ratio "
        "| no call store: cold | ratio | cold, disk cache | ratio "
        "| PGx calling (median) | peak RSS | strategy | records read | links |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["files"]:
        lines.append(
            f"| {r['label']} | {r['baseline']:.2f} s | {r['cold']:.2f} s | {r['ratio_cold']} | {r['cold_disk']:.2f} s | "
            f"{r['ratio_cold_disk']} | {r['warm']:.2f} s | {r['ratio_warm']} | "
            f"{r['cold_nostore']:.2f} s | {r['ratio_cold_nostore']} | {r['cold_disk_nostore']:.2f} s | "
            f"{r['ratio_cold_disk_nostore']} | "
            f"{r['pgx_calling']['median'] * 1000:.0f} ms | {r['peak_rss_mb']:.0f} MB | "
            f"{r['report']['strategy']} | {r['report']['records_read']:,} | {r['report']['variants_matched']} |"
        )
    if results["files"]:
        r = results["files"][0]
        lines += [
            "",
            "Matched (first file): " + ", ".join(r["report"]["matched"]),
            "",
            "Genes: " + "; ".join(f"{g} {v['diplotype']} ({v['status']})" for g, v in r["report"]["genes"].items()),
            "",
            "Cold timings: " + json.dumps(r["cold_timings"]),
            "Warm timings: " + json.dumps(r["warm_timings"]),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

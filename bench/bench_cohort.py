"""Benchmark: ``kg match`` of a cohort VCF (every sample, one pass) against ``bcftools view``.

    python bench/bench_cohort.py [--samples 500 1000 2500] [--instance bench-cohort --bolt-port 7775]
                                 [--data-dir DIR] [--sources all] [--keep-files] [--no-profile] [--store-off-too]
                                 [--novel N]

What one run does:

1. Uses its own local Neo4j (instance ``bench-cohort``, Bolt 7775; ``NEO4J_URI`` set uses that
   server), started if not running and stopped at the end if this run started it; loads the data
   dir's releases (``--sources``, default every source, as ``kg load all``; loads already in it are
   checksum-matched no-ops).
2. Writes a synthetic GRCh38 cohort: every ClinVar record of ``clinvar/`` (the hereditary-cancer
   regions, ~69,000 records; its ``AF_EXAC`` / ``AF_TGP`` / ``AF_ESP`` allele frequency where ClinVar
   gives one, else a rare frequency drawn log-uniform from 1e-5..1e-3; genotypes drawn under
   Hardy-Weinberg) and every PharmCAT definition position (``pgx/pharmcat``: each sample carries two
   named alleles per gene, the reference allele with probability 0.6 and the others with Zipf
   weights, and its genotype at each position is what those two alleles define). ``GT`` only, BGZF
   (``bgzip``) with a tabix index. The largest cohort is written once; the smaller ones are its
   first N sample columns (same records, same calls).
3. Per cohort size, in the same run: the baseline ``bcftools view FILE > /dev/null`` (htslib decodes
   every record and writes it as text), then ``kg match FILE --samples all --patient-prefix ...`` in a
   child process (knowledge from the matcher's disk cache, as every ``kg match``), timed wall to
   wall, its peak RSS from ``os.wait4`` (the child's own getrusage), its report's step timings; with
   ``--store-off-too`` once more with ``KG_PATIENT_CALLS_MAX=0`` (no call store: the cost of keeping one).
   ``--novel N`` adds N SNV records no release knows (37 bp past ClinVar positions, allele frequency
   log-uniform 1e-3..0.5), the calls beside the knowledge that the call store keeps.
   The patients are deleted between runs (not timed). Before the first measured run, an untimed match
   of the smallest cohort warms the server (a freshly started one pays its JIT and query planning).
4. A profile by function (cProfile, in another child process) of the largest cohort's match.

Results: bench/out/bench_cohort-<timestamp>/results.json and report.md (git-ignored), and stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's kg, not an installed one (the script's folder is bench/)
OUT_DIR = HERE / "out"
PREFIX = "bench-cohort-"
_AF = re.compile(r"(?:^|;)AF_(?:EXAC|TGP|ESP)=([0-9.eE-]+)")


# --- the synthetic cohort ---------------------------------------------------------------------


def clinvar_sites(path: Path) -> list[tuple[str, int, str, list[str], float]]:
    """(chrom, pos, ref, [alt], allele frequency) of every sequence-ALT record of the ClinVar VCF."""
    rng = np.random.default_rng(11)
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            chrom, pos, _, ref, alt, _, _, info = line.rstrip("\n").split("\t")[:8]
            if not re.fullmatch(r"[ACGT]+", ref) or not re.fullmatch(r"[ACGT]+", alt):
                continue
            afs = [float(x) for x in _AF.findall(info)]
            af = max(afs) if afs else float(10 ** rng.uniform(-5, -3))
            out.append((f"chr{chrom}" if not chrom.startswith("chr") else chrom, int(pos), ref, [alt], min(af, 0.5)))
    return out


def pgx_sites(pharmcat: Path, n: int, rng: np.random.Generator) -> list[tuple[str, int, str, list[str], np.ndarray]]:
    """(chrom, pos, ref, alts, GT allele indexes (n, 2)) of every PharmCAT definition position."""
    from kg.loaders.pharmcat_files import find_files, read_definitions

    out = []
    for _gene, d in sorted(read_definitions(find_files(pharmcat)).items()):
        alleles = list(d.named_alleles)
        ref_i = next((i for i, a in enumerate(alleles) if a.reference), 0)
        others = [i for i in range(len(alleles)) if i != ref_i]
        weights = np.array([1 / (k + 1) for k in range(len(others))])
        p = np.concatenate(([0.6], 0.4 * weights / weights.sum())) if others else np.array([1.0])
        choice = rng.choice(np.array([ref_i, *others]), size=(n, 2), p=p)
        for j, locus in enumerate(d.loci):
            cells = [_concrete(a.alleles[j], locus.ref) for a in alleles]
            alts = list(dict.fromkeys(c for c in [*locus.alts, *cells] if c != locus.ref))
            if not alts:
                continue
            code = np.array([0 if c == locus.ref else alts.index(c) + 1 for c in cells])
            out.append((locus.chrom, locus.position, locus.ref, alts, code[choice]))
    return out


def _concrete(cell: str | None, ref: str) -> str:
    return ref if cell is None or (len(cell) == 1 and cell not in "ACGT") else cell


def novel_sites(
    known: list[tuple[str, int, str, list[str], float]], count: int, rng: np.random.Generator
) -> list[tuple[str, int, str, list[str], float]]:
    """``count`` SNVs no release knows (37 bp past a ClinVar position, at no ClinVar position), allele
    frequency log-uniform 1e-3..0.5: the calls a cohort carries beside the knowledge, for the call store."""
    positions = {(c, p) for c, p, *_ in known}
    picks = rng.choice(len(known), size=min(count, len(known)), replace=False)
    out = []
    for i in sorted(picks.tolist()):
        chrom, pos = known[i][0], known[i][1] + 37
        if (chrom, pos) not in positions:
            positions.add((chrom, pos))
            out.append((chrom, pos, "A", ["G"], float(10 ** rng.uniform(-3, np.log10(0.5)))))
    return out


def write_cohort(out: Path, n: int, clinvar: Path, pharmcat: Path, seed: int = 7, novel: int = 0) -> dict[str, Any]:
    """The synthetic cohort of ``n`` samples (see the module docstring), BGZF + tabix."""
    from kg.matcher.build import CONTIG_LENGTHS, Build

    rng = np.random.default_rng(seed)
    pgx = pgx_sites(pharmcat, n, rng)
    taken = {(c, p) for c, p, *_ in pgx}
    records: list[tuple[str, int, str, list[str], Any]] = [
        r for r in clinvar_sites(clinvar) if (r[0], r[1]) not in taken
    ]
    if novel:
        records += [r for r in novel_sites(records, novel, rng) if (r[0], r[1]) not in taken]
    records += pgx
    order = {c: i for i, c in enumerate(CONTIG_LENGTHS[Build.GRCH38])}
    records.sort(key=lambda r: (order.get(r[0], 99), r[1]))
    chroms = sorted({r[0] for r in records}, key=lambda c: order.get(c, 99))
    header = ["##fileformat=VCFv4.2", "##reference=GRCh38", "##source=precision-kg bench/bench_cohort.py"]
    header += [f"##contig=<ID={c},length={CONTIG_LENGTHS[Build.GRCH38][c]}>" for c in chroms]
    header.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.append(
        "\t".join(
            ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"] + [f"S{i:05d}" for i in range(n)]
        )
    )
    template = np.frombuffer(b"\t0/0" * n, dtype=np.uint8).reshape(n, 4)
    carriers = 0
    with open(out, "wb") as raw:
        bgzip = subprocess.Popen(["bgzip", "-@", "2", "-c"], stdin=subprocess.PIPE, stdout=raw)
        assert bgzip.stdin is not None
        w = io.BufferedWriter(bgzip.stdin, buffer_size=1 << 22)  # type: ignore[arg-type]
        w.write(("\n".join(header) + "\n").encode())
        for chrom, pos, ref, alts, how in records:
            gt = (rng.random((n, 2)) < how).astype(np.uint8) if isinstance(how, float) else how.astype(np.uint8)
            row = template.copy()
            row[:, 1] += gt[:, 0]
            row[:, 3] += gt[:, 1]
            carriers += int((gt.max(axis=1) > 0).sum())
            w.write(f"{chrom}\t{pos}\t.\t{ref}\t{','.join(alts)}\t50\tPASS\t.\tGT".encode())
            w.write(row.tobytes())
            w.write(b"\n")
        w.close()
        bgzip.wait()
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)
    return {"records": len(records), "pgx_records": len(pgx), "carriers": carriers}


def subset(big: Path, out: Path, n: int) -> None:
    """The first ``n`` sample columns of ``big`` (same records, same calls), BGZF + tabix."""
    subprocess.run(
        [
            "bash",
            "-c",
            f"set -o pipefail; bcftools view -S <(bcftools query -l '{big}' | head -n {n}) -Oz -o '{out}' '{big}'",
        ],
        check=True,
    )
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)


# --- the measurements -------------------------------------------------------------------------


def timed(cmd: list[str], env: dict[str, str], stdout: Any = subprocess.DEVNULL) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MB, the child's own getrusage), exit status and CPU seconds (user + system,
    the child and what it waited for) of one command. CPU time is what other work on a shared machine
    disturbs least."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if proc.stderr is not None:
        err = proc.stderr.read().decode(errors="replace")
        if status:
            print(err[-3000:], file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def server_cpu(pid: int | None) -> float:
    """utime + stime of the Neo4j server JVM (all its threads) from /proc, in seconds."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def baseline(path: Path, env: dict[str, str]) -> tuple[float, float, float]:
    wall, rss, code, cpu = timed(["bash", "-c", f"bcftools view '{path}' > /dev/null"], env)
    assert code == 0
    return wall, rss, cpu


def kg_match(path: Path, env: dict[str, str], out_json: Path, pid: int | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "kg.cli", "match", str(path), "--samples", "all", "--patient-prefix", PREFIX, "--json"]
    before = server_cpu(pid)
    with open(out_json, "wb") as fh:
        wall, rss, code, cpu = timed(cmd, env, stdout=fh)
    report = json.loads(out_json.read_text())
    return {
        "wall": round(wall, 2),
        "cpu": round(cpu, 2),
        "neo4j_cpu": round(server_cpu(pid) - before, 2),
        "peak_rss_mb": round(rss, 1),
        "exit": code,
        "stored": report["stored"],
        "failed": report["failed"],
        "records_read": report["records_read"],
        "strategy": report["reading"]["strategy"],
        "distinct_alleles": report["reading"]["distinctAlleles"],
        "pgx_groups": report["reading"]["pgxGroups"],
        "links": sum(s["variants_matched"] for s in report["samples"]),
        "calls_stored": sum(s.get("calls_stored", 0) for s in report["samples"]),
        "call_store": report["reading"].get("callStore"),
        "timings": report["timings"],
    }


def delete_patients(graph: Any) -> None:
    """The bench's patients with their call stores (NoCallSets, ObservedAlleles no patient calls any more)."""
    graph.write_in_transactions(
        "MATCH (p:Patient) WHERE p.id STARTS WITH $prefix CALL { WITH p OPTIONAL MATCH (p)-[:HAS_NO_CALLS]->(n) "
        "DETACH DELETE n } IN TRANSACTIONS OF 100 ROWS",
        prefix=PREFIX,
    )
    graph.write_in_transactions(
        "MATCH (p:Patient) WHERE p.id STARTS WITH $prefix CALL { WITH p DETACH DELETE p } IN TRANSACTIONS OF 100 ROWS",
        prefix=PREFIX,
    )
    graph.write_in_transactions(
        "MATCH (o:ObservedAllele) WHERE NOT EXISTS { (o)<-[:CALLED]-() } "
        "CALL { WITH o DELETE o } IN TRANSACTIONS OF 1000 ROWS"
    )


def profile_worker(path: Path, out: Path) -> None:
    """match_cohort of ``path`` under cProfile; the top functions by own time and by cumulative time."""
    from kg.config import Settings
    from kg.db import Graph
    from kg.matcher.match import match_cohort

    with Graph(Settings.from_env()) as graph:
        prof = cProfile.Profile()
        prof.enable()
        t0 = time.perf_counter()
        report = match_cohort(graph, path, patients=None)
        wall = time.perf_counter() - t0
        prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({fn})",
                "calls": nc,
                "own": round(tt, 3),
                "cumulative": round(ct, 3),
            }
        )
    out.write_text(
        json.dumps(
            {
                "wall_profiled": round(wall, 2),
                "timings": report.timings,
                "by_own": sorted(rows, key=lambda r: -r["own"])[:25],
                "by_cumulative": sorted(rows, key=lambda r: -r["cumulative"])[:40],
            },
            indent=2,
        )
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, nargs="+", default=[500, 1000, 2500])
    ap.add_argument("--instance", default="bench-cohort")
    ap.add_argument("--bolt-port", type=int, default=7775)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--sources", nargs="+", default=["all"])
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--keep-files", action="store_true")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--novel", type=int, default=0, help="add this many SNV records no release knows (call store)")
    ap.add_argument(
        "--store-off-too", action="store_true", help="also match each cohort with the call store off (its cost)"
    )
    ap.add_argument("--profile-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.profile_worker:
        profile_worker(*args.profile_worker)
        return 0

    from kg import neo4j_server
    from kg.config import Settings, default_data_dir
    from kg.db import Graph
    from kg.loaders import registry
    from kg.matcher.knowledge import load_knowledge
    from kg.schema import apply_schema

    for tool in ("bcftools", "bgzip", "tabix"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed (apt-get install bcftools tabix)", file=sys.stderr)
            return 2
    data_dir = args.data_dir or default_data_dir()
    settings = Settings.from_env(instance=args.instance, bolt_port=args.bolt_port)
    started = False
    if settings.is_local and not neo4j_server.status(settings).running:
        neo4j_server.start(settings)
        started = True
    root = str(HERE.parent)
    env = dict(os.environ, **settings.connection_env(), PYTHONPATH=root)
    env["KG_AUTH_DIR"] = env.get("KG_AUTH_DIR", str(Path(root) / ".kg" / args.instance / "auth"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = args.out / f"bench_cohort-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"started": stamp, "bcftools": _version(), "runs": []}
    sizes = sorted(args.samples)
    try:
        with Graph(settings) as graph:
            apply_schema(graph)
            t0 = time.perf_counter()
            names = [s.name for s in registry.SOURCES] if args.sources == ["all"] else args.sources
            for spec in registry.SOURCES:
                if spec.name in names:
                    registry.loader_for(spec.name).load(graph, data_dir / spec.default_path, progress=False)
            results["load_seconds"] = round(time.perf_counter() - t0, 1)
            results["sources"] = names
            load_knowledge(graph, disk=True)  # the disk cache each `kg match` process starts from
            delete_patients(graph)
        big = out_dir / f"cohort-{sizes[-1]}.vcf.gz"
        t0 = time.perf_counter()
        results["file"] = write_cohort(
            big,
            sizes[-1],
            data_dir / "clinvar" / "clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz",
            data_dir / "pgx" / "pharmcat",
            novel=args.novel,
        )
        files = {sizes[-1]: big}
        for n in sizes[:-1]:
            files[n] = out_dir / f"cohort-{n}.vcf.gz"
            subset(big, files[n], n)
        results["generate_seconds"] = round(time.perf_counter() - t0, 1)
        print(f"cohort written: {results['file']} in {results['generate_seconds']} s", flush=True)
        # the call store on (the settings' bound) and, with --store-off-too, off (KG_PATIENT_CALLS_MAX=0: the
        # knowledge positions alone are read and no call kept): its cost, same run, same file
        stores = [("store", env)] + ([("no store", dict(env, KG_PATIENT_CALLS_MAX="0"))] if args.store_off_too else [])
        # An untimed match of the smallest cohort first: the first write load on a freshly started server
        # pays its JIT compilation and query planning (Neo4j CPU 38 s for the 500-sample cohort's links
        # on a cold server, 2026-12-05), which would otherwise land on the first size measured.
        pid = neo4j_server.status(settings).pid if settings.is_local else None
        warm = kg_match(files[sizes[0]], env, out_dir / "report-warm-up.json", pid)
        with Graph(settings) as graph:
            delete_patients(graph)
        results["warm_up"] = {"samples": sizes[0], "wall": warm["wall"], "neo4j_cpu": warm["neo4j_cpu"]}
        print(f"warm-up (not counted): {sizes[0]} samples in {warm['wall']:.2f} s", flush=True)
        for n, (store, run_env) in ((n, s) for n in sizes for s in stores):
            path = files[n]
            base, base_rss, base_cpu = baseline(path, env)
            pid = neo4j_server.status(settings).pid if settings.is_local else None
            row = kg_match(path, run_env, out_dir / f"report-{n}-{store.replace(' ', '-')}.json", pid)
            with Graph(settings) as graph:
                delete_patients(graph)
            row.update(
                store=store,
                samples=n,
                bytes=path.stat().st_size,
                bcftools=round(base, 2),
                bcftools_cpu=round(base_cpu, 2),
                bcftools_rss_mb=round(base_rss, 1),
                load=os.getloadavg()[0],
            )
            row["ratio"] = round(row["wall"] / base, 2)
            row["ratio_cpu"] = round(row["cpu"] / base_cpu, 2)
            results["runs"].append(row)
            print(
                f"{n:>5} samples, {store}: bcftools view {base:6.2f} s ({base_cpu:.2f} s CPU) | kg match {row['wall']:6.2f} s "
                f"(x{row['ratio']}; CPU {row['cpu']:.2f} s, x{row['ratio_cpu']}; Neo4j CPU {row['neo4j_cpu']:.2f} s) "
                f"peak {row['peak_rss_mb']:.0f} MB | {row['stored']} stored, {row['failed']} failed, "
                f"{row['links']:,} links, {row['calls_stored']:,} calls stored ({row['call_store']}) | {row['timings']}",
                flush=True,
            )
        if not args.no_profile:
            prof = out_dir / "profile.json"
            subprocess.run([sys.executable, __file__, "--profile-worker", str(big), str(prof)], env=env, check=True)
            results["profile"] = json.loads(prof.read_text())
            with Graph(settings) as graph:
                graph.write_in_transactions(
                    "MATCH (p:Patient) WHERE p.id STARTS WITH 'S' AND p.vcf = $vcf "
                    "CALL { WITH p DETACH DELETE p } IN TRANSACTIONS OF 100 ROWS",
                    vcf=big.name,
                )
    finally:
        if started:
            neo4j_server.stop(settings)
        if not args.keep_files:
            for f in out_dir.glob("cohort-*"):
                f.unlink()
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "report.md").write_text(markdown(results))
    print(f"results: {out_dir}")
    return 0


def _version() -> str:
    done = subprocess.run(["bcftools", "--version"], capture_output=True, text=True)
    return done.stdout.splitlines()[0] if done.returncode == 0 else "?"


def markdown(results: dict[str, Any]) -> str:
    f = results.get("file", {})
    lines = [
        f"# bench_cohort {results['started']}",
        "",
        f"{f.get('records', 0):,} records ({f.get('pgx_records', 0):,} PharmCAT positions), {results['bcftools']}; "
        f"sources {', '.join(results.get('sources', []))} (load {results.get('load_seconds')} s).",
        "",
        "| samples | call store | file | bcftools view (CPU) | kg match (CPU; Neo4j CPU) | ratio wall (CPU) | peak RSS "
        "| bcftools RSS | stored | links | calls stored | steps |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        lines.append(
            f"| {r['samples']:,} | {r.get('store', 'store')} ({r.get('call_store')}) | {r['bytes'] / 1e6:.1f} MB | "
            f"{r['bcftools']:.2f} s ({r['bcftools_cpu']:.2f}) | "
            f"{r['wall']:.2f} s ({r['cpu']:.2f}; {r['neo4j_cpu']:.2f}) | {r['ratio']} ({r['ratio_cpu']}) | "
            f"{r['peak_rss_mb']:.0f} MB | {r['bcftools_rss_mb']:.0f} MB | {r['stored']:,} | {r['links']:,} | "
            f"{r.get('calls_stored', 0):,} | " + ", ".join(f"{k} {v:.2f}" for k, v in r["timings"].items()) + " |"
        )
    prof = results.get("profile")
    if prof:
        lines += ["", f"Profile (cProfile, {prof['wall_profiled']} s profiled), by own time:", ""]
        lines += [
            f"- {r['function']}: {r['own']} s own, {r['cumulative']} s cumulative, {r['calls']:,} calls"
            for r in prof["by_own"][:15]
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the patient summary on a 100,000-patient and a 1,000-patient graph of the same knowledge, in one run,
interleaved (issue 12, Scale: "p50 and p99 at 100,000 patients stay within 1.2x of their values with 1,000").

    python bench/bench_scale_compare.py [--big bench-scale:7750] [--small bench-scale-1k:7751]
                                        [--sample 20] [--warmup 2] [--rounds 10] [--ports 8750 8751]
                                        [--big-memory 8g:3g] [--small-memory 2g:2g] [--keep-running]

Why: bench_scale.py grows one graph step by step, so its 1,000 and 100,000 steps are measured minutes or hours
apart, at whatever load the shared machine had then; their ratio measures the machine as much as the graph. Here
both graphs answer side by side, request by request, with the same code.

The graphs are instances bench_scale.py left under the checkout's .kg (``NAME:BOLT_PORT``): ``--big`` a run grown
to 100,000 patients, ``--small`` ``bench_scale.py --patients 1000 --instance bench-scale-1k --bolt-port 7751
--keep-running``. An instance not running is started (page cache and heap from ``--big-memory`` /
``--small-memory``) and stopped at the end unless ``--keep-running``; nothing is written, nothing wiped.

1. Checks (recorded, and the run stops if they fail): the same active releases with the same checksums (what was
   loaded, by the same loader stages), every sampled patient in both graphs with the same number of HAS_VARIANT and
   HAS_DIPLOTYPE links (the generator is seeded: the first 1,000 synthetic patients are the same in both).
2. One API server per graph: the real app under uvicorn (bench_scale.start_api), a clinician token, each its own
   audit log; one HTTP client per server.
3. The sample: ``pgxpanel`` and ``--sample`` synthetic patients of the first 1,000 (bench_scale's draw).
4. ``--warmup`` rounds, then ``--rounds``: every sampled patient's summary (bench_scale's GraphQL query) from both
   graphs one after the other, the graph asked first alternating from patient to patient and from round to round.
   The first warm-up round's answers are compared between the graphs (lists compared as multisets).
5. p50, p99 and mean per graph (nearest rank), the ratios 100k / 1k, and the median of the paired ratios (each
   patient's two requests of a round, asked back to back: the least exposed to the machine's load changing);
   load average at start and end.
6. PROFILE of the summary's statements (bench_scale.profile_summary) for ``pgxpanel`` and the first synthetic patient
   of the sample on both graphs: db hits and rows per statement, side by side.

Results: bench/out/bench_scale_compare-<timestamp>.json and .md, and stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import PATIENT, pct, stop_server  # noqa: E402
from bench.bench_scale import (  # noqa: E402
    OUT_DIR,
    PREFIX,
    SUMMARY,
    ProfilingGraph,
    _post,
    footprint,
    load_avg,
    profile_summary,
    start_api,
    tokens,
)
from kg.config import Settings  # noqa: E402
from kg.db import Graph  # noqa: E402

GRAPHS = ("big", "small")

LINKS = """
UNWIND $ids AS id
OPTIONAL MATCH (p:Patient {id: id})
RETURN id, p IS NOT NULL AS found,
       COUNT { (p)-[:HAS_VARIANT]->() } AS variants, COUNT { (p)-[:HAS_DIPLOTYPE]->() } AS diplotypes
"""


def graph_settings(spec: str, memory: str) -> Settings:
    """``NAME:BOLT_PORT`` under the checkout's .kg; ``memory`` is ``PAGECACHE:HEAP`` (used when it is started)."""
    name, port = spec.rsplit(":", 1)
    pagecache, heap = memory.split(":")
    return Settings.from_env(instance=name, bolt_port=int(port), cache_dir=ROOT / ".kg", pagecache=pagecache, heap=heap)


def releases(graph: Graph) -> dict[str, str]:
    rows = graph.read("MATCH (s:Source {status: 'active'}) RETURN s.key AS key, s.checksum AS checksum")
    return {r["key"]: r["checksum"] for r in rows}


def memory_settings(graph: Graph) -> dict[str, str]:
    """The running server's page cache and heap (it may have been started with other values than ours)."""
    try:
        rows = graph.read(
            "SHOW SETTINGS YIELD name, value WHERE name IN "
            "['server.memory.pagecache.size', 'server.memory.heap.max_size'] RETURN name, value"
        )
    except Exception as err:  # informative only: never stops the run
        return {"error": str(err)[:200]}
    return {r["name"]: r["value"] for r in rows}


def canonical(x: Any) -> Any:
    """JSON with every list sorted (answers of two stores may come in another order)."""
    if isinstance(x, dict):
        return {k: canonical(v) for k, v in sorted(x.items())}
    if isinstance(x, list):
        return sorted((canonical(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x


def interleaved(
    urls: dict[str, str], sample: list[str], warmup: int, rounds: int, headers: dict[str, str]
) -> dict[str, Any]:
    """Every sampled patient's summary from both graphs, alternating which is asked first (see the docstring)."""
    times: dict[str, list[float]] = {g: [] for g in GRAPHS}
    answers: dict[str, dict[str, Any]] = {g: {} for g in GRAPHS}
    per_round: list[dict[str, Any]] = []
    paired: list[float] = []  # big / small for the same patient in the same round, asked back to back
    clients = {g: httpx.Client(timeout=120) for g in GRAPHS}
    try:
        for r in range(warmup + rounds):
            this_round: dict[str, list[float]] = {g: [] for g in GRAPHS}
            for j, pid in enumerate(sample):
                pair: dict[str, float] = {}
                for g in GRAPHS if (r + j) % 2 == 0 else GRAPHS[::-1]:
                    t0 = time.perf_counter()
                    data = _post(clients[g], urls[g], SUMMARY, {"id": pid}, headers)
                    elapsed = time.perf_counter() - t0
                    if r == 0:
                        if not data["patient"] or not data["patient"]["pharmacogenomics"]:
                            raise RuntimeError(f"{g}: {pid}: no PGx answers in the summary")
                        answers[g][pid] = canonical(data)
                    if r >= warmup:
                        times[g].append(elapsed)
                        this_round[g].append(elapsed)
                        pair[g] = elapsed
                if pair:
                    paired.append(pair["big"] / pair["small"])
            if r >= warmup:
                per_round.append({**{f"{g}_p50_ms": pct(this_round[g], 50) for g in GRAPHS}, "load": load_avg()})
    finally:
        for client in clients.values():
            client.close()
    out: dict[str, Any] = {
        g: {
            "requests": len(times[g]),
            "p50_ms": pct(times[g], 50),
            "p99_ms": pct(times[g], 99),
            "mean_ms": round(statistics.mean(times[g]) * 1000, 2),
        }
        for g in GRAPHS
    }
    out["paired_ratio_median"] = round(statistics.median(paired), 3)
    out["paired_ratio_p10_p90"] = [round(x, 3) for x in statistics.quantiles(paired, n=10)[::8]]
    out["same_answers"] = sum(answers["big"][pid] == answers["small"][pid] for pid in sample)
    out["different_answers"] = [pid for pid in sample if answers["big"][pid] != answers["small"][pid]]
    out["pgx_answers"] = {pid: len(answers["small"][pid]["patient"]["pharmacogenomics"]) for pid in sample[:3]}
    out["rounds"] = per_round
    return out


def profiles(settings: dict[str, Settings], patients: list[str]) -> list[dict[str, Any]]:
    """The summary's statements PROFILEd on both graphs, side by side (the same code runs the same statements)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for g in GRAPHS:
        graph = ProfilingGraph(settings[g])
        with graph:
            for pid in patients:
                profile_summary(graph, pid)
            found[g] = graph.profiles
    if len(found["big"]) != len(found["small"]):
        raise RuntimeError(f"PROFILE: {len(found['big'])} statements on big, {len(found['small'])} on small")
    return [
        {
            "answer": b["answer"],
            "statement": b["statement"],
            "same_statement": b["statement"] == s["statement"],
            "db_hits_big": b["db_hits"],
            "db_hits_small": s["db_hits"],
            "rows_big": b["rows"],
            "rows_small": s["rows"],
            "scans_big": [f"{x['operator']} {x['details'][:60]}" for x in b["scans"]],
        }
        for b, s in zip(found["big"], found["small"], strict=True)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big", default="bench-scale:7750", help="NAME:BOLT_PORT of the 100,000-patient instance")
    ap.add_argument("--small", default="bench-scale-1k:7751", help="NAME:BOLT_PORT of the 1,000-patient instance")
    ap.add_argument("--big-memory", default="8g:3g", help="PAGECACHE:HEAP when --big is started here")
    ap.add_argument("--small-memory", default="2g:2g", help="PAGECACHE:HEAP when --small is started here")
    ap.add_argument("--sample", type=int, default=20, help="synthetic patients of the first 1,000, plus pgxpanel")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--ports", type=int, nargs=2, default=[8750, 8751], help="API ports: big, small")
    ap.add_argument("--keep-running", action="store_true", help="leave both Neo4j instances running")
    args = ap.parse_args()

    from kg import neo4j_server

    settings = {
        "big": graph_settings(args.big, args.big_memory),
        "small": graph_settings(args.small, args.small_memory),
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": stamp,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "load_average_start": load_avg(),
    }
    started: list[str] = []
    apis: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for g in GRAPHS:
            if not neo4j_server.status(settings[g]).running:
                neo4j_server.start(settings[g], timeout=900)
                started.append(g)
        rng = random.Random(12)  # bench_scale's draw of its sample from the first step's patients
        sample = [PATIENT, *rng.sample([f"{PREFIX}{i:06d}" for i in range(1000)], args.sample)]
        results["sample"] = sample
        checks: dict[str, Any] = {}
        for g in GRAPHS:
            with Graph(settings[g]) as graph:
                fp = footprint(graph, settings[g])
                results[g] = {
                    "bolt": settings[g].bolt_uri,
                    "memory": memory_settings(graph),
                    "footprint": fp,
                    "started_here": g in started,
                }
                checks[g] = {
                    "releases": releases(graph),
                    "links": {
                        r["id"]: [r["found"], r["variants"], r["diplotypes"]] for r in graph.read(LINKS, ids=sample)
                    },
                }
            print(f"{g}: {fp['patients']:,} patients, {results[g]['memory']}", flush=True)
        missing = [pid for pid in sample for g in GRAPHS if not checks[g]["links"][pid][0]]
        results["checks"] = {
            "same_releases": checks["big"]["releases"] == checks["small"]["releases"],
            "releases": sorted(checks["small"]["releases"]),
            "release_differences": sorted(
                set(checks["big"]["releases"].items()) ^ set(checks["small"]["releases"].items())
            ),
            "missing_patients": missing,
            "same_links": checks["big"]["links"] == checks["small"]["links"],
            "links_small": checks["small"]["links"],
        }
        print(f"checks: {json.dumps({k: v for k, v in results['checks'].items() if k != 'links_small'})}", flush=True)
        if missing or not results["checks"]["same_releases"] or not results["checks"]["same_links"]:
            raise SystemExit("the two graphs do not hold the same knowledge and sampled patients (see above)")

        headers = tokens()["clinician"]
        audit = Path(tempfile.mkdtemp(prefix="kg-bench-scale-compare-audit-"))
        urls: dict[str, str] = {}
        for g, port in zip(GRAPHS, args.ports, strict=True):
            os.environ["KG_AUDIT_LOG"] = str(audit / f"{g}.jsonl")  # each server its own (start_api inherits it)
            apis[g] = start_api(settings[g], port, OUT_DIR / f"bench_scale_compare-{stamp}.{g}.api.log")
            urls[g] = f"http://127.0.0.1:{port}/graphql"
        results["load_average_measure_start"] = load_avg()
        t0 = time.perf_counter()
        results["summary"] = summary = interleaved(urls, sample, args.warmup, args.rounds, headers)
        results["measure_seconds"] = round(time.perf_counter() - t0, 1)
        results["load_average_measure_end"] = load_avg()
        results["ratios"] = {
            f"{q}_big_over_small": round(summary["big"][f"{q}_ms"] / summary["small"][f"{q}_ms"], 3)
            for q in ("p50", "p99", "mean")
        }
        print(f"summary: {json.dumps({k: v for k, v in summary.items() if k != 'rounds'})}", flush=True)
        print(f"ratios: {results['ratios']}", flush=True)
        for g in GRAPHS:
            stop_server(apis.pop(g))
        print("PROFILE ...", flush=True)
        results["profiles"] = profiles(settings, [PATIENT, sample[1]])
        results["load_average_end"] = load_avg()
        results["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    finally:
        for proc in apis.values():
            stop_server(proc)
        if not args.keep_running:
            for g in GRAPHS:
                neo4j_server.stop(settings[g])
        (OUT_DIR / f"bench_scale_compare-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    md = report(results)
    (OUT_DIR / f"bench_scale_compare-{stamp}.md").write_text(md)
    print(md)


def report(r: dict[str, Any]) -> str:
    s = r["summary"]
    lines = [
        f"# bench_scale_compare {r['started']}",
        "",
        f"Sample: {len(r['sample'])} patients ({r['sample'][0]} and {len(r['sample']) - 1} synthetic of the first "
        f"1,000); {r['args']['warmup']} warm-up rounds, {r['args']['rounds']} rounds, interleaved; same answers on "
        f"both graphs for {s['same_answers']} of {len(r['sample'])}. Load average {r['load_average_start']} -> "
        f"{r['load_average_end']} on {r['cpus']} CPUs (measuring: {r['load_average_measure_start']} -> "
        f"{r['load_average_measure_end']}, {r['measure_seconds']} s).",
        "",
        "| graph | patients | page cache / heap | store | requests | p50 | p99 | mean |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in GRAPHS:
        x, fp, mem = s[g], r[g]["footprint"], r[g]["memory"]
        lines.append(
            f"| {g} ({r[g]['bolt']}) | {fp['patients']:,} | {mem.get('server.memory.pagecache.size')} / "
            f"{mem.get('server.memory.heap.max_size')} | {fp['store_bytes'] / 2**20:,.0f} MB | {x['requests']} "
            f"| {x['p50_ms']} ms | {x['p99_ms']} ms | {x['mean_ms']} ms |"
        )
    ratios = r["ratios"]
    lines += [
        "",
        f"**Ratios big / small: p50 {ratios['p50_big_over_small']}, p99 {ratios['p99_big_over_small']}, "
        f"mean {ratios['mean_big_over_small']}** (target <= 1.2); per request pair (the same patient asked of "
        f"both, back to back): median {s['paired_ratio_median']}, 10th-90th percentile {s['paired_ratio_p10_p90']}.",
        "",
        "| PROFILE: answer | statement | db hits big | db hits small | rows big | rows small | scans |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in r.get("profiles", []):
        lines.append(
            f"| {p['answer']} | `{p['statement'][:70]}` | {p['db_hits_big']:,} | {p['db_hits_small']:,} "
            f"| {p['rows_big']} | {p['rows_small']} | {'; '.join(p['scans_big']) or 'none'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

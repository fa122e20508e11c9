"""Benchmark: kg.queries.cohort.cohort_actionable before and after the population-scale rewrite (issue 12).

    python bench/bench_actionable.py [--patients 20000] [--runs 5] [--instance bench-actionable --bolt-port 7760]
                                     [--data-dir DIR] [--skip-load] [--prepare-only] [--keep-running]

What one run does:

1. Its own local Neo4j (instance ``bench-actionable`` under the checkout's .kg, Bolt 7760; page cache
   ``KG_NEO4J_PAGECACHE``, heap ``KG_NEO4J_HEAP``, default 2g each): wiped, then schema, seeds, every release
   of ``--data-dir`` and the PGx-panel patient as bench/bench_api.py prepares them (``--skip-load``: the
   instance's graph of an earlier run, kept). Synthetic patients (bench/synthetic_patients.py, as
   bench/bench_scale.py writes them: ~300 ClinVar alleles and ~25 diplotype links each) are added until there
   are ``--patients`` of them (an earlier run's are kept and counted). ``--prepare-only`` stops there and
   leaves Neo4j running.
2. Every case below through the driver, kg.queries.cohort of ``BEFORE_COMMIT`` (loaded from git: the statement
   that built the list of every actionable patient) and the current one, interleaved, after a warm-up:
   the page (first 100), the next page (after the 100th id) and counts only (before: ``first=0``, which
   still builds the list; now: ``page=False``). The two answers must be equal (counts, releases, page).
3. PROFILE of the clopidogrel and mercaptopurine pages, before and now: db hits of the actionable statement.

Results: bench/out/bench_actionable-<timestamp>.json and .md (p50 per case, now/before), and stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import PATIENT, pct, prepare_graph  # noqa: E402
from bench.bench_scale import ProfilingGraph  # noqa: E402
from bench.synthetic_patients import add_patients, allele_pool, pgx_calls  # noqa: E402
from kg.config import Settings, default_data_dir  # noqa: E402
from kg.db import Graph  # noqa: E402

OUT_DIR = HERE / "out"
PREFIX = "synthetic-"

#: kg/queries/cohort.py before the rewrite: every (patient, finding) row collected into one sorted list
#: (``everyone``), counted and sliced; recommendations counted phenotype by phenotype per (r, patient) pair.
BEFORE_COMMIT = "09ed13a"

#: name -> cohort_actionable keyword arguments
CASES: dict[str, dict[str, Any]] = {
    "clopidogrel": {"drug": "clopidogrel"},
    "mercaptopurine": {"drug": "mercaptopurine"},
    "azathioprine": {"drug": "azathioprine"},
    "warfarin": {"drug": "warfarin"},
    "breast cancer (DOID:1612)": {"disease": "DOID:1612"},
    "tamoxifen + breast cancer": {"drug": "tamoxifen", "disease": "DOID:1612"},
}


PROFILED = ("clopidogrel", "mercaptopurine")


def settings_for(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        instance=args.instance,
        bolt_port=args.bolt_port,
        cache_dir=ROOT / ".kg",
        pagecache=os.environ.get("KG_NEO4J_PAGECACHE", "2g"),
        heap=os.environ.get("KG_NEO4J_HEAP", "2g"),
    )


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cohort_before() -> ModuleType:
    """kg/queries/cohort.py of BEFORE_COMMIT as a module."""
    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:kg/queries/cohort.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="kg-actionable-before-")) / "cohort_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("cohort_before", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["cohort_before"] = module
    spec.loader.exec_module(module)
    return module


def grow(graph: Graph, target: int, batch: int) -> dict[str, Any]:
    """Synthetic patients until there are ``target``; the write rate of what was added."""
    have = graph.read(
        "MATCH (p:Patient) WHERE p.id STARTS WITH $prefix AND p.synthetic RETURN count(p) AS n", prefix=PREFIX
    )[0]["n"]
    out: dict[str, Any] = {"had": have}
    if have >= target:
        return out
    releases = sorted(
        r["key"]
        for r in graph.read(
            "MATCH (s:Source {status: 'active'}) WHERE s.key STARTS WITH 'clinvar@' RETURN s.key AS key"
        )
    )
    ids, links, seconds = add_patients(
        graph,
        target - have,
        release=releases,
        prefix=PREFIX,
        start=have,
        pgx=pgx_calls(graph, PATIENT),
        pool=allele_pool(graph, releases),
        batch=batch,
    )
    out.update(
        added=len(ids), has_variant=links, seconds=round(seconds, 1), patients_per_s=round(len(ids) / seconds, 1)
    )
    return out


def _shape(answer: Any) -> dict[str, Any]:
    """What must be equal before and after."""
    return {
        "counts": [answer.total_count, answer.via_evidence, answer.via_recommendation],
        "releases": answer.releases,
        "has_next": answer.has_next,
        "page": [(p.id, p.evidence, p.evidence_count, p.recommendations) for p in answer.patients],
    }


def measure(graph: Graph, before: ModuleType, runs: int) -> dict[str, Any]:
    """Each case and shape, before and now interleaved (the order alternating per run), after a warm-up."""
    from kg.queries import cohort

    out: dict[str, Any] = {}
    for name, kwargs in CASES.items():
        first_page = cohort.cohort_actionable(graph, patients=None, first=100, **kwargs)
        cursor = first_page.patients[-1].id if first_page.patients else None
        shapes: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
            "page": ({"first": 100}, {"first": 100}),
            "next page": ({"first": 100, "after": cursor}, {"first": 100, "after": cursor}),
            "counts only": ({"first": 0}, {"first": 0, "page": False}),
        }
        for shape, (old_kw, new_kw) in shapes.items():
            times: dict[str, list[float]] = {"before": [], "now": []}
            answers: dict[str, Any] = {}
            for i in range(runs + 1):
                order = [("before", before, old_kw), ("now", cohort, new_kw)]
                for which, module, kw in order if i % 2 else order[::-1]:
                    t0 = time.perf_counter()
                    answer = module.cohort_actionable(graph, patients=None, **kwargs, **kw)
                    if i:
                        times[which].append(time.perf_counter() - t0)
                    answers[which] = _shape(answer)
            same = (
                answers["before"] == answers["now"]
                if shape != "counts only"
                else (
                    answers["before"]["counts"] == answers["now"]["counts"]
                    and answers["before"]["releases"] == answers["now"]["releases"]
                )
            )
            row = {
                "same_answer": same,
                "counts": answers["now"]["counts"],
                "before_p50_ms": pct(times["before"], 50),
                "now_p50_ms": pct(times["now"], 50),
                "now_vs_before": round(pct(times["now"], 50) / pct(times["before"], 50), 3),
            }
            out[f"{name}: {shape}"] = row
            print(f"  {name}: {shape}: {row}", flush=True)
            if not same:
                print(f"    DIFFERENT: before {answers['before']}\n    now {answers['now']}", flush=True)
    return out


def profile(settings: Settings, before: ModuleType, drug: str) -> dict[str, Any]:
    """PROFILE db hits of the drug's page, before and now (the resolver's statements left out)."""
    from kg.queries import cohort

    out: dict[str, Any] = {}
    for which, module in (("before", before), ("now", cohort)):
        with ProfilingGraph(settings) as graph:
            module.cohort_actionable(graph, patients=None, drug=drug, first=100)
            mine = [p for p in graph.profiles if "Drug {id: $drug}" in p["statement"] or "$after" in p["statement"]]
            chosen = mine or graph.profiles
            out[which] = {
                "db_hits": sum(p["db_hits"] for p in chosen),
                "statements": len(chosen),
                "top_operators": max(chosen, key=lambda p: p["db_hits"])["top_operators"],
            }
    out["now_vs_before"] = round(out["now"]["db_hits"] / max(out["before"]["db_hits"], 1), 3)
    return out


def report(r: dict[str, Any]) -> str:
    lines = [
        f"# bench_actionable {r['started']}",
        "",
        f"{r.get('patients')} synthetic patients (+ pgxpanel); Neo4j {r['neo4j']}; load average "
        f"{r['load_average_start']} -> {r.get('load_average_before_measuring')} (measuring) -> "
        f"{r.get('load_average_end')} on {r['cpus']} CPUs; before = {BEFORE_COMMIT}.",
        "",
        "| case | counts (total, evidence, recommendation) | before p50 | now p50 | now / before | same answer |",
        "|---|---|---|---|---|---|",
    ]
    for name, x in r.get("cases", {}).items():
        lines.append(
            f"| {name} | {x['counts']} | {x['before_p50_ms']} ms | {x['now_p50_ms']} ms | {x['now_vs_before']} "
            f"| {x['same_answer']} |"
        )
    for drug, p in r.get("profile", {}).items():
        lines += [
            "",
            f"PROFILE {drug} page: before {p['before']['db_hits']:,} db hits, now {p['now']['db_hits']:,} "
            f"({p['now_vs_before']}).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=40, help="patients per write transaction")
    ap.add_argument("--instance", default="bench-actionable")
    ap.add_argument("--bolt-port", type=int, default=7760)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--skip-load", action="store_true", help="keep the instance's graph (an earlier run's)")
    ap.add_argument("--prepare-only", action="store_true", help="load and add patients, leave Neo4j running")
    ap.add_argument("--keep-running", action="store_true", help="leave Neo4j running at the end")
    args = ap.parse_args()

    from kg import neo4j_server

    settings = settings_for(args)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out_json = OUT_DIR / f"bench_actionable-{stamp}.json"
    results: dict[str, Any] = {
        "started": stamp,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "neo4j": {"bolt": settings.bolt_uri, "pagecache": settings.pagecache, "heap": settings.heap},
        "load_average_start": load_avg(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    keep = args.keep_running or args.prepare_only
    try:
        if not args.skip_load:
            neo4j_server.stop(settings)
            neo4j_server.wipe(settings)
        neo4j_server.start(settings)
        with Graph(settings) as graph:
            results["graph"] = prepare_graph(graph, args.data_dir or default_data_dir(), args.skip_load)
            print(f"graph ready: {results['graph']}", flush=True)
            results["write"] = grow(graph, args.patients, args.batch)
            print(f"patients: {results['write']}", flush=True)
            results["patients"] = graph.read("MATCH (p:Patient) RETURN count(p) AS n")[0]["n"]
            if not args.prepare_only:
                before = cohort_before()
                results["load_average_before_measuring"] = load_avg()
                results["cases"] = measure(graph, before, args.runs)
                results["profile"] = {drug: profile(settings, before, drug) for drug in PROFILED}
                print(f"PROFILE: {results['profile']}", flush=True)
        results["load_average_end"] = load_avg()
    finally:
        if not keep:
            neo4j_server.stop(settings)
        out_json.write_text(json.dumps(results, indent=2, default=str))
    md = report(results)
    (OUT_DIR / f"bench_actionable-{stamp}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()

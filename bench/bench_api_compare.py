"""Benchmark: this checkout's API against a baseline commit's, on one Neo4j, interleaved (issue 12).

    python bench/bench_api_compare.py [--baseline 09ed13a] [--baseline-python PATH] [--real-data DIR]
                                      [--requests 200 --warmup 20] [--clients 20 --load-seconds 15
                                      --load-rounds 2] [--port 8810]

bench/bench_api.py measures one server; on a machine whose load comes and goes (other processes,
a Neo4j loading beside it) two such runs minutes apart are not comparable. This runs both versions in
the same minutes against the same graph:

1. The graph as bench/bench_api.py prepares it (same instance, Bolt 7810, same patient ``pgxpanel``),
   loaded by *this* checkout's loaders (the baseline's API reads what it knows of it).
2. The baseline's tree from ``git archive <baseline>`` in a temporary folder; its server is its own
   ``bench/api_floor.py`` (its ``api`` and ``kg``), this checkout's server is ours; each on its own port,
   with the same token; ``--baseline-python`` runs the baseline under another interpreter (a virtualenv
   with the baseline's locked packages, when the change compared is in requirements.lock). Each version's
   driver figures come from a helper process running that version's ``direct_drug`` / ``direct_summary``
   (bench/bench_api.py) with its own ``kg``.
3. (a) One client, sequential: each round asks both versions the one-drug question, the summary and
   their floors, and calls both drivers, the version going first alternating round by round.
   (b) N concurrent clients: the one-drug question and the summary, baseline and ours alternating,
   ``--load-rounds`` times each, ``--load-seconds`` each; req/s and p50/p99 summed over the rounds.
4. Load average before and after each part (the figures are only as quiet as the machine).

Both servers read every answer from the graph (``KG_ANSWER_CACHE=0``, kg/answer_cache.py) unless
``KG_ANSWER_CACHE`` is set in the environment: the rounds ask the same patient again, which kept answers
would give from memory, and what a change to the read path does is the question here.

Results: bench/out/bench_api_compare-<timestamp>.json and .md (git-ignored), and stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from bench/: the project's packages

from bench import bench_api as b

#: A helper process per version: its own ``kg`` and bench_api, timing one direct call per input line.
DRIVER_HELPER = """
import sys, time
from bench import bench_api as b
from kg.config import Settings
from kg.db import Graph
with Graph(Settings.from_env()) as graph:
    print("ready", flush=True)
    for line in sys.stdin:
        fn = {"drug": b.direct_drug, "summary": b.direct_summary}[line.strip()]
        t0 = time.perf_counter()
        fn(graph)
        print(time.perf_counter() - t0, flush=True)
"""


class Version:
    """One version's tree, API server and driver helper."""

    def __init__(self, name: str, tree: Path, port: int, python: str = sys.executable) -> None:
        self.name, self.tree, self.port, self.python = name, tree, port, python
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.floor_args = ["--patient", b.PATIENT, "--disease", b.DISEASE]
        self.server: subprocess.Popen[bytes] | None = None
        self.driver: subprocess.Popen[str] | None = None

    def env(self, settings: Any) -> dict[str, str]:
        """Our environment with this version's tree first on the path (other entries kept: psutil may be there)."""
        kept = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != b.ROOT]
        path = os.pathsep.join([str(self.tree), *kept])
        # every answer read from the graph, unless ``KG_ANSWER_CACHE`` is set: what is compared is the read path
        cache = os.environ.get("KG_ANSWER_CACHE", "0")
        return dict(
            os.environ,
            **settings.connection_env(),
            PYTHONPATH=path,
            KG_RATE_LIMIT="1000000/minute",
            KG_ANSWER_CACHE=cache,
        )

    def start(self, settings: Any, log: Path) -> None:
        where = ["--host", "127.0.0.1", "--port", str(self.port)]
        with log.open("wb") as fh:
            self.server = subprocess.Popen(
                [self.python, str(self.tree / "bench" / "api_floor.py"), *self.floor_args, *where],
                cwd=self.tree,
                env=self.env(settings),
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        b.wait_for_health(self.server, self.port, log, seconds=180)
        self.driver = subprocess.Popen(
            [self.python, "-c", DRIVER_HELPER],
            cwd=self.tree,
            env=self.env(settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.driver.stdout is not None and self.driver.stdout.readline().strip() == "ready"

    def direct(self, what: str) -> float:
        assert self.driver is not None and self.driver.stdin is not None and self.driver.stdout is not None
        self.driver.stdin.write(what + "\n")
        self.driver.stdin.flush()
        return float(self.driver.stdout.readline())

    def stop(self) -> None:
        b.stop_server(self.server)
        if self.driver is not None and self.driver.poll() is None:
            assert self.driver.stdin is not None
            self.driver.stdin.close()
            self.driver.wait(20)


HTTP = ("drug", "drug_floor", "summary", "summary_floor")
DIRECT = ("drug_driver", "summary_driver")


def sequential(versions: list[Version], n: int, warmup: int) -> dict[str, Any]:
    times = {v.name: {k: [] for k in (*HTTP, *DIRECT)} for v in versions}
    with httpx.Client(timeout=60, headers=b.HEADERS) as client:
        for i in range(warmup + n):
            for v in versions if i % 2 == 0 else versions[::-1]:
                for name in HTTP:
                    t0 = time.perf_counter()
                    r = client.post(v.url, json={"query": b.QUERIES[name][0]})
                    elapsed = time.perf_counter() - t0
                    problem = b.problem_of(r, name)
                    if problem:
                        raise RuntimeError(f"{v.name} {name}: {problem}")
                    if i >= warmup:
                        times[v.name][name].append(elapsed)
                for name in DIRECT:
                    elapsed = v.direct(name.removesuffix("_driver"))
                    if i >= warmup:
                        times[v.name][name].append(elapsed)
    out: dict[str, Any] = {}
    for v in versions:
        p50 = {k: b.pct(t, 50) for k, t in times[v.name].items()}
        out[v.name] = {
            "p50_ms": p50,
            "p95_ms": {k: b.pct(t, 95) for k, t in times[v.name].items()},
            "summary_vs_floor": round(p50["summary"] / p50["summary_floor"], 2),
            "summary_vs_driver": round(p50["summary"] / p50["summary_driver"], 2),
            "drug_vs_floor": round(p50["drug"] / p50["drug_floor"], 2),
            "drug_vs_driver": round(p50["drug"] / p50["drug_driver"], 2),
        }
    return out


def load(versions: list[Version], args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {v.name: {} for v in versions}
    for name in ("drug", "summary"):
        runs: dict[str, list[dict[str, Any]]] = {v.name: [] for v in versions}
        for r in range(args.load_rounds):
            for v in versions if r % 2 == 0 else versions[::-1]:
                runs[v.name].append(
                    asyncio.run(b._load(v.url, name, args.clients, args.load_requests, args.load_seconds))
                )
        for v in versions:
            done = runs[v.name]
            requests, seconds = sum(x["requests"] for x in done), sum(x["seconds"] for x in done)
            out[v.name][name] = {
                "requests": requests,
                "rps": round(requests / seconds, 1),
                "rps_each": [x["rps"] for x in done],
                "p50_ms_each": [x["p50_ms"] for x in done],
                "p99_ms_each": [x["p99_ms"] for x in done],
                "errors": sum(x["errors"] for x in done),
                "first_errors": [e for x in done for e in x["first_errors"]][:3],
            }
    return out


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default="09ed13a", help="the git revision to compare with")
    ap.add_argument(
        "--baseline-python",
        default=sys.executable,
        help="the baseline's interpreter (a virtualenv with the baseline's own requirements.lock); default: ours",
    )
    ap.add_argument("--real-data", type=Path, help="also load every release of this data dir (kg load all)")
    ap.add_argument("--skip-load", action="store_true", help="load nothing: the instance holds the releases")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--load-requests", type=int, default=100000)
    ap.add_argument("--load-seconds", type=float, default=15.0)
    ap.add_argument("--load-rounds", type=int, default=2)
    ap.add_argument("--port", type=int, default=8810, help="ours; the baseline's is the next one")
    ap.add_argument("--instance", default="benchapi")
    ap.add_argument("--bolt-port", type=int, default=7810)
    args = ap.parse_args()

    from kg import neo4j_server
    from kg.db import Graph

    settings = b.bench_settings(args.instance, args.bolt_port)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    b.OUT_DIR.mkdir(parents=True, exist_ok=True)
    revision = subprocess.run(
        ["git", "-C", str(b.ROOT), "rev-parse", "--short", args.baseline], capture_output=True, text=True, check=True
    ).stdout.strip()
    ours = subprocess.run(
        ["git", "-C", str(b.ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "-C", str(b.ROOT), "status", "--porcelain", "--", "api", "kg", "bench"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    results: dict[str, Any] = {
        "started": stamp,
        "baseline": revision,
        "ours": ours + ("+changes" if dirty else ""),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "load_average": {"start": loadavg()},
    }
    started_neo4j = False
    versions: list[Version] = []
    with tempfile.TemporaryDirectory(prefix="kg-baseline-") as tmp:
        baseline_tree = Path(tmp)
        archive = subprocess.run(["git", "-C", str(b.ROOT), "archive", revision], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(baseline_tree)], input=archive.stdout, check=True)
        versions = [
            Version("baseline", baseline_tree, args.port + 1, args.baseline_python),
            Version("ours", b.ROOT, args.port),
        ]
        try:
            if settings.is_local:
                started_neo4j = not neo4j_server.status(settings).running
                neo4j_server.start(settings)
            with Graph(settings) as graph:
                results["graph"] = b.prepare_graph(graph, args.real_data, args.skip_load)
            b.make_token()
            for v in versions:
                v.start(settings, b.OUT_DIR / f"bench_api_compare-{stamp}.{v.name}.log")
            print(f"both APIs up; load average {loadavg()}", flush=True)
            results["load_average"]["before_sequential"] = loadavg()
            results["sequential"] = sequential(versions, args.requests, args.warmup)
            results["load_average"]["after_sequential"] = loadavg()
            print(json.dumps(results["sequential"], indent=1), flush=True)
            results["load"] = load(versions, args)
            results["load_average"]["after_load"] = loadavg()
        finally:
            for v in versions:
                v.stop()
            if started_neo4j:
                neo4j_server.stop(settings)
    (b.OUT_DIR / f"bench_api_compare-{stamp}.json").write_text(json.dumps(results, indent=2))
    md = report(results)
    (b.OUT_DIR / f"bench_api_compare-{stamp}.md").write_text(md)
    print(md)


def report(r: dict[str, Any]) -> str:
    seq, load_ = r["sequential"], r["load"]
    base, ours = seq["baseline"], seq["ours"]
    la = r["load_average"]
    lines = [
        f"# bench_api_compare {r['started']}: {r['ours']} against {r['baseline']}",
        "",
        f"Load average (1/5/15 min): start {la['start']}, before (a) {la['before_sequential']}, after (a) "
        f"{la['after_sequential']}, after (b) {la['after_load']}; {r['cpus']} CPUs.",
        "",
        "| (a) one client, p50 (p95) | baseline | ours | ours / baseline |",
        "|---|---|---|---|",
    ]
    for name in (*HTTP, *DIRECT):
        x, y = base["p50_ms"][name], ours["p50_ms"][name]
        lines.append(
            f"| {name} | {x} ms ({base['p95_ms'][name]}) | {y} ms ({ours['p95_ms'][name]}) | {round(y / x, 2)} |"
        )
    for ratio in ("summary_vs_floor", "summary_vs_driver", "drug_vs_floor", "drug_vs_driver"):
        lines.append(f"| {ratio} | {base[ratio]} | {ours[ratio]} | |")
    lines += [
        "",
        f"| (b) {r['args']['clients']} clients | baseline req/s (each) | ours req/s (each) | ours / baseline "
        "| p50 each base / ours | p99 each base / ours | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("drug", "summary"):
        x, y = load_["baseline"][name], load_["ours"][name]
        lines.append(
            f"| {name} | {x['rps']} ({x['rps_each']}) | {y['rps']} ({y['rps_each']}) | {round(y['rps'] / x['rps'], 2)} "
            f"| {x['p50_ms_each']} / {y['p50_ms_each']} | {x['p99_ms_each']} / {y['p99_ms_each']} "
            f"| {x['errors']} / {y['errors']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

"""Benchmark: the patient summary query (PGx + therapies + risks) through the API on loopback.

    python bench/bench_api.py [--real-data DIR] [--requests 200 --warmup 20]
                              [--clients 20 --load-requests 2000 --load-seconds 30] [--port 8810]

What one run does:

1. Uses its own local Neo4j (instance ``benchapi`` under KG_CACHE_DIR or /tmp/kgcache-benchapi, Bolt
   7810, HTTP 7610; started if not running, stopped at the end if this run started it), or the server
   of ``NEO4J_URI`` when set. Applies the schema, loads the seeds (``load_seeds``) and, with
   ``--real-data DIR``, every release of DIR (``kg load all``), then matches the demo patient
   (seeds/patients/demo.vcf as patient ``demo``, disease DOID:1909).
2. Starts the API in a subprocess, ``python -m kg.cli serve --host 127.0.0.1 --port 8810`` (uvicorn,
   as ``kg serve`` runs it) with ``NEO4J_URI`` pointing at that Neo4j, and waits for /health.
3. (a) One client, sequential: the summary query over HTTP (httpx, keep-alive) against the same
   kg.queries functions called directly with a kg.db.Graph in this process (find_patient,
   pgx.pharmacogenomics, therapy.targeted_therapies, risk.risks: the Cypher the request runs, through
   the driver), interleaved one for one after a warm-up, so machine noise hits both alike. p50/p95 of
   each and the ratio API p50 / driver p50 (target <= 1.5).
4. (b) N concurrent clients (asyncio + httpx.AsyncClient, one connection each), bounded by a request
   count and a duration, for the framework's floor ``{ __typename }`` and the summary query: p50, p99,
   requests/s, errors (non-200 or a GraphQL ``errors`` entry), and the server's CPU seconds per request.
   Ratio summary rps / floor rps (target >= 0.25, with no errors). The summary load runs twice.
5. (c) The server's resident memory (psutil on the uvicorn process) after start-up, after (a), and
   after each load run.

Results: bench/out/bench_api-<timestamp>.json and .md (git-ignored), and stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil

if TYPE_CHECKING:
    from kg.config import Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT_DIR = HERE / "out"
PATIENT = "demo"
DISEASE = "DOID:1909"

SUMMARY = """query Summary {
  patient(id: "demo") {
    pharmacogenomics { drug { id } state recommendations { id text } }
    targetedTherapies(disease: "DOID:1909") { evidenceId therapies level path { relationship } sources { release } }
    risks { gene status }
  }
}"""
FLOOR = "{ __typename }"


# --- set-up ---------------------------------------------------------------------------------------


def prepare_graph(graph: Any, real_data: Path | None) -> dict[str, Any]:
    from kg.loaders import registry
    from kg.loaders.seeds import default_seed_dir, load_seeds
    from kg.matcher.match import match_patient
    from kg.schema import apply_schema

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    apply_schema(graph)
    print(load_seeds(graph, progress=False).summary(), flush=True)
    if real_data:
        for spec in registry.SOURCES:
            print(
                registry.loader_for(spec.name).load(graph, real_data / spec.default_path, progress=False).summary(),
                flush=True,
            )
    out["load_seconds"] = round(time.perf_counter() - t0, 1)
    report = match_patient(graph, default_seed_dir() / "patients" / "demo.vcf", patient_id=PATIENT, disease=DISEASE)
    out["demo"] = {"variant_links": report.variants_matched, "genes_called": report.genes_called}
    out["releases"] = [
        r["key"] for r in graph.read("MATCH (s:Source {status: 'active'}) RETURN s.key AS key ORDER BY key")
    ]
    return out


HEADERS: dict[str, str] = {}  # the bench's bearer token (main makes it; every request carries it)


def make_token() -> None:
    """A clinician token for every patient, from a fresh KG_AUTH_DIR the server inherits (README "Access")."""
    import tempfile

    from kg.access.roles import Role
    from kg.access.settings import AuthSettings
    from kg.access.tokens import create_token

    os.environ["KG_AUTH_DIR"] = tempfile.mkdtemp(prefix="kg-bench-auth-")
    token = create_token(AuthSettings.from_env(), Role.CLINICIAN, name="bench", all_patients=True).token
    HEADERS["Authorization"] = f"Bearer {token}"


def start_server(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, **settings.connection_env(), KG_RATE_LIMIT="1000000/minute")  # throughput, not throttling
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kg.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API did not answer /health within 60 s; see {log}")


def stop_server(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# --- measuring ------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[k] * 1000, 2)


def check(body: dict[str, Any]) -> str | None:
    """None if the summary answer is complete, else what is wrong."""
    if body.get("errors"):
        return json.dumps(body["errors"])[:300]
    p = (body.get("data") or {}).get("patient")
    if not p or not p.get("pharmacogenomics") or not p.get("targetedTherapies") or not p.get("risks"):
        return "incomplete answer: " + json.dumps(body)[:300]
    return None


def direct_summary(graph: Any) -> dict[str, int]:
    from kg.queries import pgx, risk, therapy
    from kg.queries.patient_view import find_patient

    assert find_patient(graph, PATIENT) is not None
    return {
        "pharmacogenomics": len(pgx.pharmacogenomics(graph, PATIENT)),
        "targetedTherapies": len(therapy.targeted_therapies(graph, PATIENT, DISEASE)),
        "risks": len(risk.risks(graph, PATIENT)),
    }


def sequential(url: str, graph: Any, n: int, warmup: int) -> dict[str, Any]:
    """(a): one HTTP request, one direct call, alternately."""
    api: list[float] = []
    direct: list[float] = []
    sizes: dict[str, Any] = {}
    with httpx.Client(timeout=30, headers=HEADERS) as client:
        for i in range(warmup + n):
            t0 = time.perf_counter()
            r = client.post(url, json={"query": SUMMARY})
            t_api = time.perf_counter() - t0
            body = r.json()
            problem = check(body) if r.status_code == 200 else f"HTTP {r.status_code}"
            if problem:
                raise RuntimeError(f"summary query failed: {problem}")
            t0 = time.perf_counter()
            counts = direct_summary(graph)
            t_direct = time.perf_counter() - t0
            if i >= warmup:
                api.append(t_api)
                direct.append(t_direct)
            if i == 0:
                p = body["data"]["patient"]
                sizes = {"api": {k: len(v) for k, v in p.items()}, "direct": counts, "response_bytes": len(r.content)}
    p50_api, p50_direct = pct(api, 50), pct(direct, 50)
    return {
        "requests": n,
        "warmup": warmup,
        "answer_sizes": sizes,
        "api_ms": {"p50": p50_api, "p95": pct(api, 95), "mean": round(statistics.mean(api) * 1000, 2)},
        "driver_ms": {"p50": p50_direct, "p95": pct(direct, 95), "mean": round(statistics.mean(direct) * 1000, 2)},
        "ratio_p50": round(p50_api / p50_direct, 2),
    }


async def _load(
    url: str, query: str, clients: int, max_requests: int, max_seconds: float, is_summary: bool
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    issued = 0
    deadline = time.perf_counter() + max_seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                r = await client.post(url, json={"query": query})
                elapsed = time.perf_counter() - t0
                problem = None
                if r.status_code != 200:
                    problem = f"HTTP {r.status_code}"
                elif is_summary:
                    problem = check(r.json())
                elif r.json().get("errors"):
                    problem = json.dumps(r.json()["errors"])[:300]
            except httpx.HTTPError as err:
                elapsed, problem = time.perf_counter() - t0, f"{type(err).__name__}: {err}"
            latencies.append(elapsed)
            if problem:
                errors.append(problem)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits, headers=HEADERS) as client:
        # open the connections first, so the timed run does not pay for TCP set-up
        await asyncio.gather(*(client.get(url.replace("/graphql", "/health")) for _ in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        wall = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": round(wall, 2),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "max_ms": pct(latencies, 100),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def load_run(
    url: str, query: str, args: argparse.Namespace, server: psutil.Process, is_summary: bool
) -> dict[str, Any]:
    me = psutil.Process()
    s0, c0 = server.cpu_times(), me.cpu_times()
    out = asyncio.run(_load(url, query, args.clients, args.load_requests, args.load_seconds, is_summary))
    s1, c1 = server.cpu_times(), me.cpu_times()
    server_cpu = (s1.user + s1.system) - (s0.user + s0.system)
    client_cpu = (c1.user + c1.system) - (c0.user + c0.system)
    out["server_cpu_ms_per_request"] = round(server_cpu / max(out["requests"], 1) * 1000, 2)
    out["server_cpu_share"] = round(server_cpu / out["seconds"], 2)  # cores the server kept busy
    out["client_cpu_share"] = round(client_cpu / out["seconds"], 2)
    out["rss_mb_after"] = rss_mb(server)
    return out


def rss_mb(proc: psutil.Process) -> float:
    return round(proc.memory_info().rss / 2**20, 1)


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real-data", type=Path, help="also load every release of this data dir (kg load all)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--load-requests", type=int, default=2000)
    ap.add_argument("--load-seconds", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=8810)
    args = ap.parse_args()

    from kg import neo4j_server
    from kg.config import Settings
    from kg.db import Graph

    if os.environ.get("NEO4J_URI"):
        settings = Settings.from_env()
    else:
        cache = Path(os.environ.get("KG_CACHE_DIR") or "/tmp/kgcache-benchapi")
        settings = Settings.from_env(instance="benchapi", bolt_port=7810, cache_dir=cache)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log = OUT_DIR / f"bench_api-{stamp}.server.log"
    results: dict[str, Any] = {
        "started": stamp,
        "neo4j": settings.bolt_uri,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    started_neo4j = False
    server: subprocess.Popen[bytes] | None = None
    url = f"http://127.0.0.1:{args.port}/graphql"
    try:
        if settings.is_local:
            t0 = time.perf_counter()
            started_neo4j = not neo4j_server.status(settings).running
            neo4j_server.start(settings)
            print(f"Neo4j at {settings.bolt_uri} ({time.perf_counter() - t0:.1f} s)", flush=True)
        with Graph(settings) as graph:
            results["graph"] = prepare_graph(graph, args.real_data)
            print(f"graph ready: {results['graph']['demo']}", flush=True)
            make_token()
            server = start_server(settings, args.port, log)
            proc = psutil.Process(server.pid)
            results["rss_mb"] = {"after_start": rss_mb(proc)}
            print(f"API up (pid {server.pid}, RSS {results['rss_mb']['after_start']} MB)", flush=True)

            results["sequential"] = seq = sequential(url, graph, args.requests, args.warmup)
            results["rss_mb"]["after_sequential"] = rss_mb(proc)
            print(
                f"(a) API p50 {seq['api_ms']['p50']} ms, driver p50 {seq['driver_ms']['p50']} ms, "
                f"ratio {seq['ratio_p50']}",
                flush=True,
            )

            results["load"] = {}
            for name, query, is_summary in (
                ("floor", FLOOR, False),
                ("summary", SUMMARY, True),
                ("summary_again", SUMMARY, True),
            ):
                run = load_run(url, query, args, proc, is_summary)
                results["load"][name] = run
                results["rss_mb"][f"after_{name}"] = run["rss_mb_after"]
                print(
                    f"(b) {name}: {run['rps']} req/s, p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
                    f"errors {run['errors']}, RSS {run['rss_mb_after']} MB",
                    flush=True,
                )
            load = results["load"]
            results["ratio_rps"] = round(load["summary"]["rps"] / load["floor"]["rps"], 3)
            results["ratio_rps_again"] = round(load["summary_again"]["rps"] / load["floor"]["rps"], 3)
            results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
            results["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    finally:
        stop_server(server)
        if started_neo4j:
            neo4j_server.stop(settings)
    (OUT_DIR / f"bench_api-{stamp}.json").write_text(json.dumps(results, indent=2))
    md = report(results)
    (OUT_DIR / f"bench_api-{stamp}.md").write_text(md)
    print(md)


def report(r: dict[str, Any]) -> str:
    seq, load, rss = r["sequential"], r["load"], r["rss_mb"]
    lines = [
        f"# bench_api {r['started']}",
        "",
        f"Neo4j {r['neo4j']}; releases: {', '.join(r['graph']['releases'])}; demo: {r['graph']['demo']}; "
        f"answer sizes {seq['answer_sizes']}; load average {r['load_average_start']} -> {r['load_average_end']} "
        f"on {r['cpus']} CPUs.",
        "",
        "| (a) one client, sequential | p50 | p95 | mean |",
        "|---|---|---|---|",
        f"| API (HTTP + GraphQL) | {seq['api_ms']['p50']} ms | {seq['api_ms']['p95']} ms | {seq['api_ms']['mean']} ms |",
        f"| same kg.queries through the driver | {seq['driver_ms']['p50']} ms | {seq['driver_ms']['p95']} ms "
        f"| {seq['driver_ms']['mean']} ms |",
        f"| ratio API / driver (p50; target <= 1.5) | **{seq['ratio_p50']}** | | |",
        "",
        f"| (b) {r['args']['clients']} clients | requests | req/s | p50 | p99 | errors | server CPU/request "
        "| server cores busy | client cores busy | RSS after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("floor", "summary", "summary_again"):
        x = load[name]
        label = {
            "floor": "`{ __typename }` (floor)",
            "summary": "summary query",
            "summary_again": "summary query, again",
        }[name]
        lines.append(
            f"| {label} | {x['requests']} | {x['rps']} | {x['p50_ms']} ms | {x['p99_ms']} ms | {x['errors']} "
            f"| {x['server_cpu_ms_per_request']} ms | {x['server_cpu_share']} | {x['client_cpu_share']} "
            f"| {x['rss_mb_after']} MB |"
        )
    lines += [
        "",
        f"Ratio summary req/s / floor req/s (target >= 0.25): **{r['ratio_rps']}** (second run {r['ratio_rps_again']}).",
        "",
        "(c) server RSS: " + ", ".join(f"{k.replace('_', ' ')} {v} MB" for k, v in rss.items()) + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

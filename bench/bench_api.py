"""Benchmark: a PGx-panel patient's answers through the API on loopback, against a payload floor (issue 12).

    python bench/bench_api.py [--real-data DIR] [--requests 200 --warmup 20]
                              [--clients 20 --load-requests 2000 --load-seconds 30] [--port 8810]
                              [--instance benchapi --bolt-port 7810]

What one run does:

1. Uses its own local Neo4j (instance ``benchapi`` under KG_CACHE_DIR or /tmp/kgcache-benchapi, Bolt
   7810; ``--instance/--bolt-port`` choose another; started if not running, stopped at the end if this
   run started it), or the server of ``NEO4J_URI`` when set. Applies the schema, loads the seeds and,
   with ``--real-data DIR``, every release of DIR (``kg load all``; a release already loaded unchanged is
   skipped), then matches the PGx-panel patient ``pgxpanel`` (disease DOID:1909): PharmCAT's example 2
   VCF (every PharmCAT position; CYP2C19 *2/*2, CYP2B6 *1/*6; tests/data/pharmcat_examples) with the
   demo patient's six non-PGx records (MUTYH, MLH1, EGFR, BRAF, BRCA2 x2: seeds/patients/demo.vcf) merged
   in, and example 1's outside calls (CYP2D6 *1/*3, HLA-B *15:02/*57:01, MT-RNR1), so every PGx gene has
   a result, as in PharmCAT's examples.
2. Starts the API in a subprocess, ``python bench/api_floor.py`` (``api.app.create_app`` under uvicorn,
   as ``kg serve`` runs it, plus the benchmark-only root field ``payloadFloor``: the same answer types
   for the same patient from answers kept in memory), and waits for /health; and a second one on
   ``--port`` + 1 with ``KG_ANSWER_CACHE=0``, whose every answer is read from the graph (the first keeps
   answers while nothing is committed, kg/answer_cache.py: asked again, the same patient's answers come
   from memory after one empty read). Both are measured; their answers must be the same bytes.
3. (a) One client, sequential, interleaved one for one after a warm-up (so machine noise hits all alike):
   the one-drug question ``pharmacogenomics(drug: "clopidogrel")`` (target p50 <= 10 ms) and its floor;
   the same question on the server that reads every answer; the full summary (both servers) (PGx + targeted therapies + risks, every field a report shows, paths and sources
   included), its floor, and the same kg.queries functions called through the driver in this process
   (find_patient, pgx.pharmacogenomics, therapy.targeted_therapies, risk.risks). Targets: summary p50
   <= 1.5x floor p50 and <= 1.2x driver p50.
4. (b) N concurrent clients (asyncio + httpx.AsyncClient, one connection each), bounded by a request
   count and a duration: ``{ __typename }``, the summary floor, the summary (twice, and once on the
   server that reads every answer) and the one-drug question (on both). p50, p99, requests/s, errors (non-200, a GraphQL ``errors`` entry, an incomplete answer),
   the server's CPU per request. Targets: summary req/s >= 0.5 of the floor's, p99 <= 3x p50, no errors;
   the ratio to ``{ __typename }`` is reported too.
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
PATIENT = "pgxpanel"
DISEASE = "DOID:1909"
DRUG = "clopidogrel"
EXAMPLES = ROOT / "tests" / "data" / "pharmcat_examples"
PANEL_VCF = EXAMPLES / "pharmcat.example2.vcf"
OUTSIDE_CALLS = EXAMPLES / "pharmcat.example.outsideCall.tsv"

# What a clinical report shows of each answer: the conclusion, its evidence path (the step kinds and
# where they lead) and the releases it rests on. About 150 kB of JSON for this patient, as the issue's
# measurement (about 140 kB); every other field stays available to a client that asks for it.
PATH = "path { relationship end { id label } }"
SOURCES = "sources { release fact }"
PGX_FIELDS = f"""drug {{ id name }} guideline guidelineName state reason genes genesWithoutResult releases
      diplotypes {{ gene diplotype phenotype }}
      recommendations {{ id lookupKey text strength population {SOURCES} }}"""
THERAPY_FIELDS = f"""evidenceId type significance direction level therapies disease {{ id name }} molecularProfile
      releases {PATH} {SOURCES}"""
RISK_FIELDS = f"""gene variant rsid evidenceId classification reviewStatus stars conditions zygosity status reason
      releases {PATH} {SOURCES}"""


def summary_query(root: str) -> str:
    """The full summary under ``root``: ``patient`` (the real answer) or ``payloadFloor`` (bench/api_floor.py)."""
    return f"""query Summary {{
  {root}(id: "{PATIENT}") {{
    pharmacogenomics {{ {PGX_FIELDS} }}
    targetedTherapies(disease: "{DISEASE}") {{ {THERAPY_FIELDS} }}
    risks {{ {RISK_FIELDS} }}
  }}
}}"""


def drug_query(root: str) -> str:
    """The prescribing-time question: one drug's PGx answer for the patient."""
    return f"""query Drug {{
  {root}(id: "{PATIENT}") {{ pharmacogenomics(drug: "{DRUG}") {{ {PGX_FIELDS} }} }}
}}"""


SUMMARY, SUMMARY_FLOOR = summary_query("patient"), summary_query("payloadFloor")
DRUG_Q, DRUG_FLOOR = drug_query("patient"), drug_query("payloadFloor")
TYPENAME = "{ __typename }"


# --- set-up ---------------------------------------------------------------------------------------

_CHROMS = {f"chr{c}": i for i, c in enumerate([*range(1, 23), "X", "Y", "M"])}


def panel_vcf(out: Path) -> Path:
    """PharmCAT's example 2 with the demo patient's non-PGx records merged in (module docstring), sorted."""
    from kg.loaders.seeds import default_seed_dir

    header, records, seen = [], [], set()
    for line in PANEL_VCF.read_text().splitlines():
        if line.startswith("#"):
            header.append(line)
        elif line:
            records.append(line.split("\t"))
            seen.add(tuple(records[-1][:2]))
    for line in (default_seed_dir() / "patients" / "demo.vcf").read_text().splitlines():
        fields = line.split("\t")
        if line.startswith(("##INFO", "##contig")) and line.split(",")[0] not in {h.split(",")[0] for h in header}:
            header.insert(len(header) - 1, line)  # before #CHROM
        elif not line.startswith("#") and tuple(fields[:2]) not in seen:
            records.append(fields)
    records.sort(key=lambda f: (_CHROMS.get(f[0], 99), int(f[1])))
    out.write_text("\n".join(header + ["\t".join(f) for f in records]) + "\n")
    return out


def prepare_graph(graph: Any, real_data: Path | None, skip_load: bool = False) -> dict[str, Any]:
    from kg.loaders import registry
    from kg.loaders.seeds import load_seeds
    from kg.matcher.match import match_patient
    from kg.schema import apply_schema

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    apply_schema(graph)
    if not skip_load:
        print(load_seeds(graph, progress=False).summary(), flush=True)
    if real_data and not skip_load:
        for spec in registry.SOURCES:
            print(
                registry.loader_for(spec.name).load(graph, real_data / spec.default_path, progress=False).summary(),
                flush=True,
            )
    out["load_seconds"] = round(time.perf_counter() - t0, 1)
    vcf = panel_vcf(OUT_DIR / "pgxpanel.vcf")
    report = match_patient(graph, vcf, patient_id=PATIENT, disease=DISEASE, outside_calls=OUTSIDE_CALLS)
    out["patient"] = {"id": PATIENT, "variant_links": report.variants_matched, "genes_called": report.genes_called}
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


def bench_settings(instance: str, bolt_port: int) -> Settings:
    """The server of ``NEO4J_URI`` when set, else the local instance under KG_CACHE_DIR (or /tmp/kgcache-<instance>)."""
    from kg.config import Settings

    if os.environ.get("NEO4J_URI"):
        return Settings.from_env()
    cache = Path(os.environ.get("KG_CACHE_DIR") or f"/tmp/kgcache-{instance}")
    return Settings.from_env(instance=instance, bolt_port=bolt_port, cache_dir=cache)


def start_server(settings: Settings, port: int, log: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, **settings.connection_env(), KG_RATE_LIMIT="1000000/minute", **extra_env)  # not throttled
    where = ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "api_floor.py"), "--patient", PATIENT, "--disease", DISEASE, *where],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    return wait_for_health(proc, port, log, seconds=180)  # the floor's answers are computed first


def wait_for_health(proc: subprocess.Popen[bytes], port: int, log: Path, seconds: float) -> subprocess.Popen[bytes]:
    """``proc`` once its /health answers 200; an error naming the log when it exits or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API did not answer /health within {seconds:.0f} s; see {log}")


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


def check(body: dict[str, Any], root: str, parts: tuple[str, ...]) -> str | None:
    """None if the answer under ``root`` is complete (every part non-empty), else what is wrong."""
    if body.get("errors"):
        return json.dumps(body["errors"])[:300]
    p = (body.get("data") or {}).get(root)
    if not p or not all(p.get(part) for part in parts):
        return "incomplete answer: " + json.dumps(body)[:300]
    return None


SUMMARY_PARTS = ("pharmacogenomics", "targetedTherapies", "risks")
DRUG_PARTS = ("pharmacogenomics",)
# name -> (query, root field, parts that must be non-empty)
QUERIES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "typename": (TYPENAME, None, ()),
    "drug": (DRUG_Q, "patient", DRUG_PARTS),
    "drug_floor": (DRUG_FLOOR, "payloadFloor", DRUG_PARTS),
    "summary": (SUMMARY, "patient", SUMMARY_PARTS),
    "summary_floor": (SUMMARY_FLOOR, "payloadFloor", SUMMARY_PARTS),
}
#: a name ending in FRESH asks the first server right after the bench commits a write of its own (MARK)
FRESH = "_fresh"
MARK = "MERGE (m:BenchApiMark {id: $id}) SET m.n = coalesce(m.n, 0) + 1"
MARK_ID = "bench_api"
WARM = "summary_warm"  # untimed
#: a name ending in READ asks the second server, whose answers are all read from the graph (KG_ANSWER_CACHE=0)
READ = "_read"


def base_name(name: str) -> str:
    return name.removesuffix(READ).removesuffix(FRESH).removesuffix("_again").removesuffix("_warm")


def problem_of(r: httpx.Response, name: str) -> str | None:
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text[:200]}"
    _, root, parts = QUERIES[base_name(name)]
    body = r.json()
    if root is None:
        return json.dumps(body["errors"])[:300] if body.get("errors") else None
    return check(body, root, parts)


def direct_summary(graph: Any) -> dict[str, int]:
    """The summary's kg.queries calls through the driver, one after another."""
    from kg.queries import pgx, risk, therapy
    from kg.queries.patient_view import find_patient

    assert find_patient(graph, PATIENT) is not None
    return {
        "pharmacogenomics": len(pgx.pharmacogenomics(graph, PATIENT)),
        "targetedTherapies": len(therapy.targeted_therapies(graph, PATIENT, DISEASE)),
        "risks": len(risk.risks(graph, PATIENT)),
    }


def direct_drug(graph: Any) -> dict[str, int]:
    from kg.queries import pgx
    from kg.queries.patient_view import find_patient

    assert find_patient(graph, PATIENT) is not None
    return {"pharmacogenomics": len(pgx.pharmacogenomics(graph, PATIENT, DRUG))}


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 50), "p95": pct(values, 95), "mean": round(statistics.mean(values) * 1000, 2)}


def sequential(urls: dict[str, str], graph: Any, n: int, warmup: int) -> dict[str, Any]:
    """(a): each HTTP query and each direct call once per round, round after round. ``urls``: the server
    with the answer cache (``kept``) and the one without (``read``). A round starts with the two questions
    asked right after a commit of the bench's own (``_fresh``: the kept answers' miss), then asks the
    summary once untimed (``WARM``) so that every kept answer is of the state the rest of the round finds."""
    http = (
        "summary_fresh",
        "drug_fresh",
        WARM,
        "drug",
        "drug_floor",
        "summary",
        "summary_floor",
        "typename",
        "drug_read",
        "summary_read",
    )
    direct = {"drug_driver": direct_drug, "summary_driver": direct_summary}
    times: dict[str, list[float]] = {k: [] for k in (*http, *direct) if k != WARM}
    sizes: dict[str, Any] = {}
    first: dict[str, bytes] = {}
    with httpx.Client(timeout=60, headers=HEADERS) as client:
        for i in range(warmup + n):
            for name in http:
                url = urls["read" if name.endswith(READ) else "kept"]
                if name.endswith(FRESH):  # something committed first: the kept answers are retired (a miss)
                    graph.write(MARK, id=MARK_ID)
                t0 = time.perf_counter()
                r = client.post(url, json={"query": QUERIES[base_name(name)][0]})
                elapsed = time.perf_counter() - t0
                problem = problem_of(r, name)
                if problem:
                    raise RuntimeError(f"{name} query failed: {problem}")
                if name == WARM:
                    continue
                if i >= warmup:
                    times[name].append(elapsed)
                if i == 0 and QUERIES[base_name(name)][1]:
                    body = r.json()["data"][QUERIES[base_name(name)][1]]
                    sizes[name] = {"answers": {k: len(v) for k, v in body.items()}, "bytes": len(r.content)}
                    first[name] = r.content
            for name, fn in direct.items():
                t0 = time.perf_counter()
                counts = fn(graph)
                elapsed = time.perf_counter() - t0
                if i >= warmup:
                    times[name].append(elapsed)
                if i == 0:
                    sizes[name] = {"answers": counts}
    for name in ("drug", "summary"):  # kept answers are the answers read: the same bytes
        if not first[name] == first[name + READ] == first[name + FRESH]:
            raise RuntimeError(f"{name}: the kept answer differs from the answer read from the graph")
    out: dict[str, Any] = {"requests": n, "warmup": warmup, "sizes": sizes}
    out.update({f"{name}_ms": _ms(values) for name, values in times.items()})
    p50 = {name: out[f"{name}_ms"]["p50"] for name in times}
    out["ratios"] = {
        "summary_vs_floor": round(p50["summary"] / p50["summary_floor"], 2),
        "summary_vs_driver": round(p50["summary"] / p50["summary_driver"], 2),
        "drug_vs_floor": round(p50["drug"] / p50["drug_floor"], 2),
        "drug_vs_driver": round(p50["drug"] / p50["drug_driver"], 2),
        "summary_read_vs_floor": round(p50["summary_read"] / p50["summary_floor"], 2),
        "summary_fresh_vs_read": round(p50["summary_fresh"] / p50["summary_read"], 2),
        "drug_fresh_vs_read": round(p50["drug_fresh"] / p50["drug_read"], 2),
        "summary_read_vs_driver": round(p50["summary_read"] / p50["summary_driver"], 2),
        "drug_read_vs_driver": round(p50["drug_read"] / p50["drug_driver"], 2),
    }
    return out


async def _load(url: str, name: str, clients: int, max_requests: int, max_seconds: float) -> dict[str, Any]:
    query = QUERIES[base_name(name)][0]
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
                problem = problem_of(r, name)
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


def load_run(url: str, name: str, args: argparse.Namespace, server: psutil.Process) -> dict[str, Any]:
    me = psutil.Process()
    s0, c0 = server.cpu_times(), me.cpu_times()
    out = asyncio.run(_load(url, name, args.clients, args.load_requests, args.load_seconds))
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


LOAD_RUNS = ("typename", "summary_floor", "summary", "summary_read", "summary_again", "drug", "drug_read")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real-data", type=Path, help="also load every release of this data dir (kg load all)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--load-requests", type=int, default=2000)
    ap.add_argument("--load-seconds", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=8810)
    ap.add_argument("--instance", default="benchapi", help="the local Neo4j instance (without NEO4J_URI)")
    ap.add_argument("--bolt-port", type=int, default=7810)
    ap.add_argument(
        "--skip-load", action="store_true", help="load nothing: the instance holds the releases of an earlier run"
    )
    args = ap.parse_args()

    from kg import neo4j_server
    from kg.db import Graph

    settings = bench_settings(args.instance, args.bolt_port)
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
    reader: subprocess.Popen[bytes] | None = None  # the same server without the answer cache
    urls = {"kept": f"http://127.0.0.1:{args.port}/graphql", "read": f"http://127.0.0.1:{args.port + 1}/graphql"}
    try:
        if settings.is_local:
            t0 = time.perf_counter()
            started_neo4j = not neo4j_server.status(settings).running
            neo4j_server.start(settings)
            print(f"Neo4j at {settings.bolt_uri} ({time.perf_counter() - t0:.1f} s)", flush=True)
        with Graph(settings) as graph:
            results["graph"] = prepare_graph(graph, args.real_data, args.skip_load)
            print(f"graph ready: {results['graph']['patient']}", flush=True)
            make_token()
            server = start_server(settings, args.port, log)
            reader = start_server(settings, args.port + 1, log.with_suffix(".read.log"), KG_ANSWER_CACHE="0")
            proc = psutil.Process(server.pid)
            procs = {"kept": proc, "read": psutil.Process(reader.pid)}
            results["rss_mb"] = {"after_start": rss_mb(proc)}
            print(f"API up (pid {server.pid}, RSS {results['rss_mb']['after_start']} MB)", flush=True)

            results["sequential"] = seq = sequential(urls, graph, args.requests, args.warmup)
            results["rss_mb"]["after_sequential"] = rss_mb(proc)
            print(
                "(a) p50 ms: "
                + ", ".join(f"{k[:-3]} {v['p50']}" for k, v in seq.items() if k.endswith("_ms"))
                + f"; ratios {seq['ratios']}",
                flush=True,
            )

            results["load"] = {}
            for name in LOAD_RUNS:
                which = "read" if name.endswith(READ) else "kept"
                run = load_run(urls[which], name.removesuffix("_again"), args, procs[which])
                results["load"][name] = run
                results["rss_mb"][f"after_{name}"] = run["rss_mb_after"]
                print(
                    f"(b) {name}: {run['rps']} req/s, p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
                    f"errors {run['errors']}, RSS {run['rss_mb_after']} MB",
                    flush=True,
                )
            load = results["load"]
            results["ratios"] = {
                "summary_rps_vs_floor": round(load["summary"]["rps"] / load["summary_floor"]["rps"], 3),
                "summary_again_rps_vs_floor": round(load["summary_again"]["rps"] / load["summary_floor"]["rps"], 3),
                "summary_rps_vs_typename": round(load["summary"]["rps"] / load["typename"]["rps"], 3),
                "floor_rps_vs_typename": round(load["summary_floor"]["rps"] / load["typename"]["rps"], 3),
                "summary_p99_vs_p50": round(load["summary"]["p99_ms"] / load["summary"]["p50_ms"], 2),
                "summary_again_p99_vs_p50": round(load["summary_again"]["p99_ms"] / load["summary_again"]["p50_ms"], 2),
                "summary_read_rps_vs_floor": round(load["summary_read"]["rps"] / load["summary_floor"]["rps"], 3),
                "summary_read_p99_vs_p50": round(load["summary_read"]["p99_ms"] / load["summary_read"]["p50_ms"], 2),
            }
            results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
            results["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
            graph.write("MATCH (m:BenchApiMark {id: $id}) DELETE m", id=MARK_ID)
    finally:
        stop_server(server)
        stop_server(reader)
        if started_neo4j:
            neo4j_server.stop(settings)
    (OUT_DIR / f"bench_api-{stamp}.json").write_text(json.dumps(results, indent=2))
    md = report(results)
    (OUT_DIR / f"bench_api-{stamp}.md").write_text(md)
    print(md)


LABELS = {
    "drug": f'one drug: `pharmacogenomics(drug: "{DRUG}")` (API)',
    "drug_floor": "one drug, payload floor",
    "drug_driver": "one drug, same kg.queries through the driver",
    "summary": "summary (API)",
    "summary_floor": "summary, payload floor",
    "summary_driver": "summary, same kg.queries through the driver",
    "typename": "`{ __typename }`",
    "summary_again": "summary (API), again",
    "drug_read": "one drug (API), every answer read (`KG_ANSWER_CACHE=0`)",
    "summary_read": "summary (API), every answer read (`KG_ANSWER_CACHE=0`)",
    "summary_fresh": "summary (API), right after a commit (kept answers retired: read again)",
    "drug_fresh": "one drug (API), right after a commit (read again)",
}


def report(r: dict[str, Any]) -> str:
    seq, load, rss = r["sequential"], r["load"], r["rss_mb"]
    lines = [
        f"# bench_api {r['started']}",
        "",
        f"Neo4j {r['neo4j']}; releases: {', '.join(r['graph']['releases'])}; patient: {r['graph']['patient']}; "
        f"answers {json.dumps(seq['sizes'])}; load average {r['load_average_start']} -> {r['load_average_end']} "
        f"on {r['cpus']} CPUs.",
        "",
        "| (a) one client, sequential | p50 | p95 | mean |",
        "|---|---|---|---|",
    ]
    for name in (
        "drug",
        "drug_read",
        "drug_fresh",
        "drug_floor",
        "drug_driver",
        "summary",
        "summary_read",
        "summary_fresh",
        "summary_floor",
        "summary_driver",
        "typename",
    ):
        x = seq[f"{name}_ms"]
        lines.append(f"| {LABELS[name]} | {x['p50']} ms | {x['p95']} ms | {x['mean']} ms |")
    ratios = seq["ratios"]
    lines += [
        "",
        f"One drug p50 (target <= 10 ms): **{seq['drug_ms']['p50']} ms**. Summary p50 / floor p50 (target <= 1.5): "
        f"**{ratios['summary_vs_floor']}**; summary p50 / driver p50 (target <= 1.2): **{ratios['summary_vs_driver']}**; "
        f"one drug / its floor {ratios['drug_vs_floor']}, / driver {ratios['drug_vs_driver']}. Every answer read "
        f"(no answer cache): summary / floor **{ratios['summary_read_vs_floor']}**, / driver "
        f"**{ratios['summary_read_vs_driver']}**; one drug {seq['drug_read_ms']['p50']} ms, / driver "
        f"{ratios['drug_read_vs_driver']}. Right after a commit (the kept answers' miss) / every answer read: "
        f"summary {ratios['summary_fresh_vs_read']}, one drug {ratios['drug_fresh_vs_read']}.",
        "",
        f"| (b) {r['args']['clients']} clients | requests | req/s | p50 | p99 | errors | server CPU/request "
        "| server cores busy | client cores busy | RSS after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in LOAD_RUNS:
        x = load[name]
        lines.append(
            f"| {LABELS[name]} | {x['requests']} | {x['rps']} | {x['p50_ms']} ms | {x['p99_ms']} ms | {x['errors']} "
            f"| {x['server_cpu_ms_per_request']} ms | {x['server_cpu_share']} | {x['client_cpu_share']} "
            f"| {x['rss_mb_after']} MB |"
        )
    rr = r["ratios"]
    lines += [
        "",
        f"Summary req/s / floor req/s (target >= 0.5): **{rr['summary_rps_vs_floor']}** (again "
        f"{rr['summary_again_rps_vs_floor']}); p99 / p50 (target <= 3): **{rr['summary_p99_vs_p50']}** (again "
        f"{rr['summary_again_p99_vs_p50']}); summary / `{{ __typename }}` req/s {rr['summary_rps_vs_typename']}, "
        f"floor / `{{ __typename }}` {rr['floor_rps_vs_typename']}. Every answer read (no answer cache): summary req/s "
        f"/ floor req/s **{rr['summary_read_rps_vs_floor']}**, p99 / p50 {rr['summary_read_p99_vs_p50']}.",
        "",
        "(c) server RSS: " + ", ".join(f"{k.replace('_', ' ')} {v} MB" for k, v in rss.items()) + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Benchmark: the patient summary and the cohort answers as the graph grows to 100,000 patients (issue 12, Scale).

    python bench/bench_scale.py [--patients 1000 10000 100000] [--per-patient 300] [--sample 20 --rounds 5]
                                [--cohort-runs 3] [--deadline HH:MM] [--instance bench-scale --bolt-port 7750]
                                [--port 8750] [--data-dir DIR] [--skip-load]

What one run does:

1. Its own local Neo4j (instance ``bench-scale`` under the checkout's .kg, Bolt 7750; wiped, started, stopped at
   the end; page cache ``KG_NEO4J_PAGECACHE``, default here 4g, heap ``KG_NEO4J_HEAP``, default 2g). Schema,
   seeds, every release of ``--data-dir`` (default ../shared/data) and the PGx-panel patient ``pgxpanel``, as
   bench/bench_api.py prepares them (``--skip-load``: the instance's graph of an earlier run, not wiped; its
   synthetic patients are removed first, or, with ``--measure-only``, kept and measured as one step).
2. Synthetic patients (bench/synthetic_patients.py), grown step by step to each ``--patients`` count: each
   ``--per-patient`` real alleles of the active ClinVar releases in realistic class proportions, and star-allele
   calls for every PGx gene cloned from ``pgxpanel``'s (matched by the real matcher) with varied diplotypes.
   The write rate of each step is recorded; ``--deadline`` (UTC) stops the growth at the largest count whose
   projected write time still ends before it (so a run always ends with a measured step).
3. After each step, on a fixed sample (``pgxpanel`` and ``--sample`` synthetic patients of the first step):
   (a) the patient summary (bench_api's GraphQL query: PGx + targeted therapies + risks, paths and sources)
   through the real app under uvicorn, a clinician token, one client, ``--rounds`` rounds after a warm-up
   round: p50, p99; (b) the cohort answers through GraphQL (a researcher token: counts over every patient):
   ``cohortActionable(disease)`` for two diseases, ``cohortActionable(drug)`` for two drugs, ``cohortPhenotypes(gene)`` for
   three genes, ``--cohort-runs`` times each after a warm-up: p50 and max; (c) footprint: the store files on
   disk (data/databases/neo4j) and the transaction logs, node and relationship counts, the JVM's heap (JMX)
   and resident memory, per patient as the delta from the graph without synthetic patients.
   (d) every cohort answer through the driver, kg.queries.cohort of ``BEFORE_COMMIT`` (loaded from git: the
   statements before this benchmark's changes; ``--before COMMIT``: that commit's) and the current one,
   interleaved (when the disease answers did not change, their two columns show the machine's noise).
4. At the last step, PROFILE of every Cypher statement the summary's answers and the cohort answers run
   (kg.queries functions through a Graph that prefixes PROFILE): db hits, rows, and every scan operator
   (AllNodesScan, NodeByLabelScan, relationship type/all-relationship scans) with its details.

Ratios: summary p50/p99 at the last step / at the first (target <= 1.2); cohort answers (target < 1 s).
Results: bench/out/bench_scale-<timestamp>.json (rewritten after every step) and .md, and stdout.
"""

from __future__ import annotations

import argparse
import contextlib
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
import neo4j

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import (  # noqa: E402
    DISEASE,
    PATIENT,
    PGX_FIELDS,
    RISK_FIELDS,
    THERAPY_FIELDS,
    pct,
    prepare_graph,
    stop_server,
    wait_for_health,
)
from bench.synthetic_patients import add_patients, allele_pool, pgx_calls, remove_patients  # noqa: E402
from kg.config import Settings, default_data_dir  # noqa: E402
from kg.db import Graph  # noqa: E402

OUT_DIR = HERE / "out"
PREFIX = "synthetic-"

SUMMARY = f"""query Summary($id: String!) {{
  patient(id: $id) {{
    pharmacogenomics {{ {PGX_FIELDS} }}
    targetedTherapies(disease: "{DISEASE}") {{ {THERAPY_FIELDS} }}
    risks {{ {RISK_FIELDS} }}
  }}
}}"""

ACTIONABLE = """query($drug: String, $disease: String) {
  cohortActionable(drug: $drug, disease: $disease) { totalCount viaEvidence viaRecommendation releases }
}"""
PHENOTYPES = """query($gene: String!) {
  cohortPhenotypes(gene: $gene) { gene patients releases phenotypes { id phenotype patients diplotypes { key count } } }
}"""

# name -> (query, variables, kg.queries.cohort call for PROFILE)
COHORT: dict[str, tuple[str, dict[str, Any], tuple[str, dict[str, Any]]]] = {
    "actionable: breast cancer (DOID:1612)": (
        ACTIONABLE,
        {"disease": "DOID:1612"},
        ("actionable", {"disease": "DOID:1612"}),
    ),
    "actionable: colorectal cancer (DOID:9256)": (
        ACTIONABLE,
        {"disease": "DOID:9256"},
        ("actionable", {"disease": "DOID:9256"}),
    ),
    "actionable: clopidogrel": (ACTIONABLE, {"drug": "clopidogrel"}, ("actionable", {"drug": "clopidogrel"})),
    # the thiopurines: recommendations keyed on TPMT and NUDT15 together, held by nearly every patient
    "actionable: mercaptopurine": (
        ACTIONABLE,
        {"drug": "mercaptopurine"},
        ("actionable", {"drug": "mercaptopurine"}),
    ),
    "phenotypes: CYP2C19": (PHENOTYPES, {"gene": "CYP2C19"}, ("phenotypes", {"gene": "CYP2C19"})),
    "phenotypes: CYP2D6": (PHENOTYPES, {"gene": "CYP2D6"}, ("phenotypes", {"gene": "CYP2D6"})),
    "phenotypes: DPYD": (PHENOTYPES, {"gene": "DPYD"}, ("phenotypes", {"gene": "DPYD"})),
}

#: kg.queries.cohort before this benchmark's changes (main at this commit), loaded from git as the same-run
#: baseline: the phenotype answer sorted every patient id of a phenotype and concatenated the diplotypes with
#: `reduce(s = [], d IN perPatient | s + d)` (a list copy per patient: quadratic in a phenotype's patients); the
#: recommendation route checked every (recommendation, patient) pair with a subquery per phenotype.
BEFORE_COMMIT = "c3c52a4"  # --before chooses another

SCANS = ("AllNodesScan", "NodeByLabelScan", "RelationshipTypeScan", "AllRelationshipsScan", "UnionNodeByLabelsScan")


# --- set-up ---------------------------------------------------------------------------------------


def settings_for(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        instance=args.instance,
        bolt_port=args.bolt_port,
        cache_dir=ROOT / ".kg",
        pagecache=os.environ.get("KG_NEO4J_PAGECACHE", "4g"),
        heap=os.environ.get("KG_NEO4J_HEAP", "2g"),
    )


def tokens() -> dict[str, dict[str, str]]:
    """A clinician token for every patient (the summary) and a researcher's (cohort counts over everyone)."""
    from kg.access.roles import Role
    from kg.access.settings import AuthSettings
    from kg.access.tokens import create_token

    os.environ["KG_AUTH_DIR"] = tempfile.mkdtemp(prefix="kg-bench-scale-auth-")
    auth = AuthSettings.from_env()
    clinician = create_token(auth, Role.CLINICIAN, name="bench", all_patients=True).token
    researcher = create_token(auth, Role.RESEARCHER, name="bench-research").token
    return {
        "clinician": {"Authorization": f"Bearer {clinician}"},
        "researcher": {"Authorization": f"Bearer {researcher}"},
    }


def start_api(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    """The real app (api.app.create_app, as ``kg serve`` runs it) under uvicorn, every answer read from the
    graph (``KG_ANSWER_CACHE=0``: the question is what the graph's size does to the reads; the rounds ask the
    same patients again, which kept answers would give from memory)."""
    env = dict(
        os.environ,
        **settings.connection_env(),
        KG_RATE_LIMIT="1000000/minute",
        KG_ANSWER_CACHE="0",
        PYTHONPATH=str(ROOT),
    )
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1"]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    return wait_for_health(proc, port, log, seconds=120)


def clinvar_releases(graph: Graph) -> list[str]:
    rows = graph.read("MATCH (s:Source {status: 'active'}) WHERE s.key STARTS WITH 'clinvar@' RETURN s.key AS key")
    return sorted(r["key"] for r in rows)


# --- footprint ------------------------------------------------------------------------------------


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def footprint(graph: Graph, settings: Settings) -> dict[str, Any]:
    from kg import neo4j_server

    home = neo4j_server.home_dir(settings)
    out: dict[str, Any] = {
        "store_bytes": _du(home / "data" / "databases" / settings.database),
        "tx_log_bytes": _du(home / "data" / "transactions" / settings.database),
        "nodes": graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"],
        "relationships": graph.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"],
        "patients": graph.read("MATCH (p:Patient) RETURN count(p) AS n")[0]["n"],
        "has_variant": graph.read("MATCH ()-[r:HAS_VARIANT]->() RETURN count(r) AS n")[0]["n"],
        "has_diplotype": graph.read("MATCH ()-[r:HAS_DIPLOTYPE]->() RETURN count(r) AS n")[0]["n"],
    }
    try:
        rows = graph.read(
            "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes "
            "RETURN attributes.HeapMemoryUsage.value.properties AS heap"
        )
        heap = rows[0]["heap"] if rows else None
        if heap:
            out["heap_used_bytes"] = heap.get("used")
            out["heap_committed_bytes"] = heap.get("committed")
    except neo4j.exceptions.Neo4jError as err:
        out["heap_error"] = str(err)[:200]
    pid = neo4j_server.status(settings).pid
    if pid:
        with contextlib.suppress(OSError, ValueError):
            kb = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
            out["jvm_rss_bytes"] = int(kb.split()[1]) * 1024
    return out


def per_patient(now: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    n = now["patients"] - base["patients"]
    if n <= 0:
        return {}
    out = {
        k: round((now[k] - base[k]) / n, 1)
        for k in ("store_bytes", "nodes", "relationships", "has_variant", "has_diplotype")
        if k in now and k in base
    }
    for k in ("heap_used_bytes", "jvm_rss_bytes"):
        if now.get(k) and base.get(k):
            out[k] = round((now[k] - base[k]) / n, 1)
    return out


# --- measuring ------------------------------------------------------------------------------------


def _post(client: httpx.Client, url: str, query: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
    r = client.post(url, json={"query": query, "variables": variables}, headers=headers)
    body = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"HTTP {r.status_code}: {json.dumps(body)[:400]}")
    return body["data"]


def summaries(url: str, sample: list[str], rounds: int, headers: dict[str, str]) -> dict[str, Any]:
    """One client: every sampled patient's summary once per round (a warm-up round first)."""
    times: list[float] = []
    sizes: list[int] = []
    pgx_answers: list[int] = []
    with httpx.Client(timeout=120) as client:
        for r in range(rounds + 1):
            for pid in sample:
                t0 = time.perf_counter()
                data = _post(client, url, SUMMARY, {"id": pid}, headers)
                elapsed = time.perf_counter() - t0
                if r == 0:
                    if not data["patient"] or not data["patient"]["pharmacogenomics"]:
                        raise RuntimeError(f"{pid}: no PGx answers in the summary")
                    pgx_answers.append(len(data["patient"]["pharmacogenomics"]))
                    sizes.append(len(data["patient"]["risks"]))
                else:
                    times.append(elapsed)
    return {
        "requests": len(times),
        "p50_ms": pct(times, 50),
        "p99_ms": pct(times, 99),
        "mean_ms": round(statistics.mean(times) * 1000, 2),
        "pgx_answers_median": statistics.median(pgx_answers),
        "risk_findings_median": statistics.median(sizes),
    }


def cohort_answers(url: str, runs: int, headers: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(timeout=120) as client:
        for name, (query, variables, _) in COHORT.items():
            times: list[float] = []
            data: Any = None
            error = None
            for i in range(runs + 1):
                t0 = time.perf_counter()
                try:
                    data = _post(client, url, query, variables, headers)
                except RuntimeError as err:
                    error = str(err)
                    break
                if i:
                    times.append(time.perf_counter() - t0)
            if error:
                out[name] = {"error": error}
                continue
            answer = next(iter(data.values()))
            if "totalCount" in answer:
                counts = {k: answer[k] for k in ("totalCount", "viaEvidence", "viaRecommendation")}
            else:
                counts = {"patients": answer["patients"], "phenotypes": len(answer["phenotypes"])}
            out[name] = {
                "p50_ms": pct(times, 50),
                "max_ms": pct(times, 100),
                "counts": counts,
                "releases": len(answer["releases"]),
            }
    return out


def cohort_before() -> Any:
    """kg/queries/cohort.py of BEFORE_COMMIT as a module (None when git cannot show it)."""
    import importlib.util

    done = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:kg/queries/cohort.py"], capture_output=True, text=True
    )
    if done.returncode != 0:
        return None
    path = Path(tempfile.mkdtemp(prefix="kg-cohort-before-")) / "cohort_before.py"
    path.write_text(done.stdout)
    spec = importlib.util.spec_from_file_location("cohort_before", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["cohort_before"] = module
    spec.loader.exec_module(module)
    return module


def cohort_before_after(graph: Graph, runs: int) -> dict[str, Any]:
    """Every cohort answer through the driver with kg.queries.cohort before (BEFORE_COMMIT) and now, interleaved
    after a warm-up; the same counts checked. The disease answers' statement did not change: their two columns
    show the noise of the machine."""
    from kg.queries import cohort

    before_module = cohort_before()
    if before_module is None:
        return {"error": f"git show {BEFORE_COMMIT} failed"}
    out: dict[str, Any] = {}
    for name, (_, _, (kind, kwargs)) in COHORT.items():
        times: dict[str, list[float]] = {"before": [], "after": []}
        counts: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for i in range(runs + 1):
            for which, module in (
                (("before", before_module), ("after", cohort))
                if i % 2
                else (
                    ("after", cohort),
                    ("before", before_module),
                )
            ):
                fn = module.cohort_actionable if kind == "actionable" else module.cohort_phenotypes
                if which in failed:
                    continue
                t0 = time.perf_counter()
                try:
                    answer = fn(graph, patients=None, **kwargs)
                except Exception as err:  # past the traversal timeout (QueryTooBroad): not run again
                    failed[which] = f"{type(err).__name__} after {time.perf_counter() - t0:.1f} s"
                    continue
                if i:
                    times[which].append(time.perf_counter() - t0)
                counts[which] = answer.total_count if kind == "actionable" else answer.patients
        if failed:
            out[name] = {"failed": failed, **{f"{k}_p50_ms": pct(v, 50) for k, v in times.items() if v}}
            continue
        out[name] = {
            "same_count": counts["before"] == counts["after"],
            "before_p50_ms": pct(times["before"], 50),
            "after_p50_ms": pct(times["after"], 50),
            "after_vs_before": round(pct(times["after"], 50) / pct(times["before"], 50), 3),
            "patients": counts["after"],
        }
    return out


# --- PROFILE --------------------------------------------------------------------------------------


class ProfilingGraph(Graph):
    """A Graph that runs every read as PROFILE and keeps each statement's profile."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.profiles: list[dict[str, Any]] = []
        self.label = ""

    def _run(
        self,
        cypher: str,
        params: Any,
        routing: neo4j.RoutingControl,
        timeout: float,
        plain: bool = False,
    ) -> list[dict[str, Any]]:
        records, summary, _ = self.driver.execute_query(
            neo4j.Query("PROFILE " + cypher, timeout=timeout),
            dict(params),
            database_=self.settings.database,
            routing_=routing,
        )
        plan = summary.profile or {}
        ops: list[dict[str, Any]] = []
        _walk(plan, ops)
        scans = [op for op in ops if any(s in op["operator"] for s in SCANS)]
        self.profiles.append(
            {
                "answer": self.label,
                "statement": " ".join(cypher.split())[:160],
                "db_hits": sum(op["db_hits"] for op in ops),
                "rows": plan.get("rows"),
                "ms": summary.result_available_after + summary.result_consumed_after,
                "scans": scans,
                "seeks": sorted({op["operator"] for op in ops if "Seek" in op["operator"]}),
                "top_operators": sorted(ops, key=lambda op: -op["db_hits"])[:5],
            }
        )
        return [dict(r.items()) for r in records] if plain else [r.data() for r in records]


def _walk(plan: Any, out: list[dict[str, Any]]) -> None:
    if not plan:
        return
    args = plan.get("args") or {}
    out.append(
        {
            "operator": str(plan.get("operatorType", "")).split("@")[0],
            "details": str(args.get("Details", ""))[:160],
            "db_hits": int(plan.get("dbHits", 0) or 0),
            "rows": int(plan.get("rows", 0) or 0),
        }
    )
    for child in plan.get("children") or []:
        _walk(child, out)


def profile_summary(graph: ProfilingGraph, pid: str) -> None:
    """PROFILE of the statements behind one patient's summary answers (kept in ``graph.profiles``)."""
    from kg.queries import pgx, risk, therapy
    from kg.queries.patient_view import find_patient

    graph.label = f"summary {pid}"
    find_patient(graph, pid)
    pgx.pharmacogenomics(graph, pid)
    therapy.targeted_therapies(graph, pid, DISEASE)
    risk.risks(graph, pid)


def profile_all(settings: Settings, patients: list[str]) -> list[dict[str, Any]]:
    """PROFILE of the statements behind the summary's answers (per patient) and each cohort answer."""
    from kg.queries import cohort

    graph = ProfilingGraph(settings)
    with graph:  # (Graph.__enter__ is typed Graph)
        for pid in patients:
            profile_summary(graph, pid)
        for name, (_, _, (kind, kwargs)) in COHORT.items():
            graph.label = name
            try:
                if kind == "actionable":
                    cohort.cohort_actionable(graph, patients=None, **kwargs)
                else:
                    cohort.cohort_phenotypes(graph, patients=None, **kwargs)
            except Exception as err:  # a statement past its timeout: recorded, the others still profiled
                graph.profiles.append(
                    {
                        "answer": name,
                        "statement": f"failed: {type(err).__name__}: {str(err)[:200]}",
                        "db_hits": 0,
                        "rows": None,
                        "ms": None,
                        "scans": [],
                        "seeks": [],
                        "top_operators": [],
                    }
                )
        return graph.profiles


# --- main -----------------------------------------------------------------------------------------


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def deadline_ts(hhmm: str | None) -> float | None:
    if not hhmm:
        return None
    now = datetime.now(UTC)
    h, m = (int(x) for x in hhmm.split(":"))
    target = now.replace(hour=h, minute=m, second=0, microsecond=0)
    return target.timestamp()


def main() -> None:
    global BEFORE_COMMIT  # --before
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--per-patient", type=int, default=300)
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cohort-runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=40, help="patients per write transaction")
    ap.add_argument("--deadline", help="UTC HH:MM: grow no further than what can be written (and measured) by then")
    ap.add_argument("--measure-minutes", type=float, default=6.0, help="time kept for the last step's measuring")
    ap.add_argument("--instance", default="bench-scale")
    ap.add_argument("--bolt-port", type=int, default=7750)
    ap.add_argument("--port", type=int, default=8750)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument(
        "--skip-load",
        action="store_true",
        help="keep the instance's graph (an earlier run's; its synthetic patients are removed first)",
    )
    ap.add_argument(
        "--measure-only",
        action="store_true",
        help="with --skip-load: keep the earlier run's synthetic patients and measure them (one step, no writes)",
    )
    ap.add_argument("--keep-running", action="store_true", help="leave Neo4j running at the end")
    ap.add_argument(
        "--before", help=f"the commit whose kg/queries/cohort.py is 'before' in (d) (default {BEFORE_COMMIT})"
    )
    args = ap.parse_args()
    if args.before:
        BEFORE_COMMIT = args.before

    from kg import neo4j_server

    settings = settings_for(args)
    data_dir = args.data_dir or default_data_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out_json = OUT_DIR / f"bench_scale-{stamp}.json"
    results: dict[str, Any] = {
        "started": stamp,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "neo4j": {"bolt": settings.bolt_uri, "pagecache": settings.pagecache, "heap": settings.heap},
        "load_average_start": load_avg(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "steps": [],
    }

    def save() -> None:
        out_json.write_text(json.dumps(results, indent=2, default=str))

    api: subprocess.Popen[bytes] | None = None
    url = f"http://127.0.0.1:{args.port}/graphql"
    until = deadline_ts(args.deadline)
    try:
        if not args.skip_load:
            neo4j_server.stop(settings)
            neo4j_server.wipe(settings)
        t0 = time.perf_counter()
        neo4j_server.start(settings)
        print(f"Neo4j at {settings.bolt_uri} ({time.perf_counter() - t0:.1f} s)", flush=True)
        with Graph(settings) as graph:
            results["graph"] = prepare_graph(graph, data_dir, args.skip_load)
            print(f"graph ready: {results['graph']}", flush=True)
            releases = clinvar_releases(graph)
            pool = allele_pool(graph, releases)
            pgx = pgx_calls(graph, PATIENT)
            results["generator"] = {
                "clinvar_releases": releases,
                "allele_pool": {k: len(v) for k, v in pool.items()},
                "pgx_genes": {g: len(drawn) for g, (_, drawn) in pgx.items()},
                "per_patient": args.per_patient,
            }
            print(f"generator: {results['generator']}", flush=True)
            removed = 0 if args.measure_only else remove_patients(graph, PREFIX)  # an earlier run's
            if removed:
                print(f"removed {removed:,} synthetic patients of an earlier run", flush=True)
                results["removed_earlier_patients"] = removed
            base = footprint(graph, settings)
            results["base_footprint"] = base
            hdr = tokens()
            api = start_api(settings, args.port, OUT_DIR / f"bench_scale-{stamp}.api.log")
            rng = random.Random(12)
            sample: list[str] = []
            written = 0
            write_rate: float | None = None  # patients per second, of the last step
            targets = sorted(args.patients)
            if args.measure_only:  # the earlier run's patients and its sample (the same draw from its first step)
                written = graph.read(
                    "MATCH (p:Patient) WHERE p.id STARTS WITH $prefix AND p.synthetic RETURN count(p) AS n",
                    prefix=PREFIX,
                )[0]["n"]
                first = min(targets[0], written)
                sample = [PATIENT, *rng.sample([f"{PREFIX}{i:06d}" for i in range(first)], min(args.sample, first))]
                targets = [written]
            for i, target in enumerate(targets):
                if until and write_rate and i > 0:
                    room = until - time.time() - args.measure_minutes * 60
                    affordable = written + int(max(room, 0) * write_rate)
                    if affordable < target:
                        target = max(written, affordable // 1000 * 1000)
                        print(f"deadline {args.deadline}: growing to {target:,} only", flush=True)
                        results["deadline_cut"] = {"planned": targets[i], "reached": target}
                        if target <= written:
                            break
                step: dict[str, Any] = {"patients": target, "load_average_before": load_avg()}
                if target > written:
                    ids, links, seconds = add_patients(
                        graph,
                        target - written,
                        release=releases,
                        per_patient=args.per_patient,
                        prefix=PREFIX,
                        start=written,
                        pgx=pgx,
                        pool=pool,
                        batch=args.batch,
                    )
                    write_rate = len(ids) / seconds
                    step["write"] = {
                        "patients": len(ids),
                        "has_variant": links,
                        "seconds": round(seconds, 1),
                        "patients_per_s": round(write_rate, 1),
                        "links_per_s": round(links / seconds),
                    }
                    print(f"step {target:,}: wrote {step['write']}", flush=True)
                    if not sample:
                        sample = [PATIENT, *rng.sample(ids, min(args.sample, len(ids)))]
                    written = target
                step["footprint"] = fp = footprint(graph, settings)
                step["footprint_per_patient"] = per_patient(fp, base)
                if results["steps"]:  # from the previous step: past any space an earlier run freed
                    step["footprint_per_patient_since_last_step"] = per_patient(fp, results["steps"][-1]["footprint"])
                print(f"  footprint: {fp}; per synthetic patient {step['footprint_per_patient']}", flush=True)
                step["summary"] = summaries(url, sample, args.rounds, hdr["clinician"])
                print(f"  summary: {step['summary']}", flush=True)
                step["cohort"] = cohort_answers(url, args.cohort_runs, hdr["researcher"])
                for name, x in step["cohort"].items():
                    print(f"  {name}: {x}", flush=True)
                step["cohort_driver"] = cohort_before_after(graph, args.cohort_runs)
                print(f"  cohort answers through the driver, before/after: {step['cohort_driver']}", flush=True)
                step["load_average_after"] = load_avg()
                results["steps"].append(step)
                save()
            results["sample"] = sample
            stop_server(api)
            api = None
            print("PROFILE ...", flush=True)
            results["profiles"] = profile_all(settings, sample[:2])
            results["load_average_end"] = load_avg()
            results["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
            steps = results["steps"]
            if len(steps) > 1:
                first, last = steps[0]["summary"], steps[-1]["summary"]
                results["ratios"] = {
                    "patients": f"{steps[-1]['patients']} / {steps[0]['patients']}",
                    "summary_p50": round(last["p50_ms"] / first["p50_ms"], 2),
                    "summary_p99": round(last["p99_ms"] / first["p99_ms"], 2),
                }
    finally:
        stop_server(api)
        if not args.keep_running:
            neo4j_server.stop(settings)
        save()
    md = report(results)
    (OUT_DIR / f"bench_scale-{stamp}.md").write_text(md)
    print(md)


def _mb(x: float | None) -> str:
    return "–" if x is None else f"{x / 2**20:,.0f} MB"


def report(r: dict[str, Any]) -> str:
    lines = [
        f"# bench_scale {r['started']}",
        "",
        f"Neo4j {r['neo4j']}; generator {json.dumps(r.get('generator'))}; load average "
        f"{r['load_average_start']} -> {r.get('load_average_end')} on {r['cpus']} CPUs.",
        "",
        "| patients | write s (patients/s, links/s) | summary p50 | p99 | "
        + " | ".join(COHORT)
        + " | store on disk | nodes | relationships | heap used | load avg |",
        "|---" * (8 + len(COHORT)) + "|",
    ]
    for s in r["steps"]:
        w = s.get("write", {})
        cohort = [
            f"{x['p50_ms']} ms (max {x['max_ms']}; {x['counts']})" if "p50_ms" in x else f"error {x['error'][:80]}"
            for x in s["cohort"].values()
        ]
        fp = s["footprint"]
        lines.append(
            f"| {s['patients']:,} | {w.get('seconds', '–')} ({w.get('patients_per_s', '–')}, {w.get('links_per_s', '–')}) "
            f"| {s['summary']['p50_ms']} ms | {s['summary']['p99_ms']} ms | "
            + " | ".join(cohort)
            + f" | {_mb(fp['store_bytes'])} | {fp['nodes']:,} | {fp['relationships']:,} "
            f"| {_mb(fp.get('heap_used_bytes'))} | {s['load_average_before']} -> {s['load_average_after']} |"
        )
    if r.get("ratios"):
        lines += ["", f"Ratios {r['ratios']} (target <= 1.2)."]
    if r["steps"]:
        last = r["steps"][-1]
        lines += [
            "",
            f"Per synthetic patient at the last step: {last['footprint_per_patient']}; between the last two steps: "
            f"{last.get('footprint_per_patient_since_last_step')}.",
        ]
    for st in r["steps"]:
        drv = st.get("cohort_driver")
        if not drv or "error" in drv:
            continue
        lines += [
            "",
            f"Cohort answers through the driver at {st['patients']:,} patients, kg.queries.cohort of {BEFORE_COMMIT} "
            "(before) and now (after), interleaved:",
            "",
            "| answer | patients | before p50 | after p50 | after / before |",
            "|---|---|---|---|---|",
        ]
        for name, x in drv.items():
            if "failed" in x:
                lines.append(f"| {name} | – | {x['failed']} | {x.get('after_p50_ms', '–')} ms | – |")
                continue
            lines.append(
                f"| {name} | {x['patients']} | {x['before_p50_ms']} ms | {x['after_p50_ms']} ms | {x['after_vs_before']} |"
            )
    lines += [
        "",
        "| PROFILE: answer | statement | db hits | rows | ms | scans | seeks |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in r.get("profiles", []):
        scans = "; ".join(f"{s['operator']} {s['details'][:60]} ({s['db_hits']} hits)" for s in p["scans"]) or "none"
        lines.append(
            f"| {p['answer']} | `{p['statement'][:70]}` | {p['db_hits']:,} | {p['rows']} | {p['ms']} | {scans} "
            f"| {', '.join(p['seeks'])} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

"""Benchmark: re-interpretation of 10,000 matched patients when ClinVar 2026-02-26 is loaded on top of
ClinVar 2024-06-01, and the as-of risk answer against the current one (issue 8).

    python bench/bench_reinterpret.py [--patients 10000] [--per-patient 300]
                                      [--instance bench-reinterp --bolt-port 7753] [--data-dir DIR] [--retire]

What one run does:

1. Its own local Neo4j (instance ``bench-reinterp``, Bolt 7753), wiped, started and stopped at the end
   (``NEO4J_URI`` set: that server, cleared). Schema, then ClinVar 2024-06-01 (``clinvar_more/``).
2. ``--patients`` synthetic matched patients (bench/synthetic_patients.py): ``--per-patient`` real
   ClinVar alleles each from the 2024-06-01 release, in realistic class proportions.
3. ClinVar 2026-02-26 (``clinvar/``) loaded with ``kg load``'s loader: its ``LoadReport`` gives the
   load's seconds (written, superseded, activated) and the re-interpretation's (the load hook,
   kg.queries.changes.reinterpret). Target: re-interpretation <= 25 % of the load.
4. The risk answer (kg.queries.risk.risks) of ``--sample`` changed patients, as of
   ``clinvar@2024-06-01`` (the state computed per call, as the API does per request) and current,
   alternated, after a warm-up: p50 of each. Target: as-of <= 1.5x current.
5. One changed patient's ``changes`` through GraphQL (an admin token on a throw-away auth folder).
6. With ``--retire``: ``kg retire clinvar@2026-02-26`` (its re-interpretation back to 2024-06-01, found while
   the retired facts are still there), then 2026-02-26 loaded again, so the graph left on disk for
   bench_as_of.py is the same as without it.

Results: bench/out/bench_reinterpret-<timestamp>/results.json and stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.bench_load import fresh_graph  # noqa: E402
from bench.synthetic_patients import add_patients  # noqa: E402
from kg.config import Settings, default_data_dir  # noqa: E402
from kg.db import Graph  # noqa: E402
from kg.loaders import registry  # noqa: E402
from kg.loaders.release import retire_release  # noqa: E402
from kg.queries.changes import changed_patients  # noqa: E402
from kg.queries.risk import risks  # noqa: E402
from kg.queries.visibility import knowledge_state  # noqa: E402

OLD, NEW = "clinvar@2024-06-01", "clinvar@2026-02-26"

CHANGES_QUERY = """query($id: String!) { patient(id: $id) { id changes {
  kind allele alleleName gene oldClass oldReview newClass newReview summary oldEvidence newEvidence
  fromState toState release at } } }"""


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _as_of_timings(graph: Graph, patients: list[str], rounds: int) -> dict[str, Any]:
    """p50 of risks() current and as of the older release, alternated per patient and round."""
    current: list[float] = []
    as_of: list[float] = []
    for pid in patients[:3]:  # warm-up: query plans, page cache
        risks(graph, pid)
        risks(graph, pid, state=knowledge_state(graph, OLD))
    differs = 0
    for r in range(rounds):
        for pid in patients:
            order = [0, 1] if (r + len(pid)) % 2 == 0 else [1, 0]
            for which in order:
                began = time.perf_counter()
                if which == 0:
                    now_answer = risks(graph, pid)
                    current.append(time.perf_counter() - began)
                else:
                    old_answer = risks(graph, pid, state=knowledge_state(graph, OLD))
                    as_of.append(time.perf_counter() - began)
            if r == 0 and [f.classification for f in now_answer] != [f.classification for f in old_answer]:
                differs += 1
    return {
        "current_p50_ms": round(_p50(current) * 1000, 1),
        "as_of_p50_ms": round(_p50(as_of) * 1000, 1),
        "ratio": round(_p50(as_of) / _p50(current), 2),
        "calls_each": len(current),
        "patients_whose_answers_differ": differs,
    }


def _graphql_answer(settings: Settings, patient: str) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from api.app import create_app
    from kg.access.roles import Role
    from kg.access.settings import AuthSettings
    from kg.access.tokens import create_token

    with tempfile.TemporaryDirectory() as home:
        auth = AuthSettings(home=Path(home))
        token = create_token(auth, Role.ADMIN, name="bench-reinterp").token
        app = create_app(settings, auth=auth)
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(app, base_url="http://localhost", headers=headers) as client:
            body: dict[str, Any] = client.post(
                "/graphql", json={"query": CHANGES_QUERY, "variables": {"id": patient}}
            ).json()
            return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--per-patient", type=int, default=300)
    parser.add_argument("--sample", type=int, default=40, help="changed patients timed for the as-of query")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--instance", default="bench-reinterp")
    parser.add_argument("--bolt-port", type=int, default=7753)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--retire", action="store_true", help="also retire 2026-02-26 and load it again")
    args = parser.parse_args()
    data = args.data_dir or default_data_dir()
    settings = Settings.from_env(instance=args.instance, bolt_port=args.bolt_port)
    results: dict[str, Any] = {
        "patients": args.patients,
        "per_patient": args.per_patient,
        "started": datetime.now(UTC).isoformat(),
    }
    with fresh_graph(settings) as graph:
        began = time.monotonic()
        older = registry.loader_for("clinvar_more").load(graph, data / "clinvar_more", progress=False)
        results["load_2024"] = {"summary": older.summary(), "seconds": round(time.monotonic() - began, 1)}
        print(older.summary(), flush=True)
        ids, links, seconds = add_patients(graph, args.patients, release=OLD, per_patient=args.per_patient)
        results["synthetic"] = {"patients": len(ids), "has_variant": links, "seconds": round(seconds, 1)}
        print(f"{len(ids):,} synthetic patients, {links:,} HAS_VARIANT links in {seconds:.1f} s", flush=True)

        report = registry.loader_for("clinvar").load(graph, data / "clinvar", progress=False)
        print(report.summary(), flush=True)
        re = report.reinterpreted
        assert re is not None, "the load hook did not run"
        results["load_2026"] = {
            "summary": report.summary(),
            "load_seconds": round(report.seconds, 1),
            "reinterpret_seconds": round(re.seconds, 1),
            "reinterpret_share": round(re.seconds / report.seconds, 3),
            "reinterpret_phases": re.phase_seconds,
            "changed_facts": re.changed_facts,
            "patients_changed": re.patients,
            "alleles": re.alleles,
            "changes": re.changes,
            "by_kind": re.by_kind,
        }
        # a second load of the same release: checksum-matched, no new changes
        again = registry.loader_for("clinvar").load(graph, data / "clinvar", progress=False)
        total = graph.read("MATCH (c:Change) RETURN count(c) AS n")[0]["n"]
        results["reload"] = {"skipped": again.skipped, "change_nodes": total}

        listed = changed_patients(graph, NEW)
        rng = random.Random(8)
        sample = rng.sample([p.patient for p in listed], min(args.sample, len(listed)))
        results["as_of"] = _as_of_timings(graph, sample, args.rounds)
        print(json.dumps(results["as_of"]), flush=True)
        shown = next((p.patient for p in listed if any(k.kind.value == "NEW_FINDING" for k in p.by_kind)), None)
        shown = shown or (listed[0].patient if listed else None)
        if shown:
            results["graphql_example"] = _graphql_answer(settings, shown)
        if args.retire:
            began = time.monotonic()
            retired = retire_release(graph, NEW)
            seconds = time.monotonic() - began
            print(retired.summary(), flush=True)
            back = retired.reinterpreted
            assert back is not None, "the retirement did not re-interpret"
            results["retire_2026"] = {
                "summary": retired.summary(),
                "seconds": round(seconds, 1),
                "reinterpret_seconds": round(back.seconds, 1),
                "reinterpret_phases": back.phase_seconds,
                "patients_changed": back.patients,
                "changes": back.changes,
                "by_kind": back.by_kind,
            }
            again = registry.loader_for("clinvar").load(graph, data / "clinvar", progress=False)
            print(again.summary(), flush=True)
            assert again.reinterpreted is not None
            results["reload_2026"] = {
                "load_seconds": round(again.seconds, 1),
                "reinterpret_seconds": round(again.reinterpreted.seconds, 1),
                "changes": again.reinterpreted.changes,
                "stored": again.reinterpreted.stored,
            }
    out = HERE / "out" / f"bench_reinterpret-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "graphql_example"}, indent=2, default=str))
    print(f"results: {out / 'results.json'}")


if __name__ == "__main__":
    main()

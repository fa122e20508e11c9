"""Benchmark: patient answers as of a release against the same answers in the current state (issue 8).

    python bench/bench_as_of.py --as-of clinvar@2024-06-01 [--patients 200] [--rounds 3] [--warmup 20]

Runs against the graph of the environment (``NEO4J_URI``, else the local dev instance: kg.config.Settings),
which must already hold the releases and matched patients (e.g. after bench/bench_reinterpret.py or
``kg load all`` and some ``kg match``). Works the knowledge state out once (``knowledge_state``, as the API
does once per request), then for up to ``--patients`` patients (id order) times, interleaved one for one so
machine noise hits both alike, the patient answers a clinician asks for (risks, targeted therapies,
pharmacogenomics: kg.queries functions through the driver) in the current state and as of ``--as-of``.
Reports p50/p95 of each and the ratio as-of p50 / current p50 (issue 8's target: <= 1.5).

Results: bench/out/bench_as_of-<timestamp>.json and stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kg.config import Settings  # noqa: E402
from kg.db import Graph  # noqa: E402
from kg.queries import pgx, risk, therapy  # noqa: E402
from kg.queries.visibility import KnowledgeState, knowledge_state  # noqa: E402


def answers(graph: Graph, patient: str, state: KnowledgeState | None) -> int:
    """The answers of one patient in ``state``; how many items they hold (so nothing is optimised away)."""
    found = risk.risks(graph, patient, state=state)
    found_t = therapy.targeted_therapies(graph, patient, state=state)
    found_p = pgx.pharmacogenomics(graph, patient, state=state)
    return len(found) + len(found_t) + len(found_p)


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", required=True, help="a release key or a date YYYY-MM-DD")
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    with Graph(Settings.from_env()) as graph:
        began = time.perf_counter()
        state = knowledge_state(graph, args.as_of)
        state_ms = (time.perf_counter() - began) * 1000
        ids = [r["id"] for r in graph.read("MATCH (p:Patient) RETURN p.id AS id ORDER BY id LIMIT $n", n=args.patients)]
        if not ids:
            sys.exit("no patients in the graph: match some first")
        for patient in ids[: args.warmup]:
            answers(graph, patient, None)
            answers(graph, patient, state)
        current: list[float] = []
        as_of: list[float] = []
        items = {"current": 0, "as_of": 0}
        for _ in range(args.rounds):
            for patient in ids:
                t0 = time.perf_counter()
                items["current"] += answers(graph, patient, None)
                t1 = time.perf_counter()
                items["as_of"] += answers(graph, patient, state)
                t2 = time.perf_counter()
                current.append(t1 - t0)
                as_of.append(t2 - t1)
    result: dict[str, Any] = {
        "as_of": args.as_of,
        "state": {"releases": list(state.releases), "label": state.label, "computed_ms": state_ms},
        "patients": len(ids),
        "rounds": args.rounds,
        "current": _stats(current),
        "as_of_answers": _stats(as_of),
        "items": items,
    }
    result["ratio_p50"] = result["as_of_answers"]["p50_ms"] / result["current"]["p50_ms"]
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"bench_as_of-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"as-of p50 / current p50 = {result['ratio_p50']:.2f} (target <= 1.5); written to {path}")


if __name__ == "__main__":
    main()

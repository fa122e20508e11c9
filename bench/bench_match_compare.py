"""Another commit's whole-genome match against this checkout's, interleaved on the same files and Neo4j.

    git archive 9681b7b | tar -x -C /tmp/before      # the baseline's source, anywhere
    python bench/bench_match.py --keep-files          # the genome copies (bench/out/bench_match-*/genome*)
    python bench/bench_match_compare.py --baseline /tmp/before --files bench/out/bench_match-<stamp> \\
        [--rounds 2] [--instance bench-match --bolt-port 7780]

Each match runs in a fresh process through its own version's ``bench_match.py --worker --quick`` (one
``match_patient``, the version's code on PYTHONPATH), the versions alternating (which goes first alternates by
round), so both see the same load. Per file and version, in the same run: the baseline ``bcftools view -H FILE |
wc -l``; *cold* (matcher disk cache off) and *cold, disk cache*, each as a **re-match** (the same patient
matched again: what bench_match.py measures) and as a **first match** (a new patient, deleted afterwards;
its ObservedAlleles mostly exist already, shared with the re-matched patient). The server must be running
(started by bench_match.py or ``kg db start``); nothing is loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_match import baseline  # noqa: E402


def run(source: Path, vcf: Path, patient: str, env: dict[str, str]) -> dict[str, Any]:
    """One match of ``vcf`` by the code under ``source`` in a fresh process: seconds and step timings."""
    cmd = [sys.executable, str(source / "bench" / "bench_match.py"), "--worker", str(vcf), "--patient", patient]
    done = subprocess.run([*cmd, "--quick"], capture_output=True, text=True, env=dict(env, PYTHONPATH=str(source)))
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise RuntimeError(f"worker of {source} failed on {vcf}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, required=True, help="the other commit's source tree")
    ap.add_argument("--files", type=Path, required=True, help="a bench_match run directory kept with --keep-files")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--instance", default="bench-match")
    ap.add_argument("--bolt-port", type=int, default=7780)
    args = ap.parse_args(argv)

    from kg.config import Settings
    from kg.db import Graph
    from kg.matcher.match import delete_patient

    settings = Settings.from_env(instance=args.instance, bolt_port=args.bolt_port)
    env = dict(os.environ, **settings.connection_env())
    versions = {"baseline": args.baseline.resolve(), "this": HERE.parent}
    files = [args.files / n for n in ("genome.vcf.gz", "genome-noindex.vcf.gz", "genome.vcf")]
    results: dict[str, Any] = {"baseline": str(args.baseline), "rounds": args.rounds, "files": {}}
    for vcf in files:
        row: dict[str, Any] = {"bcftools": [], "runs": {}}
        for r in range(args.rounds):
            row["bcftools"].append(round(baseline(vcf)[0], 3))
            order = list(versions) if r % 2 == 0 else list(versions)[::-1]
            for mode, extra in (("cold", {"KG_MATCHER_DISK_CACHE": "0"}), ("cold, disk cache", {})):
                for kind in ("re-match", "first match"):
                    for name in order:
                        patient = "bench-match" if kind == "re-match" else f"bench-compare-{name}-{r}"
                        out = run(versions[name], vcf, patient, dict(env, **extra))
                        if kind == "first match":
                            with Graph(settings) as graph:
                                delete_patient(graph, patient)
                        key = f"{name} | {mode} | {kind}"
                        row["runs"].setdefault(key, []).append({"seconds": out["cold"], "timings": out["cold_timings"]})
                        print(f"{vcf.name:<22} {key:<40} {out['cold']:7.2f} s  {out['cold_timings']}", flush=True)
        results["files"][vcf.name] = row
    lines = [
        "| file | bcftools | version | mode | kind | match (median) | ratio | calls | store |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["files"].items():
        base = statistics.median(row["bcftools"])
        for key, runs in row["runs"].items():
            secs = statistics.median(r["seconds"] for r in runs)
            calls = statistics.median(r["timings"].get("calls", 0) for r in runs)
            store = statistics.median(r["timings"].get("store", 0) for r in runs)
            version, mode, kind = key.split(" | ")
            lines.append(
                f"| {name} | {base:.2f} s | {version} | {mode} | {kind} | {secs:.2f} s | {secs / base:.2f} | "
                f"{calls:.2f} s | {store:.2f} s |"
            )
    out_file = args.files / "compare.json"
    out_file.write_text(json.dumps(results, indent=2))
    print("\n".join(lines))
    print(f"results: {out_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

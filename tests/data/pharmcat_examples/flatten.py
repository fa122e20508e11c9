"""Flatten PharmCAT's published example reports into ``expected.json`` for tests/test_pgx_examples.py.

PharmCAT's ``docs/examples/<name>.report.json`` (its Reporter output) is 1.2 MB per example; the
tests need only what the report concludes: per guideline source (CPIC, DPWG) each gene's call and
lookup keys, and per drug and guideline annotation the recommendations shown (lookup key,
population, strength, the recommendation's text without its "Other Considerations") and a state:

- ``RECOMMENDATION``: at least one annotation that recommends (classified other than "No
  recommendation", or with a text);
- ``NO_RECOMMENDATION``: annotations that do not: classified "No recommendation", or empty (CPIC
  warfarin: no text and no classification, the report points to the guideline's flow chart);
- ``NONE``: the report shows no annotation for the guideline (genotype unknown or not keyed).

Run from a PharmCAT git checkout (bare or not) at the tag the data folder comes from::

    python tests/data/pharmcat_examples/flatten.py --git-dir /work/.mirror/PharmGKB+PharmCAT/repo \
        --tag v2.10.0 > tests/data/pharmcat_examples/expected.json

or on report files: ``flatten.py a.report.json b.report.json``.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

EXAMPLES = "docs/examples"
_TAG = re.compile(r"<[^>]+>")
_CUT = re.compile(r"<h4[^>]*>\s*Other Considerations\s*</h4>", re.IGNORECASE)


def recommendation_text(value: str | None) -> str | None:
    """The recommendation proper: before PharmCAT's "Other Considerations" heading, tags removed."""
    if value is None:
        return None
    text = html.unescape(_TAG.sub(" ", _CUT.split(value)[0]))
    return " ".join(text.split()) or None


def _recommends(annotation: dict[str, Any]) -> bool:
    classification = annotation.get("classification")
    return classification != "No recommendation" and bool(classification or annotation.get("drugRecommendation"))


def _state(annotations: list[dict[str, Any]]) -> str:
    if not annotations:
        return "NONE"
    return "RECOMMENDATION" if any(map(_recommends, annotations)) else "NO_RECOMMENDATION"


def _genes(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for source, genes in report["genes"].items():
        out[source] = {
            symbol: {
                "callSource": gene.get("callSource"),
                "diplotypes": [d.get("label") for d in gene.get("sourceDiplotypes") or ()],
                "lookupKeys": sorted({k for d in gene.get("sourceDiplotypes") or () for k in d.get("lookupKey") or ()}),
            }
            for symbol, gene in sorted(genes.items())
        }
    return out


def _drugs(report: dict[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for source, drugs in report["drugs"].items():
        per_drug: dict[str, list[dict[str, Any]]] = {}
        for name, drug in sorted(drugs.items()):
            per_drug[name] = [
                {
                    "guideline": g["name"],
                    "guidelineId": g["id"],
                    "state": _state(g["annotations"]),
                    "recommendations": [
                        {
                            "lookupKey": a.get("lookupKey") or {},
                            "population": a.get("population"),
                            "strength": a.get("classification"),
                            "text": recommendation_text(a.get("drugRecommendation")),
                        }
                        for a in g["annotations"]
                    ],
                }
                for g in drug["guidelines"]
            ]
        out[source] = per_drug
    return out


def flatten(report: dict[str, Any], name: str, inputs: set[str]) -> dict[str, Any]:
    """One example: its input files (those present beside the report) and what the report says."""
    vcf, outside = f"{name}.vcf", f"{name}.outsideCall.tsv"
    return {
        "report": f"{EXAMPLES}/{name}.report.json",
        "pharmcatVersion": report.get("pharmcatVersion"),
        "cpicVersion": report.get("cpicVersion"),
        "dpwgVersion": report.get("dpwgVersion"),
        "vcf": vcf if vcf in inputs else None,
        "outsideCalls": outside if outside in inputs else None,
        "genes": _genes(report),
        "drugs": _drugs(report),
    }


def _from_git(git_dir: str, tag: str) -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", git_dir, *args], check=True, capture_output=True, text=True).stdout

    files = {Path(p).name for p in git("ls-tree", "--name-only", f"{tag}:{EXAMPLES}").split()}
    commit = git("rev-parse", f"{tag}^{{commit}}").strip()
    examples = {}
    for file in sorted(files):
        if file.endswith(".report.json"):
            name = file.removesuffix(".report.json")
            examples[name] = flatten(json.loads(git("show", f"{tag}:{EXAMPLES}/{file}")), name, files)
    return {"source": {"repository": "PharmGKB/PharmCAT", "tag": tag, "commit": commit}, "examples": examples}


def _from_files(paths: list[str]) -> dict[str, Any]:
    examples = {}
    for p in map(Path, paths):
        name = p.name.removesuffix(".report.json")
        examples[name] = flatten(json.loads(p.read_text(encoding="utf-8")), name, {f.name for f in p.parent.iterdir()})
    return {"source": {"repository": "PharmGKB/PharmCAT", "files": paths}, "examples": examples}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reports", nargs="*", help="PharmCAT <name>.report.json files")
    parser.add_argument("--git-dir", help="a PharmCAT git repository (read with git show)")
    parser.add_argument("--tag", default="v2.10.0")
    args = parser.parse_args(argv)
    if bool(args.git_dir) == bool(args.reports):
        parser.error("give either --git-dir or report files")
    data = _from_git(args.git_dir, args.tag) if args.git_dir else _from_files(args.reports)
    json.dump(data, sys.stdout, indent=1, ensure_ascii=False, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

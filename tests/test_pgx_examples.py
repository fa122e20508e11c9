"""PGx answers against PharmCAT's own published example outputs (issue 15).

PharmCAT v2.10.0 (the release in ../shared/data/pgx/pharmcat) publishes two worked examples in
``docs/examples``: ``pharmcat.example.vcf`` (every PharmCAT position, all reference) with outside
calls for CYP2D6, HLA-B and MT-RNR1, and ``pharmcat.example2.vcf`` (CYP2C19 *2/*2, CYP2B6 *1/*6,
no outside calls). tests/data/pharmcat_examples holds the inputs verbatim and ``expected.json``,
what PharmCAT's report.json concludes, written by ``flatten.py`` there (see its README).

Each example VCF is matched as a patient (with its outside calls) on the real releases; the
answers of :func:`kg.queries.pgx.pharmacogenomics` are compared with PharmCAT's drug by drug and
guideline by guideline: the recommendations shown (by lookup key and population), their strength
and text, and the state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.db import Graph
from kg.identity.drugs import drug_key
from kg.matcher.match import delete_patient, match_patient
from kg.queries.pgx import PgxAnswer, pharmacogenomics
from tests.api_graph import bearer, token_for

pytestmark = pytest.mark.realdata

EXAMPLES = Path(__file__).parent / "data" / "pharmcat_examples"
EXPECTED: dict[str, Any] = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED["examples"])
GUIDELINES = ("CPIC", "DPWG")
PREFIX = "test-pgx-example-"


def example_vcf(name: str, data_dir: Path) -> Path:
    """Example 1's input is byte for byte PharmCAT's positions file, which the data release ships
    (``pgx/pharmcat/pharmcat_positions.vcf``): read it from there rather than keep a copy."""
    kept = EXAMPLES / EXPECTED["examples"][name]["vcf"]
    return kept if kept.exists() else data_dir / "pgx" / "pharmcat" / "pharmcat_positions.vcf"


@pytest.fixture(scope="module")
def patients(real_data: Graph, data_dir: Path) -> Iterator[dict[str, str]]:
    """Each example VCF matched as a patient, with its outside-call file when it has one."""
    ids = {}
    for name in NAMES:
        example = EXPECTED["examples"][name]
        outside = EXAMPLES / example["outsideCalls"] if example["outsideCalls"] else None
        ids[name] = match_patient(
            real_data, example_vcf(name, data_dir), patient_id=PREFIX + name, outside_calls=outside
        ).patient
    yield ids
    for pid in ids.values():
        delete_patient(real_data, pid)


# ---------------------------------------------------------------------------------------------
# Comparing answers with PharmCAT's report


def _words(text: str | None) -> str:
    """Text compared word by word: PharmCAT renders the guideline HTML, the loader writes plain text."""
    return " ".join(re.findall(r"\w+", (text or "").lower()))


def _rec_key(lookup: dict[str, Any], population: str | None) -> str:
    return json.dumps(lookup, sort_keys=True) + " | " + (population or "")


@dataclass
class Agreement:
    """Per guideline source: PharmCAT's recommendations we give alike (``agree``: same lookup key,
    population, strength and text, in an answer of the same state; ``same_recommendation``: the
    same but whatever the state), out of ``total``, and every disagreement."""

    agree: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GUIDELINES, 0))
    same_recommendation: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GUIDELINES, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GUIDELINES, 0))
    mismatches: list[str] = field(default_factory=list)

    def counts(self) -> str:
        return ", ".join(f"{s} {self.agree[s]}/{self.total[s]}" for s in GUIDELINES)


def compare(expected: dict[str, Any], answers: list[PgxAnswer]) -> Agreement:
    """Drug by drug and guideline by guideline, PharmCAT's report against our answers."""
    ours = {(a.guideline, a.drug.id, a.guideline_name): a for a in answers}
    result = Agreement()
    for source in GUIDELINES:
        for drug, guidelines in expected["drugs"][source].items():
            for g in guidelines:
                where = f"{source} {drug} ({g['guideline']})"
                answer = ours.get((source, drug_key(drug), g["guideline"]))
                result.total[source] += len(g["recommendations"])
                if answer is None:
                    result.mismatches.append(f"{where}: no answer; PharmCAT: {g['state']}")
                    continue
                if g["state"] == "NONE":
                    if answer.state in ("RECOMMENDATION", "AMBIGUOUS") or answer.recommendations:
                        result.mismatches.append(
                            f"{where}: PharmCAT shows nothing, we answer {answer.state} with "
                            f"{[r.lookup_key for r in answer.recommendations]}"
                        )
                    continue
                same_state = answer.state == g["state"]
                if not same_state:
                    result.mismatches.append(f"{where}: state {answer.state} ({answer.reason}), PharmCAT {g['state']}")
                given = {_rec_key(r.lookup_key, r.population): r for r in answer.recommendations}
                for rec in g["recommendations"]:
                    key = _rec_key(rec["lookupKey"], rec["population"])
                    mine = given.pop(key, None)
                    if rec["text"] is None and rec["strength"] is None:  # CPIC warfarin: see the flow chart
                        alike = answer.state == "NO_RECOMMENDATION" and not answer.recommendations
                        if not alike:
                            result.mismatches.append(
                                f"{where}: PharmCAT points to the guideline itself, we answer {answer.state}"
                            )
                    elif mine is None:
                        alike = False
                        result.mismatches.append(f"{where}: missing {key} ({rec['strength']})")
                    elif mine.strength != rec["strength"]:
                        alike = False
                        result.mismatches.append(f"{where}: {key} strength {mine.strength}, PharmCAT {rec['strength']}")
                    else:
                        alike = _words(mine.text) == _words(rec["text"])
                        if not alike:
                            result.mismatches.append(f"{where}: {key} text {mine.text!r}, PharmCAT {rec['text']!r}")
                    result.same_recommendation[source] += alike
                    result.agree[source] += alike and same_state
                for key, mine in given.items():
                    result.mismatches.append(f"{where}: we also give {key} ({mine.strength}), PharmCAT does not")
    return result


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_recommendations_agree_with_pharmcat(real_data: Graph, patients: dict[str, str], name: str) -> None:
    expected = EXPECTED["examples"][name]
    result = compare(expected, pharmacogenomics(real_data, patients[name]))
    assert not result.mismatches, f"{name}: {result.counts()} agree; differences:\n" + "\n".join(result.mismatches)
    assert result.agree == result.total and sum(result.total.values()) > 0


# PharmCAT's lookup values that are no result: its own "No Result", and "n/a" where it cannot
# apply a table (MT-RNR1 "1555A>G" without the "m." prefix, IFNL3, CYP2C19 *38 under DPWG)
NO_RESULT_VALUES = {"No Result", "n/a"}


@pytest.mark.parametrize("name", NAMES)
def test_gene_lookup_keys_agree_with_pharmcat(real_data: Graph, patients: dict[str, str], name: str) -> None:
    """Each gene's lookup key per guideline: PharmCAT's where it has a result, no result where it has none."""
    links = real_data.read(
        "MATCH (:Patient {id: $id})-[r:HAS_DIPLOTYPE]->(ph:Phenotype) "
        "RETURN ph.gene AS gene, ph.id AS id, r.guideline AS guideline",
        id=patients[name],
    )
    differences = []
    for source, genes in EXPECTED["examples"][name]["genes"].items():
        for gene, expected in genes.items():
            mine = sorted(
                {
                    link["id"].split(":", 1)[1]
                    for link in links
                    if link["gene"] == gene and link["guideline"] in (None, source)
                }
            )
            theirs = expected["lookupKeys"]
            if theirs and not set(theirs) & NO_RESULT_VALUES:
                if mine != theirs:
                    differences.append(f"{source} {gene} {expected['diplotypes']}: {mine}, PharmCAT {theirs}")
            elif theirs == ["No Result"] and set(mine) - NO_RESULT_VALUES:
                differences.append(f"{source} {gene}: {mine}, PharmCAT No Result")
    assert not differences, f"{name}:\n" + "\n".join(differences)


PGX = """
query($id: String!, $drug: String) { patient(id: $id) { pharmacogenomics(drug: $drug) {
  drug { id } guideline guidelineName state reason genes genesWithoutResult
  recommendations { id strength population lookupKey phenotypes path { start { id } relationship end { id } } } } } }
"""


@pytest.mark.parametrize(
    ("name", "drug", "gene"),
    [("pharmcat.example", "carbamazepine", "HLA-A"), ("pharmcat.example2", "fosphenytoin", "HLA-B")],
)
def test_no_result_recommendation_over_graphql(
    real_data: Graph, patients: dict[str, str], name: str, drug: str, gene: str, auth_settings: AuthSettings
) -> None:
    """CPIC's recommendation keyed on ``<gene>: No Result`` is the answer; the answer names the gene."""
    token = token_for(auth_settings, Role.CLINICIAN, "test-api-clinician", patients=frozenset({patients[name]}))
    with TestClient(create_app(real_data.settings, auth=auth_settings), headers=bearer(token)) as client:
        body = client.post("/graphql", json={"query": PGX, "variables": {"id": patients[name], "drug": drug}}).json()
    assert "errors" not in body, body["errors"]
    (cpic,) = [a for a in body["data"]["patient"]["pharmacogenomics"] if a["guideline"] == "CPIC"]
    (expected,) = [
        g for g in EXPECTED["examples"][name]["drugs"]["CPIC"][drug] if g["guideline"] == cpic["guidelineName"]
    ]
    assert cpic["state"] == expected["state"] == "RECOMMENDATION"
    assert cpic["genesWithoutResult"] == [gene] and gene in cpic["reason"] and "outside call" in cpic["reason"]
    assert sorted((r["population"], r["strength"]) for r in cpic["recommendations"]) == sorted(
        (r["population"], r["strength"]) for r in expected["recommendations"]
    )
    for rec in cpic["recommendations"]:
        assert rec["lookupKey"][gene] == "No Result" and f"{gene}:No Result" in rec["phenotypes"]
        # the path shows the recommendation's No Result key, never a patient link the patient does not have
        ends = {(s["relationship"], s["end"]["id"]) for s in rec["path"]}
        assert ("FOR_PHENOTYPE", f"{gene}:No Result") in ends and ("HAS_DIPLOTYPE", f"{gene}:No Result") not in ends

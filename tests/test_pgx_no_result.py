"""PGx answers for genes without a result, on the seeds (or the real release when it is loaded).

CPIC keys some recommendations on ``No Result`` for one gene of a multi-gene guideline
(azathioprine: ``{"NUDT15": "No Result", "TPMT": "Normal Metabolizer"}``); that recommendation is
the answer for a patient whose NUDT15 has no result (issue 15). Every drug of a guideline is
answered, also one whose guideline has no recommendation row for it (CPIC warfarin). Patients are
linked directly; the expected recommendations are read from the graph.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg.db import Graph
from kg.queries.pgx import NO_RESULT, pharmacogenomics

PREFIX = "test-pgx-no-result-"


@pytest.fixture(scope="module")
def kg(seeded: Graph) -> Iterator[Graph]:
    yield seeded
    seeded.write("MATCH (p:Patient) WHERE p.id STARTS WITH $p DETACH DELETE p", p=PREFIX)


def _patient(graph: Graph, name: str, phenotypes: list[str], status: str = "called") -> str:
    pid = PREFIX + name
    graph.write("MATCH (p:Patient {id: $id}) DETACH DELETE p", id=pid)
    graph.write("CREATE (:Patient {id: $id, assembly: 'GRCh38'})", id=pid)
    for phenotype in phenotypes:
        created = graph.write(
            "MATCH (p:Patient {id: $id}), (ph:Phenotype {id: $ph}) CREATE (p)-[:HAS_DIPLOTYPE {gene: ph.gene, "
            "status: CASE WHEN ph.id ENDS WITH $nr THEN 'no_data' ELSE $status END, source: 'vcf'}]->(ph) "
            "RETURN ph.id AS id",
            id=pid,
            ph=phenotype,
            status=status,
            nr=NO_RESULT,
        )
        assert created, f"{phenotype} is not in the graph"
    return pid


def _keyed(graph: Graph, drug: str, *phenotypes: str) -> set[str]:
    """Ids of the CPIC recommendations for ``drug`` keyed on exactly these phenotypes."""
    rows = graph.read(
        "MATCH (r:Recommendation {guideline: 'CPIC'})-[:FOR_DRUG]->(:Drug {id: $drug}) "
        "WITH r, [(r)-[:FOR_PHENOTYPE]->(p) | p.id] AS keyed "
        "WHERE size(keyed) = size($ids) AND all(i IN $ids WHERE i IN keyed) RETURN r.id AS id",
        drug=drug,
        ids=list(phenotypes),
    )
    return {r["id"] for r in rows}


@pytest.mark.parametrize("linked", [False, True], ids=["no NUDT15 link", "NUDT15 linked No Result"])
def test_the_no_result_recommendation_is_the_answer(kg: Graph, linked: bool) -> None:
    expected = _keyed(kg, "azathioprine", f"NUDT15:{NO_RESULT}", "TPMT:Normal Metabolizer")
    assert expected, "CPIC keys azathioprine on NUDT15 No Result"
    phenotypes = ["TPMT:Normal Metabolizer"] + ([f"NUDT15:{NO_RESULT}"] if linked else [])
    pid = _patient(kg, f"tpmt-{linked}", phenotypes)
    (cpic,) = [a for a in pharmacogenomics(kg, pid, "azathioprine") if a.guideline == "CPIC"]
    assert cpic.state == "RECOMMENDATION"
    assert {r.id for r in cpic.recommendations} == expected
    assert cpic.genes_without_result == ["NUDT15"]
    assert cpic.reason and "NUDT15" in cpic.reason and "outside call" in cpic.reason
    for rec in cpic.recommendations:
        steps = {(s.relationship, s.end.id) for s in rec.path}
        assert ("FOR_PHENOTYPE", f"NUDT15:{NO_RESULT}") in steps
        assert (("HAS_DIPLOTYPE", f"NUDT15:{NO_RESULT}") in steps) == linked  # only links the patient has


def test_a_gene_with_a_result_never_matches_no_result(kg: Graph) -> None:
    pid = _patient(kg, "both", ["TPMT:Normal Metabolizer", "NUDT15:Normal Metabolizer"])
    (cpic,) = [a for a in pharmacogenomics(kg, pid, "azathioprine") if a.guideline == "CPIC"]
    assert cpic.state == "RECOMMENDATION" and cpic.genes_without_result == [] and cpic.reason is None
    assert {r.id for r in cpic.recommendations} == _keyed(
        kg, "azathioprine", "NUDT15:Normal Metabolizer", "TPMT:Normal Metabolizer"
    )


def test_without_a_no_result_key_it_cannot_be_determined(kg: Graph) -> None:
    # DPWG's mercaptopurine guideline on NUDT15 alone has no "No Result" key
    pid = _patient(kg, "tpmt-only", ["TPMT:Normal Metabolizer"])
    answers = [a for a in pharmacogenomics(kg, pid, "mercaptopurine") if a.genes == ["NUDT15"]]
    assert answers and all(a.state == "CANNOT_BE_DETERMINED" and not a.recommendations for a in answers)
    assert all(a.genes_without_result == ["NUDT15"] and "NUDT15" in (a.reason or "") for a in answers)


def test_every_drug_of_every_guideline_is_answered(kg: Graph) -> None:
    pid = _patient(kg, "every", ["TPMT:Normal Metabolizer"])
    answered = {(a.drug.id, a.guideline_name) for a in pharmacogenomics(kg, pid)}
    covered = {
        (r["drug"], r["name"])
        for r in kg.read(
            "MATCH (gl:Guideline)-[:FOR_DRUG]->(d:Drug) WHERE EXISTS { (gl)-[:ASSERTED_BY]->(:Source {status: 'active'}) } "
            "RETURN d.id AS drug, gl.name AS name"
        )
    }
    assert covered and answered == covered
    # CPIC's warfarin guideline is a dosing algorithm: no recommendation row, still an answer
    (warfarin,) = [a for a in pharmacogenomics(kg, pid, "warfarin") if a.guideline == "CPIC"]
    url = kg.read("MATCH (gl:Guideline {source: 'CPIC'})-[:FOR_DRUG]->(:Drug {id: 'warfarin'}) RETURN gl.url AS u")[0][
        "u"
    ]
    assert warfarin.state == "NO_RECOMMENDATION" and not warfarin.recommendations and url in (warfarin.reason or "")
    assert warfarin.genes == ["CYP2C9", "CYP4F2", "VKORC1"]


def test_a_patient_without_pgx_results(kg: Graph) -> None:
    pid = _patient(kg, "none", [])
    assert pharmacogenomics(kg, pid) == []
    asked = pharmacogenomics(kg, pid, "azathioprine")
    assert asked and all(a.state == "CANNOT_BE_DETERMINED" for a in asked)

"""Cohort phenotype counts (kg.queries.cohort.cohort_phenotypes) on the seeds: per phenotype of a gene its
patients, the first ``limit`` ids in id order and the diplotypes behind the calls, counted per value in order of
first appearance (patient-id order), within the caller's patient scope. The answer is aggregated in the
database (issue 12, Scale): these pin what the earlier per-patient lists gave."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg.db import Graph
from kg.queries.cohort import cohort_actionable, cohort_phenotypes

PREFIX = "test-cohort-pheno-"


@pytest.fixture(scope="module")
def kg(seeded: Graph) -> Iterator[tuple[Graph, str, str]]:
    """The seeded graph with six patients linked to two CYP2C19 phenotypes (a, b)."""
    phenotypes = [
        r["id"] for r in seeded.read("MATCH (ph:Phenotype {gene: 'CYP2C19'}) RETURN ph.id AS id ORDER BY id LIMIT 2")
    ]
    assert len(phenotypes) == 2
    a, b = phenotypes
    links = [  # patient, phenotype, diplotype (None: an edge without one)
        ("p1", a, "*2/*2"),
        ("p2", a, "*2/*3"),
        ("p2", b, "*1/*1"),
        ("p3", a, "*2/*3"),
        ("p4", a, None),
        ("p5", a, "*2/*2"),
        ("p6", b, "*1/*17"),
    ]
    seeded.write(
        "UNWIND $links AS l MERGE (p:Patient {id: $prefix + l.patient}) WITH p, l "
        "MATCH (ph:Phenotype {id: l.phenotype}) "
        "CREATE (p)-[h:HAS_DIPLOTYPE {gene: 'CYP2C19', status: 'called'}]->(ph) SET h.diplotype = l.diplotype",
        links=[{"patient": p, "phenotype": ph, "diplotype": d} for p, ph, d in links],
        prefix=PREFIX,
    )
    yield seeded, a, b
    seeded.write("MATCH (p:Patient) WHERE p.id STARTS WITH $p DETACH DELETE p", p=PREFIX)


def _ids(*names: str) -> list[str]:
    return [PREFIX + n for n in names]


def test_counts_ids_and_diplotypes_in_first_appearance_order(kg: tuple[Graph, str, str]) -> None:
    graph, a, b = kg
    answer = cohort_phenotypes(graph, "CYP2C19", limit=3, patients=frozenset(_ids("p1", "p2", "p3", "p4", "p5", "p6")))
    assert answer.patients == 6  # p2 holds both phenotypes: counted once
    assert [(p.id, p.patients, p.patient_ids) for p in answer.phenotypes] == [
        (a, 5, _ids("p1", "p2", "p3")),
        (b, 2, _ids("p2", "p6")),
    ]
    assert [(d.key, d.count) for d in answer.phenotypes[0].diplotypes] == [("*2/*2", 2), ("*2/*3", 2)]
    assert [(d.key, d.count) for d in answer.phenotypes[1].diplotypes] == [("*1/*1", 1), ("*1/*17", 1)]
    assert answer.releases  # the pharmcat seed release asserting the phenotypes


def test_scope_limits_counts_ids_and_order(kg: tuple[Graph, str, str]) -> None:
    graph, a, _ = kg
    answer = cohort_phenotypes(graph, "CYP2C19", limit=3, patients=frozenset(_ids("p2", "p3", "p4", "p5")))
    assert answer.patients == 4
    first = answer.phenotypes[0]
    assert (first.id, first.patients, first.patient_ids) == (a, 4, _ids("p2", "p3", "p4"))
    # without p1, *2/*3 (p2) appears before *2/*2 (p5)
    assert [(d.key, d.count) for d in first.diplotypes] == [("*2/*3", 2), ("*2/*2", 1)]
    assert cohort_phenotypes(graph, "CYP2C19", patients=frozenset()).phenotypes == []


# --- actionable by drug: a recommendation for several phenotypes applies when the patient holds every one ---

DRUG = "test-cohort-drug"
REC = "test-cohort-rec-two-genes"


@pytest.fixture(scope="module")
def two_gene_rec(kg: tuple[Graph, str, str]) -> Iterator[tuple[Graph, str]]:
    """A drug with one recommendation keyed on phenotype a (CYP2C19) and a phenotype of another gene; p7 holds
    both, p8 only a (p1..p6 of ``kg``: a or b, never the other gene's)."""
    graph, a, _ = kg
    other = graph.read(
        "MATCH (ph:Phenotype) WHERE ph.gene <> 'CYP2C19' AND ph.gene IS NOT NULL "
        "AND EXISTS { (ph)-[:ASSERTED_BY]->(:Source {status: 'active'}) } RETURN ph.id AS id ORDER BY id LIMIT 1"
    )[0]["id"]
    graph.write(
        "MATCH (s:Source {status: 'active'}) WHERE s.key STARTS WITH 'pharmcat@' WITH s LIMIT 1 "
        "MATCH (a:Phenotype {id: $a}), (o:Phenotype {id: $other}) "
        "CREATE (d:Drug {id: $drug, name: $drug})-[:ASSERTED_BY]->(s) "
        "CREATE (r:Recommendation {id: $rec, guideline: 'CPIC', strength: 'Strong', noRecommendation: false, "
        "       text: 'Test: both phenotypes.'})-[:ASSERTED_BY]->(s) "
        "CREATE (r)-[:FOR_DRUG]->(d), (r)-[:FOR_PHENOTYPE]->(a), (r)-[:FOR_PHENOTYPE]->(o) "
        "WITH a, o UNWIND [['p7', true], ['p8', false]] AS x "
        "MERGE (p:Patient {id: $prefix + x[0]}) CREATE (p)-[:HAS_DIPLOTYPE {diplotype: '*2/*2'}]->(a) "
        "FOREACH (_ IN CASE WHEN x[1] THEN [1] ELSE [] END | CREATE (p)-[:HAS_DIPLOTYPE]->(o))",
        a=a,
        other=other,
        drug=DRUG,
        rec=REC,
        prefix=PREFIX,
    )
    yield graph, other
    graph.write("MATCH (n) WHERE n.id IN [$drug, $rec] DETACH DELETE n", drug=DRUG, rec=REC)


def test_recommendation_for_two_phenotypes_needs_both(two_gene_rec: tuple[Graph, str]) -> None:
    graph, _ = two_gene_rec
    answer = cohort_actionable(graph, drug=DRUG, patients=frozenset(_ids("p1", "p2", "p7", "p8")))
    assert [(p.id, p.recommendations) for p in answer.patients] == [(PREFIX + "p7", [REC])]
    assert (answer.total_count, answer.via_recommendation, answer.via_evidence) == (1, 1, 0)
    assert answer.releases and all(k.startswith("pharmcat@") for k in answer.releases)

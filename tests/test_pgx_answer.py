"""The PGx answer as one statement (kg/queries/pgx.py ``_answer_statement``, issue 12): the one-drug
statement and the every-drug statement give the same answers for a drug, the drug is resolved by the
resolver's rule inside the statement (its errors as before), and the rows read ``plain_`` are the rows
``Record.data()`` gives."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from kg.db import Graph
from kg.loaders.seeds import default_seed_dir
from kg.matcher.match import delete_patient, match_patient
from kg.queries import pgx
from kg.queries.answers import UnknownPatient
from kg.queries.resolve import UnknownEntity, drug_params
from kg.queries.visibility import state_params

PATIENT = "test-pgx-answer"


@pytest.fixture(scope="module")
def patient(seeded: Graph) -> Iterator[str]:
    match_patient(seeded, default_seed_dir() / "patients" / "demo.vcf", patient_id=PATIENT)
    yield PATIENT
    delete_patient(seeded, PATIENT)


def _plain(answers: list[pgx.PgxAnswer]) -> list[dict[str, object]]:
    return [dataclasses.asdict(a) for a in answers]


def test_one_drug_answers_are_the_every_drug_answers_for_that_drug(seeded: Graph, patient: str) -> None:
    every = pgx.pharmacogenomics(seeded, patient)
    drugs = sorted({a.drug.id for a in every})
    assert len(drugs) > 5 and any(a.state == pgx.PgxState.RECOMMENDATION for a in every)
    for drug in drugs:
        one = pgx.pharmacogenomics(seeded, patient, drug)
        assert _plain(one) == _plain([a for a in every if a.drug.id == drug]), drug
    # asked by name, as a prescribing system asks: the same answers as by key
    clopidogrel = pgx.pharmacogenomics(seeded, patient, "Clopidogrel")
    assert clopidogrel and {a.drug.id for a in clopidogrel} == {"clopidogrel"}


def test_an_unknown_drug_or_patient_is_the_same_error_as_before(seeded: Graph, patient: str) -> None:
    with pytest.raises(UnknownEntity, match="unknown drug 'no-such-drug'"):
        pgx.pharmacogenomics(seeded, patient, "no-such-drug")
    with pytest.raises(UnknownPatient):
        pgx.pharmacogenomics(seeded, "test-pgx-answer-nobody", "clopidogrel")
    with pytest.raises(UnknownPatient):
        pgx.pharmacogenomics(seeded, "test-pgx-answer-nobody")


def test_plain_rows_are_the_rows_record_data_gives(seeded: Graph, patient: str) -> None:
    for statement, asked in ((pgx.ALL_DRUGS_ANSWER, {}), (pgx.ONE_DRUG_ANSWER, drug_params("clopidogrel"))):
        params = dict(patient=patient, noResult=pgx.NO_RESULT, **asked, **state_params(None))
        plain = seeded.read(statement, plain_=True, **params)
        assert plain == seeded.read(statement, **params)
        assert plain[0]["matches"] and plain[0]["guidelines"]


# --- the guidelines' gene sets: stored at load time, walked when absent -----------------------------

GENE_SET_EDGES = """
MATCH (gl:Guideline)-[a:ASSERTED_BY]->(s:Source {status: 'active'})
RETURN gl.id AS id, s.key AS key, a.geneSetDrugs AS drugs, a.geneSetGenes AS genes
"""
SET_GENE_SETS = """
UNWIND $rows AS row
MATCH (:Guideline {id: row.id})-[a:ASSERTED_BY]->(:Source {key: row.key})
SET a.geneSetDrugs = row.drugs, a.geneSetGenes = row.genes
"""


@pytest.fixture
def stored_gene_sets(seeded: Graph) -> Iterator[list[dict[str, object]]]:
    """The stored gene sets, put back as they were after the test."""
    rows = seeded.read(GENE_SET_EDGES)
    assert rows and all(r["drugs"] is not None for r in rows)  # the loader stored them
    yield rows
    seeded.write(SET_GENE_SETS, rows=rows)


def test_answers_are_the_same_without_the_stored_gene_sets(
    seeded: Graph, patient: str, stored_gene_sets: list[dict[str, object]]
) -> None:
    """A release loaded before the gene sets were stored: the statement walks the recommendations."""
    every, one = pgx.pharmacogenomics(seeded, patient), pgx.pharmacogenomics(seeded, patient, "warfarin")
    seeded.write(SET_GENE_SETS, rows=[{**r, "drugs": None, "genes": None} for r in stored_gene_sets])
    assert _plain(pgx.pharmacogenomics(seeded, patient)) == _plain(every)
    assert _plain(pgx.pharmacogenomics(seeded, patient, "warfarin")) == _plain(one)
    # one guideline without them (the others with): the same again
    seeded.write(SET_GENE_SETS, rows=stored_gene_sets[1:])
    assert _plain(pgx.pharmacogenomics(seeded, patient)) == _plain(every)


def test_the_stored_gene_sets_are_what_the_answer_reads(
    seeded: Graph, patient: str, stored_gene_sets: list[dict[str, object]]
) -> None:
    """Changing a guideline's stored set changes the genes its answer needs: the walk is not run."""
    (before,) = [a for a in pgx.pharmacogenomics(seeded, patient, "clopidogrel") if a.guideline == "CPIC"]
    assert before.genes == ["CYP2C19"]
    cpic = seeded.read(
        "MATCH (:Drug {id: 'clopidogrel'})<-[:FOR_DRUG]-(gl:Guideline {source: 'CPIC'})-[:ASSERTED_BY]->"
        "(s:Source {status: 'active'}) RETURN gl.id AS id, s.key AS key"
    )
    seeded.write(SET_GENE_SETS, rows=[{**r, "drugs": ["clopidogrel"], "genes": ["CYP2C19,CYP2C9"]} for r in cpic])
    (after,) = [a for a in pgx.pharmacogenomics(seeded, patient, "clopidogrel") if a.guideline == "CPIC"]
    assert after.genes == ["CYP2C19", "CYP2C9"]


# --- the activity score of a gene call ---------------------------------------------------------------


def _row(phenotype_id: str, score: str | None, link: dict[str, object]) -> dict[str, object]:
    gene, phenotype = phenotype_id.split(":", 1)
    return {"gene": gene, "phenotypeId": phenotype_id, "phenotype": phenotype, "activityScore": score, "call": link}


def test_the_activity_score_does_not_depend_on_the_order_of_the_links() -> None:
    """CYP2C9 *1/*1 links CPIC's ``CYP2C9:2.0`` and DPWG's ``CYP2C9:Normal Metabolizer`` (no score on
    the Phenotype): the score was the first link's Phenotype's, null or 2.0 by storage order."""
    cpic = _row("CYP2C9:2.0", "2.0", {"diplotype": "*1/*1", "guideline": "CPIC", "activityScore": "2.0"})
    dpwg = _row("CYP2C9:Normal Metabolizer", None, {"diplotype": "*1/*1", "guideline": "DPWG"})
    for rows in ([cpic, dpwg], [dpwg, cpic]):
        assert pgx.gene_calls(rows)["CYP2C9"].activity_score == "2.0"
    # the link states it even where its Phenotype does not (the matcher writes the call's score)
    dpwg_stated = _row("CYP2C9:Normal Metabolizer", None, {"guideline": "DPWG", "activityScore": "2.0"})
    assert pgx.gene_calls([dpwg_stated])["CYP2C9"].activity_score == "2.0"
    # CPIC's score before another guideline's; candidates that differ in score: none named
    d6 = [_row("CYP2D6:1.25", "1.25", {"guideline": "DPWG"}), _row("CYP2D6:1.0", "1.0", {"guideline": "CPIC"})]
    assert pgx.gene_calls(d6)["CYP2D6"].activity_score == "1.0"
    assert pgx.gene_calls(d6[::-1])["CYP2D6"].activity_score == "1.0"
    ambiguous = [_row("DPYD:1.0", "1.0", {"ambiguous": True}), _row("DPYD:1.5", "1.5", {"ambiguous": True})]
    assert pgx.gene_calls(ambiguous)["DPYD"].activity_score is None
    assert pgx.gene_calls([_row("CYP2C19:Poor Metabolizer", None, {})])["CYP2C19"].activity_score is None


def test_the_activity_score_read_from_the_graph_is_the_same_in_either_link_order(seeded: Graph) -> None:
    """The same two links created in both orders (a re-match may store them either way round)."""
    scored = seeded.read(
        "MATCH (ph:Phenotype) WHERE ph.activityScore IS NOT NULL AND EXISTS { MATCH (o:Phenotype {gene: ph.gene}) "
        "WHERE o.activityScore IS NULL } RETURN ph.id AS id, ph.gene AS gene, ph.activityScore AS score "
        "ORDER BY id LIMIT 1"
    )
    assert scored, "the seeds hold a gene with scored and unscored Phenotypes"
    (ph,) = scored
    other = seeded.read(
        "MATCH (o:Phenotype {gene: $gene}) WHERE o.activityScore IS NULL RETURN o.id AS id ORDER BY id LIMIT 1",
        gene=ph["gene"],
    )[0]["id"]
    found = []
    for order in ([ph["id"], other], [other, ph["id"]]):
        pid = f"{PATIENT}-order"
        seeded.write("MERGE (p:Patient {id: $id}) WITH p OPTIONAL MATCH (p)-[r]->() DELETE r", id=pid)
        for phenotype, guideline in zip(
            order, ["CPIC", "DPWG"] if order[0] == ph["id"] else ["DPWG", "CPIC"], strict=True
        ):
            seeded.write(
                "MATCH (p:Patient {id: $id}), (ph:Phenotype {id: $ph}) "
                "CREATE (p)-[:HAS_DIPLOTYPE {gene: ph.gene, diplotype: '*1/*1', status: 'called', guideline: $gl}]->(ph)",
                id=pid,
                ph=phenotype,
                gl=guideline,
            )
        found.append(pgx.patient_gene_calls(seeded, pid)[ph["gene"]].activity_score)
        delete_patient(seeded, pid)
    assert found == [ph["score"], ph["score"]]

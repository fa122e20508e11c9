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

"""The patient answers a ``patient`` query asks for, started with the patient's record (api/patients.py
``_prefetch``, issue 12): the same answers as the field-by-field path, the one-drug question read with the
record in one statement, every read audited before its data leaves, and no data when the audit fails."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.audit import AuditLog
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.db import Graph
from kg.loaders.seeds import default_seed_dir
from kg.matcher.match import delete_patient, match_patient
from kg.queries import patient_view, pgx
from tests.api_graph import bearer, token_for
from tests.counting import Calls

PATIENT = "test-api-prefetch"
DISEASE = "DOID:1909"  # melanoma: the demo patient's BRAF V600E has therapies in it

PGX = """drug { id name } guideline guidelineName state reason genes genesWithoutResult releases asOf
  diplotypes { gene diplotype phenotype phenotypes activityScore status }
  recommendations { id lookupKey text strength population phenotypes path { relationship end { id } } sources { release fact } }"""
THERAPIES = (
    "evidenceId significance direction level therapies releases path { relationship end { id } } sources { release }"
)
RISKS = "gene variant evidenceId classification stars zygosity status releases path { relationship end { id } }"

ONE_DRUG = f'id origin conditions {{ id }} pharmacogenomics(drug: "clopidogrel") {{ {PGX} }}'
SUMMARY = f"""id pharmacogenomics {{ {PGX} }} targetedTherapies(disease: "{DISEASE}") {{ {THERAPIES} }}
  risks {{ {RISKS} }} diagnosticPrognostic {{ evidenceId }}"""
UNKNOWN_DRUG = 'id pharmacogenomics(drug: "no-such-drug") { state }'


def prefetched(patient: str, fields: str) -> str:
    """The fields right under ``patient``: the path ``_prefetch`` takes."""
    return f'{{ patient(id: "{patient}") {{ {fields} }} }}'


def field_by_field(patient: str, fields: str) -> str:
    """The same fields in an inline fragment: ``_prefetch`` leaves them to their own resolvers."""
    return f'{{ patient(id: "{patient}") {{ ... on Patient {{ {fields} }} }} }}'


@pytest.fixture(scope="module")
def patient(seeded: Graph) -> Iterator[str]:
    match_patient(seeded, default_seed_dir() / "patients" / "demo.vcf", patient_id=PATIENT, disease=DISEASE)
    yield PATIENT
    delete_patient(seeded, PATIENT)


@pytest.fixture(scope="module")
def client(seeded: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    """Without kept answers: these tests count what each request reads (kept answers: test_answer_cache.py)."""
    token = token_for(auth_settings, Role.CLINICIAN, "test-api-prefetch", all_patients=True)
    settings = dataclasses.replace(seeded.settings, answer_cache=0)
    with TestClient(create_app(settings, auth=auth_settings), headers=bearer(token)) as c:
        yield c


def _post(client: TestClient, query: str, request_id: str | None = None) -> dict[str, Any]:
    headers = {"X-Request-ID": request_id} if request_id else {}
    response = client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _errors(body: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(e["message"], e.get("path"), (e.get("extensions") or {}).get("code")) for e in body.get("errors") or ()]


def test_prefetched_answers_are_the_field_by_field_answers(
    client: TestClient, patient: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    combined = Calls(monkeypatch, pgx, "patient_pharmacogenomics")
    alone = Calls(monkeypatch, patient_view, "find_patient")
    for fields in (ONE_DRUG, SUMMARY):
        ahead = _post(client, prefetched(patient, fields))
        assert (combined.count, alone.count) == (1, 0), fields  # record and PGx answer: one statement
        apart = _post(client, field_by_field(patient, fields))
        assert (combined.count, alone.count) == (1, 1), fields
        assert "errors" not in ahead and "errors" not in apart
        assert ahead == apart
        combined.count = alone.count = 0
    one = _post(client, prefetched(patient, ONE_DRUG))["data"]["patient"]
    assert one["id"] == patient and [c["id"] for c in one["conditions"]] == [DISEASE]
    clopidogrel = [a for a in one["pharmacogenomics"] if a["state"] == "RECOMMENDATION"]
    assert clopidogrel and {a["drug"]["id"] for a in one["pharmacogenomics"]} == {"clopidogrel"}
    assert all(r["path"] and r["sources"] for a in clopidogrel for r in a["recommendations"])


def test_an_unknown_drug_or_patient_answers_as_field_by_field(client: TestClient, patient: str) -> None:
    ahead, apart = (
        _post(client, prefetched(patient, UNKNOWN_DRUG)),
        _post(client, field_by_field(patient, UNKNOWN_DRUG)),
    )
    assert ahead["data"] == apart["data"] == {"patient": None}
    assert _errors(ahead) == _errors(apart) and _errors(ahead)[0][2] == "BAD_INPUT"
    nobody = "test-api-prefetch-nobody"
    for fields in (ONE_DRUG, SUMMARY):
        assert _post(client, prefetched(nobody, fields)) == {"data": {"patient": None}}


def test_every_read_is_audited_and_an_unknown_patient_says_so(
    client: TestClient, patient: str, auth_settings: AuthSettings
) -> None:
    log = AuditLog(auth_settings.audit_log)
    for n, fields in enumerate((ONE_DRUG, SUMMARY)):
        request = f"test-api-prefetch-audit-{n}"
        assert _post(client, prefetched(patient, fields), request)["data"]["patient"]["id"] == patient
        mine = [(e.who, e.operation, e.patients, e.outcome) for e in log.entries() if e.request == request]
        assert mine == [("test-api-prefetch", "patient", [patient], "ok")]
    nobody = "test-api-prefetch-nobody"
    _post(client, prefetched(nobody, ONE_DRUG), "test-api-prefetch-audit-nobody")
    mine = [(e.patients, e.outcome) for e in log.entries() if e.request == "test-api-prefetch-audit-nobody"]
    assert mine == [([nobody], "ok"), ([nobody], "not_found")]  # the read, then what it found
    assert log.verify().ok


def test_an_audit_that_fails_withholds_the_data(seeded: Graph, patient: str, tmp_path: Path) -> None:
    """The audit log cannot be written (its path is a folder): no answer leaves, prefetched or not."""
    (tmp_path / "audit-is-a-folder").mkdir()
    settings = AuthSettings(home=tmp_path, audit_path=tmp_path / "audit-is-a-folder")
    token = token_for(settings, Role.CLINICIAN, "test-api-prefetch-noaudit", all_patients=True)
    with TestClient(create_app(seeded.settings, auth=settings), headers=bearer(token)) as broken:
        for query in (prefetched(patient, ONE_DRUG), prefetched(patient, SUMMARY), field_by_field(patient, SUMMARY)):
            response = broken.post("/graphql", json={"query": query})
            body = response.json()
            assert body["data"] == {"patient": None}, query
            assert [code for *_, code in _errors(body)] == ["INTERNAL"]
            text = json.dumps(body)
            assert "CYP2C19" not in text and "clopidogrel" not in text and patient not in text


def test_reads_run_on_at_most_the_api_threads_at_once(
    seeded: Graph, patient: str, auth_settings: AuthSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers a summary starts together share ``KG_API_THREADS`` worker threads (api.app, Context.run):
    with 2, never more than 2 reads at once (and 2 do overlap); with 8, the same query has more."""
    lock, now, most = threading.Lock(), [0], [0]
    read = Graph.read

    def slow_read(self: Graph, *args: Any, **kwargs: Any) -> Any:
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            time.sleep(0.05)  # long enough for the other answers' reads to start if they may
            return read(self, *args, **kwargs)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(Graph, "read", slow_read)
    token = token_for(auth_settings, Role.CLINICIAN, "test-api-threads", all_patients=True)
    seen = {}
    for threads in (2, 8):
        most[0] = 0
        settings = dataclasses.replace(seeded.settings, api_threads=threads)
        with TestClient(create_app(settings, auth=auth_settings), headers=bearer(token)) as c:
            body = _post(c, prefetched(patient, SUMMARY))
        assert "errors" not in body and body["data"]["patient"]["risks"]
        seen[threads] = most[0]
    assert seen[2] == 2 and seen[8] > 2, seen

"""Answers kept while the database commits nothing (kg/answer_cache.py, used by the API's patient answers):
given again only in the state they were read in, retired by any commit, never kept when something
committed while they were read; through the API the same bytes, every read still audited, a deleted
or changed patient seen at once."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.audit import AuditLog
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.answer_cache import AnswerCache
from kg.db import Graph
from kg.loaders.seeds import default_seed_dir
from kg.matcher.match import delete_patient, match_patient
from tests.api_graph import bearer, token_for
from tests.counting import Calls

PATIENT = "test-answer-cache"
DISEASE = "DOID:1909"
MARK = "test-answer-cache-mark"
SUMMARY = f"""{{ patient(id: "{PATIENT}") {{ id pharmacogenomics {{ drug {{ id }} state recommendations {{ id text }} }}
  targetedTherapies(disease: "{DISEASE}") {{ evidenceId significance therapies path {{ end {{ id }} }} }}
  risks {{ gene variant classification }} }} }}"""


class Reads:
    """A question's reading function that counts its calls (and can do something while it reads)."""

    def __init__(self, value: Any = "answer", during: Any = None) -> None:
        self.count, self.value, self.during = 0, value, during

    def __call__(self) -> Any:
        self.count += 1
        if self.during is not None:
            self.during()
        return self.value


def _commit(graph: Graph) -> None:
    """Something committed that no answer reads: a node of this test's own."""
    graph.write("MERGE (m:TestAnswerCache {id: $id}) SET m.at = timestamp()", id=MARK)


@pytest.fixture
def graph_marked(graph: Graph) -> Iterator[Graph]:
    yield graph
    graph.write("MATCH (m:TestAnswerCache {id: $id}) DETACH DELETE m", id=MARK)


def _ask(cache: AnswerCache, graph: Graph, key: tuple[Any, ...], read: Any) -> Any:
    return cache.answer(key, graph.committed(), read, graph.committed)


def test_an_answer_is_read_once_while_nothing_is_committed(graph_marked: Graph) -> None:
    cache, read = AnswerCache(8), Reads(value=["kept"])
    first = _ask(cache, graph_marked, ("q", 1), read)
    again = _ask(cache, graph_marked, ("q", 1), read)
    assert read.count == 1 and again is first
    other = Reads(value=["other"])
    assert _ask(cache, graph_marked, ("q", 2), other) == ["other"] and other.count == 1  # another question
    assert (cache.counts.hits, cache.counts.misses, cache.counts.kept) == (1, 2, 2)


def test_any_commit_retires_every_kept_answer(graph_marked: Graph) -> None:
    cache, read = AnswerCache(8), Reads()
    before = graph_marked.committed()
    _ask(cache, graph_marked, ("q",), read)
    _commit(graph_marked)
    assert graph_marked.committed() != before
    _ask(cache, graph_marked, ("q",), read)
    assert read.count == 2
    _ask(cache, graph_marked, ("q",), read)
    assert read.count == 2  # kept again, in the new state


def test_an_answer_read_while_something_commits_is_given_but_not_kept(graph_marked: Graph) -> None:
    cache = AnswerCache(8)
    read = Reads(during=lambda: _commit(graph_marked))
    assert _ask(cache, graph_marked, ("q",), read) == "answer"
    assert cache.counts.not_kept == 1 and len(cache) == 0
    read.during = None
    _ask(cache, graph_marked, ("q",), read)
    _ask(cache, graph_marked, ("q",), read)
    assert read.count == 2  # read again once, then kept


def test_a_failed_read_is_not_kept(graph_marked: Graph) -> None:
    cache, calls = AnswerCache(8), [0]

    def failing() -> str:
        calls[0] += 1
        raise LookupError("no such drug")

    for _ in range(2):
        with pytest.raises(LookupError):
            _ask(cache, graph_marked, ("q",), failing)
    assert calls == [2] and len(cache) == 0


def test_the_least_recently_asked_answer_goes_first(graph_marked: Graph) -> None:
    cache = AnswerCache(2)
    reads = {k: Reads(value=k) for k in "abc"}
    for k in "ab":
        _ask(cache, graph_marked, (k,), reads[k])
    _ask(cache, graph_marked, ("a",), reads["a"])  # a asked last: b is the least recent
    _ask(cache, graph_marked, ("c",), reads["c"])
    assert len(cache) == 2
    for k in "ac":
        _ask(cache, graph_marked, (k,), reads[k])
    _ask(cache, graph_marked, ("b",), reads["b"])
    assert {k: r.count for k, r in reads.items()} == {"a": 1, "b": 2, "c": 1}


def test_an_unhashable_question_is_read_every_time(graph_marked: Graph) -> None:
    cache, read = AnswerCache(8), Reads()
    for _ in range(2):
        _ask(cache, graph_marked, ("q", ["a list"]), read)
    assert read.count == 2 and len(cache) == 0


def test_two_callers_asking_together_read_once(graph_marked: Graph) -> None:
    cache, read = AnswerCache(8), Reads(during=lambda: time.sleep(0.3))
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(_ask(cache, graph_marked, ("q",), read))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read.count == 1 and got == ["answer", "answer"]


# --- through the API -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def patient(seeded: Graph) -> Iterator[str]:
    match_patient(seeded, default_seed_dir() / "patients" / "demo.vcf", patient_id=PATIENT, disease=DISEASE)
    yield PATIENT
    delete_patient(seeded, PATIENT)


def _client(graph: Graph, auth: AuthSettings, answer_cache: int) -> TestClient:
    token = token_for(auth, Role.CLINICIAN, "test-answer-cache", all_patients=True)
    settings = dataclasses.replace(graph.settings, answer_cache=answer_cache)
    return TestClient(create_app(settings, auth=auth), headers=bearer(token))


BRAF_V600E = "GRCh38:chr7:140753336:A:T"


def _through(summary: bytes, allele: str) -> list[str]:
    """The targeted therapies whose path passes through ``allele``."""
    therapies = json.loads(summary)["data"]["patient"]["targetedTherapies"]
    return [t["evidenceId"] for t in therapies if any(step["end"]["id"] == allele for step in t["path"])]


def _summary(client: TestClient, request: str) -> bytes:
    response = client.post("/graphql", json={"query": SUMMARY}, headers={"X-Request-ID": request})
    assert response.status_code == 200 and b'"errors"' not in response.content, response.text
    return response.content


def test_a_summary_asked_again_is_the_same_and_every_read_is_audited(
    seeded: Graph, patient: str, auth_settings: AuthSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Calls(monkeypatch, Graph, "read")  # every statement an answer runs, not the empty state reads
    with _client(seeded, auth_settings, 0) as uncached:
        read_every_time = _summary(uncached, "test-answer-cache-0")
        first_reads = reads.count
        assert _summary(uncached, "test-answer-cache-0b") == read_every_time and reads.count == 2 * first_reads
    with _client(seeded, auth_settings, 128) as cached:
        reads.count = 0
        first = _summary(cached, "test-answer-cache-1")
        assert reads.count == first_reads
        again = _summary(cached, "test-answer-cache-2")
        assert reads.count == first_reads  # nothing read again: nothing was committed
        admin = bearer(token_for(auth_settings, Role.ADMIN, "test-answer-cache-admin"))
        counts = {
            sample.name: sample.value
            for family in text_string_to_metric_families(cached.get("/metrics", headers=admin).text)
            if family.name.startswith("kg_answer_cache")
            for sample in family.samples
        }
    assert counts["kg_answer_cache_hits_total"] >= 3 and counts["kg_answer_cache_entries"] >= 3  # record, PGx, ...
    assert first == again == read_every_time
    answer = json.loads(first)["data"]["patient"]
    assert _through(first, BRAF_V600E) and any(a["state"] == "RECOMMENDATION" for a in answer["pharmacogenomics"])
    log = AuditLog(auth_settings.audit_log)
    for request in ("test-answer-cache-1", "test-answer-cache-2"):
        assert [(e.operation, e.patients) for e in log.entries() if e.request == request] == [("patient", [patient])]


def test_a_deleted_or_changed_patient_is_seen_at_once(
    seeded: Graph, patient: str, auth_settings: AuthSettings, tmp_path: Path
) -> None:
    with _client(seeded, auth_settings, 128) as client:
        before = _summary(client, "test-answer-cache-before")
        delete_patient(seeded, PATIENT)
        try:
            gone = client.post("/graphql", json={"query": SUMMARY}).json()
            assert gone == {"data": {"patient": None}}
            no_braf = "\n".join(
                line
                for line in (default_seed_dir() / "patients" / "demo.vcf").read_text().splitlines()
                if line.startswith("#") or "\t140753336\t" not in line  # BRAF V600E (GRCh38 chr7:140753336)
            )
            vcf = tmp_path / "no-braf.vcf"
            vcf.write_text(no_braf + "\n")
            match_patient(seeded, vcf, patient_id=PATIENT, disease=DISEASE)
            changed = _summary(client, "test-answer-cache-changed")
            assert _through(before, BRAF_V600E) and not _through(changed, BRAF_V600E)
        finally:
            delete_patient(seeded, PATIENT)
            match_patient(seeded, default_seed_dir() / "patients" / "demo.vcf", patient_id=PATIENT, disease=DISEASE)
        assert _summary(client, "test-answer-cache-after") == before

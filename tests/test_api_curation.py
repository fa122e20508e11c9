"""Curation over GraphQL against a real Neo4j: submissions resolve their references, stay
invisible until accepted, moderation is one-way; the VCF upload reaches the matcher if installed."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api import curation as curation_api
from kg.db import Graph
from kg.matcher.errors import VcfError
from tests import api_graph as t
from tests.api_graph import api_graph, client, error_code, gql  # noqa: F401 (fixtures)

SUBMIT = """mutation($input: EvidenceInput!) { submitEvidence(input: $input) {
  id source status submittedBy submittedAt type level direction significance statement pmids therapies
  disease { id } drugs { id } about { id label } sources { key licence } } }"""

MODERATE = """mutation($id: String!, $decision: ModerationDecision!) {
  moderateEvidence(id: $id, decision: $decision, comment: "checked against the paper", moderator: "test-api-moderator") {
    id status moderatedBy moderatedAt moderationComment submittedBy } }"""

VISIBLE = """query($f: EvidenceFilter) { evidence(filter: $f, first: 100) { totalCount edges { node { id status } } } }"""


def _input(**overrides: object) -> dict:
    base = {
        "variant": "22-1000001-C-G", "drug": "Testapimab", "disease": "test api NSCLC", "type": "predictive",
        "significance": "Resistance", "direction": "supports", "level": "c", "statement": "A curated test statement.",
        "pmids": ["PMID:12345", "678"], "submitter": "test-api-curator",
    }
    return {**base, **overrides}


def _visible_ids(client: TestClient, **filter_: str) -> list[str]:
    body = gql(client, VISIBLE, f=filter_)
    assert "errors" not in body, body
    return [e["node"]["id"] for e in body["data"]["evidence"]["edges"]]


def test_submit_resolves_references_and_stays_invisible_until_accepted(client: TestClient, api_graph: Graph) -> None:
    body = gql(client, SUBMIT, input=_input())
    assert "errors" not in body, body
    item = body["data"]["submitEvidence"]
    assert item["id"].startswith("curated:") and item["source"] == "curated" and item["status"] == "SUBMITTED"
    assert item["submittedBy"] == "test-api-curator" and item["submittedAt"]
    assert (item["type"], item["level"], item["significance"], item["pmids"]) == ("predictive", "C", "resistance", ["12345", "678"])
    assert item["disease"] == {"id": t.D_LUNG} and item["drugs"] == [{"id": t.DRUG1}] and item["therapies"] == ["Test-API-Drugone"]
    assert item["about"] == [{"id": t.V1, "label": "Variant"}]
    assert item["sources"] == [{"key": "curated@live", "licence": "CC0 1.0 (curator submissions)"}]
    source = api_graph.read("MATCH (s:Source {key: 'curated@live'}) RETURN s.name AS name, s.status AS status")
    assert source == [{"name": "curated", "status": "active"}]

    filters = {"variant": t.V1, "significance": "resistance"}
    assert _visible_ids(client, **filters) == []  # SUBMITTED: invisible by default
    assert item["id"] not in _visible_ids(client, drug="tad-1")
    queue = gql(client, '{ curatedEvidence(status: SUBMITTED) { totalCount edges { node { id } } } }')
    assert item["id"] in [e["node"]["id"] for e in queue["data"]["curatedEvidence"]["edges"]]

    accepted = gql(client, MODERATE, id=item["id"], decision="ACCEPTED")["data"]["moderateEvidence"]
    assert accepted["status"] == "ACCEPTED" and accepted["moderatedBy"] == "test-api-moderator"
    assert accepted["moderatedAt"] and accepted["moderationComment"] == "checked against the paper"
    assert _visible_ids(client, **filters) == [item["id"]]  # now an answer shows it, with who and when
    variant = gql(client, 'query($q: String!) { variant(query: $q) { evidence { total bySource { key count } } } }', q=t.V1)
    assert {"key": "curated", "count": 1} in variant["data"]["variant"]["evidence"]["bySource"]


def test_obsolete_disease_is_recorded_as_its_replacement(client: TestClient, api_graph: Graph) -> None:
    body = gql(client, SUBMIT, input=_input(disease=t.D_OLD, variant="TEST-API-G1 V34E"))
    assert "errors" not in body, body
    item = body["data"]["submitEvidence"]
    assert item["disease"] == {"id": t.D_LUNG} and item["about"] == [{"id": t.V1, "label": "Variant"}]
    stored = api_graph.read("MATCH (e:Evidence {id: $id}) RETURN e.diseaseReplacedFrom AS old", id=item["id"])
    assert stored == [{"old": t.D_OLD}]


def test_ambiguous_variant_lists_the_candidates(client: TestClient) -> None:
    body = gql(client, SUBMIT, input=_input(variant="TEST-API-G1 L35Q"))  # two alleles make L35Q
    assert error_code(body) == "BAD_INPUT"
    assert t.V2 in body["errors"][0]["message"] and t.V3 in body["errors"][0]["message"]


def test_rejected_submission_never_shows(client: TestClient) -> None:
    item = gql(client, SUBMIT, input=_input(variant=t.MP1, significance="reduced sensitivity"))["data"]["submitEvidence"]
    assert item["about"] == [{"id": t.MP1, "label": "MolecularProfile"}]
    rejected = gql(client, MODERATE, id=item["id"], decision="REJECTED")["data"]["moderateEvidence"]
    assert rejected["status"] == "REJECTED"
    assert item["id"] not in _visible_ids(client, drug=t.DRUG1, significance="reduced sensitivity")


def test_moderating_anything_but_a_submission_is_refused(client: TestClient) -> None:
    loaded = gql(client, MODERATE, id="test-api:E01", decision="REJECTED")
    assert error_code(loaded) == "BAD_INPUT" and "only SUBMITTED" in loaded["errors"][0]["message"]
    item = gql(client, SUBMIT, input=_input(significance="sensitivity"))["data"]["submitEvidence"]
    assert gql(client, MODERATE, id=item["id"], decision="REJECTED")["data"]["moderateEvidence"]["status"] == "REJECTED"
    again = gql(client, MODERATE, id=item["id"], decision="ACCEPTED")
    assert error_code(again) == "BAD_INPUT" and "REJECTED" in again["errors"][0]["message"]
    assert error_code(gql(client, MODERATE, id="test-api:no-such-item", decision="ACCEPTED")) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"drug": "test-api-no-such-drug"}, "drug 'test-api-no-such-drug'"),
        ({"variant": "22-999-A-T"}, "variant '22-999-A-T'"),
        ({"disease": "test api no such disease"}, "disease 'test api no such disease'"),
        ({"type": "astrology"}, "type 'astrology'"),
        ({"type": "predictive", "drug": None}, "predictive evidence needs a drug"),
        ({"pmids": ["PMC123"]}, "pmids"),
    ],
)
def test_unresolved_or_invalid_submissions_are_bad_input(client: TestClient, overrides: dict, named: str) -> None:
    body = gql(client, SUBMIT, input=_input(**overrides))
    assert error_code(body) == "BAD_INPUT", body
    assert named in body["errors"][0]["message"]


def test_every_problem_is_named_at_once(client: TestClient) -> None:
    body = gql(client, SUBMIT, input=_input(drug="test-api-no-such-drug", variant="22-999-A-T"))
    message = body["errors"][0]["message"]
    assert "drug 'test-api-no-such-drug'" in message and "variant '22-999-A-T'" in message


def _upload(client: TestClient, content: bytes, filename: str = "sample.vcf") -> dict:
    operations = json.dumps({
        "query": 'mutation($file: Upload!) { submitPatientVcf(patientId: "test-api-vcf-1", file: $file) '
                 "{ patientId variantsMatched genesCalled recordsRead recordsSkipped } }",
        "variables": {"file": None},
    })
    response = client.post(
        "/graphql", data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "text/plain")},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.skipif(importlib.util.find_spec("kg.matcher.match") is not None, reason="the matcher is installed")
def test_vcf_upload_without_the_matcher_is_unavailable(client: TestClient) -> None:
    body = _upload(client, b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    assert error_code(body) == "UNAVAILABLE" and "matcher is not installed" in body["errors"][0]["message"]


def test_empty_vcf_upload_is_bad_input_or_matcher_missing(client: TestClient) -> None:
    body = _upload(client, b"")
    assert error_code(body) in ("BAD_INPUT", "UNAVAILABLE")


@dataclasses.dataclass
class _FakeReport:
    patient_id: str
    variants_matched: int
    genes_called: list[str]
    records_read: int
    records_skipped: int


def test_vcf_upload_reaches_the_matcher_with_a_temp_file(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []

    def match_patient(graph: Graph, vcf_path: Path, *, patient_id: str, disease: str | None, sample: str | None) -> _FakeReport:
        calls.append({"path": vcf_path, "content": Path(vcf_path).read_bytes(), "patient": patient_id, "sample": sample})
        if b"broken" in calls[-1]["content"]:
            raise VcfError(vcf_path, "malformed VCF record", line=2, expected="8 columns", found="1")
        return _FakeReport(patient_id, 3, ["CYP2C19", "DPYD"], 10, 2)

    monkeypatch.setattr(curation_api, "_matcher", lambda: match_patient)
    body = _upload(client, b"##fileformat=VCFv4.2\n", filename="patient.vcf.gz")
    assert body["data"]["submitPatientVcf"] == {
        "patientId": "test-api-vcf-1", "variantsMatched": 3, "genesCalled": 2, "recordsRead": 10, "recordsSkipped": 2}
    assert calls[0]["content"] == b"##fileformat=VCFv4.2\n" and calls[0]["patient"] == "test-api-vcf-1"
    assert str(calls[0]["path"]).endswith(".vcf.gz") and not Path(calls[0]["path"]).exists()  # cleaned up
    broken = _upload(client, b"broken", filename="patient.vcf")
    assert error_code(broken) == "BAD_INPUT"
    message = broken["errors"][0]["message"]
    assert message.startswith("patient.vcf, line 2") and "kg-upload-" not in message  # the user's name, not ours

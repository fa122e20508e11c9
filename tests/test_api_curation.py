"""Curation over GraphQL against a real Neo4j: submissions resolve their references, stay
invisible until accepted, moderation is one-way; an uploaded VCF is matched by the real matcher."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.db import Graph
from kg.identity.variants import normalize
from kg.matcher.match import match_patient
from tests import api_graph as t
from tests.api_graph import api_graph, bearer, client, error_code, gql, token_for  # noqa: F401 (fixtures)

SUBMIT = """mutation($input: EvidenceInput!) { submitEvidence(input: $input) {
  id source status submittedBy submittedAt type level direction significance statement pmids therapies
  disease { id } drugs { id } about { id label } sources { key licence } } }"""

MODERATE = """mutation($id: String!, $decision: ModerationDecision!) {
  moderateEvidence(id: $id, decision: $decision, comment: "checked against the paper") {
    id status moderatedBy moderatedAt moderationComment submittedBy } }"""

VISIBLE = (
    """query($f: EvidenceFilter) { evidence(filter: $f, first: 100) { totalCount edges { node { id status } } } }"""
)


def _input(**overrides: object) -> dict:
    base = {
        "variant": "22-1000001-C-G",
        "drug": "Testapimab",
        "disease": "test api NSCLC",
        "type": "predictive",
        "significance": "Resistance",
        "direction": "supports",
        "level": "c",
        "statement": "A curated test statement.",
        "pmids": ["PMID:12345", "678"],
    }
    return {**base, **overrides}


@pytest.fixture(scope="module")
def moderator(api_graph: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    """A curator other than the submitter (``client`` is the admin test-api-admin): moderation is four-eyes."""
    app = create_app(api_graph.settings, auth=auth_settings)
    with TestClient(app, headers=bearer(token_for(auth_settings, Role.CURATOR, "test-api-moderator"))) as c:
        yield c


def _visible_ids(client: TestClient, **filter_: str) -> list[str]:
    body = gql(client, VISIBLE, f=filter_)
    assert "errors" not in body, body
    return [e["node"]["id"] for e in body["data"]["evidence"]["edges"]]


def test_submit_resolves_references_and_stays_invisible_until_accepted(
    client: TestClient, moderator: TestClient, api_graph: Graph
) -> None:
    body = gql(client, SUBMIT, input=_input())
    assert "errors" not in body, body
    item = body["data"]["submitEvidence"]
    assert item["id"].startswith("curated:") and item["source"] == "curated" and item["status"] == "SUBMITTED"
    assert item["submittedBy"] == "test-api-admin" and item["submittedAt"]  # the token's subject
    assert (item["type"], item["level"], item["significance"], item["pmids"]) == (
        "predictive",
        "C",
        "resistance",
        ["12345", "678"],
    )
    assert (
        item["disease"] == {"id": t.D_LUNG}
        and item["drugs"] == [{"id": t.DRUG1}]
        and item["therapies"] == ["Test-API-Drugone"]
    )
    assert item["about"] == [{"id": t.V1, "label": "Variant"}]
    assert item["sources"] == [{"key": "curated@live", "licence": "CC0 1.0 (curator submissions)"}]
    source = api_graph.read("MATCH (s:Source {key: 'curated@live'}) RETURN s.name AS name, s.status AS status")
    assert source == [{"name": "curated", "status": "active"}]

    filters = {"variant": t.V1, "significance": "resistance"}
    assert _visible_ids(client, **filters) == []  # SUBMITTED: invisible by default
    assert item["id"] not in _visible_ids(client, drug="tad-1")
    queue = gql(client, "{ curatedEvidence(status: SUBMITTED) { totalCount edges { node { id } } } }")
    assert item["id"] in [e["node"]["id"] for e in queue["data"]["curatedEvidence"]["edges"]]

    accepted = gql(moderator, MODERATE, id=item["id"], decision="ACCEPTED")["data"]["moderateEvidence"]
    assert accepted["status"] == "ACCEPTED" and accepted["moderatedBy"] == "test-api-moderator"
    assert accepted["moderatedAt"] and accepted["moderationComment"] == "checked against the paper"
    assert _visible_ids(client, **filters) == [item["id"]]  # now an answer shows it, with who and when
    variant = gql(
        client, "query($q: String!) { variant(query: $q) { evidence { total bySource { key count } } } }", q=t.V1
    )
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


def test_rejected_submission_never_shows(client: TestClient, moderator: TestClient) -> None:
    item = gql(client, SUBMIT, input=_input(variant=t.MP1, significance="reduced sensitivity"))["data"][
        "submitEvidence"
    ]
    assert item["about"] == [{"id": t.MP1, "label": "MolecularProfile"}]
    rejected = gql(moderator, MODERATE, id=item["id"], decision="REJECTED")["data"]["moderateEvidence"]
    assert rejected["status"] == "REJECTED"
    assert item["id"] not in _visible_ids(client, drug=t.DRUG1, significance="reduced sensitivity")


def test_moderating_anything_but_a_submission_is_refused(client: TestClient, moderator: TestClient) -> None:
    loaded = gql(moderator, MODERATE, id="test-api:E01", decision="REJECTED")
    assert error_code(loaded) == "BAD_INPUT" and "only SUBMITTED" in loaded["errors"][0]["message"]
    item = gql(client, SUBMIT, input=_input(significance="sensitivity"))["data"]["submitEvidence"]
    assert (
        gql(moderator, MODERATE, id=item["id"], decision="REJECTED")["data"]["moderateEvidence"]["status"] == "REJECTED"
    )
    again = gql(moderator, MODERATE, id=item["id"], decision="ACCEPTED")
    assert error_code(again) == "BAD_INPUT" and "REJECTED" in again["errors"][0]["message"]
    assert error_code(gql(moderator, MODERATE, id="test-api:no-such-item", decision="ACCEPTED")) == "NOT_FOUND"


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


DEMO_VCF = Path(__file__).resolve().parents[1] / "seeds" / "patients" / "demo.vcf"
UPLOADED = "test-api-vcf-demo"

PATIENT = """query($id: String!) { patient(id: $id) {
  id conditions { id } variants { id matchLevel observed zygosity genotype } diplotypes { gene diplotype status } } }"""


def _upload(
    client: TestClient,
    content: bytes,
    filename: str = "sample.vcf",
    patient: str = "test-api-vcf-1",
    disease: str | None = None,
) -> dict:
    operations = json.dumps(
        {
            "query": "mutation($file: Upload!, $patient: String!, $disease: String) {"
            " submitPatientVcf(patientId: $patient, file: $file, disease: $disease)"
            " { patientId variantsMatched genesCalled recordsRead recordsSkipped details } }",
            "variables": {"file": None, "patient": patient, "disease": disease},
        }
    )
    response = client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "text/plain")},
        headers={"X-KG-Request": "1"},  # multipart needs a preflight-forcing header (api/http_guard.py)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _carried_alleles(vcf: Path) -> set[str]:
    """The graph keys of the non-reference alleles the VCF's one sample carries (GT column read directly)."""
    keys = set()
    for line in vcf.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        chrom, pos, _, ref, alt, *_, gt = line.split("\t")
        for index in {int(a) for a in gt.replace("|", "/").split("/") if a not in (".", "0")}:
            keys.add(normalize(chrom, int(pos), ref, alt.split(",")[index - 1]).id)
    return keys


def test_vcf_upload_matches_the_demo_patient_with_the_real_matcher(client: TestClient, api_graph: Graph) -> None:
    """seeds/patients/demo.vcf through the multipart upload: the patient's variants and diplotypes are
    in the graph, as the matcher links them from the same file, and the recorded file is demo.vcf."""
    body = _upload(client, DEMO_VCF.read_bytes(), filename="demo.vcf", patient=UPLOADED, disease="DOID:1909")
    assert "errors" not in body, body
    summary = body["data"]["submitPatientVcf"]
    assert summary["patientId"] == UPLOADED and summary["details"]["vcf"] == "demo.vcf"
    assert api_graph.read("MATCH (p:Patient {id: $id}) RETURN p.vcf AS vcf", id=UPLOADED) == [{"vcf": "demo.vcf"}]

    patient = gql(client, PATIENT, id=UPLOADED)["data"]["patient"]
    carried = _carried_alleles(DEMO_VCF)
    assert len(carried) == 10  # seeds/patients/README.md: ten non-reference alleles
    exact = {v["id"] for v in patient["variants"] if v["matchLevel"] == "exact"}
    assert exact == carried  # every carried allele is a Variant of the seeds, linked exactly
    assert all(v["observed"] in carried for v in patient["variants"])  # coarser links come from them
    assert summary["variantsMatched"] == len(patient["variants"]) and summary["recordsRead"] > len(carried)
    assert patient["conditions"] == [{"id": "DOID:1909"}]
    calls = {d["gene"]: d for d in patient["diplotypes"]}
    assert calls["CYP2C19"]["diplotype"] == "*2/*2"  # the README's call: the *2 alleles, homozygous
    assert summary["genesCalled"] == len(summary["details"]["genes"]) - sum(
        1 for g in summary["details"]["genes"] if not g["called"]
    )

    # the same file matched directly (no upload) links the same variants and calls the same diplotypes
    direct = match_patient(api_graph, DEMO_VCF, patient_id="test-api-vcf-direct", disease="DOID:1909")
    assert {(v.variant, v.match_level, v.observed) for v in direct.variants} == {
        (v["id"], v["matchLevel"], v["observed"]) for v in patient["variants"]
    }
    direct_patient = gql(client, PATIENT, id=direct.patient)["data"]["patient"]
    assert direct_patient["diplotypes"] == patient["diplotypes"] and direct.vcf == "demo.vcf"


def test_empty_vcf_upload_is_bad_input(client: TestClient) -> None:
    body = _upload(client, b"")
    assert error_code(body) == "BAD_INPUT" and "empty" in body["errors"][0]["message"]


def test_unreadable_vcf_upload_is_bad_input_naming_the_users_file(client: TestClient, api_graph: Graph) -> None:
    header = DEMO_VCF.read_text(encoding="utf-8").split("#CHROM")[0]
    broken = (header + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\nchr7\tnot-a-position\n").encode()
    body = _upload(client, broken, filename="patient.vcf", patient="test-api-vcf-broken")
    assert error_code(body) == "BAD_INPUT"
    message = body["errors"][0]["message"]
    assert message.startswith("patient.vcf") and "kg-upload-" not in message  # the user's name, not ours
    assert api_graph.read("MATCH (p:Patient {id: 'test-api-vcf-broken'}) RETURN p") == []  # nothing stored

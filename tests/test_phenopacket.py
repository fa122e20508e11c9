"""Issue 11: GA4GH Phenopacket v2 in (diseases -> conditions, the linked VCF matched) and out
(interpretations from the graph's answers), checked by the ``phenopackets`` package's schema."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from google.protobuf import json_format
from phenopackets import Phenopacket
from starlette.testclient import TestClient

from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.cli import main as kg
from kg.db import Graph
from kg.matcher.match import delete_patient
from tests.patient_documents import (  # noqa: F401 (fixtures)
    DEMO_VCF,
    api_answers,
    app_client,
    cli_env,
    client,
    demo,
    releases_of,
)

PREFIX = "test-documents-pp-"


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("uploads")
    shutil.copy(DEMO_VCF, folder / "demo.vcf")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KG_UPLOAD_DIR", str(folder))
        yield folder


@pytest.fixture(scope="module")
def submitted(seeded: Graph) -> Iterator[list[str]]:
    """Ids of the patients this module's tests create, removed at the end."""
    ids: list[str] = []
    yield ids
    for pid in ids:
        delete_patient(seeded, pid)


def _interpretations(packet: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Variant id -> its genomic interpretation (without the subject's id)."""
    found = {}
    for interpretation in packet.get("interpretations", []):
        for g in interpretation.get("diagnosis", {}).get("genomicInterpretations", []):
            vi = g["variantInterpretation"]
            found[vi["variationDescriptor"]["id"]] = {k: v for k, v in g.items() if k != "subjectOrBiosampleId"}
    return found


def test_phenopacket_export_of_the_demo_patient(demo: str, client: TestClient) -> None:
    response = client.get(f"/patients/{demo}/phenopacket")
    assert response.status_code == 200, response.text
    packet = response.json()
    parsed = json_format.ParseDict(packet, Phenopacket())  # the schema's parser: unknown fields are errors
    assert parsed.subject.id == demo and parsed.meta_data.phenopacket_schema_version == "2.0"
    assert [d.term.id for d in parsed.diseases] == ["DOID:1909"]
    api = api_answers(client, demo)
    assert {r.id for r in parsed.meta_data.external_references} == releases_of(api)

    interpretations = _interpretations(packet)
    variants = {v["id"]: v for v in api["variants"]}
    for vid, g in interpretations.items():
        record = g["variantInterpretation"]["variationDescriptor"]["vcfRecord"]
        chrom, pos, ref, alt = vid.split(":")[1:]
        assert (record["chrom"], record["pos"], record["ref"], record["alt"]) == (chrom, pos, ref, alt)
        assert vid in variants
    braf = interpretations["GRCh38:chr7:140753336:A:T"]
    assert braf["variantInterpretation"]["therapeuticActionability"] == "ACTIONABLE"
    assert braf["variantInterpretation"]["variationDescriptor"]["geneContext"] == {
        "valueId": "HGNC:1097",
        "symbol": "BRAF",
    }
    assert braf["interpretationStatus"] == "CONTRIBUTORY"
    acmg = {
        r["variant"]: g["variantInterpretation"].get("acmgPathogenicityClassification")
        for r in api["risks"]
        if (g := interpretations.get(r["variant"]))
    }
    assert set(acmg) == {r["variant"] for r in api["risks"]}, "every risk finding is interpreted"
    brca2 = next(r for r in api["risks"] if r["gene"] == "BRCA2")
    mutyh = next(r for r in api["risks"] if r["gene"] == "MUTYH")
    assert acmg[brca2["variant"]] == "PATHOGENIC" and acmg[mutyh["variant"]] == "LIKELY_PATHOGENIC"
    assert interpretations[brca2["variant"]]["interpretationStatus"] == "CONTRIBUTORY"
    # a carrier: UNKNOWN_STATUS, the enum's default, which protobuf's JSON leaves out
    assert interpretations[mutyh["variant"]].get("interpretationStatus", "UNKNOWN_STATUS") == "UNKNOWN_STATUS"


def _submission(export: dict[str, Any], pid: str, uri: str = "file://demo.vcf") -> dict[str, Any]:
    """An exported phenopacket re-addressed to ``pid`` with the VCF linked and a second disease (OMIM)."""
    packet = copy.deepcopy(export)
    packet["id"] = pid
    packet["subject"] = {"id": pid}
    packet.pop("interpretations", None)
    packet["diseases"] = [
        {"term": {"id": "MONDO:0005105", "label": "melanoma"}},  # MONDO -> DOID:1909 through the resolver
        {"term": {"id": "OMIM:608456", "label": "MUTYH-associated polyposis"}},  # an xref of DOID:0080410
        {"term": {"id": "DOID:9256", "label": "colorectal cancer"}, "excluded": True},
    ]
    packet["files"] = [
        {"uri": uri, "individualToFileIdentifiers": {pid: "DEMO"}, "fileAttributes": {"fileFormat": "vcf"}}
    ]
    return packet


def test_phenopacket_round_trip(
    demo: str, client: TestClient, uploads: Path, submitted: list[str], seeded: Graph
) -> None:
    export = client.get(f"/patients/{demo}/phenopacket").json()
    pid = PREFIX + "http"
    submitted.append(pid)
    response = client.post("/patients/phenopacket", content=json.dumps(_submission(export, pid)))
    assert response.status_code == 200, response.text
    assert response.json()["patient"] == pid

    again = client.get(f"/patients/{pid}/phenopacket").json()
    json_format.ParseDict(again, Phenopacket())
    assert sorted(d["term"]["id"] for d in again["diseases"]) == ["DOID:0080410", "DOID:1909"]
    assert _interpretations(again) == _interpretations(export), "import -> match -> export gives the same answers"
    conditions = {c["id"] for c in api_answers(client, pid)["conditions"]}
    assert conditions == {"DOID:1909", "DOID:0080410"}


def test_submit_phenopacket_mutation(demo: str, client: TestClient, uploads: Path, submitted: list[str]) -> None:
    export = client.get(f"/patients/{demo}/phenopacket").json()
    pid = PREFIX + "graphql"
    submitted.append(pid)
    body = client.post(
        "/graphql",
        json={
            "query": "mutation($p: JSON!, $id: String) { submitPhenopacket(phenopacket: $p, patientId: $id) "
            "{ patientId variantsMatched genesCalled } }",
            "variables": {"p": _submission(export, "someone-else"), "id": pid},
        },
    ).json()
    assert "errors" not in body, body
    summary = body["data"]["submitPhenopacket"]
    assert summary["patientId"] == pid and summary["variantsMatched"] >= 10 and summary["genesCalled"] == 2


def test_submitting_a_phenopacket_needs_a_grant_for_its_patient(
    demo: str, client: TestClient, seeded: Graph, uploads: Path, auth_settings: AuthSettings, submitted: list[str]
) -> None:
    """Issue 9: a submission writes a patient: a clinician granted that patient (or an admin) only; the
    patient is the one the packet (or patientId) names, never the caller's choice after the check."""
    pid = PREFIX + "granted"
    submitted.append(pid)
    packet = _submission(client.get(f"/patients/{demo}/phenopacket").json(), pid)
    mutation = "mutation($p: JSON!) { submitPhenopacket(phenopacket: $p) { patientId } }"
    for role, grants in ((Role.RESEARCHER, {}), (Role.CURATOR, {}), (Role.CLINICIAN, {"patients": frozenset({"x"})})):
        with app_client(seeded.settings, auth_settings, role, **grants) as c:
            body = c.post("/graphql", json={"query": mutation, "variables": {"p": packet}}).json()
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
            assert c.post("/patients/phenopacket", content=json.dumps(packet)).status_code == 403, role
    assert not seeded.read("MATCH (p:Patient {id: $id}) RETURN p", id=pid)
    with app_client(seeded.settings, auth_settings, Role.CLINICIAN, patients=frozenset({pid})) as c:
        body = c.post("/graphql", json={"query": mutation, "variables": {"p": packet}}).json()
        assert body["data"]["submitPhenopacket"]["patientId"] == pid, body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["files"][0].update(uri="file://../demo.vcf"), "outside the upload folder"),
        (lambda p: p["files"][0].update(uri="file:///etc/passwd.vcf"), "outside the upload folder"),
        (lambda p: p["files"][0].update(uri="https://example.org/demo.vcf"), "file:// uri"),
        (lambda p: p.update(files=[]), "expected a VCF in files"),
        (lambda p: p["diseases"].append({"term": {"id": "DOID:9999999", "label": ""}}), "DOID:9999999"),
        (lambda p: p.update(notAField=1), "expected a GA4GH Phenopacket v2"),
    ],
)
def test_a_bad_phenopacket_is_refused_and_stores_nothing(
    demo: str, client: TestClient, uploads: Path, seeded: Graph, submitted: list[str], change: Any, message: str
) -> None:
    pid = PREFIX + "refused"
    submitted.append(pid)  # removed at the end, should a regression store it
    packet = _submission(client.get(f"/patients/{demo}/phenopacket").json(), pid)
    change(packet)
    response = client.post("/patients/phenopacket", content=json.dumps(packet))
    assert response.status_code == 400 and response.json()["code"] == "BAD_INPUT"
    assert message in response.json()["error"]
    assert not seeded.read("MATCH (p:Patient {id: $id}) RETURN p", id=pid)


def test_kg_match_and_export_phenopacket(
    demo: str, client: TestClient, seeded: Graph, tmp_path: Path, submitted: list[str], auth_settings: AuthSettings
) -> None:
    env = cli_env(seeded, auth_settings)
    pid = PREFIX + "cli"
    submitted.append(pid)
    shutil.copy(DEMO_VCF, tmp_path / "demo.vcf")
    source = tmp_path / "patient.json"
    source.write_text(json.dumps(_submission(client.get(f"/patients/{demo}/phenopacket").json(), pid)))
    matched = CliRunner().invoke(kg, ["match", "--phenopacket", str(source)], env=env)
    assert matched.exit_code == 0, matched.output
    out = tmp_path / "out.json"
    exported = CliRunner().invoke(kg, ["export", pid, "--phenopacket", "-o", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    parsed = json_format.Parse(out.read_text(), Phenopacket())
    assert parsed.subject.id == pid and {d.term.id for d in parsed.diseases} == {"DOID:1909", "DOID:0080410"}

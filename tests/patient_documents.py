"""Shared by tests/test_report.py, test_fhir.py and test_phenopacket.py: the seeds' demo patient
(seeds/patients/README.md) matched by the real matcher under a test id, a client of the app, and
the GraphQL answers the documents must equal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.config import Settings
from kg.db import Graph
from kg.loaders.seeds import default_seed_dir
from kg.matcher.match import delete_patient, match_patient
from tests.api_graph import bearer, token_for

DEMO_VCF: Path = default_seed_dir() / "patients" / "demo.vcf"
DEMO = "test-documents-demo"

#: every answer field a document presents, asked the way a clinical app asks
ANSWERS = """
query($id: String!) { patient(id: $id) {
  id conditions { id name }
  diplotypes { gene diplotype phenotype status missingPositions }
  pharmacogenomics { drug { id name } guideline guidelineName state reason genesWithoutResult
    diplotypes { gene }
    recommendations { id text strength citations sources { release } } }
  targetedTherapies { evidenceId level ampTier diseaseRelation disease { id } pmids therapies variants direction
    sources { release } }
  diagnosticPrognostic { evidenceId level disease { id } variants sources { release } }
  risks { evidenceId variant gene status classification reviewStatus sources { release } }
  variants { id gene matchLevel observed zygosity }
} }
"""


def match_demo(graph: Graph, patient: str = DEMO) -> str:
    """``kg up``'s demo patient (kg/cli.py _match_demo_patient), matched under ``patient``."""
    match_patient(graph, DEMO_VCF, patient_id=patient, disease="DOID:1909")
    return patient


@pytest.fixture(scope="module")
def demo(seeded: Graph) -> Iterator[str]:
    yield match_demo(seeded)
    delete_patient(seeded, DEMO)


def cli_env(graph: Graph, auth: AuthSettings) -> dict[str, str]:
    """What a ``kg`` command run by a test needs: this Neo4j (with its credentials) and the run's
    audit log (the CLI audits patient reads and writes, kg/cli.py ``_audit``)."""
    return {**graph.settings.connection_env(), "KG_AUTH_DIR": str(auth.home)}


def app_client(settings: Settings, auth: AuthSettings, role: Role = Role.ADMIN, **grants: Any) -> TestClient:
    """The app with a real token of ``role`` (an admin unless asked: every patient)."""
    return TestClient(create_app(settings, auth=auth), headers=bearer(token_for(auth, role, **grants)))


@pytest.fixture(scope="module")
def client(seeded: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    with app_client(seeded.settings, auth_settings) as c:
        yield c


def api_answers(client: TestClient, patient: str) -> dict[str, Any]:
    body = client.post("/graphql", json={"query": ANSWERS, "variables": {"id": patient}}).json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["patient"], f"no patient {patient} in the API"
    return body["data"]["patient"]


def releases_of(answers: dict[str, Any]) -> set[str]:
    """Every release the API's answer items cite."""
    items = [
        *answers["targetedTherapies"],
        *answers["diagnosticPrognostic"],
        *answers["risks"],
        *(r for a in answers["pharmacogenomics"] for r in a["recommendations"]),
    ]
    return {s["release"] for i in items for s in i["sources"]}

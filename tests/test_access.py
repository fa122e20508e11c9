"""Access over HTTP against a real Neo4j: the role x operation matrix, patient grants, exploration that
never enters a patient the caller may not read, researcher cohorts aggregated, four-eyes moderation,
token issue / revoke / expiry / forgery, an OIDC issuer's JWKS served from 127.0.0.1, API keys stored
hashed, and the audit log's hash chain (a changed, deleted or cut-off entry is detected)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient

from api.app import create_app
from api.schema import make_schema
from kg.access.audit import AuditLog
from kg.access.roles import Identity, Role
from kg.access.settings import AuthSettings
from kg.access.tokens import TokenStore, create_token
from kg.cli import main as cli
from kg.config import Settings
from kg.db import Graph
from tests import api_graph as t
from tests.api_graph import api_graph, bearer, token_for  # noqa: F401 (fixtures)

schema = make_schema(Settings())  # the schema the app serves (its limits from default settings)

P1, P2 = "test-api-p1", "test-api-p2"


@pytest.fixture(scope="module")
def app_client(api_graph: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    """The API with anonymous access off (the default); each test sends its own credential."""
    with TestClient(create_app(api_graph.settings, auth=auth_settings)) as c:
        yield c


@pytest.fixture(scope="module")
def anonymous_client(api_graph: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    with TestClient(create_app(api_graph.settings, auth=dataclasses.replace(auth_settings, anonymous=True))) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(auth_settings: AuthSettings) -> dict[str, str]:
    """One token per row of the matrix (subjects start with test-api: the test graph's cleanup)."""
    return {
        "clinician(p1)": token_for(auth_settings, Role.CLINICIAN, "test-api-clin-p1", patients=frozenset({P1})),
        "clinician(all)": token_for(auth_settings, Role.CLINICIAN, "test-api-clin-all", all_patients=True),
        "curator": token_for(auth_settings, Role.CURATOR, "test-api-curator"),
        "researcher": token_for(auth_settings, Role.RESEARCHER, "test-api-researcher"),
        "admin": token_for(auth_settings, Role.ADMIN, "test-api-admin"),
    }


def post(client: TestClient, query: str, token: str | None = None, **variables: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=bearer(token) if token else {}
    )
    return response.status_code, response.json()


def code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return (errors[0].get("extensions") or {}).get("code") if errors else None


def upload(client: TestClient, patient: str, token: str | None) -> tuple[int, dict[str, Any]]:
    """An empty VCF: a caller allowed to upload gets BAD_INPUT (nothing is written), others a refusal."""
    operations = json.dumps(
        {
            "query": "mutation($file: Upload!, $p: String!) { submitPatientVcf(patientId: $p, file: $file) { patientId } }",
            "variables": {"file": None, "p": patient},
        }
    )
    response = client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("empty.vcf", b"", "text/plain")},
        headers={"X-KG-Request": "1", **(bearer(token) if token else {})},  # multipart needs it (api/http_guard.py)
    )
    return response.status_code, response.json()


# --- the matrix ------------------------------------------------------------------------------

OPERATIONS: dict[str, str] = {
    "gene": '{ gene(symbol: "TEST-API-G1") { symbol } }',
    "patient p1": '{ patient(id: "test-api-p1") { id variants { id } } }',
    "patient p2": '{ patient(id: "test-api-p2") { id diplotypes { gene } } }',
    "neighbors": '{ neighbors(id: "GRCh38:chr22:1000001:C:G") { nodes { id } } }',
    "paths": '{ paths(from: "test-api-drugone", to: "TEST-API-G1", maxHops: 4) { length } }',
    "exportSubgraph": '{ exportSubgraph(id: "TEST-API-G1", format: JSON) { nodeCount } }',
    "cohortPhenotypes": '{ cohortPhenotypes(gene: "TEST-API-PG") { patients } }',
    "cohortActionable": '{ cohortActionable(drug: "TAD-1") { totalCount } }',
    "changedPatients": '{ changedPatients(release: "test-api@1") { patient changes } }',
    "submitEvidence": 'mutation { submitEvidence(input: {variant: "22-1000001-C-G", disease: "TESTAPI:0003", '
    'type: "astrology", significance: "x", direction: "supports", statement: "s"}) { id } }',
    "moderateEvidence": 'mutation { moderateEvidence(id: "test-api:no-such", decision: ACCEPTED, comment: "c") { id } }',
    "curatedEvidence": "{ curatedEvidence { totalCount } }",
    "tokens": "{ tokens { id } }",
    "auditLog": "{ auditLog(first: 1) { hasNextPage } }",
    "createToken": 'mutation { createToken(role: "nobody") { token } }',  # allowed: BAD_INPUT (no such role)
    "revokeToken": 'mutation { revokeToken(id: "test-api-no-such") { id } }',  # allowed: NOT_FOUND
    "deletePatient": 'mutation { deletePatient(id: "test-api-no-such-patient") }',  # allowed: false
}
ROLES = ["none", "anonymous", "clinician(p1)", "clinician(all)", "curator", "researcher", "admin"]
# ok: the operation ran (its answer, or an input error after the permission check); F: FORBIDDEN; 401: no credential
MATRIX: dict[str, list[str]] = {
    #                  none   anon  clin(p1) clin(all) curator research admin
    "gene": ["401", "ok", "ok", "ok", "ok", "ok", "ok"],
    "patient p1": ["401", "F", "ok", "ok", "F", "F", "ok"],
    "patient p2": ["401", "F", "F", "ok", "F", "F", "ok"],
    "neighbors": ["401", "F", "F", "F", "F", "ok", "ok"],
    "paths": ["401", "F", "F", "F", "F", "ok", "ok"],
    "exportSubgraph": ["401", "F", "F", "F", "F", "ok", "ok"],
    "cohortPhenotypes": ["401", "F", "ok", "ok", "F", "ok", "ok"],
    "cohortActionable": ["401", "F", "ok", "ok", "F", "ok", "ok"],
    "changedPatients": ["401", "F", "ok", "ok", "F", "F", "ok"],
    "submitEvidence": ["401", "F", "F", "F", "ok", "F", "ok"],
    "moderateEvidence": ["401", "F", "F", "F", "ok", "F", "ok"],
    "curatedEvidence": ["401", "F", "F", "F", "ok", "F", "ok"],
    "submitPatientVcf p1": ["401", "F", "ok", "ok", "F", "F", "ok"],
    "submitPatientVcf p2": ["401", "F", "F", "ok", "F", "F", "ok"],
    "tokens": ["401", "F", "F", "F", "F", "F", "ok"],
    "auditLog": ["401", "F", "F", "F", "F", "F", "ok"],
    "createToken": ["401", "F", "F", "F", "F", "F", "ok"],
    "revokeToken": ["401", "F", "F", "F", "F", "F", "ok"],
    "deletePatient": ["401", "F", "F", "F", "F", "F", "ok"],
    "GET /export": ["401", "403", "403", "403", "403", "ok", "ok"],
    "GET /metrics": ["401", "403", "403", "403", "403", "403", "ok"],
}


def _outcome(status: int, body: dict[str, Any]) -> str:
    c = code(body)
    if c == "UNAUTHENTICATED":
        assert status == 401, (status, body)
        return "401"
    assert status == 200, (status, body)
    if c == "FORBIDDEN":
        return "F"
    assert c in (None, "BAD_INPUT", "NOT_FOUND"), body  # ran: an answer, or its input refused after the check
    return "ok"


@pytest.mark.parametrize("operation", list(MATRIX))
def test_role_operation_matrix(
    operation: str, app_client: TestClient, anonymous_client: TestClient, tokens: dict[str, str]
) -> None:
    seen = []
    for role in ROLES:
        client = anonymous_client if role == "anonymous" else app_client
        token = tokens.get(role)
        if operation.startswith("GET /"):
            response = client.get(
                operation[4:], params={"id": t.GENE, "format": "json"}, headers=bearer(token) if token else {}
            )
            seen.append("ok" if response.status_code == 200 else str(response.status_code))
            if response.status_code in (401, 403):
                assert response.json()["code"] == {401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[response.status_code]
        elif operation.startswith("submitPatientVcf"):
            seen.append(_outcome(*upload(client, {"p1": P1, "p2": P2}[operation[-2:]], token)))
        else:
            seen.append(_outcome(*post(client, OPERATIONS[operation], token)))
    assert dict(zip(ROLES, seen, strict=True)) == dict(zip(ROLES, MATRIX[operation], strict=True))


def test_every_root_field_declares_a_permission() -> None:
    """Each Query and Mutation field names the permission it needs (api/auth.py ``needs``)."""
    for type_name in ("Query", "Mutation"):
        definition = schema.get_type_by_name(type_name)
        assert definition is not None
        missing = [f.name for f in definition.fields if not f.permission_classes]  # type: ignore[union-attr]
        assert missing == [], f"{type_name} fields without a permission: {missing}"
        graphql_type = schema._schema.get_type(type_name)
        # every root field is a row of the matrix, or tested below (submitPhenopacket: tests/test_phenopacket.py)
        assert set(graphql_type.fields) <= set(OPERATIONS) | {  # type: ignore[union-attr]
            "submitPhenopacket",
            "relationshipTypes",  # knowledge (tests/test_api_research.py)
            "patient",
            "variant",
            "variants",
            "drug",
            "disease",
            "diseases",
            "evidence",
            "whoami",
            "grantPatients",
            "submitPatientVcf",
        }


# --- boundaries ------------------------------------------------------------------------------


def test_anonymous_off_is_401_but_graphiql_and_health_stay_open(app_client: TestClient) -> None:
    status, body = post(app_client, OPERATIONS["gene"])
    assert status == 401 and code(body) == "UNAUTHENTICATED" and body["data"] == {"gene": None}
    challenge = app_client.post("/graphql", json={"query": OPERATIONS["gene"]}).headers["www-authenticate"]
    assert challenge.startswith("Bearer") and "invalid_token" not in challenge  # none was sent
    refused = app_client.get("/export", params={"id": t.GENE})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == challenge
    page = app_client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert app_client.get("/health").status_code == 200


def test_a_malformed_or_unknown_credential_is_refused(app_client: TestClient) -> None:
    for headers in ({"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer nonsense"}):
        response = app_client.post("/graphql", json={"query": OPERATIONS["gene"]}, headers=headers)
        assert response.status_code == 401 and code(response.json()) == "UNAUTHENTICATED"
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    fake_key = "kgk_0123456789abcdef_" + "x" * 43
    assert post(app_client, OPERATIONS["gene"], fake_key)[0] == 401


def test_clinician_reads_granted_patient_only_and_it_is_audited(
    app_client: TestClient, tokens: dict[str, str], auth_settings: AuthSettings
) -> None:
    request_id = "test-access-clinician-1"
    response = app_client.post(
        "/graphql",
        json={"query": OPERATIONS["patient p1"]},
        headers={**bearer(tokens["clinician(p1)"]), "X-Request-ID": request_id},
    )
    assert response.headers["x-request-id"] == request_id
    assert {v["id"] for v in response.json()["data"]["patient"]["variants"]} == {t.V1}
    _, refused = post(app_client, OPERATIONS["patient p2"], tokens["clinician(p1)"])
    assert code(refused) == "FORBIDDEN" and refused["data"] == {"patient": None}
    log = AuditLog(auth_settings.audit_log)
    read = [e for e in log.entries() if e.request == request_id]
    assert [(e.who, e.role, e.operation, e.patients, e.outcome) for e in read] == [
        ("test-api-clin-p1", "clinician", "patient", [P1], "ok")
    ]
    denied = [e for e in log.entries() if e.who == "test-api-clin-p1" and e.patients == [P2]]
    assert denied and denied[-1].outcome == "denied"
    # cohort answers: only the granted patient, by id
    _, body = post(
        app_client, '{ cohortActionable(drug: "TAD-1") { totalCount patients { id } } }', tokens["clinician(p1)"]
    )
    assert body["data"]["cohortActionable"] == {"totalCount": 1, "patients": [{"id": P1}]}
    _, body = post(
        app_client, '{ cohortActionable(drug: "TAD-1") { totalCount patients { id } } }', tokens["clinician(all)"]
    )
    assert body["data"]["cohortActionable"] == {"totalCount": 2, "patients": [{"id": P1}, {"id": P2}]}


def test_researcher_cohorts_are_aggregates_with_small_cells_suppressed(
    app_client: TestClient, api_graph: Graph, auth_settings: AuthSettings, tokens: dict[str, str]
) -> None:
    query = """{ cohortPhenotypes(gene: "TEST-API-PG") { patients suppressedBelow
                 phenotypes { id patients patientIds diplotypes { key count } } } }"""
    _, body = post(app_client, query, tokens["researcher"])
    cohort = body["data"]["cohortPhenotypes"]
    # 4 patients with a phenotype, 2 per phenotype: every count is below 5
    assert cohort["patients"] is None and cohort["suppressedBelow"] == 5
    assert [(p["patients"], p["patientIds"], p["diplotypes"]) for p in cohort["phenotypes"]] == [
        (None, [], []),
        (None, [], []),
    ]
    _, actionable = post(
        app_client,
        '{ cohortActionable(drug: "TAD-1") { totalCount viaEvidence patients { id } } }',
        tokens["researcher"],
    )
    assert actionable["data"]["cohortActionable"] == {"totalCount": None, "viaEvidence": None, "patients": []}
    # with a minimum cell size of 2 the same counts show, still without a patient id
    with TestClient(create_app(api_graph.settings, auth=dataclasses.replace(auth_settings, min_cell=2))) as c:
        _, body = post(c, query, tokens["researcher"])
    cohort = body["data"]["cohortPhenotypes"]
    assert cohort["patients"] == 4 and [p["patients"] for p in cohort["phenotypes"]] == [2, 2]
    assert all(p["patientIds"] == [] for p in cohort["phenotypes"])
    _, admin = post(app_client, query, tokens["admin"])  # the admin's answer: ids and counts
    assert admin["data"]["cohortPhenotypes"]["patients"] == 4
    assert admin["data"]["cohortPhenotypes"]["phenotypes"][0]["patientIds"] == [P2, "test-api-p4"]


NEIGHBORS = """query($id: String!, $types: [String!]) { neighbors(id: $id, relationshipTypes: $types, depth: 2, limit: 500)
  { nodes { id label } edges { type start end } } }"""
PATHS = """query($from: String!, $to: String!) { paths(from: $from, to: $to, maxHops: 2, limit: 50,
  relationshipTypes: ["HAS_VARIANT", "HAS_CONDITION", "IN_GENE"]) { nodes { id label } } }"""


def test_exploration_never_enters_patients_the_caller_may_not_read(
    app_client: TestClient, tokens: dict[str, str]
) -> None:
    """V1 is carried by p1 and p2: the admin (every patient) sees them, the researcher never does."""
    _, admin = post(app_client, NEIGHBORS, tokens["admin"], id=t.V1, types=None)
    assert {P1, P2} <= {n["id"] for n in admin["data"]["neighbors"]["nodes"]}
    _, body = post(app_client, NEIGHBORS, tokens["researcher"], id=t.V1, types=None)
    sub = body["data"]["neighbors"]
    assert sub["nodes"] and all(n["label"] != "Patient" for n in sub["nodes"])
    assert not {e["type"] for e in sub["edges"]} & {"HAS_VARIANT", "HAS_DIPLOTYPE", "HAS_CONDITION"}
    _, body = post(app_client, NEIGHBORS, tokens["researcher"], id=P1, types=None)
    assert code(body) == "NOT_FOUND"  # a patient is no start either
    # paths V1 -> V2 through p2 (HAS_VARIANT both ways): the admin's, none for the researcher
    _, admin_paths = post(app_client, PATHS, tokens["admin"], **{"from": t.V1, "to": t.V2})
    assert any(n["id"] == P2 for p in admin_paths["data"]["paths"] for n in p["nodes"])
    _, paths = post(app_client, PATHS, tokens["researcher"], **{"from": t.V1, "to": t.V2})
    assert all(n["label"] != "Patient" for p in paths["data"]["paths"] for n in p["nodes"])
    # export, over GraphQL and GET /export
    export = '{ exportSubgraph(id: "GRCh38:chr22:1000001:C:G", format: JSON) { content } }'
    _, body = post(app_client, export, tokens["researcher"])
    content = json.loads(body["data"]["exportSubgraph"]["content"])
    assert content["nodes"] and all(n["label"] != "Patient" for n in content["nodes"])
    for fmt in ("json", "turtle"):
        response = app_client.get("/export", params={"id": t.V1, "format": fmt}, headers=bearer(tokens["researcher"]))
        assert response.status_code == 200 and P1 not in response.text and "Patient" not in response.text
        admin_export = app_client.get("/export", params={"id": t.V1, "format": fmt}, headers=bearer(tokens["admin"]))
        assert P1 in admin_export.text


SUBMIT = """mutation { submitEvidence(input: {variant: "22-1000001-C-G", drug: "Testapimab", disease: "TESTAPI:0003",
  type: "predictive", significance: "resistance", direction: "supports", statement: "four eyes"}) { id submittedBy } }"""
MODERATE = (
    """mutation($id: String!) { moderateEvidence(id: $id, decision: ACCEPTED, comment: "ok") { status moderatedBy } }"""
)


def test_curator_cannot_moderate_own_submission_but_another_can(
    app_client: TestClient, auth_settings: AuthSettings, tokens: dict[str, str]
) -> None:
    _, body = post(app_client, SUBMIT, tokens["curator"])
    item = body["data"]["submitEvidence"]
    assert item["submittedBy"] == "test-api-curator"  # from the token: there is no argument for it
    _, own = post(app_client, MODERATE, tokens["curator"], id=item["id"])
    assert code(own) == "FORBIDDEN"
    other = token_for(auth_settings, Role.CURATOR, "test-api-curator-2")
    _, done = post(app_client, MODERATE, other, id=item["id"])
    assert done["data"]["moderateEvidence"] == {"status": "ACCEPTED", "moderatedBy": "test-api-curator-2"}
    log = [e for e in AuditLog(auth_settings.audit_log).entries() if e.detail.get("evidence") == item["id"]]
    assert [(e.who, e.operation, e.outcome) for e in log] == [
        ("test-api-curator", "submitEvidence", "ok"),
        ("test-api-curator", "moderateEvidence", "denied"),
        ("test-api-curator-2", "moderateEvidence", "ok"),
    ]


def test_admin_creates_and_revokes_tokens_and_api_keys_are_stored_hashed(
    app_client: TestClient, auth_settings: AuthSettings, tokens: dict[str, str]
) -> None:
    make = """mutation($key: Boolean!) { createToken(role: "researcher", name: "test-api-made", apiKey: $key) {
      token record { id kind role state } } }"""
    _, body = post(app_client, make, tokens["admin"], key=False)
    made = body["data"]["createToken"]
    assert made["record"]["state"] == "active" and made["record"]["kind"] == "jwt"
    assert post(app_client, OPERATIONS["neighbors"], made["token"])[0] == 200
    _, listed = post(app_client, "{ tokens { id name state } }", tokens["admin"])
    assert {"id": made["record"]["id"], "name": "test-api-made", "state": "active"} in listed["data"]["tokens"]
    _, revoked = post(
        app_client,
        "mutation($id: String!) { revokeToken(id: $id) { state } }",
        tokens["admin"],
        id=made["record"]["id"],
    )
    assert revoked["data"]["revokeToken"]["state"] == "revoked"
    status, refused = post(app_client, OPERATIONS["gene"], made["token"])
    assert status == 401 and "revoked" in refused["errors"][0]["message"]
    # an API key: usable as a bearer token or X-API-Key; the store holds its hash, never the key
    _, body = post(app_client, make, tokens["admin"], key=True)
    key = body["data"]["createToken"]["token"]
    assert key.startswith("kgk_") and post(app_client, OPERATIONS["neighbors"], key)[0] == 200
    assert (
        app_client.post("/graphql", json={"query": OPERATIONS["gene"]}, headers={"X-API-Key": key}).status_code == 200
    )
    stored = auth_settings.token_store.read_text()
    secret = key.split("_", 2)[2]
    assert secret not in stored and key not in stored and "sha256:" in stored
    assert oct(auth_settings.token_store.stat().st_mode & 0o777) == "0o600"
    assert oct(auth_settings.signing_key.stat().st_mode & 0o777) == "0o600"


def _local_claims(auth: AuthSettings, **over: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    record = create_token(auth, Role.RESEARCHER, name="test-api-forged").record
    return {
        "iss": auth.local_issuer,
        "aud": auth.audience,
        "sub": record.name,
        "jti": record.id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        **over,
    }


def test_expired_forged_and_foreign_jwts_are_refused(app_client: TestClient, auth_settings: AuthSettings) -> None:
    from kg.access.tokens import signing_key

    expired = create_token(
        auth_settings, Role.RESEARCHER, name="test-api-old", expires=datetime.now(UTC) - timedelta(minutes=5)
    )
    status, body = post(app_client, OPERATIONS["gene"], expired.token)
    assert status == 401 and "expired" in body["errors"][0]["message"]
    good = jwt.encode(_local_claims(auth_settings), signing_key(auth_settings), algorithm="ES256")
    assert post(app_client, OPERATIONS["gene"], good)[0] == 200  # the control: the same claims, the right key
    other_key = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(_local_claims(auth_settings), other_key, algorithm="ES256")
    assert post(app_client, OPERATIONS["gene"], forged)[0] == 401  # wrong signature
    foreign = jwt.encode(
        _local_claims(auth_settings, iss="https://issuer.invalid"), signing_key(auth_settings), algorithm="ES256"
    )
    status, body = post(app_client, OPERATIONS["gene"], foreign)
    assert status == 401 and "issuer" in body["errors"][0]["message"]
    unknown = jwt.encode(_local_claims(auth_settings, jti="0" * 16), signing_key(auth_settings), algorithm="ES256")
    assert post(app_client, OPERATIONS["gene"], unknown)[0] == 401  # signed, but no such token record
    unsigned = jwt.encode(_local_claims(auth_settings), None, algorithm="none")
    assert post(app_client, OPERATIONS["gene"], unsigned)[0] == 401


def test_a_token_kept_as_verified_is_refused_once_its_exp_passes_or_it_is_revoked(auth_settings: AuthSettings) -> None:
    """The verifier keeps tokens whose signature it checked (Verifier.VERIFIED_KEPT); a kept token's
    ``exp`` is checked again on every use, and its record (revocation) too."""
    from kg.access.tokens import Unauthenticated, Verifier, revoke_token, signing_key

    verifier = Verifier(auth_settings)
    verifier.LEEWAY = 0
    claims = _local_claims(auth_settings, exp=int(time.time()) + 2)  # the record itself stays active for hours
    short = jwt.encode(claims, signing_key(auth_settings), algorithm="ES256")
    assert verifier.verify(short).role == Role.RESEARCHER
    assert (short, auth_settings.local_issuer) in verifier._verified
    time.sleep(max(0.0, claims["exp"] - time.time()) + 1.1)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(short)
    assert (short, auth_settings.local_issuer) not in verifier._verified
    kept = create_token(auth_settings, Role.RESEARCHER, name="test-api-kept")
    assert verifier.verify(kept.token).role == Role.RESEARCHER
    revoke_token(auth_settings, kept.record.id, by="test")
    with pytest.raises(Unauthenticated, match="revoked"):
        verifier.verify(kept.token)


# --- an OIDC issuer: its JWKS served from 127.0.0.1 ------------------------------------------

ISSUER = "https://issuer.test.invalid/realms/kg"


@pytest.fixture(scope="module")
def issuer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(issuer_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "issuer-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()


def test_oidc_tokens_are_verified_against_the_issuers_jwks(
    api_graph: Graph, auth_settings: AuthSettings, issuer_key: rsa.RSAPrivateKey, jwks_url: str
) -> None:
    auth = dataclasses.replace(auth_settings, issuer=ISSUER, jwks_url=jwks_url)
    now = datetime.now(UTC)

    def issued(key: Any = issuer_key, **claims: Any) -> str:
        base = {
            "iss": ISSUER,
            "aud": auth.audience,
            "sub": "test-api-oidc-user",
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=10)).timestamp()),
        }
        return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "issuer-1"})

    with TestClient(create_app(api_graph.settings, auth=auth)) as c:
        clinician = issued(kg_role="clinician", kg_patients=[P1])
        assert post(c, OPERATIONS["patient p1"], clinician)[1]["data"]["patient"]["id"] == P1
        assert code(post(c, OPERATIONS["patient p2"], clinician)[1]) == "FORBIDDEN"
        whoami = post(c, "{ whoami { subject role patients method } }", clinician)[1]["data"]["whoami"]
        assert whoami == {"subject": "test-api-oidc-user", "role": "clinician", "patients": [P1], "method": "jwt-oidc"}
        every = issued(kg_role="clinician", kg_patients="*")
        assert post(c, OPERATIONS["patient p2"], every)[1]["data"]["patient"]["id"] == P2
        assert post(c, OPERATIONS["neighbors"], issued(kg_role="researcher"))[0] == 200
        refused = {
            "wrong key": issued(key=rsa.generate_private_key(public_exponent=65537, key_size=2048), kg_role="admin"),
            "wrong audience": issued(aud="someone-else", kg_role="admin"),
            "expired": issued(exp=int((now - timedelta(minutes=5)).timestamp()), kg_role="admin"),
            "no role": issued(),
            "unknown role": issued(kg_role="superuser"),
        }
        for why, token in refused.items():
            status, body = post(c, OPERATIONS["gene"], token)
            assert status == 401 and code(body) == "UNAUTHENTICATED", why


# --- the audit log ---------------------------------------------------------------------------


def _log_with_entries(tmp_path: Any, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "auth" / "audit.jsonl")
    who = Identity(subject="test-api-auditor", role=Role.ADMIN)
    for i in range(n):
        log.append(who, "patient", patients=[f"p{i}"], request=f"r{i}")
    assert log.verify().ok and log.verify().entries == n
    return log


def test_a_changed_entry_is_detected(tmp_path: Any) -> None:
    log = _log_with_entries(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["patients"] = ["someone-else"]  # the hash left as it was
    lines[2] = json.dumps(entry, sort_keys=True)
    log.path.write_text("\n".join(lines) + "\n")
    result = log.verify()
    assert not result.ok and "entry 3 was changed" in result.message and result.entries == 2


def test_a_deleted_entry_is_detected(tmp_path: Any) -> None:
    log = _log_with_entries(tmp_path)
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    result = log.verify()
    assert not result.ok and "entry 3 does not follow entry 1" in result.message


def test_entries_cut_off_the_end_are_detected(tmp_path: Any) -> None:
    log = _log_with_entries(tmp_path)
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:-1]) + "\n")
    result = log.verify()
    assert not result.ok and "head says 5" in result.message


def test_the_log_survives_a_restart_and_kg_audit_verify_checks_it(tmp_path: Any) -> None:
    log = _log_with_entries(tmp_path, 3)
    reopened = AuditLog(log.path)  # a new process: the chain continues from the file
    reopened.append(Identity(subject="x", role=Role.ADMIN), "deletePatient", patients=["p9"])
    assert reopened.verify().entries == 4 and oct(log.path.stat().st_mode & 0o777) == "0o600"
    env = {"KG_AUTH_DIR": str(log.path.parent)}
    ok = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0 and "4 entries" in ok.output
    listed = CliRunner().invoke(cli, ["audit", "list", "--patient", "p9"], env=env)
    assert listed.exit_code == 0 and "deletePatient" in listed.output and "p0" not in listed.output
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join([lines[0], lines[2], lines[1], lines[3]]) + "\n")
    broken = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert broken.exit_code == 1 and "does not follow" in broken.output


def test_admin_queries_the_audit_log_with_filters_and_pages(app_client: TestClient, tokens: dict[str, str]) -> None:
    for _ in range(3):
        post(app_client, OPERATIONS["patient p1"], tokens["clinician(p1)"])
    query = """query($after: Int!) { auditLog(who: "test-api-clin-p1", patient: "test-api-p1", operation: "patient",
      outcome: "ok", first: 2, afterSeq: $after) { entries { seq who role operation patients outcome request hash }
      hasNextPage endCursor } }"""
    _, first = post(app_client, query, tokens["admin"], after=0)
    page = first["data"]["auditLog"]
    assert len(page["entries"]) == 2 and page["hasNextPage"]
    assert all(
        e["who"] == "test-api-clin-p1" and e["patients"] == [P1] and e["outcome"] == "ok" for e in page["entries"]
    )
    _, second = post(app_client, query, tokens["admin"], after=page["endCursor"])
    assert second["data"]["auditLog"]["entries"][0]["seq"] > page["endCursor"]


def test_cli_token_create_prints_the_token_last_and_revoke_refuses_it(
    app_client: TestClient, auth_settings: AuthSettings
) -> None:
    env = {"KG_AUTH_DIR": str(auth_settings.home)}
    made = CliRunner().invoke(
        cli,
        [
            "token",
            "create",
            "--role",
            "clinician",
            "--patients",
            f"{P1},{P2}",
            "--expires",
            "1h",
            "--name",
            "test-api-cli",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert post(app_client, OPERATIONS["patient p2"], token)[1]["data"]["patient"]["id"] == P2
    token_id = next(r.id for r in TokenStore(auth_settings).all() if r.name == "test-api-cli")
    assert token_id in CliRunner().invoke(cli, ["token", "list"], env=env).output
    assert CliRunner().invoke(cli, ["token", "grant", token_id, "--patients", P1], env=env).exit_code == 0
    assert code(post(app_client, OPERATIONS["patient p2"], token)[1]) == "FORBIDDEN"  # the grant changed at once
    assert CliRunner().invoke(cli, ["token", "revoke", token_id], env=env).exit_code == 0
    assert post(app_client, OPERATIONS["patient p1"], token)[0] == 401
    refused = CliRunner().invoke(cli, ["token", "create", "--role", "researcher", "--patients", P1], env=env)
    assert refused.exit_code == 1 and "clinician" in refused.output

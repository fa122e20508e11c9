"""The patient's documents over HTTP: the report (HTML, PDF), the FHIR bundle, the Phenopacket.

Who may call: a clinician with a grant for that patient, or an admin (never anonymous, never a
researcher). Every route loads its patient through :func:`patient_for`, the one place where the
authorisation check is made (Permission.READ_PATIENT and the caller's grant for that patient) and the
read is audited, so no route can skip either. ``?asOf=`` (a release key or a date) answers from the
knowledge of then (kg.queries.visibility.knowledge_state); an unknown one is 400 BAD_INPUT. A submission needs WRITE_PATIENT and a grant for the
patient it names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import neo4j.exceptions
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from api.auth import refusal, route_identity
from kg.access.roles import Identity
from kg.access.roles import Permission as P
from kg.config import project_root
from kg.db import Graph, GraphUnavailable
from kg.documents import fhir, phenopacket, report
from kg.queries.answers import UnknownPatient
from kg.queries.patient_report import PatientReport, patient_report
from kg.queries.resolve import Unresolved
from kg.queries.visibility import UnknownKnowledgeState, knowledge_state

T = TypeVar("T")
FHIR_JSON = "application/fhir+json"


class DocumentError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code

    def response(self) -> JSONResponse:
        return JSONResponse({"error": str(self), "code": self.code}, status_code=self.status)


def upload_dir() -> Path:
    """Where a submitted phenopacket's ``file://`` VCF must lie (KG_UPLOAD_DIR; default .kg/uploads)."""
    return Path(os.environ.get("KG_UPLOAD_DIR") or project_root() / ".kg" / "uploads")


async def _run(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    graph: Graph = request.app.state.graph
    ready = request.app.state.ready  # the schema applied once Neo4j is first reachable (api.app)

    def call() -> T:
        if ready is not None:
            ready.ensure()
        return fn(graph, *args, **kwargs)

    try:
        return await anyio.to_thread.run_sync(call)
    except UnknownPatient as err:
        raise DocumentError(404, "NOT_FOUND", str(err)) from err
    except (Unresolved, UnknownKnowledgeState, phenopacket.PhenopacketError) as err:
        raise DocumentError(400, "BAD_INPUT", str(err)) from err
    except (GraphUnavailable, neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired) as err:
        raise DocumentError(503, "UNAVAILABLE", "the knowledge graph is unavailable; try again shortly") from err


class Refused(Exception):
    """The caller may not do this: ``response`` is the 401/403 to send (api.auth.route_identity)."""

    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response


def _audit(request: Request, identity: Identity, patient: str, outcome: str) -> None:
    request.app.state.access.audit.append(
        identity, f"GET {request.url.path}", patients=[patient], request=request.state.request_id, outcome=outcome
    )


def _granted(request: Request, permission: P, patient: str) -> Identity:
    """The caller, if they hold ``permission`` and a grant for ``patient``; a refusal is audited."""
    identity = route_identity(request, permission)
    if not isinstance(identity, Identity):
        raise Refused(identity)
    if not identity.may_read(patient):
        _audit(request, identity, patient, "denied")
        raise Refused(refusal(request.url.path, 403, "FORBIDDEN", f"{identity.subject} holds no grant for {patient!r}"))
    return identity


def _report_as_of(graph: Graph, patient: str, as_of: str | None) -> PatientReport:
    """The patient's report in the knowledge state ``as_of`` names (None: current), worked out once."""
    return patient_report(graph, patient, knowledge_state(graph, as_of) if as_of else None)


async def patient_for(request: Request) -> PatientReport:
    """The patient the request names (``{id}`` in the path), with every answer about them; only for
    an admin or a clinician granted this patient, and audited as a read of that patient."""
    patient = request.path_params["id"]
    identity = _granted(request, P.READ_PATIENT, patient)
    try:
        found = await _run(request, _report_as_of, patient, request.query_params.get("asOf") or None)
    except DocumentError as err:
        _audit(request, identity, patient, err.code.lower())
        raise
    _audit(request, identity, patient, "ok")
    return found


def _documents(endpoint: Callable[[Request, PatientReport], Response]) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        try:
            found = await patient_for(request)
            return await anyio.to_thread.run_sync(lambda: endpoint(request, found))
        except Refused as refused:
            return refused.response
        except DocumentError as err:
            return err.response()

    handle.__doc__ = endpoint.__doc__
    return handle


def _report(request: Request, found: PatientReport) -> Response:
    """GET /patients/{id}/report (``?format=pdf`` for the PDF): clinician with a grant, admin."""
    if request.query_params.get("format", "html").lower() == "pdf":
        return _pdf(request, found)
    return HTMLResponse(report.report_html(found))


def _pdf(request: Request, found: PatientReport) -> Response:
    """GET /patients/{id}/report.pdf: the printed report; clinician with a grant, admin."""
    name = f"report-{found.patient.id}.pdf".replace('"', "")
    return Response(
        report.report_pdf(found),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


def _fhir(request: Request, found: PatientReport) -> Response:
    """GET /patients/{id}/fhir: FHIR R4 Genomics Reporting bundle; clinician with a grant, admin."""
    return Response(json.dumps(fhir.fhir_bundle(found), ensure_ascii=False), media_type=FHIR_JSON)


def _phenopacket(request: Request, found: PatientReport) -> Response:
    """GET /patients/{id}/phenopacket: GA4GH Phenopacket v2; clinician with a grant, admin."""
    return JSONResponse(phenopacket.phenopacket(found))


async def submit_phenopacket(request: Request) -> Response:
    """POST /patients/phenopacket (body: the Phenopacket v2 JSON; ``?patient=ID`` overrides its subject;
    ``?origin=`` is passed to the matcher): the VCF it links is matched, its diseases become conditions.
    Who may call: a clinician with a grant for the patient it names (or creates), admin."""
    body = await request.body()
    options = {"origin": request.query_params["origin"]} if request.query_params.get("origin") else {}
    try:
        packet = phenopacket.parse_phenopacket(body, "request body")
        patient = phenopacket.patient_of(packet, request.query_params.get("patient") or None, "request body")
    except phenopacket.PhenopacketError as err:
        return DocumentError(400, "BAD_INPUT", str(err)).response()
    try:
        identity = _granted(request, P.WRITE_PATIENT, patient)
    except Refused as refused:
        return refused.response
    outcome = "error"
    try:
        matched = await _run(
            request,
            phenopacket.import_phenopacket,
            body,
            upload_dir=upload_dir(),
            patient_id=request.query_params.get("patient") or None,
            name="request body",
            **options,
        )
        outcome = "ok"
    except DocumentError as err:
        return err.response()
    except ValueError as err:  # the matcher's VcfError / BuildMismatchError: nothing was stored
        return JSONResponse({"error": str(err), "code": "BAD_INPUT"}, status_code=400)
    finally:
        request.app.state.access.audit.append(
            identity, "submitPhenopacket", patients=[patient], request=request.state.request_id, outcome=outcome
        )
    return JSONResponse(json.loads(json.dumps(matched.to_dict(), default=str)))


ROUTES = [
    Route("/patients/phenopacket", submit_phenopacket, methods=["POST"]),
    Route("/patients/{id}/report", _documents(_report)),
    Route("/patients/{id}/report.pdf", _documents(_pdf)),
    Route("/patients/{id}/fhir", _documents(_fhir)),
    Route("/patients/{id}/phenopacket", _documents(_phenopacket)),
]

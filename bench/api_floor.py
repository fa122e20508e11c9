"""The API server bench/bench_api.py measures, with its benchmark-only *payload floor* (issue 12).

    python bench/api_floor.py --patient pgxpanel --disease DOID:1909 --host 127.0.0.1 --port 8810

Serves exactly what ``kg serve`` serves (``api.app.create_app`` under ``api.app.serve``: uvicorn with uvloop
and httptools, the same log level) plus one root field that the service never has: ``payloadFloor(id)``.
It answers a patient's pharmacogenomics, targeted therapies and risks as the same GraphQL types
(``PgxAnswer``, ``EvidenceFinding``, ``RiskFinding``) with the same arguments and the same grant check,
but from answers computed once at start-up and kept in memory, converted per request by the same
``to_types`` the real resolvers use. A query that differs from the real summary only in its root field
therefore costs what the GraphQL layer (HTTP, parse/validate cache, execution, serialisation) costs
without the graph: the floor the real answer is compared with, in the same server process and the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import strawberry
from strawberry.types import Info

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from bench/: the project's packages

from api.answer_types import AsOf
from api.auth import needs, require_patient
from api.context import Context
from api.derive import to_types
from api.patients import EvidenceFinding, PgxAnswer, RiskFinding
from kg.access.roles import Permission as P
from kg.config import Settings
from kg.db import Graph
from kg.queries import pgx, risk, therapy
from kg.queries.resolve import resolve_drug

#: patient id -> the kg answers kept in memory (filled once by ``remember``)
ANSWERS: dict[str, dict[str, Any]] = {}


def remember(graph: Graph, patient: str, disease: str) -> dict[str, int]:
    """The patient's current answers, computed once through kg.queries (the real answers' code)."""
    ANSWERS[patient] = {
        "pgx": pgx.pharmacogenomics(graph, patient),
        "therapies": therapy.targeted_therapies(graph, patient, disease),
        "risks": risk.risks(graph, patient),
        "disease": disease,
        "drugs": {},  # drug text -> drug id, resolved once
    }
    return {k: len(v) for k, v in ANSWERS[patient].items() if isinstance(v, list)}


@strawberry.type(description="Benchmark only: a patient's answers from memory (bench/api_floor.py).")
class FloorPatient:
    id: str

    @strawberry.field
    def pharmacogenomics(
        self, info: Info[Context, None], drug: str | None = None, as_of: AsOf = None
    ) -> list[PgxAnswer]:
        require_patient(info, P.READ_PATIENT, self.id)
        kept = ANSWERS[self.id]
        answers = kept["pgx"]
        if drug is not None:
            drug_id = kept["drugs"].get(drug)
            if drug_id is None:
                drug_id = kept["drugs"][drug] = resolve_drug(info.context.graph, drug).id
            answers = [a for a in answers if a.drug.id == drug_id]
        return to_types(PgxAnswer, answers)

    @strawberry.field
    def targeted_therapies(
        self, info: Info[Context, None], disease: str | None = None, as_of: AsOf = None
    ) -> list[EvidenceFinding]:
        require_patient(info, P.READ_PATIENT, self.id)
        if disease != ANSWERS[self.id]["disease"]:
            raise ValueError(f"the floor keeps the answers for disease {ANSWERS[self.id]['disease']} only")
        return to_types(EvidenceFinding, ANSWERS[self.id]["therapies"])

    @strawberry.field
    def risks(self, info: Info[Context, None], include_non_risk: bool = False, as_of: AsOf = None) -> list[RiskFinding]:
        require_patient(info, P.READ_PATIENT, self.id)
        return to_types(RiskFinding, ANSWERS[self.id]["risks"])


@strawberry.type
class FloorQuery:
    @strawberry.field(
        permission_classes=[needs(P.READ_PATIENT)],
        description="Benchmark only: the patient's answers kept in memory at start-up (bench/api_floor.py).",
    )
    def payload_floor(self, info: Info[Context, None], id: str) -> FloorPatient | None:
        require_patient(info, P.READ_PATIENT, id)
        return FloorPatient(id=id) if id in ANSWERS else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patient", required=True)
    ap.add_argument("--disease", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8810)
    args = ap.parse_args()

    from api.app import create_app, serve

    settings = Settings.from_env()
    with Graph(settings) as graph:
        print(f"payload floor for {args.patient}: {remember(graph, args.patient, args.disease)}", flush=True)
    serve(create_app(settings, extra_queries=(FloorQuery,)), args.host, args.port)


if __name__ == "__main__":
    main()

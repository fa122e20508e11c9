"""Researchers' questions: neighbourhoods, paths, cohort aggregates, subgraph export.

Limits are checked in kg.queries.explore before any Cypher runs (depth <= 3, limit <= 500,
maxHops <= 4, allow-listed labels and relationship types); their refusals are BAD_INPUT here.

Who may call (kg/access/roles.py): neighbors, paths and export need Permission.EXPLORE (researchers,
admins) and never show a Patient the caller may not read (researchers: none; admins: all); cohort
questions need Permission.COHORT: clinicians see only their granted patients, admins every patient,
researchers aggregates over every patient (no ids, counts below the minimum cell size null). An
answer that shows patient ids is audited as a read of those patients.

Every traversal runs under a cost bound Neo4j enforces (kg.queries.bounds); one past it is
QUERY_TOO_BROAD, with a message that says how to narrow it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import neo4j.exceptions
import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.types import Info

from api import cursors
from api.answer_types import AsOf
from api.auth import needs, require, route_identity
from api.context import Context
from api.derive import derived, to_type, to_types
from api.errors import bad_input, not_found
from api.knowledge_types import PageInfo
from api.limits import ArgumentError, check_string
from kg.access.roles import Identity
from kg.access.roles import Permission as P
from kg.db import GraphUnavailable
from kg.queries import cohort, explore, export
from kg.queries.bounds import QueryTooBroad
from kg.queries.visibility import UnknownKnowledgeState, knowledge_state

T = TypeVar("T")


@strawberry.enum(description="Which way relationships are followed from each node.")
class Direction(enum.Enum):
    OUTGOING = "OUTGOING"
    INCOMING = "INCOMING"
    BOTH = "BOTH"


ExportFormat = export.ExportFormat


@derived(
    explore.Node,
    name="GraphNode",
    description="A node: its key (Gene symbol, Source key, otherwise id), kind and properties.",
)
class GraphNode:
    pass


@derived(
    explore.Edge, name="GraphEdge", description="A relationship start -[type]-> end, its ends named by key and label."
)
class GraphEdge:
    pass


@derived(
    explore.Subgraph, description="A node's neighbourhood, breadth first; truncated when the node limit stopped it."
)
class Subgraph:
    pass


@derived(explore.RelationshipType)
class RelationshipType:
    pass


@derived(explore.Path, name="GraphPath")
class GraphPath:
    pass


@derived(cohort.PhenotypeCount, description="Patients with one phenotype of a gene (from their called diplotypes).")
class PhenotypeCount:
    pass


@derived(cohort.CohortPhenotypes)
class CohortPhenotypes:
    pass


@derived(
    cohort.ActionablePatient,
    description="A patient with actionable findings: the evidence and recommendations behind them.",
)
class ActionablePatient:
    pass


@derived(
    cohort.Actionable,
    name="CohortActionable",
    description="Patients with actionable findings for a drug and/or a disease, in patient-id order.",
)
class CohortActionable:
    page_info: PageInfo


@derived(export.Export, name="SubgraphExport")
class SubgraphExport:
    pass


async def _run(info: Info[Context, None], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a kg research function, turning its refusals into coded GraphQL errors."""
    try:
        return await info.context.run(fn, *args, **kwargs)
    except explore.UnknownNode as err:
        raise not_found(str(err)) from err
    except (explore.TraversalError, explore.AmbiguousNode) as err:
        raise bad_input(str(err)) from err


@strawberry.type
class ResearchQuery:
    @strawberry.field(
        permission_classes=[needs(P.EXPLORE)],
        description="A node and what lies within `depth` relationships (<= 3), at most `limit` nodes (<= 500); "
        "Patients only those the caller may read.",
    )
    async def neighbors(
        self,
        info: Info[Context, None],
        id: str,
        label: str | None = None,
        relationship_types: list[str] | None = None,
        direction: Direction = Direction.BOTH,
        depth: int = 1,
        limit: int = 50,
        as_of: AsOf = None,
    ) -> Subgraph:
        state = await info.context.state(as_of)
        sub = await _run(
            info,
            explore.neighborhood,
            id,
            label=label,
            relationship_types=relationship_types,
            direction=direction.value,
            depth=depth,
            limit=limit,
            patients=require(info, P.EXPLORE).patient_scope(),
            state=state,
        )
        _audit_patients(info, [n.id for n in sub.nodes if n.label == "Patient"])
        return to_type(Subgraph, sub)

    @strawberry.field(
        permission_classes=[needs(P.EXPLORE)],
        description="Shortest paths (or, shortest: false, every simple path) of at most maxHops (<= 4) between "
        "two nodes, at most `limit` (<= 50). Provenance and look-up edges are left out unless named; no path passes "
        "through a Patient the caller may not read.",
    )
    async def paths(
        self,
        info: Info[Context, None],
        from_: Annotated[str, strawberry.argument(name="from")],
        to: str,
        from_label: str | None = None,
        to_label: str | None = None,
        relationship_types: list[str] | None = None,
        max_hops: int = 3,
        limit: int = 10,
        shortest: bool = True,
        as_of: AsOf = None,
    ) -> list[GraphPath]:
        state = await info.context.state(as_of)
        found = await _run(
            info,
            explore.find_paths,
            from_,
            to,
            from_label=from_label,
            to_label=to_label,
            relationship_types=relationship_types,
            max_hops=max_hops,
            limit=limit,
            shortest=shortest,
            patients=require(info, P.EXPLORE).patient_scope(),
            state=state,
        )
        _audit_patients(info, [n.id for p in found for n in p.nodes if n.label == "Patient"])
        return to_types(GraphPath, found)

    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="The relationship types `neighbors` and `paths` accept (no patient data).",
    )
    def relationship_types(self) -> list[RelationshipType]:
        return to_types(RelationshipType, explore.relationship_types())

    @strawberry.field(
        permission_classes=[needs(P.COHORT)],
        description="Patients per called phenotype of a gene, with up to `limit` (<= 1000) ids each (researchers: "
        "counts only, small ones suppressed).",
    )
    async def cohort_phenotypes(
        self, info: Info[Context, None], gene: str, limit: int = 100, as_of: AsOf = None
    ) -> CohortPhenotypes:
        identity = require(info, P.COHORT)
        if not gene.strip():
            raise bad_input("gene must not be empty")
        if not 0 <= limit <= cohort.MAX_PATIENTS:
            raise bad_input(f"limit must be between 0 and {cohort.MAX_PATIENTS}, got {limit}")
        state = await info.context.state(as_of)
        answer = await info.context.run(
            cohort.cohort_phenotypes, gene, limit, patients=_cohort_scope(identity), state=state
        )
        if identity.aggregate_only:
            answer = cohort.aggregated_phenotypes(answer, _min_cell(info))
        _audit_patients(info, [i for p in answer.phenotypes for i in p.patient_ids])
        return to_type(CohortPhenotypes, answer)

    @strawberry.field(
        permission_classes=[needs(P.COHORT)],
        description="Patients with actionable findings for a drug and/or a disease (with its descendants): variants "
        "with supporting evidence, and for a drug also guideline recommendations for their phenotypes (researchers: "
        "counts only, small ones suppressed).",
    )
    async def cohort_actionable(
        self,
        info: Info[Context, None],
        drug: str | None = None,
        disease: str | None = None,
        first: int = 100,
        after: str | None = None,
        as_of: AsOf = None,
    ) -> CohortActionable:
        identity = require(info, P.COHORT)
        drug = (drug or "").strip() or None
        disease = (disease or "").strip() or None
        if drug is None and disease is None:
            raise bad_input("give a drug, a disease, or both")
        if not 0 <= first <= cohort.MAX_PATIENTS:
            raise bad_input(f"first must be between 0 and {cohort.MAX_PATIENTS}, got {first}")
        state = await info.context.state(as_of)
        result = await info.context.run(
            cohort.cohort_actionable,
            drug=drug,
            disease=disease,
            first=first,
            after=cursors.decode("patient", after),
            patients=_cohort_scope(identity),
            state=state,
            page=not identity.aggregate_only,  # an aggregate answer lists no patients: the counts only
        )
        if identity.aggregate_only:
            result = cohort.aggregated_actionable(result, _min_cell(info))
        _audit_patients(info, [p.id for p in result.patients])
        end = cursors.encode("patient", result.patients[-1].id) if result.patients else None
        return to_type(CohortActionable, result, page_info=PageInfo(has_next_page=result.has_next, end_cursor=end))

    @strawberry.field(
        permission_classes=[needs(P.EXPLORE)],
        description="A node's neighbourhood as RDF Turtle (rdflib) or JSON; also GET /export?id=... "
        "Patients only those the caller may read.",
    )
    async def export_subgraph(
        self,
        info: Info[Context, None],
        id: str,
        label: str | None = None,
        depth: int = 1,
        limit: int = 200,
        format: ExportFormat = ExportFormat.TURTLE,
        as_of: AsOf = None,
    ) -> SubgraphExport:
        scope = require(info, P.EXPLORE).patient_scope()
        state = await info.context.state(as_of)
        out = await _run(
            info,
            export.export_subgraph,
            id,
            label=label,
            depth=depth,
            limit=limit,
            fmt=format.value,
            patients=scope,
            state=state,
        )
        _audit_patients(info, out.patient_ids)
        return to_type(SubgraphExport, out)


def _cohort_scope(identity: Identity) -> frozenset[str] | None:
    """Aggregate-only callers count every patient; the others see the patients they may read."""
    return None if identity.aggregate_only else identity.patient_scope()


def _min_cell(info: Info[Context, None]) -> int:
    access = info.context.access
    assert access is not None
    return access.settings.min_cell


def _audit_patients(info: Info[Context, None], patient_ids: list[str]) -> None:
    """An answer that shows patients by id is a read of those patients."""
    if patient_ids:
        info.context.audit(info.field_name, patients=patient_ids)


async def export_endpoint(request: Request) -> Response:
    """GET /export?id=BRAF&label=Gene&depth=1&limit=200&format=turtle|json[&asOf=KEY|DATE]: the file itself.
    Researchers and admins (Permission.EXPLORE); Patients only those the caller may read (audited)."""
    identity = route_identity(request, P.EXPLORE)
    if not isinstance(identity, Identity):
        return identity
    q = request.query_params
    key = q.get("id", "").strip()
    fmt = q.get("format", "turtle").upper()
    try:
        depth, limit = int(q.get("depth", 1)), int(q.get("limit", 200))
    except ValueError:
        return JSONResponse({"error": "depth and limit must be integers", "code": "BAD_INPUT"}, status_code=400)
    if not key:
        return JSONResponse({"error": "give the node's key as ?id=", "code": "BAD_INPUT"}, status_code=400)
    graph = request.app.state.graph
    try:
        for name in ("id", "label"):  # the same checks as every GraphQL string argument (api.limits)
            check_string(name, q.get(name, ""), graph.settings)
    except ArgumentError as err:
        return JSONResponse({"error": str(err), "code": "BAD_INPUT"}, status_code=400)
    if fmt not in export.FORMATS:
        return JSONResponse({"error": "format must be turtle or json", "code": "BAD_INPUT"}, status_code=400)
    ready = request.app.state.ready
    as_of = q.get("asOf") or None

    def run() -> export.Export:
        if ready is not None:
            ready.ensure()  # the schema, once Neo4j is first reachable (api.app); never raises
        return export.export_subgraph(
            graph,
            key,
            label=q.get("label") or None,
            depth=depth,
            limit=limit,
            fmt=fmt,
            patients=identity.patient_scope(),
            state=knowledge_state(graph, as_of) if as_of else None,
        )

    try:
        out = await anyio.to_thread.run_sync(run)
    except explore.UnknownNode as err:
        return JSONResponse({"error": str(err), "code": "NOT_FOUND"}, status_code=404)
    except (explore.TraversalError, explore.AmbiguousNode, UnknownKnowledgeState) as err:
        return JSONResponse({"error": str(err), "code": "BAD_INPUT"}, status_code=400)
    except QueryTooBroad as err:
        return JSONResponse({"error": str(err), "code": "QUERY_TOO_BROAD"}, status_code=400)
    except (GraphUnavailable, neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired):
        return JSONResponse({"error": "the knowledge graph is unavailable", "code": "UNAVAILABLE"}, status_code=503)
    if out.patient_ids:
        request.app.state.access.audit.append(
            identity, "export", patients=out.patient_ids, request=request.state.request_id
        )
    return Response(out.content, media_type=out.media_type)

"""Researchers' questions: neighbourhoods, paths, cohort aggregates, subgraph export.

Limits are checked in kg.queries.explore before any Cypher runs (depth <= 3, limit <= 500,
maxHops <= 4, allow-listed labels and relationship types); their refusals are BAD_INPUT here.
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
from strawberry.scalars import JSON
from strawberry.types import Info

from api import cursors
from api.answer_types import as_json
from api.context import Context
from api.derive import to_type
from api.errors import bad_input, not_found
from api.knowledge_types import Count, PageInfo
from kg.db import GraphUnavailable
from kg.queries import cohort, explore, export, knowledge

T = TypeVar("T")


@strawberry.enum(description="Which way relationships are followed from each node.")
class Direction(enum.Enum):
    OUTGOING = "OUTGOING"
    INCOMING = "INCOMING"
    BOTH = "BOTH"


@strawberry.enum
class ExportFormat(enum.Enum):
    TURTLE = "TURTLE"
    JSON = "JSON"


@strawberry.type(description="A node: its key (Gene symbol, Source key, otherwise id), kind and properties.")
class GraphNode:
    id: str
    label: str
    labels: list[str]
    name: str
    properties: JSON

    @classmethod
    def of(cls, n: dict[str, Any]) -> GraphNode:
        return cls(id=n["key"], label=n["label"], labels=list(n["labels"]), name=n["name"],
                   properties=as_json(n["properties"]))


@strawberry.type(description="A relationship start -[type]-> end, its ends named by key and label.")
class GraphEdge:
    type: str
    start: str
    start_label: str
    end: str
    end_label: str
    properties: JSON

    @classmethod
    def of(cls, e: dict[str, Any]) -> GraphEdge:
        return cls(type=e["type"], start=e["start"], start_label=e["startLabel"], end=e["end"],
                   end_label=e["endLabel"], properties=as_json(e["properties"]))


@strawberry.type(description="A node's neighbourhood, breadth first; truncated when the node limit stopped it.")
class Subgraph:
    root: GraphNode
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool


@strawberry.type
class GraphPath:
    length: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]


@strawberry.type(description="Patients with one phenotype of a gene (from their called diplotypes).")
class PhenotypeCount:
    id: str
    phenotype: str | None
    activity_score: str | None
    patients: int
    patient_ids: list[str]
    diplotypes: list[Count]


@strawberry.type
class CohortPhenotypes:
    gene: str
    patients: int = strawberry.field(description="Patients with any called phenotype of the gene.")
    phenotypes: list[PhenotypeCount]


@strawberry.type(description="A patient with actionable findings: the evidence and recommendations behind them.")
class ActionablePatient:
    id: str
    evidence: list[str]
    evidence_count: int
    recommendations: list[str]


@strawberry.type(description="Patients with actionable findings for a drug and/or a disease, in patient-id order.")
class CohortActionable:
    total_count: int
    via_evidence: int
    via_recommendation: int
    patients: list[ActionablePatient]
    page_info: PageInfo


@strawberry.type
class SubgraphExport:
    format: ExportFormat
    media_type: str
    content: str
    node_count: int
    edge_count: int
    truncated: bool


MAX_EVIDENCE_IDS = 50  # per patient in cohortActionable; evidenceCount has the full number


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
    @strawberry.field(description="A node and what lies within `depth` relationships (<= 3), at most `limit` nodes (<= 500).")
    async def neighbors(
        self,
        info: Info[Context, None],
        id: str,
        label: str | None = None,
        relationship_types: list[str] | None = None,
        direction: Direction = Direction.BOTH,
        depth: int = 1,
        limit: int = 50,
    ) -> Subgraph:
        sub = await _run(info, explore.neighborhood, id, label=label, relationship_types=relationship_types,
                         direction=direction.value, depth=depth, limit=limit)
        return Subgraph(root=GraphNode.of(sub.root), nodes=[GraphNode.of(n) for n in sub.nodes],
                        edges=[GraphEdge.of(e) for e in sub.edges], truncated=sub.truncated)

    @strawberry.field(
        description="Shortest paths (or, shortest: false, every simple path) of at most maxHops (<= 4) between "
        "two nodes, at most `limit` (<= 50). Provenance and look-up edges are left out unless named."
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
    ) -> list[GraphPath]:
        found = await _run(info, explore.find_paths, from_, to, from_label=from_label, to_label=to_label,
                           relationship_types=relationship_types, max_hops=max_hops, limit=limit, shortest=shortest)
        return [GraphPath(length=p.length, nodes=[GraphNode.of(n) for n in p.nodes],
                          edges=[GraphEdge.of(e) for e in p.edges]) for p in found]

    @strawberry.field(description="Patients per called phenotype of a gene, with up to `limit` (<= 1000) ids each.")
    async def cohort_phenotypes(self, info: Info[Context, None], gene: str, limit: int = 100) -> CohortPhenotypes:
        if not gene.strip():
            raise bad_input("gene must not be empty")
        if not 0 <= limit <= cohort.MAX_PATIENTS:
            raise bad_input(f"limit must be between 0 and {cohort.MAX_PATIENTS}, got {limit}")
        symbol, total, rows = await info.context.run(cohort.cohort_phenotypes, gene, limit)
        return CohortPhenotypes(
            gene=symbol, patients=total,
            phenotypes=[
                PhenotypeCount(id=r.id, phenotype=r.phenotype, activity_score=r.activity_score, patients=r.patients,
                               patient_ids=r.patient_ids, diplotypes=[to_type(Count, knowledge.Count(key=k, count=v)) for k, v in r.diplotypes.items()])
                for r in rows
            ],
        )

    @strawberry.field(
        description="Patients with actionable findings for a drug and/or a disease (with its descendants): variants "
        "with supporting evidence, and for a drug also guideline recommendations for their phenotypes."
    )
    async def cohort_actionable(
        self,
        info: Info[Context, None],
        drug: str | None = None,
        disease: str | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> CohortActionable:
        drug = (drug or "").strip() or None
        disease = (disease or "").strip() or None
        if drug is None and disease is None:
            raise bad_input("give a drug, a disease, or both")
        if not 0 <= first <= cohort.MAX_PATIENTS:
            raise bad_input(f"first must be between 0 and {cohort.MAX_PATIENTS}, got {first}")
        result = await info.context.run(cohort.cohort_actionable, drug=drug, disease=disease, first=first,
                                        after=cursors.decode("patient", after))
        patients = [
            ActionablePatient(id=p.id, evidence=p.evidence[:MAX_EVIDENCE_IDS], evidence_count=len(p.evidence),
                              recommendations=p.recommendations)
            for p in result.patients
        ]
        end = cursors.encode("patient", patients[-1].id) if patients else None
        return CohortActionable(
            total_count=result.total, via_evidence=result.via_evidence, via_recommendation=result.via_recommendation,
            patients=patients, page_info=PageInfo(has_next_page=result.has_next, end_cursor=end),
        )

    @strawberry.field(description="A node's neighbourhood as RDF Turtle (rdflib) or JSON; also GET /export?id=...")
    async def export_subgraph(
        self,
        info: Info[Context, None],
        id: str,
        label: str | None = None,
        depth: int = 1,
        limit: int = 200,
        format: ExportFormat = ExportFormat.TURTLE,
    ) -> SubgraphExport:
        out = await _run(info, export.export_subgraph, id, label=label, depth=depth, limit=limit, fmt=format.value)
        return SubgraphExport(format=format, media_type=out.media_type, content=out.content, node_count=out.nodes,
                              edge_count=out.edges, truncated=out.truncated)


async def export_endpoint(request: Request) -> Response:
    """GET /export?id=BRAF&label=Gene&depth=1&limit=200&format=turtle|json: the file itself."""
    q = request.query_params
    key = q.get("id", "").strip()
    fmt = q.get("format", "turtle").upper()
    try:
        depth, limit = int(q.get("depth", 1)), int(q.get("limit", 200))
    except ValueError:
        return JSONResponse({"error": "depth and limit must be integers", "code": "BAD_INPUT"}, status_code=400)
    if not key:
        return JSONResponse({"error": "give the node's key as ?id=", "code": "BAD_INPUT"}, status_code=400)
    if fmt not in export.FORMATS:
        return JSONResponse({"error": "format must be turtle or json", "code": "BAD_INPUT"}, status_code=400)
    graph = request.app.state.graph
    try:
        out = await anyio.to_thread.run_sync(
            lambda: export.export_subgraph(graph, key, label=q.get("label") or None, depth=depth, limit=limit, fmt=fmt)
        )
    except explore.UnknownNode as err:
        return JSONResponse({"error": str(err), "code": "NOT_FOUND"}, status_code=404)
    except (explore.TraversalError, explore.AmbiguousNode) as err:
        return JSONResponse({"error": str(err), "code": "BAD_INPUT"}, status_code=400)
    except (GraphUnavailable, neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired):
        return JSONResponse({"error": "the knowledge graph is unavailable", "code": "UNAVAILABLE"}, status_code=503)
    return Response(out.content, media_type=out.media_type)

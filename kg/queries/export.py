"""A node's neighbourhood as RDF (Turtle, via rdflib) or JSON, for researchers' own tools.

RDF mapping: one resource per node, ``<base>node/<Label>/<key>``; ``rdf:type`` the vocabulary
class of each label (``<base>vocab/Gene``); ``rdfs:label`` its display name; every property a
literal of ``<base>vocab/<property>`` (a list gives one triple per item); every edge a triple
``start <base>vocab/<TYPE> end``. Edge properties (release, zygosity, ...) are kept in JSON only.
The neighbourhood itself comes from kg.queries.explore (one Cypher round trip).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from rdflib import RDF, RDFS, Literal, Namespace, URIRef
from rdflib import Graph as RdfGraph

from kg.db import Graph
from kg.queries.answers import AS_OF, RELEASES_USED, as_of
from kg.queries.explore import Subgraph, neighborhood
from kg.queries.fields import INTERNAL
from kg.queries.visibility import NO_PATIENTS, KnowledgeState, PatientScope

BASE = "https://precision-kg.org/"
VOCAB = Namespace(BASE + "vocab/")
NODE = Namespace(BASE + "node/")


class ExportFormat(enum.Enum):
    TURTLE = "TURTLE"
    JSON = "JSON"


FORMATS = tuple(f.value for f in ExportFormat)


def node_iri(label: str, key: str) -> URIRef:
    return URIRef(f"{NODE}{quote(label, safe='')}/{quote(key, safe='')}")


def _literals(value: Any) -> list[Literal]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [lit for item in value for lit in _literals(item)]
    if isinstance(value, (bool, int, float, str)):
        return [Literal(value)]
    return [Literal(str(value))]


def to_rdf(sub: Subgraph) -> RdfGraph:
    rdf = RdfGraph()
    rdf.bind("kg", VOCAB)
    rdf.bind("node", NODE)
    for n in sub.nodes:
        subject = node_iri(n.label, n.id)
        for label in n.labels:
            rdf.add((subject, RDF.type, VOCAB[label]))
        rdf.add((subject, RDFS.label, Literal(n.name)))
        for prop, value in sorted(n.properties.items()):
            for literal in _literals(value):
                rdf.add((subject, VOCAB[prop], literal))
    for e in sub.edges:
        rdf.add((node_iri(e.start_label, e.start), VOCAB[e.type], node_iri(e.end_label, e.end)))
    return rdf


def to_json(sub: Subgraph) -> str:
    nodes = [
        {"key": n.id, "label": n.label, "labels": n.labels, "name": n.name, "properties": n.properties}
        for n in sub.nodes
    ]
    edges = [
        {
            "type": e.type,
            "start": e.start,
            "startLabel": e.start_label,
            "end": e.end,
            "endLabel": e.end_label,
            "properties": e.properties,
        }
        for e in sub.edges
    ]
    return json.dumps(
        {
            "root": {"key": sub.root.id, "label": sub.root.label},
            "truncated": sub.truncated,
            "nodes": nodes,
            "edges": edges,
        },
        default=str,
        indent=1,
        sort_keys=True,
    )


@dataclass(frozen=True)
class Export:
    format: ExportFormat
    media_type: str
    content: str
    node_count: int
    edge_count: int
    truncated: bool
    patient_ids: list[str] = field(default_factory=list, metadata=INTERNAL)  # Patients exported (for the audit)
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)


def export_subgraph(
    graph: Graph,
    key: str,
    *,
    label: str | None = None,
    depth: int = 1,
    limit: int = 200,
    relationship_types: Sequence[str] | None = None,
    fmt: str = "TURTLE",
    patients: PatientScope = NO_PATIENTS,
    state: KnowledgeState | None = None,
) -> Export:
    """The neighbourhood of one node (kg.queries.explore.neighborhood, Patients only within ``patients``,
    evidence of the knowledge ``state``, None: current) serialised as ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    sub = neighborhood(
        graph,
        key,
        label=label,
        depth=depth,
        limit=limit,
        relationship_types=relationship_types,
        patients=patients,
        state=state,
    )
    if fmt == "TURTLE":
        content, media = to_rdf(sub).serialize(format="turtle"), "text/turtle"
    else:
        content, media = to_json(sub), "application/json"
    return Export(
        format=ExportFormat(fmt),
        media_type=media,
        content=content,
        node_count=len(sub.nodes),
        edge_count=len(sub.edges),
        truncated=sub.truncated,
        patient_ids=sorted(n.id for n in sub.nodes if n.label == "Patient"),
        releases=sub.releases,
        as_of=as_of(state),
    )

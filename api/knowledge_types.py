"""GraphQL types of the knowledge look-ups: variants, drugs, diseases, evidence and its pages.

Built from the rows kg.queries.knowledge returns; names follow docs/GRAPH_MODEL.md.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.answer_types import DiseaseRef, DrugRef, as_json
from api.context import Context
from api.derive import derived, to_type
from api.loaders import disease_relatives_loader
from kg.queries import knowledge
from kg.queries.answers import disease_ref, drug_ref

Row = dict[str, Any]


@derived(knowledge.Count, description="How many items share one value (a type, a source, a significance).")
class Count:
    pass


@derived(knowledge.EvidenceSummary,
         description="Visible (accepted, active-release) evidence about a variant, directly or via its profiles.")
class EvidenceSummary:
    pass


@derived(knowledge.MolecularProfileRef, description="A CIViC molecular profile: one variant, a combination, or a category.")
class MolecularProfileRef:
    pass


@derived(knowledge.VariantView, name="Variant",
         description="A variant: GRCh38 allele (GRCh38:chr7:140753336:A:T) or a CIViC codon/gene-level category.")
class Variant:
    pass


@strawberry.type(description="A drug (key: lowercased preferred name) with its identifiers.")
class Drug:
    id: str
    name: str | None
    synonyms: list[str]
    rxnorm_id: str | None
    drugbank_id: str | None
    pharmgkb_id: str | None
    ncit_id: str | None
    atc: list[str]

    @classmethod
    def of(cls, row: Row) -> Drug:
        return cls(
            id=row["id"], name=row.get("name"), synonyms=list(row.get("synonyms") or []),
            rxnorm_id=_text(row.get("rxnormId")), drugbank_id=_text(row.get("drugbankId")),
            pharmgkb_id=_text(row.get("pharmgkbId")), ncit_id=_text(row.get("ncitId")),
            atc=[str(a) for a in row.get("atc") or []],
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@strawberry.type(description="A disease (Disease Ontology term, or MONDO) with its place in the IS_A hierarchy.")
class Disease:
    id: str
    name: str | None
    definition: str | None
    synonyms: list[str]
    xrefs: list[str]
    obsolete: bool
    matched_as: str | None = strawberry.field(
        description="How the query matched: id, altId, name or xref (top level only).")
    replaced_by: DiseaseRef | None = strawberry.field(description="For an obsolete term: the term that replaces it.")
    replaced_from: DiseaseRef | None = strawberry.field(
        description="The obsolete term the query named, which this term replaces (top level only).")

    @strawberry.field(description="Direct parents (IS_A).")
    async def parents(self, info: Info[Context, None]) -> list[Disease]:
        rows = await disease_relatives_loader(info, "parents").load(self.id)
        return [Disease.of(r) for r in rows]

    @strawberry.field(description="Direct children (IS_A).")
    async def children(self, info: Info[Context, None]) -> list[Disease]:
        rows = await disease_relatives_loader(info, "children").load(self.id)
        return [Disease.of(r) for r in rows]

    @classmethod
    def of(cls, row: Row, matched_as: str | None = None, replaced_from: Row | None = None) -> Disease:
        replacement = {"id": row["replacedBy"], "name": None} if row.get("replacedBy") else None
        return cls(
            id=row["id"], name=row.get("name"), definition=row.get("definition"),
            synonyms=list(row.get("synonyms") or []), xrefs=list(row.get("xrefs") or []),
            obsolete=bool(row.get("obsolete")), matched_as=matched_as,
            replaced_by=to_type(DiseaseRef, disease_ref(replacement)) if replacement else None,
            replaced_from=to_type(DiseaseRef, disease_ref(replaced_from)) if replaced_from else None,
        )


@strawberry.type(description="A source release: what asserted a fact, under which licence, loaded when.")
class Release:
    key: str
    name: str | None
    version: str | None
    licence: str | None
    loaded_at: str | None
    status: str | None


@strawberry.type(description="A node an evidence item is ABOUT: molecular profile, variant, gene or phenotype.")
class NodeRef:
    id: str
    label: str
    name: str | None
    kind: str | None


@strawberry.type(description="One graded evidence item (or assertion), with its links and the releases behind it.")
class Evidence:
    id: str
    source: str | None
    type: str | None
    level: str | None
    direction: str | None
    significance: str | None
    statement: str | None
    pmids: list[str]
    origin: str | None
    therapies: list[str]
    therapy_interaction: str | None
    status: str = strawberry.field(description="ACCEPTED for loaded evidence; SUBMITTED / ACCEPTED / REJECTED for curated.")
    is_assertion: bool
    submitted_by: str | None
    submitted_at: str | None
    moderated_by: str | None
    moderated_at: str | None
    moderation_comment: str | None
    disease: DiseaseRef | None
    diseases: list[DiseaseRef]
    drugs: list[DrugRef]
    molecular_profile: MolecularProfileRef | None
    about: list[NodeRef]
    sources: list[Release]
    properties: JSON = strawberry.field(description="Every stored property (ClinVar review status, AMP tier, ...).")

    @classmethod
    def of(cls, row: Row) -> Evidence:
        p = row["props"]
        diseases = [to_type(DiseaseRef, disease_ref(d)) for d in sorted(row["diseases"], key=lambda d: d["id"])]
        profile = next((a for a in row["about"] if a["label"] == "MolecularProfile"), None)
        return cls(
            id=p["id"], source=p.get("source"), type=p.get("type"), level=_text(p.get("level")),
            direction=p.get("direction"), significance=p.get("significance"), statement=p.get("statement"),
            pmids=[str(x) for x in p.get("pmids") or []], origin=p.get("origin"),
            therapies=list(p.get("therapies") or [d["name"] or d["id"] for d in row["drugs"]]),
            therapy_interaction=p.get("therapyInteraction"),
            status=str(p.get("status") or "ACCEPTED").upper(), is_assertion="Assertion" in row["labels"],
            submitted_by=p.get("submittedBy"), submitted_at=_text(p.get("submittedAt")),
            moderated_by=p.get("moderatedBy"), moderated_at=_text(p.get("moderatedAt")),
            moderation_comment=p.get("moderationComment"),
            disease=diseases[0] if diseases else None, diseases=diseases,
            drugs=[to_type(DrugRef, drug_ref(d)) for d in sorted(row["drugs"], key=lambda d: d["id"])],
            molecular_profile=to_type(MolecularProfileRef, knowledge.MolecularProfileRef(
                id=profile["id"], name=profile["name"], kind=profile.get("kind")))
            if profile else None,
            about=[NodeRef(id=str(a["id"]), label=a["label"], name=a.get("name"), kind=a.get("kind")) for a in row["about"]],
            sources=[
                Release(key=s["key"], name=s.get("name"), version=_text(s.get("version")), licence=s.get("licence"),
                        loaded_at=_text(s.get("loadedAt")), status=s.get("status"))
                for s in row["sources"]
            ],
            properties=as_json(p),
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class EvidenceEdge:
    cursor: str
    node: Evidence


@strawberry.type(description="A page of evidence in id order; pass pageInfo.endCursor as `after` for the next.")
class EvidenceConnection:
    edges: list[EvidenceEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input(description="Every field narrows the result; disease includes its descendants (IS_A*).")
class EvidenceFilter:
    gene: str | None = None
    variant: str | None = strawberry.field(default=None, description="A variant id (GRCh38:chr7:140753336:A:T or 7-140753336-A-T).")
    drug: str | None = strawberry.field(default=None, description="A drug name or synonym.")
    disease: str | None = strawberry.field(default=None, description="A disease id (DOID:1909) or name; descendants included.")
    type: str | None = None
    level: str | None = None
    significance: str | None = None
    direction: str | None = None
    source: str | None = None

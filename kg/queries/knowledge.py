"""Knowledge look-ups: what the graph says about a variant, a disease's relatives, pages of evidence.

Which entity a text names is kg.queries.resolve's business (one resolver per entity); what an
answer may show is kg.queries.visibility's (active releases, accepted evidence).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from kg.db import Graph
from kg.queries import resolve
from kg.queries.answers import (
    AS_OF,
    DISEASE_WITH_DESCENDANTS,
    RELEASES_USED,
    DiseaseRef,
    DrugRef,
    VariantAllele,
    allele_fields,
    as_of,
    disease_ref,
    drug_ref,
    json_ready,
)
from kg.queries.fields import described
from kg.queries.visibility import VISIBLE_EVIDENCE, KnowledgeState, active, in_state, state_params

Row = dict[str, Any]

#: One evidence item with what the API shows beside it (``e`` bound to an Evidence node).
EVIDENCE_PROJECTION = """{
  props: properties(e),
  labels: labels(e),
  diseases: [(e)-[:FOR_DISEASE]->(d:Disease) | d {.id, .name}],
  drugs: [(e)-[:FOR_DRUG]->(d:Drug) | d {.id, .name}],
  about: [(e)-[:ABOUT]->(t) | {id: coalesce(t.id, t.symbol), label: head(labels(t)),
                               name: coalesce(t.name, t.symbol, t.id), kind: t.kind}],
  sources: [(e)-[:ASSERTED_BY]->(s:Source) | s {.key, .name, .version, .licence, .loadedAt, .status}]
}"""


def _text(value: Any) -> str | None:
    """A stored identifier or version as text (some are numbers in the source)."""
    return None if value is None else str(value)


# --- genes and drugs -------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneView:
    """A gene (HGNC), found by current symbol, previous symbol or alias."""

    symbol: str
    name: str | None
    hgnc_id: str | None
    ncbi_gene_id: str | None
    ensembl_id: str | None
    location: str | None
    aliases: list[str]
    previous_symbols: list[str]
    matched_as: str = field(metadata=described("How the asked symbol matched: symbol, previous or alias."))
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)


def gene_view(match: resolve.Match, state: KnowledgeState | None = None) -> GeneView:
    """The gene kg.queries.resolve found (in ``state``), as its properties and how the text matched it."""
    g = match.node
    return GeneView(
        symbol=g["symbol"],
        name=g.get("name"),
        hgnc_id=_text(g.get("hgncId")),
        ncbi_gene_id=_text(g.get("ncbiGeneId")),
        ensembl_id=_text(g.get("ensemblId")),
        location=g.get("location"),
        aliases=list(g.get("aliases") or []),
        previous_symbols=list(g.get("previousSymbols") or []),
        matched_as=match.matched_as,
        releases=list(match.releases),
        as_of=as_of(state),
    )


@dataclass(frozen=True)
class DrugView:
    """A drug (key: lowercased preferred name) with its identifiers."""

    id: str
    name: str | None
    synonyms: list[str]
    rxnorm_id: str | None
    drugbank_id: str | None
    pharmgkb_id: str | None
    ncit_id: str | None
    atc: list[str]
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)


def found_drug(match: resolve.Match, state: KnowledgeState | None = None) -> DrugView:
    """The drug kg.queries.resolve found (in ``state``), with the releases asserting it."""
    return replace(drug_view(match.node), releases=list(match.releases), as_of=as_of(state))


def drug_view(d: Row) -> DrugView:
    """A Drug node's properties (as kg.queries.resolve.find_drugs returns them)."""
    return DrugView(
        id=d["id"],
        name=d.get("name"),
        synonyms=list(d.get("synonyms") or []),
        rxnorm_id=_text(d.get("rxnormId")),
        drugbank_id=_text(d.get("drugbankId")),
        pharmgkb_id=_text(d.get("pharmgkbId")),
        ncit_id=_text(d.get("ncitId")),
        atc=[str(a) for a in d.get("atc") or []],
    )


# --- variants --------------------------------------------------------------------------------

_VARIANT_VIEW = f"""
UNWIND $ids AS id
MATCH (v:Variant {{id: id}})
CALL (v) {{
  CALL (v) {{
    MATCH (e:Evidence)-[:ABOUT]->(v) RETURN e
    UNION
    MATCH (e:Evidence)-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(v) RETURN e
  }}
  WITH e WHERE {VISIBLE_EVIDENCE}
  RETURN collect({{type: e.type, source: e.source, significance: e.significance,
                  releases: [(e)-[:ASSERTED_BY]->(s:Source) WHERE {in_state("s")} | s.key]}}) AS evidence
}}
RETURN v {{.*}} AS variant,
       [(mp:MolecularProfile)-[:INCLUDES]->(v) WHERE {active("mp")} | mp {{.id, .name, .kind}}] AS profiles,
       evidence, [(v)-[:ASSERTED_BY]->(s:Source) WHERE {in_state("s")} | s.key] AS variantReleases
ORDER BY v.id
"""


@dataclass(frozen=True)
class Count:
    """How many items share one value (a type, a source, a significance)."""

    key: str
    count: int


@dataclass(frozen=True)
class EvidenceSummary:
    """Visible (accepted, active-release) evidence about a variant, directly or via its profiles."""

    total: int
    by_type: list[Count]
    by_source: list[Count]
    by_significance: list[Count]


@dataclass(frozen=True)
class MolecularProfileRef:
    """A CIViC molecular profile: one variant, a combination, or a category."""

    id: str
    name: str | None
    kind: str | None


@dataclass(frozen=True)
class VariantView(VariantAllele):
    """A variant: GRCh38 allele (GRCh38:chr7:140753336:A:T) or a CIViC codon/gene-level category."""

    hgvs: list[str]
    protein_change: str | None
    gene: str | None
    name: str | None
    kind: str | None
    molecular_profiles: list[MolecularProfileRef]
    evidence: EvidenceSummary
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)


def counts(values: list[Any]) -> list[Count]:
    """The values (None left out) counted, most common first."""
    return [Count(k, n) for k, n in Counter(str(v) for v in values if v is not None).most_common()]


def find_variants(graph: Graph, text: str, state: KnowledgeState | None = None) -> list[VariantView]:
    """Every variant the text names (kg.queries.resolve.find_variants: graph id, ``7-140753336-A-T``,
    rsID, HGVS, ``BRAF V600E``) with its profiles and evidence counts.

    Several hits mean the text is ambiguous (a protein change made by two alleles, say). Variants and
    evidence of the knowledge ``state`` (None: current).
    """
    ids = [m.id for m in resolve.find_variants(graph, text, state)]
    rows = graph.read(_VARIANT_VIEW, ids=ids, **state_params(state)) if ids else []
    return [
        _variant_view(
            r["variant"],
            r["profiles"],
            r["evidence"],
            sorted({k for e in r["evidence"] for k in e["releases"]} | set(r["variantReleases"])),
            as_of(state),
        )
        for r in rows
    ]


def _variant_view(
    v: Row, profiles: list[Row], evidence: list[Row], releases: list[str], asked: str | None
) -> VariantView:
    return VariantView(
        **allele_fields(v),
        hgvs=list(v.get("hgvs") or []),
        protein_change=v.get("proteinChange"),
        gene=v.get("gene"),
        name=v.get("name"),
        kind=v.get("kind"),
        molecular_profiles=[MolecularProfileRef(p["id"], p.get("name"), p.get("kind")) for p in profiles],
        evidence=EvidenceSummary(
            total=len(evidence),
            by_type=counts([e["type"] for e in evidence]),
            by_source=counts([e["source"] for e in evidence]),
            by_significance=counts([e["significance"] for e in evidence]),
        ),
        releases=releases,
        as_of=asked,
    )


# --- diseases --------------------------------------------------------------------------------

_RELEASES_OF_R = f"[(r)-[:ASSERTED_BY]->(s:Source) WHERE {in_state('s')} | s.key]"

# Each relative with the keys of the state's releases asserting it (a relative no release of the state
# asserts is not shown).
DISEASE_RELATIVES = f"""
UNWIND $ids AS id
MATCH (d:Disease {{id: id}})
RETURN id,
       CASE $direction
         WHEN 'parents' THEN [(d)-[:IS_A]->(r:Disease) WHERE {active("r")} | {{node: r {{.*}}, releases: {_RELEASES_OF_R}}}]
         ELSE [(r:Disease)-[:IS_A]->(d) WHERE {active("r")} | {{node: r {{.*}}, releases: {_RELEASES_OF_R}}}]
       END AS relatives
"""


@dataclass(frozen=True)
class DiseaseView:
    """A disease (Disease Ontology term, or MONDO) with its place in the IS_A hierarchy."""

    id: str
    name: str | None
    definition: str | None
    synonyms: list[str]
    xrefs: list[str]
    obsolete: bool
    matched_as: str | None = field(
        default=None, metadata=described("How the query matched: id, altId, name or xref (top level only).")
    )
    replaced_by: DiseaseRef | None = field(
        default=None, metadata=described("For an obsolete term: the term that replaces it.")
    )
    replaced_from: DiseaseRef | None = field(
        default=None,
        metadata=described("The obsolete term the query named, which this term replaces (top level only)."),
    )
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)


def disease_view(d: Row, matched_as: str | None = None, replaced_from: Row | None = None) -> DiseaseView:
    """A Disease node's properties; ``matched_as`` and ``replaced_from`` as kg.queries.resolve found it."""
    return DiseaseView(
        id=d["id"],
        name=d.get("name"),
        definition=d.get("definition"),
        synonyms=list(d.get("synonyms") or []),
        xrefs=list(d.get("xrefs") or []),
        obsolete=bool(d.get("obsolete")),
        matched_as=matched_as,
        replaced_by=DiseaseRef(d["replacedBy"], None) if d.get("replacedBy") else None,
        replaced_from=disease_ref(replaced_from) if replaced_from else None,
    )


def found_disease(match: resolve.Match, state: KnowledgeState | None = None) -> DiseaseView:
    """The disease kg.queries.resolve found (in ``state``), with the releases asserting it."""
    found = disease_view(match.node, match.matched_as, match.replaced_from)
    return replace(found, releases=list(match.releases), as_of=as_of(state))


def disease_relatives(
    graph: Graph, ids: list[str], direction: str, state: KnowledgeState | None = None
) -> dict[str, list[DiseaseView]]:
    """Parents (``direction="parents"``) or children of many diseases at once (a DataLoader batch), as
    of ``state`` (None: the current knowledge), each with the releases of the state asserting it."""
    if direction not in ("parents", "children"):
        raise ValueError(direction)
    rows = graph.read(DISEASE_RELATIVES, ids=ids, direction=direction, **state_params(state))
    asked = as_of(state)
    found = {
        r["id"]: [
            replace(disease_view(x["node"]), releases=sorted(x["releases"]), as_of=asked)
            for x in sorted(r["relatives"], key=lambda x: x["node"]["id"])
        ]
        for r in rows
    }
    return {i: found.get(i, []) for i in ids}


# --- evidence pages --------------------------------------------------------------------------

MAX_PAGE = 100


@dataclass(frozen=True)
class EvidenceFilter:
    """Every field narrows; ``disease`` includes its descendants (IS_A*); ``id`` picks one item."""

    id: str | None = None
    gene: str | None = None
    variant: str | None = None
    drug: str | None = None
    disease: str | None = None
    type: str | None = None
    level: str | None = None
    significance: str | None = None
    direction: str | None = None
    source: str | None = None

    def params(self, graph: Graph, state: KnowledgeState | None = None) -> Row:
        """Parameters as the graph spells them: gene, variant, drug and disease resolved by
        kg.queries.resolve (an unknown or ambiguous one raises its Unresolved error), vocabulary
        lower-case."""
        return {
            "id": self.id,
            "gene": resolve.resolve_gene(graph, self.gene, state).id if self.gene else None,
            "variant": resolve.resolve_variant(graph, self.variant, state).id if self.variant else None,
            "drug": resolve.resolve_drug(graph, self.drug, state).id if self.drug else None,
            "diseaseIds": [resolve.resolve_disease(graph, self.disease, state).id] if self.disease else [],
            "type": _lower(self.type),
            "level": self.level.strip().upper() if self.level else None,
            "significance": _lower(self.significance),
            "direction": _lower(self.direction),
            "source": _lower(self.source),
        }


def _lower(value: str | None) -> str | None:
    return " ".join(value.split()).lower() if value else None


@dataclass(frozen=True)
class Release:
    """A source release: what asserted a fact, under which licence, loaded when."""

    key: str
    name: str | None
    version: str | None
    licence: str | None
    loaded_at: str | None
    status: str | None


@dataclass(frozen=True)
class NodeRef:
    """A node an evidence item is ABOUT: molecular profile, variant, gene or phenotype."""

    id: str
    label: str
    name: str | None
    kind: str | None


@dataclass(frozen=True)
class EvidenceView:
    """One graded evidence item (or assertion), with its links and the releases behind it."""

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
    status: str = field(
        metadata=described("ACCEPTED for loaded evidence; SUBMITTED / ACCEPTED / REJECTED for curated.")
    )
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
    properties: dict[str, Any] = field(
        metadata=described("Every stored property (ClinVar review status, AMP tier, ...).")
    )


def evidence_view(row: Row) -> EvidenceView:
    """One EVIDENCE_PROJECTION row as the answer shows it (diseases and drugs in id order)."""
    p = row["props"]
    diseases = [disease_ref(d) for d in sorted(row["diseases"], key=lambda d: d["id"])]
    profile = next((a for a in row["about"] if a["label"] == "MolecularProfile"), None)
    return EvidenceView(
        id=p["id"],
        source=p.get("source"),
        type=p.get("type"),
        level=_text(p.get("level")),
        direction=p.get("direction"),
        significance=p.get("significance"),
        statement=p.get("statement"),
        pmids=[str(x) for x in p.get("pmids") or []],
        origin=p.get("origin"),
        therapies=list(p.get("therapies") or [d["name"] or d["id"] for d in row["drugs"]]),
        therapy_interaction=p.get("therapyInteraction"),
        status=str(p.get("status") or "ACCEPTED").upper(),
        is_assertion="Assertion" in row["labels"],
        submitted_by=p.get("submittedBy"),
        submitted_at=_text(p.get("submittedAt")),
        moderated_by=p.get("moderatedBy"),
        moderated_at=_text(p.get("moderatedAt")),
        moderation_comment=p.get("moderationComment"),
        disease=diseases[0] if diseases else None,
        diseases=diseases,
        drugs=[drug_ref(d) for d in sorted(row["drugs"], key=lambda d: d["id"])],
        molecular_profile=MolecularProfileRef(profile["id"], profile["name"], profile.get("kind")) if profile else None,
        about=[
            NodeRef(id=str(a["id"]), label=a["label"], name=a.get("name"), kind=a.get("kind")) for a in row["about"]
        ],
        sources=[
            Release(
                key=s["key"],
                name=s.get("name"),
                version=_text(s.get("version")),
                licence=s.get("licence"),
                loaded_at=_text(s.get("loadedAt")),
                status=s.get("status"),
            )
            for s in row["sources"]
        ],
        properties=json_ready(p),
    )


@dataclass(frozen=True)
class EvidencePage:
    total: int
    items: list[EvidenceView]
    has_next: bool
    releases: list[str] = field(default_factory=list, metadata=RELEASES_USED)
    as_of: str | None = field(default=None, metadata=AS_OF)

    @classmethod
    def of(cls, row: Row, first: int) -> EvidencePage:
        """A page from a query's ``total`` and ``rows`` (EVIDENCE_PROJECTION, ``first`` + 1 asked)."""
        rows = row["rows"]
        return cls(total=row["total"], items=[evidence_view(r) for r in rows[:first]], has_next=len(rows) > first)


_ANCHORS = {
    "id": "MATCH (e:Evidence {id: $id})",
    "variant": """MATCH (v:Variant {id: $variant})
  CALL (v) {
    MATCH (e:Evidence)-[:ABOUT]->(v) RETURN e
    UNION
    MATCH (e:Evidence)-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(v) RETURN e
  }""",
    "drug": "MATCH (e:Evidence)-[:FOR_DRUG]->(:Drug {id: $drug})",
    "disease": "UNWIND diseases AS d MATCH (e:Evidence)-[:FOR_DISEASE]->(d)",
    "gene": """CALL () {
    MATCH (e:Evidence)-[:ABOUT]->(:Gene {symbol: $gene}) RETURN e
    UNION
    MATCH (e:Evidence)-[:ABOUT]->(:Variant {gene: $gene}) RETURN e
    UNION
    MATCH (e:Evidence)-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(:Variant {gene: $gene}) RETURN e
    UNION
    MATCH (e:Evidence)-[:ABOUT]->(:Phenotype {gene: $gene}) RETURN e
  }""",
    None: "MATCH (e:Evidence)",
}

_PREDICATES = {
    "id": "e.id = $id",
    "variant": "(EXISTS { (e)-[:ABOUT]->(:Variant {id: $variant}) } OR "
    "EXISTS { (e)-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(:Variant {id: $variant}) })",
    "drug": "EXISTS { (e)-[:FOR_DRUG]->(:Drug {id: $drug}) }",
    "disease": "EXISTS { (e)-[:FOR_DISEASE]->(d) WHERE d IN diseases }",
    "gene": "EXISTS { (e)-[:ABOUT]->(t) WHERE (t:Gene AND t.symbol = $gene) "
    "OR ((t:Variant OR t:Phenotype) AND t.gene = $gene) "
    "OR (t:MolecularProfile AND EXISTS { (t)-[:INCLUDES]->(:Variant {gene: $gene}) }) }",
    "type": "e.type = $type",
    "level": "e.level = $level",
    "significance": "e.significance = $significance",
    "direction": "e.direction = $direction",
    "source": "e.source = $source",
}

_ANCHOR_ORDER = ("id", "variant", "drug", "disease", "gene")  # most selective first


def evidence_query(f: EvidenceFilter) -> str:
    """The Cypher of one evidence page: fragments chosen by which filters are set (never their values)."""
    given = [name for name, value in vars(f).items() if value not in (None, "")]
    anchor = next((a for a in _ANCHOR_ORDER if a in given), None)
    predicates = [_PREDICATES[g] for g in given if g != anchor] + [VISIBLE_EVIDENCE]
    where = " AND ".join(predicates)
    scope = "(diseases)" if "disease" in given else "()"
    prelude = DISEASE_WITH_DESCENDANTS if "disease" in given else ""
    distinct = "DISTINCT " if anchor else ""
    return f"""{prelude}
CALL {scope} {{
  {_ANCHORS[anchor]}
  WITH {distinct}e WHERE {where}
  RETURN count(e) AS total
}}
CALL {scope} {{
  {_ANCHORS[anchor]}
  WITH {distinct}e WHERE e.id > $after AND {where}
  WITH e ORDER BY e.id LIMIT $limit
  RETURN collect(e) AS page
}}
RETURN total, [e IN page | {EVIDENCE_PROJECTION}] AS rows,
       COLLECT {{ UNWIND page AS e MATCH (e)-[:ASSERTED_BY]->(s:Source) WHERE {in_state("s")}
                  RETURN DISTINCT s.key ORDER BY s.key }} AS releases
"""


def evidence_page(
    graph: Graph, f: EvidenceFilter, first: int, after: str | None = None, state: KnowledgeState | None = None
) -> EvidencePage:
    """Up to ``first`` visible evidence items (in the knowledge ``state``; None: current) after the id
    ``after``, ordered by id (a unique key, so pages are stable: no duplicates, no gaps), with the total
    count under the filter and the releases of the items shown."""
    if not 0 <= first <= MAX_PAGE:
        raise ValueError(f"first must be between 0 and {MAX_PAGE}")
    row = graph.read(
        evidence_query(f), after=after or "", limit=first + 1, **f.params(graph, state), **state_params(state)
    )[0]
    page = EvidencePage.of(row, first)
    return EvidencePage(page.total, page.items, page.has_next, row["releases"], as_of(state))


EVIDENCE_BY_IDS = f"""
UNWIND $ids AS id
MATCH (e:Evidence {{id: id}})
RETURN {EVIDENCE_PROJECTION} AS evidence
"""


def evidence_by_ids(graph: Graph, ids: list[str]) -> list[EvidenceView]:
    """Evidence items by id whatever their status (curators see submissions); order of ``ids``."""
    found = {e.id: e for e in (evidence_view(r["evidence"]) for r in graph.read(EVIDENCE_BY_IDS, ids=ids))}
    return [found[i] for i in ids if i in found]

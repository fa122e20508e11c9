"""Knowledge look-ups: a variant by any common spelling, a drug, a disease, pages of evidence.

Every look-up reads only facts whose release is active (docs/ARCHITECTURE.md, "Releases and
provenance"); evidence must also be accepted (curated submissions wait for moderation, see
kg/queries/curation.py). Each function is one Cypher round trip.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kg.queries.answers import DISEASE_WITH_DESCENDANTS, VariantAllele

from kg.db import Graph
from kg.identity.hgvs import is_hgvs, without_gene
from kg.identity.protein import gene_protein_change
from kg.identity.variants import parse_rsid, parse_variant_id
from kg.loaders.xrefs import xref_keys

Row = dict[str, Any]

#: A node some active release asserts (``n`` is the variable).
ACTIVE = "EXISTS {{ ({n})-[:ASSERTED_BY]->(:Source {{status: 'active'}}) }}"


def active(var: str) -> str:
    """The active-release predicate for the code-chosen variable ``var`` (never user input)."""
    return ACTIVE.format(n=var)


#: Evidence an answer may show: asserted by an active release and accepted. Loaded evidence has
#: no status or CIViC's lowercase ``accepted``; curated evidence is SUBMITTED until moderated.
VISIBLE_EVIDENCE = f"toUpper(coalesce(e.status, 'ACCEPTED')) = 'ACCEPTED' AND {active('e')}"

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


# --- variants --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantQuery:
    """What a user's variant text may be; every applicable form is tried in one query."""

    text: str
    ids: tuple[str, ...]
    rsid: str | None = None
    gene: str | None = None
    change: str | None = None
    names: tuple[str, ...] = ()  # lowercased HGVS / display names to compare exactly
    phrase: str | None = None  # the full-text phrase narrowing those

    @property
    def forms(self) -> list[str]:
        out = ["id"]
        if self.rsid:
            out.append("rsid")
        if self.change:
            out.append("protein change")
        if self.phrase:
            out.append("hgvs or name")
        return out


def _phrase(text: str) -> str | None:
    if not re.search(r"[A-Za-z0-9]", text):
        return None
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_variant_query(text: str) -> VariantQuery:
    t = text.strip()
    ids = [t]
    allele = parse_variant_id(t)
    if allele is not None:
        ids.insert(0, allele.id)
    rsid = parse_rsid(t)
    gene_change = gene_protein_change(t)
    names = [t.lower()]
    if is_hgvs(t):
        bare = without_gene(t)
        if bare != t:
            names.append(bare.lower())
        phrase = _phrase(bare)
    else:
        phrase = _phrase(t) if allele is None and rsid is None else None
    return VariantQuery(
        text=t, ids=tuple(dict.fromkeys(ids)), rsid=rsid,
        gene=gene_change[0] if gene_change else None, change=gene_change[1] if gene_change else None,
        names=tuple(dict.fromkeys(names)), phrase=phrase,
    )


_VARIANT_BY_ID = "MATCH (v:Variant) WHERE v.id IN $ids RETURN v"
_VARIANT_BY_RSID = "MATCH (v:Variant {rsid: $rsid}) RETURN v"
# The gene as a current symbol; failing that, as an alias or previous symbol.
_VARIANT_BY_CHANGE = """
OPTIONAL MATCH (g:Gene {symbol: toUpper($gene)})
OPTIONAL MATCH (:GeneAlias {name: toLower($gene)})-[:ALIAS_OF]->(a:Gene)
WITH g, collect(DISTINCT a.symbol) AS aliases
UNWIND CASE WHEN g IS NOT NULL OR size(aliases) = 0 THEN [toUpper($gene)] ELSE aliases END AS symbol
MATCH (v:Variant {gene: symbol, proteinChange: $change})
RETURN v
"""
_VARIANT_BY_TEXT = """
CALL db.index.fulltext.queryNodes('variant_fulltext', $phrase, {limit: 50}) YIELD node AS v
WHERE any(h IN coalesce(v.hgvs, []) WHERE toLower(h) IN $names) OR toLower(v.name) IN $names
RETURN v
"""

_VARIANT_VIEW = f"""
WITH DISTINCT v WHERE {active('v')}
CALL (v) {{
  CALL (v) {{
    MATCH (e:Evidence)-[:ABOUT]->(v) RETURN e
    UNION
    MATCH (e:Evidence)-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(v) RETURN e
  }}
  WITH e WHERE {VISIBLE_EVIDENCE}
  RETURN collect({{type: e.type, source: e.source, significance: e.significance}}) AS evidence
}}
RETURN v {{.*}} AS variant,
       [(mp:MolecularProfile)-[:INCLUDES]->(v) WHERE {active('mp')} | mp {{.id, .name, .kind}}] AS profiles,
       evidence
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


def counts(values: list[Any]) -> list[Count]:
    """The values (None left out) counted, most common first."""
    return [Count(k, n) for k, n in Counter(str(v) for v in values if v is not None).most_common()]


def find_variants(graph: Graph, text: str) -> list[VariantView]:
    """Every variant the text names: graph id, ``7-140753336-A-T``, rsID, HGVS, ``BRAF V600E``.

    Several hits mean the text is ambiguous (a protein change made by two alleles, say).
    """
    q = parse_variant_query(text)
    heads = [_VARIANT_BY_ID]
    if q.rsid:
        heads.append(_VARIANT_BY_RSID)
    if q.change:
        heads.append(_VARIANT_BY_CHANGE)
    if q.phrase:
        heads.append(_VARIANT_BY_TEXT)
    cypher = "CALL () {\n" + "\nUNION\n".join(heads) + "\n}\n" + _VARIANT_VIEW
    rows = graph.read(
        cypher, ids=list(q.ids), rsid=q.rsid, gene=q.gene, change=q.change, names=list(q.names), phrase=q.phrase
    )
    return [_variant_view(r["variant"], r["profiles"], r["evidence"]) for r in rows]


def _variant_view(v: Row, profiles: list[Row], evidence: list[Row]) -> VariantView:
    return VariantView(
        id=v["id"], chrom=v.get("chrom"), pos=v.get("pos"), ref=v.get("ref"), alt=v.get("alt"), rsid=v.get("rsid"),
        hgvs=list(v.get("hgvs") or []), protein_change=v.get("proteinChange"), gene=v.get("gene"),
        name=v.get("name"), kind=v.get("kind"),
        molecular_profiles=[MolecularProfileRef(p["id"], p.get("name"), p.get("kind")) for p in profiles],
        evidence=EvidenceSummary(
            total=len(evidence), by_type=counts([e["type"] for e in evidence]),
            by_source=counts([e["source"] for e in evidence]),
            by_significance=counts([e["significance"] for e in evidence]),
        ),
    )


# --- drugs -----------------------------------------------------------------------------------

def drug_key(name: str) -> str:
    """Drug keys and DrugName look-ups are lowercased with inner whitespace collapsed."""
    return " ".join(name.split()).lower()


FIND_DRUGS = f"""
CALL () {{
  MATCH (d:Drug {{id: $key}}) RETURN d
  UNION
  MATCH (:DrugName {{name: $key}})-[:NAME_OF]->(d:Drug) RETURN d
}}
WITH d WHERE {active('d')}
RETURN d {{.*}} AS drug ORDER BY d.id
"""


def find_drugs(graph: Graph, name: str) -> list[Row]:
    """Drugs whose key, name or synonym is ``name`` (case and spacing ignored)."""
    return [r["drug"] for r in graph.read(FIND_DRUGS, key=drug_key(name))]


# --- diseases --------------------------------------------------------------------------------

_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)[:_](\S+)$")


def disease_ids(text: str) -> list[str]:
    """``doid:1909`` / ``DOID_1909`` -> ``DOID:1909`` (and the text as given)."""
    t = text.strip()
    out = [t]
    found = _CURIE.match(t)
    if found and found[2][:1].isdigit():
        out.insert(0, f"{found[1].upper()}:{found[2]}")
    return list(dict.fromkeys(out))


FIND_DISEASES = f"""
CALL () {{
  MATCH (d:Disease) WHERE d.id IN $ids RETURN d, 1 AS rank
  UNION
  MATCH (:DiseaseName {{name: $name}})-[:NAME_OF]->(d:Disease) RETURN d, 2 AS rank
  UNION
  MATCH (x:DiseaseXref)-[:XREF_OF]->(d:Disease) WHERE x.id IN $xrefs RETURN d, 3 AS rank
}}
WITH d, min(rank) AS rank WHERE {active('d')}
RETURN d {{.*}} AS disease, rank, ['id', 'name', 'xref'][rank - 1] AS matchedAs,
       [(d)-[:REPLACED_BY]->(r:Disease) | r {{.id, .name}}] AS replacedBy
ORDER BY rank, d.id
"""


def find_diseases(graph: Graph, query: str) -> list[Row]:
    """Diseases by id (DOID, MONDO, ...), else by name or exact synonym, else by cross-reference.

    Only the best kind of match is returned (an id beats a name beats an xref); each row has
    ``disease``, ``matchedAs`` and ``replacedBy`` (the live term an obsolete one points to).
    """
    text = query.strip()
    rows = graph.read(FIND_DISEASES, ids=disease_ids(text), name=" ".join(text.split()).lower(), xrefs=xref_keys(text))
    if not rows:
        return []
    best = rows[0]["rank"]
    return [r for r in rows if r["rank"] == best]


DISEASE_RELATIVES = f"""
UNWIND $ids AS id
MATCH (d:Disease {{id: id}})
RETURN id,
       CASE $direction
         WHEN 'parents' THEN [(d)-[:IS_A]->(p:Disease) WHERE {active('p')} | p {{.*}}]
         ELSE [(c:Disease)-[:IS_A]->(d) WHERE {active('c')} | c {{.*}}]
       END AS relatives
"""


def disease_relatives(graph: Graph, ids: list[str], direction: str) -> dict[str, list[Row]]:
    """Parents (``direction="parents"``) or children of many diseases at once (a DataLoader batch)."""
    if direction not in ("parents", "children"):
        raise ValueError(direction)
    rows = graph.read(DISEASE_RELATIVES, ids=ids, direction=direction)
    found = {r["id"]: sorted(r["relatives"], key=lambda d: d["id"]) for r in rows}
    return {i: found.get(i, []) for i in ids}


# --- evidence pages --------------------------------------------------------------------------

MAX_PAGE = 100


@dataclass(frozen=True)
class EvidenceFilter:
    """Every field narrows; ``disease`` includes its descendants (IS_A*)."""

    gene: str | None = None
    variant: str | None = None
    drug: str | None = None
    disease: str | None = None
    type: str | None = None
    level: str | None = None
    significance: str | None = None
    direction: str | None = None
    source: str | None = None

    def params(self) -> Row:
        """Parameters as the graph spells them (symbols upper-case, vocabulary lower-case)."""
        variant = None
        if self.variant:
            allele = parse_variant_id(self.variant)
            variant = allele.id if allele else self.variant.strip()
        disease = self.disease.strip() if self.disease else None
        return {
            "gene": self.gene.strip().upper() if self.gene else None,
            "variant": variant,
            "drug": drug_key(self.drug) if self.drug else None,
            "diseaseIds": disease_ids(disease) if disease else [],
            "diseaseName": " ".join(disease.split()).lower() if disease else None,
            "type": _lower(self.type),
            "level": self.level.strip().upper() if self.level else None,
            "significance": _lower(self.significance),
            "direction": _lower(self.direction),
            "source": _lower(self.source),
        }


def _lower(value: str | None) -> str | None:
    return " ".join(value.split()).lower() if value else None


@dataclass
class EvidencePage:
    total: int
    rows: list[Row]
    has_next: bool
    unresolved: list[str] = field(default_factory=list)  # filter references naming nothing


_RESOLVE_DRUG = """
CALL () {
  CALL () {
    MATCH (d:Drug {id: $drug}) RETURN d
    UNION
    MATCH (:DrugName {name: $drug})-[:NAME_OF]->(d:Drug) RETURN d
  }
  RETURN collect(DISTINCT d) AS drugs
}
"""
# The disease and every descendant; obsolete terms stand for their replacement.
_RESOLVE_DISEASE = DISEASE_WITH_DESCENDANTS
_RESOLVE_VARIANT = "CALL () { RETURN EXISTS { (:Variant {id: $variant}) } AS variantFound }\n"
_RESOLVE_GENE = (
    "CALL () { RETURN EXISTS { (:Gene {symbol: $gene}) } OR EXISTS { (:Variant {gene: $gene}) } AS geneFound }\n"
)

_ANCHORS = {
    "variant": """MATCH (v:Variant {id: $variant})
  CALL (v) {
    MATCH (e:Evidence)-[:ABOUT]->(v) RETURN e
    UNION
    MATCH (e:Evidence)-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(v) RETURN e
  }""",
    "drug": "UNWIND drugs AS d MATCH (e:Evidence)-[:FOR_DRUG]->(d)",
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
    "variant": "(EXISTS { (e)-[:ABOUT]->(:Variant {id: $variant}) } OR "
               "EXISTS { (e)-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(:Variant {id: $variant}) })",
    "drug": "EXISTS { (e)-[:FOR_DRUG]->(d) WHERE d IN drugs }",
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

_ANCHOR_ORDER = ("variant", "drug", "disease", "gene")  # most selective first


def evidence_query(f: EvidenceFilter) -> str:
    """The Cypher of one evidence page: fragments chosen by which filters are set (never their values)."""
    given = [name for name, value in vars(f).items() if value not in (None, "")]
    anchor = next((a for a in _ANCHOR_ORDER if a in given), None)
    predicates = [_PREDICATES[g] for g in given if g != anchor] + [VISIBLE_EVIDENCE]
    where = " AND ".join(predicates)
    carried = [v for k, v in (("drug", "drugs"), ("disease", "diseases")) if k in given]
    scope = f"({', '.join(carried)})"
    prelude = ""
    if "drug" in given:
        prelude += _RESOLVE_DRUG
    if "disease" in given:
        prelude += _RESOLVE_DISEASE
    if "variant" in given:
        prelude += _RESOLVE_VARIANT
    if "gene" in given:
        prelude += _RESOLVE_GENE
    distinct = "DISTINCT " if anchor else ""
    unresolved = [
        f"CASE WHEN {test} THEN '{name}' END"
        for name, test in (
            ("drug", "size(drugs) = 0"), ("disease", "size(diseases) = 0"),
            ("variant", "NOT variantFound"), ("gene", "NOT geneFound"),
        )
        if name in given
    ]
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
       [x IN [{', '.join(unresolved)}] WHERE x IS NOT NULL] AS unresolved
"""


def evidence_page(graph: Graph, f: EvidenceFilter, first: int, after: str | None = None) -> EvidencePage:
    """Up to ``first`` visible evidence items after the id ``after``, ordered by id (a unique key,
    so pages are stable: no duplicates, no gaps), with the total count under the filter."""
    if not 0 <= first <= MAX_PAGE:
        raise ValueError(f"first must be between 0 and {MAX_PAGE}")
    row = graph.read(evidence_query(f), after=after or "", limit=first + 1, **f.params())[0]
    rows = row["rows"]
    return EvidencePage(total=row["total"], rows=rows[:first], has_next=len(rows) > first, unresolved=row["unresolved"])


EVIDENCE_BY_IDS = f"""
UNWIND $ids AS id
MATCH (e:Evidence {{id: id}})
RETURN {EVIDENCE_PROJECTION} AS evidence
"""


def evidence_by_ids(graph: Graph, ids: list[str]) -> list[Row]:
    """Evidence items by id whatever their status (curators see submissions); order of ``ids``."""
    found = {r["evidence"]["props"]["id"]: r["evidence"] for r in graph.read(EVIDENCE_BY_IDS, ids=ids)}
    return [found[i] for i in ids if i in found]

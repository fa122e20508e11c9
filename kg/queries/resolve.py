"""One resolver per entity: the gene, variant, drug or disease a user's text names.

Every GraphQL argument, CLI option, cohort filter and curation input that names an entity goes
through here, so a text that names melanoma in one place names it everywhere. The rules:

* **Only active releases count**: a candidate must be asserted by a ``Source {status: 'active'}``
  (kg/queries/visibility.py); a term only in a loading or retired release is not found.
* **Best kind of match wins**: an id beats a name, a name beats a cross-reference; several
  entities at the best rank make the text *ambiguous*, an error that lists the candidates
  (:class:`AmbiguousEntity`), never a silent pick.
* **An obsolete disease follows its replacement** (``REPLACED_BY``, written by kg/loaders/doid.py)
  and says so: the match carries ``replaced_from``.

How each entity is spelled is kg.identity's business (pure keys); this module only looks them up.

=========  =================================================================================
gene       HGNC symbol; previous symbol; alias (HGNC ``GeneAlias``); HGNC / NCBI Gene / Ensembl id
variant    graph id or ``7-140753336-A-T`` / ``chr7:140753336:A:T``; rsID; HGVS or name;
           gene + protein change (``BRAF V600E``, ``BRAF p.Val600Glu``; the gene as resolve_gene reads it)
drug       key, name or synonym (``DrugName``); RxNorm, DrugBank, ATC or PharmGKB id
disease    DOID in any spelling (``DOID:1909``, ``doid_1909``, ``1909``) or MONDO id; alt id; name or
           EXACT synonym (``DiseaseName``); cross-reference (MeSH, MedGen, OMIM, Orphanet, NCIt, UMLS, ...)
=========  =================================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kg.db import Graph
from kg.identity.diseases import disease_ids, disease_name, disease_xref_keys
from kg.identity.drugs import drug_identifier, drug_key
from kg.identity.genes import gene_identifier
from kg.identity.hgvs import is_hgvs, without_gene
from kg.identity.protein import gene_protein_change
from kg.identity.variants import parse_rsid, parse_variant_id
from kg.queries.visibility import KnowledgeState, active, in_state, state_params

Row = dict[str, Any]


@dataclass(frozen=True)
class Match:
    """One entity a text names: its key, name and properties, and how the text matched."""

    label: str  # Gene | Variant | Drug | Disease
    id: str  # the node key (a Gene's symbol)
    name: str | None
    matched_as: str  # id, symbol, previous, alias, name, xref, rsid, hgvs or name, protein change, ...
    node: Row
    replaced_from: Row | None = None  # {id, name} of the obsolete disease the text named
    releases: tuple[str, ...] = ()  # keys of the releases of the knowledge state asserting the entity

    def ref(self) -> Row:
        """``{id, name}`` plus ``replacedFrom`` when the text named an obsolete term."""
        out: Row = {"id": self.id, "name": self.name}
        if self.replaced_from:
            out["replacedFrom"] = self.replaced_from
        return out


class Unresolved(LookupError):
    """A text that does not name exactly one entity of the kind asked for."""

    def __init__(self, entity: str, query: str, message: str, candidates: list[Match] | None = None) -> None:
        super().__init__(message)
        self.entity = entity
        self.query = query
        self.candidates = candidates or []


HINTS = {
    "gene": "give an HGNC symbol (BRAF), a previous symbol or alias, or an HGNC, NCBI Gene or Ensembl id",
    "variant": "give a variant id (7-140753336-A-T), an rsID, an HGVS expression or a gene and protein change "
    "(BRAF V600E)",
    "drug": "give a drug name or synonym, or a RxNorm, DrugBank, ATC or PharmGKB id",
    "disease": "give a DOID id (DOID:1909), a disease name or synonym, or a cross-reference such as MESH:D008545",
}


class UnknownEntity(Unresolved):
    """No entity of the kind asked for matches the text (in an active release)."""

    def __init__(self, entity: str, query: str) -> None:
        super().__init__(entity, query, f"unknown {entity} {query!r}: {HINTS[entity]}")


class AmbiguousEntity(Unresolved):
    """Several entities match the text equally well; the caller must choose one of the candidates."""

    def __init__(self, entity: str, query: str, candidates: list[Match]) -> None:
        listed = ", ".join(f"{c.id} ({c.name})" if c.name and c.name != c.id else c.id for c in candidates)
        super().__init__(
            entity,
            query,
            f"{entity} {query!r} is ambiguous: it names {len(candidates)} {entity}s: {listed}; ask with one of these ids",
            candidates,
        )


def _one(entity: str, query: str, matches: list[Match]) -> Match:
    if not matches:
        raise UnknownEntity(entity, query)
    if len(matches) > 1:
        raise AmbiguousEntity(entity, query, matches)
    return matches[0]


def _best(rows: list[Row], label: str, key: str = "id") -> list[Match]:
    """The matches of the best rank, each entity once (rows ordered by rank)."""
    if not rows:
        return []
    best = rows[0]["rank"]
    seen: dict[str, Match] = {}
    for r in rows:
        if r["rank"] != best:
            break
        node = r["node"]
        found = Match(
            label,
            str(node[key]),
            node.get("name"),
            r["matchedAs"],
            node,
            r.get("replacedFrom"),
            tuple(sorted(r.get("releases") or ())),
        )
        earlier = seen.get(found.id)
        if earlier is None or (found.replaced_from and not earlier.replaced_from):  # say an old id was named
            seen[found.id] = found
    return list(seen.values())


def _text(query: str) -> str:
    return " ".join(query.split())


def _by_identifier(var: str, label: str, properties: tuple[str, ...]) -> str:
    """One UNION branch per identifier property (an index seek; a null parameter matches nothing)."""
    return "\n  UNION\n".join(
        f"  MATCH ({var}:{label} {{{p}: ${p}}}) RETURN {var}, '{p}' AS matchedAs, 1 AS rank" for p in properties
    )


def _identifier_params(properties: tuple[str, ...], found: tuple[str, str] | None) -> Row:
    """``{property: value}`` for each identifier property: the one the text is, the others null."""
    return {p: found[1] if found and found[0] == p else None for p in properties}


def _releases(var: str) -> str:
    """The keys of the releases of the state asserting ``var`` (a look-up lists the releases it used)."""
    return f"[({var})-[:ASSERTED_BY]->(s:Source) WHERE {in_state('s')} | s.key]"


# --- genes -----------------------------------------------------------------------------------

GENE_IDS = ("hgncId", "ncbiGeneId", "ensemblId")  # kg.identity.genes.gene_identifier

GENE_CANDIDATES = f"""
CALL () {{
  MATCH (g:Gene) WHERE g.symbol IN [$text, toUpper($text)] RETURN g, 'symbol' AS matchedAs, 1 AS rank
  UNION
{_by_identifier("g", "Gene", GENE_IDS)}
  UNION
  MATCH (:GeneAlias {{name: toLower($text)}})-[a:ALIAS_OF]->(g:Gene)
  RETURN g, a.kind AS matchedAs, CASE a.kind WHEN 'previous' THEN 2 ELSE 3 END AS rank
}}
WITH g, matchedAs, rank WHERE {active("g")}
RETURN g {{.*}} AS node, matchedAs, rank, {_releases("g")} AS releases ORDER BY rank, g.symbol
"""


def find_genes(graph: Graph, query: str, state: KnowledgeState | None = None) -> list[Match]:
    """Genes a text names at the best rank: current symbol or id, else previous symbol, else alias."""
    text = _text(query)
    rows = graph.read(
        GENE_CANDIDATES, text=text, **_identifier_params(GENE_IDS, gene_identifier(text)), **state_params(state)
    )
    return _best(rows, "Gene", key="symbol")


def resolve_gene(graph: Graph, query: str, state: KnowledgeState | None = None) -> Match:
    """The one gene a text names (HGNC rules: a previous symbol or alias shared by two genes is ambiguous)."""
    return _one("gene", query, find_genes(graph, query, state))


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


def _phrase(text: str) -> str | None:
    if not re.search(r"[A-Za-z0-9]", text):
        return None
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_variant_query(text: str) -> VariantQuery:
    """Every form a variant text may take: id (kg.identity.variants), rsID, ``GENE change``
    (kg.identity.protein), HGVS (kg.identity.hgvs) or display name."""
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
        text=t,
        ids=tuple(dict.fromkeys(ids)),
        rsid=rsid,
        gene=gene_change[0] if gene_change else None,
        change=gene_change[1] if gene_change else None,
        names=tuple(dict.fromkeys(names)),
        phrase=phrase,
    )


_VARIANT_HEADS = {
    "id": "MATCH (v:Variant) WHERE v.id IN $ids RETURN v, 'id' AS matchedAs",
    "rsid": "MATCH (v:Variant {rsid: $rsid}) RETURN v, 'rsid' AS matchedAs",
    "protein change": "MATCH (v:Variant {gene: $gene, proteinChange: $change}) RETURN v, 'protein change' AS matchedAs",
    "hgvs or name": """CALL db.index.fulltext.queryNodes('variant_fulltext', $phrase, {limit: 50}) YIELD node AS v
  WITH v WHERE any(h IN coalesce(v.hgvs, []) WHERE toLower(h) IN $names) OR toLower(v.name) IN $names
  RETURN v, 'hgvs or name' AS matchedAs""",
}


def find_variants(graph: Graph, query: str, state: KnowledgeState | None = None) -> list[Match]:
    """Every active variant the text names, in id order (several: the text is ambiguous, e.g. a
    protein change two alleles make). The gene of ``GENE change`` resolves as :func:`resolve_gene`
    (symbol, previous symbol or alias); an unknown gene is taken as written."""
    q = parse_variant_query(query)
    gene = None
    if q.change and q.gene:
        try:
            gene = resolve_gene(graph, q.gene, state).id
        except UnknownEntity:
            gene = q.gene.upper()
    forms = ["id"] + [
        name for name, used in (("rsid", q.rsid), ("protein change", gene), ("hgvs or name", q.phrase)) if used
    ]
    cypher = (
        "CALL () {\n  " + "\n  UNION\n  ".join(_VARIANT_HEADS[f] for f in forms) + "\n}\n"
        f"WITH v, head(collect(matchedAs)) AS matchedAs WHERE {active('v')}\n"
        f"RETURN v {{.*}} AS node, matchedAs, 1 AS rank, {_releases('v')} AS releases ORDER BY v.id"
    )
    rows = graph.read(
        cypher,
        ids=list(q.ids),
        rsid=q.rsid,
        gene=gene,
        change=q.change,
        names=list(q.names),
        phrase=q.phrase,
        **state_params(state),
    )
    return [Match("Variant", r["node"]["id"], r["node"].get("name"), r["matchedAs"], r["node"]) for r in rows]


def resolve_variant(graph: Graph, query: str, state: KnowledgeState | None = None) -> Match:
    """The one variant a text names."""
    return _one("variant", query, find_variants(graph, query, state))


# --- drugs -----------------------------------------------------------------------------------

DRUG_IDS = ("rxnormId", "drugbankId", "pharmgkbId")  # kg.identity.drugs.drug_identifier; ATC is a list

# the candidate drugs (``d``, ``matchedAs``, ``rank``) a text names, in an active release
_DRUG_CANDIDATE_MATCH = f"""
CALL () {{
  MATCH (d:Drug {{id: $key}}) RETURN d, 'id' AS matchedAs, 1 AS rank
  UNION
{_by_identifier("d", "Drug", DRUG_IDS)}
  UNION
  WITH $atc AS atc WHERE atc IS NOT NULL
  MATCH (d:Drug) WHERE atc IN d.atc RETURN d, 'atc' AS matchedAs, 1 AS rank
  UNION
  MATCH (:DrugName {{name: $key}})-[:NAME_OF]->(d:Drug) RETURN d, 'name' AS matchedAs, 2 AS rank
}}
WITH d, matchedAs, rank WHERE {active("d")}
"""

DRUG_CANDIDATES = f"""{_DRUG_CANDIDATE_MATCH}
RETURN d {{.*}} AS node, matchedAs, rank, {_releases("d")} AS releases ORDER BY rank, d.id
"""

#: The same candidates as one row, ``drugCandidates`` (a list of DRUG_CANDIDATES' rows, unordered): a
#: subquery (``CALL () { ... }``) for answers that resolve their drug in their own statement
#: (kg/queries/pgx.py); a null ``$key`` (no drug asked) finds none. Parameters: ``drug_params``.
DRUG_CANDIDATES_COLLECTED = f"""{_DRUG_CANDIDATE_MATCH}
RETURN collect({{node: d {{.*}}, matchedAs: matchedAs, rank: rank, releases: {_releases("d")}}}) AS drugCandidates
"""


def drug_params(query: str | None) -> Row:
    """The parameters of DRUG_CANDIDATES for a user's drug text (all null when None)."""
    found = drug_identifier(query) if query is not None else None
    return {
        "key": drug_key(query) if query is not None else None,
        "atc": found[1] if found and found[0] == "atc" else None,
        **_identifier_params(DRUG_IDS, found),
    }


def drugs_of(rows: list[Row]) -> list[Match]:
    """The best-ranked drugs of DRUG_CANDIDATES rows (ordered or not)."""
    return _best(sorted(rows, key=lambda r: (r["rank"], str(r["node"]["id"]))), "Drug")


def find_drugs(graph: Graph, query: str, state: KnowledgeState | None = None) -> list[Match]:
    """Drugs a text names at the best rank: key or identifier, else name or synonym."""
    return drugs_of(graph.read(DRUG_CANDIDATES, **drug_params(query), **state_params(state)))


def resolve_drug(graph: Graph, query: str, state: KnowledgeState | None = None) -> Match:
    """The one drug a text names."""
    return one_drug(query, find_drugs(graph, query, state))


def one_drug(query: str, matches: list[Match]) -> Match:
    """The one drug of ``matches`` (those a text names); UnknownEntity or AmbiguousEntity otherwise."""
    return _one("drug", query, matches)


# --- diseases --------------------------------------------------------------------------------

# rank: 1 id (or alt id), 2 name or EXACT synonym, 3 a cross-reference DOID states as a skos
# exactMatch, 4 any other cross-reference (one MeSH key can name several terms: kg/loaders/doid.py).
DISEASE_CANDIDATES = f"""
CALL () {{
  MATCH (d:Disease) WHERE d.id IN $ids RETURN d, 'id' AS matchedAs, 1 AS rank
  UNION
  MATCH (:DiseaseName {{name: $name}})-[:NAME_OF]->(d:Disease) RETURN d, 'name' AS matchedAs, 2 AS rank
  UNION
  UNWIND $xrefs AS key
  MATCH (:DiseaseXref {{id: key}})-[x:XREF_OF]->(d:Disease)
  RETURN d, CASE x.kind WHEN 'altId' THEN 'altId' ELSE 'xref' END AS matchedAs,
         CASE x.kind WHEN 'altId' THEN 1 WHEN 'exactMatch' THEN 3 ELSE 4 END AS rank
}}
WITH d, matchedAs, rank WHERE {active("d")}
WITH d, min(rank) AS best, collect({{rank: rank, as: matchedAs}}) AS how
WITH d, best AS rank, head([h IN how WHERE h.rank = best | h.as]) AS matchedAs
OPTIONAL MATCH (d)-[:REPLACED_BY]->(r:Disease) WHERE {active("r")}
WITH d, rank, matchedAs, collect(r) AS replacements
UNWIND CASE WHEN size(replacements) = 0 THEN [null] ELSE replacements END AS r
WITH coalesce(r, d) AS hit, CASE WHEN r IS NULL THEN null ELSE d {{.id, .name}} END AS replacedFrom, rank, matchedAs
RETURN hit {{.*}} AS node, replacedFrom, matchedAs, rank, {_releases("hit")} AS releases ORDER BY rank, hit.id
"""


def find_diseases(graph: Graph, query: str, state: KnowledgeState | None = None) -> list[Match]:
    """Diseases a text names at the best rank; an obsolete term stands for its replacement(s)."""
    text = _text(query)
    ids = disease_ids(text)
    rows = graph.read(
        DISEASE_CANDIDATES,
        ids=ids,
        name=disease_name(text),
        xrefs=list(dict.fromkeys(disease_xref_keys(text) + ids[:1])),
        **state_params(state),
    )
    return _best(rows, "Disease")


def resolve_disease(graph: Graph, query: str, state: KnowledgeState | None = None) -> Match:
    """The one disease a text names (after following an obsolete term to its replacement)."""
    return _one("disease", query, find_diseases(graph, query, state))


# --- disease names given by a source (loaders) ----------------------------------------------

# A loader's name-only disease: the live terms whose name or EXACT synonym has the same key
# (kg.identity.diseases.disease_name), the resolver's rank-2 look-up without ids, cross-references
# or replacements: a source's free text is not a user choosing a term, so only an unambiguous name
# links. Obsolete terms are counted apart (a name only they carry stays unresolved).
DISEASES_BY_NAME = f"""
UNWIND $keys AS key
OPTIONAL MATCH (:DiseaseName {{name: key}})-[:NAME_OF]->(d:Disease) WHERE {active("d")}
WITH key, collect(DISTINCT d) AS found
RETURN key, [d IN found WHERE NOT coalesce(d.obsolete, false) | d.id] AS live,
       [d IN found WHERE coalesce(d.obsolete, false) | d.id] AS obsolete
"""


@dataclass(frozen=True)
class NameLink:
    """What a disease name given without an id resolves to, for a loader (conservative)."""

    name: str
    disease: str | None  # the one live term's id; None when unresolved
    reason: str | None  # None when linked; "unknown" | "ambiguous" | "obsolete"
    candidates: tuple[str, ...] = ()  # the terms an ambiguous or obsolete-only name names


def link_disease_names(graph: Graph, names: list[str]) -> dict[str, NameLink]:
    """``{name: NameLink}`` for names a source gives without an ontology id (one query).

    Links only when exactly one live (non-obsolete) term of an active release has the name or an
    EXACT synonym, compared by :func:`kg.identity.diseases.disease_name` (case and inner spacing
    ignored); several such terms make the name ``ambiguous`` (never a silent pick), a name only
    obsolete terms carry is ``obsolete``, none is ``unknown``.
    """
    keys = {name: disease_name(name) for name in names if name and name.strip()}
    rows = (
        {r["key"]: r for r in graph.read(DISEASES_BY_NAME, keys=sorted(set(keys.values())), **state_params(None))}
        if keys
        else {}
    )
    out: dict[str, NameLink] = {}
    for name, key in keys.items():
        row = rows.get(key) or {"live": [], "obsolete": []}
        live, obsolete = sorted(row["live"]), sorted(row["obsolete"])
        if len(live) == 1:
            out[name] = NameLink(name, live[0], None)
        elif live:
            out[name] = NameLink(name, None, "ambiguous", tuple(live))
        else:
            out[name] = NameLink(name, None, "obsolete" if obsolete else "unknown", tuple(obsolete))
    return out

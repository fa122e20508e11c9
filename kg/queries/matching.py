"""The Cypher the patient matcher reads the knowledge with (kg/matcher/match.py).

Each statement is one round trip; per-allele work is an ``UNWIND`` over key seeks, never a query
per allele. What the matcher needs of the knowledge, once per process and release set
(kg/matcher/knowledge.py): the positions of exact Variants, the coarse (protein, codon,
gene-level) CIViC Variants with what they match on, gene spans, and the PharmCAT allele
definitions and phenotype tables of the active release (stored JSON, kg.pharmcat.stored). Per
patient: the exact Variants its alleles hit, with what decides the coarser levels (gene, protein
change, consequences, ClinVar classification, CIViC functional evidence).
"""

from __future__ import annotations

from typing import Any

from kg.db import Graph
from kg.queries.visibility import VISIBLE_EVIDENCE, state_params

#: What identifies the state of the knowledge: the active releases and the Variant count (the
#: count store answers it without a scan; it changes when curation adds a Variant).
KNOWLEDGE_STATE = """
MATCH (s:Source {status: 'active'})
WITH collect(s {.key, .name}) AS sources
RETURN sources, COUNT { (:Variant) } AS variants
"""

#: Positions of every exact (normalised, GRCh38) Variant, grouped per chromosome: one row per
#: chromosome instead of one per Variant (about 10x faster to read 330k positions).
EXACT_POSITIONS = """
MATCH (v:Variant)
WHERE v.kind = 'exact' AND v.pos IS NOT NULL
RETURN v.chrom AS chrom, collect(v.pos) AS positions
"""

#: Variants matched at a coarser level than the exact allele (GRAPH_MODEL.md, CIViC rules 1-4):
#: protein-, codon- and gene-level CIViC Variants and Variants with representative alleles
#: (``alleleIds``) — all keyed ``civic:variant:<VID>`` (GRAPH_MODEL.md), so a prefix seek on the id
#: index finds them — and Variants carrying a protein change (matched at protein level by another
#: allele with the same change; a seek on the ``proteinChange`` index). Two index seeks instead of
#: a scan of every Variant (0.1 s instead of 1 s on the full releases).
_COARSE_FIELDS = """v {.id, .kind, .gene, .name, .proteinChange, .proteinChanges, .codons, .aminoAcidRef, .category,
          .categoryType, .exons, .chrom, .start, .end, .zygosity, .alleleIds} AS variant"""
COARSE_VARIANTS = f"""
MATCH (v:Variant)
WHERE v.id STARTS WITH 'civic:'
  AND (v.kind IN ['protein', 'codon', 'gene'] OR v.proteinChanges IS NOT NULL OR v.alleleIds IS NOT NULL)
RETURN {_COARSE_FIELDS}
UNION
MATCH (v:Variant)
WHERE v.proteinChange IS NOT NULL
RETURN {_COARSE_FIELDS}
"""

#: First and last exact-Variant position per gene (and chromosome), for the given genes.
GENE_SPANS = """
UNWIND $genes AS gene
MATCH (v:Variant {gene: gene})
WHERE v.kind = 'exact' AND v.pos IS NOT NULL
RETURN gene, v.chrom AS chrom, min(v.pos) AS start, max(v.pos + size(v.ref) - 1) AS end
"""

#: The exact Variants a patient's alleles hit (key seeks), with what the coarser levels need.
#: Classifications are the current ones only (VISIBLE_EVIDENCE hides evidence a newer active release supersedes).
EXACT_HITS = f"""
UNWIND $ids AS id
MATCH (v:Variant {{id: id}})
RETURN v {{.id, .kind, .gene, .name, .proteinChange, .proteinChanges, .zygosity, .rsid}} AS variant,
       [(v)-[:IN_GENE]->(g:Gene) | g.symbol] AS genes,
       [(v)-[:HAS_CONSEQUENCE]->(t) | t.name] AS consequences,
       [(v)<-[:ABOUT]-(e:Evidence)
        WHERE e.type = 'pathogenicity' AND {VISIBLE_EVIDENCE}
        | e.classification] AS classifications,
       [(v)<-[:INCLUDES]-(mp:MolecularProfile {{kind: 'single'}})<-[:ABOUT]-(e:Evidence)
        WHERE e.type = 'functional' AND {VISIBLE_EVIDENCE}
        | e {{.id, .significance, .direction}}] AS functions
"""

#: The stored PharmCAT allele definitions / phenotype tables per active release (a label scan of a
#: few dozen nodes, then their Source; never an expansion of a Source's ASSERTED_BY edges).
PGX_DEFINITIONS = """
MATCH (a:AlleleDefinition)-[:ASSERTED_BY]->(s:Source {status: 'active'})
WITH s, a ORDER BY a.gene
RETURN s.key AS release, s.loadedAt AS loadedAt, collect(a.json) AS json
"""

PGX_TABLES = """
MATCH (t:PhenotypeTable)-[:ASSERTED_BY]->(s:Source {status: 'active'})
WITH s, t ORDER BY t.guideline, t.gene
RETURN s.key AS release, collect(t.json) AS json
"""

#: Which of the given Phenotype ids exist.
PHENOTYPES_PRESENT = """
UNWIND $ids AS id
MATCH (p:Phenotype {id: id})
RETURN collect(p.id) AS ids
"""

#: Phenotype ids of one gene (HLA-A / HLA-B results such as ``HLA-B:*57:01 positive``).
GENE_PHENOTYPES = """
MATCH (p:Phenotype {gene: $gene})
RETURN collect(p.id) AS ids
"""


def knowledge_state(graph: Graph) -> dict[str, Any]:
    return graph.read(KNOWLEDGE_STATE)[0]


def exact_positions(graph: Graph) -> list[dict[str, Any]]:
    return graph.read(EXACT_POSITIONS)


def coarse_variants(graph: Graph) -> list[dict[str, Any]]:
    return [row["variant"] for row in graph.read(COARSE_VARIANTS)]


def gene_spans(graph: Graph, genes: list[str]) -> list[dict[str, Any]]:
    return graph.read(GENE_SPANS, genes=genes) if genes else []


def pgx_knowledge(graph: Graph) -> dict[str, Any] | None:
    """``{"release", "definitions", "tables"}``: the stored JSON of the newest active release that
    holds allele definitions (one is active at a time; a seed and a real release never both), or
    None when no active release holds any."""
    releases = sorted(graph.read(PGX_DEFINITIONS), key=lambda r: (r["loadedAt"] or "", r["release"]), reverse=True)
    if not releases:
        return None
    newest = releases[0]
    tables: list[str] = next((r["json"] for r in graph.read(PGX_TABLES) if r["release"] == newest["release"]), [])
    return {"release": newest["release"], "definitions": newest["json"], "tables": tables}


def exact_hits(graph: Graph, ids: list[str]) -> list[dict[str, Any]]:
    return graph.read(EXACT_HITS, ids=ids, **state_params(None)) if ids else []


def phenotypes_present(graph: Graph, ids: list[str]) -> set[str]:
    return set(graph.read(PHENOTYPES_PRESENT, ids=ids)[0]["ids"]) if ids else set()


def gene_phenotypes(graph: Graph, gene: str) -> list[str]:
    return graph.read(GENE_PHENOTYPES, gene=gene)[0]["ids"]

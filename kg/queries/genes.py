"""Gene look-up by current symbol, previous symbol or alias (HGNC)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kg.db import Graph

GENE_BY_SYMBOL = """
OPTIONAL MATCH (exact:Gene) WHERE exact.symbol IN [$symbol, toUpper($symbol)]
OPTIONAL MATCH (:GeneAlias {name: toLower($symbol)})-[a:ALIAS_OF]->(other:Gene)
WITH exact, other, a
RETURN exact {.*} AS exact,
       [x IN collect(other {.*, matchedAs: a.kind}) WHERE x IS NOT NULL] AS candidates
"""


class AmbiguousSymbol(LookupError):
    """An alias names several genes; the caller must choose (the candidates are listed)."""

    def __init__(self, symbol: str, candidates: list[str]) -> None:
        self.symbol = symbol
        self.candidates = candidates
        super().__init__(f"{symbol!r} is an alias of several genes: {', '.join(candidates)}")


@dataclass(frozen=True)
class GeneMatch:
    gene: dict[str, Any]
    matched_as: str  # "symbol", "previous" or "alias"


def find_gene(graph: Graph, symbol: str) -> GeneMatch | None:
    """Current symbol first; else a previous symbol; else an alias. Ambiguity is an error."""
    row = graph.read(GENE_BY_SYMBOL, symbol=symbol.strip())[0]
    if row["exact"]:
        return GeneMatch(row["exact"], "symbol")
    candidates: list[dict[str, Any]] = row["candidates"]
    for kind in ("previous", "alias"):
        hits = [c for c in candidates if c["matchedAs"] == kind]
        if len(hits) > 1:
            raise AmbiguousSymbol(symbol, sorted(h["symbol"] for h in hits))
        if hits:
            gene = {k: v for k, v in hits[0].items() if k != "matchedAs"}
            return GeneMatch(gene, kind)
    return None

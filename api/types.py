"""Strawberry types of the knowledge answered over GraphQL."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="A gene (HGNC), found by current symbol, previous symbol or alias.")
class Gene:
    symbol: str
    name: str | None
    hgnc_id: str | None
    ncbi_gene_id: str | None
    ensembl_id: str | None
    location: str | None
    aliases: list[str]
    previous_symbols: list[str]
    matched_as: str = strawberry.field(description="How the asked symbol matched: symbol, previous or alias.")

    @classmethod
    def from_row(cls, row: dict[str, Any], matched_as: str) -> Gene:
        return cls(
            symbol=row["symbol"], name=row.get("name"), hgnc_id=row.get("hgncId"),
            ncbi_gene_id=row.get("ncbiGeneId"), ensembl_id=row.get("ensemblId"),
            location=row.get("location"), aliases=row.get("aliases") or [],
            previous_symbols=row.get("previousSymbols") or [], matched_as=matched_as,
        )

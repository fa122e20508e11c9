"""How a gene is named besides its HGNC symbol: the identifiers the HGNC loader stores on ``Gene``.

``hgncId`` (``HGNC:1097``), ``ncbiGeneId`` (the Entrez id, as text) and ``ensemblId``
(``ENSG00000157764``), as kg/loaders/hgnc.py writes them:

>>> gene_identifier("hgnc:1097")
('hgncId', 'HGNC:1097')
>>> gene_identifier("NCBIGene:673")
('ncbiGeneId', '673')
>>> gene_identifier("ensg00000157764.14")
('ensemblId', 'ENSG00000157764')
>>> gene_identifier("BRAF") is None
True
"""

from __future__ import annotations

import re

_HGNC = re.compile(r"^HGNC:(\d+)$", re.IGNORECASE)
_ENTREZ = re.compile(r"^(?:(?:NCBIGene|Entrez|GeneID):)?(\d+)$", re.IGNORECASE)
_ENSEMBL = re.compile(r"^(?:Ensembl:)?(ENSG\d{11})(?:\.\d+)?$", re.IGNORECASE)


def gene_identifier(text: str) -> tuple[str, str] | None:
    """``(Gene property, value)`` when ``text`` is an HGNC, NCBI Gene (Entrez) or Ensembl gene id."""
    t = text.strip()
    if found := _HGNC.match(t):
        return "hgncId", f"HGNC:{found[1]}"
    if found := _ENTREZ.match(t):
        return "ncbiGeneId", found[1]
    if found := _ENSEMBL.match(t):
        return "ensemblId", found[1].upper()
    return None

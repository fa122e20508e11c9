"""How an HGVS expression is recognised: ``<reference sequence>:<type>.<description>``.

HGVS (varnomen.hgvs.org, "General recommendations"): a reference sequence accession, a colon,
the coordinate type (``c.`` coding DNA, ``g.`` genomic, ``m.`` mitochondrial, ``n.`` non-coding,
``o.`` circular, ``p.`` protein, ``r.`` RNA) and the change: ``NM_004333.4:c.1799T>A``. ClinVar
writes the gene symbol after the accession (``NM_004333.4(BRAF):c.1799T>A``), which is not part of
the expression. Protein descriptions are read by :mod:`kg.identity.protein`.
"""

from __future__ import annotations

import re

_HGVS = re.compile(r"^\S+:[cgmnopr]\.\S+$")
_GENE_IN_HGVS = re.compile(r"\([A-Za-z0-9-]+\)(?=:)")  # NM_004333.4(BRAF):c.1799T>A


def is_hgvs(text: str) -> bool:
    """True for ``NM_004333.4:c.1799T>A``, ``NP_004324.2:p.Val600Glu``, ``NC_000007.14:g.140753336A>T``."""
    return _HGVS.match(text) is not None


def without_gene(expression: str) -> str:
    """ClinVar's ``NM_004333.4(BRAF):c.1799T>A`` -> ``NM_004333.4:c.1799T>A``; other text unchanged."""
    return _GENE_IN_HGVS.sub("", expression)

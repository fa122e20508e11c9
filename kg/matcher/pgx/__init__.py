"""Pharmacogenomic star-allele calling after PharmCAT (pure Python, no database, no files).

The allele definitions and phenotype tables are :mod:`kg.pharmcat` objects the matcher reads from
the graph. ``caller`` calls diplotypes from VCF genotypes, ``phenotype`` maps diplotypes to
CPIC/DPWG phenotypes and lookup keys, and ``outside_calls`` reads PharmCAT outside-call TSV files.
"""

from kg.matcher.pgx.caller import DiplotypeCandidate, GeneCall, PositionCall, call_gene, call_genes

__all__ = [
    "DiplotypeCandidate",
    "GeneCall",
    "PositionCall",
    "call_gene",
    "call_genes",
]

"""Pharmacogenomic star-allele calling after PharmCAT (pure Python, no database).

``definitions`` reads PharmCAT's allele definitions, ``caller`` calls diplotypes from VCF
genotypes, ``phenotype`` maps diplotypes to CPIC/DPWG phenotypes and lookup keys, and
``outside_calls`` reads PharmCAT outside-call TSV files.
"""

from kg.matcher.pgx.caller import DiplotypeCandidate, GeneCall, PositionCall, call_gene, call_genes
from kg.matcher.pgx.definitions import GeneDefinition, NamedAllele, VariantLocus, load_gene_definitions

__all__ = [
    "DiplotypeCandidate",
    "GeneCall",
    "GeneDefinition",
    "NamedAllele",
    "PositionCall",
    "VariantLocus",
    "call_gene",
    "call_genes",
    "load_gene_definitions",
]

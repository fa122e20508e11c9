"""Consequence terms, as the gene-level match compares them.

Consequence terms are Sequence Ontology names (VEP ``Consequence``, snpEff ``Annotation``,
ClinVar ``MC``), possibly joined by ``&``. What a protein change's own notation implies is
:func:`kg.identity.protein.consequences_of_change`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: SO terms that change the protein: CIViC's "<GENE> Mutation" categories (GRAPH_MODEL.md rule 4).
PROTEIN_ALTERING = frozenset(
    {
        "missense_variant",
        "stop_gained",
        "frameshift_variant",
        "inframe_insertion",
        "inframe_deletion",
        "inframe_indel",
        "splice_donor_variant",
        "splice_acceptor_variant",
        "start_lost",
        "stop_lost",
        "initiator_codon_variant",
        "protein_altering_variant",
        "disruptive_inframe_insertion",
        "disruptive_inframe_deletion",
        "conservative_inframe_insertion",
        "conservative_inframe_deletion",
        "exon_loss_variant",
        "feature_truncation",
    }
)
#: SO terms of a truncating change: "<GENE> Truncating Mutation", "Frameshift".
TRUNCATING = frozenset({"stop_gained", "frameshift_variant", "splice_donor_variant", "splice_acceptor_variant"})


def consequence_terms(values: Iterable[str | None]) -> frozenset[str]:
    """Split ``missense_variant&splice_region_variant`` style values into SO term names."""
    out: set[str] = set()
    for value in values:
        if value:
            out.update(t.strip() for t in re.split(r"[&,]", value) if t.strip())
    return frozenset(out)

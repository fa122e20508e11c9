"""Protein changes and consequences, as the match levels compare them.

CIViC names protein changes in HGNC/HGVS one-letter short form as curators wrote them
(``V600E``, ``W1815X``, ``K706FS*19``, ``V600_K601>E``); VEP/snpEff give HGVS p. notation, which
:func:`kg.matcher.vcf.protein_short` turns into ``V600E``, ``W24*``, ``K706Nfs*19``,
``V600_K601delinsE``. :func:`protein_key` brings both to one comparable spelling
(docs/GRAPH_MODEL.md, "Deciding exact vs codon vs gene": case-insensitive, ``X`` / ``*`` / ``Ter``
all mean stop, ``fs`` and ``FS`` alike). Frameshifts compare by their first changed codon only
(``K706fs``): the new amino acid and the distance to the stop are written inconsistently.

Consequence terms are Sequence Ontology names (VEP ``Consequence``, snpEff ``Annotation``,
ClinVar ``MC``), possibly joined by ``&``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

#: SO terms that change the protein: CIViC's "<GENE> Mutation" categories (GRAPH_MODEL.md rule 4).
PROTEIN_ALTERING = frozenset({
    "missense_variant", "stop_gained", "frameshift_variant", "inframe_insertion", "inframe_deletion",
    "inframe_indel", "splice_donor_variant", "splice_acceptor_variant", "start_lost", "stop_lost",
    "initiator_codon_variant", "protein_altering_variant", "disruptive_inframe_insertion",
    "disruptive_inframe_deletion", "conservative_inframe_insertion", "conservative_inframe_deletion",
    "exon_loss_variant", "feature_truncation",
})
#: SO terms of a truncating change: "<GENE> Truncating Mutation", "Frameshift".
TRUNCATING = frozenset({"stop_gained", "frameshift_variant", "splice_donor_variant", "splice_acceptor_variant"})

_STOP = re.compile(r"(Ter|X)")
_HEAD = re.compile(r"^([A-Z*])(\d+)")
_FS = re.compile(r"^([A-Z*]\d+)[A-Z]?FS", re.IGNORECASE)


def protein_key(change: str | None) -> str | None:
    """A spelling of a protein change that compares equal across CIViC and HGVS sources.

    ``V600E`` -> ``V600E``; ``W1815X`` / ``W1815*`` / ``W1815Ter`` -> ``W1815*``;
    ``K706FS*19`` / ``K706Nfs*19`` -> ``K706FS``; ``V600_K601>E`` / ``V600_K601delinsE`` ->
    ``V600_K601DELINSE``; ``p.(V600E)`` -> ``V600E``.
    """
    if not change:
        return None
    text = change.strip()
    if text.startswith("p."):
        text = text[2:]
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if not text:
        return None
    fs = _FS.match(text)
    if fs:
        return f"{_STOP.sub('*', fs.group(1)).upper()}FS"
    text = text.replace(">", "delins")
    text = _STOP.sub("*", text)
    return text.upper()


class ProteinChange(NamedTuple):
    """The first changed codon of a protein change: ``V600E`` -> ``("V", 600, False)``."""

    ref: str
    position: int
    synonymous: bool


def first_codon(change: str | None) -> ProteinChange | None:
    """Reference amino acid and position of the first codon a change touches, and whether it is
    synonymous (``V600=``, ``V600V``); None when the text names no codon (``p.?``, c. names)."""
    key = protein_key(change)
    if key is None:
        return None
    head = _HEAD.match(key)
    if head is None:
        return None
    rest = key[head.end():]
    synonymous = rest in ("=", head.group(1))
    return ProteinChange(head.group(1), int(head.group(2)), synonymous)


def consequence_terms(values: Iterable[str | None]) -> frozenset[str]:
    """Split ``missense_variant&splice_region_variant`` style values into SO term names."""
    out: set[str] = set()
    for value in values:
        if value:
            out.update(t.strip() for t in re.split(r"[&,]", value) if t.strip())
    return frozenset(out)


def consequences_of_change(change: str | None) -> frozenset[str]:
    """The SO consequence a protein change implies, when no annotation says it.

    ``V600E`` -> missense; ``R213*`` -> stop_gained; ``K706FS`` -> frameshift; ``E746_A750del``
    -> inframe_deletion; ``V600=`` -> synonymous; ``M1?`` / ``M1I`` on codon 1 -> start_lost.
    """
    key = protein_key(change)
    codon = first_codon(change)
    if key is None or codon is None:
        return frozenset()
    if codon.synonymous:
        return frozenset({"synonymous_variant"})
    if key.endswith("FS"):
        return frozenset({"frameshift_variant"})
    if "DELINS" in key:
        return frozenset({"inframe_indel"})
    if "DEL" in key:
        return frozenset({"inframe_deletion"})
    if "INS" in key or "DUP" in key:
        return frozenset({"inframe_insertion"})
    if codon.position == 1 and codon.ref == "M":
        return frozenset({"start_lost"})
    if codon.ref == "*":
        return frozenset({"stop_lost"})
    if key.endswith("*"):
        return frozenset({"stop_gained"})
    if re.fullmatch(r"[A-Z]\d+[A-Z]", key):
        return frozenset({"missense_variant"})
    return frozenset()

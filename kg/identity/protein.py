"""How a protein change is written: the amino-acid table, HGVS p. and CIViC short forms, one comparable key.

HGVS (varnomen.hgvs.org, "Protein") writes a change with three-letter amino acids
(``p.Val600Glu``, ``p.Trp24Ter``, ``p.Lys706AsnfsTer19``; ``p.(...)`` when predicted); VEP and
snpEff annotate that way. CIViC names variants in the one-letter short form as curators wrote it
(``V600E``, ``W1815X``, ``K706FS*19``, ``V600_K601>E``). :func:`protein_short` turns the first into
the second, :func:`short_change` recognises the second, and :func:`protein_key` brings both to one
spelling that compares equal (docs/GRAPH_MODEL.md, "Deciding exact vs codon vs gene":
case-insensitive, ``X`` / ``*`` / ``Ter`` all mean stop, ``fs`` and ``FS`` alike). Frameshifts
compare by their first changed codon only (``K706FS``): the new amino acid and the distance to the
stop are written inconsistently.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

#: Three-letter amino-acid codes -> one-letter codes (IUPAC-IUB JCBN 1984, as HGVS uses them),
#: with ``Ter`` for the stop codon and the ambiguity codes ``Xaa``, ``Asx``, ``Glx``.
AMINO_ACIDS: dict[str, str] = {
    "Ala": "A",
    "Arg": "R",
    "Asn": "N",
    "Asp": "D",
    "Cys": "C",
    "Gln": "Q",
    "Glu": "E",
    "Gly": "G",
    "His": "H",
    "Ile": "I",
    "Leu": "L",
    "Lys": "K",
    "Met": "M",
    "Phe": "F",
    "Pro": "P",
    "Ser": "S",
    "Thr": "T",
    "Trp": "W",
    "Tyr": "Y",
    "Val": "V",
    "Ter": "*",
    "Sec": "U",
    "Pyl": "O",
    "Xaa": "X",
    "Asx": "B",
    "Glx": "Z",
}
_BY_UPPER = {three.upper(): one for three, one in AMINO_ACIDS.items()}
_THREE_LETTER = re.compile("|".join(AMINO_ACIDS))

# One-letter short form (HGVS p. without "p." and with one-letter codes), as CIViC writes it:
# substitution V600E / W1815X / *757L / M1? / E55=, range indels E746_A750del, M766_A767insASV,
# D770delinsGY, V600_K601>E, frameshifts K706FS*19 / R135FSX177 / E55RfsTer11 / T148HFSX9.
_SHORT_CHANGE = re.compile(
    r"""^(?:p\.)?
    (?P<ref>[A-Z*])(?P<pos>\d+)
    (?:_(?P<ref2>[A-Z*])?(?P<pos2>\d+))?
    (?P<change>
        [A-Z*?=]                                   # substitution, stop, unknown, synonymous
      | [A-Z]?(?:FS|fs)(?:\*|X|Ter)?\d*\??           # frameshift (optionally with new aa / length)
      | (?:DEL|del)(?:INS|ins)?[A-Z]*                # deletion or deletion-insertion
      | (?:INS|ins)[A-Z]+                            # insertion
      | (?:DUP|dup)[A-Z]*                            # duplication
      | >[A-Z]+                                      # CIViC V600_K601>E style delins
    )$""",
    re.VERBOSE,
)

# A gene and a substitution, as people type it: "BRAF V600E", "braf v600e", "BRAF p.Val600Glu",
# "BRAF p.(Val600Glu)", "TP53 R213*".
_AA = r"(?:[A-Z][a-z]{2}|[A-Z*])"
_GENE_CHANGE = re.compile(
    rf"^(?P<gene>[A-Za-z][A-Za-z0-9-]*)\s+(?:p\.)?\(?(?P<ref>{_AA})(?P<pos>\d+)(?P<alt>{_AA})\)?$", re.IGNORECASE
)

_STOP = re.compile(r"(Ter|X|x)")  # "x": keys are case-insensitive
_HEAD = re.compile(r"^([A-Z*])(\d+)")
_FS = re.compile(r"^([A-Z*]\d+)[A-Z]?FS", re.IGNORECASE)


def amino_acid(code: str) -> str | None:
    """One-letter code of an amino acid written in one or three letters, any case: ``Val``, ``VAL``,
    ``v`` -> ``V``; ``Ter`` / ``*`` -> ``*``; None when it names none."""
    if len(code) == 1:
        return code.upper() if code.isalpha() or code == "*" else None
    return _BY_UPPER.get(code.upper())


def protein_short(hgvsp: str | None) -> str | None:
    """``p.Val600Glu`` -> ``V600E`` (HGVS one-letter form, as CIViC names variants).

    Accepts a transcript prefix (``ENSP...:p.``), predicted changes in parentheses, URL
    escapes from VEP (``%3D``), and already short forms; ``p.?`` and ``p.0`` give None.
    ``p.Trp24Ter`` -> ``W24*``; ``p.Glu746_Ala750del`` -> ``E746_A750del``.
    """
    if not hgvsp:
        return None
    text = unquote(hgvsp).strip()
    if ":" in text:
        text = text.rsplit(":", 1)[1]
    if not text.startswith("p."):
        return None
    body = text[2:].strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    if body in ("", "?", "0", "="):
        return None
    return _THREE_LETTER.sub(lambda m: AMINO_ACIDS[m.group()], body)


def short_change(token: str) -> str | None:
    """``token`` without ``p.`` when it is a protein change in one-letter short form (``V600E``,
    ``p.E746_A750del``, ``K706FS*19``, ``V600_K601>E``), else None."""
    if not _SHORT_CHANGE.match(token):
        return None
    return token.removeprefix("p.")


def gene_protein_change(text: str) -> tuple[str, str] | None:
    """``"BRAF p.Val600Glu"`` -> ``("BRAF", "V600E")``; None when the text is not a gene and a
    substitution (one- or three-letter amino acids, any case, ``p.`` and parentheses optional)."""
    found = _GENE_CHANGE.match(text.strip())
    if not found:
        return None
    ref, alt = amino_acid(found["ref"]), amino_acid(found["alt"])
    if not ref or not alt:
        return None
    return found["gene"], f"{ref}{found['pos']}{alt}"


def protein_key(change: str | None) -> str | None:
    """A spelling of a protein change that compares equal across CIViC and HGVS sources.

    ``V600E`` -> ``V600E``; ``W1815X`` / ``W1815*`` / ``W1815Ter`` -> ``W1815*``;
    ``K706FS*19`` / ``K706Nfs*19`` -> ``K706FS``; ``V600_K601>E`` / ``V600_K601delinsE`` ->
    ``V600_K601DELINSE``; ``p.(V600E)`` -> ``V600E``.
    """
    if not change:
        return None
    text = change.strip().removeprefix("p.")
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
    rest = key[head.end() :]
    synonymous = rest in ("=", head.group(1))
    return ProteinChange(head.group(1), int(head.group(2)), synonymous)


def consequences_of_change(change: str | None) -> frozenset[str]:
    """The Sequence Ontology consequence a protein change's notation implies, when no annotation says it.

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

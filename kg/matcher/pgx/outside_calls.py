"""PharmCAT outside-call files: gene calls made by another tool (CYP2D6, HLA, MT-RNR1...).

Format (PharmCAT "Outside Call Format"): UTF-8, tab-separated, lines starting with ``#`` and
blank lines ignored. Up to four fields:

1. HGNC gene symbol (required)
2. diplotype (``*1/*3``) or single allele call (``1555A>G``); an allele may carry the gene
   prefix (``CYP2D6*1/CYP2D6*3``), which is dropped
3. phenotype or other gene result (``Poor Metabolizer``, ``*57:01 positive``)
4. activity score (``1.5``, ``≥6.0``)

At least one of fields 2-4 must be given. Combination calls use PharmCAT's syntax
(``[*2 + *3]``). A gene may appear once. Phenotype spellings and the synonyms PM/IM/NM/EM/UM
are normalised the way PharmCAT documents. Every problem raises :class:`OutsideCallError`
with the file, the line number, what was expected and what was found.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_GENE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
_SCORE = re.compile(r"^(?:[≥>]=?\s*)?\d+(?:\.\d+)?$|^n/a$", re.IGNORECASE)
_SYNONYMS = {
    "PM": "Poor Metabolizer",
    "IM": "Intermediate Metabolizer",
    "NM": "Normal Metabolizer",
    "EM": "Normal Metabolizer",
    "RM": "Rapid Metabolizer",
    "UM": "Ultrarapid Metabolizer",
}
_MAIN_PHENOTYPES = ("Ultrarapid", "Rapid", "Normal", "Intermediate", "Poor")


class OutsideCallError(ValueError):
    """A line of an outside-call file that cannot be used as it stands."""

    def __init__(self, path: str | os.PathLike[str], line: int, expected: str, found: str) -> None:
        self.path = str(path)
        self.line = line
        self.expected = expected
        self.found = found
        super().__init__(f"{self.path}, line {line}: expected {expected}; found {found}")


@dataclass(frozen=True)
class OutsideCall:
    """One gene call from an outside-call file."""

    gene: str
    diplotype: str | None
    phenotype: str | None
    activity_score: str | None
    line: int
    path: str = "<string>"

    @property
    def haplotypes(self) -> tuple[str, ...]:
        """The allele names of the diplotype (one for a single-allele call)."""
        if not self.diplotype:
            return ()
        return tuple(self.diplotype.split("/"))


def normalize_phenotype(text: str, gene: str = "") -> str | None:
    """``pm`` -> ``Poor Metabolizer``; ``likely cyp2c19 poor metaboliser`` -> ``Likely Poor
    Metabolizer``; other text is returned trimmed (HLA ``*57:01 positive``)."""
    value = " ".join(text.replace(gene, "").split()) if gene else " ".join(text.split())
    if not value:
        return None
    if value.upper() in _SYNONYMS:
        return _SYNONYMS[value.upper()]
    lowered = re.sub(r"metaboli[sz]ers?\b", "metabolizer", value, flags=re.IGNORECASE)
    lowered = re.sub(r"\((?:PM|IM|NM|EM|RM|UM)\)", "", lowered).strip()
    if re.search(r"metabolizer", lowered, re.IGNORECASE):
        modifier = next((m for m in ("Likely", "Possible") if re.search(rf"\b{m}\b", lowered, re.I)), "")
        main = next((p for p in _MAIN_PHENOTYPES if re.search(rf"\b{p}\b", lowered, re.I)), None)
        if main is None and re.search(r"\bextensive\b", lowered, re.I):
            main = "Normal"
        if main is not None:
            return " ".join(x for x in (modifier, main, "Metabolizer") if x)
    return lowered


def _clean_diplotype(text: str, gene: str, path: str, number: int) -> str:
    if " or " in text:
        raise OutsideCallError(path, number, "a single diplotype", f"several ({text!r})")
    parts = [p.strip() for p in text.split("/")]
    if len(parts) > 2:
        raise OutsideCallError(path, number, "at most 2 alleles separated by '/'", f"{len(parts)} in {text!r}")
    cleaned = []
    for part in parts:
        if part.startswith(gene) and len(part) > len(gene) and part[len(gene)] in "* ":
            part = part[len(gene) :].strip()
        if not part:
            raise OutsideCallError(path, number, "an allele name on each side of '/'", repr(text))
        if part.startswith("[") != part.endswith("]") or (part.startswith("[") and " + " not in part):
            raise OutsideCallError(path, number, "a combination written as '[*1 + *2]'", repr(part))
        cleaned.append(part)
    return "/".join(cleaned)


def parse_outside_calls_text(text: str, path: str | os.PathLike[str] = "<string>") -> list[OutsideCall]:
    """Parse outside-call file content; ``path`` is only used in error messages."""
    where = str(path)
    calls: list[OutsideCall] = []
    seen: dict[str, int] = {}
    lines = text.split("\n")
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if number == 1:
            line = line.lstrip("\ufeff")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        while len(fields) > 1 and fields[-1] == "":
            fields.pop()
        if len(fields) > 4:
            raise OutsideCallError(
                where,
                number,
                "at most 4 tab-separated fields (gene, diplotype, phenotype, activity score)",
                f"{len(fields)} fields",
            )
        gene = fields[0]
        if not gene:
            raise OutsideCallError(where, number, "a gene symbol in field 1", "an empty field")
        if not _GENE.match(gene):
            hint = " (fields must be separated by tabs)" if " " in gene else ""
            raise OutsideCallError(where, number, f"an HGNC gene symbol in field 1{hint}", repr(gene))
        if gene in seen:
            raise OutsideCallError(
                where, number, f"one line per gene ({gene} already on line {seen[gene]})", f"a second {gene} line"
            )
        fields += [""] * (4 - len(fields))
        diplotype = _clean_diplotype(fields[1], gene, where, number) if fields[1] else None
        phenotype = normalize_phenotype(fields[2], gene) if fields[2] else None
        score = fields[3] or None
        if score is not None and not _SCORE.match(score):
            raise OutsideCallError(where, number, "an activity score such as 1.5 or ≥6.0 in field 4", repr(score))
        if diplotype is None and phenotype is None and score is None:
            raise OutsideCallError(
                where, number, f"a diplotype, phenotype or activity score for {gene}", "only the gene"
            )
        seen[gene] = number
        calls.append(OutsideCall(gene, diplotype, phenotype, score, number, where))
    return calls


def parse_outside_calls(path: str | os.PathLike[str]) -> list[OutsideCall]:
    """Read an outside-call TSV file (UTF-8; the ``≥`` of CYP2D6 copy-number names needs it)."""
    file = Path(path)
    data = file.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        number = data[: err.start].count(b"\n") + 1
        raise OutsideCallError(file, number, "UTF-8 text", f"byte 0x{data[err.start]:02x}") from None
    return parse_outside_calls_text(text, file)

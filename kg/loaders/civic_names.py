"""What a CIViC name means: variant names, molecular-profile expressions, therapy lists.

CIViC (civicdb.org, release TSVs) names a variant by a protein change in one-letter short form
(``V600E``, ``E746_A750del``, ``K706FS*19``; read by :func:`kg.identity.protein.short_change`), a
codon (``V600``, ``G12/G13``), a gene-level category (``Mutation``, ``Exon 19 Deletion``,
``Amplification``, ``Loss-of-function``), a fusion (``EML4::ALK``) or free text (``SNP309``,
``c.1641+1dup``, ``RS61764370``). A molecular profile (MP) name joins ``<GENE> <variant name>``
components with ``AND`` / ``OR`` / ``NOT`` and space-separated parentheses:
``BRAF Amplification AND ( BRAF V600E OR BRAF V600K )``.

The grammar below only reads names; whether a variant becomes an exact GRCh38 allele also
depends on its coordinates (see kg/loaders/civic_rows.py and docs/GRAPH_MODEL.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kg.identity.protein import short_change
from kg.identity.variants import parse_rsid

_CODON = re.compile(r"^(?P<ref>[A-Z])(?P<pos>\d+)$")
_CODONS = re.compile(r"^(?P<ref>[A-Z])(?P<pos>\d+)/(?P<ref2>[A-Z])(?P<pos2>\d+)$")
_MULTI_ALT = re.compile(r"^(?P<stem>[A-Z]\d+)(?P<alts>[A-Z*](?:/[A-Z*])+)$")  # Q157P/R, S310F/Y
_EXON_RANGE = re.compile(r"exons?\s*(\d+)(?:\s*(?:-|&)\s*(\d+))?", re.IGNORECASE)

# Gene-level categories, tested in this order on the lowercased name; the first match wins.
# category types the matcher understands (docs/GRAPH_MODEL.md, "Deciding exact vs codon vs gene").
_CATEGORY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "expression",
        re.compile(r"expression|serum levels|mislocali[sz]ation|nuclear translocation|phosphorylation|^cd44v6$"),
    ),
    ("epigenetic", re.compile(r"methylation")),
    ("fusion", re.compile(r"^(fusion|rearrangement|truncating fusion|intron \d+ rearrangement)$")),
    ("exon", re.compile(r"\bexons?\b")),
    (
        "copy_number",
        re.compile(
            r"^(amplification|deletion|loss|copy number variation|copy-neutral loss of heterozygosity|loh"
            r"|deletion polymorphism)$|\d+mb del$"
        ),
    ),
    ("wildtype", re.compile(r"^wild[- ]?type$")),
    (
        "function",
        re.compile(
            r"^(loss-of-function|gain-of-function|inactivating mutation|activating mutation|deleterious mutation"
            r"|biallelic inactivation)$|^null \("
        ),
    ),
    (
        "truncating",
        re.compile(r"^(truncating mutation|truncation|frameshift|frameshift truncation|n-terminal frame shift)$"),
    ),
    ("domain", re.compile(r"domain mut|p-loop mutation$|^tkd mutation$")),
    ("mutation", re.compile(r"^(mutation|alteration|[a-z0-9-]+ mutation)$")),
)
# Words that look like "<something> mutation" but are not "any mutation in the gene".
_NOT_PLAIN_MUTATION = re.compile(r"^(rare|promoter|intron \d+|non-p-loop|exon \d+ skipping) mutation$")

_OPERATORS = {"AND", "OR", "NOT", "(", ")"}


@dataclass(frozen=True)
class VariantName:
    """The reading of one CIViC variant name.

    ``kind``: ``protein`` (one or more protein changes), ``codon``, ``gene`` (a category the
    matcher can evaluate per ``category_type``) or ``other`` (fusions, free text, c. names).
    """

    kind: str
    protein_changes: tuple[str, ...] = ()
    codons: tuple[int, ...] = ()
    amino_acid_ref: str | None = None
    category: str | None = None
    category_type: str | None = None
    exons: tuple[int, ...] = ()
    fusion: str | None = None
    zygosity: str | None = None
    rsid: str | None = None

    @property
    def protein_change(self) -> str | None:
        """The single protein change this name denotes (``V600E``), else None."""
        return self.protein_changes[0] if len(self.protein_changes) == 1 else None


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _exons(text: str) -> tuple[int, ...]:
    exons: list[int] = []
    for match in _EXON_RANGE.finditer(text):
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        joined = "&" in match.group(0)
        numbers = [first, last] if joined else list(range(first, last + 1))
        exons.extend(n for n in numbers if n not in exons)
    return tuple(exons)


def _category(low: str) -> str | None:
    if _NOT_PLAIN_MUTATION.match(low):
        return None
    for name, pattern in _CATEGORY_RULES:
        if pattern.search(low):
            return name
    return None


def classify_variant(name: str) -> VariantName:
    """Read a CIViC variant name (the ``variant`` column of VariantSummaries.tsv)."""
    text = _collapse(name)
    zygosity = None
    if text.upper().endswith(" HOMOZYGOSITY"):
        zygosity, text = "homozygous", text[: -len(" HOMOZYGOSITY")]
    low = text.lower()

    if rsid := parse_rsid(text):
        return VariantName("other", zygosity=zygosity, rsid=rsid)

    category_type = _category(low)
    if category_type is not None:
        return VariantName(
            "gene",
            category=text,
            category_type=category_type,
            exons=_exons(text) if category_type == "exon" else (),
            zygosity=zygosity,
        )

    if codon := _CODON.match(text):
        return VariantName("codon", codons=(int(codon.group("pos")),), amino_acid_ref=codon.group("ref"))
    if (codons := _CODONS.match(text)) and codons.group("ref") == codons.group("ref2"):
        return VariantName(
            "codon",
            codons=(int(codons.group("pos")), int(codons.group("pos2"))),
            amino_acid_ref=codons.group("ref"),
        )

    tokens = text.split(" ")
    fusion = None
    if "::" in tokens[0]:
        fusion, tokens = tokens[0], tokens[1:]
        if not tokens or tokens[0].lower().startswith("e"):  # EML4::ALK, EML4::ALK e6-e20
            return VariantName("other", category=text, category_type="fusion", fusion=fusion)

    if multi := _MULTI_ALT.match(tokens[0]):
        changes = tuple(multi.group("stem") + alt for alt in multi.group("alts").split("/"))
        return VariantName("protein", protein_changes=changes, fusion=fusion, zygosity=zygosity)
    if len(tokens) == 3 and tokens[1].lower() == "or":  # H1047L or H1047R
        changes = tuple(t for t in (short_change(tokens[0]), short_change(tokens[2])) if t)
        if len(changes) == 2:
            return VariantName("protein", protein_changes=changes, fusion=fusion, zygosity=zygosity)
    change = short_change(tokens[0])
    if change is not None and (len(tokens) == 1 or tokens[1].startswith(("(", "c."))):
        # "L178P (c.532C>T)", "R474C c.1420C>T": a protein change with its cDNA change alongside.
        return VariantName("protein", protein_changes=(change,), fusion=fusion, zygosity=zygosity)
    return VariantName("other", fusion=fusion, zygosity=zygosity)


# --- molecular profiles --------------------------------------------------------------------


@dataclass
class ProfileExpression:
    """An MP name as tokens: operators (AND, OR, NOT, parentheses) and variant components."""

    tokens: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    negated: set[str] = field(default_factory=set)  # components directly preceded by NOT

    @property
    def has_operators(self) -> bool:
        return any(t in _OPERATORS for t in self.tokens)


def parse_profile_name(name: str) -> ProfileExpression:
    """Split ``BRAF Amplification AND ( BRAF V600E OR BRAF V600K )`` into operators and components.

    Grouping parentheses stand alone between spaces in CIViC MP names; parentheses inside a
    variant name (``Splice Site (c.3028G>A)``) are attached to words and stay in the component.
    """
    expression = ProfileExpression()
    words: list[str] = []
    after_not = False

    def flush() -> None:
        nonlocal after_not
        if words:
            component = " ".join(words)
            expression.tokens.append(component)
            expression.components.append(component)
            if after_not:
                expression.negated.add(component)
            words.clear()
            after_not = False

    for word in name.split():
        if word in _OPERATORS:
            flush()
            expression.tokens.append(word)
            after_not = word == "NOT"
        else:
            words.append(word)
    flush()
    return expression


def render_expression(expression: ProfileExpression, ids: dict[str, str]) -> str:
    """The expression with each component replaced by its Variant id (space-separated tokens)."""
    return " ".join(ids.get(t, t) if t not in _OPERATORS else t for t in expression.tokens)


def component_key(text: str) -> str:
    """How an MP component is compared with ``<gene> <variant name>``: whitespace and case folded."""
    return _collapse(text).lower()


# --- therapies -----------------------------------------------------------------------------


def split_therapies(field_value: str) -> list[str]:
    """Split CIViC's comma-joined therapy list into names, keeping commas that belong to a name.

    Therapies are joined by ``,`` without a space; a few NCIt names contain commas themselves:
    ``HER2 Inhibitor CP-724,714`` (a digits-only piece continues the previous name when that
    ends in a digit), ``2,4-pyrimidinediamine`` (a leading digits-only piece starts the next
    name) and ``FGF/VEGF Receptor Tyrosine Kinase Inhibitor, PD173074`` (comma then space).
    """
    pieces = [p for p in re.split(r",(?=\S)", field_value.strip()) if p.strip()]
    names: list[str] = []
    carry = ""
    for piece in pieces:
        piece = piece.strip()
        if carry:
            piece, carry = f"{carry},{piece}", ""
        if piece.isdigit():
            if names and names[-1][-1:].isdigit():
                names[-1] = f"{names[-1]},{piece}"
            else:
                carry = piece
            continue
        names.append(piece)
    if carry:
        names.append(carry)
    return _unique(names)


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out

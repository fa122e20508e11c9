"""How a drug is keyed: its graph key, and which identifier a user's text names.

``Drug {id}`` and its ``DrugName {name}`` look-ups are keyed by the name lowercased with inner
whitespace collapsed (docs/GRAPH_MODEL.md), so "Dabrafenib", " dabrafenib " and "DABRAFENIB" are
one drug in every loader and every query.

Identifiers are stored as the sources write them: ``rxnormId`` (digits; CPIC's cpic_drug.tsv,
PharmGKB drugs.tsv), ``drugbankId`` (``DB01072``), ``atc`` (a list, ``L01EC02``), ``pharmgkbId``
(``PA10251``). :func:`drug_identifier` reads a user's spelling of one of them:

>>> drug_identifier("RxNorm:343047")
('rxnormId', '343047')
>>> drug_identifier("db01072")
('drugbankId', 'DB01072')
>>> drug_identifier("ATC:l01ec02")
('atc', 'L01EC02')
>>> drug_identifier("PharmGKB:PA10251")
('pharmgkbId', 'PA10251')
>>> drug_identifier("vemurafenib") is None
True
"""

from __future__ import annotations

import re


def drug_key(name: str) -> str:
    """The Drug key and DrugName look-up of a name: lowercased, inner whitespace collapsed."""
    return " ".join(name.split()).lower()


# prefix as users and sources spell it (upper-cased) -> the Drug property holding that identifier
_PREFIXES = {
    "RXNORM": "rxnormId",
    "RXCUI": "rxnormId",
    "DRUGBANK": "drugbankId",
    "ATC": "atc",
    "PHARMGKB": "pharmgkbId",
}
# identifiers recognisable without a prefix
_BARE = (
    (re.compile(r"^DB\d{5}$", re.IGNORECASE), "drugbankId"),
    (re.compile(r"^PA\d+$", re.IGNORECASE), "pharmgkbId"),
    (re.compile(r"^[A-Z]\d\d[A-Z]{2}\d\d$", re.IGNORECASE), "atc"),
)


def drug_identifier(text: str) -> tuple[str, str] | None:
    """``(Drug property, value)`` when ``text`` is a RxNorm, DrugBank, ATC or PharmGKB id."""
    t = text.strip()
    prefix, sep, local = t.partition(":")
    if sep and local.strip():
        prop = _PREFIXES.get(prefix.strip().upper())
        if prop is None:
            return None
        local = local.strip()
        return prop, local if prop == "rxnormId" else local.upper()
    for pattern, prop in _BARE:
        if pattern.match(t):
            return prop, t.upper()
    return None

"""How a disease is named: its ontology id in any spelling, and cross-reference keys.

Ids. ``Disease {id}`` is ``DOID:1909`` (MONDO terms ``MONDO:0005105``); users and files also write
``doid:1909``, ``DOID_1909`` / ``doid_1909`` (OBO PURLs end in ``DOID_1909``) or the bare number
``1909`` (a DOID number: the Disease Ontology is the graph's disease vocabulary).
:func:`disease_ids` gives every candidate id of a text:

>>> disease_ids("doid_1909")
['DOID:1909', 'doid_1909']
>>> disease_ids("http://purl.obolibrary.org/obo/DOID_1909")[0]
'DOID:1909'
>>> disease_ids("1909")
['DOID:1909', '1909']

Cross-references. Shared by the ontology loaders, the loaders that map to them and the disease
resolver (kg.queries.resolve).

Each vocabulary spells its prefixes its own way: the Disease Ontology writes ``UMLS_CUI:C0025202``
and ``ORDO:586``, MONDO writes ``UMLS:C0025202`` and ``Orphanet:586``, ClinVar's ``CLNDISDB``
writes ``MedGen:C0025202``, ``MeSH:D008545``, ``Orphanet:586`` and ``MONDO:MONDO:0007254``.
:func:`xref_keys` gives every spelling the same canonical keys (upper-case prefix, local id as
written), so ``DiseaseXref {id}`` nodes written from DOID are found from ClinVar's spelling:

>>> xref_keys("UMLS_CUI:C0025202")
['UMLS_CUI:C0025202', 'UMLS:C0025202']
>>> xref_keys("MedGen:C0025202")
['MEDGEN:C0025202', 'UMLS:C0025202']
>>> xref_keys("Orphanet:ORPHA586")
['ORPHANET:586', 'ORDO:586']
>>> xref_keys("MIM:155600")
['OMIM:155600']
"""

from __future__ import annotations

import re

# prefix as spelled (upper-cased) -> canonical prefix
_PREFIX = {
    "MSH": "MESH",
    "MIM": "OMIM",
    "ORPHA": "ORPHANET",
    "ORPHANETDISEASE": "ORPHANET",
    "UMLS_CUI": "UMLS_CUI",
    "NCIT": "NCI",
    "NCI_THESAURUS": "NCI",
}

# canonical prefix -> the other prefixes the same identifier is also indexed under
_ALSO = {
    "UMLS_CUI": ("UMLS",),
    "ORPHANET": ("ORDO",),
    "ORDO": ("ORPHANET",),
}


def split_curie(xref: str) -> tuple[str, str] | None:
    """``"MeSH:D008545"`` -> ``("MESH", "D008545")``; ``None`` when there is no prefix or id."""
    prefix, sep, local = xref.strip().partition(":")
    if not sep or not prefix or not local.strip():
        return None
    prefix = prefix.strip().upper()
    local = local.strip()
    if prefix == "MONDO" and local.upper().startswith("MONDO:"):  # ClinVar: MONDO:MONDO:0007254
        local = local[len("MONDO:") :]
    if prefix in ("ORPHANET", "ORDO", "ORPHA") and local.upper().startswith("ORPHA"):  # Orphanet:ORPHA586
        local = local[len("ORPHA") :].lstrip(":_")
    return _PREFIX.get(prefix, prefix), local


def xref_keys(xref: str) -> list[str]:
    """Canonical lookup keys for one ``PREFIX:ID`` cross-reference, most specific first.

    MedGen concept ids that are UMLS CUIs (``C`` followed by digits) are also keyed ``UMLS:``;
    MedGen's own ``CN…`` ids are not UMLS concepts and keep only ``MEDGEN:``.
    """
    parts = split_curie(xref)
    if parts is None:
        return []
    prefix, local = parts
    keys = [f"{prefix}:{local}"]
    also = _ALSO.get(prefix, ())
    if prefix == "MEDGEN" and local[:1] == "C" and local[1:].isdigit():
        also = ("UMLS",)
    keys += [f"{other}:{local}" for other in also]
    return keys


_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)[:_](\d\S*)$")


def disease_ids(text: str) -> list[str]:
    """Candidate ``Disease.id`` values of a text, the canonical spelling first, the text as given last."""
    t = text.strip()
    local = t.rsplit("/", 1)[-1] if "://" in t else t  # an OBO PURL
    out = []
    found = _CURIE.match(local)
    if found:
        out.append(f"{found[1].upper()}:{found[2]}")
    elif local.isdigit():
        out.append(f"DOID:{local}")
    out.append(t)
    return list(dict.fromkeys(out))


def disease_name(text: str) -> str:
    """The DiseaseName look-up of a name or synonym: lowercased, inner whitespace collapsed."""
    return " ".join(text.split()).lower()


def disease_xref_keys(text: str) -> list[str]:
    """DiseaseXref keys a user's ``PREFIX:ID`` may mean: :func:`xref_keys` of the text as written and
    with the local id upper-cased (``mesh:d008545`` is MeSH D008545; the sources write ids upper-case)."""
    keys = xref_keys(text)
    prefix, sep, local = text.strip().partition(":")
    if sep:
        keys += xref_keys(f"{prefix}:{local.upper()}")
    return list(dict.fromkeys(keys))

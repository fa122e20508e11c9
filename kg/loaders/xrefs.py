"""Disease cross-reference keys shared by the ontology loaders and the loaders that map to them.

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
        local = local[len("MONDO:"):]
    if prefix in ("ORPHANET", "ORDO", "ORPHA") and local.upper().startswith("ORPHA"):  # Orphanet:ORPHA586
        local = local[len("ORPHA"):].lstrip(":_")
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

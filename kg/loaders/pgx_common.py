"""What the pharmacogenomics loaders (pharmcat, pharmgkb, fda) share: gene and drug Cypher
(Drug keys: kg.identity.drugs.drug_key), and a validate-first release load.

Validate first: every stage's rows are produced once without the database before anything is
written, so a malformed file fails the load before a single statement runs. This matters
because fact edges carry one ``release``: a failing load of a *second* version of a source
would re-stamp edges the active version already wrote (``SET r.release``) and its discard would
then delete them. Parsing these releases twice costs a second or two; an unchanged release is
still a cheap skip (checked before validating).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from kg.db import Graph
from kg.identity.drugs import drug_key
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, SourceRelease, Stage, is_loaded, load_release
from kg.loaders.statements import stamped

# Genes named by a PGx source: MERGE by HGNC symbol, flag pgx.
GENES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (g:Gene {symbol: row.symbol})
""" + asserts("g", latest={"pgx": "true", "pharmgkbId": "row.pharmgkbId"})

# Drugs keyed by lowercased name (docs/GRAPH_MODEL.md); the name is a fallback (first wins), identifiers
# fill in where given (newest wins), ATC codes and synonyms accumulate (kg/loaders/property_groups.py);
# every name and synonym (and trade name) becomes a DrugName lookup, keyed by drug_key in Python
# (row.nameKeys, added by drug_stage).
DRUGS = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (d:Drug {id: row.id})
"""
    + asserts(
        "d",
        first={"name": "row.name"},
        latest={"pharmgkbId": "row.pharmgkbId", "rxnormId": "row.rxnormId", "drugbankId": "row.drugbankId"},
        union={
            "atc": "CASE WHEN size(coalesce(row.atc, [])) > 0 THEN row.atc END",
            "synonyms": "CASE WHEN size(coalesce(row.synonyms, [])) > 0 THEN row.synonyms END",
        },
    )
    + """WITH d, row, src
UNWIND row.nameKeys AS name
WITH DISTINCT d, src, name
MERGE (dn:DrugName {name: name})
MERGE (dn)-[r:NAME_OF]->(d)
SET RELEASES(r)
MERGE (dn)-[:ASSERTED_BY]->(src)
"""
)


def name_only_drug(drug: str, name: str) -> dict[str, Any]:
    """A drug row for a drug a source names but does not describe (no ids, synonyms or trade names)."""
    return {
        "id": drug,
        "name": name,
        "pharmgkbId": None,
        "rxnormId": None,
        "drugbankId": None,
        "atc": None,
        "synonyms": [],
        "tradeNames": [],
    }


def with_name_keys(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each drug row with ``nameKeys``: the drug_key of its name, synonyms and trade names."""
    for row in rows:
        names = [row["name"], *(row.get("synonyms") or []), *(row.get("tradeNames") or [])]
        yield {**row, "nameKeys": list(dict.fromkeys(k for n in names if n and (k := drug_key(n))))}


def drug_stage(rows: Callable[[], Iterable[dict[str, Any]]]) -> Stage:
    """The ``drugs`` stage of a PGx loader: :data:`DRUGS` over ``rows()`` with their name keys."""
    return Stage("drugs", DRUGS, lambda: with_name_keys(rows()))


_SLUG = re.compile(r"[^a-z0-9*:+.]+")


def slug(text: str) -> str:
    """A stable key fragment: ``"Abemaciclib (1)"`` -> ``abemaciclib-1``."""
    return _SLUG.sub("-", text.lower()).strip("-")


def load_validated(graph: Graph, release: SourceRelease, stages: list[Stage], *, progress: bool = True) -> LoadReport:
    """``load_release`` after producing every stage's rows once (no writes) to surface bad input."""
    if not is_loaded(graph, release, stages):
        for stage in stages:
            for _ in stage.rows():
                pass
    return load_release(graph, release, stages, progress=progress)

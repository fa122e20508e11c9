"""Allele definitions and phenotype tables as compact JSON text: the form the graph stores.

The pharmcat loader writes one ``AlleleDefinition`` node per gene and one ``PhenotypeTable`` node
per gene and guideline, each asserted by its release and holding ``json`` (docs/GRAPH_MODEL.md,
"Pharmacogenomics"); the matcher reads them back with :func:`definition_from_json` and
:func:`table_from_json`. Reading back gives objects equal to the ones written, so a caller fed from
the graph calls exactly as one fed from the files. ``format`` names this layout; a stored text of
another format is refused (reload the release with this version of kg).

Layout (format 1). A definition: ``gene``, ``chromosome``, ``genomeBuild``, ``version``, ``source``,
``loci`` (``[chrom, position, ref, [alts], rsid]``), ``alleles`` (``name``, ``id``, ``reference``,
``combinations``, ``partials``, ``cells``: ``[[locus index, allele], ...]`` for the non-null cells
only), ``exemption`` (``ignoredPositions``, ``extraPositions`` as loci, ``ignoredAlleles``,
``allHits``) or null. A table: ``gene``, ``source``, ``version``, ``olderSnapshot``, ``functions``,
``activityValues``, ``diplotypes`` (``[diplotype, {allele: copies}, phenotype, lookupKey,
activityScore]`` in the table's order).
"""

from __future__ import annotations

import json
from typing import Any

from kg.pharmcat.alleles import Exemption, GeneDefinition, NamedAllele, VariantLocus
from kg.pharmcat.phenotypes import DiplotypeRecord, GenePhenotypes

FORMAT = 1

#: The source whose releases store them (kg/loaders/pharmcat.py, ``Source {name: "pharmcat"}``).
SOURCE = "pharmcat"


class StoredFormatError(ValueError):
    """A stored definition or table this code cannot read (another format, or damaged)."""


def _locus(locus: VariantLocus) -> list[Any]:
    return [locus.chrom, locus.position, locus.ref, list(locus.alts), locus.rsid]


def _locus_of(raw: list[Any]) -> VariantLocus:
    chrom, position, ref, alts, rsid = raw
    return VariantLocus(str(chrom), int(position), str(ref), tuple(str(a) for a in alts), rsid)


def definition_to_json(definition: GeneDefinition) -> str:
    """One gene's definitions (with its exemption) as compact JSON text."""
    exemption = definition.exemption
    return json.dumps(
        {
            "format": FORMAT,
            "gene": definition.gene,
            "chromosome": definition.chromosome,
            "genomeBuild": definition.genome_build,
            "version": definition.version,
            "source": definition.source,
            "loci": [_locus(locus) for locus in definition.loci],
            "alleles": [
                {
                    "name": a.name,
                    "id": a.id,
                    "reference": a.reference,
                    "combinations": a.num_combinations,
                    "partials": a.num_partials,
                    "cells": [[i, cell] for i, cell in enumerate(a.alleles) if cell is not None],
                }
                for a in definition.named_alleles
            ],
            "exemption": None
            if exemption is None
            else {
                "gene": exemption.gene,
                "ignoredPositions": [_locus(v) for v in exemption.ignored_positions],
                "extraPositions": [_locus(v) for v in exemption.extra_positions],
                "ignoredAlleles": sorted(exemption.ignored_alleles),
                "allHits": exemption.all_hits,
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _parse(text: str, what: str) -> dict[str, Any]:
    try:
        raw = json.loads(text)
    except (TypeError, json.JSONDecodeError) as err:
        raise StoredFormatError(f"stored {what}: not JSON ({err})") from err
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise StoredFormatError(
            f"stored {what}: expected format {FORMAT}, found {found!r} "
            "(reload the pharmcat release with this version of kg)"
        )
    return raw


def definition_from_json(text: str) -> GeneDefinition:
    """The :class:`GeneDefinition` :func:`definition_to_json` wrote."""
    raw = _parse(text, "allele definition")
    try:
        loci = tuple(_locus_of(v) for v in raw["loci"])
        alleles = []
        for a in raw["alleles"]:
            cells: list[str | None] = [None] * len(loci)
            for i, cell in a["cells"]:
                cells[i] = cell
            alleles.append(
                NamedAllele(
                    name=a["name"],
                    id=a["id"],
                    alleles=tuple(cells),
                    reference=bool(a["reference"]),
                    num_combinations=int(a["combinations"]),
                    num_partials=int(a["partials"]),
                )
            )
        ex = raw["exemption"]
        exemption = (
            None
            if ex is None
            else Exemption(
                gene=ex["gene"],
                ignored_positions=tuple(_locus_of(v) for v in ex["ignoredPositions"]),
                extra_positions=tuple(_locus_of(v) for v in ex["extraPositions"]),
                ignored_alleles=frozenset(ex["ignoredAlleles"]),
                all_hits=ex["allHits"],
            )
        )
        return GeneDefinition(
            gene=raw["gene"],
            chromosome=raw["chromosome"],
            genome_build=raw["genomeBuild"],
            version=raw["version"],
            source=raw["source"],
            loci=loci,
            named_alleles=tuple(alleles),
            exemption=exemption,
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise StoredFormatError(f"stored allele definition of {raw.get('gene')!r}: {err!r}") from err


def table_to_json(table: GenePhenotypes) -> str:
    """One gene's table from one source as compact JSON text."""
    return json.dumps(
        {
            "format": FORMAT,
            "gene": table.gene,
            "source": table.source,
            "version": table.version,
            "olderSnapshot": table.older_snapshot,
            "functions": dict(table.functions),
            "activityValues": dict(table.activity_values),
            "diplotypes": [
                [r.diplotype, dict(r.alleles), r.phenotype, r.lookup_key, r.activity_score]
                for r in table.diplotypes.values()
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def table_from_json(text: str) -> GenePhenotypes:
    """The :class:`GenePhenotypes` :func:`table_to_json` wrote."""
    raw = _parse(text, "phenotype table")
    try:
        records: dict[frozenset[tuple[str, int]], DiplotypeRecord] = {}
        for diplotype, counts, phenotype, lookup_key, score in raw["diplotypes"]:  # JSON: str keys, int counts
            records[frozenset(counts.items())] = DiplotypeRecord(diplotype, counts, phenotype, lookup_key, score)
        return GenePhenotypes(
            gene=raw["gene"],
            source=raw["source"],
            version=raw["version"],
            functions=dict(raw["functions"]),
            activity_values=dict(raw["activityValues"]),
            diplotypes=records,
            older_snapshot=bool(raw["olderSnapshot"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise StoredFormatError(f"stored phenotype table of {raw.get('gene')!r}: {err!r}") from err

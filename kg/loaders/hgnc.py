"""HGNC complete gene set -> ``Gene`` nodes and ``GeneAlias`` look-ups.

Format (genenames.org "complete set", ``hgnc_complete_set*.txt[.gz]``): tab-separated, one header
row, 54 columns in the 2024 releases; multi-valued cells are double-quoted and ``|``-separated
(``"BRAF1|BRAF-1"``). The complete set lists Approved genes only; withdrawn symbols live in a
separate HGNC file and are resolved here through ``prev_symbol``. Rows whose ``status`` is
``Entry Withdrawn`` or ``Symbol Withdrawn`` (older or other HGNC exports) are skipped; any other
status is a format error.

Written with kg.loaders.statements.GENES: ``Gene {symbol}`` with name, hgncId, ncbiGeneId (the
Entrez id, as text), ensemblId, location (cytoband), locusType, aliases, previousSymbols, and
``(GeneAlias {name: lowercased})-[:ALIAS_OF {kind: previous|alias}]->(Gene)``, which
kg.queries.resolve.resolve_gene reads.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.loaders import statements
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import LoadReport, SourceRelease, Stage, load_release
from kg.loaders.sourcefile import checked_first, date_in, find_release_file, open_text, read_errors

SOURCE = "hgnc"
LICENCE = "CC0 (HGNC, genenames.org; please cite HGNC)"
URL = "https://www.genenames.org/download/archive/"

REQUIRED = (
    "hgnc_id",
    "symbol",
    "name",
    "locus_type",
    "status",
    "location",
    "alias_symbol",
    "prev_symbol",
    "entrez_id",
    "ensembl_gene_id",
    "date_modified",
)
APPROVED = "Approved"
WITHDRAWN = ("Entry Withdrawn", "Symbol Withdrawn")

_HGNC_ID = re.compile(r"^HGNC:\d+$")
_ENTREZ = re.compile(r"^\d+$")


def find_file(path: Path) -> Path:
    return find_release_file(path, ("hgnc_complete_set*.txt.gz", "hgnc_complete_set*.txt", "hgnc_complete_set*.tsv"))


def _values(cell: str) -> list[str]:
    """A multi-valued cell (``BRAF1|BRAF-1``, quotes already removed by csv) as a list, order kept."""
    out: list[str] = []
    for value in cell.split("|"):
        value = value.strip()
        if value and value not in out:
            out.append(value)
    return out


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, header -> cell) for every row, each checked for the header's column count."""
    handle = open_text(path)
    reader = csv.reader(handle, delimiter="\t", quotechar='"')
    with handle, read_errors(path, lambda: reader.line_num + 1):
        header = next(reader, None)
        if header is None:
            raise SourceFormatError(path, 1, "an HGNC header row", "an empty file")
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            raise SourceFormatError(
                path,
                1,
                f"an HGNC complete-set header with {', '.join(REQUIRED)}",
                f"no {', '.join(missing)} in {chr(9).join(header)[:160]}",
            )
        width = len(header)
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                raise SourceFormatError(
                    path,
                    reader.line_num,
                    f"{width} tab-separated columns",
                    f"{len(row)} columns: {chr(9).join(row)[:160]}",
                )
            yield reader.line_num, dict(zip(header, row, strict=True))


def gene_row(cells: dict[str, str], path: Path, line: int) -> dict[str, Any]:
    """One Approved gene as the row kg.loaders.statements.GENES reads."""
    symbol = cells["symbol"].strip()
    hgnc_id = cells["hgnc_id"].strip()
    entrez = cells["entrez_id"].strip()
    if not symbol:
        raise SourceFormatError(path, line, "a symbol", "an empty symbol cell")
    if not _HGNC_ID.match(hgnc_id):
        raise SourceFormatError(path, line, "an hgnc_id like HGNC:1097", hgnc_id)
    if entrez and not _ENTREZ.match(entrez):
        raise SourceFormatError(path, line, "a numeric entrez_id", entrez)
    return {
        "symbol": symbol,
        "name": cells["name"].strip() or None,
        "hgncId": hgnc_id,
        "ncbiGeneId": entrez or None,
        "ensemblId": cells["ensembl_gene_id"].strip() or None,
        "location": cells["location"].strip() or None,
        "locusType": cells["locus_type"].strip() or None,
        "aliases": _values(cells["alias_symbol"]),
        "previousSymbols": _values(cells["prev_symbol"]),
    }


def read_genes(path: Path) -> Iterator[dict[str, Any]]:
    """Approved genes of an HGNC complete set, streamed; withdrawn entries skipped."""
    seen: set[str] = set()
    for line, cells in read_rows(path):
        status = cells["status"].strip()
        if status in WITHDRAWN:
            continue
        if status != APPROVED:
            raise SourceFormatError(path, line, f"status {APPROVED} or {' / '.join(WITHDRAWN)}", status)
        gene = gene_row(cells, path, line)
        if gene["symbol"] in seen:
            raise SourceFormatError(path, line, "each approved symbol once", f"{gene['symbol']} again")
        seen.add(gene["symbol"])
        yield gene


def release_version(path: Path) -> str:
    """The date in the file name (``hgnc_complete_set_2024-10.txt.gz`` -> ``2024-10``); an undated
    file is named by its newest ``date_modified``."""
    if found := date_in(path.name):
        return found
    newest = max((cells["date_modified"] for _, cells in read_rows(path)), default="")
    if not newest:
        raise SourceFormatError(path, None, "a dated file name or date_modified values", path.name)
    return newest


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    """Load the HGNC complete set at ``path`` (the genes folder or the file)."""
    file = find_file(Path(path))
    release = SourceRelease(SOURCE, version or release_version(file), LICENCE, (file,), URL)
    stage = Stage("genes", statements.GENES, lambda: checked_first(lambda: read_genes(file)), batch_size=2000)
    return load_release(graph, release, [stage], progress=progress)

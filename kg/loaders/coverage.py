"""What part of the genome a source release covers (``Source.coverage``), and which evidence lies inside it.

Real releases are often subsets: ClinVar 2024-06-01 here is a gene-panel extract, ClinVar 2026-02-26 a
set of genomic windows. A newer release of a source supersedes an older one only inside the newer
one's coverage (kg/loaders/release.py), so the coverage is recorded on its Source as text:

* ``'all'`` -- the whole source (the default; a newer such release makes the older Source
  ``superseded``);
* ``{"genes": ["ATM", ...]}`` -- HGNC symbols (JSON text);
* ``{"regions": ["13:32315212-32399625", ...]}`` -- GRCh38, 1-based inclusive, chromosome without
  ``chr`` (JSON text).

Taken from the file by the loader (the 2024 extract: its gene symbols; the 2026 VCF: the windows its
records fall in, :class:`Windows`), or declared with ``kg load SOURCE PATH --coverage
all|genes:A,B|regions:FILE.bed`` (:func:`declared`).

Evidence is *inside* a coverage when something it is ABOUT is: a Variant (directly, or one a
MolecularProfile it is about INCLUDES) whose position lies in a region or whose gene (``Variant.gene``
or IN_GENE) is listed, or a listed Gene itself. The Cypher starts from the coverage (the
``Variant.pos`` / ``Variant.gene`` / ``Gene.symbol`` indexes) and reaches only that release's evidence
there, so marking is proportional to the covered part of the graph, never a scan of the source.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.loaders.errors import SourceFormatError

ALL = "all"

#: Two records of one chromosome farther apart than this start a new window. In the ClinVar 2026-02-26
#: file the largest gap between consecutive records of one extracted region is 24.8 kb (chr11, between
#: NPAT and ATM; APC intron 1: 15.2 kb), while regions lie megabases apart: 50 kb gives its 11 windows
#: (one per region of clinvar/SOURCES.md, e.g. 16:23614613-23635190 for PALB2, 3:37035121-37091508 for
#: MLH1, 11:108094378-108236172 for the ATM 5' end and its neighbours); 10 kb would cut APC in two.
WINDOW_GAP = 50_000


@dataclass(frozen=True)
class Region:
    chrom: str  # without "chr"
    start: int  # 1-based, inclusive
    end: int

    def __str__(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"

    @classmethod
    def parse(cls, text: str) -> Region:
        match = re.fullmatch(r"(?:chr)?([0-9XYMT]+):(\d+)-(\d+)", text.strip())
        if not match or int(match.group(2)) > int(match.group(3)):
            raise ValueError(f"expected a region CHROM:START-END, found {text!r}")
        return cls(match.group(1), int(match.group(2)), int(match.group(3)))


def genes(symbols: set[str] | list[str]) -> str:
    """The coverage text of a gene list."""
    return json.dumps({"genes": sorted(set(symbols))})


def regions(found: list[Region]) -> str:
    """The coverage text of a list of regions."""
    return json.dumps({"regions": [str(r) for r in found]})


class Windows:
    """The windows a release's records fall in: records of one chromosome closer than ``gap`` bases
    join one window. Records are added in file order (a VCF is sorted by chromosome and position; an
    out-of-order record still widens the window it falls near)."""

    def __init__(self, gap: int = WINDOW_GAP) -> None:
        self.gap = gap
        self._spans: dict[str, list[list[int]]] = {}

    def add(self, chrom: str, start: int, end: int) -> None:
        spans = self._spans.setdefault(chrom.removeprefix("chr"), [])
        if spans and start - spans[-1][1] <= self.gap and end >= spans[-1][0] - self.gap:
            spans[-1][0] = min(spans[-1][0], start)
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])

    def regions(self) -> list[Region]:
        out: list[Region] = []
        for chrom, spans in self._spans.items():
            merged: list[list[int]] = []
            for start, end in sorted(spans):
                if merged and start - merged[-1][1] <= self.gap:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            out += [Region(chrom, s, e) for s, e in merged]
        return out

    def text(self) -> str:
        return regions(self.regions())


def declared(spec: str) -> str:
    """``kg load --coverage``: ``all``, ``genes:BRCA1,BRCA2`` or ``regions:FILE.bed`` -> coverage text."""
    kind, _, value = spec.partition(":")
    if spec == ALL:
        return ALL
    if kind == "genes" and value:
        symbols = [s.strip() for s in value.split(",") if s.strip()]
        if symbols:
            return genes(symbols)
    if kind == "regions" and value:
        return regions(read_bed(Path(value)))
    raise ValueError(f"--coverage: expected all, genes:A,B or regions:FILE.bed, found {spec!r}")


def read_bed(path: Path) -> list[Region]:
    """BED intervals (0-based, half-open: UCSC's definition) as 1-based inclusive regions."""
    found: list[Region] = []
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise SourceFormatError(path, None, "a readable BED file", str(err)) from err
    for lineno, line in enumerate(lines, 1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        cells = line.split("\t") if "\t" in line else line.split()
        if len(cells) < 3 or not cells[1].isdigit() or not cells[2].isdigit() or int(cells[1]) >= int(cells[2]):
            raise SourceFormatError(path, lineno, "CHROM<tab>START<tab>END with START < END", line[:80])
        found.append(Region(cells[0].removeprefix("chr"), int(cells[1]) + 1, int(cells[2])))
    if not found:
        raise SourceFormatError(path, None, "at least one BED interval", "none")
    return found


def parsed(text: str | None) -> dict[str, Any]:
    """Coverage text -> ``{"all": True}`` | ``{"genes": [...]}`` | ``{"regions": [{chrom, start, end}]}``
    (chrom as Variant.chrom spells it: ``chr13``), the parameters of :func:`inside`."""
    if not text or text == ALL:
        return {"all": True}
    value = json.loads(text)
    if "genes" in value:
        return {"genes": list(value["genes"])}
    return {
        "regions": [
            {"chrom": "chr" + r.chrom, "start": r.start, "end": r.end} for r in map(Region.parse, value["regions"])
        ]
    }


# The Evidence of release $older inside a coverage (parameters from ``parsed``), bound to ``e``, each
# once. Starts from the covered Variants (pos range index) or Genes (symbol / Variant.gene indexes).
_INSIDE_REGIONS = """
UNWIND $regions AS w
MATCH (v:Variant) WHERE v.pos >= w.start AND v.pos <= w.end AND v.chrom = w.chrom
MATCH (v)<-[:INCLUDES*0..1]-()<-[:ABOUT]-(e:Evidence)-[:ASSERTED_BY]->(:Source {key: $older})
WITH DISTINCT e
"""

_INSIDE_GENES = """
UNWIND $genes AS symbol
CALL (symbol) {
  MATCH (t:Variant {gene: symbol}) RETURN t
  UNION
  MATCH (:Gene {symbol: symbol})<-[:IN_GENE]-(t:Variant) RETURN t
  UNION
  MATCH (t:Gene {symbol: symbol}) RETURN t
}
MATCH (t)<-[:INCLUDES*0..1]-()<-[:ABOUT]-(e:Evidence)-[:ASSERTED_BY]->(:Source {key: $older})
WITH DISTINCT e
"""


def inside(coverage: dict[str, Any]) -> str:
    """The Cypher binding ``e`` to each Evidence of ``$older`` inside ``coverage`` (not for ``all``)."""
    if "regions" in coverage:
        return _INSIDE_REGIONS
    if "genes" in coverage:
        return _INSIDE_GENES
    raise ValueError("coverage 'all' holds everything: no evidence query needed")

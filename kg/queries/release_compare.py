"""Two releases of one source compared allele by allele (``kg releases compare OLDER NEWER``).

For ClinVar's two releases (``clinvar@2024-06-01``, the column extract, and ``clinvar@2026-02-26``, the
VCF): how many alleles (Variants) both classify, and how many of those changed classification, grouped
the way a report reads them -- P/LP, VUS, B/LB, conflicting, other (drug response, risk factor, no
classification). An allele is shared when pathogenicity Evidence of each release is ABOUT it; the walk
starts from the older release's Source (its ASSERTED_BY edges), never from the whole store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kg.db import Graph

GROUPS = ("P/LP", "VUS", "B/LB", "conflicting", "other")
_GROUP = {
    "pathogenic": "P/LP",
    "likely pathogenic": "P/LP",
    "uncertain significance": "VUS",
    "likely benign": "B/LB",
    "benign": "B/LB",
    "conflicting": "conflicting",
}

SHARED = """
MATCH (:Source {key: $older})<-[:ASSERTED_BY]-(a:Evidence {type: 'pathogenicity'})-[:ABOUT]->(v:Variant)
MATCH (v)<-[:ABOUT]-(b:Evidence {type: 'pathogenicity'})-[:ASSERTED_BY]->(:Source {key: $newer})
RETURN a.classification AS old, b.classification AS new,
       $newer IN coalesce(a.supersededBy, []) AS superseded, count(DISTINCT v) AS alleles
"""


def group(classification: str | None) -> str:
    """The report group of an Evidence.classification (kg.loaders.clinvar_fields.CLASSIFICATIONS)."""
    return _GROUP.get(classification or "", "other")


@dataclass
class Comparison:
    older: str
    newer: str
    shared: int = 0  # alleles both releases classify
    superseded: int = 0  # of those, alleles whose older evidence the newer release supersedes
    changed: int = 0  # shared alleles whose group changed
    reclassified: int = 0  # shared alleles whose classification changed at all (P -> LP too)
    by_change: Counter[tuple[str, str]] = field(default_factory=Counter)  # (old group, new group) -> alleles

    def lines(self) -> list[str]:
        out = [
            f"{self.older} -> {self.newer}: {self.shared:,} alleles classified by both "
            f"({self.superseded:,} of them superseded inside {self.newer}'s coverage)",
            f"  classification changed for {self.reclassified:,}; group changed for {self.changed:,}:",
        ]
        for (old, new), n in sorted(self.by_change.items(), key=lambda item: (-item[1], item[0])):
            out.append(f"    {old:>11} -> {new:<11} {n:,}")
        return out


def compare(graph: Graph, older: str, newer: str) -> Comparison:
    """Alleles ``older`` and ``newer`` both classify and how their classification changed."""
    known = {
        r["key"] for r in graph.read("MATCH (s:Source) WHERE s.key IN [$a, $b] RETURN s.key AS key", a=older, b=newer)
    }
    missing = [k for k in (older, newer) if k not in known]
    if missing:
        raise LookupError(f"no release {', '.join(missing)}")
    result = Comparison(older, newer)
    for row in graph.read(SHARED, older=older, newer=newer):
        n = int(row["alleles"])
        result.shared += n
        result.superseded += n if row["superseded"] else 0
        if row["old"] != row["new"]:
            result.reclassified += n
        old, new = group(row["old"]), group(row["new"])
        if old != new:
            result.changed += n
            result.by_change[(old, new)] += n
    return result

"""New knowledge about alleles patients already carry (issue 8): the call store meets a release.

The matcher keeps each patient's non-reference calls that no exact knowledge Variant matched as
``(:Patient)-[:CALLED {call}]->(:ObservedAllele {id})`` (kg/matcher/calls.py, kg.queries.patients).
When a release is activated, :func:`link_known_alleles` turns those calls into
``(:Patient)-[:HAS_VARIANT]->(:Variant)`` links for every Variant the release asserts
(``ASSERTED_BY`` its Source) that some patient calls, with the properties the matcher writes
(zygosity, genotype, depth, sample, filter, quality, callOrigin, matchLevel, observed,
matchReason) plus ``linkedBy`` (the release key) and ``linkedAt``. The matcher's exact rules
(kg/matcher/levels.py, rule 1): the allele id is the Variant's id, or one of the Variant's
representative ``alleleIds`` (CIViC); a CIViC Variant that needs a homozygous call
(``zygosity: homozygous``) is linked only to a homozygous or hemizygous call. A call linked to the
Variant of its own id leaves the store (its edge removed, the ObservedAllele too when no other
patient calls it); a representative-allele link keeps it, as the matcher does, since a later
release may add the exact allele. Protein-, codon- and gene-level CIViC Variants are not linked
here (the matcher's levels need the knowledge in memory); the CALLED edge keeps the annotation's
gene, protein change and consequences for that.

Cost: the release's Variants or the ObservedAlleles, whichever are fewer (counted first: the
Source's ASSERTED_BY degree and the label count, both O(1)), each side by index seeks on the
other's key (a ``WITH DISTINCT`` after the chosen side keeps the planner from starting elsewhere); representative alleles from the CIViC Variants (a prefix seek on ``Variant.id``).
No-calls have no CALLED edge, so a no-call is never linked. One audit record per patient linked
(kg.access.audit; who ``load:<release key>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.access.audit import AuditLog
from kg.access.roles import Identity, Role
from kg.access.settings import AuthSettings
from kg.db import Graph

COUNTS = """
MATCH (s:Source {key: $release})
RETURN COUNT { (s)<-[:ASSERTED_BY]-() } AS asserted, COUNT { (:ObservedAllele) } AS observed
"""

#: What one link writes; ``c`` the CALLED edge, ``o`` its ObservedAllele, ``v`` the Variant.
_LINK = """
  WHERE (v.zygosity IS NULL OR v.zygosity <> 'homozygous' OR c.zygosity IN ['homozygous', 'hemizygous'])
    AND NOT EXISTS { (p)-[:HAS_VARIANT {observed: o.id}]->(v) }
  CREATE (p)-[r:HAS_VARIANT]->(v)
  SET r = c {.zygosity, .genotype, .depth, .sample, .filter, .quality, .callOrigin},
      r.matchLevel = 'exact', r.observed = o.id, r.matchReason = reason,
      r.linkedBy = $release, r.linkedAt = datetime()
  WITH p, c, o, v, reason
  CALL (c, o, v) {
    WITH c, o, v WHERE v.id = o.id
    DELETE c
  }
  RETURN p.id AS patient, v.id AS variant, o.id AS observed
"""

#: From the release's side: its Variants (ASSERTED_BY), each a key seek on ObservedAllele.
FROM_RELEASE = f"""
MATCH (:Source {{key: $release}})<-[:ASSERTED_BY]-(v:Variant)
WITH DISTINCT v
MATCH (o:ObservedAllele {{id: v.id}})<-[c:CALLED]-(p:Patient)
WITH p, c, o, v, 'same normalised allele' AS reason
{_LINK}
"""

#: From the patients' side: every ObservedAllele, a key seek on Variant, then whether the release
#: asserts it (the Variant's few ASSERTED_BY edges).
FROM_CALLS = f"""
MATCH (o:ObservedAllele)
MATCH (v:Variant {{id: o.id}})
WHERE EXISTS {{ (v)-[:ASSERTED_BY]->(:Source {{key: $release}}) }}
WITH DISTINCT o, v
MATCH (o)<-[c:CALLED]-(p:Patient)
WITH p, c, o, v, 'same normalised allele' AS reason
{_LINK}
"""

#: Representative alleles: the release's CIViC Variants that list some (a prefix seek on the id
#: index), each allele a key seek on ObservedAllele.
REPRESENTATIVE = f"""
MATCH (v:Variant)
WHERE v.id STARTS WITH 'civic:' AND v.alleleIds IS NOT NULL
  AND EXISTS {{ (v)-[:ASSERTED_BY]->(:Source {{key: $release}}) }}
UNWIND v.alleleIds AS allele
WITH DISTINCT v, allele
MATCH (o:ObservedAllele {{id: allele}})<-[c:CALLED]-(p:Patient)
WITH p, c, o, v, 'a representative allele of this variant' AS reason
{_LINK}
"""

#: ObservedAlleles whose last CALLED edge a link removed.
DROP_ORPHANS = """
UNWIND $ids AS id
MATCH (o:ObservedAllele {id: id})
WHERE NOT EXISTS { (o)<-[:CALLED]-() }
DELETE o
"""

#: The Patient's count of stored calls after links took some out of the store.
RECOUNT = """
UNWIND $patients AS id
MATCH (p:Patient {id: id})
SET p.callsStored = COUNT { (p)-[:CALLED]->() }
"""


@dataclass
class LinkResult:
    """What one release linked: HAS_VARIANT links made, per patient, and which side was walked."""

    release: str
    links: int = 0
    patients: dict[str, list[str]] = field(default_factory=dict)  # patient -> Variant ids linked
    side: str = ""  # release | calls | none


def link_alleles(graph: Graph, release_key: str) -> LinkResult:
    """Link the patients' stored calls to the Variants ``release_key`` asserts (module docstring);
    one write transaction per statement, each safe to repeat (a link made is not made again)."""
    result = LinkResult(release_key)
    counts = graph.read(COUNTS, release=release_key)
    if not counts or not counts[0]["observed"]:
        result.side = "none"
        return result
    result.side = "release" if counts[0]["asserted"] <= counts[0]["observed"] else "calls"
    rows = graph.write(FROM_RELEASE if result.side == "release" else FROM_CALLS, release=release_key)
    rows += graph.write(REPRESENTATIVE, release=release_key)
    for row in rows:
        result.patients.setdefault(row["patient"], []).append(row["variant"])
    result.links = len(rows)
    if rows:
        graph.write(DROP_ORPHANS, ids=sorted({row["observed"] for row in rows}))
        graph.write(RECOUNT, patients=sorted(result.patients))
    return result


def link_known_alleles(graph: Graph, release_key: str) -> int:
    """After ``release_key`` is activated: link what it adds to the patients who carry it; returns
    how many patients were linked. Writes one audit record per patient (who ``load:<key>``)."""
    result = link_alleles(graph, release_key)
    if result.patients:
        audit = AuditLog(AuthSettings.from_env(graph.settings).audit_log)
        loader = Identity(subject=f"load:{release_key}", role=Role.ADMIN, method="load")
        for patient, variants in sorted(result.patients.items()):
            audit.append(
                loader,
                "linkKnownAlleles",
                patients=[patient],
                detail={"release": release_key, "variants": sorted(variants)},
            )
    return len(result.patients)

"""Synthetic matched patients carrying real ClinVar alleles, written in bulk (benchmarks only).

    from bench.synthetic_patients import add_patients, remove_patients
    ids = add_patients(graph, 10_000, release="clinvar@2024-06-01", per_patient=300)

Each patient carries ``per_patient`` distinct alleles drawn from the Variants a loaded release
classifies (``release``: its ASSERTED_BY evidence of type pathogenicity), in realistic proportions
rather than uniformly: a person's ClinVar-listed alleles are mostly benign or likely benign, a fifth
uncertain, a few conflicting and at most a handful pathogenic (``MIX``; most people carry none or one
P/LP allele of the ACMG genes). Zygosity: 70 % heterozygous. The links are the matcher's: a Patient
``{assembly: 'GRCh38', sample, vcf, origin: 'germline', ...}`` and ``HAS_VARIANT`` with the
properties of kg.matcher.match ``_variant_row`` (zygosity, genotype, sample, matchLevel ``exact``,
observed, callOrigin ``germline``), written ``UNWIND`` many patients per transaction instead of one
``store_matches`` per VCF (the matcher writes one VCF at a time; a benchmark needs ten thousand).
Patients get ``synthetic: true`` and ids ``<prefix><n>``, so ``remove_patients`` finds them again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from kg.db import Graph

#: class bucket -> share of a patient's alleles (the rest of each bucket's weight goes to benign).
MIX: dict[str, float] = {"benign": 0.75, "uncertain": 0.20, "conflicting": 0.045, "pathogenic": 0.005}

BUCKET_OF = {
    "benign": "benign",
    "likely benign": "benign",
    "benign/likely benign": "benign",
    "uncertain significance": "uncertain",
    "conflicting classifications of pathogenicity": "conflicting",
    "conflicting interpretations of pathogenicity": "conflicting",
    "conflicting": "conflicting",
    "pathogenic": "pathogenic",
    "likely pathogenic": "pathogenic",
    "pathogenic/likely pathogenic": "pathogenic",
}

RELEASE_ALLELES = """
MATCH (:Source {key: $release})<-[:ASSERTED_BY]-(e:Evidence)-[:ABOUT]->(v:Variant)
WHERE e.type = 'pathogenicity' AND v.kind = 'exact'
RETURN v.id AS id, toLower(coalesce(e.classification, e.significance, '')) AS significance
"""

WRITE_PATIENTS = """
UNWIND $patients AS pt
MERGE (p:Patient {id: pt.id})
SET p.assembly = 'GRCh38', p.sample = pt.sample, p.vcf = pt.vcf, p.matchedAt = datetime(),
    p.origin = 'germline', p.originSource = 'default', p.synthetic = true
WITH p, pt
UNWIND pt.variants AS row
MATCH (v:Variant {id: row.variant})
CREATE (p)-[r:HAS_VARIANT]->(v)
SET r = row.props
"""

REMOVE_PATIENTS = """
MATCH (p:Patient) WHERE p.id STARTS WITH $prefix AND p.synthetic
WITH p LIMIT 200
OPTIONAL MATCH (p)-[:HAS_CHANGE]->(c:Change)
DETACH DELETE c
WITH DISTINCT p
DETACH DELETE p
RETURN count(p) AS n
"""


def allele_pool(graph: Graph, release: str) -> dict[str, list[str]]:
    """The release's classified exact alleles, by class bucket (``MIX``'s keys)."""
    pool: dict[str, set[str]] = {bucket: set() for bucket in MIX}
    for row in graph.read(RELEASE_ALLELES, release=release):
        bucket = BUCKET_OF.get(row["significance"], "uncertain" if "uncertain" in row["significance"] else None)
        if bucket:
            pool[bucket].add(row["id"])
    if not any(pool.values()):
        raise ValueError(f"{release}: no classified alleles in the graph (load it first)")
    return {bucket: sorted(ids) for bucket, ids in pool.items()}


def _patient_alleles(pool: dict[str, list[str]], per_patient: int, rng: random.Random) -> list[str]:
    chosen: set[str] = set()
    for bucket, share in MIX.items():
        ids = pool[bucket]
        k = min(len(ids), int(rng.random() < (per_patient * share) % 1) + int(per_patient * share))
        chosen.update(rng.sample(ids, k) if k else [])
    return sorted(chosen)


def _rows(pool: dict[str, list[str]], n: int, per_patient: int, prefix: str, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(n):
        pid = f"{prefix}{i:06d}"
        sample = f"S{i:06d}"
        variants = []
        for allele in _patient_alleles(pool, per_patient, rng):
            homozygous = rng.random() < 0.3
            variants.append(
                {
                    "variant": allele,
                    "props": {
                        "zygosity": "homozygous" if homozygous else "heterozygous",
                        "genotype": "1/1" if homozygous else "0/1",
                        "sample": sample,
                        "matchLevel": "exact",
                        "observed": allele,
                        "callOrigin": "germline",
                    },
                }
            )
        yield {"id": pid, "sample": sample, "vcf": f"{pid}.vcf.gz", "variants": variants}


def add_patients(
    graph: Graph,
    n: int,
    *,
    release: str,
    per_patient: int = 300,
    prefix: str = "synthetic-",
    seed: int = 8,
    batch: int = 40,
) -> tuple[list[str], int, float]:
    """Write ``n`` synthetic patients; returns (their ids, HAS_VARIANT links written, seconds)."""
    began = time.monotonic()
    pool = allele_pool(graph, release)
    ids: list[str] = []
    links = 0
    chunk: list[dict[str, Any]] = []
    for row in _rows(pool, n, per_patient, prefix, seed):
        chunk.append(row)
        ids.append(row["id"])
        links += len(row["variants"])
        if len(chunk) == batch:
            graph.write(WRITE_PATIENTS, patients=chunk)
            chunk = []
    if chunk:
        graph.write(WRITE_PATIENTS, patients=chunk)
    return ids, links, time.monotonic() - began


def remove_patients(graph: Graph, prefix: str = "synthetic-") -> int:
    """Delete the synthetic patients of ``prefix`` (and their Change nodes); returns how many."""
    removed = 0
    while n := graph.write(REMOVE_PATIENTS, prefix=prefix)[0]["n"]:
        removed += n
    return removed

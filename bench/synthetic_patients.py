"""Synthetic matched patients carrying real ClinVar alleles, written in bulk (benchmarks only).

    from bench.synthetic_patients import add_patients, remove_patients
    ids = add_patients(graph, 10_000, release="clinvar@2024-06-01", per_patient=300)
    pgx = pgx_calls(graph, "pgxpanel")          # star-allele calls, cloned from a matched patient
    ids = add_patients(graph, 90_000, release=[...], pgx=pgx, start=10_000)  # grow to 100,000

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
``release`` may name several releases (their pools are merged); ``start`` numbers a further batch after
earlier ones (``<prefix><start>`` on), so a benchmark can grow a cohort step by step.

**Star-allele calls** (``pgx``, from :func:`pgx_calls`): the HAS_DIPLOTYPE links of a patient the real
matcher matched (bench/bench_api.py's ``pgxpanel``: every PGx gene called) are the template, so every
property and every gene's shape (outside calls, ``No Result``, DPYD's haplotype list, HLA results) is the
matcher's. Each synthetic patient gets, per gene, the template's call (half of the patients) or a diplotype
drawn uniformly from the gene's ``Diplotype`` nodes of the loaded PharmCAT tables, linked as the matcher links
a called diplotype (kg/matcher/pharmacogenomics.py): one edge per distinct Phenotype of its ``HAS_PHENOTYPE``
edges, with ``guideline`` when only one of the gene's guidelines gives it, and the DPWG diplotype-keyed
Phenotype (``lookup: 'diplotype'``) too. Genes whose template call is not a plain VCF or outside call (DPYD's
haplotype list, ``No Result``, HLA) keep the template's links.
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
CALL (p, pt) {
  UNWIND pt.diplotypes AS call
  MATCH (ph:Phenotype {id: call.phenotype})
  CREATE (p)-[h:HAS_DIPLOTYPE]->(ph)
  SET h = call.props
}
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


PGX_TEMPLATE = """
MATCH (:Patient {id: $id})-[h:HAS_DIPLOTYPE]->(ph:Phenotype)
RETURN coalesce(h.gene, ph.gene) AS gene, ph.id AS phenotype, properties(h) AS props
ORDER BY gene, phenotype
"""

GENE_DIPLOTYPES = """
MATCH (d:Diplotype {gene: $gene})-[hp:HAS_PHENOTYPE]->(ph:Phenotype)
WITH d, collect({phenotype: ph.id, guideline: hp.guideline, activityScore: hp.activityScore,
                 keyed: ph.diplotypeKey IS NOT NULL}) AS links
RETURN d.diplotype AS diplotype, links ORDER BY diplotype
"""

#: template statuses whose gene gets drawn diplotypes (the others keep the template's links)
VARIED_STATUS = {"called", "ambiguous", "outside call"}

Call = dict[str, Any]  # {"phenotype": Phenotype id, "props": HAS_DIPLOTYPE properties}


def _diplotype_links(gene: str, diplotype: str, links: list[dict[str, Any]], base: dict[str, Any]) -> list[Call]:
    """The HAS_DIPLOTYPE links the matcher writes for a called ``diplotype`` (module docstring)."""
    guidelines = {x["guideline"] for x in links if not x["keyed"] and x["guideline"]}
    by_phenotype: dict[str, set[str]] = {}
    scores: dict[str, str] = {}
    keyed: list[str] = []
    for x in links:
        if x["keyed"]:
            keyed.append(x["phenotype"])
            continue
        by_phenotype.setdefault(x["phenotype"], set()).add(x["guideline"] or "")
        if x["activityScore"] is not None:
            scores[x["phenotype"]] = str(x["activityScore"])
    props = {k: v for k, v in base.items() if k not in ("candidates", "missingPositions", "warnings", "guideline")}
    props.update(gene=gene, diplotype=diplotype, call=diplotype, ambiguous=False, lookup="phenotype")
    props["status"] = "outside call" if base.get("source") == "outside call" else "called"
    out: list[Call] = []
    for phenotype, sources in sorted(by_phenotype.items()):
        row = dict(props)
        row.pop("activityScore", None)
        if phenotype in scores:
            row["activityScore"] = scores[phenotype]
        if sources != guidelines and len(sources) == 1 and "" not in sources:
            row["guideline"] = next(iter(sources))
        out.append({"phenotype": phenotype, "props": row})
    for phenotype in sorted(set(keyed)):
        row = {k: v for k, v in props.items() if k != "activityScore"}
        row.update(guideline="DPWG", lookup="diplotype")
        out.append({"phenotype": phenotype, "props": row})
    return out


def pgx_calls(graph: Graph, template_patient: str) -> dict[str, tuple[list[Call], list[list[Call]]]]:
    """Per PGx gene of ``template_patient`` (a patient the matcher matched): its own links, and the links of
    every diplotype of the gene's loaded tables (empty when the gene keeps the template's links)."""
    template: dict[str, list[Call]] = {}
    for row in graph.read(PGX_TEMPLATE, id=template_patient):
        template.setdefault(row["gene"], []).append({"phenotype": row["phenotype"], "props": row["props"]})
    if not template:
        raise ValueError(f"{template_patient}: no HAS_DIPLOTYPE links (match a PGx VCF first)")
    out: dict[str, tuple[list[Call], list[list[Call]]]] = {}
    for gene, calls in template.items():
        base = calls[0]["props"]
        drawn: list[list[Call]] = []
        if base.get("status") in VARIED_STATUS:
            for row in graph.read(GENE_DIPLOTYPES, gene=gene):
                links = _diplotype_links(gene, row["diplotype"], row["links"], base)
                if links:
                    drawn.append(links)
        out[gene] = (calls, drawn)
    return out


def _patient_pgx(pgx: dict[str, tuple[list[Call], list[list[Call]]]], rng: random.Random) -> list[Call]:
    calls: list[Call] = []
    for template, drawn in pgx.values():
        calls.extend(rng.choice(drawn) if drawn and rng.random() < 0.5 else template)
    return calls


def allele_pool(graph: Graph, release: str | list[str]) -> dict[str, list[str]]:
    """The release's (or releases') classified exact alleles, by class bucket (``MIX``'s keys)."""
    pool: dict[str, set[str]] = {bucket: set() for bucket in MIX}
    for key in [release] if isinstance(release, str) else release:
        for row in graph.read(RELEASE_ALLELES, release=key):
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


def _rows(
    pool: dict[str, list[str]],
    n: int,
    per_patient: int,
    prefix: str,
    seed: int,
    start: int = 0,
    pgx: dict[str, tuple[list[Call], list[list[Call]]]] | None = None,
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed if start == 0 else seed * 1_000_003 + start)
    for i in range(start, start + n):
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
        diplotypes = _patient_pgx(pgx, rng) if pgx else []
        yield {"id": pid, "sample": sample, "vcf": f"{pid}.vcf.gz", "variants": variants, "diplotypes": diplotypes}


def add_patients(
    graph: Graph,
    n: int,
    *,
    release: str | list[str],
    per_patient: int = 300,
    prefix: str = "synthetic-",
    seed: int = 8,
    batch: int = 40,
    start: int = 0,
    pgx: dict[str, tuple[list[Call], list[list[Call]]]] | None = None,
    pool: dict[str, list[str]] | None = None,
) -> tuple[list[str], int, float]:
    """Write ``n`` synthetic patients (numbered from ``start``), with star-allele calls when ``pgx`` is given
    (:func:`pgx_calls`); returns (their ids, HAS_VARIANT links written, seconds). ``pool``: an
    :func:`allele_pool` already read (else read from ``release``)."""
    began = time.monotonic()
    pool = pool or allele_pool(graph, release)
    ids: list[str] = []
    links = 0
    chunk: list[dict[str, Any]] = []
    for row in _rows(pool, n, per_patient, prefix, seed, start, pgx):
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

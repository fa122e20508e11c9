"""Phase-honest PGx calls on the real PharmCAT v2.10.0 release (issue 14).

The patient is PharmCAT's own positions file (every PharmCAT position, all reference: the release's
``pharmcat_positions.vcf``) with unphased heterozygous genotypes (``0/1``) written at the defining
positions of two DPYD variants (c.1627A>G (*5), c.1905+1G>A (*2A)) and of TPMT *3B and *3C. The
positions and alleles are read from the definition files, the activity values from the CPIC table.

PharmCAT v2.10.0 (docs/methods/Gene-Definition-Exceptions.md, "Unphased data") calls no DPYD
diplotype from such data: it lists the detected haplotypes and scores the two lowest-function ones
(CPIC DPYD guideline, PMID 29152729). Other genes list every diplotype the genotype allows.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.matcher.match import delete_patient, match_patient
from kg.queries.pgx import GeneCallSummary, PgxState, patient_gene_calls, pharmacogenomics

pytestmark = pytest.mark.realdata

PATIENT = "test-pgx-phase-unphased"
DPYD_VARIANTS = ("c.1627A>G (*5)", "c.1905+1G>A (*2A)")
TPMT_ALLELES = ("*3B", "*3C")


def _json(path: Path) -> Any:
    """A release JSON file, as written or gzipped (the release gzips its larger files)."""
    if not path.exists():
        return json.loads(gzip.decompress(path.with_suffix(".json.gz").read_bytes()).decode("utf-8"))
    return json.loads(path.read_text(encoding="utf-8"))


def definition(data_dir: Path, gene: str) -> dict[str, Any]:
    return _json(data_dir / "pgx" / "pharmcat" / "definition" / "alleles" / f"{gene}_translation.json")


def defining_positions(data_dir: Path, gene: str, name: str) -> list[tuple[str, int, str]]:
    """(chrom, position, alt) of each non-null cell of a named allele."""
    d = definition(data_dir, gene)
    (allele,) = [a for a in d["namedAlleles"] if a["name"] == name]
    return [
        (v["chromosome"], v["position"], cell)
        for v, cell in zip(d["variants"], allele["alleles"], strict=True)
        if cell is not None
    ]


@pytest.fixture(scope="module")
def patient(real_data: Graph, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    het: dict[tuple[str, int], str] = {}
    for gene, names in (("DPYD", DPYD_VARIANTS), ("TPMT", TPMT_ALLELES)):
        for name in names:
            for chrom, pos, alt in defining_positions(data_dir, gene, name):
                het[(chrom, pos)] = alt
    lines = []
    changed = 0
    for line in (data_dir / "pgx" / "pharmcat" / "pharmcat_positions.vcf").read_text().splitlines():
        cols = line.split("\t")
        if not line.startswith("#") and (cols[0], int(cols[1])) in het:
            assert het[(cols[0], int(cols[1]))] in cols[4].split(","), line
            cols[4] = het[(cols[0], int(cols[1]))]
            cols[9] = "0/1"
            changed += 1
            line = "\t".join(cols)
        lines.append(line)
    assert changed == len(het)
    vcf = tmp_path_factory.mktemp("pgx_phase") / "unphased.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    yield match_patient(real_data, vcf, patient_id=PATIENT).patient
    delete_patient(real_data, PATIENT)


@pytest.fixture(scope="module")
def calls(real_data: Graph, patient: str) -> dict[str, GeneCallSummary]:
    return patient_gene_calls(real_data, patient)


def test_unphased_dpyd_pair_is_a_haplotype_list_not_a_diplotype(calls: dict[str, GeneCallSummary]) -> None:
    dpyd = calls["DPYD"]
    assert dpyd.diplotype is None
    assert sorted(dpyd.haplotypes) == sorted(DPYD_VARIANTS)
    assert sorted(dpyd.lowest_function_haplotypes) == sorted(DPYD_VARIANTS)
    assert dpyd.status == "haplotype_list"
    assert dpyd.phased is False and dpyd.phase_note and "phase unknown" in dpyd.phase_note


def test_unphased_dpyd_recommendation_uses_the_two_lowest_activity_values(
    real_data: Graph, patient: str, data_dir: Path
) -> None:
    values = _json(data_dir / "pgx" / "pharmcat" / "phenotype" / "cpic" / "DPYD.json")["activityValues"]
    score = sum(float(values[n]) for n in DPYD_VARIANTS)
    (answer,) = [a for a in pharmacogenomics(real_data, patient, "fluorouracil") if a.guideline == "CPIC"]
    assert answer.state == PgxState.RECOMMENDATION
    assert {r.lookup_key["DPYD"] for r in answer.recommendations} == {f"{score:.1f}"}
    (dpyd,) = [c for c in answer.diplotypes if c.gene == "DPYD"]
    assert dpyd.activity_score is not None and float(dpyd.activity_score) == score
    assert dpyd.diplotype is None and sorted(dpyd.haplotypes) == sorted(DPYD_VARIANTS)


def test_unphased_tpmt_lists_every_candidate_and_says_phase_is_unknown(calls: dict[str, GeneCallSummary]) -> None:
    tpmt = calls["TPMT"]
    # *3B + *3C in trans, or both in cis: *3A (PharmCAT's classic phase ambiguity)
    assert tpmt.ambiguous and {"*1/*3A", "*3B/*3C"} <= set(tpmt.candidates)
    assert tpmt.phased is False and tpmt.phase_note and "phase unknown" in tpmt.phase_note
    assert len(tpmt.phenotypes) == 2  # the two candidates differ in phenotype


def test_cftr_reference_call_uses_the_definition_name(
    real_data: Graph, patient: str, calls: dict[str, GeneCallSummary], data_dir: Path
) -> None:
    (reference,) = [a["name"] for a in definition(data_dir, "CFTR")["namedAlleles"] if a["reference"]]
    assert calls["CFTR"].diplotype == f"{reference}/{reference}"
    (answer,) = pharmacogenomics(real_data, patient, "ivacaftor")
    (rec,) = answer.recommendations
    # the recommendation keeps its own name for the result, which is not the allele's
    assert rec.lookup_key["CFTR"] == calls["CFTR"].phenotype != reference
    assert calls["CFTR"].phase_note is None  # all reference: phase cannot matter

"""Every source's germline classification side by side, with disagreements flagged (issue 14).

The combination rule (kg/queries/risk.py ``combine``) on classifications made here; curated
evidence against ClinVar on the seeds through the real curation path (submitted, then accepted);
VHL R167Q and L184P (ClinVar vs CIViC assertions AID4 and AID41) on the real releases.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.matcher.match import delete_patient, match_patient
from kg.queries import curation
from kg.queries.risk import (
    RiskFinding,
    RiskStatus,
    SourceClassification,
    Tier,
    _source_classification,
    clinvar_civic_disagreements,
    combine,
    risks,
)
from tests.test_sample_origin import write_vcf


def _clinvar(eid: str, classification: str, stars: int, source: str = "clinvar", **more: Any) -> SourceClassification:
    e = {
        "id": eid,
        "source": source,
        "type": "pathogenicity",
        "classification": classification,
        "stars": stars,
        "reviewStatus": f"{stars} stars",
    } | more
    return _source_classification({"evidence": e, "diseases": [], "sources": []})


def _civic(aid: str, significance: str, codes: list[str]) -> SourceClassification:
    e = {
        "id": aid,
        "source": "civic",
        "type": "predisposing",
        "direction": "supports",
        "significance": significance,
        "acmgCodes": codes,
        "assertion": True,
    }
    return _source_classification({"evidence": e, "diseases": [], "sources": []})


# --- the rule -------------------------------------------------------------------------------------


def test_agreeing_sources_combine_to_the_weaker_claim_without_conflict() -> None:
    got = combine([_clinvar("clinvar:1", "pathogenic", 2), _civic("civic:AID1", "likely pathogenic", ["PM1"])])
    assert (got.classification, got.tier, got.conflict, got.sides) == ("likely pathogenic", Tier.PATHOGENIC, False, [])


def test_an_expert_curated_assertion_outranks_a_one_star_conflicting_clinvar_and_the_conflict_shows() -> None:
    got = combine([_clinvar("clinvar:1", "conflicting", 1), _civic("civic:AID4", "pathogenic", ["PS4", "PM1"])])
    assert got.classification == "pathogenic" and got.decider.evidence_id == "civic:AID4"
    assert got.conflict and [(s.tier, s.evidence_ids) for s in got.sides] == [
        ("pathogenic", ["civic:AID4"]),
        ("conflicting", ["clinvar:1"]),
    ]
    assert "ACMG PS4 PM1" in got.how and "CONFLICT" in got.how


def test_an_expert_panel_outranks_an_assertion_and_equal_ranks_that_disagree_are_conflicting() -> None:
    panel = combine([_clinvar("clinvar:1", "benign", 3 + 1), _civic("civic:AID2", "pathogenic", [])])
    assert panel.classification == "benign" and panel.conflict and panel.decider.authority == "practice guideline"
    tie = combine([_clinvar("clinvar:1", "benign", 3), _civic("civic:AID2", "pathogenic", [])])
    assert (tie.classification, tie.tier, tie.conflict) == ("conflicting", Tier.CONFLICTING, True)
    assert "the highest-ranked sources disagree" in tie.how


def test_one_step_is_no_conflict_two_tiers_are_and_non_pathogenicity_claims_do_not_vote() -> None:
    assert not combine(
        [_clinvar("clinvar:1", "benign", 2), _clinvar("clinvar@2024-06-01:x", "likely benign", 1)]
    ).conflict
    assert combine(
        [_clinvar("clinvar:1", "likely pathogenic", 2), _civic("civic:AID41", "uncertain significance", [])]
    ).conflict
    drug = combine([_clinvar("clinvar:1", "drug response", 4), _clinvar("clinvar@2024-06-01:x", "pathogenic", 1)])
    assert drug.classification == "pathogenic" and not drug.conflict
    superseded = _clinvar("clinvar@2024-06-01:x", "benign", 2, superseded=True)
    assert not superseded.votes
    assert not combine([_clinvar("clinvar:1", "pathogenic", 2), superseded]).conflict


# --- curated evidence beside ClinVar, on the seeds ------------------------------------------------


def _benign_clinvar_variant(graph: Graph) -> dict[str, Any]:
    """A two-star benign or likely benign ClinVar SNV with no other current evidence (an older ClinVar
    release it superseded does not vote; the seeds hold one such allele)."""
    rows = graph.read(
        "MATCH (e:Evidence {source: 'clinvar'})-[:ABOUT]->(v:Variant) "
        "WHERE e.classification IN ['benign', 'likely benign'] "
        "AND NOT EXISTS { MATCH (x:Source {status: 'active'}) WHERE x.key IN coalesce(e.supersededBy, []) } AND size(v.ref) = 1 AND size(v.alt) = 1 AND e.stars = 2 "
        "AND NOT EXISTS { (v)<-[:ABOUT]-(o:Evidence) WHERE o <> e AND NOT EXISTS { MATCH (x:Source {status: 'active'}) WHERE x.key IN coalesce(o.supersededBy, []) } } "
        "AND NOT EXISTS { (v)<-[:INCLUDES]-() } "
        "RETURN v {.*} AS v ORDER BY v.id LIMIT 1"
    )
    assert rows, "no two-star (likely) benign ClinVar SNV"
    return rows[0]["v"]


@pytest.fixture
def patient(seeded: Graph, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    v = _benign_clinvar_variant(seeded)
    pid = f"test-risk-{uuid.uuid4().hex[:8]}"
    match_patient(seeded, write_vcf(tmp_path / "b.vcf", ["S1"], [(v, {"S1": "0/1"})]), patient_id=pid)
    yield pid, v
    delete_patient(seeded, pid)
    seeded.write("MATCH (e:Evidence {source: 'curated'})-[:ABOUT]->(:Variant {id: $id}) DETACH DELETE e", id=v["id"])


def test_accepted_curated_evidence_stands_beside_clinvar_and_the_disagreement_is_shown(
    seeded: Graph, patient: tuple[str, dict[str, Any]]
) -> None:
    pid, v = patient
    assert risks(seeded, pid) == []  # benign is never risk
    submitted = curation.submit_evidence(
        seeded,
        curation.Submission(
            target=v["id"],
            disease="cancer",
            type="pathogenicity",
            significance="likely pathogenic",
            direction="supports",
            statement="segregates with disease in a family (test)",
            submitter="test-curator",
        ),
    )
    assert risks(seeded, pid) == []  # SUBMITTED: invisible until a moderator accepts it
    curation.moderate_evidence(seeded, submitted.id, "ACCEPTED", "reviewed", "test-moderator")
    (finding,) = risks(seeded, pid)
    assert isinstance(finding, RiskFinding) and finding.conflict
    assert {c.evidence_id for c in finding.classifications} >= {submitted.id}
    assert {s.tier: s.sources for s in finding.sides} == {"pathogenic": ["curated"], "benign": ["clinvar"]}
    # ClinVar two stars and a moderated curation rank alike: the combined classification is conflicting
    assert (finding.classification, finding.status) == ("conflicting", RiskStatus.CONFLICTING)
    assert "CONFLICT" in finding.reason and finding.classification != "benign"


# --- the real releases: VHL R167Q and L184P -------------------------------------------------------


def _civic_allele(graph: Graph, gene: str, change: str) -> dict[str, Any]:
    rows = graph.read(
        "MATCH (a:Assertion {type: 'predisposing'})-[:ABOUT]->(:MolecularProfile {kind: 'single'})"
        "-[:INCLUDES]->(v:Variant {kind: 'exact', gene: $gene, proteinChange: $change}) RETURN v {.*} AS v",
        gene=gene,
        change=change,
    )
    assert len(rows) == 1, f"{gene} {change}: {rows}"
    return rows[0]["v"]


@pytest.fixture(scope="module")
def vhl(real_data: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RiskFinding]]:
    r167q, l184p = _civic_allele(real_data, "VHL", "R167Q"), _civic_allele(real_data, "VHL", "L184P")
    assert (r167q["id"], l184p["id"]) == ("GRCh38:chr3:10149823:G:A", "GRCh38:chr3:10149874:T:C")
    path = write_vcf(
        tmp_path_factory.mktemp("vhl") / "vhl.vcf", ["S1"], [(r167q, {"S1": "0/1"}), (l184p, {"S1": "0/1"})]
    )
    match_patient(real_data, path, patient_id="test-risk-vhl")
    found = {f.variant_name or f.variant: f for f in risks(real_data, "test-risk-vhl", include_non_risk=True)}
    yield {"R167Q": found[r167q["name"]], "L184P": found[l184p["name"]]}
    delete_patient(real_data, "test-risk-vhl")


def test_vhl_r167q_conflicting_in_clinvar_pathogenic_in_civic_is_at_risk_with_the_conflict_shown(
    vhl: dict[str, RiskFinding],
) -> None:
    f = vhl["R167Q"]
    by_id = {c.evidence_id: c for c in f.classifications}
    assert by_id["civic:AID4"].classification == "pathogenic"
    assert by_id["civic:AID4"].acmg_codes == ["PS4", "PM1", "PM2", "PP1", "PP4"]
    clinvar = [c for c in f.classifications if c.source == "clinvar"]
    assert clinvar and clinvar[0].classification == "conflicting" and clinvar[0].stars == 1
    assert f.status == RiskStatus.AT_RISK and f.classification == "pathogenic" and f.conflict
    assert {s.tier for s in f.sides} == {"pathogenic", "conflicting"}
    assert "civic:AID4" in f.reason and "CONFLICT" in f.reason


def test_vhl_l184p_likely_pathogenic_in_clinvar_uncertain_in_civic_is_conflicting_not_plain_at_risk(
    vhl: dict[str, RiskFinding],
) -> None:
    f = vhl["L184P"]
    by_source = {c.source: c for c in f.classifications}
    assert by_source["clinvar"].classification == "likely pathogenic" and by_source["clinvar"].stars == 2
    assert by_source["civic"].classification == "uncertain significance" and by_source["civic"].evidence_id == (
        "civic:AID41"
    )
    assert f.conflict and {s.tier: s.sources for s in f.sides} == {
        "pathogenic": ["clinvar"],
        "uncertain": ["civic"],
    }
    # the expert-curated assertion outranks two-star ClinVar: combined uncertain, shown as CONFLICTING
    assert (f.classification, f.status) == ("uncertain significance", RiskStatus.CONFLICTING)


def test_count_of_alleles_clinvar_and_civic_disagree_on(real_data: Graph) -> None:
    both, disagreeing = clinvar_civic_disagreements(real_data)
    names = {d.name for d in disagreeing}
    assert {"VHL R167Q (c.500G>A)", "VHL L184P (c.551T>C)"} <= names and len(disagreeing) <= both
    print(f"\nalleles classified by ClinVar and a CIViC assertion: {both}; disagreeing: {len(disagreeing)}")
    for d in disagreeing:
        print(f"  {d.variant} {d.name}: {d.clinvar} vs {d.civic}")


def test_only_the_newer_clinvar_release_answers_inside_its_coverage(real_data: Graph, tmp_path: Path) -> None:
    """An allele both ClinVar releases classify differently: the 2024 extract's evidence is superseded by
    the 2026 release (inside its windows) and does not show in the current answer; the 2026 one decides."""
    rows = real_data.read(
        "MATCH (:Source {key: 'clinvar@2024-06-01'})<-[:ASSERTED_BY]-(old:Evidence)-[:ABOUT]->(v:Variant)"
        "<-[:ABOUT]-(new:Evidence)-[:ASSERTED_BY]->(:Source {key: 'clinvar@2026-02-26'}) "
        "WHERE old.classification <> new.classification AND size(v.ref) = 1 "
        "AND size(v.alt) = 1 AND new.classification IN ['pathogenic', 'likely pathogenic', 'benign', 'likely benign'] "
        "AND old.supersededBy = ['clinvar@2026-02-26'] "
        "RETURN v {.*} AS v, old.id AS old, new.id AS new, new.classification AS now ORDER BY v.id LIMIT 1"
    )
    assert rows, "no allele reclassified between the two ClinVar releases"
    row = rows[0]
    pid = f"test-risk-{uuid.uuid4().hex[:8]}"
    match_patient(real_data, write_vcf(tmp_path / "r.vcf", ["S1"], [(row["v"], {"S1": "0/1"})]), patient_id=pid)
    try:
        (finding,) = risks(real_data, pid, include_non_risk=True)
        by_id = {c.evidence_id: c for c in finding.classifications}
        assert row["old"] not in by_id
        assert by_id[row["new"]].votes and by_id[row["new"]].release == "clinvar@2026-02-26"
        assert finding.evidence_id == row["new"] and finding.classification == row["now"]
    finally:
        delete_patient(real_data, pid)

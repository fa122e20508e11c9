"""kg/queries/changes.py: a load finds the patients whose answers it changed, by traversal (issue 8).

Two releases of a made-up ClinVar-like source, written through kg.loaders.release.load_release (the
load hook runs re-interpretation), and patients stored the way the matcher stores them
(kg.queries.patients.store_matches). The real ClinVar releases: tests/test_reinterpret_realdata.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.cli import main as cli
from kg.db import Graph
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, SourceRelease, Stage, discard_release, load_release
from kg.queries import patients as pq
from kg.queries.changes import ChangeKind, changed_patients, patient_changes, reinterpret
from kg.queries.visibility import KnowledgeState, asserting_keys, visible_evidence, visible_in
from tests.api_graph import bearer, token_for

SOURCE = "test-reinterp"
OLD, NEW = "2024-01-01", "2025-01-01"
P1, P2, P3 = "test-reinterp-p1", "test-reinterp-p2", "test-reinterp-p3"


def _allele(n: int) -> str:
    return f"GRCh38:chrY:{2_000_000 + n}:C:T"


A, B, C, D, E, F = (_allele(n) for n in range(1, 7))

#: (allele, significance, review status, stars) per release: A VUS -> LP, B LP -> VUS, C only in the
#: newer release, D benign in both, E pathogenic only in the older one, F benign in both, its review
#: status raised to an expert panel's.
RELEASES: dict[str, list[tuple[str, str, str, int]]] = {
    OLD: [
        (A, "Uncertain significance", "criteria provided, single submitter", 1),
        (B, "Likely pathogenic", "criteria provided, single submitter", 1),
        (D, "Benign", "criteria provided, single submitter", 1),
        (E, "Pathogenic", "criteria provided, single submitter", 1),
        (F, "Benign", "criteria provided, single submitter", 1),
    ],
    NEW: [
        (A, "Likely pathogenic", "criteria provided, multiple submitters, no conflicts", 2),
        (B, "Uncertain significance", "criteria provided, multiple submitters, no conflicts", 2),
        (C, "Likely pathogenic", "criteria provided, single submitter", 1),
        (D, "Benign", "criteria provided, single submitter", 1),
        (F, "Benign", "reviewed by expert panel", 3),
    ],
}

WRITE = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (v:Variant {id: row.variant})
  ON CREATE SET v.chrom = 'chrY', v.pos = row.pos, v.ref = 'C', v.alt = 'T', v.assembly = 'GRCh38',
                v.gene = 'TESTRI', v.kind = 'exact', v.name = 'TESTRI ' + row.record
MERGE (v)-[:ASSERTED_BY]->(src)
MERGE (e:Evidence {id: $source + ':' + row.record})
SET e.source = 'test-reinterp', e.type = 'pathogenicity', e.significance = row.significance,
    e.reviewStatus = row.review, e.stars = row.stars, e.recordId = row.record, e.release = $source,
    e.origin = 'germline'
MERGE (e)-[:ASSERTED_BY]->(src)
MERGE (e)-[r:ABOUT]->(v) SET r.releases = [$source]
"""

#: Per release: a CPIC-style recommendation for a phenotype P1 carries (its text changes), and a
#: predictive evidence item about a profile of allele A (each release has its own).
THERAPY_AND_PGX = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (ph:Phenotype {id: 'TESTRI:Poor Metabolizer'}) ON CREATE SET ph.gene = 'TESTRI', ph.phenotype = 'Poor Metabolizer'
MERGE (ph)-[:ASSERTED_BY]->(src)
MERGE (rec:Recommendation {id: $source + ':rec'})
SET rec.guideline = 'CPIC', rec.drug = 'testrimab', rec.text = row.text, rec.strength = row.strength
MERGE (rec)-[:ASSERTED_BY]->(src)
MERGE (rec)-[f:FOR_PHENOTYPE]->(ph) SET f.releases = [$source]
MERGE (mp:MolecularProfile {id: 'test-reinterp:MP1'}) ON CREATE SET mp.kind = 'single', mp.name = 'TESTRI A'
MERGE (mp)-[:ASSERTED_BY]->(src)
WITH src, row, mp
MATCH (v:Variant {id: row.variant})
MERGE (mp)-[i:INCLUDES]->(v) SET i.releases = [$source]
MERGE (e:Evidence {id: row.evidence})
SET e.source = 'test-reinterp', e.type = 'predictive', e.significance = row.significance, e.direction = 'supports',
    e.level = 'B', e.therapies = ['testrimab'], e.origin = 'germline'
MERGE (e)-[:ASSERTED_BY]->(src)
MERGE (e)-[a:ABOUT]->(mp) SET a.releases = [$source]
"""
PHENOTYPE = "TESTRI:Poor Metabolizer"

#: A recommendation whose id is the same in both releases (as PharmGKB's are), its text and strength changed:
#: each release's values are its property group on its ASSERTED_BY edge, as the PharmCAT loader writes them.
STABLE_REC = "test-reinterp:stable-rec"
STABLE = (
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MATCH (ph:Phenotype {id: 'TESTRI:Poor Metabolizer'})
MERGE (rec:Recommendation {id: row.id})
"""
    + asserts("rec", group="row.props")
    + """WITH rec, ph, $source AS source
MERGE (rec)-[f:FOR_PHENOTYPE]->(ph)
SET f.releases = coalesce(f.releases, []) + [x IN [source] WHERE NOT x IN coalesce(f.releases, [])]
"""
)
STABLE_TEXT = {
    OLD: {"guideline": "DPWG", "drug": "stablemab", "text": "No action needed.", "strength": "optional"},
    NEW: {"guideline": "DPWG", "drug": "stablemab", "text": "Reduce the dose by half.", "strength": "moderate"},
}
THERAPY = {
    OLD: {
        "text": "Use the standard dose.",
        "strength": "moderate",
        "evidence": "test-reinterp:EID1",
        "significance": "sensitivity/response",
    },
    NEW: {
        "text": "Avoid testrimab.",
        "strength": "strong",
        "evidence": "test-reinterp:EID2",
        "significance": "resistance",
    },
}


def _load(graph: Graph, tmp_path: Path, version: str) -> LoadReport:
    rows = [
        {
            "variant": v,
            "pos": int(v.split(":")[2]),
            "record": v.split(":")[2],
            "significance": s,
            "review": r,
            "stars": n,
        }
        for v, s, r, n in RELEASES[version]
    ]
    f = tmp_path / f"{version}.tsv"
    f.write_text("\n".join(str(r) for r in rows))
    release = SourceRelease(SOURCE, version, "CC0", (f,))
    other = [{**THERAPY[version], "variant": A}]
    stable = [{"id": STABLE_REC, "props": STABLE_TEXT[version]}]
    stages = [
        Stage("evidence", WRITE, lambda: rows),
        Stage("therapy and pgx", THERAPY_AND_PGX, lambda: other),
        Stage("stable recommendation", STABLE, lambda: stable),
    ]
    return load_release(graph, release, stages, progress=False)


def store_patient(graph: Graph, patient: str, alleles: list[str], phenotypes: list[str] = ()) -> None:
    """As the matcher stores a match (kg/matcher/match.py ``_variant_row``)."""
    pq.store_matches(
        graph,
        [
            pq.PatientMatch(
                patient=patient,
                sample="S1",
                vcf="test.vcf",
                origin={"origin": "germline", "source": "default"},
                variants=[
                    {
                        "variant": a,
                        "props": {
                            "zygosity": "heterozygous",
                            "genotype": "0/1",
                            "sample": "S1",
                            "matchLevel": "exact",
                            "observed": a,
                            "callOrigin": "germline",
                        },
                    }
                    for a in alleles
                ],
                diplotypes=[
                    {
                        "phenotype": ph,
                        "props": {"gene": "TESTRI", "diplotype": "*2/*2", "status": "called", "source": "vcf"},
                    }
                    for ph in phenotypes
                ],
            )
        ],
    )


def _cleanup(graph: Graph) -> None:
    for p in (P1, P2, P3):
        pq.delete_patient(graph, p)
    for row in graph.read("MATCH (s:Source {name: $name}) RETURN s.key AS key", name=SOURCE):
        discard_release(graph, row["key"])
    graph.write("MATCH (v:Variant) WHERE v.id STARTS WITH 'GRCh38:chrY:200000' DETACH DELETE v")
    graph.write("MATCH (e:Evidence) WHERE e.id STARTS WITH $s DETACH DELETE e", s=SOURCE)
    graph.write("MATCH (r:Recommendation) WHERE r.id STARTS WITH $s DETACH DELETE r", s=SOURCE)
    graph.write(
        "MATCH (n:Phenotype|MolecularProfile) WHERE n.id IN [$ph, 'test-reinterp:MP1'] DETACH DELETE n", ph=PHENOTYPE
    )


@pytest.fixture(scope="module")
def loaded(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The older release, three matched patients, then the newer release (its load re-interprets)."""
    _cleanup(graph)
    tmp = tmp_path_factory.mktemp("reinterp")
    _load(graph, tmp, OLD)
    # C is known only to the newer release: a patient's call of it is linked when that release adds it
    # (the calls helper's link_known_alleles); here P1 carries A, B, D, E, F now and C after the load.
    store_patient(graph, P1, [A, B, D, E, F], [PHENOTYPE])
    store_patient(graph, P2, [A])
    store_patient(graph, P3, [D])
    report = _load(graph, tmp, NEW)
    yield {"report": report, "tmp": tmp}
    _cleanup(graph)


CLASSIFICATION_KINDS = {
    ChangeKind.NEW,
    ChangeKind.NEW_FINDING,
    ChangeKind.RETRACTED,
    ChangeKind.RECLASSIFIED,
    ChangeKind.REVIEW_CHANGED,
}


def _kinds(graph: Graph, patient: str) -> dict[str, ChangeKind]:
    """allele -> the kind of its classification change."""
    return {c.allele: c.kind for c in patient_changes(graph, patient) if c.kind in CLASSIFICATION_KINDS}


def test_vus_to_lp_is_a_new_finding_and_lp_to_vus_a_retraction(graph: Graph, loaded: dict[str, Any]) -> None:
    kinds = _kinds(graph, P1)
    assert kinds[A] == ChangeKind.NEW_FINDING
    assert kinds[B] == ChangeKind.RETRACTED
    assert kinds[E] == ChangeKind.RETRACTED  # the newer release no longer classifies it
    assert D not in kinds  # benign in both, reviewed alike: no change
    change = next(c for c in patient_changes(graph, P1) if c.allele == A and c.kind == ChangeKind.NEW_FINDING)
    assert (change.old_class, change.new_class) == ("uncertain significance", "likely pathogenic")
    assert change.old_review == "criteria provided, single submitter"
    assert change.new_review == "criteria provided, multiple submitters, no conflicts"
    assert change.old_evidence == [f"{SOURCE}@{OLD}:2000001"] and change.new_evidence == [f"{SOURCE}@{NEW}:2000001"]
    assert f"{SOURCE}@{NEW}" in change.to_state and f"{SOURCE}@{NEW}" not in change.from_state
    assert change.release == f"{SOURCE}@{NEW}"
    # the stored path: patient -> change -> allele, and the evidence of both sides
    path = graph.read(
        "MATCH (:Patient {id: $p})-[:HAS_CHANGE]->(c:Change {id: $c})-[:ABOUT]->(v:Variant) "
        "RETURN v.id AS v, [(c)-[:OLD]->(o) | o.id] AS old, [(c)-[:NEW]->(n) | n.id] AS new",
        p=P1,
        c=change.id,
    )
    assert path == [{"v": A, "old": change.old_evidence, "new": change.new_evidence}]
    assert _kinds(graph, P2) == {A: ChangeKind.NEW_FINDING}
    assert _kinds(graph, P3) == {}
    assert "2 patients changed" in loaded["report"].summary()


def test_a_review_status_change_alone_is_recorded(graph: Graph, loaded: dict[str, Any]) -> None:
    """F stays benign, now reviewed by an expert panel: a REVIEW_CHANGED with both review statuses."""
    change = next(c for c in patient_changes(graph, P1) if c.allele == F)
    assert change.kind == ChangeKind.REVIEW_CHANGED
    assert (change.old_class, change.new_class) == ("benign", "benign")
    assert (change.old_review, change.new_review) == ("criteria provided, single submitter", "reviewed by expert panel")
    assert change.old_evidence == [f"{SOURCE}@{OLD}:2000006"] and change.new_evidence == [f"{SOURCE}@{NEW}:2000006"]
    assert "review status changed" in change.summary and not change.retirement


def test_therapy_evidence_and_pgx_recommendation_changes(graph: Graph, loaded: dict[str, Any]) -> None:
    others = [c for c in patient_changes(graph, P1) if c.kind not in CLASSIFICATION_KINDS]
    by_kind = {c.kind: c for c in others if STABLE_REC not in c.old_evidence}
    assert set(by_kind) == {ChangeKind.NEW_EVIDENCE, ChangeKind.RETIRED_EVIDENCE, ChangeKind.PGX_CHANGED}
    assert by_kind[ChangeKind.NEW_EVIDENCE].new_evidence == ["test-reinterp:EID2"]
    assert by_kind[ChangeKind.RETIRED_EVIDENCE].old_evidence == ["test-reinterp:EID1"]
    pgx = by_kind[ChangeKind.PGX_CHANGED]
    assert pgx.allele == PHENOTYPE
    assert (pgx.old_class, pgx.old_review, pgx.new_class, pgx.new_review) == (
        "Use the standard dose.",
        "moderate",
        "Avoid testrimab.",
        "strong",
    )
    linked = graph.read(
        "MATCH (c:Change {id: $c}) RETURN [(c)-[:ABOUT]->(n) | n.id] AS about, [(c)-[:OLD]->(o) | o.id] AS old, "
        "[(c)-[:NEW]->(n) | n.id] AS new",
        c=pgx.id,
    )[0]
    assert linked == {"about": [PHENOTYPE], "old": [f"{SOURCE}@{OLD}:rec"], "new": [f"{SOURCE}@{NEW}:rec"]}
    # P2 carries A, not the phenotype: the evidence changes, no PGx change
    assert {c.kind for c in patient_changes(graph, P2)} == {
        ChangeKind.NEW_FINDING,
        ChangeKind.NEW_EVIDENCE,
        ChangeKind.RETIRED_EVIDENCE,
    }


def test_a_recommendation_changed_in_place_is_a_pgx_change(graph: Graph, loaded: dict[str, Any]) -> None:
    """The same recommendation id in both releases with another text and strength: the patient with the
    phenotype gets a PGX_CHANGED with each release's own words (from its ASSERTED_BY edge, not the node's
    newest value), linked OLD and NEW to the one Recommendation."""
    changed = [
        c for c in patient_changes(graph, P1) if c.kind == ChangeKind.PGX_CHANGED and STABLE_REC in c.new_evidence
    ]
    assert len(changed) == 1, changed
    pgx = changed[0]
    assert (pgx.old_class, pgx.old_review, pgx.new_class, pgx.new_review) == (
        "No action needed.",
        "optional",
        "Reduce the dose by half.",
        "moderate",
    )
    assert pgx.old_evidence == [STABLE_REC] and "changed" in pgx.summary
    linked = graph.read("MATCH (c:Change {id: $c}) RETURN [(c)-[:OLD]->(o) | o.id] AS old", c=pgx.id)[0]
    assert linked["old"] == [STABLE_REC]


def test_an_allele_only_in_the_newer_release_is_new(graph: Graph, loaded: dict[str, Any]) -> None:
    """C is classified only by the newer release: a patient carrying it has a NEW change, not a reclassification."""
    key = f"{SOURCE}@{NEW}"
    before = _state(graph, key, "fromState")
    after = _state(graph, key, "toState")
    store_patient(graph, P3, [C, D])
    report = reinterpret(graph, before, after, key)
    assert report.stored == 1  # the others (P1's, P2's) were found and stored by the load already
    change = next(c for c in patient_changes(graph, P3) if c.allele == C and c.kind in CLASSIFICATION_KINDS)
    assert change.kind == ChangeKind.NEW
    assert (change.old_class, change.new_class) == (None, "likely pathogenic")


def _state(graph: Graph, release: str, side: str) -> KnowledgeState:
    """The state before (fromState) or after (toState) the load of ``release``, as its changes recorded it."""
    rows = graph.read(f"MATCH (c:Change {{release: $r}}) RETURN DISTINCT c.{side} AS keys", r=release)
    assert len(rows) == 1, rows
    return KnowledgeState(tuple(rows[0]["keys"]), None, side)


def test_loading_twice_adds_nothing(graph: Graph, loaded: dict[str, Any]) -> None:
    key = f"{SOURCE}@{NEW}"
    count = "MATCH (c:Change) WHERE c.patient STARTS WITH 'test-reinterp-' RETURN count(c) AS n, collect(c.id) AS ids"
    before = graph.read(count)[0]
    again = _load(graph, loaded["tmp"], NEW)
    assert again.skipped and graph.read(count)[0] == before
    # and finding the same transition again stores nothing new
    report = reinterpret(
        graph,
        _state(graph, key, "fromState"),
        _state(graph, key, "toState"),
        key,
    )
    assert report.changes > 0 and report.stored == 0
    assert sorted(graph.read(count)[0]["ids"]) == sorted(before["ids"])


def test_a_patient_out_of_scope_never_shows(graph: Graph, loaded: dict[str, Any], auth_settings: AuthSettings) -> None:
    key = f"{SOURCE}@{NEW}"
    everyone = {p.patient for p in changed_patients(graph, key)}
    assert {P1, P2} <= everyone
    assert [p.patient for p in changed_patients(graph, key, frozenset({P2}))] == [P2]
    assert changed_patients(graph, key, frozenset()) == []
    token = token_for(auth_settings, Role.CLINICIAN, "test-reinterp-clinician", patients=[P1])
    with TestClient(create_app(graph.settings, auth=auth_settings), headers=bearer(token)) as client:
        listed = client.post(
            "/graphql",
            json={
                "query": "query($r: String!) { changedPatients(release: $r) { patient changes byKind { kind count } } }",
                "variables": {"r": key},
            },
        ).json()
        assert [p["patient"] for p in listed["data"]["changedPatients"]] == [P1]
        own = client.post(
            "/graphql",
            json={
                "query": "query($p: String!) { patient(id: $p) { changes { kind allele oldClass newClass release } } }",
                "variables": {"p": P1},
            },
        ).json()
        assert {
            "allele": A,
            "kind": "NEW_FINDING",
            "oldClass": "uncertain significance",
            "newClass": "likely pathogenic",
            "release": key,
        } in own["data"]["patient"]["changes"]
        other = client.post(
            "/graphql",
            json={"query": "query($p: String!) { patient(id: $p) { changes { kind } } }", "variables": {"p": P2}},
        ).json()
        assert other["data"]["patient"] is None and other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        bad = client.post(
            "/graphql", json={"query": '{ patient(id: "test-reinterp-p1") { changes(since: "yesterday") { kind } } }'}
        ).json()
        assert bad["errors"][0]["extensions"]["code"] == "BAD_INPUT"
    entries = [
        line for line in auth_settings.audit_log.read_text(encoding="utf-8").splitlines() if "changedPatients" in line
    ]
    assert all(P2 not in line for line in entries)  # nor in a denial of some other caller's request
    shown = [line for line in entries if '"outcome": "ok"' in line]
    assert shown and all(P1 in line for line in shown)


def test_deleting_a_patient_deletes_its_changes(graph: Graph, loaded: dict[str, Any]) -> None:
    store_patient(graph, "test-reinterp-p4", [A])
    key = f"{SOURCE}@{NEW}"
    reinterpret(
        graph,
        _state(graph, key, "fromState"),
        _state(graph, key, "toState"),
        key,
    )
    assert graph.read("MATCH (c:Change {patient: 'test-reinterp-p4'}) RETURN count(c) AS n")[0]["n"] == 3
    assert pq.delete_patient(graph, "test-reinterp-p4")
    assert graph.read("MATCH (c:Change {patient: 'test-reinterp-p4'}) RETURN count(c) AS n")[0]["n"] == 0


def test_kg_changes_lists_and_audits(graph: Graph, loaded: dict[str, Any], auth_settings: AuthSettings) -> None:
    env = {**graph.settings.connection_env(), "KG_AUTH_DIR": str(auth_settings.home)}
    own = CliRunner().invoke(cli, ["changes", "--patient", P1], env=env)
    assert own.exit_code == 0, own.output
    assert "NEW_FINDING" in own.output and "RETRACTED" in own.output and "PGX_CHANGED" in own.output
    listed = CliRunner().invoke(cli, ["changes", "--release", f"{SOURCE}@{NEW}"], env=env)
    assert listed.exit_code == 0 and P1 in listed.output and P2 in listed.output
    bad = CliRunner().invoke(cli, ["changes", "--patient", P1, "--since", "last week"], env=env)
    assert bad.exit_code == 1 and "since" in bad.output
    audited = [line for line in auth_settings.audit_log.read_text(encoding="utf-8").splitlines() if '"changes"' in line]
    assert audited and P1 in audited[-1]


def test_retiring_a_release_reinterprets_back_to_the_remaining_state(graph: Graph, loaded: dict[str, Any]) -> None:
    """``kg retire`` of the newer release: the older one is current again, and the patients' answers move
    back -- found while the retired facts are still there, recorded as the retirement's changes."""
    key = f"{SOURCE}@{NEW}"
    runner = CliRunner().invoke(cli, ["retire", key], env=graph.settings.connection_env())
    assert runner.exit_code == 0, runner.output
    assert "3 patients changed" in runner.output  # P1, P2 and P3 (who carries C since the test above)
    retired = [c for c in patient_changes(graph, P1) if c.retirement]
    assert {c.release for c in retired} == {key}
    assert all(c.summary.startswith(f"{key} retired: ") for c in retired)
    assert all(key in c.from_state and key not in c.to_state and f"{SOURCE}@{OLD}" in c.to_state for c in retired)
    kinds = {c.allele: c.kind for c in retired if c.kind in CLASSIFICATION_KINDS}
    # A back to uncertain (a retraction), B back to likely pathogenic, E classified again, F back to a
    # single submitter's review (C, which only the retired release classified, is P3's: below)
    assert kinds == {
        A: ChangeKind.RETRACTED,
        B: ChangeKind.NEW_FINDING,
        E: ChangeKind.NEW,
        F: ChangeKind.REVIEW_CHANGED,
    }
    others = {c.kind: c for c in retired if c.kind not in CLASSIFICATION_KINDS and STABLE_REC not in c.old_evidence}
    # the recommendation changed in place goes back to the older release's words
    (stable,) = [c for c in retired if STABLE_REC in c.old_evidence]
    assert (stable.old_class, stable.new_class) == ("Reduce the dose by half.", "No action needed.")
    assert others[ChangeKind.RETIRED_EVIDENCE].old_evidence == ["test-reinterp:EID2"]
    assert others[ChangeKind.NEW_EVIDENCE].new_evidence == ["test-reinterp:EID1"]
    assert others[ChangeKind.PGX_CHANGED].new_class == "Use the standard dose."
    # the retired release is gone; its ids stay readable on the changes
    assert not graph.read("MATCH (s:Source {key: $k}) RETURN s", k=key)
    back = next(c for c in retired if c.allele == A and c.kind == ChangeKind.RETRACTED)
    assert back.old_evidence == [f"{key}:2000001"] and back.new_evidence == [f"{SOURCE}@{OLD}:2000001"]
    assert [(c.allele, c.kind) for c in patient_changes(graph, P3) if c.retirement] == [(C, ChangeKind.RETRACTED)]
    assert {c.kind for c in patient_changes(graph, P2) if c.retirement} == {
        ChangeKind.RETRACTED,
        ChangeKind.NEW_EVIDENCE,
        ChangeKind.RETIRED_EVIDENCE,
    }


def test_a_release_retired_by_a_load_is_reinterpreted_before_it_goes(
    graph: Graph, loaded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With KG_KEEP_RELEASES=1 loading the newer release again retires the older one in the same load: E,
    classified only by the older release, must still be found retracted (its evidence compared first)."""
    monkeypatch.setenv("KG_KEEP_RELEASES", "1")
    report = _load(graph, loaded["tmp"], NEW)
    assert report.retired == [f"{SOURCE}@{OLD}"]
    assert not graph.read("MATCH (s:Source {key: $k}) RETURN s", k=f"{SOURCE}@{OLD}")
    found = report.reinterpreted
    assert found is not None and found.patients == 3
    assert found.by_kind[ChangeKind.RETRACTED] == 2  # B and E of P1 (the same transitions as the first load's)
    assert found.stored == 0  # ... already stored by the first load: the same ids


def test_visible_in_agrees_with_visible_evidence(seeded: Graph, loaded: dict[str, Any]) -> None:
    """The two spellings of the visibility rule (kg.queries.visibility: per state, and with the asserting
    keys gathered once, as re-interpretation compares two states) agree on every Evidence of the graph
    (the seeds and this module's releases), in every state made of its releases: none, each alone, each
    with the newer test release, all."""
    graph = seeded
    keys = [r["key"] for r in graph.read("MATCH (s:Source) RETURN s.key AS key ORDER BY key")]
    newer = f"{SOURCE}@{NEW}"
    states = [[], keys, *([k] for k in keys), *([k, newer] for k in keys if k != newer)]
    differ = f"""
    MATCH (e:Evidence)
    WITH e, {asserting_keys("e")} AS keys
    WITH e, {visible_evidence("e")} AS rule, {visible_in("e", "keys", "releases")} AS gathered
    RETURN count(*) AS n, sum(CASE WHEN rule THEN 1 ELSE 0 END) AS shown,
           collect(CASE WHEN rule <> gathered THEN e.id END)[..5] AS differ
    """
    shown_somewhere = 0
    for state in states:
        row = graph.read(differ, releases=state)[0]
        assert row["differ"] == [], (state, row)
        shown_somewhere += row["shown"]
        assert row["shown"] < row["n"] or state == keys
    assert shown_somewhere > 0
    # the superseding condition was exercised: the seeds' newer ClinVar release supersedes the older one
    superseded = graph.read("MATCH (e:Evidence) WHERE size(coalesce(e.supersededBy, [])) > 0 RETURN count(e) AS n")
    assert superseded[0]["n"] > 0

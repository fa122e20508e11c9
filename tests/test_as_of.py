"""Knowledge states and as-of answers (issue 8, kg/queries/visibility.py).

The fixture writes two releases of one made-up source ``asoftest`` the way the release-set contract
describes them (docs/GRAPH_MODEL.md "Knowledge states"): ``asoftest@2020-01-01`` (coverage all) and
``asoftest@2021-06-01`` (coverage: gene ASOFG1 only), so the 2020 evidence inside ASOFG1 carries
``supersededBy: ['asoftest@2021-06-01']`` and the 2020 release stays active for ASOFG2. A patient
carries three alleles:

* VA (ASOFG1): 2020 uncertain significance -> 2021 likely pathogenic (a reclassification);
* VB (ASOFG1): 2020 likely pathogenic, absent from 2021 (no current classification);
* VC (ASOFG2): 2020 pathogenic, outside 2021's coverage (still current).

Every key starts with ``asoftest`` / ``asof-test`` so it never meets real data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.context import Context
from kg.access.settings import AuthSettings
from kg.db import Graph
from kg.queries import cohort, explore, export, knowledge, patient_report, risk, therapy
from kg.queries.visibility import (
    KEPT_RELEASES,
    KnowledgeState,
    UnknownKnowledgeState,
    knowledge_state,
    state_params,
    visible_evidence,
)
from tests.api_graph import admin_client, error_code, gql
from tests.patient_documents import cli_env

OLD, NEW = "asoftest@2020-01-01", "asoftest@2021-06-01"
PATIENT = "asof-test-patient"
VA, VB, VC = "GRCh38:chr21:9000001:A:G", "GRCh38:chr21:9000002:C:T", "GRCh38:chr21:9000100:G:A"

SETUP = """
CREATE (old:Source {key: $old, name: 'asoftest', version: '2020-01-01', status: 'active', releasedOn: '2020-01-01',
                    seq: 1, coverage: 'all', licence: 'CC0 1.0', loadedAt: '2026-01-01T00:00:00+00:00'})
CREATE (new:Source {key: $new, name: 'asoftest', version: '2021-06-01', status: 'active', releasedOn: '2021-06-01',
                    seq: 2, coverage: '{"genes": ["ASOFG1"]}', licence: 'CC0 1.0',
                    loadedAt: '2026-01-02T00:00:00+00:00'})
WITH old, new
UNWIND [
  {id: $va, pos: 9000001, ref: 'A', alt: 'G', gene: 'ASOFG1', both: true},
  {id: $vb, pos: 9000002, ref: 'C', alt: 'T', gene: 'ASOFG1', both: false},
  {id: $vc, pos: 9000100, ref: 'G', alt: 'A', gene: 'ASOFG2', both: false}
] AS row
CREATE (v:Variant {id: row.id, chrom: 'chr21', pos: row.pos, ref: row.ref, alt: row.alt, gene: row.gene,
                   kind: 'exact', assembly: 'GRCh38'})
CREATE (v)-[:ASSERTED_BY]->(old)
FOREACH (_ IN CASE WHEN row.both THEN [1] ELSE [] END | CREATE (v)-[:ASSERTED_BY]->(new))
WITH DISTINCT old, new
UNWIND [
  {id: 'asoftest@2020-01-01:A', v: $va, cls: 'uncertain significance', stars: 1, rel: 'old', sup: [$new]},
  {id: 'asoftest@2020-01-01:B', v: $vb, cls: 'likely pathogenic', stars: 2, rel: 'old', sup: [$new]},
  {id: 'asoftest@2020-01-01:C', v: $vc, cls: 'pathogenic', stars: 2, rel: 'old', sup: null},
  {id: 'asoftest@2021-06-01:A', v: $va, cls: 'likely pathogenic', stars: 2, rel: 'new', sup: null}
] AS row
MATCH (v:Variant {id: row.v})
CREATE (e:Evidence {id: row.id, source: 'asoftest', type: 'pathogenicity', classification: row.cls,
                    significance: row.cls, stars: row.stars, reviewStatus: 'test review', origin: 'germline',
                    release: CASE row.rel WHEN 'old' THEN $old ELSE $new END, supersededBy: row.sup})
CREATE (e)-[:ABOUT {releases: [e.release]}]->(v)
WITH e, CASE row.rel WHEN 'old' THEN old ELSE new END AS s
CREATE (e)-[:ASSERTED_BY]->(s)
"""

PATIENT_SETUP = """
CREATE (p:Patient {id: $patient, origin: 'germline', assembly: 'GRCh38'})
WITH p
UNWIND [$va, $vb, $vc] AS id
MATCH (v:Variant {id: id})
CREATE (p)-[:HAS_VARIANT {zygosity: 'heterozygous', genotype: '0/1', matchLevel: 'exact', callOrigin: 'germline'}]->(v)
"""

# A disease PARENT (both releases' ontology: asserted by the older, which stays active) with two children:
# OLD_CHILD asserted by the older release, NEW_CHILD by the newer only. The evidence of VA and VB is
# FOR_DISEASE the parent (cohort answers by disease).
PARENT, OLD_CHILD, NEW_CHILD = "DOID:9990001", "DOID:9990002", "DOID:9990003"
DISEASE_SETUP = """
MATCH (old:Source {key: $old}), (new:Source {key: $new})
CREATE (p:Disease {id: $parent, name: 'asoftest parent disease'})-[:ASSERTED_BY]->(old)
CREATE (a:Disease {id: $oldChild, name: 'asoftest older child'})-[:ASSERTED_BY]->(old)
CREATE (b:Disease {id: $newChild, name: 'asoftest newer child'})-[:ASSERTED_BY]->(new)
CREATE (a)-[:IS_A {releases: [$old]}]->(p)
CREATE (b)-[:IS_A {releases: [$new]}]->(p)
WITH p
MATCH (e:Evidence {source: 'asoftest'}) WHERE e.id IN ['asoftest@2020-01-01:A', 'asoftest@2020-01-01:B',
                                                       'asoftest@2021-06-01:A']
CREATE (e)-[:FOR_DISEASE {releases: [e.release]}]->(p)
"""

CLEANUP = """
MATCH (n) WHERE (n:Source AND n.name = 'asoftest') OR (n:Evidence AND n.source = 'asoftest')
   OR (n:Variant AND n.id IN [$va, $vb, $vc]) OR (n:Patient AND n.id = $patient)
   OR (n:Disease AND n.id IN [$parent, $oldChild, $newChild])
DETACH DELETE n
"""

PARAMS: dict[str, Any] = {
    "old": OLD,
    "new": NEW,
    "va": VA,
    "vb": VB,
    "vc": VC,
    "patient": PATIENT,
    "parent": PARENT,
    "oldChild": OLD_CHILD,
    "newChild": NEW_CHILD,
}


@pytest.fixture(scope="module")
def two_releases(seeded: Graph) -> Iterator[Graph]:
    seeded.write(CLEANUP, **PARAMS)
    seeded.write(SETUP, **PARAMS)
    seeded.write(PATIENT_SETUP, **PARAMS)
    seeded.write(DISEASE_SETUP, **PARAMS)
    try:
        yield seeded
    finally:
        seeded.write(CLEANUP, **PARAMS)


def _visible(graph: Graph, state: KnowledgeState | None) -> list[str]:
    rows = graph.read(
        f"MATCH (e:Evidence {{source: 'asoftest'}}) WHERE {visible_evidence('e')} RETURN e.id AS id ORDER BY id",
        **state_params(state),
    )
    return [r["id"] for r in rows]


def _by_variant(findings: list[risk.RiskFinding]) -> dict[str, risk.RiskFinding]:
    return {f.variant: f for f in findings}


# --- knowledge_state ---------------------------------------------------------------------------


def test_current_state_is_the_active_releases(two_releases: Graph) -> None:
    state = knowledge_state(two_releases)
    active = {r["key"] for r in two_releases.read("MATCH (s:Source {status: 'active'}) RETURN s.key AS key")}
    assert set(state.releases) == active and {OLD, NEW} <= active
    assert state.as_of is None and state.label == "current"


def test_as_of_a_key_keeps_that_release_and_every_other_source_current(two_releases: Graph) -> None:
    current = knowledge_state(two_releases)
    state = knowledge_state(two_releases, OLD)
    assert OLD in state.releases and NEW not in state.releases
    others = {k for k in current.releases if not k.startswith("asoftest@")}
    assert others == {k for k in state.releases if not k.startswith("asoftest@")}
    assert state.as_of == OLD and OLD in state.label


def test_as_of_a_date_takes_each_sources_releases_of_then(two_releases: Graph) -> None:
    between = knowledge_state(two_releases, "2020-12-31")
    assert [k for k in between.releases if k.startswith("asoftest@")] == [OLD]
    later = knowledge_state(two_releases, "2022-01-01")
    # the newer release covers one gene only: the older one stays in the state for the rest
    assert [k for k in later.releases if k.startswith("asoftest@")] == [OLD, NEW]


def test_a_release_covering_everything_ends_the_older_ones(two_releases: Graph) -> None:
    two_releases.write("MATCH (s:Source {key: $new}) SET s.coverage = 'all'", new=NEW)
    try:
        assert [k for k in knowledge_state(two_releases, "2022-01-01").releases if k.startswith("asoftest@")] == [NEW]
    finally:
        two_releases.write('MATCH (s:Source {key: $new}) SET s.coverage = \'{"genes": ["ASOFG1"]}\'', new=NEW)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("asoftest@1999-01-01", "no kept release 'asoftest@1999-01-01' (kept releases of asoftest: "),
        ("nosuchsource@1", "no such source"),
        ("1900-01-01", "no kept release is that old"),
        ("2021-02-30", "expected a date YYYY-MM-DD"),
        ("last tuesday", "expected a release key name@version"),
    ],
)
def test_an_unknown_as_of_is_a_clear_error(two_releases: Graph, as_of: str, expected: str) -> None:
    with pytest.raises(UnknownKnowledgeState, match="asOf") as err:
        knowledge_state(two_releases, as_of)
    assert expected in str(err.value)


def test_a_loading_release_is_no_state(two_releases: Graph) -> None:
    two_releases.write("CREATE (:Source {key: 'asoftest@2022-01-01', name: 'asoftest', status: 'loading'})")
    try:
        with pytest.raises(UnknownKnowledgeState):
            knowledge_state(two_releases, "asoftest@2022-01-01")
        assert "asoftest@2022-01-01" not in knowledge_state(two_releases).releases
    finally:
        two_releases.write("MATCH (s:Source {key: 'asoftest@2022-01-01'}) DETACH DELETE s")


# --- the one visibility rule ------------------------------------------------------------------------


def test_current_state_hides_superseded_evidence(two_releases: Graph) -> None:
    expected = ["asoftest@2020-01-01:C", "asoftest@2021-06-01:A"]
    assert _visible(two_releases, None) == expected
    # the explicit list of the current state answers the same as null (the cheap spelling of current)
    assert _visible(two_releases, knowledge_state(two_releases)) == expected


def test_as_of_the_older_release_shows_its_own_facts(two_releases: Graph) -> None:
    assert _visible(two_releases, knowledge_state(two_releases, OLD)) == [
        "asoftest@2020-01-01:A",
        "asoftest@2020-01-01:B",
        "asoftest@2020-01-01:C",
    ]


def test_a_retired_newer_release_uncovers_the_older_evidence(two_releases: Graph) -> None:
    """supersededBy names a release: once it leaves every state, the older evidence shows again."""
    two_releases.write("MATCH (s:Source {key: $new}) SET s.status = 'superseded'", new=NEW)
    try:
        assert "asoftest@2020-01-01:B" in _visible(two_releases, None)
    finally:
        two_releases.write("MATCH (s:Source {key: $new}) SET s.status = 'active'", new=NEW)


# --- answers ----------------------------------------------------------------------------------------


def test_risks_now_and_as_of_the_older_release(two_releases: Graph) -> None:
    now = _by_variant(risk.risks(two_releases, PATIENT))
    assert now[VA].status == risk.RiskStatus.AT_RISK and now[VA].classification == "likely pathogenic"
    assert now[VA].releases == [OLD, NEW] and now[VA].as_of is None  # the Variant: both; the evidence: NEW
    assert [c.release for c in now[VA].classifications] == [NEW]
    assert now[VC].status == risk.RiskStatus.AT_RISK and now[VC].releases == [OLD]  # outside the newer coverage
    gone = now[VB]
    assert gone.status == risk.RiskStatus.NO_CURRENT_CLASSIFICATION
    assert (gone.last_release, gone.last_classification) == (OLD, "likely pathogenic")
    assert OLD in gone.reason and gone.releases == [OLD]

    state = knowledge_state(two_releases, OLD)
    then = _by_variant(risk.risks(two_releases, PATIENT, include_non_risk=True, state=state))
    assert then[VA].classification == "uncertain significance" and then[VA].status == risk.RiskStatus.NOT_A_RISK
    assert then[VB].status == risk.RiskStatus.AT_RISK and then[VB].evidence_id == "asoftest@2020-01-01:B"
    assert all(f.as_of == OLD for f in then.values())
    assert not _by_variant(risk.risks(two_releases, PATIENT, state=state)).get(VA)  # VUS: not shown by default


def test_as_of_a_date_answers_like_the_release_of_then(two_releases: Graph) -> None:
    by_date = risk.risks(two_releases, PATIENT, True, knowledge_state(two_releases, "2020-06-30"))
    by_key = risk.risks(two_releases, PATIENT, True, knowledge_state(two_releases, OLD))
    assert [(f.variant, f.classification) for f in by_date] == [(f.variant, f.classification) for f in by_key]


def test_no_current_classification_of_a_benign_allele_only_when_asked(two_releases: Graph) -> None:
    two_releases.write(
        "MATCH (e:Evidence {id: 'asoftest@2020-01-01:B'}) SET e.classification = 'likely benign'",
    )
    try:
        assert VB not in _by_variant(risk.risks(two_releases, PATIENT))
        asked = _by_variant(risk.risks(two_releases, PATIENT, include_non_risk=True))
        assert asked[VB].status == risk.RiskStatus.NO_CURRENT_CLASSIFICATION
        assert asked[VB].last_classification == "likely benign"
    finally:
        two_releases.write(
            "MATCH (e:Evidence {id: 'asoftest@2020-01-01:B'}) SET e.classification = 'likely pathogenic'",
        )


def test_knowledge_look_ups_as_of(two_releases: Graph) -> None:
    (now,) = knowledge.find_variants(two_releases, VB)
    assert now.evidence.total == 0 and now.releases == [OLD]  # the variant, asserted by the older release
    (then,) = knowledge.find_variants(two_releases, VB, knowledge_state(two_releases, OLD))
    assert then.evidence.total == 1 and then.as_of == OLD
    page = knowledge.evidence_page(two_releases, knowledge.EvidenceFilter(source="asoftest"), 10)
    assert [e.id for e in page.items] == ["asoftest@2020-01-01:C", "asoftest@2021-06-01:A"]
    assert page.releases == [OLD, NEW] and page.as_of is None
    old_page = knowledge.evidence_page(
        two_releases, knowledge.EvidenceFilter(source="asoftest"), 10, state=knowledge_state(two_releases, OLD)
    )
    assert old_page.total == 3 and old_page.releases == [OLD]


def test_export_as_of(two_releases: Graph) -> None:
    now = export.export_subgraph(two_releases, VA, label="Variant", fmt="JSON")
    then = export.export_subgraph(
        two_releases, VA, label="Variant", fmt="JSON", state=knowledge_state(two_releases, OLD)
    )
    assert "asoftest@2021-06-01:A" in now.content and "asoftest@2020-01-01:A" not in now.content
    assert "asoftest@2020-01-01:A" in then.content and "asoftest@2021-06-01:A" not in then.content
    assert NEW in now.releases and then.as_of == OLD and NEW not in then.releases


def test_traversals_as_of(two_releases: Graph) -> None:
    """Neighbourhoods and paths traverse the evidence of the state asked and list its releases."""
    then = knowledge_state(two_releases, OLD)
    now_sub = explore.neighborhood(two_releases, VA, label="Variant", relationship_types=["ABOUT"])
    old_sub = explore.neighborhood(two_releases, VA, label="Variant", relationship_types=["ABOUT"], state=then)
    assert {n.id for n in now_sub.nodes} == {VA, "asoftest@2021-06-01:A"}
    assert {n.id for n in old_sub.nodes} == {VA, "asoftest@2020-01-01:A"}
    assert now_sub.releases == [OLD, NEW] and now_sub.as_of is None
    assert old_sub.releases == [OLD] and old_sub.as_of == OLD

    for shortest in (True, False):
        (now_path,) = explore.find_paths(two_releases, "asoftest@2021-06-01:A", VA, shortest=shortest)
        assert now_path.releases == [OLD, NEW] and now_path.as_of is None
        assert explore.find_paths(two_releases, "asoftest@2021-06-01:A", VA, shortest=shortest, state=then) == []
        assert explore.find_paths(two_releases, "asoftest@2020-01-01:A", VA, shortest=shortest) == []
        (old_path,) = explore.find_paths(two_releases, "asoftest@2020-01-01:A", VA, shortest=shortest, state=then)
        assert [n.id for n in old_path.nodes] == ["asoftest@2020-01-01:A", VA]
        assert old_path.releases == [OLD] and old_path.as_of == OLD


def test_disease_relatives_as_of(two_releases: Graph) -> None:
    now = knowledge.disease_relatives(two_releases, [PARENT], "children")[PARENT]
    then = knowledge.disease_relatives(two_releases, [PARENT], "children", knowledge_state(two_releases, OLD))[PARENT]
    assert [(d.id, d.releases, d.as_of) for d in now] == [(OLD_CHILD, [OLD], None), (NEW_CHILD, [NEW], None)]
    assert [(d.id, d.releases, d.as_of) for d in then] == [(OLD_CHILD, [OLD], OLD)]
    (parent,) = knowledge.disease_relatives(two_releases, [NEW_CHILD], "parents")[NEW_CHILD]
    assert parent.id == PARENT and parent.releases == [OLD]


def test_cohort_answers_as_of(two_releases: Graph) -> None:
    """The patient is actionable for the parent disease through VA's likely-pathogenic evidence now and
    through VB's as of the older release (VA was uncertain then)."""
    now = cohort.cohort_actionable(two_releases, disease=PARENT, patients=frozenset({PATIENT}))
    then = cohort.cohort_actionable(
        two_releases, disease=PARENT, patients=frozenset({PATIENT}), state=knowledge_state(two_releases, OLD)
    )
    assert [(p.id, p.evidence) for p in now.patients] == [(PATIENT, ["asoftest@2021-06-01:A"])]
    assert now.releases == [NEW] and now.as_of is None
    assert [(p.id, p.evidence) for p in then.patients] == [(PATIENT, ["asoftest@2020-01-01:B"])]
    assert then.releases == [OLD] and then.as_of == OLD
    gone = cohort.cohort_actionable(
        two_releases, disease=PARENT, patients=frozenset({PATIENT}), state=knowledge_state(two_releases, "2020-06-01")
    )
    assert gone.releases == [OLD] and gone.as_of == "2020-06-01"
    phenotypes = cohort.cohort_phenotypes(
        two_releases, "CYP2C19", patients=frozenset(), state=knowledge_state(two_releases, OLD)
    )
    assert phenotypes.as_of == OLD and phenotypes.patients == 0 and phenotypes.releases == []


def test_patient_report_and_therapy_take_the_state(two_releases: Graph) -> None:
    state = knowledge_state(two_releases, OLD)
    report = patient_report.patient_report(two_releases, PATIENT, state)
    assert report.knowledge == f"as of {OLD}" and report.as_of == OLD
    assert {r.release for r in report.releases} == {OLD}
    assert therapy.targeted_therapies(two_releases, PATIENT, state=state) == []


# --- API and CLI ------------------------------------------------------------------------------------

RISKS = """query($id: String!, $asOf: String) {
  patient(id: $id) { risks(asOf: $asOf, includeNonRisk: true) { variant status classification releases asOf
                                                               lastRelease lastClassification } }
}"""


def test_graphql_as_of(two_releases: Graph, auth_settings: AuthSettings) -> None:
    with admin_client(two_releases.settings, auth_settings) as client:
        now = {r["variant"]: r for r in gql(client, RISKS, id=PATIENT)["data"]["patient"]["risks"]}
        assert now[VB]["status"] == "NO_CURRENT_CLASSIFICATION" and now[VB]["lastRelease"] == OLD
        then = {r["variant"]: r for r in gql(client, RISKS, id=PATIENT, asOf=OLD)["data"]["patient"]["risks"]}
        assert then[VA]["classification"] == "uncertain significance" and then[VA]["asOf"] == OLD
        assert then[VA]["releases"] == [OLD]  # the newer release is no part of that state
        bad = gql(client, RISKS, id=PATIENT, asOf="asoftest@1999-01-01")
        assert error_code(bad) == "BAD_INPUT" and "asoftest@1999-01-01" in bad["errors"][0]["message"]
        page = gql(
            client,
            'query($a: String) { evidence(filter: {source: "asoftest"}, asOf: $a) { totalCount releases asOf } }',
            a=OLD,
        )["data"]["evidence"]
        assert page == {"totalCount": 3, "releases": [OLD], "asOf": OLD}
        gene = gql(client, '{ gene(symbol: "BRAF") { symbol releases asOf } }')["data"]["gene"]
        assert gene["asOf"] is None and any(k.startswith("hgnc@") for k in gene["releases"])
        variant = gql(
            client, "query($q: String!, $a: String) { variant(query: $q, asOf: $a) { releases asOf } }", q=VB, a=OLD
        )
        assert variant["data"]["variant"] == {"releases": [OLD], "asOf": OLD}
        research = gql(
            client,
            """query($v: String!, $a: String, $p: String!) {
              neighbors(id: $v, label: "Variant", relationshipTypes: ["ABOUT"], asOf: $a) { releases asOf nodes { id } }
              paths(from: "asoftest@2020-01-01:A", to: $v, asOf: $a) { releases asOf }
              disease(query: $p, asOf: $a) { asOf children { id releases asOf } }
              cohortActionable(disease: $p, asOf: $a) { totalCount releases asOf patients { id evidence } }
            }""",
            v=VA,
            a=OLD,
            p=PARENT,
        )["data"]
        assert research["neighbors"]["releases"] == [OLD] and research["neighbors"]["asOf"] == OLD
        assert {n["id"] for n in research["neighbors"]["nodes"]} == {VA, "asoftest@2020-01-01:A"}
        assert research["paths"] == [{"releases": [OLD], "asOf": OLD}]
        assert research["disease"]["children"] == [{"id": OLD_CHILD, "releases": [OLD], "asOf": OLD}]
        actionable = research["cohortActionable"]
        assert actionable["releases"] == [OLD] and actionable["asOf"] == OLD
        assert {"id": PATIENT, "evidence": ["asoftest@2020-01-01:B"]} in actionable["patients"]
        current = gql(client, "query($p: String!) { disease(query: $p) { children { id asOf } } }", p=PARENT)
        assert current["data"]["disease"]["children"] == [
            {"id": OLD_CHILD, "asOf": None},
            {"id": NEW_CHILD, "asOf": None},
        ]
        bad = gql(client, '{ neighbors(id: "BRAF", asOf: "1900-01-01") { releases } }')
        assert error_code(bad) == "BAD_INPUT"
        html = client.get(f"/patients/{PATIENT}/report", params={"asOf": OLD})
        assert html.status_code == 200 and f"as of {OLD}" in html.text
        assert client.get(f"/patients/{PATIENT}/fhir", params={"asOf": "1900-01-01"}).status_code == 400


class CountingGraph(Graph):
    """The real graph, counting how often the knowledge state is read (one round trip per request)."""

    state_reads = 0

    def read(self, cypher: str, *args: Any, **params: Any) -> list[dict[str, Any]]:
        if cypher == KEPT_RELEASES:
            self.state_reads += 1
        return super().read(cypher, *args, **params)


def test_the_state_is_worked_out_once_per_request(two_releases: Graph) -> None:
    import anyio

    graph = CountingGraph(two_releases.settings)
    with graph:
        context = Context(graph=graph)

        async def twice() -> tuple[KnowledgeState | None, KnowledgeState | None, KnowledgeState | None]:
            return await context.state(OLD), await context.state(OLD), await context.state(None)

        first, second, current = anyio.run(twice)
        assert first is second and first is not None and current is None
        assert graph.state_reads == 1


def test_cli_as_of(two_releases: Graph, auth_settings: AuthSettings) -> None:
    from kg.cli import main

    env = cli_env(two_releases, auth_settings)
    runner = CliRunner()
    out = runner.invoke(main, ["export", PATIENT, "--phenopacket", "--as-of", OLD], env=env)
    assert out.exit_code == 0, out.output
    bad = runner.invoke(main, ["report", PATIENT, "--as-of", "asoftest@1999-01-01"], env=env)
    assert bad.exit_code == 1 and "no kept release" in bad.output
    now = runner.invoke(main, ["cohort", "actionable", "--disease", PARENT], env=env)
    then = runner.invoke(main, ["cohort", "actionable", "--disease", PARENT, "--as-of", OLD], env=env)
    assert now.exit_code == 0 and then.exit_code == 0, now.output + then.output
    assert PATIENT in now.output and f"releases: {NEW}" in now.output and "current" in now.output
    assert PATIENT in then.output and f"releases: {OLD}" in then.output and f"as of {OLD}" in then.output
    phenotypes = runner.invoke(main, ["cohort", "phenotypes", "CYP2C19", "--as-of", OLD], env=env)
    assert phenotypes.exit_code == 0 and f"as of {OLD}" in phenotypes.output, phenotypes.output
    audit = auth_settings.audit_log.read_text().splitlines()
    assert any('"cohortActionable"' in line and PATIENT in line for line in audit)
    assert any('"cohortPhenotypes"' in line and f'"asOf": "{OLD}"' in line for line in audit), audit[-3:]


def test_kg_match_as_of(two_releases: Graph, auth_settings: AuthSettings) -> None:
    from kg.cli import main
    from kg.queries.patients import delete_patient

    env = cli_env(two_releases, auth_settings)
    vcf = str(Path(__file__).resolve().parents[1] / "seeds" / "patients" / "demo.vcf")
    runner = CliRunner()
    refused = runner.invoke(main, ["match", vcf, "--patient", "asof-test-cli", "--as-of", "1900-01-01"], env=env)
    assert refused.exit_code == 1 and "no kept release is that old" in refused.output
    assert not two_releases.read("MATCH (p:Patient {id: 'asof-test-cli'}) RETURN p"), "nothing stored"
    cohort_run = runner.invoke(main, ["match", vcf, "--samples", "all", "--as-of", OLD], env=env)
    assert cohort_run.exit_code == 1 and "kg cohort actionable" in cohort_run.output
    try:
        out = runner.invoke(main, ["match", vcf, "--patient", "asof-test-cli", "--as-of", OLD], env=env)
        assert out.exit_code == 0, out.output
        assert f"answers for asof-test-cli (as of {OLD}):" in out.output and "  releases: " in out.output
    finally:
        delete_patient(two_releases, "asof-test-cli")

"""Actionable cohorts (kg.queries.cohort.cohort_actionable, issue 12 "cohort answers under 1 s") against an oracle.

The statement aggregates in the database (counts per route, recommendations grouped by their phenotype set,
the page from two top-k lists); these tests pin it to the answer's definition, computed in plain Python over the
same random graph: three random small graphs (each test its own ids), every kind of finding the module docstring
names -- evidence about a variant, a single or category profile, a complex profile with a negated member;
evidence not visible (another release, superseded, submitted) or not meaningful (benign, does not support);
recommendations for one or two phenotypes, "No recommendation", not active, without phenotypes -- and patients
with random variant and diplotype links (dense in one graph, sparse in another, so both ways of paging the
recommendation route run). Counts, releases and every page walked with the cursor must equal the oracle's, in
the current state and in a knowledge state given, for every patient and for a scope; ``page=False`` gives the
same counts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kg.db import Graph
from kg.queries.cohort import MAX_EVIDENCE_IDS, cohort_actionable
from kg.queries.visibility import KnowledgeState, PatientScope

PREFIX = "test-actionable-"
SIGNIFICANCES = ["sensitivity", "Pathogenic", "resistance", "Benign", "Uncertain significance", "not provided", None]


@dataclass
class World:
    """One random graph, as the oracle reads it."""

    prefix: str
    sources: dict[str, str]  # key -> status
    drug: str
    diseases: dict[str, str | None]  # id -> parent id
    variants: list[str]
    profiles: dict[str, tuple[str, list[tuple[str, bool]]]]  # id -> (kind, [(variant, negated)])
    evidence: list[dict[str, Any]]
    phenotypes: list[str]
    recommendations: list[dict[str, Any]]
    patients: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)  # id -> (variants, phenotypes)


def _world(seed: int, density: float) -> World:
    rng = random.Random(seed)
    px = f"{PREFIX}{seed}-"
    sources = {f"{px}src@1": "active", f"{px}src@2": "active", f"{px}old@1": "superseded", f"{px}gone@1": "retired"}
    keys = list(sources)
    diseases = {f"{px}D": None, f"{px}D-child": f"{px}D", f"{px}D-grandchild": f"{px}D-child", f"{px}other": None}
    variants = [f"{px}v{i}" for i in range(20)]
    profiles: dict[str, tuple[str, list[tuple[str, bool]]]] = {}
    for i in range(8):
        kind = rng.choice(["single", "complex", "complex", None])
        members = rng.sample(variants, 1 if kind == "single" else rng.randint(2, 3))
        negated = [kind == "complex" and j > 0 and (j == len(members) - 1) == (i % 2 == 0) for j in range(len(members))]
        profiles[f"{px}mp{i}"] = (kind or "category", list(zip(members, negated, strict=True)))
    evidence = []
    for i in range(40):
        about = rng.choice(variants + list(profiles))
        evidence.append(
            {
                "id": f"{px}e{i:02d}",
                "about": about,
                "drug": rng.random() < 0.6,
                "disease": rng.choice([*diseases, None]),
                "direction": rng.choice(["supports", "supports", "does not support", None]),
                "significance": rng.choice(SIGNIFICANCES),
                "status": rng.choice([None, None, None, "accepted", "SUBMITTED"]),
                "sources": rng.sample(keys, rng.choice([1, 1, 2])),
                "supersededBy": rng.choice([[], [], [], [f"{px}src@2"], [f"{px}gone@1"]]),
            }
        )
    for mp, (kind, _) in profiles.items():  # one visible, meaningful finding per complex profile
        if kind == "complex":
            evidence.append(
                {
                    "id": f"{px}ec-{mp}",
                    "about": mp,
                    "drug": True,
                    "disease": f"{px}D-child",
                    "direction": "supports",
                    "significance": "sensitivity",
                    "status": None,
                    "sources": [f"{px}src@1"],
                    "supersededBy": [],
                }
            )
    phenotypes = [f"{px}ph{i}" for i in range(6)]
    sets = [[phenotypes[0]], [phenotypes[1]], [phenotypes[0], phenotypes[2]], [phenotypes[3], phenotypes[4]], []]
    recommendations = []
    for i in range(12):
        recommendations.append(
            {
                "id": f"{px}r{i:02d}",
                "phenotypes": rng.choice(sets),
                "noRecommendation": rng.random() < 0.15,
                "strength": rng.choice(["Strong", "Moderate", "No recommendation", None]),
                "sources": rng.sample(keys, 1),
            }
        )
    world = World(px, sources, f"{px}drug", diseases, variants, profiles, evidence, phenotypes, recommendations)
    for i in range(45):
        held_v = {v for v in variants if rng.random() < 0.08}
        held_ph = {ph for ph in phenotypes if rng.random() < density}
        world.patients[f"{px}p{i:03d}"] = (held_v, held_ph)
    for mp, (kind, members) in profiles.items():  # per complex profile: all its members, and a negated one, or one
        if kind == "complex":
            wanted = {v for v, negated in members if not negated}
            unwanted = {v for v, negated in members if negated}
            world.patients[f"{px}q-{mp}-all"] = (wanted, set())
            world.patients[f"{px}q-{mp}-one"] = ({members[0][0]}, set())
            if unwanted:
                world.patients[f"{px}q-{mp}-negated"] = (wanted | unwanted, set())
    return world


def _write(graph: Graph, w: World) -> None:
    graph.write(
        "UNWIND $sources AS s CREATE (:Source {key: s.key, name: split(s.key, '@')[0], version: split(s.key, '@')[1], "
        "status: s.status})",
        sources=[{"key": k, "status": v} for k, v in w.sources.items()],
    )
    graph.write(
        "CREATE (d:Drug {id: $drug, name: $drug}) "
        "WITH d UNWIND $diseases AS x CREATE (:Disease {id: x.id, name: x.id})",
        drug=w.drug,
        diseases=[{"id": k} for k in w.diseases],
    )
    graph.write(
        "UNWIND $links AS l MATCH (c:Disease {id: l.child}), (p:Disease {id: l.parent}) CREATE (c)-[:IS_A]->(p)",
        links=[{"child": k, "parent": v} for k, v in w.diseases.items() if v],
    )
    # the drug and the diseases resolve in both states tested (src@1 is in each)
    graph.write(
        "MATCH (s:Source {key: $key}) MATCH (n) WHERE (n:Drug OR n:Disease) AND n.id STARTS WITH $px "
        "CREATE (n)-[:ASSERTED_BY]->(s)",
        key=f"{w.prefix}src@1",
        px=w.prefix,
    )
    graph.write("UNWIND $ids AS id CREATE (:Variant {id: id})", ids=w.variants)
    graph.write(
        "UNWIND $profiles AS mp CREATE (m:MolecularProfile {id: mp.id}) SET m.kind = mp.kind "
        "WITH m, mp UNWIND mp.members AS x MATCH (v:Variant {id: x.v}) CREATE (m)-[:INCLUDES {negated: x.negated}]->(v)",
        profiles=[
            {
                "id": k,
                "kind": None if kind == "category" else kind,
                "members": [{"v": v, "negated": n} for v, n in members],
            }
            for k, (kind, members) in w.profiles.items()
        ],
    )
    graph.write(
        "UNWIND $evidence AS x CREATE (e:Evidence {id: x.id}) "
        "SET e.direction = x.direction, e.significance = x.significance, e.status = x.status, "
        "    e.supersededBy = x.supersededBy "
        "WITH e, x OPTIONAL MATCH (v:Variant {id: x.about}) OPTIONAL MATCH (m:MolecularProfile {id: x.about}) "
        "WITH e, x, coalesce(v, m) AS a CREATE (e)-[:ABOUT]->(a) "
        "WITH e, x CALL (e, x) { MATCH (d:Drug {id: $drug}) WHERE x.drug CREATE (e)-[:FOR_DRUG]->(d) } "
        "WITH e, x CALL (e, x) { MATCH (d:Disease {id: x.disease}) CREATE (e)-[:FOR_DISEASE]->(d) } "
        "WITH e, x UNWIND x.sources AS key MATCH (s:Source {key: key}) CREATE (e)-[:ASSERTED_BY]->(s)",
        evidence=w.evidence,
        drug=w.drug,
    )
    graph.write("UNWIND $ids AS id CREATE (:Phenotype {id: id, gene: 'TESTGENE'})", ids=w.phenotypes)
    graph.write(
        "UNWIND $recs AS x MATCH (d:Drug {id: $drug}) CREATE (r:Recommendation {id: x.id, guideline: 'CPIC'})-[:FOR_DRUG]->(d) "
        "SET r.noRecommendation = x.noRecommendation, r.strength = x.strength "
        "WITH r, x CALL (r, x) { UNWIND x.phenotypes AS ph MATCH (n:Phenotype {id: ph}) CREATE (r)-[:FOR_PHENOTYPE]->(n) } "
        "WITH r, x UNWIND x.sources AS key MATCH (s:Source {key: key}) CREATE (r)-[:ASSERTED_BY]->(s)",
        recs=w.recommendations,
        drug=w.drug,
    )
    rows = [{"id": k, "variants": sorted(v), "phenotypes": sorted(ph)} for k, (v, ph) in w.patients.items()]
    graph.write(
        "UNWIND $patients AS x CREATE (p:Patient {id: x.id}) "
        "WITH p, x CALL (p, x) { UNWIND x.variants AS vid MATCH (v:Variant {id: vid}) "
        "  CREATE (p)-[:HAS_VARIANT {zygosity: 'heterozygous'}]->(v) } "
        "WITH p, x UNWIND x.phenotypes AS phid MATCH (ph:Phenotype {id: phid}) "
        "CREATE (p)-[:HAS_DIPLOTYPE {diplotype: '*1/*2'}]->(ph)",
        patients=rows,
    )
    # a second edge to the same phenotype for some patients (the matcher may link one per guideline)
    graph.write(
        "MATCH (p:Patient)-[:HAS_DIPLOTYPE]->(ph:Phenotype) WHERE p.id STARTS WITH $px AND p.id ENDS WITH '3' "
        "CREATE (p)-[:HAS_DIPLOTYPE {diplotype: '*2/*2'}]->(ph)",
        px=w.prefix,
    )


def _remove(graph: Graph, prefix: str) -> None:
    graph.write("MATCH (n) WHERE n.id STARTS WITH $px OR n.key STARTS WITH $px DETACH DELETE n", px=prefix)


# --- the oracle -------------------------------------------------------------------------------------


def _in_state(w: World, key: str, state: KnowledgeState | None) -> bool:
    return w.sources[key] == "active" if state is None else key in state.releases


def _visible(w: World, e: dict[str, Any], state: KnowledgeState | None) -> bool:
    accepted = (e["status"] or "ACCEPTED").upper() == "ACCEPTED"
    asserted = any(_in_state(w, k, state) for k in e["sources"])
    superseded = any(_in_state(w, k, state) for k in e["supersededBy"])
    return accepted and asserted and not superseded


def _meaningful(e: dict[str, Any]) -> bool:
    words = ("benign", "uncertain", "conflicting", "not provided")
    return (e["direction"] or "supports") == "supports" and not any(
        word in (e["significance"] or "").lower() for word in words
    )


def _descendants(w: World, root: str) -> set[str]:
    out = {root}
    while True:
        more = {k for k, parent in w.diseases.items() if parent in out} - out
        if not more:
            return out
        out |= more


def _satisfies(w: World, e: dict[str, Any], held: set[str]) -> bool:
    if e["about"] in w.variants:
        return e["about"] in held
    kind, members = w.profiles[e["about"]]
    wanted = {v for v, negated in members if not negated}
    unwanted = {v for v, negated in members if negated}
    if kind == "complex":
        return bool(wanted) and wanted <= held and not unwanted & held
    return bool(wanted & held)


def oracle(
    w: World, drug: bool, disease: str | None, scope: PatientScope, state: KnowledgeState | None
) -> tuple[tuple[int, int, int], list[str], list[tuple[str, list[str], int, list[str]]]]:
    """(total, via evidence, via recommendation), releases, and every actionable patient in id order."""
    diseases = _descendants(w, disease) if disease else set()
    evidence = [
        e
        for e in w.evidence
        if _visible(w, e, state)
        and _meaningful(e)
        and (e["drug"] if drug else True)
        and (e["disease"] in diseases if disease else True)
    ]
    recommendations = [
        r
        for r in w.recommendations
        if drug
        and not r["noRecommendation"]
        and (r["strength"] or "").lower() != "no recommendation"
        and any(_in_state(w, k, state) for k in r["sources"])
        and r["phenotypes"]
    ]
    rows = []
    releases: set[str] = set()
    for pid, (variants, phenotypes) in sorted(w.patients.items()):
        if scope is not None and pid not in scope:
            continue
        found = sorted(e["id"] for e in evidence if _satisfies(w, e, variants))
        recs = sorted(r["id"] for r in recommendations if set(r["phenotypes"]) <= phenotypes)
        if not found and not recs:
            continue
        for finding in [e for e in evidence if e["id"] in found] + [r for r in recommendations if r["id"] in recs]:
            releases |= {k for k in finding["sources"] if _in_state(w, k, state)}
        rows.append((pid, found[:MAX_EVIDENCE_IDS], len(found), recs))
    counts = (len(rows), sum(1 for r in rows if r[2]), sum(1 for r in rows if r[3]))
    return counts, sorted(releases), rows


# --- the tests --------------------------------------------------------------------------------------

WORLDS = [(1, 0.6), (2, 0.15), (3, 0.35)]  # seed, how often a patient holds each phenotype


@pytest.fixture(scope="module", params=WORLDS, ids=[f"world{s}" for s, _ in WORLDS])
def world(request: pytest.FixtureRequest, seeded: Graph) -> Iterator[tuple[Graph, World]]:
    seed, density = request.param
    w = _world(seed, density)
    _remove(seeded, w.prefix)
    _write(seeded, w)
    yield seeded, w
    _remove(seeded, w.prefix)


def _walk(graph: Graph, first: int, **kw: Any) -> tuple[Any, list[tuple[str, list[str], int, list[str]]]]:
    """Every page of ``first`` patients, the cursor the last id of the page before."""
    answer = cohort_actionable(graph, first=first, **kw)
    listed = []
    for _ in range(100):
        listed += [(p.id, p.evidence, p.evidence_count, p.recommendations) for p in answer.patients]
        if not answer.has_next:
            return answer, listed
        answer = cohort_actionable(graph, first=first, after=answer.patients[-1].id, **kw)
    raise AssertionError("the cursor did not reach the end")


def _questions(w: World) -> list[dict[str, Any]]:
    return [
        {"drug": w.drug},
        {"disease": f"{w.prefix}D"},
        {"disease": f"{w.prefix}D-child"},
        {"drug": w.drug, "disease": f"{w.prefix}D"},
    ]


def _states(w: World) -> list[KnowledgeState | None]:
    """The current state, and one with the superseded and retired releases but not src@2."""
    keys = (f"{w.prefix}src@1", f"{w.prefix}old@1", f"{w.prefix}gone@1")
    return [None, KnowledgeState(keys, "test", "test")]


def test_counts_releases_and_pages_equal_the_oracle(world: tuple[Graph, World]) -> None:
    graph, w = world
    scopes: list[PatientScope] = [None, frozenset([*sorted(w.patients)[::2], "test-actionable-nobody"])]
    checked = 0
    for question in _questions(w):
        for state in _states(w):
            for scope in scopes:
                counts, releases, rows = oracle(w, "drug" in question, question.get("disease"), scope, state)
                for first in (2, 7):
                    answer, listed = _walk(graph, first, patients=scope, state=state, **question)
                    where = f"{question} state={state and state.releases} scope={scope is not None} first={first}"
                    assert (answer.total_count, answer.via_evidence, answer.via_recommendation) == counts, where
                    assert answer.releases == releases, where
                    assert listed == rows, where
                    checked += bool(rows)
    assert checked  # the random graph has actionable patients to list


def test_a_page_after_any_patient_id_starts_after_it(world: tuple[Graph, World]) -> None:
    """A cursor that is no actionable patient's id (an id between two) lists from the next one."""
    graph, w = world
    _, _, rows = oracle(w, True, None, None, None)
    for pid in sorted(w.patients)[::5]:
        answer = cohort_actionable(graph, drug=w.drug, first=3, after=pid + "-", patients=None)
        after = [r for r in rows if r[0] > pid + "-"]
        assert [(p.id, p.evidence, p.evidence_count, p.recommendations) for p in answer.patients] == after[:3]
        assert answer.has_next == (len(after) > 3)


def test_counts_only_equal_the_paged_answer(world: tuple[Graph, World]) -> None:
    graph, w = world
    for question in _questions(w):
        for state in _states(w):
            paged = cohort_actionable(graph, patients=None, state=state, **question)
            counted = cohort_actionable(graph, patients=None, state=state, page=False, **question)
            assert (counted.total_count, counted.via_evidence, counted.via_recommendation, counted.releases) == (
                paged.total_count,
                paged.via_evidence,
                paged.via_recommendation,
                paged.releases,
            ), question
            assert counted.patients == [] and not counted.has_next

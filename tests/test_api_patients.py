"""Issue 5: the patient answers over GraphQL, on the seed releases (or the real ones, when loaded).

Patients are linked here directly (the matcher has its own tests); each test uses its own
patient id and removes it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.db import Graph
from tests.api_graph import bearer, token_for

PREFIX = "test-answers-"


@pytest.fixture(scope="module")
def kg(seeded: Graph) -> Iterator[Graph]:
    yield seeded
    seeded.write("MATCH (p:Patient) WHERE p.id STARTS WITH $p DETACH DELETE p", p=PREFIX)


@pytest.fixture(scope="module")
def client(kg: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    """A clinician granted every patient of the deployment."""
    token = token_for(auth_settings, Role.CLINICIAN, "test-api-clinician-all", all_patients=True)
    with TestClient(create_app(kg.settings, auth=auth_settings), headers=bearer(token)) as c:
        yield c


def _patient(
    graph: Graph,
    name: str,
    variants: list[tuple[str, str]] = (),
    condition: str | None = None,
    diplotypes: list[dict[str, Any]] = (),
) -> str:
    pid = PREFIX + name
    graph.write("MATCH (p:Patient {id: $id}) DETACH DELETE p", id=pid)
    graph.write("CREATE (:Patient {id: $id, assembly: 'GRCh38'})", id=pid)
    for variant_id, zygosity in variants:
        created = graph.write(
            "MATCH (p:Patient {id: $id}), (v:Variant {id: $v}) "
            "CREATE (p)-[:HAS_VARIANT {zygosity: $z, genotype: $gt, matchLevel: 'exact', sample: 'S'}]->(v) RETURN v.id AS id",
            id=pid,
            v=variant_id,
            z=zygosity,
            gt="0/1" if zygosity == "heterozygous" else "1/1",
        )
        assert created, f"{variant_id} is not in the graph"
    if condition:
        graph.write(
            "MATCH (p:Patient {id: $id}), (d:Disease {id: $d}) CREATE (p)-[:HAS_CONDITION]->(d)", id=pid, d=condition
        )
    for d in diplotypes:
        created = graph.write(
            "MATCH (p:Patient {id: $id}), (ph:Phenotype {id: $ph}) "
            "CREATE (p)-[:HAS_DIPLOTYPE {gene: ph.gene, diplotype: $dip, status: $status, ambiguous: $amb, "
            "candidates: $cands, missingPositions: $missing, source: 'vcf'}]->(ph) RETURN ph.id AS id",
            id=pid,
            ph=d["phenotype"],
            dip=d.get("diplotype"),
            status=d.get("status", "called"),
            amb=d.get("ambiguous", False),
            cands=d.get("candidates", []),
            missing=d.get("missing", []),
        )
        assert created, f"{d['phenotype']} is not in the graph"
    return pid


def _ask(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in body, body["errors"]
    return body["data"]


THERAPIES = """
query($id: String!, $disease: String) { patient(id: $id) { targetedTherapies(disease: $disease) {
  evidenceId isAssertion significance direction level ampTier therapies therapyInteraction
  drugs { id } disease { id name } diseaseRelation pmids matchLevels
  path { start { id label } relationship end { id label } }
  sources { release fact } } } }
"""


def _exact_variant(graph: Graph, gene: str, change: str) -> str:
    rows = graph.read(
        "MATCH (v:Variant {gene: $g, proteinChange: $c, kind: 'exact'}) RETURN v.id AS id", g=gene, c=change
    )
    assert rows, f"no exact {gene} {change} in the graph"
    return rows[0]["id"]


def test_braf_v600e_in_melanoma(kg: Graph, client: TestClient) -> None:
    pid = _patient(kg, "braf", [("GRCh38:chr7:140753336:A:T", "heterozygous")], condition="DOID:1909")
    items = _ask(client, THERAPIES, id=pid, disease="melanoma")["patient"]["targetedTherapies"]
    sensitive = [i for i in items if i["direction"] == "supports" and "sensitivity" in (i["significance"] or "")]
    singles = {t for i in sensitive for t in i["therapies"] if len(i["therapies"]) == 1}
    combos = [i for i in sensitive if {t.lower() for t in i["therapies"]} == {"dabrafenib", "trametinib"}]
    assert "Vemurafenib" in singles
    assert any(c["therapyInteraction"] == "combination" for c in combos if not c["isAssertion"])
    for item in sensitive:
        assert (item["level"] in "ABCDE" and item["pmids"]) or item["isAssertion"]
    # every item's disease is melanoma, or its ancestor / descendant: never colorectal-only evidence
    assert {i["diseaseRelation"] for i in items} <= {"same", "ancestor", "descendant"}
    assert not [i for i in items if i["disease"] and "colorectal" in i["disease"]["name"].lower()]
    colorectal = kg.read(
        "MATCH (e:Evidence {type: 'predictive'})-[:ABOUT]->(:MolecularProfile)-[:INCLUDES]->(:Variant {id: $v}), "
        "(e)-[:FOR_DISEASE]->(:Disease {id: 'DOID:9256'}) RETURN e.id AS id",
        v="GRCh38:chr7:140753336:A:T",
    )
    assert colorectal, "the data has colorectal BRAF V600E evidence to leave out"
    assert not {r["id"] for r in colorectal} & {i["evidenceId"] for i in items}
    # strongest first: levels never go back to a stronger one after the assertions
    levels = [i["level"] for i in items if not i["isAssertion"]]
    assert levels == sorted(levels, key=lambda x: "ABCDE".index(x) if x in "ABCDE" else 9)
    first = items[0]
    assert first["path"][0]["start"]["id"] == pid and first["path"][0]["relationship"] == "HAS_VARIANT"
    assert any(s["release"].startswith("civic@") for s in first["sources"])


def test_egfr_t790m_resistance_and_sensitivity(kg: Graph, client: TestClient) -> None:
    pid = _patient(kg, "egfr", [(_exact_variant(kg, "EGFR", "T790M"), "heterozygous")], condition="DOID:3908")
    items = _ask(client, THERAPIES, id=pid, disease="DOID:3908")["patient"]["targetedTherapies"]
    supported = [(t.lower(), i["significance"]) for i in items if i["direction"] == "supports" for t in i["therapies"]]
    assert ("erlotinib", "resistance") in supported
    assert ("osimertinib", "sensitivity/response") in supported
    against = [i for i in items if i["direction"] == "does not support"]
    assert all(i["direction"] != "supports" for i in against)  # never shown as support


PGX = """
query($id: String!, $drug: String) { patient(id: $id) { pharmacogenomics(drug: $drug) {
  drug { id } guideline state reason genes genesWithoutResult
  diplotypes { gene diplotype phenotype phenotypes ambiguous candidates missingPositions }
  recommendations { id guideline text strength population citations phenotypes
                    path { start { id } relationship end { id } } sources { release } } } } }
"""


def test_cyp2c19_poor_metabolizer_clopidogrel(kg: Graph, client: TestClient) -> None:
    pid = _patient(kg, "cyp2c19", diplotypes=[{"phenotype": "CYP2C19:Poor Metabolizer", "diplotype": "*2/*2"}])
    answers = _ask(client, PGX, id=pid, drug="clopidogrel")["patient"]["pharmacogenomics"]
    cpic = [a for a in answers if a["guideline"] == "CPIC"]
    assert cpic and cpic[0]["state"] == "RECOMMENDATION"
    recs = cpic[0]["recommendations"]
    for rec in recs:  # CPIC 2022 words it per indication (population); each says: use an alternative
        assert "CYP2C19:Poor Metabolizer" in rec["phenotypes"]
        assert rec["strength"] and rec["text"] and rec["citations"]
        assert "avoid clopidogrel" in rec["text"].lower() or "alternative" in rec["text"].lower()
        assert rec["path"][0]["start"]["id"] == pid
    assert any(r["population"] for r in recs)


def test_missing_positions_make_an_ambiguous_answer(kg: Graph, client: TestClient) -> None:
    pid = _patient(
        kg,
        "tpmt",
        diplotypes=[
            {
                "phenotype": "TPMT:Intermediate Metabolizer",
                "diplotype": "*1/*3A",
                "ambiguous": True,
                "candidates": ["*1/*3A", "*3B/*3C"],
                "missing": [],
            },
            {
                "phenotype": "TPMT:Poor Metabolizer",
                "diplotype": "*1/*3A",
                "ambiguous": True,
                "candidates": ["*1/*3A", "*3B/*3C"],
                "missing": [],
            },
        ],
    )
    # mercaptopurine: DPWG has a TPMT-only guideline, CPIC's needs NUDT15 as well
    answers = _ask(client, PGX, id=pid, drug="mercaptopurine")["patient"]["pharmacogenomics"]
    tpmt_only = [a for a in answers if a["genes"] == ["TPMT"]]
    assert tpmt_only and all(a["state"] == "AMBIGUOUS" for a in tpmt_only)
    assert {len(a["recommendations"]) for a in tpmt_only} == {2}  # one per candidate phenotype
    needs_nudt15 = [a for a in answers if "NUDT15" in a["genes"]]
    assert needs_nudt15 and all(a["genesWithoutResult"] == ["NUDT15"] and "NUDT15" in a["reason"] for a in needs_nudt15)
    # CPIC keys recommendations on "NUDT15: No Result" (issue 15): given, per TPMT candidate
    cpic = [a for a in needs_nudt15 if a["guideline"] == "CPIC"]
    assert cpic and all(a["state"] == "AMBIGUOUS" for a in cpic)
    assert all("NUDT15:No Result" in r["phenotypes"] for a in cpic for r in a["recommendations"])
    # DPWG's NUDT15 guideline has no such key: it cannot be determined
    nudt15_only = [a for a in needs_nudt15 if a["genes"] == ["NUDT15"]]
    assert nudt15_only and all(a["state"] == "CANNOT_BE_DETERMINED" and not a["recommendations"] for a in nudt15_only)
    tpmt = next(d for a in answers for d in a["diplotypes"] if d["gene"] == "TPMT")
    assert tpmt["ambiguous"] and set(tpmt["candidates"]) == {"*1/*3A", "*3B/*3C"}


def test_uncalled_gene_cannot_be_determined(kg: Graph, client: TestClient) -> None:
    pid = _patient(kg, "nocall", diplotypes=[{"phenotype": "CYP2C19:Poor Metabolizer", "diplotype": "*2/*2"}])
    # a called CYP2C19 says nothing about DPYD, which every fluorouracil guideline needs
    answers = _ask(client, PGX, id=pid, drug="fluorouracil")["patient"]["pharmacogenomics"]
    needs_dpyd = [a for a in answers if "DPYD" in a["genes"]]
    assert needs_dpyd
    assert all(a["state"] in ("CANNOT_BE_DETERMINED", "RECOMMENDATION") for a in needs_dpyd)
    undetermined = [a for a in needs_dpyd if a["state"] == "CANNOT_BE_DETERMINED"]
    assert undetermined and "DPYD" in undetermined[0]["reason"]


RISKS = """
query($id: String!, $all: Boolean!) { patient(id: $id) { risks(includeNonRisk: $all) {
  gene variant classification reviewStatus stars status reason zygosity inheritance
  path { relationship } sources { release } } } }
"""


def _clinvar_variant(graph: Graph, classification: str, gene: str | None = None, *also: str) -> str:
    """A ClinVar variant of that classification (or one of ``also``) and no other live evidence."""
    rows = graph.read(
        "MATCH (e:Evidence {source: 'clinvar'})-[:ABOUT]->(v:Variant) "
        "WHERE e.classification IN $c AND NOT EXISTS { MATCH (x:Source {status: 'active'}) WHERE x.key IN coalesce(e.supersededBy, []) } AND ($g IS NULL OR v.gene = $g) "
        "AND NOT EXISTS { (v)<-[:ABOUT]-(o:Evidence) WHERE o <> e AND NOT EXISTS { MATCH (x:Source {status: 'active'}) WHERE x.key IN coalesce(o.supersededBy, []) } } "
        "RETURN v.id AS id ORDER BY coalesce(e.stars, 0) DESC, v.id LIMIT 1",
        c=[classification, *also],
        g=gene,
    )
    assert rows, f"no {classification} ClinVar variant{' in ' + gene if gene else ''}"
    return rows[0]["id"]


def test_benign_is_never_a_risk(kg: Graph, client: TestClient) -> None:
    benign = _clinvar_variant(kg, "benign")
    pid = _patient(kg, "benign", [(benign, "heterozygous")])
    assert _ask(client, RISKS, id=pid, all=False)["patient"]["risks"] == []
    listed = _ask(client, RISKS, id=pid, all=True)["patient"]["risks"]
    assert [r["status"] for r in listed] == ["NOT_A_RISK"] and listed[0]["classification"] == "benign"


def test_pathogenic_brca_is_a_risk_and_mutyh_makes_a_carrier(kg: Graph, client: TestClient) -> None:
    brca = _clinvar_variant(kg, "pathogenic", "BRCA2")
    mutyh = _clinvar_variant(kg, "pathogenic", "MUTYH", "likely pathogenic")
    pid = _patient(kg, "risk", [(brca, "heterozygous"), (mutyh, "heterozygous")])
    findings = {r["gene"]: r for r in _ask(client, RISKS, id=pid, all=False)["patient"]["risks"]}
    assert findings["BRCA2"]["status"] == "AT_RISK" and findings["BRCA2"]["stars"] is not None
    assert findings["MUTYH"]["status"] == "CARRIER" and "recessive" in findings["MUTYH"]["reason"]
    assert findings["BRCA2"]["path"][0]["relationship"] == "HAS_VARIANT"
    assert any(s["release"].startswith("clinvar@") for s in findings["BRCA2"]["sources"])


def test_unknown_patient_is_null_and_unknown_disease_is_bad_input(kg: Graph, client: TestClient) -> None:
    assert _ask(client, '{ patient(id: "no-such-patient") { id } }')["patient"] is None
    pid = _patient(kg, "baddisease")
    body = client.post(
        "/graphql", json={"query": THERAPIES, "variables": {"id": pid, "disease": "not a disease xyz"}}
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_INPUT"


def test_over_deep_query_is_refused(client: TestClient) -> None:
    deep = '{ disease(query: "DOID:1909") { ' + "parents { " * 12 + "id" + " }" * 12 + " } }"
    body = client.post("/graphql", json={"query": deep}).json()
    assert body.get("errors") and "depth" in body["errors"][0]["message"].lower()


def test_answers_for_an_unknown_patient_raise(kg: Graph) -> None:
    from kg.queries import pgx, risk, therapy
    from kg.queries.answers import UnknownPatient

    for answer in (risk.risks, pgx.pharmacogenomics, therapy.targeted_therapies):
        with pytest.raises(UnknownPatient):
            answer(kg, "no-such-patient-xyz")
    with pytest.raises(UnknownPatient):
        therapy.targeted_therapies(kg, "no-such-patient-xyz", "DOID:1909")

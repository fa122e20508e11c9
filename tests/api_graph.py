"""A small graph for the API tests, every key prefixed ``test-api`` so it never meets real data.

Shape (docs/GRAPH_MODEL.md): two releases (one active, one still loading), a gene with an alias,
three variants (two share a protein change), a molecular profile, two drugs, a disease tree
root > lung > adenocarcinoma plus an obsolete term, 30 evidence items, patients with variants
and diplotypes, and guideline recommendations (one a "no recommendation").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.access.tokens import create_token
from kg.config import Settings
from kg.db import Graph

GENE = "TEST-API-G1"
V1 = "GRCh38:chr22:1000001:C:G"  # TEST-API-G1 V34E, rs999000001, in profile test-api:MP1
V2 = "GRCh38:chr22:1000010:T:A"  # TEST-API-G1 L35Q
V3 = "GRCh38:chr22:1000011:T:G"  # TEST-API-G1 L35Q as well: the protein change is ambiguous
MP1 = "test-api:MP1"
DRUG1, DRUG2, DRUG3 = "test-api-drugone", "test-api-drugtwo", "test-api-drugthree"
D_ROOT, D_LUNG, D_ADENO, D_OTHER, D_OLD = (
    "TESTAPI:0001",
    "TESTAPI:0002",
    "TESTAPI:0003",
    "TESTAPI:0004",
    "TESTAPI:0009",
)
PHENO_PM, PHENO_NM = "TEST-API-PG:Poor Metabolizer", "TEST-API-PG:Normal Metabolizer"
SOURCE = "test-api@1"
LOADING = "test-api-next@2"

# Evidence: 12 predictive on the profile (drug one, adenocarcinoma), 6 prognostic on V1 (other disease),
# 6 diagnostic on the gene itself (lung), 6 predictive on V2 (drug two, root disease), plus the
# invisible ones: one only asserted by a loading release, one SUBMITTED; and one CIViC-style 'accepted'.
VISIBLE_TEST_EVIDENCE = 12 + 6 + 6 + 6 + 1

SETUP = [
    """
    MERGE (s:Source {key: $source})
    SET s.name = 'test-api', s.version = '1', s.status = 'active', s.licence = 'CC0 1.0',
        s.loadedAt = '2026-01-01T00:00:00+00:00'
    MERGE (l:Source {key: $loading})
    SET l.name = 'test-api-next', l.version = '2', l.status = 'loading', l.licence = 'CC0 1.0'
    """,
    """
    MATCH (s:Source {key: $source})
    MERGE (g:Gene {symbol: $gene}) SET g.name = 'test api gene one'
    MERGE (g)-[:ASSERTED_BY]->(s)
    MERGE (a:GeneAlias {name: 'test-api-alias1'}) MERGE (a)-[:ALIAS_OF {kind: 'alias'}]->(g)
    WITH s, g
    UNWIND [
      {id: $v1, pos: 1000001, ref: 'C', alt: 'G', change: 'V34E', rsid: 'rs999000001',
       hgvs: ['NM_999001.1:c.100C>G', 'NP_999001.1:p.Val34Glu']},
      {id: $v2, pos: 1000010, ref: 'T', alt: 'A', change: 'L35Q', rsid: 'rs999000002', hgvs: ['NM_999001.1:c.104T>A']},
      {id: $v3, pos: 1000011, ref: 'T', alt: 'G', change: 'L35Q', rsid: null, hgvs: ['NM_999001.1:c.105T>G']}
    ] AS row
    MERGE (v:Variant {id: row.id})
    SET v.chrom = 'chr22', v.pos = row.pos, v.ref = row.ref, v.alt = row.alt, v.assembly = 'GRCh38',
        v.rsid = row.rsid, v.hgvs = row.hgvs, v.proteinChange = row.change, v.gene = $gene,
        v.name = $gene + ' ' + row.change, v.kind = 'exact'
    MERGE (v)-[:ASSERTED_BY]->(s)
    MERGE (v)-[:IN_GENE {releases: [$source]}]->(g)
    """,
    """
    MATCH (s:Source {key: $source}), (v:Variant {id: $v1})
    MERGE (mp:MolecularProfile {id: $mp1}) SET mp.name = $gene + ' V34E', mp.kind = 'single'
    MERGE (mp)-[:ASSERTED_BY]->(s)
    MERGE (mp)-[:INCLUDES {releases: [$source], negated: false}]->(v)
    WITH s
    UNWIND [{id: $drug1, name: 'Test-API-Drugone', synonyms: ['TAD-1', 'Testapimab']},
            {id: $drug2, name: 'Test-API-Drugtwo', synonyms: []},
            {id: $drug3, name: 'Test-API-Drugthree', synonyms: []}] AS row
    MERGE (d:Drug {id: row.id}) SET d.name = row.name, d.synonyms = row.synonyms, d.rxnormId = 'test-api-rx'
    MERGE (d)-[:ASSERTED_BY]->(s)
    WITH s, d, row
    UNWIND [row.name] + row.synonyms AS name
    MERGE (dn:DrugName {name: toLower(name)})
    MERGE (dn)-[:NAME_OF {releases: [$source]}]->(d)
    MERGE (dn)-[:ASSERTED_BY]->(s)
    """,
    """
    MATCH (s:Source {key: $source})
    UNWIND [
      {id: $root, name: 'test api cancer', synonyms: [], parent: null},
      {id: $lung, name: 'test api lung cancer', synonyms: ['test api NSCLC'], parent: $root},
      {id: $adeno, name: 'test api lung adenocarcinoma', synonyms: [], parent: $lung},
      {id: $other, name: 'test api other disease', synonyms: [], parent: null},
      {id: $old, name: 'obsolete test api lung tumour', synonyms: [], parent: null}
    ] AS row
    MERGE (d:Disease {id: row.id})
    SET d.name = row.name, d.synonyms = row.synonyms, d.obsolete = (row.id = $old),
        d.replacedBy = CASE WHEN row.id = $old THEN $lung END, d.xrefs = []
    MERGE (d)-[:ASSERTED_BY]->(s)
    WITH s, d, row
    UNWIND [row.name] + row.synonyms AS name
    MERGE (dn:DiseaseName {name: toLower(name)})
    MERGE (dn)-[:NAME_OF {releases: [$source]}]->(d)
    MERGE (dn)-[:ASSERTED_BY]->(s)
    """,
    """
    MATCH (root:Disease {id: $root}), (lung:Disease {id: $lung}), (adeno:Disease {id: $adeno}),
          (old:Disease {id: $old}), (s:Source {key: $source})
    MERGE (lung)-[:IS_A {releases: [$source]}]->(root)
    MERGE (adeno)-[:IS_A {releases: [$source]}]->(lung)
    MERGE (old)-[:REPLACED_BY {releases: [$source]}]->(lung)
    MERGE (x:DiseaseXref {id: 'TESTAPIX:42'}) SET x.prefix = 'TESTAPIX'
    MERGE (x)-[:XREF_OF {kind: 'xref', release: $source}]->(adeno)
    MERGE (x)-[:ASSERTED_BY]->(s)
    """,
    """
    MATCH (s:Source {key: $source}), (mp:MolecularProfile {id: $mp1}), (v1:Variant {id: $v1}),
          (v2:Variant {id: $v2}), (g:Gene {symbol: $gene}),
          (d1:Drug {id: $drug1}), (d2:Drug {id: $drug2}),
          (adeno:Disease {id: $adeno}), (other:Disease {id: $other}), (lung:Disease {id: $lung}),
          (root:Disease {id: $root})
    UNWIND range(1, 30) AS n
    WITH s, mp, v1, v2, g, d1, d2, adeno, other, lung, root, n,
         CASE WHEN n <= 12 THEN 'predictive' WHEN n <= 18 THEN 'prognostic'
              WHEN n <= 24 THEN 'diagnostic' ELSE 'predictive' END AS type
    MERGE (e:Evidence {id: 'test-api:E' + right('0' + toString(n), 2)})
    SET e.source = 'test-api', e.type = type, e.level = CASE WHEN n % 2 = 0 THEN 'B' ELSE 'C' END,
        e.direction = 'supports',
        e.significance = CASE type WHEN 'predictive' THEN 'sensitivity' WHEN 'prognostic' THEN 'poor outcome'
                         ELSE 'positive' END,
        e.statement = 'test api statement ' + toString(n), e.pmids = [toString(1000 + n)], e.origin = 'somatic'
    MERGE (e)-[:ASSERTED_BY]->(s)
    FOREACH (_ IN CASE WHEN n <= 12 THEN [1] ELSE [] END |
      MERGE (e)-[:ABOUT {releases: [$source]}]->(mp) MERGE (e)-[:FOR_DRUG {releases: [$source]}]->(d1)
      MERGE (e)-[:FOR_DISEASE {releases: [$source]}]->(adeno))
    FOREACH (_ IN CASE WHEN 12 < n <= 18 THEN [1] ELSE [] END |
      MERGE (e)-[:ABOUT {releases: [$source]}]->(v1) MERGE (e)-[:FOR_DISEASE {releases: [$source]}]->(other))
    FOREACH (_ IN CASE WHEN 18 < n <= 24 THEN [1] ELSE [] END |
      MERGE (e)-[:ABOUT {releases: [$source]}]->(g) MERGE (e)-[:FOR_DISEASE {releases: [$source]}]->(lung))
    FOREACH (_ IN CASE WHEN n > 24 THEN [1] ELSE [] END |
      MERGE (e)-[:ABOUT {releases: [$source]}]->(v2) MERGE (e)-[:FOR_DRUG {releases: [$source]}]->(d2)
      MERGE (e)-[:FOR_DISEASE {releases: [$source]}]->(root))
    """,
    """
    MATCH (s:Source {key: $source}), (l:Source {key: $loading}), (v1:Variant {id: $v1}), (d1:Drug {id: $drug1}),
          (adeno:Disease {id: $adeno})
    MERGE (loading:Evidence {id: 'test-api:X-loading'})
    SET loading.source = 'test-api', loading.type = 'predictive', loading.significance = 'resistance'
    MERGE (loading)-[:ASSERTED_BY]->(l)
    MERGE (loading)-[:ABOUT]->(v1) MERGE (loading)-[:FOR_DRUG]->(d1) MERGE (loading)-[:FOR_DISEASE]->(adeno)
    MERGE (sub:Evidence {id: 'test-api:X-submitted'})
    SET sub.source = 'test-api', sub.type = 'predictive', sub.significance = 'resistance', sub.status = 'SUBMITTED'
    MERGE (sub)-[:ASSERTED_BY]->(s)
    MERGE (sub)-[:ABOUT]->(v1) MERGE (sub)-[:FOR_DRUG]->(d1) MERGE (sub)-[:FOR_DISEASE]->(adeno)
    MERGE (acc:Evidence {id: 'test-api:Y-civic-style'})
    SET acc.source = 'test-api', acc.type = 'functional', acc.significance = 'gain of function',
        acc.status = 'accepted', acc.level = 'D', acc.direction = 'supports'
    MERGE (acc)-[:ASSERTED_BY]->(s)
    MERGE (acc)-[:ABOUT]->(v1)
    """,
    """
    MATCH (s:Source {key: $source}), (v1:Variant {id: $v1}), (v2:Variant {id: $v2}),
          (d2:Drug {id: $drug2}), (d3:Drug {id: $drug3}), (adeno:Disease {id: $adeno})
    MERGE (pm:Phenotype {id: $pm}) SET pm.gene = 'TEST-API-PG', pm.phenotype = 'Poor Metabolizer'
    MERGE (nm:Phenotype {id: $nm}) SET nm.gene = 'TEST-API-PG', nm.phenotype = 'Normal Metabolizer'
    MERGE (pm)-[:ASSERTED_BY]->(s) MERGE (nm)-[:ASSERTED_BY]->(s)
    MERGE (pg:Gene {symbol: 'TEST-API-PG'}) MERGE (pg)-[:ASSERTED_BY]->(s)
    MERGE (r1:Recommendation {id: 'test-api:R1'})
    SET r1.guideline = 'CPIC', r1.text = 'Use an alternative drug.', r1.strength = 'Strong', r1.noRecommendation = false
    MERGE (r1)-[:FOR_PHENOTYPE]->(pm) MERGE (r1)-[:FOR_DRUG]->(d3) MERGE (r1)-[:ASSERTED_BY]->(s)
    MERGE (r2:Recommendation {id: 'test-api:R2'})
    SET r2.guideline = 'CPIC', r2.text = 'No recommendation', r2.strength = 'No recommendation',
        r2.noRecommendation = true
    MERGE (r2)-[:FOR_PHENOTYPE]->(nm) MERGE (r2)-[:FOR_DRUG]->(d3) MERGE (r2)-[:ASSERTED_BY]->(s)
    WITH v1, v2, pm, nm, adeno
    UNWIND [
      {id: 'test-api-p1', variants: [$v1], pheno: $pm},
      {id: 'test-api-p2', variants: [$v1, $v2], pheno: $nm},
      {id: 'test-api-p3', variants: [$v2], pheno: $pm},
      {id: 'test-api-p4', variants: [], pheno: $nm},
      {id: 'test-api-p5', variants: [$v3], pheno: null}
    ] AS row
    MERGE (p:Patient {id: row.id})
    MERGE (p)-[:HAS_CONDITION]->(adeno)
    FOREACH (vid IN row.variants |
      MERGE (v:Variant {id: vid}) MERGE (p)-[:HAS_VARIANT {zygosity: 'heterozygous', genotype: '0/1'}]->(v))
    FOREACH (ph IN CASE WHEN row.pheno IS NULL THEN [] ELSE [row.pheno] END |
      MERGE (x:Phenotype {id: ph}) MERGE (p)-[:HAS_DIPLOTYPE {diplotype: '*1/*2', ambiguous: false}]->(x))
    """,
]

PARAMS = dict(
    source=SOURCE,
    loading=LOADING,
    gene=GENE,
    v1=V1,
    v2=V2,
    v3=V3,
    mp1=MP1,
    drug1=DRUG1,
    drug2=DRUG2,
    drug3=DRUG3,
    root=D_ROOT,
    lung=D_LUNG,
    adeno=D_ADENO,
    other=D_OTHER,
    old=D_OLD,
    pm=PHENO_PM,
    nm=PHENO_NM,
)


def build(graph: Graph) -> None:
    """Write the test graph (idempotent: MERGE throughout)."""
    for statement in SETUP:
        graph.write(statement, **PARAMS)
    graph.write("CALL db.awaitIndexes(60)")


def cleanup(graph: Graph) -> None:
    """Delete everything keyed ``test-api`` (any case), the curated submissions of the tests included."""
    graph.write(
        """
        MATCH (n)
        WHERE any(k IN ['id', 'symbol', 'key', 'name']
                  WHERE toLower(toString(n[k])) STARTS WITH 'test-api' OR toString(n[k]) STARTS WITH 'TESTAPI')
           OR (n:Evidence AND n.submittedBy STARTS WITH 'test-api')
        DETACH DELETE n
        """
    )
    graph.write("MATCH (v:Variant) WHERE v.id IN $ids DETACH DELETE v", ids=[V1, V2, V3])


# --- fixtures shared by tests/test_api_*.py (import them into the test module) -------------


@pytest.fixture(scope="module")
def api_graph(seeded: Graph) -> Iterator[Graph]:
    """The seeds plus the test graph above, removed again when the module's tests are done."""
    cleanup(seeded)
    build(seeded)
    try:
        yield seeded
    finally:
        cleanup(seeded)


def token_for(auth: AuthSettings, role: Role, name: str | None = None, **grants: Any) -> str:
    """A real token from kg.access.tokens (what ``kg token create`` prints), named ``test-api-<role>``
    unless ``name`` is given; ``grants``: ``patients=frozenset(...)`` or ``all_patients=True``."""
    return create_token(auth, role, name=name or f"test-api-{role.value}", **grants).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_client(settings: Settings, auth: AuthSettings, **options: Any) -> TestClient:
    """The app over ``settings`` as an admin calls it (every permission: hostile inputs reach the code
    behind the access checks)."""
    return TestClient(create_app(settings, auth=auth), headers=bearer(token_for(auth, Role.ADMIN)), **options)


@pytest.fixture(scope="module")
def client(api_graph: Graph, auth_settings: AuthSettings) -> Iterator[TestClient]:
    """The API as an admin sees it (every permission, every patient)."""
    app = create_app(api_graph.settings, auth=auth_settings)
    with TestClient(app, headers=bearer(token_for(auth_settings, Role.ADMIN))) as c:
        yield c


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    """POST one GraphQL operation; the JSON body (data and/or errors)."""
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return (errors[0].get("extensions") or {}).get("code") if errors else None

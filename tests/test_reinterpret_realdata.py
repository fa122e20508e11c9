"""Re-interpretation with the real ClinVar releases (issue 8): 2026-02-26 on top of 2024-06-01.

The state before the 2026 load is ClinVar as of its 2024-06-01 release, every other source current
(kg.queries.visibility.knowledge_state with that key); the state after is the current one. Alleles
are picked from the graph by what the two releases say, and a patient carrying them is stored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg.db import Graph
from kg.queries import patients as pq
from kg.queries.changes import ChangeKind, patient_changes, reinterpret
from kg.queries.visibility import knowledge_state
from tests.test_reinterpret import store_patient

OLD, NEW = "clinvar@2024-06-01", "clinvar@2026-02-26"
PATIENT = "test-reinterp-real"

#: Alleles whose only classifications are one of each release, with the old and new class given.
ONLY_TWO = """
MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(o:Evidence {type: 'pathogenicity'})-[:ABOUT]->(v:Variant)
      <-[:ABOUT]-(n:Evidence {type: 'pathogenicity'})-[:ASSERTED_BY]->(:Source {key: $new})
WHERE o.classification IN $was AND n.classification IN $now AND v.kind = 'exact'
  AND COUNT { (v)<-[:ABOUT]-(x:Evidence) WHERE x.type IN ['pathogenicity', 'predisposing'] } = 2
  AND NOT EXISTS { (v)<-[:INCLUDES]-(:MolecularProfile) }
RETURN v.id AS id ORDER BY id LIMIT 1
"""

ONLY_NEW = """
MATCH (:Source {key: $new})<-[:ASSERTED_BY]-(n:Evidence {type: 'pathogenicity'})-[:ABOUT]->(v:Variant)
WHERE n.classification IN ['pathogenic', 'likely pathogenic'] AND v.kind = 'exact'
  AND COUNT { (v)<-[:ABOUT]-(x:Evidence) WHERE x.type IN ['pathogenicity', 'predisposing'] } = 1
  AND NOT EXISTS { (v)<-[:INCLUDES]-(:MolecularProfile) }
RETURN v.id AS id ORDER BY id LIMIT 1
"""

RISK = ["pathogenic", "likely pathogenic"]


def _one(graph: Graph, query: str, **params: object) -> str:
    rows = graph.read(query, old=OLD, new=NEW, **params)
    assert rows, f"no allele for {params}"
    return str(rows[0]["id"])


@pytest.fixture()
def patient(real_data: Graph) -> Iterator[dict[str, str]]:
    graph = real_data
    alleles = {
        "vus_to_lp": _one(graph, ONLY_TWO, was=["uncertain significance"], now=RISK),
        "lp_to_vus": _one(graph, ONLY_TWO, was=RISK, now=["uncertain significance"]),
        "only_new": _one(graph, ONLY_NEW),
    }
    store_patient(graph, PATIENT, list(alleles.values()))
    yield alleles
    pq.delete_patient(graph, PATIENT)


def test_real_reclassifications_reach_the_patient_who_carries_them(real_data: Graph, patient: dict[str, str]) -> None:
    graph = real_data
    before, after = knowledge_state(graph, OLD), knowledge_state(graph)
    assert NEW not in before.releases and OLD in before.releases and NEW in after.releases
    report = reinterpret(graph, before, after, NEW)
    assert report.changed_facts > 1000  # thousands of alleles in the PALB2, MLH1, ATM, BRCA1/2 ... windows
    kinds = {c.allele: c for c in patient_changes(graph, PATIENT)}
    found = kinds[patient["vus_to_lp"]]
    assert found.kind == ChangeKind.NEW_FINDING
    assert found.old_class == "uncertain significance" and found.new_class in RISK
    assert found.old_evidence[0].startswith(OLD + ":") and found.new_evidence[0].startswith(NEW + ":")
    assert kinds[patient["lp_to_vus"]].kind == ChangeKind.RETRACTED
    assert kinds[patient["lp_to_vus"]].new_class == "uncertain significance"
    new = kinds[patient["only_new"]]
    assert new.kind == ChangeKind.NEW and new.old_class is None and new.new_class in RISK
    # the same transition found again stores nothing new
    assert reinterpret(graph, before, after, NEW).stored == 0

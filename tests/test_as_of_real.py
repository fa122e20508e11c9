"""As-of answers with the real ClinVar releases (issue 8): ``clinvar@2024-06-01`` (the column extract) and
``clinvar@2026-02-26`` (the VCF, hereditary-cancer windows) of the one source ``clinvar``.

A test patient is linked (HAS_VARIANT, germline, as the matcher writes it) to alleles the two releases
classify differently, found in the graph by the releases' own evidence, and its risk answers are read in the
current state, as of the older release's key and as of a date between the two releases.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg.db import Graph
from kg.queries import risk
from kg.queries.visibility import knowledge_state

OLD, NEW = "clinvar@2024-06-01", "clinvar@2026-02-26"
PATIENT = "test-as-of-real-patient"
RISK = (risk.RiskStatus.AT_RISK, risk.RiskStatus.CARRIER)  # P/LP in a germline call (carrier: a recessive gene)

# An allele both releases classify, by old and new classification, the older evidence superseded by the newer;
# no other source classifies it (so the combined classification is ClinVar's).
RECLASSIFIED = """
MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(a:Evidence {type: 'pathogenicity'})-[:ABOUT]->(v:Variant)
WHERE a.classification = $was AND $new IN coalesce(a.supersededBy, [])
MATCH (v)<-[:ABOUT]-(b:Evidence {type: 'pathogenicity', classification: $now})-[:ASSERTED_BY]->(:Source {key: $new})
WHERE NOT EXISTS { (v)<-[:ABOUT]-(:Evidence)-[:ASSERTED_BY]->(s:Source) WHERE s.name <> 'clinvar' }
  AND NOT EXISTS { (v)<-[:INCLUDES]-(:MolecularProfile) }
RETURN v.id AS id ORDER BY id LIMIT 1
"""

# An allele the older release classified P/LP inside the newer one's coverage, which the newer one lacks.
DROPPED = """
MATCH (:Source {key: $old})<-[:ASSERTED_BY]-(a:Evidence {type: 'pathogenicity'})-[:ABOUT]->(v:Variant)
WHERE a.classification IN ['pathogenic', 'likely pathogenic'] AND $new IN coalesce(a.supersededBy, [])
  AND NOT EXISTS { (v)<-[:ABOUT]-(:Evidence {type: 'pathogenicity'})-[:ASSERTED_BY]->(:Source {key: $new}) }
  AND NOT EXISTS { (v)<-[:ABOUT]-(:Evidence)-[:ASSERTED_BY]->(s:Source) WHERE s.name <> 'clinvar' }
  AND NOT EXISTS { (v)<-[:INCLUDES]-(:MolecularProfile) }
RETURN v.id AS id ORDER BY id LIMIT 1
"""


def _one(graph: Graph, query: str, **params: str) -> str:
    rows = graph.read(query, old=OLD, new=NEW, **params)
    assert rows, f"the real releases hold no such allele ({params})"
    return str(rows[0]["id"])


@pytest.fixture(scope="module")
def alleles(real_data: Graph) -> Iterator[dict[str, str]]:
    keys = {r["key"] for r in real_data.read("MATCH (s:Source {name: 'clinvar'}) RETURN s.key AS key")}
    assert {OLD, NEW} <= keys
    found = {
        "up": _one(real_data, RECLASSIFIED, was="uncertain significance", now="likely pathogenic"),
        "down": _one(real_data, RECLASSIFIED, was="likely pathogenic", now="uncertain significance"),
        "dropped": _one(real_data, DROPPED),
    }
    real_data.write("MATCH (p:Patient {id: $id}) DETACH DELETE p", id=PATIENT)
    real_data.write(
        "CREATE (p:Patient {id: $id, origin: 'germline', assembly: 'GRCh38'}) WITH p UNWIND $variants AS v "
        "MATCH (x:Variant {id: v}) CREATE (p)-[:HAS_VARIANT {zygosity: 'heterozygous', genotype: '0/1', "
        "matchLevel: 'exact', callOrigin: 'germline'}]->(x)",
        id=PATIENT,
        variants=sorted(set(found.values())),
    )
    try:
        yield found
    finally:
        real_data.write("MATCH (p:Patient {id: $id}) DETACH DELETE p", id=PATIENT)


def _findings(graph: Graph, as_of: str | None) -> dict[str, risk.RiskFinding]:
    state = knowledge_state(graph, as_of) if as_of else None
    return {f.variant: f for f in risk.risks(graph, PATIENT, include_non_risk=True, state=state)}


def _clinvar(finding: risk.RiskFinding) -> list[tuple[str | None, str]]:
    return [(c.release, c.classification) for c in finding.classifications if c.source == "clinvar"]


def test_current_answers_read_the_newer_release(real_data: Graph, alleles: dict[str, str]) -> None:
    now = _findings(real_data, None)
    assert _clinvar(now[alleles["up"]]) == [(NEW, "likely pathogenic")]
    assert now[alleles["up"]].status in RISK and NEW in now[alleles["up"]].releases
    assert _clinvar(now[alleles["down"]]) == [(NEW, "uncertain significance")]
    dropped = now[alleles["dropped"]]
    assert dropped.status == risk.RiskStatus.NO_CURRENT_CLASSIFICATION and dropped.last_release == OLD
    assert dropped.last_classification in ("pathogenic", "likely pathogenic")
    assert alleles["dropped"] in {f.variant for f in risk.risks(real_data, PATIENT)}, "P/LP: shown by default"


@pytest.mark.parametrize("as_of", [OLD, "2025-01-01"])
def test_as_of_the_older_release_answers_the_older_state(real_data: Graph, alleles: dict[str, str], as_of: str) -> None:
    then = _findings(real_data, as_of)
    assert _clinvar(then[alleles["up"]]) == [(OLD, "uncertain significance")]
    assert then[alleles["up"]].status == risk.RiskStatus.NOT_A_RISK
    assert _clinvar(then[alleles["down"]]) == [(OLD, "likely pathogenic")]
    assert then[alleles["down"]].status in RISK
    assert then[alleles["dropped"]].status in RISK
    assert all(f.as_of == as_of and NEW not in f.releases for f in then.values())

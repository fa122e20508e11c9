"""Diseases given only by name, on the real releases (issue 14): CIViC rows without a DOID and
PharmGKB phenotype names are linked through the disease resolver when exactly one live DOID
2024-01-31 term has that name or EXACT synonym; the others stay visible as unresolved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.db import Graph
from kg.loaders.disease_names import relink
from kg.matcher.match import delete_patient, match_patient
from kg.queries.resolve import link_disease_names
from kg.queries.stats import disease_name_stats
from kg.queries.therapy import diagnostic_prognostic, targeted_therapies

pytestmark = pytest.mark.realdata

BY_NAME_EDGES = "MATCH (e:Evidence)-[r:FOR_DISEASE {linkedBy: 'name'}]->(d:Disease) RETURN e.id AS e, d.id AS d, r.name AS name, r.releases AS releases ORDER BY e, d"


def test_name_resolution_is_exact_and_conservative(real_data: Graph) -> None:
    found = link_disease_names(
        real_data,
        [
            "Pediatric Low-grade Glioma",
            "pediatric  LOW-GRADE   glioma",
            "Renal Medullary Carcinoma",
            "Extramammary Paget Disease",
            "Glioma",
            "Solid Tumor",
        ],
    )
    # an EXACT synonym of DOID:0080830 childhood low-grade glioma; case and spacing do not matter
    assert found["Pediatric Low-grade Glioma"].disease == "DOID:0080830"
    assert found["pediatric  LOW-GRADE   glioma"].disease == "DOID:0080830"
    # two live terms carry the name: ambiguous, never a pick
    renal = found["Renal Medullary Carcinoma"]
    assert renal.disease is None and renal.reason == "ambiguous" and len(renal.candidates) == 2
    # only an obsolete term has it
    paget = found["Extramammary Paget Disease"]
    assert paget.disease is None and paget.reason == "obsolete"
    # DOID 2024-01-31 has no term named or EXACT-synonymed "glioma" (DOID:3070 is "high grade glioma")
    assert found["Glioma"].reason == "unknown" and found["Solid Tumor"].reason == "unknown"


def test_civic_name_only_rows_are_linked_or_listed(real_data: Graph) -> None:
    rows = real_data.read(
        """MATCH (e:Evidence {source: 'civic'})-[:ASSERTED_BY]->(:Source {status: 'active', name: 'civic'})
        WHERE e.diseaseNames IS NOT NULL
        OPTIONAL MATCH (e)-[r:FOR_DISEASE]->(d:Disease)
        RETURN e.id AS id, e.diseaseNames AS names, e.unresolvedDiseases AS unresolved,
               collect({id: d.id, by: r.linkedBy, civicOnly: d.civicOnly, obsolete: d.obsolete}) AS links"""
    )
    assert len(rows) == 52  # CIViC 2024-08-01 rows with a disease name and no DOID (SOURCES.md)
    verdict = link_disease_names(real_data, sorted({n for r in rows for n in r["names"]}))
    for r in rows:
        (name,) = r["names"]
        (link,) = r["links"]
        if verdict[name].disease:
            assert link == {"id": verdict[name].disease, "by": "name", "civicOnly": None, "obsolete": False}
            assert r["unresolved"] is None
        else:
            assert link["civicOnly"] is True and link["by"] is None and r["unresolved"] == [name]
    linked = [r["id"] for r in rows if verdict[r["names"][0]].disease]
    assert "civic:EID12028" in linked  # Pediatric Low-grade Glioma, tovorafenib
    assert "civic:EID7601" not in linked  # Glioma: unresolved


def test_pharmgkb_phenotypes_link_only_single_live_terms(real_data: Graph) -> None:
    rows = real_data.read(
        """MATCH (e:Evidence {source: 'pharmgkb'})-[r:FOR_DISEASE]->(d:Disease)
        RETURN r.linkedBy AS by, r.name AS name, d.id AS id, d.obsolete AS obsolete"""
    )
    assert rows and all(r["by"] == "name" and not r["obsolete"] for r in rows)
    names = sorted({r["name"] for r in rows})
    verdict = link_disease_names(real_data, names)
    assert all(verdict[r["name"]].disease == r["id"] for r in rows)
    protein = real_data.read(
        "MATCH (e:Evidence {source: 'pharmgkb'}) WHERE 'Protein Deficiency' IN e.phenotypes "
        "RETURN e.unresolvedDiseases AS unresolved, [(e)-[:FOR_DISEASE]->(d) | d.id] AS diseases"
    )
    # only the obsolete DOID:11802 has this name: listed, not linked (the loader used to link it)
    assert protein and all("Protein Deficiency" in r["unresolved"] and not r["diseases"] for r in protein)


def test_stats_show_linked_and_unresolved_names(real_data: Graph) -> None:
    stats = disease_name_stats(real_data, top=500)
    by_source = {r["source"]: r for r in stats.by_source}
    top = {r["name"]: r for r in stats.top_unresolved}
    assert by_source["civic"]["named"] == 52
    assert (
        0 < by_source["civic"]["linked"] < 52 and by_source["civic"]["unresolved"] == 52 - by_source["civic"]["linked"]
    )
    assert by_source["pharmgkb"]["linked"] > 0 and by_source["pharmgkb"]["unresolved"] > 0
    # ClinVar CLNDN names whose CLNDISDB group has no disease id: resolved the same way
    clinvar = by_source["clinvar"]
    assert clinvar["named"] > 0 and clinvar["unresolved"] > 0
    assert top["APC-related disorder"]["sources"] == ["clinvar"] and top["APC-related disorder"]["reason"] == "unknown"
    assert top["Solid Tumor"]["evidence"] == 21 and top["Solid Tumor"]["reason"] == "unknown"
    assert top["Renal Medullary Carcinoma"]["reason"] == "ambiguous"
    assert set(top["Renal Medullary Carcinoma"]["candidates"]) == {"DOID:0070475", "DOID:4464"}
    assert "Glioma" in top
    assert stats.unresolved_names == len(top)


def test_relink_is_idempotent_and_restores_links(real_data: Graph) -> None:
    before = real_data.read(BY_NAME_EDGES)
    real_data.write("MATCH (:Evidence {id: 'civic:EID12028'})-[r:FOR_DISEASE]->() DELETE r")
    report = relink(real_data)
    assert real_data.read(BY_NAME_EDGES) == before
    assert report.linked["civic"] >= 1 and report.unresolved["Solid Tumor"] == 21
    relink(real_data)
    assert real_data.read(BY_NAME_EDGES) == before
    # the by-name edge carries the evidence's own release, not DOID's
    assert {k.split("@")[0] for r in before for k in r["releases"]} <= {"civic", "pharmgkb"}


@pytest.fixture(scope="module")
def braf_glioma(real_data: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """BRAF V600E (GRCh38 chr7:140753336 A>T) in a childhood low-grade glioma (DOID:0080830)."""
    vcf = tmp_path_factory.mktemp("names") / "braf.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr7,length=159345973>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "chr7\t140753336\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n"
    )
    pid = "test-names-braf-plgg"
    yield match_patient(real_data, vcf, patient_id=pid, disease="DOID:0080830").patient
    delete_patient(real_data, pid)


def test_a_by_name_link_takes_part_in_the_therapy_answer(real_data: Graph, braf_glioma: str) -> None:
    answers = {a.evidence_id: a for a in targeted_therapies(real_data, braf_glioma)}
    tovorafenib = answers["civic:EID12028"]  # CIViC: "Pediatric Low-grade Glioma", no DOID
    assert tovorafenib.disease is not None and tovorafenib.disease.id == "DOID:0080830"
    assert tovorafenib.disease_relation == "same" and tovorafenib.disease_linked_by == "name"
    # and through the ontology: asked for its parent term, the evidence is a descendant of it
    parent = real_data.read("MATCH (:Disease {id: 'DOID:0080830'})-[:IS_A]->(p) RETURN p.id AS id")[0]["id"]
    by_parent = {a.evidence_id: a for a in targeted_therapies(real_data, braf_glioma, parent)}
    assert by_parent["civic:EID12028"].disease_relation == "descendant"


def test_dordaviprone_glioma_evidence_reaches_a_diffuse_midline_glioma_unmapped(
    real_data: Graph, tmp_path: Path
) -> None:
    """H3-3A K28M (CIViC's GRCh38 row, chr1:226064434 A>T) in diffuse midline glioma, H3 K27M-mutant
    (DOID:0080684). EID7601 (dordaviprone, level B) names "Glioma", which no DOID 2024-01-31 term has as
    name or EXACT synonym: the conservative rule leaves it unresolved (listed), and the therapy answer
    shows it as ``unmapped`` instead of dropping it as unrelated."""
    vcf = tmp_path / "h3.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "chr1\t226064434\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n"
    )
    pid = "test-names-h3k27m-dmg"
    match_patient(real_data, vcf, patient_id=pid, disease="DOID:0080684")
    try:
        (row,) = real_data.read(
            "MATCH (e:Evidence {id: 'civic:EID7601'}) RETURN e.unresolvedDiseases AS u, "
            "[(e)-[:FOR_DISEASE]->(d) | d.id] AS diseases"
        )
        assert row["u"] == ["Glioma"] and row["diseases"] == ["civic:disease:glioma"]
        answers = {a.evidence_id: a for a in targeted_therapies(real_data, pid)}
        onc201 = answers["civic:EID7601"]
        assert [d.name for d in onc201.drugs] == ["Dordaviprone"]
        assert onc201.disease_relation == "unmapped" and onc201.disease_linked_by is None
        assert onc201.disease is not None and onc201.disease.name == "Glioma"
        # evidence placed in the ontology keeps its relation: the variant's diagnostic rows for DMG are
        # "same", its glioblastoma row (DOID:3073, not an ancestor or descendant of DMG) stays out
        diagnostic = {a.evidence_id: a for a in diagnostic_prognostic(real_data, pid)}
        assert diagnostic["civic:EID6450"].disease_relation == "same"
        assert "civic:EID11038" not in diagnostic
    finally:
        delete_patient(real_data, pid)

"""Sample origin (issue 14): germline, tumour-only, tumour + matched normal.

Header reading and the decision rules are checked on header text written here (Mutect2's
``##tumor_sample``/``##normal_sample``, VCF 4.3 ``##SAMPLE`` lines); matching, risk and therapy
answers on VCFs written here from Variants of the active releases (the seeds, or the real
releases once loaded), and the melanoma BRAF V600E case on the real releases.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.db import Graph
from kg.identity.origins import CallOrigin, OriginFit, SampleOrigin, origin_fit
from kg.matcher.build import CONTIG_LENGTHS, Build
from kg.matcher.match import delete_patient, match_patient
from kg.matcher.origin import HeaderRoles, SampleOriginError, decide, header_roles, parse_origin
from kg.matcher.report import MatchReport
from kg.queries.patient_view import find_patient, patient_variants
from kg.queries.risk import RiskStatus, risks
from kg.queries.therapy import targeted_therapies
from tests.api_graph import api_graph, client  # noqa: F401 (fixtures)

MUTECT_PAIR = "##tumor_sample=TUMOR\n##normal_sample=NORMAL\n"
MUTECT_TUMOR_ONLY = "##tumor_sample=TUMOR\n"
VCF43_PAIR = (
    '##SAMPLE=<ID=Blood,Genomes=Germline,Mixture=1.,Description="Patient germline genome">\n'
    '##SAMPLE=<ID=TissueSample,Genomes=Germline;Tumor,Mixture=.3;.7,Description="Patient germline genome;'
    'Patient tumor genome">\n'
)
TCGA_PAIR = (
    '##SAMPLE=<ID=NORMAL,SampleName=TCGA-XX-0001-10A,Description="Normal sample">\n'
    '##SAMPLE=<ID=PRIMARY,SampleName=TCGA-XX-0001-01A,Description="Primary Tumor">\n'
)


# --- the header and the decision (no database) ---------------------------------------------------


@pytest.mark.parametrize(
    ("header", "samples", "tumor", "normal", "origin"),
    [
        (MUTECT_PAIR, ["NORMAL", "TUMOR"], "TUMOR", "NORMAL", SampleOrigin.TUMOR_NORMAL),
        (MUTECT_TUMOR_ONLY, ["TUMOR"], "TUMOR", None, SampleOrigin.TUMOR),
        (VCF43_PAIR, ["Blood", "TissueSample"], "TissueSample", "Blood", SampleOrigin.TUMOR_NORMAL),
        (TCGA_PAIR, ["NORMAL", "PRIMARY"], "PRIMARY", "NORMAL", SampleOrigin.TUMOR_NORMAL),
        ('##SAMPLE=<ID=S1,Genomes=Germline,Description="blood">\n', ["S1"], None, "S1", SampleOrigin.GERMLINE),
        ("##source=HaplotypeCaller\n", ["S1"], None, None, None),
        (MUTECT_PAIR, ["S1"], None, None, None),  # lines naming samples the file does not hold say nothing
    ],
)
def test_header_roles(header: str, samples: list[str], tumor: str | None, normal: str | None, origin: Any) -> None:
    roles = header_roles("x.vcf", header, samples)
    assert (roles.tumor, roles.normal, roles.origin) == (tumor, normal, origin)


def test_a_header_giving_one_sample_both_roles_is_refused() -> None:
    header = "##tumor_sample=S1\n" + '##SAMPLE=<ID=S1,Genomes=Germline,Description="blood">\n'
    with pytest.raises(SampleOriginError, match="contradicting roles"):
        header_roles("x.vcf", header, ["S1"])


def _decide(roles: HeaderRoles, samples: list[str], **given: Any) -> Any:
    args = {"origin": None, "sample": None, "normal_sample": None, "normal_vcf": None} | given
    return decide("x.vcf", roles, samples, **args)


def test_default_is_germline_and_the_header_decides_when_no_argument() -> None:
    plain = _decide(HeaderRoles(), ["S1"])
    assert (plain.origin, plain.source) == (SampleOrigin.GERMLINE, "default")
    pair = _decide(header_roles("x.vcf", MUTECT_PAIR, ["NORMAL", "TUMOR"]), ["NORMAL", "TUMOR"])
    assert (pair.origin, pair.source, pair.sample, pair.normal_sample) == (
        SampleOrigin.TUMOR_NORMAL,
        "header",
        "TUMOR",
        "NORMAL",
    )
    tumor = _decide(header_roles("x.vcf", MUTECT_TUMOR_ONLY, ["TUMOR"]), ["TUMOR"])
    assert (tumor.origin, tumor.source, tumor.sample) == (SampleOrigin.TUMOR, "header", "TUMOR")


def test_an_argument_contradicting_the_header_is_a_clear_error() -> None:
    tumor_only = header_roles("x.vcf", MUTECT_TUMOR_ONLY, ["TUMOR"])
    with pytest.raises(SampleOriginError) as err:
        _decide(tumor_only, ["TUMOR"], origin=SampleOrigin.GERMLINE)
    assert "--origin germline contradicts the VCF header" in str(err.value) and "##tumor_sample=TUMOR" in str(err.value)
    pair = header_roles("x.vcf", MUTECT_PAIR, ["NORMAL", "TUMOR"])
    with pytest.raises(SampleOriginError, match="is the matched normal"):
        _decide(pair, ["NORMAL", "TUMOR"], origin=SampleOrigin.TUMOR, sample="NORMAL")
    with pytest.raises(SampleOriginError, match="is the tumour, not the matched normal"):
        _decide(pair, ["NORMAL", "TUMOR"], origin=SampleOrigin.TUMOR_NORMAL, normal_sample="TUMOR")
    with pytest.raises(SampleOriginError, match="needs the matched normal"):
        _decide(HeaderRoles(), ["A", "B"], origin=SampleOrigin.TUMOR_NORMAL, sample="A")
    with pytest.raises(SampleOriginError, match="a matched normal is given but the origin is germline"):
        _decide(HeaderRoles(), ["A", "B"], origin=SampleOrigin.GERMLINE, sample="A", normal_sample="B")
    # agreeing arguments pass: germline on a pair's normal, tumour on its tumour
    assert _decide(pair, ["NORMAL", "TUMOR"], origin=SampleOrigin.GERMLINE).sample == "NORMAL"
    only = _decide(pair, ["NORMAL", "TUMOR"], origin=SampleOrigin.TUMOR)
    assert only.sample == "TUMOR" and "not read" in only.notes[0]


def test_origin_spellings() -> None:
    assert parse_origin("Tumour") == SampleOrigin.TUMOR and parse_origin("tumor-normal") == SampleOrigin.TUMOR_NORMAL
    assert parse_origin("somatic") == SampleOrigin.TUMOR and parse_origin(None) is None
    with pytest.raises(SampleOriginError, match="expected germline, tumor or tumor_normal"):
        parse_origin("blood")


def test_origin_fit() -> None:
    assert origin_fit("somatic", [CallOrigin.UNKNOWN])[0] == OriginFit.APPLIES
    assert origin_fit("somatic", [CallOrigin.SOMATIC])[0] == OriginFit.APPLIES
    assert origin_fit("rare germline", [CallOrigin.UNKNOWN])[0] == OriginFit.NEEDS_GERMLINE_CONFIRMATION
    assert origin_fit("germline", [CallOrigin.GERMLINE])[0] == OriginFit.APPLIES
    assert origin_fit("germline", [CallOrigin.SOMATIC])[0] == OriginFit.GERMLINE_EVIDENCE_SOMATIC_CALL
    assert origin_fit("somatic", [CallOrigin.GERMLINE])[0] == OriginFit.SOMATIC_EVIDENCE_GERMLINE_CALL
    assert origin_fit("n/a", [CallOrigin.UNKNOWN])[0] == OriginFit.ORIGIN_NOT_STATED
    _, note = origin_fit("germline", [CallOrigin.UNKNOWN])
    assert "confirm with a germline test" in note


# --- VCFs written here, matched on the active releases --------------------------------------------

Call = tuple[dict[str, Any], dict[str, str]]  # (a Variant's properties, GT per sample)


def write_vcf(path: Path, samples: list[str], calls: list[Call], header: str = "") -> Path:
    """A GRCh38 VCF with the given sample columns; each call is a Variant and its GT per sample."""
    chroms = sorted({c[0]["chrom"] for c in calls} | {"chr1"})
    lines = ["##fileformat=VCFv4.2", "##reference=GRCh38"]
    lines += [f"##contig=<ID={c},length={CONTIG_LENGTHS[Build.GRCH38][c]}>" for c in chroms]
    lines += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']
    lines += [line for line in header.splitlines() if line]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]))
    for v, gts in sorted(calls, key=lambda c: (c[0]["chrom"], c[0]["pos"])):
        row = [v["chrom"], str(v["pos"]), ".", v["ref"], v["alt"], "50", "PASS", ".", "GT"]
        lines.append("\t".join(row + [gts.get(s, "0/0") for s in samples]))
    path.write_text("\n".join(lines) + "\n")
    return path


def clinvar_pathogenic(graph: Graph, genes: tuple[str, ...] = ("BRCA2", "TP53")) -> dict[str, Any]:
    """A current pathogenic ClinVar SNV of the first of ``genes`` (ACMG SF v3.0 genes) that has one, with no
    other classification and no somatic evidence: BRCA2 on the real releases, TP53 on the seeds alone."""
    for gene in genes:
        rows = _clinvar_pathogenic(graph, gene)
        if rows:
            return rows[0]["v"]
    raise AssertionError(f"no pathogenic ClinVar SNV in {genes}")


def _clinvar_pathogenic(graph: Graph, gene: str) -> list[dict[str, Any]]:
    return graph.read(
        "MATCH (e:Evidence {source: 'clinvar', classification: 'pathogenic'})-[:ABOUT]->(v:Variant {gene: $gene}) "
        "WHERE NOT EXISTS { MATCH (x:Source {status: 'active'}) WHERE x.key IN coalesce(e.supersededBy, []) } AND size(v.ref) = 1 AND size(v.alt) = 1 "
        "AND NOT EXISTS { (v)<-[:ABOUT]-(o:Evidence) WHERE o <> e } AND NOT EXISTS { (v)<-[:INCLUDES]-() } "
        "RETURN v {.*} AS v ORDER BY e.stars DESC, v.id LIMIT 1",
        gene=gene,
    )


def braf_v600e(graph: Graph) -> dict[str, Any]:
    rows = graph.read("MATCH (v:Variant {name: 'BRAF V600E', kind: 'exact'}) RETURN v {.*} AS v")
    assert rows, "no BRAF V600E"
    return rows[0]["v"]


Match = Callable[..., MatchReport]


@pytest.fixture
def match(seeded: Graph, tmp_path: Path) -> Iterator[Match]:
    """``match(path, **match_patient options)`` as a fresh patient; deleted afterwards."""
    created: list[str] = []

    def run(path: Path, **options: Any) -> MatchReport:
        patient = f"test-origin-{uuid.uuid4().hex[:8]}"
        created.append(patient)
        return match_patient(seeded, path, patient_id=patient, **options)

    yield run
    for patient in created:
        delete_patient(seeded, patient)


def test_nothing_said_means_germline_and_the_patient_says_so(match: Match, seeded: Graph, tmp_path: Path) -> None:
    carried = clinvar_pathogenic(seeded)
    report = match(write_vcf(tmp_path / "g.vcf", ["S1"], [(carried, {"S1": "0/1"})]))
    assert report.origin["origin"] == "germline" and report.origin["source"] == "default"
    assert "origin germline (default: nothing said otherwise)" in report.summary()
    record = find_patient(seeded, report.patient)
    assert record is not None and (record.origin, record.origin_source) == ("germline", "default")
    assert {v.call_origin for v in patient_variants(seeded, report.patient)} == {"germline"}
    (finding,) = [f for f in risks(seeded, report.patient) if f.variant == carried["id"]]
    assert finding.status == RiskStatus.AT_RISK and finding.call_origin == "germline"


def test_tumour_only_pathogenic_call_is_possible_germline_never_at_risk(
    match: Match, seeded: Graph, tmp_path: Path
) -> None:
    carried = clinvar_pathogenic(seeded)
    report = match(write_vcf(tmp_path / "t.vcf", ["T1"], [(carried, {"T1": "0/1"})]), origin="tumor")
    assert report.origin["origin"] == "tumor" and report.origin["calls"] == {"unknown": 1}
    found = risks(seeded, report.patient)
    assert [f.status for f in found] == [RiskStatus.POSSIBLE_GERMLINE]
    assert "possible germline origin, confirm with a germline test" in found[0].reason
    assert found[0].call_origin == "unknown" and found[0].sample_origin == "tumor"


def test_mutect2_header_is_read_and_a_contradicting_argument_stores_nothing(
    match: Match, seeded: Graph, tmp_path: Path
) -> None:
    carried = clinvar_pathogenic(seeded)
    path = write_vcf(tmp_path / "m.vcf", ["TUMOR"], [(carried, {"TUMOR": "0/1"})], MUTECT_TUMOR_ONLY)
    report = match(path)
    assert (report.origin["origin"], report.origin["source"]) == ("tumor", "header")
    assert report.origin["header"] == ["##tumor_sample=TUMOR"]
    with pytest.raises(SampleOriginError, match="contradicts the VCF header"):
        match_patient(seeded, path, patient_id="test-origin-contradiction", origin="germline")
    assert find_patient(seeded, "test-origin-contradiction") is None


def test_tumour_normal_pair_in_one_vcf(match: Match, seeded: Graph, tmp_path: Path) -> None:
    """The normal's calls are germline (risk); the tumour's own calls are somatic (therapy only)."""
    carried, braf = clinvar_pathogenic(seeded), braf_v600e(seeded)
    calls = [(carried, {"NORMAL": "0/1", "TUMOR": "0/1"}), (braf, {"NORMAL": "0/0", "TUMOR": "0/1"})]
    report = match(write_vcf(tmp_path / "pair.vcf", ["NORMAL", "TUMOR"], calls, MUTECT_PAIR), disease="melanoma")
    assert report.origin["origin"] == "tumor_normal" and report.origin["normalSample"] == "NORMAL"
    by_variant = {v.id: v for v in patient_variants(seeded, report.patient)}
    assert by_variant[carried["id"]].call_origin == "germline" and by_variant[carried["id"]].sample == "NORMAL"
    assert by_variant[braf["id"]].call_origin == "somatic" and by_variant[braf["id"]].sample == "TUMOR"
    found = {f.variant: f for f in risks(seeded, report.patient, include_non_risk=True)}
    assert found[carried["id"]].status == RiskStatus.AT_RISK and "matched normal NORMAL" in found[carried["id"]].reason
    assert braf["id"] not in found or found[braf["id"]].status == RiskStatus.NOT_A_RISK
    therapies = targeted_therapies(seeded, report.patient, "melanoma")
    braf_answers = [a for a in therapies if braf["id"] in a.variants]
    assert braf_answers and any("vemurafenib" in {d.id for d in a.drugs} for a in braf_answers)
    somatic = [a for a in braf_answers if a.origin == "somatic"]
    assert somatic and all(a.origin_fit == OriginFit.APPLIES and a.call_origins == ["somatic"] for a in somatic)


def test_tumour_normal_pair_in_two_vcfs_through_the_cli(
    seeded: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from kg import cli

    monkeypatch.setattr(cli, "_settings", lambda: seeded.settings)
    carried, braf = clinvar_pathogenic(seeded), braf_v600e(seeded)
    tumor = write_vcf(tmp_path / "tumor.vcf", ["T"], [(carried, {"T": "0/1"}), (braf, {"T": "0/1"})])
    normal = write_vcf(tmp_path / "normal.vcf", ["N"], [(carried, {"N": "0/1"})])
    patient = "test-origin-cli-pair"
    runner = CliRunner()
    try:
        result = runner.invoke(cli.main, ["match", str(tumor), "--patient", patient, "--normal", str(normal), "--json"])
        assert result.exit_code == 0, result.output
        origin = json.loads(result.output)["origin"]
        assert origin["origin"] == "tumor_normal" and origin["normalVcf"] == "normal.vcf"
        assert origin["calls"] == {"germline": 1, "somatic": 1}
        bad = runner.invoke(
            cli.main, ["match", str(tumor), "--patient", patient, "--origin", "germline", "--normal", str(normal)]
        )
        assert bad.exit_code == 1 and "a matched normal is given but the origin is germline" in bad.output
    finally:
        delete_patient(seeded, patient)


# --- the melanoma tumour with BRAF V600E on the real releases (the bug of issue 14) -----------------


def test_melanoma_tumour_braf_v600e_has_no_germline_risk_and_keeps_its_therapies(
    real_data: Graph, tmp_path: Path
) -> None:
    braf = braf_v600e(real_data)
    assert braf["id"] == "GRCh38:chr7:140753336:A:T"
    path = write_vcf(tmp_path / "melanoma.vcf", ["TUMOR"], [(braf, {"TUMOR": "0/1"})])
    try:
        # as a germline sample (the default) ClinVar's germline classification makes it a risk ...
        match_patient(real_data, path, patient_id="test-origin-braf-germline", disease="melanoma")
        germline = [f for f in risks(real_data, "test-origin-braf-germline") if f.gene == "BRAF"]
        assert [f.status for f in germline] == [RiskStatus.AT_RISK]
        # ... as the tumour it is, none: withheld, and told why when asked
        match_patient(real_data, path, patient_id="test-origin-braf-tumor", disease="melanoma", origin="tumor")
        assert [f for f in risks(real_data, "test-origin-braf-tumor") if f.gene == "BRAF"] == []
        (withheld,) = [f for f in risks(real_data, "test-origin-braf-tumor", include_non_risk=True) if f.gene == "BRAF"]
        assert withheld.status == RiskStatus.NOT_A_RISK and withheld.reason.startswith("withheld: a tumour-only call")
        therapies = targeted_therapies(real_data, "test-origin-braf-tumor")
        vemurafenib = [a for a in therapies if "vemurafenib" in {d.id for d in a.drugs} and a.direction == "supports"]
        assert vemurafenib and vemurafenib[0].origin_fit == OriginFit.APPLIES
        assert all(a.call_origins == ["unknown"] for a in therapies)
        germline_evidence = [a for a in therapies if a.origin == "germline"]
        assert all(a.origin_fit == OriginFit.NEEDS_GERMLINE_CONFIRMATION for a in germline_evidence)
    finally:
        delete_patient(real_data, "test-origin-braf-germline")
        delete_patient(real_data, "test-origin-braf-tumor")


# --- the upload mutation ---------------------------------------------------------------------------

UPLOAD = (
    "mutation($file: Upload!, $patient: String!, $origin: SampleOrigin) {"
    " submitPatientVcf(patientId: $patient, file: $file, origin: $origin) { patientId details } }"
)


def _upload(client: Any, content: bytes, patient: str, origin: str | None) -> dict[str, Any]:
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None, "patient": patient, "origin": origin}})
    response = client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("tumor.vcf", content, "text/plain")},
        headers={"X-KG-Request": "1"},  # multipart needs it (api/http_guard.py)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_takes_the_origin_and_refuses_one_contradicting_the_header(
    client: Any, api_graph: Graph, tmp_path: Path
) -> None:
    carried = clinvar_pathogenic(api_graph)
    content = write_vcf(tmp_path / "u.vcf", ["TUMOR"], [(carried, {"TUMOR": "0/1"})], MUTECT_TUMOR_ONLY).read_bytes()
    try:
        bad = _upload(client, content, "test-origin-upload", "GERMLINE")
        assert bad["errors"][0]["extensions"]["code"] == "BAD_INPUT"
        assert "tumor.vcf: --origin germline contradicts the VCF header" in bad["errors"][0]["message"]
        good = _upload(client, content, "test-origin-upload", "TUMOR")
        assert "errors" not in good, good
        assert good["data"]["submitPatientVcf"]["details"]["origin"]["origin"] == "tumor"
        record = find_patient(api_graph, "test-origin-upload")
        assert record is not None and (record.origin, record.origin_source) == ("tumor", "argument")
    finally:
        delete_patient(api_graph, "test-origin-upload")

"""Issue 11: the patient report (HTML with print styles, PDF) says what the API says, item by item.

The HTML is read with the standard library's HTML parser (each answer item is an element with
``data-item``, inside the ``<section>`` of its answer); the PDF's text is extracted with pypdf.
"""

from __future__ import annotations

import io
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pypdf
from click.testing import CliRunner
from starlette.testclient import TestClient

from api.app import create_app
from kg.access.audit import AuditLog
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.cli import main as kg
from kg.db import Graph
from kg.documents.report import SECTIONS
from tests.patient_documents import (  # noqa: F401 (fixtures)
    api_answers,
    app_client,
    cli_env,
    client,
    demo,
    match_demo,
    releases_of,
)

VOID = {"br", "meta", "img", "hr", "input", "link", "col", "wbr"}


class ReportParser(HTMLParser):
    """Sections (id -> heading) and, per section, its items in order: (data-kind, data-item, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.headings: dict[str, str] = {}
        self.items: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        self._open: list[tuple[str, str, str, list[str]] | None] = []  # per open element: an item being read
        self._in_h2 = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id")
        if tag == "h2":
            self._in_h2 = True
        if tag in VOID:
            return
        item = a.get("data-item")
        self._open.append((self.section or "", a.get("data-kind") or "", item, []) if item is not None else None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False
        if tag in VOID or not self._open:
            return
        done = self._open.pop()
        if done:
            section, kind, item, text = done
            self.items[section].append((kind, item, " ".join(" ".join(text).split())))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_h2 and self.section:
            self.headings[self.section] = self.headings.get(self.section, "") + data.strip()
        for open_item in self._open:
            if open_item:
                open_item[3].append(data)


def parse(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    return parser


def _kind(parser: ReportParser, section: str, kind: str) -> list[tuple[str, str]]:
    return [(item, text) for k, item, text in parser.items[section] if k == kind]


def test_report_html_equals_the_api_item_by_item(demo: str, client: TestClient) -> None:
    response = client.get(f"/patients/{demo}/report")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "@media print" in response.text and "@page" in response.text  # print styles
    report = parse(response.text)
    api = api_answers(client, demo)
    assert report.headings == SECTIONS, "every section, in order, with its heading"
    assert list(report.headings) == list(SECTIONS)
    _assert_same_answers(report, api)

    # the demo patient's own answers (seeds/patients/README.md), so the comparison above compared something
    pgx = dict(_kind(report, "pharmacogenomics", "pgx"))
    clopidogrel = next(text for item, text in pgx.items() if item.startswith("clopidogrel|CPIC|"))
    assert "RECOMMENDATION" in clopidogrel and "Avoid clopidogrel" in clopidogrel and "Strong" in clopidogrel
    assert "CYP2C19 *2/*2: Poor Metabolizer" in clopidogrel
    therapies = dict(_kind(report, "targeted-therapies", "therapy"))
    assert "civic:EID1409" in therapies and "Vemurafenib" in therapies["civic:EID1409"]
    assert "descendant" in therapies["civic:EID1409"] and "PMID 21639808" in therapies["civic:EID1409"]
    assert "Tier I" in therapies["civic:AID7"]
    risks = {item.split("|")[0]: text for item, text in _kind(report, "inherited-risks", "risk")}
    assert any("BRCA2" in t and "at risk" in t and "reviewed by expert panel" in t for t in risks.values())
    assert any("MUTYH" in t and "carrier" in t for t in risks.values())
    genes = dict(_kind(report, "not-determined", "undetermined-gene"))
    tpmt = next(d for d in api["diplotypes"] if d["gene"] == "TPMT")
    assert tpmt["missingPositions"], "the demo VCF has no TPMT position"
    assert genes["TPMT"].startswith(f"TPMT no_data {len(tpmt['missingPositions'])}: {tpmt['missingPositions'][0]}")
    assert "CYP2C19" not in genes and "DPYD" not in genes
    summary = " ".join(t for _, _, t in report.items["summary"])
    assert summary and "Medicines" in summary and "Inherited risk" in summary


def _assert_same_answers(report: ReportParser, api: dict[str, Any]) -> None:
    diplotypes = _kind(report, "pharmacogenomics", "diplotype")
    assert [i for i, _ in diplotypes] == [d["gene"] for d in api["diplotypes"]]
    for (_, text), d in zip(diplotypes, api["diplotypes"], strict=True):
        assert d["status"] in text and (d["diplotype"] or "—") in text

    pgx = _kind(report, "pharmacogenomics", "pgx")
    answers = api["pharmacogenomics"]
    assert [i for i, _ in pgx] == [f"{a['drug']['id']}|{a['guideline']}|{a['guidelineName'] or ''}" for a in answers]
    for (_, text), a in zip(pgx, answers, strict=True):
        assert a["state"] in text
        for rec in a["recommendations"]:
            assert " ".join((rec["text"] or "—").split()) in text
            assert (rec["strength"] or "not stated") in text
            for s in rec["sources"]:
                assert s["release"] in text

    for section, kind, field in (
        ("targeted-therapies", "therapy", "targetedTherapies"),
        ("diagnostic-prognostic", "diagnostic-prognostic", "diagnosticPrognostic"),
    ):
        rows = _kind(report, section, kind)
        assert [i for i, _ in rows] == [e["evidenceId"] for e in api[field]]
        for (_, text), e in zip(rows, api[field], strict=True):
            for value in (e["level"], e.get("ampTier"), e.get("diseaseRelation"), *(e.get("pmids") or ())):
                if value:
                    assert value in text, f"{e['evidenceId']}: {value} not in {text}"
            for s in e["sources"]:
                assert s["release"] in text

    risks = _kind(report, "inherited-risks", "risk")
    assert [i for i, _ in risks] == [f"{r['evidenceId']}|{r['variant']}" for r in api["risks"]]
    for (_, text), r in zip(risks, api["risks"], strict=True):
        assert {"AT_RISK": "at risk", "CARRIER": "carrier"}[r["status"]] in text
        assert r["classification"] in text and (r["reviewStatus"] or "review status not given") in text

    without = sorted({g for a in answers for g in a["genesWithoutResult"]})
    assert [i for i, _ in _kind(report, "not-determined", "undetermined-gene")] == without
    undetermined = [
        f"{a['drug']['id']}|{a['guideline']}|{a['guidelineName'] or ''}"
        for a in answers
        if a["state"] == "CANNOT_BE_DETERMINED"
    ]
    assert [i for i, _ in _kind(report, "not-determined", "undetermined-drug")] == undetermined

    releases = [i for i, _ in _kind(report, "releases", "release")]
    assert releases == sorted(releases_of(api))
    assert releases, "the demo patient's answers cite releases"


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_report_pdf_has_every_section(demo: str, client: TestClient) -> None:
    response = client.get(f"/patients/{demo}/report.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content)
    for heading in SECTIONS.values():
        assert heading in text, f"the PDF lacks the section {heading!r}"
    assert f"Patient {demo}" in text and "clopidogrel" in text and "civic:EID1409" in text
    same = client.get(f"/patients/{demo}/report", params={"format": "pdf"})
    assert same.headers["content-type"] == "application/pdf"


def test_report_of_an_unknown_patient_is_not_found(demo: str, client: TestClient) -> None:
    for path in ("report", "report.pdf", "fhir", "phenopacket"):
        response = client.get(f"/patients/test-documents-nobody/{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == "NOT_FOUND"


def test_documents_are_for_granted_clinicians_and_admins_only_and_audited(
    demo: str, seeded: Graph, auth_settings: AuthSettings
) -> None:
    """Issue 9 x 11: a document is a patient read: no token 401, researcher and curator 403, a clinician
    403 without a grant for that patient and 200 with one; each read and refusal is in the audit log."""
    paths = ("report", "fhir", "phenopacket")
    with TestClient(create_app(seeded.settings, auth=auth_settings)) as anonymous:
        assert all(anonymous.get(f"/patients/{demo}/{p}").status_code == 401 for p in paths)
    for role in (Role.RESEARCHER, Role.CURATOR):
        with app_client(seeded.settings, auth_settings, role) as c:
            assert all(c.get(f"/patients/{demo}/{p}").status_code == 403 for p in paths), role
    with app_client(seeded.settings, auth_settings, Role.CLINICIAN, patients=frozenset({"someone-else"})) as c:
        refused = c.get(f"/patients/{demo}/report")
        assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    with app_client(seeded.settings, auth_settings, Role.CLINICIAN, patients=frozenset({demo})) as c:
        assert all(c.get(f"/patients/{demo}/{p}").status_code == 200 for p in paths)
    mine = [e for e in AuditLog(auth_settings.audit_log).entries() if demo in e.patients and e.role == "clinician"]
    assert [e.outcome for e in mine][-4:] == ["denied", "ok", "ok", "ok"]
    assert {e.operation for e in mine[-3:]} == {f"GET /patients/{demo}/{p}" for p in paths}


def test_kg_report_writes_html_and_pdf(demo: str, seeded: Graph, tmp_path: Path, auth_settings: AuthSettings) -> None:
    env = cli_env(seeded, auth_settings)
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    result = CliRunner().invoke(kg, ["report", demo, "--html", str(html), "--pdf", str(pdf)], env=env)
    assert result.exit_code == 0, result.output
    assert list(parse(html.read_text(encoding="utf-8")).headings.values()) == list(SECTIONS.values())
    assert all(h in _pdf_text(pdf.read_bytes()) for h in SECTIONS.values())
    missing = CliRunner().invoke(kg, ["report", "test-documents-nobody"], env=env)
    assert missing.exit_code == 1 and "no patient" in missing.output
    read = [e for e in AuditLog(auth_settings.audit_log).entries() if e.operation == "report" and demo in e.patients]
    assert read and read[-1].who.startswith("cli:"), "the CLI's patient read is audited"


def test_report_on_the_real_releases_equals_the_api(real_data: Graph, auth_settings: AuthSettings) -> None:
    """On every real release the demo VCF's answers are many more; the report still says exactly them."""
    patient = match_demo(real_data, "test-documents-real")
    try:
        with app_client(real_data.settings, auth_settings) as c:
            response = c.get(f"/patients/{patient}/report")
            assert response.status_code == 200
            report = parse(response.text)
            api = api_answers(c, patient)
            _assert_same_answers(report, api)
            assert len(api["targetedTherapies"]) >= 10
    finally:
        from kg.matcher.match import delete_patient

        delete_patient(real_data, patient)

"""Issue 11: the demo patient's report opened in headless Chromium, as the clinician granted that
patient (the token travels as ``Authorization: Bearer``, as a clinical app's browser view sends it),
and refused to a researcher. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

from playwright.sync_api import Page

from kg.documents.report import SECTIONS
from tests.browser import (  # noqa: F401 (fixtures)
    LiveServer,
    chromium,
    live_server,
    page,
    page_requests,
    screenshot,
)


def test_demo_report_in_a_browser_has_every_section(page: Page, live_server: LiveServer) -> None:
    page.set_extra_http_headers({"Authorization": f"Bearer {live_server.tokens['clinician']}"})
    response = page.goto("/patients/demo/report")
    assert response is not None and response.status == 200
    headings = [h.strip() for h in page.locator("section h2").all_inner_texts()]
    assert all(title in headings for title in SECTIONS.values()), headings
    # the demo patient's PGx and therapy sections carry items (seeds/patients/README.md: CYP2C19, BRAF V600E)
    assert page.locator("section#pharmacogenomics [data-item]").count() > 0
    assert page.locator("section#targeted-therapies [data-item]").count() > 0
    screenshot(page, "report-demo-patient")
    page.emulate_media(media="print")
    screenshot(page, "report-demo-patient-print-styles")


def test_the_report_is_refused_to_a_researcher_in_the_browser(page: Page, live_server: LiveServer) -> None:
    page.set_extra_http_headers({"Authorization": f"Bearer {live_server.tokens['researcher']}"})
    response = page.goto("/patients/demo/report")
    assert response is not None and response.status == 403
    assert "FORBIDDEN" in page.content()

"""The explorer (/explore) and the offline GraphiQL (/graphql) in headless Chromium, on the seeds
(and on the real releases when another module loaded them: a neighbourhood is then cut at the
explorer's node limit, so the tests name only what any loaded release keeps in reach).

Every page request must go to the app itself (tests/browser.py aborts and reports any other);
screenshots land in test-artifacts/screenshots/, named for what they show.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, Request

from api.browser import EXAMPLE_QUERIES, VENDOR_FILES
from tests import browser
from tests.browser import (  # noqa: F401 (fixtures)
    LiveServer,
    chromium,
    live_server,
    off_origin,
    page,
    page_requests,
    screenshot,
    use_token,
)

BRAF = "Gene|BRAF"
EID1409 = "civic:EID1409"  # BRAF V600E, vemurafenib, level A, skin melanoma (seeds/patients/README.md)
EVIDENCE_1409 = f"Evidence|{EID1409}"


def _node_ids(page: Page) -> set[str]:
    return set(page.evaluate("() => kgExplorer.cy.nodes().map((n) => n.id())"))


def _click_element(page: Page, element_id: str) -> None:
    """A real mouse click where cytoscape drew the node (or on the edge: its middle, or the point along it
    nearest the middle that no node covers, since the layout may put a node over an edge's middle); the
    element is then the selected one (the click hit it)."""
    x, y = page.evaluate(
        """(id) => {
          const cy = kgExplorer.cy, el = cy.getElementById(id);
          const box = document.getElementById('cy').getBoundingClientRect();
          let p = el.isNode() ? el.renderedPosition() : el.renderedMidpoint();
          if (el.isEdge()) {
            const a = el.renderedSourceEndpoint(), b = el.renderedTargetEndpoint();
            const covered = (q) => cy.nodes(':visible').some((n) => {
              const bb = n.renderedBoundingBox({ includeLabels: false });
              return q.x >= bb.x1 - 4 && q.x <= bb.x2 + 4 && q.y >= bb.y1 - 4 && q.y <= bb.y2 + 4;
            });
            const along = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82]
              .map((t) => ({ x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) }));
            p = along.find((q) => !covered(q)) || p;
          }
          return [box.left + p.x, box.top + p.y];
        }""",
        element_id,
    )
    page.mouse.click(x, y)
    page.wait_for_function("(id) => kgExplorer.cy.getElementById(id).selected()", arg=element_id)


def _expanded(page: Page, node_id: str) -> None:
    page.wait_for_function("(id) => kgExplorer.cy.getElementById(id).hasClass('expanded')", arg=node_id)


def _search(page: Page, text: str, label: str, key: str) -> None:
    """Search ``text``; its one match is opened without a click."""
    if not page.url.endswith("/explore"):
        page.goto("/explore")
        page.evaluate("() => kgExplorer.ready")
    page.fill("#search", text)
    page.press("#search", "Enter")
    page.wait_for_selector(f"button.result[data-label='{label}'][data-key='{key}']")
    assert page.locator("button.result").count() == 1
    _expanded(page, f"{label}|{key}")


def _visible(page: Page, selector: str) -> int:
    return int(page.evaluate("(s) => kgExplorer.cy.elements(s).filter((e) => e.visible()).length", selector))


def test_explorer_search_expand_path_and_evidence(
    page: Page, page_requests: list[str], live_server: LiveServer
) -> None:
    _search(page, "BRAF", "Gene", "BRAF")
    around_braf = _node_ids(page)
    variants = sorted(n for n in around_braf if n.startswith("Variant|"))
    assert variants, "BRAF's neighbourhood holds no variant"
    assert page.inner_text("#panel h3") == "B-Raf proto-oncogene, serine/threonine kinase"
    screenshot(page, "explorer-braf-neighbourhood")

    variant = variants[0]
    _click_element(page, variant)  # a click expands the node
    _expanded(page, variant)
    assert _node_ids(page) - around_braf, f"expanding {variant} drew nothing new"
    assert page.locator("#panel h2").first.inner_text() == "Variant"
    screenshot(page, "explorer-braf-variant-expanded")

    # an evidence item: found by id, drawn with its neighbours, opened by a click on its node
    _search(page, EID1409, "Evidence", EID1409)
    page.wait_for_selector("#panel[data-showing='evidence'] .evidence-id")
    profile = page.evaluate(
        "() => kgExplorer.cy.nodes('[label = \"MolecularProfile\"]').filter((n) => n.data('name') === 'BRAF V600E').id()"
    )
    assert profile, "EID1409 is not drawn about the molecular profile BRAF V600E"
    _click_element(page, profile)
    _expanded(page, profile)
    _click_element(page, EVIDENCE_1409)
    page.wait_for_selector("#panel[data-showing='evidence'] .evidence-id")
    assert page.inner_text("#panel .evidence-id") == EID1409
    statement = page.inner_text("#panel .statement").lower()
    assert "vemurafenib" in statement and "melanoma" in statement, statement
    citations = page.locator("#panel .citations a")
    assert citations.count() >= 1 and re.fullmatch(r"PMID \d+", citations.first.inner_text())
    assert "civic@" in page.inner_text("#panel .releases")
    screenshot(page, "explorer-evidence-eid1409-statement-and-citations")

    # a relationship shows the release that asserted it
    edge = page.evaluate(
        "([e, p]) => kgExplorer.cy.getElementById(e).edgesTo(kgExplorer.cy.getElementById(p)).first().id()",
        [EVIDENCE_1409, profile],
    )
    _click_element(page, edge)
    page.wait_for_selector("#panel[data-showing='edge']")
    assert page.inner_text("#panel .edge-releases").startswith("civic@")
    screenshot(page, "explorer-edge-about-with-its-release")

    # shortest paths between BRAF and vemurafenib, highlighted
    page.fill("#path-from", "BRAF")
    page.fill("#path-to", "vemurafenib")
    page.click("#path-go")
    page.wait_for_selector("#path-status .path-summary")
    summary = page.inner_text("#path-status .path-summary")
    assert re.match(r"\d+ shortest path\(s\) of 2 relationship\(s\)", summary), summary
    highlighted = set(page.evaluate("() => kgExplorer.cy.nodes('.path').map((n) => n.id())"))
    assert {BRAF, "Drug|vemurafenib"} <= highlighted and len(highlighted) >= 3
    assert page.evaluate("() => kgExplorer.cy.edges('.path').length") >= 2
    assert page.evaluate("() => kgExplorer.cy.nodes('.faded').length") > 0  # the rest steps back
    screenshot(page, "explorer-path-braf-to-vemurafenib-highlighted")

    assert any(u.endswith("/graphql") for u in page_requests) and not off_origin(page_requests, live_server)


def test_explorer_filters_by_type_release_and_level(page: Page) -> None:
    _search(page, "vemurafenib", "Drug", "vemurafenib")

    edge_type = page.evaluate("() => kgExplorer.cy.edges().filter((e) => e.visible()).first().data('type')")
    shown = _visible(page, f'edge[type = "{edge_type}"]')
    assert shown > 0
    page.uncheck(f"#filter-types input[data-value='{edge_type}']")
    assert _visible(page, f'edge[type = "{edge_type}"]') == 0
    page.check(f"#filter-types input[data-value='{edge_type}']")
    assert _visible(page, f'edge[type = "{edge_type}"]') == shown

    releases = page.eval_on_selector_all("#filter-releases input", "(boxes) => boxes.map((b) => b.dataset.value)")
    release = page.evaluate("() => kgExplorer.cy.edges().filter((e) => e.visible()).first().data('release')")
    assert release in releases and _visible(page, f'edge[release = "{release}"]') > 0
    page.uncheck(f"#filter-releases input[data-value='{release}']")
    assert _visible(page, f'edge[release = "{release}"]') == 0
    page.check(f"#filter-releases input[data-value='{release}']")

    levels = page.eval_on_selector_all("#filter-levels input", "(boxes) => boxes.map((b) => b.dataset.value)")
    level = page.evaluate(
        "() => kgExplorer.cy.nodes('[label = \"Evidence\"]').filter((n) => n.visible()).first().data('level')"
    )
    assert level in levels and _visible(page, f'node[level = "{level}"]') > 0
    page.uncheck(f"#filter-levels input[data-value='{level}']")
    assert _visible(page, f'node[level = "{level}"]') == 0
    screenshot(page, "explorer-vemurafenib-evidence-level-filtered")


def test_explorer_sends_the_token_it_is_given(page: Page) -> None:
    page.goto("/explore")
    page.evaluate("() => kgExplorer.ready")
    page.fill("#token", "test-token-123")
    page.dispatch_event("#token", "change")
    with page.expect_request(lambda r: r.url.endswith("/graphql") and r.method == "POST") as sent:
        page.fill("#search", "vemurafenib")
        page.press("#search", "Enter")
    assert sent.value.headers.get("authorization") == "Bearer test-token-123"
    assert page.evaluate("() => localStorage.getItem('kg.token')") == "test-token-123"


def test_graphiql_sends_the_explorers_token(page: Page) -> None:
    use_token(page, "test-token-456")
    page.goto("/graphql")
    page.wait_for_selector(".graphiql-tab")

    def runs_the_tab(request: Request) -> bool:
        return request.url.endswith("/graphql") and request.method == "POST" and "patient" in (request.post_data or "")

    with page.expect_request(runs_the_tab) as ran:
        page.click(".graphiql-execute-button")
    assert ran.value.headers.get("authorization") == "Bearer test-token-456"


def test_graphiql_offline_with_the_clinical_questions(
    page: Page, page_requests: list[str], live_server: LiveServer
) -> None:
    use_token(page, live_server.tokens["clinician"])  # the examples ask about patient demo
    page.goto("/graphql")
    page.wait_for_selector(".graphiql-tab")
    tabs = page.locator(".graphiql-tab").all_inner_texts()
    assert [name for name, _ in EXAMPLE_QUERIES] == [t.strip() for t in tabs]
    screenshot(page, "graphiql-offline-preloaded-tabs")
    page.click(".graphiql-execute-button")
    response = page.locator(".graphiql-response")
    response.get_by_text('"evidenceId"').first.wait_for()
    text = response.inner_text()
    assert '"targetedTherapies"' in text and "civic:" in text and '"errors"' not in text
    screenshot(page, "graphiql-targeted-therapies-for-demo")
    vendor = {u.split("/static/vendor/", 1)[1] for u in page_requests if "/static/vendor/" in u}
    assert vendor == VENDOR_FILES - {"cytoscape/dist/cytoscape.min.js"}
    assert not off_origin(page_requests, live_server)


def test_vendor_files_are_served_only_from_the_allow_list(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        js = http.get("/static/vendor/cytoscape/dist/cytoscape.min.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert http.get("/static/vendor/cytoscape/package.json").status_code == 404
        assert http.get("/static/vendor/%2e%2e/package.json").status_code == 404
        page_html = http.get("/graphql", headers={"accept": "text/html"}).text
        assert "unpkg.com" not in page_html and "/static/vendor/graphiql/graphiql.min.js" in page_html
        assert re.findall(r'(?:src|href)="(https?:)', page_html) == []


def test_without_chromium_only_a_non_root_run_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Chromium: skipped with the reason when not root; as root (CI, where ./kgctl test installs
    it) the run fails instead. KG_CHROMIUM names the binary."""
    monkeypatch.setenv("KG_CHROMIUM", "/opt/some/chromium")
    assert browser.find_chromium() == "/opt/some/chromium"
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.skip.Exception, match="no Chromium found; apt-get"):
        browser._missing("no Chromium found", "apt-get install -y chromium")
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    with pytest.raises(pytest.fail.Exception, match="although running as root"):
        browser._missing("no Chromium found", "apt-get install -y chromium")

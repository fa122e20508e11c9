"""The explorer (/explore) and the offline GraphiQL (/graphql) in headless Chromium, on the seeds.

Every page request must go to the app itself (tests/browser.py aborts and reports any other);
screenshots land in test-artifacts/screenshots/, named for what they show.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page

from api.browser import EXAMPLE_QUERIES, VENDOR_FILES
from tests.browser import LiveServer, chromium, live_server, off_origin, page, page_requests, screenshot  # noqa: F401

BRAF = "Gene|BRAF"
V600E = "Variant|GRCh38:chr7:140753336:A:T"  # CIViC variant 12 (seeds/patients/README.md)
EID1409 = "civic:EID1409"  # vemurafenib, level A, skin melanoma


def _node_ids(page: Page) -> set[str]:
    return set(page.evaluate("() => kgExplorer.cy.nodes().map((n) => n.id())"))


def _click_element(page: Page, element_id: str) -> None:
    """A real mouse click where cytoscape drew the node (or the middle of the edge)."""
    x, y = page.evaluate(
        """(id) => {
          const el = kgExplorer.cy.getElementById(id);
          const p = el.isNode() ? el.renderedPosition() : el.renderedMidpoint();
          const box = document.getElementById('cy').getBoundingClientRect();
          return [box.left + p.x, box.top + p.y];
        }""",
        element_id,
    )
    page.mouse.click(x, y)


def _expanded(page: Page, node_id: str) -> None:
    page.wait_for_function("(id) => kgExplorer.cy.getElementById(id).hasClass('expanded')", arg=node_id)


def _search_braf(page: Page) -> None:
    page.goto("/explore")
    page.evaluate("() => kgExplorer.ready")
    page.fill("#search", "BRAF")
    page.press("#search", "Enter")
    page.click("button.result[data-label='Gene'][data-key='BRAF']")
    _expanded(page, BRAF)


def test_explorer_search_expand_path_and_evidence(
    page: Page, page_requests: list[str], live_server: LiveServer
) -> None:
    _search_braf(page)
    around_braf = _node_ids(page)
    assert V600E in around_braf and "Variant|civic:variant:17" in around_braf  # BRAF V600E and the codon V600
    assert page.inner_text("#panel h3") == "B-Raf proto-oncogene, serine/threonine kinase"
    screenshot(page, "explorer-braf-neighbourhood")

    _click_element(page, V600E)  # a click expands the node
    _expanded(page, V600E)
    profiles = {n for n in _node_ids(page) if n.startswith("MolecularProfile|")} - around_braf
    assert profiles, "expanding BRAF V600E drew no molecular profile"
    assert "BRAF V600E" in page.inner_text("#panel")
    screenshot(page, "explorer-braf-v600e-expanded")

    profile = page.evaluate(
        "() => kgExplorer.cy.nodes('[label = \"MolecularProfile\"]').filter((n) => n.data('name') === 'BRAF V600E').id()"
    )
    _click_element(page, profile)
    _expanded(page, profile)
    evidence = f"Evidence|{EID1409}"
    assert evidence in _node_ids(page)
    _click_element(page, evidence)  # an evidence node opens its statement and citations
    page.wait_for_selector("#panel[data-showing='evidence'] .evidence-id")
    assert page.inner_text("#panel .evidence-id") == EID1409
    statement = page.inner_text("#panel .statement")
    assert "vemurafenib" in statement.lower() or "melanoma" in statement.lower(), statement
    citations = page.locator("#panel .citations a")
    assert citations.count() >= 1 and re.fullmatch(r"PMID \d+", citations.first.inner_text())
    assert "civic@" in page.inner_text("#panel .releases")
    screenshot(page, "explorer-evidence-eid1409-statement-and-citations")

    # a relationship shows the release that asserted it
    edge = page.evaluate(
        f"() => kgExplorer.cy.getElementById('{profile}').connectedEdges('[type = \"INCLUDES\"]').first().id()"
    )
    _click_element(page, edge)
    page.wait_for_selector("#panel[data-showing='edge']")
    assert page.inner_text("#panel .edge-releases").startswith("civic@")
    screenshot(page, "explorer-edge-release")

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

    graphql = [u for u in page_requests if u.endswith("/graphql")]
    assert graphql and not off_origin(page_requests, live_server)


def test_explorer_filters_by_type_release_and_level(page: Page) -> None:
    _search_braf(page)
    _click_element(page, V600E)
    _expanded(page, V600E)

    def visible(selector: str) -> int:
        return page.evaluate(f"() => kgExplorer.cy.elements('{selector}').filter((e) => e.visible()).length")

    about = visible('edge[type = "ABOUT"]')
    assert about > 0
    page.uncheck("#filter-types input[data-value='ABOUT']")
    assert visible('edge[type = "ABOUT"]') == 0
    page.check("#filter-types input[data-value='ABOUT']")
    assert visible('edge[type = "ABOUT"]') == about

    releases = page.eval_on_selector_all("#filter-releases input", "(boxes) => boxes.map((b) => b.dataset.value)")
    fda = next(r for r in releases if r.startswith("fda@"))
    assert visible(f'edge[release = "{fda}"]') > 0
    page.uncheck(f"#filter-releases input[data-value='{fda}']")
    assert visible(f'edge[release = "{fda}"]') == 0 and visible('edge[type = "IN_GENE"]') > 0

    levels = page.eval_on_selector_all("#filter-levels input", "(boxes) => boxes.map((b) => b.dataset.value)")
    level = page.evaluate(
        "() => kgExplorer.cy.nodes('[label = \"Evidence\"]').filter((n) => n.visible()).first().data('level')"
    )
    assert level in levels and visible(f'node[level = "{level}"]') > 0
    page.uncheck(f"#filter-levels input[data-value='{level}']")
    assert visible(f'node[level = "{level}"]') == 0
    screenshot(page, "explorer-filtered-without-fda-release")


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


def test_graphiql_offline_with_the_clinical_questions(
    page: Page, page_requests: list[str], live_server: LiveServer
) -> None:
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

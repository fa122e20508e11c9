"""Browser tests' infrastructure: the app served live on the test Neo4j (seeds + the demo patient),
and headless Chromium driven by Playwright's Python client.

Import the fixtures into a test module by name (as tests/api_graph.py's are)::

    from tests.browser import chromium, live_server, page, page_requests  # noqa: F401 (fixtures)

- ``live_server``: uvicorn serving ``api.app.create_app`` in a thread, on a free port, for one test
  module; the seed demo patient is linked as ``kg up`` links it (``kg.cli._match_demo_patient``) and
  removed again afterwards if it was not there before, so other modules see the graph as they left it.
- ``chromium``: Debian's Chromium (``apt-get install chromium``; ``KG_CHROMIUM`` names another
  binary) launched through Playwright with ``executable_path`` — ``playwright install`` downloads
  browsers from a CDN, which a hospital network or CI may not reach, so it is never used.
- ``page``: a fresh browser context on the live server (``page.goto("/explore")``); every request
  the page makes is recorded in ``page_requests``, and one to another origin is aborted and fails
  the test: the pages must work offline.
- ``use_token(page, token)``: the pages send ``Authorization: Bearer <token>`` (they read it from
  localStorage ``kg.token``, where the explorer's token field keeps it).
- ``screenshot(page, name)``: ``test-artifacts/screenshots/<name>.png`` (``KG_TEST_ARTIFACTS``
  moves the folder), kept after the run.

No Chromium: the tests skip with the reason when not run as root; as root (CI, where ./kgctl test
installs Debian's chromium) they fail instead of skipping. The same holds for the npm assets
(web/node_modules, installed by ./kgctl with ``npm ci``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from api import browser as web
from api.app import create_app
from kg.access.roles import Role
from kg.access.settings import AuthSettings
from kg.db import Graph
from tests.api_graph import token_for

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
STARTUP_SECONDS = 30


def artifacts_dir() -> Path:
    return Path(os.environ.get("KG_TEST_ARTIFACTS") or ROOT / "test-artifacts")


def find_chromium() -> str | None:
    """``KG_CHROMIUM``, else the first Chromium on PATH (Debian's package installs /usr/bin/chromium)."""
    configured = os.environ.get("KG_CHROMIUM")
    if configured:
        return configured
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def _missing(reason: str, root_fix: str) -> None:
    """Skip with the reason when not root; as root (CI) the set-up should have installed it: fail."""
    if os.geteuid() != 0:
        pytest.skip(f"{reason}; {root_fix}")
    pytest.fail(f"{reason} although running as root, where ./kgctl test installs it; {root_fix}")


@dataclass(frozen=True)
class LiveServer:
    url: str
    graph: Graph
    #: real tokens (kg.access.tokens, as ``kg token create`` makes them): "researcher", the explorer's
    #: user, and "clinician", granted the demo patient (GraphiQL's examples, the report)
    tokens: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(seeded: Graph, auth_settings: AuthSettings) -> Iterator[LiveServer]:
    from kg import cli
    from kg.matcher.match import delete_patient
    from kg.queries.patient_view import find_patient

    missing = sorted(f for f in web.VENDOR_FILES if not (web.web_dir() / "node_modules" / f).is_file())
    if missing:
        _missing(
            f"the browser assets are not installed ({web.web_dir() / 'node_modules'} lacks {', '.join(missing)})",
            "run ./kgctl install (npm ci in web/)",
        )
    demo_existed = find_patient(seeded, "demo") is not None
    cli._match_demo_patient(seeded)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(seeded.settings, auth=auth_settings), host="127.0.0.1", port=_free_port(), log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        tokens = {
            "researcher": token_for(auth_settings, Role.RESEARCHER, name="test-browser-researcher"),
            "clinician": token_for(
                auth_settings, Role.CLINICIAN, name="test-browser-clinician", patients=frozenset({"demo"})
            ),
        }
        yield LiveServer(url=f"http://127.0.0.1:{port}", graph=seeded, tokens=tokens)
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        if not demo_existed:
            delete_patient(seeded, "demo")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Chromium for one test module (Playwright's sync API keeps its own event loop; closing
    it with the module keeps it out of the other modules' way)."""
    path = find_chromium()
    if path is None:
        _missing(
            "no Chromium found (looked for KG_CHROMIUM and " + ", ".join(CHROMIUM_NAMES) + " on PATH)",
            "install Debian's package: apt-get install -y chromium",
        )
        raise AssertionError("unreachable")
    # --no-sandbox: Chromium's sandbox refuses to run as root (CI containers)
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page_requests() -> list[str]:
    """Every URL the test's page requested, in order."""
    return []


@pytest.fixture
def page(chromium: Browser, live_server: LiveServer, page_requests: list[str]) -> Iterator[Page]:
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    foreign: list[str] = []

    def same_origin_only(route: Route, request: Request) -> None:
        if request.url.startswith(live_server.url + "/") or request.url.startswith("data:"):
            route.continue_()
        else:
            foreign.append(request.url)
            route.abort()

    context.route("**/*", same_origin_only)
    page = context.new_page()
    use_token(page, live_server.tokens["researcher"])  # a test may give another (use_token again)
    page.on("request", lambda request: page_requests.append(request.url))
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()
    assert not foreign, f"the page requested other origins (it must work offline): {foreign}"


def off_origin(requests: list[str], server: LiveServer) -> list[str]:
    """The requests that did not go to the app itself."""
    return [u for u in requests if not (u.startswith(server.url + "/") or u.startswith("data:"))]


def use_token(page: Page, token: str) -> None:
    """From the next navigation on, the pages send ``token`` as ``Authorization: Bearer``."""
    page.add_init_script(f"window.localStorage.setItem('kg.token', {json.dumps(token)})")


def screenshot(page: Page, name: str) -> Path:
    """Save the page as test-artifacts/screenshots/<name>.png (a name that says what it shows)."""
    path = artifacts_dir() / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path

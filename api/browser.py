"""What the app serves to browsers: the npm-installed vendor files, the explorer page and the
offline GraphiQL page.

Nothing a page loads comes from the internet (a hospital intranet has none): React, GraphiQL, its
explorer plugin and cytoscape.js are installed from the npm registry by the project's set-up
(`./kgctl install`: ``npm ci`` in ``web/``, exact versions from ``web/package-lock.json``) and served
from ``web/node_modules`` under ``/static/vendor/`` — only the files listed in ``VENDOR_FILES``.
``KG_WEB_DIR`` names another ``web/`` folder (the Docker image installs it at ``/app/web``).

Who may call: anyone (anonymous). The pages hold no data; what they show comes from /graphql under
the caller's token, which the pages send as ``Authorization: Bearer``.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: The files of web/node_modules a page needs (UMD builds served as plain files), by path under it.
VENDOR_FILES = frozenset(
    {
        "react/umd/react.production.min.js",
        "react-dom/umd/react-dom.production.min.js",
        "graphiql/graphiql.min.js",
        "graphiql/graphiql.min.css",
        "@graphiql/plugin-explorer/dist/index.umd.js",
        "@graphiql/plugin-explorer/dist/style.css",
        "cytoscape/dist/cytoscape.min.js",
    }
)

#: The three clinical questions for the demo patient (seeds/patients/README.md), GraphiQL's first tabs.
EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "TargetedTherapies",
        """# Targeted therapy: which drugs the demo patient's tumour
# variants make it sensitive or resistant to, in its disease
# (melanoma, DOID:1909, and the diseases below it).
query TargetedTherapies {
  patient(id: "demo") {
    id
    conditions { id name }
    targetedTherapies(disease: "DOID:1909") {
      evidenceId level ampTier significance direction therapies
      molecularProfile matchLevels disease { id name } diseaseRelation
      statement pmids
      sources { release }
    }
  }
}
""",
    ),
    (
        "Pharmacogenomics",
        """# Pharmacogenomics: what the demo patient's genotype
# means for clopidogrel (CPIC / DPWG guidelines).
query Pharmacogenomics {
  patient(id: "demo") {
    diplotypes { gene diplotype phenotype activityScore status missingPositions }
    pharmacogenomics(drug: "clopidogrel") {
      drug { id name } guideline state reason genes genesWithoutResult
      recommendations { text strength population phenotypes citations sources { release } }
    }
  }
}
""",
    ),
    (
        "Risk",
        """# Risk: which inherited variants put the demo patient at
# risk of which disease (at risk vs carrier).
query Risk {
  patient(id: "demo") {
    risks {
      gene variantName classification reviewStatus stars status reason
      inheritance conditions diseases { id name } pmids
      sources { release }
    }
  }
}
""",
    ),
)


class VendorFiles(StaticFiles):
    """StaticFiles over web/node_modules that serves only ``VENDOR_FILES`` (etags and 304s from
    Starlette); an allowed file that is absent says how to install it."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in VENDOR_FILES:
            return PlainTextResponse("Not Found", status_code=404)
        if not (web_dir() / "node_modules" / path).is_file():
            return PlainTextResponse(
                f"browser assets are not installed ({web_dir() / 'node_modules' / path} is missing): "
                "run ./kgctl install (npm ci in web/)",
                status_code=503,
            )
        return await super().get_response(path, scope)


def web_dir() -> Path:
    """The ``web/`` folder holding package.json and node_modules (``KG_WEB_DIR`` or the checkout's)."""
    configured = os.environ.get("KG_WEB_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[1] / "web"


def vendor_files() -> VendorFiles:
    return VendorFiles(directory=web_dir() / "node_modules", check_dir=False)


def app_files() -> StaticFiles:
    """The pages' own scripts and styles (api/static/app/, no build step), under /static/app/."""
    return StaticFiles(directory=STATIC_DIR / "app")


async def explore_page(request: Request) -> Response:
    """GET /explore: the graph explorer (api/static/explore.html). Anonymous; its data comes from /graphql."""
    return FileResponse(STATIC_DIR / "explore.html", media_type="text/html")


def graphiql_html() -> str:
    """The GraphiQL page with local assets and the example queries as its first tabs."""
    template = (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")
    tabs = [{"query": query} for _, query in EXAMPLE_QUERIES]
    # JSON inside <script type="application/json">: escape "<" so no text can close the element
    return template.replace("{{ EXAMPLE_TABS }}", json.dumps(tabs).replace("<", "\\u003c")).replace(
        "{{ TITLE }}", html.escape("precision-kg GraphiQL")
    )

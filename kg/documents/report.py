"""The patient report as HTML (Jinja2, print styles) and PDF (WeasyPrint renders that same HTML).

The template only presents kg.queries.patient_report's answers and the plain-language summary built
from them; the PDF is the HTML printed (CSS Paged Media: ``@page``, page numbers), so both say the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from kg.documents.plain_language import plain_summary
from kg.queries.patient_report import PatientReport

#: section ids of the template, in reading order, with their headings (tests and readers check them)
SECTIONS: dict[str, str] = {
    "summary": "Summary for the patient",
    "pharmacogenomics": "Pharmacogenomics",
    "targeted-therapies": "Targeted therapies",
    "diagnostic-prognostic": "Diagnostic and prognostic evidence",
    "inherited-risks": "Inherited risks",
    "not-determined": "What could not be determined",
    "releases": "Releases behind this report",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("kg.documents", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_html(report: PatientReport, *, generated: datetime | None = None) -> str:
    template = _environment().get_template("report.html.j2")
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return template.render(r=report, summary=plain_summary(report), generated=when)


def report_pdf(report: PatientReport, *, generated: datetime | None = None) -> bytes:
    """The HTML report printed to PDF by WeasyPrint (pango renders the text; no network access)."""
    from weasyprint import HTML

    html = HTML(string=report_html(report, generated=generated), url_fetcher=_refuse)
    return html.write_pdf()


def _refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    """The report embeds everything it shows (styles inline, no images): nothing is fetched, so a
    report never leaks a request to another host, and a link in a statement is text, not a resource."""
    raise ValueError(f"the patient report fetches no resources (asked for {url})")

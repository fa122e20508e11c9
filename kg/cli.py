"""``kg``: run the local Neo4j, apply the schema, load releases, serve the API."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from kg import neo4j_server
from kg.config import Settings, default_data_dir
from kg.db import Graph, GraphUnavailable
from kg.loaders.errors import SourceFormatError

if TYPE_CHECKING:
    from kg.access.roles import Identity
    from kg.access.settings import AuthSettings
    from kg.queries.patient_report import PatientReport
    from kg.queries.visibility import KnowledgeState


def _settings() -> Settings:
    return Settings.from_env()


def _graph() -> Graph:
    return Graph(_settings())


def _fail(message: str) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def _auth() -> AuthSettings:
    from kg.access.settings import AuthSettings

    return AuthSettings.from_env(_settings())


def _operator() -> Identity:
    """The local operator, as the audit log names CLI actions (whoever can read the server's
    secrets folder is its administrator)."""
    import getpass

    from kg.access.roles import Identity, Role

    return Identity(subject=f"cli:{getpass.getuser()}", role=Role.ADMIN, method="cli")


def _audit(operation: str, *, patients: list[str] | None = None, outcome: str = "ok", **detail: object) -> None:
    from kg.access.audit import AuditLog

    AuditLog(_auth().audit_log).append(_operator(), operation, patients=patients or [], outcome=outcome, detail=detail)


@click.group()
def main() -> None:
    """precision-kg: a precision-medicine knowledge graph on Neo4j."""


# --- the local Neo4j -------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The local Neo4j Community server (not used when NEO4J_URI is set)."""


@db.command("start")
def db_start() -> None:
    """Fetch the jars once, start Neo4j on 127.0.0.1 with authentication on, wait for Bolt, print the URI
    and where its password is."""
    settings = _settings()
    if not settings.is_local:
        click.echo(f"NEO4J_URI is set: using {settings.uri}; nothing to start")
        return
    began = time.monotonic()
    try:
        state = neo4j_server.start(settings)
    except neo4j_server.ServerError as err:
        _fail(str(err))
    click.echo(
        f"Neo4j {state.version} is up at {state.uri} (pid {state.pid}, home {state.home}) "
        f"in {time.monotonic() - began:.1f} s"
    )
    where = "NEO4J_PASSWORD" if settings.password else f"{settings.password_file} (owner-only)"
    click.echo(f"user {settings.user}, password in {where}; Bolt only (no HTTP connector)")


@db.command("stop")
def db_stop() -> None:
    """Stop the local Neo4j; no JVM is left behind."""
    settings = _settings()
    click.echo("stopped" if neo4j_server.stop(settings) else "Neo4j was not running")


@db.command("status")
def db_status() -> None:
    """Say whether the local Neo4j (or NEO4J_URI) answers."""
    settings = _settings()
    if not settings.is_local:
        up = Graph(settings).is_reachable()
        click.echo(f"{settings.uri}: {'up' if up else 'unreachable'}")
        sys.exit(0 if up else 1)
    state = neo4j_server.status(settings)
    click.echo(
        f"Neo4j {state.version} at {state.uri}: {'running' if state.running else 'not running'}"
        + (f" (pid {state.pid})" if state.pid else "")
    )
    sys.exit(0 if state.running else 1)


@db.command("wipe")
@click.confirmation_option(prompt="Delete all data of the local Neo4j?")
def db_wipe() -> None:
    """Delete the local server's data (stop it first)."""
    neo4j_server.wipe(_settings())
    click.echo("wiped")


# --- schema, loads, stats --------------------------------------------------------------------


@main.group()
def schema() -> None:
    """Constraints and indexes of the graph model."""


@schema.command("apply")
def schema_apply() -> None:
    """Create the constraints and indexes that are missing (safe to repeat)."""
    from kg.schema import apply_schema

    with _graph() as graph:
        click.echo(f"schema applied ({apply_schema(graph)} statements, all IF NOT EXISTS)")


@main.command("load")
@click.argument("source")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--progress/--no-progress", default=True, help="Show a progress bar with rows/s.")
@click.option(
    "--coverage",
    help="What the release covers, when not what its loader reads from the file: all, genes:A,B or "
    "regions:FILE.bed. A newer release supersedes an older one of the source only inside it.",
)
def load(source: str, path: Path | None, progress: bool, coverage: str | None) -> None:
    """Load SOURCE from PATH: seeds, all (PATH = a data dir like ../shared/data), or one source."""
    from kg.loaders import registry
    from kg.loaders.coverage import declared
    from kg.loaders.release import declared_coverage
    from kg.loaders.seeds import load_seeds
    from kg.schema import apply_schema

    if coverage and source in ("seeds", "all"):
        _fail("--coverage applies to one source's release, not to seeds or all")
    try:
        declared_text = declared(coverage) if coverage else None
    except (ValueError, SourceFormatError) as err:
        _fail(str(err))
    with _graph() as graph, declared_coverage(declared_text):
        try:
            apply_schema(graph)
            if source == "seeds":
                click.echo(load_seeds(graph, path, progress=progress).summary())
                return
            if source == "all":
                data_dir = path or default_data_dir()
                began = time.monotonic()
                for spec in registry.SOURCES:
                    if not (data_dir / spec.default_path).exists():
                        click.echo(f"{spec.name}: no {spec.default_path}/ in {data_dir}, skipped")
                        continue
                    report = registry.loader_for(spec.name).load(graph, data_dir / spec.default_path, progress=progress)
                    click.echo(report.summary())
                click.echo(f"all sources loaded in {time.monotonic() - began:.1f} s")
                return
            try:
                spec = registry.spec_for(source)
            except KeyError as err:
                _fail(str(err.args[0]))
            target = path or default_data_dir() / spec.default_path
            click.echo(registry.loader_for(source).load(graph, target, progress=progress).summary())
        except SourceFormatError as err:
            _fail(f"{err}\nnothing from this release was kept")
        except GraphUnavailable as err:
            _fail(str(err))


@main.command("fetch")
@click.argument("sources", nargs=-1, required=True)
@click.option("--release", help="This release instead of the newest (one source only), e.g. 20260226, 01-Aug-2024.")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), help="Data folder (default: KG_DATA_DIR).")
@click.option("--timeout", type=float, help="Seconds a connection or read may wait (KG_FETCH_TIMEOUT, 60).")
@click.option("--proxy", help="HTTP(S) proxy URL (KG_FETCH_PROXY; else HTTPS_PROXY is honoured).")
@click.option("--progress/--no-progress", default=True)
def fetch(
    sources: tuple[str, ...],
    release: str | None,
    dest: Path | None,
    timeout: float | None,
    proxy: str | None,
    progress: bool,
) -> None:
    """Download SOURCE... (or all) from its publisher into the data folder, verified, as kg load expects."""
    from kg.fetch.download import FetchError
    from kg.fetch.settings import FetchSettings
    from kg.fetch.update import fetch_sources

    if release and (len(sources) != 1 or sources[0] == "all"):
        _fail("--release needs exactly one source")
    try:
        _, errors = fetch_sources(
            FetchSettings.from_env(timeout=timeout, proxy=proxy),
            dest or default_data_dir(),
            list(sources),
            release=release,
            progress=progress,
            echo=click.echo,
        )
    except (FetchError, KeyError) as err:
        _fail(str(err.args[0]) if isinstance(err, KeyError) else str(err))
    if errors:
        _fail(f"{len(errors)} source(s) not fetched; the data folder keeps their previous release")


@main.command("update")
@click.argument("sources", nargs=-1)
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), help="Data folder (default: KG_DATA_DIR).")
@click.option("--timeout", type=float, help="Seconds a connection or read may wait (KG_FETCH_TIMEOUT, 60).")
@click.option("--proxy", help="HTTP(S) proxy URL (KG_FETCH_PROXY).")
@click.option("--progress/--no-progress", default=True)
def update(
    sources: tuple[str, ...], dest: Path | None, timeout: float | None, proxy: str | None, progress: bool
) -> None:
    """Fetch and load every source (or SOURCE...) whose publisher has a newer release than the active one."""
    from kg.fetch.download import FetchError
    from kg.fetch.settings import FetchSettings
    from kg.fetch.update import update as run_update
    from kg.schema import apply_schema

    with _graph() as graph:
        try:
            apply_schema(graph)
            outcomes = run_update(
                graph,
                FetchSettings.from_env(timeout=timeout, proxy=proxy),
                dest or default_data_dir(),
                sources,
                progress=progress,
                echo=click.echo,
            )
        except (FetchError, KeyError) as err:
            _fail(str(err.args[0]) if isinstance(err, KeyError) else str(err))
        except GraphUnavailable as err:
            _fail(str(err))
    if any(o.action == "failed" for o in outcomes):
        _fail("some sources were not updated; each keeps its active release")


@main.command("stats")
def stats() -> None:
    """Counts per label and per source release; diseases given only by name, linked or not."""
    from kg.queries.stats import disease_name_stats, label_counts, release_counts

    with _graph() as graph:
        click.echo("label                       nodes")
        for row in label_counts(graph):
            click.echo(f"{row['label']:<26}{row['count']:>8,}")
        click.echo("\nrelease                                   status     facts")
        for row in release_counts(graph):
            click.echo(f"{row['release']:<42}{row['status'] or '':<10}{row['facts']:>7,}")
        names = disease_name_stats(graph)
        click.echo("\ndiseases given by name only (evidence items)   named  linked unresolved")
        for row in names.by_source:
            click.echo(f"{row['source']:<46}{row['named']:>7,}{row['linked']:>8,}{row['unresolved']:>11,}")
        click.echo(f"unresolved names: {names.unresolved_names:,} distinct; the most frequent:")
        for row in names.top_unresolved:
            extra = f": {', '.join(row['candidates'])}" if row["candidates"] else ""
            click.echo(f"  {row['evidence']:>6,}  {row['name']}  ({row['reason']}{extra}; {', '.join(row['sources'])})")


@main.command("retire")
@click.argument("key")
def retire(key: str) -> None:
    """Retire release KEY (name@version): its facts end; what a patient or curator owns stays.

    Releases of a source beyond KG_KEEP_RELEASES (default 3) are retired by the loads themselves."""
    from kg.loaders.release import UnknownRelease, retire_release

    with _graph() as graph:
        try:
            click.echo(retire_release(graph, key).summary())
        except (UnknownRelease, ValueError) as err:
            _fail(str(err.args[0]))
        except GraphUnavailable as err:
            _fail(str(err))


@main.group()
def releases() -> None:
    """Source releases: compare two releases of a source."""


@releases.command("compare")
@click.argument("older")
@click.argument("newer")
def releases_compare(older: str, newer: str) -> None:
    """Alleles OLDER and NEWER both classify, and how many changed classification (old -> new group)."""
    from kg.queries.release_compare import compare

    with _graph() as graph:
        try:
            click.echo("\n".join(compare(graph, older, newer).lines()))
        except LookupError as err:
            _fail(str(err.args[0]))


@main.command("link-diseases")
def link_diseases() -> None:
    """Resolve again every disease name sources gave without an id (after loading a disease ontology;
    `kg load doid` does this itself)."""
    from kg.loaders.disease_names import relink

    with _graph() as graph:
        click.echo(relink(graph).summary())


# --- patients --------------------------------------------------------------------------------

#: ``--as-of`` of the patient commands: the knowledge state to answer from (kg.queries.visibility).
AS_OF_HELP = (
    "Answer from the knowledge of then: a release key (clinvar@2024-06-01; that source as of it, the others "
    "current) or a date YYYY-MM-DD (every source's releases of that date). Default: the current knowledge."
)


@main.command("match")
@click.argument("vcf", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--patient", "patient_id", help="The patient's id in the graph (a phenopacket's subject.id by default).")
@click.option(
    "--phenopacket",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A GA4GH Phenopacket v2 JSON instead of VCF: its diseases become the patient's conditions and the VCF "
    "in its files (file://PATH, relative to the phenopacket's folder, never outside it) is matched.",
)
@click.option("--sample", help="The sample column to read (required when the VCF has several).")
@click.option(
    "--disease",
    help="The patient's condition: a DOID id in any spelling (DOID:1909, doid_1909), a name, "
    "or a cross-reference (MESH:D008545); an obsolete term stands for its replacement.",
)
@click.option(
    "--outside-calls",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PharmCAT outside-call TSV (CYP2D6, HLA-A, HLA-B, ...).",
)
@click.option(
    "--origin",
    type=click.Choice(["germline", "tumor", "tumor_normal"]),
    help="What the sample is: germline (the default when neither this nor the VCF header says otherwise), "
    "tumor (tumour-only), tumor_normal (a tumour with its matched normal). Read from the header "
    "(##tumor_sample/##normal_sample, ##SAMPLE) when not given; contradicting the header is an error.",
)
@click.option(
    "--normal",
    help="The matched normal: a sample column of the VCF, or the normal's own VCF file (implies --origin "
    "tumor_normal). --sample then names the tumour.",
)
@click.option(
    "--samples",
    "samples_arg",
    help="A cohort: match these samples of a multi-sample VCF in one pass, each as its own patient "
    "(comma-separated names, or 'all' for every sample).",
)
@click.option(
    "--samples-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A cohort: the samples to match, one name per line.",
)
@click.option(
    "--patient-prefix",
    help="A cohort: each patient's id is this prefix followed by the sample name (or give --patient "
    "with {sample} in it, e.g. --patient 'study1-{sample}').",
)
@click.option(
    "--patient-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A cohort: 'sample<TAB>patient id' per line, for every sample matched.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--as-of", "as_of", help="Also print the patient's answers in this knowledge state. " + AS_OF_HELP)
def match(
    vcf: Path | None,
    patient_id: str | None,
    phenopacket: Path | None,
    sample: str | None,
    disease: str | None,
    outside_calls: Path | None,
    origin: str | None,
    normal: str | None,
    samples_arg: str | None,
    samples_file: Path | None,
    patient_prefix: str | None,
    patient_map: Path | None,
    as_json: bool,
    as_of: str | None,
) -> None:
    """Match a GRCh38 VCF (or a phenopacket's) to the graph as a patient: variants linked, diplotypes called.

    With --samples or --samples-file, a multi-sample VCF is a cohort: every chosen sample is matched in
    one pass and stored as its own patient. Exit status 0: every sample stored; 3: some samples failed
    (each listed with its reason, the others stored); 1: nothing stored."""
    import json

    from kg.matcher.match import match_patient
    from kg.matcher.vcf import read_header

    if samples_arg is not None or samples_file is not None:
        if as_of is not None:
            _fail("--as-of prints one patient's answers; for a cohort ask `kg cohort actionable --as-of ...`")
        _match_cohort(
            vcf,
            phenopacket,
            sample,
            normal,
            outside_calls,
            samples_arg,
            samples_file,
            patient_id,
            patient_prefix,
            patient_map,
            disease,
            origin,
            as_json,
        )
        return
    if patient_prefix is not None or patient_map is not None:
        _fail("--patient-prefix and --patient-map name a cohort's patients: choose its samples with --samples")
    if (vcf is None) == (phenopacket is None):
        _fail("give either a VCF or --phenopacket FILE")
    if vcf is not None and not patient_id:
        _fail("--patient ID is required with a VCF")
    with _graph() as graph:
        state = _state(graph, as_of) if as_of else None  # checked before anything is stored
        try:
            if phenopacket is not None:
                from kg.documents.phenopacket import import_phenopacket

                report = import_phenopacket(
                    graph,
                    phenopacket.read_text(encoding="utf-8"),
                    upload_dir=phenopacket.resolve().parent,
                    patient_id=patient_id,
                    name=str(phenopacket),
                    origin=origin,
                )
            else:
                assert vcf is not None  # checked above: a VCF or a phenopacket
                normal_sample = normal_vcf = None
                if normal is not None:  # a sample column of the VCF first, else a file
                    is_column = normal in read_header(vcf).samples
                    normal_sample, normal_vcf = (
                        (normal, None) if is_column or not Path(normal).is_file() else (None, normal)
                    )
                report = match_patient(
                    graph,
                    vcf,
                    patient_id=patient_id or "",
                    disease=disease,
                    sample=sample,
                    outside_calls=outside_calls,
                    origin=origin,
                    normal_sample=normal_sample,
                    normal_vcf=normal_vcf,
                )
        except (ValueError, LookupError) as err:  # VcfError, BuildMismatchError, OutsideCallError, Unresolved,
            # PgxKnowledgeMissing
            _audit(
                "match",
                patients=[patient_id] if patient_id else [],
                outcome=f"error: {type(err).__name__}",
                vcf=(vcf or phenopacket or Path()).name,
            )
            _fail(f"{err}\nnothing was stored for patient {patient_id or '(from the phenopacket)'}")
        except GraphUnavailable as err:
            _fail(str(err))
        answers = _patient_report(graph, report.patient, state) if state is not None else None
    _audit("match", patients=[report.patient], vcf=(vcf or phenopacket or Path()).name)
    click.echo(json.dumps(report.to_dict(), indent=2, default=str, ensure_ascii=False) if as_json else report.summary())
    if answers is not None:
        click.echo(_answers_summary(answers))


def _state(graph: Graph, as_of: str) -> KnowledgeState:
    """The knowledge state ``--as-of`` names; an unknown one ends the command (exit 1) saying why."""
    from kg.queries.visibility import UnknownKnowledgeState, knowledge_state

    try:
        return knowledge_state(graph, as_of)
    except UnknownKnowledgeState as err:
        _fail(str(err))


def _answers_summary(found: PatientReport) -> str:
    """The patient's answers in a few lines: risks, therapy evidence, PGx states, and the releases used."""
    lines = [f"answers for {found.patient.id} ({found.knowledge}):"]
    for r in found.risks:
        lines.append(
            f"  risk {r.status.value}: {r.gene or '?'} {r.variant} {r.classification} ({', '.join(r.releases)})"
        )
    lines.append(f"  targeted therapy evidence: {len(found.targeted_therapies)}")
    lines.append(f"  diagnostic/prognostic evidence: {len(found.diagnostic_prognostic)}")
    states: dict[str, int] = {}
    for a in found.pharmacogenomics:
        states[a.state.value] = states.get(a.state.value, 0) + 1
    lines.append("  pharmacogenomics: " + (", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "none"))
    lines.append("  releases: " + (", ".join(r.release for r in found.releases) or "none"))
    return "\n".join(lines)


def _match_cohort(
    vcf: Path | None,
    phenopacket: Path | None,
    sample: str | None,
    normal: str | None,
    outside_calls: Path | None,
    samples_arg: str | None,
    samples_file: Path | None,
    template: str | None,
    prefix: str | None,
    mapping_file: Path | None,
    disease: str | None,
    origin: str | None,
    as_json: bool,
) -> None:
    """``kg match VCF --samples ...``: a cohort in one pass, every patient write audited."""
    import json

    from kg.access.audit import AuditLog
    from kg.matcher.cohort import PatientIdError, patient_ids, read_patient_map, read_sample_list
    from kg.matcher.match import match_cohort
    from kg.matcher.report import SampleOutcome
    from kg.matcher.vcf import open_cohort

    if vcf is None or phenopacket is not None:
        _fail("a cohort (--samples / --samples-file) is read from a multi-sample VCF, not a phenopacket")
    for given, what in ((sample, "--sample"), (normal, "--normal"), (outside_calls, "--outside-calls")):
        if given is not None:
            _fail(f"{what} is for one sample; a cohort run matches each chosen sample alone")
    if samples_arg is not None and samples_file is not None:
        _fail("give --samples or --samples-file, not both")
    if sum(x is not None for x in (template, prefix, mapping_file)) > 1:
        _fail("give one of --patient TEMPLATE, --patient-prefix, --patient-map")
    chosen: list[str] | None
    if samples_file is not None:
        chosen = read_sample_list(samples_file)
    elif samples_arg is not None and samples_arg.strip().lower() in ("all", "*"):
        chosen = None
    else:
        chosen = [s.strip() for s in (samples_arg or "").split(",") if s.strip()]
    operator, log = _operator(), AuditLog(_auth().audit_log)

    def audit(outcomes: list[SampleOutcome]) -> None:
        log.append_many(
            operator,
            "match",
            [
                ([o.patient], "ok" if o.stored else f"error: {o.error}", {"vcf": vcf.name, "sample": o.sample})
                for o in outcomes
            ],
        )

    with _graph() as graph:
        try:
            columns = open_cohort(vcf, chosen, check_build=False).columns
            mapping = read_patient_map(mapping_file) if mapping_file is not None else None
            ids = patient_ids(columns, template=template, prefix=prefix, mapping=mapping)
            report = match_cohort(
                graph, vcf, patients=ids, samples=list(columns), disease=disease, origin=origin, on_batch=audit
            )
        except (ValueError, LookupError, PatientIdError) as err:
            _audit("match", outcome=f"error: {type(err).__name__}", vcf=vcf.name, cohort=True)
            _fail(f"{err}\nnothing was stored")
        except GraphUnavailable as err:
            _fail(str(err))
    click.echo(json.dumps(report.to_dict(), indent=2, default=str, ensure_ascii=False) if as_json else report.summary())
    if report.failed:
        sys.exit(1 if not report.stored else 3)


def _patient_report(graph: Graph, patient_id: str, state: KnowledgeState | None = None) -> PatientReport:
    from kg.queries.answers import UnknownPatient
    from kg.queries.patient_report import patient_report

    try:
        return patient_report(graph, patient_id, state)
    except UnknownPatient as err:
        _fail(str(err))


@main.command("report")
@click.argument("patient_id")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML here.")
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the PDF here.")
@click.option("--as-of", "as_of", help=AS_OF_HELP)
def report_command(patient_id: str, html_file: Path | None, pdf_file: Path | None, as_of: str | None) -> None:
    """The patient report (the API's answers, printable); HTML on standard output without --html/--pdf."""
    from kg.documents.report import report_html, report_pdf

    with _graph() as graph:
        found = _patient_report(graph, patient_id, _state(graph, as_of) if as_of else None)
    _audit("report", patients=[patient_id], format="pdf" if pdf_file else "html")
    if pdf_file:
        pdf_file.write_bytes(report_pdf(found))
        click.echo(f"PDF report of {patient_id} written to {pdf_file}", err=True)
    if html_file:
        html_file.write_text(report_html(found), encoding="utf-8")
        click.echo(f"HTML report of {patient_id} written to {html_file}", err=True)
    if not pdf_file and not html_file:
        click.echo(report_html(found))


@main.command("export")
@click.argument("patient_id")
@click.option("--fhir", "fmt", flag_value="fhir", help="A FHIR R4 Genomics Reporting bundle.")
@click.option("--phenopacket", "fmt", flag_value="phenopacket", help="A GA4GH Phenopacket v2.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@click.option("--as-of", "as_of", help=AS_OF_HELP)
def export_command(patient_id: str, fmt: str | None, output: Path | None, as_of: str | None) -> None:
    """Export a patient's answers as --fhir or --phenopacket JSON."""
    import json

    from kg.documents.fhir import fhir_bundle
    from kg.documents.phenopacket import phenopacket

    if fmt is None:
        _fail("choose --fhir or --phenopacket")
    with _graph() as graph:
        found = _patient_report(graph, patient_id, _state(graph, as_of) if as_of else None)
    _audit("export", patients=[patient_id], format=fmt)
    data = fhir_bundle(found) if fmt == "fhir" else phenopacket(found)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{fmt} of {patient_id} written to {output}", err=True)
    else:
        click.echo(text)


@main.command("changes")
@click.option("--patient", "patient_id", help="This patient's changes, newest first.")
@click.option("--release", help="The patients whose answers this release's load changed (name@version).")
@click.option("--since", help="Only changes found since a date (YYYY-MM-DD) or a release key's load.")
def changes_command(patient_id: str | None, release: str | None, since: str | None) -> None:
    """What knowledge loads changed in patients' answers (kg.queries.changes); audited as a patient read."""
    from kg.queries.answers import UnknownPatient
    from kg.queries.changes import UnknownSince, changed_patients, patient_changes

    if not patient_id and not release:
        _fail("give --patient ID, --release KEY, or both")
    with _graph() as graph:
        try:
            if patient_id:
                found = [c for c in patient_changes(graph, patient_id, since) if not release or c.release == release]
                _audit("changes", patients=[patient_id], release=release, since=since)
                for c in found:
                    click.echo(f"{c.at}  {c.kind.value:<16} {c.release:<24} {c.summary}")
                click.echo(f"{len(found):,} changes of {patient_id}")
                return
            assert release is not None
            listed = changed_patients(graph, release, None, since)
        except (UnknownPatient, UnknownSince) as err:
            _fail(str(err))
    _audit("changedPatients", patients=[p.patient for p in listed], release=release, since=since)
    for p in listed:
        kinds = ", ".join(f"{k.kind.value} {k.count}" for k in p.by_kind)
        click.echo(f"{p.patient:<30} {p.changes:>5}  {kinds}")
    click.echo(f"{len(listed):,} patients changed by {release}")


@main.group()
def cohort() -> None:
    """Cohort questions over every matched patient (kg.queries.cohort), audited as reads of the patients listed."""


@cohort.command("actionable")
@click.option("--drug", help="A drug (name, synonym or code).")
@click.option("--disease", help="A disease (DOID id, name or cross-reference); its descendants count too.")
@click.option("--first", type=int, default=100, show_default=True, help="Patients listed (the counts are over all).")
@click.option("--as-of", "as_of", help=AS_OF_HELP)
def cohort_actionable_command(drug: str | None, disease: str | None, first: int, as_of: str | None) -> None:
    """Patients with actionable findings for a drug and/or a disease, with the releases the answer used."""
    from kg.queries.cohort import MAX_PATIENTS, cohort_actionable
    from kg.queries.resolve import Unresolved
    from kg.queries.visibility import state_label

    if not drug and not disease:
        _fail("give --drug, --disease, or both")
    if not 0 <= first <= MAX_PATIENTS:
        _fail(f"--first must be between 0 and {MAX_PATIENTS}")
    with _graph() as graph:
        state = _state(graph, as_of) if as_of else None
        try:
            found = cohort_actionable(graph, drug=drug, disease=disease, first=first, patients=None, state=state)
        except Unresolved as err:
            _fail(str(err))
    _audit("cohortActionable", patients=[p.id for p in found.patients], drug=drug, disease=disease, asOf=as_of)
    for p in found.patients:
        click.echo(f"{p.id:<30} evidence {p.evidence_count:>4}  recommendations {len(p.recommendations):>3}")
    click.echo(
        f"{found.total_count:,} patients actionable ({found.via_evidence:,} by evidence, "
        f"{found.via_recommendation:,} by recommendations), {state_label(state)}"
    )
    click.echo("releases: " + (", ".join(found.releases) or "none"))


@cohort.command("phenotypes")
@click.argument("gene")
@click.option("--as-of", "as_of", help=AS_OF_HELP)
def cohort_phenotypes_command(gene: str, as_of: str | None) -> None:
    """Patients per called phenotype of a gene, with the releases asserting those phenotypes."""
    from kg.queries.cohort import cohort_phenotypes
    from kg.queries.resolve import Unresolved
    from kg.queries.visibility import state_label

    with _graph() as graph:
        state = _state(graph, as_of) if as_of else None
        try:
            found = cohort_phenotypes(graph, gene, patients=None, state=state)
        except Unresolved as err:
            _fail(str(err))
    _audit(
        "cohortPhenotypes", patients=sorted({i for p in found.phenotypes for i in p.patient_ids}), gene=gene, asOf=as_of
    )
    for p in found.phenotypes:
        click.echo(f"{p.id:<40} {p.patients or 0:>6}")
    click.echo(f"{found.patients or 0:,} patients with a called phenotype of {found.gene}, {state_label(state)}")
    click.echo("releases: " + (", ".join(found.releases) or "none"))


@main.group()
def patient() -> None:
    """Patients matched into the graph."""


@patient.command("delete")
@click.argument("patient_id")
def patient_delete(patient_id: str) -> None:
    """Remove a patient and every link of it."""
    from kg.matcher.match import delete_patient

    with _graph() as graph:
        deleted = delete_patient(graph, patient_id)
    _audit("deletePatient", patients=[patient_id], outcome="ok" if deleted else "not_found")
    if not deleted:
        _fail(f"no patient {patient_id!r} in the graph")
    click.echo(f"patient {patient_id} deleted")


# --- access: tokens and the audit log ----------------------------------------------------------


@main.group()
def token() -> None:
    """Bearer tokens for the API (README "Access"): local JWTs and API keys, their grants."""


def _patients_option(patients: str | None) -> frozenset[str]:
    return frozenset(p.strip() for p in (patients or "").split(",") if p.strip())


@token.command("create")
@click.option(
    "--role", required=True, type=click.Choice(["clinician", "curator", "researcher", "admin"]), help="What it may do."
)
@click.option("--patients", help="Clinicians: the patient ids granted, comma-separated.")
@click.option("--all-patients", is_flag=True, help="Clinicians: every patient of this deployment.")
@click.option(
    "--expires", help="8h (default for a JWT), 30m, 7d, 2w, a date or date-time, or never (API keys' default)."
)
@click.option("--name", help="Who the token names (the subject the audit log and curation record).")
@click.option("--api-key", is_flag=True, help="An API key for a service instead of a JWT (stored hashed).")
def token_create(
    role: str, patients: str | None, all_patients: bool, expires: str | None, name: str | None, api_key: bool
) -> None:
    """Make a token; it is printed once, as the last line (the server keeps no copy)."""
    from kg.access.roles import Role
    from kg.access.tokens import create_token, parse_expiry

    try:
        made = create_token(
            _auth(),
            Role(role),
            name=name,
            patients=_patients_option(patients),
            all_patients=all_patients,
            expires="default" if expires is None else parse_expiry(expires),
            api_key=api_key,
            created_by=_operator().subject,
        )
    except ValueError as err:
        _fail(str(err))
    r = made.record
    _audit("createToken", patients=r.patients, token=r.id, role=r.role)
    grants = "all patients" if r.all_patients else (", ".join(r.patients) or "no patients")
    click.echo(f"token {r.id}: {r.kind} for {r.name} ({r.role}; {grants}), expires {r.expires_at or 'never'}")
    click.echo("use it as:  Authorization: Bearer <token>")
    click.echo(made.token)


@token.command("list")
def token_list() -> None:
    """Every token record: id, kind, subject, role, grants, state."""
    from kg.access.tokens import TokenStore

    for r in TokenStore(_auth()).all():
        grants = "*" if r.all_patients else (",".join(r.patients) or "-")
        click.echo(
            f"{r.id}  {r.kind:7}  {r.state():7}  {r.role:10}  {r.name}  patients={grants}  expires={r.expires_at or 'never'}"
        )


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token: the server refuses it from the next request on."""
    from kg.access.tokens import revoke_token

    try:
        revoke_token(_auth(), token_id, _operator().subject)
    except LookupError as err:
        _fail(str(err))
    _audit("revokeToken", token=token_id)
    click.echo(f"token {token_id} revoked")


@token.command("grant")
@click.argument("token_id")
@click.option("--patients", help="The patient ids granted (replacing the token's grants), comma-separated.")
@click.option("--all-patients", is_flag=True, help="Every patient of this deployment.")
def token_grant(token_id: str, patients: str | None, all_patients: bool) -> None:
    """Replace a clinician token's patient grants (no option: none)."""
    from kg.access.tokens import set_grants

    granted = _patients_option(patients)
    try:
        set_grants(_auth(), token_id, granted, all_patients)
    except (LookupError, ValueError) as err:
        _fail(str(err))
    _audit("grantPatients", patients=sorted(granted), token=token_id, all=all_patients)
    click.echo(f"token {token_id}: {'all patients' if all_patients else ', '.join(sorted(granted)) or 'no patients'}")


@main.group()
def audit() -> None:
    """The audit log of patient reads and writes (hash-chained, README "Access")."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 at the first changed, missing or cut-off entry."""
    from kg.access.audit import AuditLog

    result = AuditLog(_auth().audit_log).verify()
    if not result.ok:
        _fail(result.message)
    click.echo(result.message)


@audit.command("list")
@click.option("--who")
@click.option("--operation")
@click.option("--patient")
@click.option("--outcome")
@click.option("--since", help="ISO date or date-time (UTC).")
@click.option("--first", default=50, show_default=True, type=int)
@click.option("--after-seq", default=0, type=int, help="Entries after this seq (paging).")
@click.option("--json", "as_json", is_flag=True)
def audit_list(
    who: str | None,
    operation: str | None,
    patient: str | None,
    outcome: str | None,
    since: str | None,
    first: int,
    after_seq: int,
    as_json: bool,
) -> None:
    """Entries matching every filter, oldest first."""
    import dataclasses
    import json

    from kg.access.audit import AuditFilter, AuditLog

    where = AuditFilter(who=who, operation=operation, patient=patient, outcome=outcome, since=since)
    found, more = AuditLog(_auth().audit_log).query(where, after_seq=after_seq, first=first)
    for e in found:
        if as_json:
            click.echo(json.dumps(dataclasses.asdict(e), sort_keys=True))
        else:
            click.echo(
                f"{e.seq:6}  {e.at}  {e.who} ({e.role})  {e.operation}  {','.join(e.patients) or '-'}  {e.outcome}"
                f"  request={e.request or '-'}"
            )
    if more:
        click.echo(f"... more: --after-seq {found[-1].seq}", err=True)


# --- serving ---------------------------------------------------------------------------------


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve GraphQL (GraphiQL at /graphql) and /health with uvicorn."""
    from api.app import create_app
    from api.app import serve as run

    auth = _auth()
    click.echo(f"GraphQL at http://{host}:{port}/graphql  (health: http://{host}:{port}/health)")
    click.echo(
        "Every query needs a token"
        + (" (anonymous knowledge look-ups are on)" if auth.anonymous else "")
        + ": make one with\n  kg token create --role clinician --all-patients --name me\n"
        'and send it as  Authorization: Bearer <token>  (README "Access").'
    )
    run(create_app(_settings()), host, port)


@main.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def up(ctx: click.Context, host: str, port: int) -> None:
    """Start the local Neo4j (unless NEO4J_URI is set), apply the schema, load the seeds, serve."""
    from kg.loaders.seeds import load_seeds
    from kg.schema import apply_schema

    settings = _settings()
    if settings.is_local:
        ctx.invoke(db_start)
    with Graph(settings) as graph:
        apply_schema(graph)
        click.echo(load_seeds(graph, progress=False).summary())
        _match_demo_patient(graph)
    ctx.invoke(serve, host=host, port=port)


def _match_demo_patient(graph: Graph) -> None:
    """Link the seed demo patient (seeds/patients/README.md) so a fresh clone answers for it at once;
    a failure is reported, never fatal to serving."""
    from kg.loaders.seeds import default_seed_dir
    from kg.matcher.match import match_patient

    vcf = default_seed_dir() / "patients" / "demo.vcf"
    if not vcf.is_file():
        return
    try:
        report = match_patient(graph, vcf, patient_id="demo", disease="DOID:1909")
    except (ValueError, LookupError) as err:
        click.secho(f"demo patient not matched: {err}", fg="yellow", err=True)
        return
    click.echo(
        f"demo patient: {report.variants_matched} variant links, {report.genes_called} genes called "
        f"({', '.join(f'{g.gene} {g.diplotype}' for g in report.genes if g.called)})"
    )


if __name__ == "__main__":
    main()

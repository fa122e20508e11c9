"""``kg``: run the local Neo4j, apply the schema, load releases, serve the API."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from kg import neo4j_server
from kg.config import Settings, default_data_dir
from kg.db import Graph, GraphUnavailable
from kg.loaders.errors import SourceFormatError


def _settings() -> Settings:
    return Settings.from_env()


def _graph() -> Graph:
    return Graph(_settings())


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


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
def load(source: str, path: Path | None, progress: bool) -> None:
    """Load SOURCE from PATH: seeds, all (PATH = a data dir like ../shared/data), or one source."""
    from kg.loaders import registry
    from kg.loaders.seeds import load_seeds
    from kg.schema import apply_schema

    with _graph() as graph:
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
    """Counts per label and per source release."""
    from kg.queries.stats import label_counts, release_counts

    with _graph() as graph:
        click.echo("label                       nodes")
        for row in label_counts(graph):
            click.echo(f"{row['label']:<26}{row['count']:>8,}")
        click.echo("\nrelease                                   status     facts")
        for row in release_counts(graph):
            click.echo(f"{row['release']:<42}{row['status'] or '':<10}{row['facts']:>7,}")


# --- patients --------------------------------------------------------------------------------


@main.command("match")
@click.argument("vcf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--patient", "patient_id", required=True, help="The patient's id in the graph.")
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
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def match(
    vcf: Path, patient_id: str, sample: str | None, disease: str | None, outside_calls: Path | None, as_json: bool
) -> None:
    """Match a GRCh38 VCF to the graph as a patient: variants linked, diplotypes called."""
    import json

    from kg.matcher.match import match_patient

    with _graph() as graph:
        try:
            report = match_patient(
                graph, vcf, patient_id=patient_id, disease=disease, sample=sample, outside_calls=outside_calls
            )
        except (ValueError, LookupError) as err:  # VcfError, BuildMismatchError, OutsideCallError, Unresolved,
            # PgxKnowledgeMissing
            _fail(f"{err}\nnothing was stored for patient {patient_id}")
        except GraphUnavailable as err:
            _fail(str(err))
    click.echo(json.dumps(report.to_dict(), indent=2, default=str, ensure_ascii=False) if as_json else report.summary())


@main.group()
def patient() -> None:
    """Patients matched into the graph."""


@patient.command("delete")
@click.argument("patient_id")
def patient_delete(patient_id: str) -> None:
    """Remove a patient and every link of it."""
    from kg.matcher.match import delete_patient

    with _graph() as graph:
        if not delete_patient(graph, patient_id):
            _fail(f"no patient {patient_id!r} in the graph")
    click.echo(f"patient {patient_id} deleted")


# --- serving ---------------------------------------------------------------------------------


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve GraphQL (GraphiQL at /graphql) and /health with uvicorn."""
    import uvicorn

    from api.app import create_app

    click.echo(f"GraphQL at http://{host}:{port}/graphql  (health: http://{host}:{port}/health)")
    uvicorn.run(create_app(_settings()), host=host, port=port, log_level="info")


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

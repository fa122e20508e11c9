"""``kg fetch`` / ``kg update`` against a local mirror of the publishers (tests/mirror.py); no test
reaches the internet. The failure cases each leave the data folder (and the graph) as they were."""

from __future__ import annotations

import gzip
import hashlib
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main as kg
from kg.config import Settings
from kg.db import Graph
from kg.fetch.cache import Busy, ReleaseCache
from kg.fetch.download import FetchError
from kg.fetch.fetcher import stage_release
from kg.fetch.publishers import publisher_for
from kg.fetch.settings import FetchSettings, mirrored
from kg.fetch.update import fetch_sources, update
from kg.loaders import registry
from kg.loaders.release import retire_release
from kg.queries.stats import active_releases, label_counts, release_counts
from tests import mirror

CLINVAR_BASE = "https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/"


def _made_clinvar(path: Path, date: str, records: int = 4000) -> Path:
    """A small VCF shaped like ClinVar's (fetching never parses it, only its first line is checked)."""
    lines = [
        "##fileformat=VCFv4.1\n",
        f"##fileDate={date}\n",
        "##source=ClinVar\n",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
    ]
    lines += [f"1\t{1000 + 7 * i}\t{i + 1}\tA\tG\t.\t.\tALLELEID={i + 1};CLNSIG=Benign\n" for i in range(records)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(lines).encode(), mtime=0))
    return path


def _folder_state(dest: Path) -> dict[str, str]:
    """sha256 of every file of the data folder that is a release or a manifest (not staging/lock)."""
    state = {}
    for path in sorted(dest.rglob("*")):
        relative = path.relative_to(dest).as_posix()
        if path.is_file() and not relative.startswith((".fetch/staging/", ".fetch/lock", ".fetch/previous/")):
            state[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


@pytest.fixture()
def clinvar_mirror(tmp_path: Path):
    """A mirror holding two made ClinVar releases, 20260101 and the newer 20260201."""
    root = tmp_path / "mirror"
    for release in ("20260101", "20260201"):
        made = _made_clinvar(tmp_path / "made" / f"{release}.vcf.gz", release)
        mirror.add_clinvar(root, made, release)
    with mirror.serve(root) as served:
        yield served


def _fetch_clinvar(served: mirror.Mirror, dest: Path, release: str | None = None, **settings: object):
    fetch_settings = FetchSettings.from_env(mirror=served.url, **settings)
    cache = ReleaseCache(dest)
    with fetch_settings.client() as client:
        fetched = stage_release(client, fetch_settings, cache, publisher_for("clinvar"), release, progress=False)
    if fetched.swap:
        fetched.swap.commit()
    return fetched


# --- settings ----------------------------------------------------------------------------------


def test_mirror_and_per_source_base_urls() -> None:
    assert (
        mirrored("http://m.example/pub", CLINVAR_BASE)
        == "http://m.example/pub/ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/"
    )
    settings = FetchSettings(mirror="http://m.example/", base_urls={"clinvar": "http://clinvar.example/x"})
    assert settings.base_url("clinvar", CLINVAR_BASE) == "http://clinvar.example/x/"
    assert (
        settings.base_url("hgnc", "https://storage.googleapis.com/a/") == "http://m.example/storage.googleapis.com/a/"
    )
    assert FetchSettings().base_url("clinvar", CLINVAR_BASE) == CLINVAR_BASE


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_FETCH_BASE_URL_CLINVAR", "http://inst.example/clinvar/")
    monkeypatch.setenv("KG_FETCH_TIMEOUT", "7.5")
    monkeypatch.setenv("KG_FETCH_PROXY", "http://proxy.example:3128")
    settings = FetchSettings.from_env()
    assert settings.base_urls == {"clinvar": "http://inst.example/clinvar/"}
    assert (settings.timeout, settings.proxy) == (7.5, "http://proxy.example:3128")
    assert FetchSettings.from_env(timeout=3.0).timeout == 3.0


# --- one source: newest release, manifest, checksums ---------------------------------------------


def test_fetch_takes_the_newest_release_verified_and_records_it(clinvar_mirror: mirror.Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "data"
    fetched = _fetch_clinvar(clinvar_mirror, dest)
    served = clinvar_mirror.root / mirror.CLINVAR_DIR / "clinvar_20260201.vcf.gz"
    assert fetched.release == "20260201" and fetched.changed
    local = dest / "clinvar" / "clinvar_20260201.vcf.gz"
    assert local.read_bytes() == served.read_bytes()
    manifest = ReleaseCache(dest).manifest("clinvar")
    assert manifest is not None
    assert manifest["releaseDate"] == "2026-02-01"
    (entry,) = manifest["files"]
    assert entry["sha256"] == hashlib.sha256(served.read_bytes()).hexdigest()
    assert entry["md5"] == hashlib.md5(served.read_bytes()).hexdigest()
    assert entry["url"] == clinvar_mirror.url + mirror.CLINVAR_DIR + "/clinvar_20260201.vcf.gz"
    # the same release again: nothing downloaded, nothing changed
    assert not _fetch_clinvar(clinvar_mirror, dest).changed
    # an older release on request replaces it in the folder
    older = _fetch_clinvar(clinvar_mirror, dest, "20260101")
    assert older.changed and sorted(p.name for p in (dest / "clinvar").iterdir()) == ["clinvar_20260101.vcf.gz"]


def test_cli_fetch_with_a_per_source_base_url(clinvar_mirror: mirror.Mirror, tmp_path: Path) -> None:
    base = clinvar_mirror.url + mirror.CLINVAR_DIR + "/"
    result = CliRunner().invoke(
        kg,
        ["fetch", "clinvar", "--dest", str(tmp_path / "d"), "--no-progress"],
        env={"KG_FETCH_BASE_URL_CLINVAR": base, "KG_FETCH_MIRROR": ""},
    )
    assert result.exit_code == 0, result.output
    assert "clinvar 20260201: fetched" in result.output
    assert (tmp_path / "d" / "clinvar" / "clinvar_20260201.vcf.gz").exists()


# --- failures: a clear error naming the URL, and the folder unchanged ------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_publisher(clinvar_mirror: mirror.Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "data"
    _fetch_clinvar(clinvar_mirror, dest, "20260101")
    before = _folder_state(dest)
    url = f"http://127.0.0.1:{_closed_port()}/clinvar/"
    settings = FetchSettings(base_urls={"clinvar": url}, timeout=5)
    with settings.client() as client, pytest.raises(FetchError, match=r"http://127\.0\.0\.1:\d+/clinvar/: unreachable"):
        stage_release(client, settings, ReleaseCache(dest), publisher_for("clinvar"), progress=False)
    assert _folder_state(dest) == before
    result = CliRunner().invoke(
        kg, ["fetch", "clinvar", "--dest", str(dest), "--no-progress"], env={"KG_FETCH_BASE_URL_CLINVAR": url}
    )
    assert result.exit_code == 1 and url in result.output and "unreachable" in result.output
    assert _folder_state(dest) == before


def test_checksum_mismatch(clinvar_mirror: mirror.Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "data"
    _fetch_clinvar(clinvar_mirror, dest, "20260101")
    before = _folder_state(dest)
    (clinvar_mirror.root / mirror.CLINVAR_DIR / "clinvar_20260201.vcf.gz.md5").write_text(
        "0" * 32 + "  clinvar_20260201.vcf.gz\n"
    )
    with pytest.raises(
        FetchError,
        match=r"clinvar_20260201\.vcf\.gz: checksum mismatch: MD5 [0-9a-f]{32}, the publisher's checksum file says 0{32}",
    ):
        _fetch_clinvar(clinvar_mirror, dest)
    assert _folder_state(dest) == before
    assert not list((dest / ".fetch" / "staging").rglob("*.part"))  # a wrong file is not kept to resume


def test_changed_format(clinvar_mirror: mirror.Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "data"
    _fetch_clinvar(clinvar_mirror, dest, "20260101")
    before = _folder_state(dest)
    served = clinvar_mirror.root / mirror.CLINVAR_DIR / "clinvar_20260201.vcf.gz"
    served.unlink()
    served.write_bytes(b"<!DOCTYPE html><html><body>Service moved</body></html>\n")
    (served.parent / (served.name + ".md5")).write_text(mirror.md5_line(served, served.name))
    with pytest.raises(FetchError, match=r"clinvar_20260201\.vcf\.gz: the format changed: expected gzip data"):
        _fetch_clinvar(clinvar_mirror, dest)
    assert _folder_state(dest) == before
    # plain text where a gzip VCF belongs, and a gzip file that is not a VCF
    served.write_bytes(gzip.compress(b"#CHROM\tPOS\n1\t2\n"))
    (served.parent / (served.name + ".md5")).write_text(mirror.md5_line(served, served.name))
    with pytest.raises(FetchError, match=r"expected a VCF file starting with '##fileformat=VCF', found '#CHROM\\tPOS'"):
        _fetch_clinvar(clinvar_mirror, dest)
    assert _folder_state(dest) == before


def test_truncated_download_is_kept_apart_and_resumed(clinvar_mirror: mirror.Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "data"
    _fetch_clinvar(clinvar_mirror, dest, "20260101")
    before = _folder_state(dest)
    served = clinvar_mirror.root / mirror.CLINVAR_DIR / "clinvar_20260201.vcf.gz"
    size = served.stat().st_size
    url_path = "/" + mirror.CLINVAR_DIR + "/clinvar_20260201.vcf.gz"
    clinvar_mirror.faults.truncate[url_path] = size // 2
    with pytest.raises(
        FetchError, match=r"clinvar_20260201\.vcf\.gz: the download stopped early .*run again to resume"
    ):
        _fetch_clinvar(clinvar_mirror, dest)
    assert _folder_state(dest) == before  # the partial file is never taken as a release
    (part,) = (dest / ".fetch" / "staging" / "clinvar").rglob("*.part")
    assert part.stat().st_size == size // 2

    del clinvar_mirror.faults.truncate[url_path]
    clinvar_mirror.faults.ranges.clear()
    fetched = _fetch_clinvar(clinvar_mirror, dest)
    assert (url_path, f"bytes={size // 2}-") in clinvar_mirror.faults.ranges  # continued, not restarted
    assert fetched.release == "20260201"
    assert (dest / "clinvar" / "clinvar_20260201.vcf.gz").read_bytes() == served.read_bytes()
    assert fetched.manifest["files"][0]["sha256"] == hashlib.sha256(served.read_bytes()).hexdigest()
    assert not part.exists()


def test_one_run_at_a_time(tmp_path: Path) -> None:
    cache = ReleaseCache(tmp_path)
    with cache.lock(), pytest.raises(Busy, match="another kg fetch or kg update is running"):
        fetch_sources(FetchSettings(), tmp_path, ["clinvar"], progress=False, echo=lambda _: None)


# --- the real releases through the mirror ------------------------------------------------------------


def _cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = settings.connection_env()
    env.update(extra)
    return env


@pytest.mark.realdata
def test_fetch_all_then_load_all_gives_the_same_graph(
    real_data: Graph, neo4j_settings: Settings, data_dir: Path, tmp_path: Path
) -> None:
    """``kg fetch all`` from the mirror, then ``kg load all`` of that folder: the same counts per
    label and per release as ../shared/data gave (files byte-identical to the shared ones are
    recognised by checksum; the others, decompressed or unzipped, load to the same facts)."""
    labels_before = {r["label"]: r["count"] for r in label_counts(real_data)}
    releases_before = {r["release"]: (r["status"], r["facts"]) for r in release_counts(real_data)}
    root = mirror.build(data_dir, tmp_path / "mirror")
    dest = tmp_path / "data"
    with mirror.serve(root) as served:
        fetched = CliRunner().invoke(
            kg, ["fetch", "all", "--dest", str(dest), "--no-progress"], env={"KG_FETCH_MIRROR": served.url}
        )
    assert fetched.exit_code == 0, fetched.output
    cache = ReleaseCache(dest)
    releases = {
        name: (cache.manifest(name) or {}).get("release")
        for name in ("so", "hgnc", "doid", "liftover", "civic", "clinvar", "pharmcat", "pharmgkb")
    }
    assert releases == {
        "so": "2024-11-18",
        "hgnc": "2024-10",
        "doid": "2024-01-31",
        "liftover": "hg19ToHg38",
        "civic": "01-Aug-2024",
        "clinvar": "20260226",
        "pharmcat": "2.10.0",
        "pharmgkb": "2022-07-05",
    }
    try:
        loaded = CliRunner().invoke(kg, ["load", "all", str(dest), "--no-progress"], env=_cli_env(neo4j_settings))
        assert loaded.exit_code == 0, loaded.output
        for same_bytes in ("civic@2024-08-01", "clinvar@2026-02-26"):
            assert f"{same_bytes}: already loaded, nothing changed" in loaded.output
        assert "clinvar_more: no clinvar_more/ in" in loaded.output  # not a publisher release: not fetched
        assert {r["label"]: r["count"] for r in label_counts(real_data)} == labels_before
        assert {r["release"]: (r["status"], r["facts"]) for r in release_counts(real_data)} == releases_before
    finally:  # the session's releases point at ../shared/data again (Source.files)
        for name in ("so", "hgnc", "doid", "pharmcat", "pharmgkb"):
            registry.loader_for(name).load(real_data, data_dir / registry.spec_for(name).default_path, progress=False)


@pytest.mark.realdata
def test_update_loads_only_what_is_newer_and_never_leaves_a_source_inactive(
    graph: Graph, data_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "mirror"
    so_text = gzip.decompress((data_dir / "ontology" / "so_2024-11-18.obo.gz").read_bytes())
    mirror.add_obo(root, "so", so_text, "2024-11-18")
    for path in (data_dir / "pgx" / "fda").glob("*.json"):
        (root / mirror.FDA_DIR).mkdir(parents=True, exist_ok=True)
        (root / mirror.FDA_DIR / path.name).symlink_to(path)
    dest = tmp_path / "data"
    quiet = {"progress": False, "echo": lambda _: None}
    try:
        with mirror.serve(root) as served:
            settings = FetchSettings(mirror=served.url)
            first = {o.source: o.action for o in update(graph, settings, dest, ["so", "fda"], **quiet)}
            assert first["so"] in ("loaded", "up to date") and first["fda"] in ("loaded", "up to date")
            assert active_releases(graph)["so"] == "so@2024-11-18"
            fda_key = active_releases(graph)["fda"]

            again = update(graph, settings, dest, ["so", "fda"], **quiet)
            assert [(o.source, o.action) for o in again] == [("so", "up to date"), ("fda", "up to date")]

            # a newer SO release appears: only SO is fetched and loaded
            newer = so_text.replace(b"data-version: 2024-11-18", b"data-version: 2025-01-01", 1)
            mirror.add_obo(root, "so", newer, "2025-01-01")
            third = {o.source: o for o in update(graph, settings, dest, ["so", "fda"], **quiet)}
            assert third["so"].action == "loaded" and "so@2025-01-01" in third["so"].detail
            assert third["fda"].action == "up to date"
            active = active_releases(graph)
            assert active["so"] == "so@2025-01-01" and active["fda"] == fda_key
            # the older release is kept for as-of answers, no longer current (kg/loaders/release.py)
            assert graph.read("MATCH (s:Source {key: 'so@2024-11-18'}) RETURN s.status AS status") == [
                {"status": "superseded"}
            ]
            state = _folder_state(dest)

            # the publisher announces a release whose file is an error page: nothing changes
            mirror.add_obo(root, "so", newer.replace(b"2025-01-01", b"2025-02-02", 1), "2025-02-02")
            (root / mirror.OBO_DIR / "so" / "2025-02-02" / "so.obo").write_bytes(b"<html>Not here</html>\n")
            (failed,) = update(graph, settings, dest, ["so"], **quiet)
            assert failed.action == "failed" and "so/2025-02-02/so.obo: the format changed" in failed.detail
            assert "so@2025-01-01 stays active" in failed.detail
            assert active_releases(graph)["so"] == "so@2025-01-01" and _folder_state(dest) == state

            # a release that passes the header check but does not load: rolled back in graph and folder
            broken = newer.replace(b"2025-01-01", b"2025-03-03", 1).replace(b"id: SO:0001583\n", b"", 1)
            mirror.add_obo(root, "so", broken, "2025-03-03")
            (failed,) = update(graph, settings, dest, ["so"], **quiet)
            assert failed.action == "failed" and "loading 2025-03-03 failed" in failed.detail
            assert active_releases(graph)["so"] == "so@2025-01-01"
            assert not graph.read("MATCH (s:Source {key: 'so@2025-03-03'}) RETURN s")
            assert _folder_state(dest) == state
    finally:
        for row in graph.read("MATCH (s:Source {name: 'so'}) WHERE s.version STARTS WITH '2025-' RETURN s.key AS key"):
            retire_release(graph, row["key"])  # the made-up newer releases: the real one is current again
        registry.loader_for("so").load(graph, data_dir / "ontology", progress=False)

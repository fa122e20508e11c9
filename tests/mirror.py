"""A local mirror of the publishers, built at test time from ../shared/data, served on 127.0.0.1.

The folder is laid out like ``KG_FETCH_MIRROR`` expects (``<host>/<path>`` of each official URL,
kg.fetch.publishers) and filled with symlinks to, or decompressed copies of, the shared releases
in a pytest tmp_path (never in the repository). The server is the standard library's
``http.server`` in a thread, plus what publishers' servers do and it does not: ``Range: bytes=N-``
(206 Partial Content, 416 past the end). ``truncate`` makes it stop a file's body early after
announcing its full length, as a dropped connection does.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kg.fetch.publishers import PHARMCAT_RESOURCES

CLINVAR_DIR = "ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38"
OBO_DIR = "purl.obolibrary.org/obo"
CIVIC_DIR = "civicdb.org/downloads"
HGNC_DIR = "storage.googleapis.com/public-download-files/hgnc/archive/archive/monthly/tsv"
CHAIN_DIR = "hgdownload.soe.ucsc.edu/goldenPath/hg19/liftOver"
PHARMCAT_DIR = "github.com/PharmGKB/PharmCAT/releases"
PHARMGKB_DIR = "api.pharmgkb.org/v1/download/file/data"
FDA_DIR = "raw.githubusercontent.com/PharmGKB/fda-biomarker/master"

PHARMCAT_VERSION = "2.10.0"


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(source)


def _gunzip(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(source, "rb") as src, open(target, "wb") as out:
        shutil.copyfileobj(src, out)


def _plain(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def md5_line(path: Path, name: str) -> str:
    return f"{hashlib.md5(path.read_bytes()).hexdigest()}  {name}\n"


def add_clinvar(root: Path, vcf_gz: Path, release: str) -> Path:
    """``clinvar_<release>.vcf.gz`` and its ``.md5`` in the weekly folder."""
    name = f"clinvar_{release}.vcf.gz"
    target = root / CLINVAR_DIR / name
    _link(vcf_gz, target)
    (root / CLINVAR_DIR / (name + ".md5")).write_text(md5_line(vcf_gz, name))
    return target


def add_obo(root: Path, ontology: str, obo: bytes, release: str) -> None:
    """A versioned OBO release, which also becomes the current ``<ontology>.obo``."""
    versioned = f"{ontology}/{release}/so.obo" if ontology == "so" else f"doid/releases/{release}/doid.obo"
    for path in (root / OBO_DIR / versioned, root / OBO_DIR / f"{ontology}.obo"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(obo)


def build(data: Path, root: Path) -> Path:
    """Every fetchable release of ``data`` (../shared/data) under ``root``, as the publishers lay them out."""
    add_clinvar(root, data / "clinvar" / "clinvar_20260226_GRCh38_hereditary_cancer_regions.vcf.gz", "20260226")
    add_obo(root, "so", _plain(data / "ontology" / "so_2024-11-18.obo.gz"), "2024-11-18")
    add_obo(root, "doid", _plain(data / "ontology" / "doid_2024-01-31.obo.gz"), "2024-01-31")
    _gunzip(data / "genes" / "hgnc_complete_set_2024-10.txt.gz", root / HGNC_DIR / "hgnc_complete_set_2024-10-01.tsv")
    for path in sorted((data / "civic").glob("01-Aug-2024-*")):
        _link(path, root / CIVIC_DIR / "01-Aug-2024" / path.name)
    chain = data / "civic" / "hg19ToHg38.over.chain.gz"
    _link(chain, root / CHAIN_DIR / chain.name)
    (root / CHAIN_DIR / "md5sum.txt").write_text(
        "0" * 32 + "  hg19ToHg18.over.chain.gz\n" + md5_line(chain, chain.name)
    )
    _pharmcat_jar(data / "pgx" / "pharmcat", root / PHARMCAT_DIR)
    _pharmgkb_zips(data / "pgx" / "pharmgkb", root / PHARMGKB_DIR)
    for path in sorted((data / "pgx" / "fda").glob("*.json")):
        _link(path, root / FDA_DIR / path.name)
    return root


def _pharmcat_jar(pharmcat: Path, releases: Path) -> None:
    """The release jar's resources from the shared PharmCAT v2.10.0 files (the older phenotype
    snapshots kept apart in ../shared/data are, in the real jar, the cpic/ files themselves)."""
    releases.mkdir(parents=True, exist_ok=True)
    (releases / "latest").write_text(
        f'<a href="/PharmGKB/PharmCAT/releases/tag/v{PHARMCAT_VERSION}">v{PHARMCAT_VERSION}</a>\n'
    )
    jar = releases / "download" / f"v{PHARMCAT_VERSION}" / f"pharmcat-{PHARMCAT_VERSION}-all.jar"
    jar.parent.mkdir(parents=True, exist_ok=True)
    members = {
        "definition/alleles": "definition/alleles",
        "phenotype/cpic": "phenotype/cpic",
        "phenotype/cpic_older_snapshot": "phenotype/cpic",
        "phenotype/dpwg": "phenotype/dpwg",
        "guidelines": "reporter/guidelines",
    }
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for local, inside in members.items():
            for path in sorted((pharmcat / local).glob("*.json*")):
                out.writestr(f"{PHARMCAT_RESOURCES}{inside}/{path.name.removesuffix('.gz')}", _plain(path))


def _pharmgkb_zips(pharmgkb: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    archives = {
        "clinicalAnnotations.zip": ["clinical_annotations.tsv", "CREATED_2022-07-05.txt", "LICENSE.txt"],
        "drugLabels.zip": ["drugLabels.tsv", "drugLabels.byGene.tsv"],
        "drugs.zip": ["drugs.tsv.gz"],
    }
    for archive, names in archives.items():
        with zipfile.ZipFile(folder / archive, "w", zipfile.ZIP_DEFLATED) as out:
            for name in names:
                out.writestr(name.removesuffix(".gz"), _plain(pharmgkb / name))


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Faults:
    truncate: dict[str, int] = field(default_factory=dict)  # URL path -> bytes sent before closing
    ranges: list[tuple[str, str]] = field(default_factory=list)  # (path, Range header) seen


class RangeHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler with ``Range: bytes=N-`` and injected truncation."""

    faults: Faults

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            super().do_GET()
            return
        if not os.path.isfile(path):
            self.send_error(404, "Not Found")
            return
        size = os.path.getsize(path)
        start, end = 0, size - 1
        header = self.headers.get("Range")
        if header:
            self.faults.ranges.append((self.path, header))
            first, _, last = header.removeprefix("bytes=").partition("-")
            start = int(first) if first.isdigit() else 0
            end = min(int(last), size - 1) if last.isdigit() else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end + 1 - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        limit = self.faults.truncate.get(self.path)
        with open(path, "rb") as handle:
            handle.seek(start)
            remaining = end + 1 - start if limit is None else max(0, limit - start)
            while remaining > 0:
                chunk = handle.read(min(65536, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)
        if limit is not None:
            self.close_connection = True


@dataclass
class Mirror:
    root: Path
    url: str
    faults: Faults


@contextmanager
def serve(root: Path) -> Iterator[Mirror]:
    """Serve ``root`` on 127.0.0.1 (a free port) until the block ends."""
    faults = Faults()
    handler = type("Handler", (RangeHandler,), {"faults": faults})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Mirror(root, f"http://127.0.0.1:{server.server_address[1]}/", faults)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

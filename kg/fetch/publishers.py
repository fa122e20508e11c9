"""Where each source's publisher puts its releases, and where they go in a data folder.

One :class:`Publisher` per fetchable source: its official base URL, how the newest release is
found there, and the files of a release (URL relative to the base, name in the data folder as
``kg load`` expects it: kg.loaders.registry default paths and each loader's file patterns).
The official locations (each publisher's download page):

* ``so``, ``doid``: OBO Foundry PURLs, ``http://purl.obolibrary.org/obo/so/<date>/so.obo`` and
  ``.../obo/doid/releases/<date>/doid.obo``; the newest is the ``data-version`` of ``so.obo`` / ``doid.obo``.
* ``hgnc``: the HGNC monthly archive, ``https://storage.googleapis.com/public-download-files/hgnc/archive/archive/monthly/tsv/hgnc_complete_set_<YYYY-MM>-01.tsv``.
* ``civic``: the CIViC monthly release, ``https://civicdb.org/downloads/<DD-Mon-YYYY>/<DD-Mon-YYYY>-<Kind>.tsv`` and ``-civic_accepted.vcf``.
* ``liftover``: the UCSC chain ``https://hgdownload.soe.ucsc.edu/goldenPath/hg19/liftOver/hg19ToHg38.over.chain.gz``
  (checked against that folder's ``md5sum.txt``); it lives in the CIViC folder, whose loader lifts with it.
* ``clinvar``: NCBI, ``https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/clinvar_<YYYYMMDD>.vcf.gz`` (weekly,
  newest in the folder listing) or ``archive_2.0/<YYYY>/clinvar_<YYYYMMDD>.vcf.gz`` (monthly archive), each with its ``.md5``.
* ``pharmcat``: the PharmCAT release jar, ``https://github.com/PharmGKB/PharmCAT/releases/download/v<X.Y.Z>/pharmcat-<X.Y.Z>-all.jar``,
  whose ``org/pharmgkb/pharmcat/`` resources are the allele definitions, CPIC/DPWG phenotypes and guideline files.
* ``pharmgkb``: ``https://api.pharmgkb.org/v1/download/file/data/{clinicalAnnotations,drugLabels,drugs}.zip``
  (unversioned: the release is the ``CREATED_<date>.txt`` member the archive carries).
* ``fda``: the FDA "Table of Pharmacogenomic Biomarkers in Drug Labeling" is an HTML page; its machine-readable
  form is PharmGKB's scrape, ``https://raw.githubusercontent.com/PharmGKB/fda-biomarker/master/fda_pgx_*_table.json``
  (unversioned: named by the day it was fetched).

``clinvar_more`` (a column extract of an older ClinVar release) and ``pgx/cpic`` (CPIC's 2020 SQL
tables) are not publisher releases and are not fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import httpx

from kg.fetch import formats
from kg.fetch.download import FetchError, exists, get_text, http_error
from kg.fetch.formats import Check
from kg.loaders import registry
from kg.loaders.civic_files import CHAIN_NAME
from kg.loaders.civic_files import REQUIRED as CIVIC_KINDS

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PROBE_MONTHS = 36  # how far back a monthly publisher is probed for its newest release


@dataclass(frozen=True)
class Member:
    """Archive members to keep: those under ``prefix`` whose name matches ``pattern``, written to ``dest``."""

    prefix: str
    pattern: str
    dest: str = ""


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative to the publisher's base URL
    name: str  # relative to the source's folder (for an archive: its temporary name)
    check: Check
    md5_path: str | None = None  # the publisher's checksum file, relative to the base URL
    members: tuple[Member, ...] = ()  # an archive: only these members are kept


@dataclass(frozen=True)
class Publisher:
    source: str  # the fetch name (a registry source, or "liftover")
    official: str  # base URL
    files: Callable[[httpx.Client, str, str], tuple[RemoteFile, ...]]  # (client, base, release)
    latest: Callable[[httpx.Client, str], str] | None = None  # None: unversioned, named after download
    release_date: Callable[[str], str | None] = lambda name: None
    needs: tuple[str, ...] = ()  # fetched first when absent
    loads: str | None = None  # the registry source loaded from this folder (None: none of its own)
    serves: str | None = None  # with no source of its own: the registry source whose folder it fills
    # unversioned publishers: the release named from the fetched file names (else by the fetch day)
    name_after: Callable[[list[str]], str | None] = field(default=lambda names: None)

    @property
    def folder(self) -> str:
        """Where ``kg load`` reads the source: the registry's folder, never written a second time here."""
        return registry.spec_for(self.loads or self.serves or self.source).default_path


# --- release discovery -----------------------------------------------------------------------------


def _months_back(count: int) -> list[tuple[int, int]]:
    today = date.today()
    out = []
    year, month = today.year, today.month
    for _ in range(count):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _probe(
    client: httpx.Client, base: str, what: str, name: Callable[[int, int], str], path: Callable[[str], str]
) -> str:
    for year, month in _months_back(PROBE_MONTHS):
        candidate = name(year, month)
        if exists(client, base + path(candidate)):
            return candidate
    newest = path(name(*_months_back(1)[0]))
    raise FetchError(f"{base}{newest}: no {what} release there nor in the {PROBE_MONTHS - 1} months before")


def _data_version(client: httpx.Client, url: str) -> str:
    """The ``data-version`` date in the first 4 KiB of an OBO file (OBO 1.4 header)."""
    try:
        response = client.get(url, headers={"Range": "bytes=0-4095"})
        response.raise_for_status()
    except httpx.HTTPError as err:
        raise http_error(url, err) from err
    head = response.content[:4096].decode("utf-8", "replace")
    found = re.search(r"^data-version:\s*\S*?(\d{4}-\d{2}-\d{2})", head, re.MULTILINE)
    if not found:
        raise FetchError(
            f"{url}: the format changed: expected an OBO header with data-version: <date>, found {head[:80]!r}"
        )
    return found.group(1)


def _obo(ontology: str, current: str, versioned: Callable[[str], str]) -> Publisher:
    return Publisher(
        source=ontology,
        official="http://purl.obolibrary.org/obo/",
        latest=lambda client, base: _data_version(client, base + current),
        files=lambda client, base, r: (RemoteFile(versioned(r), f"{ontology}_{r}.obo", formats.OBO),),
        release_date=lambda r: r,
        loads=ontology,
    )


def _civic_name(year: int, month: int) -> str:
    return f"01-{MONTHS[month - 1]}-{year}"


def _civic_date(name: str) -> str | None:
    found = re.fullmatch(r"(\d{2})-([A-Z][a-z]{2})-(\d{4})", name)
    if not found or found.group(2) not in MONTHS:
        return None
    return f"{found.group(3)}-{MONTHS.index(found.group(2)) + 1:02d}-{found.group(1)}"


def _civic_files(client: httpx.Client, base: str, r: str) -> tuple[RemoteFile, ...]:
    if _civic_date(r) is None:
        raise FetchError(f"{base}: a CIViC release is named DD-Mon-YYYY (01-Aug-2024), not {r!r}")
    tsvs = tuple(
        RemoteFile(f"{r}/{r}-{kind}.tsv", f"{r}-{kind}.tsv", formats.tsv_with(*columns[:2]))
        for kind, columns in CIVIC_KINDS.items()
    )
    return (*tsvs, RemoteFile(f"{r}/{r}-civic_accepted.vcf", f"{r}-civic_accepted.vcf", formats.VCF))


def _clinvar_listing(client: httpx.Client, base: str) -> list[str]:
    return sorted(set(re.findall(r"clinvar_(\d{8})\.vcf\.gz(?![.\w])", get_text(client, base))))


def _clinvar_latest(client: httpx.Client, base: str) -> str:
    found = _clinvar_listing(client, base)
    if not found:
        raise FetchError(f"{base}: the format changed: the folder listing names no clinvar_YYYYMMDD.vcf.gz")
    return found[-1]


def _clinvar_files(client: httpx.Client, base: str, r: str) -> tuple[RemoteFile, ...]:
    r = r.replace("-", "")
    if not re.fullmatch(r"\d{8}", r):
        raise FetchError(f"{base}: a ClinVar release is named YYYYMMDD (20260226), not {r!r}")
    folder = "" if r in _clinvar_listing(client, base) else f"archive_2.0/{r[:4]}/"
    name = f"clinvar_{r}.vcf.gz"
    return (RemoteFile(folder + name, name, formats.VCF_GZ, md5_path=folder + name + ".md5"),)


def _clinvar_date(name: str) -> str | None:
    digits = name.replace("-", "")
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if re.fullmatch(r"\d{8}", digits) else None


def _github_latest(client: httpx.Client, base: str) -> str:
    """The tag GitHub's ``releases/latest`` redirects to (a mirror may serve a page naming it)."""
    url = base + "releases/latest"
    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx.HTTPError as err:
        raise http_error(url, err) from err
    for text in (str(response.url), response.text[:20000]):
        if found := re.search(r"\bv(\d+\.\d+\.\d+)\b", text):
            return found.group(1)
    raise FetchError(f"{url}: the format changed: no release tag vX.Y.Z in the answer")


PHARMCAT_RESOURCES = "org/pharmgkb/pharmcat/"


def _pharmcat_files(client: httpx.Client, base: str, r: str) -> tuple[RemoteFile, ...]:
    r = r.removeprefix("v")
    # Guideline files per drug are in reporter/guidelines/ up to v2.10; later releases moved them
    # into one prescribing_guidance.json, which the loader does not read: the check refuses them.
    return (
        RemoteFile(
            f"releases/download/v{r}/pharmcat-{r}-all.jar",
            f"pharmcat-{r}-all.jar",
            formats.zip_with(
                *(PHARMCAT_RESOURCES + p for p in ("definition/alleles/", "phenotype/", "reporter/guidelines/"))
            ),
            members=(
                Member(PHARMCAT_RESOURCES + "definition/alleles/", "*.json", "definition/alleles"),
                Member(PHARMCAT_RESOURCES + "phenotype/", "*.json", "phenotype"),
                Member(PHARMCAT_RESOURCES + "reporter/guidelines/", "*.json", "guidelines"),
            ),
        ),
    )


def _pharmgkb_files(client: httpx.Client, base: str, r: str) -> tuple[RemoteFile, ...]:
    return (
        RemoteFile(
            "clinicalAnnotations.zip",
            "clinicalAnnotations.zip",
            formats.zip_with("clinical_annotations.tsv"),
            members=(Member("", "clinical_annotations.tsv"), Member("", "CREATED_*.txt"), Member("", "LICENSE.txt")),
        ),
        RemoteFile(
            "drugLabels.zip",
            "drugLabels.zip",
            formats.zip_with("drugLabels.tsv"),
            members=(Member("", "drugLabels.tsv"), Member("", "drugLabels.byGene.tsv")),
        ),
        RemoteFile("drugs.zip", "drugs.zip", formats.zip_with("drugs.tsv"), members=(Member("", "drugs.tsv"),)),
    )


def _pharmgkb_created(names: list[str]) -> str | None:
    for name in names:
        if found := re.fullmatch(r"CREATED_(\d{4}-\d{2}-\d{2})\.txt", name.rsplit("/", 1)[-1]):
            return found.group(1)
    return None


def _fda_files(client: httpx.Client, base: str, r: str) -> tuple[RemoteFile, ...]:
    return tuple(
        RemoteFile(n, n, formats.JSON) for n in ("fda_pgx_biomarker_table.json", "fda_pgx_associations_table.json")
    )


def _chain_files(client: httpx.Client, base: str, r: str) -> tuple[RemoteFile, ...]:
    return (RemoteFile(CHAIN_NAME, CHAIN_NAME, formats.CHAIN_GZ, md5_path="md5sum.txt"),)


PUBLISHERS: tuple[Publisher, ...] = (
    _obo("so", "so.obo", lambda r: f"so/{r}/so.obo"),
    Publisher(
        source="hgnc",
        official="https://storage.googleapis.com/public-download-files/hgnc/",
        latest=lambda client, base: _probe(
            client,
            base,
            "HGNC monthly",
            lambda y, m: f"{y}-{m:02d}",
            lambda r: f"archive/archive/monthly/tsv/hgnc_complete_set_{r}-01.tsv",
        ),
        files=lambda client, base, r: (
            RemoteFile(
                f"archive/archive/monthly/tsv/hgnc_complete_set_{r}-01.tsv",
                f"hgnc_complete_set_{r}.tsv",
                formats.tsv_with("hgnc_id", "symbol", "entrez_id"),
            ),
        ),
        release_date=lambda r: r,
        loads="hgnc",
    ),
    _obo("doid", "doid.obo", lambda r: f"doid/releases/{r}/doid.obo"),
    Publisher(
        source="liftover",
        official="https://hgdownload.soe.ucsc.edu/goldenPath/hg19/liftOver/",
        latest=lambda client, base: "hg19ToHg38",
        files=_chain_files,
        serves="civic",  # CIViC's loader lifts GRCh37 coordinates with the chain beside its files
    ),
    Publisher(
        source="civic",
        official="https://civicdb.org/downloads/",
        latest=lambda client, base: _probe(
            client, base, "CIViC monthly", _civic_name, lambda r: f"{r}/{r}-ClinicalEvidenceSummaries.tsv"
        ),
        files=_civic_files,
        release_date=_civic_date,
        needs=("liftover",),
        loads="civic",
    ),
    Publisher(
        source="clinvar",
        official="https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/",
        latest=_clinvar_latest,
        files=_clinvar_files,
        release_date=_clinvar_date,
        loads="clinvar",
    ),
    Publisher(
        source="pharmcat",
        official="https://github.com/PharmGKB/PharmCAT/",
        latest=_github_latest,
        files=_pharmcat_files,
        loads="pharmcat",
    ),
    Publisher(
        source="pharmgkb",
        official="https://api.pharmgkb.org/v1/download/file/data/",
        files=_pharmgkb_files,
        name_after=_pharmgkb_created,
        release_date=lambda r: r if re.fullmatch(r"\d{4}-\d{2}-\d{2}", r) else None,
        loads="pharmgkb",
    ),
    Publisher(
        source="fda",
        official="https://raw.githubusercontent.com/PharmGKB/fda-biomarker/master/",
        files=_fda_files,
        loads="fda",
    ),
)


def publisher_names() -> list[str]:
    return [p.source for p in PUBLISHERS]


def publisher_for(name: str) -> Publisher:
    for publisher in PUBLISHERS:
        if publisher.source == name:
            return publisher
    raise KeyError(f"no publisher for {name!r}; fetchable: all, {', '.join(publisher_names())}")

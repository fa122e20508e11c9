"""A source's release from its publisher into the data folder: staged, verified, then swapped in."""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from kg.fetch.cache import Manifest, ReleaseCache, Swap
from kg.fetch.download import Downloaded, FetchError, download, get_text, md5_of_checksum_file
from kg.fetch.publishers import Publisher, RemoteFile
from kg.fetch.settings import FetchSettings


@dataclass
class Fetched:
    source: str
    release: str
    manifest: Manifest
    swap: Swap | None  # None: the cache already held this release (nothing changed)

    @property
    def changed(self) -> bool:
        return self.swap is not None

    def summary(self) -> str:
        files = self.manifest["files"]
        size = sum(f["size"] for f in files)
        where = "already in the cache" if not self.changed else "fetched"
        return f"{self.source} {self.release}: {where}, {len(files)} file(s), {size:,} bytes"


def latest_release(client: httpx.Client, settings: FetchSettings, publisher: Publisher) -> str | None:
    """The publisher's newest release name; None for an unversioned publisher (known after download)."""
    if publisher.latest is None:
        return None
    return publisher.latest(client, settings.base_url(publisher.source, publisher.official))


def stage_release(
    client: httpx.Client,
    settings: FetchSettings,
    cache: ReleaseCache,
    publisher: Publisher,
    release: str | None = None,
    *,
    progress: bool = True,
) -> Fetched:
    """Download ``release`` (default: the newest) of ``publisher`` and promote it into the cache.

    The caller commits ``Fetched.swap`` (or rolls it back). When the cache already holds exactly
    this release (same name and files, same sha256) nothing is downloaded again and ``swap`` is None.
    Raises FetchError naming the URL; then the cache's release folder and manifest are unchanged
    (a ``.part`` file may remain in the staging folder, for the next run to resume).
    """
    base = settings.base_url(publisher.source, publisher.official)
    name = release or (publisher.latest(client, base) if publisher.latest else None)
    current = cache.manifest(publisher.source)
    if name is not None and current and current["release"] == name and _intact(cache, publisher, current):
        return Fetched(publisher.source, name, current, None)
    staged = cache.staging(publisher.source, name or "unversioned")
    if name is None:
        shutil.rmtree(staged, ignore_errors=True)  # "current" files change in place: never resume them
    staged.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for remote in publisher.files(client, base, name or ""):
        entries += _fetch_file(client, base, remote, staged, progress)
    if name is None:
        name = publisher.name_after([e["name"] for e in entries]) or "fetched-" + _today()
    manifest: Manifest = {
        "source": publisher.source,
        "release": name,
        "releaseDate": publisher.release_date(name),
        "fetchedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "baseUrl": base,
        "folder": publisher.folder,
        "files": entries,
    }
    if current and _same_files(current, manifest) and _intact(cache, publisher, current):
        shutil.rmtree(staged, ignore_errors=True)
        return Fetched(publisher.source, current["release"], current, None)
    swap = cache.promote(publisher.source, publisher.folder, staged, manifest)
    return Fetched(publisher.source, name, manifest, swap)


def _fetch_file(
    client: httpx.Client, base: str, remote: RemoteFile, staged: Path, progress: bool
) -> list[dict[str, Any]]:
    url = base + remote.path
    md5 = None
    if remote.md5_path:
        md5_url = base + remote.md5_path
        md5 = md5_of_checksum_file(md5_url, get_text(client, md5_url), PurePosixPath(remote.path).name)
    target = staged / remote.name
    if target.exists() and not remote.members:
        got = _already_staged(url, target, md5)  # verified when it was renamed from its .part
    else:
        got = download(client, url, target, check=remote.check, md5=md5, progress=progress)
    entry = {"url": url, "size": got.size, "sha256": got.sha256, "md5": got.md5, "lastModified": got.last_modified}
    if not remote.members:
        return [{"name": remote.name, **entry}]
    try:
        return _unpack(got, remote, staged, entry)
    finally:
        target.unlink(missing_ok=True)


def _already_staged(url: str, path: Path, md5: str | None) -> Downloaded:
    sha, md5sum, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
            md5sum.update(chunk)
            size += len(chunk)
    if md5 is not None and md5sum.hexdigest() != md5:
        path.unlink()
        raise FetchError(
            f"{url}: checksum mismatch: the staged copy has MD5 {md5sum.hexdigest()}, the publisher says {md5}; run again"
        )
    return Downloaded(url, path, size, sha.hexdigest(), md5, None)


def _unpack(got: Downloaded, remote: RemoteFile, staged: Path, archive: dict[str, Any]) -> list[dict[str, Any]]:
    """The archive members ``remote.members`` selects, extracted (names from the central directory)."""
    entries = []
    with zipfile.ZipFile(got.path) as zipped:
        for info in zipped.infolist():
            if info.is_dir():
                continue
            for member in remote.members:
                if not info.filename.startswith(member.prefix):
                    continue
                relative = PurePosixPath(info.filename[len(member.prefix) :])
                if (
                    ".." in relative.parts
                    or relative.is_absolute()
                    or not fnmatch.fnmatch(relative.name, member.pattern)
                ):
                    continue
                name = str(PurePosixPath(member.dest) / relative) if member.dest else str(relative)
                target = staged / name
                target.parent.mkdir(parents=True, exist_ok=True)
                sha = hashlib.sha256()
                with zipped.open(info) as source, open(target, "wb") as out:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        out.write(chunk)
                        sha.update(chunk)
                entries.append(
                    {
                        "name": name,
                        "size": info.file_size,
                        "sha256": sha.hexdigest(),
                        "archive": {"url": archive["url"], "sha256": archive["sha256"], "member": info.filename},
                    }
                )
                break
    if not entries:
        raise FetchError(
            f"{got.url}: the format changed: no member matches {', '.join(m.prefix + m.pattern for m in remote.members)}"
        )
    return entries


def _same_files(a: Manifest, b: Manifest) -> bool:
    return sorted((f["name"], f["sha256"]) for f in a["files"]) == sorted((f["name"], f["sha256"]) for f in b["files"])


def _intact(cache: ReleaseCache, publisher: Publisher, manifest: Manifest) -> bool:
    """The manifest's files are all in the folder with their recorded sizes."""
    folder = cache.root / publisher.folder
    return all(
        (folder / f["name"]).is_file() and (folder / f["name"]).stat().st_size == f["size"] for f in manifest["files"]
    )


def _today() -> str:
    return datetime.now(UTC).date().isoformat()

"""The data folder as a release cache: staged releases, a manifest per source, one writer at a time.

Layout (``DEST`` is the data folder ``kg load all DEST`` reads, laid out like ../shared/data)::

    DEST/<folder>/...                     the current release of each source, as its loader expects
    DEST/.fetch/manifests/<source>.json   what is there: release, date, URLs, sizes, sha256 (and MD5)
    DEST/.fetch/staging/<source>/<rel>/   a release being downloaded (``*.part`` files resume here)
    DEST/.fetch/previous/<source>/        the replaced release, until the swap is committed
    DEST/.fetch/lock                      held (fcntl) by the one ``kg fetch`` / ``kg update`` running

A release is staged completely and verified before anything in ``DEST/<folder>`` changes. Then
:meth:`ReleaseCache.promote` moves the previous release's files (those its manifest lists) aside,
moves the new ones in (``os.replace``, same file system) and writes the manifest last; the
returned :class:`Swap` is committed (the previous files deleted) or rolled back (the previous
release and manifest restored), so ``kg update`` can keep the old files when a load fails.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.fetch.download import FetchError

FETCH_DIR = ".fetch"

Manifest = dict[str, Any]


class Busy(FetchError):
    """Another fetch or update holds the lock of this data folder."""


@dataclass
class Swap:
    """A promoted release, until committed (old files deleted) or rolled back (old files restored)."""

    cache: ReleaseCache
    source: str
    folder: Path
    added: list[str]
    backup: Path
    moved: list[str]
    previous_manifest: Manifest | None
    done: bool = False

    def commit(self) -> None:
        if not self.done:
            shutil.rmtree(self.backup, ignore_errors=True)
            self.done = True

    def rollback(self) -> None:
        if self.done:
            return
        for name in self.added:
            (self.folder / name).unlink(missing_ok=True)
        for name in self.moved:
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.backup / name, target)
        if self.previous_manifest is None:
            self.cache.manifest_path(self.source).unlink(missing_ok=True)
        else:
            self.cache.write_manifest(self.source, self.previous_manifest)
        shutil.rmtree(self.backup, ignore_errors=True)
        self.done = True


class ReleaseCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.meta = self.root / FETCH_DIR

    def manifest_path(self, source: str) -> Path:
        return self.meta / "manifests" / f"{source}.json"

    def manifest(self, source: str) -> Manifest | None:
        path = self.manifest_path(source)
        return json.loads(path.read_text()) if path.exists() else None

    def write_manifest(self, source: str, manifest: Manifest) -> None:
        path = self.manifest_path(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(temporary, path)

    def staging(self, source: str, release: str) -> Path:
        return self.meta / "staging" / source / release

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One fetch or update per data folder at a time (cron may start the next while one runs)."""
        self.meta.mkdir(parents=True, exist_ok=True)
        path = self.meta / "lock"
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno in (errno.EAGAIN, errno.EACCES):
                    raise Busy(f"{path}: another kg fetch or kg update is running on {self.root}") from err
                raise
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def promote(self, source: str, folder: str, staged: Path, manifest: Manifest) -> Swap:
        """Move the staged release into ``DEST/<folder>`` (see the module docstring)."""
        target = self.root / folder
        previous = self.manifest(source)
        backup = self.meta / "previous" / source
        shutil.rmtree(backup, ignore_errors=True)
        backup.mkdir(parents=True)
        swap = Swap(self, source, target, [], backup, [], previous)
        try:
            for name in [f["name"] for f in (previous or {}).get("files", [])]:
                if (target / name).exists():
                    (backup / name).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target / name, backup / name)
                    swap.moved.append(name)
            for entry in manifest["files"]:
                name = entry["name"]
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged / name, target / name)
                swap.added.append(name)
            self.write_manifest(source, manifest)
        except BaseException:
            swap.rollback()
            raise
        shutil.rmtree(staged, ignore_errors=True)
        with contextlib.suppress(OSError):
            staged.parent.rmdir()  # the source's staging folder, when no other release is staged
        return swap

"""One file from a publisher: resumable, verified, atomic.

The bytes go to ``<target>.part``; a later run continues it with an HTTP ``Range: bytes=N-``
request (RFC 9110 §14; a server answering 200 instead of 206 sends the whole file again, and
``If-Range`` with the first response's ETag or Last-Modified makes a changed file start over).
Only when the body is complete (as long as ``Content-Length`` said), its MD5 matches the
publisher's checksum file where one exists (ClinVar's ``.md5``), and its first bytes pass the
format check (kg.fetch.formats) is the part renamed to ``target``: a partial or unverified
download is never taken as a release. The sha256 of every file is computed on the way and recorded.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from tqdm import tqdm

from kg.fetch.formats import Check, FormatChanged

CHUNK = 1 << 20


class FetchError(Exception):
    """A release could not be fetched; the message names the URL and what went wrong."""


@dataclass(frozen=True)
class Downloaded:
    url: str
    path: Path
    size: int
    sha256: str
    md5: str | None  # the publisher's checksum, when it gave one (verified)
    last_modified: str | None


def http_error(url: str, err: Exception) -> FetchError:
    """A clear message for an unreachable publisher or an HTTP failure."""
    if isinstance(err, httpx.HTTPStatusError):
        return FetchError(f"{url}: the publisher answered HTTP {err.response.status_code} {err.response.reason_phrase}")
    if isinstance(err, httpx.TimeoutException):
        return FetchError(
            f"{url}: no answer within the timeout ({type(err).__name__}; set KG_FETCH_TIMEOUT or --timeout)"
        )
    if isinstance(err, httpx.ConnectError | httpx.ProxyError):
        return FetchError(f"{url}: unreachable ({type(err).__name__}: {err})")
    return FetchError(f"{url}: {type(err).__name__}: {err}")


def get_text(client: httpx.Client, url: str) -> str:
    """A small document (a listing, a checksum file) as text."""
    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx.HTTPError as err:
        raise http_error(url, err) from err
    return response.text


def exists(client: httpx.Client, url: str) -> bool:
    """Whether ``url`` answers 2xx, asking for one byte only (servers that refuse HEAD still answer)."""
    try:
        with client.stream("GET", url, headers={"Range": "bytes=0-0"}) as response:
            if response.status_code == 404:
                return False
            response.raise_for_status()
            return True
    except httpx.HTTPStatusError as err:
        if err.response.status_code in (403, 404, 410):
            return False
        raise http_error(url, err) from err
    except httpx.HTTPError as err:
        raise http_error(url, err) from err


def md5_of_checksum_file(url: str, text: str, name: str) -> str:
    """The MD5 of ``name`` in a ``<hex>  <name>`` checksum file: NCBI's one-line ``.md5``, or UCSC's
    ``md5sum.txt`` listing a folder (the line naming the file; a single line may omit the name)."""
    lines = [line for line in text.splitlines() if line.strip()]
    named = [line for line in lines if line.rstrip().endswith(name)]
    for line in named or (lines if len(lines) == 1 else []):
        if found := re.match(r"\s*(?:MD5 \(.*\) = )?([0-9a-fA-F]{32})\b", line):
            return found.group(1).lower()
    raise FetchError(f"{url}: expected an MD5 checksum line for {name}, found {text[:80]!r}")


def download(
    client: httpx.Client,
    url: str,
    target: Path,
    *,
    check: Check,
    md5: str | None = None,
    progress: bool = True,
) -> Downloaded:
    """Fetch ``url`` to ``target`` (see the module docstring); raises FetchError naming the URL."""
    part = target.with_name(target.name + ".part")
    validator_file = target.with_name(target.name + ".part.validator")
    target.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    # the bytes as the publisher stores them: no transfer compression, raw chunks as they arrive
    # (so a dropped connection loses nothing that was received)
    headers: dict[str, str] = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if validator_file.exists():
            headers["If-Range"] = validator_file.read_text().strip()
    sha, md5sum = hashlib.sha256(), hashlib.md5()
    last_modified = None
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:
                # the part already holds the whole file: verify it as it is
                expected = offset
            else:
                response.raise_for_status()
                if response.status_code != 206:
                    offset = 0  # the server sent the whole file (no Range support, or it changed)
                elif not _range_starts_at(response, offset):
                    raise FetchError(
                        f"{url}: asked for bytes from {offset}, the server sent {response.headers.get('content-range')!r}"
                    )
                length = response.headers.get("content-length")
                expected = offset + int(length) if length and length.isdigit() else -1
                validator = response.headers.get("etag") or response.headers.get("last-modified")
                if validator and not offset:
                    validator_file.write_text(validator)
                last_modified = response.headers.get("last-modified")
            _hash_existing(part, offset, sha, md5sum)
            received = offset
            if response.status_code != 416:
                with (
                    open(part, "ab" if offset else "wb") as out,
                    tqdm(
                        desc=target.name,
                        total=expected if expected > 0 else None,
                        initial=offset,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        file=sys.stderr,
                        disable=not progress,
                        leave=False,
                    ) as bar,
                ):
                    for chunk in response.iter_raw():
                        out.write(chunk)
                        sha.update(chunk)
                        md5sum.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
    except FetchError:
        raise
    except httpx.RemoteProtocolError as err:
        # the connection closed before Content-Length bytes came: keep the part for the next run
        raise FetchError(
            f"{url}: the download stopped early ({err}); {_size(part)} kept in {part.name}, run again to resume"
        ) from err
    except httpx.HTTPError as err:
        raise http_error(url, err) from err
    if expected >= 0 and received != expected:
        raise FetchError(f"{url}: truncated: received {received:,} of {expected:,} bytes; run again to resume")
    if md5 is not None and md5sum.hexdigest() != md5.lower():
        _discard(part, validator_file)
        raise FetchError(
            f"{url}: checksum mismatch: MD5 {md5sum.hexdigest()}, the publisher's checksum file says {md5}"
        )
    try:
        check(part)
    except FormatChanged as err:
        _discard(part, validator_file)
        raise FetchError(f"{url}: the format changed: {err}") from err
    os.replace(part, target)
    validator_file.unlink(missing_ok=True)
    return Downloaded(url, target, received, sha.hexdigest(), md5.lower() if md5 else None, last_modified)


def _range_starts_at(response: httpx.Response, offset: int) -> bool:
    found = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
    return bool(found) and int(found.group(1)) == offset  # type: ignore[union-attr]


def _hash_existing(part: Path, offset: int, *digests: hashlib._Hash) -> None:
    if not offset:
        return
    with open(part, "rb") as handle:
        remaining = offset
        while remaining:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            for digest in digests:
                digest.update(chunk)


def _discard(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _size(path: Path) -> str:
    return f"{path.stat().st_size:,} bytes" if path.exists() else "nothing"

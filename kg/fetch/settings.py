"""Where releases are fetched from, through what, and for how long a publisher may stay silent.

Environment (the CLI options override them):

* ``KG_FETCH_MIRROR``: one mirror for every source, laid out like the publishers by host:
  ``https://ftp.ncbi.nlm.nih.gov/pub/clinvar/...`` is fetched as ``$KG_FETCH_MIRROR/ftp.ncbi.nlm.nih.gov/pub/clinvar/...``
  (the layout ``wget --mirror`` makes).
* ``KG_FETCH_BASE_URL_<SOURCE>`` (``KG_FETCH_BASE_URL_CLINVAR``, ...): the base URL of one source,
  replacing its publisher's (e.g. ``https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/``); the
  files below it keep the publisher's relative paths. Wins over the mirror.
* ``KG_FETCH_PROXY``: an HTTP(S) proxy URL (else httpx honours ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``).
* ``KG_FETCH_TIMEOUT``: seconds a connection or a read may wait (default 60).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

DEFAULT_TIMEOUT = 60.0
USER_AGENT = "precision-kg-fetch (httpx)"


@dataclass(frozen=True)
class FetchSettings:
    mirror: str | None = None
    base_urls: dict[str, str] = field(default_factory=dict)  # source -> base URL
    proxy: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, **overrides: object) -> FetchSettings:
        env = os.environ
        prefix = "KG_FETCH_BASE_URL_"
        values: dict[str, object] = dict(
            mirror=env.get("KG_FETCH_MIRROR") or None,
            base_urls={k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix) and v},
            proxy=env.get("KG_FETCH_PROXY") or None,
            timeout=float(env.get("KG_FETCH_TIMEOUT") or DEFAULT_TIMEOUT),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def base_url(self, source: str, official: str) -> str:
        """The base URL to fetch ``source`` from: its own override, else the mirror's copy, else the publisher's."""
        if source in self.base_urls:
            return _with_slash(self.base_urls[source])
        if self.mirror:
            return mirrored(self.mirror, official)
        return official

    def client(self) -> httpx.Client:
        """An HTTP client with these settings; redirects followed (PURLs and GitHub redirect)."""
        return httpx.Client(
            proxy=self.proxy,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
        )


def mirrored(mirror: str, official: str) -> str:
    """``https://host/path`` as laid out under ``mirror``: ``mirror/host/path``."""
    parts = urlsplit(official)
    return _with_slash(mirror) + parts.netloc + parts.path


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"

"""Settings from the environment.

``NEO4J_URI`` set: everything uses that server (bolt://, neo4j://, or neo4j+s:// for Aura and
clusters) and nothing is started. Unset: the local Community server laid out by ``kg db start``,
with authentication on: its password is ``NEO4J_PASSWORD`` when set, else the one ``kg db start``
generated on first start into ``.kg/<instance>/neo4j-password`` (owner-only, 0600).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def project_root() -> Path:
    """The checkout this package runs from (editable install), else the working directory."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def default_cache_dir() -> Path:
    """Git-ignored ``.kg/`` in the checkout: jar cache, Neo4j homes, logs."""
    return Path(os.environ.get("KG_CACHE_DIR") or project_root() / ".kg")


def default_data_dir() -> Path:
    """``KG_DATA_DIR``; else the shared reference data (``../shared/data`` beside the checkout) when
    present; else ``<KG_CACHE_DIR>/releases``, where ``kg fetch`` puts the publishers' releases."""
    if os.environ.get("KG_DATA_DIR"):
        return Path(os.environ["KG_DATA_DIR"])
    shared = project_root().parent / "shared" / "data"
    return shared if shared.is_dir() else default_cache_dir() / "releases"


def default_api_threads() -> int:
    """Two worker threads per CPU for the API's Neo4j reads (``KG_API_THREADS`` overrides)."""
    return 2 * (os.cpu_count() or 1)


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


def _hosts(value: str | None) -> tuple[str, ...]:
    """``KG_ALLOWED_HOSTS``: comma-separated Host names (``*.example.org`` allowed) added to the local names."""
    extra = tuple(h.strip() for h in (value or "").split(",") if h.strip())
    return LOCAL_HOSTS + extra


@dataclass(frozen=True)
class Settings:
    uri: str | None = None  # None: the local server
    user: str = "neo4j"
    password: str | None = None
    database: str = "neo4j"
    bolt_port: int = 7687
    heap: str = "1g"
    pagecache: str = "512m"
    tx_memory: str = "2g"
    neo4j_version: str = "5.26.30"
    cache_dir: Path = field(default_factory=default_cache_dir)
    instance: str = "dev"  # name of the local Neo4j home under cache_dir
    retry_seconds: float = 15.0  # how long the driver retries transient failures
    # Neo4j transaction timeouts (seconds), enforced by the server: every read, every write, and the
    # research traversals (paths, neighbors, export, cohorts), which answer QUERY_TOO_BROAD past theirs.
    read_timeout: float = 60.0
    write_timeout: float = 1800.0  # a load's batch, a release retired
    traversal_timeout: float = 15.0
    # Research traversals: nodes with more relationships than this are not passed through in the
    # middle of a path (they may still be its ends); a cap on the partial paths one side expands.
    hub_degree: int = 5000
    max_expanded_paths: int = 20000
    # HTTP: development or production (no GraphiQL, no introspection), allowed Host names,
    # request limits, per-identity rate limit (the `limits` library's notation).
    env: str = "development"
    allowed_hosts: tuple[str, ...] = LOCAL_HOSTS
    max_body_bytes: int = 1024 * 1024
    max_argument_length: int = 1000
    max_text_length: int = 20000  # free text: a curator's statement or comment
    rate_limit: str = "300/minute"
    # The API's worker threads for the driver's blocking calls (api.context.Context.run). More threads than
    # this only contend for the GIL: on 2 cores, 20 clients asking patient summaries got 11 req/s with
    # anyio's default 40 and 14.5 with 4 (bench/README.md, bench_api).
    api_threads: int = field(default_factory=default_api_threads)
    # Patient answers kept in the API process while the database commits nothing (kg/answer_cache.py):
    # at most this many (a PGx-panel patient's summary is 3 of them, about 1.2 MB); 0 keeps none.
    answer_cache: int = 128
    # VCF uploads: compressed and decompressed bytes, one line, and the matching worker's limits.
    max_upload_bytes: int = 2 * 1024**3
    max_vcf_bytes: int = 20 * 1024**3
    max_vcf_line: int = 1024 * 1024
    match_timeout: float = 900.0
    match_memory: int = 4 * 1024**3
    # The patient call store (kg/matcher/calls.py): non-reference calls kept per patient (and no-call
    # ranges), beyond which the Patient records callsTruncated; 0 keeps none.
    patient_calls_max: int = 20_000
    # A cohort match's writer transactions at once (disjoint patients; kg.matcher.match.match_cohort).
    # 2: Neo4j stores two batches on two cores; on a quiet 2-core machine the store step took 24 % less
    # wall time than with 1, the whole match 15 % (bench/README.md, bench_cohort, 2026-12-05; no faster
    # under other load).
    cohort_writers: int = 2

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = dict(
            uri=env.get("NEO4J_URI") or None,
            user=env.get("NEO4J_USER") or env.get("NEO4J_USERNAME") or "neo4j",
            password=env.get("NEO4J_PASSWORD") or None,
            database=env.get("NEO4J_DATABASE") or "neo4j",
            bolt_port=int(env.get("KG_NEO4J_BOLT_PORT", 7687)),
            heap=env.get("KG_NEO4J_HEAP", "1g"),
            pagecache=env.get("KG_NEO4J_PAGECACHE", "512m"),
            tx_memory=env.get("KG_NEO4J_TX_MEMORY", "2g"),
            neo4j_version=env.get("KG_NEO4J_VERSION", "5.26.30"),
            retry_seconds=float(env.get("KG_NEO4J_RETRY_SECONDS", 15)),
            read_timeout=float(env.get("KG_READ_TIMEOUT", 60)),
            write_timeout=float(env.get("KG_WRITE_TIMEOUT", 1800)),
            traversal_timeout=float(env.get("KG_TRAVERSAL_TIMEOUT", 15)),
            hub_degree=int(env.get("KG_TRAVERSAL_HUB_DEGREE", 5000)),
            max_expanded_paths=int(env.get("KG_TRAVERSAL_MAX_PATHS", 20000)),
            env=env.get("KG_ENV", "development").strip().lower(),
            allowed_hosts=_hosts(env.get("KG_ALLOWED_HOSTS")),
            max_body_bytes=int(env.get("KG_MAX_BODY_BYTES", 1024 * 1024)),
            max_argument_length=int(env.get("KG_MAX_ARGUMENT_LENGTH", 1000)),
            max_text_length=int(env.get("KG_MAX_TEXT_LENGTH", 20000)),
            rate_limit=env.get("KG_RATE_LIMIT", "300/minute"),
            api_threads=max(1, int(env.get("KG_API_THREADS") or default_api_threads())),
            answer_cache=max(0, int(env.get("KG_ANSWER_CACHE", 128))),
            max_upload_bytes=int(env.get("KG_MAX_UPLOAD_BYTES", 2 * 1024**3)),
            max_vcf_bytes=int(env.get("KG_MAX_VCF_BYTES", 20 * 1024**3)),
            max_vcf_line=int(env.get("KG_MAX_VCF_LINE", 1024 * 1024)),
            match_timeout=float(env.get("KG_MATCH_TIMEOUT", 900)),
            match_memory=int(env.get("KG_MATCH_MEMORY", 4 * 1024**3)),
            patient_calls_max=int(env.get("KG_PATIENT_CALLS_MAX", 20_000)),
            cohort_writers=max(1, int(env.get("KG_COHORT_WRITERS", 2))),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_local(self) -> bool:
        return self.uri is None

    @property
    def bolt_uri(self) -> str:
        return self.uri or f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def password_file(self) -> Path:
        """Where the local server's generated password is kept (beside its home's data, 0600)."""
        return self.cache_dir / self.instance / "neo4j-password"

    @property
    def effective_password(self) -> str | None:
        """``NEO4J_PASSWORD``; for the local server without it, the generated password (None before the
        first ``kg db start``)."""
        if self.password or not self.is_local:
            return self.password
        try:
            return self.password_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    @property
    def auth(self) -> tuple[str, str] | None:
        password = self.effective_password
        return (self.user, password) if password else None

    def connection_env(self) -> dict[str, str]:
        """The environment that points another process (a CLI run, a server) at this same Neo4j."""
        env = {"NEO4J_URI": self.bolt_uri, "NEO4J_USER": self.user, "NEO4J_DATABASE": self.database}
        password = self.effective_password
        if password:
            env["NEO4J_PASSWORD"] = password
        return env

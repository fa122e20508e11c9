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
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

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

"""Authentication settings from the environment (README "Access"), and the folder of the secrets.

``home`` (``KG_AUTH_DIR``; default ``<KG_CACHE_DIR>/<instance>/auth``, beside the local Neo4j home and
outside its ``data`` folder, so ``kg db wipe`` keeps it) holds the local signing key, the token
records and the audit log, each created with owner-only permissions (0600, folder 0700).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kg.access.roles import DEFAULT_MIN_CELL
from kg.config import Settings

LOCAL_ISSUER = "precision-kg"
DEFAULT_AUDIENCE = "precision-kg"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class AuthSettings:
    home: Path
    audience: str = DEFAULT_AUDIENCE
    local_issuer: str = LOCAL_ISSUER  # tokens `kg token create` signs with the local key
    issuer: str | None = None  # an OIDC issuer whose tokens are accepted too (with jwks_url)
    jwks_url: str | None = None
    role_claim: str = "kg_role"  # OIDC tokens: the claim naming the role
    patients_claim: str = "kg_patients"  # OIDC tokens: granted patient ids, or "*" for every patient
    key_path: Path | None = None  # the local signing key (PEM); default <home>/signing-key.pem
    anonymous: bool = False  # knowledge look-ups without a token
    audit_path: Path | None = None  # default <home>/audit.jsonl
    min_cell: int = DEFAULT_MIN_CELL

    @classmethod
    def from_env(cls, settings: Settings | None = None, **overrides: object) -> AuthSettings:
        env = os.environ
        base = settings or Settings.from_env()
        values: dict[str, object] = dict(
            home=Path(env["KG_AUTH_DIR"]) if env.get("KG_AUTH_DIR") else base.cache_dir / base.instance / "auth",
            audience=env.get("KG_AUTH_AUDIENCE") or DEFAULT_AUDIENCE,
            local_issuer=env.get("KG_AUTH_LOCAL_ISSUER") or LOCAL_ISSUER,
            issuer=env.get("KG_AUTH_ISSUER") or None,
            jwks_url=env.get("KG_AUTH_JWKS_URL") or None,
            role_claim=env.get("KG_AUTH_ROLE_CLAIM") or "kg_role",
            patients_claim=env.get("KG_AUTH_PATIENTS_CLAIM") or "kg_patients",
            key_path=Path(env["KG_AUTH_KEY_PATH"]) if env.get("KG_AUTH_KEY_PATH") else None,
            anonymous=_flag(env.get("KG_AUTH_ANONYMOUS")),
            audit_path=Path(env["KG_AUDIT_LOG"]) if env.get("KG_AUDIT_LOG") else None,
            min_cell=int(env.get("KG_MIN_CELL_SIZE") or DEFAULT_MIN_CELL),
        )
        values.update(overrides)
        out = cls(**values)  # type: ignore[arg-type]
        if out.issuer and not out.jwks_url:
            raise ValueError("KG_AUTH_ISSUER is set but KG_AUTH_JWKS_URL is not: where are the issuer's keys?")
        if out.min_cell < 1:
            raise ValueError(f"KG_MIN_CELL_SIZE must be at least 1, got {out.min_cell}")
        return out

    @property
    def signing_key(self) -> Path:
        return self.key_path or self.home / "signing-key.pem"

    @property
    def token_store(self) -> Path:
        return self.home / "tokens.json"

    @property
    def audit_log(self) -> Path:
        return self.audit_path or self.home / "audit.jsonl"


def private_dir(path: Path) -> Path:
    """``path`` created if missing, readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """An empty file only its owner may read, unless it exists."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)

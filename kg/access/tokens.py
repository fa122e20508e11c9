"""Bearer tokens: JWTs signed with the local key or an OIDC issuer's, and API keys for services.

Verification is PyJWT's (``jwt.decode``, ``PyJWKClient`` for an issuer's JWKS): signature, ``exp``,
``iss`` and ``aud`` are always checked. A token names its issuer; that picks the key:

- ``iss`` = the local issuer (``kg token create``): the local ES256 key, generated on first use
  (``AuthSettings.signing_key``, mode 0600). Its ``jti`` must be a record of the token store that is
  neither revoked nor expired; role and patient grants come from that record, so an admin's revoke
  or grant change takes effect on the next request.
- ``iss`` = ``KG_AUTH_ISSUER``: the issuer's JWKS (``KG_AUTH_JWKS_URL``); role from the
  ``kg_role`` claim, grants from ``kg_patients`` (ids, or ``"*"`` for every patient).

API keys (``kgk_<id>_<secret>``) are random (256 bits); the store keeps only the SHA-256 of the
secret (a high-entropy secret needs no slow hash), compared in constant time.

The store is one JSON file (``tokens.json``, 0600) beside the signing key, rewritten atomically
under an ``fcntl`` lock and re-read whenever it changes on disk, so ``kg token revoke`` reaches a
running server at once and authentication never waits for Neo4j.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kg.access.roles import Identity, Role, check_grant
from kg.access.settings import AuthSettings, private_dir
from kg.queries.fields import INTERNAL

LOCAL_ALGORITHM = "ES256"
OIDC_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
API_KEY_PREFIX = "kgk_"
DEFAULT_JWT_LIFETIME = timedelta(hours=8)
_API_KEY = re.compile(r"^kgk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Unauthenticated(Exception):
    """The credentials presented are not valid; the message says why (it goes to the caller)."""


class VerifierUnavailable(Exception):
    """The issuer's keys could not be fetched: the token can be neither accepted nor refused."""


def _now() -> datetime:
    return datetime.now(UTC)


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """``8h``, ``30m``, ``7d``, ``2w``, an ISO date (end of that day, UTC) or date-time; ``never`` for none."""
    now = now or _now()
    if text is None:
        return None
    value = text.strip().lower()
    if value in ("never", "none"):
        return None
    if m := _DURATION.match(value):
        return now + timedelta(**{_UNITS[m[2]]: int(m[1])})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--expires: expected a duration (8h, 30m, 7d, 2w), a date or date-time, found {text!r}"
        ) from None
    if len(text.strip()) == 10:  # a date: valid through that day
        when = when + timedelta(days=1)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when <= now:
        raise ValueError(f"--expires {text!r} is in the past")
    return when


# --- the local signing key -------------------------------------------------------------------


def signing_key(settings: AuthSettings) -> ec.EllipticCurvePrivateKey:
    """The local ES256 key, generated (P-256, 0600) the first time it is needed."""
    path = settings.signing_key
    if not path.exists():
        private_dir(path.parent)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: expected an EC private key (PEM), found {type(loaded).__name__}")
    return loaded


# --- token records ---------------------------------------------------------------------------


def token_state(expires_at: str | None, revoked_at: str | None, now: datetime | None = None) -> str:
    """active | expired | revoked."""
    if revoked_at:
        return "revoked"
    if expires_at and datetime.fromisoformat(expires_at) <= (now or _now()):
        return "expired"
    return "active"


@dataclass(frozen=True)
class TokenRecord:
    id: str
    name: str  # the subject: who submitted, moderated, uploaded or read
    role: str
    kind: str  # jwt | api-key
    patients: list[str] = field(default_factory=list)
    all_patients: bool = False
    created_at: str = ""
    created_by: str = ""
    expires_at: str | None = None
    revoked_at: str | None = None
    revoked_by: str | None = None
    key_hash: str | None = field(default=None, metadata=INTERNAL)  # API keys: sha256 of the secret, never the secret

    def state(self, now: datetime | None = None) -> str:
        return token_state(self.expires_at, self.revoked_at, now)

    def identity(self, method: str) -> Identity:
        return Identity(
            subject=self.name,
            role=Role(self.role),
            patients=frozenset(self.patients),
            all_patients=self.all_patients,
            token_id=self.id,
            method=method,
        )


class TokenStore:
    """Token records in ``tokens.json``; reads are cached until the file changes."""

    def __init__(self, settings: AuthSettings) -> None:
        self.path = settings.token_store
        self._cache: tuple[tuple[int, int, int], dict[str, TokenRecord]] | None = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.path.parent)
        fd = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read(self) -> dict[str, TokenRecord]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._cache and self._cache[0] == stamp:
            return self._cache[1]
        try:
            rows = json.loads(self.path.read_text())["tokens"]
            records = {r["id"]: TokenRecord(**r) for r in rows}
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"{self.path}: expected {{'tokens': [records]}}, found unreadable content ({err})"
            ) from err
        self._cache = (stamp, records)
        return records

    def _write(self, records: dict[str, TokenRecord]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"tokens": [asdict(r) for r in records.values()]}, out, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def get(self, token_id: str) -> TokenRecord | None:
        return self._read().get(token_id)

    def all(self) -> list[TokenRecord]:
        return sorted(self._read().values(), key=lambda r: (r.created_at, r.id))

    def add(self, record: TokenRecord) -> None:
        with self._locked():
            records = dict(self._read())
            if record.id in records:
                raise ValueError(f"token id {record.id} exists")
            records[record.id] = record
            self._write(records)

    def update(self, token_id: str, **changes: Any) -> TokenRecord:
        with self._locked():
            records = dict(self._read())
            if token_id not in records:
                raise LookupError(f"no token {token_id!r}")
            records[token_id] = replace(records[token_id], **changes)
            self._write(records)
            return records[token_id]


@dataclass(frozen=True)
class Issued:
    record: TokenRecord
    token: str  # shown once: the store keeps no copy (an API key's secret only as a hash)


def create_token(
    settings: AuthSettings,
    role: Role,
    *,
    name: str | None = None,
    patients: frozenset[str] = frozenset(),
    all_patients: bool = False,
    expires: datetime | str | None = "default",
    api_key: bool = False,
    created_by: str = "cli",
) -> Issued:
    """A new token (a local JWT, or with ``api_key`` an API key) and its record in the store.
    ``expires="default"``: 8 hours for a JWT, never for an API key."""
    check_grant(role, patients, all_patients)
    now = _now()
    if expires == "default":
        expires = None if api_key else now + DEFAULT_JWT_LIFETIME
    assert not isinstance(expires, str)
    token_id = secrets.token_hex(8)
    subject = (name or f"{role.value}-{token_id[:6]}").strip()
    if not subject or len(subject) > 200:
        raise ValueError("--name must be 1 to 200 characters")
    secret = secrets.token_urlsafe(32) if api_key else None
    record = TokenRecord(
        id=token_id,
        name=subject,
        role=role.value,
        kind="api-key" if api_key else "jwt",
        patients=sorted(patients),
        all_patients=all_patients,
        created_at=now.isoformat(timespec="seconds"),
        created_by=created_by,
        expires_at=expires.isoformat(timespec="seconds") if expires else None,
        key_hash=_hash(secret) if secret else None,
    )
    TokenStore(settings).add(record)
    if secret:
        token = f"{API_KEY_PREFIX}{token_id}_{secret}"
    else:
        claims: dict[str, Any] = {
            "iss": settings.local_issuer,
            "aud": settings.audience,
            "sub": subject,
            "jti": token_id,
            "iat": int(now.timestamp()),
            "role": role.value,
        }
        if expires:
            claims["exp"] = int(expires.timestamp())
        token = jwt.encode(claims, signing_key(settings), algorithm=LOCAL_ALGORITHM, headers={"kid": "local"})
    return Issued(record=record, token=token)


def revoke_token(settings: AuthSettings, token_id: str, by: str) -> TokenRecord:
    record = TokenStore(settings).get(token_id)
    if record is None:
        raise LookupError(f"no token {token_id!r}")
    if record.revoked_at:
        return record
    return TokenStore(settings).update(token_id, revoked_at=_now().isoformat(timespec="seconds"), revoked_by=by)


def set_grants(settings: AuthSettings, token_id: str, patients: frozenset[str], all_patients: bool) -> TokenRecord:
    """Replace a token's patient grants (clinician tokens only)."""
    record = TokenStore(settings).get(token_id)
    if record is None:
        raise LookupError(f"no token {token_id!r}")
    check_grant(Role(record.role), patients, all_patients)
    return TokenStore(settings).update(token_id, patients=sorted(patients), all_patients=all_patients)


def _hash(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


# --- verification ----------------------------------------------------------------------------


class Verifier:
    """Turns a bearer credential into an Identity, or raises Unauthenticated saying why."""

    #: Signed tokens whose signature and claims were checked, kept in memory (oldest dropped first).
    VERIFIED_KEPT = 1024
    LEEWAY = 30  # seconds of clock skew allowed on ``exp`` (PyJWT's ``leeway``)

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.store = TokenStore(settings)
        self._public_key: ec.EllipticCurvePublicKey | None = None
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300) if settings.jwks_url else None
        self._verified: dict[tuple[str, str], dict[str, Any]] = {}
        self._verified_lock = threading.Lock()

    def verify(self, credential: str) -> Identity:
        credential = credential.strip()
        if credential.startswith(API_KEY_PREFIX):
            return self._api_key(credential)
        try:
            issuer = jwt.decode(credential, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as err:
            raise Unauthenticated(f"the token is not a JWT or an API key ({err})") from err
        if issuer == self.settings.local_issuer:
            return self._local(credential)
        if self.settings.issuer and issuer == self.settings.issuer:
            return self._oidc(credential)
        raise Unauthenticated(f"tokens of issuer {issuer!r} are not accepted here")

    def _decode(
        self, credential: str, key: Any, algorithms: list[str], issuer: str, required: list[str]
    ) -> dict[str, Any]:
        """PyJWT's checks: signature, exp (30 s leeway), iss, aud, and the ``required`` claims present.
        A token that passed them is kept (``VERIFIED_KEPT``) and on its next use only its ``exp`` is
        checked again: the signature check was 0.5-0.7 ms of every request (bench/bench_api.py's
        one-drug question). Revocation and the store's record are checked on every request by the callers."""
        kept = self._verified.get((credential, issuer))
        if kept is not None and ("exp" not in kept or time.time() <= float(kept["exp"]) + self.LEEWAY):
            return kept
        try:
            claims: dict[str, Any] = jwt.decode(
                credential,
                key,
                algorithms=algorithms,
                audience=self.settings.audience,
                issuer=issuer,
                options={"require": required},
                leeway=self.LEEWAY,
            )
        except jwt.ExpiredSignatureError as err:
            self._verified.pop((credential, issuer), None)
            raise Unauthenticated("the token has expired") from err
        except jwt.PyJWTError as err:
            raise Unauthenticated(f"the token is not valid: {err}") from err
        with self._verified_lock:
            if len(self._verified) >= self.VERIFIED_KEPT:
                del self._verified[next(iter(self._verified))]
            self._verified[(credential, issuer)] = claims
        return claims

    def _local(self, credential: str) -> Identity:
        if self._public_key is None:
            self._public_key = signing_key(self.settings).public_key()
        claims = self._decode(
            credential, self._public_key, [LOCAL_ALGORITHM], self.settings.local_issuer, ["iss", "aud", "sub", "jti"]
        )
        record = self.store.get(str(claims["jti"]))
        if record is None or record.kind != "jwt" or record.name != claims["sub"]:
            raise Unauthenticated("the token is not known here")
        return self._active(record, "jwt-local")

    def _api_key(self, credential: str) -> Identity:
        m = _API_KEY.match(credential)
        record = self.store.get(m[1]) if m else None
        if m is None or record is None or record.kind != "api-key" or not record.key_hash:
            raise Unauthenticated("the API key is not known here")
        if not hmac.compare_digest(record.key_hash, _hash(m[2])):
            raise Unauthenticated("the API key is not known here")
        return self._active(record, "api-key")

    @staticmethod
    def _active(record: TokenRecord, method: str) -> Identity:
        state = record.state()
        if state != "active":
            raise Unauthenticated(f"the token has been {state}" if state == "revoked" else "the token has expired")
        return record.identity(method)

    def _oidc(self, credential: str) -> Identity:
        assert self._jwks is not None and self.settings.issuer
        try:
            key = self._jwks.get_signing_key_from_jwt(credential).key
        except jwt.PyJWKClientConnectionError as err:
            raise VerifierUnavailable(f"the issuer's keys could not be fetched: {err}") from err
        except jwt.PyJWTError as err:
            raise Unauthenticated(f"the token is not valid: {err}") from err
        claims = self._decode(credential, key, OIDC_ALGORITHMS, self.settings.issuer, ["exp", "iss", "aud", "sub"])
        return Identity(
            subject=str(claims["sub"]),
            role=_claimed_role(claims.get(self.settings.role_claim), self.settings.role_claim),
            patients=frozenset(p for p in _as_list(claims.get(self.settings.patients_claim)) if p != "*"),
            all_patients="*" in _as_list(claims.get(self.settings.patients_claim)),
            token_id=claims.get("jti"),
            method="jwt-oidc",
        )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _claimed_role(value: Any, claim: str) -> Role:
    known = {r.value: r for r in Role if r is not Role.ANONYMOUS}
    named = [known[v] for v in _as_list(value) if v in known]
    if len(named) != 1:
        raise Unauthenticated(f"the token's {claim!r} claim must name one of {', '.join(known)}, found {value!r}")
    return named[0]

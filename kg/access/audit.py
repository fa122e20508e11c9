"""The audit log: every patient read and every write, append-only and tamper-evident.

One JSON object per line in ``audit.jsonl`` (``AuthSettings.audit_log``, mode 0600, beside the
signing key; it survives restarts and ``kg db wipe``). Each entry carries ``seq`` (1, 2, ...),
``prev`` (the previous entry's hash; 64 zeros for the first) and ``hash`` = SHA-256 over ``prev``
and the entry's canonical JSON (sorted keys, no ``hash``), so changing, inserting or deleting an entry
breaks the chain at that point (``verify``). ``audit.head`` records the last seq and hash, so cutting
entries off the end is detected as well. Appends hold an ``fcntl`` lock: several server processes
and the CLI may write to one log.

Fields: ``at`` (UTC), ``who`` (the token's subject), ``role``, ``token`` (its id), ``operation``,
``patients`` (the patient ids read or written; empty when none), ``request`` (the request id),
``outcome`` (ok | denied | not_found | error: <code>), ``detail`` (arguments worth keeping).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kg.access.roles import Identity
from kg.access.settings import private_file

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    who: str
    role: str
    token: str | None
    operation: str
    patients: list[str]
    request: str | None
    outcome: str
    detail: dict[str, Any] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""


def _digest(prev: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev + canonical).encode()).hexdigest()


def _body(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "hash"}


@dataclass(frozen=True)
class AuditFilter:
    """Every field given must match (None: any); ``since``/``until`` are ISO date-times, UTC."""

    who: str | None = None
    operation: str | None = None
    patient: str | None = None  # one of the entry's patients
    outcome: str | None = None
    since: str | None = None
    until: str | None = None

    def matches(self, e: AuditEntry) -> bool:
        return (
            (self.who is None or e.who == self.who)
            and (self.operation is None or e.operation == self.operation)
            and (self.patient is None or self.patient in e.patients)
            and (self.outcome is None or e.outcome == self.outcome)
            and (self.since is None or e.at >= self.since)
            and (self.until is None or e.at < self.until)
        )


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.head_path = path.with_suffix(".head")

    def append(
        self,
        identity: Identity,
        operation: str,
        *,
        patients: Sequence[str] = (),
        request: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Write one entry at the end of the chain (under the log's lock) and return it."""
        return self.append_many(identity, operation, [(patients, outcome, detail)], request=request)[0]

    def append_many(
        self,
        identity: Identity,
        operation: str,
        entries: Sequence[tuple[Sequence[str], str, dict[str, Any] | None]],
        *,
        request: str | None = None,
    ) -> list[AuditEntry]:
        """Write several entries ``(patients, outcome, detail)`` of one operation at the end of the
        chain, under one lock and one fsync (a cohort match audits each patient it writes)."""
        private_file(self.path)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        out: list[AuditEntry] = []
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = _last_line(fd)
            prev, seq = (last["hash"], last["seq"]) if last else (GENESIS, 0)
            lines = []
            for patients, outcome, detail in entries:
                seq += 1
                body: dict[str, Any] = {
                    "seq": seq,
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "who": identity.subject,
                    "role": identity.role.value,
                    "token": identity.token_id,
                    "operation": operation,
                    "patients": sorted(set(patients)),
                    "request": request,
                    "outcome": outcome,
                    "detail": detail or {},
                    "prev": prev,
                }
                body["hash"] = prev = _digest(prev, body)
                lines.append(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str) + "\n")
                out.append(AuditEntry(**body))
            if lines:
                os.write(fd, "".join(lines).encode())
                os.fsync(fd)
                self._write_head(seq, prev)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return out

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_suffix(".head.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"seq": seq, "hash": digest}, out)
        os.replace(tmp, self.head_path)

    def entries(self) -> Iterator[AuditEntry]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield AuditEntry(**json.loads(line))

    def query(self, where: AuditFilter, *, after_seq: int = 0, first: int = 50) -> tuple[list[AuditEntry], bool]:
        """Entries matching ``where``, oldest first, after ``after_seq``; and whether more follow."""
        out: list[AuditEntry] = []
        for e in self.entries():
            if e.seq <= after_seq or not where.matches(e):
                continue
            if len(out) == first:
                return out, True
            out.append(e)
        return out, False

    def verify(self) -> VerifyResult:
        """Recompute the chain: the first entry whose seq, prev or hash does not follow, if any."""
        prev, seq, count = GENESIS, 0, 0
        if self.path.exists():
            with open(self.path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        raw = json.loads(line)
                    except ValueError:
                        return VerifyResult(
                            False, count, f"{self.path}:{lineno}: expected a JSON entry, found {line[:60]!r}"
                        )
                    if raw.get("seq") != seq + 1 or raw.get("prev") != prev:
                        return VerifyResult(
                            False,
                            count,
                            f"{self.path}:{lineno}: entry {raw.get('seq')} does not follow entry {seq} "
                            "(an entry was deleted, inserted or reordered)",
                        )
                    if _digest(prev, _body(raw)) != raw.get("hash"):
                        return VerifyResult(
                            False, count, f"{self.path}:{lineno}: entry {seq + 1} was changed (hash mismatch)"
                        )
                    prev, seq, count = raw["hash"], raw["seq"], count + 1
        head = json.loads(self.head_path.read_text()) if self.head_path.exists() else {"seq": 0, "hash": GENESIS}
        if head.get("seq") != seq or head.get("hash") != prev:
            return VerifyResult(
                False,
                count,
                f"{self.path}: the log ends at entry {seq} but its head says {head.get('seq')} "
                "(entries were cut off the end, or the head was changed)",
            )
        return VerifyResult(True, count, f"{count} entries, chain intact (head {prev[:12]})")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int  # entries checked before the first break
    message: str


def _last_line(fd: int) -> dict[str, Any] | None:
    """The last entry of the open log, read backwards from its end."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    chunk, pos, data = 4096, size, b""
    while pos > 0:
        step = min(chunk, pos)
        pos -= step
        data = os.pread(fd, step, pos) + data
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or pos == 0:
            found: dict[str, Any] = json.loads(lines[-1])
            return found
    return None

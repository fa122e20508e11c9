"""Admins: tokens and their patient grants, patient deletion, the audit log; and ``whoami`` for anyone.

Who may call (kg/access/roles.py): everything here needs Permission.MANAGE_TOKENS, DELETE_PATIENT or
READ_AUDIT (admins only), except ``whoami`` (any caller with a credential). Token changes and patient
deletions are audited; a new token is shown once, in the mutation's answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from api.auth import needs, require
from api.context import Context
from api.derive import derived, to_type, to_types
from api.errors import bad_input, not_found
from kg.access import tokens
from kg.access.audit import AuditEntry as AuditEntryModel
from kg.access.audit import AuditFilter
from kg.access.roles import Permission as P
from kg.access.roles import Role
from kg.matcher.match import delete_patient

MAX_AUDIT_PAGE = 500


@derived(tokens.TokenRecord, name="Token", description="A token's record: who it names, its role and grants.")
class Token:
    if TYPE_CHECKING:
        expires_at: str | None
        revoked_at: str | None

    @strawberry.field(description="active | expired | revoked")
    def state(self) -> str:
        return tokens.token_state(self.expires_at, self.revoked_at)


@strawberry.type(description="A token just made: `token` is shown this once; the server keeps no copy.")
class CreatedToken:
    token: str
    record: Token


@derived(AuditEntryModel, name="AuditEntry", description="One audit log entry (kg/access/audit.py).")
class AuditEntry:
    pass


@strawberry.type
class AuditPage:
    entries: list[AuditEntry]
    has_next_page: bool
    end_cursor: int | None = strawberry.field(description="The last entry's seq: pass it as `afterSeq`.")


@strawberry.type(description="The caller as the server sees them.")
class Whoami:
    subject: str
    role: str
    patients: list[str]
    all_patients: bool
    method: str


def _access(info: Info[Context, None]) -> tokens.AuthSettings:
    assert info.context.access is not None
    return info.context.access.settings


@strawberry.type
class AdminQuery:
    @strawberry.field(
        permission_classes=[needs(P.KNOWLEDGE)],
        description="The caller: subject, role and patient grants. Anyone with a credential (or anonymous, when on).",
    )
    def whoami(self, info: Info[Context, None]) -> Whoami:
        identity = require(info, P.KNOWLEDGE)
        return Whoami(
            subject=identity.subject,
            role=identity.role.value,
            patients=sorted(identity.patients),
            all_patients=identity.all_patients,
            method=identity.method,
        )

    @strawberry.field(permission_classes=[needs(P.MANAGE_TOKENS)], description="Every token record. Admins.")
    def tokens(self, info: Info[Context, None]) -> list[Token]:
        return to_types(Token, tokens.TokenStore(_access(info)).all())

    @strawberry.field(
        permission_classes=[needs(P.READ_AUDIT)],
        description="Audit entries matching every filter given, oldest first (since/until: ISO date-times, UTC). "
        "Admins; the read itself is audited.",
    )
    def audit_log(
        self,
        info: Info[Context, None],
        who: str | None = None,
        operation: str | None = None,
        patient: str | None = None,
        outcome: str | None = None,
        since: str | None = None,
        until: str | None = None,
        first: int = 50,
        after_seq: int = 0,
    ) -> AuditPage:
        if not 0 <= first <= MAX_AUDIT_PAGE:
            raise bad_input(f"first must be between 0 and {MAX_AUDIT_PAGE}, got {first}")
        assert info.context.access is not None
        where = AuditFilter(who=who, operation=operation, patient=patient, outcome=outcome, since=since, until=until)
        found, more = info.context.access.audit.query(where, after_seq=after_seq, first=first)
        info.context.audit("auditLog", detail={"who": who, "operation": operation, "patient": patient})
        return AuditPage(
            entries=to_types(AuditEntry, found), has_next_page=more, end_cursor=found[-1].seq if found else None
        )


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        permission_classes=[needs(P.MANAGE_TOKENS)],
        description="Make a token (a JWT; with apiKey an API key) for a role, with patient grants for clinicians "
        "(patients, or allPatients). expires: 8h, 30m, 7d, a date, or never. Admins; audited.",
    )
    def create_token(
        self,
        info: Info[Context, None],
        role: str,
        name: str | None = None,
        patients: list[str] | None = None,
        all_patients: bool = False,
        expires: str | None = None,
        api_key: bool = False,
    ) -> CreatedToken:
        identity = require(info, P.MANAGE_TOKENS)
        try:
            made = tokens.create_token(
                _access(info),
                Role(role),
                name=name,
                patients=frozenset(p.strip() for p in patients or () if p.strip()),
                all_patients=all_patients,
                expires="default" if expires is None else tokens.parse_expiry(expires),
                api_key=api_key,
                created_by=identity.subject,
            )
        except ValueError as err:
            raise bad_input(str(err)) from err
        info.context.audit("createToken", patients=made.record.patients, detail={"token": made.record.id, "role": role})
        return CreatedToken(token=made.token, record=to_type(Token, made.record))

    @strawberry.mutation(
        permission_classes=[needs(P.MANAGE_TOKENS)], description="Revoke a token: refused from the next request on."
    )
    def revoke_token(self, info: Info[Context, None], id: str) -> Token:
        identity = require(info, P.MANAGE_TOKENS)
        try:
            record = tokens.revoke_token(_access(info), id, identity.subject)
        except LookupError as err:
            raise not_found(str(err)) from err
        info.context.audit("revokeToken", detail={"token": id})
        return to_type(Token, record)

    @strawberry.mutation(
        permission_classes=[needs(P.MANAGE_TOKENS)],
        description="Replace a clinician token's patient grants (patients, or allPatients). Admins; audited.",
    )
    def grant_patients(
        self, info: Info[Context, None], id: str, patients: list[str] | None = None, all_patients: bool = False
    ) -> Token:
        require(info, P.MANAGE_TOKENS)
        granted = frozenset(p.strip() for p in patients or () if p.strip())
        try:
            record = tokens.set_grants(_access(info), id, granted, all_patients)
        except LookupError as err:
            raise not_found(str(err)) from err
        except ValueError as err:
            raise bad_input(str(err)) from err
        info.context.audit("grantPatients", patients=sorted(granted), detail={"token": id, "all": all_patients})
        return to_type(Token, record)

    @strawberry.mutation(
        permission_classes=[needs(P.DELETE_PATIENT)],
        description="Delete a patient and every link of it; false if there was none. Admins; audited.",
    )
    async def delete_patient(self, info: Info[Context, None], id: str) -> bool:
        require(info, P.DELETE_PATIENT)
        deleted = await info.context.run(delete_patient, id)
        info.context.audit("deletePatient", patients=[id], outcome="ok" if deleted else "not_found")
        return deleted

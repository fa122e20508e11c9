"""The role x permission table, in one place (issue 9; ../shared/DESIGN.md "Private by default").

Every resolver and route names the one ``Permission`` it needs; ``allows`` answers from ``RULES``.
Patient data needs a second check, per patient: ``Identity.may_read`` (a clinician's grants, one by
one or every patient of the deployment). Researchers see cohorts only as aggregates: no patient ids,
and counts below the minimum cell size suppressed (kg.queries.cohort.aggregated_*).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.Enum):
    ANONYMOUS = "anonymous"
    CLINICIAN = "clinician"
    CURATOR = "curator"
    RESEARCHER = "researcher"
    ADMIN = "admin"


class Permission(enum.Enum):
    KNOWLEDGE = "read knowledge"  # genes, variants, drugs, diseases, evidence
    READ_PATIENT = "read a patient"  # also needs the patient granted (Identity.may_read)
    WRITE_PATIENT = "upload a patient's VCF"  # also needs the patient granted
    DELETE_PATIENT = "delete a patient"
    EXPLORE = "explore the graph"  # neighbors, paths, export: never patients unless granted
    COHORT = "ask cohort questions"  # researchers: aggregates only (COHORT_AGGREGATE_ONLY)
    SUBMIT_EVIDENCE = "submit evidence"
    MODERATE_EVIDENCE = "moderate evidence"  # never one's own submission (kg.queries.curation)
    MANAGE_TOKENS = "manage tokens and grants"
    READ_AUDIT = "read the audit log"
    READ_METRICS = "read the metrics"


P = Permission
RULES: dict[Role, frozenset[Permission]] = {
    Role.ANONYMOUS: frozenset({P.KNOWLEDGE}),
    Role.CLINICIAN: frozenset({P.KNOWLEDGE, P.READ_PATIENT, P.WRITE_PATIENT, P.COHORT}),
    Role.CURATOR: frozenset({P.KNOWLEDGE, P.SUBMIT_EVIDENCE, P.MODERATE_EVIDENCE}),
    Role.RESEARCHER: frozenset({P.KNOWLEDGE, P.EXPLORE, P.COHORT}),
    Role.ADMIN: frozenset(Permission),
}

#: Roles whose cohort answers are aggregates over every patient: no ids, small counts suppressed.
COHORT_AGGREGATE_ONLY = frozenset({Role.RESEARCHER})
#: Roles that may read every patient whatever their grants say.
ALL_PATIENTS_ROLES = frozenset({Role.ADMIN})
#: Roles that may hold patient grants (a token for another role with patients is refused).
GRANTABLE_ROLES = frozenset({Role.CLINICIAN})

DEFAULT_MIN_CELL = 5


@dataclass(frozen=True)
class Identity:
    """A verified caller: who (the token's subject), as what, and which patients they may read."""

    subject: str
    role: Role
    patients: frozenset[str] = frozenset()
    all_patients: bool = False
    token_id: str | None = None
    method: str = "anonymous"  # jwt-local | jwt-oidc | api-key | anonymous

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    def may_read(self, patient_id: str) -> bool:
        """Patient data of ``patient_id``: a role that reads patients, and a grant for this one."""
        if not self.can(Permission.READ_PATIENT):
            return False
        return self.role in ALL_PATIENTS_ROLES or self.all_patients or patient_id in self.patients

    def patient_scope(self) -> frozenset[str] | None:
        """The patients exploration and cohort answers may show by id: None for every patient."""
        if not self.can(Permission.READ_PATIENT):
            return frozenset()
        if self.role in ALL_PATIENTS_ROLES or self.all_patients:
            return None
        return self.patients

    @property
    def aggregate_only(self) -> bool:
        return self.role in COHORT_AGGREGATE_ONLY


def allows(role: Role, permission: Permission) -> bool:
    return permission in RULES[role]


def anonymous() -> Identity:
    return Identity(subject="anonymous", role=Role.ANONYMOUS)


def check_grant(role: Role, patients: frozenset[str], all_patients: bool) -> None:
    """Patient grants only for roles that hold them (ValueError otherwise)."""
    if (patients or all_patients) and role not in GRANTABLE_ROLES:
        raise ValueError(
            f"patient grants are for {', '.join(r.value for r in GRANTABLE_ROLES)} tokens, not {role.value}"
        )
    if patients and all_patients:
        raise ValueError("give patient ids or all patients, not both")

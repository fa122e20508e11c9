"""The patient answers: variants, diplotypes, pharmacogenomics, targeted therapies, risks.

Each answer item carries ``path`` (patient → conclusion), ``sources`` (the releases behind it), ``releases``
(their keys) and ``asOf``: the answers (not the patient's own variants and calls) take an optional ``asOf``
(a release key or a date, kg.queries.visibility.knowledge_state; worked out once per request).
Who may call: clinicians holding a grant for the patient (one by one, or every patient) and admins
(Permission.READ_PATIENT, api/auth.py); every read, and every refusal, is audited. A read's entry is
written while the graph is read and awaited before ``patient`` returns, so none of the patient's data
leaves unaudited (an audit that fails fails the field); an unknown patient or a failed read adds an
entry saying so (``not_found``, ``error: <type>``). ``patient`` starts the answers its query asks for
at once (``_prefetch``): the one-drug PGx question is one round trip with the patient's record.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from api.answer_types import AsOf, DiseaseRef, PathStepType, SourceRefType  # noqa: F401 (derived before the answers)
from api.auth import needs, require, require_patient
from api.context import Context
from api.derive import derived, to_type, to_types
from api.errors import bad_input, not_found
from kg.access.roles import Permission as P
from kg.queries import changes, patient_view, pgx, risk, therapy
from kg.queries.answers import UnknownPatient
from kg.queries.visibility import KnowledgeState


@derived(patient_view.PatientVariant)
class PatientVariant:
    pass


@derived(pgx.GeneCallSummary, name="Diplotype")
class Diplotype:
    pass


@derived(pgx.PgxRecommendation)
class PgxRecommendation:
    pass


@derived(pgx.PgxAnswer, description="What the patient's genotype means for one drug under one guideline.")
class PgxAnswer:
    pass


@derived(
    therapy.EvidenceAnswer,
    name="EvidenceFinding",
    description="A predictive, diagnostic or prognostic evidence item or assertion for the patient.",
)
class EvidenceFinding:
    pass


@derived(risk.SourceClassification, description="One source's germline classification of the allele.")
class SourceClassification:
    pass


@derived(risk.ClassificationSide, description="One side of a disagreement between sources: a tier and its sources.")
class ClassificationSide:
    pass


@derived(
    risk.RiskFinding,
    description="A germline finding with every source's classification side by side: at risk, carrier, possible "
    "germline (tumour-only), conflicting (or, when asked, the others apart).",
)
class RiskFinding:
    pass


@derived(
    changes.Change,
    name="PatientChange",
    description="What a knowledge load changed in the patient's answers for one allele (or phenotype), with both "
    "knowledge states and the evidence each side rests on.",
)
class PatientChange:
    pass


@derived(changes.KindCount, name="ChangeKindCount")
class ChangeKindCount:
    pass


@derived(changes.PatientChanges, description="A patient whose answers a release changed, with the changes by kind.")
class ChangedPatient:
    pass


async def _guarded(info: Info[Context, None], fn: Any, patient_id: str, *args: Any) -> Any:
    """A patient answer, checked against the caller's grants again (defence in depth: the parent
    ``patient`` field checked them already); the one the parent prefetched for exactly this call, if
    it did (``_prefetch``)."""
    require_patient(info, P.READ_PATIENT, patient_id)
    args = (patient_id, *args)
    try:
        return await info.context.answer((fn, *args), fn, *args)
    except UnknownPatient as err:  # an unknown or ambiguous drug or disease: BAD_INPUT (api.context)
        raise not_found(str(err)) from err
    except changes.UnknownSince as err:
        raise bad_input(str(err)) from err


async def _state(info: Info[Context, None], patient_id: str, as_of: str | None) -> KnowledgeState | None:
    """The knowledge state of an answer's ``asOf``, after the caller's grant is checked (no look-up for a
    caller who may not read the patient)."""
    require_patient(info, P.READ_PATIENT, patient_id)
    return await info.context.state(as_of)


@derived(patient_view.PatientRecord, name="Patient", description="A patient: what was observed, and what it means.")
class Patient:
    if TYPE_CHECKING:  # derived from PatientRecord at run time (api/derive.py); declared here for mypy only
        id: str

    @strawberry.field(description="The patient's variants matched to the knowledge (not the whole genome).")
    async def variants(self, info: Info[Context, None]) -> list[PatientVariant]:
        return to_types(PatientVariant, await _guarded(info, patient_view.patient_variants, self.id))

    @strawberry.field(description="Pharmacogenomic diplotype calls per gene.")
    async def diplotypes(self, info: Info[Context, None]) -> list[Diplotype]:
        calls = await _guarded(info, pgx.patient_gene_calls, self.id)
        return to_types(Diplotype, sorted(calls.values(), key=lambda c: c.gene))

    @strawberry.field(description="CPIC and DPWG recommendations for every drug, or the one given; explicit states.")
    async def pharmacogenomics(
        self, info: Info[Context, None], drug: str | None = None, as_of: AsOf = None
    ) -> list[PgxAnswer]:
        state = await _state(info, self.id, as_of)
        return to_types(PgxAnswer, await _guarded(info, pgx.pharmacogenomics, self.id, drug, state))

    @strawberry.field(description="Predictive evidence and assertions for the patient's variants, strongest first.")
    async def targeted_therapies(
        self, info: Info[Context, None], disease: str | None = None, as_of: AsOf = None
    ) -> list[EvidenceFinding]:
        state = await _state(info, self.id, as_of)
        return to_types(EvidenceFinding, await _guarded(info, therapy.targeted_therapies, self.id, disease, state))

    @strawberry.field(description="Diagnostic and prognostic evidence for the patient's variants.")
    async def diagnostic_prognostic(
        self, info: Info[Context, None], disease: str | None = None, as_of: AsOf = None
    ) -> list[EvidenceFinding]:
        state = await _state(info, self.id, as_of)
        return to_types(EvidenceFinding, await _guarded(info, therapy.diagnostic_prognostic, self.id, disease, state))

    @strawberry.field(
        description="Germline findings, every source's classification side by side: AT_RISK, CARRIER, "
        "POSSIBLE_GERMLINE (tumour-only call), CONFLICTING, NO_CURRENT_CLASSIFICATION (the knowledge no longer "
        "classifies the allele; shown when its last class was P/LP); NOT_A_RISK only with includeNonRisk."
    )
    async def risks(
        self, info: Info[Context, None], include_non_risk: bool = False, as_of: AsOf = None
    ) -> list[RiskFinding]:
        state = await _state(info, self.id, as_of)
        return to_types(RiskFinding, await _guarded(info, risk.risks, self.id, include_non_risk, state))

    @strawberry.field(
        description="What knowledge loads changed in this patient's answers (new or retracted risk findings, "
        "reclassifications, new or retired evidence, changed PGx recommendations), newest first; since a date "
        "(YYYY-MM-DD) or a release key (name@version: changes found from that release's load on)."
    )
    async def changes(self, info: Info[Context, None], since: str | None = None) -> list[PatientChange]:
        return to_types(PatientChange, await _guarded(info, changes.patient_changes, self.id, since))


#: The answers ``patient`` may start ahead: field name -> (kg function, its arguments after the patient id
#: from the field's arguments); only as asked for the current knowledge (no ``asOf``).
_AHEAD: dict[str, tuple[Any, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {
    "targetedTherapies": (therapy.targeted_therapies, lambda a: (a.get("disease"), None)),
    "diagnosticPrognostic": (therapy.diagnostic_prognostic, lambda a: (a.get("disease"), None)),
    "risks": (risk.risks, lambda a: (bool(a.get("includeNonRisk", False)), None)),
}


async def _prefetch(info: Info[Context, None], patient_id: str) -> patient_view.PatientRecord | None:
    """The patient's record, with the answers the query asks of it started at once (after the grant
    check): the prescribing-time question ``pharmacogenomics(drug:)`` comes in the same statement as
    the record (kg.queries.pgx.patient_pharmacogenomics, one round trip), the other answers start
    beside it. Each answer is put where its field takes it (``Context.answer``, by kg function and
    arguments), so it is read once, by the same kg function the field would call; a field asked in a
    way this does not foresee (a fragment, a directive, ``asOf``, the same field twice) runs as before."""
    ctx = info.context
    children = [c for f in info.selected_fields for c in f.selections if isinstance(c, SelectedField)]
    counts = Counter(c.name for c in children)
    plain = [c for c in children if counts[c.name] == 1 and not c.directives and c.arguments.get("asOf") is None]
    for child in plain:
        if child.name in _AHEAD:
            fn, arguments = _AHEAD[child.name]
            args = (patient_id, *arguments(child.arguments))
            ctx.prefetch((fn, *args), ctx.kept(fn, *args))
    asked = next((c for c in plain if c.name == "pharmacogenomics"), None)
    if asked is None or not isinstance(asked.arguments.get("drug"), (str, type(None))):
        return await ctx.kept(patient_view.find_patient, patient_id)
    drug = asked.arguments.get("drug")
    both = await ctx.kept(pgx.patient_pharmacogenomics, patient_id, drug, None)
    if both.patient is not None:
        ctx.prefetch((pgx.pharmacogenomics, patient_id, drug, None), _taken(both))
    return both.patient


async def _taken(both: pgx.PatientPharmacogenomics) -> list[pgx.PgxAnswer]:
    return both.answers()


@strawberry.type
class PatientQuery:
    @strawberry.field(
        permission_classes=[needs(P.READ_PATIENT)],
        description="A patient by id; null if unknown. Clinicians granted the patient, and admins; audited.",
    )
    async def patient(self, info: Info[Context, None], id: str) -> Patient | None:
        require_patient(info, P.READ_PATIENT, id)
        ctx = info.context
        audited = ctx.audit_soon("patient", patients=[id])  # written while the graph is read
        try:
            record = await _prefetch(info, id)
        except Exception as err:
            await asyncio.wait([audited])
            await ctx.drop_prefetched()
            ctx.audit("patient", patients=[id], outcome=f"error: {type(err).__name__}")
            raise
        try:
            await audited  # before any of the patient's data is returned; its failure fails the field
        except Exception:
            await ctx.drop_prefetched()
            raise
        if record is None:
            await ctx.drop_prefetched()
            ctx.audit("patient", patients=[id], outcome="not_found")
        return to_type(Patient, record) if record else None

    @strawberry.field(
        permission_classes=[needs(P.READ_PATIENT)],
        description="The patients whose answers the load of a release (name@version) changed, with the changes "
        "counted by kind; only patients the caller may read (audited as a read of those shown).",
    )
    async def changed_patients(
        self, info: Info[Context, None], release: str, since: str | None = None
    ) -> list[ChangedPatient]:
        scope = require(info, P.READ_PATIENT).patient_scope()
        try:
            found = await info.context.run(changes.changed_patients, release, scope, since)
        except changes.UnknownSince as err:
            raise bad_input(str(err)) from err
        if found:
            info.context.audit("changedPatients", patients=[c.patient for c in found], detail={"release": release})
        return to_types(ChangedPatient, found)

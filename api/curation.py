"""Curators: submit evidence, moderate submissions, upload a patient's VCF for matching.

Submitted evidence is invisible to every answer until a moderator accepts it
(kg/queries/curation.py); the moderation queue is the `curatedEvidence` query.

Who may call (kg/access/roles.py): submitEvidence curators and admins; moderateEvidence and the queue
curators and admins, never on their own submission; submitPatientVcf clinicians granted the patient,
and admins. Submitter, moderator and uploader are the token's subject (no argument names them);
every write, and every refused one, is audited.
"""

from __future__ import annotations

import enum
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from api import cursors
from api.auth import forbidden, needs, require, require_patient
from api.context import Context
from api.derive import derived, to_type
from api.errors import bad_input, coded_error, not_found
from api.knowledge_types import Evidence, EvidenceConnection, EvidenceEdge, PageInfo
from kg.access.roles import Permission as P
from kg.matcher.isolated import MatchRefused, match_isolated
from kg.matcher.origin import SampleOrigin
from kg.matcher.report import MatchSummary
from kg.queries import curation, knowledge

_UPLOAD_SUFFIXES = (".vcf.gz", ".vcf.bgz", ".vcf", ".bcf", ".gz")


SampleOriginInput = strawberry.enum(
    SampleOrigin,
    name="SampleOrigin",
    description="What a sample is: GERMLINE (the default), TUMOR (tumour-only), TUMOR_NORMAL (with its matched normal).",
)


@strawberry.enum
class ModerationDecision(enum.Enum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


@strawberry.enum
class CurationStatus(enum.Enum):
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


@strawberry.input(description="One evidence item as a curator states it; references must resolve in the graph.")
class EvidenceInput:
    variant: str = strawberry.field(
        description="A MolecularProfile id, or a variant as `variant` reads it (7-140753336-A-T, rsID, HGVS, BRAF V600E)."
    )
    disease: str = strawberry.field(
        description="A disease as `disease` reads it (DOID:1909, doid_1909, name, synonym, MESH:D008545); an obsolete "
        "term is recorded as its replacement."
    )
    type: str = strawberry.field(description=f"One of {', '.join(curation.EVIDENCE_TYPES)}.")
    significance: str
    direction: str = strawberry.field(description="supports | does not support")
    statement: str
    drug: str | None = strawberry.field(
        default=None, description="A drug as `drug` reads it: name, synonym or id (required for predictive)."
    )
    level: str | None = None
    origin: str | None = None
    pmids: list[str] = strawberry.field(default_factory=list)


@derived(MatchSummary, name="VcfMatchSummary", description="What matching an uploaded VCF did for the patient.")
class VcfMatchSummary:
    pass


def _evidence_error(err: Exception) -> Exception:
    if isinstance(err, curation.UnknownEvidence):
        return not_found(str(err))
    return bad_input(str(err))


@strawberry.type
class CurationQuery:
    @strawberry.field(
        permission_classes=[needs(P.MODERATE_EVIDENCE)],
        description="Curated evidence by status (SUBMITTED: the moderation queue), in id order. Curators and admins.",
    )
    async def curated_evidence(
        self,
        info: Info[Context, None],
        status: CurationStatus = CurationStatus.SUBMITTED,
        first: int = 20,
        after: str | None = None,
    ) -> EvidenceConnection:
        if not 0 <= first <= knowledge.MAX_PAGE:
            raise bad_input(f"first must be between 0 and {knowledge.MAX_PAGE}, got {first}")
        page = await info.context.run(curation.curated_page, status.value, first, cursors.decode("curated", after))
        edges = [EvidenceEdge(cursor=cursors.encode("curated", e.id), node=to_type(Evidence, e)) for e in page.items]
        return EvidenceConnection(
            edges=edges,
            total_count=page.total,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
        )


@strawberry.type
class CurationMutation:
    @strawberry.mutation(
        permission_classes=[needs(P.SUBMIT_EVIDENCE)],
        description="Submit one evidence item as the caller (the token's subject); it stays SUBMITTED (invisible "
        "to answers) until another curator moderates it. Curators and admins; audited.",
    )
    async def submit_evidence(self, info: Info[Context, None], input: EvidenceInput) -> Evidence:
        identity = require(info, P.SUBMIT_EVIDENCE)
        submission = curation.Submission(
            target=input.variant,
            disease=input.disease,
            type=input.type,
            significance=input.significance,
            direction=input.direction,
            statement=input.statement,
            submitter=identity.subject,
            drug=input.drug,
            level=input.level,
            origin=input.origin,
            pmids=list(input.pmids),
        )
        try:
            row = await info.context.run(curation.submit_evidence, submission)
        except Exception as err:
            info.context.audit(
                "submitEvidence", outcome=f"error: {type(err).__name__}", detail={"variant": input.variant}
            )
            if isinstance(err, curation.InvalidSubmission):
                raise bad_input(str(err)) from err
            raise
        info.context.audit("submitEvidence", detail={"evidence": row.id})
        return to_type(Evidence, row)

    @strawberry.mutation(
        permission_classes=[needs(P.MODERATE_EVIDENCE)],
        description="Accept or reject a SUBMITTED item as the caller (the token's subject), recording moderator, "
        "time and comment. Curators and admins, never on their own submission (FORBIDDEN); audited.",
    )
    async def moderate_evidence(
        self, info: Info[Context, None], id: str, decision: ModerationDecision, comment: str
    ) -> Evidence:
        identity = require(info, P.MODERATE_EVIDENCE)
        detail = {"evidence": id, "decision": decision.value}
        try:
            row = await info.context.run(curation.moderate_evidence, id, decision.value, comment, identity.subject)
        except curation.OwnSubmission as err:
            info.context.audit("moderateEvidence", outcome="denied", detail=detail)
            raise forbidden(str(err)) from err
        except Exception as err:
            info.context.audit("moderateEvidence", outcome=f"error: {type(err).__name__}", detail=detail)
            if isinstance(err, (curation.NotModeratable, curation.UnknownEvidence)):
                raise _evidence_error(err) from err
            raise
        info.context.audit("moderateEvidence", detail=detail)
        return to_type(Evidence, row)

    @strawberry.mutation(
        permission_classes=[needs(P.WRITE_PATIENT)],
        description="Match an uploaded VCF (multipart upload; GRCh38) to the graph for a patient: variants linked, "
        "pharmacogenomic diplotypes called. origin: what the sample is (default: what the VCF header says, "
        "else GERMLINE; contradicting the header is BAD_INPUT); sample / normalSample: the tumour's and the "
        "matched normal's columns of a tumour/normal VCF. A multipart upload needs the header "
        "Apollo-Require-Preflight or X-KG-Request; matched in a worker process with time and memory limits "
        "(codes BAD_INPUT, TOO_LARGE, TIMEOUT, OUT_OF_MEMORY). Clinicians granted the patient, and admins; audited.",
    )
    async def submit_patient_vcf(
        self,
        info: Info[Context, None],
        patient_id: str,
        file: Upload,
        disease: str | None = None,
        origin: SampleOrigin | None = None,
        sample: str | None = None,
        normal_sample: str | None = None,
    ) -> VcfMatchSummary:
        patient = patient_id.strip()
        if not patient:
            raise bad_input("patientId must not be empty")
        require_patient(info, P.WRITE_PATIENT, patient)
        if not callable(getattr(file, "read", None)):
            raise bad_input("`file` must be a file part of a multipart request (GraphQL multipart spec), not a value")
        outcome = "error"
        try:
            filename = os.path.basename(getattr(file, "filename", None) or "")
            if not filename:
                raise bad_input("the uploaded file has no name (send it as a multipart file part with a filename)")
            settings = info.context.graph.settings
            with tempfile.TemporaryDirectory(prefix="kg-upload-") as tmp:
                path = Path(tmp) / ("upload" + _suffix(filename))  # the suffix tells the reader how it is compressed
                await _save(file, path, settings.max_upload_bytes)
                try:
                    summary = await anyio.to_thread.run_sync(
                        lambda: match_isolated(
                            settings,
                            path,
                            patient_id=patient,
                            vcf_name=filename,
                            disease=(disease or "").strip() or None,
                            origin=origin,
                            sample=sample,
                            normal_sample=normal_sample,
                        )
                    )
                except MatchRefused as err:  # the file (an origin contradicting the header too), a limit,
                    # the worker's time or memory
                    raise coded_error(str(err), err.code) from err
            outcome = "ok"
        finally:
            info.context.audit("submitPatientVcf", patients=[patient], outcome=outcome)
        return to_type(VcfMatchSummary, summary)


def _suffix(filename: str) -> str:
    lower = filename.lower()
    return next((s for s in _UPLOAD_SUFFIXES if lower.endswith(s)), ".vcf")


async def _save(file: Any, path: Path, limit: int) -> None:
    """Copy the upload to ``path`` in 1 MiB chunks, refusing more than ``limit`` bytes (compressed, as sent)."""
    size = 0
    with open(path, "wb") as out:
        while chunk := await file.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise coded_error(f"the upload is larger than {limit} bytes", "TOO_LARGE")
            out.write(chunk)
    if size == 0:
        raise bad_input("the uploaded file is empty")

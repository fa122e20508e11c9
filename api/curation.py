"""Curators: submit evidence, moderate submissions, upload a patient's VCF for matching.

Submitted evidence is invisible to every answer until a moderator accepts it
(kg/queries/curation.py); the moderation queue is the `curatedEvidence` query.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import importlib.util
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types import Info

from api import cursors
from api.answer_types import as_json
from api.context import Context
from api.errors import bad_input, not_found, unavailable
from api.knowledge_types import Evidence, EvidenceConnection, EvidenceEdge, PageInfo
from kg.queries import curation, knowledge

MAX_UPLOAD_BYTES = 2 * 1024**3  # a whole-genome VCF.gz fits; anything larger is refused
_UPLOAD_SUFFIXES = (".vcf.gz", ".vcf.bgz", ".vcf", ".bcf", ".gz")


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
        description="A MolecularProfile id, or a variant as `variant` reads it (7-140753336-A-T, rsID, HGVS, BRAF V600E).")
    disease: str = strawberry.field(
        description="A disease as `disease` reads it (DOID:1909, doid_1909, name, synonym, MESH:D008545); an obsolete "
        "term is recorded as its replacement.")
    type: str = strawberry.field(description=f"One of {', '.join(curation.EVIDENCE_TYPES)}.")
    significance: str
    direction: str = strawberry.field(description="supports | does not support")
    statement: str
    submitter: str
    drug: str | None = strawberry.field(
        default=None, description="A drug as `drug` reads it: name, synonym or id (required for predictive).")
    level: str | None = None
    origin: str | None = None
    pmids: list[str] = strawberry.field(default_factory=list)


@strawberry.type(description="What matching an uploaded VCF did for the patient.")
class VcfMatchSummary:
    patient_id: str
    variants_matched: int | None
    genes_called: int | None
    records_read: int | None
    records_skipped: int | None
    details: JSON = strawberry.field(description="The matcher's full report.")


def _evidence_error(err: Exception) -> Exception:
    if isinstance(err, curation.UnknownEvidence):
        return not_found(str(err))
    return bad_input(str(err))


@strawberry.type
class CurationQuery:
    @strawberry.field(description="Curated evidence by status (SUBMITTED: the moderation queue), in id order.")
    async def curated_evidence(
        self, info: Info[Context, None], status: CurationStatus = CurationStatus.SUBMITTED, first: int = 20,
        after: str | None = None,
    ) -> EvidenceConnection:
        if not 0 <= first <= knowledge.MAX_PAGE:
            raise bad_input(f"first must be between 0 and {knowledge.MAX_PAGE}, got {first}")
        total, rows, has_next = await info.context.run(
            curation.curated_page, status.value, first, cursors.decode("curated", after)
        )
        edges = [EvidenceEdge(cursor=cursors.encode("curated", r["props"]["id"]), node=Evidence.of(r)) for r in rows]
        return EvidenceConnection(
            edges=edges, total_count=total,
            page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        )


@strawberry.type
class CurationMutation:
    @strawberry.mutation(description="Submit one evidence item; it stays SUBMITTED (invisible to answers) until moderated.")
    async def submit_evidence(self, info: Info[Context, None], input: EvidenceInput) -> Evidence:
        submission = curation.Submission(
            target=input.variant, disease=input.disease, type=input.type, significance=input.significance,
            direction=input.direction, statement=input.statement, submitter=input.submitter, drug=input.drug,
            level=input.level, origin=input.origin, pmids=list(input.pmids),
        )
        try:
            row = await info.context.run(curation.submit_evidence, submission)
        except curation.InvalidSubmission as err:
            raise bad_input(str(err)) from err
        return Evidence.of(row)

    @strawberry.mutation(description="Accept or reject a SUBMITTED item, recording moderator, time and comment.")
    async def moderate_evidence(
        self, info: Info[Context, None], id: str, decision: ModerationDecision, comment: str, moderator: str
    ) -> Evidence:
        try:
            row = await info.context.run(curation.moderate_evidence, id, decision.value, comment, moderator)
        except (curation.NotModeratable, curation.UnknownEvidence) as err:
            raise _evidence_error(err) from err
        return Evidence.of(row)

    @strawberry.mutation(
        description="Match an uploaded VCF (multipart upload; GRCh38) to the graph for a patient: variants linked, "
        "pharmacogenomic diplotypes called."
    )
    async def submit_patient_vcf(
        self, info: Info[Context, None], patient_id: str, file: Upload, disease: str | None = None
    ) -> VcfMatchSummary:
        patient = patient_id.strip()
        if not patient:
            raise bad_input("patientId must not be empty")
        match_patient = _matcher()
        filename = os.path.basename(getattr(file, "filename", None) or "upload.vcf")
        with tempfile.TemporaryDirectory(prefix="kg-upload-") as tmp:
            path = Path(tmp) / ("upload" + _suffix(filename))
            await _save(file, path)
            try:
                result = await info.context.run(
                    match_patient, path, patient_id=patient, disease=(disease or "").strip() or None, sample=None
                )
            except (ValueError, LookupError) as err:  # VcfError, BuildMismatchError, an unknown disease, ...
                raise bad_input(str(err).replace(str(path), filename)) from err
        return _summary(result, patient)


def _matcher() -> Callable[..., Any]:
    """kg.matcher.match.match_patient, imported only when asked for (its engineer is still writing it)."""
    if importlib.util.find_spec("kg.matcher.match") is None:
        raise unavailable("the VCF matcher is not installed (kg.matcher.match)")
    module = importlib.import_module("kg.matcher.match")
    fn = getattr(module, "match_patient", None)
    if fn is None:
        raise unavailable("the VCF matcher is not installed (kg.matcher.match.match_patient)")
    return fn


def _suffix(filename: str) -> str:
    lower = filename.lower()
    return next((s for s in _UPLOAD_SUFFIXES if lower.endswith(s)), ".vcf")


async def _save(file: Any, path: Path) -> None:
    """Copy the upload to ``path`` in 1 MiB chunks, refusing more than MAX_UPLOAD_BYTES."""
    size = 0
    with open(path, "wb") as out:
        while chunk := await file.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise bad_input(f"the upload is larger than {MAX_UPLOAD_BYTES // 1024**3} GiB")
            out.write(chunk)
    if size == 0:
        raise bad_input("the uploaded file is empty")


def _field(result: Any, *names: str) -> Any:
    for name in names:
        value = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if value is not None:
            return value
    return None


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return len(value)
    except TypeError:
        return None


def _summary(result: Any, patient: str) -> VcfMatchSummary:
    """Read the matcher's report whatever its shape (dataclass, dict or object with attributes)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        details = dataclasses.asdict(result)
    elif isinstance(result, dict):
        details = result
    else:
        details = {k: v for k, v in vars(result).items() if not k.startswith("_")} if hasattr(result, "__dict__") else {}
    stats = _field(result, "stats", "read_stats")
    return VcfMatchSummary(
        patient_id=str(_field(result, "patient_id", "patient") or patient),
        variants_matched=_count(_field(result, "variants_matched", "matched", "variants")),
        genes_called=_count(_field(result, "genes_called", "diplotypes", "genes")),
        records_read=_count(_field(result, "records_read", "records", "read") or _field(stats or {}, "records", "read")),
        records_skipped=_count(_field(result, "records_skipped", "skipped") or _field(stats or {}, "skipped")),
        details=as_json(details),
    )

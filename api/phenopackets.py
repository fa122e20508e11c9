"""The GraphQL side of Phenopacket submission (the HTTP route is api/documents.py's).

Who may call ``submitPhenopacket``: a clinician with a grant for the patient it names (or creates),
or an admin (Permission.WRITE_PATIENT and the grant); audited.
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.auth import needs, require_patient
from api.context import Context
from api.curation import VcfMatchSummary
from api.derive import to_type
from api.documents import upload_dir
from api.errors import bad_input
from kg.access.roles import Permission as P
from kg.documents.phenopacket import PhenopacketError, import_phenopacket, parse_phenopacket, patient_of
from kg.matcher.build import BuildMismatchError
from kg.matcher.errors import VcfError
from kg.matcher.report import MatchSummary


@strawberry.type
class PhenopacketMutation:
    @strawberry.mutation(
        permission_classes=[needs(P.WRITE_PATIENT)],
        description="Submit a patient as a GA4GH Phenopacket v2: its diseases become the patient's conditions "
        "and the VCF it links (file:// inside the server's upload folder, KG_UPLOAD_DIR) is matched.",
    )
    async def submit_phenopacket(
        self,
        info: Info[Context, None],
        phenopacket: JSON,
        patient_id: str | None = None,
        origin: str | None = None,
    ) -> VcfMatchSummary:
        options = {"origin": origin} if origin else {}  # the sample origin, passed to the matcher when given
        try:
            patient = patient_of(parse_phenopacket(cast(Any, phenopacket), "phenopacket argument"), patient_id)
        except PhenopacketError as err:
            raise bad_input(str(err)) from err
        require_patient(info, P.WRITE_PATIENT, patient)
        outcome = "error"
        try:
            report = await info.context.run(
                import_phenopacket,
                phenopacket,
                upload_dir=upload_dir(),
                patient_id=patient_id,
                name="phenopacket argument",
                **options,
            )
            outcome = "ok"
        except (PhenopacketError, VcfError, BuildMismatchError) as err:  # an unknown disease: BAD_INPUT (api.context)
            raise bad_input(str(err)) from err
        finally:
            info.context.audit("submitPhenopacket", patients=[patient], outcome=outcome)
        return to_type(VcfMatchSummary, MatchSummary.of(report))

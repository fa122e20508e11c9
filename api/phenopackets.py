"""The GraphQL side of Phenopacket submission (the HTTP route is api/documents.py's).

Who may call ``submitPhenopacket``: a clinician with a grant for the patient it names (or creates),
or an admin; the lead wires the auth helper's check in as the resolver's first line.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.context import Context
from api.curation import VcfMatchSummary
from api.derive import to_type
from api.documents import upload_dir
from api.errors import bad_input
from kg.documents.phenopacket import PhenopacketError, import_phenopacket
from kg.matcher.build import BuildMismatchError
from kg.matcher.errors import VcfError
from kg.matcher.report import MatchSummary


@strawberry.type
class PhenopacketMutation:
    @strawberry.mutation(
        description="Submit a patient as a GA4GH Phenopacket v2: its diseases become the patient's conditions "
        "and the VCF it links (file:// inside the server's upload folder, KG_UPLOAD_DIR) is matched."
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
            report = await info.context.run(
                import_phenopacket,
                phenopacket,
                upload_dir=upload_dir(),
                patient_id=patient_id,
                name="phenopacket argument",
                **options,
            )
        except (PhenopacketError, VcfError, BuildMismatchError) as err:  # an unknown disease: BAD_INPUT (api.context)
            raise bad_input(str(err)) from err
        return to_type(VcfMatchSummary, MatchSummary.of(report))

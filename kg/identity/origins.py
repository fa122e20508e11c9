"""The origin of a sample, of a call and of evidence, and how they fit (DESIGN.md "so is sample origin").

Shared by the matcher (which decides a sample's origin, kg/matcher/origin.py) and the answers (which
keep predisposition to germline calls and weigh evidence by origin, kg/queries/risk.py and
therapy.py). Pure: no database, no files.
"""

from __future__ import annotations

from enum import StrEnum


class SampleOrigin(StrEnum):
    """What a matched sample is. The default, when nothing says otherwise, is germline."""

    GERMLINE = "germline"
    TUMOR = "tumor"  # a tumour sequenced alone
    TUMOR_NORMAL = "tumor_normal"  # a tumour with its matched normal (one VCF or two)


class CallOrigin(StrEnum):
    """The origin of one call, as ``HAS_VARIANT.callOrigin`` stores it."""

    GERMLINE = "germline"  # a germline sample's call, or one the matched normal carries
    SOMATIC = "somatic"  # carried by the tumour, absent from its matched normal
    UNKNOWN = "unknown"  # a tumour-only call: somatic or germline, not told apart (PCGR tumour-only)


DEFAULT_ORIGIN = SampleOrigin.GERMLINE

#: The origin of every call of a sample with one origin (a pair's are decided per call).
SINGLE_SAMPLE_CALLS = {SampleOrigin.GERMLINE: CallOrigin.GERMLINE, SampleOrigin.TUMOR: CallOrigin.UNKNOWN}


def call_origin_of(link_origin: str | None, sample_origin: str | None) -> CallOrigin:
    """A HAS_VARIANT link's call origin; links written before origins existed take the sample's."""
    if link_origin:
        return CallOrigin(link_origin)
    return SINGLE_SAMPLE_CALLS.get(SampleOrigin(sample_origin or DEFAULT_ORIGIN), CallOrigin.UNKNOWN)


def evidence_origin(origin: str | None) -> str | None:
    """An evidence item's origin coarsened to ``somatic`` | ``germline`` | None (unknown, N/A, combined).

    CIViC's ``variant_origin`` (Somatic, Rare Germline, Common Germline, Unknown, Combined, N/A; the
    loader keeps ``germline`` for both germline kinds) and ClinVar's ORIGIN (germline, somatic,
    germline/somatic) are read alike; ``germline/somatic`` and ``combined`` say both, so neither.
    """
    text = (origin or "").lower()
    if text in ("somatic",):
        return "somatic"
    if text.endswith("germline") or text in ("inherited", "maternal", "paternal", "de novo"):
        return "germline"
    return None


class OriginFit(StrEnum):
    """How an evidence item's origin fits the origin of the patient's call it is applied to."""

    APPLIES = "applies"  # somatic evidence for a somatic or tumour-only call; germline for a germline call
    NEEDS_GERMLINE_CONFIRMATION = "needs_germline_confirmation"  # germline evidence, tumour-only call
    GERMLINE_EVIDENCE_SOMATIC_CALL = "germline_evidence_somatic_call"  # the normal lacks the allele
    SOMATIC_EVIDENCE_GERMLINE_CALL = "somatic_evidence_germline_call"  # a constitutional call
    ORIGIN_NOT_STATED = "origin_not_stated"  # the evidence gives no (single) origin


#: How much an origin fit weighs when equal evidence is ordered (lower first).
FIT_RANK = {
    OriginFit.APPLIES: 0,
    OriginFit.ORIGIN_NOT_STATED: 1,
    OriginFit.NEEDS_GERMLINE_CONFIRMATION: 2,
    OriginFit.GERMLINE_EVIDENCE_SOMATIC_CALL: 3,
    OriginFit.SOMATIC_EVIDENCE_GERMLINE_CALL: 3,
}

_NOTES = {
    OriginFit.APPLIES: "the evidence's origin ({e}) is the call's ({c})",
    OriginFit.ORIGIN_NOT_STATED: "the evidence states no single origin; the call is {c}",
    OriginFit.NEEDS_GERMLINE_CONFIRMATION: (
        "germline evidence for a tumour-only call: applies if the variant is germline; confirm with a germline test"
    ),
    OriginFit.GERMLINE_EVIDENCE_SOMATIC_CALL: (
        "germline evidence for a somatic call (the matched normal lacks it): extrapolated from germline carriers"
    ),
    OriginFit.SOMATIC_EVIDENCE_GERMLINE_CALL: (
        "somatic (tumour) evidence for a germline call: the tumour's own status decides whether it applies"
    ),
}


def origin_fit(evidence: str | None, calls: list[CallOrigin]) -> tuple[OriginFit, str]:
    """The fit of evidence of origin ``evidence`` (raw) to the patient's calls behind it, with a note.

    Several calls (a complex profile) fit as well as their best-fitting call.
    """
    coarse = evidence_origin(evidence)
    fits = [_fit(coarse, c) for c in calls] or [OriginFit.ORIGIN_NOT_STATED]
    best = min(fits, key=FIT_RANK.__getitem__)
    call = next((c for c, f in zip(calls, fits, strict=False) if f == best), None)
    return best, _NOTES[best].format(e=coarse or evidence or "not stated", c=call.value if call else "unknown")


def _fit(evidence: str | None, call: CallOrigin) -> OriginFit:
    if evidence is None:
        return OriginFit.ORIGIN_NOT_STATED
    if evidence == "somatic":
        return OriginFit.SOMATIC_EVIDENCE_GERMLINE_CALL if call == CallOrigin.GERMLINE else OriginFit.APPLIES
    if call == CallOrigin.GERMLINE:
        return OriginFit.APPLIES
    if call == CallOrigin.UNKNOWN:
        return OriginFit.NEEDS_GERMLINE_CONFIRMATION
    return OriginFit.GERMLINE_EVIDENCE_SOMATIC_CALL

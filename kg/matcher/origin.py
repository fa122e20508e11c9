"""Sample origin: is a VCF sample germline, a tumour alone, or a tumour with its matched normal?

Predisposition answers come only from germline calls and therapy answers weigh evidence by its
origin (DESIGN.md "Genome build is data; so is sample origin"), so the matcher must know what
kind of sample it reads. Three origins (:class:`SampleOrigin`):

- ``germline`` -- a constitutional sample (blood, saliva). **The default when nothing says
  otherwise**: neither an argument nor the header.
- ``tumor`` -- a tumour sequenced alone. Its calls are somatic *or* germline and cannot be told
  apart (PCGR's tumour-only mode), so every call's origin is ``unknown``.
- ``tumor_normal`` -- a tumour with its matched normal, as two sample columns of one VCF (the
  usual somatic caller output) or as two VCFs. A call the normal carries is ``germline``; a call
  only the tumour carries is ``somatic``.

Where the caller wrote it, the origin is read from the header:

- GATK Mutect2 writes ``##tumor_sample=<name>`` and, with a matched normal, ``##normal_sample=<name>``;
- VCF 4.3 section 1.4.8 ``##SAMPLE=<ID=...,Genomes=...,Mixture=...,Description=...>`` (section 5.5,
  "Representing cancer samples": ``Genomes=Germline`` for a normal, ``Genomes=Tumor`` or
  ``Germline;Tumor`` for a tumour); TCGA VCFs write ``Description="Primary Tumor"`` /
  ``"Normal sample"`` instead, which is read when ``Genomes`` is absent.

An explicit origin (``kg match --origin``, the upload's ``origin`` argument, a Phenopacket's
sample) that contradicts the header is refused with a :class:`SampleOriginError` naming the
header line, never silently overridden.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.identity.origins import DEFAULT_ORIGIN, SINGLE_SAMPLE_CALLS, CallOrigin, SampleOrigin
from kg.matcher.errors import VcfError

__all__ = [
    "DEFAULT_ORIGIN",
    "SINGLE_SAMPLE_CALLS",
    "CallOrigin",
    "HeaderRoles",
    "SampleOrigin",
    "SampleOriginError",
    "SampleRoles",
    "cohort_roles",
    "decide",
    "header_roles",
    "parse_origin",
]


class SampleOriginError(VcfError):
    """An origin that cannot be: unknown, contradicting the header, or a pair without its normal."""


def parse_origin(value: str | SampleOrigin | None, where: str = "origin") -> SampleOrigin | None:
    """``germline`` / ``tumor`` / ``tumor_normal`` (also ``tumour``, ``somatic``, ``tumor-normal``)."""
    if value is None or isinstance(value, SampleOrigin):
        return value
    text = value.strip().lower().replace("-", "_").replace("tumour", "tumor").replace("/", "_")
    text = {"somatic": "tumor", "tumor_only": "tumor", "constitutional": "germline"}.get(text, text)
    try:
        return SampleOrigin(text)
    except ValueError:
        raise SampleOriginError(
            where, f"unknown sample origin {value!r}", expected="germline, tumor or tumor_normal", found=repr(value)
        ) from None


# --- the header ------------------------------------------------------------------------------

_MUTECT = re.compile(r"^##(tumor|normal)_sample=(.+)$", re.MULTILINE)
_SAMPLE_LINE = re.compile(r"^##SAMPLE=<(.*)>\s*$", re.MULTILINE)
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^,]*)')
_TUMOR_WORDS = ("tumor", "tumour", "cancer", "metasta", "somatic", "neoplas")
_NORMAL_WORDS = ("normal", "germline", "blood", "constitutional")


@dataclass(frozen=True)
class HeaderRoles:
    """What the header says about the samples: the tumour and normal it names, and the lines saying it."""

    tumor: str | None = None
    normal: str | None = None
    lines: tuple[str, ...] = ()

    @property
    def origin(self) -> SampleOrigin | None:
        if self.tumor and self.normal:
            return SampleOrigin.TUMOR_NORMAL
        if self.tumor:
            return SampleOrigin.TUMOR
        if self.normal:
            return SampleOrigin.GERMLINE
        return None

    def line_for(self, sample: str) -> str:
        return next((line for line in self.lines if sample in line), self.lines[0] if self.lines else "")


def _role(fields: dict[str, str]) -> str | None:
    genomes = [g.strip().lower() for g in fields.get("Genomes", "").split(";") if g.strip()]
    if genomes:
        if any(w in g for g in genomes for w in _TUMOR_WORDS):
            return "tumor"
        if all(any(w in g for w in _NORMAL_WORDS) for g in genomes):
            return "normal"
        return None
    text = fields.get("Description", "").lower()
    if any(w in text for w in _TUMOR_WORDS):
        return "tumor"
    if any(w in text for w in _NORMAL_WORDS):
        return "normal"
    return None


def header_roles(path: str | os.PathLike[str], header: str, samples: list[str] | tuple[str, ...]) -> HeaderRoles:
    """The tumour and normal sample the header names (Mutect2 lines first, then ``##SAMPLE``).

    Only sample columns of the file count (a ``##SAMPLE`` line may describe other samples). Two
    lines giving one sample both roles, or two tumours / two normals, are a
    :class:`SampleOriginError`.
    """
    found: dict[str, list[tuple[str, str]]] = {"tumor": [], "normal": []}
    for m in _MUTECT.finditer(header):
        name = m.group(2).strip()
        if name in samples:
            found[m.group(1)].append((name, m.group(0).strip()))
    for m in _SAMPLE_LINE.finditer(header):
        fields = {k: v.strip('"') for k, v in _PAIR.findall(m.group(1))}
        sid = fields.get("ID", "")
        role = _role(fields)
        if sid in samples and role and all(sid != s for s, _ in found[role]):
            found[role].append((sid, m.group(0).strip()))
    tumors = {s for s, _ in found["tumor"]}
    normals = {s for s, _ in found["normal"]}
    lines = tuple(line for role in ("tumor", "normal") for _, line in found[role])
    if tumors & normals or len(tumors) > 1 or len(normals) > 1:
        raise SampleOriginError(
            path,
            "the header gives the samples contradicting roles",
            expected="one tumour sample and at most one normal sample",
            found="; ".join(lines),
        )
    return HeaderRoles(next(iter(tumors), None), next(iter(normals), None), lines)


# --- deciding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRoles:
    """The decided origin and which sample column is read for what."""

    origin: SampleOrigin
    source: str  # argument | header | default
    sample: str | None  # the sample read (the tumour of a pair); None: the file's only sample
    normal_sample: str | None = None  # the matched normal's column (of this VCF, or of the normal VCF)
    normal_vcf: Path | None = None
    header_lines: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def decide(
    path: str | os.PathLike[str],
    roles: HeaderRoles,
    samples: list[str] | tuple[str, ...],
    *,
    origin: SampleOrigin | None,
    sample: str | None,
    normal_sample: str | None,
    normal_vcf: str | os.PathLike[str] | None,
) -> SampleRoles:
    """Argument, header and default reconciled into one :class:`SampleRoles`; a contradiction raises.

    A normal given (``normal_sample`` / ``normal_vcf``) without an origin means ``tumor_normal``.
    """
    given = origin
    if origin is None and (normal_sample or normal_vcf):
        origin = SampleOrigin.TUMOR_NORMAL
    if origin is None:
        origin, source = (roles.origin, "header") if roles.origin else (DEFAULT_ORIGIN, "default")
    else:
        source = "argument"
    said = f"--origin {given}" if given else "a normal sample"

    def contradiction(what: str, line_of: str) -> SampleOriginError:
        return SampleOriginError(
            path,
            f"{said} contradicts the VCF header: {what}",
            expected="an origin agreeing with the header (or no --origin: the header decides)",
            found=roles.line_for(line_of),
        )

    if origin != SampleOrigin.TUMOR_NORMAL and (normal_sample or normal_vcf):
        raise SampleOriginError(path, f"a matched normal is given but the origin is {origin}", expected="tumor_normal")
    if origin == SampleOrigin.GERMLINE:
        chosen = sample or (roles.normal if roles.origin == SampleOrigin.TUMOR_NORMAL else None)
        chosen = chosen or (samples[0] if len(samples) == 1 else None)
        if chosen and chosen == roles.tumor:
            raise contradiction(f"sample {chosen!r} is the tumour", chosen)
        return SampleRoles(origin, source, chosen or sample, header_lines=roles.lines)
    if origin == SampleOrigin.TUMOR:
        chosen = sample or roles.tumor or (samples[0] if len(samples) == 1 else None)
        if chosen and chosen == roles.normal:
            raise contradiction(f"sample {chosen!r} is the matched normal", chosen)
        notes = []
        if roles.normal and roles.normal in samples:
            notes.append(f"the header's normal sample {roles.normal!r} is not read (origin tumor: tumour-only)")
        return SampleRoles(origin, source, chosen, header_lines=roles.lines, notes=notes)
    # tumour + normal
    tumor = sample or roles.tumor
    normal = normal_sample or (roles.normal if not normal_vcf else None)
    if tumor and tumor == roles.normal:
        raise contradiction(f"sample {tumor!r} is the matched normal, not the tumour", tumor)
    if normal and not normal_vcf and normal == roles.tumor:
        raise contradiction(f"sample {normal!r} is the tumour, not the matched normal", normal)
    if not normal_vcf:
        if not normal:
            raise SampleOriginError(
                path,
                "origin tumor_normal needs the matched normal",
                expected="--normal SAMPLE (a column of this VCF) or --normal FILE (the normal's VCF), "
                "or a ##normal_sample= header line",
                found=f"samples: {', '.join(samples)}",
            )
        if normal not in samples:
            raise SampleOriginError(
                path, f"normal sample {normal!r} is not in the file", expected=f"one of: {', '.join(samples)}"
            )
        if tumor is None:
            others = [s for s in samples if s != normal]
            tumor = others[0] if len(others) == 1 else None
        if tumor == normal:
            raise SampleOriginError(path, "the tumour and the normal are the same sample", found=repr(tumor))
    return SampleRoles(
        origin,
        source,
        tumor,
        normal_sample=normal,
        normal_vcf=Path(normal_vcf) if normal_vcf else None,
        header_lines=roles.lines,
    )


def cohort_roles(
    path: str | os.PathLike[str],
    roles: HeaderRoles,
    samples: list[str] | tuple[str, ...],
    origin: SampleOrigin | None,
) -> dict[str, SampleRoles | SampleOriginError]:
    """The origin of each sample of a cohort run, where every sample is read alone as its own patient.

    One origin for the run (``germline``, the default, or ``tumor``); the header still decides for a
    sample it names when no origin is given (its tumour is read as ``tumor``, its normal as
    ``germline``), and an origin that contradicts the header for a sample is that sample's
    :class:`SampleOriginError` (reported, the others go on). ``tumor_normal`` pairs two columns into
    one patient, which a cohort run does not do: an error for the run.
    """
    if origin == SampleOrigin.TUMOR_NORMAL:
        raise SampleOriginError(
            path,
            "a cohort run matches each sample alone: origin tumor_normal does not apply",
            expected="--origin germline or tumor for a cohort; a tumour/normal pair with --sample TUMOUR --normal NORMAL",
            found="--origin tumor_normal",
        )
    out: dict[str, SampleRoles | SampleOriginError] = {}
    for sample in samples:
        given = origin or (SampleOrigin.TUMOR if sample == roles.tumor else SampleOrigin.GERMLINE)
        try:
            decided = decide(path, roles, samples, origin=given, sample=sample, normal_sample=None, normal_vcf=None)
        except SampleOriginError as err:
            out[sample] = err
            continue
        named = sample in (roles.tumor, roles.normal)
        source = "argument" if origin else "header" if named else "default"
        out[sample] = SampleRoles(decided.origin, source, sample, header_lines=decided.header_lines)
    return out

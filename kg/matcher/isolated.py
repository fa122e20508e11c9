"""Matching an untrusted VCF (an upload) in a worker process with time and memory limits (issue 9).

A hostile file must not stall or crash the server: :func:`match_isolated` runs
:func:`kg.matcher.match.match_patient` in a child process (``forkserver``: a clean process, not a
copy of the threaded server) whose address space is capped (``RLIMIT_AS`` = ``Settings.match_memory``)
and which is killed after ``Settings.match_timeout`` seconds. Before matching, the child reads the
file once as a stream (:func:`check_limits`): decompressed bytes at most ``Settings.max_vcf_bytes``,
each text line at most ``Settings.max_vcf_line`` bytes, at least one data record, so a zip bomb or a
line without end is refused after reading at most the limit, never held in memory. Whatever goes
wrong in the child comes back as :class:`MatchRefused` with a code and a message (file name, not
the temporary path); nothing is written unless matching finished (match_patient writes last, in
one transaction).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import multiprocessing
import os
import resource
import traceback
import zlib
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kg.config import Settings
from kg.matcher.errors import Compression, VcfError, sniff

CHUNK = 1 << 20


class MatchRefused(Exception):
    """The upload was not matched: ``code`` is BAD_INPUT (the file), TOO_LARGE (a limit), TIMEOUT,
    OUT_OF_MEMORY or INTERNAL (the worker died)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class _Job:
    settings: Settings
    path: str
    patient_id: str
    vcf_name: str
    options: dict[str, Any]  # match_patient's other keyword arguments (disease, sample, ...)


def check_limits(path: str | os.PathLike[str], settings: Settings) -> None:
    """Stream the file (decompressed) once: raise :class:`MatchRefused` TOO_LARGE past
    ``max_vcf_bytes`` or a line longer than ``max_vcf_line``, :class:`VcfError` for a stream that is
    not gzip all through, or a text VCF without a data record."""
    kind = sniff(path)
    opener: Any = gzip.open if kind.compression is not Compression.NONE else open
    total, current, records, lines = 0, 0, 0, 0  # current: bytes of the line being read so far
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                total += len(chunk)
                if total > settings.max_vcf_bytes:
                    raise MatchRefused("TOO_LARGE", f"the VCF decompresses to more than {settings.max_vcf_bytes} bytes")
                if kind.bcf:
                    continue
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as err:  # VCF 4.2 section 1.2: the file is UTF-8
                    line = lines + chunk[: err.start].count(b"\n") + 1
                    raise VcfError(
                        path,
                        "not UTF-8 text",
                        line=line,
                        expected="UTF-8 (VCF 4.2 section 1.2)",
                        found=f"byte 0x{chunk[err.start]:02x}",
                    ) from err
                lines += chunk.count(b"\n")
                start = 0
                while True:
                    newline = chunk.find(b"\n", start)
                    end = newline if newline >= 0 else len(chunk)
                    if current == 0 and end > start and chunk[start] != ord("#"):
                        records += 1
                    current += end - start
                    if current > settings.max_vcf_line:
                        raise MatchRefused(
                            "TOO_LARGE", f"a line of the VCF is longer than {settings.max_vcf_line} bytes"
                        )
                    if newline < 0:
                        break
                    current, start = 0, newline + 1
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise VcfError(
            path, "file is truncated or corrupt", expected="a complete gzip/BGZF stream", found=str(err)
        ) from err
    if not kind.bcf and records == 0:
        raise VcfError(path, "no data records", expected="at least one variant line after the header", found="none")


#: Modules that read the file itself; an unexpected error raised inside them is about the file.
_READERS = ("cyvcf2", "kg/matcher/vcf.py", "kg/matcher/positions.py", "kg/matcher/genotype.py")


def _reading_frame(err: BaseException) -> str | None:
    """The innermost traceback frame of ``err`` when it lies in the VCF reading layer, as file:function."""
    frames = traceback.extract_tb(err.__traceback__)
    last = frames[-1] if frames else None
    if last is None or not any(r in last.filename.replace(os.sep, "/") for r in _READERS):
        return None
    return f"{Path(last.filename).name}:{last.name}"


def _child(job: _Job, conn: Connection) -> None:
    """The worker: the code it needs loaded, then the limits, then the checks and matching; sends
    ("ok", summary) or (code, message)."""
    from kg.db import Graph
    from kg.matcher.build import BuildMismatchError
    from kg.matcher.match import match_patient
    from kg.matcher.report import MatchSummary
    from kg.queries.resolve import Unresolved

    try:
        resource.setrlimit(resource.RLIMIT_AS, (job.settings.match_memory, job.settings.match_memory))
        limit = int(job.settings.match_timeout) + 1  # CPU seconds: a backstop to the parent's clock
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit))
    except (ValueError, OSError):
        pass  # a platform without these limits still has the parent's timeout
    outcome: tuple[str, Any]
    try:
        check_limits(job.path, job.settings)
        with Graph(job.settings) as graph:
            report = match_patient(graph, job.path, patient_id=job.patient_id, vcf_name=job.vcf_name, **job.options)
        outcome = ("ok", MatchSummary.of(report))
    except MatchRefused as err:
        outcome = (err.code, str(err))
    except MemoryError:
        outcome = ("OUT_OF_MEMORY", f"matching needed more than {job.settings.match_memory} bytes of memory")
    except (VcfError, BuildMismatchError, Unresolved, ValueError, UnicodeDecodeError) as err:
        outcome = ("BAD_INPUT", str(err).replace(job.path, job.vcf_name))
    except Exception as err:  # the parent logs nothing it cannot see: keep the type, not the trace
        where = _reading_frame(err)
        if where:  # failed inside the VCF reading layer (cyvcf2 on a record htslib half-parsed): the file
            outcome = ("BAD_INPUT", f"{job.vcf_name}: the VCF could not be read ({type(err).__name__} in {where})")
        else:
            outcome = ("INTERNAL", f"matching failed: {type(err).__name__}")
    with contextlib.suppress(BrokenPipeError, OSError):
        conn.send(outcome)
    conn.close()


def match_isolated(
    settings: Settings, path: str | os.PathLike[str], *, patient_id: str, vcf_name: str, **options: Any
) -> Any:
    """Match ``path`` for ``patient_id`` in a limited worker (``options``: match_patient's other keyword
    arguments, picklable); its :class:`kg.matcher.report.MatchSummary`, or :class:`MatchRefused`.
    Blocks the calling thread (the API runs it in a worker thread)."""
    ctx = multiprocessing.get_context("forkserver")
    receiver, sender = ctx.Pipe(duplex=False)
    job = _Job(settings, str(Path(path)), patient_id, vcf_name, options)
    process = ctx.Process(target=_child, args=(job, sender), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(settings.match_timeout):
            raise MatchRefused("TIMEOUT", f"matching took longer than {settings.match_timeout:g} s and was stopped")
        try:
            status, value = receiver.recv()
        except EOFError as err:  # died without a word: killed by a limit (memory, CPU) or crashed
            process.join(5)
            raise MatchRefused(
                "OUT_OF_MEMORY" if process.exitcode in (-9, -11) else "INTERNAL",
                f"the matching worker stopped (exit {process.exitcode}); the file needs more than the server allows",
            ) from err
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if status != "ok":
        raise MatchRefused(status, value)
    return value

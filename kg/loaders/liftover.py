"""GRCh37 -> GRCh38 coordinate lifting of alleles and regions with a UCSC chain file.

Sources on GRCh37 (CIViC, some PGS scores) are lifted at load time (DESIGN.md: "genome build is
data"). The chain is the UCSC ``hg19ToHg38.over.chain.gz`` (UCSC chain format: ``chain score
tName tSize tStrand tStart tEnd qName qSize qStrand qStart qEnd id`` headers, then ``size dt dq``
blocks, 0-based half-open) read by pyliftover, which maps one 0-based position at a time.

An allele is lifted only when every base of its REF maps, in order and without a gap, onto one
chain on the plus strand: then the GRCh38 REF is the same sequence and REF/ALT are unchanged.
Anything else (unmapped, split across chains, a changed span, the minus strand) is a failure
with a reason, never a guess: without the GRCh38 sequence we cannot re-derive bases.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pyliftover import LiftOver

from kg.identity.variants import canonical_chrom
from kg.loaders.errors import SourceFormatError


@dataclass(frozen=True)
class Lifted:
    """A 1-based GRCh38 position (or region start..end) with the ``chr`` prefix."""

    chrom: str
    pos: int
    end: int


@dataclass(frozen=True)
class LiftFailure:
    reason: str


class _CountingReader:
    """What pyliftover reads from (it calls ``readline``), counting lines for error messages."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.line = 0

    def readline(self) -> bytes:
        data = self._handle.readline()
        if data:
            self.line += 1
        return data

    def close(self) -> None:
        self._handle.close()


class Liftover:
    """One chain file, loaded once; ``lift_allele`` / ``lift_region`` take 1-based coordinates."""

    def __init__(self, chain: Path) -> None:
        self.path = chain
        handle: BinaryIO = gzip.open(chain, "rb") if chain.suffix == ".gz" else open(chain, "rb")  # type: ignore[assignment]  # noqa: SIM115 (closed in the finally below)
        reader = _CountingReader(handle)
        try:
            self._lo = LiftOver(reader)  # closes the reader when done
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:
            raise SourceFormatError(
                chain, reader.line + 1, "a complete gzip stream", f"{type(err).__name__}: {err}"
            ) from err
        except Exception as err:  # pyliftover raises bare Exception/ValueError on malformed chains
            raise SourceFormatError(
                chain, reader.line, "UCSC chain format ('chain ...' headers and 'size dt dq' blocks)", str(err)[:120]
            ) from err
        finally:
            handle.close()

    def _map(self, chrom: str, pos: int) -> tuple[str, int, str] | LiftFailure:
        hits = self._lo.convert_coordinate(chrom, pos - 1)
        if hits is None:
            return LiftFailure(f"{chrom} is not in the chain file")
        if not hits:
            return LiftFailure(f"{chrom}:{pos} is not covered by any GRCh37->GRCh38 chain")
        target, zero_based, strand, _score = hits[0]
        return target, zero_based + 1, strand

    def lift_region(self, chrom: str, start: int, end: int) -> Lifted | LiftFailure:
        """Lift both ends of a region; its length may change (gaps inside large regions are normal)."""
        name = canonical_chrom(chrom)
        first = self._map(name, start)
        last = self._map(name, end) if end != start else first
        if isinstance(first, LiftFailure):
            return first
        if isinstance(last, LiftFailure):
            return last
        if first[0] != last[0] or first[2] != last[2] or first[1] > last[1]:
            return LiftFailure(f"{name}:{start}-{end} does not map to one GRCh38 interval")
        if first[2] != "+":
            return LiftFailure(f"{name}:{start}-{end} maps to the minus strand")
        return Lifted(first[0], first[1], last[1])

    def lift_allele(self, chrom: str, pos: int, ref: str) -> Lifted | LiftFailure:
        """Lift an allele whose REF starts at ``pos``: every REF base must map contiguously on '+'."""
        name = canonical_chrom(chrom)
        span = max(len(ref), 1)
        first = self._map(name, pos)
        if isinstance(first, LiftFailure):
            return first
        target, new_pos, strand = first
        if strand != "+":
            return LiftFailure(f"{name}:{pos} maps to the minus strand of {target}")
        for offset in range(1, span):
            hit = self._map(name, pos + offset)
            if isinstance(hit, LiftFailure) or hit != (target, new_pos + offset, "+"):
                return LiftFailure(f"{name}:{pos}-{pos + span - 1} is split by a chain gap in GRCh38")
        return Lifted(target, new_pos, new_pos + span - 1)

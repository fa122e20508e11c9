"""Write a synthetic whole-genome VCF for benchmarking the matcher's VCF layer.

About 4.5 million records over chr1-22 and chrX (a typical single-sample WGS call set),
GRCh38 ``##contig`` lines with their lengths, one sample, ``GT:AD:DP:GQ`` with realistic
values, a mix of SNVs, small indels and a few multi-allelic sites. The output is
BGZF-compressed (``bgzip`` when installed, else a small built-in BGZF writer) and
tabix-indexed when ``tabix`` is installed.

Variants can be planted so that a benchmark can check it finds them::

    python bench/make_genome_vcf.py -o /tmp/genome.vcf.gz --seed 7 \\
        --plant chr7:140753336:A:T:0/1 --plant chr10:94781859:G:A:1/1

The REF bases are random, not the reference genome: the file is for speed and
correctness of the reading layer, not for biology.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from kg.matcher.build import CONTIG_LENGTHS, Build

#: GRCh38 primary assembly lengths (GCA_000001405.15), chr1-22 and X: the matcher's own table.
GRCH38_LENGTHS: dict[str, int] = {c: n for c, n in CONTIG_LENGTHS[Build.GRCH38].items() if c not in ("chrY", "chrM")}

_BASES = np.array(list("ACGT"))


@dataclass(frozen=True)
class Planted:
    """A variant to place in the output: ``chrom:pos:ref:alt:GT``."""

    chrom: str
    pos: int
    ref: str
    alt: str
    gt: str

    @classmethod
    def parse(cls, text: str) -> Planted:
        parts = text.strip().split(":")
        if len(parts) != 5 or not parts[1].isdigit():
            raise ValueError(f"--plant expects chrom:pos:ref:alt:GT, found {text!r}")
        chrom, pos, ref, alt, gt = parts
        if not chrom.startswith("chr"):
            chrom = f"chr{chrom}"
        return cls(chrom, int(pos), ref.upper(), alt.upper(), gt)

    def line(self, sample_dp: int = 35) -> str:
        alt_count = sum(1 for a in self.gt.replace("|", "/").split("/") if a not in ("0", "."))
        ad_alt = sample_dp // 2 if alt_count == 1 else sample_dp
        return (
            f"{self.chrom}\t{self.pos}\t.\t{self.ref}\t{self.alt}\t60\tPASS\tDP={sample_dp}"
            f"\tGT:AD:DP:GQ\t{self.gt}:{sample_dp - ad_alt},{ad_alt}:{sample_dp}:99\n"
        )


def header(sample: str) -> str:
    lines = [
        "##fileformat=VCFv4.2",
        "##source=precision-kg bench/make_genome_vcf.py",
        "##reference=GRCh38",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
    ]
    lines += [f"##contig=<ID={c},length={n},assembly=GRCh38>" for c, n in GRCH38_LENGTHS.items()]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]))
    return "\n".join(lines) + "\n"


def _positions(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """``n`` distinct sorted positions spaced so that indels never overlap the next record."""
    pos = np.unique(rng.integers(10_000, length - 10_000, size=int(n * 1.02) + 16))
    pos = pos[np.concatenate(([True], np.diff(pos) > 8))]
    if len(pos) > n:
        pos = np.sort(rng.choice(pos, size=n, replace=False))
    return pos


def chrom_lines(rng: np.random.Generator, chrom: str, n: int, planted: list[Planted]) -> Iterator[str]:
    """The data lines of one chromosome, planted variants merged in position order."""
    pos = _positions(rng, n, GRCH38_LENGTHS[chrom])
    m = len(pos)
    kind = rng.choice(4, size=m, p=[0.85, 0.07, 0.07, 0.01])  # snv, del, ins, multi-allelic
    ref0 = _BASES[rng.integers(0, 4, size=m)]
    shift = rng.integers(1, 4, size=m)
    alt0 = _BASES[(np.searchsorted(_BASES, ref0) + shift) % 4]
    alt1 = _BASES[(np.searchsorted(_BASES, ref0) + (shift % 3) + 1) % 4]
    indel_len = rng.integers(1, 6, size=m)
    extra = ["".join(row) for row in _BASES[rng.integers(0, 4, size=(m, 5))]]
    hom = rng.random(m) < 0.38
    nocall = rng.random(m) < 0.004
    dp = rng.poisson(32, size=m) + 3
    gq = np.minimum(99, rng.integers(20, 140, size=m))
    qual = rng.integers(30, 3000, size=m)

    by_pos = {p.pos: p for p in planted}
    planted_sorted = sorted(planted, key=lambda p: p.pos)
    pi = 0
    for i in range(m):
        p = int(pos[i])
        while pi < len(planted_sorted) and planted_sorted[pi].pos <= p:
            yield planted_sorted[pi].line()
            pi += 1
        if p in by_pos:
            continue
        k = kind[i]
        r, a = str(ref0[i]), str(alt0[i])
        if k == 1:
            r, a = r + extra[i][: indel_len[i]], r
        elif k == 2:
            a = r + extra[i][: indel_len[i]]
        elif k == 3:
            a = f"{a},{alt1[i]}"
        d = int(dp[i])
        if nocall[i]:
            sample = f"./.:.:{d}:."
        elif k == 3:
            h = d // 2
            sample = f"1/2:{d - h},{h // 2},{h - h // 2}:{d}:{gq[i]}"
        elif hom[i]:
            sample = f"1/1:0,{d}:{d}:{gq[i]}"
        else:
            h = d // 2
            sample = f"0/1:{d - h},{h}:{d}:{gq[i]}"
        yield f"{chrom}\t{p}\t.\t{r}\t{a}\t{qual[i]}\tPASS\tDP={d}\tGT:AD:DP:GQ\t{sample}\n"
    for rest in planted_sorted[pi:]:
        yield rest.line()


def generate(records: int, seed: int, sample: str, planted: Iterable[Planted]) -> Iterator[str]:
    """Header then data lines, ``records`` spread over chromosomes by length."""
    rng = np.random.default_rng(seed)
    plants: dict[str, list[Planted]] = {}
    for p in planted:
        if p.chrom not in GRCH38_LENGTHS:
            raise ValueError(f"planted variant on {p.chrom}: only chr1-22 and chrX are generated")
        plants.setdefault(p.chrom, []).append(p)
    total = sum(GRCH38_LENGTHS.values())
    yield header(sample)
    for chrom, length in GRCH38_LENGTHS.items():
        yield from chrom_lines(rng, chrom, round(records * length / total), plants.get(chrom, []))


# -- output -------------------------------------------------------------------------

_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def _bgzf_block(data: bytes) -> bytes:
    """One BGZF block (SAM/BAM spec section 4.1): gzip member with the BC extra field."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    bsize = len(body) + 25
    head = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00" + struct.pack("<H", bsize)
    return head + body + struct.pack("<II", zlib.crc32(data), len(data))


def write_bgzf(chunks: Iterable[str], out: BinaryIO) -> None:
    """Pure-Python BGZF writer, used when ``bgzip`` is not installed."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk.encode()
        while len(buf) >= 65280:
            out.write(_bgzf_block(bytes(buf[:65280])))
            del buf[:65280]
    if buf:
        out.write(_bgzf_block(bytes(buf)))
    out.write(_BGZF_EOF)


def write(path: Path, lines: Iterable[str], threads: int = 2) -> None:
    bgzip = shutil.which("bgzip")
    with open(path, "wb") as out:
        if bgzip is None:
            write_bgzf(lines, out)
            return
        proc = subprocess.Popen([bgzip, "-c", "-@", str(threads)], stdin=subprocess.PIPE, stdout=out)
        assert proc.stdin is not None
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 20000:
                proc.stdin.write("".join(batch).encode())
                batch.clear()
        proc.stdin.write("".join(batch).encode())
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"bgzip failed with exit code {proc.returncode}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, required=True, help="output .vcf.gz")
    ap.add_argument("-n", "--records", type=int, default=4_500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", default="SAMPLE1")
    ap.add_argument("--plant", action="append", default=[], metavar="CHROM:POS:REF:ALT:GT")
    ap.add_argument("--no-index", action="store_true", help="do not run tabix")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    planted = [Planted.parse(p) for p in args.plant]
    write(args.out, generate(args.records, args.seed, args.sample, planted))
    tabix = shutil.which("tabix")
    if tabix and not args.no_index:
        subprocess.run([tabix, "-f", "-p", "vcf", str(args.out)], check=True)
    print(
        f"wrote {args.out} in {time.perf_counter() - t0:.1f}s{' (+ .tbi)' if tabix and not args.no_index else ''}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

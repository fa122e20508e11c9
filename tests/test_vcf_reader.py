"""The VCF reading layer of the matcher: pure, no database. VCFs are written into tmp_path."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest
from cyvcf2 import VCF, Writer

from kg.identity.variants import Allele
from kg.matcher.build import BuildMismatchError, BuildUnknownWarning, check_grch38, detect_build
from kg.matcher.errors import BGZF_EOF, VcfError
from kg.matcher.positions import FilterStats, Interval, PositionIndex, fetch
from kg.matcher.vcf import Zygosity, open_vcf

GRCH38 = {"chr1": 248956422, "chr7": 159345973, "chr10": 133797422, "chrX": 156040895}
GRCH37 = {"chr1": 249250621, "chr7": 159138663, "chr10": 135534747, "chrX": 155270560}

CSQ_FORMAT = "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|HGVSc|HGVSp|CANONICAL"


def write_vcf(
    path: Path,
    rows: list[str],
    *,
    samples: tuple[str, ...] = ("S1",),
    contigs: dict[str, int] | None = GRCH38,
    plain_names: bool = False,
    reference: str | None = None,
    formats: tuple[str, ...] = ("GT", "DP"),
    extra: tuple[str, ...] = (),
) -> Path:
    """Write VCF 4.2 text; ``rows`` are data lines with columns separated by whitespace runs."""
    lines = ["##fileformat=VCFv4.2"]
    if reference:
        lines.append(f"##reference={reference}")
    for name, length in (contigs or {}).items():
        lines.append(f"##contig=<ID={name[3:] if plain_names else name},length={length}>")
    lines.append('##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">')
    if "GT" in formats:
        lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    if "DP" in formats:
        lines.append('##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">')
    lines += extra
    cols = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    if samples:
        cols += ["FORMAT", *samples]
    lines.append("\t".join(cols))
    for row in rows:
        lines.append("\t".join(row.split()))
    path.write_text("\n".join(lines) + "\n")
    return path


def convert(src: Path, dest: Path, mode: str) -> Path:
    """Re-write with htslib through cyvcf2: ``wz`` BGZF VCF, ``wb`` BCF."""
    reader = VCF(str(src))
    writer = Writer(str(dest), reader, mode=mode)
    for v in reader:
        writer.write_record(v)
    writer.close()
    reader.close()
    return dest


def records(path: Path, sample: str | None = None) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BuildUnknownWarning)
        return list(open_vcf(path, sample))


BASIC = [
    "chr7 140753336 rs113488022 A T 50 PASS DP=30 GT:DP 0/1:30",
    "chr10 94781859 rs4244285 G A 50 PASS DP=25 GT:DP 1/1:25",
]


# -- contigs, splitting, trimming -----------------------------------------------------


def test_chr_prefixed_and_plain_contigs_give_the_same_ids(tmp_path: Path) -> None:
    with_chr = write_vcf(tmp_path / "chr.vcf", BASIC)
    plain = write_vcf(tmp_path / "plain.vcf", [r[3:] for r in BASIC], plain_names=True)
    ids_chr = [r.id for r in records(with_chr)]
    ids_plain = [r.id for r in records(plain)]
    assert ids_chr == ids_plain == ["GRCh38:chr7:140753336:A:T", "GRCh38:chr10:94781859:G:A"]
    assert records(plain)[0].genotype.chrom == "chr7"


def test_multiallelic_record_is_split_per_alt(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "m.vcf", ["chr1 1000 . A G,T 50 PASS . GT:DP 1/2:40"])
    recs = records(path)
    assert [r.allele for r in recs] == [Allele("chr1", 1000, "A", "G"), Allele("chr1", 1000, "A", "T")]
    assert [r.alt_index for r in recs] == [1, 2]
    assert [r.alt_count for r in recs] == [1, 1]
    assert all(r.zygosity is Zygosity.HETEROZYGOUS for r in recs)
    assert recs[0].genotype.alleles == ("G", "T")
    assert recs[0].genotype.depth == 40


def test_ref_alt_trimmed_to_parsimonious_form(tmp_path: Path) -> None:
    path = write_vcf(
        tmp_path / "t.vcf",
        [
            "chr1 100 . CAT CGT,C 50 PASS . GT:DP 1/2:20",
        ],
    )
    recs = records(path)
    assert recs[0].allele == Allele("chr1", 101, "A", "G")
    assert recs[0].id == "GRCh38:chr1:101:A:G"
    assert recs[1].allele == Allele("chr1", 100, "CAT", "C")
    # The genotype keeps the record's own representation.
    assert recs[0].genotype.pos == 100 and recs[0].genotype.alleles == ("CGT", "C")


def test_zygosity_hom_hemi_and_ref_calls(tmp_path: Path) -> None:
    path = write_vcf(
        tmp_path / "z.vcf",
        [
            "chr1 100 . A G 50 PASS . GT:DP 1/1:20",
            "chrX 5000000 . C T 50 PASS . GT:DP 1:12",
            "chr1 200 . A G 50 PASS . GT:DP 0/0:20",
            "chr1 300 . A G 50 PASS . GT:DP 0|1:20",
        ],
    )
    hom, hemi, ref, het = records(path)
    assert (hom.zygosity, hom.alt_count) == (Zygosity.HOMOZYGOUS, 2)
    assert (hemi.zygosity, hemi.alt_count, hemi.genotype.alleles) == (Zygosity.HEMIZYGOUS, 1, ("T",))
    assert (ref.zygosity, ref.alt_count, ref.genotype.is_no_call) == (None, 0, False)
    assert het.genotype.phased and not hom.genotype.phased


def test_missing_genotype_is_a_no_call(tmp_path: Path) -> None:
    path = write_vcf(
        tmp_path / "nc.vcf",
        [
            "chr1 100 . A G 50 PASS . GT:DP ./.:.",
            "chr1 200 . A G 50 PASS . GT:DP 0/.:8",
        ],
    )
    nocall, half = records(path)
    assert nocall.genotype.is_no_call and nocall.genotype.alleles == (None, None)
    assert nocall.zygosity is None and nocall.genotype.depth is None
    assert half.genotype.alleles == ("A", None) and not half.genotype.is_no_call


def test_symbolic_and_unsupported_alts_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write_vcf(
        tmp_path / "s.vcf",
        [
            "chr1 100 . A <DEL> 50 PASS . GT:DP 0/1:20",
            "chr1 200 . A G,* 50 PASS . GT:DP 1/2:20",
            "chr1 300 . A . 50 PASS . GT:DP 0/0:20",
            "chr1 400 . A A[chr2:3000[ 50 PASS . GT:DP 0/1:20",
            "chr1 500 . A <NON_REF> 50 PASS . GT:DP 0/0:20",
        ],
    )
    vcf = open_vcf(path)
    recs = list(vcf)
    assert [r.id for r in recs] == ["GRCh38:chr1:200:A:G"]
    assert vcf.stats.records_read == 5
    assert vcf.stats.skipped == {"symbolic_alt": 2, "spanning_deletion": 1, "no_alt": 1, "breakend": 1}


# -- build ----------------------------------------------------------------------------


def test_grch37_reference_line_is_refused(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "hg19.vcf", BASIC, contigs=None, reference="file:///refs/hs37d5.fa")
    with pytest.raises(BuildMismatchError) as err:
        open_vcf(path)
    assert "hg19.vcf" in str(err.value) and "hs37d5" in str(err.value)
    assert err.value.build == "GRCh37"


def test_grch37_contig_lengths_are_refused(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "b37.vcf", [r[3:] for r in BASIC], contigs=GRCH37, plain_names=True)
    with pytest.raises(BuildMismatchError, match="249,250,621"):
        open_vcf(path)


def test_contradicting_header_is_refused(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "mixed.vcf", BASIC, contigs=GRCH37, reference="GRCh38")
    with pytest.raises(BuildMismatchError):
        open_vcf(path)


def test_grch38_header_is_accepted(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "hg38.vcf", BASIC, reference="GRCh38")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vcf = open_vcf(path)
    assert vcf.build.verified
    assert check_grch38(path).verified
    assert detect_build("##reference=file:///ref/Homo_sapiens_assembly38.fasta\n").verified


def test_unknown_build_warns_and_positions_past_grch38_ends_are_refused(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "nohdr.vcf", ["chr1 249000000 . A G 50 PASS . GT:DP 0/1:20"], contigs=None)
    with pytest.warns(BuildUnknownWarning):
        vcf = open_vcf(path)
    assert vcf.build.build is None
    with pytest.raises(BuildMismatchError, match="beyond the end of GRCh38 chr1"):
        list(vcf)


# -- errors ---------------------------------------------------------------------------


def _many_rows(n: int) -> list[str]:
    return [f"chr1 {1000 + 10 * i} . A G 50 PASS DP=20 GT:DP 0/1:20" for i in range(n)]


def _bgzf_block_offsets(data: bytes) -> list[int]:
    offsets, off = [], 0
    while off < len(data):
        offsets.append(off)
        off += struct.unpack("<H", data[off + 16 : off + 18])[0] + 1
    return offsets


def test_truncated_bgzip_fails_with_vcf_error(tmp_path: Path) -> None:
    full = convert(write_vcf(tmp_path / "big.vcf", _many_rows(20000)), tmp_path / "big.vcf.gz", "wz")
    data = full.read_bytes()
    assert data.endswith(BGZF_EOF)
    blocks = _bgzf_block_offsets(data)
    assert len(blocks) > 3
    # Cut at a block boundary: htslib would just stop early; the missing EOF block is caught.
    at_boundary = tmp_path / "cut1.vcf.gz"
    at_boundary.write_bytes(data[: blocks[2]])
    with pytest.raises(VcfError, match="truncated") as err:
        open_vcf(at_boundary)
    assert err.value.path.endswith("cut1.vcf.gz") and "BGZF end-of-file block" in str(err.value)
    # Cut inside a block.
    mid = tmp_path / "cut2.vcf.gz"
    mid.write_bytes(data[: blocks[2] + 500])
    with pytest.raises(VcfError, match="truncated"):
        open_vcf(mid)


def test_truncated_plain_gzip_fails_while_reading(tmp_path: Path) -> None:
    text = write_vcf(tmp_path / "p.vcf", _many_rows(20000)).read_bytes()
    gz = tmp_path / "p.vcf.gz"
    gz.write_bytes(gzip.compress(text)[:-200])
    vcf = open_vcf(gz)  # plain gzip has no EOF marker to check up front
    with pytest.raises(VcfError, match="truncated") as err:
        list(vcf)
    assert err.value.record is not None and err.value.record > 1000


def test_malformed_line_names_line_and_content(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "bad.vcf", BASIC)
    with open(path, "a") as fh:
        fh.write("chr10\tnot_a_position\t.\tG\tA\t50\tPASS\t.\tGT:DP\t0/1:3\n")
    with pytest.raises(VcfError) as err:
        list(open_vcf(path))
    e = err.value
    assert (e.record, e.line) == (3, 12)  # 9 header lines
    assert "not_a_position" in (e.found or "") and "POS" in (e.expected or "")


def test_line_without_tabs_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "spaces.vcf", BASIC)
    with open(path, "a") as fh:
        fh.write("chr10 200 . G A 50 PASS . GT:DP 0/1:3\n")
    with pytest.raises(VcfError, match="line 12") as err:
        list(open_vcf(path))
    assert "tab-separated" in (err.value.expected or "")


def test_vcf_without_gt_is_refused(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "nogt.vcf", ["chr1 100 . A G 50 PASS . DP 20"], formats=("DP",))
    with pytest.raises(VcfError, match="no GT"):
        open_vcf(path)


def test_vcf_without_samples_is_refused(tmp_path: Path) -> None:
    path = write_vcf(tmp_path / "sites.vcf", ["chr1 100 . A G 50 PASS ."], samples=())
    with pytest.raises(VcfError, match="no sample"):
        open_vcf(path)


def test_missing_file_and_non_vcf(tmp_path: Path) -> None:
    with pytest.raises(VcfError, match="no such file"):
        open_vcf(tmp_path / "absent.vcf")
    junk = tmp_path / "junk.vcf"
    junk.write_text("hello\n")
    with pytest.raises(VcfError):
        open_vcf(junk)


# -- samples --------------------------------------------------------------------------


def test_sample_selection_in_multisample_file(tmp_path: Path) -> None:
    path = write_vcf(
        tmp_path / "trio.vcf",
        [
            "chr7 140753336 . A T 50 PASS . GT:DP 0/0:30 0/1:31 1/1:32",
        ],
        samples=("MOTHER", "TUMOUR", "FATHER"),
    )
    with pytest.raises(VcfError) as err:
        open_vcf(path)
    assert "MOTHER, TUMOUR, FATHER" in str(err.value) and "--sample" in str(err.value)
    with pytest.raises(VcfError, match="MOTHER, TUMOUR, FATHER"):
        open_vcf(path, "CHILD")
    (rec,) = records(path, "TUMOUR")
    assert rec.zygosity is Zygosity.HETEROZYGOUS and rec.genotype.depth == 31
    (rec,) = records(path, "FATHER")
    assert rec.zygosity is Zygosity.HOMOZYGOUS and rec.genotype.depth == 32


# -- annotations ----------------------------------------------------------------------


def test_csq_annotation_gives_protein_change(tmp_path: Path) -> None:
    csq = ",".join(
        [
            "T|missense_variant|MODERATE|BRAF|ENSG00000157764|Transcript|ENST00000496384|protein_coding"
            "|ENST00000496384.7:c.620T>A|ENSP00000419060.2:p.Val207Glu|",
            "T|missense_variant|MODERATE|BRAF|ENSG00000157764|Transcript|ENST00000646891|protein_coding"
            "|ENST00000646891.2:c.1799T>A|ENSP00000493543.1:p.Val640Glu|",
            "T|missense_variant|MODERATE|BRAF|ENSG00000157764|Transcript|ENST00000288602|protein_coding"
            "|ENST00000288602.11:c.1799T>A|ENSP00000288602.7:p.Val600Glu|YES",
        ]
    )
    path = write_vcf(
        tmp_path / "vep.vcf",
        [f"chr7 140753336 . A T 50 PASS CSQ={csq} GT:DP 0/1:40"],
        extra=(
            f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
            f'Format: {CSQ_FORMAT}">',
        ),
    )
    vcf = open_vcf(path)
    assert vcf.annotation_sources == ("CSQ",)
    (rec,) = list(vcf)
    assert rec.gene == "BRAF"
    assert rec.protein_change == "V600E"  # the canonical transcript comes first
    assert rec.annotations[0].hgvsp == "ENSP00000288602.7:p.Val600Glu"
    assert rec.annotations[0].consequence == "missense_variant"
    assert {a.protein_change for a in rec.annotations} == {"V600E", "V207E", "V640E"}


def test_csq_alleles_matched_per_alt_for_indels(tmp_path: Path) -> None:
    csq = "-|inframe_deletion|MODERATE|EGFR||||||ENSP00000275493.2:p.Glu746_Ala750del|YES,"
    csq += "AT|frameshift_variant|HIGH|EGFR||||||ENSP00000275493.2:p.Glu746ValfsTer3|YES"
    path = write_vcf(
        tmp_path / "indel.vcf",
        [f"chr7 55174771 . AGGAATTAAGAGAAGC A,AAT 50 PASS CSQ={csq} GT:DP 1/2:40"],
        extra=(f'##INFO=<ID=CSQ,Number=.,Type=String,Description="VEP. Format: {CSQ_FORMAT}">',),
    )
    first, second = records(path)
    assert first.protein_change == "E746_A750del"
    assert second.protein_change == "E746Vfs*3"


def test_snpeff_ann_annotation(tmp_path: Path) -> None:
    ann = (
        "T|missense_variant|MODERATE|BRAF|ENSG00000157764|transcript|ENST00000288602.11|protein_coding"
        "|15/18|c.1799T>A|p.Val600Glu|1909/2480|1799/2301|600/766||"
    )
    path = write_vcf(
        tmp_path / "snpeff.vcf",
        [f"chr7 140753336 . A T 50 PASS ANN={ann} GT:DP 0/1:40"],
        extra=(
            "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | "
            "Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | "
            "HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | "
            "ERRORS / WARNINGS / INFO' \">",
        ),
    )
    (rec,) = records(path)
    assert (rec.gene, rec.protein_change, rec.annotations[0].source) == ("BRAF", "V600E", "ANN")
    assert rec.annotations[0].transcript == "ENST00000288602.11"


# -- formats --------------------------------------------------------------------------


def test_bgzip_and_bcf_read_the_same_as_text(tmp_path: Path) -> None:
    text = write_vcf(tmp_path / "a.vcf", [*BASIC, "chr1 100 . CAT CGT,C 50 PASS . GT:DP 1/2:20"])
    bgz = convert(text, tmp_path / "a.vcf.gz", "wz")
    bcf = convert(text, tmp_path / "a.bcf", "wb")
    plain_gz = tmp_path / "b.vcf.gz"
    plain_gz.write_bytes(gzip.compress(text.read_bytes()))
    expected = [(r.id, r.zygosity, r.genotype) for r in records(text)]
    assert len(expected) == 4
    for path in (bgz, bcf, plain_gz):
        assert [(r.id, r.zygosity, r.genotype) for r in records(path)] == expected, path.name


# -- positions ------------------------------------------------------------------------


def test_position_index_overlaps() -> None:
    idx = PositionIndex([("7", 140753336), Interval("chr1", 100, 200), ("chr1", 150, 300)])
    assert len(idx) == 2  # the two chr1 intervals merge
    assert ("chr7", 140753336) in idx and ("7", 140753336) in idx
    assert ("chr7", 140753337) not in idx
    assert idx.overlaps("chr1", 299, 300) and not idx.overlaps("chr1", 300, 301)
    # A deletion starting before a position covers it (0-based half-open spans).
    assert idx.overlaps("chr7", 140753330, 140753340)


def _position_file(tmp_path: Path) -> tuple[Path, PositionIndex]:
    rows = [
        *_many_rows(3000),
        "chr7 140753330 . ACGTACGTACGT A 50 PASS . GT:DP 0/1:20",  # deletion spanning the target
        "chr7 140753336 . A T 50 PASS . GT:DP 0/1:30",
        "chr7 140753400 . A T 50 PASS . GT:DP 0/1:30",
        "chr10 94781859 . G A 50 PASS . GT:DP 1/1:25",
    ]
    text = write_vcf(tmp_path / "pos.vcf", rows)
    idx = PositionIndex.from_positions([("chr7", 140753336), ("10", 94781859), ("chr1", 13340), ("chr2", 5)])
    return text, idx


def test_fetch_streams_plain_text(tmp_path: Path) -> None:
    text, idx = _position_file(tmp_path)
    vcf = open_vcf(text)
    got = {r.allele for r in vcf.fetch(idx)}
    assert vcf.stats.filter is not None and vcf.stats.filter.strategy == "text-scan"
    assert vcf.stats.filter.scanned == 3004
    assert Allele("chr7", 140753330, "ACGTACGTACGT", "A") in got
    assert Allele("chr7", 140753336, "A", "T") in got and Allele("chr10", 94781859, "G", "A") in got
    assert Allele("chr7", 140753400, "A", "T") not in got
    assert Allele("chr1", 13340, "A", "G") in got
    assert len(got) == 4


def test_fetch_builds_a_temporary_index_for_bgzip(tmp_path: Path) -> None:
    text, idx = _position_file(tmp_path)
    bgz = convert(text, tmp_path / "pos.vcf.gz", "wz")
    expected = {r.allele for r in open_vcf(text).fetch(idx)}
    vcf = open_vcf(bgz)
    assert {r.allele for r in vcf.fetch(idx)} == expected
    assert vcf.stats.filter is not None and vcf.stats.filter.strategy == "built-index"
    assert not list(tmp_path.glob("pos.vcf.gz.*"))  # nothing written next to the patient file
    bcf = convert(text, tmp_path / "pos.bcf", "wb")
    stats = FilterStats()
    assert {(v.CHROM, v.POS) for v in fetch(bcf, idx, stats=stats)} == {(a.chrom, a.pos) for a in expected}
    assert stats.strategy == "built-index"


@pytest.mark.skipif(shutil.which("tabix") is None, reason="tabix not installed")
def test_fetch_uses_an_existing_tabix_index(tmp_path: Path) -> None:
    text, idx = _position_file(tmp_path)
    bgz = convert(text, tmp_path / "pos.vcf.gz", "wz")
    subprocess.run(["tabix", "-p", "vcf", str(bgz)], check=True)
    expected = {r.allele for r in open_vcf(text).fetch(idx)}
    vcf = open_vcf(bgz)
    assert {r.allele for r in vcf.fetch(idx)} == expected
    assert vcf.stats.filter is not None and vcf.stats.filter.strategy == "index"


def _load_generator() -> ModuleType:
    """bench/make_genome_vcf.py is a script, not a package module: load it by path."""
    spec = importlib.util.spec_from_file_location(
        "make_genome_vcf", Path(__file__).resolve().parents[1] / "bench" / "make_genome_vcf.py"
    )
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # dataclasses look their module up
    spec.loader.exec_module(gen)
    return gen


def test_genome_generator_plants_variants_that_fetch_finds(tmp_path: Path) -> None:
    gen = _load_generator()
    out = tmp_path / "genome.vcf.gz"
    gen.main(
        [
            "-o",
            str(out),
            "-n",
            "5000",
            "--seed",
            "3",
            "--no-index",
            "--plant",
            "chr7:140753336:A:T:0/1",
            "--plant",
            "10:94781859:G:A:1/1",
        ]
    )
    vcf = open_vcf(out)
    assert vcf.build.verified
    got = {
        (r.id, r.zygosity) for r in vcf.fetch(PositionIndex.from_positions([("chr7", 140753336), ("chr10", 94781859)]))
    }
    assert got == {
        ("GRCh38:chr7:140753336:A:T", Zygosity.HETEROZYGOUS),
        ("GRCh38:chr10:94781859:G:A", Zygosity.HOMOZYGOUS),
    }
    assert 4990 <= sum(1 for _ in VCF(str(out))) <= 5010


def test_fetch_without_contig_lines_and_from_plain_gzip(tmp_path: Path) -> None:
    text, idx = _position_file(tmp_path)
    expected = {r.allele for r in open_vcf(text).fetch(idx)}
    bare = write_vcf(tmp_path / "bare.vcf", text.read_text().splitlines()[9:], contigs=None)
    with pytest.warns(BuildUnknownWarning):
        assert {r.allele for r in open_vcf(convert(bare, tmp_path / "bare.vcf.gz", "wz")).fetch(idx)} == expected
    gz = tmp_path / "pos.gz"
    gz.write_bytes(gzip.compress(text.read_bytes()))
    vcf = open_vcf(gz)
    assert {r.allele for r in vcf.fetch(idx)} == expected
    assert vcf.stats.filter is not None and vcf.stats.filter.strategy == "text-scan"


def test_fetch_reports_malformed_and_truncated_text(tmp_path: Path) -> None:
    text, idx = _position_file(tmp_path)
    lines = text.read_text().splitlines(keepends=True)
    lines[500] = lines[500].replace("\t", " ")
    bad = tmp_path / "bad.vcf"
    bad.write_text("".join(lines))
    with pytest.raises(VcfError, match="line 501") as err:
        list(open_vcf(bad).fetch(idx))
    assert err.value.record == 501 - 9
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(gzip.compress(text.read_bytes())[:-100])
    with pytest.raises(VcfError, match="truncated"):
        list(open_vcf(cut).fetch(idx))


def test_generator_builtin_bgzf_writer_is_readable(tmp_path: Path) -> None:
    gen = _load_generator()
    out = tmp_path / "builtin.vcf.gz"
    with open(out, "wb") as fh:
        gen.write_bgzf(gen.generate(3000, 5, "S1", []), fh)
    vcf = open_vcf(out)
    assert vcf.kind.indexable and sum(1 for _ in vcf) >= 3000


def test_index_query_returns_a_long_deletion_once(tmp_path: Path) -> None:
    deletion = "A" * 8000
    text = write_vcf(
        tmp_path / "long.vcf",
        [
            f"chr1 1500 . {deletion} A 50 PASS . GT:DP 0/1:20",
            "chr1 20000 . C T 50 PASS . GT:DP 0/1:20",
        ],
    )
    bgz = convert(text, tmp_path / "long.vcf.gz", "wz")
    idx = PositionIndex.from_positions([("chr1", 1500), ("chr1", 8900), ("chr1", 20000)])
    assert len(idx.query_regions()) == 3  # the deletion spans the first two
    got = [r.allele.pos for r in open_vcf(bgz).fetch(idx)]
    assert got == [1500, 20000]

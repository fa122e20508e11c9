"""kg.identity: variant keys, normalisation, HGVS and protein-change spellings (pure functions, no database).

The examples come from the specs the modules cite (VCF 4.2 section 1.6.1, HGVS p. notation, Tan et
al. 2015) and from the spellings the sources use (CIViC short forms, VEP/snpEff HGVSp, ClinVar
HGVS with the gene); the properties are checked with hypothesis over generated alleles.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.identity.hgvs import is_hgvs, without_gene
from kg.identity.protein import (
    AMINO_ACIDS,
    amino_acid,
    consequences_of_change,
    first_codon,
    gene_protein_change,
    protein_key,
    protein_short,
    short_change,
)
from kg.identity.variants import (
    MAX_ID_CHARS,
    Allele,
    canonical_chrom,
    civic_variant_id,
    is_digest_id,
    is_primary_chrom,
    is_sequence,
    normalize,
    parse_rsid,
    parse_variant_id,
    variant_id,
)

# No deadline: the machine is shared, and a slow example is not a wrong one.
PROPERTY = settings(deadline=None, max_examples=300)

CHROM_SPELLINGS = st.sampled_from(["7", "chr7", "CHR7", "Chr7", "X", "chrX", "22", "chr22", "MT", "chrMT", "chrM", "M"])
POSITIONS = st.integers(min_value=1, max_value=250_000_000)
BASES = st.text(alphabet="ACGTNacgt", min_size=1, max_size=12)


# --- chromosomes, sequences, normalisation -------------------------------------------------------


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("7", "chr7"),
        ("chr7", "chr7"),
        ("CHR7", "chr7"),
        (" chr7 ", "chr7"),
        ("x", "chrX"),
        ("chrY", "chrY"),
        ("MT", "chrM"),
        ("chrMT", "chrM"),
        ("M", "chrM"),
        ("chr1_KI270706v1_random", "chr1_KI270706V1_RANDOM"),
    ],
)
def test_canonical_chrom(raw: str, canonical: str) -> None:
    assert canonical_chrom(raw) == canonical


def test_primary_chromosomes_are_1_to_22_x_y_and_m() -> None:
    assert all(is_primary_chrom(c) for c in ("1", "chr22", "X", "chrY", "MT", "chrM"))
    assert not any(is_primary_chrom(c) for c in ("23", "chr1_KI270706v1_random", "chrUn_GL000195v1", "HLA-A*01:01"))


def test_sequences_are_acgtn_only() -> None:
    assert is_sequence("ACGTN") and not is_sequence("") and not is_sequence("R") and not is_sequence("<DEL>")


@pytest.mark.parametrize(
    "given_, expected",
    [
        (("7", 140753336, "A", "T"), Allele("chr7", 140753336, "A", "T")),
        (("chr1", 100, "CAT", "CGT"), Allele("chr1", 101, "A", "G")),  # shared bases on both ends
        (("chr1", 100, "CTT", "CT"), Allele("chr1", 100, "CT", "C")),  # deletion keeps its anchor base
        (("chr1", 100, "C", "CTT"), Allele("chr1", 100, "C", "CTT")),  # insertion already parsimonious
        (("chr1", 100, "GCAT", "GCGT"), Allele("chr1", 102, "A", "G")),
        (("chr2", 5, "acg", "atg"), Allele("chr2", 6, "C", "T")),  # case folded
    ],
)
def test_normalize_examples(given_: tuple[str, int, str, str], expected: Allele) -> None:
    assert normalize(*given_) == expected


@PROPERTY
@given(CHROM_SPELLINGS, POSITIONS, BASES, BASES)
def test_normalize_is_idempotent(chrom: str, pos: int, ref: str, alt: str) -> None:
    once = normalize(chrom, pos, ref, alt)
    assert normalize(*once) == once


@PROPERTY
@given(CHROM_SPELLINGS, POSITIONS, BASES, BASES)
def test_trimming_never_empties_an_allele_and_keeps_the_same_change(chrom: str, pos: int, ref: str, alt: str) -> None:
    a = normalize(chrom, pos, ref, alt)
    assert a.ref and a.alt
    # What was trimmed is the same on both sides: a prefix (moving the position) and a suffix.
    left = a.pos - pos
    ref_u, alt_u = ref.upper(), alt.upper()
    assert left >= 0 and ref_u[:left] == alt_u[:left]
    assert ref_u[left : left + len(a.ref)] == a.ref and alt_u[left : left + len(a.alt)] == a.alt
    assert ref_u[left + len(a.ref) :] == alt_u[left + len(a.alt) :]
    # Parsimonious: nothing more can be trimmed without emptying an allele.
    assert len(a.ref) == 1 or len(a.alt) == 1 or (a.ref[0] != a.alt[0] and a.ref[-1] != a.alt[-1])


@PROPERTY
@given(CHROM_SPELLINGS, POSITIONS, BASES, BASES)
def test_normalize_ignores_case_and_chromosome_spelling(chrom: str, pos: int, ref: str, alt: str) -> None:
    """VCF REF/ALT are case-insensitive (VCF 4.2 section 1.6.1) and chromosomes come as 7, chr7, CHR7."""
    a = normalize(chrom, pos, ref, alt)
    bare = chrom.lower().removeprefix("chr")
    assert (
        normalize(bare, pos, ref.lower(), alt.upper())
        == a
        == normalize("chr" + bare.upper(), pos, ref.upper(), alt.lower())
    )
    assert a.ref == a.ref.upper() and a.alt == a.alt.upper() and a.chrom == canonical_chrom(chrom)


@PROPERTY
@given(st.text(max_size=80))
def test_any_text_parses_to_a_key_or_to_none_never_an_error(text: str) -> None:
    """Hostile input (issue 9): whatever a user types as a variant, the key parser answers None or an
    allele whose own key parses back to it; it never raises."""
    allele = parse_variant_id(text)
    assert allele is None or parse_variant_id(allele.id) == allele


# --- variant keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "GRCh38:chr7:140753336:A:T",
        "chr7:140753336:A:T",
        "7:140753336:A:T",
        "7-140753336-A-T",
        " chr7-140753336-a-t ",
        "GRCh38:chr7:140753335:CA:CT",  # not yet parsimonious: normalised on the way
    ],
)
def test_every_spelling_of_a_key_parses_to_the_same_allele(text: str) -> None:
    allele = parse_variant_id(text)
    assert allele == Allele("chr7", 140753336, "A", "T")
    assert allele is not None and allele.id == "GRCh38:chr7:140753336:A:T"


@pytest.mark.parametrize(
    "text",
    [
        "BRAF V600E",
        "rs113488022",
        "chr7:140753336:A",
        "chr7:abc:A:T",
        "chr7:1:A:1",
        ":1:A:T",
        "",
        "NM_004333.4:c.1799T>A",
        "GRCh38:chr13:32315000:sha256-0123456789abcdef0123456789abcdef",
    ],
)
def test_text_that_is_no_key_parses_to_none(text: str) -> None:
    assert parse_variant_id(text) is None


def test_a_no_alteration_key_round_trips() -> None:
    """ClinVar keys a record whose ALT is '.' (VCF 4.2: no alternate allele) with that '.'."""
    allele = normalize("3", 37048507, "C", ".")
    assert allele.id == "GRCh38:chr3:37048507:C:."
    assert parse_variant_id(allele.id) == allele


@PROPERTY
@given(CHROM_SPELLINGS, POSITIONS, BASES, BASES)
def test_key_parse_key_round_trips(chrom: str, pos: int, ref: str, alt: str) -> None:
    allele = normalize(chrom, pos, ref, alt)
    key = allele.id
    assert key == variant_id(*allele) and not is_digest_id(key)
    assert parse_variant_id(key) == allele
    assert parse_variant_id(key.removeprefix("GRCh38:").replace(":", "-")) == allele
    # The key of an unnormalised spelling is the key of its normalised allele.
    assert parse_variant_id(f"{chrom}:{pos}:{ref}:{alt}") == allele


def test_long_alleles_are_keyed_by_a_digest() -> None:
    allele = normalize("13", 32315000, "A" + "C" * 9000, "A")
    key = allele.id
    assert key.startswith("GRCh38:chr13:32315000:sha256-") and len(key) < 80
    assert is_digest_id(key) and not is_digest_id(normalize("7", 1, "A", "T").id)
    assert parse_variant_id(key) is None  # the bases are not in the key


LONG_UNITS = st.text(alphabet="ACGT", min_size=1, max_size=8)


@settings(deadline=None, max_examples=60)
@given(CHROM_SPELLINGS, POSITIONS, LONG_UNITS, LONG_UNITS, st.integers(min_value=0, max_value=3000))
def test_long_alleles_get_the_digest_key_deterministically(
    chrom: str, pos: int, unit: str, tail: str, extra: int
) -> None:
    ref = "G" + unit * (MAX_ID_CHARS // len(unit) + 1) + "A" * extra
    alt = "G" + tail
    allele = normalize(chrom, pos, ref, alt)
    key = allele.id
    assert len(f"GRCh38:{allele.chrom}:{allele.pos}:{allele.ref}:{allele.alt}") > MAX_ID_CHARS
    assert key == f"GRCh38:{canonical_chrom(chrom)}:{allele.pos}:" + key.rsplit(":", 1)[1] and is_digest_id(key)
    assert len(key) <= len(f"GRCh38:{canonical_chrom(chrom)}:{allele.pos}:") + len("sha256-") + 32
    # The same allele always gets the same key, however it is spelled; another allele another key.
    assert normalize(chrom.lower(), pos, ref.lower(), alt.lower()).id == key
    assert variant_id(allele.chrom, allele.pos, allele.ref, allele.alt) == key
    assert normalize(chrom, pos, ref + "C", alt).id != key


def test_short_alleles_near_the_limit_keep_their_bases() -> None:
    head = "GRCh38:chr1:100:"
    ref = "A" * (MAX_ID_CHARS - len(head) - 2)
    assert normalize("1", 100, ref, "T").id == f"{head}{ref}:T"  # exactly MAX_ID_CHARS
    assert is_digest_id(normalize("1", 100, ref + "C", "T").id)


@pytest.mark.parametrize(
    "text, rsid",
    [
        ("rs113488022", "rs113488022"),
        ("RS113488022", "rs113488022"),
        (" rs1 ", "rs1"),
        ("rs", None),
        ("rs12a", None),
        ("113488022", None),
    ],
)
def test_rsids(text: str, rsid: str | None) -> None:
    assert parse_rsid(text) == rsid


def test_civic_variant_keys() -> None:
    assert civic_variant_id(12) == "civic:variant:12" and parse_variant_id(civic_variant_id(12)) is None


# --- HGVS ----------------------------------------------------------------------------------------


def test_hgvs_expressions() -> None:
    assert (
        is_hgvs("NM_004333.4:c.1799T>A")
        and is_hgvs("NP_004324.2:p.Val600Glu")
        and is_hgvs("NC_000007.14:g.140753336A>T")
    )
    assert not is_hgvs("BRAF V600E") and not is_hgvs("chr7:140753336:A:T") and not is_hgvs("c.1799T>A")
    assert without_gene("NM_004333.4(BRAF):c.1799T>A") == "NM_004333.4:c.1799T>A"
    assert without_gene("NM_004333.4:c.1799T>A") == "NM_004333.4:c.1799T>A"


# --- protein changes -----------------------------------------------------------------------------


def test_the_amino_acid_table_reads_every_code_in_any_case() -> None:
    assert len(AMINO_ACIDS) == 26 and len(set(AMINO_ACIDS.values())) == 26
    for three, one in AMINO_ACIDS.items():
        assert amino_acid(three) == amino_acid(three.upper()) == amino_acid(three.lower()) == one
        assert amino_acid(one) == one
        assert protein_short(f"p.{three}12{three}") == f"{one}12{one}"
    assert amino_acid("Xyz") is None and amino_acid("1") is None and amino_acid("v") == "V"


@pytest.mark.parametrize(
    "hgvsp, short",
    [
        ("p.Val600Glu", "V600E"),
        ("ENSP00000288602.7:p.Val600Glu", "V600E"),
        ("p.(Gly12Asp)", "G12D"),
        ("p.Trp24Ter", "W24*"),
        ("p.Leu858Arg", "L858R"),
        ("p.Thr790Met", "T790M"),
        ("p.Val600%3D", "V600="),
        ("p.V600E", "V600E"),
        ("p.Glu746_Ala750del", "E746_A750del"),
        ("p.Lys706AsnfsTer19", "K706Nfs*19"),
        ("p.?", None),
        ("p.0", None),
        ("c.1799T>A", None),
        (None, None),
    ],
)
def test_protein_short_form(hgvsp: str | None, short: str | None) -> None:
    assert protein_short(hgvsp) == short


@pytest.mark.parametrize(
    "token, change",
    [
        ("V600E", "V600E"),
        ("p.V600E", "V600E"),
        ("W1815X", "W1815X"),
        ("*757L", "*757L"),
        ("M1?", "M1?"),
        ("E55=", "E55="),
        ("E746_A750del", "E746_A750del"),
        ("M766_A767insASV", "M766_A767insASV"),
        ("D770delinsGY", "D770delinsGY"),
        ("V600_K601>E", "V600_K601>E"),
        ("K706FS*19", "K706FS*19"),
        ("R135FSX177", "R135FSX177"),
        ("E55RfsTer11", "E55RfsTer11"),
        ("V600", None),
        ("Amplification", None),
        ("v600e", None),
        ("c.1799T>A", None),
        ("EML4::ALK", None),
    ],
)
def test_short_form_changes_as_civic_writes_them(token: str, change: str | None) -> None:
    assert short_change(token) == change


@pytest.mark.parametrize(
    "text, found",
    [
        ("BRAF V600E", ("BRAF", "V600E")),
        ("braf v600e", ("braf", "V600E")),
        ("BRAF p.Val600Glu", ("BRAF", "V600E")),
        ("test-api-g1 p.val34glu", ("test-api-g1", "V34E")),
        ("BRAF p.(Val600Glu)", ("BRAF", "V600E")),
        ("TP53 R213*", ("TP53", "R213*")),
        ("TP53 Arg213Ter", ("TP53", "R213*")),
        ("BRAF Amplification", None),
        ("BRAF Xyz600Glu", None),
        ("V600E", None),
    ],
)
def test_gene_and_protein_change_as_people_type_it(text: str, found: tuple[str, str] | None) -> None:
    assert gene_protein_change(text) == found


@pytest.mark.parametrize(
    "changes",
    [
        ("V600E", "p.V600E", "p.(V600E)", "v600e"),
        ("W1815X", "W1815*", "W1815Ter"),
        ("K706FS*19", "K706Nfs*19", "K706fs", "p.Lys706AsnfsTer19"),
        ("V600_K601>E", "V600_K601delinsE"),
    ],
)
def test_protein_keys_compare_equal_across_spellings(changes: tuple[str, ...]) -> None:
    keys = {protein_key(protein_short(c) or c) for c in changes}
    assert len(keys) == 1 and None not in keys


def test_first_codon_and_implied_consequence() -> None:
    assert first_codon("V600E") == ("V", 600, False)
    assert first_codon("V600=") == ("V", 600, True) and first_codon("V600V") == ("V", 600, True)
    assert first_codon("p.?") is None and first_codon("c.1799T>A") is None and first_codon(None) is None
    assert consequences_of_change("V600E") == {"missense_variant"}
    assert consequences_of_change("R213*") == {"stop_gained"}
    assert consequences_of_change("K706FS*19") == {"frameshift_variant"}
    assert consequences_of_change("E746_A750del") == {"inframe_deletion"}
    assert consequences_of_change("D770delinsGY") == {"inframe_indel"}
    assert consequences_of_change("M766_A767insASV") == {"inframe_insertion"}
    assert consequences_of_change("V600=") == {"synonymous_variant"}
    assert consequences_of_change("M1I") == {"start_lost"}
    assert consequences_of_change("*757L") == {"stop_lost"}
    assert consequences_of_change("c.1799T>A") == frozenset()


@PROPERTY
@given(
    st.sampled_from(sorted(AMINO_ACIDS)), st.integers(min_value=1, max_value=5000), st.sampled_from(sorted(AMINO_ACIDS))
)
def test_three_and_one_letter_substitutions_share_a_key(ref: str, pos: int, alt: str) -> None:
    short = protein_short(f"p.{ref}{pos}{alt}")
    assert short == f"{AMINO_ACIDS[ref]}{pos}{AMINO_ACIDS[alt]}"
    assert protein_key(short) == protein_key(short.lower()) == protein_key(f"p.({short})")
    codon = first_codon(short)
    assert codon is not None and codon.position == pos

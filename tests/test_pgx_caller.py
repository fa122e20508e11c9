"""Star-allele calling, phenotypes and outside calls on PharmCAT v2.10.0 data (the seeds' genes).

Genotypes are built from the definition JSON itself (the defining positions and alleles of the
named alleles under test), never from hand-typed coordinates, so the tests check the caller
against the definitions, not against the author's memory. Pure: no database.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from kg.loaders.pharmcat_files import find_files, read_definitions, read_gene_phenotypes
from kg.loaders.seeds import default_seed_dir
from kg.matcher.genotype import Genotype
from kg.matcher.pgx.caller import call_gene, call_genes
from kg.matcher.pgx.outside_calls import OutsideCallError, parse_outside_calls, parse_outside_calls_text
from kg.matcher.pgx.phenotype import PhenotypeTables

# The seeds hold the PharmCAT v2.10.0 definitions and phenotype tables of their genes whole
# (seeds/curate.py), so the caller is tested on them without ../shared/data.
PHARMCAT = default_seed_dir() / "pgx" / "pharmcat"


def _require_data() -> None:
    if not (PHARMCAT / "definition" / "alleles").is_dir():
        pytest.skip(f"PharmCAT data not found at {PHARMCAT} (set KG_DATA_DIR to the shared data dir)")


Calls = dict[tuple[str, int], Genotype]


# ---------------------------------------------------------------------------------------------
# Helpers that read the raw JSON (independently of kg.loaders.pharmcat_files)


def _json(path: Path) -> Any:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return json.load(fh)


def raw_definition(gene: str) -> dict[str, Any]:
    folder = PHARMCAT / "definition" / "alleles"
    path = folder / f"{gene}_translation.json"
    return _json(path if path.exists() else path.with_suffix(".json.gz"))


def raw_phenotypes(gene: str, source: str = "cpic") -> dict[str, Any]:
    folder = PHARMCAT / "phenotype" / source
    path = folder / f"{gene}.json"
    return _json(path if path.exists() else path.with_suffix(".json.gz"))


def named(gene: str, name: str) -> list[str | None]:
    for allele in raw_definition(gene)["namedAlleles"]:
        if allele["name"] == name:
            return allele["alleles"]
    raise KeyError(f"{gene} {name}")


def defining(gene: str, name: str) -> list[dict[str, Any]]:
    """The variant records at which ``name`` is defined (non-null cells)."""
    variants = raw_definition(gene)["variants"]
    return [variants[i] for i, a in enumerate(named(gene, name)) if a is not None]


def locus_label(variant: dict[str, Any]) -> str:
    return f"{variant['chromosome']}:{variant['position']} {variant['rsid']}"


def _concrete(allele: str | None, variant: dict[str, Any]) -> str:
    """An allele as a VCF would report it: undefined cells and IUPAC codes become REF."""
    if allele is None or (len(allele) == 1 and allele not in "ACGT"):
        return variant["ref"]
    return allele


def sample(gene: str, hap1: str, hap2: str | None = None, *, phased: bool = False, drop: tuple[str, ...] = ()) -> Calls:
    """Genotypes at every definition position for a sample carrying ``hap1``/``hap2``.

    Undefined cells are reference (PharmCAT fills them from the reference allele); rsids in
    ``drop`` are left out of the mapping, i.e. missing from the VCF.
    """
    definition = raw_definition(gene)
    a1 = named(gene, hap1)
    a2 = named(gene, hap2) if hap2 is not None else None
    out: Calls = {}
    for i, v in enumerate(definition["variants"]):
        if v["rsid"] in drop:
            continue
        alleles = (_concrete(a1[i], v),) if a2 is None else (_concrete(a1[i], v), _concrete(a2[i], v))
        out[(v["chromosome"], v["position"])] = Genotype(v["chromosome"], v["position"], v["ref"], alleles, phased)
    return out


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    _require_data()
    return read_definitions(find_files(PHARMCAT))


@pytest.fixture(scope="module")
def tables() -> PhenotypeTables:
    _require_data()
    return PhenotypeTables(read_gene_phenotypes(find_files(PHARMCAT)))


def call(definitions: dict[str, Any], gene: str, genotypes: Calls):
    return call_gene(definitions[gene], genotypes)


# ---------------------------------------------------------------------------------------------
# CYP2C19


def test_cyp2c19_reference_allele_is_star38_and_star1_differs_at_rs3758581(definitions) -> None:
    raw = raw_definition("CYP2C19")
    reference = [a["name"] for a in raw["namedAlleles"] if a["reference"]]
    assert reference == ["*38"]
    diff = [
        v["rsid"]
        for v, x, y in zip(raw["variants"], named("CYP2C19", "*1"), named("CYP2C19", "*38"), strict=True)
        if x != y
    ]
    assert diff == ["rs3758581"]
    # A sample that is GRCh38-reference everywhere is therefore *38/*38, not *1/*1.
    result = call(definitions, "CYP2C19", sample("CYP2C19", "*38", "*38"))
    assert result.diplotypes == ["*38/*38"] and not result.ambiguous


@pytest.mark.parametrize(
    ("hap1", "hap2", "expected"),
    [
        ("*1", "*1", "*1/*1"),
        ("*1", "*2", "*1/*2"),
        ("*2", "*1", "*1/*2"),
        ("*2", "*2", "*2/*2"),
        ("*17", "*17", "*17/*17"),
        ("*2", "*17", "*2/*17"),
    ],
)
def test_cyp2c19_diplotypes(definitions, hap1: str, hap2: str, expected: str) -> None:
    result = call(definitions, "CYP2C19", sample("CYP2C19", hap1, hap2))
    assert result.status == "called"
    assert result.diplotypes == [expected] and result.best == expected
    assert not result.ambiguous and not result.missing_positions
    assert not result.phased


def test_cyp2c19_score_counts_defined_positions(definitions) -> None:
    n_star1 = sum(a is not None for a in named("CYP2C19", "*1"))
    n_star2 = sum(a is not None for a in named("CYP2C19", "*2"))
    result = call(definitions, "CYP2C19", sample("CYP2C19", "*1", "*2"))
    assert result.score == n_star1 + n_star2


def test_missing_position_is_reported_never_reference(definitions) -> None:
    # rs4244285 is one of *2's defining positions (read from the definition).
    star2 = defining("CYP2C19", "*2")
    assert "rs4244285" in [v["rsid"] for v in star2]
    missing = next(v for v in star2 if v["rsid"] == "rs4244285")
    result = call(definitions, "CYP2C19", sample("CYP2C19", "*1", "*2", drop=("rs4244285",)))
    assert result.missing_positions == [locus_label(missing)]
    assert "*1/*2" in result.diplotypes
    assert result.ambiguous and len(result.diplotypes) > 1 and result.best is None
    assert "*2" in result.partially_tested_alleles
    assert any("not assumed reference" in w for w in result.warnings)
    # a no-call at that position is the same as an absent record
    genotypes = sample("CYP2C19", "*1", "*2")
    genotypes[(missing["chromosome"], missing["position"])] = Genotype(
        missing["chromosome"], missing["position"], missing["ref"], (None, None)
    )
    no_call = call(definitions, "CYP2C19", genotypes)
    assert no_call.missing_positions == result.missing_positions
    assert no_call.diplotypes == result.diplotypes


def test_half_call_and_wrong_ref_are_missing(definitions) -> None:
    first, second = raw_definition("CYP2C19")["variants"][:2]
    genotypes = sample("CYP2C19", "*38", "*38")
    genotypes[(first["chromosome"], first["position"])] = Genotype(
        first["chromosome"], first["position"], first["ref"], (first["ref"], None)
    )
    wrong = next(b for b in "ACGT" if b != second["ref"])
    genotypes[(second["chromosome"], second["position"])] = Genotype(
        second["chromosome"], second["position"], wrong, (wrong, wrong)
    )
    result = call(definitions, "CYP2C19", genotypes)
    assert result.missing_positions == [locus_label(first), locus_label(second)]
    status = {p.rsid: p.status for p in result.positions}
    assert status[first["rsid"]] == "half_call" and status[second["rsid"]] == "ref_mismatch"


def test_allele_defined_only_at_missing_position_is_uncallable(definitions) -> None:
    star3 = defining("CYP2C9", "*3")
    assert len(star3) == 1  # *3 is a single SNV (rs1057910)
    result = call(definitions, "CYP2C9", sample("CYP2C9", "*1", "*3", drop=(star3[0]["rsid"],)))
    assert "*3" in result.uncallable_alleles
    assert result.diplotypes == ["*1/*1"]  # cannot see *3, and says so
    assert locus_label(star3[0]) in result.missing_positions


def test_no_genotypes_is_no_data_not_reference(definitions) -> None:
    result = call(definitions, "CYP2C19", {})
    assert result.status == "no_data" and result.diplotypes == [] and result.best is None
    assert len(result.missing_positions) == len(raw_definition("CYP2C19")["variants"])


# ---------------------------------------------------------------------------------------------
# TPMT phase ambiguity


def test_tpmt_double_heterozygote_unphased_is_ambiguous(definitions) -> None:
    star3a = {v["rsid"] for v in defining("TPMT", "*3A")}
    assert star3a == {v["rsid"] for v in defining("TPMT", "*3B") + defining("TPMT", "*3C")}
    result = call(definitions, "TPMT", sample("TPMT", "*1", "*3A"))
    names = [c.name for c in result.candidates]
    assert result.ambiguous and result.status == "ambiguous"
    assert "*1/*3A" in names and "*3B/*3C" in names
    assert result.diplotypes == ["*1/*3A"]  # PharmCAT's top score, with the alternative reported
    assert any("*3B/*3C cannot be ruled out" in w for w in result.warnings)
    # the same genotype written as *3B/*3C gives the same (unphased) answer
    assert [c.name for c in call(definitions, "TPMT", sample("TPMT", "*3B", "*3C")).candidates] == names


def test_tpmt_phased_resolves_cis_and_trans(definitions) -> None:
    cis = call(definitions, "TPMT", sample("TPMT", "*1", "*3A", phased=True))
    trans = call(definitions, "TPMT", sample("TPMT", "*3B", "*3C", phased=True))
    assert cis.diplotypes == ["*1/*3A"] and not cis.ambiguous and cis.phased
    assert trans.diplotypes == ["*3B/*3C"] and not trans.ambiguous and trans.phased


def test_tpmt_phenotypes_of_the_two_readings_differ(definitions, tables) -> None:
    result = call(definitions, "TPMT", sample("TPMT", "*1", "*3A"))
    phenos = {p.diplotype: p.phenotype for p in tables.phenotype_for_call(result, include_alternatives=True)}
    rows = {d["diplotype"]: d["generesult"] for d in raw_phenotypes("TPMT")["diplotypes"]}
    assert phenos["*1/*3A"] == rows["*1/*3A"] and phenos["*3B/*3C"] == rows["*3B/*3C"]
    assert phenos["*1/*3A"] != phenos["*3B/*3C"]


# ---------------------------------------------------------------------------------------------
# DPYD


def _activity(name: str) -> float:
    return float(raw_phenotypes("DPYD")["activityValues"][name])


def test_dpyd_activity_score_from_tables(definitions, tables) -> None:
    variant = "c.1905+1G>A (*2A)"
    result = call(definitions, "DPYD", sample("DPYD", "Reference", variant))
    assert result.diplotypes == [f"Reference/{variant}"]
    pheno = tables.phenotype_for("DPYD", result.best)
    assert pheno is not None
    assert float(pheno.activity_score) == _activity("Reference") + _activity(variant)
    assert pheno.lookup_key == pheno.activity_score  # CPIC DPYD recommendations key on the score


def test_dpyd_unphased_list_uses_two_lowest_activity_values(definitions, tables) -> None:
    variants = ["c.1627A>G (*5)", "c.1905+1G>A (*2A)", "c.2846A>T"]
    genotypes = sample("DPYD", "Reference", "Reference")
    for name in variants:
        (v,) = defining("DPYD", name)
        alt = named("DPYD", name)[raw_definition("DPYD")["variants"].index(v)]
        genotypes[(v["chromosome"], v["position"])] = Genotype(
            v["chromosome"], v["position"], v["ref"], (v["ref"], alt)
        )
    result = call(definitions, "DPYD", genotypes)
    assert result.status == "haplotype_list"
    assert sorted(result.haplotypes) == sorted(variants)
    (pheno,) = tables.phenotype_for_call(result)
    lowest_two = sorted(_activity(n) for n in variants)[:2]
    assert float(pheno.activity_score) == sum(lowest_two)
    assert pheno.inferred


def test_dpyd_unphased_pair_is_listed_not_called_as_a_diplotype(definitions, tables) -> None:
    """PharmCAT v2.10.0 calls no diplotype from two unphased heterozygous DPYD variants."""
    variants = ["c.1627A>G (*5)", "c.1905+1G>A (*2A)"]
    genotypes = sample("DPYD", "Reference", "Reference")
    for name in variants:
        (v,) = defining("DPYD", name)
        alt = named("DPYD", name)[raw_definition("DPYD")["variants"].index(v)]
        genotypes[(v["chromosome"], v["position"])] = Genotype(
            v["chromosome"], v["position"], v["ref"], (v["ref"], alt)
        )
    result = call(definitions, "DPYD", genotypes)
    assert result.status == "haplotype_list" and not result.effectively_phased
    assert result.diplotypes == [] and result.best is None
    assert sorted(result.haplotypes) == sorted(variants)
    (pheno,) = tables.phenotype_for_call(result)
    assert float(pheno.activity_score) == sum(_activity(n) for n in variants)
    assert sorted(pheno.alleles) == sorted(variants)


def test_dpyd_hapb3_is_called_from_both_positions(definitions) -> None:
    hapb3 = "c.1129-5923C>G, c.1236G>A (HapB3)"
    result = call(definitions, "DPYD", sample("DPYD", "Reference", hapb3))
    assert result.diplotypes == [f"Reference/{hapb3}"]


def test_dpyd_phased_variants_in_cis_are_one_gene_copy(definitions, tables) -> None:
    variants = ["c.1905+1G>A (*2A)", "c.2846A>T"]
    genotypes = sample("DPYD", "Reference", "Reference", phased=True)
    for name in variants:
        (v,) = defining("DPYD", name)
        alt = named("DPYD", name)[raw_definition("DPYD")["variants"].index(v)]
        genotypes[(v["chromosome"], v["position"])] = Genotype(
            v["chromosome"], v["position"], v["ref"], (alt, v["ref"]), True
        )
    result = call(definitions, "DPYD", genotypes)
    assert result.diplotypes == [f"Reference/[{variants[0]} + {variants[1]}]"]
    (pheno,) = tables.phenotype_for_call(result)
    # the cis copy counts with its lowest activity value; the other copy is reference
    assert float(pheno.activity_score) == _activity("Reference") + min(_activity(n) for n in variants)


# ---------------------------------------------------------------------------------------------
# UGT1A1 *28 (TA repeat indel)


def _ta_repeat_locus() -> dict[str, Any]:
    (v,) = defining("UGT1A1", "*28")
    return v


def test_ugt1a1_star28_in_definition_representation(definitions) -> None:
    v = _ta_repeat_locus()
    assert v["cpicToVcfAlleleMap"]["TA(8)"] == named("UGT1A1", "*28")[raw_definition("UGT1A1")["variants"].index(v)]
    result = call(definitions, "UGT1A1", sample("UGT1A1", "*1", "*28"))
    assert result.diplotypes == ["*1/*28"]


def test_ugt1a1_star28_trimmed_and_shifted_representations(definitions) -> None:
    v = _ta_repeat_locus()
    ref, alt = v["ref"], v["cpicToVcfAlleleMap"]["TA(8)"]
    assert alt.startswith(ref)  # an insertion after the definition's REF
    inserted = alt[len(ref) :]
    key = (v["chromosome"], v["position"])
    # trimmed: REF is the anchor base only (C / C+insertion): what vt/bcftools norm would write
    trimmed = sample("UGT1A1", "*1", "*1")
    trimmed[key] = Genotype(v["chromosome"], v["position"], ref[0], (ref[0], ref[0] + inserted))
    assert call(definitions, "UGT1A1", trimmed).diplotypes == ["*1/*28"]
    hom = sample("UGT1A1", "*1", "*1")
    hom[key] = Genotype(v["chromosome"], v["position"], ref[0], (ref[0] + inserted, ref[0] + inserted))
    assert call(definitions, "UGT1A1", hom).diplotypes == ["*28/*28"]
    # shifted one base right inside the repeat: anchored on the definition REF's second base
    shifted = sample("UGT1A1", "*1", "*1")
    del shifted[key]
    rotated = inserted[1:] + inserted[0]
    shifted[(v["chromosome"], v["position"] + 1)] = Genotype(
        v["chromosome"], v["position"] + 1, ref[1], (ref[1], ref[1] + rotated)
    )
    result = call(definitions, "UGT1A1", shifted)
    assert result.diplotypes == ["*1/*28"] and not result.missing_positions


def test_undocumented_allele_blocks_the_call_outside_toxicity_genes(definitions) -> None:
    v = _ta_repeat_locus()
    genotypes = sample("UGT1A1", "*1", "*1")
    genotypes[(v["chromosome"], v["position"])] = Genotype(
        v["chromosome"], v["position"], v["ref"], (v["ref"], "CATATATATAT")
    )
    result = call(definitions, "UGT1A1", genotypes)
    assert result.status == "no_call" and result.best is None
    assert any("not in any UGT1A1 definition" in w for w in result.warnings)


def test_undocumented_allele_is_reference_for_tpmt(definitions) -> None:
    (v,) = defining("TPMT", "*3B")
    other = next(b for b in "ACGT" if b != v["ref"] and b not in v["alts"])
    genotypes = sample("TPMT", "*1", "*1")
    genotypes[(v["chromosome"], v["position"])] = Genotype(v["chromosome"], v["position"], v["ref"], (v["ref"], other))
    result = call(definitions, "TPMT", genotypes)
    assert result.diplotypes == ["*1/*1"]
    assert any("set to reference" in w for w in result.warnings)


# ---------------------------------------------------------------------------------------------
# VKORC1, CYP2C9, G6PD


def test_vkorc1_rs9923231(definitions, tables) -> None:
    (v,) = raw_definition("VKORC1")["variants"]
    assert v["rsid"] == "rs9923231"
    names = [a["name"] for a in raw_definition("VKORC1")["namedAlleles"]]
    ref_name = next(a["name"] for a in raw_definition("VKORC1")["namedAlleles"] if a["reference"])
    var_name = next(n for n in names if n != ref_name)
    het = call(definitions, "VKORC1", sample("VKORC1", ref_name, var_name))
    assert het.diplotypes == [f"{ref_name}/{var_name}"]
    hom = call(definitions, "VKORC1", sample("VKORC1", var_name, var_name))
    assert hom.diplotypes == [f"{var_name}/{var_name}"]
    rows = {
        frozenset(d["diplotypekey"].items()): d["lookupkey"] for d in raw_phenotypes("VKORC1", "dpwg")["diplotypes"]
    }
    pheno = tables.phenotype_for("VKORC1", het.best, "DPWG")
    assert pheno is not None and pheno.lookup_key == rows[frozenset({ref_name: 1, var_name: 1}.items())]


def test_cyp2c9_star1_star3(definitions, tables) -> None:
    result = call(definitions, "CYP2C9", sample("CYP2C9", "*1", "*3"))
    assert result.diplotypes == ["*1/*3"] and not result.ambiguous
    values = raw_phenotypes("CYP2C9")["activityValues"]
    pheno = tables.phenotype_for("CYP2C9", result.best)
    assert pheno is not None and float(pheno.activity_score) == float(values["*1"]) + float(values["*3"])
    # the exemption's extra position (reported, in no allele) is listed with the call
    extra = json.loads((PHARMCAT / "definition" / "alleles" / "exemptions.json").read_text())
    extra_rsids = {v["rsid"] for e in extra if e["gene"] == "CYP2C9" for v in e["extraPositions"]}
    assert {p.rsid for p in result.extra_positions} == extra_rsids


@pytest.fixture(scope="module")
def real_pharmcat(data_dir: Path) -> Path:
    return data_dir / "pgx" / "pharmcat"


@pytest.mark.realdata
def test_g6pd_hemizygous_call_is_a_single_haplotype(real_pharmcat: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """G6PD (X-linked: one haplotype in males) is in the real PharmCAT release, not in the seeds."""
    monkeypatch.setattr(sys.modules[__name__], "PHARMCAT", real_pharmcat)  # raw_definition and sample read it
    files = find_files(real_pharmcat)
    definitions, tables = read_definitions(files), PhenotypeTables(read_gene_phenotypes(files))
    reference = next(a["name"] for a in raw_definition("G6PD")["namedAlleles"] if a["reference"])
    result = call(definitions, "G6PD", sample("G6PD", reference))
    assert result.haploid and result.diplotypes == [reference]
    assert tables.phenotype_for("G6PD", reference) is not None


# ---------------------------------------------------------------------------------------------
# All genes at once (speed is measured in bench/bench_match.py, never asserted here)


def test_all_genes_for_one_sample_are_called(definitions) -> None:
    genotypes: Calls = {}
    for gene in definitions:
        genotypes.update(
            sample(
                gene, raw_definition(gene)["namedAlleles"][0]["name"], raw_definition(gene)["namedAlleles"][0]["name"]
            )
        )
    genotypes.update(sample("TPMT", "*1", "*3A"))
    genotypes.update(sample("CYP2C19", "*2", "*17"))
    results = call_genes(definitions, genotypes)
    assert set(results) == set(definitions)
    assert all(r.called for r in results.values())
    assert results["TPMT"].best == "*1/*3A" and results["CYP2C19"].best == "*2/*17"


# ---------------------------------------------------------------------------------------------
# Outside calls


def test_outside_calls_parse(tmp_path: Path, tables) -> None:
    path = tmp_path / "outside.tsv"
    path.write_text(
        "# from StellarPGx\nCYP2D6\tCYP2D6*1/CYP2D6*4\nCYP2C9\t\t\t1.0\nHLA-B\t\t*57:01 positive\n", encoding="utf-8"
    )
    calls = parse_outside_calls(path)
    assert [(c.gene, c.diplotype, c.phenotype, c.activity_score, c.line) for c in calls] == [
        ("CYP2D6", "*1/*4", None, None, 2),
        ("CYP2C9", None, None, "1.0", 3),
        ("HLA-B", None, "*57:01 positive", None, 4),
    ]
    cyp2c9 = tables.phenotype_for_outside_call(calls[1])
    assert cyp2c9 is not None and cyp2c9.lookup_key == "1.0"


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("CYP2D6\n", 1, "a diplotype, phenotype or activity score"),
        ("# header\n\nCYP2D6\t*1/*2/*4\n", 3, "at most 2 alleles"),
        ("CYP2D6 *1/*4\n", 1, "separated by tabs"),
        ("CYP2D6\t*1/*4\nCYP2D6\t*1/*1\n", 2, "one line per gene"),
        ("CYP2C9\t\t\tfast\n", 1, "activity score"),
    ],
)
def test_outside_call_errors_name_file_and_line(text: str, line: int, expected: str) -> None:
    with pytest.raises(OutsideCallError) as info:
        parse_outside_calls_text(text, "calls.tsv")
    err = info.value
    assert isinstance(err, ValueError)
    assert err.path == "calls.tsv" and err.line == line and expected in err.expected
    assert str(err).startswith(f"calls.tsv, line {line}:")

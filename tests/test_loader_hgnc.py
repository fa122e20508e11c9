"""HGNC loader: the active release (the seeds' subset of the 2024-10 complete set, or the real one
from ../shared/data/genes once loaded; tests/releases.py), the real release's counts (``realdata``),
and corrupted copies of the seed file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kg.db import Graph
from kg.loaders import hgnc
from kg.loaders.errors import SourceFormatError
from kg.loaders.release import LoadReport
from kg.loaders.seeds import default_seed_dir
from kg.queries.resolve import AmbiguousEntity, resolve_gene
from tests.releases import active_release

RELEASE = "hgnc@2024-10"
GENES_IN_SOURCES_MD = 43_882  # genes/SOURCES.md: "43,882 genes (all status = Approved)"
SEED_GENES = default_seed_dir() / "genes" / "hgnc_complete_set_2024-10.txt.gz"


@pytest.fixture(scope="module")
def real_hgnc(seeded: Graph, data_dir: Path) -> LoadReport:
    return hgnc.load(seeded, data_dir / "genes", progress=False)


@pytest.fixture(scope="module")
def hgnc_loaded(seeded: Graph) -> LoadReport:
    """The active HGNC release (the seed subset, or the real one once loaded), loaded again: a no-op."""
    release = active_release(seeded, "hgnc")
    return hgnc.load(seeded, release.folder, progress=False, version=release.version)


def _counts(graph: Graph) -> dict[str, int]:
    row = graph.read(
        "CALL { MATCH (g:Gene) RETURN count(g) AS genes } "
        "CALL { MATCH (a:GeneAlias) RETURN count(a) AS aliases } "
        "CALL { MATCH ()-[r:ALIAS_OF]->() RETURN count(r) AS aliasEdges } "
        "CALL { MATCH (s:Source) RETURN count(s) AS sources } "
        "RETURN genes, aliases, aliasEdges, sources"
    )[0]
    return dict(row)


# --- parser, no database -------------------------------------------------------------------

HEADER = "\t".join(
    [
        "hgnc_id",
        "symbol",
        "name",
        "locus_group",
        "locus_type",
        "status",
        "location",
        "alias_symbol",
        "prev_symbol",
        "entrez_id",
        "ensembl_gene_id",
        "date_modified",
    ]
)


def _tsv(tmp_path: Path, *rows: str, name: str = "hgnc_complete_set_2099-01.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def test_parser_splits_quoted_multivalued_cells_and_skips_withdrawn(tmp_path: Path) -> None:
    path = _tsv(
        tmp_path,
        'HGNC:1097\tBRAF\tB-Raf\tprotein-coding gene\tgene with protein product\tApproved\t7q34\t"BRAF1|BRAF-1"\t\t673\tENSG00000157764\t2024-01-01',
        "HGNC:9\tOLD1\told\tother\tunknown\tEntry Withdrawn\t\t\t\t\t\t2001-01-01",
    )
    genes = list(hgnc.read_genes(path))
    assert [g["symbol"] for g in genes] == ["BRAF"]
    assert genes[0]["aliases"] == ["BRAF1", "BRAF-1"] and genes[0]["previousSymbols"] == []
    assert genes[0]["ncbiGeneId"] == "673" and genes[0]["location"] == "7q34"
    assert hgnc.release_version(path) == "2099-01"


def test_parser_rejects_unknown_status_with_line(tmp_path: Path) -> None:
    path = _tsv(tmp_path, "HGNC:1\tX\tx\tother\tunknown\tMaybe\t\t\t\t\t\t2001-01-01")
    with pytest.raises(SourceFormatError) as err:
        list(hgnc.read_genes(path))
    assert err.value.line == 2 and "Maybe" in str(err.value)


def test_undated_file_is_named_by_newest_date_modified(tmp_path: Path) -> None:
    path = _tsv(
        tmp_path,
        "HGNC:1\tA\ta\tother\tunknown\tApproved\t\t\t\t\t\t2020-05-01",
        "HGNC:2\tB\tb\tother\tunknown\tApproved\t\t\t\t\t\t2021-06-02",
        name="hgnc_complete_set.txt",
    )
    assert hgnc.release_version(path) == "2021-06-02"


# --- the releases in the graph ----------------------------------------------------------------


@pytest.mark.realdata
def test_gene_count_matches_sources_md(seeded: Graph, real_hgnc: LoadReport) -> None:
    hgnc_loaded = real_hgnc
    assert hgnc_loaded.skipped or hgnc_loaded.rows["genes"] == GENES_IN_SOURCES_MD
    row = seeded.read(
        "MATCH (s:Source {key: $key}) RETURN s.status AS status, COUNT { (s)<-[:ASSERTED_BY]-(:Gene) } AS genes",
        key=RELEASE,
    )[0]
    assert row == {"status": "active", "genes": GENES_IN_SOURCES_MD}
    aliases = seeded.read(
        "MATCH (:GeneAlias)-[r:ALIAS_OF]->(:Gene) WHERE $key IN r.releases RETURN count(r) AS n", key=RELEASE
    )
    assert aliases[0]["n"] == 59_826


def test_alias_edges_match_the_file(seeded: Graph, hgnc_loaded: LoadReport) -> None:
    release = active_release(seeded, "hgnc")
    (genes_file,) = release.folder.glob("hgnc_complete_set_*.txt.gz")
    pairs = {
        (name.lower(), g["symbol"]) for g in hgnc.read_genes(genes_file) for name in g["aliases"] + g["previousSymbols"]
    }
    written = seeded.read(
        "MATCH (a:GeneAlias)-[r:ALIAS_OF]->(g:Gene) WHERE $key IN r.releases RETURN count(r) AS n", key=release.key
    )[0]["n"]
    assert written == len(pairs) > 0


def test_braf_properties(seeded: Graph, hgnc_loaded: LoadReport) -> None:
    braf = seeded.read("MATCH (g:Gene {symbol: 'BRAF'}) RETURN g {.*} AS g")[0]["g"]
    assert braf["hgncId"] == "HGNC:1097" and braf["ncbiGeneId"] == "673"
    assert braf["ensemblId"] == "ENSG00000157764" and braf["location"] == "7q34"
    assert braf["locusType"] == "gene with protein product"
    assert braf["aliases"] == ["BRAF1", "BRAF-1"]


def test_previous_symbol_resolves_to_current_gene(seeded: Graph, hgnc_loaded: LoadReport) -> None:
    match = resolve_gene(seeded, "MLL")  # HGNC:7132 KMT2A, prev_symbol MLL
    assert match.id == "KMT2A" and match.matched_as == "previous"
    assert match.node["hgncId"] == "HGNC:7132"


def test_alias_resolves(seeded: Graph, hgnc_loaded: LoadReport) -> None:
    match = resolve_gene(seeded, "her2")  # ERBB2 alias_symbol HER-2|HER2|...
    assert match.id == "ERBB2" and match.matched_as == "alias"


def test_alias_of_several_genes_is_ambiguous(seeded: Graph, hgnc_loaded: LoadReport) -> None:
    with pytest.raises(AmbiguousEntity) as err:
        resolve_gene(seeded, "SUR2")  # alias of both ABCC9 and MED23
    assert [c.id for c in err.value.candidates] == ["ABCC9", "MED23"]


def test_reload_is_idempotent(seeded: Graph, hgnc_loaded: LoadReport) -> None:
    release = active_release(seeded, "hgnc")
    before = _counts(seeded)
    again = hgnc.load(seeded, release.folder, progress=False, version=release.version)
    assert again.skipped
    assert _counts(seeded) == before


# --- corrupted copies of the seed file: clean failure, nothing kept ---------------------------


def _expect_clean_failure(graph: Graph, path: Path, *, line: int | None) -> SourceFormatError:
    before = _counts(graph)
    with pytest.raises(SourceFormatError) as err:
        hgnc.load(graph, path, progress=False, version="corrupt-test")
    assert err.value.path == path
    if line is not None:
        assert err.value.line == line
    assert f"{path}:" in str(err.value)
    assert not graph.read("MATCH (s:Source {key: 'hgnc@corrupt-test'}) RETURN s")
    assert _counts(graph) == before
    return err.value


def test_truncated_gzip_fails_cleanly(seeded: Graph, hgnc_loaded: LoadReport, tmp_path: Path) -> None:
    data = SEED_GENES.read_bytes()
    copy = tmp_path / "hgnc_complete_set_2024-10.txt.gz"
    copy.write_bytes(data[: len(data) * 2 // 3])
    error = _expect_clean_failure(seeded, copy, line=None)
    assert error.line is not None and error.line > 1
    assert "gzip" in error.expected


def test_wrong_column_count_fails_cleanly(seeded: Graph, hgnc_loaded: LoadReport, tmp_path: Path) -> None:
    with gzip.open(SEED_GENES, "rt", encoding="utf-8") as handle:
        lines = list(handle)
    lines[20] = lines[20].replace("\t", "", 1)  # line 21: one column fewer
    copy = tmp_path / "hgnc_complete_set_2024-10.txt"
    copy.write_text("".join(lines))
    error = _expect_clean_failure(seeded, copy, line=21)
    assert error.expected == "54 tab-separated columns" and error.found.startswith("53 columns")


def test_bad_header_fails_cleanly(seeded: Graph, hgnc_loaded: LoadReport, tmp_path: Path) -> None:
    with gzip.open(SEED_GENES, "rt", encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(10)]
    lines[0] = lines[0].replace("symbol", "sym", 1)
    copy = tmp_path / "hgnc_complete_set_2024-10.txt"
    copy.write_text("".join(lines))
    error = _expect_clean_failure(seeded, copy, line=1)
    assert "no symbol" in error.found

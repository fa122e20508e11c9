"""ClinVar GRCh38 VCF -> Variant, Evidence (germline pathogenicity), links to Gene, SO and Disease.

Reads NCBI's ``clinvar.vcf.gz`` (VCF 4.1 header; one record per ClinVar VariationID, ``ID`` =
VariationID) with a plain streaming text parser: the shared copy is plain gzip, not BGZF, and
parsing INFO here keeps line numbers for error messages. The file is read once to the end
before the first write (stage ``genes and terms``, which collects the release's genes and MC terms on the
way), so a malformed file writes nothing; then it is streamed again for the variants (issue 13: the write
path is described above WRITE).
Per record and ALT allele (multi-allelic records are split):

* ``Variant {id}`` normalised and keyed with kg.identity.variants; rsid from ``RS``, hgvs from ``CLNHGVS``,
  ``gene`` from ``GENEINFO`` (``-[:IN_GENE]->`` every listed gene except NCBI ``LOC`` placeholder
  loci), ``-[:HAS_CONSEQUENCE]->(SequenceOntologyTerm)`` for each ``MC`` term, variantType
  (``CLNVC``) and variantTypeSo (``CLNVCSO``), clinvarVariationId, clinvarAlleleId. A "no sequence
  alteration" record (ALT ``.``) keeps ALT ``.`` and kind ``reference``. ClinVar's VCF has no
  protein change, so proteinChange is not set.
* ``Evidence {id: "clinvar@<version>:<VariationID>"}`` (release-scoped: each ClinVar release has its own
  Evidence; ``recordId`` = VariationID, ``release`` = the release key), type ``pathogenicity``: significance (CLNSIG,
  lowercase, spaces), classification (clinvar_fields.classification), reviewStatus and stars,
  origin and origins (ORIGIN bits), conditionNames (CLNDN), diseaseXrefs (CLNDISDB as canonical
  DiseaseXref keys), conflicting (CLNSIGCONF), clinvarRelease (the file date), url;
  ``-[:ABOUT]->`` Variant; ``-[:FOR_DISEASE]->`` each Disease a condition's xrefs reach through
  the DOID loader's ``(DiseaseXref)-[:XREF_OF]->(Disease)`` (read when the load starts: load DOID
  first, as ``kg load all`` does). A record without CLNSIG (no germline classification; 2,294 in
  2026-02) still has its Evidence, classification ``other``, so it supersedes an older one.
* Coverage (kg/loaders/coverage.py): the windows its records fall in (records of one chromosome
  closer than ``coverage.WINDOW_GAP`` join a window); inside them this release supersedes an older
  ClinVar release (clinvar_more's 2024-06-01 extract), elsewhere the older stays current
  (kg/loaders/release.py, whichever is loaded first).

Rows omit empty fields (a missing key reads as null) and the Cypher derives ids, URLs and
coordinates, to keep the batches small.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from kg.db import Graph
from kg.identity.variants import NO_ALT, is_primary_chrom, is_sequence, normalize
from kg.loaders import clinvar_fields as cv
from kg.loaders.coverage import Windows
from kg.loaders.disease_names import NameResolver
from kg.loaders.errors import SourceFormatError
from kg.loaders.property_groups import asserts
from kg.loaders.release import LoadReport, Row, SourceRelease, Stage, load_release
from kg.loaders.sourcefile import find_release_file, open_text, read_errors
from kg.loaders.statements import stamped

NAME = "clinvar"
LICENCE = "public domain (NCBI ClinVar; cite Landrum MJ et al., Nucleic Acids Res 2018)"
URL = "https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/"
HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")


def find_vcf(path: Path) -> Path:
    """``path`` itself, or the (newest) ClinVar VCF in a folder."""
    return find_release_file(Path(path), ("clinvar_*.vcf.gz", "*.vcf.gz", "clinvar_*.vcf", "*.vcf"))


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line without CR/LF); gzip damage becomes a SourceFormatError at the line reached."""
    lineno = 0
    with open_text(path) as handle, read_errors(path, lambda: lineno + 1):
        for lineno, line in enumerate(handle, 1):
            yield lineno, line.rstrip("\r\n")


def release_date(path: Path) -> str:
    """The release from ``##fileDate=`` (``2026-02-26`` or ``20260226``), else from the file name."""
    for lineno, line in numbered_lines(path):
        if lineno == 1 and not line.startswith("##fileformat=VCF"):
            raise SourceFormatError(path, 1, "the VCF header line ##fileformat=VCFv4.x", line[:80])
        if not line.startswith("##"):
            break
        if match := re.fullmatch(r"##fileDate=(\d{4})-?(\d{2})-?(\d{2})", line.strip()):
            return "-".join(match.groups())
    if match := re.search(r"(\d{4})-?(\d{2})-?(\d{2})", path.name):
        return "-".join(match.groups())
    raise SourceFormatError(path, None, "a ##fileDate header or a date in the file name", path.name)


def parse_info(text: str) -> dict[str, str]:
    """``K=V;FLAG;...`` -> dict (a flag maps to ``""``); ClinVar percent-encodes ``=``, ``;``, ``,``, space."""
    info: dict[str, str] = {}
    for item in text.split(";"):
        key, _, value = item.partition("=")
        info[key] = unquote(value) if "%" in value else value
    return info


def read_records(path: Path, release: str) -> Iterator[Row]:
    """One row per ALT allele of each ClinVar record, every field precomputed for the write Cypher.

    A record's second and later ALT alleles are marked ``sameRecord`` (their Evidence is the first's).
    A VariationID used by an earlier record is an error: each Evidence is created once (WRITE)."""
    header_seen = False
    seen = RecordIds()
    for lineno, line in numbered_lines(path):
        if line.startswith("##"):
            if header_seen:
                raise SourceFormatError(path, lineno, "a record line after the #CHROM header", line[:80])
            continue
        if line.startswith("#"):
            if tuple(line.split("\t")[:8]) != HEADER:
                raise SourceFormatError(path, lineno, "the VCF column header " + "\\t".join(HEADER), line[:120])
            header_seen = True
            continue
        if not header_seen:
            raise SourceFormatError(path, lineno, "the #CHROM column header before the records", line[:80])
        if line:
            yield from _record_rows(path, lineno, line, release, seen)
    if not header_seen:
        raise SourceFormatError(path, None, "a #CHROM column header", "end of file")


class RecordIds:
    """The VariationIDs read so far, as a bitmap: ClinVar's are integers below ~10 million, so 3 million
    records take a few MB here where a set of ints would take ~200 MB (issue 13: loader memory < 1 GB).
    Ids beyond ``LIMIT`` (none in ClinVar) go to a set."""

    LIMIT = 1 << 31

    def __init__(self) -> None:
        self.bits = bytearray()
        self.large: set[int] = set()

    def add(self, value: int) -> bool:
        """Record ``value``; False when it was already recorded."""
        if value >= self.LIMIT:
            new = value not in self.large
            self.large.add(value)
            return new
        byte, bit = divmod(value, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True


def _record_rows(path: Path, lineno: int, line: str, release: str, seen: RecordIds) -> Iterator[Row]:
    fields = line.split("\t")
    if len(fields) < 8:
        raise SourceFormatError(path, lineno, "8 tab-separated VCF columns", f"{len(fields)} columns: {line[:80]}")
    chrom, pos_text, variation_id, ref, alts, _, _, info_text = fields[:8]
    if not pos_text.isdigit() or int(pos_text) < 1:
        raise SourceFormatError(path, lineno, "a positive integer POS", pos_text)
    if not variation_id.isdigit():
        raise SourceFormatError(path, lineno, "a ClinVar VariationID in the ID column", variation_id)
    if not seen.add(int(variation_id)):
        raise SourceFormatError(path, lineno, "a VariationID no earlier record has", variation_id)
    ref = ref.upper()
    if not is_sequence(ref):
        raise SourceFormatError(path, lineno, "REF made of A, C, G, T, N", ref)
    if not is_primary_chrom(chrom):
        return
    info = parse_info(info_text)
    shared = {**_variant_fields(info, variation_id), **_evidence_fields(info, release)}
    done: list[str] = []
    for alt in alts.upper().split(","):
        if alt.startswith("<") or alt == "*" or alt in done:
            continue  # a symbolic allele has no sequence to key on; a repeated ALT is the same allele
        if alt != NO_ALT and not is_sequence(alt):
            raise SourceFormatError(path, lineno, "ALT made of A, C, G, T, N (or '.')", alt)
        row = cv.compact({**cv.variant_key(normalize(chrom, int(pos_text), ref, alt)), **shared})
        if done:
            row["sameRecord"] = True
        done.append(alt)
        yield row


def _variant_fields(info: dict[str, str], variation_id: str) -> dict[str, Any]:
    symbols = [g.partition(":")[0] for g in info.get("GENEINFO", "").split("|") if g]
    genes = [s for s in symbols if not s.startswith("LOC")]
    consequences = []
    for term in info.get("MC", "").split(","):
        so_id, _, name = term.partition("|")
        if so_id.startswith("SO:"):
            consequences.append({"id": so_id, "name": name})
    rs = [r for r in info.get("RS", "").split("|") if r.isdigit()]
    return {
        "variationId": variation_id,
        "alleleId": info.get("ALLELEID") or None,
        "rsid": f"rs{rs[0]}" if rs else None,
        "hgvs": [h for h in info.get("CLNHGVS", "").split("|") if h and h != "."],
        "gene": genes[0] if genes else None,
        "genes": genes,
        "variantType": info.get("CLNVC") or None,
        "variantTypeSo": info.get("CLNVCSO") or None,
        "consequences": consequences,
    }


def _evidence_fields(info: dict[str, str], release: str) -> dict[str, Any]:
    significance = cv.spaced(info.get("CLNSIG"))
    status = cv.spaced(info.get("CLNREVSTAT"))
    stored, lookup = _condition_xrefs(info.get("CLNDISDB", ""))
    return {
        "significance": significance,
        "classification": cv.classification(significance),
        "reviewStatus": status,
        "stars": cv.stars(status),
        "origin": cv.origin(info.get("ORIGIN")),
        "origins": cv.origins(info.get("ORIGIN")),
        # CLNDN keeps ClinVar's spelling; only underscores become spaces.
        "conditionNames": [n.replace("_", " ") for n in info.get("CLNDN", "").split("|") if n and n != "."],
        "diseaseNames": _names_without_xrefs(info.get("CLNDN", ""), info.get("CLNDISDB", "")),
        "diseaseXrefs": list(stored),
        "conditionKeys": lookup,
        "conflicting": cv.spaced(info.get("CLNSIGCONF")),
        "clinvarRelease": release,
    }


def _names_without_xrefs(clndn: str, clndisdb: str) -> list[str]:
    """CLNDN names whose CLNDISDB group (the same ``|`` position) has no usable cross-reference:
    diseases ClinVar gives only by name (``APC-related disorder``), for kg.loaders.disease_names."""
    names = clndn.split("|")
    groups = clndisdb.split("|")
    out = []
    for i, name in enumerate(names):
        group = groups[i] if i < len(groups) else ""
        if name and name != "." and not any(cv.condition_xref(x) for x in group.split(",")):
            out.append(name.replace("_", " "))
    return out


@lru_cache(maxsize=65536)
def _condition_xrefs(clndisdb: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """CLNDISDB -> (canonical keys to store, per condition the DiseaseXref keys to look up).

    Conditions are ``|``-separated and each lists ``DB:ID`` entries separated by ``,``; records
    share a few thousand distinct values, hence the cache.
    """
    stored: list[str] = []
    lookup: list[tuple[str, ...]] = []
    for group in clndisdb.split("|"):
        keys: list[str] = []
        for entry in group.split(","):
            if found := cv.condition_xref(entry):
                if found[0] not in stored:
                    stored.append(found[0])
                keys += found[1]
        if keys:
            lookup.append(tuple(keys))
    return tuple(stored), tuple(lookup)


# The Variant's property group (kg/loaders/property_groups.py): node property -> row value.
VARIANT_FIELDS = {
    "rsid": "row.rsid",
    "gene": "row.gene",
    "variantType": "row.variantType",
    "variantTypeSo": "row.variantTypeSo",
    "clinvarVariationId": "row.variationId",
    "clinvarAlleleId": "row.alleleId",
}

# The genes and consequence terms of the whole release, MERGEd once (rows: ``{symbol}`` or ``{so, name}``,
# collected by the validation pass, :class:`Vocabulary`), so that the variants statement only looks them up.
# The Source is the one this load created (kg/loaders/release.py), so no ASSERTED_BY edge to it exists
# before this statement, and each symbol / term comes once: CREATE.
WRITE_VOCABULARY = (
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
CALL (row, src) {
  WITH row WHERE row.symbol IS NOT NULL
  MERGE (g:Gene {symbol: row.symbol})
  CREATE (g)-[:ASSERTED_BY]->(src)
}
CALL (row, src) {
  WITH row WHERE row.so IS NOT NULL
  MERGE (t:SequenceOntologyTerm {id: row.so})
"""
    + asserts("t", first={"name": "row.name"})
    + """}
"""
)

# One row per ALT allele. Variants and their IN_GENE / HAS_CONSEQUENCE edges are shared with other releases
# and sources: MERGE; a Variant's ASSERTED_BY edge carries the release's property group (VARIANT_FIELDS,
# kg/loaders/property_groups.py), MERGEd since several records may name one allele. The Evidence is release-scoped
# (``<release key>:<VariationID>``) and the release key is new (its Source was CREATEd by this load; a
# discarded or retired release leaves no ClinVar Evidence, which no Patient or curator owns): each Evidence
# and every edge from it is CREATEd, once per record (read_records rejects a VariationID used twice;
# one_edge_per_disease makes the disease entries distinct; a multi-allelic record's later alleles,
# ``sameRecord``, find the Evidence their first allele created). The uniqueness constraint on Evidence.id
# still guards the rule.
WRITE = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
"""
    + cv.VARIANT_MERGE
    + asserts("v", latest=VARIANT_FIELDS, union={"hgvs": "row.hgvs"})
    + """WITH src, v, row
CALL (v, row) {
  UNWIND row.genes AS symbol
  MATCH (g:Gene {symbol: symbol})
  MERGE (v)-[r:IN_GENE]->(g)
  SET RELEASES(r)
}
CALL (v, row) {
  UNWIND row.consequences AS c
  MATCH (t:SequenceOntologyTerm {id: c.id})
  MERGE (v)-[r:HAS_CONSEQUENCE]->(t)
  SET RELEASES(r)
}
CALL (src, v, row) {
  WITH src, v, row WHERE row.sameRecord IS NULL
  CREATE (e:Evidence {id: $source + ':' + row.variationId, source: 'clinvar', release: $source,
    recordId: row.variationId, type: 'pathogenicity', significance: row.significance,
    classification: row.classification, reviewStatus: row.reviewStatus, stars: row.stars,
    origin: row.origin, origins: row.origins, conditionNames: row.conditionNames,
    diseaseXrefs: row.diseaseXrefs, conflicting: row.conflicting, clinvarRelease: row.clinvarRelease,
    variationId: row.variationId, diseaseNames: row.props.diseaseNames,
    unresolvedDiseases: row.props.unresolvedDiseases,
    url: 'https://www.ncbi.nlm.nih.gov/clinvar/variation/' + row.variationId + '/'})
  CREATE (e)-[:ASSERTED_BY]->(src)
  CREATE (e)-[:ABOUT {releases: [$source]}]->(v)
  WITH e, row
  CALL (e, row) {
    UNWIND row.diseaseIds AS diseaseId
    MATCH (d:Disease {id: diseaseId})
    CREATE (e)-[:FOR_DISEASE {releases: [$source]}]->(d)
  }
  CALL (e, row) {
    UNWIND row.diseaseLinks AS link
    MATCH (d:Disease {id: link.id})
    CREATE (e)-[:FOR_DISEASE {releases: [$source], linkedBy: 'name', name: link.name}]->(d)
  }
}
CALL (v, row) {
  UNWIND CASE WHEN row.sameRecord THEN [$source + ':' + row.variationId] ELSE [] END AS evidenceId
  MATCH (e:Evidence {id: evidenceId})
  CREATE (e)-[:ABOUT {releases: [$source]}]->(v)
}
"""
)


class Vocabulary:
    """The genes (GENEINFO symbols) and consequence terms (MC) of a release, collected while the
    validation pass reads the file: a few thousand symbols and a few dozen terms, written once."""

    def __init__(self) -> None:
        self.genes: set[str] = set()
        self.terms: dict[str, str] = {}  # SO id -> the least of the names ClinVar gives it

    def add(self, row: Row) -> None:
        self.genes.update(row.get("genes", ()))
        for c in row.get("consequences", ()):
            name = self.terms.get(c["id"])
            self.terms[c["id"]] = c["name"] if name is None else min(name, c["name"])

    def rows(self) -> Iterator[Row]:
        for symbol in sorted(self.genes):
            yield {"symbol": symbol}
        for so_id, name in sorted(self.terms.items()):
            yield {"so": so_id, "name": name}


def disease_lookup(graph: Graph) -> dict[str, list[str]]:
    """DiseaseXref key -> Disease ids, as written by the DOID loader (empty when DOID is not loaded)."""
    rows = graph.read(cv.DISEASE_LOOKUP, prefixes=sorted(cv.DISEASE_PREFIXES))
    return {row["xref"]: row["diseases"] for row in rows if row["diseases"]}


def with_diseases(rows: Iterator[Row], lookup: dict[str, list[str]]) -> Iterator[Row]:
    """Replace ``conditionKeys`` by ``diseaseIds``: the Diseases any xref of any condition names."""
    for row in rows:
        ids: list[str] = []
        for keys in row.pop("conditionKeys", ()):
            for key in keys:
                if key in lookup:
                    ids += [d for d in lookup[key] if d not in ids]
        if ids:
            row["diseaseIds"] = ids
        yield row


def one_edge_per_disease(rows: Iterator[Row]) -> Iterator[Row]:
    """Each Disease once among a row's ``diseaseIds`` and ``diseaseLinks`` (WRITE creates an edge per
    entry): a disease both an xref and a name reach is linked by name (``linkedBy``, ``name``: what
    kg.loaders.disease_names.relink replaces), and two names reaching one disease give one link (the last)."""
    for row in rows:
        links = {link["id"]: link for link in row.get("diseaseLinks") or ()}
        if links:
            row["diseaseLinks"] = list(links.values())
            if "diseaseIds" in row:
                row["diseaseIds"] = [d for d in row["diseaseIds"] if d not in links]
        yield row


def stages(graph: Graph, vcf: Path, date: str, windows: Windows | None = None) -> list[Stage]:
    """The stages of a ClinVar VCF release: the file is read and checked to the end (collecting its genes
    and consequence terms) before the first write, then streamed again; ``windows`` collects the
    release's coverage from the rows written."""
    vocabulary = Vocabulary()

    def checked() -> Iterator[Row]:
        for row in read_records(vcf, date):  # a malformed file raises here, before anything is written
            vocabulary.add(row)
        return vocabulary.rows()

    def rows() -> Iterator[Row]:
        rows = with_diseases(read_records(vcf, date), disease_lookup(graph))
        rows = one_edge_per_disease(NameResolver(graph).annotate(rows))  # CLNDN names without xrefs: by name
        return _covered(rows, windows)

    return [
        Stage("genes and terms", WRITE_VOCABULARY, checked, batch_size=5000),
        # 5000 made the server spend several times more CPU in GC, for a slower load (bench/README.md)
        Stage("variants", WRITE, rows, batch_size=2000),
    ]


def _covered(rows: Iterator[Row], windows: Windows | None) -> Iterator[Row]:
    for row in rows:
        if windows is not None:
            windows.add(*cv.span(row))
        yield row


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> LoadReport:
    """Load the ClinVar VCF at ``path`` (the clinvar folder or the file) as release ``clinvar@<date>``."""
    vcf = find_vcf(Path(path))
    date = release_date(vcf)
    windows = Windows()
    release = SourceRelease(
        NAME, cv.release_version(version, date), LICENCE, (vcf,), URL, released_on=date, coverage=windows.text
    )
    return load_release(graph, release, stages(graph, vcf, date, windows), progress=progress)

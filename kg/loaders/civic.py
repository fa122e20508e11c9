"""CIViC loader: genes, variants (lifted to GRCh38), molecular profiles, evidence, assertions.

Reads one CIViC monthly release folder (``DD-Mon-YYYY-*.tsv`` + ``civic_accepted.vcf`` + the
UCSC ``hg19ToHg38.over.chain.gz``; see ../shared/data/civic/SOURCES.md) and writes, in order:

1. ``Gene`` (MERGE by HGNC symbol; sets civicGeneId, civicDescription — HGNC owns the rest),
2. ``Variant`` -[:IN_GENE]-> Gene: exact alleles keyed ``GRCh38:chrN:pos:ref:alt``; codon-,
   gene-level, protein-only and unplaceable variants keyed ``civic:variant:<id>``,
3. ``MolecularProfile`` -[:INCLUDES {negated}]-> Variant, with the boolean expression,
4. ``Evidence`` -[:ABOUT]-> MolecularProfile, -[:FOR_DISEASE]-> Disease, -[:FOR_DRUG]-> Drug,
5. ``Evidence:Assertion`` likewise, plus -[:SUPPORTED_BY]-> Evidence.

Property conventions: docs/GRAPH_MODEL.md. Parsing: kg/loaders/civic_rows.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.db import Graph
from kg.loaders.civic_files import CivicFiles, find_release, read_vcf_alleles
from kg.loaders.civic_rows import (
    VariantIndex,
    VariantReader,
    assertion_rows,
    evidence_rows,
    gene_rows,
    profile_rows,
)
from kg.loaders.disease_names import NameResolver
from kg.loaders.liftover import Liftover
from kg.loaders.property_groups import VARIANT_IDENTITY, asserts, edge
from kg.loaders.release import LoadReport, SourceRelease, Stage, load_release
from kg.loaders.statements import stamped

NAME = "civic"
LICENCE = "CC0 1.0 (CIViC); UCSC hg19ToHg38 chain: freely available"
URL = "https://civicdb.org/releases/main"

Row = dict[str, Any]

GENES = """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (g:Gene {symbol: row.symbol})
""" + asserts("g", latest={"civicGeneId": "row.civicGeneId", "civicDescription": "row.description"})

# Lists CIViC owns on a Variant: replaced by each release, united when two CIViC variants of
# one release are the same GRCh38 allele (row.duplicate).
_VARIANT_LISTS = (
    "civicVariantIds",
    "civicNames",
    "proteinChanges",
    "variantTypes",
    "clinvarIds",
    "aliases",
    "variantGroups",
    "rsids",
    "alleleIds",
)
_BY = edge("v")
_UNITE = {
    name: f"CASE WHEN row.duplicate THEN coalesce({_BY}.{name}, []) + "
    f"[x IN coalesce(row.{name}, []) WHERE NOT x IN coalesce({_BY}.{name}, [])] ELSE row.{name} END"
    for name in _VARIANT_LISTS
}

# The variant's property group (kg/loaders/property_groups.py): CIViC's fields newest-wins, its rsid
# only where no other source gives one, hgvs names united with other sources'.
VARIANTS = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (v:Variant {id: row.id})
"""
    + asserts(
        "v",
        latest={"gene": "row.gene", "name": "row.name", "proteinChange": "row.proteinChange", **_UNITE},
        first={"rsid": "row.rsid"},
        union={"hgvs": "row.hgvs"},
        group="row.props",
        identity=VARIANT_IDENTITY,
    )
    + """WITH v, row, src
FOREACH (_ IN CASE WHEN row.gene IS NULL THEN [] ELSE [1] END |
  MERGE (g:Gene {symbol: row.gene})
  MERGE (g)-[:ASSERTED_BY]->(src)
  MERGE (v)-[r:IN_GENE]->(g)
  SET RELEASES(r))
"""
)

PROFILES = stamped(
    """
MATCH (src:Source {key: $source})
UNWIND $rows AS row
MERGE (mp:MolecularProfile {id: row.id})
"""
    + asserts("mp", group="row.props")
    + """FOREACH (s IN row.stubs |
  MERGE (v:Variant {id: s.id})
  SET v.kind = 'other'
  """
    + asserts(
        "v",
        latest={
            "civicVariantId": "s.civicVariantId",
            "civicVariantIds": "[s.civicVariantId]",
            "name": "s.name",
            "civicName": "s.name",
            "reason": "s.reason",
        },
    )
    + """)
WITH mp, row
UNWIND row.members AS m
MATCH (v:Variant {id: m.id})
MERGE (mp)-[r:INCLUDES]->(v)
SET RELEASES(r), r.negated = m.negated
"""
)

# Shared by evidence items and assertions: the profile, disease and therapies of one row.
# A profile, disease or drug the row names: its name is a fallback (first wins; a profile's only when this
# release's MolecularProfileSummaries lack it) where CIViC is not the
# authority; a CIViC-only disease (no DOID) is CIViC's own (newest wins). kg/loaders/property_groups.py.
_CONTEXT = stamped(
    asserts("e", group="row.props")
    + """MERGE (mp:MolecularProfile {id: row.profileId})
"""
    + asserts(
        "mp",
        first={
            "name": f"CASE WHEN {edge('mp')}.props IS NULL THEN row.profileName END",
            "reason": f"CASE WHEN {edge('mp')}.props IS NULL THEN 'not in MolecularProfileSummaries' END",
        },
    )
    + """MERGE (e)-[about:ABOUT]->(mp)
SET RELEASES(about)
FOREACH (_ IN CASE WHEN row.diseaseId IS NULL THEN [] ELSE [1] END |
  MERGE (d:Disease {id: row.diseaseId})
  """
    + asserts(
        "d",
        latest={
            "name": "CASE WHEN row.civicOnlyDisease THEN row.props.disease END",
            "civicOnly": "CASE WHEN row.civicOnlyDisease THEN true END",
        },
        first={"name": "CASE WHEN NOT coalesce(row.civicOnlyDisease, false) THEN row.props.disease END"},
    )
    + """  MERGE (e)-[fd:FOR_DISEASE]->(d)
  SET RELEASES(fd), fd.linkedBy = row.diseaseLinkedBy, fd.name = row.diseaseLinkName)
FOREACH (t IN row.drugs |
  MERGE (drug:Drug {id: t.id})
  """
    + asserts("drug", first={"name": "t.name"})
    + """  MERGE (dn:DrugName {name: t.id})
  MERGE (dn)-[n:NAME_OF]->(drug)
  SET RELEASES(n)
  MERGE (dn)-[:ASSERTED_BY]->(src)
  MERGE (e)-[fr:FOR_DRUG]->(drug)
  SET RELEASES(fr))
"""
)

EVIDENCE = f"""
MATCH (src:Source {{key: $source}})
UNWIND $rows AS row
MERGE (e:Evidence {{id: row.id}})
{_CONTEXT}
"""

ASSERTIONS = stamped(f"""
MATCH (src:Source {{key: $source}})
UNWIND $rows AS row
MERGE (e:Evidence {{id: row.id}})
SET e:Assertion
{_CONTEXT}
WITH e, row
UNWIND row.evidenceIds AS eid
MATCH (ev:Evidence {{id: eid}})
MERGE (e)-[s:SUPPORTED_BY]->(ev)
SET RELEASES(s)
""")

# Row keys the Cypher reads directly; everything else in a parsed row is a node property.
_VARIANT_KEYS = ("id", "gene", "name", "proteinChange", "rsid", "hgvs", "duplicate", *_VARIANT_LISTS)
_PROFILE_KEYS = ("id", "members", "stubs")
_CONTEXT_KEYS = (
    "id",
    "profileId",
    "profileName",
    "diseaseId",
    "civicOnlyDisease",
    "diseaseLinkedBy",
    "diseaseLinkName",
    "drugs",
    "evidenceIds",
)


@dataclass
class CivicLoadReport(LoadReport):
    """The release report plus what the loader counted on the way (unplaced variants, ...)."""

    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = super().summary()
        if self.counts:
            text += "\n  " + "\n  ".join(f"{k}: {v:,}" for k, v in sorted(self.counts.items()))
        return text


def _graph_row(row: Row, keys: Iterable[str]) -> Row:
    """Split a parsed row into the keys the Cypher reads and ``props`` set on the node.

    Empty lists become null: the release does not assert that property (its property group,
    kg/loaders/property_groups.py, lists only what it gives a value).
    """
    keyset = set(keys)
    out: Row = {k: (None if row.get(k) == [] else row.get(k)) for k in keyset}
    out["props"] = {k: (None if v == [] else v) for k, v in row.items() if k not in keyset or k == "id"}
    return out


class _Run:
    """The state one load shares between its stages (built lazily: a skipped load reads nothing)."""

    def __init__(self, files: CivicFiles, graph: Graph) -> None:
        self.files = files
        self.tally: Counter[str] = Counter({"unplaced: liftover failed": 0})  # always reported
        self.names = NameResolver(graph, self.tally)
        self.index = VariantIndex()
        self.evidence_ids: set[str] = set()
        self._reader: VariantReader | None = None

    def reader(self, tally: Counter[str]) -> VariantReader:
        if self._reader is None:
            self._reader = VariantReader(
                self.files, Liftover(self.files.chain), read_vcf_alleles(self.files.vcf), tally
            )
        self._reader.tally = tally
        return self._reader

    def validate(self) -> None:
        """Read every file to the end before the first write.

        A format error then stops the load while the release has written nothing: fact edges
        carry one ``release`` each, so a failed release that had re-MERGEd edges of the active
        release would take them with it when it is discarded.
        """
        scratch: Counter[str] = Counter()
        index = VariantIndex()
        for rows in (
            gene_rows(self.files),
            self.reader(scratch).rows(index),
            profile_rows(self.files, index, scratch),
            evidence_rows(self.files, scratch),
            assertion_rows(self.files, scratch),
        ):
            for _ in rows:
                pass

    def genes(self) -> Iterator[Row]:
        self.validate()
        yield from gene_rows(self.files)

    def variants(self) -> Iterator[Row]:
        seen: set[str] = set()
        for row in self.reader(self.tally).rows(self.index):
            row["civicVariantIds"] = [row["civicVariantId"]]
            row["civicNames"] = [row["name"]]
            out = _graph_row(row, _VARIANT_KEYS)
            out["duplicate"] = row["id"] in seen
            if out["duplicate"]:
                self.tally["CIViC variants sharing a GRCh38 allele with an earlier one"] += 1
            seen.add(row["id"])
            yield out

    def profiles(self) -> Iterator[Row]:
        for row in profile_rows(self.files, self.index, self.tally):
            yield _graph_row(row, _PROFILE_KEYS)

    def by_name(self, row: Row) -> Row:
        """A disease CIViC names without a DOID, linked by name when one live DOID term has that name
        (kg.loaders.disease_names); otherwise CIViC's placeholder node, and the name is listed as
        unresolved."""
        if not row.get("civicOnlyDisease"):
            return {**row, "diseaseNames": None, "unresolvedDiseases": None}
        found = self.names.link(row["disease"])
        row = {
            **row,
            "diseaseNames": [row["disease"]],
            "unresolvedDiseases": None if found.disease else [row["disease"]],
        }
        if found.disease:
            row.update(
                diseaseId=found.disease, civicOnlyDisease=False, diseaseLinkedBy="name", diseaseLinkName=found.name
            )
        return row

    def evidence(self) -> Iterator[Row]:
        for row in evidence_rows(self.files, self.tally):
            self.evidence_ids.add(row["id"])
            yield _graph_row(self.by_name({**row, "source": NAME}), _CONTEXT_KEYS)

    def assertions(self) -> Iterator[Row]:
        for row in assertion_rows(self.files, self.tally):
            missing = [e for e in row["evidenceIds"] if e not in self.evidence_ids]
            self.tally["assertion evidence ids not among the accepted evidence items"] += len(missing)
            row = {**row, "source": NAME, "evidenceItemIds": row["evidenceIds"]}
            yield _graph_row(self.by_name(row), _CONTEXT_KEYS)


def stages(run: _Run) -> list[Stage]:
    return [
        Stage("genes", GENES, run.genes),
        Stage("variants", VARIANTS, run.variants, batch_size=2000),
        Stage("molecular profiles", PROFILES, run.profiles, batch_size=2000),
        Stage("evidence items", EVIDENCE, run.evidence, batch_size=1000),
        Stage("assertions", ASSERTIONS, run.assertions, batch_size=500),
    ]


def load(graph: Graph, path: Path, *, progress: bool = True, version: str | None = None) -> CivicLoadReport:
    """Load the CIViC release in ``path`` (its folder, or any one of its files)."""
    files = find_release(Path(path))
    release = SourceRelease(NAME, version or files.version, LICENCE, files.all, URL)
    run = _Run(files, graph)
    report = load_release(graph, release, stages(run), progress=progress)
    return CivicLoadReport(**vars(report), counts=dict(run.tally))

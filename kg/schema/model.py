"""The graph model: node labels, their keys, and the indexes the queries rely on.

See docs/ARCHITECTURE.md and ../shared/DESIGN.md. Names follow Biolink where they fit.
"""

from __future__ import annotations

# label -> key property (every key has a uniqueness constraint)
NODE_KEYS: dict[str, str] = {
    "Gene": "symbol",
    "Variant": "id",
    "MolecularProfile": "id",
    "Haplotype": "id",
    "Phenotype": "id",
    "Drug": "id",
    "Disease": "id",
    "Evidence": "id",
    "Assertion": "id",
    "Recommendation": "id",
    "Guideline": "id",  # PharmGKB guideline annotation id; -[:FOR_DRUG]-> Drug, <-[:PART_OF]- Recommendation
    "Diplotype": "id",  # "CYP2C19:*1/*2" -[:HAS_PHENOTYPE {guideline}]-> Phenotype (kg/loaders/pharmcat.py)
    "AlleleDefinition": "id",  # "<pharmcat release>:CYP2C19": the caller's definitions as JSON (kg.pharmcat.stored)
    "PhenotypeTable": "id",  # "<pharmcat release>:CPIC:CYP2C19": a diplotype table as JSON (kg.pharmcat.stored)
    "SequenceOntologyTerm": "id",
    "SecondaryFinding": "id",  # ACMG SF v3.0 gene-disorder row
    "Source": "key",  # "<name>@<version>"
    "Patient": "id",
    "Change": "id",  # a patient's re-interpretation (kg/queries/changes.py): patient data, never explored
    "GeneAlias": "name",  # lowercased alias / previous symbol -> Gene
    "DiseaseName": "name",  # lowercased name / synonym -> Disease
    "DrugName": "name",  # lowercased name / synonym -> Drug
    "DiseaseXref": "id",  # canonical xref "MESH:D008545", "UMLS:C0025202" -> Disease (kg.identity.diseases)
}

# Patient-owned nodes with a key (uniqueness constraint too), kept apart from NODE_KEYS so that the
# knowledge look-ups and traversals, which seek by NODE_KEYS, never start at one: an ObservedAllele
# (kg/matcher/calls.py) exists only because some patient carries that allele.
PATIENT_NODE_KEYS: dict[str, str] = {
    "ObservedAllele": "id",  # a normalised allele id (kg.identity.variants.variant_id) some Patient CALLED
}

# label -> properties with a plain range index (lookups other than the key)
RANGE_INDEXES: dict[str, tuple[str, ...]] = {
    "Gene": ("hgncId", "ncbiGeneId", "ensemblId"),
    "Variant": ("rsid", "pos", "gene", "proteinChange"),
    "Evidence": ("type", "level", "source"),
    "Disease": ("name",),
    "Drug": ("name", "rxnormId", "drugbankId", "pharmgkbId"),  # kg.queries.resolve.resolve_drug by id
    "Source": ("name",),
    "Haplotype": ("gene",),
    "Phenotype": ("gene",),
    "Diplotype": ("gene",),
    "Recommendation": ("lookupKey", "guideline"),
    "MolecularProfile": ("name",),
    "SequenceOntologyTerm": ("name",),  # CIViC variant types are SO names
    "Change": ("release",),  # the patients a release's load changed (kg.queries.changes.changed_patients)
}

# label -> properties for a full-text index (case-insensitive name search)
FULLTEXT_INDEXES: dict[str, tuple[str, ...]] = {
    "Disease": ("name", "synonyms"),
    "Drug": ("name", "synonyms"),
    # HGVS names (a list) and display names: kg/queries/resolve.py narrows with a phrase query
    # and then compares exactly, so "NM_004333.4:c.1799T>A" is an index look-up, not a scan.
    "Variant": ("hgvs", "name"),
}

# Relationship types a user may name (research traversal): an allow-list checked before any
# type is placed in a query. Direction reads as a sentence; see docs/GRAPH_MODEL.md.
RELATIONSHIP_TYPES: tuple[str, ...] = (
    "IN_GENE",
    "INCLUDES",
    "ABOUT",
    "FOR_DISEASE",
    "FOR_DRUG",
    "FOR_GENE",
    "FOR_PHENOTYPE",
    "DEFINED_BY",
    "HAS_PHENOTYPE",
    "IS_A",
    "REPLACED_BY",
    "SUPPORTED_BY",
    "HAS_CONSEQUENCE",
    "PART_OF",
    "HAS_VARIANT",
    "HAS_DIPLOTYPE",
    "HAS_CONDITION",
    "ASSERTED_BY",
    "SUPERSEDED_IN",
    "ALIAS_OF",
    "NAME_OF",
    "XREF_OF",
)

# Provenance and look-up edges: left out of path search by default (every fact reaches every
# other one through its Source in two hops, which says nothing).
INDEX_RELATIONSHIP_TYPES: tuple[str, ...] = ("ASSERTED_BY", "SUPERSEDED_IN", "ALIAS_OF", "NAME_OF", "XREF_OF")

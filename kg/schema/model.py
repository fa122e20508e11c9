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
    "SequenceOntologyTerm": "id",
    "SecondaryFinding": "id",  # ACMG SF v3.0 gene-disorder row
    "Source": "key",  # "<name>@<version>"
    "Patient": "id",
    "GeneAlias": "name",  # lowercased alias / previous symbol -> Gene
    "DiseaseName": "name",  # lowercased name / synonym -> Disease
    "DrugName": "name",  # lowercased name / synonym -> Drug
}

# label -> properties with a plain range index (lookups other than the key)
RANGE_INDEXES: dict[str, tuple[str, ...]] = {
    "Gene": ("hgncId", "ncbiGeneId", "ensemblId"),
    "Variant": ("rsid", "pos", "gene", "proteinChange"),
    "Evidence": ("type", "level", "source"),
    "Disease": ("name",),
    "Drug": ("name",),
    "Source": ("name",),
    "Haplotype": ("gene",),
    "Phenotype": ("gene",),
    "Recommendation": ("lookupKey", "guideline"),
    "MolecularProfile": ("name",),
}

# label -> properties for a full-text index (case-insensitive name search)
FULLTEXT_INDEXES: dict[str, tuple[str, ...]] = {
    "Disease": ("name", "synonyms"),
    "Drug": ("name", "synonyms"),
}

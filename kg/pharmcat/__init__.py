"""PharmCAT's reference data as the star-allele caller needs it: a pure data model, no file reading.

Below both the loader and the matcher. The loader's one reader of PharmCAT's release files
(:mod:`kg.loaders.pharmcat_files`) builds these objects; the loader stores them in the graph with
the release in the compact JSON form of :mod:`kg.pharmcat.stored` (docs/GRAPH_MODEL.md,
"Pharmacogenomics": ``AlleleDefinition`` and ``PhenotypeTable`` nodes); the matcher reads them
back from the graph, so a process with nothing but ``NEO4J_URI`` calls diplotypes.

- :mod:`kg.pharmcat.alleles`: named-allele definitions of a gene (positions, alleles, IUPAC
  codes, exemptions) and PharmCAT's allele-name order.
- :mod:`kg.pharmcat.phenotypes`: a gene's CPIC or DPWG diplotype -> phenotype table.
- :mod:`kg.pharmcat.stored`: both as JSON text, and back.
"""

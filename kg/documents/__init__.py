"""Documents about one patient, each presenting kg.queries.patient_report's answers and nothing else:
the printable report (HTML, PDF), the FHIR Genomics Reporting bundle and the GA4GH Phenopacket."""

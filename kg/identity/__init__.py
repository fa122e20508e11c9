"""Identity: one place for how each concept is named and keyed (variants, HGVS and protein changes,
drugs, diseases). Pure functions, no database and no files; below loaders, matcher and queries."""

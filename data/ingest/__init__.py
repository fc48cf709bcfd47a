"""Getting files in: the importer, the import columns of DATA.md, parsing, templates."""

"""Shared UI helpers for the page scripts: filters and cards, charts, the import panel."""

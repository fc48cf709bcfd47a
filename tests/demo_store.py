"""A small demo store on SQLite shared by the page and browser tests (built once per run)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from data.store.db import get_engine

UNTIL = date(2019, 12, 31)


def build(folder: Path) -> str:
    """Generate seed-7 demo data up to UNTIL into folder/demo.db; return its URL."""
    from data.demo import generate

    url = f"sqlite:///{folder / 'demo.db'}"
    generate(get_engine(url), seed=7, until=UNTIL)
    return url

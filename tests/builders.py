"""Tiny helpers to put hand-made rows into a store for tests (defaults for unused columns)."""
from __future__ import annotations

from datetime import datetime

from data.store.schema import DATA_TABLES, import_log


def ts(text: str) -> datetime:
    """'2024-03-01 09:00' -> datetime."""
    return datetime.fromisoformat(text)


def insert(engine, table: str, rows: list[dict]) -> None:
    t = DATA_TABLES[table]
    full = [{c.name: r.get(c.name) for c in t.columns if c.name in r or c.nullable}
            for r in rows]
    with engine.begin() as conn:
        conn.execute(t.insert(), full)


def log_import(engine, exported_at: datetime, table: str = "cases") -> None:
    with engine.begin() as conn:
        conn.execute(import_log.insert(), [{
            "table_name": table, "file_name": "test", "source": "import",
            "imported_at": exported_at, "exported_at": exported_at,
            "inserted": 0, "updated": 0, "rejected": 0}])

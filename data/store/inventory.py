"""What the store holds: per table its rows, date range, last import and freshness."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from data.store.labels import TABLE_LABELS
from data.store.schema import DATA_TABLES, RECORD_DATE, import_log


def _as_date(value) -> date | None:
    """Newest record value -> a date (months 'YYYY-MM' and years become their first day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return date(value, 1, 1)
    text = str(value)
    if len(text) == 7:
        text += "-01"
    return date.fromisoformat(text[:10])


def table_stats(engine: Engine, today: date) -> pd.DataFrame:
    """One row per data table: rows, first/last record date, last import, days since newest."""
    last_import = {}
    with engine.connect() as conn:
        for name, stamp in conn.execute(select(import_log.c.table_name,
                                               func.max(import_log.c.imported_at))
                                        .group_by(import_log.c.table_name)):
            last_import[name] = stamp
        rows = []
        for name, table in DATA_TABLES.items():
            column = RECORD_DATE.get(name)
            measures = [func.count()]
            if column:
                measures += [func.min(table.c[column]), func.max(table.c[column])]
            values = conn.execute(select(*measures).select_from(table)).one()
            first = _as_date(values[1]) if column else None
            newest = _as_date(values[2]) if column else None
            rows.append({
                "table": name, "label": TABLE_LABELS[name], "rows": int(values[0]),
                "first": first, "newest": newest, "last_import": last_import.get(name),
                "freshness_days": (today - newest).days if newest else None,
            })
    return pd.DataFrame(rows)

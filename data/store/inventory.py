"""What the store holds: per table its rows, date range, last import and freshness; the
table the data page shows of it; the database URL as it may be shown."""
from __future__ import annotations

import calendar
from datetime import date, datetime
from pathlib import PurePath

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from data.store import clock
from data.store.labels import TABLE_LABELS
from data.store.schema import DATA_TABLES, RECORD_DATE, import_log

AHEAD_NOTE = "含晚于数据截至的记录"
NONE_SHOWN = "—"


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


def _grain(value) -> str:
    """How fine a record date is: 'year' (an int), 'month' ('YYYY-MM') or 'day'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return "year"
    if isinstance(value, str) and len(value) == 7:
        return "month"
    return "day"


def _period_end(start: date, grain: str) -> date:
    """The last day of the year / month / day that starts on ``start``."""
    if grain == "year":
        return date(start.year, 12, 31)
    if grain == "month":
        return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return start


def _as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))  # SQLite may hand back text from max()


def table_stats(engine: Engine, as_of: date | None = None) -> pd.DataFrame:
    """One row per data table: rows, first/last record date (``grain``: day, month or
    year; months and years as their first day), last import and the days from the newest
    record to ``as_of`` (the store's 数据截至; default: today in Asia/Shanghai). A month or
    year is as fresh as its last day: the month or year of ``as_of`` itself counts 0 days.

    A table whose newest record lies after ``as_of`` has no freshness (``None``) and
    ``ahead`` set: a negative number of days means a record dated in the future (see the
    quality check 日期晚于数据截至), never that the data is fresher than fresh.
    """
    as_of = as_of or clock.today()
    last_import = {}
    with engine.connect() as conn:
        for name, stamp in conn.execute(select(import_log.c.table_name,
                                               func.max(import_log.c.imported_at))
                                        .group_by(import_log.c.table_name)):
            last_import[name] = _as_datetime(stamp)
        rows = []
        for name, table in DATA_TABLES.items():
            column = RECORD_DATE.get(name)
            measures = [func.count()]
            if column:
                measures += [func.min(table.c[column]), func.max(table.c[column])]
            values = conn.execute(select(*measures).select_from(table)).one()
            first = _as_date(values[1]) if column else None
            newest = _as_date(values[2]) if column else None
            grain = _grain(values[2]) if column else "day"
            days = None
            if newest:
                end = _period_end(newest, grain)
                days = -1 if newest > as_of else max((as_of - end).days, 0)
            rows.append({
                "table": name, "label": TABLE_LABELS[name], "rows": int(values[0]),
                "first": first, "newest": newest, "grain": grain,
                "last_import": last_import.get(name),
                "freshness_days": days if days is not None and days >= 0 else None,
                "ahead": days is not None and days < 0,
            })
    return pd.DataFrame(rows)


_GRAIN_FORMAT = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def _day(value, grain: str = "day") -> str:
    return NONE_SHOWN if value is None or pd.isna(value) else format(value, _GRAIN_FORMAT[grain])


def inventory_table(stats: pd.DataFrame) -> pd.DataFrame:
    """The data page's table of ``table_stats``: one dtype per column (text, or integers for
    the row counts), so it converts to Arrow as it is; "—" where there is no value, and a
    note where the newest record lies after 数据截至."""
    return pd.DataFrame({
        "数据表": stats["label"].astype("string"),
        "表名": stats["table"].astype("string"),
        "记录数": stats["rows"].astype("int64"),
        "最早日期": [_day(v, g) for v, g in zip(stats["first"], stats["grain"])],
        "最新日期": [_day(v, g) for v, g in zip(stats["newest"], stats["grain"])],
        "最近导入": [NONE_SHOWN if v is None or pd.isna(v) else f"{v:%Y-%m-%d %H:%M}"
                 for v in stats["last_import"]],
        "距数据截至(天)": [NONE_SHOWN if v is None or pd.isna(v) else str(int(v))
                      for v in stats["freshness_days"]],
        "说明": [AHEAD_NOTE if a else "" for a in stats["ahead"]],
    }).astype({c: "string" for c in ("最早日期", "最新日期", "最近导入", "距数据截至(天)", "说明")})


def shown_url(url: str) -> str:
    """The database URL as the page may show it: no password (nor any query parameter), and
    for a SQLite store only the file's name, not where it lies on the server."""
    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - never echo a string we cannot parse: it may hold a secret
        return "（无法识别的数据库地址）"
    if u.get_backend_name() == "sqlite":
        name = PurePath(u.database).name if u.database and u.database != ":memory:" else "内存数据库"
        return f"SQLite · {name}"
    return u.set(query={}).render_as_string(hide_password=True)

"""The one clock of Zhili: Asia/Shanghai wall time, whatever the server's time zone.

Every time that is stored (import_log stamps, the demo's cutoff) or shown (数据截至,
freshness, "today") comes from here, so a UTC server and a Beijing laptop agree. Values are
naive datetimes in Asia/Shanghai wall time with whole seconds, the store's convention
(data/store/schema.py).

    from data.store import clock
    clock.now()     # datetime(2026, 11, 27, 8, 0, 5), naive, Asia/Shanghai
    clock.today()   # date(2026, 11, 27)
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Asia/Shanghai wall time now: naive, whole seconds."""
    return datetime.now(TZ).replace(tzinfo=None, microsecond=0)


def today() -> date:
    """Today's date in Asia/Shanghai."""
    return now().date()


def to_local(value: datetime) -> datetime:
    """An aware datetime as naive Asia/Shanghai wall time (whole seconds); a naive one is
    taken as already being Asia/Shanghai wall time and only loses its microseconds."""
    if value.tzinfo is not None:
        value = value.astimezone(TZ).replace(tzinfo=None)
    return value.replace(microsecond=0)

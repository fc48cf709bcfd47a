"""Monthly trends for any domain: the months of a period with the same month a year
earlier and a trailing 12-month moving average, from one engine call by month."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from metrics.context import Query
from metrics.engine import Domain, compute
from metrics.period import Period


def _month_start(d: date, back: int) -> date:
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _shift(month: str, back: int) -> str:
    d = _month_start(date(int(month[:4]), int(month[5:]), 1), back)
    return f"{d:%Y-%m}"


def monthly_trend(engine: Engine, domain: Domain, q: Query, key: str) -> list[dict]:
    """Per month of the period: ``value`` of KPI ``key``, ``last_year`` (the same month a
    year earlier) and ``ma12`` (mean of the 12 months ending with it, when all 12 have a
    value). Months of the read-back window come from the same cohort rules as the period.
    A partial last month (the period ends mid-month) is compared as it is."""
    months = q.period.months()
    start = _month_start(q.period.start, 23)
    wide = compute(engine, domain, q.with_period(Period(start, q.period.end)), by=("month",))
    values = {m: figures[key] for m, figures in wide.groups.get("month", {}).items()}
    out = []
    for month in months:
        window = [values.get(_shift(month, back), 0 if _counts(key) else None)
                  for back in range(12)]
        ma = None if any(v is None for v in window) else sum(window) / 12
        out.append({"month": month, "value": values.get(month, 0 if _counts(key) else None),
                    "last_year": values.get(_shift(month, 12), 0 if _counts(key) else None),
                    "ma12": ma})
    return out


def _counts(key: str) -> bool:
    """Counts are 0 in a month without rows; rates and other values have no value there."""
    from metrics.registry import get

    return get(key).kind == "count"

"""Monthly trends: same month last year and the 12-month moving average, by hand."""
from __future__ import annotations

from datetime import date

import pytest

from metrics import incidents
from metrics.context import Query
from metrics.period import Period
from metrics.settings import load_settings
from metrics.trends import monthly_trend
from tests.builders import insert, log_import, ts


def test_last_year_and_moving_average(engine):
    # one incident on the 10th of every month from 2023-01 to 2024-03, plus 3 extra in
    # 2023-03 and 11 extra in 2024-02
    rows, n = [], 0
    for index in range(2023 * 12, 2024 * 12 + 3):
        y, m = divmod(index, 12)
        extra = {(2023, 3): 3, (2024, 2): 11}.get((y, m + 1), 0)
        for _ in range(1 + extra):
            n += 1
            rows.append(dict(incident_id=f"i{n}", occurred_at=ts(f"{y}-{m + 1:02d}-10 10:00"),
                             category="治安", community="A社区", is_valid=True))
    insert(engine, "communities", [dict(name="A社区", kind="社区", population=1000)])
    insert(engine, "incidents", rows)
    log_import(engine, ts("2024-03-31 23:00"), "incidents")
    q = Query(Period(date(2024, 2, 1), date(2024, 3, 31)), (), ts("2024-03-31 23:00"),
              load_settings())
    trend = monthly_trend(engine, incidents.DOMAIN, q, "incidents.total")
    assert [t["month"] for t in trend] == ["2024-02", "2024-03"]
    feb, mar = trend
    assert (feb["value"], feb["last_year"]) == (12, 1)
    assert (mar["value"], mar["last_year"]) == (1, 4)
    # 12 months 2023-03..2024-02: 11 ones + 4 (2023-03) ... 2024-02 = 12 -> (10 + 4 + 12) / 12
    assert feb["ma12"] == pytest.approx((10 * 1 + 4 + 12) / 12)
    # 2023-04..2024-03: 10 ones + 12 + 1
    assert mar["ma12"] == pytest.approx((10 + 12 + 1) / 12)

"""Periods, comparisons, null rates, Wilson intervals and percentiles, worked out by hand."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from metrics import registry
from metrics.compare import changes
from metrics.formatting import fmt_change, fmt_kpi
from metrics.period import Period, PeriodError, preset_period, shift_years
from metrics.stats import percentile, percentile_of_sorted, rate, wilson


def test_previous_period_has_equal_length_and_ends_the_day_before():
    p = Period(date(2024, 3, 1), date(2024, 3, 31))          # 31 days
    assert p.previous() == Period(date(2024, 1, 30), date(2024, 2, 29))  # leap February


def test_year_earlier_maps_29_february_to_28():
    p = Period(date(2024, 2, 1), date(2024, 2, 29))
    assert p.year_earlier() == Period(date(2023, 2, 1), date(2023, 2, 28))
    assert shift_years(date(2020, 2, 29), 4) == date(2024, 2, 29)


@pytest.mark.parametrize("name, as_of, expected", [
    ("本月", date(2024, 2, 29), (date(2024, 2, 1), date(2024, 2, 29))),
    ("上月", date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),
    ("上月", date(2024, 1, 15), (date(2023, 12, 1), date(2023, 12, 31))),
    ("本季度", date(2024, 5, 31), (date(2024, 4, 1), date(2024, 5, 31))),
    ("本年", date(2024, 11, 27), (date(2024, 1, 1), date(2024, 11, 27))),
    ("近12个月", date(2024, 2, 29), (date(2023, 3, 1), date(2024, 2, 29))),
    ("近12个月", date(2024, 11, 27), (date(2023, 11, 28), date(2024, 11, 27))),
])
def test_presets_count_from_as_of(name, as_of, expected):
    p = preset_period(name, as_of)
    assert (p.start, p.end) == expected


def test_bad_periods_raise():
    with pytest.raises(PeriodError):
        Period(date(2024, 3, 2), date(2024, 3, 1))
    with pytest.raises(PeriodError):
        preset_period("明年", date(2024, 1, 1))


def test_months_of_a_period():
    assert Period(date(2023, 11, 15), date(2024, 2, 1)).months() == [
        "2023-11", "2023-12", "2024-01", "2024-02"]


def test_rate_is_null_on_zero_denominator():
    assert rate(0, 0) is None and rate(3, None) is None
    assert rate(0, 5) == 0.0 and rate(3, 4) == 0.75


def test_wilson_matches_the_closed_form():
    # p = 0.5, n = 10, z = 1.96: centre 0.5, half = 1.96*sqrt(0.025 + 0.0096)/1.3841
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson(0, 20)          # all failures: lower bound 0, upper 3.84/23.84
    assert lo == 0.0 and hi == pytest.approx(3.8415 / 23.8415, abs=1e-4)
    assert wilson(0, 0) is None


def test_percentiles_interpolate_linearly():
    assert percentile([24, 48, 96], 50) == 48
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)   # 1 + 0.9*3 = 3.7th order
    assert percentile([], 50) is None


def test_percentile_of_sorted_is_numpys_percentile():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 10, 997):
        values = np.sort(rng.integers(0, 10**6, n)) / 3600.0
        for q in (0, 10, 25, 50, 90, 99, 100):
            assert percentile_of_sorted(values, q) == np.percentile(values, q)
    assert percentile_of_sorted([], 50) is None


def test_changes_are_points_for_rates_and_relative_for_counts():
    cur = {"cases.total": 120, "cases.closure_rate": 0.95, "cases.closed": 5}
    base = {"cases.total": 100, "cases.closure_rate": 0.90, "cases.closed": 0}
    ch = changes(cur, base)
    assert ch["cases.total"] == pytest.approx(0.2)
    assert ch["cases.closure_rate"] == pytest.approx(0.05)
    assert ch["cases.closed"] is None                      # base 0
    assert fmt_change("cases.closure_rate", 0.05) == "+5.0 个百分点"
    assert fmt_change("cases.total", 0.2) == "+20.0%"


def test_formats_show_null_as_dash():
    assert fmt_kpi("cases.closure_rate", None) == "—"
    assert fmt_kpi("cases.closure_rate", 0.9412) == "94.1%"
    assert fmt_kpi("cases.total", 12345) == "12,345"


def test_registry_is_complete_and_chinese():
    spec_case_keys = {
        "total", "closed", "closure_rate", "on_time_closed", "on_time_rate", "overdue_open",
        "median_hours_to_close", "p90_hours_to_close", "response_rate", "callbacks",
        "resolution_rate", "satisfaction_rate", "three_rate_score", "community_level_share",
        "street_level_share", "escalated_share"}
    assert set(registry.keys("cases")) == {f"cases.{k}" for k in spec_case_keys}
    for kpi in registry.REGISTRY.values():
        assert kpi.fmt in registry.FORMATS
        assert any("\u4e00" <= ch <= "\u9fff" for ch in kpi.label), kpi.key
        assert kpi.definition


def test_registry_declarations_match_their_domains():
    """Every count a KPI names exists in its domain's declaration; every declared domain's
    KPIs are those of KPI.md; formats and kinds are known."""
    from metrics.domains import DOMAINS

    spec = {"petitions": {"total", "persons", "collective", "repeat_rate", "leapfrog",
                          "closure_rate", "on_time_rate"},
            "incidents": {"total", "criminal", "public_order", "per_10k", "compstat",
                          "trend_flag"}}
    for name, names in spec.items():
        assert set(registry.keys(name)) == {f"{name}.{k}" for k in names}
    for name, domain in DOMAINS.items():
        kpis = registry.of_domain(name)
        assert kpis and name in registry.DOMAINS
        for kpi in kpis:
            assert kpi.kind in registry.KINDS, kpi.key
            for count in (*kpi.count, *kpi.num, *kpi.den):
                assert count in domain.count_names, (kpi.key, count)
            if kpi.is_rate:
                assert kpi.num and kpi.den, kpi.key
            if kpi.kind == "score":
                assert all(registry.get(p).is_rate for p in kpi.parts)
            if kpi.kind == "backlog":
                assert domain.backlog is not None, kpi.key


def test_months_table_of_two_centuries_on_every_database(engine):
    """1900-01 … 2100-12 is 2 412 months: more terms than SQLite allows in one compound."""
    from datetime import date, datetime

    from sqlalchemy import func, select

    from metrics.context import Query
    from metrics.engine.domain import months_table
    from metrics.period import Period
    from metrics.settings import load_settings

    q = Query(Period(date(1900, 1, 1), date(2100, 12, 31)), (), datetime(2100, 12, 31, 23, 59),
              load_settings())
    months = months_table(q)
    with engine.connect() as conn:
        n, first, last = conn.execute(select(func.count(), func.min(months.c.month),
                                             func.max(months.c.month))).one()
    assert (n, first, last) == (2412, "1900-01", "2100-12")

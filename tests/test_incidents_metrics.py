"""incidents.* and CompStat against a hand-made store; every figure is worked out in comments.

Communities: A (20 000 residents), B (10 000), C (population unknown).
"""
from __future__ import annotations

import math
from datetime import date

import pytest

from metrics import incidents as m
from metrics.context import Query
from metrics.period import Period
from metrics.settings import load_settings
from tests.builders import insert, log_import, ts

MONDAY = ts("2024-03-04 12:00")  # as_of on a Monday: WTD is that one day

INCIDENTS = [
    dict(incident_id="i1", occurred_at=ts("2024-03-04 08:00"), category="刑事", community="A社区"),
    # after as_of (12:00) on the as_of day: has not happened yet
    dict(incident_id="i2", occurred_at=ts("2024-03-04 13:00"), category="治安", community="A社区"),
    dict(incident_id="i3", occurred_at=ts("2024-03-03 22:00"), category="治安", community="B社区"),
    # invalid: excluded everywhere
    dict(incident_id="i4", occurred_at=ts("2024-03-02 10:00"), category="交通事故",
         community="A社区", is_valid=False),
    # 364 days before 2024-03-04 (same weekday): WTD prior of the Monday
    dict(incident_id="i5", occurred_at=ts("2023-03-06 09:00"), category="刑事", community="A社区"),
    dict(incident_id="i6", occurred_at=ts("2023-02-20 09:00"), category="治安", community="B社区"),
    dict(incident_id="i7", occurred_at=ts("2024-01-01 00:00"), category="群众求助",
         community="C社区"),
    dict(incident_id="i8", occurred_at=ts("2024-02-10 15:00"), category="刑事", community="B社区"),
    # 1 March 2023: outside YTD prior of 29 Feb 2024 (which ends 28 Feb 2023)
    dict(incident_id="i9", occurred_at=ts("2023-03-01 00:30"), category="治安", community="B社区"),
]


@pytest.fixture
def store(engine):
    insert(engine, "communities", [dict(name="A社区", kind="社区", population=20000),
                                   dict(name="B社区", kind="社区", population=10000),
                                   dict(name="C社区", kind="社区")])
    insert(engine, "incidents", [{"is_valid": True, **row} for row in INCIDENTS])
    log_import(engine, MONDAY, "incidents")
    return engine


def q(period=Period(date(2024, 3, 1), date(2024, 3, 31)), as_of=MONDAY, scope=(),
      settings=None):
    return Query(period, tuple(scope), as_of, settings or load_settings())


def cell(cur, prior, z, flag, change):
    return {"cur": cur, "prior": prior, "z": pytest.approx(z), "flag": flag,
            "change": change if change is None else pytest.approx(change)}


def test_period_figures_and_per_10k(store):
    r = m.compute(store, q())
    k = r.kpis
    # March by Monday 12:00: i1 (A, 刑事), i3 (B, 治安); i2 not yet, i4 invalid
    assert (k["incidents.total"], k["incidents.criminal"], k["incidents.public_order"]) == (2, 1, 1)
    assert k["incidents.per_10k"] == pytest.approx(2 / 30000 * 10000)  # C has no population
    community = r.groups["community"]
    assert community["A社区"]["incidents.per_10k"] == pytest.approx(0.5)
    assert community["B社区"]["incidents.per_10k"] == pytest.approx(1.0)
    assert r.groups["category"]["刑事"]["incidents.per_10k"] == pytest.approx(1 / 3)
    assert "incidents.compstat" not in community["A社区"]       # overall only
    c_only = m.compute(store, q(period=Period(date(2024, 1, 1), date(2024, 1, 31)),
                                scope=["C社区"]), by=()).kpis
    assert c_only["incidents.total"] == 1 and c_only["incidents.per_10k"] is None


def test_compstat_on_a_monday(store):
    table = m.compute(store, q(), by=()).kpis["incidents.compstat"]
    assert list(table)[:8] == ["刑事", "治安", "治安灾害事故", "交通事故", "火灾", "群众求助",
                               "举报投诉", "其它"] and list(table)[-1] == "TOTAL"
    # WTD = Monday only: i1 vs i5 (364 days earlier)
    assert table["刑事"]["wtd"] == cell(1, 1, 0.0, "平稳", 0.0)
    # 28 days 02-06..03-04: i1 i8 vs 2023-02-07..03-06: i5
    assert table["刑事"]["d28"] == cell(2, 1, 2 * (math.sqrt(2) - 1), "平稳", 1.0)
    # 治安 28 days: i3 vs i6 i9
    assert table["治安"]["d28"] == cell(1, 2, 2 * (1 - math.sqrt(2)), "平稳", -0.5)
    assert table["TOTAL"]["d28"] == cell(3, 3, 0.0, "平稳", 0.0)
    # YTD 2024-01-01..03-04: i1 i3 i7 i8 vs 2023-01-01..03-04: i6 i9
    assert table["TOTAL"]["ytd"] == cell(4, 2, 2 * (2 - math.sqrt(2)), "上升", 1.0)
    # a zero prior: change null, z still defined
    assert table["群众求助"]["ytd"] == cell(1, 0, 2.0, "上升", None)
    # no incidents at all, and only an invalid one: zeros
    for category in ("火灾", "交通事故"):
        assert table[category]["ytd"] == cell(0, 0, 0.0, "平稳", None)
    assert m.compute(store, q(), by=()).kpis["incidents.trend_flag"] == "平稳"


def test_compstat_thresholds_from_settings(store):
    settings = load_settings().with_overrides({"incidents.z_sharp_rise": 1.1})
    table = m.compute(store, q(settings=settings), by=()).kpis["incidents.compstat"]
    assert table["TOTAL"]["ytd"]["flag"] == "显著上升"          # z = 1.17 >= 1.1
    assert table["群众求助"]["ytd"]["flag"] == "显著上升"       # z = 2


def test_compstat_on_1_january(store):
    as_of = ts("2024-01-01 12:00")  # a Monday, and day one of the year
    table = m.compute(store, q(period=Period(date(2024, 1, 1), date(2024, 1, 1)), as_of=as_of),
                      by=()).kpis["incidents.compstat"]
    assert table["TOTAL"]["ytd"] == cell(1, 0, 2.0, "上升", None)       # i7 at 00:00
    assert table["TOTAL"]["wtd"] == cell(1, 0, 2.0, "上升", None)


def test_compstat_on_29_february(store):
    as_of = ts("2024-02-29 23:00")  # Thursday
    table = m.compute(store, q(period=Period(date(2024, 2, 1), date(2024, 2, 29)), as_of=as_of),
                      by=()).kpis["incidents.compstat"]
    # YTD 2024-01-01..02-29 (i7 i8) vs 2023-01-01..02-28 (i6; i9 on 1 March is outside)
    assert table["TOTAL"]["ytd"] == cell(2, 1, 2 * (math.sqrt(2) - 1), "平稳", 1.0)
    # WTD 02-26..02-29: nothing vs 2023-02-27..03-02: i9
    assert table["TOTAL"]["wtd"] == cell(0, 1, -2.0, "下降", -1.0)
    assert table["治安"]["wtd"] == cell(0, 1, -2.0, "下降", -1.0)


def test_compstat_honours_scope(store):
    table = m.compute(store, q(scope=["A社区"]), by=()).kpis["incidents.compstat"]
    assert table["TOTAL"]["ytd"] == cell(1, 0, 2.0, "上升", None)   # i1 only; i5 is after 03-04


def test_compstat_rows_for_unlisted_and_missing_categories(store):
    insert(store, "incidents", [
        # no category: its own row 未填, counted in TOTAL
        dict(incident_id="n1", occurred_at=ts("2024-03-04 09:00"), category=None,
             community="A社区", is_valid=True),
        # an old category name, in the 28-day window
        dict(incident_id="n2", occurred_at=ts("2024-02-20 09:00"), category="纠纷",
             community="A社区", is_valid=True),
        # another one only in 2023-12 (after the prior year-to-date, before this year): in
        # no window, so no row of zeros
        dict(incident_id="n3", occurred_at=ts("2023-12-01 09:00"), category="旧类别",
             community="A社区", is_valid=True),
    ])
    table = m.compute(store, q(), by=()).kpis["incidents.compstat"]
    assert list(table)[8:] == ["未填", "纠纷", "TOTAL"]
    assert table["未填"]["wtd"] == cell(1, 0, 2.0, "上升", None)
    assert table["纠纷"]["d28"] == cell(1, 0, 2.0, "上升", None)
    # 28 days: i1 i3 i8 n1 n2 vs i5 i6 i9; z = 2(√5 − √3) = 1.008 ≥ 1
    assert table["TOTAL"]["d28"] == cell(5, 3, 2 * (math.sqrt(5) - math.sqrt(3)), "上升",
                                         2 / 3)


def test_hour_weekday_grid(store):
    grid = m.hour_weekday(store, q())
    # March by Monday 12:00: i1 Monday 08h, i3 Sunday 22h
    assert grid[0][8] == 1 and grid[6][22] == 1 and sum(map(sum, grid)) == 2


def test_locations_only_valid_with_coordinates(store):
    with store.begin() as conn:
        from data.store.schema import incidents as t
        conn.execute(t.update().where(t.c.incident_id.in_(["i1", "i4"]))
                     .values(lat=35.24, lon=115.47))
    assert m.locations(store, q()) == [(115.47, 35.24)]   # i4 is invalid, i3 has none

"""attendance.* and the calendar against the hand-made October 2024 store (tests/cadre_store.py);
every figure is worked out in comments. Run on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

from datetime import date

import pytest

from metrics import attendance as m, calendar, geo
from metrics.context import Query
from metrics.period import Period
from metrics.settings import load_settings
from tests import cadre_store as cs
from tests.builders import log_import, ts

OCTOBER = Period(date(2024, 10, 1), date(2024, 10, 31))


@pytest.fixture
def store(engine):
    cs.build(engine)
    log_import(engine, cs.AS_OF, "attendance")
    return engine


def q(period=OCTOBER, as_of=cs.AS_OF, scope=(), settings=None):
    return Query(period, tuple(scope), as_of, settings or load_settings())


# ------------------------------------------------------------------------------ calendar

def test_october_2024_workdays_follow_the_official_calendar():
    days = calendar.workdays(date(2024, 10, 1), date(2024, 10, 31))
    assert days == cs.OCTOBER_WORKDAYS and len(days) == 19
    assert calendar.is_makeup_day(date(2024, 10, 12))          # Saturday worked
    assert not calendar.is_workday(date(2024, 10, 7))          # Monday, National Day
    assert calendar.holiday_name(date(2024, 10, 3)) == "国庆节"
    # Spring Festival 2024: 10–17 February off, Sunday 4 and Sunday 18 February worked
    feb = calendar.workdays(date(2024, 2, 1), date(2024, 2, 29))
    assert date(2024, 2, 4) in feb and date(2024, 2, 18) in feb
    assert not any(date(2024, 2, d) in feb for d in range(10, 18))
    assert calendar.coverage_warning(date(2024, 1, 1), date(2024, 12, 31)) is None


def test_outside_the_calendar_monday_to_friday_with_a_warning():
    year = calendar.LAST_YEAR + 1
    first = date(year, 1, 1)
    days = calendar.workdays(first, date(year, 1, 31))
    assert all(d.weekday() < 5 for d in days)
    assert len(days) == sum(1 for i in range(31) if date(year, 1, 1 + i).weekday() < 5)
    assert "周一至周五" in calendar.coverage_warning(date(year - 1, 12, 1), date(year, 1, 31))
    assert m.calendar_warning(q(Period(first, date(year, 1, 31)))) is not None


# ------------------------------------------------------------------------------ figures

def test_october_totals(store):
    k = m.compute(store, q(), by=()).kpis
    # scheduled: c1 19 + c2 9 (from the 21st) + c3 7 (to the 15th) + c4 19 = 54
    assert k["attendance.scheduled_days"] == 54
    # present: c1 18 (absent on the 14th) + c2 8 (not the 31st; the 18th was before
    # joining) + c3 5 (not 14, 15; the 16th after leaving) + c4 19 = 50
    assert k["attendance.present_days"] == 50
    assert k["attendance.absent"] == 4
    assert k["attendance.rate"] == pytest.approx(50 / 54)
    # 08:30:00 is on time, 08:30:01 late; 17:29:59 is early, 17:30:00 not
    assert (k["attendance.late"], k["attendance.early_leave"]) == (1, 1)
    assert k["attendance.missing_checkout"] == 1                  # c1 on the 11th
    assert k["attendance.offday_checkins"] == 2                    # c1: 3rd (holiday), 13th
    # on duty: c1 17 days (its seconds), c2 8 x 9h15m, c3 5 x 9h25m, c4 19 x 9h30m
    seconds = cs.field_seconds_c1() + 8 * 33300 + 5 * 33900 + 19 * 34200
    assert k["attendance.avg_field_hours"] == pytest.approx(seconds / 49 / 3600)


def test_by_cadre_role_community_and_month(store):
    r = m.compute(store, q())
    c1 = r.groups["cadre"]["c1"]
    assert (c1["attendance.scheduled_days"], c1["attendance.present_days"],
            c1["attendance.absent"], c1["attendance.late"], c1["attendance.early_leave"],
            c1["attendance.missing_checkout"], c1["attendance.offday_checkins"]) == \
        (19, 18, 1, 1, 1, 1, 2)
    assert c1["attendance.avg_field_hours"] == pytest.approx(cs.field_seconds_c1() / 17 / 3600)
    # joined mid-month: only the days since joining are scheduled
    c2 = r.groups["cadre"]["c2"]
    assert (c2["attendance.scheduled_days"], c2["attendance.present_days"],
            c2["attendance.rate"]) == (9, 8, pytest.approx(8 / 9))
    # left mid-month
    c3 = r.groups["cadre"]["c3"]
    assert (c3["attendance.scheduled_days"], c3["attendance.present_days"],
            c3["attendance.absent"]) == (7, 5, 2)
    assert r.groups["cadre"]["c4"]["attendance.rate"] == 1.0
    role = r.groups["role"]
    assert (role["网格员"]["attendance.scheduled_days"], role["网格员"]["attendance.present_days"]) \
        == (28, 26)
    assert role["街道干部"]["attendance.rate"] == 1.0
    community = r.groups["community"]
    assert set(community) == {"A社区", "B社区", "未填"}          # 街道干部 have no community
    assert community["A社区"]["attendance.rate"] == pytest.approx(26 / 28)
    assert community["B社区"]["attendance.rate"] == pytest.approx(5 / 7)
    assert r.groups["month"]["2024-10"]["attendance.scheduled_days"] == 54


def test_scope_is_the_cadres_community(store):
    k = m.compute(store, q(scope=["A社区"]), by=()).kpis
    assert (k["attendance.scheduled_days"], k["attendance.present_days"],
            k["attendance.offday_checkins"]) == (28, 26, 2)


def test_as_of_mid_month(store):
    # as of Thursday 10 October 12:00: scheduled 8, 9, 10 for c1 and c4, c3 too (c2 not yet)
    k = m.compute(store, q(as_of=ts("2024-10-10 12:00")), by=("cadre",))
    c1 = k.groups["cadre"]["c1"]
    assert (c1["attendance.scheduled_days"], c1["attendance.present_days"],
            c1["attendance.late"]) == (3, 3, 1)
    # the 10th's check-out (17:29:59) has not happened yet: no early leave, no check-out
    assert (c1["attendance.early_leave"], c1["attendance.missing_checkout"]) == (0, 1)
    assert c1["attendance.offday_checkins"] == 1                  # the 3rd; the 13th is later
    assert "c2" not in k.groups["cadre"]
    assert k.kpis["attendance.scheduled_days"] == 9


def test_grace_minutes_from_settings(store):
    settings = load_settings().with_overrides({"attendance.grace_minutes": 1})
    k = m.compute(store, q(settings=settings), by=()).kpis
    assert (k["attendance.late"], k["attendance.early_leave"]) == (0, 0)


def test_cadre_calendar(store):
    days = {d.day.day: d for d in m.cadre_days(store, q(), "c1")}
    assert len(days) == 31
    assert days[8].status == "出勤" and days[9].status == "迟到"
    assert days[10].status == "早退" and days[11].status == "未签退"
    assert days[12].status == "出勤"                                 # make-up Saturday
    assert days[14].status == "缺勤"
    assert days[3].status == "非工作日打卡" and days[3].holiday == "国庆节"
    assert days[13].status == "非工作日打卡" and days[5].status == "休息日"
    c2 = {d.day.day: d.status for d in m.cadre_days(store, q(), "c2")}
    assert c2[18] == "未在岗" and c2[31] == "缺勤" and c2[22] == "出勤"
    # the calendar agrees with the figures
    figures = m.compute(store, q(), by=("cadre",)).groups["cadre"]["c1"]
    statuses = [d.status for d in days.values()]
    assert statuses.count("缺勤") == figures["attendance.absent"]
    assert statuses.count("非工作日打卡") == figures["attendance.offday_checkins"]
    assert m.cadre_days(store, q(), "nobody") == []


def test_far_checkins(store):
    far = m.far_checkins(store, q())
    # only c2 on the 22nd: 0.02° of longitude at 35.21° N is ~1.82 km; c1 on the 15th is
    # ~945 m away (within 1 km); c3 is far but B社区 has no outline; c4 has no community
    assert [(x["cadre_id"], x["day"]) for x in far] == [("c2", date(2024, 10, 22))]
    assert far[0]["distance_km"] == pytest.approx(geo.distance_km(35.21, 115.43, *cs.CENTRE))
    assert 1.8 < far[0]["distance_km"] < 1.85 and far[0]["name"] == "李四"
    looser = load_settings().with_overrides({"attendance.max_distance_km": 2.0})
    assert m.far_checkins(store, q(settings=looser)) == []
    stricter = load_settings().with_overrides({"attendance.max_distance_km": 0.9})
    assert len(m.far_checkins(store, q(settings=stricter))) == 2    # the 15th too


def test_centroid_of_outlines():
    square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    assert geo.centroid(square) == pytest.approx((1.0, 1.0))
    # an L shape: the area centroid, not the mean of the corners
    ell = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2],
                                               [0, 0]]]}
    assert geo.centroid(ell) == pytest.approx((5 / 6, 5 / 6))
    multi = {"type": "MultiPolygon", "coordinates": [square["coordinates"],
                                                     [[[4, 0], [6, 0], [6, 2], [4, 2], [4, 0]]]]}
    assert geo.centroid(multi) == pytest.approx((1.0, 3.0))
    assert geo.centroid({"type": "Point", "coordinates": [1, 2]}) is None


def test_league_table_within_a_role_and_min_sample(store):
    from metrics.tables import LO, league_table

    r = m.compute(store, q(), by=("cadre",))
    table = league_table(r, "cadre", load_settings(), rank_by="attendance.rate",
                         size=("scheduled",), units={"c1", "c2"})
    rows = {row["unit"]: row for row in table.to_dict("records")}
    assert set(rows) == {"c1", "c2"}                          # 网格员 only
    assert rows["c1"]["rank"] == 1 and rows["c1"][LO.format(key="attendance.rate")] < 18 / 19
    # c2 has 9 scheduled days, fewer than min_sample (10): shown, not ranked
    assert rows["c2"]["rank"] is None and rows["c2"]["note"] == "样本不足(9 < 10)"

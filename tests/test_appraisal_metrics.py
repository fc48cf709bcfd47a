"""appraisal.* against the hand-made October 2024 store (tests/cadre_store.py): each score
worked out point by point in hundredths. Three databases.

Component rates (attendance and logs from the other two test files):

- c1: attendance 18/19, logs 12/19; handled k1–k4 in October: closed 3/4, on time 1/3
  (k1 of k1, k2 closed with a deadline and k3 open past it), handling (3/4 + 1/3)/2 =
  13/24; satisfied 2/3 (k1 满意, k4 基本满意 of k1 k2 k4); overdue open at as_of: k3 and
  September's k5 = 2;
- c2: attendance 8/9, logs 6/9; k6 closed on time: handling 1; no callback: satisfaction
  has no data, its 10 points go to the other three (33.34 / 33.33 / 33.33);
- c3, c4: no handled cases: attendance and logs weigh 50 / 50.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from metrics import appraisal as m
from metrics.context import Query
from metrics.engine import compute
from metrics.period import Period
from metrics.report import kpi_report
from metrics.settings import load_settings
from tests import cadre_store as cs
from tests.builders import log_import

OCTOBER = Period(date(2024, 10, 1), date(2024, 10, 31))
# (score, tier, rank within role) in hundredths, from the module docstring:
EXPECTED = {
    # 30 x 18/19 = 28.42 + 30 x 12/19 = 18.95 + 30 x 13/24 = 16.25 + 10 x 2/3 = 6.67
    # = 70.29, minus 2 overdue cases x 1 = 68.29
    "c1": (68.29, "合格", 2),
    # 33.34 x 8/9 = 29.64 + 33.33 x 6/9 = 22.22 + 33.33 x 1 = 33.33 = 85.19
    "c2": (85.19, "良好", 1),
    # 50 x 5/7 = 35.71 + 50 x 1/7 = 7.14 = 42.85
    "c3": (42.85, "待改进", 1),
    # 50 x 19/19 = 50 + 50 x 3/19 = 7.89 = 57.89
    "c4": (57.89, "待改进", 1),
}


@pytest.fixture
def store(engine):
    cs.build(engine)
    log_import(engine, cs.AS_OF, "attendance")
    return engine


def q(period=OCTOBER, as_of=cs.AS_OF, scope=(), settings=None):
    return Query(period, tuple(scope), as_of, settings or load_settings())


def _d(x) -> Decimal:
    return Decimal(str(x))


def test_scores_tiers_ranks(store):
    r = compute(store, m.DOMAIN, q())
    got = {c: (f["appraisal.score"], f["appraisal.tier"], f["appraisal.rank"])
           for c, f in r.groups["cadre"].items()}
    assert got == EXPECTED
    # mean (68.29 + 85.19 + 42.85 + 57.89) / 4
    assert r.kpis["appraisal.mean_score"] == pytest.approx(254.22 / 4)
    assert r.kpis["appraisal.tiers"] == {"优秀": 0, "良好": 1, "合格": 1, "待改进": 2}
    assert r.groups["role"]["网格员"]["appraisal.mean_score"] == pytest.approx((68.29 + 85.19) / 2)
    assert r.groups["community"]["未填"]["appraisal.tiers"]["待改进"] == 1


def test_parts_add_up_to_the_score(store):
    groups = compute(store, m.DOMAIN, q()).groups["cadre"]
    for cadre, figures in groups.items():
        parts = figures["appraisal.parts"]
        components = parts["components"].values()
        deducted = _d(parts["deductions"]["overdue_cases"]["points"])
        score = _d(figures["appraisal.score"])
        assert sum(_d(c["earned"]) for c in components) - deducted == score, cadre
        assert sum(_d(c["weight"]) for c in components) == 100
        assert 100 - sum(_d(c["lost"]) for c in components) - deducted == score, cadre
    c1 = groups["c1"]["appraisal.parts"]
    assert {k: (v["weight"], v["earned"], v["lost"]) for k, v in c1["components"].items()} == {
        "attendance_rate": (30.0, 28.42, 1.58), "log_rate": (30.0, 18.95, 11.05),
        "case_handling": (30.0, 16.25, 13.75), "case_satisfaction_rate": (10.0, 6.67, 3.33)}
    handling = c1["components"]["case_handling"]
    assert (handling["closure_num"], handling["closure_den"]) == (3, 4)
    assert (handling["on_time_num"], handling["on_time_den"]) == (1, 3)
    assert handling["rate"] == pytest.approx(13 / 24)
    assert c1["deductions"]["overdue_cases"] == {
        "count": 2, "per_case": 1.0, "cap": 20.0, "points": 2.0}


def test_a_component_without_data_is_left_out_and_weights_renormalised(store):
    groups = compute(store, m.DOMAIN, q()).groups["cadre"]
    c2 = groups["c2"]["appraisal.parts"]["components"]
    assert c2["case_satisfaction_rate"]["rate"] is None
    assert [c2[k]["weight"] for k in m.COMPONENTS] == [33.34, 33.33, 33.33, 0.0]
    assert [c2[k]["earned"] for k in m.COMPONENTS] == [29.64, 22.22, 33.33, 0.0]
    c3 = groups["c3"]["appraisal.parts"]["components"]     # no handled cases at all
    assert [c3[k]["weight"] for k in m.COMPONENTS] == [50.0, 50.0, 0.0, 0.0]
    assert c3["case_handling"]["nominal_weight"] == 30.0


def test_scope_applies_to_the_cadre_not_to_the_case(store):
    groups = compute(store, m.DOMAIN, q(scope=["A社区"])).groups["cadre"]
    # c1's k2 lies in B社区 and still counts: the same 68.29
    assert {c: f["appraisal.score"] for c, f in groups.items()} == {"c1": 68.29, "c2": 85.19}


def test_deductions_capped_and_never_below_zero(store):
    settings = load_settings().with_overrides({"appraisal.deductions.per_overdue_case": 15.0})
    c1 = compute(store, m.DOMAIN, q(settings=settings)).groups["cadre"]["c1"]
    # 2 x 15 = 30, capped at 20: 70.29 - 20
    assert c1["appraisal.score"] == 50.29
    assert c1["appraisal.parts"]["deductions"]["overdue_cases"]["points"] == 20.0
    rates = {k: {"rate": None} for k in m.COMPONENTS}
    rates["attendance_rate"] = {"rate": m.Fraction(1, 10)}     # 100 x 0.1 = 10 points
    low = m.score_cadre(rates, overdue=15, settings=load_settings())
    assert low["score"] == 0.0 and low["parts"]["deductions"]["overdue_cases"]["points"] == 10.0
    assert m.score_cadre({k: {"rate": None} for k in m.COMPONENTS}, 0, load_settings()) is None


def test_ties_share_a_rank_and_tiers_from_settings():
    assert m._ranks({"a": 9000, "b": 8500, "c": 9000, "d": 7000}) == \
        {"a": 1, "c": 1, "b": 3, "d": 4}
    s = load_settings()
    assert m.tier_of(9000, s) == "优秀" and m.tier_of(8999, s) == "良好"
    assert m.tier_of(6000, s) == "合格" and m.tier_of(5999, s) == "待改进"
    assert m.effective_weights({"a": 30, "b": 30, "c": 30}, ["a", "b", "c"]) == \
        {"a": 3334, "b": 3333, "c": 3333}


def test_kpi_report_by_cadre_carries_every_figure(store):
    report = kpi_report(store, q(), by="cadre", only=("attendance", "worklogs", "appraisal"))
    c1 = report["groups"]["c1"]
    assert c1["attendance.rate"] == pytest.approx(18 / 19)
    assert c1["worklogs.suspect"] == 9
    assert (c1["appraisal.score"], c1["appraisal.tier"], c1["appraisal.rank"]) == (68.29, "合格", 2)
    assert "appraisal.mean_score" in report["kpis"] and "appraisal.score" not in report["kpis"]
    by_role = kpi_report(store, q(), by="role", only=("appraisal",))
    assert by_role["groups"]["网格员"]["appraisal.tiers"]["良好"] == 1


def test_month_query_is_judged_at_the_months_end(store):
    mq = m.month_query(store, "2024-10", settings=load_settings(), as_of=cs.AS_OF)
    assert (mq.period.start, mq.period.end) == (date(2024, 10, 1), date(2024, 10, 31))
    assert mq.as_of == cs.at(date(2024, 10, 31), "23:59:59")
    running = m.month_query(store, "2024-11", as_of=cs.AS_OF)
    assert running.as_of == cs.AS_OF
    assert m.month_complete("2024-10", cs.AS_OF) and not m.month_complete("2024-11", cs.AS_OF)
    rows = m.sheet(store, mq)
    # as of 31 October 23:59:59 the same figures (nothing relevant happened later)
    assert [(r["cadre_id"], r["role"], r["score"]) for r in rows] == [
        ("c4", "街道干部", 57.89), ("c3", "社区干部", 42.85), ("c2", "网格员", 85.19),
        ("c1", "网格员", 68.29)]


def test_handled_cases_behind_the_points(store):
    rows = m.handled_cases(store, q(), "c1")
    got = {r["case_id"]: (r["problems"], r["in_period"], r["deducted"]) for r in rows}
    assert got == {"k2": ("超期、回访不满意", True, False),
                   "k3": ("未办结、超期", True, True),      # also open past its deadline
                   "k5": ("超期未办结", False, True)}       # September's, still open
    assert sum(r["deducted"] for r in rows) == 2            # the deduction's count

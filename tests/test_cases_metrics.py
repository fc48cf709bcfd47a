"""cases.* KPIs against a hand-made store whose every figure is worked out in the comments.

Cohort: March 2024, as_of 2024-03-31 18:00. Cases c1..c6 are in the cohort (A: c1..c5,
B: c6); c7 is an old open overdue case (backlog only), c8 is reported after as_of (does
not exist yet), c9 is in February.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from metrics import case_lists as lists
from metrics import cases as m
from metrics import engine
from metrics.engine import cube, keys, sql
from metrics.context import Query, make_query
from metrics.period import Period
from metrics.settings import load_settings
from tests.builders import insert, log_import, ts

AS_OF = ts("2024-03-31 18:00")
MARCH = Period(date(2024, 3, 1), date(2024, 3, 31))

CASES = [
    # c1: responded 1 h, closed in 48 h before deadline, 社区, resolved, 满意
    dict(case_id="c1", community="A社区", grid_id="g1", category="物业管理", channel="APP",
         handler_id="h1", reported_at=ts("2024-03-01 09:00"), responded_at=ts("2024-03-01 10:00"),
         deadline_at=ts("2024-03-05 09:00"), closed_at=ts("2024-03-03 09:00"), status="已办结",
         resolution_level="社区", callback_resolved=True, satisfaction="满意"),
    # c2: responded after 27 h (late), closed after deadline (96 h), 街道, unresolved, 不满意
    dict(case_id="c2", community="A社区", grid_id="g1", category="就业", channel="微信",
         handler_id="h2", reported_at=ts("2024-03-02 09:00"), responded_at=ts("2024-03-03 12:00"),
         deadline_at=ts("2024-03-04 09:00"), closed_at=ts("2024-03-06 09:00"), status="已办结",
         resolution_level="街道", callback_resolved=False, satisfaction="不满意"),
    # c3: no deadline (out of on-time figures), closed in 24 h, 上级, resolved, 基本满意
    dict(case_id="c3", community="A社区", grid_id="g2", category="物业管理", channel="APP",
         handler_id="h1", reported_at=ts("2024-03-10 08:00"), responded_at=ts("2024-03-10 09:00"),
         deadline_at=None, closed_at=ts("2024-03-11 08:00"), status="已办结",
         resolution_level="上级", callback_resolved=True, satisfaction="基本满意"),
    # c4: closed only after as_of -> open and past its deadline; its callback does not count yet
    dict(case_id="c4", community="A社区", grid_id="g2", category="就业", channel="APP",
         handler_id="h2", reported_at=ts("2024-03-20 08:00"), responded_at=ts("2024-03-20 08:30"),
         deadline_at=ts("2024-03-25 08:00"), closed_at=ts("2024-04-02 08:00"), status="已办结",
         resolution_level="社区", callback_resolved=True, satisfaction="满意"),
    # c5: status says 已办结 but no closed_at -> open; never responded; deadline not yet due
    dict(case_id="c5", community="A社区", grid_id="g2", category="就业", channel="12345热线",
         handler_id="h2", reported_at=ts("2024-03-21 08:00"), responded_at=None,
         deadline_at=ts("2024-04-10 08:00"), closed_at=None, status="已办结"),
    # c6: status says 办理中 but closed_at set (closed); closed before reported (negative
    # duration: closed, on time, but out of the duration statistics); no callback
    dict(case_id="c6", community="B社区", grid_id="g3", category="物业管理", channel="来访",
         handler_id="h3", reported_at=ts("2024-03-05 10:00"), responded_at=ts("2024-03-05 11:00"),
         deadline_at=ts("2024-03-10 10:00"), closed_at=ts("2024-03-04 10:00"), status="办理中",
         resolution_level="社区"),
    # c7: reported in February, still open, deadline passed -> backlog only
    dict(case_id="c7", community="B社区", grid_id="g3", category="就业", channel="APP",
         reported_at=ts("2024-02-10 08:00"), deadline_at=ts("2024-02-20 08:00")),
    # c8: reported after as_of on the last day -> not yet happened
    dict(case_id="c8", community="B社区", grid_id="g3", category="就业", channel="APP",
         reported_at=ts("2024-03-31 19:00"), deadline_at=ts("2024-03-31 20:00")),
    # c9: February, closed
    dict(case_id="c9", community="A社区", grid_id="g1", category="就业", channel="APP",
         reported_at=ts("2024-02-01 08:00"), closed_at=ts("2024-02-05 08:00")),
]


@pytest.fixture
def store(engine):
    insert(engine, "communities", [dict(name="A社区", kind="社区", population=1000),
                                   dict(name="B社区", kind="社区", population=500)])
    insert(engine, "cadres", [dict(cadre_id="h1", name="张一", role="社区干部", community="A社区"),
                              dict(cadre_id="h2", name="李二", role="社区干部", community="A社区")])
    insert(engine, "cases", CASES)
    log_import(engine, AS_OF)
    return engine


def q(period=MARCH, scope=(), as_of=AS_OF, settings=None):
    return Query(period, tuple(scope), as_of, settings or load_settings())


def test_overall_figures(store):
    k = m.compute(store, q(), by=()).kpis
    assert k["cases.total"] == 6
    assert k["cases.closed"] == 4                      # c1 c2 c3 c6
    assert k["cases.closure_rate"] == pytest.approx(4 / 6)
    assert k["cases.on_time_closed"] == 2              # c1 c6
    assert k["cases.on_time_rate"] == pytest.approx(2 / 4)  # den c1 c2 c6 + open c4
    assert k["cases.overdue_open"] == 2                # c4 and the February c7
    assert k["cases.median_hours_to_close"] == pytest.approx(48.0)  # [24, 48, 96]
    assert k["cases.p90_hours_to_close"] == pytest.approx(48 + 0.8 * 48)
    assert k["cases.response_rate"] == pytest.approx(4 / 6)  # c1 c3 c4 c6
    assert k["cases.callbacks"] == 3                   # c1 c2 c3 (c4 not closed yet)
    assert k["cases.resolution_rate"] == pytest.approx(2 / 3)
    assert k["cases.satisfaction_rate"] == pytest.approx(2 / 3)
    assert k["cases.three_rate_score"] == pytest.approx(100 * (0.1 * 4 / 6 + 0.5 * 2 / 3
                                                               + 0.4 * 2 / 3))
    assert k["cases.community_level_share"] == pytest.approx(2 / 4)  # c1 c6 of c1 c2 c3 c6
    assert k["cases.street_level_share"] == pytest.approx(3 / 4)
    assert k["cases.escalated_share"] == pytest.approx(1 / 4)


def test_by_community(store):
    groups = m.compute(store, q(), by=("community",)).groups["community"]
    a, b = groups["A社区"], groups["B社区"]
    assert (a["cases.total"], a["cases.closed"], a["cases.overdue_open"]) == (5, 3, 1)
    assert a["cases.on_time_rate"] == pytest.approx(1 / 3)
    assert a["cases.response_rate"] == pytest.approx(3 / 5)
    assert a["cases.three_rate_score"] == pytest.approx(100 * (0.1 * 0.6 + 0.9 * 2 / 3))
    assert (b["cases.total"], b["cases.closed"], b["cases.overdue_open"]) == (1, 1, 1)
    assert b["cases.on_time_rate"] == 1.0
    assert b["cases.median_hours_to_close"] is None   # its only closed case is negative
    assert b["cases.callbacks"] == 0
    assert b["cases.resolution_rate"] is None and b["cases.three_rate_score"] is None
    counts = m.compute(store, q(), by=("community",)).counts["community"]
    assert counts["A社区"]["timed"] == 3 and counts["B社区"]["timed"] == 0  # c6 is negative


def test_other_breakdowns(store):
    r = m.compute(store, q())
    assert set(r.groups) == set(m.DIMENSIONS)
    assert {g: v["cases.total"] for g, v in r.groups["grid"].items()} == {"g1": 2, "g2": 3,
                                                                          "g3": 1}
    assert r.groups["grid"]["g2"]["cases.median_hours_to_close"] == 24.0  # c3 only
    assert {g: v["cases.total"] for g, v in r.groups["channel"].items()} == {
        "APP": 3, "微信": 1, "12345热线": 1, "来访": 1}
    assert r.groups["category"]["就业"]["cases.overdue_open"] == 2  # c4 and c7
    month = r.groups["month"]["2024-03"]
    assert month["cases.total"] == 6 and month["cases.overdue_open"] is None
    assert sum(r.duration_hist.values()) == 3


def test_empty_period_has_null_rates(store):
    k = m.compute(store, q(period=Period(date(2023, 1, 1), date(2023, 1, 31))), by=()).kpis
    assert k["cases.total"] == 0 and k["cases.closed"] == 0
    for key in ("closure_rate", "on_time_rate", "response_rate", "resolution_rate",
                "satisfaction_rate", "three_rate_score", "median_hours_to_close",
                "community_level_share"):
        assert k[f"cases.{key}"] is None, key
    assert k["cases.overdue_open"] == 2  # the backlog is not a cohort figure


def test_scope(store):
    k = m.compute(store, q(scope=["B社区"]), by=()).kpis
    assert (k["cases.total"], k["cases.closed"], k["cases.overdue_open"]) == (1, 1, 1)


def test_later_as_of_closes_c4(store):
    k = m.compute(store, q(as_of=ts("2024-04-03 00:00")), by=()).kpis
    assert k["cases.total"] == 7               # c8 (31 March 19:00) has now happened
    assert k["cases.closed"] == 5              # c4 closed on 2 April
    assert k["cases.callbacks"] == 4           # c4's callback now counts
    # c1 c6 on time / (closed with deadline c1 c2 c4 c6 + open c8 past its deadline)
    assert k["cases.on_time_rate"] == pytest.approx(2 / 5)


def test_response_rate_leaves_out_closed_cases_without_response(store):
    """KPI.md: a case closed with no 签收时间 has an unknown response (out of both parts);
    a case still open with none counts as not responded."""
    feb_mar = Period(date(2024, 2, 1), date(2024, 3, 31))
    r = m.compute(store, q(period=feb_mar), by=())
    # responded within 24 h: c1 c3 c4 c6; known: c1..c6 and c7 (open, never responded);
    # c9 (closed, no 签收) is left out
    assert r.totals["response_known"] == 7 and r.totals["total"] == 8
    assert r.kpis["cases.response_rate"] == pytest.approx(4 / 7)
    # February alone: c9 is unknown, c7 known and not responded -> 0 / 1; B社区 in
    # February has c7 only, A社区 has c9 only -> no known response: null, not 0
    feb = m.compute(store, q(period=Period(date(2024, 2, 1), date(2024, 2, 29))),
                    by=("community",))
    assert feb.kpis["cases.response_rate"] == 0.0
    assert feb.groups["community"]["A社区"]["cases.response_rate"] is None
    assert feb.groups["community"]["B社区"]["cases.response_rate"] == 0.0

    settings = load_settings().with_overrides({"cases.weights.response": 0.5,
                                               "cases.weights.resolution": 0.25,
                                               "cases.weights.satisfaction": 0.25})
    a = m.compute(store, q(settings=settings), by=("community",)).groups["community"]["A社区"]
    assert a["cases.three_rate_score"] == pytest.approx(100 * (0.5 * 0.6 + 0.5 * 2 / 3))


def test_lost_points_add_up_to_the_gap(store):
    lost = lists.lost_point_cases(store, q(), "A社区").set_index("case_id")
    assert list(lost.index) == ["c2", "c5", "c4"]
    assert lost.loc["c2", "points"] == pytest.approx(10 / 5 + 50 / 3 + 40 / 3)
    assert lost.loc["c5", "points"] == pytest.approx(10 / 5)
    assert lost.loc["c4", "on_time_points"] == pytest.approx(100 / 3)
    assert lost.loc["c2", "problems"] == "未及时响应、回访未解决、回访不满意、超期"
    score = m.compute(store, q(scope=["A社区"]), by=()).kpis["cases.three_rate_score"]
    assert lost["points"].sum() == pytest.approx(100 - score)


def test_backlog_list(store):
    df = lists.overdue_backlog(store, q())
    assert list(df["case_id"]) == ["c7", "c4"]
    assert df.loc[0, "days_overdue"] == pytest.approx(round((AS_OF - ts("2024-02-20 08:00"))
                                                            .total_seconds() / 86400, 1))
    assert df.loc[1, "handler"] == "李二"


def test_league_table_leaves_small_units_unranked(store):
    r = m.compute(store, q(), by=("community",))
    settings = load_settings().with_overrides({"cases.min_sample": 3})
    table = lists.league_table(r, "community", settings).set_index("unit")
    assert table.loc["A社区", "rank"] == 1
    assert not table.loc["B社区", "ranked"] and "样本不足" in table.loc["B社区", "note"]
    lo, hi = table.loc["A社区", ["cases.closure_rate:lo", "cases.closure_rate:hi"]]
    assert lo < 0.6 < hi


def test_default_as_of_is_data_as_of(store):
    assert make_query(store, MARCH).as_of == AS_OF


def _figures(result) -> tuple:
    return result.kpis, result.groups, result.counts, result.duration_hist


def _compute(store, query, **options):
    """The cases figures with the engine's options changed (coded keys, lanes)."""
    return engine.compute(store, replace(m.DOMAIN, **options), query)


def test_coded_and_text_keys_agree(store, monkeypatch):
    """The integer-coded cube and the text-keyed one give the same figures on every
    database; a value missing from the dictionaries falls back to text keys."""
    query = q(period=Period(date(2024, 2, 1), date(2024, 3, 31)))
    with store.connect() as conn:
        d = keys.read_dictionaries(conn, m.DOMAIN, query)
    assert sorted(d.values["channel"]) == sorted({"APP", "微信", "12345热线", "来访"})
    assert d.values["grid"] == ["g1", "g2", "g3"]  # once each, in the database's order
    assert (d.first_month, d.months) == (2024 * 12 + 1, 2)
    text_keys = _figures(_compute(store, query, coded_keys=False))
    assert _figures(m.compute(store, query)) == text_keys

    read = cube.read_dictionaries
    seen = []

    def without_微信(conn, domain, query):
        d = read(conn, domain, query)
        d.values["channel"].remove("微信")
        return d

    def spy(domain, p, dialect, dictionaries=None):
        seen.append(dictionaries is None)
        return cube_statement(domain, p, dialect, dictionaries)

    cube_statement = sql.cube_statement
    monkeypatch.setattr(cube, "read_dictionaries", without_微信)
    monkeypatch.setattr(sql, "cube_statement", spy)
    assert _figures(m.compute(store, query)) == text_keys
    assert seen[0] is False and seen[-1] is True  # coded first, then the text fallback


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_date_ranges_side_by_side_add_up(store, workers):
    """Cutting the period into date ranges read side by side changes nothing."""
    query = q(period=Period(date(2024, 2, 1), date(2024, 3, 31)))
    serial = _figures(_compute(store, query, lanes=False))
    settings = load_settings().with_overrides({"app.query_workers": workers})
    assert _figures(m.compute(store, q(period=query.period, settings=settings))) == serial


def test_parts_cover_the_period_once():
    query = q(period=Period(date(2024, 2, 27), date(2024, 3, 3)))  # 6 days
    for n, lengths in ((1, [6]), (4, [2, 1, 1, 2]), (9, [1] * 6)):
        parts = cube.split_period(query, n)
        assert [p.period.days for p in parts] == lengths
        assert parts[0].period.start == query.period.start
        assert parts[-1].period.end == query.period.end
        assert all(a.period.end.toordinal() + 1 == b.period.start.toordinal()
                   for a, b in zip(parts, parts[1:]))


def test_street_wide_lost_points_add_up_to_the_street_gap(store):
    """失分工单 for the whole scope (全街道): against the 街道's score, costliest first, each
    case with its community; c6 (B社区) costs nothing (no callback: outside the rates)."""
    lost = lists.lost_point_cases(store, q()).set_index("case_id")
    assert list(lost.index) == ["c2", "c5", "c4"]
    assert list(lost["community"]) == ["A社区", "A社区", "A社区"]
    # 街道: response over 6 cases (c2 late, c5 never: 100 × 0.1 / 6 each), resolution and
    # satisfaction over the 3 callbacks c1..c3 (c2 fails both: 100 × 0.5 / 3, 100 × 0.4 / 3);
    # on time over the 4 due cases c1, c2, c4, c6 (c2 late, c4 open: 25 points each)
    assert lost.loc["c2", "points"] == pytest.approx(10 / 6 + 50 / 3 + 40 / 3)
    assert lost.loc["c5", "points"] == pytest.approx(10 / 6)
    assert lost.loc["c4", "points"] == 0
    assert lost.loc["c4", "on_time_points"] == pytest.approx(25)
    assert lost.loc["c2", "on_time_points"] == pytest.approx(25)
    score = m.compute(store, q(), by=()).kpis["cases.three_rate_score"]
    assert lost["points"].sum() == pytest.approx(100 - score)
    assert lost["points"].is_monotonic_decreasing


def test_units_merge_into_larger_ones(store):
    """Categories merged (e.g. to their first level) add their counts and recompute the
    rates: merging every category gives the overall figures, merging none the categories'."""
    from metrics.engine.rollup import merge_units

    result = m.compute(store, q(), by=("category",))
    whole = merge_units(m.DOMAIN, result, "category", lambda c: "全部", load_settings())
    keys = ["cases.total", "cases.closure_rate", "cases.on_time_rate", "cases.response_rate",
            "cases.three_rate_score", "cases.overdue_open"]
    for key in keys:
        assert whole["全部"][key] == pytest.approx(result.kpis[key]), key
    same = merge_units(m.DOMAIN, result, "category", lambda c: c, load_settings())
    for unit, figures in result.groups["category"].items():
        for key in keys:
            assert same[unit][key] == pytest.approx(figures[key]), (unit, key)
    assert same["就业"]["cases.median_hours_to_close"] is None  # durations do not merge

"""petitions.* against a hand-made store; every expected figure is worked out in comments.

Cohort: March 2024, as_of 2024-03-31 18:00. p1 p2 p3 p4 p7 are in the cohort (A: p1 p2 p7,
B: p3 p4); p5 is in January, p6 is registered after as_of (has not happened yet).
"""
from __future__ import annotations

from datetime import date

import pytest

from metrics import petitions as m
from metrics.context import Query
from metrics.period import Period
from metrics.settings import load_settings
from tests.builders import insert, log_import, ts

AS_OF = ts("2024-03-31 18:00")
MARCH = Period(date(2024, 3, 1), date(2024, 3, 31))

PETITIONS = [
    # p1: 6 persons (collective), repeat; no deadline -> 60 days -> closed 03-20 on time
    dict(petition_id="p1", received_at=ts("2024-03-01 09:00"), form="来访", category="征地拆迁",
         community="A社区", persons=6, is_repeat=True, is_leapfrog=False,
         closed_at=ts("2024-03-20 10:00")),
    # p2: persons missing (1), repeat missing (no), leapfrog; closed after its deadline
    dict(petition_id="p2", received_at=ts("2024-03-02 09:00"), form="来信", category="物业",
         community="A社区", is_leapfrog=True, deadline_at=ts("2024-03-10 23:59:59"),
         closed_at=ts("2024-03-15 10:00")),
    # p3: exactly 5 persons (collective at the threshold); open past its deadline
    dict(petition_id="p3", received_at=ts("2024-03-05 09:00"), form="网上", category="物业",
         community="B社区", persons=5, is_repeat=False, deadline_at=ts("2024-03-20 00:00")),
    # p4: 2 persons, open, no deadline -> due 05-04, not yet passed
    dict(petition_id="p4", received_at=ts("2024-03-10 09:00"), form="电话", category="就业",
         community="B社区", persons=2),
    # p5: January, not in the cohort
    dict(petition_id="p5", received_at=ts("2024-01-15 09:00"), form="来访", community="A社区",
         persons=9),
    # p6: registered after as_of on the last day
    dict(petition_id="p6", received_at=ts("2024-03-31 19:00"), form="来访", community="A社区"),
    # p7: no form; closed only after as_of -> open, past its deadline
    dict(petition_id="p7", received_at=ts("2024-03-25 09:00"), community="A社区", persons=1,
         deadline_at=ts("2024-03-28 00:00"), closed_at=ts("2024-04-02 10:00")),
]


@pytest.fixture
def store(engine):
    insert(engine, "communities", [dict(name="A社区", kind="社区", population=1000),
                                   dict(name="B社区", kind="社区", population=500)])
    insert(engine, "petitions", PETITIONS)
    log_import(engine, AS_OF)
    return engine


def q(settings=None, scope=()):
    return Query(MARCH, tuple(scope), AS_OF, settings or load_settings())


def test_overall_figures(store):
    k = m.compute(store, q(), by=()).kpis
    assert k["petitions.total"] == 5                 # p1 p2 p3 p4 p7
    assert k["petitions.persons"] == 6 + 1 + 5 + 2 + 1
    assert k["petitions.collective"] == 2            # p1 (6), p3 (5)
    assert k["petitions.repeat_rate"] == pytest.approx(1 / 5)   # p1
    assert k["petitions.leapfrog"] == 1              # p2
    assert k["petitions.closure_rate"] == pytest.approx(2 / 5)  # p1 p2
    # on time p1 / (closed p1 p2 + open past deadline p3 p7); p4's 60 days not yet over
    assert k["petitions.on_time_rate"] == pytest.approx(1 / 4)


def test_settings_change_threshold_and_default_deadline(store):
    settings = load_settings().with_overrides({"petitions.collective_persons": 6,
                                               "petitions.default_deadline_days": 10})
    k = m.compute(store, q(settings), by=()).kpis
    assert k["petitions.collective"] == 1            # p1 only
    # p1 due 03-11 09:00, closed 03-20: late; p4 due 03-20: passed -> 0 / (2 + 3)
    assert k["petitions.on_time_rate"] == 0.0


def test_breakdowns_and_scope(store):
    r = m.compute(store, q())
    assert {u: g["petitions.total"] for u, g in r.groups["community"].items()} == {
        "A社区": 3, "B社区": 2}
    assert {u: g["petitions.total"] for u, g in r.groups["form"].items()} == {
        "来访": 1, "来信": 1, "网上": 1, "电话": 1, "未填": 1}
    assert r.groups["month"]["2024-03"]["petitions.persons"] == 15
    b = m.compute(store, q(scope=["B社区"]), by=()).kpis
    assert (b["petitions.total"], b["petitions.closure_rate"]) == (2, 0.0)
    assert b["petitions.on_time_rate"] == pytest.approx(0 / 1)  # p3 only in the denominator


def test_collective_and_overdue_lists(store):
    assert [r["petition_id"] for r in m.collective_list(store, q())] == ["p1", "p3"]
    # open past deadline as of 03-31 18:00, whatever the registration date: p5 (January,
    # no deadline -> due 03-15), p3 (03-20), p7 (03-28, closed only in April)
    assert [r["petition_id"] for r in m.overdue_list(store, q())] == ["p5", "p3", "p7"]
    assert m.overdue_list(store, q(scope=["B社区"]))[0]["petition_id"] == "p3"

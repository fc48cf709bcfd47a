"""The SQL cases KPIs (metrics.cases) agree with the independent pandas reference
(metrics.reference) on every key, overall and for every breakdown; and the benchmark's
store builder makes the store it promises."""
from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select, text

from metrics.bench import build_store, compare_results, generate_cases, store_cases
from data.store.db import get_engine
from data.demo import generate
from data.store.schema import cases as cases_table
from metrics import cases as m
from metrics.context import Query
from metrics.period import Period
from metrics.reference import cases_kpis_pandas
from metrics.settings import load_settings
from tests import test_cases_metrics as hand


def _reference(engine, q: Query) -> dict:
    with engine.connect() as conn:
        df = pd.read_sql(text("SELECT * FROM cases"), conn)
    return cases_kpis_pandas(df, q.as_of, q.settings, m.DIMENSIONS, period=q.period,
                             scope=q.scope)


def _agree(engine, q: Query) -> None:
    ours = m.compute(engine, q)
    ref = _reference(engine, q)
    assert set(ours.groups) == set(ref["groups"]) == set(m.DIMENSIONS)
    assert compare_results(ours, ref) == []


def test_agrees_on_the_hand_made_store(engine):
    from tests.builders import insert, log_import

    insert(engine, "communities", [dict(name="A社区", kind="社区", population=1000),
                                   dict(name="B社区", kind="社区", population=500)])
    insert(engine, "cases", hand.CASES)
    log_import(engine, hand.AS_OF)
    for as_of in (hand.AS_OF, datetime(2024, 4, 3)):
        _agree(engine, hand.q(as_of=as_of))
    _agree(engine, hand.q(scope=["B社区"]))
    _agree(engine, hand.q(period=Period(date(2023, 1, 1), date(2023, 1, 31))))


def test_agrees_on_a_generated_store(engine):
    generate(engine, seed=3, until=date(2018, 10, 31))  # holds the year's planted faults
    settings = load_settings()
    as_of = datetime(2018, 10, 31, 23, 59, 59)
    for period in (Period(date(2018, 1, 1), date(2018, 10, 31)),
                   Period(date(2018, 3, 1), date(2018, 5, 31))):
        _agree(engine, Query(period, (), as_of, settings))
    # an earlier as_of: later closures, responses and callbacks have not happened yet
    _agree(engine, Query(Period(date(2018, 6, 1), date(2018, 9, 30)), (),
                         datetime(2018, 9, 20, 12, 0), settings))
    _agree(engine, Query(Period(date(2018, 7, 1), date(2018, 10, 31)), ("和平社区", "丹阳社区"),
                         as_of, settings))


def test_bench_store_has_n_cases_spread_over_three_years(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    build_store(engine, 3000, chunk=1000)
    assert store_cases(engine) == 3000
    c = cases_table.c
    with engine.connect() as conn:
        years = dict(conn.execute(select(func.substr(c.reported_at, 1, 4), func.count())
                                  .group_by(func.substr(c.reported_at, 1, 4))).all())
        first, last = conn.execute(select(func.min(c.reported_at),
                                          func.max(c.reported_at))).one()
        n_ids = conn.execute(select(func.count(func.distinct(c.case_id)))).scalar_one()
        comms = conn.execute(select(func.count(func.distinct(c.community)))).scalar_one()
        open_, no_deadline, callbacks = conn.exec_driver_sql(
            "SELECT sum(closed_at IS NULL), sum(deadline_at IS NULL), count(satisfaction) "
            "FROM cases").one()
    assert set(years) == {"2023", "2024", "2025"}
    assert all(850 <= v <= 1150 for v in years.values()), years
    assert str(first) >= "2023-01-01" and str(last) <= "2025-12-31 23:59:59"
    assert n_ids == 3000 and comms >= 15
    assert 0.01 < open_ / 3000 < 0.12 and 0.005 < no_deadline / 3000 < 0.05
    assert 0.7 < callbacks / 3000 < 0.9
    # whole seconds, in the text format SQLAlchemy's SQLite DATETIME uses
    with engine.connect() as conn:
        sample = conn.exec_driver_sql("SELECT reported_at FROM cases LIMIT 1").scalar_one()
    assert sample.endswith(".000000") and len(sample) == 26
    # and the SQL KPIs agree with the reference on it
    _agree(engine, Query(Period(date(2025, 1, 1), date(2025, 12, 31)), (),
                         datetime(2025, 12, 31, 23, 59, 59), load_settings()))


def test_generated_columns_are_consistent():
    cols = generate_cases(5000, seed=1)
    closed = pd.Series(cols["closed_at"])
    sat = pd.Series(cols["satisfaction"])
    assert (sat.notna() <= closed.notna()).all()       # callbacks only on closed cases
    assert (pd.Series(cols["resolution_level"]).notna() == closed.notna()).all()
    rep = pd.Series(cols["reported_at"])
    assert rep.is_monotonic_increasing
    assert not math.isnan(float(pd.Series(cols["callback_resolved"]).mean()))

"""The incidents benchmark (metrics/bench/incidents.py) and its pandas reference
(metrics.reference.incidents_kpis_pandas): the reference reproduces the hand-computed
figures, the SQL incidents.* (CompStat included) equal it on the hand-made store and on a
small bench store, and the bench store has the promised shape."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from data import demo
from data.ingest.columns import INCIDENT_CATEGORIES
from data.store.db import get_engine
from metrics import incidents as m
from metrics.bench import build_incidents_store, generate_incidents, store_incidents
from metrics.bench.incidents import compare_incidents, reference
from metrics.context import Query
from metrics.period import Period
from metrics.reference import incidents_kpis_pandas
from metrics.settings import load_settings
from tests import test_incidents_metrics as hand
from tests.builders import insert, log_import, ts

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2025, 12, 31, 23, 59, 59)
POPULATION = {"A社区": 20000, "B社区": 10000, "C社区": None}


def _hand_reference(engine, query: Query) -> dict:
    with engine.connect() as conn:
        df = pd.read_sql(text("SELECT * FROM incidents"), conn)
    return incidents_kpis_pandas(df, POPULATION, query.as_of, query.settings,
                                 period=query.period, scope=query.scope)


@pytest.fixture
def hand_store(engine):
    insert(engine, "communities", [dict(name=n, kind="社区", population=p)
                                   for n, p in POPULATION.items()])
    insert(engine, "incidents", [{"is_valid": True, **row} for row in hand.INCIDENTS])
    log_import(engine, hand.MONDAY, "incidents")
    return engine


def test_reference_gives_the_hand_computed_figures(hand_store):
    ref = _hand_reference(hand_store, hand.q())
    k = ref["kpis"]
    assert (k["incidents.total"], k["incidents.criminal"], k["incidents.public_order"]) == (2, 1, 1)
    assert k["incidents.per_10k"] == pytest.approx(2 / 30000 * 10000)
    assert ref["groups"]["community"]["A社区"]["incidents.per_10k"] == pytest.approx(0.5)
    table = k["incidents.compstat"]
    assert list(table) == [*INCIDENT_CATEGORIES, "TOTAL"]
    assert table["刑事"]["d28"] == hand.cell(2, 1, 2 * (2 ** 0.5 - 1), "平稳", 1.0)
    assert table["TOTAL"]["ytd"] == hand.cell(4, 2, 2 * (2 - 2 ** 0.5), "上升", 1.0)
    assert table["群众求助"]["ytd"] == hand.cell(1, 0, 2.0, "上升", None)
    leap = _hand_reference(hand_store, hand.q(period=Period(date(2024, 2, 1), date(2024, 2, 29)),
                                              as_of=ts("2024-02-29 23:00")))
    assert leap["kpis"]["incidents.compstat"]["TOTAL"]["wtd"] == hand.cell(0, 1, -2.0, "下降", -1.0)


@pytest.mark.parametrize("case", ["march", "1 january", "29 february", "scope", "thresholds",
                                  "no population"])
def test_sql_equals_the_reference_on_the_hand_made_store(hand_store, case):
    query = {
        "march": hand.q(),
        "1 january": hand.q(period=Period(date(2024, 1, 1), date(2024, 1, 1)),
                            as_of=ts("2024-01-01 12:00")),
        "29 february": hand.q(period=Period(date(2024, 2, 1), date(2024, 2, 29)),
                              as_of=ts("2024-02-29 23:00")),
        "scope": hand.q(scope=["A社区", "B社区"]),
        "thresholds": hand.q(settings=load_settings().with_overrides(
            {"incidents.z_sharp_rise": 1.1})),
        "no population": hand.q(period=Period(date(2024, 1, 1), date(2024, 1, 31)),
                                scope=["C社区"]),
    }[case]
    assert compare_incidents(m.compute(hand_store, query), _hand_reference(hand_store, query)) \
        == []


def test_generated_incidents_look_like_the_demo():
    n = 60_000
    cols = generate_incidents(n)
    occurred = pd.Series(cols["occurred_at"])
    assert occurred.is_monotonic_increasing
    assert occurred.min() >= pd.Timestamp("2023-01-01")
    assert occurred.max() <= pd.Timestamp("2025-12-31 23:59:59")
    assert len(set(cols["incident_id"])) == n
    # the closed list with the demo's weights, subtypes of their own category
    share = pd.Series(cols["category"]).value_counts(normalize=True)
    assert set(share.index) == set(INCIDENT_CATEGORIES)
    for k, name in enumerate(demo.INC_CATS):
        assert abs(share[name] - demo.INC_P[k]) < 0.01, name
    assert all(s in demo.INCIDENT_TYPES[c][1]
               for c, s in zip(cols["category"][:2000], cols["subtype"][:2000]))
    assert 0.025 < 1 - cols["is_valid"].mean() < 0.035
    # more in July than in January, and summer evenings busier than winter ones
    month, hour = occurred.dt.month, occurred.dt.hour
    assert (month == 7).sum() > 1.3 * (month == 1).sum()
    evening = hour.between(19, 23)
    summer, winter = month.isin([6, 7, 8]), month.isin([12, 1, 2])
    assert evening[summer].mean() > evening[winter].mean() + 0.04
    # every community, by population; within ~150 m of its middle
    roster = {c.name: c for c in demo.build_roster(7).communities}
    counts = pd.Series(cols["community"]).value_counts()
    assert set(counts.index) == set(roster)
    biggest = max(roster.values(), key=lambda c: c.population).name
    smallest = min(roster.values(), key=lambda c: c.population).name
    assert counts[biggest] > 1.5 * counts[smallest]
    lat0 = np.array([roster[c].lat for c in cols["community"]])
    lon0 = np.array([roster[c].lon for c in cols["community"]])
    assert np.median(np.hypot(cols["lat"] - lat0, cols["lon"] - lon0)) < 0.002
    assert np.abs(cols["lat"] - lat0).max() < 0.01


def test_bench_store_has_the_shape_and_sql_equals_the_reference(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    build_incidents_store(engine, 3000, chunk=1000)
    assert store_incidents(engine) == 3000
    with engine.connect() as conn:
        years = dict(conn.exec_driver_sql(
            "SELECT substr(occurred_at, 1, 4), count(*) FROM incidents GROUP BY 1").all())
        first, last, ids, comms, cats, invalid, sample = conn.exec_driver_sql(
            "SELECT min(occurred_at), max(occurred_at), count(DISTINCT incident_id), "
            "count(DISTINCT community), count(DISTINCT category), sum(NOT is_valid), "
            "max(occurred_at) FROM incidents").one()
        people = conn.exec_driver_sql(
            "SELECT count(*), sum(population) FROM communities").one()
        off_roster = conn.exec_driver_sql(
            "SELECT count(*) FROM incidents WHERE community NOT IN "
            "(SELECT name FROM communities)").scalar_one()
    assert set(years) == {"2023", "2024", "2025"}
    assert all(850 <= v <= 1150 for v in years.values()), years
    assert first >= "2023-01-01" and last <= "2025-12-31 23:59:59.999999"
    assert ids == 3000 and comms == 15 and cats == 8 and off_roster == 0
    assert 0.01 < invalid / 3000 < 0.06
    assert people[0] == 15 and 95_000 < people[1] < 105_000
    assert sample.endswith(".000000") and len(sample) == 26  # SQLAlchemy's SQLite DATETIME
    settings = load_settings()
    for query in (
        Query(Period(date(2025, 1, 1), date(2025, 12, 31)), (), AS_OF, settings),  # the bench's
        Query(Period(date(2025, 1, 1), date(2025, 12, 31)), ("和平社区", "丹阳社区"), AS_OF,
              settings),
        Query(Period(date(2024, 2, 1), date(2024, 2, 29)), (), datetime(2024, 2, 29, 18, 0),
              settings),
        Query(Period(date(2023, 1, 1), date(2023, 1, 10)), (), datetime(2023, 1, 10, 12, 0),
              settings),
    ):
        ref, loaded = reference(engine, query)
        assert loaded > 0
        assert compare_incidents(m.compute(engine, query), ref) == [], query


@pytest.mark.slow
def test_incidents_bench_runs_end_to_end_on_a_small_store(tmp_path):
    """``bench --incidents`` builds a store, measures in fresh processes and checks its
    figures against the pandas reference (at this size the timings mean nothing)."""
    url = f"sqlite:///{tmp_path / 'inc.db'}"
    cmd = [sys.executable, "cli.py", "bench", "--incidents", "3000", "--repeat", "1", "--db", url]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert "valid in the measured year" in done.stdout and "CompStat 9 rows" in done.stdout
    assert "[OK] same figures as the pandas reference (1e-9): 0 differences" in done.stdout
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "reusing" in again.stdout and "cases" not in again.stdout.split("\n")[0]

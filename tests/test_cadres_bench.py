"""The cadres benchmark's pandas reference against the metrics, on the hand-made October
2024 store (three databases) and on a small generated bench store."""
from __future__ import annotations

from datetime import date

from metrics.bench import cadres as bench
from metrics.context import Query
from metrics.period import Period
from metrics.report import kpi_report
from metrics.settings import load_settings
from tests import cadre_store as cs
from tests.builders import log_import

ONLY = ("attendance", "worklogs", "appraisal")


def _groups(engine, first, last, as_of):
    q = Query(Period(first, last), (), as_of, load_settings())
    return kpi_report(engine, q, by="cadre", only=ONLY)["groups"]


def test_reference_equals_the_metrics_on_the_hand_made_store(engine):
    cs.build(engine)
    log_import(engine, cs.AS_OF, "attendance")
    first, last = date(2024, 10, 1), date(2024, 10, 31)
    ref = bench.reference(engine, cs.AS_OF, first, last)
    assert set(ref) == {"c1", "c2", "c3", "c4"}
    assert ref["c1"]["attendance.late"] == 1 and ref["c2"]["attendance.scheduled_days"] == 9
    assert bench.compare_cadres(_groups(engine, first, last, cs.AS_OF), ref) == []


def test_a_small_bench_store_has_the_shape_and_agrees(tmp_path):
    from sqlalchemy import func, select

    from data.store.db import get_engine
    from data.store.schema import attendance, cadres, cases, worklogs

    engine = get_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    bench.build_cadres_store(engine, 60)
    assert bench.store_cadres(engine) == 60
    with engine.connect() as conn:
        n = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
             for t in (cadres, attendance, worklogs, cases)}
        roles = set(conn.execute(select(cadres.c.role)).scalars())
    assert n["cadres"] == 60 and n["attendance"] > 60 * 200 and n["worklogs"] > 60 * 150
    assert n["cases"] > 0 and roles == {"街道干部", "社区书记", "社区干部", "网格员"}
    groups = _groups(engine, bench.MONTH_START, bench.MONTH_END, bench.CUTOFF)
    assert bench.compare_cadres(groups, bench.reference(engine, bench.CUTOFF)) == []
    assert sum(g["worklogs.suspect"] for g in groups.values()) > 0

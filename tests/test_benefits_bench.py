"""The benefits benchmark's generator and pandas reference (``metrics.reference.
benefits_kpis_pandas``) against the metrics: on the hand-made store of
tests/test_benefits_metrics.py (where it has only lists), on a small generated bench store
on three databases, and over long periods read in runs of months."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from metrics.bench import benefits as bench
from metrics.context import Query
from metrics.engine import union
from metrics.period import Period
from metrics.report import kpi_report
from metrics.settings import load_settings
from tests import test_benefits_metrics as hand
from tests.test_benefits_metrics import store  # noqa: F401  (the hand-made store fixture)


def _report(engine, period, as_of, scope=()):
    q = Query(period, tuple(scope), as_of, load_settings())
    return kpi_report(engine, q, by="community", only=("benefits",))


def _reference(engine, period, as_of, scope=()):
    import pandas as pd
    from sqlalchemy import text

    from metrics.reference import benefits_kpis_pandas

    with engine.connect() as conn:
        f = {name: pd.read_sql(text(f"SELECT * FROM {name}"), conn) for name in (
            "benefit_recipients", "benefit_payments", "relief_grants", "benefit_standards",
            "insurance_enrolment", "communities")}
    population = dict(zip(f["communities"]["name"], f["communities"]["population"]))
    return benefits_kpis_pandas(f["benefit_recipients"], f["benefit_payments"],
                                f["relief_grants"], f["benefit_standards"],
                                f["insurance_enrolment"], population, period, as_of,
                                scope=scope)


def test_reference_on_the_hand_made_store(store):  # noqa: F811
    # A社区 in March has only lists (its March monthly statistics lose to them)
    ref = _reference(store, hand.MARCH, hand.AS_OF, scope=("A社区",))
    k = ref["kpis"]
    # r1 r2b r5 active in March; households h1 and r5 alone; r5's 800 > 750 and k3 in
    # 农村低保 and 特困 in March: 2 findings; 1 000 residents
    assert (k["benefits.urban_dibao.persons"], k["benefits.urban_dibao.households"]) == (3, 2)
    assert k["benefits.urban_dibao.spending"] == 2100 and k["benefits.exceptions"] == 2
    assert k["benefits.urban_dibao.per_1000"] == pytest.approx(3.0)
    assert k["benefits.temporary_relief.cases"] == 1
    assert k["benefits.medical_insurance.enrolment_rate"] == pytest.approx(760 / 800)
    assert bench.compare_benefits(_report(store, hand.MARCH, hand.AS_OF, ("A社区",)), ref) == []


@pytest.fixture
def small(engine):
    bench.build_benefits_store(engine, 1000)
    return engine


def test_a_small_bench_store_has_the_shape_and_agrees(small):
    from sqlalchemy import func, select

    from data.store.schema import benefit_payments, benefit_recipients, relief_grants
    from metrics import benefits

    r = benefit_recipients.c
    assert bench.store_benefits(small) == 1000
    with small.connect() as conn:
        programs = dict(conn.execute(select(r.program, func.count()).group_by(r.program)).all())
        biggest = conn.execute(select(func.count(r.person_key.distinct()))
                               .group_by(r.household_id)
                               .where(r.household_id.is_not(None))
                               .order_by(func.count(r.person_key.distinct()).desc())
                               .limit(1)).scalar_one()  # persons in a household: 1–4
        no_household = conn.execute(select(func.count()).where(r.household_id.is_(None))
                                    ).scalar_one()
        again = conn.execute(select(func.count()).select_from(
            select(r.person_key).group_by(r.person_key, r.program)
            .having(func.count() > 1).subquery())).scalar_one()
        payments = conn.execute(select(func.count()).select_from(benefit_payments)).scalar_one()
        months = conn.execute(select(func.min(benefit_payments.c.month),
                                     func.max(benefit_payments.c.month))).one()
        grants = conn.execute(select(func.count()).select_from(relief_grants)).scalar_one()
    assert set(programs) == {"城市低保", "农村低保", "特困供养", "残疾人生活补贴", "重度残疾人护理补贴"}
    assert programs["城市低保"] > programs["特困供养"] and biggest == 4 and no_household > 0
    assert again > 0 and payments > 1000 * 10 and grants > 0
    assert tuple(months) == ("2021-01", "2025-12")
    period = Period(bench.YEAR_START, bench.YEAR_END)
    report = _report(small, period, bench.CUTOFF)
    assert bench.compare_benefits(report, bench.reference(small, bench.CUTOFF)) == []
    assert len(report["groups"]) == 15
    # every rule has deliberate findings in 2025
    q = Query(period, (), bench.CUTOFF, load_settings())
    rules = {row["rule"] for row in benefits.exceptions_list(small, q)}
    assert rules == set(benefits.EXCEPTION_RULES.values())


def test_long_periods_in_runs_of_months_agree(tmp_path, monkeypatch):
    from data.store.db import get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    bench.build_benefits_store(engine, 1000)
    cases = [(Period(date(2021, 1, 1), date(2025, 12, 31)), bench.CUTOFF),
             # a period starting and ending mid-month, as_of before its end
             (Period(date(2023, 3, 10), date(2025, 8, 20)), datetime(2025, 6, 15, 12, 0))]
    for period, as_of in cases:
        whole = _report(engine, period, as_of)
        monkeypatch.setattr(union, "PIVOT_MONTHS", 7)  # spells in 7-month statements
        pieces = _report(engine, period, as_of)
        monkeypatch.undo()
        assert pieces == whole
        assert bench.compare_benefits(whole, _reference(engine, period, as_of)) == []


def test_month_runs_cover_the_months_once():
    q = Query(Period(date(2024, 3, 10), date(2025, 2, 5)), (), datetime(2025, 1, 20),
              load_settings())
    runs = union.month_runs(q, 3)
    assert [(r.period.start, r.period.end) for r in runs] == [
        (date(2024, 3, 10), date(2024, 6, 30)), (date(2024, 7, 1), date(2024, 9, 30)),
        (date(2024, 10, 1), date(2025, 2, 5))]  # 11 months up to as_of: 4 + 3 + 4
    assert union.month_runs(q, 1) == [q]


def test_the_command_runs_end_to_end_and_reuses_its_store(tmp_path):
    """``bench --recipients N``: builds, measures in fresh processes, checks the figures;
    the second run reuses the store; too few recipients is a user error."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    argv = [sys.executable, "cli.py", "bench", "--recipients", "1000", "--repeat", "1",
            "--db", url]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr  # 1 only if this machine is very busy
    assert "building" in done.stdout and "part alone: benefits.spells" in done.stdout
    assert "[OK] same figures as the pandas reference (1e-9): 0 differences" in done.stdout
    again = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=300)
    assert "reusing" in again.stdout and "0 differences" in again.stdout
    few = subprocess.run(argv[:4] + ["10", "--db", url], cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert few.returncode == 2 and "至少 1000" in few.stderr and "Traceback" not in few.stderr

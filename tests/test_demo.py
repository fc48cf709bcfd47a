"""Tests of the demo generator: determinism, calibration (checked with plain SQL), faults,
the exists/force behaviour and speed."""
from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine

from data import demo
from data.store.schema import DATA_TABLES


def _engine(path):
    return create_engine(f"sqlite:///{path}")


def _rows(path, table: str, where: str = "") -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        pk = [c.name for c in DATA_TABLES[table].primary_key.columns]
        return con.execute(f"SELECT * FROM {table} {where} ORDER BY {', '.join(pk)}").fetchall()
    finally:
        con.close()


def _one(path, sql: str):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One generation to the end of 2020 (the period of DATA.md's published facts)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    counts = demo.generate(_engine(path), seed=7, until=date(2020, 12, 31))
    return path, counts


def test_counts_match_tables(store):
    path, counts = store
    for table, n in counts.items():
        assert _one(path, f"SELECT COUNT(*) FROM {table}")[0] == n, table
        assert n > 0, table
    log = _one(path, "SELECT COUNT(*), MIN(source), MIN(file_name), MIN(exported_at), "
                     "MAX(imported_at) FROM import_log")
    assert log[0] == len(DATA_TABLES)
    assert log[1] == "demo" and log[2] == "demo seed=7"
    assert log[3].startswith("2020-12-31 23:59:59") and log[4].startswith("2020-12-31 23:59:59")


def test_same_seed_same_tables(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    demo.generate(_engine(a), seed=3, until=date(2018, 4, 30))
    demo.generate(_engine(b), seed=3, until=date(2018, 4, 30))
    for table in DATA_TABLES:
        assert _rows(a, table) == _rows(b, table), table
    c = tmp_path / "c.db"
    demo.generate(_engine(c), seed=4, until=date(2018, 4, 30))
    assert _rows(a, "cases") != _rows(c, "cases")


def test_past_window_does_not_change(store, tmp_path):
    """A settled past window is identical whatever the cutoff."""
    full, _ = store
    short = tmp_path / "short.db"
    demo.generate(_engine(short), seed=7, until=date(2019, 6, 30))
    checks = {
        "cases": "WHERE reported_at < '2018-09-01'",  # 积案 settle up to 275 days later
        "petitions": "WHERE received_at < '2019-02-01'",
        "incidents": "WHERE occurred_at < '2019-07-01'",
        "attendance": "WHERE day < '2019-07-01'",
        "worklogs": "WHERE day < '2019-06-20'",
        "benefit_payments": "WHERE month <= '2019-06'",
        "relief_grants": "WHERE granted_on < '2019-07-01'",
        "benefit_recipients": "WHERE end_month IS NOT NULL AND end_month <= '2019-06'",
        "communities": "",
        "grids": "",
    }
    for table, where in checks.items():
        rows = _rows(short, table, where)
        assert rows, table
        assert rows == _rows(full, table, where), table


def test_cutoff_from_now(tmp_path):
    path = tmp_path / "now.db"
    now = datetime(2018, 2, 6, 10, 30, 15)
    demo.generate(_engine(path), until=None, now=now)
    stamp = "2018-02-06 10:30:15"
    assert _one(path, "SELECT MAX(exported_at) FROM import_log")[0].startswith(stamp)
    for table, col in [("cases", "reported_at"), ("cases", "closed_at"), ("cases", "responded_at"),
                       ("incidents", "occurred_at"), ("attendance", "check_in_at"),
                       ("attendance", "check_out_at"), ("worklogs", "created_at")]:
        assert _one(path, f"SELECT MAX({col}) FROM {table}")[0] <= stamp + ".000000", (table, col)
    # cases still open at the cutoff carry no outcome
    assert _one(path, "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL AND status = '办理中' "
                      "AND (satisfaction IS NOT NULL OR callback_resolved IS NOT NULL "
                      "OR resolution_level IS NOT NULL)")[0] == 0
    assert _one(path, "SELECT COUNT(*) FROM attendance WHERE day = '2018-02-06'")[0] > 0
    assert _one(path, "SELECT COUNT(*) FROM attendance WHERE day = '2018-02-06' "
                      "AND check_out_at IS NOT NULL")[0] == 0


def test_calibration_2018_2020(store):
    path, _ = store
    total, closed = _one(path, """
        SELECT COUNT(*), SUM(CASE WHEN closed_at IS NOT NULL
                                  AND closed_at <= '2020-12-31 23:59:59' THEN 1 ELSE 0 END)
        FROM cases WHERE reported_at >= '2018-01-01' AND reported_at < '2021-01-01'""")
    assert 1350 <= total <= 1600
    assert closed > 1300
    assert closed / total >= 0.93
    # the open overdue backlog at the cutoff is small and mostly recent: old cases settle
    old, recent = _one(path, """
        SELECT SUM(reported_at < '2020-07-01'), SUM(reported_at >= '2020-07-01') FROM cases
        WHERE closed_at IS NULL AND deadline_at < '2020-12-31 23:59:59'""")
    assert old + recent <= 0.03 * total and old <= recent + 10, (old, recent)
    for col in ("reported_at", "responded_at", "deadline_at", "closed_at"):  # whole seconds
        assert _one(path, f"SELECT COUNT(*) FROM cases WHERE {col} NOT LIKE '%.000000'")[0] == 0
    units, kinds, pop, hh = _one(path, "SELECT COUNT(*), COUNT(DISTINCT kind), SUM(population), "
                                       "SUM(households) FROM communities")
    assert units == 15 and kinds == 2
    assert _one(path, "SELECT COUNT(*) FROM communities WHERE kind = '管委会'")[0] == 1
    assert 97_000 <= pop <= 103_000
    assert 2.5 <= pop / hh <= 2.9
    roles = dict(sqlite3.connect(path).execute("SELECT role, COUNT(*) FROM cadres GROUP BY role"))
    assert set(roles) == {"街道干部", "社区书记", "社区干部", "网格员"}
    assert 80 <= sum(roles.values()) <= 140


def test_trends_and_levels(store):
    path, _ = store

    def per_year(table, col, year, extra=""):
        return _one(path, f"SELECT COUNT(*) FROM {table} WHERE {col} >= '{year}-01-01' "
                          f"AND {col} < '{year + 1}-01-01' {extra}")[0]

    assert 80 <= per_year("petitions", "received_at", 2018) <= 130
    assert per_year("petitions", "received_at", 2020) < 0.8 * per_year("petitions", "received_at", 2018)
    assert 1300 <= per_year("incidents", "occurred_at", 2018) <= 1700
    assert per_year("incidents", "occurred_at", 2020) < 0.85 * per_year("incidents", "occurred_at", 2018)
    cats = {r[0] for r in sqlite3.connect(path).execute("SELECT DISTINCT category FROM incidents")}
    assert cats == {"刑事", "治安", "治安灾害事故", "交通事故", "火灾", "群众求助", "举报投诉", "其它"}
    levels = dict(sqlite3.connect(path).execute(
        "SELECT resolution_level, COUNT(*) FROM cases WHERE resolution_level IS NOT NULL "
        "GROUP BY resolution_level"))
    n = sum(levels.values())
    assert 0.65 <= levels["社区"] / n <= 0.85
    assert levels["上级"] / n <= 0.1
    sat = _one(path, "SELECT AVG(CASE WHEN satisfaction IN ('满意', '基本满意') THEN 1.0 ELSE 0 END) "
                     "FROM cases WHERE satisfaction IS NOT NULL")[0]
    assert sat >= 0.88
    # communities differ clearly
    rates = [r[0] for r in sqlite3.connect(path).execute(
        "SELECT AVG(CASE WHEN satisfaction = '不满意' THEN 1.0 ELSE 0 END) FROM cases "
        "WHERE satisfaction IS NOT NULL AND community <> '' GROUP BY community")]
    assert max(rates) - min(rates) > 0.05
    # weaker cadres are late far more often
    late = [r[0] for r in sqlite3.connect(path).execute(
        "SELECT AVG(CASE WHEN substr(check_in_at, 12, 8) > '08:30:00' THEN 1.0 ELSE 0 END) "
        "FROM attendance GROUP BY cadre_id")]
    assert max(late) > 3 * sorted(late)[len(late) // 2]


def test_benefits(store):
    path, _ = store
    con = sqlite3.connect(path)
    programs = {r[0] for r in con.execute("SELECT DISTINCT program FROM benefit_recipients")}
    assert programs == {"城市低保", "农村低保", "特困供养", "残疾人生活补贴", "重度残疾人护理补贴"}
    assert {r[0] for r in con.execute("SELECT DISTINCT program FROM benefit_standards")} == programs
    assert con.execute("SELECT COUNT(*) FROM relief_grants").fetchone()[0] > 0
    keys = [r[0] for r in con.execute("SELECT person_key FROM benefit_recipients")]
    assert all(len(k) == 32 and not k.isdigit() and int(k, 16) >= 0 for k in keys)
    std18 = con.execute("SELECT monthly_amount FROM benefit_standards "
                        "WHERE year = 2018 AND program = '城市低保'").fetchone()[0]
    assert 580 <= std18 <= 660
    ins = con.execute("SELECT MIN(1.0 * enrolled / required), MAX(1.0 * enrolled / required), "
                      "COUNT(*) FROM insurance_enrolment").fetchone()
    assert 0.94 <= ins[0] and ins[1] <= 0.995 and ins[2] == 45
    # no payment for a month later than the cutoff month
    assert con.execute("SELECT MAX(month) FROM benefit_payments").fetchone()[0] == "2020-12"


def test_faults_present(store):
    path, _ = store
    q = lambda sql: _one(path, sql)[0]  # noqa: E731
    assert q("SELECT COUNT(*) FROM cases WHERE closed_at < reported_at") >= 3
    assert q("SELECT COUNT(*) FROM cases WHERE status = '已办结' AND closed_at IS NULL") >= 3
    assert q("SELECT COUNT(*) FROM cases WHERE status <> '已办结' AND closed_at IS NOT NULL") >= 3
    assert q("SELECT COUNT(*) FROM cases WHERE deadline_at < reported_at") >= 3
    assert q("SELECT COUNT(*) FROM cases WHERE community = ''") >= 3
    assert q("SELECT COUNT(*) FROM attendance WHERE check_out_at < check_in_at") >= 3
    assert q("""SELECT COUNT(*) FROM worklogs a JOIN worklogs b ON a.cadre_id = b.cadre_id
                AND a.day = b.day AND a.content = b.content AND a.log_id < b.log_id""") >= 3
    assert q("""SELECT COUNT(*) FROM benefit_payments p JOIN benefit_recipients r
                USING (recipient_id) WHERE p.month < r.start_month
                OR (r.end_month IS NOT NULL AND p.month > r.end_month)""") >= 3
    assert q("""SELECT COUNT(*) FROM benefit_recipients a JOIN benefit_recipients b
                ON a.person_key = b.person_key WHERE a.program IN ('城市低保', '农村低保')
                AND b.program = '特困供养' AND a.start_month <= COALESCE(b.end_month, '9999')
                AND b.start_month <= COALESCE(a.end_month, '9999')""") >= 3
    assert q("""SELECT COUNT(*) FROM benefit_recipients r JOIN benefit_standards s
                ON s.program = r.program AND s.year = CAST(substr(r.start_month, 1, 4) AS INTEGER)
                WHERE r.monthly_amount > s.monthly_amount""") >= 3
    # and the noise KPIs must handle
    assert q("SELECT COUNT(*) FROM worklogs WHERE length(content) < 15") > 0
    assert q("SELECT COUNT(*) FROM attendance WHERE check_out_at IS NULL") > 0
    assert q("SELECT COUNT(*) FROM incidents WHERE NOT is_valid") > 0
    assert q("SELECT COUNT(*) FROM cases WHERE deadline_at IS NULL") > 0


def test_exists_and_force(tmp_path):
    engine = _engine(tmp_path / "f.db")
    first = demo.generate(engine, until=date(2018, 1, 20))
    with pytest.raises(demo.DemoExistsError) as err:
        demo.generate(engine, until=date(2018, 1, 20))
    assert "force" in str(err.value) and "已有数据" in str(err.value)
    seen = []
    again = demo.generate(engine, until=date(2018, 1, 20), force=True,
                          progress=lambda f, m: seen.append((f, m)))
    assert again == first
    assert _one(tmp_path / "f.db", "SELECT COUNT(*) FROM import_log")[0] == len(DATA_TABLES)
    assert seen and seen[-1][0] == 1.0 and all(0 <= f <= 1 for f, _ in seen)
    assert any(m.startswith("正在生成") for _, m in seen)


def test_short_window_is_fast(tmp_path):
    t = time.perf_counter()
    counts = demo.generate(_engine(tmp_path / "s.db"), until=date(2018, 3, 31))
    assert time.perf_counter() - t < 10
    assert counts["cases"] > 50 and counts["attendance"] > 5000


def test_scale_multiplies_volumes(tmp_path):
    a = demo.generate(_engine(tmp_path / "a.db"), until=date(2018, 2, 28))
    b = demo.generate(_engine(tmp_path / "b.db"), until=date(2018, 2, 28), scale=3)
    assert b["cases"] > 2.3 * a["cases"]
    assert b["incidents"] > 2.3 * a["incidents"]
    assert b["attendance"] == a["attendance"]

"""干部考勤与日志 and 考核评议 in AppTest: they run, and what they show equals the metrics'
own figures (the seed-7 demo store up to tests.demo_store.UNTIL)."""
from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.store.db import ROOT, get_engine
from metrics import attendance, worklogs
from metrics.context import make_query
from metrics.formatting import fmt_kpi
from metrics.period import preset_period


@pytest.fixture
def app(demo_url, monkeypatch):
    monkeypatch.setenv("ZHILI_DB_URL", demo_url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _query(demo_url, preset="近12个月"):
    engine = get_engine(demo_url)
    as_of = make_query(engine, preset_period("本月", date.today())).as_of
    return engine, make_query(engine, preset_period(preset, as_of.date()))


def _table(app, column: str):
    """The first table with this column (read-only tables carry no key in AppTest)."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def _shown(app) -> dict[str, str]:
    return {m.label.split(" :")[0]: m.value for m in app.metric}


def test_cadres_page_shows_the_metrics(app, demo_url):
    app.switch_page("pages/cadres.py").run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    engine, q = _query(demo_url)
    att = attendance.compute(engine, q, by=("cadre",))
    wl = worklogs.compute(engine, q, by=("cadre",))
    shown = _shown(app)
    for key in ("attendance.rate", "attendance.scheduled_days", "attendance.absent",
                "attendance.late", "attendance.early_leave", "attendance.missing_checkout",
                "attendance.offday_checkins", "attendance.avg_field_hours"):
        assert shown[att_label(key)] == fmt_kpi(key, att.kpis[key]), key
    for key in ("worklogs.log_rate", "worklogs.logs", "worklogs.suspect"):
        assert shown[att_label(key)] == fmt_kpi(key, wl.kpis[key]), key
    # the league table (网格员 by default): each cadre's rates are the metrics' own
    league = _table(app, "出勤率可信区间")
    for _, row in league.head(5).iterrows():
        figures = att.groups["cadre"][row["人员编号"]]
        assert row["出勤率"] == pytest.approx(figures["attendance.rate"])  # a fraction
        assert row["迟到次数"] == figures["attendance.late"]
        assert row["日志提交率"] == pytest.approx(
            wl.groups["cadre"][row["人员编号"]]["worklogs.log_rate"])
    ranked = league[league["排名"].notna()]
    assert list(ranked["出勤率"]) == sorted(ranked["出勤率"], reverse=True)
    # the suspect list holds the metrics' suspect logs
    suspects = _table(app, "存疑原因")
    assert len(suspects) == wl.kpis["worklogs.suspect"]


def test_cadres_page_follows_role_and_cadre(app, demo_url):
    app.switch_page("pages/cadres.py").run()
    app.segmented_control(key="cadres_role").set_value("社区书记").run()
    assert not app.exception, app.exception
    engine, q = _query(demo_url)
    roles = {c["cadre_id"]: c["role"] for c in __import__("metrics.roster").roster.listing(
        engine, q)}
    league = _table(app, "出勤率可信区间")
    assert len(league) and {roles[c] for c in league["人员编号"]} == {"社区书记"}
    chosen = app.selectbox(key="cadres_person").options[3]
    app.selectbox(key="cadres_person").select_index(3).run()
    assert not app.exception, app.exception
    assert chosen


def att_label(key: str) -> str:
    from metrics.registry import REGISTRY

    return REGISTRY[key].label


def test_cadres_page_shows_hostile_names_as_text(tmp_path_factory, monkeypatch):
    """Community and cadre names that look like markup reach Markdown only escaped."""
    from sqlalchemy import select, update

    from data.store.schema import cadres
    from pages.ui.safe import md
    from tests import hostile_store
    from tests.demo_store import build

    url = build(tmp_path_factory.mktemp("hostile_cadres"))
    names = [n for group in hostile_store.make_hostile(url).values() for n in group]
    engine = get_engine(url)
    with engine.begin() as conn:
        ids = list(conn.execute(select(cadres.c.cadre_id).order_by(cadres.c.cadre_id)).scalars())
        for cadre_id, name in zip(ids[::7], hostile_store.HOSTILE):
            conn.execute(update(cadres).where(cadres.c.cadre_id == cadre_id).values(name=name))
    names += list(hostile_store.HOSTILE)
    monkeypatch.setenv("ZHILI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/cadres.py").run()
    assert not at.exception, at.exception
    kinds = (at.title, at.subheader, at.markdown, at.caption, at.warning, at.info, at.error)
    for body in [e.value for kind in kinds for e in kind]:
        cut = body
        for name in sorted(names, key=len, reverse=True):
            cut = cut.replace(md(name), "\x00")
        assert not [n for n in names if n in cut], body


def _copy_of(demo_url: str, tmp_path) -> str:
    """A private copy of the shared demo store (the test publishes into it)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    path = tmp_path / "demo.db"
    src, dst = sqlite3.connect(make_url(demo_url).database), sqlite3.connect(path)
    src.backup(dst)   # with whatever the write-ahead log still holds
    src.close()
    dst.close()
    return f"sqlite:///{path}"


def test_appraisal_page_shows_the_metrics_publishes_and_flags_revisions(demo_url, tmp_path,
                                                                      monkeypatch):
    from data.store.schema import attendance as attendance_table
    from metrics import appraisal
    from metrics.appraisal_store import published_months
    from metrics.engine import compute
    from metrics.settings import load_settings
    from tests.builders import log_import

    url = _copy_of(demo_url, tmp_path)
    monkeypatch.setenv("ZHILI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/appraisal.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    month = at.selectbox(key="appraisal_month").value
    assert month == "2019-11"                      # the last finished month by default
    engine = get_engine(url)
    q = appraisal.month_query(engine, month, load_settings())
    result = compute(engine, appraisal.DOMAIN, q)
    shown = _shown(app=at)
    assert shown["参评人数"] == f"{len(result.groups['cadre']):,}"
    assert shown["平均考核得分"] == fmt_kpi("appraisal.mean_score",
                                          result.kpis["appraisal.mean_score"])
    for tier, n in result.kpis["appraisal.tiers"].items():
        assert shown[tier] == f"{n:,}"
    table = _table(at, "等次")
    for _, row in table.iterrows():               # 网格员 by default
        figures = result.groups["cadre"][row["人员编号"]]
        assert (row["得分"], row["等次"], row["排名"]) == (
            figures["appraisal.score"], figures["appraisal.tier"], figures["appraisal.rank"])
    parts = _table(at, "实际权重")
    assert list(parts["项目"])[-1] == "合计"
    assert at.get("download_button")

    at.button(key="appraisal_publish").click().run()
    assert not at.exception, at.exception
    assert published_months(engine) == [month]
    assert "实时得分" in _table(at, "等次").columns
    assert [w.value for w in at.warning if "未启用登录" not in w.value] == []

    # new data for the month arrive: the live figure shows beside the frozen one
    # (here: a corrected export drops the top cadre's check-ins of the month)
    cadre = table.iloc[0]["人员编号"]
    with engine.begin() as conn:
        conn.execute(attendance_table.delete().where(
            attendance_table.c.cadre_id == cadre,
            attendance_table.c.day >= q.period.start, attendance_table.c.day <= q.period.end))
    log_import(engine, q.as_of.replace(year=2020, month=1, day=15), "attendance")
    st.cache_data.clear()             # as the page's cache would expire (app.cache_ttl_seconds)
    at.run()
    assert not at.exception, at.exception
    table = _table(at, "等次")
    flagged = table[table["说明"] == "发布后数据有变动"]
    assert list(flagged["人员编号"]) == [cadre]
    assert flagged.iloc[0]["得分"] == result.groups["cadre"][cadre]["appraisal.score"]
    assert flagged.iloc[0]["实时得分"] < flagged.iloc[0]["得分"]
    assert any("发布后数据有变动" in w.value for w in at.warning)

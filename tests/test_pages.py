"""AppTest smoke test of every page: it runs without exception and shows the right figures;
a bad settings file stops the app with one line; names from the store reach Markdown and
plotly escaped (tests/hostile_store.py)."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from data.store.db import ROOT, get_engine
from metrics import cases
from metrics.context import make_query
from metrics.formatting import fmt_kpi
from metrics.period import preset_period
from metrics.settings import load_settings
from pages.ui.safe import label, md
from tests import hostile_store

PAGES = {
    "overview": "pages/cockpit.py",
    "cases": "pages/cases.py",
    "benefits": "pages/benefits.py",
    "bigscreen": "pages/bigscreen.py",
    "glossary": "pages/glossary.py",
    "data": "pages/data_status.py",
}


@pytest.fixture
def app(demo_url, monkeypatch):
    monkeypatch.setenv("ZHILI_DB_URL", demo_url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("name", list(PAGES))
def test_page_runs(app, name):
    app.switch_page(PAGES[name]).run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]


def _expected(demo_url, preset="近12个月", scope=()):
    engine = get_engine(demo_url)
    q = make_query(engine, preset_period(preset, make_query(
        engine, preset_period("本月", __import__("datetime").date.today())).as_of.date()),
        scope=scope)
    return cases.compute(engine, q, by=()).kpis


def _shown(app) -> dict[str, str]:
    """Metric title (without its target badge) -> value."""
    return {m.label.split(" :")[0]: m.value for m in app.metric}


def test_overview_shows_the_metrics_values(app, demo_url):
    app.switch_page(PAGES["overview"]).run()
    shown = _shown(app)
    k = _expected(demo_url)
    met = k["cases.closure_rate"] >= load_settings().get_path("cases.targets.closure_rate")
    badge = next(m.label for m in app.metric if m.label.startswith("办结率"))
    assert badge == "办结率 " + (":green-badge[✓ 达标]" if met else ":red-badge[✗ 未达标]")
    assert shown["办结率"] == fmt_kpi("cases.closure_rate", k["cases.closure_rate"])
    assert shown["受理量"] == fmt_kpi("cases.total", k["cases.total"])
    assert shown["超期未办结"] == fmt_kpi("cases.overdue_open", k["cases.overdue_open"])


def test_benefits_page_shows_the_figures(app, demo_url):
    from metrics import benefits

    app.switch_page(PAGES["benefits"]).run()
    assert not app.exception and not app.error
    engine = get_engine(demo_url)
    q = make_query(engine, preset_period("近12个月", make_query(
        engine, preset_period("本月", __import__("datetime").date.today())).as_of.date()))
    k = benefits.compute(engine, q, by=()).kpis
    shown = _shown(app)
    for key in ("benefits.urban_dibao.persons", "benefits.temporary_relief.cases",
                "benefits.exceptions", "benefits.medical_insurance.enrolment_rate"):
        from metrics.registry import REGISTRY
        assert shown[REGISTRY[key].label] == fmt_kpi(key, k[key]), key
    frames = [d.value for d in app.dataframe]
    report = next(f for f in frames if "保障类别" in f.columns and "同期人数" in f.columns)
    assert list(report["保障类别"]) == ["城市低保", "农村低保", "特困供养", "临时救助",
                                      "残疾人生活补贴", "重度残疾人护理补贴"]
    audit = next(f for f in frames if "身份标识(前8位)" in f.columns)
    assert all(len(p) <= 9 for p in audit["身份标识(前8位)"])
    # the 管委会 hands in monthly statistics, the others lists: both named
    assert any("名单、月报统计" in c.value for c in app.caption)
    app.selectbox(key="benefits_month").select_index(3).run()
    assert not app.exception


def test_cases_page_follows_the_filters(app, demo_url):
    app.switch_page(PAGES["cases"]).run()
    app.selectbox(key="f_preset").select("本年").run()
    app.multiselect(key="f_scope").select("和平社区").run()
    assert not app.exception
    shown = _shown(app)
    k = _expected(demo_url, "本年", ("和平社区",))
    assert shown["三率综合得分"] == fmt_kpi("cases.three_rate_score", k["cases.three_rate_score"])
    assert shown["受理量"] == fmt_kpi("cases.total", k["cases.total"])
    assert app.query_params["period"] == ["本年"] or app.query_params["period"] == "本年"


def test_a_bad_settings_file_stops_the_app_with_one_line(demo_url, monkeypatch, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[cases]\nresponse_hours = \"soon\"\n", encoding="utf-8")
    monkeypatch.setenv("ZHILI_DB_URL", demo_url)
    monkeypatch.setenv("ZHILI_SETTINGS", str(bad))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and not at.title
    message = at.error[0].value
    assert "设置文件" in message and "response" in message and "\n" not in message
    assert md(str(bad)) in message  # the file is named, as text
    bad.write_text("not = [toml", encoding="utf-8")
    at.run()
    assert not at.exception and "TOML 语法错误" in at.error[0].value


# --- data is text, never markup ---------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    from tests.demo_store import build

    url = build(tmp_path_factory.mktemp("hostile"))
    names = hostile_store.make_hostile(url)
    return url, [n for group in names.values() for n in group]


def _bodies(at) -> list[str]:
    """Every Markdown source the run produced (titles, captions, alerts, subheaders...)."""
    kinds = (at.title, at.subheader, at.markdown, at.caption, at.warning, at.info, at.error,
             at.success)
    return [e.value for kind in kinds for e in kind]


def _assert_escaped(bodies: list[str], names: list[str]) -> None:
    """No name reaches Markdown raw: cut out every escaped occurrence, and nothing of the
    name may remain."""
    for body in bodies:
        cut = body
        for name in sorted(names, key=len, reverse=True):
            cut = cut.replace(md(name), "\x00")
        leaks = [n for n in names if n in cut]
        assert not leaks, (body, leaks)


def _plotly(at, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key))
    return json.loads(chart.proto.spec)


def _open_hostile(url, monkeypatch, page, **params) -> AppTest:
    monkeypatch.setenv("ZHILI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params.update(params)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_cockpit_shows_hostile_names_as_text(hostile_url, monkeypatch):
    url, names = hostile_url
    at = _open_hostile(url, monkeypatch, PAGES["overview"])
    bodies = _bodies(at)
    _assert_escaped(bodies, names)
    alerts = [w.value for w in at.warning]
    named = [n for n in names if any(md(n) in a for a in alerts)]
    assert any(n in hostile_store.HOSTILE for n in named), alerts  # the alerts name some
    ranked = _plotly(at, "cockpit_rank")["data"][0]["y"]
    assert label(hostile_store.HOSTILE[0]) in ranked and "<" not in "".join(ranked)
    # a link scoped to the hostile communities: the header names each one, escaped
    at = _open_hostile(url, monkeypatch, PAGES["overview"],
                       community=list(hostile_store.HOSTILE))
    header = at.caption[0].value
    assert all(md(n) in header for n in hostile_store.HOSTILE), header
    assert not [w.value for w in at.warning if w.value.startswith("链接中的")]
    _assert_escaped(_bodies(at), names)


def test_cases_page_shows_hostile_names_as_text(hostile_url, monkeypatch):
    url, names = hostile_url
    at = _open_hostile(url, monkeypatch, PAGES["cases"])
    league = at.dataframe(key="cases_league").value
    row = next(i for i, unit in enumerate(league["社区"]) if unit == hostile_store.HOSTILE[0])
    at.session_state["cases_league"] = {"selection": {"rows": [row], "columns": [],
                                                      "cells": []}}
    at.run()
    assert not at.exception
    subheaders = [s.value for s in at.subheader]
    assert f"{md(hostile_store.HOSTILE[0])} · 各网格" in subheaders, subheaders
    _assert_escaped(_bodies(at), names)
    pie = _plotly(at, "cases_channel")["data"][0]["labels"]
    assert sorted(pie) == sorted(label(c) for c in hostile_store.CHANNELS)
    # the lost-points selectbox offers the names themselves (options are plain text)
    assert hostile_store.HOSTILE[0] in at.selectbox(key="cases_lost_community").options


@pytest.mark.parametrize("name", ["glossary", "data"])
def test_other_pages_show_hostile_names_as_text(hostile_url, monkeypatch, name):
    url, names = hostile_url
    at = _open_hostile(url, monkeypatch, PAGES[name], community=list(names[:3]))
    assert all(md(n) in at.caption[0].value for n in names[:3])
    _assert_escaped(_bodies(at), names)

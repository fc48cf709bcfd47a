"""AppTest smoke test of every page: it runs without exception and shows the right figures."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data.store.db import ROOT, get_engine
from metrics import cases
from metrics.context import make_query
from metrics.formatting import fmt_kpi
from metrics.period import preset_period
from metrics.settings import load_settings

PAGES = {
    "overview": "pages/cockpit.py",
    "cases": "pages/cases.py",
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


def test_bigscreen_rotation_follows_the_clock():
    from pages.bigscreen import slide_at

    assert [slide_at(t, 4, 30) for t in (0, 29.9, 30, 95, 119, 120)] == [0, 0, 1, 3, 3, 0]

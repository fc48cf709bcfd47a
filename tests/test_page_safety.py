"""信访与警情 page in AppTest: it runs, and its cards show the metrics' own figures."""
from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest

from data.store.db import ROOT, get_engine
from metrics import incidents, petitions
from metrics.context import make_query
from metrics.formatting import fmt_kpi
from metrics.period import preset_period


def test_safety_page_shows_the_metrics(demo_url, monkeypatch):
    monkeypatch.setenv("ZHILI_DB_URL", demo_url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/safety.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    engine = get_engine(demo_url)
    as_of = make_query(engine, preset_period("本月", date.today())).as_of
    q = make_query(engine, preset_period("近12个月", as_of.date()))
    pet = petitions.compute(engine, q, by=()).kpis
    inc = incidents.compute(engine, q, by=()).kpis
    shown = {m.label.split(" :")[0]: m.value for m in at.metric}
    assert shown["信访件数"] == fmt_kpi("petitions.total", pet["petitions.total"])
    assert shown["集体访"] == fmt_kpi("petitions.collective", pet["petitions.collective"])
    assert shown["警情总数"] == fmt_kpi("incidents.total", inc["incidents.total"])
    assert shown["万人警情数"] == fmt_kpi("incidents.per_10k", inc["incidents.per_10k"])
    compstat = next(d.value for d in at.dataframe if "类别" in d.value.columns)
    assert list(compstat["类别"])[-1] == "合计"
    assert int(compstat["近28天·当前"].iloc[-1]) == inc["incidents.compstat"]["TOTAL"]["d28"]["cur"]

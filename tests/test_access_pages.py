"""Login and scope in the app (AppTest), on a copy of the demo store with five users: a
visitor sees no figure before logging in; a community user sees its own community on every
page whatever the link or a widget asks for; each role opens only its pages; a screen
token opens the big screen only; with no user every page says 未启用登录."""
from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data.store import audit, clock, users
from data.store.db import ROOT, get_engine
from data.store.schema import cadres
from metrics import cases
from metrics.context import make_query
from metrics.formatting import fmt_kpi
from metrics.period import preset_period

OWN, OTHER = "和平社区", "中华社区"
PASSWORD = "password123"
COMMUNITY_PAGES = ["cockpit", "cases", "safety", "benefits", "cadres", "appraisal", "glossary"]
ALL_PAGES = [*COMMUNITY_PAGES, "bigscreen", "data_status"]


@pytest.fixture(scope="module")
def store(demo_url, tmp_path_factory):
    """A copy of the demo store (the shared one stays without users) with five users."""
    folder = tmp_path_factory.mktemp("access")
    with sqlite3.connect(demo_url.removeprefix("sqlite:///")) as src, \
            sqlite3.connect(folder / "demo.db") as dst:
        src.backup(dst)       # the whole store, write-ahead log included
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = get_engine(url)
    users.add(engine, "boss", "leader", password=PASSWORD)
    users.add(engine, "sec", "community", OWN, password=PASSWORD)
    users.add(engine, "rev", "reviewer", password=PASSWORD)
    users.add(engine, "adm", "admin", password=PASSWORD)
    token = users.add(engine, "lobby", "screen")
    return url, token


@pytest.fixture
def env(store, monkeypatch):
    monkeypatch.setenv("ZHILI_DB_URL", store[0])
    return store


def page(name: str, user: str | None = None, direct: bool = False, **params) -> AppTest:
    """The page run on its own (a direct link); the cockpit, which links to other pages,
    as the entrypoint's default page unless ``direct``."""
    script = ROOT / ("dashboard.py" if name == "cockpit" and not direct else f"pages/{name}.py")
    at = AppTest.from_file(str(script), default_timeout=90)
    if user:
        at.session_state["_auth"] = {"name": user, "at": clock.now()}
    for key, value in params.items():
        at.query_params[key] = value
    return at


def figures(at: AppTest) -> int:
    """Elements that carry data: metrics, tables and charts."""
    return (len(at.metric) + len(at.dataframe) + len(at.get("plotly_chart"))
            + len(at.get("arrow_vega_lite_chart")) + len(at.get("deck_gl_json_chart")))


def texts(at: AppTest) -> str:
    """Every text the page shows except warnings (the URL notice names the community it
    refused), with chart specs and table cells."""
    parts = [e.value for kind in ("markdown", "caption", "title", "subheader", "header",
                                  "success", "info", "error") for e in at.get(kind)]
    parts += [str(m.label) + str(m.value) for m in at.metric]
    parts += [json.dumps(c.proto.spec if hasattr(c.proto, "spec") else str(c.proto),
                         ensure_ascii=False) for c in at.get("plotly_chart")]
    for df in at.dataframe:
        if "本月受理" not in df.value.columns:   # a cadre's cases wherever they are (its score)
            parts.append(df.value.to_csv())
    parts += [str(s.options) for s in at.selectbox]
    return "\n".join(parts)


def test_visitor_sees_no_figure_before_login(env):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert figures(at) == 0 and not at.sidebar.selectbox     # no filters, no navigation
    for name in ALL_PAGES:                                   # a direct link, no session
        at = page(name, direct=True)
        at.run()
        assert not at.exception, (name, at.exception)
        assert figures(at) == 0, name
        assert any("请先登录" in w.value for w in at.warning), name


def _form():
    from pages.ui.access import login_form

    login_form()


def test_login_form_and_session_expiry(env):
    form = AppTest.from_function(_form, default_timeout=90)
    form.run()
    form.text_input(key="login_name").input("sec")
    form.text_input(key="login_password").input("wrong password")
    form.button[0].click().run()
    assert [e.value for e in form.error] == ["用户名或密码错误"]
    form.text_input(key="login_password").input(PASSWORD)
    form.button[0].click().run()
    assert not form.exception and not form.error
    assert form.session_state["_auth"]["name"] == "sec"
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.session_state["_auth"] = form.session_state["_auth"]
    at.run()
    assert not at.exception and not at.error
    assert figures(at) > 0 and not at.text_input
    assert any("当前用户 **sec**" in c.value for c in at.sidebar.caption)
    # nine hours later (session_hours = 8) the page stops and the form asks again
    at.session_state["_auth"] = {"name": "sec", "at": clock.now() - timedelta(hours=9)}
    at.run()
    assert figures(at) == 0
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.session_state["_auth"] = {"name": "sec", "at": clock.now() - timedelta(hours=9)}
    at.run()
    assert figures(at) == 0 and [t.label for t in at.text_input] == ["用户名", "密码"]
    assert any("超过 8 小时" in i.value for i in at.info)
    kinds = [e.action for e in audit.recent(get_engine(env[0]), limit=2, action="login")]
    assert kinds == ["login.ok", "login.fail"]


def _own_cases_total(url: str, scope) -> str:
    engine = get_engine(url)
    q = make_query(engine, preset_period("近12个月", make_query(
        engine, preset_period("本月", clock.today())).as_of.date()), scope=scope)
    return fmt_kpi("cases.total", cases.compute(engine, q, by=()).kpis["cases.total"])


@pytest.mark.parametrize("name", COMMUNITY_PAGES)
def test_community_user_sees_only_its_community_by_url(env, name):
    at = page(name, "sec", community=[OTHER, OWN], period="近12个月")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any(OTHER in w.value and "不在当前账号的查看范围内" in w.value for w in at.warning)
    assert OTHER not in texts(at)
    assert any(f"范围 {OWN}" in c.value for c in at.caption)


@pytest.mark.parametrize("name", COMMUNITY_PAGES)
def test_community_user_sees_only_its_community_by_widget(env, name):
    """Crafted widget values: the shared community filter and each page's own pickers set
    to another community's community or cadre (as a forged browser message would)."""
    other_cadre = _cadre_of(env[0], OTHER)
    at = page(name, "sec")
    at.session_state["f_scope"] = [OTHER]
    at.session_state["cases_lost_community"] = OTHER
    at.session_state["cadres_person"] = other_cadre
    at.session_state["appraisal_cadre"] = other_cadre
    at.run()
    assert not at.exception, at.exception
    assert OTHER not in texts(at)
    assert any(f"范围 {OWN}" in c.value for c in at.caption)


def test_community_figures_are_its_own(env):
    at = page("cases", "sec", community=OTHER, period="近12个月")
    at.run()
    shown = {m.label.split(" :")[0]: m.value for m in at.metric}
    own, every = _own_cases_total(env[0], (OWN,)), _own_cases_total(env[0], ())
    assert shown["受理量"] == own != every


def _cadre_of(url: str, community: str) -> str:
    with get_engine(url).connect() as conn:
        return conn.execute(select(cadres.c.cadre_id).where(cadres.c.community == community)
                            .order_by(cadres.c.cadre_id)).scalars().first()


@pytest.mark.parametrize("user, allowed", [
    ("sec", COMMUNITY_PAGES), ("rev", ["cases", "cadres", "appraisal", "glossary"]),
    ("adm", ["glossary", "data_status"]), ("boss", ALL_PAGES)])
def test_each_role_opens_only_its_pages(env, user, allowed):
    for name in ALL_PAGES:
        if name in ("bigscreen", "safety", "cockpit") and name in allowed:
            continue          # opened by the other tests; keeps this one short
        at = page(name, user, direct=name not in allowed)
        at.run()
        assert not at.exception, (user, name, at.exception)
        refused = any("无权查看此页面" in e.value for e in at.error)
        assert refused == (name not in allowed), (user, name)
        if refused:
            assert figures(at) == 0


def test_screen_token_opens_the_big_screen_only(env):
    url, token = env
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.query_params["token"] = token
    at.run()
    assert not at.exception and not at.text_input and not at.error
    assert any('<span class="zl-title">' in h.proto.body for h in at.html)     # the big screen
    assert any('class="zl-panel-head"' in h.proto.body for h in at.html)       # its panels
    with pytest.raises(ValueError, match="Known pages: .*bigscreen.py'\]"):
        at.switch_page("pages/cases.py")          # the only page in its navigation
    bad = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    bad.query_params["token"] = token[:-1] + ("A" if token[-1] != "A" else "B")
    bad.run()
    assert figures(bad) == 0 and [t.label for t in bad.text_input] == ["用户名", "密码"]
    assert any("令牌无效" in i.value for i in bad.info)


def test_admin_sees_users_and_the_audit_trail(env):
    at = page("data_status", "adm")
    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ["导入数据", "数据质量", "通知公告", "街道设置", "用户",
                                          "操作记录"]
    listed = next(d.value for d in at.dataframe if "用户名" in d.value.columns)
    assert list(listed["用户名"]) == ["adm", "boss", "lobby", "rev", "sec"]
    trail = next(d.value for d in at.dataframe if "操作人" in d.value.columns)
    assert "新增用户" in set(trail["操作"])


def test_login_off_every_page_says_so(demo_url, monkeypatch):
    monkeypatch.setenv("ZHILI_DB_URL", demo_url)
    for name in ALL_PAGES:
        if name in ("safety", "cadres", "appraisal"):
            continue          # the slow ones; the banner comes from the same guard()
        at = page(name)
        at.run()
        assert not at.exception, (name, at.exception)
        if name == "bigscreen":      # in its top bar, not a banner over the 1080p layout
            assert any('class="zl-note">未启用登录' in h.proto.body for h in at.html)
            continue
        assert any("未启用登录" in w.value for w in at.warning), name
        assert figures(at) > 0 or name == "glossary", name

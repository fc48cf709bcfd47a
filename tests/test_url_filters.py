"""URL values never break a page: the shared filters (pages/ui/common.py) clamp or drop an
out-of-range, unknown or malformed value with a one-line notice, never an exception.

The pure reading (``read_url_filters``) is tested case by case; every page is run through
AppTest with the links from the "Hardening" issue; and a property-based test throws random
and hostile query strings at the pages.
"""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from streamlit.testing.v1 import AppTest

from data.store.db import ROOT
from metrics.period import PRESETS
from pages.ui.common import MIN_DATE, read_url_filters
from pages.ui.safe import md
from tests.hostile_store import HOSTILE

PAGES = {
    "pages/cockpit.py": "领导驾驶舱",
    "pages/cases.py": "诉求办理",
    "pages/glossary.py": "指标口径",
    "pages/data_status.py": "数据管理",
}
LATEST = date(2019, 12, 31)  # tests.demo_store.UNTIL: the demo store's 数据截至
NAMES = ["和平社区", "丹阳社区"]


def _read(**params):
    return read_url_filters({k: v if isinstance(v, list) else [v] for k, v in params.items()},
                            NAMES, LATEST)


def test_a_clean_link_gives_its_filters_without_notices():
    got = _read(period="自定义", start="2019-02-01", end="2019-03-31",
                community=["丹阳社区", "和平社区"])
    assert (got.preset, got.custom, got.scope, got.notices) == (
        "自定义", (date(2019, 2, 1), date(2019, 3, 31)), ("丹阳社区", "和平社区"), ())
    assert _read() == _read(period="近12个月")
    assert _read().notices == () and _read().custom is None


@pytest.mark.parametrize("start, end, expected, notes", [
    ("2026-01-01", "2026-12-31", (LATEST, LATEST), ["开始日期 2026-01-01 晚于数据截至",
                                                    "结束日期 2026-12-31 晚于数据截至"]),
    ("0001-01-01", "9999-12-31", (MIN_DATE, LATEST), ["开始日期 0001-01-01 早于 2000-01-01",
                                                      "结束日期 9999-12-31 晚于数据截至"]),
    ("2019-05-01", "2019-01-01", (date(2019, 1, 1), date(2019, 5, 1)),
     ["结束日期 2019-01-01 早于开始日期 2019-05-01, 已对调"]),
    ("garbage", "2019-03-01", (date(2019, 1, 1), date(2019, 3, 1)),
     ["开始日期「garbage」不是有效日期"]),
    ("2019-02-30", "", (date(2019, 1, 1), LATEST), [r"开始日期「2019\-02\-30」",
                                                    "结束日期「」不是有效日期"]),
])
def test_custom_dates_are_clamped_with_a_notice(start, end, expected, notes):
    got = _read(period="自定义", start=start, end=end)
    assert got.custom == expected
    assert len(got.notices) == len(notes)
    for note, notice in zip(notes, got.notices):
        assert note in notice and notice.startswith("链接中的"), got.notices


def test_unknown_values_are_dropped_with_an_escaped_notice():
    got = _read(period="[x](http://evil)", community=["和平社区", "**无此社区**", "和平社区"])
    assert got.preset == "近12个月" and got.scope == ("和平社区",)
    assert got.notices == (f"链接中的时间范围「{md('[x](http://evil)')}」无法识别, "
                           "已改用「近12个月」",
                           f"链接中的社区「{md('**无此社区**')}」不存在, 已忽略")
    assert _read(period="本年", start="2019-01-01").notices == (
        "链接中的起止日期只用于「自定义」时间范围, 已忽略",)
    many = _read(community=[f"c{i}" for i in range(50)]).notices
    assert many == ("链接中的社区「c0、c1、c2等」不存在, 已忽略(共 50 个)",)
    long = _read(period="长" * 5000).notices[0]
    assert len(long) < 100


def test_repeated_values_use_the_last_one_and_say_so():
    got = _read(period=["本月", "本年"])
    assert got.preset == "本年"
    assert got.notices == ("链接中的 period 出现 2 次, 已使用最后一个值「本年」",)


@pytest.fixture
def app_env(demo_url, monkeypatch):
    monkeypatch.setenv("ZHILI_DB_URL", demo_url)


def _open(page: str, params: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params.update(params)
    return at.switch_page(page).run()


def _alerts(at) -> list[str]:
    return [e.value for kind in (at.warning, at.error, at.info) for e in kind]


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("start, end", [("2026-01-01", "2026-12-31"),
                                        ("0001-01-01", "9999-12-31")])
def test_out_of_range_link_dates_open_every_page(app_env, page, start, end):
    """Before: the date widget's max_value raised StreamlitAPIException on these links."""
    at = _open(page, {"period": "自定义", "start": start, "end": end})
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [PAGES[page]]
    notices = [a for a in _alerts(at) if a.startswith("链接中的")]
    assert len(notices) == 2 and "已调整为" in notices[-1], notices
    assert at.query_params["end"] == "2019-12-31"  # the URL now says what is shown
    assert at.date_input(key="f_custom_input").value[1] == LATEST


@pytest.mark.parametrize("page", list(PAGES))
def test_end_before_start_is_said_once(app_env, page):
    at = _open(page, {"period": "自定义", "start": "2019-05-01", "end": "2019-01-01"})
    assert not at.exception
    said = [a for a in _alerts(at) if "早于开始日期" in a]
    assert len(said) == 1, said
    assert (at.query_params["start"], at.query_params["end"]) == ("2019-01-01", "2019-05-01")


def test_unknown_community_and_period_are_named_and_escaped(app_env):
    at = _open("pages/cockpit.py", {"period": "每天", "community": ["和平社区", HOSTILE[2]]})
    assert not at.exception
    alerts = _alerts(at)
    assert "链接中的时间范围「每天」无法识别, 已改用「近12个月」" in alerts
    assert f"链接中的社区「{md(HOSTILE[2])}」不存在, 已忽略" in alerts
    assert at.multiselect(key="f_scope").value == ["和平社区"]
    # the notes stay until a filter is changed by hand
    at.selectbox(key="f_preset").select("本年").run()
    assert not [a for a in _alerts(at) if a.startswith("链接中的")]


# --- property-based: whatever the link says, every page opens ------------------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
_NASTY = st.sampled_from([
    "", " ", "\x00", "自定义\x00", "../", "../../etc/passwd", "%00", "%2e%2e%2f", "😀",
    "👨‍👩‍👧", "\ufeff本年", "本年 ", "2019-02-30", "2019-13-01", "20190101", "2019-1-1",
    "0000-00-00", "-0001-01-01", "2019-06-01T00:00", "9999-12-31", "0001-01-01", *HOSTILE,
])
_VALUE = st.one_of(_NASTY, _TEXT, _TEXT.map(lambda s: (s or "长") * 3000))
_PERIOD = st.one_of(st.sampled_from(PRESETS), _VALUE)
_DATE = st.one_of(st.dates(min_value=date(1, 1, 1)).map(date.isoformat), _VALUE)
_COMMUNITY = st.one_of(st.sampled_from(NAMES), _VALUE)
_PARAMS = st.fixed_dictionaries({}, optional={
    "period": st.lists(_PERIOD, min_size=1, max_size=3),
    "start": st.lists(_DATE, min_size=1, max_size=2),
    "end": st.lists(_DATE, min_size=1, max_size=2),
    "community": st.lists(_COMMUNITY, min_size=1, max_size=6),
    "other": st.lists(_VALUE, min_size=1, max_size=2),
})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(page=st.sampled_from(list(PAGES)), params=_PARAMS)
def test_any_link_opens_any_page(app_env, page, params):
    at = _open(page, params)
    assert not at.exception, (params, [e.value for e in at.exception])
    assert [t.value for t in at.title] == [PAGES[page]], params
    assert at.selectbox(key="f_preset").value in PRESETS


def test_filters_survive_a_page_switch(app_env):
    """Streamlit keys a widget by its page: without handing the values over, the next page's
    时间范围 fell back to its first option (本月) and the scope to all communities."""
    at = _open("pages/cases.py", {"period": "本年", "community": "和平社区"})
    for page in ("pages/cockpit.py", "pages/glossary.py", "pages/cases.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert at.selectbox(key="f_preset").value == "本年", page
        assert at.multiselect(key="f_scope").value == ["和平社区"], page
        assert at.caption[0].value.startswith("统计期 2019-01-01 至 2019-12-31 · 范围 和平社区")
    at.selectbox(key="f_preset").select("自定义").run()
    at.date_input(key="f_custom_input").set_value((date(2019, 3, 1), date(2019, 4, 30))).run()
    at.switch_page("pages/cockpit.py").run()
    assert at.caption[0].value.startswith("统计期 2019-03-01 至 2019-04-30")
    assert (at.query_params["start"], at.query_params["end"]) == ("2019-03-01", "2019-04-30")

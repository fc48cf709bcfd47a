"""智理 Zhili — entrypoint: page frame, settings and store check, first-start demo store,
navigation.

Run with ``streamlit run dashboard.py``. Pages live in pages/ and are listed here
explicitly (st.navigation does not discover them). Each page draws the shared sidebar
filters through pages.ui.common.current_filters(), so a page also works when Streamlit runs
it on its own (AppTest, or a first visit by direct link).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from data.store.db import get_engine, resolve_url
from data.store.office import initialised, office_name
from pages.ui.safe import md

# The favicon is a file served by the app: a ":material/…" icon would be fetched from an
# outside font host, which a government intranet blocks (tests/test_offline.py).
FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")
st.set_page_config(page_title="智理 · 社区治理指标", page_icon=FAVICON,
                   layout="wide", initial_sidebar_state="expanded")


def check_settings() -> None:
    """A bad settings file (or ZHILI_SETTINGS naming one) stops the app with its one Chinese
    line instead of a traceback; checked on every run, so an edit is caught before any
    page reads the file again."""
    from metrics.settings import SettingsError, load_settings

    try:
        load_settings()
    except SettingsError as exc:
        st.error(md(exc), icon=":material/settings:")
        st.stop()


def upgrade_store(engine) -> None:
    """An out-of-date store: SQLite is upgraded here (after a backup next to the file, which
    the message names); a server database stops the app with the command that upgrades it."""
    from data.store.migrate import StoreNotReady, prepare_store

    try:
        upgraded = prepare_store(engine)
    except StoreNotReady as exc:
        st.error(str(exc), icon=":material/database:")
        st.stop()
    if upgraded:
        st.info(upgraded.message(), icon=":material/upgrade:")


def ensure_store() -> str:
    """On first start (a store never set up: nothing imported or generated, no name set,
    the demo not removed) build the demo store, showing progress; a store made by an older
    version is upgraded first (upgrade_store). Returns the office's name."""
    engine = get_engine()
    upgrade_store(engine)
    if initialised(engine):
        return office_name(engine)
    from data.demo import generate

    st.title("智理 · 首次启动")
    st.info(f"未找到数据, 正在生成演示数据(南城街道, 2018 年至今)…\n\n数据库: {md(resolve_url())}")
    bar = st.progress(0.0, text="准备中…")
    generate(engine, progress=lambda frac, msg: bar.progress(min(frac, 1.0), text=msg))
    bar.empty()
    st.cache_data.clear()
    st.rerun()


check_settings()
OFFICE = ensure_store()
st.set_page_config(page_title=f"智理 · {OFFICE}社区治理指标")

# Streamlit serves the default page at "/" whatever its url_path, so "/overview" (the
# cockpit's documented link) gets a hidden page of its own that forwards to the cockpit
# with the link's filters.
COCKPIT = st.Page("pages/cockpit.py", title="总览", icon=":material/dashboard:", default=True)


def open_cockpit() -> None:
    st.switch_page(COCKPIT, query_params={k: st.query_params.get_all(k)
                                          for k in st.query_params})


# (page key of metrics.access.PAGES, page) by section: a role sees only its pages, and
# each page checks again (pages.ui.access.guard) for a direct link.
SECTIONS = {
    "领导驾驶舱": [
        ("cockpit", COCKPIT),
        ("cockpit", st.Page(open_cockpit, title="总览", url_path="overview", visibility="hidden")),
    ],
    "专题分析": [
        ("cases", st.Page("pages/cases.py", title="诉求办理", icon=":material/assignment_turned_in:",
                          url_path="cases")),
        ("safety", st.Page("pages/safety.py", title="信访与警情", icon=":material/local_police:",
                           url_path="safety")),
        ("benefits", st.Page("pages/benefits.py", title="民生保障",
                             icon=":material/volunteer_activism:", url_path="benefits")),
    ],
    "干部考核": [
        ("cadres", st.Page("pages/cadres.py", title="干部考勤与日志", icon=":material/badge:",
                           url_path="cadres")),
        ("appraisal", st.Page("pages/appraisal.py", title="考核评议",
                              icon=":material/workspace_premium:", url_path="appraisal")),
    ],
    "大屏": [
        ("bigscreen", st.Page("pages/bigscreen.py", title="指挥中心大屏", icon=":material/tv:",
                              url_path="bigscreen")),
    ],
    "数据与口径": [
        ("glossary", st.Page("pages/glossary.py", title="指标口径", icon=":material/menu_book:",
                             url_path="glossary")),
        ("data_status", st.Page("pages/data_status.py", title="数据管理",
                                icon=":material/database:", url_path="data")),
    ],
}
from pages.ui.access import gate, sidebar_user  # noqa: E402 - after the store is ready

# users exist: the login form (or a screen token) before any page; the pages are
# registered (not run) meanwhile, so a link to /cases opens /cases after the login
VIEWER = gate([p for pages in SECTIONS.values() for _, p in pages])
PAGES = {section: [p for key, p in pages if VIEWER.may_open(key)]
         for section, pages in SECTIONS.items()}
PAGES = {section: pages for section, pages in PAGES.items() if pages}

page = st.navigation(PAGES, position="hidden" if VIEWER.role == "screen" else "sidebar")
if page.url_path != "bigscreen":
    st.sidebar.markdown(f"### 智理 · {md(OFFICE)}")
    sidebar_user(VIEWER)
page.run()

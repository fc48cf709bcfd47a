"""指挥中心大屏: a dark, chrome-less 1920×1080 slideshow that rotates unattended.

Slides follow the wall clock (``slide_at``), so a restarted screen resumes in step; the data
reloads when the page caches expire. Only aggregates are shown: no names, no case details.
"""
from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from data.store import clock
from data.store.db import resolve_url
from data.store.office import office_name, screen_title
from metrics import case_lists as lists
from metrics import cases as m
from metrics.formatting import fmt_kpi
from metrics.period import preset_period
from metrics.engine import Result
from metrics.registry import REGISTRY, target
from pages.ui import charts
from metrics.access import restrict
from pages.ui.access import current_viewer, guard
from pages.ui.common import Filters, cases_for, engine, group_frame, settings, store_as_of
from pages.ui.safe import md

THEME = charts.DARK
SLIDES = ("总览", "月度趋势", "社区排名", "诉求构成")
# Our own constant style sheet (no user text in it): dark canvas, no Streamlit chrome.
SCREEN_CSS = f"""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header,
[data-testid="stToolbar"], [data-testid="stDecoration"], footer {{ display: none !important; }}
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
  background: {THEME.background} !important; color: {THEME.text} !important; }}
.block-container {{ padding: 1.2rem 2rem !important; max-width: 100% !important; }}
.stApp h1, .stApp h2, .stApp h3, .stApp p, .stApp span, .stApp label,
[data-testid="stMetricValue"], [data-testid="stMetricLabel"] p {{ color: {THEME.text} !important; }}
[data-testid="stMetricValue"] {{ font-size: 3.2rem !important; }}
[data-testid="stMetric"] {{ background: #12223a; border-color: #23324a !important; }}
</style>
"""


def slide_at(epoch_seconds: float, n_slides: int, rotate_seconds: int) -> int:
    """Which slide shows at a moment: the clock divided into equal turns."""
    return int(epoch_seconds // rotate_seconds) % n_slides


def _filters() -> Filters:
    as_of = store_as_of(resolve_url())
    viewer = current_viewer()
    allowed = viewer.allowed if viewer else ()   # no viewer: OutOfScope, never figures
    return Filters(preset_period("本年", as_of.date()), "本年", restrict((), allowed), as_of,
                   allowed=allowed)


def slide_overview(result: Result) -> None:
    k = result.kpis
    with st.container(horizontal=True, gap="large"):
        for key in ("cases.total", "cases.closure_rate", "cases.on_time_rate",
                    "cases.three_rate_score", "cases.satisfaction_rate", "cases.overdue_open"):
            st.metric(REGISTRY[key].label, fmt_kpi(key, k[key]), border=True)
    st.markdown("### 小事不出社区 · 大事不出街道")
    st.plotly_chart(charts.level_shares(m.level_shares(k), THEME, height=220),
                    key="screen_levels")


def slide_trend(result: Result) -> None:
    months = group_frame(result, "month")
    if months.empty:
        st.markdown("### 本期无数据")
        return
    st.plotly_chart(charts.volume_and_rate(
        months, THEME, x="unit", bars="cases.total", line="cases.closure_rate",
        target=target("cases.closure_rate", settings()), height=760),
        key="screen_trend")


def slide_ranking(result: Result) -> None:
    table = lists.league_table(result, "community", settings())
    ranked = table[table["ranked"]] if not table.empty else table
    if ranked.empty:
        st.markdown("### 本期无可排名的社区")
        return
    st.plotly_chart(charts.ranked_bars(
        ranked, THEME, label="unit", value=lists.RANK_BY,
        target=target(lists.RANK_BY, settings()), height=800),
        key="screen_rank")


def slide_mix(result: Result) -> None:
    left, right = st.columns(2)
    for col, dim, title in ((left, "category", "诉求类别"), (right, "channel", "来源渠道")):
        df = pd.DataFrame([{"name": g, "total": v["cases.total"]}
                           for g, v in result.groups[dim].items() if v["cases.total"]])
        with col:
            st.markdown(f"### {title}")
            if df.empty:
                st.markdown("本期无数据")
            else:
                st.plotly_chart(charts.pie(df, THEME, label="name", value="total", height=700),
                                key=f"screen_{dim}")


RENDER = {"总览": slide_overview, "月度趋势": slide_trend, "社区排名": slide_ranking,
          "诉求构成": slide_mix}


@st.fragment(run_every=settings().get_path("bigscreen.rotate_seconds"))
def show_slide() -> None:
    f = _filters()
    rotate = settings().get_path("bigscreen.rotate_seconds")
    name = SLIDES[slide_at(time.time(), len(SLIDES), rotate)]
    st.markdown(f"## {md(screen_title(office_name(engine())))} · 诉求办理 — {name}")
    st.caption(f"统计期 {f.period.label()} · 数据截至 {f.as_of:%Y-%m-%d %H:%M} · "
               f"刷新于 {clock.now():%H:%M:%S}")
    RENDER[name](cases_for(f, by=("category", "channel", "community", "month")))


guard("bigscreen")
st.html(SCREEN_CSS)
show_slide()

"""领导驾驶舱 (landing page): headline tiles of every domain, today's alerts and the
community ranking, on one 1920×1080 screen."""
from __future__ import annotations

import streamlit as st

from datetime import timedelta

from metrics import case_lists as lists
from metrics import petitions
from metrics.alerts import backlog_alert, collective_alerts, compstat_alerts, target_misses
from metrics.period import Period
from metrics.registry import target
from pages.ui.access import run_page
from pages.ui import charts
from pages.ui.common import (Filters, cached, cases_for, group_frame, kpi_row, page_header,
                             result_for, settings, sidebar_filters)
from pages.ui.safe import md

THEME = charts.LIGHT
TILES = ["cases.total", "cases.closure_rate", "cases.on_time_rate", "cases.three_rate_score",
         "cases.satisfaction_rate", "cases.overdue_open"]
SAFETY_TILES = {"petitions": ["petitions.total", "petitions.collective", "petitions.closure_rate"],
                "incidents": ["incidents.total", "incidents.criminal", "incidents.per_10k"]}


def recent_week(f: Filters) -> Period:
    """The 7 days up to the as_of date, whatever the chosen period (for recent alerts)."""
    return Period(f.as_of.date() - timedelta(days=6), f.as_of.date())


def main() -> None:
    f = sidebar_filters()
    page_header("领导驾驶舱", f)
    result = cases_for(f, by=("community", "month"))
    prev = cases_for(f, f.period.previous(), by=())
    year_ago = cases_for(f, f.period.year_earlier(), by=())

    st.markdown("##### 诉求办理")
    kpi_row(TILES, result, prev, year_ago, group_frame(result, "month"))
    st.markdown("##### 信访与警情")
    safety = {}
    with st.container(horizontal=True):
        for domain, keys in SAFETY_TILES.items():
            safety[domain] = result_for(domain, f, by=("month",))
            kpi_row(keys, safety[domain], result_for(domain, f, f.period.previous(), by=()),
                    result_for(domain, f, f.period.year_earlier(), by=()),
                    group_frame(safety[domain], "month"))

    table = lists.league_table(result, "community", settings())
    left, right = st.columns([3, 2])
    with left, st.container(border=True, height=560):
        st.subheader("社区三率综合得分排名")
        ranked = table[table["ranked"]] if not table.empty else table
        if ranked.empty:
            st.caption("本期无可排名的社区")
        else:
            st.plotly_chart(charts.ranked_bars(
                ranked, THEME, label="unit", value=lists.RANK_BY,
                target=target(lists.RANK_BY, settings()), height=470),
                key="cockpit_rank")
            unranked = table[~table["ranked"]]
            if not unranked.empty:
                st.caption("未排名: " + "、".join(f"{md(u)}({md(n)})" for u, n in
                                                  zip(unranked["unit"], unranked["note"])))
    with right, st.container(border=True, height=560):
        st.subheader("今日待办与预警")
        items = [*backlog_alert("cases.overdue_open", result.kpis["cases.overdue_open"],
                                "诉求办理"),
                 *compstat_alerts(safety["incidents"].kpis["incidents.compstat"]),
                 *collective_alerts(cached(petitions.collective_list, f, recent_week(f)),
                                    f.as_of),
                 *target_misses(table, [lists.RANK_BY, "cases.closure_rate"], settings())]
        if not items:
            st.success("各项指标均达标, 无待办预警。")
        for level, text in items[:12]:  # alerts name units from the store: data, escaped
            st.warning(md(text), icon=":material/priority_high:" if level == "urgent"
                       else ":material/trending_down:")
        if len(items) > 12:
            st.caption(f"另有 {len(items) - 12} 条预警, 详见“诉求办理”页。")
        st.page_link("pages/cases.py", label="查看诉求办理详情", icon=":material/arrow_forward:")
        st.page_link("pages/safety.py", label="查看信访与警情详情", icon=":material/arrow_forward:")


run_page("cockpit", main)

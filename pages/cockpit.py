"""领导驾驶舱 (landing page): headline tiles of every domain, today's alerts and the
community ranking, on one 1920×1080 screen."""
from __future__ import annotations

import streamlit as st

from metrics import case_lists as lists
from metrics.alerts import backlog_alert, target_misses
from metrics.registry import target
from pages.ui import charts
from pages.ui.common import (cases_for, group_frame, kpi_row, page_header, settings,
                             sidebar_filters)
from pages.ui.safe import md

THEME = charts.LIGHT
TILES = ["cases.total", "cases.closure_rate", "cases.on_time_rate", "cases.three_rate_score",
         "cases.satisfaction_rate", "cases.overdue_open"]


def main() -> None:
    f = sidebar_filters()
    page_header("领导驾驶舱", f)
    result = cases_for(f, by=("community", "month"))
    prev = cases_for(f, f.period.previous(), by=())
    year_ago = cases_for(f, f.period.year_earlier(), by=())

    st.markdown("##### 诉求办理")
    kpi_row(TILES, result, prev, year_ago, group_frame(result, "month"))

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
                 *target_misses(table, [lists.RANK_BY, "cases.closure_rate"], settings())]
        if not items:
            st.success("各项指标均达标, 无待办预警。")
        for level, text in items[:12]:  # alerts name units from the store: data, escaped
            st.warning(md(text), icon=":material/priority_high:" if level == "urgent"
                       else ":material/trending_down:")
        if len(items) > 12:
            st.caption(f"另有 {len(items) - 12} 条预警, 详见“诉求办理”页。")
        st.page_link("pages/cases.py", label="查看诉求办理详情", icon=":material/arrow_forward:")


main()

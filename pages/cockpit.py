"""领导驾驶舱 (landing page): headline tiles of every domain, today's alerts and the
community ranking, on one 1920×1080 screen."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import case_lists as lists
from metrics import cases as m
from metrics.formatting import fmt_kpi
from pages.ui import charts
from pages.ui.common import POINT_IN_TIME, cases_for, sidebar_filters, kpi_card, page_header, settings

THEME = charts.LIGHT
TILES = ["cases.total", "cases.closure_rate", "cases.on_time_rate", "cases.three_rate_score",
         "cases.satisfaction_rate", "cases.overdue_open"]


def alerts(result: m.CaseResult, table: pd.DataFrame) -> list[tuple[str, str]]:
    """(level, text) pairs that need action today, most urgent first."""
    targets = settings().get_path("cases.targets", {})
    out = []
    backlog = result.kpis["cases.overdue_open"] or 0
    if backlog:
        out.append(("urgent", f"超期未办结工单 {backlog} 件, 请督办(见“诉求办理”页积压清单)。"))
    if not table.empty:
        ranked = table[table["ranked"]]
        score_target = targets.get("three_rate_score")
        low = ranked[ranked["cases.three_rate_score"] < score_target] if score_target else []
        for _, row in pd.DataFrame(low).iterrows():
            out.append(("warning", f"{row['unit']} 三率综合得分 "
                        f"{row['cases.three_rate_score']:.1f} 分, 低于目标 {score_target:g} 分。"))
        closure_target = targets.get("closure_rate")
        if closure_target:
            for _, row in ranked[ranked["cases.closure_rate"] < closure_target].iterrows():
                out.append(("warning", f"{row['unit']} 办结率 "
                            f"{fmt_kpi('cases.closure_rate', row['cases.closure_rate'])}, "
                            f"低于目标 {closure_target:.0%}。"))
    return out


def main() -> None:
    f = sidebar_filters()
    page_header("领导驾驶舱", f)
    result = cases_for(f, by=("community", "month"))
    prev = cases_for(f, f.period.previous(), by=())
    year_ago = cases_for(f, f.period.year_earlier(), by=())
    targets = settings().get_path("cases.targets", {})
    months = pd.DataFrame([{"month": k, **v} for k, v in result.groups["month"].items()])

    st.markdown("##### 诉求办理")
    with st.container(horizontal=True):
        for key in TILES:
            trend = (months[key].dropna().tolist()
                     if not months.empty and key not in POINT_IN_TIME else None)
            kpi_card(key, result.kpis, prev.kpis, year_ago.kpis,
                     targets.get(key.split(".", 1)[1]), trend=trend)

    table = lists.league_table(result, "community", settings())
    left, right = st.columns([3, 2])
    with left, st.container(border=True, height=560):
        st.subheader("社区三率综合得分排名")
        ranked = table[table["ranked"]] if not table.empty else table
        if ranked.empty:
            st.caption("本期无可排名的社区")
        else:
            st.plotly_chart(charts.ranked_bars(
                ranked, THEME, label="unit", value="cases.three_rate_score",
                value_name="三率综合得分", target=targets.get("three_rate_score"), height=470),
                key="cockpit_rank")
            unranked = table[~table["ranked"]]
            if not unranked.empty:
                st.caption("未排名: " + "、".join(f"{u}({n})" for u, n in
                                                  zip(unranked["unit"], unranked["note"])))
    with right, st.container(border=True, height=560):
        st.subheader("今日待办与预警")
        items = alerts(result, table)
        if not items:
            st.success("各项指标均达标, 无待办预警。")
        for level, text in items[:12]:
            st.warning(text, icon=":material/priority_high:" if level == "urgent"
                       else ":material/trending_down:")
        if len(items) > 12:
            st.caption(f"另有 {len(items) - 12} 条预警, 详见“诉求办理”页。")
        st.page_link("pages/cases.py", label="查看诉求办理详情", icon=":material/arrow_forward:")


main()

"""领导驾驶舱 (landing page): headline tiles of every domain, today's alerts and the
community ranking, on one 1920×1080 screen."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from datetime import timedelta

from data.store.db import resolve_url
from metrics import benefits, benefits_report
from metrics import case_lists as lists
from metrics import petitions
from metrics.formatting import fmt_value
from metrics.stats import relative_change
from metrics.alerts import backlog_alert, collective_alerts, compstat_alerts, target_misses
from metrics.period import Period
from metrics.registry import REGISTRY, target
from pages.ui.access import run_page
from pages.ui import charts
from pages.ui.common import (Filters, cached, cases_for, group_frame, kpi_row, page_header,
                             result_for, settings, sidebar_filters)
from pages.ui.export import excel_button
from pages.ui.report_menu import report_menu
from pages.ui.safe import md

THEME = charts.LIGHT
TILES = ["cases.total", "cases.closure_rate", "cases.on_time_rate", "cases.three_rate_score",
         "cases.satisfaction_rate", "cases.overdue_open"]
SAFETY_TILES = {"petitions": ["petitions.total", "petitions.collective", "petitions.closure_rate"],
                "incidents": ["incidents.total", "incidents.criminal", "incidents.per_10k"]}


def recent_week(f: Filters) -> Period:
    """The 7 days up to the as_of date, whatever the chosen period (for recent alerts)."""
    return Period(f.as_of.date() - timedelta(days=6), f.as_of.date())


RANK_COLUMNS = [lists.RANK_BY, "cases.total", "cases.closure_rate", "cases.on_time_rate",
                "cases.satisfaction_rate", "cases.overdue_open"]


def ranking_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The ranking behind the chart, for its Excel file (unranked communities last)."""
    return pd.DataFrame({"排名": pd.array(table["rank"], dtype="Int64"), "社区": table["unit"],
                         **{REGISTRY[k].label: table[k] for k in RANK_COLUMNS},
                         "说明": table["note"]})


def render_benefits_tile(f: Filters) -> None:
    """This month's persons in the recurring programs, spending and exceptions, 环比 to
    last month (the month of 数据截至, up to it)."""
    month = benefits_report.month_of(f.as_of.date())
    periods = benefits_report.report_periods(month, f.as_of)
    now, before = (benefits.headline(result_for("benefits", f, periods[p], by=()).kpis)
                   for p in ("cur", "prev"))
    cards = (("persons", f"在保人数({month})", "count", "人次, 五类保障对象之和(一人多类各计一次)", None),
             ("spending", f"保障金支出({month})", "money", "六类保障(含临时救助)发放金额之和", None),
             ("exceptions", f"异常数据({month})", "count", "名单核查: 保障期外发放、超标准发放、"
              "低保与特困同时在保", False))
    with st.container(horizontal=True):
        for name, title, fmt, help_text, higher in cards:
            change = relative_change(now[name], before[name])
            st.metric(title, fmt_value(now[name], fmt), help=help_text, border=True,
                      delta=None if change is None else f"环比 {change:+.1%}",
                      delta_color="inverse" if higher is False else "off")
        st.page_link("pages/benefits.py", label="查看民生保障详情", icon=":material/arrow_forward:")


def main() -> None:
    f = sidebar_filters()
    page_header("领导驾驶舱", f)
    report_menu(f, resolve_url())
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

    st.markdown("##### 民生保障")
    render_benefits_tile(f)

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
                target=target(lists.RANK_BY, settings()), height=430),
                key="cockpit_rank")
            unranked = table[~table["ranked"]]
            if not unranked.empty:
                st.caption("未排名: " + "、".join(f"{md(u)}({md(n)})" for u, n in
                                                  zip(unranked["unit"], unranked["note"])))
            excel_button(ranking_frame(table), "领导驾驶舱-社区三率综合得分排名", f,
                         {"排名": "int"} | {REGISTRY[k].label: k for k in RANK_COLUMNS},
                         key="cockpit_rank_xlsx")
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

"""诉求办理: every cases.* KPI for the chosen period and communities — cards with 环比/同比 and
targets, monthly trend, community league table with Wilson intervals and a grid drill-down,
category/channel, time-to-close, resolution levels, 失分工单 and the overdue backlog."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from metrics import case_lists as lists
from metrics.cases import level_shares
from metrics.formatting import NULL, fmt_kpi
from metrics.registry import REGISTRY, target
from metrics.tables import HI, LO
from pages.ui.access import run_page
from pages.ui import charts
from pages.ui.common import (cases_for, empty_state, engine, group_frame, kpi_row, page_header,
                             settings, sidebar_filters)
from pages.ui.safe import md

THEME = charts.LIGHT
CARDS = ["cases.closure_rate", "cases.on_time_rate", "cases.response_rate",
         "cases.resolution_rate", "cases.satisfaction_rate", "cases.three_rate_score",
         "cases.total", "cases.overdue_open"]


def render_cards(result, prev, year_ago, months: pd.DataFrame) -> None:
    for row in (CARDS[:4], CARDS[4:]):
        kpi_row(row, result, prev, year_ago, months)


def render_trend(months: pd.DataFrame) -> None:
    with st.container(border=True):
        st.subheader("月度趋势: 受理量与办结率", help=REGISTRY["cases.closure_rate"].definition)
        if empty_state(months):
            return
        st.plotly_chart(charts.volume_and_rate(
            months, THEME, x="unit", bars="cases.total", line="cases.closure_rate",
            target=target("cases.closure_rate", settings())), key="cases_trend")


SCORE_COLUMNS = ["cases.three_rate_score", "cases.total"]
RATE_COLUMNS = ["cases.closure_rate", "cases.response_rate", "cases.resolution_rate",
                "cases.satisfaction_rate"]


def _league_display(table: pd.DataFrame, unit_name: str) -> pd.DataFrame:
    """The league table with Chinese headers: each rate followed by its 95 % interval."""
    def interval(key):
        return [NULL if pd.isna(lo) else f"{lo:.1%}–{hi:.1%}"
                for lo, hi in zip(table[LO.format(key=key)], table[HI.format(key=key)])]

    out = {"排名": table["rank"].map(lambda r: NULL if pd.isna(r) else f"{int(r)}"),
           unit_name: table["unit"]}
    for key in SCORE_COLUMNS:
        out[REGISTRY[key].label] = table[key]
    for key in RATE_COLUMNS:
        out[REGISTRY[key].label] = table[key]
        out[f"{REGISTRY[key].label}95%区间"] = interval(key)
    for key in ("cases.on_time_rate", "cases.overdue_open"):
        out[REGISTRY[key].label] = table[key]
    out["说明"] = table["note"]
    return pd.DataFrame(out)


LEAGUE_CONFIG = {
    REGISTRY[key].label: st.column_config.NumberColumn(
        format="percent" if REGISTRY[key].fmt == "pct" else "%.1f" if REGISTRY[key].fmt ==
        "score" else None, help=REGISTRY[key].definition)
    for key in [*SCORE_COLUMNS, *RATE_COLUMNS, "cases.on_time_rate"]
}


def render_league(result, f) -> str | None:
    """Community league table; returns the community chosen for drill-down, if any."""
    with st.container(border=True):
        st.subheader("社区排名(按三率综合得分)", help=(
            "三率综合得分 = 100 × (响应率×权重 + 解决率×权重 + 满意率×权重)。括号内为 95% Wilson "
            "置信区间; 受理量少于最小样本量的社区照常显示但不排名。"))
        table = lists.league_table(result, "community", settings())
        if empty_state(table):
            return None
        shown = _league_display(table, "社区")
        event = st.dataframe(shown, hide_index=True, column_config=LEAGUE_CONFIG,
                             on_select="rerun", selection_mode="single-row",
                             key="cases_league")
        rows = event.selection.rows if event else []
        chosen = shown.iloc[rows[0]]["社区"] if rows else None
        st.caption("点击一行查看该社区各网格。")
        return chosen


def render_grid_drill(community: str, f) -> None:
    with st.container(border=True):
        st.subheader(f"{md(community)} · 各网格")
        sub = cases_for(replace(f, scope=(community,)), by=("grid",))
        table = lists.league_table(sub, "grid", settings())
        if empty_state(table):
            return
        st.dataframe(_league_display(table, "网格"), hide_index=True,
                     column_config=LEAGUE_CONFIG, key="cases_grid_table")


def render_breakdowns(result) -> None:
    left, right = st.columns(2)
    for col, dim, title in ((left, "category", "诉求类别"), (right, "channel", "来源渠道")):
        with col, st.container(border=True):
            st.subheader(title)
            groups = result.groups.get(dim, {})
            df = pd.DataFrame([{"name": g, "total": k["cases.total"],
                                "closure": k["cases.closure_rate"]}
                               for g, k in groups.items() if k["cases.total"]])
            if empty_state(df):
                continue
            if dim == "category":
                st.altair_chart(charts.share_bars(df, THEME, label="name", value="total"),
                                key=f"cases_{dim}")
            else:
                st.plotly_chart(charts.pie(df, THEME, label="name", value="total"),
                                key=f"cases_{dim}")


def render_duration_and_levels(result) -> None:
    left, right = st.columns([3, 2])
    with left, st.container(border=True):
        st.subheader("办理时长分布", help=REGISTRY["cases.median_hours_to_close"].definition)
        if not sum(result.duration_hist.values()):
            st.caption("本期无已办结工单")
        else:
            st.plotly_chart(charts.duration_histogram(
                result.duration_hist, THEME, median=result.kpis["cases.median_hours_to_close"],
                p90=result.kpis["cases.p90_hours_to_close"]), key="cases_duration")
    with right, st.container(border=True):
        st.subheader("小事不出社区、大事不出街道",
                     help=REGISTRY["cases.community_level_share"].definition)
        k = result.kpis
        st.plotly_chart(charts.level_shares(level_shares(k), THEME, height=160),
                        key="cases_levels")
        cols = st.columns(3)
        for col, key in zip(cols, ("cases.community_level_share", "cases.street_level_share",
                                   "cases.escalated_share")):
            col.metric(REGISTRY[key].label, fmt_kpi(key, k[key]), help=REGISTRY[key].definition)


def render_lost_points(f, communities: list[str]) -> None:
    with st.container(border=True):
        st.subheader("失分工单", help=(
            "所选社区本期内使其三率综合得分或按期办结率失分的工单。扣分 = 该工单在各比率中所占"
            "份额 × 100 × 权重; 所有工单扣分之和正好等于 100 减去该社区得分。"))
        if not communities:
            st.caption("本期无数据")
            return
        community = st.selectbox("社区", communities, key="cases_lost_community")
        lost = lists.lost_point_cases(engine(), f.query(), community)
        if empty_state(lost, "该社区本期没有失分工单"):
            return
        shown = pd.DataFrame({
            "工单编号": lost["case_id"], "受理时间": lost["reported_at"],
            "类别": lost["category"], "网格": lost["grid_id"], "承办人": lost["handler"],
            "失分原因": lost["problems"], "三率得分扣分": lost["points"],
            "按期办结率影响(个百分点)": lost["on_time_points"],
        })
        st.caption(f"共 {len(shown)} 件, 三率综合得分合计扣 {lost['points'].sum():.2f} 分。")
        st.dataframe(shown, hide_index=True, key="cases_lost_table", column_config={
            "三率得分扣分": st.column_config.NumberColumn(format="%.2f"),
            "按期办结率影响(个百分点)": st.column_config.NumberColumn(format="%.2f"),
            "受理时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})


def render_backlog(f) -> None:
    with st.container(border=True):
        st.subheader("超期未办结工单(积压)", help=REGISTRY["cases.overdue_open"].definition)
        backlog = lists.overdue_backlog(engine(), f.query())
        if empty_state(backlog, "没有超期未办结的工单"):
            return
        shown = pd.DataFrame({
            "工单编号": backlog["case_id"], "超期天数": backlog["days_overdue"],
            "受理时间": backlog["reported_at"], "办理时限": backlog["deadline_at"],
            "类别": backlog["category"], "社区": backlog["community"],
            "网格": backlog["grid_id"], "承办人": backlog["handler"]})
        st.dataframe(shown, hide_index=True, key="cases_backlog_table", column_config={
            "超期天数": st.column_config.NumberColumn(format="%.1f 天"),
            "受理时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "办理时限": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})


def main() -> None:
    f = sidebar_filters()
    page_header("诉求办理", f)
    result = cases_for(f)
    prev = cases_for(f, f.period.previous(), by=())
    year_ago = cases_for(f, f.period.year_earlier(), by=())
    months = group_frame(result, "month")
    render_cards(result, prev, year_ago, months)
    known, total = result.totals.get("response_known", 0), result.totals.get("total", 0)
    if known < total:
        st.caption(f"响应率基于 {known:,}/{total:,} 件: 已办结但来源系统未记录签收时间的工单"
                   "响应情况未知, 不计入分子分母。")
    render_trend(months)
    chosen = render_league(result, f)
    if chosen:
        render_grid_drill(chosen, f)
    render_breakdowns(result)
    render_duration_and_levels(result)
    communities = [c for c, k in result.groups.get("community", {}).items() if k["cases.total"]]
    left, right = st.columns(2)
    with left:
        render_lost_points(f, communities)
    with right:
        render_backlog(f)


run_page("cases", main)

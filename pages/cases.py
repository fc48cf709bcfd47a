"""诉求办理: every cases.* KPI for the chosen period and communities — cards with 环比/同比 and
targets, monthly trend, community league table with Wilson intervals and a grid drill-down,
category/channel, time-to-close, resolution levels, 失分工单 and the overdue backlog."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from metrics import case_lists as lists
from metrics.cases import level_shares
from metrics.cases import DOMAIN
from metrics.engine.rollup import merge_units
from metrics.formatting import INTERVAL, INTERVAL_HELP, fmt_interval, fmt_kpi
from metrics.registry import REGISTRY, target
from metrics.tables import HI, LO, first_level, has_levels
from pages.ui.access import run_page
from pages.ui import charts
from pages.ui.common import (cases_for, empty_state, engine, group_frame, kpi_row, page_header,
                             settings, sidebar_filters)
from pages.ui.safe import md
from pages.ui.tables import table as show_table

THEME = charts.LIGHT
CARDS = ["cases.closure_rate", "cases.on_time_rate", "cases.response_rate",
         "cases.resolution_rate", "cases.satisfaction_rate", "cases.three_rate_score",
         "cases.total", "cases.overdue_open"]


def render_cards(result, prev, year_ago, months: pd.DataFrame) -> None:
    for row in (CARDS[:4], CARDS[4:]):
        kpi_row(row, result, prev, year_ago, months)


def render_trend(months: pd.DataFrame, f) -> None:
    with st.container(border=True):
        st.subheader("月度趋势: 受理量与办结率", help=REGISTRY["cases.closure_rate"].definition)
        if empty_state(months):
            return
        st.plotly_chart(charts.volume_and_rate(
            charts.by_month(months, f.period), THEME, x="unit", bars="cases.total",
            line="cases.closure_rate", target=target("cases.closure_rate", settings())),
            key="cases_trend")
        note = charts.partial_note(months["unit"], f.period)
        if note:
            st.caption(note)


SCORE_COLUMNS = ["cases.three_rate_score", "cases.total"]
RATE_COLUMNS = ["cases.closure_rate", "cases.response_rate", "cases.resolution_rate",
                "cases.satisfaction_rate"]


def _league_display(table: pd.DataFrame, unit_name: str) -> pd.DataFrame:
    """The league table with Chinese headers: each rate followed by its 95 % interval
    (可信区间); an unranked unit's rank is empty (shown as —)."""
    def interval(key):
        return [fmt_interval(lo, hi)
                for lo, hi in zip(table[LO.format(key=key)], table[HI.format(key=key)])]

    out = {"排名": pd.array(table["rank"], dtype="Int64"), unit_name: table["unit"]}
    for key in SCORE_COLUMNS:
        out[REGISTRY[key].label] = table[key]
    for key in RATE_COLUMNS:
        out[REGISTRY[key].label] = table[key]
        out[f"{REGISTRY[key].label}{INTERVAL}"] = interval(key)
    for key in ("cases.on_time_rate", "cases.overdue_open"):
        out[REGISTRY[key].label] = table[key]
    out["说明"] = table["note"]
    return pd.DataFrame(out)


LEAGUE_KEYS = [*SCORE_COLUMNS, *RATE_COLUMNS, "cases.on_time_rate", "cases.overdue_open"]
LEAGUE_FORMATS = {"排名": "int"} | {REGISTRY[k].label: k for k in LEAGUE_KEYS}
LEAGUE_HELPS = {REGISTRY[k].label: REGISTRY[k].definition for k in LEAGUE_KEYS} | {
    f"{REGISTRY[k].label}{INTERVAL}": INTERVAL_HELP for k in RATE_COLUMNS}


def render_league(result, f) -> str | None:
    """Community league table; returns the community chosen for drill-down, if any."""
    with st.container(border=True):
        st.subheader("社区排名(按三率综合得分)", help=(
            "三率综合得分 = 100 × (响应率×权重 + 解决率×权重 + 满意率×权重)。" + INTERVAL_HELP
            + " 受理量少于最小样本量的社区照常显示但不排名。"))
        table = lists.league_table(result, "community", settings())
        if empty_state(table):
            return None
        shown = _league_display(table, "社区")
        event = show_table(shown, "cases_league", title="诉求办理-社区排名", f=f,
                           formats=LEAGUE_FORMATS, helps=LEAGUE_HELPS, on_select="rerun",
                           selection_mode="single-row")
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
        show_table(_league_display(table, "网格"), "cases_grid_table",
                   title=f"诉求办理-{community}各网格排名", f=f, formats=LEAGUE_FORMATS,
                   helps=LEAGUE_HELPS)


BREAKDOWN_KEYS = ["cases.total", "cases.closure_rate", "cases.on_time_rate",
                  "cases.satisfaction_rate"]


def category_groups(result, first_level_only: bool) -> dict[str, dict]:
    """Figures per category, or per first level of hierarchical categories (a-b-c -> a)."""
    if not first_level_only:
        return result.groups.get("category", {})
    return merge_units(DOMAIN, result, "category", first_level, settings())


def render_breakdowns(result, f) -> None:
    left, right = st.columns(2)
    for col, dim, title in ((left, "category", "诉求类别"), (right, "channel", "来源渠道")):
        with col, st.container(border=True):
            st.subheader(title)
            groups = result.groups.get(dim, {})
            if dim == "category" and has_levels(groups):
                if st.toggle("只看一级类别", key="cases_category_level",
                             help="多级类别(如 城乡建设-住房保障-公租房)合并到第一级(城乡建设)"):
                    groups = category_groups(result, True)
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
            rows = sorted(((g, k) for g, k in groups.items() if k["cases.total"]),
                          key=lambda item: (-item[1]["cases.total"], item[0]))
            shown = pd.DataFrame({title: [g for g, _ in rows], **{
                REGISTRY[key].label: [k[key] for _, k in rows] for key in BREAKDOWN_KEYS}})
            with st.expander(f"{title}明细表"):
                show_table(shown, f"cases_{dim}_table", title=f"诉求办理-{title}", f=f,
                           formats={REGISTRY[k].label: k for k in BREAKDOWN_KEYS})


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


LOST_HELP = ("使三率综合得分或按期办结率失分的本期工单。扣分 = 该工单在各比率中所占份额 × 100 × 权重; "
             "所列工单扣分之和正好等于 100 减去所选范围(全街道或某社区)的得分。")
STREET = "全街道"
LOST_FORMATS = {"受理时间": "datetime", "三率得分扣分": "dec2", "按期办结率影响(个百分点)": "dec2"}


def lost_frame(lost: pd.DataFrame, with_community: bool) -> pd.DataFrame:
    """失分工单 as shown: Chinese headers, costliest first, the points next to the id."""
    out = {"工单编号": lost["case_id"], "三率得分扣分": lost["points"],
           "按期办结率影响(个百分点)": lost["on_time_points"], "失分原因": lost["problems"]}
    if with_community:
        out["社区"] = lost["community"]
    out |= {"类别": lost["category"], "网格": lost["grid_id"], "承办人": lost["handler"],
            "受理时间": lost["reported_at"]}
    return pd.DataFrame(out)


def render_lost_points(f, communities: list[str]) -> None:
    with st.container(border=True):
        st.subheader("失分工单", help=LOST_HELP)
        if not communities:
            st.caption("本期无数据")
            return
        whole = STREET if not f.scope else "所选社区合计"
        unit = st.selectbox("范围", [whole, *communities], key="cases_lost_community",
                            help="全街道(或所选社区合计): 按所有工单扣分从高到低; 选一个社区: "
                                 "该社区的失分工单。")
        community = None if unit == whole else unit
        lost = lists.lost_point_cases(engine(), f.query(), community)
        if empty_state(lost, "本期没有失分工单"):
            return
        shown = lost_frame(lost, community is None)
        st.caption(f"共 {len(shown):,} 件, 按扣分从高到低; 三率综合得分合计扣 "
                   f"{lost['points'].sum():.2f} 分。")
        show_table(shown, "cases_lost_table", title=f"诉求办理-失分工单-{unit}", f=f,
                   formats=LOST_FORMATS)


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
        show_table(shown, "cases_backlog_table", title="诉求办理-超期未办结工单", f=f,
                   formats={"超期天数": "days", "受理时间": "datetime", "办理时限": "datetime"})


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
    render_trend(months, f)
    chosen = render_league(result, f)
    if chosen:
        render_grid_drill(chosen, f)
    render_breakdowns(result, f)
    render_duration_and_levels(result)
    communities = [c for c, k in result.groups.get("community", {}).items() if k["cases.total"]]
    left, right = st.columns(2)
    with left:
        render_lost_points(f, communities)
    with right:
        render_backlog(f)


run_page("cases", main)

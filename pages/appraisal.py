"""考核评议: a month's cadre appraisal — scores, tiers and ranks within each role with the
change from the month before, and for any cadre the point-by-point breakdown (components,
deductions) adding up to the score, with the days and cases behind it. A finished month can
be published (frozen); a published month is read from its snapshot, and where later data
would change a score the live figure shows beside it (发布后数据有变动). The workbook
download holds the snapshot when there is one, else the live figures.

The shared period filter does not apply here (the month picker does); the community scope
limits the cadres shown (by the cadre's community)."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import streamlit as st

from data.store.db import resolve_url
from metrics import appraisal, attendance, roster, worklogs
from metrics.appraisal import COMPONENTS, DEDUCTIONS, UNITS
from metrics.appraisal_export import file_name, workbook
from metrics.appraisal_store import MonthView, PublishError, month_view, publish
from metrics.formatting import NULL, fmt_kpi
from metrics.registry import REGISTRY
from metrics.access import Viewer
from pages.ui.access import current_viewer, run_page
from pages.ui import charts
from pages.ui.common import (CACHE_TTL, empty_state, engine, page_header, settings,
                             sidebar_filters)
from pages.ui.export import XLSX, download
from pages.ui.safe import md
from pages.ui.tables import table as show_table

THEME = charts.LIGHT
YES_NO = {True: "是", False: "否"}
PARTS_FORMATS = {"比率": "pct", "原权重": "dec2", "实际权重": "dec2", "得分": "dec2",
                 "失分": "dec2", "扣分": "dec2"}
MONTHS_SHOWN = 24


def month_options(as_of: date) -> list[str]:
    """The months to pick from, newest first: the as_of month and the 23 before it."""
    index = as_of.year * 12 + as_of.month - 1
    return [f"{(index - i) // 12:04d}-{(index - i) % 12 + 1:02d}" for i in range(MONTHS_SHOWN)]


def previous_month(month: str) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@st.cache_data(ttl=CACHE_TTL, max_entries=16, show_spinner="正在计算考核结果…")
def load_view(url: str, month: str, store_as_of: datetime, version: tuple = (),
              allowed: tuple[str, ...] | None = None) -> MonthView:
    return month_view(engine(), month, settings(), allowed=allowed)


@st.cache_data(ttl=CACHE_TTL, max_entries=8, show_spinner=False)
def load_workbook(url: str, month: str, store_as_of: datetime,
                  published_at: datetime | None, version: tuple = (),
                  allowed: tuple[str, ...] | None = None) -> bytes:
    return workbook(load_view(url, month, store_as_of, version, allowed))


def in_scope(view: MonthView, scope: tuple[str, ...]) -> list[dict]:
    return [r for r in view.rows if not scope or r["community"] in scope]


def table_frame(rows: list[dict], prev: dict[str, float], view: MonthView) -> pd.DataFrame:
    """One role's cadres by rank: score, tier, change from last month, each component's
    rate, deductions, and (published) the live score where it differs."""
    revisions = view.revisions()
    out = []
    for r in sorted(rows, key=lambda r: (r["rank"], r["cadre_id"])):
        parts = r["parts"]["components"]
        before = prev.get(r["cadre_id"])
        row = {"排名": r["rank"], "姓名": r["name"], "人员编号": r["cadre_id"],
               "社区": r["community"] or "(街道)", "得分": r["score"], "等次": r["tier"],
               "较上月": None if before is None else round(r["score"] - before, 2)}
        for key, label in COMPONENTS.items():
            rate = parts[key]["rate"]
            row[label] = None if rate is None else rate * 100   # percent, one decimal
        row["扣分"] = r["parts"]["deductions"]["overdue_cases"]["points"]
        if view.published:
            changed = revisions.get(r["cadre_id"])
            row["实时得分"] = changed["live_score"] if changed else r["score"]
            row["说明"] = "发布后数据有变动" if changed else ""
        out.append(row)
    return pd.DataFrame(out)


TABLE_FORMATS = {label: "pct100" for label in COMPONENTS.values()} | {
    "排名": "int", "得分": "dec2", "较上月": "signed2", "扣分": "dec2", "实时得分": "dec2"}
TABLE_HELPS = {"得分": REGISTRY["appraisal.score"].definition,
               "较上月": "与上月得分之差(上月已发布时取其快照)",
               "实时得分": "按当前数据、发布时的考核时点与设置重新计算的得分"}


def render_status(view: MonthView, month: str, url: str, store_as_of: datetime,
                  version: tuple, viewer: Viewer, allowed: tuple[str, ...] | None) -> None:
    with st.container(border=True, horizontal=True, vertical_alignment="center"):
        if view.published:
            st.markdown(f":green-badge[:material/lock: 已发布] 发布于 "
                        f"{view.published_at:%Y-%m-%d %H:%M}"
                        + (f" · 发布人 {md(view.published_by)}" if view.published_by else "")
                        + f" · 考核时点 {view.as_of:%Y-%m-%d %H:%M:%S} · 页面与导出读取发布时的快照")
        else:
            note = "" if view.complete else " · 本月尚未结束, 结束后可发布"
            st.markdown(f":orange-badge[未发布] 实时计算 · 考核时点 "
                        f"{view.as_of:%Y-%m-%d %H:%M:%S}{note}")
        may_publish = viewer.may("publish")
        if st.button("发布本月考核结果", key="appraisal_publish", type="primary",
                     disabled=view.published or not view.complete or not may_publish,
                     help="发布后该月结果冻结: 页面与导出读取快照, 之后的数据变动只作为修订显示在旁边。"
                          + ("" if may_publish else " 当前账号无发布权限(领导或考核角色可发布)。")):
            try:
                if not viewer.may("publish"):   # a crafted click on the disabled button
                    raise PublishError("当前账号无发布权限")
                publish(engine(), month, settings(), by=viewer.actor)
            except PublishError as exc:
                st.error(md(exc))
            else:
                load_view.clear()
                load_workbook.clear()
                st.toast(f"已发布 {month} 考核结果")
                st.rerun()
        download("导出Excel(考核结果)", load_workbook(url, month, store_as_of,
                                                   view.published_at, version, allowed),
                 file_name(view), XLSX, "appraisal_download",
                 what=f"考核评议 {month} 考核结果({len(view.rows)} 人"
                      + (f", {'、'.join(allowed)}" if allowed else "") + ")")


def render_cards(rows: list[dict]) -> None:
    tiers = dict.fromkeys(appraisal.tier_names(settings()), 0)
    for r in rows:
        tiers[r["tier"]] += 1
    mean = sum(r["score"] for r in rows) / len(rows) if rows else None
    with st.container(horizontal=True):
        st.metric("参评人数", f"{len(rows):,}", border=True)
        st.metric(REGISTRY["appraisal.mean_score"].label, fmt_kpi("appraisal.mean_score", mean),
                  border=True, help=REGISTRY["appraisal.mean_score"].definition)
        for name, n in tiers.items():
            st.metric(name, f"{n:,}", border=True, help=REGISTRY["appraisal.tiers"].definition)


def render_breakdown(row: dict, view: MonthView, month: str, f) -> None:
    """The cadre's points, part by part, adding up to the score; what lies behind them."""
    parts = row["parts"]
    comps = parts["components"]
    deduction = parts["deductions"]["overdue_cases"]
    lines = []
    for key in COMPONENTS:
        p = comps[key]
        lines.append({"项目": COMPONENTS[key], "比率": p["rate"], "依据": _basis(key, p),
                      "原权重": p["nominal_weight"], "实际权重": p["weight"],
                      "得分": p["earned"], "失分": p["lost"], "扣分": None})
    lines.append({"项目": DEDUCTIONS["overdue_cases"], "比率": None,
                  "依据": f"{deduction['count']} 件 × {deduction['per_case']:g} 分"
                          f"(上限 {deduction['cap']:g} 分, 得分不低于 0)",
                  "原权重": None, "实际权重": None, "得分": None, "失分": None,
                  "扣分": deduction["points"]})
    weights = sum(comps[k]["weight"] for k in COMPONENTS)
    lost = sum(comps[k]["lost"] for k in COMPONENTS)
    lines.append({"项目": "合计", "比率": None, "依据": "各项得分之和 − 扣分",
                  "原权重": 100.0, "实际权重": weights, "得分": row["score"],
                  "失分": lost, "扣分": deduction["points"]})
    left, right = st.columns([3, 2])
    with left:
        show_table(pd.DataFrame(lines), "appraisal_parts_table",
                   title=f"考核评议-{row['name']}得分明细", f=f, period=f"考核月份 {month}",
                   formats=PARTS_FORMATS, extra={"依据": {"width": "large"}})
        st.caption(f"实际权重 {weights:.2f} − 失分 {lost:.2f} − 扣分 {deduction['points']:.2f}"
                   f" = 得分 {row['score']:.2f} 分({row['tier']}, 岗位内第 {row['rank']} 名)。")
        missing = [COMPONENTS[k] for k in COMPONENTS if comps[k]["rate"] is None]
        if missing:
            st.caption(f"{'、'.join(missing)}无数据, 不计入; 其权重按比例分配给其余分项"
                       "(实际权重合计仍为 100)。")
    with right:
        bars = [{"label": COMPONENTS[k], "earned": comps[k]["earned"],
                 "lost": comps[k]["lost"]} for k in COMPONENTS if comps[k]["rate"] is not None]
        bars.append({"label": DEDUCTIONS["overdue_cases"], "deducted": deduction["points"]})
        st.plotly_chart(charts.appraisal_parts(bars, THEME), key="appraisal_parts_chart")
    render_behind(row["cadre_id"], view, month, f, row["name"])



def _basis(key: str, p: dict) -> str:
    if p["rate"] is None:
        return "无数据, 不计入"
    if "closure_den" in p:
        return (f"办结 {p['closure_num']}/{p['closure_den']} 件, 按期 {p['on_time_num']}/"
                f"{p['on_time_den']} 件, 取两率平均")
    return f"{p['num']}/{p['den']} {UNITS[key]}"


@st.cache_data(ttl=CACHE_TTL, max_entries=32, show_spinner="正在读取明细…")
def behind(url: str, month: str, as_of: datetime, cadre_id: str,
           version: tuple = (), allowed: tuple[str, ...] | None = None
           ) -> dict[str, pd.DataFrame]:
    """The days and cases behind a cadre's points in the month (current data); a cadre
    outside ``allowed`` raises OutOfScope (metrics.roster.require)."""
    q = appraisal.month_query(engine(), month, settings(), as_of=as_of, allowed=allowed)
    days = attendance.cadre_days(engine(), q, cadre_id)
    off = pd.DataFrame([{"日期": d.day, "状态": d.status,
                         "签到": f"{d.check_in_at:%H:%M:%S}" if d.check_in_at else NULL,
                         "签退": f"{d.check_out_at:%H:%M:%S}" if d.check_out_at else NULL}
                        for d in days if d.status in ("缺勤", "迟到", "早退", "未签退")])
    logged = worklogs.logged_days(engine(), q, cadre_id)
    who = roster.read(engine(), ids=[cadre_id]).get(cadre_id)
    scheduled = roster.scheduled_days(who, q.period.start, roster.last_day(q)) if who else []
    no_log = pd.DataFrame({"未写日志的应出勤日": [d for d in scheduled if d not in logged]})
    cases = pd.DataFrame(appraisal.handled_cases(engine(), q, cadre_id))
    return {"days": off, "no_log": no_log, "cases": cases}


def render_behind(cadre_id: str, view: MonthView, month: str, f, name: str) -> None:
    data = behind(resolve_url(), month, view.as_of, cadre_id, f.version, f.allowed)
    if view.published:
        st.caption("以下明细按当前数据列出(考核时点同发布时); 得分以发布时的快照为准。")
    tabs = st.tabs(["考勤异常", "未写日志", "承办工单"])
    period = f"考核月份 {month}"
    with tabs[0]:
        if not empty_state(data["days"], "本月没有缺勤、迟到、早退或未签退"):
            show_table(data["days"], "appraisal_days", title=f"考核评议-{name}考勤异常", f=f,
                       period=period, formats={"日期": "date"})
    with tabs[1]:
        if not empty_state(data["no_log"], "本月每个应出勤日都写了日志"):
            show_table(data["no_log"], "appraisal_no_log", title=f"考核评议-{name}未写日志",
                       f=f, period=period, formats={"未写日志的应出勤日": "date"})
    with tabs[2]:
        cases = data["cases"]
        if not empty_state(cases, "没有失分或扣分的承办工单"):
            show_table(pd.DataFrame({
                "工单编号": cases["case_id"], "受理时间": cases["reported_at"],
                "类别": cases["category"], "社区": cases["community"],
                "办理时限": cases["deadline_at"], "办结时间": cases["closed_at"],
                "问题": cases["problems"], "本月受理": cases["in_period"].map(YES_NO),
                "扣分": cases["deducted"].map(YES_NO)}), "appraisal_cases",
                title=f"考核评议-{name}承办工单", f=f, period=period,
                formats={"受理时间": "datetime", "办理时限": "datetime", "办结时间": "datetime"})


def main() -> None:
    f = sidebar_filters()
    page_header("考核评议", f, subtitle="按月考核(左侧统计期不适用; 社区范围按干部所属社区筛选)")
    url = resolve_url()
    months = month_options(f.as_of.date())
    month = st.selectbox("考核月份", months, index=1, key="appraisal_month",
                         help="默认为上月(最近一个已结束的月份)。")
    viewer = current_viewer()
    view = load_view(url, month, f.as_of, f.version, f.allowed)
    render_status(view, month, url, f.as_of, f.version, viewer, f.allowed)
    rows = in_scope(view, f.scope)
    if empty_state(pd.DataFrame(rows), "该月没有参加考核的干部"):
        return
    revisions = view.revisions()
    shown_revisions = [c for c in revisions if c in {r["cadre_id"] for r in rows}]
    if shown_revisions:
        st.warning(f"发布后数据有变动: {len(shown_revisions)} 名干部按当前数据重新计算的得分与发布时"
                   "不同, 见下表“实时得分”列; 页面与导出仍以发布时的快照为准。",
                   icon=":material/history:")
    render_cards(rows)
    prev_view = load_view(url, previous_month(month), f.as_of, f.version, f.allowed)
    prev = {r["cadre_id"]: r["score"] for r in prev_view.rows}
    with st.container(border=True):
        st.subheader("各岗位考核结果", help=REGISTRY["appraisal.rank"].definition)
        roles = [r for r in roster.ROLES if any(x["role"] == r for x in rows)]
        roles += sorted({x["role"] or "未填" for x in rows} - set(roles))
        role = st.segmented_control("岗位", roles, default=roles[-1] if "网格员" not in roles
                                    else "网格员", key="appraisal_role") or roles[0]
        role_rows = [r for r in rows if (r["role"] or "未填") == role]
        table = table_frame(role_rows, prev, view)
        show_table(table, "appraisal_table", title=f"考核评议-{month}-{role}考核结果", f=f,
                   period=f"考核月份 {month}", formats=TABLE_FORMATS, helps=TABLE_HELPS)
        st.caption(f"较上月: 与 {previous_month(month)} 的得分之差"
                   f"({'已发布快照' if prev_view.published else '实时计算'})。排名为全街道该岗位内的名次。")
    with st.container(border=True):
        st.subheader("得分分布")
        frame = pd.DataFrame([{"role": r["role"] or "未填", "score": r["score"]} for r in rows])
        st.plotly_chart(charts.score_distribution(
            frame, THEME, score="score", group="role",
            tiers={k: float(v) for k, v in settings().get_path("appraisal.tiers").items()}),
            key="appraisal_distribution")
    with st.container(border=True):
        st.subheader("得分明细", help=REGISTRY["appraisal.parts"].definition)
        ids = [r["cadre_id"] for r in sorted(role_rows, key=lambda r: (r["rank"], r["cadre_id"]))]
        names = {r["cadre_id"]: r for r in rows}
        chosen = st.selectbox("干部(默认为该岗位得分最低者)", ids, index=len(ids) - 1,
                              key="appraisal_cadre", format_func=lambda c: (
            f"{names[c]['name']}({names[c]['role']} · 第 {names[c]['rank']} 名 · "
            f"{names[c]['score']:.2f} 分 · {c})"))
        if chosen in names:   # a crafted pick outside the rows shown: nothing to break down
            render_breakdown(names[chosen], view, month, f)


run_page("appraisal", main)

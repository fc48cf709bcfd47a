"""干部考勤与日志: attendance and work logs of the cadres in scope — cards with 环比/同比, a
league table within a role (Wilson intervals, the min_sample rule), late arrivals and
absences by month, one cadre's attendance calendar, work-log statistics, the suspect logs
(why, and the log copied) and check-ins far from the cadre's community. Cadres' names are
shown; log texts are not (a log may name residents)."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import streamlit as st

from metrics import attendance, roster, worklogs
from metrics.formatting import INTERVAL, INTERVAL_HELP, NULL, fmt_interval
from metrics.registry import REGISTRY
from metrics.tables import HI, LO, league_table
from pages.ui.access import run_page
from pages.ui import charts
from pages.ui.common import (CACHE_TTL, cached, empty_state, engine, group_frame, kpi_row,
                             page_header, result_for, settings, sidebar_filters)
from pages.ui.tables import table as show_table
from data.store.db import resolve_url
from metrics.context import Query
from metrics.period import Period

THEME = charts.LIGHT
ATTENDANCE_CARDS = [["attendance.rate", "attendance.present_days", "attendance.scheduled_days",
                     "attendance.absent"],
                    ["attendance.late", "attendance.early_leave", "attendance.missing_checkout",
                     "attendance.offday_checkins", "attendance.avg_field_hours"]]
WORKLOG_CARDS = ["worklogs.log_rate", "worklogs.logs", "worklogs.visits",
                 "worklogs.issues_reported", "worklogs.suspect"]
RANK_BY = {"attendance.rate": "出勤率", "worklogs.log_rate": "日志提交率"}
COUNT_COLUMNS = ["attendance.late", "attendance.early_leave", "attendance.missing_checkout",
                 "attendance.absent", "attendance.scheduled_days"]
TREND_HEIGHT = 470  # level with the calendar beside it (a year of months)


def _interval(table: pd.DataFrame, key: str) -> list[str]:
    return [fmt_interval(lo, hi)
            for lo, hi in zip(table[LO.format(key=key)], table[HI.format(key=key)])]


def league_frame(att, wl, people: pd.DataFrame, role: str, rank_by: str) -> pd.DataFrame:
    """The cadres of one role ranked by ``rank_by`` (attendance or log rate), each rate with
    its 95 % interval; cadres with fewer scheduled days than min_sample are not ranked."""
    ids = set(people.loc[people["role"] == role, "cadre_id"])
    s = settings()
    tables = {key: league_table(result, "cadre", s, rank_by=key, size=("scheduled",),
                                units=ids)
              for key, result in (("attendance.rate", att), ("worklogs.log_rate", wl))}
    main = tables[rank_by]
    if main.empty:
        return main
    other = tables["worklogs.log_rate" if rank_by == "attendance.rate" else "attendance.rate"]
    other_cols = [c for c in other.columns if c not in main.columns or c == "unit"]
    table = main.merge(other[other_cols], on="unit", how="left")
    names = people.set_index("cadre_id")
    out = {"排名": pd.array(table["rank"], dtype="Int64"),
           "姓名": table["unit"].map(names["name"]),
           "人员编号": table["unit"],
           "社区": table["unit"].map(names["community"]).fillna("(街道)")}
    for key in RANK_BY:
        out[REGISTRY[key].label] = table[key]
        out[f"{REGISTRY[key].label}{INTERVAL}"] = _interval(table, key)
    for key in COUNT_COLUMNS:
        out[REGISTRY[key].label] = table[key].fillna(0).astype(int)
    out[REGISTRY["worklogs.suspect"].label] = table["worklogs.suspect"].fillna(0).astype(int)
    out["说明"] = table["note"]
    return pd.DataFrame(out)


LEAGUE_KEYS = [*RANK_BY, *COUNT_COLUMNS, "worklogs.suspect"]
LEAGUE_FORMATS = {"排名": "int"} | {REGISTRY[k].label: k for k in LEAGUE_KEYS}
LEAGUE_HELPS = {REGISTRY[k].label: REGISTRY[k].definition for k in LEAGUE_KEYS} | {
    f"{REGISTRY[k].label}{INTERVAL}": INTERVAL_HELP for k in RANK_BY}


def render_league(att, wl, people: pd.DataFrame, f) -> None:
    with st.container(border=True):
        st.subheader("岗位内排名", help=(
            "在所选岗位内按出勤率或日志提交率排名。" + INTERVAL_HELP + " 应出勤天数少于"
            "最小样本量(见设置)的干部照常显示但不排名。"))
        roles = [r for r in roster.ROLES if r in set(people["role"])]
        if empty_state(pd.DataFrame(roles), "本期没有在岗干部"):
            return
        left, right = st.columns([2, 3])
        role = left.segmented_control("岗位", roles, default=roles[-1], key="cadres_role") \
            or roles[-1]
        rank_by = right.segmented_control("排名依据", list(RANK_BY), default="attendance.rate",
                                          format_func=RANK_BY.get, key="cadres_rank_by") \
            or "attendance.rate"
        table = league_frame(att, wl, people, role, rank_by)
        if empty_state(table, "该岗位本期没有应出勤的干部"):
            return
        show_table(table, "cadres_league", title=f"干部考勤与日志-{role}排名", f=f,
                   formats=LEAGUE_FORMATS, helps=LEAGUE_HELPS)


def render_trend(att, f) -> None:
    with st.container(border=True):
        st.subheader("迟到、早退与缺勤(按月)", help=REGISTRY["attendance.late"].definition)
        months = group_frame(att, "month")
        if empty_state(months):
            return
        st.plotly_chart(charts.monthly_counts(
            charts.by_month(months, f.period), THEME, x="unit",
            keys=["attendance.late", "attendance.early_leave", "attendance.absent"],
            height=TREND_HEIGHT), key="cadres_trend")


@st.cache_data(ttl=CACHE_TTL, max_entries=32, show_spinner="正在读取考勤…")
def cadre_days(url: str, start: date, end: date, scope: tuple[str, ...], as_of: datetime,
               cadre_id: str, version: tuple = (),
               allowed: tuple[str, ...] | None = None) -> pd.DataFrame:
    q = Query(Period(start, end), scope, as_of, settings(), allowed)
    return pd.DataFrame([{
        "date": f"{d.day:%Y-%m-%d}", "month": f"{d.day:%Y-%m}", "dom": d.day.day,
        "status": d.status,
        "check_in": f"{d.check_in_at:%H:%M:%S}" if d.check_in_at else NULL,
        "check_out": f"{d.check_out_at:%H:%M:%S}" if d.check_out_at else NULL,
        "holiday": d.holiday or ""} for d in attendance.cadre_days(engine(), q, cadre_id)])


def _person(people: pd.DataFrame):
    names = people.set_index("cadre_id")

    def shown(cadre_id: str) -> str:
        c = names.loc[cadre_id]
        community = "街道" if pd.isna(c["community"]) else c["community"]
        return f"{c['name']}({c['role']} · {community} · {cadre_id})"
    return shown


def render_calendar(f, people: pd.DataFrame) -> None:
    with st.container(border=True):
        st.subheader("考勤日历", help=("每格一天: 出勤、迟到、早退、未签退、缺勤(应出勤而未签到)、"
                                    "非工作日打卡、休息日; 未在岗为入职前或离职后的工作日。"))
        if empty_state(people, "本期没有在岗干部"):
            return
        ids = people["cadre_id"].tolist()
        chosen = st.selectbox("干部", ids, format_func=_person(people), key="cadres_person")
        days = cadre_days(resolve_url(), f.period.start, f.period.end, f.scope, f.as_of,
                          chosen, f.version, f.allowed)
        if empty_state(days):
            return
        st.altair_chart(charts.attendance_calendar(days, THEME), key="cadres_calendar")
        counts = days["status"].value_counts()
        st.caption(" · ".join(f"{s} {int(counts.get(s, 0))} 天" for s in attendance.STATUSES
                              if counts.get(s, 0)))


def render_worklogs(wl, suspects: pd.DataFrame, f) -> None:
    left, right = st.columns([3, 2])
    with left, st.container(border=True):
        st.subheader("日志篇数与提交率(按月)", help=REGISTRY["worklogs.log_rate"].definition)
        months = group_frame(wl, "month")
        if not empty_state(months):
            fig = charts.volume_and_rate(charts.by_month(months, f.period), THEME, x="unit",
                                         bars="worklogs.logs", line="worklogs.log_rate")
            st.plotly_chart(fig, key="cadres_logs_trend")
            note = charts.partial_note(months["unit"], f.period)
            if note:
                st.caption(note)
    with right, st.container(border=True):
        st.subheader("存疑原因", help=REGISTRY["worklogs.suspect"].definition)
        if not empty_state(suspects, "本期没有存疑日志"):
            reasons = suspects["reasons"].explode().map(worklogs.REASONS).value_counts()
            st.altair_chart(charts.share_bars(
                pd.DataFrame({"name": reasons.index, "total": reasons.values}), THEME,
                label="name", value="total", height=200), key="cadres_reasons_chart")
            st.caption("一篇日志可有多个原因。")
    with st.container(border=True):
        st.subheader("各岗位日志情况")
        roles = group_frame(wl, "role")
        if empty_state(roles):
            return
        roles["order"] = roles["unit"].map(lambda r: roster.ROLES.index(r)
                                           if r in roster.ROLES else len(roster.ROLES))
        roles = roles.sort_values("order")
        keys = ["worklogs.logs", "worklogs.log_rate", "worklogs.visits",
                "worklogs.issues_reported", "worklogs.suspect"]
        shown = pd.DataFrame({"岗位": roles["unit"],
                              **{REGISTRY[k].label: roles[k] for k in keys}})
        show_table(shown, "cadres_roles", title="干部考勤与日志-各岗位日志情况", f=f,
                   formats={REGISTRY[k].label: k for k in keys})


def render_suspects(suspects: pd.DataFrame, f) -> None:
    with st.container(border=True):
        st.subheader("存疑日志", help=REGISTRY["worklogs.suspect"].definition)
        if empty_state(suspects, "本期没有存疑日志"):
            return
        wanted = st.multiselect("原因", list(worklogs.REASONS.values()), key="cadres_why",
                                placeholder="全部原因")
        rows = suspects
        if wanted:
            rows = rows[rows["why"].map(lambda w: any(x in w.split("、") for x in wanted))]
        rows = rows.sort_values(["day", "log_id"], ascending=[False, True])
        shown = pd.DataFrame({
            "日志编号": rows["log_id"], "干部": rows["name"], "岗位": rows["role"],
            "社区": rows["community"].fillna("(街道)"), "日志日期": pd.to_datetime(rows["day"]),
            "填报时间": pd.to_datetime(rows["created_at"]), "字数": rows["chars"],
            "存疑原因": rows["why"], "雷同于": rows["copies"],
            "被雷同日志日期": pd.to_datetime(rows["copies_day"]),
            "相似度": pd.to_numeric(rows["similarity"]),
            "月末补录篇数": pd.to_numeric(rows["batch_size"]).astype("Int64")})
        show_table(shown, "cadres_suspects", title="干部考勤与日志-存疑日志", f=f,
                   formats={"日志日期": "date", "被雷同日志日期": "date", "填报时间": "datetime",
                            "字数": "count", "相似度": "dec3", "月末补录篇数": "count"},
                   helps={"相似度": "两篇日志文字的相似程度(0–1, 按相邻三个字的重合比例), 越接近 1 越雷同"})
        st.caption(f"共 {len(rows)} 篇, 最近的在前。为保护居民信息, 不显示日志正文; 雷同日志给出"
                   "被雷同的日志编号与日期。")


def render_far(far: list[dict], f) -> None:
    with st.container(border=True):
        limit = settings().get_path("attendance.max_distance_km")
        st.subheader("异地打卡", help=(f"签到位置距干部所属社区边界的中心(几何中心)超过 {limit:g} "
                                    "公里(见设置)的记录; 街道干部、无坐标的记录和未导入边界的社区不参与。"))
        frame = pd.DataFrame(far)
        if empty_state(frame, f"本期没有距所属社区中心超过 {limit:g} 公里的签到"):
            return
        show_table(pd.DataFrame({
            "干部": frame["name"], "人员编号": frame["cadre_id"], "岗位": frame["role"],
            "社区": frame["community"], "日期": pd.to_datetime(frame["day"]),
            "签到时间": pd.to_datetime(frame["check_in_at"]),
            "距社区中心(公里)": frame["distance_km"]}), "cadres_far",
            title="干部考勤与日志-异地打卡", f=f,
            formats={"日期": "date", "签到时间": "time", "距社区中心(公里)": "dec2"})
        st.caption(f"共 {len(frame)} 次, 最远的在前。")


def main() -> None:
    f = sidebar_filters()
    page_header("干部考勤与日志", f)
    warning = attendance.calendar_warning(f.query())
    if warning:
        st.warning(warning, icon=":material/event_busy:")
    att, wl = result_for("attendance", f), result_for("worklogs", f)
    st.markdown("##### 考勤")
    att_prev = result_for("attendance", f, f.period.previous(), by=())
    att_year = result_for("attendance", f, f.period.year_earlier(), by=())
    months = group_frame(att, "month")
    for row in ATTENDANCE_CARDS:
        kpi_row(row, att, att_prev, att_year, months)
    st.markdown("##### 工作日志")
    kpi_row(WORKLOG_CARDS, wl, result_for("worklogs", f, f.period.previous(), by=()),
            result_for("worklogs", f, f.period.year_earlier(), by=()), group_frame(wl, "month"))
    people = pd.DataFrame(cached(roster.listing, f),
                          columns=["cadre_id", "name", "role", "community", "joined_on",
                                   "left_on"])
    render_league(att, wl, people, f)
    left, right = st.columns([2, 3])
    with left:
        render_trend(att, f)
    with right:
        render_calendar(f, people)
    suspects = pd.DataFrame(cached(worklogs.suspect_list, f),
                            columns=["log_id", "cadre_id", "name", "role", "community", "day",
                                     "created_at", "chars", "why", "reasons", "copies",
                                     "copies_day", "similarity", "batch_size"])
    st.markdown("##### 工作日志统计")
    render_worklogs(wl, suspects, f)
    render_suspects(suspects, f)
    render_far(cached(attendance.far_checkins, f), f)


run_page("cadres", main)

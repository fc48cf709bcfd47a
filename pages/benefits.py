"""民生保障: the civil-affairs monthly report (户数, 人数, 支出, 月人均 with last month and the
same month last year, 环比, 同比, 新增, 退出) with its Excel download, trends by program,
coverage per 1 000 residents by community (ranked and on the map), the average per person
against the year's standard, 临时救助 by reason and month, medical-insurance enrolment
against its target, and the exceptions audit (recipients only by a short person key).
Every figure says whether it comes from the recipient lists (名单) or the monthly
statistics (月报统计)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data.ingest.columns import PROGRAM_CODES
from data.store.office import office_name
from metrics import benefits, benefits_report, maps
from metrics.formatting import NULL, fmt_kpi
from metrics.period import Period
from metrics.registry import REGISTRY, target
from pages.ui import charts
from pages.ui.common import (cached, empty_state, engine, group_frame, kpi_row, page_header,
                             result_for, settings, sidebar_filters)
from pages.ui.access import run_page
from pages.ui.export import EXPORT_LABEL, XLSX, download
from pages.ui.maps import community_map
from pages.ui.tables import table as show_table
from pages.ui.safe import md

THEME = charts.LIGHT
CARDS = [["benefits.urban_dibao.persons", "benefits.rural_dibao.persons",
          "benefits.tekun.persons", "benefits.disability_living.persons"],
         ["benefits.disability_care.persons", "benefits.temporary_relief.cases",
          "benefits.medical_insurance.enrolment_rate", "benefits.exceptions"]]
RECURRING = {zh: code for zh, code in PROGRAM_CODES.items() if zh != benefits.RELIEF}
TREND_MONTHS = 24
SOURCE_NOTE = ("来源: 名单 = 保障对象名单、发放记录与临时救助记录; 月报统计 = 民政统计月报(导入的 "
               "benefit_monthly)。同一社区、类别、月份两者都有时以名单为准。")
ENROLMENT = "benefits.medical_insurance.enrolment_rate"


def source_line(counts: dict) -> str:
    """Per program where its figures come from, e.g. 城市低保: 名单、月报统计."""
    parts = [f"{zh}: {'、'.join(benefits.sources(counts, code)) or '无数据'}"
             for zh, code in PROGRAM_CODES.items()]
    return " · ".join(parts)


def _number(value, fmt: str) -> str:
    if value is None or pd.isna(value):
        return NULL
    if fmt == "pct":
        return f"{value:+.1%}"
    return f"{value:,.0f}" if fmt == "money" else f"{int(value):,}"


def report_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The monthly report as the page shows it: numbers formatted, no data as —."""
    shown = frame.copy()
    for column, fmt in benefits_report.FORMATS.items():
        shown[column] = [_number(v, fmt) for v in frame[column]]
    return shown


def render_report(f) -> None:
    with st.container(border=True):
        st.subheader("民政统计月报", help="各保障类别的户数、人数、支出与月人均, 与上月、去年同月比较; "
                     "环比、同比为相对变化。临时救助的人数为当月救助人次, 不计户数、新增和退出。")
        months = benefits_report.recent_months(f.as_of)
        default = benefits_report.reference_month(f.period, f.as_of)
        pick, _ = st.columns([1, 5])
        month = pick.selectbox("统计月份", months, index=months.index(default)
                               if default in months else 0, key="benefits_month")
        periods = benefits_report.report_periods(month, f.as_of)
        results = {name: result_for("benefits", f, p, by=()) for name, p in periods.items()}
        frame = benefits_report.report_frame(results)
        shown = report_display(frame).drop(columns=["来源"])
        st.dataframe(shown, hide_index=True, key="benefits_report", placeholder=NULL,
                     column_config={
            "保障类别": st.column_config.TextColumn(width=130),
            **{c: st.column_config.TextColumn(width=62 if len(c) <= 2 else 74)
               for c in shown.columns if c != "保障类别"}})
        title = benefits_report.report_title(month, f.scope, f.as_of, office_name(engine()))
        download(EXPORT_LABEL, lambda: benefits_report.report_xlsx(frame, title),
                 f"民生保障月报_{month}.xlsx", XLSX, "benefits_report_xlsx",
                 what=f"民生保障月报 {month}" + (f"（{'、'.join(f.scope)}）" if f.scope else ""),
                 help="民政统计月报格式的 Excel 文件(数值, 无公式)", type="tertiary")
        st.caption(f"数据来源 — {md(' · '.join(f'{z}: {s}' for z, s in zip(frame['保障类别'], frame['来源'])))}。"
                   f"{benefits_report.UNITS}。{SOURCE_NOTE} —: 该项无数据(如月报统计未填报新增或退出人数)。")


def render_trends(f) -> None:
    end = min(f.period.end, f.as_of.date())
    first = benefits_report.month_start(benefits_report.shift_month(
        benefits_report.month_of(end), -(TREND_MONTHS - 1)))
    result = result_for("benefits", f, Period(first, end), by=("month",))
    months = group_frame(result, "month")
    left, right = st.columns(2)
    if months.empty:
        with left:
            st.caption("本期无数据")
        return
    long = pd.DataFrame([{"月份": row["unit"], "保障类别": zh,
                          "人数": row[f"benefits.{code}.persons"],
                          "支出": row[f"benefits.{code}.spending"]}
                         for row in months.to_dict("records")
                         for zh, code in PROGRAM_CODES.items()])
    with left, st.container(border=True):
        st.subheader(f"保障人数趋势(近{TREND_MONTHS}个月)",
                     help="每月在保人数(临时救助为当月救助人次)。")
        st.plotly_chart(charts.series_by_month(long, THEME, x="月份", series="保障类别",
                                               value="人数", y_title="人"),
                        key="benefits_persons_trend")
    with right, st.container(border=True):
        st.subheader(f"保障金支出趋势(近{TREND_MONTHS}个月)")
        st.plotly_chart(charts.series_by_month(long, THEME, x="月份", series="保障类别",
                                               value="支出", y_title="元", stacked=True,
                                               money=True),
                        key="benefits_spending_trend")


def render_coverage(f, result) -> None:
    with st.container(border=True):
        st.subheader("各社区千人保障数")
        zh = st.selectbox("保障类别", list(PROGRAM_CODES), key="benefits_cover_program")
        key = f"benefits.{PROGRAM_CODES[zh]}.per_1000"
        table = group_frame(result, "community")
        left, right = st.columns([2, 3])
        with left:
            if not table.empty:
                table = table.dropna(subset=[key])
            if not empty_state(table, "没有可计算的社区(缺少常住人口或本期无数据)"):
                table = table.sort_values(key, ascending=False)
                st.plotly_chart(charts.ranked_bars(table, THEME, label="unit", value=key,
                                                   height=460), key="benefits_cover_rank")
                st.caption(REGISTRY[key].definition.split("来源")[0])
        with right:
            outlines = cached(maps.outlines, f)
            if not outlines:
                st.caption("尚未导入社区边界: 在命令行运行 python cli.py import boundaries 文件.geojson")
                return
            code = PROGRAM_CODES[zh]
            shown = [key, f"benefits.{code}.persons"]
            figures = {unit: {k: values[k] for k in shown}
                       for unit, values in result.groups.get("community", {}).items()}
            values = {unit: row.get(key) for unit, row in figures.items()}
            st.pydeck_chart(community_map(outlines, values, key, figures, height=460),
                            height=460, key="benefits_map")
            st.caption(f"柱高与颜色: {md(zh)}千人保障数(越高越深); 灰色: 无数据。底图为纯色背景, 不连接外网。")


def render_standard_and_relief(f, result) -> None:
    left, middle, right = st.columns(3)
    with left, st.container(border=True):
        st.subheader("月人均支出与当年标准")
        std = cached(benefits.standards, f)
        rows = [{"类别": zh, "月人均": result.kpis[f"benefits.{code}.avg_monthly_per_person"],
                 "标准": std.get(zh)} for zh, code in RECURRING.items()]
        frame = pd.DataFrame([r for r in rows if r["月人均"] is not None or r["标准"]])
        if not empty_state(frame):
            st.plotly_chart(charts.actual_vs_standard(frame, THEME, label="类别", actual="月人均",
                                                      standard="标准"),
                            key="benefits_standard")
            st.caption("月人均 = 统计期支出 ÷ 发放人·月数; 标准为统计期末所在年度的月保障标准(保障标准表)。"
                       "低保按差额发放, 月人均低于标准属正常。")
    with middle, st.container(border=True):
        st.subheader("临时救助(按事由、按月)")
        rows = pd.DataFrame(cached(benefits.relief_by_reason, f))
        if not empty_state(rows, "本期名单中没有临时救助记录"):
            st.plotly_chart(charts.series_by_month(rows, THEME, x="month", series="reason",
                                                   value="grants", y_title="人次", stacked=True),
                            key="benefits_relief")
            st.caption(f"共 {int(rows['grants'].sum()):,} 人次, {rows['amount'].sum():,.2f} 元。"
                       "只含名单(临时救助记录); 月报统计不含救助事由。")
    with right:
        render_enrolment(f, result)


def render_enrolment(f, result) -> None:
    with st.container(border=True):
        goal = target(ENROLMENT, settings())
        st.subheader("各社区医疗保险参保率", help=REGISTRY[ENROLMENT].definition)
        table = group_frame(result, "community")
        if not table.empty:
            table = table.dropna(subset=[ENROLMENT])
        if not empty_state(table, "统计期末所在年度没有参保数据"):
            table = table.sort_values(ENROLMENT, ascending=False)
            st.plotly_chart(charts.ranked_bars(table, THEME, label="unit", value=ENROLMENT,
                                               target=goal, height=340),
                            key="benefits_enrolment")
            below = table[table[ENROLMENT] < goal] if goal is not None else table.iloc[0:0]
            st.caption(f"目标 {fmt_kpi(ENROLMENT, goal)}(见设置); 未达标: "
                       + ("、".join(md(u) for u in below["unit"]) if len(below) else "无"))


def render_exceptions(f, result) -> None:
    with st.container(border=True):
        st.subheader(f"异常数据核查({fmt_kpi('benefits.exceptions', result.kpis['benefits.exceptions'])} 条)",
                     help=REGISTRY["benefits.exceptions"].definition)
        rows = pd.DataFrame(cached(benefits.exceptions_list, f))
        if empty_state(rows, "本期名单中没有异常数据"):
            return
        shown = pd.DataFrame({"问题": rows["rule"], "保障对象编号": rows["recipient"],
                              "身份标识(前8位)": rows["person"], "保障类别": rows["program"],
                              "社区": rows["community"], "月份": rows["month"],
                              "发放金额(元)": pd.to_numeric(rows["amount"], errors="coerce"),
                              "异常数": rows["findings"], "说明": rows["detail"]})
        show_table(shown, "benefits_exceptions", title="民生保障-异常数据核查", f=f,
                   formats={"发放金额(元)": "dec2", "异常数": "count"}, height=420)
        st.caption("只核查名单; 对象只以身份标识前 8 位显示, 不显示姓名和证件号。"
                   "同时享受低保和特困供养的, 每人每月计 1 条, 一行汇总其在统计期内重叠的月份。")


def main() -> None:
    f = sidebar_filters()
    page_header("民生保障", f, subtitle="人数、户数为统计期末月份(或数据截至月份)的在保数")
    result = result_for("benefits", f, by=("community", "month"))
    prev = result_for("benefits", f, f.period.previous(), by=())
    year_ago = result_for("benefits", f, f.period.year_earlier(), by=())
    months = group_frame(result, "month")
    for row in CARDS:
        kpi_row(row, result, prev, year_ago, months)
    st.caption("数据来源 — " + md(source_line(result.totals)) + "。" + SOURCE_NOTE)
    render_report(f)
    render_trends(f)
    render_coverage(f, result)
    render_standard_and_relief(f, result)
    render_exceptions(f, result)


run_page("benefits", main)

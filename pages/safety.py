"""信访与警情: whether the declines in petitions and police incidents hold, where, and
whether a rise is real or noise — cards with 环比/同比, CompStat with its Poisson z,
monthly trends against last year, the hour × weekday heat map, rankings per 10 000
residents, the 3D community map, and the petitions lists (no petitioner data)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import incidents, maps, petitions
from metrics.formatting import NULL, fmt_kpi
from metrics.incidents import FLAGS, TOTAL, WINDOWS
from metrics.registry import REGISTRY
from pages.ui.access import run_page
from pages.ui import charts
from pages.ui.common import (cached, empty_state, group_frame, kpi_row, page_header,
                             result_for, sidebar_filters)
from pages.ui.export import excel_button
from pages.ui.maps import community_map
from pages.ui.tables import table as show_table

THEME = charts.LIGHT
PETITION_CARDS = [["petitions.total", "petitions.persons", "petitions.collective",
                   "petitions.leapfrog"],
                  ["petitions.repeat_rate", "petitions.closure_rate", "petitions.on_time_rate"]]
INCIDENT_CARDS = ["incidents.total", "incidents.criminal", "incidents.public_order",
                  "incidents.per_10k"]
WINDOW_NAMES = {"wtd": "本周", "d28": "近28天", "ytd": "本年"}
FLAG_STYLE = {FLAGS[0]: "background-color:#ffe3e3;color:#c92a2a;font-weight:600",
              FLAGS[1]: "background-color:#fff4e6;color:#d9480f",
              FLAGS[2]: "color:#495057",
              FLAGS[3]: "background-color:#ebfbee;color:#2b8a3e"}
Z_HELP = ("z = 2(√当前 − √对比): 两期件数都服从同一泊松分布时近似标准正态; "
          "|z| ≥ 1 值得关注, z ≥ 3 为偶然难以解释的显著上升。")
# the figures the map can raise communities by: (domain, KPI)
MAP_FIGURES = {"incidents.per_10k": "incidents", "incidents.total": "incidents",
               "cases.total": "cases", "cases.closure_rate": "cases"}


def compstat_frame(table: dict) -> pd.DataFrame:
    """CompStat as a display table: one row per category (合计 last), per window its
    current and prior counts, relative change, z and trend word."""
    rows = []
    for category, windows in table.items():
        row = {"类别": "合计" if category == TOTAL else category}
        for w in WINDOWS:
            cell, name = windows[w], WINDOW_NAMES[w]
            row[f"{name}·当前"] = cell["cur"]
            row[f"{name}·对比"] = cell["prior"]
            row[f"{name}·变化"] = cell["change"]  # a fraction; None without a prior count
            row[f"{name}·z"] = round(cell["z"], 2)
            row[f"{name}·趋势"] = cell["flag"]
        rows.append(row)
    return pd.DataFrame(rows)


def render_compstat(table: dict, f) -> None:
    with st.container(border=True):
        st.subheader("CompStat 警情比对", help=REGISTRY["incidents.compstat"].definition)
        frame = compstat_frame(table)
        trend_columns = [c for c in frame.columns if c.endswith("趋势")]
        change_columns = [c for c in frame.columns if c.endswith("变化")]
        styled = (frame.style.map(lambda v: FLAG_STYLE.get(v, ""), subset=trend_columns)
                  .format("{:+.0%}", subset=change_columns, na_rep=NULL))
        config = {c: st.column_config.NumberColumn(width=76) for c in frame.columns
                  if c.endswith(("当前", "对比"))}
        config |= {c: st.column_config.NumberColumn(width=76) for c in change_columns}
        config |= {c: st.column_config.TextColumn(width=76) for c in trend_columns}
        config |= {c: st.column_config.NumberColumn(format="%.2f", help=Z_HELP, width=76)
                   for c in frame.columns if c.endswith("·z")}
        st.dataframe(styled, hide_index=True, column_config=config, key="safety_compstat",
                     placeholder=NULL)
        excel_button(frame, "信访与警情-CompStat警情比对", f,
                     {c: "dec2" for c in frame.columns if c.endswith("·z")}
                     | {c: "pct" for c in frame.columns if c.endswith("变化")}
                     | {c: "count" for c in frame.columns if c.endswith(("当前", "对比"))},
                     key="safety_compstat_xlsx")
        st.caption("本周: 本周一至数据截至日; 近28天: 截至数据截至日的28天, 两者对比364天前的同一"
                   "窗口(同为星期几); 本年: 1月1日至数据截至日, 对比上年同日期。" + Z_HELP)


def render_incident_charts(f, result) -> None:
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.subheader("警情月度趋势(与上年同月、12个月移动平均)")
        rows = cached(incidents.monthly, f)
        if not rows:
            st.caption("本期无数据")
        else:
            st.plotly_chart(charts.trend_with_last_year(rows, THEME, key="incidents.total",
                                                        period=f.period), key="safety_trend")
            note = charts.partial_note([r["month"] for r in rows], f.period)
            if note:
                st.caption(note)
    with right, st.container(border=True):
        st.subheader("警情时段分布(星期 × 小时)")
        grid = cached(incidents.hour_weekday, f)
        if not sum(map(sum, grid)):
            st.caption("本期无数据")
        else:
            st.plotly_chart(charts.hour_weekday_heatmap(grid, THEME), key="safety_heat")
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.subheader("警情类别构成")
        mix = pd.DataFrame([{"name": c, "total": k["incidents.total"]}
                            for c, k in result.groups.get("category", {}).items()
                            if k["incidents.total"]])
        if not empty_state(mix):
            st.altair_chart(charts.share_bars(mix, THEME, label="name", value="total"),
                            key="safety_mix")
    with right, st.container(border=True):
        st.subheader("各社区万人警情数", help=REGISTRY["incidents.per_10k"].definition)
        table = group_frame(result, "community")
        if not table.empty:   # a store without communities yet has no columns either
            table = table.dropna(subset=["incidents.per_10k"])
        if not empty_state(table):
            table = table.sort_values("incidents.per_10k", ascending=True)
            st.plotly_chart(charts.ranked_bars(table, THEME, label="unit",
                                               value="incidents.per_10k", height=420),
                            key="safety_rank")
            keys = ["incidents.per_10k", "incidents.total", "incidents.criminal",
                    "incidents.public_order"]
            ranked = table.iloc[::-1]
            excel_button(pd.DataFrame({"社区": ranked["unit"],
                                       **{REGISTRY[k].label: ranked[k] for k in keys}}),
                         "信访与警情-各社区万人警情数", f, {REGISTRY[k].label: k for k in keys},
                         key="safety_rank_xlsx")


def render_map(f) -> None:
    with st.container(border=True):
        st.subheader("三维社区地图")
        outlines = cached(maps.outlines, f)
        if not outlines:
            st.caption("尚未导入社区边界: 在命令行运行 python cli.py import boundaries 文件.geojson")
            return
        key = st.selectbox("高度与颜色表示", list(MAP_FIGURES),
                           format_func=lambda k: REGISTRY[k].label, key="safety_map_figure")
        results = {d: result_for(d, f, by=("community",)) for d in set(MAP_FIGURES.values())}
        figures: dict[str, dict] = {}
        for k, domain in MAP_FIGURES.items():
            for unit, values in results[domain].groups.get("community", {}).items():
                figures.setdefault(unit, {})[k] = values[k]
        values = {unit: row.get(key) for unit, row in figures.items()}
        points = cached(incidents.locations, f)
        st.pydeck_chart(community_map(outlines, values, key, figures, points),
                        height=560, key="safety_map")
        st.caption(f"柱高与颜色: {REGISTRY[key].label}(越高越深); 六边形柱: 有经纬度的警情密度。"
                   "底图为纯色背景, 不连接外网。")


def render_petitions(f, result) -> None:
    left, middle = st.columns(2)
    with left, st.container(border=True):
        st.subheader("信访形式")
        forms = pd.DataFrame([{"name": u, "total": k["petitions.total"]}
                              for u, k in result.groups.get("form", {}).items()
                              if k["petitions.total"]])
        if not empty_state(forms):
            st.plotly_chart(charts.pie(forms, THEME, label="name", value="total"),
                            key="safety_forms")
    with middle, st.container(border=True):
        st.subheader("集体访、重复访与越级访(按月)")
        months = group_frame(result, "month")
        if not empty_state(months):
            repeat = (months["petitions.repeat_rate"].fillna(0)
                      * months["petitions.total"]).round().astype(int)
            frame = pd.DataFrame({"月份": charts.month_labels(months["unit"], f.period),
                                  "集体访": months["petitions.collective"],
                                  "重复访": repeat,
                                  "越级访": months["petitions.leapfrog"]}).set_index("月份")
            st.bar_chart(frame, stack=False, height=300, x_label="月份", y_label="件数",
                         sort=False)
            excel_button(frame.reset_index(), "信访与警情-集体访重复访越级访(按月)", f,
                         {"集体访": "count", "重复访": "count", "越级访": "count"},
                         key="safety_petition_months_xlsx")
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.subheader("本期集体访", help=REGISTRY["petitions.collective"].definition)
        _petition_table(cached(petitions.collective_list, f), "本期没有集体访",
                        "safety_collective", f, "信访与警情-本期集体访")
    with right, st.container(border=True):
        st.subheader("超期未办结信访",
                     help="截至数据截至时间未办结且已超过办理时限(未填写的按登记后法定期限)的信访。")
        _petition_table(cached(petitions.overdue_list, f), "没有超期未办结的信访",
                        "safety_overdue", f, "信访与警情-超期未办结信访")


def _petition_table(rows: list[dict], empty: str, key: str, f, title: str) -> None:
    frame = pd.DataFrame(rows)
    if empty_state(frame, empty):
        return
    shown = pd.DataFrame({"信访编号": frame["petition_id"], "登记时间": frame["received_at"],
                          "形式": frame["form"], "问题类别": frame["category"],
                          "社区": frame["community"], "人数": frame["persons"],
                          "办理时限": frame["deadline_at"]})
    show_table(shown, key, title=title, f=f,
               formats={"登记时间": "datetime", "人数": "count", "办理时限": "date"})


def main() -> None:
    f = sidebar_filters()
    page_header("信访与警情", f)
    pet = result_for("petitions", f)
    inc = result_for("incidents", f)
    comparisons = {name: (result_for(name, f, f.period.previous(), by=()),
                          result_for(name, f, f.period.year_earlier(), by=()))
                   for name in ("petitions", "incidents")}
    st.markdown("##### 信访")
    for row in PETITION_CARDS:
        kpi_row(row, pet, *comparisons["petitions"], group_frame(pet, "month"))
    st.markdown("##### 治安警情")
    kpi_row(INCIDENT_CARDS, inc, *comparisons["incidents"], group_frame(inc, "month"))
    st.caption(f"警情总体趋势(近28天): {inc.kpis['incidents.trend_flag']} · "
               f"万人警情数按所选社区常住人口计算: {fmt_kpi('incidents.per_10k', inc.kpis['incidents.per_10k'])}")
    render_compstat(inc.kpis["incidents.compstat"], f)
    render_incident_charts(f, inc)
    render_map(f)
    st.markdown("##### 信访明细")
    render_petitions(f, pet)


run_page("safety", main)

"""指挥中心大屏: a dark, chrome-less 1920×1080 slideshow of every domain that runs unattended.

One cached model (metrics.screen) serves every open screen and reloads after
``bigscreen.refresh_seconds`` or as soon as the store's version changes (an import). The playlist and each
slide's dwell come from settings; ``?dwell=N`` overrides every dwell, ``?slide=ID`` pins
one slide. While a rule breaks (显著上升, a new collective petition, the overdue backlog
above its target) an alert slide comes next and then opens every cycle. Aggregates only:
no resident or cadre names, no IDs, no case texts.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import datetime

import pandas as pd
import streamlit as st

from data.store import clock
from data.store.db import resolve_url
from data.store.office import office_name, screen_title
from metrics import calendar, screen
from metrics.access import OPEN, OPEN_VIEWER
from metrics.formatting import NULL, fmt_change, fmt_kpi
from metrics.engine.cube import MISSING
from metrics.incidents import FLAGS, TOTAL, WINDOWS
from metrics.registry import REGISTRY, target
from metrics.slides import ALERT, SLIDES
from pages.ui import charts
from pages.ui import screen as ui
from pages.ui.access import current_viewer, run_page
from pages.ui.common import engine, settings, store_state
from pages.ui.maps import community_map

ROW = 452           # a half-height panel (two rows fill the slide area)
FULL = 918          # a full-height panel
CHART = ROW - 80    # a chart inside a half-height panel
FLAG_CLASS = dict(zip(FLAGS, ("zl-up2", "zl-up", "zl-flat", "zl-down")))
WINDOW_NAMES = {"wtd": "本周累计", "d28": "近28天", "ytd": "本年累计"}


@st.cache_data(ttl=settings().get_path("bigscreen.refresh_seconds"), max_entries=2,
               show_spinner=False)
def load_model(url: str, as_of: datetime, version: tuple) -> dict:
    """The screen's figures: one computation for every open screen per store version (an
    import shows at the next slide) and at most ``bigscreen.refresh_seconds`` old."""
    return screen.model(engine(), as_of, settings())


# ------------------------------------------------------------------------- sizes

def scale() -> float:
    """This screen's scale: its window ÷ 1920×1080 (see pages/ui/screen.py)."""
    return ui.read_scale(st.context.cookies)


def px(n: float) -> int:
    """A size of the 1920×1080 design at this screen's scale."""
    return round(n * scale())


def theme() -> charts.Theme:
    return replace(charts.DARK, font_size=px(20))


def html(body: str) -> None:
    """Our HTML, its inline sizes at this screen's scale."""
    st.html(ui.scaled(body, scale()))


# ------------------------------------------------------------------------ URL and rotation

def read_params() -> tuple[int | None, str | None, str]:
    """``?dwell=N`` (1–3600 s) and ``?slide=ID``; a bad value is ignored with a note."""
    notes = []
    dwell = st.query_params.get("dwell")
    seconds = None
    if dwell is not None:
        if dwell.isdigit() and 1 <= int(dwell) <= 3600:
            seconds = int(dwell)
        else:
            notes.append("dwell 参数应为 1–3600 的秒数，已忽略")
    slide = st.query_params.get("slide")
    if slide is not None and slide not in SLIDES and slide != ALERT.id:
        notes.append("slide 参数不是已知的幻灯片，已忽略")
        slide = None
    return seconds, slide, "；".join(notes)


# ------------------------------------------------------------------------------ panels

def panel(title: str, m: dict, tables: tuple[str, ...], height: int, period: str = ""):
    """A bordered panel whose head names the data's age: the oldest data time of those of
    its tables that were ever imported (none: 无导入记录 and the stale badge)."""
    stamps = [s for s in (m["tables_as_of"].get(t) for t in tables) if s is not None]
    stamp = min(stamps) if stamps else None
    box = st.container(border=True, height=px(height))
    box.html(ui.panel_head(title, stamp, screen.age_hours(stamp),
                           settings().get_path("bigscreen.stale_hours"), period))
    return box


def chart(fig, key: str) -> None:
    """A plotly figure sized for the room: every text at least 18 px (times the window's
    scale), no toolbar."""
    size = theme().font_size
    fig.update_layout(font_size=size, legend_font_size=size - px(2), hoverlabel_font_size=size)
    fig.update_xaxes(tickfont_size=size - px(2), title_font_size=size)
    fig.update_yaxes(tickfont_size=size - px(2), title_font_size=size)
    fig.update_annotations(font_size=size)
    st.plotly_chart(fig, key=key, config={"displayModeBar": False, "staticPlot": True})


def _sparse_ticks(fig, rows: list[dict], step: int):
    """Month axes of 24 months: a label every ``step`` months, horizontal."""
    months = charts.month_labels([r["month"] for r in rows])
    fig.update_xaxes(tickangle=0, tickvals=months[::step], ticktext=months[::step])
    return fig


def _change_line(t: dict) -> str:
    if REGISTRY[t["key"]].point_in_time:
        goal = target(t["key"], settings())
        return f"积压口径\n目标 ≤ {goal} 件" if goal is not None else "积压口径"
    mom, yoy = fmt_change(t["key"], t["mom"]), fmt_change(t["key"], t["yoy"])
    return f"环比 {mom or NULL}\n同比 {yoy or NULL}"


def _tiles(items: list[dict]) -> list[dict]:
    return [{"label": REGISTRY[t["key"]].label, "value": fmt_kpi(t["key"], t["value"]),
             "change": _change_line(t), "met": t["met"]} for t in items]


def _big(value: str, caption: str) -> str:
    return (f'<div class="zl-big">{ui.esc(value)}</div>'
            f'<div class="zl-caption">{ui.esc(caption)}</div>')


def trend(rows: list[dict], key: str, height: int, chart_key: str, step: int = 3) -> None:
    fig = _sparse_ticks(charts.trend_with_last_year(rows, theme(), key=key, height=px(height)), rows,
                        step)
    if REGISTRY[key].fmt == "pct":
        fig.update_yaxes(tickformat=".0%")
    chart(fig, chart_key)


def slide_overview(m: dict) -> None:
    p = m["periods"]
    with panel("本月核心指标", m, ("cases", "petitions", "incidents", "benefit_payments",
                                  "benefit_monthly"), 488,
               f"{p.month.start:%m-%d} 至 {p.month.end:%m-%d}"):
        html(ui.tiles(_tiles(m["tiles"])))
    left, mid, right = st.columns(3)
    with left, panel("诉求受理量 · 近24个月", m, ("cases",), 416):
        trend(m["cases_trend"], "cases.total", 330, "ov_trend", step=6)
    with mid, panel("干部在岗", m, ("attendance",), 416):
        _attendance_summary(m)
    with right, panel("警情研判 · 近28天", m, ("incidents",), 416):
        cell = m["compstat"][TOTAL]["d28"]
        html(_big(f"{cell['cur']} 起", f"去年同期 {cell['prior']} 起 · 变化 {_pct(cell['change'])}"
                                          f" · 判定 {cell['flag']}"))
        rising = [(c, cells["d28"]) for c, cells in m["compstat"].items()
                  if c != TOTAL and cells["d28"]["flag"] in FLAGS[:2]]
        if rising:
            html(ui.table(["上升的类别", "本期/同期", "判定"],
                             [[c, f"{x['cur']} / {x['prior']}", x["flag"]] for c, x in rising[:4]],
                             [["", "", FLAG_CLASS[x["flag"]]] for _, x in rising[:4]]))
        else:
            html('<div style="font-size:30px;margin-top:20px">各类别均无上升</div>')


def _pct(x) -> str:
    return NULL if x is None else f"{x * 100:+.1f}%"


def _day_name(m: dict) -> str:
    day = m["attendance_day"]
    return (("今日 " if m["attendance_live"] else "最近工作日 ")
            + f"{day:%m-%d} 星期{ui.WEEKDAYS[day.weekday()]}")


def _attendance_summary(m: dict, donut: int = 150) -> None:
    t = m["attendance_total"]
    if not t["scheduled"]:
        html(_big(NULL, f"{_day_name(m)} 无排班"))
        return
    rate = t["present"] / t["scheduled"]
    if m["attendance_live"]:
        head = _big(f"{t['on_duty']} 人", f"当前在岗（已签到未签退） · {_day_name(m)}")
    else:
        head = _big(f"{t['present']} 人", f"已签到 · {_day_name(m)}")
    html(head + f'<div style="font-size:28px;margin-top:10px">应到 {t["scheduled"]} 人 · '
                   f'签到率 {rate:.1%}</div>')
    df = pd.DataFrame({"name": ["已签到", "未签到"],
                       "n": [t["present"], t["scheduled"] - t["present"]]})
    fig = charts.pie(df, replace(theme(), palette=(charts.DARK.good, charts.DARK.bad)), label="name",
                     value="n", height=px(donut))
    fig.update_traces(textinfo="label+value", textfont_size=theme().font_size)
    chart(fig, f"att_donut_{donut}")


def slide_cases_trend(m: dict) -> None:
    with panel("诉求受理量 · 近24个月（柱：本月；线：上年同月、12个月移动平均）", m,
               ("cases",), ROW):
        trend(m["cases_trend"], "cases.total", CHART, "ct_volume")
    left, right = st.columns(2)
    with left, panel("办结率 · 近24个月", m, ("cases",), ROW):
        trend(m["closure_trend"], "cases.closure_rate", CHART, "ct_closure", step=6)
    with right, panel("诉求类别 · 本年", m, ("cases",), ROW):
        _bars(m["cases_mix"]["category"], "ct_category", top=8)


def _bars(counts: dict, key: str, top: int = 10, height: int = CHART) -> None:
    if not counts:
        html(_big(NULL, "本期无数据"))
        return
    df = pd.DataFrame(sorted(counts.items(), key=lambda kv: -kv[1])[:top],
                      columns=["name", "n"]).iloc[::-1]
    fig = charts.go.Figure(charts.go.Bar(
        y=df["name"].map(charts.text_label), x=df["n"], orientation="h",
        marker_color=theme().palette[0], text=df["n"], textposition="outside",
        textfont=dict(size=theme().font_size, color=theme().text)))
    fig.update_xaxes(range=[0, df["n"].max() * 1.18], showticklabels=False)
    chart(charts._layout(fig, theme(), px(height)), key)


def slide_ranking(m: dict) -> None:
    table = m["ranking"]
    ranked = table[table["ranked"]] if not table.empty else table
    left, right = st.columns([3, 2])
    with left, panel("社区三率综合得分排名 · 本年", m, ("cases",), FULL):
        if ranked.empty:
            html(_big(NULL, "本期无可排名的社区"))
        else:
            key = "cases.three_rate_score"
            chart(charts.ranked_bars(ranked, theme(), label="unit", value=key,
                                     target=target(key, settings()), height=px(FULL - 80)),
                  "rk_bars")
    with right, panel("各社区办理情况 · 本年", m, ("cases",), FULL):
        keys = ("cases.total", "cases.closure_rate", "cases.on_time_rate",
                "cases.satisfaction_rate")
        rows = [[r["unit"], *(fmt_kpi(k, r[k]) for k in keys)] for r in ranked.to_dict("records")]
        html(ui.table(["社区", *(REGISTRY[k].label for k in keys)], rows))


def slide_backlog(m: dict) -> None:
    rows = m["backlog"]
    left, right = st.columns([3, 2])
    with left, panel("超期积压与三率失分 · 各社区", m, ("cases",), FULL):
        html(ui.table(
            ["社区", "超期未办结(件)", "三率失分(分)", "失分工单(件次)"],
            [[r["community"], f"{r['overdue_open']:,}",
              NULL if r["lost"] is None else f"{r['lost']:.1f}", f"{r['misses']:,}"]
             for r in rows]))
    overdue = sum(r["overdue_open"] for r in rows)
    goal = target("cases.overdue_open", settings())
    reasons = m["miss_reasons"]
    with right, panel("全街道", m, ("cases",), FULL):
        html(_big(f"{overdue:,} 件", f"超期未办结（积压口径） · 目标 ≤ {goal} 件")
                + '<div style="height:18px"></div>'
                + _big(f"{sum(reasons.values()):,} 件次", "本年失分工单 · 按失分原因（每项计一次）"))
        _bars(reasons, "bl_reasons", height=FULL - 420)


def slide_petitions(m: dict) -> None:
    with panel("信访件数 · 近24个月", m, ("petitions",), ROW):
        trend(m["petitions_trend"], "petitions.total", CHART, "pt_trend")
    k = m["petitions_year"]
    left, mid, right = st.columns([2, 2, 3])
    with left, panel("本年信访", m, ("petitions",), ROW):
        html(ui.table(["指标", "本年"], [[REGISTRY[key].label, fmt_kpi(key, k[key])] for key in (
            "petitions.total", "petitions.persons", "petitions.collective",
            "petitions.repeat_rate", "petitions.leapfrog", "petitions.closure_rate")]))
    with mid, panel("信访形式 · 本年", m, ("petitions",), ROW):
        _bars(m["petitions_forms"], "pt_forms")
    with right, panel("近7天集体访", m, ("petitions",), ROW):
        rows = m["collective_week"]
        if not rows:
            html(_big("0 起", "近7天无集体访"))
        else:
            html(ui.table(["登记时间", "社区", "人数", "形式"],
                             [[f"{r['received_at']:%m-%d %H:%M}", r["community"],
                               str(r["persons"]), r["form"] or NULL] for r in rows[:8]]))


def slide_compstat(m: dict) -> None:
    table = m["compstat"]
    with panel("警情研判（CompStat）：本期与去年同期", m, ("incidents",), FULL):
        headers = ["警情类别"]
        for w in WINDOWS:
            headers += [f"{WINDOW_NAMES[w]} 本期/同期", "变化", "判定"]
        rows, classes = [], []
        for category, cells in table.items():
            row, cls = ["合计" if category == TOTAL else category], [""]
            for w in WINDOWS:
                c = cells[w]
                row += [f"{c['cur']} / {c['prior']}", _pct(c["change"]), c["flag"]]
                cls += ["", "", FLAG_CLASS[c["flag"]]]
            rows.append(row)
            classes.append(cls)
        html(ui.table(headers, rows, classes))
        html('<div class="zl-caption" style="margin-top:12px">本周累计自周一起；同期为 52 周前'
                '的同一星期几（本年累计为去年同日）。z = 2(√本期 − √同期)：|z| &lt; 1 平稳，'
                '1 ≤ z &lt; 3 上升，z ≥ 3 显著上升，z ≤ −1 下降。</div>')


def slide_heatmap(m: dict) -> None:
    with panel("警情时段分布 · 本年（星期 × 小时）", m, ("incidents",), FULL):
        chart(charts.hour_weekday_heatmap(m["hour_weekday"], theme(), height=px(FULL - 80)),
              "hm_grid")


def slide_map(m: dict) -> None:
    key = screen.MAP_KEYS[0]
    figures = m["map_figures"]
    left, right = st.columns([3, 1])
    with left, panel(f"三维社区地图：高度与颜色为{REGISTRY[key].label}，六棱柱为警情分布 · 本年",
                     m, ("incidents",), FULL):
        if not m["outlines"]:
            html(_big(NULL, "未导入社区边界（python cli.py import boundaries 文件.geojson）"))
        else:
            st.pydeck_chart(community_map(m["outlines"],
                                          {u: f.get(key) for u, f in figures.items()}, key,
                                          figures, m["points"], height=px(FULL - 80), dark=True,
                                          zoom=14.0 + math.log2(scale())),
                            height=px(FULL - 80), key="map_deck")
    with right, panel("社区排行", m, ("incidents",), FULL):
        top = sorted(((u, f.get(key)) for u, f in figures.items() if f.get(key) is not None),
                     key=lambda kv: -kv[1])[:15]
        html(ui.table(["社区", "万人警情"], [[u, fmt_kpi(key, v)] for u, v in top]))


def slide_attendance(m: dict) -> None:
    left, right = st.columns([2, 3])
    with left, panel("干部在岗 · 全街道", m, ("attendance",), FULL):
        _attendance_summary(m, donut=560)
    with right, panel(f"各社区在岗情况 · {_day_name(m)}", m, ("attendance",), FULL):
        rows = m["attendance"]
        last = "在岗(人)" if m["attendance_live"] else "未签退(人)"
        if not m["attendance_total"]["scheduled"]:
            html(_big(NULL, "无排班"))
        else:
            html(ui.table(["社区", "应到(人)", "已签到(人)", last, "签到率"],
                             [[r["community"] if r["community"] != MISSING else "街道机关",
                               str(r["scheduled"]), str(r["present"]),
                               str(r["on_duty"]),
                               f"{r['present'] / r['scheduled']:.0%}" if r["scheduled"] else NULL]
                              for r in rows]))


def slide_benefits(m: dict) -> None:
    rows = m["benefits_report"]
    tables = SLIDES["benefits"].tables
    left, right = st.columns([3, 2])
    with left, panel(f"民政统计月报 · {m['benefits_month']}", m, tables, FULL):
        html(ui.table(
            ["保障类别", "户数", "人数", "支出(万元)", "月人均(元)", "人数环比", "新增", "退出"],
            [[r["保障类别"], _count(r["户数"]), _count(r["人数"]),
              NULL if r["支出"] is None else f"{r['支出'] / 10000:,.2f}",
              NULL if r["月人均"] is None else f"{r['月人均']:,.0f}", _pct(r["人数环比"]),
              _count(r["新增"]), _count(r["退出"])] for r in rows]))
        html('<div class="zl-caption" style="margin-top:12px">人数、户数为本月在保数（临时救助为本月'
             '救助人次）；支出为本月发放金额；环比为与上月相比的相对变化。</div>')
    with right:
        with panel("在保人数 · 各类别", m, tables, ROW):
            _bars({r["保障类别"]: r["人数"] for r in rows if r["人数"]}, "bn_persons", top=6)
        with panel("异常数据", m, tables, ROW):
            html(_big(f"{m['benefits_exceptions'] or 0:,} 条",
                      "保障期外发放、超标准发放、低保与特困同时在保（名单核查，本月）"))


def _count(value) -> str:
    return NULL if value is None else f"{int(value):,}"


def slide_notices(m: dict) -> None:
    left, right = st.columns([3, 2])
    with left, panel("通知公告", m, ("notices",), FULL):
        if not m["notices"]:
            html(_big(NULL, "暂无有效的通知公告"))
        for n in m["notices"][:5]:
            html(f'<div class="zl-notice"><b>{ui.esc(n["title"])}</b>'
                 f'<div>{ui.esc(n["body"])}</div></div>')
    with right, st.container(border=True, height=px(FULL)):
        now = clock.now()
        holiday = calendar.holiday_name(now.date())
        day = (f"今天是{holiday}假期" if holiday else
               "今天是工作日" if calendar.is_workday(now.date()) else "今天是休息日")
        html(ui.today_panel(now, day))


def slide_alert(m: dict, items: list) -> None:
    with panel("预警：请立即关注", m, ALERT.tables, ROW):
        if not items:
            html(_big("无预警", "各项规则均未触发"))
        for _level, text in items[:4]:
            html(f'<div class="zl-alert">⚠ {ui.esc(text)}</div>')
        if len(items) > 4:
            html(f'<div class="zl-caption">另有 {len(items) - 4} 条预警</div>')
    left, right = st.columns(2)
    with left, panel("超期未办结 · 各社区", m, ("cases",), ROW):
        _bars({r["community"]: r["overdue_open"] for r in m["backlog"] if r["overdue_open"]},
              "al_overdue", top=8)
    with right, panel("警情 · 近28天 · 各类别", m, ("incidents",), ROW):
        cells = [(c, x["d28"]) for c, x in m["compstat"].items() if c != TOTAL]
        cells.sort(key=lambda cx: -cx[1]["z"])
        html(ui.table(["类别", "本期/同期", "z", "判定"],
                         [[c, f"{x['cur']} / {x['prior']}", f"{x['z']:.1f}", x["flag"]]
                          for c, x in cells[:7]],
                         [["", "", "", FLAG_CLASS[x["flag"]]] for _, x in cells[:7]]))


RENDER = {"overview": slide_overview, "cases_trend": slide_cases_trend,
          "ranking": slide_ranking, "backlog": slide_backlog, "petitions": slide_petitions,
          "compstat": slide_compstat, "heatmap": slide_heatmap, "map": slide_map,
          "attendance": slide_attendance, "benefits": slide_benefits,
          "notices": slide_notices}
assert set(RENDER) == set(SLIDES), "every slide of metrics.slides has a renderer"


# -------------------------------------------------------------------------------- page

def main() -> None:
    st.html(ui.css(scale()))
    st.html(ui.script(settings().get_path("bigscreen.reload_hours")),
            unsafe_allow_javascript=True)
    override, pinned, note = read_params()
    if (current_viewer() or OPEN_VIEWER).role == OPEN:
        note = "；".join(n for n in ("未启用登录", note) if n)
    url = resolve_url()
    m = load_model(url, *store_state(url))
    items = screen.alerts(m, settings())
    state = st.session_state.setdefault("bigscreen", {})
    if pinned:
        slide = pinned
    elif state.get("current") and time.monotonic() < state.get("until", 0):
        slide = state["current"]          # a rerun within the slide's time (e.g. a resize)
    else:
        slide = screen.next_slide(state, settings(), frozenset(text for _, text in items))
    seconds = screen.dwell(slide, settings(), override)
    state.update(current=slide, until=time.monotonic() + seconds - 0.5)

    order = screen.rotation(settings(), bool(items))
    index = order.index(slide) if slide in order else 0
    title = SLIDES[slide].title if slide in SLIDES else ALERT.title
    html(ui.top_bar(f"{screen_title(office_name(engine()))} · 指挥中心", title, index,
                    len(order), clock.now(), m["as_of"], note, scale()))
    if slide == ALERT.id:
        slide_alert(m, items)
    else:
        RENDER[slide](m)
    html(ui.ticker(m["notices"]))
    advance_after(seconds)


def advance_after(seconds: int) -> None:
    """Rerun the page when the slide's time is up (a full rerun picks the next slide and
    re-arms this timer with that slide's dwell)."""
    @st.fragment(run_every=seconds)
    def timer() -> None:
        state = st.session_state.get("bigscreen", {})
        if time.monotonic() >= state.get("until", 0):
            st.rerun()

    timer()


run_page("bigscreen", main, banner=False)   # 未启用登录 goes in the top bar

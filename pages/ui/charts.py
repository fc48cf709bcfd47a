"""Chart builders shared by every page and the big screen.

Each builder takes the data and a ``Theme`` and returns a plotly figure or altair chart;
pages never hard-code colours, so the same chart renders on the light laptop pages and on
the dark 1920×1080 big screen. Names from the store (communities, categories, channels) go
into plotly through ``safe.label`` here, so no caller can forget it: plotly would render
``<b>``, ``<a href>`` and entities in them. Altair draws text as text.
"""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd
import plotly.graph_objects as go

from metrics.engine.rollup import DURATION_BINS_H
from metrics.formatting import fmt_kpi, month_label
from metrics.period import Period
from metrics.registry import REGISTRY
from pages.ui.safe import label as text_label

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = ["#1f6feb", "#f08c00", "#2f9e44", "#e03131", "#7048e8", "#0c8599", "#c2255c",
           "#5c940d", "#868e96", "#1098ad"]


@dataclass(frozen=True)
class Theme:
    background: str
    text: str
    grid: str
    palette: tuple[str, ...]
    good: str
    bad: str
    font_size: int = 13


LIGHT = Theme("rgba(0,0,0,0)", "#1f2328", "#e6e8eb", tuple(PALETTE), "#2f9e44", "#e03131")
DARK = Theme("#0b1526", "#e6edf3", "#23324a", ("#4dabf7", "#ffa94d", "#69db7c", "#ff6b6b",
                                                 "#b197fc", "#3bc9db", "#f783ac", "#a9e34b",
                                                 "#adb5bd", "#66d9e8"),
             "#69db7c", "#ff6b6b", font_size=18)


def _layout(fig: go.Figure, theme: Theme, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        title=dict(text=title, font=dict(size=theme.font_size + 2)) if title else None,
        paper_bgcolor=theme.background, plot_bgcolor=theme.background,
        font=dict(family=FONT, color=theme.text, size=theme.font_size),
        colorway=list(theme.palette),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1,
                    font=dict(color=theme.text)),
        hoverlabel=dict(font_family=FONT),
    )
    # st.plotly_chart's own template colours legend and axis text for Streamlit's light
    # theme (unreadable on the dark big screen): the theme's text colour wins here.
    axis = dict(gridcolor=theme.grid, zerolinecolor=theme.grid, tickfont_color=theme.text,
                title_font_color=theme.text)
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    return fig


# ------------------------------------------------------------------ month axes, in Chinese

PARTIAL = "*"  # after a month the period covers only in part


def month_labels(months, period: Period | None = None) -> list[str]:
    """'2026-01' -> '2026年1月' for every month axis; a month the period covers only in
    part (``period.partial_months``) carries a '*' (``partial_note`` says which days)."""
    partial = period.partial_months() if period else {}
    return [month_label(str(m)) + (PARTIAL if str(m) in partial else "") for m in months]


def partial_note(months, period: Period | None) -> str | None:
    """'带 * 号的月份不完整, …: 2025年11月(29–30日)、2026年11月(1–28日)', or None when
    every month shown is whole (a lone '*' between spaces is no Markdown emphasis)."""
    partial = period.partial_months() if period else {}
    shown = [f"{month_label(m)}({a}–{b}日)" if a != b else f"{month_label(m)}({a}日)"
             for m, (a, b) in partial.items() if m in {str(x) for x in months}]
    return (f"带 {PARTIAL} 号的月份不完整, 只含统计期内的日子: " + "、".join(shown)
            if shown else None)


def by_month(df: pd.DataFrame, period: Period | None, x: str = "unit") -> pd.DataFrame:
    """``df`` with its month column ``x`` ('YYYY-MM') as Chinese labels, for a chart."""
    out = df.copy()
    out[x] = month_labels(out[x], period)
    return out


def _month_axis(fig: go.Figure) -> None:
    """Months as categories: each month one slot, one month alone drawn as one bar (a date
    axis would stretch it over hours and label the ticks in English)."""
    fig.update_xaxes(type="category")


def volume_and_rate(df: pd.DataFrame, theme: Theme, *, x: str, bars: str, line: str,
                    target: float | None = None, height: int = 320) -> go.Figure:
    """Monthly volume (KPI ``bars``) as bars and a rate (KPI ``line``) as a line on a
    percent axis, with the rate's target; names and formats from the registry."""
    bar_name, line_name = REGISTRY[bars].label, REGISTRY[line].label
    fig = go.Figure()
    fig.add_bar(x=df[x], y=df[bars], name=bar_name, marker_color=theme.palette[0],
                opacity=0.85)
    fig.add_scatter(x=df[x], y=df[line], name=line_name, yaxis="y2", mode="lines+markers",
                    line=dict(color=theme.palette[1], width=3))
    if target is not None:
        fig.add_scatter(x=df[x], y=[target] * len(df), name=f"目标 {fmt_kpi(line, target)}", yaxis="y2",
                        mode="lines", line=dict(color=theme.bad, dash="dash", width=1.5))
    fig.update_layout(yaxis=dict(title=bar_name),
                      yaxis2=dict(title=line_name, overlaying="y", side="right",
                                  tickformat=".0%", range=[0, 1.05], showgrid=False,
                                  tickvals=[0, 0.25, 0.5, 0.75, 1.0]))
    _month_axis(fig)
    return _layout(fig, theme, height)


def ranked_bars(df: pd.DataFrame, theme: Theme, *, label: str, value: str,
                lo: str | None = None, hi: str | None = None, target: float | None = None,
                height: int = 420) -> go.Figure:
    """Horizontal bars of KPI ``value``, best on top, with optional error bars (interval)
    and its target line; name, format and direction from the registry."""
    kpi = REGISTRY[value]
    value_name, pct = kpi.label, kpi.fmt == "pct"
    df = df.iloc[::-1]
    error = None
    if lo and hi:
        error = dict(type="data", symmetric=False, array=(df[hi] - df[value]).clip(lower=0),
                     arrayminus=(df[value] - df[lo]).clip(lower=0), color=theme.text,
                     thickness=1)
    colours = [theme.good if target is None or (v <= target if kpi.higher_is_better is False
                                                 else v >= target) else theme.bad
               for v in df[value]]
    fig = go.Figure(go.Bar(y=df[label].map(text_label), x=df[value], orientation="h",
                           name=value_name,
                           marker_color=colours, error_x=error,
                           texttemplate="%{x:.1%}" if pct else "%{x:.1f}",
                           textposition="inside", insidetextanchor="end",
                           textfont=dict(color="#ffffff", size=theme.font_size)))
    if target is not None:
        fig.add_vline(x=target, line_dash="dash", line_color=theme.text,
                      annotation_text=f"目标 {fmt_kpi(value, target)}")
    if kpi.fmt == "score":  # scores cluster near the top: start below the lowest bar
        low = min([*df[value].dropna(), target if target is not None else 1e9])
        span = [max(0, 10 * int((low - 10) // 10)), 100]
    else:  # rates from 0 to 100 %, other figures from 0 to a little above the largest
        span = [0, 1.0 if pct else 1.1 * max([*df[value].dropna(), target or 0, 1e-9])]
    fig.update_xaxes(tickformat=".0%" if pct else None, title=value_name, range=span)
    fig.update_yaxes(tickfont=dict(size=theme.font_size))
    return _layout(fig, theme, height)


def share_bars(df: pd.DataFrame, theme: Theme, *, label: str, value: str,
               height: int = 320) -> alt.Chart:
    """Counts per category as horizontal bars (altair), largest first."""
    return (alt.Chart(df).mark_bar(color=theme.palette[0]).encode(
        x=alt.X(f"{value}:Q", title="件数"),
        # no label limit: long names (城乡建设-住房保障-…) cut at the same place would make
        # two bars look identical
        y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=0)),
        tooltip=[alt.Tooltip(f"{label}:N", title="类别"), alt.Tooltip(f"{value}:Q", title="件数")],
    ).properties(height=height).configure(background=theme.background)
     .configure_axis(labelColor=theme.text, titleColor=theme.text, gridColor=theme.grid,
                     labelFont=FONT, titleFont=FONT, labelFontSize=theme.font_size)
     .configure_view(stroke=None))


def duration_histogram(hist: dict[str, int], theme: Theme, *, median: float | None,
                       p90: float | None, height: int = 300) -> go.Figure:
    """Time-to-close distribution in fixed bins (label -> cases), with the median and P90
    named on it."""
    fig = go.Figure(go.Bar(x=list(hist), y=list(hist.values()), marker_color=theme.palette[5],
                           name="办结件数"))
    # each marker carries its value; the median's text leans left and P90's right, so the
    # two never overlap even when they fall in neighbouring bins
    for value, name, side in ((median, "中位数", "top left"), (p90, "P90", "top right")):
        if value is not None:
            fig.add_vline(x=_bin_of(value), line_dash="dot", line_color=theme.bad,
                          annotation_text=f"{name} {value:.1f} 小时",
                          annotation_position=side)
    fig.update_yaxes(title="件数")
    return _layout(fig, theme, height)


def _bin_of(hours: float) -> int:
    """The histogram bar (0-based) that ``hours`` falls in."""
    return sum(hours >= e for e in DURATION_BINS_H[1:-1])


def level_shares(shares: dict[str, float | None], theme: Theme, height: int = 260) -> go.Figure:
    """小事不出社区、大事不出街道: one stacked bar of closed cases by resolution level."""
    fig = go.Figure()
    for (name, value), colour in zip(shares.items(), (theme.good, theme.palette[0], theme.bad)):
        fig.add_bar(y=["办结层级"], x=[value or 0], name=name, orientation="h",
                    marker_color=colour, text=[f"{name} {value:.1%}" if value is not None
                                               else f"{name} —"],
                    textposition="inside")
    fig.update_layout(barmode="stack", showlegend=False)
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(showticklabels=False)
    return _layout(fig, theme, height)


def pie(df: pd.DataFrame, theme: Theme, *, label: str, value: str,
        height: int = 300) -> go.Figure:
    fig = go.Figure(go.Pie(labels=df[label].map(text_label), values=df[value], hole=0.5,
                           marker=dict(colors=list(theme.palette)), sort=True,
                           textinfo="label+percent"))
    fig.update_layout(showlegend=False)
    return _layout(fig, theme, height)


WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


def trend_with_last_year(rows: list[dict], theme: Theme, *, key: str,
                         period: Period | None = None, height: int = 320) -> go.Figure:
    """KPI ``key`` by month (bars), the same month a year earlier (line) and the trailing
    12-month moving average (dashed), from ``metrics.trends.monthly_trend`` rows."""
    months = month_labels([r["month"] for r in rows], period)
    fig = go.Figure()
    fig.add_bar(x=months, y=[r["value"] for r in rows], name=f"本期{REGISTRY[key].label}",
                marker_color=theme.palette[0], opacity=0.85)
    fig.add_scatter(x=months, y=[r["last_year"] for r in rows], name="上年同月",
                    mode="lines+markers", line=dict(color=theme.palette[1], width=2))
    fig.add_scatter(x=months, y=[r["ma12"] for r in rows], name="12个月移动平均",
                    mode="lines", line=dict(color=theme.text, width=2, dash="dash"))
    fig.update_layout(legend=dict(orientation="h", y=1.12, x=0))
    _month_axis(fig)
    return _layout(fig, theme, height)


def hour_weekday_heatmap(grid: list[list[int]], theme: Theme, height: int = 300) -> go.Figure:
    """Counts by weekday (rows, Monday on top) and hour of day (columns)."""
    fig = go.Figure(go.Heatmap(z=grid, x=[f"{h}时" for h in range(24)], y=WEEKDAYS,
                               colorscale="Blues", hovertemplate="%{y} %{x}: %{z} 起<extra></extra>",
                               colorbar=dict(title="起数")))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, theme, height)


# ------------------------------------------------------------ cadres: 考勤与日志, 考核评议

# each day's status in a cadre's attendance calendar (metrics.attendance.STATUSES), colour
# and meaning together in the legend
STATUS_COLOURS = {"出勤": "#2f9e44", "迟到": "#f08c00", "早退": "#fcc419", "未签退": "#7048e8",
                  "缺勤": "#e03131", "非工作日打卡": "#1f6feb", "休息日": "#e9ecef",
                  "未在岗": "#adb5bd"}


def monthly_counts(df: pd.DataFrame, theme: Theme, *, x: str, keys: list[str],
                   height: int = 300) -> go.Figure:
    """Counts of several KPIs by month as grouped bars (names from the registry)."""
    fig = go.Figure()
    for i, key in enumerate(keys):
        fig.add_bar(x=df[x], y=df[key], name=REGISTRY[key].label,
                    marker_color=theme.palette[(i + 1) % len(theme.palette)])
    fig.update_layout(barmode="group")
    _month_axis(fig)
    fig.update_yaxes(title="次数 / 天数", rangemode="tozero")
    return _layout(fig, theme, height)


def attendance_calendar(days: pd.DataFrame, theme: Theme) -> alt.Chart:
    """One cadre's days: a row per month, a column per day of the month, each cell coloured
    by its status (``month``, ``dom``, ``status``, ``date``, ``check_in``, ``check_out``,
    ``holiday`` columns); the legend names every status."""
    months = month_labels(sorted(set(days["month"])))  # in time order, not as text
    days = days.assign(month=month_labels(days["month"]))
    return (alt.Chart(days).mark_rect(stroke="#ffffff", strokeWidth=1.5).encode(
        x=alt.X("dom:O", title="日", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("month:O", title=None, sort=months),
        color=alt.Color("status:N", title="状态",
                        scale=alt.Scale(domain=list(STATUS_COLOURS),
                                        range=list(STATUS_COLOURS.values())),
                        legend=alt.Legend(orient="bottom", columns=8)),
        tooltip=[alt.Tooltip("date:N", title="日期"), alt.Tooltip("status:N", title="状态"),
                 alt.Tooltip("check_in:N", title="签到"), alt.Tooltip("check_out:N", title="签退"),
                 alt.Tooltip("holiday:N", title="节假日")],
    ).properties(height=max(120, 30 * len(months) + 60))
     .configure(background=theme.background)
     .configure_axis(labelColor=theme.text, titleColor=theme.text, labelFont=FONT,
                     titleFont=FONT, labelFontSize=theme.font_size)
     .configure_legend(labelFont=FONT, titleFont=FONT, labelColor=theme.text,
                       titleColor=theme.text, labelFontSize=theme.font_size)
     .configure_view(stroke=None))


def appraisal_parts(rows: list[dict], theme: Theme, height: int = 260) -> go.Figure:
    """A score's parts as horizontal bars: per component the points earned (green) and lost
    (grey) out of its weight, and the deductions (red); ``rows``: ``label``, ``earned``,
    ``lost`` (components) or ``deducted`` (deductions), in points."""
    labels = [text_label(r["label"]) for r in rows][::-1]
    earned = [r.get("earned", 0.0) for r in rows][::-1]
    lost = [r.get("lost", 0.0) for r in rows][::-1]
    deducted = [r.get("deducted", 0.0) for r in rows][::-1]
    fig = go.Figure()
    fig.add_bar(y=labels, x=earned, orientation="h", name="得分", marker_color=theme.good,
                texttemplate="%{x:.2f}", textposition="inside")
    fig.add_bar(y=labels, x=lost, orientation="h", name="失分", marker_color="#ced4da",
                texttemplate="%{x:.2f}", textposition="inside")
    fig.add_bar(y=labels, x=deducted, orientation="h", name="扣分", marker_color=theme.bad,
                texttemplate="%{x:.2f}", textposition="inside")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="分", rangemode="tozero")
    return _layout(fig, theme, height)


def score_distribution(df: pd.DataFrame, theme: Theme, *, score: str, group: str,
                       tiers: dict[str, float], height: int = 300) -> go.Figure:
    """Scores as dots per group (a role), with the tiers' lower bounds as lines."""
    fig = go.Figure()
    for i, (name, part) in enumerate(df.groupby(group, sort=False)):
        fig.add_scatter(x=part[score], y=[text_label(name)] * len(part), mode="markers",
                        name=text_label(name), marker=dict(size=9, opacity=0.75,
                                                           color=theme.palette[i % len(theme.palette)]),
                        hovertemplate="%{x:.2f} 分<extra></extra>")
    for name, low in tiers.items():
        fig.add_vline(x=low, line_dash="dot", line_color=theme.text,
                      annotation_text=f"{name} ≥ {low:g}", annotation_position="top")
    fig.update_xaxes(title="得分", range=[max(0, min([*df[score], *tiers.values()]) - 5), 100.5])
    fig = _layout(fig, theme, height)
    fig.update_layout(showlegend=False, margin=dict(t=36))  # room for the tier labels
    return fig


# ------------------------------------------------------------------------ 民生保障

def series_by_month(df: pd.DataFrame, theme: Theme, *, x: str, series: str, value: str,
                    y_title: str, stacked: bool = False, money: bool = False,
                    height: int = 320) -> go.Figure:
    """One line (or stacked bar) per series (programs, reasons) by month ('YYYY-MM' in
    ``x``, drawn as 2026年1月 in time order)."""
    order = month_labels(sorted(set(df[x].astype(str))))
    df = df.assign(**{x: month_labels(df[x].astype(str))})
    fig = go.Figure()
    for i, (name, part) in enumerate(df.groupby(series, sort=False)):
        colour = theme.palette[i % len(theme.palette)]
        hover = "%{x} " + text_label(name) + ": %{y:,.2f} 元" if money else \
            "%{x} " + text_label(name) + ": %{y:,}"
        if stacked:
            fig.add_bar(x=part[x], y=part[value], name=text_label(name), marker_color=colour,
                        hovertemplate=hover + "<extra></extra>")
        else:
            fig.add_scatter(x=part[x], y=part[value], name=text_label(name),
                            mode="lines+markers", line=dict(color=colour, width=2),
                            hovertemplate=hover + "<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    fig.update_yaxes(title=y_title, rangemode="tozero", tickformat=",.0f")
    return _layout(fig, theme, height)


def actual_vs_standard(df: pd.DataFrame, theme: Theme, *, label: str, actual: str,
                       standard: str, height: int = 320) -> go.Figure:
    """Per program the monthly average per person (bars) beside the year's standard."""
    fig = go.Figure()
    fig.add_bar(x=df[label].map(text_label), y=df[actual], name="月人均支出",
                marker_color=theme.palette[0], texttemplate="%{y:,.0f}", textposition="outside")
    fig.add_bar(x=df[label].map(text_label), y=df[standard], name="当年月标准",
                marker_color=theme.palette[8], texttemplate="%{y:,.0f}", textposition="outside")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="元/人·月", rangemode="tozero")
    return _layout(fig, theme, height)

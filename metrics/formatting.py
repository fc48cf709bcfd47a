"""One map of number formats, used by every page, the CLI table and exports."""
from __future__ import annotations

from metrics.registry import REGISTRY

NULL = "—"


def fmt_value(value, fmt: str) -> str:
    """A KPI value as text: percent with one decimal, counts with separators, '—' for null."""
    if value is None:
        return NULL
    if fmt == "pct":
        return f"{value * 100:.1f}%"
    if fmt == "count":
        return f"{int(value):,}"
    if fmt == "hours":
        return f"{value:,.1f} 小时"
    if fmt == "score":
        return f"{value:.1f} 分"
    if fmt == "money":
        return f"{value / 10000:,.2f} 万元" if abs(value) >= 100000 else f"{value:,.2f} 元"
    if fmt == "per":
        return f"{value:,.2f}"
    if fmt == "table":
        return f"{len(value)} 行"
    return str(value)


def fmt_kpi(key: str, value) -> str:
    return fmt_value(value, REGISTRY[key].fmt)


def fmt_change(key: str, change) -> str | None:
    """A delta label: percentage points for rates, relative percent for counts."""
    if change is None:
        return None
    if REGISTRY[key].is_rate:
        return f"{change * 100:+.1f} 个百分点"
    return f"{change * 100:+.1f}%"


# --- table columns: one map for the page's column and the Excel cell -------------------------

#: A table column's format: key -> (Streamlit column kind, its ``format``, Excel number
#: format). Rates are fractions and show with one decimal as on the cards; ``pct100`` is a
#: percentage already multiplied by 100. Pages (``pages.ui.tables``) and exports
#: (``metrics.xlsx``) both read this map, so a column looks the same on screen and in Excel.
COLUMN_FORMATS: dict[str, tuple[str, str, str]] = {
    "pct": ("number", "percent", "0.0%"),
    "pct100": ("number", "%.1f%%", '0.0"%"'),
    "count": ("number", "localized", "#,##0"),
    "int": ("number", "%d", "0"),
    "dec1": ("number", "%.1f", "#,##0.0"),
    "dec2": ("number", "%.2f", "#,##0.00"),
    "dec3": ("number", "%.3f", "0.000"),
    "signed2": ("number", "%+.2f", "+0.00;-0.00;0.00"),
    "days": ("number", "%.1f 天", '#,##0.0" 天"'),
    "date": ("date", "YYYY-MM-DD", "yyyy-mm-dd"),
    "datetime": ("datetime", "YYYY-MM-DD HH:mm", "yyyy-mm-dd hh:mm"),
    "time": ("datetime", "HH:mm:ss", "hh:mm:ss"),
}
#: The column format of a KPI's value by its registry ``fmt``.
KPI_COLUMN = {"pct": "pct", "count": "count", "hours": "dec1", "score": "dec1",
              "money": "dec2", "per": "dec2"}


def kpi_column(key: str) -> str:
    """The column format (a key of COLUMN_FORMATS) of KPI ``key``."""
    return KPI_COLUMN.get(REGISTRY[key].fmt, "dec2")


def month_label(month: str) -> str:
    """'2026-01' -> '2026年1月' (any other text unchanged): month axes and tables."""
    if len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit():
        return f"{int(month[:4])}年{int(month[5:])}月"
    return month


#: A rate's 95 % Wilson interval, in plain words: its column name and one-line help.
INTERVAL = "可信区间"
INTERVAL_HELP = ("95% 可信区间: 按本期件数估计, 真实比率有 95% 的把握落在此范围内; "
                 "件数越少区间越宽, 区间重叠的两个单位不宜分高下。")


def fmt_interval(lo, hi) -> str:
    """'93.1%–97.2%', or '—' without one."""
    if lo is None or hi is None or lo != lo or hi != hi:
        return NULL
    return f"{lo:.1%}–{hi:.1%}"

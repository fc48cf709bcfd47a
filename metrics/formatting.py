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

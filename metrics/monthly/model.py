"""The monthly report's model: what a report says, independent of how it is drawn.

A report is a title block and one ``Section`` per domain present in the store; a section
holds headline ``Figure``s (value, 环比, 同比, target), ``Chart`` specs (drawn as images by
``metrics.monthly.charts``), ``Table``s with raw values and a format per column, and
generated ``sentences``. The DOCX and PDF renderers draw the same model, so both files
(and the tests) read the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metrics.formatting import NULL, fmt_change, fmt_kpi, fmt_value
from metrics.period import Period
from metrics.registry import REGISTRY


@dataclass(frozen=True)
class Figure:
    """One headline KPI of the month: value, change against the previous month (环比) and
    the same month a year earlier (同比), its target and whether it is met."""

    key: str
    value: Any
    mom: float | None = None
    yoy: float | None = None
    target: float | None = None
    met: bool | None = None
    compare: bool = True  # False for point-in-time figures (backlog): no 环比/同比

    @property
    def label(self) -> str:
        return REGISTRY[self.key].label

    @property
    def text(self) -> str:
        return fmt_kpi(self.key, self.value)

    @property
    def mom_text(self) -> str:
        return (fmt_change(self.key, self.mom) or NULL) if self.compare else NULL

    @property
    def yoy_text(self) -> str:
        return (fmt_change(self.key, self.yoy) or NULL) if self.compare else NULL

    @property
    def target_text(self) -> str:
        return NULL if self.target is None else fmt_kpi(self.key, self.target)

    @property
    def met_text(self) -> str:
        return {True: "达标", False: "未达标", None: NULL}[self.met]


@dataclass(frozen=True)
class Chart:
    """A chart drawn without a browser: ``bar`` (units ranked, best first, a dashed target
    line) or ``line`` (months in order). ``fmt`` is the values' format key
    (metrics.formatting)."""

    title: str
    kind: str
    labels: list[str]
    values: list[float | None]
    fmt: str = "count"
    target: float | None = None
    value_title: str = ""


@dataclass(frozen=True)
class Table:
    """Rows of raw values under Chinese headers; ``formats`` maps a header to a format key
    of metrics.formatting (columns without one are shown as text)."""

    title: str
    columns: list[str]
    rows: list[list]
    formats: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def cell_text(self, column: str, value) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return NULL
        fmt = self.formats.get(column)
        if fmt == "int":
            return f"{int(value):,}"
        if fmt:
            return fmt_value(value, fmt)
        return str(value)

    def text_rows(self) -> list[list[str]]:
        return [[self.cell_text(c, v) for c, v in zip(self.columns, row)] for row in self.rows]


@dataclass
class Section:
    """One domain's part of the report."""

    domain: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    note: str = ""

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


@dataclass
class Report:
    office: str
    month: str              # 'YYYY-MM'
    period: Period          # the month, or its first days up to 数据截至 while it runs
    scope: tuple[str, ...]
    as_of: datetime         # 数据截至 the figures are judged at
    generated_at: datetime  # Asia/Shanghai wall time
    sections: list[Section] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.office}{int(self.month[:4])}年{int(self.month[5:])}月社区治理月度报告"

    @property
    def scope_text(self) -> str:
        return "、".join(self.scope) if self.scope else "全部社区"

    @property
    def partial(self) -> bool:
        """The month is not over in the store's data (figures up to 数据截至)."""
        return self.period.end < _month_end(self.month)

    def meta_lines(self) -> list[str]:
        lines = [f"统计期 {self.period.label()}" + ("（本月尚未结束，数据截至当日）"
                                                   if self.partial else ""),
                 f"范围 {self.scope_text}",
                 f"数据截至 {self.as_of:%Y-%m-%d %H:%M}（北京时间）",
                 f"生成于 {self.generated_at:%Y-%m-%d %H:%M}（北京时间）",
                 f"环比：与紧邻的等长期间（{self.period.previous().label()}）相比；同比：与上年同期相比"
                 "（与页面口径一致）。比率的变化以百分点计，其余以百分比计。"]
        return lines

    def highlights(self) -> list[str]:
        """本月要点: every section's sentences, in section order."""
        return [s for section in self.sections for s in section.sentences]

    def section(self, domain: str) -> Section:
        return next(s for s in self.sections if s.domain == domain)


def _month_end(month: str):
    from metrics.period import month_end

    return month_end(int(month[:4]), int(month[5:]))

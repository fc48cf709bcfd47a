"""The civil-affairs monthly report (民政统计月报) of the benefits domain: per program the
households, persons, spending and monthly average per person of a month, of the month
before and of the same month a year earlier, 环比 and 同比, new and exited — as a table
(pandas, for the page) and as an Excel workbook in that layout (``metrics.xlsx``).

The figures are the engine's (``metrics.benefits``) for three one-month periods; the
report month runs to as_of when it is the month of as_of.
"""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine

from data.ingest.columns import PROGRAM_CODES
from metrics import benefits
from metrics.context import Query
from metrics.engine import Result
from metrics.period import Period, month_end
from metrics.stats import relative_change
from metrics.xlsx import frame_xlsx

RELIEF_CODE = PROGRAM_CODES[benefits.RELIEF]
FIGURES = (("户数", "households"), ("人数", "persons"), ("支出", "spending"),
           ("月人均", "avg_monthly_per_person"))
WHEN = (("", "cur"), ("上月", "prev"), ("同期", "yago"))   # 同期: the same month last year
UNITS = "金额单位: 元; 上月 = 前一个月, 同期 = 去年同月; 环比、同比为相对变化"
CHANGES = (("人数", "persons"), ("支出", "spending"))
FORMATS = {**{f"{w}{label}": ("money" if figure in ("spending", "avg_monthly_per_person")
                                 else "count")
              for w, _ in WHEN for label, figure in FIGURES},
           **{f"{label}{c}": "pct" for label, _ in CHANGES for c in ("环比", "同比")},
           "新增": "count", "退出": "count"}


def month_of(d: date) -> str:
    return f"{d:%Y-%m}"


def month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def shift_month(month: str, months: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def report_periods(month: str, as_of: datetime) -> dict[str, Period]:
    """The report month (up to as_of), the month before and the same month a year earlier."""
    def whole(m: str) -> Period:
        start = month_start(m)
        return Period(start, month_end(start.year, start.month))

    cur = whole(month)
    if cur.end > as_of.date() >= cur.start:
        cur = Period(cur.start, as_of.date())
    return {"cur": cur, "prev": whole(shift_month(month, -1)), "yago": whole(shift_month(month, -12))}


def report_frame(results: dict[str, Result]) -> pd.DataFrame:
    """One row per program (临时救助: persons are its grants, no households/new/exited),
    columns as the monthly report has them; a figure without data is None."""
    rows = []
    for zh, code in PROGRAM_CODES.items():
        key = f"benefits.{code}."
        row = {"保障类别": zh,
               "来源": "、".join(benefits.sources(results["cur"].totals, code)) or "无数据"}
        for when, name in WHEN:
            kpis = results[name].kpis
            for label, figure in FIGURES:
                row[f"{when}{label}"] = kpis.get(key + figure)
        for label, figure in CHANGES:
            now = results["cur"].kpis.get(key + figure)
            row[f"{label}环比"] = relative_change(now, results["prev"].kpis.get(key + figure))
            row[f"{label}同比"] = relative_change(now, results["yago"].kpis.get(key + figure))
        row["新增"] = results["cur"].kpis.get(key + "new")
        row["退出"] = results["cur"].kpis.get(key + "exited")
        rows.append(row)
    return pd.DataFrame(rows)


def monthly_report(engine: Engine, month: str, q: Query) -> pd.DataFrame:
    """The report for ``month`` with the query's scope, as_of and settings."""
    periods = report_periods(month, q.as_of)
    return report_frame({name: benefits.compute(engine, q.with_period(p), by=())
                         for name, p in periods.items()})


def report_title(month: str, scope: tuple[str, ...], as_of: datetime,
                 office: str | None = None) -> list[str]:
    """The title rows: what, period, scope, 数据截至."""
    return [f"{office or ''}民生保障统计月报",
            f"统计月份 {month}(上月 {shift_month(month, -1)}, 去年同月 {shift_month(month, -12)})",
            f"范围 {'、'.join(scope) if scope else '全部社区'}",
            f"数据截至 {as_of:%Y-%m-%d %H:%M}", UNITS]


def report_xlsx(frame: pd.DataFrame, title: list[str]) -> bytes:
    """The report as an .xlsx workbook: values only, formula-looking text neutralised."""
    return frame_xlsx(frame, title, sheet="民生保障月报", formats=FORMATS)


def reference_month(period: Period, as_of: datetime) -> str:
    """The month a page's period reports on: that of its end, or of as_of if earlier."""
    return month_of(min(period.end, as_of.date()))


def recent_months(as_of: datetime, n: int = 36) -> list[str]:
    """The n months up to as_of, newest first (the report month picker)."""
    last = month_of(as_of.date())
    return [shift_month(last, -i) for i in range(n)]

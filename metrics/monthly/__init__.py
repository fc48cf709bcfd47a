"""月度报告: one model of a month (``build_report``), drawn as Word (``docx``) and PDF
(``pdf``) with charts rendered without a browser (``charts``).

    from metrics.monthly import build_report, render
    report = build_report(engine, "2025-10", scope=("和平社区",))
    data = render(report, "pdf")      # or "docx"

The figures come from the same engine calls the pages and ``cli.py kpi`` make (the month's
query, the store's 数据截至 as as_of), so the numbers are identical; sections are listed
per domain in ``metrics.monthly.sections.SECTIONS``.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Engine

from data.store import clock
from data.store.db import data_as_of
from data.store.office import office_name
from metrics.context import Query
from metrics.monthly.model import Report
from metrics.period import Period, month_end
from metrics.settings import Settings, load_settings

FORMATS = ("docx", "pdf")
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pdf": "application/pdf"}


class ReportError(ValueError):
    """A report that cannot be made (a month after 数据截至, no CJK font for the PDF):
    one Chinese line."""


def month_period(month: str, as_of: datetime) -> Period:
    """The month's dates, up to the as_of date while the month runs; a month that starts
    after as_of is refused."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise ReportError(f"月份「{month}」格式无效，应为 YYYY-MM")
    start = date(int(month[:4]), int(month[5:]), 1)
    if start > as_of.date():
        raise ReportError(f"{month} 晚于数据截至 {as_of:%Y-%m-%d %H:%M}，没有该月的数据")
    return Period(start, min(month_end(start.year, start.month), as_of.date()))


def build_report(engine: Engine, month: str, scope: tuple[str, ...] = (),
                 as_of: datetime | None = None, settings: Settings | None = None,
                 domains: tuple[str, ...] | None = None) -> Report:
    """The month's report model: every section of ``SECTIONS`` (or ``domains``) whose
    domain has data, for the scope, judged at ``as_of`` (default: the store's 数据截至)."""
    from metrics.monthly.sections import SECTIONS, Context

    as_of = as_of or data_as_of(engine) or clock.now()
    settings = settings or load_settings()
    q = Query(month_period(month, as_of), tuple(sorted(scope)), as_of, settings)
    ctx = Context(engine, month, q)
    report = Report(office_name(engine), month, q.period, q.scope, as_of, clock.now())
    for name, builder in SECTIONS.items():
        if domains and name not in domains:
            continue
        section = builder(ctx)
        if section is not None:
            report.sections.append(section)
    return report


def render(report: Report, fmt: str) -> bytes:
    """The report as a .docx or .pdf file's bytes."""
    if fmt == "docx":
        from metrics.monthly.docx import render_docx

        return render_docx(report)
    if fmt == "pdf":
        from metrics.monthly.pdf import render_pdf

        return render_pdf(report)
    raise ReportError(f"不支持的报告格式「{fmt}」，应为 .docx 或 .pdf")


def file_name(report: Report, fmt: str) -> str:
    scope = "" if not report.scope else "_" + "、".join(report.scope)[:40]
    return f"{report.office}{report.month}月度报告{scope}.{fmt}"

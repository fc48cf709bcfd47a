"""The 月度报告 menu (cockpit): pick a month, download the same Word or PDF report that
``cli.py report`` writes, for the sidebar's community scope. Files are made when a button
is clicked (deferred download data) and cached on the store's version."""
from __future__ import annotations

import streamlit as st

from metrics.monthly import MIME, build_report, file_name, render
from metrics.monthly.fonts import FontMissing, cjk_fonts
from pages.ui.common import CACHE_TTL, Filters, engine, settings
from pages.ui.export import download
from pages.ui.safe import md

MONTHS = 24


def month_options(f: Filters) -> list[str]:
    """The as_of month and the 23 before it, newest first."""
    index = f.as_of.year * 12 + f.as_of.month - 1
    return [f"{(index - i) // 12:04d}-{(index - i) % 12 + 1:02d}" for i in range(MONTHS)]


@st.cache_data(ttl=CACHE_TTL, max_entries=8, show_spinner="正在生成月度报告…")
def report_file(url: str, version: tuple, month: str, scope: tuple[str, ...],
                fmt: str) -> bytes:
    return render(build_report(engine(), month, scope, settings=settings()), fmt)


def report_menu(f: Filters, url: str) -> None:
    with st.popover("月度报告", icon=":material/description:",
                    help="下载所选月份的月度报告(Word 或 PDF), 范围同侧边栏社区范围"):
        options = month_options(f)
        wanted = f"{f.period.end:%Y-%m}"
        month = st.selectbox("月份", options, key="report_month",
                             index=options.index(wanted) if wanted in options else 0,
                             format_func=lambda m: f"{int(m[:4])}年{int(m[5:])}月")
        st.caption("范围 " + ("、".join(md(c) for c in f.scope) if f.scope else "全部社区")
                   + f" · 数据截至 {f.as_of:%Y-%m-%d %H:%M}")
        try:
            cjk_fonts()
            font_problem = None
        except FontMissing as exc:
            font_problem = str(exc)
        name = f"{month}月度报告"
        with st.container(horizontal=True):
            for fmt, label in (("docx", "下载 Word"), ("pdf", "下载 PDF")):
                download(
                    label, lambda fmt=fmt: report_file(url, f.version, month, f.scope, fmt),
                    f"{name}.{fmt}", MIME[fmt], f"report_{fmt}",
                    what=f"月度报告 {month}" + (f"（{'、'.join(f.scope)}）" if f.scope else ""),
                    disabled=fmt == "pdf" and font_problem is not None,
                    help=font_problem if fmt == "pdf" else None)
        if font_problem:
            st.caption(md(font_problem))


__all__ = ["report_menu", "file_name"]

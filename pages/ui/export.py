"""导出Excel: the one way a page hands out a file.

``excel_button`` puts a 导出Excel button under a table: the workbook (``metrics.xlsx``) has
the table's name, the period, the scope and 数据截至 in its title rows, the page's Chinese
headers, numbers as numbers with the page's formats (``metrics.formatting.COLUMN_FORMATS``)
and formula-looking text neutralised. The file is built only when the button is clicked.

Every download of the app goes through ``download`` (the appraisal workbook and the import
templates and rejects too), so recording who took which file is one call in one place.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from metrics.formatting import COLUMN_FORMATS, kpi_column
from metrics.registry import REGISTRY
from metrics.xlsx import frame_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
EXPORT_LABEL = "导出Excel"
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\s]+')


def column_format(spec: str) -> str:
    """A column's format key: a key of COLUMN_FORMATS as it is, or a KPI key (its
    registry format)."""
    if spec in COLUMN_FORMATS:
        return spec
    if spec in REGISTRY:
        return kpi_column(spec)
    raise KeyError(f"unknown column format {spec!r}")


def context_line(f, period: str | None = None) -> str:
    """统计期 … · 范围 … · 数据截至 …: what a figure is about, for a file's title block
    (``period`` replaces the filters' period, e.g. 考核月份 2026-10)."""
    scope = "、".join(f.scope) if f.scope else "全部社区"
    return (f"{period or '统计期 ' + f.period.label()} · 范围 {scope} · "
            f"数据截至 {f.as_of:%Y-%m-%d %H:%M}")


def excel_bytes(frame: pd.DataFrame, title: str, context: str,
                formats: Mapping[str, str] | None = None) -> bytes:
    """The table as an .xlsx file: ``title`` and ``context`` above the headers."""
    shown = {c: column_format(v) for c, v in (formats or {}).items() if c in frame.columns}
    return frame_xlsx(frame, [title, context], sheet=title, formats=shown)


def file_name(title: str, f, suffix: str = "xlsx") -> str:
    """``诉求办理-社区排名_2026-11-28.xlsx``: the table's name and 数据截至's date."""
    return f"{_UNSAFE_NAME.sub('_', title).strip('_') or '导出'}_{f.as_of:%Y-%m-%d}.{suffix}"


def download(label: str, data: bytes | str | Callable[[], bytes | str], name: str, mime: str,
             key: str, *, what: str, help: str | None = None, **kwargs) -> None:
    """The app's one download button. ``what`` says what the file holds (e.g. 诉求办理 ·
    社区排名); a click writes who took which file to the audit trail (操作记录). ``data``
    may be a callable, then it runs only when the button is clicked."""
    from pages.ui.access import record

    st.download_button(label, data=data, file_name=name, mime=mime, key=key, help=help,
                       on_click=record, args=("export", f"{what}: {name}"),
                       icon=kwargs.pop("icon", ":material/download:"), **kwargs)


def excel_button(frame: pd.DataFrame, title: str, f, formats: Mapping[str, str] | None = None,
                 key: str | None = None, *, period: str | None = None) -> None:
    """A 导出Excel button for ``frame`` as shown (``formats``: column -> format key of
    COLUMN_FORMATS or a KPI key); ``title`` names the table (page · table)."""
    context = context_line(f, period)
    frame = frame.copy()
    download(EXPORT_LABEL, lambda: excel_bytes(frame, title, context, formats),
             file_name(title, f), XLSX, key or f"xlsx_{title}", what=title,
             help=f"将“{title}”表格导出为 Excel 文件(含统计期、范围与数据截至)",
             type="tertiary")

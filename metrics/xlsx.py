"""Tables as Excel workbooks (导出Excel), the one writer every export uses.

A sheet is a title block (what the table is, the period, the scope, 数据截至), one header
row of Chinese column names, then the values: numbers stay numbers (with an Excel number
format per column, e.g. ``0.0%`` for rates), text is written as text, and text starting
with = + - @ also carries Excel's quote prefix, so no cell is ever evaluated. No formulas.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from metrics.formatting import COLUMN_FORMATS, KPI_COLUMN

RISKY = ("=", "+", "-", "@")

#: Excel number formats by format key: the table column formats of metrics.formatting
#: (one home: the page's column and the Excel cell agree) and the KPI formats mapped onto them.
EXCEL_FORMATS = {key: excel for key, (_, _, excel) in COLUMN_FORMATS.items()} | {
    fmt: COLUMN_FORMATS[column][2] for fmt, column in KPI_COLUMN.items()}


@dataclass
class Sheet:
    """One worksheet: ``frame``'s columns are the headers; ``formats`` maps a column to a
    key of EXCEL_FORMATS (or an Excel format string)."""

    name: str
    frame: pd.DataFrame
    title: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)


def _plain(value):
    """A cell value openpyxl writes as a value: None for missing, Python scalars, naive
    local datetimes (Excel has no time zones)."""
    if value is None or value is pd.NaT or value is pd.NA or (
            isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        from data.store.clock import to_local

        value = to_local(value).replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, (str, bytes, date)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_cell(ws, row: int, column: int, value, number_format: str | None = None):
    """Write one cell as a value, never a formula."""
    value = _plain(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(RISKY):
            cell.quotePrefix = True
    elif number_format and value is not None:
        cell.number_format = EXCEL_FORMATS.get(number_format, number_format)
    return cell


def fill_sheet(ws, sheet: Sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    row = 1
    for i, line in enumerate(sheet.title):
        cell = write_cell(ws, row, 1, line)
        if i == 0:
            cell.font = Font(bold=True, size=13)
        row += 1
    if sheet.title:
        row += 1
    header_row = row
    columns = [str(c) for c in sheet.frame.columns]
    for j, name in enumerate(columns, start=1):
        write_cell(ws, row, j, name).font = Font(bold=True)
    for values in sheet.frame.itertuples(index=False, name=None):
        row += 1
        for j, (name, value) in enumerate(zip(columns, values), start=1):
            write_cell(ws, row, j, value, sheet.formats.get(name))
    for j, name in enumerate(columns, start=1):
        width = max([len(name) * 2] + [len(str(v)) * 2 for v in sheet.frame.iloc[:200, j - 1]
                                        if v is not None])
        ws.column_dimensions[get_column_letter(j)].width = min(max(width, 8), 60)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def workbook(sheets: list[Sheet]) -> bytes:
    """The sheets as one .xlsx file's bytes."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        fill_sheet(wb.create_sheet(_sheet_name(sheet.name)), sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def frame_xlsx(frame: pd.DataFrame, title: list[str], sheet: str = "数据",
               formats: dict[str, str] | None = None) -> bytes:
    """One table as an .xlsx file's bytes."""
    return workbook([Sheet(sheet, frame, title, formats or {})])


def _sheet_name(name: str) -> str:
    for ch in "[]:*?/\\":
        name = name.replace(ch, "_")
    return name[:31] or "数据"

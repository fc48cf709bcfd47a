"""The month's appraisal as an Excel workbook (考核结果导出): the published snapshot when
there is one, else the live figures; the title says which.

Sheets: 汇总 (one row per cadre: id, name, role, community, each component's rate and
points, deductions, score, tier, rank) and 明细 (one row per component and deduction of
each cadre: rate, its basis, nominal and effective weight, points earned and lost). Values
only, no formulas; text is written as text (``data.ingest.importer.write_text_cell``), and
text starting with = + - @ also carries Excel's quote prefix, so no cell is ever evaluated.
Printed on A4 landscape, one page wide, the header row repeated.
"""
from __future__ import annotations

import io

from metrics.appraisal import COMPONENTS, DEDUCTIONS, UNITS
from metrics.appraisal_store import MonthView

SUMMARY = "汇总"
DETAIL = "明细"
RISKY = ("=", "+", "-", "@")


def _set(ws, row: int, column: int, value) -> None:
    from data.ingest.importer import write_text_cell

    if isinstance(value, str):
        cell = write_text_cell(ws, row, column, value)
        if value.startswith(RISKY):
            cell.quotePrefix = True
    else:
        ws.cell(row=row, column=column, value=value)


def _pct(x):
    return None if x is None else round(x, 6)


def summary_rows(view: MonthView) -> tuple[list[str], list[list]]:
    header = ["人员编号", "姓名", "岗位", "社区"]
    for label in COMPONENTS.values():
        header += [label, f"{label}得分"]
    header += ["扣分", "得分", "等次", "排名"]
    rows = []
    for r in view.rows:
        parts = r["parts"]["components"]
        row = [r["cadre_id"], r["name"] or "", r["role"] or "", r["community"] or "(街道)"]
        for key in COMPONENTS:
            row += [_pct(parts[key]["rate"]), parts[key]["earned"]]
        row += [r["parts"]["deductions"]["overdue_cases"]["points"], r["score"], r["tier"],
                r["rank"]]
        rows.append(row)
    return header, rows


def _basis(key: str, part: dict) -> str:
    if "closure_den" in part:
        return (f"办结 {part['closure_num']}/{part['closure_den']} 件; "
                f"按期 {part['on_time_num']}/{part['on_time_den']} 件")
    return f"{part['num']}/{part['den']} {UNITS[key]}"


def detail_rows(view: MonthView) -> tuple[list[str], list[list]]:
    header = ["人员编号", "姓名", "岗位", "项目", "比率", "依据", "原权重", "实际权重", "得分",
              "失分或扣分"]
    rows = []
    for r in view.rows:
        who = [r["cadre_id"], r["name"] or "", r["role"] or ""]
        for key in COMPONENTS:  # the settings' order (the snapshot's JSON sorts keys)
            part = r["parts"]["components"][key]
            rows.append([*who, COMPONENTS[key], _pct(part["rate"]),
                         _basis(key, part) if part["rate"] is not None else "无数据, 不计入",
                         part["nominal_weight"], part["weight"], part["earned"],
                         part["lost"]])
        for key, d in r["parts"]["deductions"].items():
            rows.append([*who, DEDUCTIONS[key], None, f"{d['count']} 件 × {d['per_case']:g} 分, "
                         f"上限 {d['cap']:g} 分", None, None, None, d["points"]])
        rows.append([*who, "合计", None, "各项得分之和 − 扣分", None, 100.0, r["score"], None])
    return header, rows


def _sheet(ws, title: str, header: list[str], rows: list[list], percent: set[int],
           widths: dict[int, int]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    _set(ws, 1, 1, title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    for j, name in enumerate(header, 1):
        _set(ws, 2, j, name)
        ws.cell(row=2, column=j).font = Font(bold=True)
        ws.cell(row=2, column=j).alignment = Alignment(horizontal="center", wrap_text=True)
    for i, row in enumerate(rows, 3):
        for j, value in enumerate(row, 1):
            _set(ws, i, j, value)
            if j in percent and value is not None:
                ws.cell(row=i, column=j).number_format = "0.0%"
            elif isinstance(value, float):
                ws.cell(row=i, column=j).number_format = "0.00"
    for j in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(j)].width = widths.get(j, 11)
    ws.freeze_panes = "C3"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4


def workbook(view: MonthView, office: str = "") -> bytes:
    """The workbook's bytes."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SUMMARY
    header, rows = summary_rows(view)
    pct = {5 + 2 * i for i in range(len(COMPONENTS))}
    _sheet(ws, view.title(office), header, rows, pct, {1: 10, 2: 10, 3: 10, 4: 16})
    ws = wb.create_sheet(DETAIL)
    header, rows = detail_rows(view)
    _sheet(ws, view.title(office) + " · 明细", header, rows, {5},
           {1: 10, 2: 10, 3: 10, 4: 16, 6: 30})
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def file_name(view: MonthView) -> str:
    return f"干部考核_{view.month}_{'已发布' if view.published else '实时'}.xlsx"

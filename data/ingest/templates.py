"""Downloadable XLSX import templates: Chinese headers, one example row, drop-down lists.

``template_xlsx(table)`` returns the bytes of a workbook whose first sheet has the table's
Chinese headers (DATA.md), one example row and Excel data validation lists for the closed
lists (and 是/否 for booleans); a second sheet 说明 describes every column. The template
imports as it is (once the example's community/cadre exist in the store).
"""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from data.ingest.columns import TABLES
from data.ingest.importer import write_text_cell

VALIDATION_ROWS = 5000

EXAMPLES: dict[str, dict[str, object]] = {
    "communities": {"name": "城东社区", "kind": "社区", "population": 6800, "households": 2300},
    "grids": {"grid_id": "G001", "name": "城东第一网格", "community": "城东社区"},
    "cadres": {"cadre_id": "A001", "name": "张三", "role": "网格员", "community": "城东社区",
               "grid_id": "G001", "joined_on": date(2020, 3, 1), "left_on": None},
    "cases": {"case_id": "GD20240305001", "reported_at": datetime(2024, 3, 5, 9, 30),
              "channel": "12345热线", "category": "物业管理", "community": "城东社区",
              "grid_id": "G001", "handler_id": "A001", "responded_at": datetime(2024, 3, 5, 10, 0),
              "deadline_at": datetime(2024, 3, 12, 9, 30), "closed_at": datetime(2024, 3, 7, 16, 0),
              "status": "已办结", "resolution_level": "社区", "callback_resolved": "是",
              "satisfaction": "满意", "summary": "小区楼道灯不亮"},
    "petitions": {"petition_id": "XF2024001", "received_at": datetime(2024, 3, 6, 10, 0),
                  "form": "来访", "category": "征地拆迁", "community": "城东社区", "persons": 1,
                  "is_repeat": "否", "is_leapfrog": "否", "deadline_at": datetime(2024, 5, 5, 10, 0),
                  "closed_at": None},
    "incidents": {"incident_id": "JQ2024001", "occurred_at": datetime(2024, 3, 6, 21, 15),
                  "category": "治安", "subtype": "纠纷", "community": "城东社区", "is_valid": "是",
                  "lat": 35.2336, "lon": 115.4806},
    "attendance": {"cadre_id": "A001", "day": date(2024, 3, 5),
                   "check_in_at": datetime(2024, 3, 5, 8, 25), "check_out_at": datetime(2024, 3, 5, 17, 40),
                   "lat": 35.2336, "lon": 115.4806},
    "worklogs": {"log_id": "RZ2024001", "cadre_id": "A001", "day": date(2024, 3, 5),
                 "created_at": datetime(2024, 3, 5, 18, 0), "visits": 6, "issues_reported": 1,
                 "content": "走访网格内六户居民，收集到楼道照明问题一件，已上报。"},
    "benefit_recipients": {"recipient_id": "DB2024001", "person_key": None, "household_id": "H001",
                           "program": "城市低保", "community": "城东社区", "start_month": "2024-01",
                           "end_month": None, "monthly_amount": Decimal("680.00")},
    "benefit_payments": {"recipient_id": "DB2024001", "month": "2024-03", "amount": Decimal("680.00")},
    "relief_grants": {"grant_id": "JZ2024001", "person_key": None, "community": "城东社区",
                      "granted_on": date(2024, 3, 8), "amount": Decimal("1500.00"), "reason": "因病"},
    "insurance_enrolment": {"community": "城东社区", "year": 2024, "required": 5200, "enrolled": 5013},
    "benefit_standards": {"year": 2024, "program": "城市低保", "monthly_amount": Decimal("750.00")},
    "benefit_monthly": {"community": "城东社区", "month": "2024-03", "program": "城市低保",
                        "households": 112, "persons": 186, "spending": Decimal("118420.00"),
                        "new": 4, "exited": 2},
    "notices": {"notice_id": "N001", "title": "疾控提示", "body": "流感高发季，请及时接种流感疫苗。",
                "valid_from": date(2024, 11, 1), "valid_to": date(2024, 12, 31)},
}

KIND_HELP = {
    "str": "文本", "text": "文本", "int": "整数", "year": "年份（如 2024）", "float": "数字",
    "money": "金额（元，两位小数）", "date": "日期（如 2024-03-05）",
    "datetime": "日期时间（如 2024-03-05 09:30:00）", "month": "年月（如 2024-03）",
    "bool": "是/否",
}
NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss", "money": "0.00"}


def template_columns(table: str) -> list[str]:
    """The canonical columns a template carries (person_key is made from 身份证号 instead)."""
    return [c for c in TABLES[table].columns if c != "person_key"]


def template_xlsx(table: str) -> bytes:
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    spec = TABLES[table]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = spec.zh
    example = EXAMPLES[table]
    columns = template_columns(table)
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for j, name in enumerate(columns, 1):
        col = spec.columns[name]
        cell = write_text_cell(ws, 1, j, col.zh)
        cell.font = bold
        if col.required:
            cell.fill = required_fill
        value = example.get(name)
        if isinstance(value, Decimal):
            value = float(value)
        if value is not None:
            c2 = write_text_cell(ws, 2, j, value)
            if col.kind in NUMBER_FORMATS:
                c2.number_format = NUMBER_FORMATS[col.kind]
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(12, len(col.zh) * 2 + 4)
        if col.kind in ("str", "text", "month") and name not in ("content", "summary"):
            # keep identifiers as text so Excel does not turn 0012 into 12
            for r in range(2, 3):
                ws.cell(row=r, column=j).number_format = "@"
        choices = list(col.choices) if col.choices else (["是", "否"] if col.kind == "bool" else None)
        if choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle="取值无效",
                                error=f"{col.zh}只能是：{'/'.join(choices)}")
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{VALIDATION_ROWS}")
    if spec.has_person_key:
        j = len(columns) + 1
        write_text_cell(ws, 1, j, "身份证号").font = bold
        ws.column_dimensions[get_column_letter(j)].width = 22
        ws.cell(row=2, column=j).number_format = "@"
    ws.freeze_panes = "A2"

    help_ws = wb.create_sheet("说明")
    for j, h in enumerate(["表头", "字段名", "必填", "格式", "可选值"], 1):
        write_text_cell(help_ws, 1, j, h).font = bold
    r = 2
    for name in columns:
        col = spec.columns[name]
        choices = "/".join(col.choices) if col.choices else ("是/否" if col.kind == "bool" else "")
        for j, v in enumerate([col.zh, name, "是" if col.required else "", KIND_HELP[col.kind], choices], 1):
            write_text_cell(help_ws, r, j, v)
        r += 1
    if spec.has_person_key:
        for j, v in enumerate(["身份证号", "id_number", "", "18 位文本；导入时加密为身份标识，明文不保存", ""], 1):
            write_text_cell(help_ws, r, j, v)
        r += 1
    write_text_cell(help_ws, r + 1, 1, "说明：黄色表头为必填列；第 2 行为示例，导入前请替换或删除。"
                    "电话、手机号等列导入时会被丢弃，不会保存。")
    for letter, width in zip("ABCDE", (16, 20, 8, 40, 50)):
        help_ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_file_name(table: str) -> str:
    return f"导入模板_{TABLES[table].zh}_{table}.xlsx"

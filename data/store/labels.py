"""The Chinese name of every store table: one table, used by the data page, the importer,
its templates and the CLI.

Names follow ../shared/spec/KPI.md where it names a domain (诉求工单, 治安警情, 干部考勤).
Tables DATA.md plans but the store does not have yet (benefit_monthly, notices,
boundaries) are named here already, so a new table arrives with its name.
"""
from __future__ import annotations

TABLE_LABELS: dict[str, str] = {
    "communities": "社区",
    "grids": "网格",
    "cadres": "干部",
    "cases": "诉求工单",
    "petitions": "信访",
    "incidents": "治安警情",
    "attendance": "干部考勤",
    "worklogs": "工作日志",
    "benefit_recipients": "保障对象",
    "benefit_payments": "保障金发放",
    "relief_grants": "临时救助",
    "insurance_enrolment": "医保参保",
    "benefit_standards": "保障标准",
    "benefit_monthly": "保障统计月报",
    "notices": "通知公告",
    "boundaries": "社区边界",
    "import_log": "导入记录",
}

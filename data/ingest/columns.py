"""The import columns of DATA.md: canonical names, Chinese headers, value kinds, closed lists.

One place for everything the importer, the templates and the quality page need to know
about a table's columns. The canonical names are those of ``data/store/schema.py``; the
Chinese headers are those of ../shared/spec/DATA.md (plus a few synonyms real exports use);
the Chinese table names come from ``data/store/labels.py``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, Table

from data.store.labels import TABLE_LABELS
from data.store.schema import DATA_TABLES, INTERNAL_COLUMNS, RECORD_DATE, TEXT

# ---------------------------------------------------------------------------------------
# Closed lists (enforced at import) — DATA.md "Closed lists" and KPI.md.
KINDS = ["社区", "管委会"]
ROLES = ["街道干部", "社区书记", "社区干部", "网格员"]
RESOLUTION_LEVELS = ["社区", "街道", "上级"]
SATISFACTION = ["满意", "基本满意", "不满意"]
PETITION_FORMS = ["来信", "来访", "网上", "电话"]
# The six benefit programs of KPI.md, each with the code its KPI keys use
# (benefits.urban_dibao.persons): the one home of the program list.
PROGRAM_CODES = {"城市低保": "urban_dibao", "农村低保": "rural_dibao", "特困供养": "tekun",
                 "临时救助": "temporary_relief", "残疾人生活补贴": "disability_living",
                 "重度残疾人护理补贴": "disability_care"}
PROGRAMS = list(PROGRAM_CODES)
INCIDENT_CATEGORIES = ["刑事", "治安", "治安灾害事故", "交通事故", "火灾", "群众求助", "举报投诉", "其它"]

# Spelling variants that mean exactly one value of a closed list.
CLOSED_ALIASES = {"其他": "其它"}

CLOSED_LISTS: dict[tuple[str, str], list[str]] = {
    ("communities", "kind"): KINDS,
    ("cadres", "role"): ROLES,
    ("cases", "resolution_level"): RESOLUTION_LEVELS,
    ("cases", "satisfaction"): SATISFACTION,
    ("petitions", "form"): PETITION_FORMS,
    ("incidents", "category"): INCIDENT_CATEGORIES,
    ("benefit_recipients", "program"): PROGRAMS,
    ("benefit_standards", "program"): PROGRAMS,
    ("benefit_monthly", "program"): PROGRAMS,
}

# ---------------------------------------------------------------------------------------
# Chinese headers of DATA.md, per table, in column order.
ZH_HEADERS: dict[str, dict[str, str]] = {
    "communities": {"name": "社区名称", "kind": "类型", "population": "常住人口", "households": "户数"},
    "grids": {"grid_id": "网格编号", "name": "网格名称", "community": "所属社区"},
    "cadres": {"cadre_id": "人员编号", "name": "姓名", "role": "岗位", "community": "所属社区",
               "grid_id": "网格编号", "joined_on": "入职日期", "left_on": "离职日期"},
    "cases": {"case_id": "工单编号", "reported_at": "受理时间", "channel": "来源渠道",
              "category": "诉求类别", "community": "社区", "grid_id": "网格编号",
              "handler_id": "承办人编号", "responded_at": "签收时间", "deadline_at": "办理时限",
              "closed_at": "办结时间", "status": "状态", "resolution_level": "办结层级",
              "callback_resolved": "是否解决", "satisfaction": "满意度", "summary": "诉求摘要"},
    "petitions": {"petition_id": "信访编号", "received_at": "登记时间", "form": "信访形式",
                  "category": "问题类别", "community": "社区", "persons": "人数",
                  "is_repeat": "是否重复访", "is_leapfrog": "是否越级访",
                  "deadline_at": "办理时限", "closed_at": "办结时间"},
    "incidents": {"incident_id": "警情编号", "occurred_at": "接警时间", "category": "警情类别",
                  "subtype": "警情细类", "community": "社区", "is_valid": "是否有效",
                  "lat": "纬度", "lon": "经度"},
    "attendance": {"cadre_id": "人员编号", "day": "日期", "check_in_at": "签到时间",
                   "check_out_at": "签退时间", "lat": "纬度", "lon": "经度"},
    "worklogs": {"log_id": "日志编号", "cadre_id": "人员编号", "day": "日期",
                 "created_at": "填报时间", "visits": "走访户数", "issues_reported": "上报问题数",
                 "content": "日志内容"},
    "benefit_recipients": {"recipient_id": "保障对象编号", "person_key": "身份标识",
                           "household_id": "户编号", "program": "保障类别", "community": "社区",
                           "start_month": "起始年月", "end_month": "终止年月",
                           "monthly_amount": "月保障金额"},
    "benefit_payments": {"recipient_id": "保障对象编号", "month": "发放年月", "amount": "发放金额"},
    "relief_grants": {"grant_id": "救助编号", "person_key": "身份标识", "community": "社区",
                      "granted_on": "救助日期", "amount": "救助金额", "reason": "救助事由"},
    "insurance_enrolment": {"community": "社区", "year": "年度", "required": "应参保人数",
                            "enrolled": "已参保人数"},
    "benefit_standards": {"year": "年度", "program": "保障类别", "monthly_amount": "月标准"},
    "benefit_monthly": {"community": "社区", "month": "月份", "program": "保障类别",
                        "households": "户数", "persons": "人数", "spending": "支出金额",
                        "new": "新增人数", "exited": "退出人数"},
    "notices": {"notice_id": "通知编号", "title": "标题", "body": "内容", "valid_from": "生效日期",
                "valid_to": "截止日期"},
}

# Synonyms seen in real exports, per canonical column name (any table that has it).
SYNONYMS: dict[str, list[str]] = {
    "community": ["所属社区", "社区", "社区名称"],
    "grid_id": ["网格编号", "所属网格编号"],
    # the civil-affairs monthly report's own words (民政统计月报)
    "month": ["统计月份", "年月", "月份"],
    "households": ["保障户数", "户数"],
    "persons": ["保障人数", "人数"],
    "spending": ["支出", "保障金支出", "资金支出", "支出金额"],
    "new": ["新增", "本月新增", "新增人数"],
    "exited": ["退出", "本月退出", "退出人数", "减少人数"],
}

# Columns holding raw ID numbers: turned into person_key, never stored.
ID_NUMBER_HEADERS = ["身份证号", "身份证号码", "证件号码", "证件号", "公民身份号码", "身份证",
                     "id_number", "id_no", "idcard", "id_card"]
# Phone columns: dropped at import, never stored.
PHONE_HEADERS = ["电话", "手机号", "手机号码", "手机", "联系电话", "电话号码", "联系方式",
                 "phone", "mobile", "tel", "telephone", "phone_number"]

ID_NUMBER = "id_number"  # pseudo canonical column (mapping target) for an ID-number column
PHONE = "phone"          # pseudo canonical column (mapping target) for a phone column

# Times of things that have happened: none can lie after the import (or the store's 数据截至).
# A deadline, a cadre's planned joining or leaving day, a recipient's start month and the
# years of standards and enrolment may lie ahead and are not listed. The import counts the
# rows later than the import time (a warning); data.quality lists them in the store.
EVENT_TIMES: dict[str, tuple[str, ...]] = {
    "cases": ("reported_at", "responded_at", "closed_at"),
    "petitions": ("received_at", "closed_at"),
    "incidents": ("occurred_at",),
    "attendance": ("day", "check_in_at", "check_out_at"),
    "worklogs": ("day", "created_at"),
    "relief_grants": ("granted_on",),
    "benefit_payments": ("month",),
}

# References checked at import: column -> (referenced table, referenced column).
REFERENCES: dict[str, tuple[str, str]] = {
    "community": ("communities", "name"),
    "grid_id": ("grids", "grid_id"),
    "cadre_id": ("cadres", "cadre_id"),
    "handler_id": ("cadres", "cadre_id"),
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    zh: str
    kind: str           # str, text, int, year, float, money, date, datetime, month, bool
    required: bool
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    reference: tuple[str, str] | None = None
    # open-list text (summaries, log contents, reasons, categories, statuses, names): ID and
    # phone numbers typed into it are masked at import (data.ingest.masking)
    free_text: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    zh: str
    columns: dict[str, ColumnSpec]
    primary_key: tuple[str, ...]
    has_person_key: bool = False
    defaults: dict[str, object] = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]


_MONTH_COLUMNS = {"start_month", "end_month", "month"}
_YEAR_COLUMNS = {"year"}


def _kind(table: str, col) -> str:
    t = col.type
    if col.name in _MONTH_COLUMNS:
        return "month"
    if col.name in _YEAR_COLUMNS:
        return "year"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, DateTime):
        return "datetime"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, Numeric) and not isinstance(t, Float):
        return "money"
    if isinstance(t, Float):
        return "float"
    if isinstance(t, Integer):
        return "int"
    if isinstance(t, String) and t.length:
        return "str"
    return "text"


def _build(table: Table) -> TableSpec:
    cols: dict[str, ColumnSpec] = {}
    defaults: dict[str, object] = {}
    cohort = RECORD_DATE.get(table.name)
    for col in table.columns:
        if col.name in INTERNAL_COLUMNS:  # Zhili's own bookkeeping, never in a file
            continue
        has_default = col.default is not None
        if has_default and getattr(col.default, "is_scalar", False):
            defaults[col.name] = col.default.arg
        required = col.primary_key or (not col.nullable and not has_default) or col.name == cohort
        if table.name == "cadres" and col.name == "joined_on":
            required = False  # cadres' record date is for freshness only; joined_on may be unknown
        kind = _kind(table.name, col)
        reference = REFERENCES.get(col.name) if not (table.name == "cadres" and col.name == "cadre_id") \
            and not (table.name == "grids" and col.name == "grid_id") else None
        choices = tuple(CLOSED_LISTS[(table.name, col.name)]) if (table.name, col.name) in CLOSED_LISTS else None
        free_text = kind == "text" or (kind == "str" and col.type.length >= TEXT and choices is None
                                       and reference is None and not col.primary_key)
        cols[col.name] = ColumnSpec(
            name=col.name,
            zh=ZH_HEADERS[table.name][col.name],
            kind=kind,
            required=required,
            max_length=col.type.length if kind == "str" else None,
            choices=choices,
            reference=reference,
            free_text=free_text,
        )
    return TableSpec(
        name=table.name, zh=TABLE_LABELS[table.name], columns=cols,
        primary_key=tuple(c.name for c in table.primary_key.columns),
        has_person_key="person_key" in table.c, defaults=defaults,
    )


TABLES: dict[str, TableSpec] = {name: _build(t) for name, t in DATA_TABLES.items()}


def normalise_header(h: object) -> str:
    """Header as compared: no BOM, no whitespace (incl. full-width), lower case."""
    s = "" if h is None else str(h)
    s = s.replace("\ufeff", "")
    s = re.sub(r"[\s\u3000]+", "", s)
    return s.lower()


_UNIT_SUFFIX = re.compile(r"[（(][^）)]*[）)]$")


def header_lookup(table: str) -> dict[str, str]:
    """Normalised header -> canonical column (English and Chinese names, synonyms)."""
    spec = TABLES[table]
    out: dict[str, str] = {}
    for name, col in spec.columns.items():
        out[normalise_header(name)] = name
        out[normalise_header(col.zh)] = name
        for syn in SYNONYMS.get(name, []):
            out.setdefault(normalise_header(syn), name)
    return out


def classify_header(table: str, header: object, extra: dict[str, str] | None = None) -> str | None:
    """The canonical column a header means, ID_NUMBER, PHONE, or None (unknown).

    ``extra`` is the user's mapping (normalised source header -> canonical), tried first.
    A unit suffix like ``发放金额(元)`` is tolerated.
    """
    h = normalise_header(header)
    if not h:
        return None
    lookup = header_lookup(table)
    for candidate in (h, _UNIT_SUFFIX.sub("", h)):
        if extra and candidate in extra:
            return extra[candidate]
        if candidate in lookup:
            return lookup[candidate]
        if candidate in {normalise_header(x) for x in ID_NUMBER_HEADERS}:
            return ID_NUMBER
        if candidate in {normalise_header(x) for x in PHONE_HEADERS}:
            return PHONE
    # headers that merely contain an ID-number or phone word (负责人电话, 申请人身份证号码)
    if any(w in h for w in ("身份证", "证件号", "idnumber", "id_number", "idcard")):
        return ID_NUMBER
    if any(w in h for w in ("电话", "手机", "phone", "mobile")):
        return PHONE
    return None


# ---------------------------------------------------------------------------------------
# Mapping targets by canonical name or Chinese label

IGNORE = "ignore"
IGNORE_WORDS = frozenset({"ignore", "忽略", "不导入", ""})
ID_NUMBER_LABEL = "身份证号"
PHONE_LABEL = "电话"


def target_of(table: str, name: object) -> str | None:
    """The mapping target NAME means for TABLE: a canonical column, ID_NUMBER, PHONE or
    IGNORE; NAME may be the canonical name, the Chinese label of DATA.md (受理时间), a header
    synonym (所属社区), 身份证号/电话 or 忽略. None when it means nothing in TABLE."""
    if name is None or normalise_header(name) in {normalise_header(w) for w in IGNORE_WORDS}:
        return IGNORE
    spec = TABLES[table]
    s = str(name).strip()
    if s in spec.columns or s in (ID_NUMBER, PHONE):
        return s
    h = normalise_header(s)
    found = header_lookup(table).get(h)
    if found:
        return found
    if h in {normalise_header(x) for x in ID_NUMBER_HEADERS}:
        return ID_NUMBER
    if h in {normalise_header(x) for x in PHONE_HEADERS}:
        return PHONE
    return None


def target_label(table: str, target: str | None) -> str:
    """The Chinese label shown for a mapping target (忽略 for none)."""
    if target is None or target == IGNORE:
        return "忽略"
    if target == ID_NUMBER:
        return "身份证号（加密为身份标识）" if TABLES[table].has_person_key else "身份证号（丢弃）"
    if target == PHONE:
        return "电话（丢弃，不保存）"
    return TABLES[table].columns[target].zh


def target_options(table: str) -> list[tuple[str, str]]:
    """(target, Chinese label) for a mapping drop-down: 忽略 first, then the table's columns
    in order (person_key comes from 身份证号), then 身份证号 where the table has person_key,
    then 电话."""
    spec = TABLES[table]
    out = [(IGNORE, "忽略")]
    out += [(c, col.zh + ("（必填）" if col.required else "")) for c, col in spec.columns.items()
            if c != "person_key"]
    if spec.has_person_key:
        out.append((ID_NUMBER, target_label(table, ID_NUMBER)))
    out.append((PHONE, target_label(table, PHONE)))
    return out


# ---------------------------------------------------------------------------------------
# Deadlines: a date alone means the end of that day (DATA.md)

DEADLINE_COLUMNS = frozenset({"deadline_at"})


# ---------------------------------------------------------------------------------------
# Columns the KPIs depend on: an import whose records lack one says which KPIs it affects.
# The labels are those of metrics.registry (data/ does not import metrics/; a test checks
# every label here against the registry).

KPI_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "cases": {
        "responded_at": ("响应率", "三率综合得分"),
        "deadline_at": ("按期办结率", "按期办结量", "超期未办结"),
        "closed_at": ("办结量", "办结率", "按期办结率", "超期未办结", "办理时长中位数(小时)",
                      "有效回访量", "解决率", "满意率"),
        "resolution_level": ("小事不出社区", "大事不出街道", "矛盾上交率"),
        "satisfaction": ("有效回访量", "解决率", "满意率", "三率综合得分"),
        "callback_resolved": ("解决率", "三率综合得分"),
    },
    "petitions": {
        "closed_at": ("信访办结率", "信访按期办结率"),
        "deadline_at": ("信访按期办结率",),
        "persons": ("信访人次", "集体访"),
        "is_repeat": ("重复信访率",),
        "is_leapfrog": ("越级访",),
    },
    "incidents": {
        "category": ("刑事警情", "治安警情"),
    },
    "communities": {
        "population": ("万人警情数",),
    },
}

"""Data-quality checks for the data page: each returns a count and the offending rows.

Every check is a function of the engine that aggregates in SQL (SQLAlchemy Core, bound
parameters only, identical on SQLite, PostgreSQL and MariaDB/MySQL) and returns
``(count, DataFrame)``: the count of findings over the whole store and at most ``limit``
offending rows with Chinese column labels. Rows never carry residents' names or summaries
and never a full ``person_key`` (only its first 8 characters, cut in SQL).

Implausible rows are stored by the importer on purpose (they are facts of the source
system); these checks are where they show up. KPI.md says how each KPI treats them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import pandas as pd
from sqlalchemy import (
    Date, DateTime, Integer, String, and_, case, cast, func, inspect, literal, null, or_,
    select, union_all,
)
from sqlalchemy.engine import Engine

from data.ingest.columns import EVENT_TIMES, TABLES
from data.store import clock
from data.store.db import data_as_of
from data.store.labels import TABLE_LABELS
from data.store.schema import (
    DATA_TABLES, attendance, benefit_payments, benefit_recipients, benefit_standards, cases,
    communities, petitions, worklogs,
)

DEFAULT_LIMIT = 200
DIBAO = ("城市低保", "农村低保")
TEKUN = "特困供养"
OPEN_END = "9999-12"


def _run(engine: Engine, stmt, labels: dict[str, str], order_by=(), limit: int = DEFAULT_LIMIT):
    sub = stmt.subquery()
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(sub)).scalar_one()
        q = select(*[sub.c[k] for k in labels])
        q = q.order_by(*[sub.c[k] for k in order_by]) if order_by else q
        rows = conn.execute(q.limit(limit)).all() if count else []
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(labels.values()))
    return int(count), frame


# ---------------------------------------------------------------------------------------

def duplicate_worklogs(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Work logs with the same cadre, day and content (one row per group of duplicates)."""
    w = worklogs.c
    stmt = (select(w.cadre_id.label("cadre_id"), w.day.label("day"),
                   func.count().label("n"), func.min(w.log_id).label("first_id"),
                   func.max(w.log_id).label("last_id"))
            .where(w.content.is_not(None), w.content != "")
            .group_by(w.cadre_id, w.day, w.content)
            .having(func.count() > 1))
    return _run(engine, stmt, {"cadre_id": "人员编号", "day": "日期", "n": "重复篇数",
                               "first_id": "日志编号(最小)", "last_id": "日志编号(最大)"},
                ("day", "cadre_id", "first_id"), limit)


def duplicate_cases(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Cases with the same summary and community reported in the same minute."""
    c = cases.c
    # 'YYYY-MM-DD HH:MM' of a timestamp: the first 16 characters of its text on all three
    # databases; grouped in an outer query so PostgreSQL sees one expression.
    inner = (select(c.case_id, c.community, c.summary,
                    func.substr(cast(c.reported_at, String), 1, 16).label("minute"))
             .where(c.summary.is_not(None), c.summary != "")).subquery()
    stmt = (select(inner.c.community.label("community"), inner.c.minute.label("minute"),
                   func.count().label("n"), func.min(inner.c.case_id).label("first_id"),
                   func.max(inner.c.case_id).label("last_id"))
            .group_by(inner.c.community, inner.c.minute, inner.c.summary)
            .having(func.count() > 1))
    return _run(engine, stmt, {"community": "社区", "minute": "受理时间(分钟)", "n": "重复件数",
                               "first_id": "工单编号(最小)", "last_id": "工单编号(最大)"},
                ("minute", "community", "first_id"), limit)


def _pair(kind_label: str, table, id_col, start_col, end_col):
    return select(literal(kind_label).label("tbl"), id_col.label("record_id"),
                  table.c.community.label("community"), start_col.label("start_at"),
                  end_col.label("end_at")).where(end_col < start_col)


def closed_before_reported(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Cases closed before they were reported, petitions closed before they were received."""
    stmt = union_all(
        _pair("诉求工单", cases, cases.c.case_id, cases.c.reported_at, cases.c.closed_at),
        _pair("信访", petitions, petitions.c.petition_id, petitions.c.received_at, petitions.c.closed_at),
    )
    return _run(engine, stmt, {"tbl": "类别", "record_id": "编号", "community": "社区",
                               "start_at": "受理/登记时间", "end_at": "办结时间"},
                ("start_at", "record_id"), limit)


def deadline_before_reported(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Cases and petitions whose deadline lies before their reporting time."""
    stmt = union_all(
        _pair("诉求工单", cases, cases.c.case_id, cases.c.reported_at, cases.c.deadline_at),
        _pair("信访", petitions, petitions.c.petition_id, petitions.c.received_at, petitions.c.deadline_at),
    )
    return _run(engine, stmt, {"tbl": "类别", "record_id": "编号", "community": "社区",
                               "start_at": "受理/登记时间", "end_at": "办理时限"},
                ("start_at", "record_id"), limit)


def cases_without_community(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Cases whose community is empty or not in the communities table."""
    c = cases.c
    stmt = (select(c.case_id.label("case_id"), c.reported_at.label("reported_at"),
                   c.community.label("community"))
            .select_from(cases.outerjoin(communities, communities.c.name == c.community))
            .where(or_(communities.c.name.is_(None), c.community == "")))
    return _run(engine, stmt, {"case_id": "工单编号", "reported_at": "受理时间", "community": "社区(原值)"},
                ("reported_at", "case_id"), limit)


def checkout_before_checkin(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Attendance days whose check-out is earlier than the check-in."""
    a = attendance.c
    stmt = (select(a.cadre_id.label("cadre_id"), a.day.label("day"),
                   a.check_in_at.label("check_in_at"), a.check_out_at.label("check_out_at"))
            .where(a.check_out_at < a.check_in_at))
    return _run(engine, stmt, {"cadre_id": "人员编号", "day": "日期", "check_in_at": "签到时间",
                               "check_out_at": "签退时间"}, ("day", "cadre_id"), limit)


def payments_outside_spell(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Payments for a month in which the recipient is not active (or for an unknown recipient)."""
    p, r = benefit_payments.c, benefit_recipients.c
    reason = case(
        (r.recipient_id.is_(None), "无此保障对象"),
        (p.month < r.start_month, "早于起始年月"),
        else_="晚于终止年月",
    )
    stmt = (select(p.recipient_id.label("recipient_id"), r.program.label("program"),
                   r.community.label("community"), p.month.label("month"),
                   r.start_month.label("start_month"), r.end_month.label("end_month"),
                   p.amount.label("amount"), reason.label("reason"))
            .select_from(benefit_payments.outerjoin(benefit_recipients, r.recipient_id == p.recipient_id))
            .where(or_(r.recipient_id.is_(None), p.month < r.start_month,
                       and_(r.end_month.is_not(None), p.month > r.end_month))))
    return _run(engine, stmt, {"recipient_id": "保障对象编号", "program": "保障类别",
                               "community": "社区", "month": "发放年月", "start_month": "起始年月",
                               "end_month": "终止年月", "amount": "发放金额", "reason": "问题"},
                ("month", "recipient_id"), limit)


def dibao_and_tekun(engine: Engine, limit: int = DEFAULT_LIMIT):
    """A person (person_key) active in 城市/农村低保 and in 特困供养 in the same month."""
    r1 = benefit_recipients.alias("r1")
    r2 = benefit_recipients.alias("r2")
    end1 = func.coalesce(r1.c.end_month, OPEN_END)
    end2 = func.coalesce(r2.c.end_month, OPEN_END)
    start = case((r1.c.start_month > r2.c.start_month, r1.c.start_month), else_=r2.c.start_month)
    end = case((end1 < end2, end1), else_=end2)
    stmt = (select(func.substr(r1.c.person_key, 1, 8).label("key8"),
                   r1.c.recipient_id.label("dibao_id"), r1.c.program.label("dibao_program"),
                   r2.c.recipient_id.label("tekun_id"), r1.c.community.label("community"),
                   start.label("from_month"), end.label("to_month"))
            .select_from(r1.join(r2, r1.c.person_key == r2.c.person_key))
            .where(r1.c.person_key.is_not(None), r1.c.person_key != "",
                   r1.c.program.in_(DIBAO), r2.c.program == TEKUN,
                   r1.c.start_month <= end2, r2.c.start_month <= end1))
    count, frame = _run(engine, stmt, {"key8": "身份标识(前8位)", "dibao_id": "低保对象编号",
                                       "dibao_program": "低保类别", "tekun_id": "特困对象编号",
                                       "community": "社区", "from_month": "重叠起始年月",
                                       "to_month": "重叠终止年月"},
                        ("from_month", "dibao_id", "tekun_id"), limit)
    if len(frame):
        frame["身份标识(前8位)"] = frame["身份标识(前8位)"].astype(str) + "…"
        frame["重叠终止年月"] = frame["重叠终止年月"].replace(OPEN_END, "至今")
    return count, frame


def amounts_above_standard(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Payments above the monthly standard of their program for that year."""
    p, r, s = benefit_payments.c, benefit_recipients.c, benefit_standards.c
    year = cast(func.substr(p.month, 1, 4), Integer)
    stmt = (select(p.recipient_id.label("recipient_id"), r.program.label("program"),
                   r.community.label("community"), p.month.label("month"),
                   p.amount.label("amount"), s.monthly_amount.label("standard"))
            .select_from(benefit_payments
                         .join(benefit_recipients, r.recipient_id == p.recipient_id)
                         .join(benefit_standards, and_(s.program == r.program, s.year == year)))
            .where(p.amount > s.monthly_amount))
    return _run(engine, stmt, {"recipient_id": "保障对象编号", "program": "保障类别",
                               "community": "社区", "month": "发放年月", "amount": "发放金额",
                               "standard": "当年月标准"}, ("month", "recipient_id"), limit)


def future_reference(engine: Engine) -> datetime:
    """What nothing in the store may be dated after: the store's 数据截至 (the newest export
    or import time), and never later than now (Asia/Shanghai)."""
    now = clock.now()
    as_of = data_as_of(engine)
    return min(now, as_of) if as_of is not None else now


def dated_after_as_of(engine: Engine, limit: int = DEFAULT_LIMIT):
    """Records with a time of something that has happened (受理, 签收, 办结, 接警, 签到, 填报,
    救助, 发放) later than ``future_reference``: one row per record, naming its first such
    column. Deadlines and planned dates may lie ahead and are not checked."""
    ref = future_reference(engine)
    limits = {"datetime": ref, "date": ref.date(), "month": f"{ref:%Y-%m}"}
    parts = []
    for name, columns in EVENT_TIMES.items():
        table, spec = DATA_TABLES[name], TABLES[name]
        record_id = table.c[spec.primary_key[0]]
        later = [(table.c[c], literal(limits[spec.columns[c].kind]), spec.columns[c].zh)
                 for c in columns]

        def text(col):
            if isinstance(col.type, (DateTime, Date)):
                return func.substr(cast(col, String), 1, 19)
            return col

        community = table.c.community if "community" in table.c else cast(null(), String)
        parts.append(
            select(literal(TABLE_LABELS[name]).label("tbl"), record_id.label("record_id"),
                   community.label("community"),
                   case(*[(col > lim, literal(zh)) for col, lim, zh in later]).label("column"),
                   case(*[(col > lim, text(col)) for col, lim, _ in later]).label("value"))
            .where(or_(*[col > lim for col, lim, _ in later])))
    count, frame = _run(engine, union_all(*parts),
                        {"tbl": "类别", "record_id": "编号", "community": "社区", "column": "字段",
                         "value": "日期"}, ("tbl", "record_id"), limit)
    frame["数据截至"] = pd.Series([f"{ref:%Y-%m-%d %H:%M}"] * len(frame), dtype="string")
    return count, frame


# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    key: str
    title: str
    description: str
    run: Callable[..., tuple[int, pd.DataFrame]]


CHECKS: list[Check] = [
    Check("duplicate_worklogs", "重复工作日志", "同一干部同一天内容完全相同的日志（每组算 1 处）", duplicate_worklogs),
    Check("duplicate_cases", "重复工单", "同一社区、同一分钟受理、诉求摘要相同的工单（每组算 1 处）", duplicate_cases),
    Check("closed_before_reported", "办结早于受理", "办结时间早于受理（登记）时间的工单和信访件", closed_before_reported),
    Check("deadline_before_reported", "时限早于受理", "办理时限早于受理（登记）时间的工单和信访件", deadline_before_reported),
    Check("cases_without_community", "工单无有效社区", "社区为空或不在社区表中的工单", cases_without_community),
    Check("checkout_before_checkin", "签退早于签到", "签退时间早于签到时间的考勤记录", checkout_before_checkin),
    Check("payments_outside_spell", "保障期外发放", "发放年月不在保障对象起止年月内（或无此保障对象）的发放记录", payments_outside_spell),
    Check("dibao_and_tekun", "低保与特困重叠", "同一人（身份标识）同月既享受城乡低保又享受特困供养", dibao_and_tekun),
    Check("amounts_above_standard", "发放高于标准", "发放金额高于当年该类别月保障标准的记录", amounts_above_standard),
    Check("dated_after_as_of", "日期晚于数据截至",
          "受理、签收、办结、接警、签到、签退、填报、救助或发放的时间晚于数据截至（最新一次导出或导入的时间，"
          "最晚为当前时间）的记录，多为录入错误（如把 2021 年误录为 2031 年）。这些记录已按原样保存，"
          "请在源系统中更正后重新导入；办理时限等计划日期不在此列", dated_after_as_of),
]


@dataclass
class Finding:
    check: Check
    count: int = 0
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    error: str | None = None


def run_checks(engine: Engine, limit: int = DEFAULT_LIMIT) -> list[Finding]:
    """All checks; a failing check reports its error (in Chinese) instead of raising."""
    out = []
    has_schema = inspect(engine).has_table("cases")
    for check in CHECKS:
        if not has_schema:
            out.append(Finding(check, error="数据库中还没有数据表"))
            continue
        try:
            count, rows = check.run(engine, limit=limit)
            out.append(Finding(check, count, rows))
        except Exception as exc:  # noqa: BLE001 — shown on the page, never a traceback
            out.append(Finding(check, error=f"检查失败（{type(exc).__name__}）"))
    return out

"""The audit trail: who did what, when. One line to record anything from anywhere:

    from data.store import audit
    audit.record(engine, "张三", "export", "考核评议 2024-10 Excel(12 人)")

``actor`` is a user name (or ``命令行(系统用户)`` for the CLI, ``未登录`` when login is
off); ``action`` one of ``ACTIONS`` (an unknown one is kept as it is, so a new feature
needs no change here to start recording); ``detail`` one line of Chinese. Times are
Asia/Shanghai (``data.store.clock``). Rows are never changed or deleted by Zhili.

``recent(engine, limit=, action=)`` reads it back, newest first (the CLI's ``audit`` and
the data page). A store whose schema predates the trail (before 0008) records nothing
rather than failing the action it would have recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from data.store import clock
from data.store.schema import NAME, audit_log

ACTIONS = {
    "login.ok": "登录成功",
    "login.fail": "登录失败",
    "login.token": "大屏令牌登录",
    "logout": "退出登录",
    "import": "导入数据",
    "export": "导出/下载",
    "appraisal.publish": "发布考核结果",
    "user.add": "新增用户",
    "user.disable": "停用用户",
    "user.passwd": "修改密码",
}
DETAIL_MAX = 2000


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    action: str
    detail: str

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)


def _clean(text, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


def record(target: Engine | Connection, actor: str, action: str, detail: str = "",
           at: datetime | None = None) -> None:
    """Add one row; ``target`` is an engine (its own transaction) or a connection inside
    the caller's transaction (the row commits with the change it records)."""
    values = dict(at=at or clock.now(), actor=_clean(actor, NAME) or "(未知)",
                  action=_clean(action, 40), detail=_clean(detail, DETAIL_MAX))
    if isinstance(target, Connection):
        target.execute(insert(audit_log).values(**values))
        return
    try:
        with target.begin() as conn:
            conn.execute(insert(audit_log).values(**values))
    except SQLAlchemyError:
        # an old store without the table: the action itself must not fail on its record
        from data.store.migrate import is_current

        if is_current(target):
            raise


def recent(engine: Engine, limit: int = 50, action: str | None = None) -> list[Entry]:
    """The newest ``limit`` rows, newest first; ``action``: that action, or every action
    of a family (``login`` matches ``login.ok`` and ``login.fail``)."""
    a = audit_log.c
    stmt = select(a.at, a.actor, a.action, a.detail).order_by(a.at.desc(), a.id.desc())
    if action:
        stmt = stmt.where((a.action == action) | a.action.startswith(action + ".",
                                                                     autoescape=True))
    with engine.connect() as conn:
        return [Entry(*r) for r in conn.execute(stmt.limit(limit))]


def import_detail(table: str, file_name: str | None, result, via: str) -> str:
    """The audit line of an import (CLI or page): table, file and the import's own
    one-line summary (rows added, updated, rejected; or why nothing was imported)."""
    return f"{via}导入 {table} 文件 {file_name or '(未命名)'}: {result.summary_zh()}"

"""Notices (通知公告) for the big screen's ticker: read the current ones, and replace the
whole list from the data page's editor in one transaction.

A notice is current on a day when ``valid_from <= day`` and (``valid_to`` empty or
``>= day``). Titles and bodies are data: pages escape them.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, delete, or_, select

from data.store.schema import TEXT, notices

COLUMNS = {"notice_id": "通知编号", "title": "标题", "body": "内容", "valid_from": "生效日期",
           "valid_to": "截止日期"}


class NoticeError(ValueError):
    """An edited list that cannot be saved (one Chinese line naming the row)."""


def current_notices(engine: Engine, day: date) -> list[dict]:
    """The notices valid on ``day``, newest first: title and body only."""
    n = notices.c
    stmt = (select(n.title, n.body).where(n.valid_from <= day,
                                          or_(n.valid_to.is_(None), n.valid_to >= day))
            .order_by(n.valid_from.desc(), n.notice_id))
    with engine.connect() as conn:
        return [{"title": t, "body": b or ""} for t, b in conn.execute(stmt)]


def all_notices(engine: Engine) -> pd.DataFrame:
    """Every notice (canonical column names), newest first, for the editor."""
    n = notices.c
    stmt = select(*(n[c] for c in COLUMNS)).order_by(n.valid_from.desc(), n.notice_id)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=list(COLUMNS))


def _text(value) -> str:
    """A cell of the editor as text: empty for None, NaN, NaT and blanks."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _day(value, row: int, column: str, required: bool) -> date | None:
    if not _text(value):
        if required:
            raise NoticeError(f"第 {row} 行 {COLUMNS[column]}：不能为空")
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise NoticeError(f"第 {row} 行 {COLUMNS[column]}：不是日期 {value!r}") from None


def save_notices(engine: Engine, frame: pd.DataFrame) -> int:
    """Replace every notice by the rows of ``frame`` (the editor's table); rows without
    an id get the next free N### id. Checks every row first: nothing changes on an error."""
    rows, used = [], set()
    taken = {_text(v) for v in frame.get("notice_id", pd.Series(dtype=object))} - {""}
    next_no = 1
    for i, rec in enumerate(frame.to_dict("records"), start=1):
        title = _text(rec.get("title"))
        if not title:
            raise NoticeError(f"第 {i} 行 标题：不能为空")
        if len(title) > TEXT:
            raise NoticeError(f"第 {i} 行 标题：长度 {len(title)} 超过 {TEXT} 字")
        start = _day(rec.get("valid_from"), i, "valid_from", True)
        end = _day(rec.get("valid_to"), i, "valid_to", False)
        if end is not None and end < start:
            raise NoticeError(f"第 {i} 行 截止日期：{end} 早于生效日期 {start}")
        notice_id = _text(rec.get("notice_id"))
        if not notice_id:
            while f"N{next_no:03d}" in taken | used:
                next_no += 1
            notice_id = f"N{next_no:03d}"
        if notice_id in used:
            raise NoticeError(f"第 {i} 行 通知编号：{notice_id} 重复")
        used.add(notice_id)
        rows.append({"notice_id": notice_id, "title": title,
                     "body": _text(rec.get("body")) or None, "valid_from": start, "valid_to": end})
    with engine.begin() as conn:
        conn.execute(delete(notices))
        if rows:
            conn.execute(notices.insert(), rows)
    return len(rows)

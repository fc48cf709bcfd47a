"""The cadre roster as the cadre domains (attendance, work logs, appraisal) need it.

A cadre is *scheduled* on a workday while active: ``joined_on <= day`` (no date: since
ever) and ``left_on`` empty or ``>= day`` (KPI.md, 干部考勤). Scheduled days are not rows of
any table, so they reach the engine as ``Domain.extra`` counts: per cadre (with role and
community, the other breakdowns) and month, the workdays of the period up to the as_of
date while the cadre was active. Rows of attendance and work logs are joined with the
roster for their role and community; the community scope applies to the cadre's
community, and a row whose cadre is not in the roster is not counted.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, and_, case, literal, or_, select

from data.store.schema import cadres
from metrics import calendar
from metrics.access import HIDDEN_NAME, OutOfScope
from metrics.context import Query

ROLES = ("街道干部", "社区书记", "社区干部", "网格员")  # DATA.md's closed list, in rank order


@dataclass(frozen=True)
class Cadre:
    cadre_id: str
    name: str | None
    role: str | None
    community: str | None
    joined_on: date | None
    left_on: date | None

    def active_span(self, first: date, last: date) -> tuple[date, date]:
        """The part of ``first..last`` the cadre was active (empty when end < start)."""
        return (max(first, self.joined_on or first), min(last, self.left_on or last))


def joined(table):
    """``table`` joined with the roster by ``cadre_id`` (rows of unknown cadres drop out)."""
    return table.join(cadres, table.c.cadre_id == cadres.c.cadre_id)


def dimensions(table) -> dict:
    """The cadre domains' breakdowns: the cadre (its id), its role and its community."""
    return {"cadre": table.c.cadre_id, "role": cadres.c.role, "community": cadres.c.community}


SCOPE_COLUMN = cadres.c.community


def active_on(day_column):
    """SQL: the row's cadre was active on its day."""
    c = cadres.c
    return and_(or_(c.joined_on.is_(None), c.joined_on <= day_column),
                or_(c.left_on.is_(None), c.left_on >= day_column))


def last_day(q: Query) -> date:
    """The last day of the period that has happened as of as_of."""
    return min(q.period.end, q.as_of.date())


def read(engine: Engine, q: Query | None = None, ids=None) -> dict[str, Cadre]:
    """The roster (in the query's scope, or the cadres ``ids``), by cadre id."""
    stmt = select(cadres.c.cadre_id, cadres.c.name, cadres.c.role, cadres.c.community,
                  cadres.c.joined_on, cadres.c.left_on).order_by(cadres.c.cadre_id)
    if q is not None and q.scope:
        stmt = stmt.where(cadres.c.community.in_(list(q.scope)))
    if ids is not None:
        stmt = stmt.where(cadres.c.cadre_id.in_(list(ids)))
    with engine.connect() as conn:
        return {row.cadre_id: Cadre(*row) for row in conn.execute(stmt)}


def require(engine: Engine, q: Query, cadre_id: str) -> Cadre | None:
    """One cadre asked for by id (a page's pick, a link): the cadre when in the query's
    scope, None when there is no such cadre or it lies outside a scope the viewer chose,
    ``OutOfScope`` when it lies outside the viewer's communities (``q.allowed``)."""
    who = read(engine, ids=[cadre_id]).get(cadre_id)
    if who is None:
        return None
    if q.allowed is not None and who.community not in q.allowed:
        raise OutOfScope("无权查看该干部的数据(不属于当前账号的社区)")
    if q.scope and who.community not in q.scope:
        return None
    return who


def visible_name(q: Query):
    """The cadre's name as a column, for lists that join ``cadres`` (a case's handler):
    the name itself, unless the viewer is held to some communities (``q.allowed``) and the
    cadre belongs to none of them (metrics.access.cadre_name_visible); no cadre: NULL."""
    if q.allowed is None:
        return cadres.c.name
    return case((cadres.c.cadre_id.is_(None), None),
                (cadres.c.community.in_(list(q.allowed)), cadres.c.name),
                else_=literal(HIDDEN_NAME))


def month_spans(first: date, last: date) -> list[tuple[str, date, date]]:
    """('YYYY-MM', first day, last day) of each month of ``first..last``, clipped to it."""
    out, d = [], first
    while d <= last:
        nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        end = min(last, nxt - timedelta(days=1))
        out.append((f"{d:%Y-%m}", d, end))
        d = nxt
    return out


def scheduled(engine: Engine, q: Query, names=("scheduled",)) -> list[tuple[dict, dict]]:
    """``Domain.extra`` rows: per cadre in scope and month, its scheduled days, under each
    count name in ``names`` (``absent`` starts from the scheduled days too)."""
    first, last = q.period.start, last_day(q)
    if last < first:
        return []
    work = calendar.Workdays(first, last)
    months = month_spans(first, last)
    out = []
    for cadre in read(engine, q).values():
        lo, hi = cadre.active_span(first, last)
        if hi < lo:
            continue
        keys = {"cadre": cadre.cadre_id, "role": cadre.role, "community": cadre.community}
        for month, start, end in months:
            n = work.count(max(lo, start), min(hi, end))
            if n:
                out.append(({**keys, "month": month}, dict.fromkeys(names, n)))
    return out


def scheduled_days(cadre: Cadre, first: date, last: date) -> list[date]:
    """The cadre's scheduled days in ``first..last`` (for a calendar of one cadre)."""
    lo, hi = cadre.active_span(first, last)
    return calendar.workdays(lo, hi)


def hhmm_seconds(text: str) -> int:
    """'08:30' -> 30600."""
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def listing(engine: Engine, q: Query) -> list[dict]:
    """The cadres in the query's scope who were active at some time in the period, in role
    order then by id (id, name, role, community, joined_on, left_on)."""
    first, last = q.period.start, last_day(q)
    out = [asdict(c) for c in read(engine, q).values()
           if c.active_span(first, last)[0] <= c.active_span(first, last)[1]]
    return sorted(out, key=lambda c: (ROLES.index(c["role"]) if c["role"] in ROLES
                                      else len(ROLES), c["cadre_id"]))

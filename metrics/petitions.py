"""信访 (``petitions.*`` of KPI.md): the petitions domain's declaration to the engine.

Cohort date ``received_at``. A petition without a recorded deadline must be concluded
within ``petitions.default_deadline_days`` (60, the statutory time) of its registration;
``persons`` missing counts 1; ``is_repeat`` / ``is_leapfrog`` missing count as false.
Petitions are a small table (hundreds a year), so the engine's speed options stay off.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, and_, func, or_, select

from data.store.schema import petitions
from metrics.context import Query
from metrics.engine import Domain, Result, compute as engine_compute
from metrics.sqlfn import flag, seconds_between


def indicators(q: Query) -> dict:
    """Each petition's indicators as of ``q.as_of`` (KPI.md's definitions, one place)."""
    p = petitions.c
    days = int(q.settings.get_path("petitions.default_deadline_days"))
    persons = func.coalesce(p.persons, 1)
    return {
        "persons": persons,
        "collective": flag(persons >= int(q.settings.get_path("petitions.collective_persons"))),
        "repeat": flag(p.is_repeat.is_(True)),
        "leapfrog": flag(p.is_leapfrog.is_(True)),
        "closed": flag(p.closed_at <= q.as_of),
        "by_deadline": flag(or_(
            p.closed_at <= p.deadline_at,
            and_(p.deadline_at.is_(None),
                 seconds_between(p.received_at, p.closed_at) <= days * 86400))),
        "deadline_passed": flag(or_(
            p.deadline_at < q.as_of,
            and_(p.deadline_at.is_(None), p.received_at < q.as_of - timedelta(days=days)))),
    }


COUNTS = {
    "persons": lambda i: i["persons"],
    "collective": lambda i: i["collective"],
    "repeat": lambda i: i["repeat"],
    "leapfrog": lambda i: i["leapfrog"],
    "closed": lambda i: i["closed"],
    "on_time_closed": lambda i: i["closed"] * i["by_deadline"],
    "open_past_deadline": lambda i: (1 - i["closed"]) * i["deadline_passed"],
}

DOMAIN = Domain(
    name="petitions",
    table=petitions,
    cohort="received_at",
    dimensions={"community": "community", "category": "category", "form": "form"},
    indicators=indicators,
    counts=COUNTS,
)


def compute(engine: Engine, q: Query, by: tuple[str, ...] | None = None) -> Result:
    """Petitions figures for the query, overall and for each breakdown in ``by``."""
    return engine_compute(engine, DOMAIN, q, by)


LIST_COLUMNS = ("petition_id", "received_at", "form", "category", "community", "persons",
                "deadline_at")


def _rows(engine: Engine, *conds) -> list[dict]:
    """Petitions matching the conditions, oldest first, without any petitioner data."""
    p = petitions.c
    stmt = (select(*[p[name] for name in LIST_COLUMNS]).where(*conds)
            .order_by(p.received_at, p.petition_id))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(stmt)]


def collective_list(engine: Engine, q: Query) -> list[dict]:
    """集体访 of the period: persons at or above the threshold."""
    threshold = int(q.settings.get_path("petitions.collective_persons"))
    return _rows(engine, DOMAIN.cohort_filter(q),
                 func.coalesce(petitions.c.persons, 1) >= threshold)


def overdue_list(engine: Engine, q: Query) -> list[dict]:
    """Open petitions past their deadline as of as_of (any registration date, in scope):
    never closed or closed only after as_of; the default deadline where none is given."""
    p = petitions.c
    days = int(q.settings.get_path("petitions.default_deadline_days"))
    return _rows(engine, p.received_at <= q.as_of, *DOMAIN.scope_filter(q),
                 or_(p.closed_at.is_(None), p.closed_at > q.as_of),
                 or_(p.deadline_at < q.as_of,
                     and_(p.deadline_at.is_(None),
                          p.received_at < q.as_of - timedelta(days=days))))

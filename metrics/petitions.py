"""信访 (``petitions.*`` of KPI.md): the petitions domain's declaration to the engine.

Cohort date ``received_at``. A petition without a recorded deadline must be concluded
within ``petitions.default_deadline_days`` (60, the statutory time) of its registration;
``persons`` missing counts 1; ``is_repeat`` / ``is_leapfrog`` missing count as false.
Petitions are a small table (hundreds a year), so the engine's speed options stay off.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, and_, func, or_

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

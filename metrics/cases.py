"""诉求办理 (``cases.*`` of KPI.md): the cases domain's declaration to the engine.

Each count is the sum over the period's cases of a product of per-case 0/1 indicators,
defined once here and used both by the cube and by the 失分工单 list. Cases are the
largest table (a city reports a million a year), so they use both speed options of the
engine: coded keys and date-range lanes. The overdue backlog (not a cohort) is the union
of never-closed and closed-after-as_of cases past their deadline, each part answered from
the ``ix_cases_open`` index alone.

This module needs no pandas: the CLI and the benchmark start fast and small. The tables
the pages show (league table, backlog list, 失分工单) are in ``metrics.case_lists``.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, and_, case

from data.store.schema import cases
from metrics.context import Query
from metrics.engine import Domain, Result, compute as engine_compute
from metrics.sqlfn import flag, seconds_between
from metrics.stats import percentile_of_sorted

SATISFIED = ("满意", "基本满意")
LEVELS = {"社区": "level_community", "街道": "level_street", "上级": "level_escalated"}


def indicators(q: Query) -> dict:
    """Each case's 0/1 indicators as of ``q.as_of`` (KPI.md's definitions, one place)."""
    c = cases.c
    response_s = int(q.settings.get_path("cases.response_hours") * 3600)
    out = {
        "closed": flag(c.closed_at <= q.as_of),  # NULL closed_at: not closed
        "by_deadline": flag(c.closed_at <= c.deadline_at),
        "has_deadline": flag(c.deadline_at.is_not(None)),
        "deadline_passed": flag(c.deadline_at < q.as_of),
        "signed": flag(c.responded_at <= q.as_of),  # a later 签收 has not happened yet
        "responded": flag(and_(c.responded_at <= q.as_of,
                               seconds_between(c.reported_at, c.responded_at) <= response_s)),
        "has_callback": flag(c.satisfaction.is_not(None)),
        "callback_resolved": flag(c.callback_resolved.is_(True)),
        "satisfied": flag(c.satisfaction.in_(SATISFIED)),
    }
    for level, name in LEVELS.items():
        out[name] = flag(c.resolution_level == level)
    return out


COUNTS = {
    "closed": lambda i: i["closed"],
    "on_time_closed": lambda i: i["closed"] * i["by_deadline"],
    "closed_with_deadline": lambda i: i["closed"] * i["has_deadline"],
    "open_past_deadline": lambda i: (1 - i["closed"]) * i["deadline_passed"],
    "responded": lambda i: i["responded"],
    # a case closed without any 签收 has an unknown response (KPI.md): out of both parts
    "response_known": lambda i: 1 - i["closed"] * (1 - i["signed"]),
    "callbacks": lambda i: i["closed"] * i["has_callback"],
    "resolved": lambda i: i["closed"] * i["has_callback"] * i["callback_resolved"],
    "satisfied": lambda i: i["closed"] * i["satisfied"],
    "leveled": lambda i: i["closed"] * (i["level_community"] + i["level_street"]
                                        + i["level_escalated"]),
    "level_community": lambda i: i["closed"] * i["level_community"],
    "level_street": lambda i: i["closed"] * i["level_street"],
    "level_escalated": lambda i: i["closed"] * i["level_escalated"],
}


def closed_seconds(q: Query):
    """Time to close in whole seconds, for closed cases whose duration is not negative."""
    c = cases.c
    return case((and_(c.closed_at <= q.as_of, c.closed_at >= c.reported_at),
                 seconds_between(c.reported_at, c.closed_at)), else_=None)


def past_deadline(q: Query) -> list:
    """Reported by as_of and past the deadline (open-ness and scope are added elsewhere)."""
    return [cases.c.reported_at <= q.as_of, cases.c.deadline_at < q.as_of]


def overdue_open(q: Query) -> list[list]:
    """Open as of as_of and past the deadline: never closed, or closed only after as_of."""
    return [[cases.c.closed_at.is_(None), *past_deadline(q)],
            [cases.c.closed_at > q.as_of, *past_deadline(q)]]


def durations(values, counts, hours: np.ndarray, settings) -> dict:
    return {"cases.median_hours_to_close": percentile_of_sorted(hours, 50),
            "cases.p90_hours_to_close": percentile_of_sorted(hours, 90)}


DOMAIN = Domain(
    name="cases",
    table=cases,
    cohort="reported_at",
    dimensions={"community": "community", "grid": "grid_id", "category": "category",
                "channel": "channel"},
    indicators=indicators,
    counts=COUNTS,
    duration=closed_seconds,
    backlog=overdue_open,
    derived=durations,
    coded_keys=True,
    lanes=True,
)
DIMENSIONS = DOMAIN.breakdowns
CaseResult = Result


def compute(engine: Engine, q: Query, by: tuple[str, ...] = DIMENSIONS) -> Result:
    """Cases figures for the query, overall and for each breakdown in ``by``."""
    return engine_compute(engine, DOMAIN, q, by)


def kpis(engine: Engine, q: Query) -> dict:
    """Only the overall figures (for comparisons and headline tiles)."""
    return compute(engine, q, by=()).kpis


def level_shares(k: dict) -> dict[str, float | None]:
    """Shares of closed cases by the level that resolved them (社区 / 街道 only / 上级),
    from the three level KPIs; the 街道-only share is 大事不出街道 minus 小事不出社区."""
    community, street = k["cases.community_level_share"], k["cases.street_level_share"]
    return {"社区": community,
            "街道": None if street is None else street - community,
            "上级": k["cases.escalated_share"]}

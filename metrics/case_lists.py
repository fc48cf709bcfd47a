"""The 诉求办理 tables a page shows: league table, overdue backlog list, 失分工单.

They build on the figures of ``metrics.cases`` and the generic tables of
``metrics.tables``, and return pandas frames ready to display (no resident data).
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, or_, select

from data.store.schema import cadres, cases
from metrics import roster, tables
from metrics.cases import DOMAIN, past_deadline
from metrics.context import Query
from metrics.engine import Result

RANK_BY = "cases.three_rate_score"


def league_table(result: Result, dim: str, settings) -> pd.DataFrame:
    """Units ranked by 三率综合得分 with each rate's 95 % Wilson interval."""
    return tables.league_table(result, dim, settings, rank_by=RANK_BY)


def overdue_backlog(engine: Engine, q: Query, limit: int = 200) -> pd.DataFrame:
    """The open cases past their deadline as of as_of, most overdue first."""
    c = cases.c
    conds = [*past_deadline(q), *DOMAIN.scope_filter(q),
             or_(c.closed_at.is_(None), c.closed_at > q.as_of)]
    stmt = (select(c.case_id, c.reported_at, c.deadline_at, c.category, c.community,
                   c.grid_id, c.handler_id, roster.visible_name(q).label("handler"))
            .select_from(cases.outerjoin(cadres, cadres.c.cadre_id == c.handler_id))
            .where(*conds).order_by(c.deadline_at, c.case_id).limit(limit))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(),
                          columns=["case_id", "reported_at", "deadline_at", "category",
                                   "community", "grid_id", "handler_id", "handler"])
    if not df.empty:
        overdue = (pd.Timestamp(q.as_of) - pd.to_datetime(df["deadline_at"]))
        df["days_overdue"] = (overdue.dt.total_seconds() / 86400).round(1)
    else:
        df["days_overdue"] = pd.Series(dtype=float)
    return df


def lost_point_cases(engine: Engine, q: Query, community: str | None = None) -> pd.DataFrame:
    """失分工单: the cohort cases that cost points in 三率综合得分 (``points``) or in 按期办结率
    (``on_time_points``, percentage points), with the reasons, costliest first. With a
    ``community``, against that community's score; without, against the score of the
    query's whole scope (the 街道, or the communities chosen), each case with its
    ``community``: the points of all listed cases add up to 100 minus that score. A
    community outside the viewer's (``q.allowed``) raises ``OutOfScope``."""
    c = cases.c
    unit_q = q if community is None else Query(q.period, (community,), q.as_of, q.settings,
                                               q.allowed)
    columns = [c.case_id, c.reported_at, c.category, c.community, c.grid_id, c.handler_id,
               roster.visible_name(q).label("handler")]
    df = tables.lost_points(engine, DOMAIN, unit_q, RANK_BY, ("cases.on_time_rate",), columns,
                            joins=cases.outerjoin(cadres, cadres.c.cadre_id == c.handler_id))
    return df.rename(columns={"cases.on_time_rate:points": "on_time_points"})

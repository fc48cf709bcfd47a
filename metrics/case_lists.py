"""The 诉求办理 tables a page shows: league table, overdue backlog list, 失分工单.

They build on the figures of ``metrics.cases`` and return pandas frames ready to display.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, or_, select

from data.store.schema import cadres, cases
from metrics.case_sql import case_counts, cohort_filter, past_deadline
from metrics.cases import CaseResult
from metrics.context import Query
from metrics.stats import wilson


def league_table(result: CaseResult, dim: str, settings) -> pd.DataFrame:
    """Units ranked by 三率综合得分 with each rate's 95 % Wilson interval.

    Units with fewer than ``min_sample`` cohort cases are kept but get no rank (and a
    reason), so that a tiny community cannot top or bottom the table by chance.
    """
    min_sample = int(settings.get_path("cases.min_sample", 10))
    rows = []
    for unit, k in result.groups.get(dim, {}).items():
        n = result.counts[dim][unit]  # every unit has its counts (zeros for backlog only)
        row = {"unit": unit, **k}
        for key, num, den in (("response", "responded", "total"),
                              ("resolution", "resolved", "callbacks"),
                              ("satisfaction", "satisfied", "callbacks"),
                              ("closure", "closed", "total")):
            ci = wilson(n[num], n[den])
            row[f"{key}_lo"], row[f"{key}_hi"] = ci if ci else (None, None)
        total = n["total"]
        row["ranked"] = total >= min_sample and k["cases.three_rate_score"] is not None
        row["note"] = "" if row["ranked"] else (
            f"样本不足({total} 件 < {min_sample})" if total < min_sample else "无回访数据")
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    ranked = table[table["ranked"]].sort_values("cases.three_rate_score", ascending=False)
    ranked = ranked.assign(rank=range(1, len(ranked) + 1))
    unranked = table[~table["ranked"]].assign(rank=None)
    return pd.concat([ranked, unranked], ignore_index=True)


def overdue_backlog(engine: Engine, q: Query, limit: int = 200) -> pd.DataFrame:
    """The open cases past their deadline as of as_of, most overdue first (no resident data)."""
    c = cases.c
    conds = [*past_deadline(q), or_(c.closed_at.is_(None), c.closed_at > q.as_of)]
    stmt = (select(c.case_id, c.reported_at, c.deadline_at, c.category, c.community,
                   c.grid_id, c.handler_id, cadres.c.name.label("handler"))
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


def lost_point_cases(engine: Engine, q: Query, community: str) -> pd.DataFrame:
    """失分工单: the community's cohort cases that cost points, with how many each costs.

    A case's cost in 三率综合得分 is its share of each rate it fails, times 100 × weight:
    late or no response costs 100·w_r / total; an unresolved callback 100·w_s / callbacks;
    a dissatisfied one 100·w_m / callbacks. Overdue cases cost on 按期办结率 instead, shown
    in percentage points (100 / on-time denominator). The figures add up exactly to the gap
    between the unit's score and 100 (resp. its on-time rate and 100 %).
    """
    unit_q = Query(q.period, (community,), q.as_of, q.settings)
    c = cases.c
    wanted = ("responded", "callbacks", "resolved", "satisfied", "on_time_closed",
              "closed_with_deadline", "open_past_deadline")
    per_case = case_counts(unit_q)
    stmt = (select(c.case_id, c.reported_at, c.category, c.grid_id, c.handler_id,
                   cadres.c.name.label("handler"),
                   *[per_case[n].label(n) for n in wanted])
            .select_from(cases.outerjoin(cadres, cadres.c.cadre_id == c.handler_id))
            .where(cohort_filter(unit_q)))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(),
                          columns=["case_id", "reported_at", "category", "grid_id",
                                   "handler_id", "handler", *wanted])
    df = df.rename(columns={"callbacks": "callback", "on_time_closed": "on_time"})
    df["on_time_den"] = df["closed_with_deadline"] | df["open_past_deadline"]
    df["overdue"] = df["on_time_den"] & (1 - df["on_time"])
    if df.empty:
        return df.assign(problems="", points=0.0, on_time_points=0.0)
    w = q.settings.get_path("cases.weights")
    total, callbacks, on_time_den = len(df), int(df["callback"].sum()), int(df["on_time_den"].sum())
    lost_response = (1 - df["responded"]) * 100 * w["response"] / total
    per_callback = 100 / callbacks if callbacks else 0.0
    lost_resolution = df["callback"] * (1 - df["resolved"]) * per_callback * w["resolution"]
    lost_satisfaction = df["callback"] * (1 - df["satisfied"]) * per_callback * w["satisfaction"]
    df["points"] = lost_response + lost_resolution + lost_satisfaction
    df["on_time_points"] = df["overdue"] * (100 / on_time_den if on_time_den else 0.0)
    problems = []
    for r, res, sat, cb, od in zip(df["responded"], df["resolved"], df["satisfied"],
                                   df["callback"], df["overdue"]):
        p = []
        if not r:
            p.append("未及时响应")
        if cb and not res:
            p.append("回访未解决")
        if cb and not sat:
            p.append("回访不满意")
        if od:
            p.append("超期")
        problems.append("、".join(p))
    df["problems"] = problems
    df = df[df["problems"] != ""]
    return df.sort_values(["points", "on_time_points"], ascending=False).reset_index(drop=True)

"""诉求办理 KPIs (``cases.*`` of KPI.md), overall and by community, grid, category, channel, month.

One SQL pass over the period's cases produces a small *cube* of additive counts keyed by
(community, grid, category, channel, month); every breakdown is a roll-up of that cube in
pandas, so memory follows the number of groups, not of cases. Durations, which are not
additive, come with each cube row in the same pass, as one text of integer seconds per
row (``group_concat`` / ``string_agg``), parsed by numpy: the cases are read once and no
per-case Python object is made. The overdue backlog is a second, small query (it is not a
cohort) that reads only open cases through the ``closed_at`` index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Text, and_, case, func, not_, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from data.schema import cadres, cases
from metrics.context import Query
from metrics.sqlfn import month_of, seconds_between
from metrics.stats import percentile, rate, wilson

DIMENSIONS = ("community", "grid", "category", "channel", "month")
MISSING = "未填"
SATISFIED = ("满意", "基本满意")
LEVELS = {"社区": "level_community", "街道": "level_street", "上级": "level_escalated"}
COUNTS = [
    "total", "closed", "on_time_closed", "closed_with_deadline", "open_past_deadline",
    "responded", "callbacks", "resolved", "satisfied", "leveled",
    "level_community", "level_street", "level_escalated",
]
DURATION_BINS_H = [0, 4, 8, 24, 48, 72, 120, 168, 240, 360, 720, np.inf]
DURATION_LABELS = ["<4小时", "4–8小时", "8–24小时", "1–2天", "2–3天", "3–5天", "5–7天",
                   "7–10天", "10–15天", "15–30天", "30天以上"]


@dataclass
class CaseResult:
    """All cases KPIs of one query: overall, per breakdown, and the duration histogram."""

    kpis: dict[str, float | int | None]
    groups: dict[str, dict[str, dict[str, float | int | None]]] = field(default_factory=dict)
    counts: dict[str, pd.DataFrame] = field(default_factory=dict)  # additive counts per dim
    duration_hist: pd.DataFrame | None = None


def _is_closed(as_of: datetime):
    return and_(cases.c.closed_at.is_not(None), cases.c.closed_at <= as_of)


def _scope_filter(scope):
    return cases.c.community.in_(list(scope)) if scope else None


def _cohort_filter(q: Query):
    conds = [cases.c.reported_at >= q.period.start_dt,
             cases.c.reported_at < q.period.end_exclusive_dt,
             cases.c.reported_at <= q.as_of]
    if q.scope:
        conds.append(_scope_filter(q.scope))
    return and_(*conds)


def _flag(cond):
    return func.sum(case((cond, 1), else_=0))


class int_list_agg(FunctionElement):
    """The non-NULL integers of a group as one comma-separated text (order unspecified)."""

    type = Text()
    inherit_cache = True
    name = "int_list_agg"


@compiles(int_list_agg)
def _int_list_agg_default(element, compiler, **kw):  # SQLite, MySQL / MariaDB
    (value,) = list(element.clauses)
    return "group_concat(%s)" % compiler.process(value, **kw)


@compiles(int_list_agg, "postgresql")
def _int_list_agg_postgresql(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "string_agg(CAST(%s AS TEXT), ',')" % compiler.process(value, **kw)


def case_flags(q: Query) -> dict:
    """Each case's 0/1 conditions behind the additive counts, defined once (cube, 失分工单)."""
    c = cases.c
    closed = _is_closed(q.as_of)
    has_callback = and_(closed, c.satisfaction.is_not(None))
    response_s = int(q.settings.get_path("cases.response_hours", 24) * 3600)
    responded = and_(c.responded_at.is_not(None), c.responded_at <= q.as_of,
                     seconds_between(c.reported_at, c.responded_at) <= response_s)
    flags = {
        "closed": closed,
        "on_time_closed": and_(closed, c.closed_at <= c.deadline_at),
        "closed_with_deadline": and_(closed, c.deadline_at.is_not(None)),
        "open_past_deadline": and_(not_(closed), c.deadline_at < q.as_of),
        "responded": responded,
        "callbacks": has_callback,
        "resolved": and_(has_callback, c.callback_resolved.is_(True)),
        "satisfied": and_(has_callback, c.satisfaction.in_(SATISFIED)),
        "leveled": and_(closed, c.resolution_level.in_(list(LEVELS))),
    }
    for level, name in LEVELS.items():
        flags[name] = and_(closed, c.resolution_level == level)
    return flags


def _cube_statement(q: Query, dialect: str = "default"):
    """One pass over the period's cases: per (community, grid, category, channel, month)
    the additive counts and, as text, the closed cases' durations in whole seconds.

    The per-case flags are computed in a subquery so that the GROUP BY sorts only the keys
    and small integers (SQLite sorts for GROUP BY, and a flattened query would carry every
    timestamp column through its sorter: about 3x slower at a million cases).
    """
    c = cases.c
    closed = _is_closed(q.as_of)
    flags = case_flags(q)
    seconds = case((and_(closed, c.closed_at >= c.reported_at),
                    seconds_between(c.reported_at, c.closed_at)), else_=None)
    keys = [c.community.label("community"), c.grid_id.label("grid"),
            c.category.label("category"), c.channel.label("channel"),
            month_of(c.reported_at).label("month")]
    inner = select(*keys, *[case((cond, 1), else_=0).label(n) for n, cond in flags.items()],
                   seconds.label("seconds")).where(_cohort_filter(q))
    if dialect == "sqlite":  # a LIMIT keeps SQLite from flattening the subquery (see above)
        inner = inner.limit(-1)
    inner = inner.subquery("per_case")
    outer_keys = [inner.c[d] for d in DIMENSIONS]
    return (select(*outer_keys, func.count().label("total"),
                   *[func.sum(inner.c[n]).label(n) for n in flags],
                   int_list_agg(inner.c.seconds).label("seconds"))
            .group_by(*outer_keys))


def _past_deadline(q: Query) -> list:
    """Reported by as_of, deadline passed, within scope (open-ness is added by the caller)."""
    conds = [cases.c.reported_at <= q.as_of, cases.c.deadline_at < q.as_of]
    if q.scope:
        conds.append(_scope_filter(q.scope))
    return conds


def _backlog_statement(q: Query):
    """Open cases past their deadline as of as_of, by unit: two index-friendly parts (never
    closed; closed only after as_of), so no database scans every case ever reported."""
    c = cases.c
    keys = [c.community, c.grid_id.label("grid"), c.category, c.channel]
    base = _past_deadline(q)
    parts = union_all(select(*keys).where(c.closed_at.is_(None), *base),
                      select(*keys).where(c.closed_at > q.as_of, *base)).subquery("open_cases")
    okeys = [parts.c.community, parts.c.grid, parts.c.category, parts.c.channel]
    return select(*okeys, func.count().label("overdue_open")).group_by(*okeys)


def _clean_keys(df: pd.DataFrame, dims) -> pd.DataFrame:
    for dim in dims:
        df[dim] = df[dim].fillna(MISSING).replace("", MISSING).astype(str)
    return df


def _parse_seconds(lists) -> tuple[np.ndarray, np.ndarray]:
    """Per cube row, its comma-separated seconds: (cube row index, seconds) arrays."""
    lengths = np.fromiter((s.count(",") + 1 if s else 0 for s in lists),
                          dtype=np.int64, count=len(lists))
    joined = ",".join(s for s in lists if s)
    seconds = (np.array(joined.split(","), dtype=np.int64) if joined
               else np.zeros(0, dtype=np.int64))
    return np.repeat(np.arange(len(lists), dtype=np.int64), lengths), seconds


def load_cube(engine: Engine, q: Query) -> tuple[pd.DataFrame, np.ndarray, np.ndarray,
                                                  pd.DataFrame]:
    """The additive cube, the closed durations (cube row index, seconds) and the backlog."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect in ("mysql", "mariadb"):  # GROUP_CONCAT is cut at 1 kB by default
            conn.exec_driver_sql("SET SESSION group_concat_max_len = 1073741824")
        rows = conn.execute(_cube_statement(q, dialect)).all()
        backlog = pd.DataFrame(conn.execute(_backlog_statement(q)).all(),
                               columns=["community", "grid", "category", "channel",
                                        "overdue_open"])
    cube_idx, seconds = _parse_seconds([row[-1] for row in rows])
    cube = pd.DataFrame([row[:-1] for row in rows], columns=list(DIMENSIONS) + COUNTS)
    cube[COUNTS] = cube[COUNTS].astype("int64")
    backlog["overdue_open"] = backlog["overdue_open"].astype("int64")
    return (_clean_keys(cube, DIMENSIONS), cube_idx, seconds,
            _clean_keys(backlog, DIMENSIONS[:4]))


def kpis_from_counts(n: dict, hours: np.ndarray, overdue_open: int | None,
                     settings) -> dict[str, float | int | None]:
    """Every cases KPI from one group's additive counts and its closed durations (hours)."""
    w = settings.get_path("cases.weights")
    response = rate(n["responded"], n["total"])
    resolution = rate(n["resolved"], n["callbacks"])
    satisfaction = rate(n["satisfied"], n["callbacks"])
    parts = (response, resolution, satisfaction)
    score = None if any(p is None for p in parts) else 100 * (
        w["response"] * response + w["resolution"] * resolution
        + w["satisfaction"] * satisfaction)
    return {
        "cases.total": int(n["total"]),
        "cases.closed": int(n["closed"]),
        "cases.closure_rate": rate(n["closed"], n["total"]),
        "cases.on_time_closed": int(n["on_time_closed"]),
        "cases.on_time_rate": rate(n["on_time_closed"],
                                   n["closed_with_deadline"] + n["open_past_deadline"]),
        "cases.overdue_open": overdue_open,
        "cases.median_hours_to_close": percentile(hours, 50),
        "cases.p90_hours_to_close": percentile(hours, 90),
        "cases.response_rate": response,
        "cases.callbacks": int(n["callbacks"]),
        "cases.resolution_rate": resolution,
        "cases.satisfaction_rate": satisfaction,
        "cases.three_rate_score": score,
        "cases.community_level_share": rate(n["level_community"], n["leveled"]),
        "cases.street_level_share": rate(n["level_community"] + n["level_street"],
                                         n["leveled"]),
        "cases.escalated_share": rate(n["level_escalated"], n["leveled"]),
    }


def _empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def compute(engine: Engine, q: Query, by: tuple[str, ...] = DIMENSIONS) -> CaseResult:
    """Cases KPIs for the query, overall and for each breakdown in ``by``."""
    cube, cube_idx, seconds, backlog = load_cube(engine, q)
    hours = seconds / 3600.0
    totals = cube[COUNTS].sum().to_dict() if len(cube) else _empty_counts()
    result = CaseResult(kpis=kpis_from_counts(totals, hours, int(backlog["overdue_open"].sum()),
                                              q.settings))
    for dim in by:
        grouped = cube.groupby(dim, sort=True)[COUNTS].sum()
        group_of_row = cube[dim].to_numpy()[cube_idx] if len(cube_idx) else np.array([])
        order = np.argsort(group_of_row, kind="stable") if len(cube_idx) else cube_idx
        sorted_groups, sorted_hours = group_of_row[order], hours[order]
        bounds = {g: (np.searchsorted(sorted_groups, g, "left"),
                      np.searchsorted(sorted_groups, g, "right")) for g in grouped.index}
        if dim == "month":
            overdue = {}
        else:
            overdue = backlog.groupby(dim)["overdue_open"].sum().to_dict()
        out = {}
        for group, row in grouped.iterrows():
            lo, hi = bounds[group]
            out[group] = kpis_from_counts(row.to_dict(), sorted_hours[lo:hi],
                                          None if dim == "month" else int(overdue.get(group, 0)),
                                          q.settings)
        if dim != "month":  # backlog in a unit with no case in the period still shows
            for group, value in overdue.items():
                if group not in out:
                    out[group] = kpis_from_counts(_empty_counts(), np.array([]), int(value),
                                                  q.settings)
        result.groups[dim] = dict(sorted(out.items()))
        result.counts[dim] = grouped
    result.duration_hist = duration_histogram(hours)
    return result


def duration_histogram(hours: np.ndarray) -> pd.DataFrame:
    counts, _ = np.histogram(hours, bins=DURATION_BINS_H)
    return pd.DataFrame({"bin": DURATION_LABELS, "cases": counts.astype(int)})


def kpis(engine: Engine, q: Query) -> dict[str, float | int | None]:
    """Only the overall figures (for comparisons and headline tiles)."""
    return compute(engine, q, by=()).kpis


def league_table(result: CaseResult, dim: str, settings) -> pd.DataFrame:
    """Units ranked by 三率综合得分 with each rate's 95 % Wilson interval.

    Units with fewer than ``min_sample`` cohort cases are kept but get no rank (and a
    reason), so that a tiny community cannot top or bottom the table by chance.
    """
    min_sample = int(settings.get_path("cases.min_sample", 10))
    counts = result.counts.get(dim)
    rows = []
    for unit, k in result.groups.get(dim, {}).items():
        n = counts.loc[unit] if counts is not None and unit in counts.index else None
        row = {"unit": unit, **k}
        for key, num, den in (("response", "responded", "total"),
                              ("resolution", "resolved", "callbacks"),
                              ("satisfaction", "satisfied", "callbacks"),
                              ("closure", "closed", "total")):
            ci = wilson(int(n[num]), int(n[den])) if n is not None else None
            row[f"{key}_lo"], row[f"{key}_hi"] = ci if ci else (None, None)
        total = int(n["total"]) if n is not None else 0
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
    conds = [*_past_deadline(q), or_(c.closed_at.is_(None), c.closed_at > q.as_of)]
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
    flags = case_flags(unit_q)
    stmt = (select(c.case_id, c.reported_at, c.category, c.grid_id, c.handler_id,
                   cadres.c.name.label("handler"),
                   *[case((flags[n], 1), else_=0).label(n) for n in wanted])
            .select_from(cases.outerjoin(cadres, cadres.c.cadre_id == c.handler_id))
            .where(_cohort_filter(unit_q)))
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

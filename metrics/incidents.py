"""治安警情 (``incidents.*`` of KPI.md): the incidents domain's declaration to the engine,
and CompStat.

Cohort date ``occurred_at`` (接警时间); only valid incidents count, everywhere. 万人警情数
divides by the population of the scoped communities (the engine's per-capita kind).

CompStat compares three windows that end on the as_of date — week to date (Monday..),
the last 28 days and year to date — with the same windows 364 days earlier (WTD, 28-day;
same weekdays) or the same dates a year earlier (YTD; 29 February maps to 28 February),
per category and in total. Its score z = 2(√cur − √prior) is approximately standard
normal when both counts are Poisson with the same rate, so |z| ≥ 1 is a change worth a
look and z ≥ 3 a rise that chance rarely explains. All six windows are counted in one
pass over the rows between the earliest window start and as_of.
"""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, case, func, literal, select

from data.ingest.columns import INCIDENT_CATEGORIES
from data.store.schema import incidents
from metrics.context import Query
from metrics.engine import Domain, Result, compute as engine_compute
from metrics.engine.cube import MISSING
from metrics.period import Period, shift_years
from metrics.sqlfn import flag, hour_of, weekday_of
from metrics.stats import relative_change
from metrics.trends import monthly_trend

TOTAL = "TOTAL"
WINDOWS = ("wtd", "d28", "ytd")
FLAGS = ("显著上升", "上升", "平稳", "下降")
LAG = timedelta(days=364)  # 52 weeks: the prior window starts on the same weekday
_TICK = timedelta(microseconds=1)


def valid(q: Query) -> list:
    return [incidents.c.is_valid.is_(True)]


def indicators(q: Query) -> dict:
    c = incidents.c
    return {"criminal": flag(c.category == "刑事"), "public_order": flag(c.category == "治安")}


COUNTS = {"criminal": lambda i: i["criminal"], "public_order": lambda i: i["public_order"]}


def windows(as_of: date) -> dict[str, tuple[Period, Period]]:
    """Each CompStat window ending on the as_of date, with its prior window."""
    wtd = Period(as_of - timedelta(days=as_of.weekday()), as_of)
    d28 = Period(as_of - timedelta(days=27), as_of)
    ytd = Period(date(as_of.year, 1, 1), as_of)
    return {"wtd": (wtd, Period(wtd.start - LAG, wtd.end - LAG)),
            "d28": (d28, Period(d28.start - LAG, d28.end - LAG)),
            "ytd": (ytd, ytd.year_earlier())}


def z_score(cur: int, prior: int) -> float:
    """The Poisson score 2(√cur − √prior)."""
    return 2 * (math.sqrt(cur) - math.sqrt(prior))


def trend_flag(z: float, settings) -> str:
    """显著上升 (z ≥ sharp), 上升 (rise ≤ z < sharp), 平稳 (−rise < z < rise), 下降 (z ≤ −rise)."""
    sharp = settings.get_path("incidents.z_sharp_rise")
    rise = settings.get_path("incidents.z_rise")
    if z >= sharp:
        return FLAGS[0]
    if z >= rise:
        return FLAGS[1]
    return FLAGS[2] if z > -rise else FLAGS[3]


def _segment(column, edges: list[datetime], lo: int, hi: int):
    """The index i of the segment [edges[i], edges[i+1]) holding ``column``, for
    lo <= i < hi, as a balanced CASE: about log2(hi - lo) comparisons a row."""
    if hi - lo == 1:
        return literal(lo)
    mid = (lo + hi) // 2
    return case((column < edges[mid], _segment(column, edges, lo, mid)),
                else_=_segment(column, edges, mid, hi))


def compstat(engine: Engine, q: Query) -> dict:
    """``{category | TOTAL: {wtd|d28|ytd: {cur, prior, change, z, flag}}}`` as of q.as_of,
    for every category of the closed list and any other one counted in a window (未填:
    stored without a category), in scope.

    The six windows' edges cut the time from the earliest window start to as_of into
    disjoint segments; one GROUP BY category × segment counts them, and each window is
    the sum of the segments it covers (a window never ends beyond as_of: a later time
    has not happened yet)."""
    c = incidents.c
    spans = [(p.start_dt, min(p.end_exclusive_dt, q.as_of + _TICK))
             for pair in windows(q.as_of.date()).values() for p in pair]
    edges = sorted({edge for span in spans for edge in span if edge <= q.as_of})
    ends = [*edges[1:], q.as_of + _TICK]
    segment = _segment(c.occurred_at, edges, 0, len(edges)).label("segment")
    conds = [c.occurred_at >= edges[0], c.occurred_at <= q.as_of, *valid(q)]
    if q.scope:
        conds.append(c.community.in_(list(q.scope)))
    rows = select(c.category.label("category"), segment).where(*conds).subquery()
    stmt = select(rows.c.category, rows.c.segment, func.count()).group_by(
        rows.c.category, rows.c.segment)
    per_segment: dict = {}
    with engine.connect() as conn:
        for category, index, n in conn.execute(stmt):
            per_segment.setdefault(category, [0] * len(edges))[int(index)] += int(n)
    covers = [[i for i, (lo, hi) in enumerate(zip(edges, ends)) if start <= lo and hi <= end]
              for start, end in spans]
    counted = {category or MISSING: [sum(counts[i] for i in cover) for cover in covers]
               for category, counts in per_segment.items()}
    counted = {k: v for k, v in counted.items() if any(v) or k in INCIDENT_CATEGORIES}
    categories = [*INCIDENT_CATEGORIES,
                  *sorted(k for k in counted if k not in INCIDENT_CATEGORIES)]
    zero = [0] * (2 * len(WINDOWS))
    table = {cat: counted.get(cat, zero) for cat in categories}
    table[TOTAL] = [sum(col) for col in zip(*table.values())]
    return {cat: {w: _cell(values[2 * i], values[2 * i + 1], q.settings)
                  for i, w in enumerate(WINDOWS)} for cat, values in table.items()}


def _cell(cur: int, prior: int, settings) -> dict:
    z = z_score(cur, prior)
    return {"cur": cur, "prior": prior, "change": relative_change(cur, prior), "z": z,
            "flag": trend_flag(z, settings)}


def hour_weekday(engine: Engine, q: Query) -> list[list[int]]:
    """Valid incidents of the period by weekday (rows, Monday first) and hour (columns)."""
    c = incidents.c
    hour, weekday = hour_of(c.occurred_at).label("hour"), weekday_of(c.occurred_at).label("wd")
    stmt = (select(weekday, hour, func.count()).where(DOMAIN.cohort_filter(q))
            .group_by(weekday, hour))
    grid = [[0] * 24 for _ in range(7)]
    with engine.connect() as conn:
        for wd, h, n in conn.execute(stmt):
            grid[int(wd)][int(h)] = int(n)
    return grid


def locations(engine: Engine, q: Query, limit: int = 20000) -> list[tuple[float, float]]:
    """(lon, lat) of the period's valid incidents that carry coordinates (the newest
    ``limit``; a map needs no more)."""
    c = incidents.c
    stmt = (select(c.lon, c.lat).where(DOMAIN.cohort_filter(q), c.lat.is_not(None),
                                       c.lon.is_not(None))
            .order_by(c.occurred_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [(float(x), float(y)) for x, y in conn.execute(stmt)]


def monthly(engine: Engine, q: Query) -> list[dict]:
    """警情总数 by month of the period, with last year's month and the 12-month average."""
    return monthly_trend(engine, DOMAIN, q, "incidents.total")


def overall(engine: Engine, q: Query) -> dict:
    table = compstat(engine, q)
    return {"incidents.compstat": table, "incidents.trend_flag": table[TOTAL]["d28"]["flag"]}


DOMAIN = Domain(
    name="incidents",
    table=incidents,
    cohort="occurred_at",
    dimensions={"community": "community", "category": "category"},
    indicators=indicators,
    counts=COUNTS,
    where=valid,
    overall=overall,
)


def compute(engine: Engine, q: Query, by: tuple[str, ...] | None = None) -> Result:
    """Incidents figures for the query, overall and for each breakdown in ``by``."""
    return engine_compute(engine, DOMAIN, q, by)

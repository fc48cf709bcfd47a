"""诉求办理 figures (``cases.*`` of KPI.md), overall and by community, grid, category,
channel and month.

One SQL pass over the period's cases produces a small *cube* of additive counts keyed by
(community, grid, category, channel, month); every breakdown is a roll-up of that cube in
numpy, so memory follows the number of groups, not of cases. Durations, which are not
additive, come with each cube row in the same pass, as one text of integer seconds per
row (``group_concat`` / ``string_agg``) parsed by numpy: the cases are read once and no
per-case Python object is made. The period is cut into a few date ranges whose cubes are
computed side by side on separate connections (``app.query_workers``); the overdue
backlog is one more small query (it is not a cohort) that reads only open cases.

This module needs no pandas: the CLI and the benchmark start fast and small. The tables
the pages show (league table, backlog list, 失分工单) are in ``metrics.case_lists``.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from metrics.case_sql import (COUNTS, DIMENSIONS, Dictionaries, backlog_statement,
                              cube_statement, read_dictionaries)
from metrics.context import Query
from metrics.period import Period
from metrics.stats import percentile_of_sorted, rate

MISSING = "未填"
CODED_KEYS = True  # group on one integer per case (metrics.case_sql); False: on five texts
DURATION_BINS_H = [0, 4, 8, 24, 48, 72, 120, 168, 240, 360, 720, np.inf]
DURATION_LABELS = ["<4小时", "4–8小时", "8–24小时", "1–2天", "2–3天", "3–5天", "5–7天",
                   "7–10天", "10–15天", "15–30天", "30天以上"]

Kpis = dict[str, float | int | None]
Units = tuple[np.ndarray, list[str]]  # (unit code per cube row, unit names by code)


@dataclass
class CaseResult:
    """All cases figures of one query: overall, per breakdown unit, and the duration
    histogram. ``counts`` holds each unit's additive counts (the numerators and
    denominators behind its rates, for intervals and explanations)."""

    kpis: Kpis
    groups: dict[str, dict[str, Kpis]] = field(default_factory=dict)
    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    duration_hist: dict[str, int] = field(default_factory=dict)  # bin label -> closed cases


@dataclass
class Cube:
    """The period's cases rolled up by (community, grid, category, channel, month)."""

    dims: dict[str, Units]        # dimension -> its units (empty / NULL: 未填)
    counts: np.ndarray            # cube rows x COUNTS
    duration_row: np.ndarray      # for each closed duration: its cube row
    seconds: np.ndarray           # the closed durations in whole seconds
    backlog_keys: dict[str, list[str]]  # per (community, grid, category, channel) row
    backlog: np.ndarray           # open cases past deadline of that row


def _clean(values) -> list[str]:
    return [v if v else MISSING for v in values]


def _parse_seconds(texts: list[str | None], lengths: np.ndarray) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """The cube rows' comma-separated seconds (``lengths`` of them in each row) as arrays
    (cube row index, seconds)."""
    seconds = np.fromstring(",".join(s for s in texts if s), dtype=np.int64, sep=",")
    if len(seconds) != lengths.sum():
        raise ValueError("duration lists do not match their counts")
    return np.repeat(np.arange(len(texts), dtype=np.int64), lengths), seconds


def _parts(q: Query, n: int) -> list[Query]:
    """The query with its period cut into at most n runs of whole days."""
    days = q.period.days
    n = max(1, min(n, days))
    cuts = [q.period.start + timedelta(days=round(i * days / n)) for i in range(n + 1)]
    return [replace(q, period=Period(cuts[i], cuts[i + 1] - timedelta(days=1)))
            for i in range(n)]


def _workers(engine: Engine, q: Query) -> int:
    """How many connections may work at once: one for an in-memory SQLite (each thread
    would see its own empty database), else ``app.query_workers``."""
    if isinstance(engine.pool, (SingletonThreadPool, StaticPool)):
        return 1
    return max(1, int(q.settings.get_path("app.query_workers", 2)))


# Per database, how a lane's connection is set up for one large aggregate.
LANE_SETUP = {
    "mysql": ["SET SESSION group_concat_max_len = 1073741824"],  # it stops at 1 kB otherwise
    "mariadb": ["SET SESSION group_concat_max_len = 1073741824"],
    # the lanes are the parallelism: each query runs alone, sorts in memory, no JIT
    # (SET LOCAL: only for this transaction, the pooled connection keeps its defaults)
    "postgresql": ["SET LOCAL max_parallel_workers_per_gather = 0",
                   "SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off"],
}


def _fetch(engine: Engine, statements: list) -> list[list]:
    """Run the statements one after another on one connection; their rows."""
    with engine.connect() as conn:
        for setup in LANE_SETUP.get(engine.dialect.name, ()):
            conn.exec_driver_sql(setup)
        return [conn.execute(stmt).all() for stmt in statements]


def _run_all(engine: Engine, lanes: list[list]) -> list[list]:
    """Each lane's statements on its own connection, the lanes side by side; the rows of
    every statement in lane order."""
    if len(lanes) == 1:
        results = [_fetch(engine, lanes[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
            results = list(pool.map(lambda lane: _fetch(engine, lane), lanes))
    return [rows for lane in results for rows in lane]


def _factorize(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes for the values and the distinct values in order of appearance."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values),
                        dtype=np.int64, count=len(values))
    return codes, list(index)


def _month_name(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def _decode(keys: np.ndarray, d: Dictionaries,
            dims: tuple[str, ...]) -> dict[str, Units] | None:
    """Per dimension its units from coded keys; None if a value was not in the dictionary."""
    strides, out = d.strides(), {}
    for dim in dims:
        codes = (keys // strides[dim]) % d.radix(dim)
        if dim == "month":
            names = [_month_name(d.first_month + m) for m in range(d.months)]
        else:
            if (codes == len(d.values[dim]) + 1).any():
                return None
            names = [MISSING, *_clean(d.values[dim])]
        # '' and NULL are both 未填: one unit per name
        used, codes = np.unique(codes, return_inverse=True)
        merged, units = _factorize([names[u] for u in used.tolist()])
        out[dim] = (merged[codes], units)
    return out


def _units(rows: list, d: Dictionaries | None, dims: tuple[str, ...]) -> dict[str, Units] | None:
    """Per dimension its units, from the rows' coded key or text keys (the first columns)."""
    if d is None:
        return {dim: _factorize(_clean(row[i] for row in rows)) for i, dim in enumerate(dims)}
    return _decode(np.array([row[0] for row in rows], dtype=np.int64), d, dims)


def _dictionaries(engine: Engine, q: Query) -> Dictionaries | None:
    with engine.connect() as conn:
        dictionaries = read_dictionaries(conn, q)
    return dictionaries if dictionaries.fits() else None


def load_cube(engine: Engine, q: Query) -> Cube:
    """Run the cube (in date ranges, side by side) and the backlog query; parse them."""
    dialect = engine.dialect.name
    parts = _parts(q, _workers(engine, q))
    d = _dictionaries(engine, q) if CODED_KEYS else None
    while True:
        # one lane per date range; the small backlog query rides in the last
        lanes = [[cube_statement(p, dialect, d)] for p in parts]
        lanes[-1].append(backlog_statement(q, d))
        *cube_parts, backlog_rows = _run_all(engine, lanes)
        rows = [row for part in cube_parts for row in part]
        dims = _units(rows, d, DIMENSIONS)
        backlog_dims = _units(backlog_rows, d, DIMENSIONS[:4])
        if dims is not None and backlog_dims is not None:
            break
        d = None  # a value was written after the dictionaries were read: text keys
    n_keys = 1 if d is not None else len(DIMENSIONS)
    counts = np.array([row[n_keys:-1] for row in rows], dtype=np.int64).reshape(
        len(rows), len(COUNTS))
    duration_row, seconds = _parse_seconds([row[-1] for row in rows],
                                           counts[:, COUNTS.index("timed")])
    return Cube(
        dims=dims, counts=counts, duration_row=duration_row, seconds=seconds,
        backlog_keys={dim: [units[c] for c in codes.tolist()]
                      for dim, (codes, units) in backlog_dims.items()},
        backlog=np.array([row[-1] for row in backlog_rows], dtype=np.int64),
    )


def kpis_from_counts(n: dict, hours: np.ndarray, overdue_open: int | None,
                     settings) -> Kpis:
    """Every cases KPI from one group's additive counts and its closed durations (hours,
    sorted ascending)."""
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
        "cases.median_hours_to_close": percentile_of_sorted(hours, 50),
        "cases.p90_hours_to_close": percentile_of_sorted(hours, 90),
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


def _roll_up(cube: Cube, dim: str, hours: np.ndarray, duration_row: np.ndarray,
             settings) -> tuple[dict, dict]:
    """Figures and additive counts per unit of one dimension (sorted by unit); ``hours``
    are the closed durations sorted ascending and ``duration_row`` their cube rows."""
    codes, units = cube.dims[dim]
    by_unit = np.argsort(codes, kind="stable")
    sizes_rows = np.bincount(codes, minlength=len(units))  # every unit has a cube row
    sums = np.add.reduceat(cube.counts[by_unit], np.cumsum(sizes_rows) - sizes_rows, axis=0) \
        if len(codes) else np.zeros((0, len(COUNTS)), dtype=np.int64)
    # a stable sort by unit keeps each unit's durations sorted, in one slice
    # (small integers: numpy sorts them stably by radix, in linear time)
    unit_of_duration = codes[duration_row].astype(np.int16 if len(units) < 2**15 else np.int64)
    unit_hours = hours[np.argsort(unit_of_duration, kind="stable")]
    sizes = np.bincount(unit_of_duration, minlength=len(units))
    ends = np.cumsum(sizes)
    backlog: dict[str, int] | None = None
    if dim in cube.backlog_keys:
        backlog = {}
        for unit, n in zip(cube.backlog_keys[dim], cube.backlog.tolist()):
            backlog[unit] = backlog.get(unit, 0) + n
    figures, counts = {}, {}
    for i, unit in enumerate(units):
        counts[unit] = dict(zip(COUNTS, sums[i].tolist()))
        figures[unit] = kpis_from_counts(counts[unit], unit_hours[ends[i] - sizes[i]:ends[i]],
                                         None if backlog is None else backlog.get(unit, 0),
                                         settings)
    for unit, n in (backlog or {}).items():  # backlog in a unit without cases in the period
        if unit not in figures:
            counts[unit] = _empty_counts()
            figures[unit] = kpis_from_counts(counts[unit], np.zeros(0), n, settings)
    return dict(sorted(figures.items())), dict(sorted(counts.items()))


def _empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def compute(engine: Engine, q: Query, by: tuple[str, ...] = DIMENSIONS) -> CaseResult:
    """Cases figures for the query, overall and for each breakdown in ``by``."""
    cube = load_cube(engine, q)
    order = np.argsort(cube.seconds)
    hours, duration_row = cube.seconds[order] / 3600.0, cube.duration_row[order]
    totals = dict(zip(COUNTS, cube.counts.sum(axis=0).tolist()))
    result = CaseResult(kpis=kpis_from_counts(totals, hours, int(cube.backlog.sum()),
                                              q.settings),
                        duration_hist=duration_histogram(hours))
    for dim in by:
        result.groups[dim], result.counts[dim] = _roll_up(cube, dim, hours, duration_row,
                                                          q.settings)
    return result


def duration_histogram(hours: np.ndarray) -> dict[str, int]:
    counts, _ = np.histogram(hours, bins=DURATION_BINS_H)
    return dict(zip(DURATION_LABELS, counts.tolist()))


def kpis(engine: Engine, q: Query) -> Kpis:
    """Only the overall figures (for comparisons and headline tiles)."""
    return compute(engine, q, by=()).kpis

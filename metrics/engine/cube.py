"""Run a domain's cube and backlog statements and turn their rows into numpy arrays.

With ``Domain.lanes`` the period is cut into ``app.query_workers`` date ranges whose
cubes run side by side on separate connections; the small backlog query rides in the
last lane, and a domain's ``extra`` counts are worked out beside them. With ``Domain.coded_keys`` the groups come back as integers and are decoded
here; if a value was written after the dictionaries were read, the whole read is redone
with text keys.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from metrics.context import Query
from metrics.engine import sql
from metrics.engine.domain import Domain
from metrics.engine.keys import Dictionaries, read_dictionaries
from metrics.period import Period

MISSING = "未填"  # the unit of an empty or NULL dimension value

Units = tuple[np.ndarray, list[str]]  # (unit code per cube row, unit names by code)

# Per database, how a lane's connection is set up for one large aggregate.
LANE_SETUP = {
    "mysql": ["SET SESSION group_concat_max_len = 1073741824"],  # it stops at 1 kB otherwise
    "mariadb": ["SET SESSION group_concat_max_len = 1073741824"],
    # the lanes are the parallelism: each query runs alone, sorts in memory, no JIT
    # (SET LOCAL: only for this transaction, the pooled connection keeps its defaults)
    "postgresql": ["SET LOCAL max_parallel_workers_per_gather = 0",
                   "SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off"],
}


@dataclass
class Cube:
    """The period's rows rolled up by every breakdown of the domain."""

    dims: dict[str, Units]        # breakdown -> its units (empty / NULL: 未填)
    counts: np.ndarray            # cube rows x Domain.count_names
    duration_row: np.ndarray      # for each duration: its cube row
    seconds: np.ndarray           # the durations in whole seconds
    backlog_keys: dict[str, list[str]]  # per backlog row, its unit of each dimension
    backlog: np.ndarray           # the point-in-time count of that row


def split_period(q: Query, n: int) -> list[Query]:
    """The query with its period cut into at most n runs of whole days."""
    days = q.period.days
    n = max(1, min(n, days))
    cuts = [q.period.start + timedelta(days=round(i * days / n)) for i in range(n + 1)]
    return [replace(q, period=Period(cuts[i], cuts[i + 1] - timedelta(days=1)))
            for i in range(n)]


def workers(engine: Engine, q: Query) -> int:
    """How many connections may work at once: one for an in-memory SQLite (each thread
    would see its own empty database), else ``app.query_workers``."""
    if isinstance(engine.pool, (SingletonThreadPool, StaticPool)):
        return 1
    return max(1, int(q.settings.get_path("app.query_workers")))


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


def _clean(values) -> list[str]:
    return [v if v else MISSING for v in values]


def _factorize(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes for the values and the distinct values in order of appearance."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values),
                        dtype=np.int64, count=len(values))
    return codes, list(index)


def month_name(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def _decode(keys: np.ndarray, d: Dictionaries,
            dims: tuple[str, ...]) -> dict[str, Units] | None:
    """Per dimension its units from coded keys; None if a value was not in the dictionary."""
    strides, out = d.strides(), {}
    for dim in dims:
        codes = (keys // strides[dim]) % d.radix(dim)
        if dim == "month":
            names = [month_name(d.first_month + m) for m in range(d.months)]
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


def _parse_seconds(texts: list[str | None], lengths: np.ndarray) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """The cube rows' comma-separated seconds (``lengths`` of them in each row) as arrays
    (cube row index, seconds)."""
    seconds = np.fromstring(",".join(s for s in texts if s), dtype=np.int64, sep=",")
    if len(seconds) != lengths.sum():
        raise ValueError("duration lists do not match their counts")
    return np.repeat(np.arange(len(texts), dtype=np.int64), lengths), seconds


def _extra_rows(domain: Domain, extra: list) -> list[tuple]:
    """The domain's extra counts as cube rows (text keys, counts, no durations)."""
    names, out = domain.count_names, []
    for keys, counts in extra:
        out.append((*[keys[d] for d in domain.breakdowns],
                    *[counts.get(n, 0) for n in names],
                    *([None] if domain.duration else [])))
    return out


class _Done:
    """An already computed value with a future's ``result()``."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def beside(engine: Engine, q: Query, fn):
    """``fn(engine, q)`` started on its own thread (and so its own connection) when the
    store allows more than one; something with ``result()`` either way."""
    if workers(engine, q) > 1:
        pool = ThreadPoolExecutor(max_workers=1)
        future = pool.submit(fn, engine, q)
        pool.shutdown(wait=False)
        return future
    return _Done(fn(engine, q))


def read_dictionaries_for(engine: Engine, domain: Domain, q: Query) -> Dictionaries | None:
    """The domain's dictionaries, or None when its codes would not fit 64 bits."""
    with engine.connect() as conn:
        dictionaries = read_dictionaries(conn, domain, q)
    return dictionaries if dictionaries.fits() else None


def load_cube(engine: Engine, domain: Domain, q: Query) -> Cube:
    """Run the cube (in date ranges, side by side) and the backlog query; parse them."""
    dialect = engine.dialect.name
    parts = split_period(q, workers(engine, q)) if domain.lanes else [q]
    if domain.extra and domain.coded_keys:
        raise ValueError(f"{domain.name}: extra counts need text keys (coded_keys=False)")
    d = read_dictionaries_for(engine, domain, q) if domain.coded_keys else None
    dims, backlog_dims = domain.breakdowns, tuple(domain.dimensions)
    # counts from outside the rows (text keys only) are worked out side by side with the
    # cube on their own connection, when the store allows more than one
    extra = beside(engine, q, domain.extra) if domain.extra else None
    while True:
        lanes = [[sql.cube_statement(domain, p, dialect, d)] for p in parts]
        if domain.backlog:
            lanes[-1].append(sql.backlog_statement(domain, q, d))
        results = _run_all(engine, lanes)
        cube_parts, backlog_rows = (results[:-1], results[-1]) if domain.backlog \
            else (results, [])
        rows = [row for part in cube_parts for row in part]
        if extra is not None:
            rows += _extra_rows(domain, extra.result())
        units = _units(rows, d, dims)
        backlog_units = _units(backlog_rows, d, backlog_dims)
        if units is not None and backlog_units is not None:
            break
        d = None  # a value was written after the dictionaries were read: text keys
    n_keys = 1 if d is not None else len(dims)
    names = domain.count_names
    counts = np.array([row[n_keys:n_keys + len(names)] for row in rows],
                      dtype=np.int64).reshape(len(rows), len(names))
    if domain.duration:
        duration_row, seconds = _parse_seconds([row[-1] for row in rows],
                                               counts[:, names.index("timed")])
    else:
        duration_row = seconds = np.zeros(0, dtype=np.int64)
    return Cube(
        dims=units, counts=counts, duration_row=duration_row, seconds=seconds,
        backlog_keys={dim: [names_[c] for c in codes.tolist()]
                      for dim, (codes, names_) in backlog_units.items()},
        backlog=np.array([row[-1] for row in backlog_rows], dtype=np.int64),
    )

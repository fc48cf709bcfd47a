"""A domain whose rows come from several sources, with a precedence between them, and
whose counts are split by the values of one dimension.

Benefits are the example: persons come from recipient spells, spending from payments,
relief from grants, all of them alternatively from the monthly statistics, and the
enrolment rate from another table again; every figure exists once per program. A
``Union`` declares its *parts* — ordinary ``Domain`` declarations with the same dimension
names, each counting some of the union's counts — and the engine runs every part's cube
(side by side on ``app.query_workers`` connections) and stacks the rows:

- **precedence**: ``precedence`` ranks the parts' ``provenance`` labels, strongest first.
  A cube row of a weaker source is dropped where a stronger source has a row with the same
  keys (every dimension and the month): for benefits, the recipient list wins over the
  monthly statistics per community × program × month. Parts without provenance (the
  exceptions, the enrolment counts) are never dropped and never cover anything.
- **split**: ``Split(dimension, codes, counts)`` turns the dimension into count names: a
  row with value ``v`` counts its ``counts`` as ``<codes[v]>.<count>`` (persons of 城市低保:
  ``urban_dibao.persons``); the dimension is then no breakdown. Every source's rows also
  count ``from.<provenance>`` (and ``<code>.from.<provenance>``), so pages can say where a
  figure comes from.

How the parts are read (``load_union``): a part with a ``spell`` as a pivot of the
period's months (``sql.spell_statement``: each row read once, its months as CASE columns,
instead of the rows joined with every month), a part declared with ``lanes`` (the largest,
payments) in ``app.query_workers`` runs of whole months; the statements are dealt out to
the lanes, those runs first.

The result is an ordinary ``Cube`` (text keys, no durations), rolled up and turned into
figures by the registry like any domain's.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine

from metrics.context import Query
from metrics.engine import sql
from metrics.engine.cube import Cube, _clean, _factorize, _run_all, workers
from metrics.engine.domain import Domain, months_until
from metrics.period import Period


@dataclass(frozen=True)
class Split:
    dimension: str                 # the dimension whose values become key segments
    codes: Mapping[str, str]       # value -> code (the KPI key segment)
    counts: tuple[str, ...]        # the counts split per value; the others stay whole


@dataclass(frozen=True)
class Union:
    name: str
    parts: tuple[Domain, ...]
    dimensions: tuple[str, ...]    # every part's dimension names (the split one included)
    precedence: tuple[str, ...] = ()
    split: Split | None = None
    stocks: tuple[str, ...] = ()   # counts that are a state (see Domain.stocks), unsplit names
    derived: Callable[..., dict] | None = None
    overall: Callable[..., dict] | None = None
    scope_dimension: str = "community"

    # what the engine reads of every domain
    backlog = None
    duration = None
    coded_keys = False
    lanes = False

    def __post_init__(self):
        for part in self.parts:
            if tuple(part.dimensions) != self.dimensions:
                raise ValueError(f"{self.name}: every part needs the dimensions {self.dimensions}")
            if part.coded_keys or part.backlog or part.duration or part.extra:
                raise ValueError(f"{self.name}: parts are plain row sources")
            if part.lanes and part.spell is None and not part.monthly_cohort:
                raise ValueError(f"{self.name}: a part read in runs of months needs a "
                                 "'YYYY-MM' cohort or a spell")

    @property
    def breakdowns(self) -> tuple[str, ...]:
        split = self.split.dimension if self.split else None
        return (*[d for d in self.dimensions if d != split], "month")

    @property
    def base_counts(self) -> list[str]:
        """Every part's counts (their ``total`` left out), then ``from.<provenance>``."""
        names = dict.fromkeys(n for part in self.parts for n in part.counts)
        names.update({f"from.{label}": None for label in self.precedence})
        return list(names)

    def _split_names(self) -> list[str]:
        if not self.split:
            return []
        return [*self.split.counts, *[f"from.{label}" for label in self.precedence]]

    @property
    def count_names(self) -> list[str]:
        split = self._split_names()
        whole = [n for n in self.base_counts]
        per_value = [f"{code}.{n}" for code in dict.fromkeys(self.split.codes.values())
                     for n in split] if self.split else []
        return [*whole, *per_value]

    @property
    def stock_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.count_names if n.rsplit(".", 1)[-1] in self.stocks
                     and not n.startswith("from.") and ".from." not in n)

    def is_scope_dimension(self, dim: str) -> bool:
        return dim == self.scope_dimension


PIVOT_MONTHS = 60  # a spell part's months per statement (each month adds its count columns)


def month_runs(q: Query, n: int) -> list[Query]:
    """The query cut into at most n runs of whole months (the first and last keep the
    period's own first and last day): a part whose rows are dated by month ('YYYY-MM'
    cohorts, spells) must not see a month in two runs."""
    months = months_until(q)
    n = max(1, min(n, len(months)))
    if n == 1:
        return [q]
    cuts = [round(i * len(months) / n) for i in range(n + 1)]
    runs = []
    for i in range(n):
        first, last = months[cuts[i]], months[cuts[i + 1] - 1]
        y, m = int(last[:4]), int(last[5:])
        start = max(q.period.start, date(int(first[:4]), int(first[5:]), 1))
        end = q.period.end if i == n - 1 else date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
        runs.append(replace(q, period=Period(start, end)))
    return runs


def _jobs(union: Union, q: Query, dialect: str, n_lanes: int) -> list[tuple[int, Query, Any]]:
    """(part index, its query, statement) of every statement to run: a part declared with
    ``lanes`` is read in ``n_lanes`` runs of months (those first, so that they land in
    different lanes), a spell part as a pivot of its months (``sql.spell_statement``, at
    most ``PIVOT_MONTHS`` a statement)."""
    jobs = []
    for i, part in enumerate(union.parts):
        runs = month_runs(q, n_lanes) if part.lanes else [q]
        if part.spell is not None:  # at most PIVOT_MONTHS months (columns) a statement
            runs = [piece for run in runs for piece in month_runs(
                run, -(-len(months_until(run)) // PIVOT_MONTHS))]
        for run in runs:
            statement = sql.spell_statement(part, run, dialect) if part.spell is not None \
                else sql.cube_statement(part, run, dialect)
            jobs.append((i, run, statement))
    return sorted(jobs, key=lambda job: not union.parts[job[0]].lanes)


def load_union(engine: Engine, union: Union, q: Query) -> Cube:
    """Every part's cube (text keys) side by side, stacked, precedence applied, split."""
    dialect = engine.dialect.name
    n_lanes = max(1, workers(engine, q))
    jobs = _jobs(union, q, dialect, n_lanes)
    n_lanes = min(n_lanes, len(jobs))
    lanes: list[list] = [[] for _ in range(n_lanes)]
    for k, (_, _, statement) in enumerate(jobs):
        lanes[k % n_lanes].append(statement)
    results = _run_all(engine, lanes)
    # _run_all returns the statements lane by lane: back to the jobs' order
    order = [k for lane in range(n_lanes) for k in range(len(jobs)) if k % n_lanes == lane]
    by_part: dict[int, list] = {i: [] for i in range(len(union.parts))}
    for k, rows in sorted(zip(order, results), key=lambda pair: pair[0]):
        i, run, _ = jobs[k]
        part = union.parts[i]
        by_part[i] += sql.unpivot(part, run, rows) if part.spell is not None else rows

    base = union.base_counts
    column = {n: j for j, n in enumerate(base)}
    dims = (*union.dimensions, "month")
    keys: list[tuple] = []
    counts: list[np.ndarray] = []
    labels: list[str | None] = []
    for i, part in enumerate(union.parts):
        names = part.count_names  # total first
        for row in by_part[i]:
            values = np.zeros(len(base), dtype=np.int64)
            for j, name in enumerate(names[1:], start=len(dims) + 1):
                values[column[name]] = int(row[j] or 0)
            if part.provenance in union.precedence:
                values[column[f"from.{part.provenance}"]] = 1
            keys.append(tuple(row[:len(dims)]))
            counts.append(values)
            labels.append(part.provenance)

    keep = _precedence(keys, labels, union.precedence)
    keys = [k for k, ok in zip(keys, keep) if ok]
    matrix = (np.array([c for c, ok in zip(counts, keep) if ok], dtype=np.int64)
              .reshape(-1, len(base)))
    if union.split:
        matrix = _split(union, keys, matrix, dims.index(union.split.dimension))
    units = {dim: _factorize(_clean(k[dims.index(dim)] for k in keys))
             for dim in union.breakdowns}
    empty = np.zeros(0, dtype=np.int64)
    return Cube(dims=units, counts=matrix, duration_row=empty, seconds=empty,
                backlog_keys={}, backlog=empty)


def _precedence(keys: list[tuple], labels: list[str | None],
                ranking: tuple[str, ...]) -> list[bool]:
    """Per row, whether it stays: a row of a ranked source stays unless a stronger source
    has a row with the same keys."""
    covered: set[tuple] = set()
    keep = [True] * len(keys)
    for label in ranking:
        mine = [i for i, lab in enumerate(labels) if lab == label]
        for i in mine:
            keep[i] = keys[i] not in covered
        covered.update(keys[i] for i in mine if keep[i])
    return keep


def _split(union: Union, keys: list[tuple], matrix: np.ndarray, at: int) -> np.ndarray:
    """The stacked counts with the split counts moved to ``<code>.<count>`` columns."""
    split, base = union.split, union.base_counts
    names = union.count_names
    out = np.zeros((len(keys), len(names)), dtype=np.int64)
    out[:, :len(base)] = matrix
    position = {n: j for j, n in enumerate(names)}
    moved = union._split_names()
    source = [base.index(n) for n in moved]
    for value, code in split.codes.items():
        rows = np.array([k[at] == value for k in keys], dtype=bool)
        if rows.any():
            target = [position[f"{code}.{n}"] for n in moved]
            out[np.ix_(rows, target)] = matrix[np.ix_(rows, source)]
    return out

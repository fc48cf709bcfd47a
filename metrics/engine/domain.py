"""A domain's declaration to the aggregation engine: what to read and what to count.

Everything the engine needs to know about a domain is here; everything it does with it
(SQL, coded keys, date-range lanes, roll-ups, figures) is the same for every domain.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, DateTime, String, Table, and_, false, literal, or_, select, \
    union_all

from metrics.context import Query
from metrics.sqlfn import month_of

Indicators = Mapping[str, Any]  # name -> SQL expression of one row (0/1 or a small integer)


def _no_filter(q: Query) -> list:
    return []


@dataclass(frozen=True)
class Distinct:
    """A count that is the number of distinct non-NULL values of an indicator within a cube
    group (households among the persons of a community, program and month), not a sum.
    Roll-ups add the groups' values up, so the value must not be shared between groups."""

    value: Callable[[Indicators], Any]


def months_until(q: Query) -> list[str]:
    """The 'YYYY-MM' months the period touches, up to the month of as_of."""
    last = f"{q.as_of:%Y-%m}"
    return [m for m in q.period.months() if m <= last]


def months_table(q: Query):
    """The period's months up to as_of as a one-column table ``month`` (bound texts); the
    same object for the same months, so that a statement's join and keys name one table."""
    return _months_table(tuple(months_until(q)))


_COMPOUND_LIMIT = 400   # SQLite refuses a compound SELECT of more than 500 terms


def _union(parts: list):
    """UNION ALL of the selects, nested in chunks so that no compound exceeds the limit
    (1900-01 … 2100-12 is 2 412 months)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) <= _COMPOUND_LIMIT:
        return union_all(*parts)
    chunks = [_union(parts[i:i + _COMPOUND_LIMIT]).subquery()
              for i in range(0, len(parts), _COMPOUND_LIMIT)]
    return _union([select(chunk.c.month) for chunk in chunks])


@lru_cache(maxsize=256)
def _months_table(months: tuple[str, ...]):
    if not months:
        return select(literal("", String(7)).label("month")).where(false()).subquery("months")
    return _union([select(literal(m, String(7)).label("month")) for m in months]
                  ).subquery("months")


@dataclass(frozen=True)
class Domain:
    """One domain's declaration.

    - ``name``: the key prefix of its KPIs in the registry (``cases``, ``petitions``).
    - ``table`` and ``cohort``: a row belongs to the period by this date or timestamp
      column of ``table``.
    - ``source()``: the FROM clause when rows need a join (attendance joined with cadres
      for their role and community); default ``table``.
    - ``dimensions``: breakdown name -> a column name of ``table`` or a column of the
      source (``month`` of the cohort date is added).
    - ``scope_column``: the column (name or column) the community scope applies to.
    - ``indicators(q)``: per-row SQL values as of ``q.as_of`` (closed, by deadline, ...).
    - ``counts``: additive counts, each the sum over rows of a formula of the indicators;
      ``total`` (rows in the cohort) is always there.
    - ``where(q)``: extra row conditions (incidents: only valid ones).
    - ``duration(q)``: whole seconds per row, NULL when it has none (time to close).
    - ``backlog(q)``: lists of WHERE conditions whose union is the point-in-time set
      counted by the domain's ``point_in_time`` KPI (judged at as_of, not per period).
    - ``derived(values, counts, hours, settings)``: figures the registry cannot derive
      (percentiles of the durations); ``hours`` are sorted ascending.
    - ``overall(engine, q)``: the domain's ``overall`` KPIs, from queries of its own
      (CompStat's windows), for the whole scope only; run beside the cube on its own
      connection when the store allows more than one.
    - ``extra(engine, q)``: counts that do not come from rows of the source — e.g. the
      scheduled workdays of each cadre from the official calendar — as a list of
      ``(keys, counts)``: ``keys`` maps every breakdown (``month`` included) to its value,
      ``counts`` some count names to numbers; the engine adds them to the cube (text keys).
    - ``coded_keys`` / ``lanes``: the speed options for large tables (see the engine).
    - ``spell``: (start, end) month columns ('YYYY-MM' texts; end NULL = open): each row is
      counted once in every month of the period, up to as_of, that the spell covers (a
      recipient active from start to end); the cohort is then unused.
    - ``stocks``: counts that are a state, not a flow (persons receiving a benefit): a
      group's value is its value in the *reference month* — the month of the period's end,
      or of as_of if earlier — and, by month, each month's own.
    - ``provenance``: which source the rows come from (``list``, ``monthly``) when a
      ``metrics.engine.union.Union`` ranks sources; None: not subject to precedence.

    A cohort column holding 'YYYY-MM' texts (a payment's month) puts a row in every period
    that touches its month, up to the month of as_of.
    """

    name: str
    table: Table
    cohort: str
    dimensions: Mapping[str, Any]
    indicators: Callable[[Query], Indicators]
    counts: Mapping[str, Callable[[Indicators], Any]]
    where: Callable[[Query], list] = _no_filter
    duration: Callable[[Query], Any] | None = None
    backlog: Callable[[Query], list[list]] | None = None
    derived: Callable[..., dict] | None = None
    overall: Callable[..., dict] | None = None
    extra: Callable[..., list] | None = None
    source: Callable[[], Any] | None = None
    scope_column: Any = "community"
    coded_keys: bool = False
    lanes: bool = False
    spell: tuple[Any, Any] | None = None
    stocks: tuple[str, ...] = ()
    provenance: str | None = None

    @property
    def stock_names(self) -> tuple[str, ...]:
        return self.stocks

    @property
    def breakdowns(self) -> tuple[str, ...]:
        return (*self.dimensions, "month")

    @property
    def count_names(self) -> list[str]:
        """The cube's count columns, in order (``timed``: rows with a duration)."""
        return ["total", *self.counts, *(["timed"] if self.duration else [])]

    def _col(self, column):
        return self.table.c[column] if isinstance(column, str) else column

    def column(self, dim: str):
        return self._col(self.dimensions[dim])

    @property
    def cohort_column(self):
        return self.table.c[self.cohort]

    @property
    def from_clause(self):
        return self.source() if self.source else self.table

    @property
    def monthly_cohort(self) -> bool:
        """Whether the cohort column holds 'YYYY-MM' texts rather than dates."""
        return self.spell is None and isinstance(self.cohort_column.type, String)

    def rows_from(self, q: Query):
        """The FROM clause of the cube: with a spell, the rows joined with each month of
        the period (up to as_of) that they cover."""
        if self.spell is None:
            return self.from_clause
        start, end = (self._col(c) for c in self.spell)
        months = months_table(q)
        return self.from_clause.join(months, and_(
            start <= months.c.month, or_(end.is_(None), end >= months.c.month)))

    def month_key(self, q: Query):
        """A row's month ('YYYY-MM'): the covered month of a spell, the cohort's month."""
        if self.spell is not None:
            return months_table(q).c.month
        if self.monthly_cohort:
            return self.cohort_column
        return month_of(self.cohort_column)

    def is_scope_dimension(self, dim: str) -> bool:
        """Whether the breakdown is by the scope's column (its units are communities)."""
        return dim in self.dimensions and self.column(dim) is self._col(self.scope_column)

    def scope_filter(self, q: Query) -> list:
        return [self._col(self.scope_column).in_(list(q.scope))] if q.scope else []

    def cohort_filter(self, q: Query):
        """The rows of the period's cohort: dated in the period and by as_of, in scope.
        A date column (not a timestamp) is compared with dates: SQLite keeps dates as
        'YYYY-MM-DD' text, which a timestamp bound would not match."""
        if self.spell is not None:
            start, end = (self._col(c) for c in self.spell)
            months = months_until(q)
            if not months:
                return false()
            return and_(start <= months[-1], or_(end.is_(None), end >= months[0]),
                        *self.scope_filter(q), *self.where(q))
        date = self.cohort_column
        if self.monthly_cohort:
            bounds = [date >= f"{q.period.start:%Y-%m}", date <= f"{q.period.end:%Y-%m}",
                      date <= f"{q.as_of:%Y-%m}"]
        elif isinstance(date.type, Date) and not isinstance(date.type, DateTime):
            bounds = [date >= q.period.start, date <= q.period.end, date <= q.as_of.date()]
        else:
            bounds = [date >= q.period.start_dt, date < q.period.end_exclusive_dt,
                      date <= q.as_of]
        return and_(*bounds, *self.scope_filter(q), *self.where(q))

    def row_counts(self, q: Query) -> dict:
        """Per row, its contribution to each additive count (for lists of rows)."""
        indicators = self.indicators(q)
        return {name: formula(indicators) for name, formula in self.counts.items()}

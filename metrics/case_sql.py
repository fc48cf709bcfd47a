"""The SQL behind the 诉求办理 figures: per-case indicators, the counts made of them, and
the statements that roll them up (the cube) or list open overdue cases (the backlog).

Every count is a product of 0/1 *indicators* of a case (closed, by its deadline, has a
callback, ...), defined once here and used both by the cube and by the 失分工单 list.

The cube groups the period's cases by (community, grid, category, channel, month). Its
keys come in two forms with the same meaning:

- *coded keys* (used): one integer per case, made from each dimension's position in a
  dictionary of the values in the store (read from the indexes in a few milliseconds) and
  the month number. SQLite, and PostgreSQL for a cube of this size, sort to group, and
  sorting one integer costs far less than sorting five texts (the whole cube query: 1.3x
  faster on SQLite, 1.7x on PostgreSQL); the backlog uses the same codes. A value missing
  from the dictionary (a row written after it was read) gets the code
  ``len(values) + 1``; the caller then recomputes with text keys, so the figures are
  exact either way;
- *text keys*: the five values as they are (that fallback, and a check in the tests).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Text, and_, case, func, null, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from data.store.schema import cases
from metrics.context import Query
from metrics.sqlfn import flag, month_number, month_of, seconds_between

DIMENSIONS = ("community", "grid", "category", "channel", "month")
COLUMN_OF = {"community": cases.c.community, "grid": cases.c.grid_id,
             "category": cases.c.category, "channel": cases.c.channel}
SATISFIED = ("满意", "基本满意")
LEVELS = {"社区": "level_community", "街道": "level_street", "上级": "level_escalated"}

# Each additive count of a group: the sum over its cases of a product of indicators.
COUNT_FORMULAS: dict[str, Callable[[Mapping], object]] = {
    "closed": lambda i: i["closed"],
    "on_time_closed": lambda i: i["closed"] * i["by_deadline"],
    "closed_with_deadline": lambda i: i["closed"] * i["has_deadline"],
    "open_past_deadline": lambda i: (1 - i["closed"]) * i["deadline_passed"],
    "responded": lambda i: i["responded"],
    "callbacks": lambda i: i["closed"] * i["has_callback"],
    "resolved": lambda i: i["closed"] * i["has_callback"] * i["callback_resolved"],
    "satisfied": lambda i: i["closed"] * i["satisfied"],
    "leveled": lambda i: i["closed"] * (i["level_community"] + i["level_street"]
                                        + i["level_escalated"]),
    "level_community": lambda i: i["closed"] * i["level_community"],
    "level_street": lambda i: i["closed"] * i["level_street"],
    "level_escalated": lambda i: i["closed"] * i["level_escalated"],
}
COUNTS = ["total", *COUNT_FORMULAS, "timed"]  # timed: closed cases with a duration


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


def scope_filter(scope):
    return cases.c.community.in_(list(scope)) if scope else None


def cohort_filter(q: Query):
    """The cases of the period's cohort: reported in the period and by as_of, in scope."""
    conds = [cases.c.reported_at >= q.period.start_dt,
             cases.c.reported_at < q.period.end_exclusive_dt,
             cases.c.reported_at <= q.as_of]
    if q.scope:
        conds.append(scope_filter(q.scope))
    return and_(*conds)


def past_deadline(q: Query) -> list:
    """Reported by as_of, deadline passed, within scope (open-ness is added by the caller)."""
    conds = [cases.c.reported_at <= q.as_of, cases.c.deadline_at < q.as_of]
    if q.scope:
        conds.append(scope_filter(q.scope))
    return conds


def case_indicators(q: Query) -> dict:
    """Each case's 0/1 indicators as of ``q.as_of`` (KPI.md's definitions, one place)."""
    c = cases.c
    response_s = int(q.settings.get_path("cases.response_hours", 24) * 3600)
    indicators = {
        "closed": flag(c.closed_at <= q.as_of),  # NULL closed_at: not closed
        "by_deadline": flag(c.closed_at <= c.deadline_at),
        "has_deadline": flag(c.deadline_at.is_not(None)),
        "deadline_passed": flag(c.deadline_at < q.as_of),
        "responded": flag(and_(c.responded_at <= q.as_of,
                               seconds_between(c.reported_at, c.responded_at) <= response_s)),
        "has_callback": flag(c.satisfaction.is_not(None)),
        "callback_resolved": flag(c.callback_resolved.is_(True)),
        "satisfied": flag(c.satisfaction.in_(SATISFIED)),
    }
    for level, name in LEVELS.items():
        indicators[name] = flag(c.resolution_level == level)
    return indicators


def case_counts(q: Query) -> dict:
    """Per case, its 0/1 contribution to each additive count (for lists of cases)."""
    indicators = case_indicators(q)
    return {name: formula(indicators) for name, formula in COUNT_FORMULAS.items()}


def _closed_seconds(q: Query):
    """Time to close in whole seconds, for closed cases whose duration is not negative."""
    c = cases.c
    return case((and_(c.closed_at <= q.as_of, c.closed_at >= c.reported_at),
                 seconds_between(c.reported_at, c.closed_at)), else_=None)


@dataclass(frozen=True)
class Dictionaries:
    """Each text dimension's values in the store, and the months of the period."""

    values: dict[str, list[str]]  # non-NULL values, in the database's order
    first_month: int  # year * 12 + month - 1 of the period's start
    months: int

    def radix(self, dim: str) -> int:
        """Codes of a dimension run 0 (NULL), 1..n (values), n + 1 (not in the dictionary)."""
        return self.months if dim == "month" else len(self.values[dim]) + 2

    def strides(self) -> dict[str, int]:
        stride, out = 1, {}
        for dim in reversed(DIMENSIONS):
            out[dim] = stride
            stride *= self.radix(dim)
        return out

    def fits(self) -> bool:
        """Whether the combined code fits a signed 64-bit integer."""
        top = self.strides()[DIMENSIONS[0]] * self.radix(DIMENSIONS[0])
        return top < 2**62


def _distinct_values(conn: Connection, column) -> list[str]:
    """The column's distinct non-NULL values in the database's own order, by a loose index
    scan: one index probe per value (``min(x) WHERE x > previous``) in a recursive CTE,
    a millisecond where ``SELECT DISTINCT`` would read the whole index."""
    values = select(func.min(column).label("v")).cte("dictionary", recursive=True)
    following = select(func.min(column)).where(column > values.c.v).scalar_subquery()
    values = values.union_all(select(following).where(values.c.v.is_not(None)))
    return list(conn.execute(select(values.c.v).where(values.c.v.is_not(None))).scalars())


def read_dictionaries(conn: Connection, q: Query) -> Dictionaries:
    values = {dim: _distinct_values(conn, column) for dim, column in COLUMN_OF.items()}
    first = q.period.start.year * 12 + q.period.start.month - 1
    last = q.period.end.year * 12 + q.period.end.month - 1
    return Dictionaries(values, first, last - first + 1)


def _code(column, values: list[str], first: int = 1):
    """``first + i`` for ``values[i]``, NULL for anything else: a balanced CASE, so a case
    costs log2(n) comparisons instead of n/2. ``values`` are in the database's order (see
    ``_distinct_values``), the order its ``<`` follows."""
    if not values:
        return null()
    if len(values) <= 4:
        return case({v: first + i for i, v in enumerate(values)}, value=column, else_=None)
    mid = len(values) // 2
    return case((column < values[mid], _code(column, values[:mid], first)),
                else_=_code(column, values[mid:], first + mid))


def _coded_key(d: Dictionaries, with_month: bool = True):
    """One integer per case from its dimensions' codes (see the module docstring)."""
    strides = d.strides()
    key = (month_number(cases.c.reported_at) - d.first_month) * strides["month"] \
        if with_month else 0
    for dim, column in COLUMN_OF.items():
        unknown = len(d.values[dim]) + 1
        code = func.coalesce(_code(column, d.values[dim]), case((column.is_(None), 0),
                                                                else_=unknown))
        key = key + code * strides[dim]
    return key


def cube_statement(q: Query, dialect: str, dictionaries: Dictionaries | None = None):
    """One pass over the period's cases: per group the additive counts and, as text, the
    closed cases' durations in whole seconds. Groups are coded keys when ``dictionaries``
    is given (one ``key`` column), else the five text keys.

    The indicators are computed in a subquery so that the sort behind SQLite's GROUP BY
    carries only the key and small integers, not the timestamps (about 3x faster).
    """
    c = cases.c
    indicators = case_indicators(q)
    if dictionaries is not None:
        keys = [_coded_key(dictionaries).label("key")]
    else:
        keys = [c.community.label("community"), c.grid_id.label("grid"),
                c.category.label("category"), c.channel.label("channel"),
                month_of(c.reported_at).label("month")]
    inner = select(*keys, *[expr.label(n) for n, expr in indicators.items()],
                   _closed_seconds(q).label("seconds")).where(cohort_filter(q))
    if dialect == "sqlite":  # a LIMIT keeps SQLite from flattening the subquery (see above)
        inner = inner.limit(-1)
    inner = inner.subquery("per_case")
    outer_keys = [inner.c[k.name] for k in keys]
    return (select(*outer_keys, func.count().label("total"),
                   *[func.sum(f(inner.c)).label(n) for n, f in COUNT_FORMULAS.items()],
                   func.count(inner.c.seconds).label("timed"),
                   int_list_agg(inner.c.seconds).label("seconds"))
            .group_by(*outer_keys))


def backlog_statement(q: Query, dictionaries: Dictionaries | None = None):
    """Open cases past their deadline as of as_of, by (community, grid, category, channel)
    (coded keys when ``dictionaries`` is given): two parts (never closed; closed only after
    as_of) that the ``ix_cases_open`` index answers alone, so no database reads every case
    ever reported."""
    c = cases.c
    if dictionaries is not None:
        keys = [_coded_key(dictionaries, with_month=False).label("key")]
    else:
        keys = [c.community, c.grid_id.label("grid"), c.category, c.channel]
    base = past_deadline(q)
    parts = union_all(select(*keys).where(c.closed_at.is_(None), *base),
                      select(*keys).where(c.closed_at > q.as_of, *base)).subquery("open_cases")
    okeys = [parts.c[k.name] for k in keys]
    return select(*okeys, func.count().label("overdue_open")).group_by(*okeys)

"""The two statements the engine runs for a domain: the cube and the backlog.

The cube groups the period's rows by the domain's breakdowns (coded keys when
dictionaries are given, else the texts and the month) and returns per group every
additive count and, as one text, the durations in whole seconds. The backlog counts the
point-in-time set (e.g. open cases past their deadline) by the same dimensions.
"""
from __future__ import annotations

from sqlalchemy import Text, and_, case, distinct, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from metrics.context import Query
from metrics.engine.domain import Distinct, Domain, months_until
from metrics.engine.keys import Dictionaries, coded_key


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


def _text_keys(domain: Domain, q: Query, with_month: bool = True) -> list:
    keys = [domain.column(dim).label(dim) for dim in domain.dimensions]
    if with_month:
        keys.append(domain.month_key(q).label("month"))
    return keys


def _aggregate(formula, columns):
    """A count over a group: the sum of its formula, or its distinct values (Distinct)."""
    if isinstance(formula, Distinct):
        return func.count(distinct(formula.value(columns)))
    return func.sum(formula(columns))


def cube_statement(domain: Domain, q: Query, dialect: str,
                   dictionaries: Dictionaries | None = None):
    """One pass over the period's rows: per group the additive counts and, as text, the
    durations in whole seconds (when the domain has them).

    The indicators are computed in a subquery so that the sort behind SQLite's GROUP BY
    carries only the key and small integers, not the timestamps.
    """
    keys = ([coded_key(domain, dictionaries).label("key")] if dictionaries is not None
            else _text_keys(domain, q))
    indicators = domain.indicators(q)
    seconds = [domain.duration(q).label("seconds")] if domain.duration else []
    inner = select(*keys, *[expr.label(n) for n, expr in indicators.items()], *seconds) \
        .select_from(domain.rows_from(q)).where(domain.cohort_filter(q))
    if dialect == "sqlite":  # a LIMIT keeps SQLite from flattening the subquery (see above)
        inner = inner.limit(-1)
    inner = inner.subquery("per_row")
    outer_keys = [inner.c[k.name] for k in keys]
    durations = [func.count(inner.c.seconds).label("timed"),
                 int_list_agg(inner.c.seconds).label("seconds")] if domain.duration else []
    return (select(*outer_keys, func.count().label("total"),
                   *[_aggregate(f, inner.c).label(n) for n, f in domain.counts.items()],
                   *durations)
            .group_by(*outer_keys))


def backlog_statement(domain: Domain, q: Query, dictionaries: Dictionaries | None = None):
    """The point-in-time set as of as_of by the domain's dimensions (no month): the union
    of the domain's parts, so that each part can be answered from its own index."""
    keys = ([coded_key(domain, dictionaries, with_month=False).label("key")]
            if dictionaries is not None else _text_keys(domain, q, with_month=False))
    selects = [select(*keys).select_from(domain.from_clause)
               .where(*conds, *domain.scope_filter(q), *domain.where(q))
               for conds in domain.backlog(q)]
    parts = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("point_in_time")
    okeys = [parts.c[k.name] for k in keys]
    return select(*okeys, func.count().label("backlog")).group_by(*okeys)


def spell_statement(domain: Domain, q: Query, dialect: str):
    """A spell domain's cube as a pivot: one pass over the rows whose spell meets the
    period's months (up to as_of), grouped by the dimensions only, with per month every
    count over the rows active in it (``total_<i>``, ``<count>_<i>`` for the i-th month).
    Joining the rows with a months table instead multiplies them by the months and sorts
    the product (on SQLite it also put the months outside and searched the rows once per
    month); here each row is read once and its months are CASE columns. ``unpivot`` turns
    the result into the cube rows the join would give: (dimensions, month, total, counts),
    one per group and month with at least one active row."""
    months = months_until(q)
    start, end = (domain._col(c) for c in domain.spell)
    indicators = domain.indicators(q)
    keys = [domain.column(dim).label(dim) for dim in domain.dimensions]
    inner = select(*keys, *[expr.label(n) for n, expr in indicators.items()],
                   start.label("spell_start"), end.label("spell_end")) \
        .select_from(domain.from_clause).where(domain.cohort_filter(q))
    if dialect == "sqlite":  # keep SQLite from flattening the subquery (see cube_statement)
        inner = inner.limit(-1)
    inner = inner.subquery("per_row")
    outer_keys = [inner.c[k.name] for k in keys]
    columns = []
    for i, month in enumerate(months):
        m = literal(month, inner.c.spell_start.type)
        active = and_(inner.c.spell_start <= m,
                      or_(inner.c.spell_end.is_(None), inner.c.spell_end >= m))
        columns.append(func.sum(case((active, 1), else_=0)).label(f"total_{i}"))
        for name, formula in domain.counts.items():
            if isinstance(formula, Distinct):
                value = func.count(distinct(case((active, formula.value(inner.c)))))
            else:
                value = func.sum(case((active, formula(inner.c)), else_=0))
            columns.append(value.label(f"{name}_{i}"))
    return select(*outer_keys, *columns).group_by(*outer_keys)


def unpivot(domain: Domain, q: Query, rows: list) -> list[tuple]:
    """``spell_statement``'s rows as cube rows (dimensions, month, total, counts)."""
    months = months_until(q)
    n_dims, width = len(domain.dimensions), 1 + len(domain.counts)
    out = []
    for row in rows:
        keys = tuple(row[:n_dims])
        for i, month in enumerate(months):
            values = row[n_dims + i * width:n_dims + (i + 1) * width]
            if values[0]:
                out.append((*keys, month, *values))
    return out

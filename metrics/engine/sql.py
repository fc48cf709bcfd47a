"""The two statements the engine runs for a domain: the cube and the backlog.

The cube groups the period's rows by the domain's breakdowns (coded keys when
dictionaries are given, else the texts and the month) and returns per group every
additive count and, as one text, the durations in whole seconds. The backlog counts the
point-in-time set (e.g. open cases past their deadline) by the same dimensions.
"""
from __future__ import annotations

from sqlalchemy import Text, distinct, func, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from metrics.context import Query
from metrics.engine.domain import Distinct, Domain
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

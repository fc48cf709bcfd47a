"""Portable SQL expressions: one Python name, one meaning on SQLite, PostgreSQL and MySQL.

Timestamps are naive, whole-second values (see data/schema.py), so differences are exact
integers of seconds on every database and percentiles come out identical everywhere.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, cast, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement):
    """``end - start`` in whole seconds (integer); NULL if either is NULL."""

    type = BigInteger()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_between_default(element, compiler, **kw):
    start, end = list(element.clauses)
    expr = cast(func.extract("epoch", end - start), BigInteger)
    return compiler.process(expr, **kw)


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    expr = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
    return compiler.process(expr, **kw)


@compiles(seconds_between, "mysql")
def _seconds_between_mysql(element, compiler, **kw):
    start, end = list(element.clauses)
    return "TIMESTAMPDIFF(SECOND, %s, %s)" % (compiler.process(start, **kw),
                                               compiler.process(end, **kw))


class month_of(FunctionElement):
    """The 'YYYY-MM' month of a date or timestamp."""

    type = String()
    inherit_cache = True
    name = "month_of"


# Raw SQL with inline constants: a bound parameter would make the GROUP BY expression
# differ from the SELECT one, which PostgreSQL rejects.
@compiles(month_of)
def _month_of_default(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "to_char(%s, 'YYYY-MM')" % compiler.process(value, **kw)


@compiles(month_of, "sqlite")
@compiles(month_of, "mysql")
def _month_of_substr(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "substr(%s, 1, 7)" % compiler.process(value, **kw)

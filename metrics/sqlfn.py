"""Portable SQL expressions: one Python name, one meaning on SQLite, PostgreSQL and MySQL.

Timestamps are naive, whole-second values (see data/schema.py), so differences are exact
integers of seconds on every database and percentiles come out identical everywhere.
"""
from __future__ import annotations

import sqlite3

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
    if sqlite3.sqlite_version_info >= (3, 38):  # unixepoch(): the same integers, twice as fast
        expr = func.unixepoch(end) - func.unixepoch(start)
    else:
        expr = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start),
                                                              Integer)
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


class flag(FunctionElement):
    """1 when the condition holds, else 0 (also when it is NULL): an integer to add up."""

    type = Integer()
    inherit_cache = True
    name = "flag"


@compiles(flag)
def _flag_default(element, compiler, **kw):
    (cond,) = list(element.clauses)
    return "CASE WHEN %s THEN 1 ELSE 0 END" % compiler.process(cond, **kw)


@compiles(flag, "sqlite")
def _flag_sqlite(element, compiler, **kw):  # SQLite's comparisons are 1 / 0 / NULL already
    (cond,) = list(element.clauses)
    return "((%s) IS 1)" % compiler.process(cond, **kw)


class month_number(FunctionElement):
    """Months since year 0 of a date or timestamp: year * 12 + month - 1 (an integer)."""

    type = Integer()
    inherit_cache = True
    name = "month_number"


@compiles(month_number)
def _month_number_default(element, compiler, **kw):
    (value,) = list(element.clauses)
    v = compiler.process(value, **kw)
    return ("(CAST(EXTRACT(YEAR FROM %s) AS INTEGER) * 12 "
            "+ CAST(EXTRACT(MONTH FROM %s) AS INTEGER) - 1)" % (v, v))


@compiles(month_number, "sqlite")
def _month_number_sqlite(element, compiler, **kw):
    (value,) = list(element.clauses)
    v = compiler.process(value, **kw)
    return ("(CAST(substr(%s, 1, 4) AS INTEGER) * 12 "
            "+ CAST(substr(%s, 6, 2) AS INTEGER) - 1)" % (v, v))


@compiles(month_number, "mysql")
def _month_number_mysql(element, compiler, **kw):
    (value,) = list(element.clauses)
    v = compiler.process(value, **kw)
    return "(YEAR(%s) * 12 + MONTH(%s) - 1)" % (v, v)


class hour_of(FunctionElement):
    """The hour (0..23) of a timestamp, as an integer."""

    type = Integer()
    inherit_cache = True
    name = "hour_of"


@compiles(hour_of)
def _hour_of_default(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "CAST(EXTRACT(HOUR FROM %s) AS INTEGER)" % compiler.process(value, **kw)


@compiles(hour_of, "sqlite")
def _hour_of_sqlite(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "CAST(substr(%s, 12, 2) AS INTEGER)" % compiler.process(value, **kw)


@compiles(hour_of, "mysql")
def _hour_of_mysql(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "HOUR(%s)" % compiler.process(value, **kw)


class weekday_of(FunctionElement):
    """The weekday of a date or timestamp: 0 = Monday .. 6 = Sunday, as an integer."""

    type = Integer()
    inherit_cache = True
    name = "weekday_of"


@compiles(weekday_of)
def _weekday_of_default(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "(CAST(EXTRACT(ISODOW FROM %s) AS INTEGER) - 1)" % compiler.process(value, **kw)


@compiles(weekday_of, "sqlite")
def _weekday_of_sqlite(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "((CAST(strftime('%%w', %s) AS INTEGER) + 6) %% 7)" % compiler.process(value, **kw)


@compiles(weekday_of, "mysql")
def _weekday_of_mysql(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "WEEKDAY(%s)" % compiler.process(value, **kw)

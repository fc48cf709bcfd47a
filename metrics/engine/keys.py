"""Integer-coded group keys: one integer per row instead of several texts.

SQLite, and PostgreSQL for a cube of this size, sort to group, and sorting one integer
costs far less than sorting five texts. Each dimension's values are read from its index
(a *dictionary*); a row's key combines each dimension's position in its dictionary and
the month number. A value missing from the dictionary (a row written after it was read)
gets the code ``len(values) + 1``; decoding then reports it and the caller recomputes with
text keys, so the figures are exact either way.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, func, null, select

from metrics.context import Query
from metrics.engine.domain import Domain
from metrics.sqlfn import month_number


@dataclass(frozen=True)
class Dictionaries:
    """Each text dimension's values in the store, and the months of the period."""

    dims: tuple[str, ...]         # the breakdowns, ``month`` last
    values: dict[str, list[str]]  # non-NULL values, in the database's order
    first_month: int              # year * 12 + month - 1 of the period's start
    months: int

    def radix(self, dim: str) -> int:
        """Codes of a dimension run 0 (NULL), 1..n (values), n + 1 (not in the dictionary)."""
        return self.months if dim == "month" else len(self.values[dim]) + 2

    def strides(self) -> dict[str, int]:
        stride, out = 1, {}
        for dim in reversed(self.dims):
            out[dim] = stride
            stride *= self.radix(dim)
        return out

    def fits(self) -> bool:
        """Whether the combined code fits a signed 64-bit integer."""
        top = self.strides()[self.dims[0]] * self.radix(self.dims[0])
        return top < 2**62


def distinct_values(conn: Connection, column) -> list[str]:
    """The column's distinct non-NULL values in the database's own order, by a loose index
    scan: one index probe per value (``min(x) WHERE x > previous``) in a recursive CTE,
    a millisecond where ``SELECT DISTINCT`` would read the whole index."""
    values = select(func.min(column).label("v")).cte("dictionary", recursive=True)
    following = select(func.min(column)).where(column > values.c.v).scalar_subquery()
    values = values.union_all(select(following).where(values.c.v.is_not(None)))
    return list(conn.execute(select(values.c.v).where(values.c.v.is_not(None))).scalars())


def read_dictionaries(conn: Connection, domain: Domain, q: Query) -> Dictionaries:
    values = {dim: distinct_values(conn, domain.column(dim)) for dim in domain.dimensions}
    first = q.period.start.year * 12 + q.period.start.month - 1
    last = q.period.end.year * 12 + q.period.end.month - 1
    return Dictionaries(domain.breakdowns, values, first, last - first + 1)


def _code(column, values: list[str], first: int = 1):
    """``first + i`` for ``values[i]``, NULL for anything else: a balanced CASE, so a row
    costs log2(n) comparisons instead of n/2. ``values`` are in the database's order (see
    ``distinct_values``), the order its ``<`` follows."""
    if not values:
        return null()
    if len(values) <= 4:
        return case({v: first + i for i, v in enumerate(values)}, value=column, else_=None)
    mid = len(values) // 2
    return case((column < values[mid], _code(column, values[:mid], first)),
                else_=_code(column, values[mid:], first + mid))


def coded_key(domain: Domain, d: Dictionaries, with_month: bool = True):
    """One integer per row from its dimensions' codes (see the module docstring)."""
    strides = d.strides()
    key = (month_number(domain.cohort_column) - d.first_month) * strides["month"] \
        if with_month else 0
    for dim in domain.dimensions:
        column = domain.column(dim)
        unknown = len(d.values[dim]) + 1
        code = func.coalesce(_code(column, d.values[dim]), case((column.is_(None), 0),
                                                                else_=unknown))
        key = key + code * strides[dim]
    return key

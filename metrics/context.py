"""The arguments every KPI takes: period, scope, as_of and settings, bundled as a Query."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine

from data.store import clock
from data.store.db import data_as_of
from metrics.period import Period
from metrics.settings import Settings, load_settings


@dataclass(frozen=True)
class Query:
    """What to compute: a period, an optional community scope, the as_of moment, settings."""

    period: Period
    scope: tuple[str, ...] = ()
    as_of: datetime | None = None
    settings: Settings | None = None

    def __hash__(self) -> int:  # settings are a dict; queries are compared by their parts
        return hash((self.period, self.scope, self.as_of))

    def with_period(self, period: Period) -> "Query":
        return replace(self, period=period)


def make_query(engine: Engine, period: Period, scope=(), as_of: datetime | None = None,
               settings: Settings | None = None) -> Query:
    """A Query with defaults filled in: as_of = the store's 数据截至, settings from file."""
    if as_of is None:
        as_of = data_as_of(engine) or clock.now()
    return Query(period, tuple(sorted(scope or ())), as_of, settings or load_settings())

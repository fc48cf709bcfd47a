"""The arguments every KPI takes: period, scope, as_of and settings, bundled as a Query."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine

from data.store import clock
from data.store.db import data_as_of
from metrics.access import OutOfScope, restrict
from metrics.period import Period
from metrics.settings import Settings, load_settings


@dataclass(frozen=True)
class Query:
    """What to compute: a period, an optional community scope, the as_of moment, settings.

    ``allowed`` is the viewer's limit (``metrics.access``; None: none): the scope is
    intersected with it when the query is made, so every figure, list, map and roster read
    through a Query stays inside it, whatever a URL or a widget asked for. An empty scope
    becomes ``allowed``; a scope outside it raises ``OutOfScope``. Copies made with
    ``dataclasses.replace`` keep the limit.
    """

    period: Period
    scope: tuple[str, ...] = ()
    as_of: datetime | None = None
    settings: Settings | None = None
    allowed: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.allowed is not None:
            object.__setattr__(self, "allowed", tuple(self.allowed))
        object.__setattr__(self, "scope", restrict(self.scope, self.allowed))

    def __hash__(self) -> int:  # settings are a dict; queries are compared by their parts
        return hash((self.period, self.scope, self.as_of, self.allowed))

    def with_period(self, period: Period) -> "Query":
        return replace(self, period=period)


def make_query(engine: Engine, period: Period, scope=(), as_of: datetime | None = None,
               settings: Settings | None = None,
               allowed: tuple[str, ...] | None = None) -> Query:
    """A Query with defaults filled in: as_of = the store's 数据截至, settings from file;
    ``allowed``: the viewer's communities (None: all)."""
    if as_of is None:
        as_of = data_as_of(engine) or clock.now()
    return Query(period, tuple(sorted(scope or ())), as_of, settings or load_settings(),
                 allowed)


__all__ = ["OutOfScope", "Query", "make_query"]

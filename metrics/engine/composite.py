"""A composite domain: figures made from other domains' results rather than from rows.

Cadre appraisal is the example: each cadre's score combines the attendance rate, the log
rate and the rates of the cases the cadre handled, each of which is a domain's figure by
cadre. A composite declares its name (the key prefix of its KPIs), the breakdowns it
offers and ``combine(engine, q, by, known)``, which returns a ``Result`` like any domain.
``known`` holds results already computed for the same query (name -> Result), so that a
report that computes attendance by cadre anyway does not compute it twice; ``inputs``
names the domains a composite reads, so a caller can compute them first.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from metrics.context import Query


@dataclass(frozen=True)
class Composite:
    name: str
    breakdowns: tuple[str, ...]
    combine: Callable[[Engine, Query, tuple[str, ...], Mapping], object]
    inputs: tuple[str, ...] = ()

    # what callers that iterate over every domain read (no rows, hence no counts)
    count_names: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    backlog = None
    coded_keys = False
    lanes = False


def reusable(known: Mapping | None, name: str, dim: str):
    """A known result of domain ``name`` that holds the breakdown ``dim``, else None."""
    result = (known or {}).get(name)
    return result if result is not None and dim in result.groups else None

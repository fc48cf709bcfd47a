"""Every domain's KPIs for one query, in the CLI's JSON shape; the CLI and exports use this."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from metrics.context import Query
from metrics.domains import DOMAINS
from metrics.engine import compute

# Every breakdown some domain offers, in a stable order.
BREAKDOWNS = tuple(dict.fromkeys(b for d in DOMAINS.values() for b in d.breakdowns))


def kpi_report(engine: Engine, q: Query, by: str | None = None,
               only: tuple[str, ...] | None = None) -> dict:
    """``{"period", "as_of", "scope", "kpis", "groups"?}`` with keys exactly as in KPI.md,
    for every domain (or those in ``only``); ``groups`` by ``by`` where a domain offers it."""
    report = {
        "period": {"start": q.period.start.isoformat(), "end": q.period.end.isoformat()},
        "as_of": q.as_of.isoformat(timespec="seconds") if isinstance(q.as_of, datetime)
        else q.as_of,
        "scope": list(q.scope),
        "kpis": {},
    }
    groups: dict[str, dict] = {}
    known: dict = {}  # results so far, for composite domains built from them (appraisal)
    for name, domain in DOMAINS.items():
        if only and name not in only:
            continue
        wanted = (by,) if by and by in domain.breakdowns else ()
        result = compute(engine, domain, q, by=wanted, known=known)
        known[name] = result
        report["kpis"].update(result.kpis)
        for group, values in result.groups.get(by, {}).items():
            groups.setdefault(group, {}).update(values)
    if by:
        report["groups"] = groups
    return report

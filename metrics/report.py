"""Every domain's KPIs for one query, in the CLI's JSON shape; the CLI and exports use this."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from metrics import cases
from metrics.context import Query

# Each domain: (breakdowns it offers, compute(engine, query, by) -> result with .kpis/.groups)
DOMAINS = {
    "cases": (cases.DIMENSIONS, cases.compute),
}
BREAKDOWNS = ("community", "grid", "category", "channel", "month")


def kpi_report(engine: Engine, q: Query, by: str | None = None) -> dict:
    """``{"period", "as_of", "scope", "kpis", "groups"?}`` with keys exactly as in KPI.md."""
    report = {
        "period": {"start": q.period.start.isoformat(), "end": q.period.end.isoformat()},
        "as_of": q.as_of.isoformat(timespec="seconds") if isinstance(q.as_of, datetime)
        else q.as_of,
        "scope": list(q.scope),
        "kpis": {},
    }
    groups: dict[str, dict] = {}
    for dims, compute in DOMAINS.values():
        wanted = (by,) if by and by in dims else ()
        result = compute(engine, q, by=wanted)
        report["kpis"].update(result.kpis)
        for group, values in result.groups.get(by, {}).items():
            groups.setdefault(group, {}).update(values)
    if by:
        report["groups"] = groups
    return report

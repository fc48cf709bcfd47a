"""The big screen's figures (指挥中心大屏): one model of every slide, aggregates only.

``model(engine, as_of, settings)`` computes everything the slides show in one go, so one
computation (cached by the page) serves every open screen. It holds numbers per domain,
per community, per category, per month and per hour — never a name of a resident or a
cadre, an ID or a case text. ``alerts`` turns it into the rules that interrupt the
rotation; ``rotation`` orders the slides with their dwell times.

Periods: tiles compare this month to date with the period of equal length just before it
(环比, as on every page) and with the same dates a year earlier (同比); trends show the last 24 months; rankings,
mixes and the heat map are year to date; attendance is the as_of day, or the last
workday before it on a day off; benefits are the civil-affairs monthly report of the month
of as_of (metrics.benefits_report).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from data.ingest.boundaries import load_boundaries
from data.store import clock
from data.store.db import tables_as_of
from data.store.notices import current_notices
from metrics import alerts as rules
from metrics import benefits_report, calendar, case_lists, incidents, petitions
from metrics.compare import changes
from metrics.context import Query
from metrics.domains import DOMAINS
from metrics.engine import compute
from metrics.period import Period
from metrics.registry import REGISTRY, meets_target, target
from metrics.slides import ALERT, SLIDES
from metrics.trends import monthly_trend

#: The overview's tiles: (domain, KPI key), in reading order.
TILES = (("cases", "cases.total"), ("cases", "cases.closure_rate"),
         ("cases", "cases.satisfaction_rate"), ("cases", "cases.overdue_open"),
         ("petitions", "petitions.total"), ("petitions", "petitions.collective"),
         ("incidents", "incidents.total"), ("incidents", "incidents.per_10k"),
         ("benefits", "benefits.urban_dibao.persons"), ("benefits", "benefits.rural_dibao.persons"))
#: The map's figures per community, in its tooltips (height and colour by the first).
MAP_KEYS = ("incidents.per_10k", "incidents.total", "cases.total", "cases.closure_rate")


def last_workday(day: date, back: int = 15) -> date:
    """The day itself when it is a workday, else the latest workday before it."""
    for i in range(back):
        if calendar.is_workday(day - timedelta(days=i)):
            return day - timedelta(days=i)
    return day


@dataclass(frozen=True)
class Periods:
    """The screen's periods ending on a day: month and year to date, the last 24 months."""

    month: Period
    year: Period
    months24: Period

    @classmethod
    def ending(cls, day: date) -> "Periods":
        first = date(day.year, day.month, 1)
        index = day.year * 12 + day.month - 1 - 23
        return cls(Period(first, day), Period(date(day.year, 1, 1), day),
                   Period(date(index // 12, index % 12 + 1, 1), day))


def _tile(key: str, now: dict, prev: dict, year_ago: dict, settings) -> dict:
    kpi = REGISTRY[key]
    point = kpi.point_in_time
    return {"key": key, "value": now.get(key),
            "mom": None if point else changes({key: now.get(key)}, prev).get(key),
            "yoy": None if point else changes({key: now.get(key)}, year_ago).get(key),
            "met": meets_target(key, now.get(key), settings)}


def _records(frame) -> list[dict]:
    """A frame's rows as dicts, a missing value as None (not NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def score_misses(counts: dict) -> dict[str, int]:
    """Per part of 三率综合得分, named by what it misses (未及时响应, 回访未解决, …): the rows
    in the part's denominator but not its numerator, i.e. the cases that cost points."""
    score = REGISTRY[case_lists.RANK_BY]
    def total(names) -> int:
        return sum(int(counts[c]) for c in names)

    return {REGISTRY[p].miss or REGISTRY[p].label: total(REGISTRY[p].den) - total(REGISTRY[p].num)
            for p in score.parts}


def model(engine: Engine, as_of: datetime, settings) -> dict:
    """Every slide's figures as of ``as_of`` for the whole 街道 (see the module docstring)."""
    p = Periods.ending(as_of.date())

    def q(period: Period) -> Query:
        return Query(period, (), as_of, settings)

    def run(domain: str, period: Period, by=()):
        return compute(engine, DOMAINS[domain], q(period), by=by)

    month = {d: run(d, p.month) for d in ("cases", "petitions", "incidents", "benefits")}
    prev = {d: run(d, p.month.previous()).kpis for d in month}
    year_ago = {d: run(d, p.month.year_earlier()).kpis for d in month}
    year = {"cases": run("cases", p.year, ("community", "category", "channel")),
            "petitions": run("petitions", p.year, ("form", "community")),
            "incidents": run("incidents", p.year, ("community", "category"))}
    workday = last_workday(as_of.date())
    today = run("attendance", Period(workday, workday), ("community",))

    ranking = case_lists.league_table(year["cases"], "community", settings)
    cases_groups = year["cases"].groups.get("community", {})
    backlog = [{"community": unit,
                "overdue_open": figures.get("cases.overdue_open") or 0,
                "lost": (100 - figures[case_lists.RANK_BY])
                if figures.get(case_lists.RANK_BY) is not None else None,
                "misses": sum(score_misses(year["cases"].counts["community"][unit]).values())}
               for unit, figures in cases_groups.items()]
    backlog.sort(key=lambda r: (-r["overdue_open"], -(r["lost"] or 0)))

    attendance = [{"community": unit, "scheduled": int(n["scheduled"]),
                   "present": int(n["present"]), "on_duty": int(n["missing_checkout"])}
                  for unit, n in today.counts.get("community", {}).items()]
    attendance.sort(key=lambda r: -r["scheduled"])

    by_domain = {d: year[d].groups.get("community", {}) for d in ("cases", "incidents")}
    units = sorted(set().union(*by_domain.values()))
    figures = {u: {k: by_domain[REGISTRY[k].domain].get(u, {}).get(k) for k in MAP_KEYS}
               for u in units}

    month_key = benefits_report.month_of(as_of.date())
    report = {name: run("benefits", period)
              for name, period in benefits_report.report_periods(month_key, as_of).items()}
    collective = petitions.collective_list(engine, q(Period(as_of.date() - timedelta(days=6),
                                                            as_of.date())))
    return {
        "as_of": as_of,
        "periods": p,
        "tiles": [_tile(key, month[d].kpis, prev[d], year_ago[d], settings) for d, key in TILES],
        "attendance_total": {k: sum(r[k] for r in attendance)
                             for k in ("scheduled", "present", "on_duty")},
        "attendance": attendance,
        "attendance_day": workday,
        "attendance_live": workday == as_of.date(),
        "cases_trend": monthly_trend(engine, DOMAINS["cases"], q(p.months24), "cases.total"),
        "closure_trend": monthly_trend(engine, DOMAINS["cases"], q(p.months24),
                                       "cases.closure_rate"),
        "cases_mix": {dim: {u: f["cases.total"] for u, f in year["cases"].groups[dim].items()
                            if f["cases.total"]} for dim in ("category", "channel")},
        "ranking": ranking,
        "backlog": backlog,
        "miss_reasons": score_misses(year["cases"].totals),
        "petitions_trend": monthly_trend(engine, DOMAINS["petitions"], q(p.months24),
                                         "petitions.total"),
        "petitions_year": year["petitions"].kpis,
        "petitions_forms": {u: f["petitions.total"]
                            for u, f in year["petitions"].groups["form"].items()},
        "collective_week": [{k: r[k] for k in ("received_at", "community", "persons", "form",
                                               "category")} for r in collective],
        "compstat": month["incidents"].kpis["incidents.compstat"],
        "hour_weekday": incidents.hour_weekday(engine, q(p.year)),
        "map_figures": figures,
        "outlines": load_boundaries(engine),
        "points": incidents.locations(engine, q(p.year), limit=5000),
        "benefits_month": month_key,
        "benefits_report": _records(benefits_report.report_frame(report)),
        "benefits_exceptions": report["cur"].kpis["benefits.exceptions"],
        "notices": current_notices(engine, as_of.date()),
        "tables_as_of": tables_as_of(engine),
    }


def alerts(m: dict, settings) -> list[rules.Alert]:
    """The rules that interrupt the rotation: an incident category at 显著上升 over 28
    days, a collective petition in the last 7 days, the overdue backlog above its target."""
    out = rules.compstat_alerts(m["compstat"])
    out += rules.collective_alerts(m["collective_week"], m["as_of"])
    overdue = next(t["value"] for t in m["tiles"] if t["key"] == "cases.overdue_open")
    if meets_target("cases.overdue_open", overdue, settings) is False:
        goal = target("cases.overdue_open", settings)
        out.append(("urgent", f"超期未办结工单 {overdue} 件, 超过目标上限 {goal} 件, 请督办。"))
    return out


def dwell(slide: str, settings, override: int | None = None) -> int:
    """Seconds a slide shows: the URL's override, else its own setting, else the default."""
    if override:
        return override
    if slide == ALERT.id:
        return int(settings.get_path("bigscreen.alert_seconds"))
    own = int(settings.get_path(f"bigscreen.dwell.{slide}"))
    return own or int(settings.get_path("bigscreen.rotate_seconds"))


def rotation(settings, alerting: bool) -> list[str]:
    """The slides of one cycle: the alert slide first while a rule breaks, then the
    playlist."""
    playlist = [s for s in settings.get_path("bigscreen.playlist") if s in SLIDES]
    return ([ALERT.id] if alerting else []) + playlist


def next_slide(state: dict, settings, alert_keys: frozenset) -> str:
    """Advance a screen's rotation (``state``: its queue and the alerts it has seen) and
    return the slide to show now. A rule that breaks and was not breaking before puts the
    alert slide next; while any rule breaks, the alert slide opens every cycle; a queued
    alert slide is skipped once no rule breaks."""
    alerting = bool(alert_keys)
    queue = state.setdefault("queue", [])
    if not queue:
        queue.extend(rotation(settings, alerting))
    if alert_keys - state.get("seen", frozenset()) and queue[:1] != [ALERT.id]:
        queue[:] = [ALERT.id, *(s for s in queue if s != ALERT.id)]
    state["seen"] = alert_keys
    while True:
        if not queue:
            queue.extend(rotation(settings, alerting))
        slide = queue.pop(0)
        if slide != ALERT.id or alerting:
            return slide


def age_hours(stamp: datetime | None, now: datetime | None = None) -> float | None:
    """Hours since a data time (None without one)."""
    if stamp is None:
        return None
    now = clock.to_local(now) if now else clock.now()
    return max((now - clock.to_local(stamp)).total_seconds() / 3600, 0.0)

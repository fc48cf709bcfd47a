"""干部考勤 (``attendance.*`` of KPI.md): the attendance domain's declaration to the engine.

Rows are attendance records (one per cadre and day) joined with the roster for role and
community; the cohort date is ``day``. A record counts as *present* on a workday (the
official calendar, ``metrics.calendar``, passed to SQL as a bound list of the period's
workdays) while its cadre is active, with a check-in not after as_of. Scheduled days are
not rows: they come per cadre and month from the roster and the calendar
(``metrics.roster.scheduled``, the engine's ``extra``), and so do the absent days, which
start from the scheduled days and lose one per present day.

Work hours come from settings: a check-in strictly after ``work_start`` + grace is late
(08:30:00 is on time, 08:30:01 late), a check-out strictly before ``work_end`` − grace an
early leave. Times are compared in whole seconds from the start of the record's day, the
same integers on every database (``metrics.sqlfn.seconds_between``).

Besides the figures: each day's status for one cadre (the page's calendar) from the same
per-row counts, and check-ins far from the cadre's community (its outline's centroid).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, and_, case, literal_column, select

from data.ingest.boundaries import load_boundaries
from data.store.schema import attendance, cadres
from metrics import calendar, geo, roster
from metrics.context import Query
from metrics.engine import Domain, Result, compute as engine_compute
from metrics.sqlfn import flag, seconds_between


def indicators(q: Query) -> dict:
    """Each record's indicators as of ``q.as_of`` (KPI.md's definitions, one place)."""
    a = attendance.c
    s = q.settings
    grace = int(s.get_path("attendance.grace_minutes")) * 60
    start = roster.hhmm_seconds(s.get_path("attendance.work_start")) + grace
    end = roster.hhmm_seconds(s.get_path("attendance.work_end")) - grace
    workdays = calendar.workdays(q.period.start, roster.last_day(q))
    return {
        "zero": literal_column("0"),
        "workday": flag(a.day.in_(workdays)),
        "active": flag(roster.active_on(a.day)),
        "checked_in": flag(a.check_in_at <= q.as_of),    # NULL or later: no check-in
        "checked_out": flag(a.check_out_at <= q.as_of),
        "late": flag(seconds_between(a.day, a.check_in_at) > start),
        "early": flag(seconds_between(a.day, a.check_out_at) < end),
        # time on duty; a check-out before the check-in (a data fault) has none
        "both_ok": flag(a.check_out_at >= a.check_in_at),
        "field_seconds": case((a.check_out_at >= a.check_in_at,
                               seconds_between(a.check_in_at, a.check_out_at)),
                              else_=literal_column("0")),
    }


def _present(i):
    return i["workday"] * i["active"] * i["checked_in"]


COUNTS = {
    "scheduled": lambda i: i["zero"],   # from the roster and the calendar (extra)
    "present": _present,
    # every scheduled day is absent (extra) unless the cadre checked in on it
    "absent": lambda i: -_present(i),
    "late": lambda i: _present(i) * i["late"],
    "early_leave": lambda i: _present(i) * i["checked_out"] * i["early"],
    "missing_checkout": lambda i: _present(i) * (1 - i["checked_out"]),
    "offday_checkins": lambda i: (1 - i["workday"]) * i["checked_in"],
    "field_days": lambda i: _present(i) * i["checked_out"] * i["both_ok"],
    "field_seconds": lambda i: _present(i) * i["checked_out"] * i["field_seconds"],
}


def scheduled(engine: Engine, q: Query) -> list:
    return roster.scheduled(engine, q, names=("scheduled", "absent"))


def field_hours(values, counts, hours, settings) -> dict:
    days = counts["field_days"]
    return {"attendance.avg_field_hours": counts["field_seconds"] / days / 3600 if days
            else None}


DOMAIN = Domain(
    name="attendance",
    table=attendance,
    cohort="day",
    dimensions=roster.dimensions(attendance),
    indicators=indicators,
    counts=COUNTS,
    derived=field_hours,
    extra=scheduled,
    source=lambda: roster.joined(attendance),
    scope_column=roster.SCOPE_COLUMN,
    lanes=True,   # a city's cadres: the month's rows in date ranges side by side
)
DIMENSIONS = DOMAIN.breakdowns


def compute(engine: Engine, q: Query, by: tuple[str, ...] | None = None) -> Result:
    """Attendance figures for the query, overall and for each breakdown in ``by``."""
    return engine_compute(engine, DOMAIN, q, by)


def calendar_warning(q: Query) -> str | None:
    """The warning to show when the period leaves the official calendar's years."""
    return calendar.coverage_warning(q.period.start, q.period.end)


# ------------------------------------------------------------------------ one cadre's days

STATUSES = ("出勤", "迟到", "早退", "未签退", "缺勤", "休息日", "非工作日打卡", "未在岗")


@dataclass(frozen=True)
class Day:
    day: date
    status: str
    check_in_at: datetime | None = None
    check_out_at: datetime | None = None
    holiday: str | None = None


def cadre_days(engine: Engine, q: Query, cadre_id: str) -> list[Day]:
    """Each day of the period up to as_of for one cadre, with its status from the same
    per-row counts as the figures: 缺勤 (a scheduled day without check-in), 迟到, 早退,
    未签退 (in this order when several apply), 出勤, 非工作日打卡, 休息日 (a day off), 未在岗
    (a workday before joining or after leaving)."""
    who = roster.require(engine, q, cadre_id)
    if who is None:
        return []
    per_row = DOMAIN.row_counts(q)
    names = ("present", "late", "early_leave", "missing_checkout", "offday_checkins")
    a = attendance.c
    stmt = (select(a.day, a.check_in_at, a.check_out_at, *[per_row[n].label(n) for n in names])
            .select_from(DOMAIN.from_clause)
            .where(DOMAIN.cohort_filter(q), a.cadre_id == cadre_id))
    with engine.connect() as conn:
        rows = {_as_date(r.day): r for r in conn.execute(stmt)}
    scheduled_days = set(roster.scheduled_days(who, q.period.start, roster.last_day(q)))
    out = []
    for d in calendar.days(q.period.start, roster.last_day(q)):
        r = rows.get(d)
        shown_in = r.check_in_at if r is not None and r.check_in_at and \
            r.check_in_at <= q.as_of else None
        shown_out = r.check_out_at if r is not None and r.check_out_at and \
            r.check_out_at <= q.as_of else None
        if d in scheduled_days:
            if r is None or not r.present:
                status = "缺勤"
            elif r.late:
                status = "迟到"
            elif r.early_leave:
                status = "早退"
            elif r.missing_checkout:
                status = "未签退"
            else:
                status = "出勤"
        elif r is not None and r.offday_checkins:
            status = "非工作日打卡"
        elif calendar.is_workday(d):
            status = "未在岗"
        else:
            status = "休息日"
        out.append(Day(d, status, shown_in, shown_out, calendar.holiday_name(d)))
    return out


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# ------------------------------------------------------------------------ far check-ins

def community_centres(engine: Engine) -> dict[str, tuple[float, float]]:
    """(lat, lon) of each community's outline centroid (communities without an outline
    are left out)."""
    out = {}
    for name, geometry in load_boundaries(engine).items():
        point = geo.centroid(geometry)
        if point is not None:
            out[name] = point
    return out


def far_checkins(engine: Engine, q: Query) -> list[dict]:
    """Check-ins of the period farther than ``attendance.max_distance_km`` from the centroid
    of the cadre's community outline, farthest first. Records without coordinates, cadres
    without a community (街道干部) and communities without an outline are skipped."""
    limit = float(q.settings.get_path("attendance.max_distance_km"))
    centres = community_centres(engine)
    if not centres:
        return []
    a, c = attendance.c, cadres.c
    stmt = (select(a.cadre_id, c.name, c.role, c.community, a.day, a.check_in_at, a.lat, a.lon)
            .select_from(DOMAIN.from_clause)
            .where(DOMAIN.cohort_filter(q), a.check_in_at <= q.as_of, a.lat.is_not(None),
                   a.lon.is_not(None), c.community.in_(list(centres))))
    out = []
    with engine.connect() as conn:
        for r in conn.execute(stmt):
            lat0, lon0 = centres[r.community]
            km = geo.distance_km(float(r.lat), float(r.lon), lat0, lon0)
            if km > limit:
                out.append({"cadre_id": r.cadre_id, "name": r.name, "role": r.role,
                            "community": r.community, "day": _as_date(r.day),
                            "check_in_at": r.check_in_at, "lat": float(r.lat),
                            "lon": float(r.lon), "distance_km": km})
    out.sort(key=lambda x: (-x["distance_km"], x["day"], x["cadre_id"]))
    return out

"""干部考核 (``appraisal.*`` of KPI.md): each cadre's composite score, made of other domains'
figures by cadre (a ``Composite`` of the engine), with the breakdown of every point.

Components (weights from ``appraisal.weights``, points summing to 100):

- ``attendance_rate``: attendance.rate of the cadre;
- ``log_rate``: worklogs.log_rate;
- ``case_handling``: the mean of the closure and on-time rates of the cases the cadre
  handled (``handler_id``; the cases domain declared once, broken down by handler instead
  of community: ``HANDLED``); one of them alone when the other has no denominator;
- ``case_satisfaction_rate``: the satisfaction rate of those cases.

Points are kept in exact hundredths (cents of a point): a component's points are its
weight × its rate rounded half up to 0.01, its lost points the rest of its weight. A
component without data (no handled cases, no callbacks) is left out and the weights of
the others are scaled up to 100 by the largest-remainder method, so every cadre can reach
100 and the effective weights still add up to exactly 100.00. Deductions
(``appraisal.deductions``): ``per_overdue_case`` for each handled case open and past its
deadline at as_of, at most ``max_total`` and never below a score of 0. So the earned points
minus the deductions are exactly the score, and the weights minus the lost points minus
the deductions too. Tiers from ``appraisal.tiers``; ranks within role (ties share a rank).

The month being appraised (``month_query``) is judged as of the end of that month (or the
store's 数据截至 while it runs), so the same month gives the same scores until its data
change; ``metrics.appraisal_store`` freezes a published month.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from sqlalchemy import Engine, select

from data.store import clock
from data.store.db import data_as_of
from data.store.schema import cases as cases_table
from metrics import attendance, cases, registry, roster, worklogs
from metrics.context import Query
from metrics.engine import Composite, Result, compute
from metrics.engine.composite import reusable
from metrics.period import Period
from metrics.settings import Settings, load_settings

# The cases domain by handler: the same indicators, counts and backlog, no copy.
HANDLED = dataclasses.replace(cases.DOMAIN, dimensions={"cadre": "handler_id"},
                              coded_keys=False, lanes=False)

COMPONENTS = {  # settings key -> label
    "attendance_rate": "出勤率",
    "log_rate": "日志提交率",
    "case_handling": "办件质效",
    "case_satisfaction_rate": "办件满意率",
}
UNITS = {"attendance_rate": "天", "log_rate": "天", "case_handling": "件",
         "case_satisfaction_rate": "件"}  # of each component's counts
DEDUCTIONS = {"overdue_cases": "超期未办结工单"}
LOWEST_TIER = "待改进"
CENT = 100  # points are kept in hundredths


def _half_up(x: Fraction) -> int:
    """The nearest integer, halves away from zero (x >= 0 here)."""
    return int((x * 2 + 1) // 2)


def _exact_rate(result: Result, unit: str, key: str) -> tuple[Fraction | None, int, int]:
    """A rate of one cadre as an exact fraction, with its numerator and denominator."""
    kpi = registry.get(key)
    counts = result.counts.get("cadre", {}).get(unit)
    if not counts:
        return None, 0, 0
    num = sum(int(counts[c]) for c in kpi.num)
    den = sum(int(counts[c]) for c in kpi.den)
    return (Fraction(num, den) if den else None), num, den


@lru_cache(maxsize=256)
def _largest_remainder(nominal: tuple[tuple[str, Fraction], ...]) -> tuple[tuple[str, int], ...]:
    present = [k for k, _ in nominal]
    total = sum(v for _, v in nominal)
    if not total:
        return ()
    raw = {k: v / total * 100 * CENT for k, v in nominal}
    cents = {k: int(v) for k, v in raw.items()}  # floor: all >= 0
    left = 100 * CENT - sum(cents.values())
    order = sorted(present, key=lambda k: (-(raw[k] - cents[k]), present.index(k)))
    for k in order[:left]:
        cents[k] += 1
    return tuple(cents.items())


def effective_weights(weights: dict[str, float], present: list[str]) -> dict[str, int]:
    """The weights (in hundredths) of the components that have data, scaled to 100.00 in
    total by the largest-remainder method (ties: the earlier component)."""
    return dict(_largest_remainder(tuple((k, Fraction(str(weights[k]))) for k in present)))


@dataclass(frozen=True)
class Rules:
    """The appraisal settings in exact form, read once per computation."""

    weights: dict[str, float]
    per_case: Fraction          # points per overdue case
    cap_cents: int
    tiers: tuple[tuple[str, Fraction], ...]  # (name, lower bound in hundredths), best first

    @classmethod
    def of(cls, settings: Settings) -> "Rules":
        d = settings.get_path("appraisal.deductions")
        return cls(dict(settings.get_path("appraisal.weights")),
                   Fraction(str(d["per_overdue_case"])),
                   _half_up(Fraction(str(d["max_total"])) * CENT),
                   tuple((name, Fraction(str(low)) * CENT)
                         for name, low in settings.get_path("appraisal.tiers").items()))

    def tier(self, cents: int) -> str:
        for name, low in self.tiers:
            if cents >= low:
                return name
        return LOWEST_TIER


def tier_of(score_cents: int, settings: Settings) -> str:
    return Rules.of(settings).tier(score_cents)


def tier_names(settings: Settings) -> list[str]:
    return [*settings.get_path("appraisal.tiers"), LOWEST_TIER]


def _points(cents: int) -> float:
    return cents / CENT


def score_cadre(rates: dict[str, dict], overdue: int, settings: Settings | Rules) -> dict | None:
    """One cadre's score and parts from its component rates (``{key: {"rate": Fraction |
    None, ...basis}}``) and its overdue handled cases; None when no component has data.
    Parts per component: rate, nominal and effective weight, points earned and lost, the
    counts behind the rate; per deduction: count, points per case, cap and points."""
    rules = settings if isinstance(settings, Rules) else Rules.of(settings)
    present = [k for k in COMPONENTS if rates[k]["rate"] is not None]
    eff = effective_weights(rules.weights, present)
    if not eff:
        return None
    components, earned_total = {}, 0
    for key in COMPONENTS:
        r = rates[key]
        w = eff.get(key, 0)
        earned = _half_up(w * r["rate"]) if key in eff else 0
        earned_total += earned
        components[key] = {
            "rate": None if r["rate"] is None else float(r["rate"]),
            "nominal_weight": float(rules.weights[key]), "weight": _points(w),
            "earned": _points(earned), "lost": _points(w - earned),
            **{k: v for k, v in r.items() if k != "rate"},
        }
    wanted = _half_up(rules.per_case * overdue * CENT)
    deducted = min(wanted, rules.cap_cents, earned_total)
    score = earned_total - deducted
    return {
        "cents": score,
        "score": _points(score),
        "tier": rules.tier(score),
        "parts": {
            "components": components,
            "deductions": {"overdue_cases": {
                "count": overdue, "per_case": float(rules.per_case),
                "cap": _points(rules.cap_cents), "points": _points(deducted)}},
            "earned": _points(earned_total),
            "score": _points(score),
        },
    }


def _component_rates(att: Result, wl: Result, handled: Result, cadre_id: str) -> dict:
    a, a_num, a_den = _exact_rate(att, cadre_id, "attendance.rate")
    w, w_num, w_den = _exact_rate(wl, cadre_id, "worklogs.log_rate")
    closure, c_num, c_den = _exact_rate(handled, cadre_id, "cases.closure_rate")
    on_time, o_num, o_den = _exact_rate(handled, cadre_id, "cases.on_time_rate")
    satisfied, s_num, s_den = _exact_rate(handled, cadre_id, "cases.satisfaction_rate")
    both = [x for x in (closure, on_time) if x is not None]
    return {
        "attendance_rate": {"rate": a, "num": a_num, "den": a_den},
        "log_rate": {"rate": w, "num": w_num, "den": w_den},
        "case_handling": {"rate": sum(both) / len(both) if both else None,
                          "closure_num": c_num, "closure_den": c_den,
                          "on_time_num": o_num, "on_time_den": o_den},
        "case_satisfaction_rate": {"rate": satisfied, "num": s_num, "den": s_den},
    }


def _ranks(scores: dict[str, int]) -> dict[str, int]:
    """Competition ranking (1 = best; equal scores share a rank, the next one skips)."""
    ordered = sorted(scores.values(), reverse=True)
    first = {}
    for i, s in enumerate(ordered, start=1):
        first.setdefault(s, i)
    return {k: first[s] for k, s in scores.items()}


def _summary(scored: list[dict], settings: Settings) -> dict:
    tiers = dict.fromkeys(tier_names(settings), 0)
    for s in scored:
        tiers[s["tier"]] += 1
    return {"appraisal.mean_score": (sum(s["cents"] for s in scored) / len(scored) / CENT
                                     if scored else None),
            "appraisal.tiers": tiers}


def combine(engine: Engine, q: Query, by: tuple[str, ...], known) -> Result:
    """The appraisal of every cadre in scope with scheduled days in the period."""
    att = reusable(known, "attendance", "cadre") or compute(
        engine, attendance.DOMAIN, q, by=("cadre",))
    wl = reusable(known, "worklogs", "cadre") or compute(
        engine, worklogs.DOMAIN, q, by=("cadre",))
    # handled cases wherever they are: the scope applies to the cadre, not the case (only
    # the cadres of the scope are scored below, so the viewer's limit is kept)
    handled = compute(engine, HANDLED, dataclasses.replace(q, scope=(), allowed=None),
                      by=("cadre",))
    overdue = {unit: figures["cases.overdue_open"] or 0
               for unit, figures in handled.groups.get("cadre", {}).items()}
    who = roster.read(engine, q)
    rules = Rules.of(q.settings)
    scored: dict[str, dict] = {}
    for cadre_id, counts in att.counts.get("cadre", {}).items():
        if cadre_id not in who or not counts.get("scheduled"):
            continue
        rates = _component_rates(att, wl, handled, cadre_id)
        s = score_cadre(rates, int(overdue.get(cadre_id, 0)), rules)
        if s is not None:
            scored[cadre_id] = s
    by_role: dict[str | None, dict[str, int]] = defaultdict(dict)
    for cadre_id, s in scored.items():
        by_role[who[cadre_id].role][cadre_id] = s["cents"]
    ranks = {k: v for scores in by_role.values() for k, v in _ranks(scores).items()}
    result = Result(domain="appraisal", kpis=_summary(list(scored.values()), q.settings))
    if "cadre" in by:
        result.groups["cadre"] = {
            cadre_id: {"appraisal.score": s["score"], "appraisal.tier": s["tier"],
                       "appraisal.rank": ranks[cadre_id], "appraisal.parts": s["parts"]}
            for cadre_id, s in sorted(scored.items())}
        result.counts["cadre"] = {cadre_id: {} for cadre_id in result.groups["cadre"]}
    for dim in ("role", "community"):
        if dim not in by:
            continue
        units: dict[str, list[dict]] = defaultdict(list)
        for cadre_id, s in scored.items():
            units[getattr(who[cadre_id], dim) or "未填"].append(s)
        result.groups[dim] = {u: _summary(v, q.settings) for u, v in sorted(units.items())}
        result.counts[dim] = {u: {} for u in result.groups[dim]}
    return result


DOMAIN = Composite(name="appraisal", breakdowns=("cadre", "role", "community"),
                   combine=combine, inputs=("attendance", "worklogs"))


# ------------------------------------------------------------------------ a month's sheet

def month_period(month: str) -> Period:
    """'YYYY-MM' -> the month's period."""
    y, m = int(month[:4]), int(month[5:7])
    first = date(y, m, 1)
    return Period(first, date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1))


def month_as_of(month: str, store_as_of: datetime) -> datetime:
    """A month is judged at its end (23:59:59 of its last day), or at the store's 数据截至
    while the month runs."""
    end = datetime.combine(month_period(month).end, time(23, 59, 59))
    return min(end, store_as_of)


def month_query(engine: Engine, month: str, settings: Settings | None = None,
                as_of: datetime | None = None,
                allowed: tuple[str, ...] | None = None) -> Query:
    """The query that appraises a month: the whole month, every community (or the
    viewer's, ``allowed``), judged at the month's end (or the store's 数据截至 before that)."""
    store = as_of or data_as_of(engine) or clock.now()
    return Query(month_period(month), (), month_as_of(month, store),
                 settings or load_settings(), allowed)


def month_complete(month: str, store_as_of: datetime) -> bool:
    """Whether the store's data reach past the month's end (only then may it be published)."""
    return store_as_of >= datetime.combine(month_period(month).end, time(23, 59, 59))


SHEET_COLUMNS = ("cadre_id", "name", "role", "community", "score", "tier", "rank", "parts")


def sheet(engine: Engine, q: Query) -> list[dict]:
    """Every appraised cadre of the query with name, role, community, score, tier, rank and
    parts, ordered by role (街道干部 first), rank and cadre id."""
    result = compute(engine, DOMAIN, q, by=("cadre",))
    who = roster.read(engine, q)
    rows = []
    for cadre_id, f in result.groups.get("cadre", {}).items():
        c = who[cadre_id]
        rows.append({"cadre_id": cadre_id, "name": c.name, "role": c.role,
                     "community": c.community, "score": f["appraisal.score"],
                     "tier": f["appraisal.tier"], "rank": f["appraisal.rank"],
                     "parts": f["appraisal.parts"]})
    return sorted(rows, key=role_order)


def role_order(row: dict):
    role = row.get("role")
    return (roster.ROLES.index(role) if role in roster.ROLES else len(roster.ROLES),
            role or "", row["rank"], row["cadre_id"])


# ------------------------------------------------------------------------ what lies behind

def handled_cases(engine: Engine, q: Query, cadre_id: str) -> list[dict]:
    """The cadre's handled cases that cost points: cases of the period not closed, closed
    late or overdue, or with a dissatisfied callback (``in_period``), and every case open
    past its deadline at as_of (``deducted``: a deduction), oldest first. No case text, no
    resident data."""
    c = cases_table.c
    per_row = HANDLED.row_counts(q)
    names = ("closed", "on_time_closed", "closed_with_deadline", "open_past_deadline",
             "callbacks", "satisfied")
    if roster.require(engine, q, cadre_id) is None:
        return []
    # the cadre is in scope: its cases wherever they are (as in the score)
    scope_free = dataclasses.replace(q, scope=(), allowed=None)
    stmt = (select(c.case_id, c.reported_at, c.category, c.community, c.deadline_at,
                   c.closed_at, c.satisfaction, *[per_row[n].label(n) for n in names])
            .where(HANDLED.cohort_filter(scope_free), c.handler_id == cadre_id)
            .order_by(c.reported_at, c.case_id))
    overdue = []
    for conds in HANDLED.backlog(q):
        overdue.append(select(c.case_id, c.reported_at, c.category, c.community,
                              c.deadline_at).where(*conds, c.handler_id == cadre_id))
    out: dict[str, dict] = {}
    with engine.connect() as conn:
        for r in conn.execute(stmt):
            problems = []
            if not r.closed:
                problems.append("未办结")
            if r.closed_with_deadline and not r.on_time_closed or r.open_past_deadline:
                problems.append("超期")
            if r.callbacks and not r.satisfied:
                problems.append("回访不满意")
            if problems:
                out[r.case_id] = {
                    "case_id": r.case_id, "reported_at": r.reported_at,
                    "category": r.category, "community": r.community,
                    "deadline_at": r.deadline_at,
                    "closed_at": r.closed_at if r.closed else None,
                    "problems": "、".join(problems), "in_period": True, "deducted": False}
        for stmt_overdue in overdue:
            for r in conn.execute(stmt_overdue):
                row = out.setdefault(r.case_id, {
                    "case_id": r.case_id, "reported_at": r.reported_at,
                    "category": r.category, "community": r.community,
                    "deadline_at": r.deadline_at, "closed_at": None,
                    "problems": "超期未办结", "in_period": False, "deducted": False})
                row["deducted"] = True
    return sorted(out.values(), key=lambda r: (r["reported_at"], r["case_id"]))

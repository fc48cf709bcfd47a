"""Independent, plain-pandas implementations of the ``cases.*`` and ``incidents.*`` KPIs of
KPI.md.

They exist to check ``metrics.cases`` and ``metrics.incidents`` (which work in SQL) and as
the load-everything baselines of the city-scale benchmarks (``metrics/bench/``). They are
written straight from the definitions, one record per row, with no SQL and no sharing of
code with the engine beyond the settings object: any disagreement between the two is a
bug in one of them.

``cases_kpis_pandas(df, as_of, settings, by, period=None, scope=())`` takes case rows as
read from the store (``SELECT *``; timestamps as datetimes or as the text SQLite returns,
``callback_resolved`` as bool or 0/1) and returns ``{"kpis": {...}, "groups": {dim:
{unit: {...}}}}`` with the same keys as ``metrics.cases.compute``. Without ``period`` every
row reported by as_of is in the cohort and the overdue backlog is counted among ``df``;
with ``period`` the cohort is the rows reported in it, and ``df`` should also hold every
earlier case still open at as_of (the backlog is not a cohort figure).

``incidents_kpis_pandas(df, population, as_of, settings, by, period=None, scope=())``
takes incident rows (``SELECT *``; ``is_valid`` as bool or 0/1) and the population of each
community (``{name: residents}``; unknown ones absent or None) and returns the same shape
with the keys of ``metrics.incidents.compute``: totals, 刑事 and 治安 counts and 万人警情数,
overall and per community / category / month, and overall the CompStat table and the
trend word. ``df`` must hold every row the CompStat windows reach (a year and a bit
before as_of) as well as the period's.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

DIMENSIONS = ("community", "grid", "category", "channel", "month")
MISSING = "未填"


def _ts(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, format="mixed") if series.dtype == object else \
        pd.to_datetime(series)


def _truthy(series: pd.Series) -> pd.Series:
    """True where the value is true (bool True or 1), False for false, 0 and NULL."""
    return series.astype(object).where(series.notna(), False).astype(bool)


def _rate(num, den):
    return None if not den else num / den


def _percentile(values: np.ndarray, q: float):
    return None if len(values) == 0 else float(np.percentile(values, q))


def _key(series: pd.Series) -> pd.Series:
    s = series.astype(object).where(series.notna(), MISSING)
    return s.where(s != "", MISSING).astype(str)


def _kpis(g: pd.DataFrame, overdue_open, w) -> dict:
    total = len(g)
    closed = g["is_closed"]
    n_closed = int(closed.sum())
    on_time = int((closed & (g["closed_at"] <= g["deadline_at"])).sum())
    on_time_den = int((closed & g["deadline_at"].notna()).sum()
                      + (~closed & (g["deadline_at"] < g["as_of"])).sum())
    hours = g.loc[closed & (g["closed_at"] >= g["reported_at"]), "hours"].to_numpy()
    callbacks = closed & g["satisfaction"].notna()
    n_cb = int(callbacks.sum())
    resolved = int((callbacks & g["resolved_flag"]).sum())
    satisfied = int((callbacks & g["satisfaction"].isin(["满意", "基本满意"])).sum())
    responded = int(g["responded"].sum())
    level = g["resolution_level"]
    leveled = int((closed & level.isin(["社区", "街道", "上级"])).sum())
    lc = int((closed & (level == "社区")).sum())
    ls = int((closed & (level == "街道")).sum())
    le = int((closed & (level == "上级")).sum())
    # a closed case without any 签收 by as_of has an unknown response: out of both parts
    signed = g["responded_at"].notna() & (g["responded_at"] <= g["as_of"])
    response = _rate(responded, int((~(closed & ~signed)).sum()))
    resolution = _rate(resolved, n_cb)
    satisfaction = _rate(satisfied, n_cb)
    score = (None if response is None or resolution is None or satisfaction is None else
             100 * (w["response"] * response + w["resolution"] * resolution
                    + w["satisfaction"] * satisfaction))
    return {
        "cases.total": total,
        "cases.closed": n_closed,
        "cases.closure_rate": _rate(n_closed, total),
        "cases.on_time_closed": on_time,
        "cases.on_time_rate": _rate(on_time, on_time_den),
        "cases.overdue_open": overdue_open,
        "cases.median_hours_to_close": _percentile(hours, 50),
        "cases.p90_hours_to_close": _percentile(hours, 90),
        "cases.response_rate": response,
        "cases.callbacks": n_cb,
        "cases.resolution_rate": resolution,
        "cases.satisfaction_rate": satisfaction,
        "cases.three_rate_score": score,
        "cases.community_level_share": _rate(lc, leveled),
        "cases.street_level_share": _rate(lc + ls, leveled),
        "cases.escalated_share": _rate(le, leveled),
    }


def cases_kpis_pandas(df: pd.DataFrame, as_of: datetime, settings, by=DIMENSIONS,
                      period=None, scope=()) -> dict:
    """All cases KPIs, overall and for each breakdown in ``by``, computed in pandas."""
    df = df.copy()
    for col in ("reported_at", "responded_at", "deadline_at", "closed_at"):
        df[col] = _ts(df[col])
    as_of = pd.Timestamp(as_of)
    if scope:
        df = df[df["community"].isin(list(scope))]
    df = df[df["reported_at"] <= as_of]  # later cases have not happened yet
    df["as_of"] = as_of
    df["is_closed"] = df["closed_at"].notna() & (df["closed_at"] <= as_of)
    df["hours"] = (df["closed_at"] - df["reported_at"]).dt.total_seconds() / 3600.0
    response_s = settings.get_path("cases.response_hours") * 3600
    delay = (df["responded_at"] - df["reported_at"]).dt.total_seconds()
    df["responded"] = (df["responded_at"].notna() & (df["responded_at"] <= as_of)
                       & (delay <= int(response_s)))
    df["resolved_flag"] = _truthy(df["callback_resolved"])
    df["community"] = _key(df["community"])
    df["grid"] = _key(df["grid_id"])
    df["category"] = _key(df["category"])
    df["channel"] = _key(df["channel"])
    ym = df["reported_at"].dt.year * 100 + df["reported_at"].dt.month
    df["month"] = ym.map({v: f"{v // 100:04d}-{v % 100:02d}" for v in ym.unique()})

    backlog = df[~df["is_closed"] & (df["deadline_at"] < as_of)]
    if period is not None:
        start, end = pd.Timestamp(period.start_dt), pd.Timestamp(period.end_exclusive_dt)
        cohort = df[(df["reported_at"] >= start) & (df["reported_at"] < end)]
    else:
        cohort = df
    w = settings.get_path("cases.weights")
    result = {"kpis": _kpis(cohort, len(backlog), w), "groups": {}}
    for dim in by:
        out = {}
        overdue = {} if dim == "month" else backlog.groupby(dim).size().to_dict()
        for unit, g in cohort.groupby(dim, sort=True):
            out[unit] = _kpis(g, None if dim == "month" else int(overdue.get(unit, 0)), w)
        for unit, value in overdue.items():
            if unit not in out:
                out[unit] = _kpis(cohort.iloc[0:0], int(value), w)
        result["groups"][dim] = dict(sorted(out.items()))
    return result


# --------------------------------------------------------------------------- incidents

INCIDENT_DIMENSIONS = ("community", "category", "month")
# the closed list of 警情类别 (DATA.md), in its order: CompStat's rows before any other
INCIDENT_CATEGORY_LIST = ("刑事", "治安", "治安灾害事故", "交通事故", "火灾", "群众求助",
                          "举报投诉", "其它")


def _per_10k(total: int, population) -> float | None:
    """万人警情数: incidents ÷ residents × 10 000; nothing without a (non-zero) population."""
    return None if not population else total / population * 10_000


def _incident_figures(g: pd.DataFrame, population) -> dict:
    total = len(g)
    return {
        "incidents.total": total,
        "incidents.criminal": int((g["category"] == "刑事").sum()),
        "incidents.public_order": int((g["category"] == "治安").sum()),
        "incidents.per_10k": _per_10k(total, population),
    }


def _z(cur: int, prior: int) -> float:
    return 2.0 * (np.sqrt(cur) - np.sqrt(prior)).item()


def _word(z: float, settings) -> str:
    sharp = settings.get_path("incidents.z_sharp_rise")
    rise = settings.get_path("incidents.z_rise")
    if z >= sharp:
        return "显著上升"
    if z >= rise:
        return "上升"
    if z <= -rise:
        return "下降"
    return "平稳"


def _same_day_a_year_earlier(d):
    from datetime import date

    return date(d.year - 1, d.month, min(d.day, 28 if d.month == 2 else 31))


def _compstat_windows(as_of: pd.Timestamp) -> dict:
    """Per window name (start, end) of the current and of the prior window, as dates."""
    from datetime import timedelta

    day = as_of.date()
    monday = day - timedelta(days=day.weekday())
    ago = timedelta(weeks=52)
    first = day.replace(month=1, day=1)
    return {
        "wtd": ((monday, day), (monday - ago, day - ago)),
        "d28": ((day - timedelta(days=27), day), (day - timedelta(days=27) - ago, day - ago)),
        "ytd": ((first, day), (first.replace(year=day.year - 1),
                               _same_day_a_year_earlier(day))),
    }


def _compstat(valid: pd.DataFrame, as_of: pd.Timestamp, settings) -> dict:
    """CompStat from the valid incidents (by as_of) in scope."""
    day_of = valid["occurred_at"].dt.normalize()
    counts: dict[str, dict[str, tuple[pd.Series, int]]] = {}
    present: set[str] = set()
    for name, windows in _compstat_windows(as_of).items():
        for which, (start, end) in zip(("cur", "prior"), windows):
            inside = valid[(day_of >= pd.Timestamp(start)) & (day_of <= pd.Timestamp(end))]
            present.update(inside["category"].unique().tolist())
            counts.setdefault(name, {})[which] = (inside.groupby("category").size(),
                                                  len(inside))
    rows = [*INCIDENT_CATEGORY_LIST,
            *sorted(c for c in present if c not in INCIDENT_CATEGORY_LIST)]
    table = {}
    for row in [*rows, "TOTAL"]:
        table[row] = {}
        for name, parts in counts.items():
            (cur_by, cur_all), (prior_by, prior_all) = parts["cur"], parts["prior"]
            cur = cur_all if row == "TOTAL" else int(cur_by.get(row, 0))
            prior = prior_all if row == "TOTAL" else int(prior_by.get(row, 0))
            z = _z(cur, prior)
            table[row][name] = {"cur": cur, "prior": prior,
                                "change": (cur - prior) / prior if prior else None,
                                "z": z, "flag": _word(z, settings)}
    return table


def incidents_kpis_pandas(df: pd.DataFrame, population: dict, as_of: datetime, settings,
                          by=INCIDENT_DIMENSIONS, period=None, scope=()) -> dict:
    """All incidents KPIs, overall (with CompStat) and for each breakdown in ``by``."""
    df = df.copy()
    df["occurred_at"] = _ts(df["occurred_at"])
    as_of = pd.Timestamp(as_of)
    df = df[_truthy(df["is_valid"]) & (df["occurred_at"] <= as_of)]  # invalid never count
    people = {name: int(n) for name, n in population.items() if n is not None and n == n}
    if scope:
        df = df[df["community"].isin(list(scope))]
        people = {name: n for name, n in people.items() if name in scope}
    everyone = sum(people.values()) if people else None
    df["community"] = _key(df["community"])
    df["category"] = _key(df["category"])
    ym = df["occurred_at"].dt.year * 100 + df["occurred_at"].dt.month
    df["month"] = ym.map({v: f"{v // 100:04d}-{v % 100:02d}" for v in ym.unique()})
    if period is not None:
        start, end = pd.Timestamp(period.start_dt), pd.Timestamp(period.end_exclusive_dt)
        cohort = df[(df["occurred_at"] >= start) & (df["occurred_at"] < end)]
    else:
        cohort = df
    kpis = _incident_figures(cohort, everyone)
    table = _compstat(df, as_of, settings)
    kpis["incidents.compstat"] = table
    kpis["incidents.trend_flag"] = table["TOTAL"]["d28"]["flag"]
    result = {"kpis": kpis, "groups": {}}
    for dim in by:
        result["groups"][dim] = {
            unit: _incident_figures(g, people.get(unit) if dim == "community" else everyone)
            for unit, g in sorted(cohort.groupby(dim, sort=True), key=lambda kv: kv[0])}
    return result

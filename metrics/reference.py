"""Independent, plain-pandas implementations of the ``cases.*``, ``incidents.*`` and
``benefits.*`` KPIs of KPI.md.

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

``benefits_kpis_pandas(recipients, payments, grants, standards, enrolment, population,
period, as_of)`` takes the recipient lists' tables whole and returns every ``benefits.*``
key overall and per community (lists only: no monthly statistics, so no precedence).
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


# --------------------------------------------------------------------------- benefits

BENEFIT_PROGRAMS = {"城市低保": "urban_dibao", "农村低保": "rural_dibao", "特困供养": "tekun",
                    "残疾人生活补贴": "disability_living", "重度残疾人护理补贴": "disability_care"}
RELIEF_CODE = "temporary_relief"
DIBAO_PROGRAMS, TEKUN_PROGRAM = ("城市低保", "农村低保"), "特困供养"


def _months_of(period, as_of) -> list[str]:
    """'YYYY-MM' of every month the period touches, up to the month of as_of."""
    out, y, m = [], period.start.year, period.start.month
    while (y, m) <= (period.end.year, period.end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return [mo for mo in out if mo <= f"{as_of:%Y-%m}"]


def _fen(amounts: pd.Series) -> pd.Series:
    """Amounts (元, NULL = none) in whole fen per row."""
    return np.round(pd.to_numeric(amounts, errors="coerce").fillna(0) * 100).astype(np.int64)


def _benefit_figures(g: dict, population) -> dict:
    """Every benefits.* key of one unit from its sums (see benefits_kpis_pandas)."""
    out = {}
    per_1000 = (lambda n: None if not population else n / population * 1000)
    for program, code in BENEFIT_PROGRAMS.items():
        s = g["programs"].get(program, {})
        fen, paid = s.get("fen", 0), s.get("paid", 0)
        persons = s.get("persons", 0)
        out.update({
            f"benefits.{code}.persons": persons,
            f"benefits.{code}.households": s.get("households", 0),
            f"benefits.{code}.new": s.get("new", 0),
            f"benefits.{code}.exited": s.get("exited", 0),
            f"benefits.{code}.spending": fen / 100,
            f"benefits.{code}.avg_monthly_per_person": fen / paid / 100 if paid else None,
            f"benefits.{code}.per_1000": per_1000(persons),
        })
    r = g["relief"]
    out.update({
        f"benefits.{RELIEF_CODE}.cases": r["cases"],
        f"benefits.{RELIEF_CODE}.persons": r["persons"],
        f"benefits.{RELIEF_CODE}.spending": r["fen"] / 100,
        f"benefits.{RELIEF_CODE}.avg_monthly_per_person":
            r["fen"] / r["cases"] / 100 if r["cases"] else None,
        f"benefits.{RELIEF_CODE}.per_1000": per_1000(r["persons"]),
        "benefits.medical_insurance.enrolment_rate": _rate(g["enrolled"], g["required"]),
        "benefits.exceptions": g["exceptions"],
    })
    return out


def benefits_kpis_pandas(recipients: pd.DataFrame, payments: pd.DataFrame,
                         grants: pd.DataFrame, standards: pd.DataFrame,
                         enrolment: pd.DataFrame, population: dict, period, as_of: datetime,
                         settings=None, scope=()) -> dict:
    """The ``benefits.*`` keys of KPI.md from the recipient lists loaded whole (``SELECT *``
    of benefit_recipients, benefit_payments, relief_grants, benefit_standards,
    insurance_enrolment; no monthly statistics), overall and per community:
    ``{"kpis": {...}, "groups": {"community": {name: {...}}}}``.

    - active in a month: start_month ≤ month and (end_month NULL or ≥ month); persons and
      households (distinct household_id, a recipient without one alone) in the reference
      month — the month of the period's end or of as_of if earlier —, households counted
      per community and added up;
    - new / exited: start_month / end_month among the period's months up to as_of;
    - spending and person-months: payments for the period's months (person-months: those
      with an amount), in fen per payment;
    - exceptions: a payment for a month outside its recipient's spell, a payment above
      its program's standard of the payment's year (one each), and per person
      (person_key) and month a 低保 record and a 特困供养 record both active (counted in
      the 低保 record's community);
    - 临时救助: grants dated in the period (up to as_of): cases and spending; persons =
      grants in the reference month; medical insurance of the reference month's year.
    """
    months = _months_of(period, as_of)
    last_day = min(period.end, as_of.date())
    ref_month = f"{last_day:%Y-%m}"
    if scope:
        keep = set(scope)
        recipients = recipients[recipients["community"].isin(keep)]
        grants = grants[grants["community"].isin(keep)]
        enrolment = enrolment[enrolment["community"].isin(keep)]
        population = {c: p for c, p in population.items() if c in keep}
    rec = recipients.copy()
    rec["end_month"] = rec["end_month"].where(rec["end_month"].notna(), None)
    first_m, last_m = (months[0], months[-1]) if months else ("9999-99", "0000-00")

    def active(frame: pd.DataFrame, month: str) -> pd.Series:
        return (frame["start_month"] <= month) & (frame["end_month"].isna()
                                                  | (frame["end_month"] >= month))

    units: dict[str, dict] = {}

    def unit(name: str) -> dict:
        return units.setdefault(name, {"programs": {}, "relief": {"cases": 0, "persons": 0,
                                                                  "fen": 0},
                                       "enrolled": 0, "required": 0, "exceptions": 0})

    def add(name: str, program: str, what: str, value: int) -> None:
        p = unit(name)["programs"].setdefault(program, {})
        p[what] = p.get(what, 0) + int(value)

    # stocks in the reference month (only when it is one of the period's months)
    if ref_month in months:
        now = rec[active(rec, ref_month)].copy()
        now["household"] = now["household_id"].where(now["household_id"].notna(),
                                                     now["recipient_id"])
        for (c, prog), grp in now.groupby(["community", "program"]):
            add(c, prog, "persons", len(grp))
            add(c, prog, "households", grp["household"].nunique())
    for col, what in (("start_month", "new"), ("end_month", "exited")):
        sel = rec[rec[col].notna() & (rec[col] >= first_m) & (rec[col] <= last_m)]
        for (c, prog), grp in sel.groupby(["community", "program"]):
            add(c, prog, what, len(grp))
        for c in sel["community"].unique():
            unit(c)

    # payments of the period's months, and the two payment rules
    pay = payments[payments["month"].isin(months)].merge(
        rec[["recipient_id", "program", "community", "start_month", "end_month"]],
        on="recipient_id", how="inner")
    pay["fen"] = _fen(pay["amount"])
    pay["paid"] = pay["amount"].notna()
    std = standards.dropna(subset=["monthly_amount"]).assign(
        year=lambda f: f["year"].astype(int))
    pay["year"] = pay["month"].str[:4].astype(int)
    pay = pay.merge(std.rename(columns={"monthly_amount": "standard"})[
        ["year", "program", "standard"]], on=["year", "program"], how="left")
    amount = pd.to_numeric(pay["amount"], errors="coerce")
    standard = pd.to_numeric(pay["standard"], errors="coerce")
    pay["above"] = (amount > standard).fillna(False)
    pay["outside"] = (pay["month"] < pay["start_month"]) | (
        pay["end_month"].notna() & (pay["month"] > pay["end_month"]))
    for (c, prog), grp in pay.groupby(["community", "program"]):
        add(c, prog, "fen", grp["fen"].sum())
        add(c, prog, "paid", grp["paid"].sum())
        unit(c)["exceptions"] += int(grp["above"].sum() + grp["outside"].sum())

    # a person active in 低保 and in 特困供养 in the same month
    keyed = rec[rec["person_key"].notna() & (rec["person_key"] != "")]
    dibao = keyed[keyed["program"].isin(DIBAO_PROGRAMS)]
    tekun = keyed[keyed["program"] == TEKUN_PROGRAM]
    both = dibao.merge(tekun, on="person_key", suffixes=("", "_t"))
    for month in months:
        hit = both[active(both, month)
                   & (both["start_month_t"] <= month)
                   & (both["end_month_t"].isna() | (both["end_month_t"] >= month))]
        for (key, c), _ in hit.groupby(["person_key", "community"]):
            unit(c)["exceptions"] += 1

    # 临时救助
    days = pd.to_datetime(grants["granted_on"]).dt.date
    gr = grants[(days >= period.start) & (days <= last_day)].copy()
    gr["fen"] = _fen(gr["amount"])
    gr["month"] = pd.to_datetime(gr["granted_on"]).dt.strftime("%Y-%m")
    for c, grp in gr.groupby("community"):
        u = unit(c)["relief"]
        u["cases"] += len(grp)
        u["fen"] += int(grp["fen"].sum())
        u["persons"] += int((grp["month"] == ref_month).sum())

    # medical insurance of the reference month's year
    ins = enrolment[enrolment["year"].astype(int) == last_day.year]
    for c, required, enrolled in zip(ins["community"], ins["required"], ins["enrolled"]):
        u = unit(c)
        u["required"] += 0 if pd.isna(required) else int(required)
        u["enrolled"] += 0 if pd.isna(enrolled) else int(enrolled)

    total = {"programs": {}, "relief": {"cases": 0, "persons": 0, "fen": 0},
             "enrolled": 0, "required": 0, "exceptions": 0}
    for u in units.values():
        for prog, sums in u["programs"].items():
            t = total["programs"].setdefault(prog, {})
            for k, v in sums.items():
                t[k] = t.get(k, 0) + v
        for k in ("cases", "persons", "fen"):
            total["relief"][k] += u["relief"][k]
        for k in ("enrolled", "required", "exceptions"):
            total[k] += u[k]
    known = [p for p in population.values() if p is not None]
    return {"kpis": _benefit_figures(total, sum(known) if known else None),
            "groups": {"community": {c: _benefit_figures(u, population.get(c))
                                     for c, u in sorted(units.items())}}}

"""The benefits benchmark: ``python cli.py bench --recipients 50000 [--db URL]``.

1. **Store.** Builds (or reuses) a store at ``--db`` (default
   ``sqlite:///bench/bench_benefits_<N>.db``; ``bench/`` is git-ignored) with the demo
   roster (15 communities with their populations) and N benefit recipients (spells):
   the five recurring programs weighted like the demo's yearly intakes (城市低保 35 %,
   残疾人生活补贴 26 %, 重度残疾人护理补贴 24 %, 农村低保 11 % — only in the former villages —,
   特困供养 4 %), communities weighted by population (weaker ones a little more), spells
   starting 2016-01..2025-12 with the demo's mean lengths (geometric; open when they run
   past 2025-12), 低保 households of 1–4 persons sharing their spell (the other programs:
   one person, ~3 % without a household id), ~6 % of spells followed by a new spell of
   the same persons after a gap of 2–12 months; five years (2021-01..2025-12) of monthly
   payments at that year's standard (低保 at 30–100 % of it per household), ~0.5 % of
   months not paid and ~0.3 % paid with no amount; deliberate exceptions of each rule
   (payments for a month outside the spell, payments above the year's standard, a person
   in 低保 and in 特困供养 at once); 临时救助 grants (N/1000 a month), the standards of
   2018–2025 and the medical-insurance enrolment per community and year. Every community
   keeps recipient lists (no monthly statistics). Loaded like the other benchmark stores
   (``metrics.bench.common``) and reused when its ``import_log`` holds a ``'bench'`` row
   for exactly N recipients.

2. **Measurements**, for 2025 as of 2025-12-31 23:59:59, each in a fresh ``python -m
   metrics.bench --measure MODE --domain benefits`` process:

   - ``cold``: the command ``python cli.py kpi --only benefits --by community`` run in
     that process (``cli.main``, its JSON kept for the check): interpreter start, imports,
     every ``benefits.*`` key overall and per community; wall time measured by the parent
     (median of ``--repeat``), CPU time, peak RSS (``VmHWM``, the largest);
   - ``trace``: the same computation under ``tracemalloc`` (its peak);
   - ``parts``: each part of the union (spells, payments, double enrolment, …) timed
     alone on one connection, its statements as the engine makes them, for the README.

   The figures are checked against an independent pandas reference
   (``metrics.reference.benefits_kpis_pandas``, from KPI.md, the lists loaded whole):
   every key overall and per community, 0 differences above 1e-9. Targets (issue 民生保障):
   cold ≤ 3 s whole process and peak RSS ≤ 300 MB on SQLite. Exit code 0 when all are
   met, 1 otherwise.
"""
from __future__ import annotations

import io
import json
import os
import sys
import time
from contextlib import redirect_stdout
from datetime import date, datetime, timedelta

import numpy as np

from metrics.bench.common import (CUTOFF, SEED, analyse, bench_path, child, differences,
                                  fresh_store_with_roster, load_table, log_build, logged_rows,
                                  median_of, open_store, repeats, rss_mb, say, verdict, without_indexes)

TARGET_COLD_S = 3.0
TARGET_RSS_MB = 300.0
YEAR_START, YEAR_END = date(2025, 1, 1), date(2025, 12, 31)
FIRST_SPELL_MONTH = (2016, 1)
FIRST_PAYMENT_MONTH = (2021, 1)
LAST_MONTH = (2025, 12)
BY = "community"

# program -> (share of the spells, mean spell in months, households of several persons)
PROGRAM_MODEL = {
    "城市低保": (0.35, 38, True),
    "农村低保": (0.11, 50, True),
    "特困供养": (0.04, 90, False),
    "残疾人生活补贴": (0.26, 66, False),
    "重度残疾人护理补贴": (0.24, 70, False),
}
HOUSEHOLD_SIZES, HOUSEHOLD_P = [1, 2, 3, 4], [0.5, 0.28, 0.15, 0.07]
LOW_RATIO = 0.3  # 低保 paid 30–100 % of the standard (the household's own income counted)
REENTRY_SHARE = 0.06
NO_HOUSEHOLD_SHARE = 0.03
UNPAID_SHARE, NO_AMOUNT_SHARE = 0.005, 0.003
EXCEPTIONS_EACH = 12  # deliberate findings of each rule
GRANT_AMOUNTS = [500, 800, 1000, 1200, 1500, 2000, 3000, 5000]
GRANT_P = [0.15, 0.2, 0.2, 0.1, 0.15, 0.1, 0.07, 0.03]
RECIPIENT_COLUMNS = ["recipient_id", "person_key", "household_id", "program", "community",
                     "start_month", "end_month", "monthly_amount"]
PAYMENT_COLUMNS = ["recipient_id", "month", "amount"]
GRANT_COLUMNS = ["grant_id", "person_key", "community", "granted_on", "amount", "reason"]


def default_url(n: int) -> str:
    return bench_path(f"bench_benefits_{n}")


def kpi_argv(url: str, as_of: datetime) -> list[str]:
    return ["kpi", "--db", url, "--start", YEAR_START.isoformat(),
            "--end", YEAR_END.isoformat(), "--as-of", as_of.isoformat(),
            "--only", "benefits", "--by", BY]


# --------------------------------------------------------------------------- generation

def _mi(y: int, m: int) -> int:
    return y * 12 + m - 1


def _month_text(mi: np.ndarray | int):
    if isinstance(mi, (int, np.integer)):
        return f"{mi // 12:04d}-{mi % 12 + 1:02d}"
    return np.array([f"{v // 12:04d}-{v % 12 + 1:02d}" for v in range(mi.min(), mi.max() + 1)],
                    dtype=object)[mi - mi.min()]


def _key(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 32-hex-digit person keys (what the import makes of an ID number)."""
    a = rng.integers(0, 2**63, (n, 2))
    return np.array([f"{x:016x}{y:016x}" for x, y in a.tolist()], dtype=object)


def generate_benefits(n: int, seed: int = SEED) -> dict[str, dict[str, np.ndarray]]:
    """N recipients (spells) with their payments, relief grants, standards and enrolment
    as column arrays per table (months as 'YYYY-MM' texts, amounts as floats)."""
    from data import demo

    rng = np.random.default_rng([seed, n, 20250113])
    roster = demo.build_roster(seed)
    comms = roster.communities
    names = np.array([c.name for c in comms], dtype=object)
    weights = np.array([c.population * (1.2 - 0.3 * c.quality) for c in comms])
    rural = np.array([c.name in demo.RURAL_COMMUNITIES for c in comms])
    programs = list(PROGRAM_MODEL)
    # the shares are of persons: a 低保 spell brings a household of 1.79 persons on average
    mean_size = float(np.dot(HOUSEHOLD_SIZES, HOUSEHOLD_P))
    share = np.array([PROGRAM_MODEL[p][0] / (mean_size if PROGRAM_MODEL[p][2] else 1.0)
                      for p in programs])
    share /= share.sum()
    first, last = _mi(*FIRST_SPELL_MONTH), _mi(*LAST_MONTH)

    # spells of households: program, community, start, end, persons; re-entries after
    cols: dict[str, list] = {k: [] for k in ("program", "community", "start", "end", "hh",
                                              "key", "ratio")}
    hh_seq, n0 = 0, n - EXCEPTIONS_EACH  # the last ones: the double enrolments below
    while len(cols["program"]) < n0:
        k = max(1000, (n0 - len(cols["program"])) // 2)
        prog = rng.choice(len(programs), size=k, p=share)
        start = rng.integers(first, last + 1, k)
        means = np.array([PROGRAM_MODEL[programs[i]][1] for i in prog])
        length = rng.geometric(1 / means)
        sizes = np.where([PROGRAM_MODEL[programs[i]][2] for i in prog],
                         rng.choice(HOUSEHOLD_SIZES, size=k, p=HOUSEHOLD_P), 1)
        again = rng.random(k) < REENTRY_SHARE
        gap = rng.integers(2, 13, k)
        length2 = rng.geometric(1 / means)
        cw_all, cw_rural = weights / weights.sum(), (weights * rural) / (weights * rural).sum()
        comm = np.where(prog == programs.index("农村低保"),
                        rng.choice(len(comms), size=k, p=cw_rural),
                        rng.choice(len(comms), size=k, p=cw_all))
        base = np.where([PROGRAM_MODEL[programs[i]][2] for i in prog],
                        np.round(rng.uniform(LOW_RATIO, 1.0, k), 3), 1.0)
        for i in range(k):
            hh_seq += 1
            household = f"H{hh_seq:07d}"
            keys = _key(rng, int(sizes[i]))
            spells = [(int(start[i]), int(start[i] + length[i] - 1))]
            if again[i] and spells[0][1] + gap[i] <= last:
                s2 = spells[0][1] + int(gap[i])
                spells.append((s2, s2 + int(length2[i]) - 1))
            for s, e in spells:
                for key in keys:
                    cols["program"].append(programs[prog[i]])
                    cols["community"].append(names[comm[i]])
                    cols["start"].append(s)
                    cols["end"].append(e)
                    cols["hh"].append(household)
                    cols["key"].append(key)
                    cols["ratio"].append(float(base[i]))
    rec = {k: np.array(v[:n0], dtype=object if k in ("program", "community", "hh", "key")
                       else None) for k, v in cols.items()}
    order = np.lexsort((np.arange(n0), rec["start"]))
    rec = {k: v[order] for k, v in rec.items()}
    # 低保 households keep their id; one-person programs sometimes have none
    single = ~np.isin(rec["program"], ["城市低保", "农村低保"])
    rec["hh"][single & (rng.random(n0) < NO_HOUSEHOLD_SHARE)] = None

    # deliberate double enrolment: a 低保 person also in 特困供养 for a while
    dibao = np.flatnonzero(~single & (rec["end"] >= _mi(2024, 6)))
    chosen = rng.choice(dibao, size=EXCEPTIONS_EACH, replace=False)
    starts = np.maximum(rec["start"][chosen].astype(np.int64), _mi(2024, 1)) \
        + rng.integers(0, 6, EXCEPTIONS_EACH)
    doubles = dict(program=np.full(EXCEPTIONS_EACH, "特困供养", dtype=object),
                   community=rec["community"][chosen], start=starts,
                   end=starts + rng.integers(3, 30, EXCEPTIONS_EACH),
                   hh=np.full(EXCEPTIONS_EACH, None, dtype=object), key=rec["key"][chosen],
                   ratio=np.ones(EXCEPTIONS_EACH))
    rec = {k: np.concatenate([v, doubles[k].astype(v.dtype)]) for k, v in rec.items()}
    m = len(rec["program"])
    ids = np.array([f"B{s // 12:04d}{s % 12 + 1:02d}-{i + 1:06d}"
                    for i, s in enumerate(rec["start"].tolist())], dtype=object)
    open_end = rec["end"] > last
    std = {(p, y): demo.standard(p, y) for p in programs for y in range(2015, 2027)}
    amount0 = np.array([round(std[(p, max(s // 12, 2018))] * r, 2)
                        for p, s, r in zip(rec["program"], rec["start"], rec["ratio"])])
    recipients = dict(
        recipient_id=ids, person_key=rec["key"], household_id=rec["hh"],
        program=rec["program"], community=rec["community"],
        start_month=np.array([_month_text(int(s)) for s in rec["start"]], dtype=object),
        end_month=np.array([None if o else _month_text(int(e))
                            for e, o in zip(rec["end"], open_end)], dtype=object),
        monthly_amount=amount0)

    # payments: every covered month of 2021..2025, a few missing, a few without amount
    p0, p1 = _mi(*FIRST_PAYMENT_MONTH), last
    lo = np.maximum(rec["start"].astype(np.int64), p0)
    hi = np.minimum(rec["end"].astype(np.int64), p1)
    count = np.maximum(0, hi - lo + 1)
    who = np.repeat(np.arange(m), count)
    month = lo[who] + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    keep = rng.random(len(who)) >= UNPAID_SHARE
    who, month = who[keep], month[keep]
    years = month // 12
    prog_idx = np.array([programs.index(p) for p in rec["program"]])
    std_table = np.array([[std[(p, y)] for y in range(2015, 2027)] for p in programs])
    amount = np.round(std_table[prog_idx[who], years - 2015] * rec["ratio"].astype(float)[who],
                      2).astype(object)
    # deliberate findings: payments above the year's standard, payments outside the spell
    low = np.flatnonzero(np.isin(rec["program"][who], ["城市低保", "农村低保"])
                         & (month >= _mi(2024, 1)))
    for i in rng.choice(low, size=EXCEPTIONS_EACH, replace=False):
        amount[i] = round(std_table[prog_idx[who[i]], years[i] - 2015] * 1.2, 2)
    amount[rng.random(len(who)) < NO_AMOUNT_SHARE] = None
    extra_who, extra_month = [], []
    ended = np.flatnonzero((rec["end"] >= _mi(2024, 1)) & (rec["end"] < p1 - 1))
    for j in rng.choice(ended, size=EXCEPTIONS_EACH, replace=False):
        extra_who.append(j)
        extra_month.append(int(rec["end"][j]) + 1 + int(rng.integers(0, 2)))
    who = np.concatenate([who, np.array(extra_who, dtype=np.int64)])
    month = np.concatenate([month, np.array(extra_month, dtype=np.int64)])
    amount = np.concatenate([amount, np.array(
        [round(std_table[prog_idx[j], mo // 12 - 2015] * float(rec["ratio"][j]), 2)
         for j, mo in zip(extra_who, extra_month)], dtype=object)])
    order = np.lexsort((who, month))
    payments = dict(recipient_id=ids[who[order]], month=_month_text(month[order]),
                    amount=amount[order])

    # 临时救助 grants, N/1000 a month over 2021..2025
    grants: dict[str, list] = {k: [] for k in GRANT_COLUMNS}
    cw, reasons = weights / weights.sum(), demo.RELIEF_REASONS
    for mi in range(p0, p1 + 1):
        y, mo = mi // 12, mi % 12 + 1
        days = (date(y + (mo == 12), mo % 12 + 1, 1) - date(y, mo, 1)).days
        k = int(rng.poisson(n / 1000))
        keys = _key(rng, k)
        for i in range(k):
            grants["grant_id"].append(f"R{y:04d}{mo:02d}-{i + 1:04d}")
            grants["person_key"].append(keys[i])
            grants["community"].append(names[int(rng.choice(len(comms), p=cw))])
            grants["granted_on"].append(date(y, mo, 1) + timedelta(days=int(rng.integers(days))))
            grants["amount"].append(float(rng.choice(GRANT_AMOUNTS, p=GRANT_P)))
            grants["reason"].append(reasons[int(rng.integers(len(reasons)))])
    standards = [dict(year=y, program=p, monthly_amount=std[(p, y)])
                 for y in range(2018, 2026) for p in programs]
    enrolment = []
    for y in range(2018, 2026):
        u = rng.random((len(comms), 2))
        for i, c in enumerate(comms):
            required = int(round(c.population * (0.88 + 0.04 * u[i, 0])))
            rate = min(0.99, 0.955 + 0.015 * c.quality + 0.015 * u[i, 1])
            enrolment.append(dict(community=c.name, year=y, required=required,
                                  enrolled=int(round(required * rate))))
    return dict(recipients=recipients, payments=payments,
                grants={k: np.array(v, dtype=object) for k, v in grants.items()},
                standards=standards, enrolment=enrolment)


def _lists(cols: dict, names: list[str], lo: int, hi: int, sqlite: bool) -> list[list]:
    out = []
    for name in names:
        values = cols[name][lo:hi].tolist()
        if name == "granted_on":
            values = [d.isoformat() for d in values]
        out.append(values)
    return out


# --------------------------------------------------------------------------- store

def store_benefits(engine) -> int | None:
    """N when the store holds a complete benefits bench build of N recipients, else None."""
    return logged_rows(engine, "benefit_recipients")


def build_benefits_store(engine, n: int, seed: int = SEED, chunk: int = 100_000,
                         log=lambda msg: None) -> dict[str, float]:
    """Replace the store's contents with the roster and N recipients' benefits; timings."""
    from data.store import schema as S

    t0 = time.perf_counter()
    fresh_store_with_roster(engine, seed)
    data = generate_benefits(n, seed)
    t_gen = time.perf_counter()
    tables = {"benefit_recipients": (S.benefit_recipients, RECIPIENT_COLUMNS,
                                     data["recipients"]),
              "benefit_payments": (S.benefit_payments, PAYMENT_COLUMNS, data["payments"]),
              "relief_grants": (S.relief_grants, GRANT_COLUMNS, data["grants"])}
    log(f"generated {n:,} recipients in {t_gen - t0:.1f} s: " + ", ".join(
        f"{name} {len(cols[columns[0]]):,}" for name, (_, columns, cols) in tables.items()))
    for name, (table, columns, cols) in tables.items():
        rows = len(cols[columns[0]])
        t_load, t_index = without_indexes(engine, table, lambda: load_table(
            engine, table, columns, lambda lo, hi, sqlite: _lists(cols, columns, lo, hi, sqlite),
            rows, chunk))
        log(f"{name}: inserted in {t_load:.1f} s, indexed in {t_index:.1f} s")
    with engine.begin() as conn:
        conn.execute(S.benefit_standards.insert(), data["standards"])
        conn.execute(S.insurance_enrolment.insert(), data["enrolment"])
    analyse(engine, "benefit_payments")
    log_build(engine, n, seed, "benefit_recipients")
    return dict(generate=t_gen - t0, total=time.perf_counter() - t0)


# --------------------------------------------------------------------------- reference

def reference(engine, as_of: datetime, first: date = YEAR_START, last: date = YEAR_END) -> dict:
    """The pandas reference's figures for the period, overall and per community."""
    import pandas as pd
    from sqlalchemy import text

    from metrics.period import Period
    from metrics.reference import benefits_kpis_pandas
    from metrics.settings import load_settings

    with engine.connect() as conn:
        frames = {name: pd.read_sql(text(f"SELECT * FROM {name}"), conn) for name in (
            "benefit_recipients", "benefit_payments", "relief_grants", "benefit_standards",
            "insurance_enrolment", "communities")}
    population = {c: (None if pd.isna(p) else int(p)) for c, p in
                  zip(frames["communities"]["name"], frames["communities"]["population"])}
    return benefits_kpis_pandas(frames["benefit_recipients"], frames["benefit_payments"],
                                frames["relief_grants"], frames["benefit_standards"],
                                frames["insurance_enrolment"], population,
                                Period(first, last), as_of, load_settings())


def compare_benefits(report: dict, ref: dict) -> list[str]:
    """Differences between ``kpi --only benefits --by community``'s JSON and the reference."""
    return (differences(report["kpis"], ref["kpis"], "overall")
            + differences(report.get("groups", {}), ref["groups"]["community"], "community"))


# --------------------------------------------------------------------------- children

def measure(mode: str, url: str, as_of: datetime) -> dict:
    """One measurement inside this (fresh) process; returns what to report as JSON."""
    out: dict = {"mode": mode}
    if mode == "cold":
        import cli

        buf = io.StringIO()
        t = time.perf_counter()
        with redirect_stdout(buf):
            code = cli.main(kpi_argv(url, as_of))
        out["compute_s"] = time.perf_counter() - t
        out["exit"] = code
        report = json.loads(buf.getvalue())
        out["kpis"] = report["kpis"]
        out["groups"] = report.get("groups", {})
    else:
        from data.store.db import get_engine
        from metrics.context import make_query
        from metrics.period import Period

        engine = get_engine(url)
        q = make_query(engine, Period(YEAR_START, YEAR_END), as_of=as_of)
        if mode == "trace":
            import tracemalloc

            from metrics.report import kpi_report

            tracemalloc.start()
            kpi_report(engine, q, by=BY, only=("benefits",))
            out["trace_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        elif mode == "parts":
            from metrics import benefits
            from metrics.engine.union import _jobs

            timings: dict[str, float] = {}
            with engine.connect() as conn:  # every statement alone, one after another
                for i, _, stmt in _jobs(benefits.DOMAIN, q, engine.dialect.name, 2):
                    name = benefits.DOMAIN.parts[i].name
                    t = time.perf_counter()
                    conn.execute(stmt).all()
                    timings[name] = timings.get(name, 0.0) + time.perf_counter() - t
            out["parts"] = {name: timings[name] for name in
                            (part.name for part in benefits.DOMAIN.parts)}
    out["rss_mb"] = rss_mb()
    return out


# --------------------------------------------------------------------------- driver

def run_benefits_bench(args) -> int:
    """Build or reuse the store, measure in subprocesses, print the table; 0 if targets met."""
    from sqlalchemy import func, select

    from data.store.db import get_engine
    from data.store.schema import benefit_payments, benefit_recipients, relief_grants

    n = int(args.recipients)
    if n < 1000:
        print("--recipients 至少 1000 (at least 1000 recipients)", file=sys.stderr)
        return 2
    url = open_store(args, args.db or default_url(n), n, store_benefits, build_benefits_store,
                     "recipients", "recipients and five years of payments")
    repeat = repeats(args)
    as_of = CUTOFF
    say(f"measuring python cli.py {' '.join(kpi_argv('URL', as_of)[3:])}, each in a new "
        "process …")
    load_before = os.getloadavg()[0]
    colds = [child("cold", url, as_of, "benefits") for _ in range(repeat)]
    trace = child("trace", url, as_of, "benefits")
    parts = child("parts", url, as_of, "benefits")
    load_after = os.getloadavg()[0]
    cold_wall, cold_rss = median_of(colds, "wall_s"), max(c["rss_mb"] for c in colds)
    engine = get_engine(url)
    ref = reference(engine, as_of)
    diffs = compare_benefits(colds[0], ref)
    for c in colds[1:]:
        diffs += differences(c["groups"], colds[0]["groups"], "repeat")
    with engine.connect() as conn:
        sizes = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (benefit_recipients, benefit_payments, relief_grants)}
    k = colds[0]["kpis"]
    persons = sum(v for key, v in k.items() if key.endswith(".persons")
                  and "temporary_relief" not in key)
    say("")
    say(f"store: {sizes['benefit_recipients']:,} recipients, {sizes['benefit_payments']:,} "
        f"payments (2021–2025), {sizes['relief_grants']:,} relief grants. 2025: "
        f"{persons:,} persons in December, spending "
        f"{sum(v for key, v in k.items() if key.endswith('.spending')):,.2f} 元, "
        f"{k['benefits.exceptions']} exceptions, {len(colds[0]['groups'])} communities")
    say(f"database: {engine.dialect.name}; cold = median of {repeat} fresh processes (peak "
        f"RSS: the largest); load average {load_before:.1f} before, {load_after:.1f} after "
        f"on {os.cpu_count()} CPUs")
    head = f"{'metric':<44}{'value':>10}"
    say(head)
    say("-" * len(head))
    rows = [("whole process wall time (s)", cold_wall),
            ("whole process CPU time (s)", median_of(colds, "cpu_s")),
            ("inside cli.main (s)", median_of(colds, "compute_s")),
            ("peak RSS (MB)", cold_rss),
            ("tracemalloc peak of the computation (MB)", trace["trace_peak_mb"])]
    rows += [(f"  part alone: {name} (s)", v) for name, v in parts["parts"].items()]
    for name, v in rows:
        say(f"{name:<44}{v:>10.3f}")
    return verdict(engine, cold_wall, cold_rss, diffs, TARGET_COLD_S, TARGET_RSS_MB)

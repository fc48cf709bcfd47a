"""The incidents benchmark: ``python cli.py bench --incidents 1000000 [--db URL]``.

1. **Store.** Builds (or reuses) a store at ``--db`` (default
   ``sqlite:///bench/bench_incidents_<N>.db``; ``bench/`` is git-ignored) holding exactly
   N police incidents (警情) over 2023-01-01..2025-12-31 with the demo roster (15
   communities with their populations, grids, cadres) and the demo's incident model:
   the 8 categories of the closed list with their weights (群众求助 31 %, 治安 20 %, 交通事故
   15 %, 举报投诉 12 %, 刑事 8 %, 其它 8 %, 治安灾害事故 4 %, 火灾 2 %) and their subtypes,
   more in summer and around the Spring Festival, a slowly falling yearly volume, an
   hour-of-day profile whose evenings get busier in summer, communities weighted by
   population (weaker ones a little more), ~3 % invalid (是否有效=否), coordinates within
   ~150 m of the community's middle. Timestamps are whole seconds, none after the cutoff
   (2025-12-31 23:59:59). Loaded like the cases store (``metrics.bench.common``); reused
   when its ``import_log`` holds a ``'bench'`` row for exactly N incidents and the table
   holds N rows. Building replaces every table of the store (as the cases bench does):
   give each benchmark its own database.

2. **Measurements**, for 2025 (about a third of the rows) as of 2025-12-31 23:59:59, each
   in a fresh ``python -m metrics.bench --measure MODE --domain incidents`` process:

   - ``cold``: wall time of the whole child process (interpreter start, imports,
     ``metrics.incidents.compute(engine, q)``: every ``incidents.*`` key, CompStat
     included, and the community, category and month breakdowns), measured by the parent,
     and the child's peak RSS (``VmHWM``); median wall time of ``--repeat`` runs, the
     largest RSS;
   - ``trace`` / ``warm``: as for cases (tracemalloc peak of the computation; the second
     call through ``streamlit.cache_data``);
   - ``baseline`` / ``baseline-trace`` (``--repeat`` runs alternating with ``cold``:
     median wall time, smallest RSS): ``pd.read_sql`` of every incident row the figures
     reach (``SELECT *`` from January 1 of the year before as_of, or earlier when the
     period or CompStat's 28-day prior window starts earlier) and of the communities,
     then ``metrics.reference.incidents_kpis_pandas``. Its results are compared with ours
     (every figure, every group, every CompStat cell) to 1e-9.

   Targets (issue 信访与警情): cold ≤ 2 s whole process and peak RSS ≤ 300 MB on SQLite,
   and the same figures as the reference. Exit code 0 when all are met, 1 otherwise. The
   ratios to the baseline are reported, not targets.
"""
from __future__ import annotations

import os
import sys
import time
from datetime import date, datetime, timedelta

import numpy as np

from metrics.bench.common import (CUTOFF, FIRST_DAY, LAST_DAY, MEASURE_END, MEASURE_START, SEED,
                                  analyse, bench_path, child, differences,
                                  fresh_store_with_roster, load_table, log_build, logged_rows,
                                  median_of, open_store, query, repeats, rss_mb, say, ts_text,
                                  without_indexes)

TARGET_COLD_S = 2.0
TARGET_RSS_MB = 300.0
INVALID_SHARE = 0.03
JITTER_DEG = 0.0012  # ~130 m north-south, ~110 m east-west at 35° N

COLUMNS = ["incident_id", "occurred_at", "category", "subtype", "community", "is_valid",
           "lat", "lon"]


def default_url(n: int) -> str:
    return bench_path(f"bench_incidents_{n}")


# --------------------------------------------------------------------------- generation

def _day_weights(days: list[date]) -> np.ndarray:
    """The demo's daily incident rate: its yearly volume spread by season and holidays."""
    from data import demo

    w = np.array([demo._per_year(demo.INCIDENTS_PER_YEAR, d.year)
                  * demo._incident_day_factor(d) / demo._year_norm("incidents", d.year)
                  for d in days])
    return w / w.sum()


def _hour_cdf(days: list[date]) -> np.ndarray:
    """Per day, the cumulative hour-of-day distribution (summer evenings busier)."""
    from data import demo

    summer = np.array([max(0.0, demo._season(d)) for d in days])
    p = demo.INC_HOUR[None, :] + summer[:, None] * demo.INC_EVENING[None, :]
    return np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)


def generate_incidents(n: int, seed: int = SEED, first: date = FIRST_DAY,
                       last: date = LAST_DAY) -> dict[str, np.ndarray]:
    """N incidents as column arrays in time order (``datetime64[s]`` timestamps, object
    arrays for text, bool for ``is_valid``, float coordinates)."""
    from data import demo

    rng = np.random.default_rng([seed, n, 20250104])
    roster = demo.build_roster(seed)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    day_idx = np.sort(rng.choice(len(days), size=n, p=_day_weights(days)))
    cdf = _hour_cdf(days)
    hour = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for lo in range(0, n, 200_000):  # 24 comparisons a row, in slices to bound memory
        hi = min(n, lo + 200_000)
        hour[lo:hi] = (u[lo:hi, None] >= cdf[day_idx[lo:hi]]).sum(axis=1)
    seconds = np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, n)
    order = np.lexsort((seconds, day_idx))
    day_idx, seconds = day_idx[order], seconds[order]
    occurred = (np.datetime64(first, "s") + day_idx.astype("timedelta64[D]")
                + seconds.astype("timedelta64[s]")).astype("datetime64[s]")

    comms = roster.communities
    cw = np.array([c.population * (1.25 - 0.35 * c.quality) for c in comms])
    ci = rng.choice(len(comms), size=n, p=cw / cw.sum())
    cat = rng.choice(len(demo.INC_CATS), size=n, p=demo.INC_P)
    subtype = np.empty(n, dtype=object)
    su = rng.random(n)
    for k, name in enumerate(demo.INC_CATS):
        sel = np.flatnonzero(cat == k)
        subs = np.array(demo.INCIDENT_TYPES[name][1], dtype=object)
        subtype[sel] = subs[(su[sel] * len(subs)).astype(int)]
    jitter = rng.normal(0, JITTER_DEG, (n, 2))
    lat = np.round(np.array([c.lat for c in comms])[ci] + jitter[:, 0], 6)
    lon = np.round(np.array([c.lon for c in comms])[ci] + jitter[:, 1], 6)
    ymd = np.char.replace(np.datetime_as_string(occurred, unit="D"), "-", "")
    seq = np.char.zfill(np.arange(1, n + 1).astype(str), 7)
    incident_id = np.char.add(np.char.add("J", ymd), np.char.add("-", seq)).astype(object)
    return dict(incident_id=incident_id, occurred_at=occurred,
                category=np.array(demo.INC_CATS, dtype=object)[cat], subtype=subtype,
                community=np.array([c.name for c in comms], dtype=object)[ci],
                is_valid=rng.random(n) >= INVALID_SHARE, lat=lat, lon=lon)


def _column_lists(cols: dict[str, np.ndarray], lo: int, hi: int, sqlite: bool) -> list[list]:
    out = []
    for name in COLUMNS:
        a = cols[name][lo:hi]
        if name == "occurred_at":
            out.append(ts_text(a, sqlite))
        elif name == "is_valid":
            out.append(a.astype(int).tolist() if sqlite else a.tolist())
        else:
            out.append(a.tolist())
    return out


# --------------------------------------------------------------------------- store

def store_incidents(engine) -> int | None:
    """N when the store holds a complete bench build of N incidents, else None."""
    return logged_rows(engine, "incidents")


def build_incidents_store(engine, n: int, seed: int = SEED, chunk: int = 100_000,
                          log=lambda msg: None) -> dict[str, float]:
    """Replace the store's contents with the roster and N generated incidents; timings."""
    from data.store import schema as S

    t0 = time.perf_counter()
    fresh_store_with_roster(engine, seed)
    cols = generate_incidents(n, seed)
    t_gen = time.perf_counter()
    log(f"generated {n:,} incidents in {t_gen - t0:.1f} s")
    t_load, t_index = without_indexes(engine, S.incidents, lambda: load_table(
        engine, S.incidents, COLUMNS,
        lambda lo, hi, sqlite: _column_lists(cols, lo, hi, sqlite), n, chunk))
    log(f"inserted in {t_load:.1f} s")
    log(f"indexed in {t_index:.1f} s")
    t = time.perf_counter()
    analyse(engine, "incidents")
    log_build(engine, n, seed, "incidents")
    t_end = time.perf_counter()
    log(f"analysed in {t_end - t:.1f} s")
    return dict(generate=t_gen - t0, insert=t_load, index=t_index, total=t_end - t0)


# --------------------------------------------------------------------------- children

def baseline_since(q) -> date:
    """The first day the baseline loads: January 1 of the year before as_of (CompStat's
    year-to-date prior), or earlier if the period or the 28-day prior window (as_of − 391
    days) starts earlier."""
    day = q.as_of.date()
    return min(q.period.start, date(day.year - 1, 1, 1), day - timedelta(days=400))


def baseline_frames(engine, q):
    """Every incident row from ``baseline_since`` to as_of (``SELECT *``) and the
    communities' populations."""
    import pandas as pd
    from sqlalchemy import text

    since = datetime.combine(baseline_since(q), datetime.min.time())
    with engine.connect() as conn:
        rows = pd.read_sql(text("SELECT * FROM incidents WHERE occurred_at >= :since "
                                "AND occurred_at <= :as_of"), conn,
                           params={"since": since, "as_of": q.as_of})
        communities = pd.read_sql(text("SELECT * FROM communities"), conn)
    population = {name: (None if pd.isna(n) else int(n))
                  for name, n in zip(communities["name"], communities["population"])}
    return rows, population


def reference(engine, q) -> tuple[dict, int]:
    """The pandas reference's figures for the query, and the rows it loaded."""
    from metrics.reference import INCIDENT_DIMENSIONS, incidents_kpis_pandas

    rows, population = baseline_frames(engine, q)
    return incidents_kpis_pandas(rows, population, q.as_of, q.settings, INCIDENT_DIMENSIONS,
                                 period=q.period, scope=q.scope), len(rows)


def _summary(kpis: dict, groups: dict) -> dict:
    return {"kpis": kpis, "groups": {d: len(g) for d, g in groups.items()}}


def measure(mode: str, url: str, as_of: datetime) -> dict:
    """One measurement inside this (fresh) process; returns what to report as JSON."""
    from data.store.db import get_engine

    out: dict = {"mode": mode}
    if mode in ("cold", "trace", "warm"):
        from metrics import incidents

        engine = get_engine(url)
        q = query(engine, as_of)
        if mode == "cold":
            t = time.perf_counter()
            res = incidents.compute(engine, q)
            out["compute_s"] = time.perf_counter() - t
            out["result"] = _summary(res.kpis, res.groups)
        elif mode == "trace":
            import tracemalloc

            tracemalloc.start()
            incidents.compute(engine, q)
            out["trace_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            import logging
            import warnings

            logging.getLogger("streamlit").setLevel(logging.ERROR)
            warnings.filterwarnings("ignore")
            import streamlit as st

            @st.cache_data(ttl=600, max_entries=32, show_spinner=False)
            def cached(_engine, url_key: str, start: date, end: date, as_of_key: datetime):
                return incidents.compute(_engine, q)

            t = time.perf_counter()
            cached(engine, url, q.period.start, q.period.end, q.as_of)
            out["first_s"] = time.perf_counter() - t
            t = time.perf_counter()
            cached(engine, url, q.period.start, q.period.end, q.as_of)
            out["warm_s"] = time.perf_counter() - t
    else:
        engine = get_engine(url)
        q = query(engine, as_of)
        if mode == "baseline-trace":
            import tracemalloc

            tracemalloc.start()
        t = time.perf_counter()
        res, loaded = reference(engine, q)
        out["compute_s"] = time.perf_counter() - t
        out["rows_loaded"] = loaded
        if mode == "baseline-trace":
            out["trace_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            out["result"] = _summary(res["kpis"], res["groups"])
            out["full"] = res
    out["rss_mb"] = rss_mb()
    return out


def compare_incidents(ours, ref: dict) -> list[str]:
    """Differences between an incidents Result and the pandas reference (empty when they
    agree): every overall figure and CompStat cell, every group of every breakdown."""
    return (differences(ours.kpis, ref["kpis"], "overall")
            + differences(ours.groups, ref["groups"]))


# --------------------------------------------------------------------------- driver

def run_incidents_bench(args) -> int:
    """Build or reuse the store, measure in subprocesses, print the table; 0 if targets met."""
    from data.store.db import get_engine

    n = int(args.incidents)
    if n < 1000:
        print("--incidents 至少 1000 (at least 1000 incidents)", file=sys.stderr)
        return 2
    url = open_store(args, args.db or default_url(n), n, store_incidents,
                     build_incidents_store, "incidents")
    repeat = repeats(args)
    as_of = CUTOFF

    say(f"measuring incidents {MEASURE_START}..{MEASURE_END} (as_of {as_of}), each in a "
        "new process …")
    load_before = os.getloadavg()[0]
    colds, bases = [], []
    for _ in range(repeat):  # alternately, so that a drifting machine slows both
        colds.append(child("cold", url, as_of, "incidents"))
        bases.append(child("baseline", url, as_of, "incidents"))
    cold_wall, cold_compute = median_of(colds, "wall_s"), median_of(colds, "compute_s")
    cold_rss = max(c["rss_mb"] for c in colds)  # memory: our worst against its best
    base = dict(bases[0], wall_s=median_of(bases, "wall_s"),
                compute_s=median_of(bases, "compute_s"),
                rss_mb=min(b["rss_mb"] for b in bases))
    trace = child("trace", url, as_of, "incidents")
    warm = child("warm", url, as_of, "incidents")
    base_trace = child("baseline-trace", url, as_of, "incidents")
    kp = colds[0]["result"]["kpis"]

    from metrics import incidents

    engine = get_engine(url)
    ours = incidents.compute(engine, query(engine, as_of))
    diffs = compare_incidents(ours, base["full"])
    # the child processes agree with this one too (same figures however they are run)
    diffs += differences(kp, ours.kpis, "cold child vs in-process")

    rows = [
        ("whole process wall time (s)", cold_wall, warm["warm_s"], base["wall_s"]),
        ("whole process CPU time (s)", median_of(colds, "cpu_s"), None,
         median_of(bases, "cpu_s")),
        ("computation alone (s)", cold_compute, warm["warm_s"], base["compute_s"]),
        ("peak RSS (MB)", cold_rss, warm["rss_mb"], base["rss_mb"]),
        ("tracemalloc peak of computation (MB)", trace["trace_peak_mb"], None,
         base_trace["trace_peak_mb"]),
    ]
    cells = sum(len(w) for w in kp["incidents.compstat"].values())
    say("")
    say(f"incidents in the store {n:,}; valid in the measured year {kp['incidents.total']:,} "
        f"(刑事 {kp['incidents.criminal']:,}, 治安 {kp['incidents.public_order']:,}, "
        f"万人警情数 {kp['incidents.per_10k']:.1f}, 28-day trend {kp['incidents.trend_flag']}); "
        f"CompStat {len(kp['incidents.compstat'])} rows, {cells} cells; baseline loaded "
        f"{base['rows_loaded']:,} rows; breakdowns: "
        + ", ".join(f"{d} {k}" for d, k in colds[0]["result"]["groups"].items()))
    say(f"database: {engine.dialect.name}; cold and baseline = medians of {repeat} fresh "
        f"processes each, run alternately (peak RSS: our largest, the baseline's smallest); "
        f"warm = second call through streamlit.cache_data; load average {load_before:.1f} "
        f"before, {os.getloadavg()[0]:.1f} after on {os.cpu_count()} CPUs")
    head = f"{'metric':<40}{'ours cold':>12}{'ours warm':>12}{'baseline':>12}{'ratio':>9}"
    say(head)
    say("-" * len(head))
    for name, cold, w, b in rows:
        ratio = b / cold if cold else float("inf")
        say(f"{name:<40}{cold:>12.3f}{'' if w is None else f'{w:>12.4f}':>12}"
            f"{b:>12.3f}{ratio:>8.1f}×")
    # the speed targets are SQLite's; on a server they are reported (None: not judged)
    judged = engine.dialect.name == "sqlite"
    checks = [
        (f"cold whole process ≤ {TARGET_COLD_S:g} s", cold_wall <= TARGET_COLD_S
         if judged else None, f"{cold_wall:.2f} s"),
        (f"peak RSS ≤ {TARGET_RSS_MB:g} MB", cold_rss <= TARGET_RSS_MB if judged else None,
         f"{cold_rss:.0f} MB"),
        ("same figures as the pandas reference (1e-9)", not diffs,
         f"{len(diffs)} differences"),
    ]
    say("")
    for label, ok, value in checks:
        mark = "OK" if ok else "MISSED" if ok is not None else "SQLite target, reported"
        say(f"  [{mark}] {label}: {value}")
    for d in diffs[:10]:
        say(f"    {d}")
    missed = [label for label, ok, _ in checks if ok is False]
    say(("targets met" if judged else "figures agree; the speed targets are SQLite's")
        if not missed else f"targets missed: {'; '.join(missed)}")
    return 0 if not missed else 1

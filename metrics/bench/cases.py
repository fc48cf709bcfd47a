"""The cases benchmark: ``python cli.py bench --cases 1000000 [--db URL]``.

1. **Store.** Builds (or reuses) a store at ``--db`` (default ``sqlite:///bench/bench_<N>.db``
   in the project folder; ``bench/`` is git-ignored) holding exactly N cases spread over
   2023-01-01..2025-12-31 (fewer on weekends and holidays), with the demo roster's
   communities, grids and cadres and the demo's categories, channels, deadlines and field
   mix: ~4 % never closed, ~2 % without a deadline, slow responses, late closures,
   callbacks on ~85 % of closed cases, resolution levels, a few empty communities and
   negative durations. Timestamps are whole seconds; anything after the cutoff
   (2025-12-31 23:59:59, the store's 数据截至) has not happened yet. Rows are generated
   with numpy and inserted in large chunks (SQLite: driver executemany, one transaction
   per chunk, ``synchronous=OFF`` while building; PostgreSQL: ``COPY``), the cases
   indexes are dropped during the load and rebuilt afterwards, then the store is analysed.
   A store is reused when its ``import_log`` holds a ``'bench'`` row for exactly N cases
   and the table holds N rows. A PostgreSQL / MySQL URL naming a database that does not
   exist gets it created (through an AUTOCOMMIT admin connection to the server's default
   database), so the benchmark never touches the throw-away test databases.

2. **Measurements**, for the last year of the data (2025, about a third of the rows), each
   in a fresh ``python -m metrics.bench --measure MODE --domain cases`` subprocess so that
   "cold" is a whole process:

   - ``cold``: wall time of the whole child process (interpreter start, imports,
     ``metrics.cases.compute(engine, q)`` with every breakdown), measured by the parent,
     and the child's peak RSS (``VmHWM``); median wall time of ``--repeat`` runs, the
     largest RSS;
   - ``trace``: the same computation under ``tracemalloc`` (peak of the computation alone;
     a separate run because tracing slows Python down);
   - ``warm``: the computation wrapped in ``streamlit.cache_data(ttl, max_entries)`` as the
     pages do, called twice; the second call (served from the cache) is timed;
   - ``baseline`` / ``baseline-trace``: (``--repeat`` runs alternating with ``cold``:
     median wall time, smallest RSS) loads every case row of the year into pandas
     (``pd.read_sql`` of ``SELECT *``; plus the still-open earlier cases, which the
     overdue backlog needs) and computes the same figures and breakdowns with
     ``metrics.reference.cases_kpis_pandas``. Its results are compared with ours.

   Targets (issue 3): cold ≤ 3 s whole process, peak RSS ≤ 300 MB, and at least 5× faster
   and 5× less memory than the baseline. Exit code 0 when all are met, 1 otherwise.
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import date, datetime, time as dtime, timedelta

import numpy as np

from metrics.bench.common import (CUTOFF, FIRST_DAY, LAST_DAY, MEASURE_END, MEASURE_START, SEED,
                                  analyse, bench_path, child, fresh_store_with_roster,
                                  load_table, log_build, logged_rows, open_store, query as
                                  _query, repeats, rss_mb as _rss_mb, same as _same, say,
                                  ts_text, without_indexes)

TARGET_COLD_S = 3.0
TARGET_RSS_MB = 300.0
TARGET_RATIO = 5.0

COLUMNS = ["case_id", "reported_at", "channel", "category", "community", "grid_id",
           "handler_id", "responded_at", "deadline_at", "closed_at", "status",
           "resolution_level", "callback_resolved", "satisfaction", "summary"]
TS_COLUMNS = ("reported_at", "responded_at", "deadline_at", "closed_at")


def default_url(n: int) -> str:
    return bench_path(f"bench_{n}")


# --------------------------------------------------------------------------- generation

def _day_weights(days: list[date]) -> np.ndarray:
    from data.demo import _case_day_factor

    w = np.array([_case_day_factor(d) for d in days], dtype=float)
    return w / w.sum()


def generate_cases(n: int, seed: int = SEED, first: date = FIRST_DAY, last: date = LAST_DAY,
                   cutoff: datetime | None = None) -> dict[str, np.ndarray]:
    """N cases as column arrays (``datetime64[s]`` timestamps with NaT for NULL, object
    arrays for text with None for NULL, float for the boolean callback with NaN)."""
    from data import demo

    cutoff = cutoff or datetime.combine(last, dtime(23, 59, 59))
    rng = np.random.default_rng([seed, n, 20250101])
    roster = demo.build_roster(seed)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    day_idx = np.sort(rng.choice(len(days), size=n, p=_day_weights(days)))
    day0 = (np.datetime64(first, "s") + day_idx.astype("timedelta64[D]")).astype("datetime64[s]")
    hours = rng.choice(24, size=n, p=demo.HOUR_P)
    offset = hours * 3600 + rng.integers(0, 3600, n)
    reported = day0 + offset.astype("timedelta64[s]")
    order = np.lexsort((offset, day_idx))  # chronological, like ids in a real export
    reported = reported[order]
    ymd = np.datetime_as_string(reported, unit="D")

    # who and what
    comms = roster.communities
    cw = np.array([c.population for c in comms], float)
    cw[0] *= 0.8
    ci = rng.choice(len(comms), size=n, p=cw / cw.sum())
    quality = np.array([c.quality for c in comms])[ci]
    comm_names = np.array([c.name for c in comms], dtype=object)
    grids_of = [roster.grids_of[c.name] for c in comms]
    n_grids = np.array([len(g) for g in grids_of])
    gpos = (rng.random(n) * n_grids[ci]).astype(int)
    grid_table = np.full((len(comms), n_grids.max()), None, dtype=object)
    grid_handler = np.full((len(comms), n_grids.max()), None, dtype=object)
    grid_weak = np.zeros((len(comms), n_grids.max()), dtype=bool)
    for i, gl in enumerate(grids_of):
        for j, g in enumerate(gl):
            grid_table[i, j] = g.grid_id
            cad = roster.by_grid.get(g.grid_id, [None])[0]
            if cad is not None:
                grid_handler[i, j], grid_weak[i, j] = cad.cadre_id, cad.weak
    comm_handler = np.empty(len(comms), dtype=object)
    secretary = np.empty(len(comms), dtype=object)
    comm_weak = np.zeros(len(comms), dtype=bool)
    for i, c in enumerate(comms):
        staff = roster.by_comm.get(c.name, [])
        cadre = next((x for x in staff if x.role == "社区干部"), None)
        sec = next((x for x in staff if x.role == "社区书记"), None)
        comm_handler[i] = (cadre or sec).cadre_id if (cadre or sec) else None
        comm_weak[i] = bool(cadre and cadre.weak)
        secretary[i] = sec.cadre_id if sec else comm_handler[i]
    community = comm_names[ci]
    grid = grid_table[ci, gpos]
    hu = rng.random(n)
    handler = np.where(hu < 0.72, grid_handler[ci, gpos],
                       np.where(hu > 0.92, secretary[ci], comm_handler[ci]))
    weak = np.where(hu < 0.72, grid_weak[ci, gpos], np.where(hu > 0.92, False, comm_weak[ci]))
    cat = rng.choice(len(demo.CATEGORIES), size=n, p=demo.CATEGORY_P)
    category = np.array(demo.CATEGORIES, dtype=object)[cat]
    channel = np.array(demo.CHANNELS, dtype=object)[rng.choice(len(demo.CHANNELS), size=n,
                                                                p=demo.CHANNEL_P)]
    u = rng.random((n, 12))
    z = rng.standard_normal(n)

    # response: median ~1.5 h, a few beyond 24 h
    p_slow = 0.025 - 0.015 * quality + np.where(weak, 0.06, 0)
    fast = np.minimum(20 * 3600, 60 + np.exp(8.6 - 0.35 * quality + np.where(weak, 0.6, 0)
                                             + 0.9 * z))
    resp_s = np.where(u[:, 0] < p_slow, 86400 + u[:, 1] * 3 * 86400, fast).astype(np.int64)
    responded = reported + resp_s.astype("timedelta64[s]")
    dl_days = np.array([demo.DEADLINE_DAYS[c] for c in demo.CATEGORIES])[cat]
    deadline = reported + (dl_days * 86400).astype("timedelta64[s]")
    deadline[u[:, 2] < 0.02] = np.datetime64("NaT")
    # closure
    p_never = 0.042 - 0.022 * quality + np.where(weak, 0.05, 0)
    is_closed = u[:, 3] >= p_never
    lu = u[:, 4]
    level = np.where(lu < 0.76 + 0.04 * quality, "社区", np.where(lu < 0.955, "街道", "上级"))
    p_late = (0.07 - 0.05 * quality + np.where(weak, 0.18, 0)
              + np.where(level == "上级", 0.08, 0))
    span = dl_days * 86400.0
    dur = np.where(u[:, 5] < p_late, span * (1.05 + 0.8 * u[:, 6] ** 2),
                   span * (0.05 + 0.9 * u[:, 6] ** (1.6 + 0.4 * quality)))
    dur = np.where((u[:, 5] >= p_late) & (level != "社区"), np.maximum(dur, span * 0.3), dur)
    closed = np.maximum(responded + np.timedelta64(600, "s"),
                        reported + dur.astype(np.int64).astype("timedelta64[s]"))
    # a few closed before reported (data faults the KPIs must survive)
    neg = rng.random(n) < 1 / 20000
    closed = np.where(neg, reported - np.timedelta64(3 * 3600, "s"), closed)
    is_closed |= neg
    closed[~is_closed] = np.datetime64("NaT")
    # callbacks
    has_cb = is_closed & (u[:, 7] < 0.85)
    p_unres = 0.08 - 0.05 * quality + np.where(weak, 0.08, 0)
    resolved_b = u[:, 8] >= p_unres
    p_bad = (0.05 - 0.035 * quality + np.where(weak, 0.08, 0)) * np.where(resolved_b, 1, 3.5)
    sat = np.where(u[:, 9] < p_bad, "不满意", np.where(u[:, 9] < p_bad + 0.2, "基本满意", "满意"))

    # the cutoff: what happens later has not happened yet
    cut = np.datetime64(cutoff, "s")
    responded[responded > cut] = np.datetime64("NaT")
    late_close = is_closed & (closed > cut)
    is_closed &= ~late_close
    closed[late_close] = np.datetime64("NaT")
    has_cb &= is_closed
    resolution_level = np.where(is_closed, level.astype(object), None)
    satisfaction = np.where(has_cb, sat.astype(object), None)
    callback_resolved = np.where(has_cb, resolved_b.astype(float), np.nan)
    status = np.where(is_closed, "已办结", "办理中").astype(object)
    empty = rng.random(n) < 1 / 50000
    community[empty] = ""
    grid[empty] = None

    # summaries: the demo's texts, one per category template and estate
    summary = np.empty(n, dtype=object)
    tu, eu = u[:, 10], (u[:, 11] * len(demo.ESTATES)).astype(int)
    for k, name in enumerate(demo.CATEGORIES):
        sel = np.flatnonzero(cat == k)
        texts = demo.SUMMARIES[name]
        table = np.array([[t.format(e=e) for e in demo.ESTATES] for t in texts], dtype=object)
        summary[sel] = table[(tu[sel] * len(texts)).astype(int), eu[sel]]

    seq = np.arange(1, n + 1)
    case_id = np.char.add(np.char.add("B", np.char.replace(ymd, "-", "")),
                          np.char.add("-", np.char.zfill(seq.astype(str), 8))).astype(object)
    return dict(case_id=case_id, reported_at=reported, channel=channel, category=category,
                community=community, grid_id=grid, handler_id=handler, responded_at=responded,
                deadline_at=deadline, closed_at=closed, status=status,
                resolution_level=resolution_level, callback_resolved=callback_resolved,
                satisfaction=satisfaction, summary=summary)


def _column_lists(cols: dict[str, np.ndarray], lo: int, hi: int, sqlite: bool) -> list[list]:
    out = []
    for name in COLUMNS:
        a = cols[name][lo:hi]
        if name in TS_COLUMNS:
            out.append(ts_text(a, sqlite))
        elif name == "callback_resolved":
            out.append([None if v != v else (int(v) if sqlite else bool(v)) for v in a.tolist()])
        else:
            out.append(a.tolist())
    return out


# --------------------------------------------------------------------------- store

def store_cases(engine) -> int | None:
    """N when the store holds a complete bench build of N cases, else None."""
    return logged_rows(engine, "cases")


def build_store(engine, n: int, seed: int = SEED, chunk: int = 100_000,
                log=lambda msg: None) -> dict[str, float]:
    """Replace the store's contents with the roster and N generated cases; timings (s)."""
    from data.store import schema as S

    t0 = time.perf_counter()
    fresh_store_with_roster(engine, seed)
    cols = generate_cases(n, seed)
    t_gen = time.perf_counter()
    log(f"generated {n:,} cases in {t_gen - t0:.1f} s")
    t_load, t_index = without_indexes(engine, S.cases, lambda: load_table(
        engine, S.cases, COLUMNS, lambda lo, hi, sqlite: _column_lists(cols, lo, hi, sqlite),
        n, chunk))
    log(f"inserted in {t_load:.1f} s")
    log(f"indexed in {t_index:.1f} s")
    t = time.perf_counter()
    analyse(engine, "cases")
    log_build(engine, n, seed, "cases")
    t_end = time.perf_counter()
    log(f"analysed in {t_end - t:.1f} s")
    return dict(generate=t_gen - t0, insert=t_load, index=t_index, total=t_end - t0)


# --------------------------------------------------------------------------- children

def _baseline_frame(engine, q):
    """Every case row of the period (``SELECT *``) plus the earlier still-open cases."""
    import pandas as pd
    from sqlalchemy import text

    params = {"start": q.period.start_dt, "end": q.period.end_exclusive_dt, "as_of": q.as_of}
    with engine.connect() as conn:
        year = pd.read_sql(text("SELECT * FROM cases WHERE reported_at >= :start "
                                "AND reported_at < :end"), conn, params=params)
        earlier = pd.read_sql(text("SELECT * FROM cases WHERE reported_at < :start "
                                   "AND (closed_at IS NULL OR closed_at > :as_of)"),
                              conn, params=params)
    return pd.concat([year, earlier], ignore_index=True)


def _summary(result) -> dict:
    return {"kpis": result["kpis"] if isinstance(result, dict) else result.kpis,
            "groups": {d: len(g) for d, g in (result["groups"] if isinstance(result, dict)
                                                else result.groups).items()}}


def measure(mode: str, url: str, as_of: datetime) -> dict:
    """One measurement inside this (fresh) process; returns what to report as JSON."""
    out: dict = {"mode": mode}
    if mode in ("cold", "trace", "warm"):
        from data.store.db import get_engine
        from metrics import cases

        engine = get_engine(url)
        q = _query(engine, as_of)
        if mode == "cold":
            t = time.perf_counter()
            res = cases.compute(engine, q)
            out["compute_s"] = time.perf_counter() - t
            out["result"] = _summary(res)
        elif mode == "trace":
            import tracemalloc

            tracemalloc.start()
            res = cases.compute(engine, q)
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
                return cases.compute(_engine, q)

            t = time.perf_counter()
            cached(engine, url, q.period.start, q.period.end, q.as_of)
            out["first_s"] = time.perf_counter() - t
            t = time.perf_counter()
            res = cached(engine, url, q.period.start, q.period.end, q.as_of)
            out["warm_s"] = time.perf_counter() - t
    else:
        from data.store.db import get_engine
        from metrics.cases import DIMENSIONS
        from metrics.reference import cases_kpis_pandas

        engine = get_engine(url)
        q = _query(engine, as_of)
        if mode == "baseline-trace":
            import tracemalloc

            tracemalloc.start()
        t = time.perf_counter()
        df = _baseline_frame(engine, q)
        res = cases_kpis_pandas(df, q.as_of, q.settings, DIMENSIONS, period=q.period)
        out["compute_s"] = time.perf_counter() - t
        out["rows_loaded"] = len(df)
        if mode == "baseline-trace":
            out["trace_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            out["result"] = _summary(res)
            out["full"] = {"kpis": res["kpis"], "groups": res["groups"]}
    out["rss_mb"] = _rss_mb()
    return out


def compare_results(ours, ref: dict) -> list[str]:
    """Differences between a CaseResult and the pandas reference (empty when they agree)."""
    diffs = []
    for key, value in ours.kpis.items():
        if not _same(value, ref["kpis"].get(key)):
            diffs.append(f"overall {key}: {value} != {ref['kpis'].get(key)}")
    for dim, groups in ours.groups.items():
        theirs = ref["groups"].get(dim, {})
        if set(groups) != set(theirs):
            diffs.append(f"{dim}: groups differ {sorted(set(groups) ^ set(theirs))[:5]}")
            continue
        for g, kp in groups.items():
            for key, value in kp.items():
                if not _same(value, theirs[g].get(key)):
                    diffs.append(f"{dim}={g} {key}: {value} != {theirs[g].get(key)}")
    return diffs


# --------------------------------------------------------------------------- driver

def run_bench(args) -> int:
    """Build or reuse the store, measure in subprocesses, print the table; 0 if targets met."""
    from data.store.db import get_engine

    n = int(args.cases)
    if n < 1000:
        print("--cases 至少 1000 (at least 1000 cases)", file=sys.stderr)
        return 2
    url = open_store(args, args.db or default_url(n), n, store_cases, build_store, "cases")
    repeat = repeats(args)
    as_of = CUTOFF

    say(f"measuring {MEASURE_START}..{MEASURE_END} (as_of {as_of}), each in a new process …")
    # ours and the baseline alternate, so that a machine whose speed drifts slows both
    colds, bases = [], []
    for _ in range(repeat):
        colds.append(child("cold", url, as_of, "cases"))
        bases.append(child("baseline", url, as_of, "cases"))
    cold_wall = statistics.median(c["wall_s"] for c in colds)
    cold_compute = statistics.median(c["compute_s"] for c in colds)
    cold_rss = max(c["rss_mb"] for c in colds)  # memory: our worst against its best
    base = dict(bases[0], wall_s=statistics.median(b["wall_s"] for b in bases),
                compute_s=statistics.median(b["compute_s"] for b in bases),
                rss_mb=min(b["rss_mb"] for b in bases))
    trace = child("trace", url, as_of, "cases")
    warm = child("warm", url, as_of, "cases")
    base_trace = child("baseline-trace", url, as_of, "cases")
    kp = colds[0]["result"]["kpis"]

    # the independent check: our figures against the pandas reference computed by the baseline
    from metrics import cases
    from metrics.settings import load_settings  # noqa: F401 - settings come via make_query

    engine = get_engine(url)
    ours = cases.compute(engine, _query(engine, as_of))
    diffs = compare_results(ours, base["full"])

    rows = [
        ("whole process wall time (s)", cold_wall, warm["warm_s"], base["wall_s"]),
        ("computation alone (s)", cold_compute, warm["warm_s"], base["compute_s"]),
        ("peak RSS (MB)", cold_rss, warm["rss_mb"], base["rss_mb"]),
        ("tracemalloc peak of computation (MB)", trace["trace_peak_mb"], None,
         base_trace["trace_peak_mb"]),
    ]
    say("")
    say(f"cases in the store {n:,}; in the measured year {kp['cases.total']:,} "
        f"(baseline loaded {base['rows_loaded']:,} rows); breakdowns: "
        + ", ".join(f"{d} {k}" for d, k in colds[0]["result"]["groups"].items()))
    say(f"database: {engine.dialect.name}; cold and baseline = medians of {repeat} fresh "
        f"processes each, run alternately (peak RSS: our largest, the baseline's smallest); "
        f"warm = second call through streamlit.cache_data")
    head = f"{'metric':<40}{'ours cold':>12}{'ours warm':>12}{'baseline':>12}{'ratio':>9}"
    say(head)
    say("-" * len(head))
    for name, cold, w, b in rows:
        ratio = b / cold if cold else float("inf")
        say(f"{name:<40}{cold:>12.3f}{'' if w is None else f'{w:>12.4f}':>12}"
            f"{b:>12.3f}{ratio:>8.1f}×")
    checks = [
        (f"cold whole process ≤ {TARGET_COLD_S:g} s", cold_wall <= TARGET_COLD_S,
         f"{cold_wall:.2f} s"),
        (f"peak RSS ≤ {TARGET_RSS_MB:g} MB", cold_rss <= TARGET_RSS_MB, f"{cold_rss:.0f} MB"),
        (f"≥ {TARGET_RATIO:g}× faster than baseline (whole process)",
         base["wall_s"] >= TARGET_RATIO * cold_wall, f"{base['wall_s'] / cold_wall:.1f}×"),
        (f"≥ {TARGET_RATIO:g}× less memory than baseline (peak RSS)",
         base["rss_mb"] >= TARGET_RATIO * cold_rss, f"{base['rss_mb'] / cold_rss:.1f}×"),
        ("same figures as the pandas reference (1e-9)", not diffs,
         f"{len(diffs)} differences"),
    ]
    say("")
    for label, ok, value in checks:
        say(f"  [{'OK' if ok else 'MISSED'}] {label}: {value}")
    for d in diffs[:10]:
        say(f"    {d}")
    missed = [label for label, ok, _ in checks if not ok]
    say("targets met" if not missed else f"targets missed: {'; '.join(missed)}")
    return 0 if not missed else 1

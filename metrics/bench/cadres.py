"""The cadres benchmark: ``python cli.py bench --cadres 2000 [--db URL]``.

1. **Store.** Builds (or reuses) a store at ``--db`` (default
   ``sqlite:///bench/bench_cadres_<N>.db``; ``bench/`` is git-ignored) with the demo's
   communities and N cadres (8 街道干部, a 社区书记 per community, about a tenth 社区干部,
   the rest 网格员 each on a grid; ~3 % join and ~3 % leave during the year, ~8 % weaker)
   and one year of their records, 2025-01-01..12-31, drawn like the demo's: attendance on
   every workday of the official calendar while active (absences, late arrivals, early
   leaves, missing check-outs, a few off-day check-ins, ~0.4 % far from the community),
   work logs (the demo's templates; short ones, late ones, copies of an earlier log of the
   same cadre, month-end batches by some weaker cadres), and ~3 cases a month handled by
   each community cadre (deadlines, closures, callbacks, some open past their deadline).
   Loaded like the other benchmark stores (``metrics.bench.common``) and reused when its
   ``import_log`` holds a ``'bench'`` row for exactly N cadres.

2. **Measurements**, for October 2025 (the National Day holiday and a make-up Saturday) as
   of 2025-12-31 23:59:59, each in a fresh ``python -m metrics.bench --measure MODE
   --domain cadres`` process:

   - ``cold``: the command ``python cli.py kpi --only attendance,worklogs,appraisal --by
     cadre`` run in that process (``cli.main``, its JSON discarded): interpreter start,
     imports, attendance, work logs with the suspect-log detection, the cases by handler
     and every cadre's appraisal; wall time measured by the parent (median of
     ``--repeat``), peak RSS (``VmHWM``, the largest);
   - ``trace``: the same under ``tracemalloc`` (peak of the computation alone);
   - ``parts``: each part timed alone (attendance, work logs, of which the suspect logs,
     the cases by handler, the appraisal from them), for the README.

   The figures are checked against an independent pandas reference (``reference``: the
   month's rows loaded whole, the official calendar from ``chinese_calendar`` directly):
   every cadre's attendance counts, rate and mean hours on duty, logs, logged days, visits
   and issues. Targets (issue 干部考勤、工作日志与考核评议): cold ≤ 3 s whole process and
   peak RSS ≤ 300 MB on SQLite, figures equal to the reference. Exit code 0 when all are
   met, 1 otherwise.
"""
from __future__ import annotations

import io
import os
import sys
import time
from contextlib import redirect_stdout
from datetime import date, datetime, timedelta

import numpy as np

from metrics.bench.common import (CUTOFF, SEED, analyse, bench_path, child, differences,
                                  load_table, log_build, logged_rows, median_of, open_store,
                                  repeats, rss_mb, say, ts_text, verdict, without_indexes)

TARGET_COLD_S = 3.0
TARGET_RSS_MB = 300.0
YEAR_START, YEAR_END = date(2025, 1, 1), date(2025, 12, 31)
MONTH_START, MONTH_END = date(2025, 10, 1), date(2025, 10, 31)
ONLY = "attendance,worklogs,appraisal"

ATTENDANCE_COLUMNS = ["cadre_id", "day", "check_in_at", "check_out_at", "lat", "lon"]
WORKLOG_COLUMNS = ["log_id", "cadre_id", "day", "created_at", "visits", "issues_reported",
                   "content"]
# what real logs add to the templates: the day's particulars
TAILS = ["次日回访", "已拍照留存", "与物业约定周五前处理", "居民提出加装路灯", "楼道堆物已清理",
         "独居老人身体状况良好", "协调水电维修师傅上门", "登记困难家庭一户", "发放宣传册二十份",
         "现场劝导两人", "待社区两委研究", "联系派出所民警到场", "已在群内通知", "做好台账记录",
         "明日继续跟进", "上报街道综治中心"]
CASE_COLUMNS = ["case_id", "reported_at", "channel", "category", "community", "grid_id",
                "handler_id", "responded_at", "deadline_at", "closed_at", "status",
                "resolution_level", "callback_resolved", "satisfaction"]


def default_url(n: int) -> str:
    return bench_path(f"bench_cadres_{n}")


def kpi_argv(url: str, as_of: datetime) -> list[str]:
    return ["kpi", "--db", url, "--start", MONTH_START.isoformat(),
            "--end", MONTH_END.isoformat(), "--as-of", as_of.isoformat(),
            "--only", ONLY, "--by", "cadre"]


# --------------------------------------------------------------------------- generation

def generate_roster(n: int, seed: int = SEED) -> dict:
    """N cadres as column arrays, with the index of each one's community (-1: street)."""
    from data import demo

    rng = np.random.default_rng([seed, n, 20251001])
    comms = demo.build_roster(seed).communities
    n_staff = max(len(comms), n // 10)
    roles = (["街道干部"] * 8 + ["社区书记"] * len(comms) + ["社区干部"] * n_staff)
    roles += ["网格员"] * (n - len(roles))
    pop = np.array([c.population for c in comms], dtype=float)
    community = np.concatenate([np.full(8, -1), np.arange(len(comms)),
                                rng.choice(len(comms), n - 8 - len(comms), p=pop / pop.sum())])
    grid = [None] * n
    counter: dict[int, int] = {}
    for i, role in enumerate(roles):
        if role == "网格员":
            counter[community[i]] = counter.get(community[i], 0) + 1
            grid[i] = f"G{community[i] + 1:02d}{counter[community[i]]:03d}"
    joined = [date(2008, 1, 1) + timedelta(days=int(x)) for x in rng.integers(0, 6000, n)]
    left: list[date | None] = [None] * n
    u = rng.random((n, 3))
    year_days = (YEAR_END - YEAR_START).days
    for i in range(8 + len(comms), n):
        if u[i, 0] < 0.03:
            joined[i] = YEAR_START + timedelta(days=int(u[i, 1] * year_days))
        elif u[i, 0] < 0.06:
            left[i] = YEAR_START + timedelta(days=int(u[i, 1] * year_days))
    names = [demo.SURNAMES[a] + demo.GIVEN[b] + (demo.GIVEN[c] if c % 3 else "")
             for a, b, c in zip(rng.integers(0, len(demo.SURNAMES), n),
                                rng.integers(0, len(demo.GIVEN), n),
                                rng.integers(0, len(demo.GIVEN), n))]
    return dict(cadre_id=np.array([f"BC{i + 1:05d}" for i in range(n)], dtype=object),
                name=names, role=roles, community_idx=community,
                community=[None if c < 0 else comms[c].name for c in community],
                grid_id=grid, joined_on=joined, left_on=left,
                weak=u[:, 2] < 0.08, communities=comms)


def _days() -> tuple[list[date], np.ndarray]:
    import chinese_calendar

    days = [YEAR_START + timedelta(days=i) for i in range((YEAR_END - YEAR_START).days + 1)]
    return days, np.array([chinese_calendar.is_workday(d) for d in days])


def _active(roster: dict, days: list[date]) -> np.ndarray:
    ords = np.array([d.toordinal() for d in days])
    start = np.array([d.toordinal() for d in roster["joined_on"]])
    end = np.array([d.toordinal() if d else 10**7 for d in roster["left_on"]])
    return (ords[None, :] >= start[:, None]) & (ords[None, :] <= end[:, None])


def _stamp(days: list[date], day_idx: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    base = np.array(days, dtype="datetime64[D]")[day_idx].astype("datetime64[s]")
    return base + seconds.astype("timedelta64[s]")


def generate_attendance(roster: dict, seed: int = SEED) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 20251002])
    days, workday = _days()
    n = len(roster["cadre_id"])
    weak = roster["weak"][:, None]
    u = rng.random((7, n, len(days)))
    active = _active(roster, days)
    on = active & workday[None, :] & (u[0] >= np.where(weak, 0.05, 0.012))
    off = active & ~workday[None, :] & (u[0] < 0.02)
    late = u[1] < np.where(weak, 0.22, 0.035)
    cin = np.where(late, 30660 + u[2] * 3300, 29280 + u[2] * 1260).astype(np.int64)
    cin = np.where(off, 30600 + u[2] * 5400, cin).astype(np.int64)
    missing = on & (u[3] < np.where(weak, 0.08, 0.02))
    early = u[4] < np.where(weak, 0.09, 0.025)
    cout = np.where(early, 55800 + u[5] * 6900, 63000 + u[5] ** 1.5 * 3600).astype(np.int64)
    cout = np.where(off, 43200 + u[5] * 18000, cout).astype(np.int64)
    far = on & (u[6] < np.where(weak, 0.02, 0.002)) & (roster["community_idx"] >= 0)[:, None]
    di, ci = np.nonzero((on | off).T)         # in time order, as a platform exports them
    comms = roster["communities"]
    lat0 = np.array([35.2318] + [c.lat for c in comms])[roster["community_idx"] + 1]
    lon0 = np.array([115.4705] + [c.lon for c in comms])[roster["community_idx"] + 1]
    jitter = rng.normal(0, 0.0008, (len(ci), 2))
    shift = np.where(far[ci, di], 0.016, 0.0)
    return dict(
        cadre_id=roster["cadre_id"][ci],
        day=np.array(days, dtype="datetime64[D]")[di],
        check_in_at=_stamp(days, di, cin[ci, di]),
        check_out_at=np.where(missing[ci, di], np.datetime64("NaT"),
                              _stamp(days, di, cout[ci, di])),
        lat=np.round(lat0[ci] + jitter[:, 0] + shift, 6),
        lon=np.round(lon0[ci] + jitter[:, 1] + shift, 6))


def generate_worklogs(roster: dict, seed: int = SEED) -> dict[str, np.ndarray]:
    from data import demo

    rng = np.random.default_rng([seed, 20251003])
    days, workday = _days()
    n = len(roster["cadre_id"])
    weak = roster["weak"][:, None]
    u = rng.random((6, n, len(days)))
    has = _active(roster, days) & workday[None, :] & (u[0] < np.where(weak, 0.66, 0.93))
    ci, di = np.nonzero(has)                   # cadre by cadre: copies find their source
    m = len(ci)
    lag = u[1][ci, di]
    x = u[2][ci, di]
    seconds = np.where(lag < 0.86, 63000 + x * 16200,
                       np.where(lag < 0.96, 86400 + 28800 + x * 10800,
                                86400 * (2 + (x * 4).astype(int)) + 32400 + x * 28800))
    created = _stamp(days, di, seconds.astype(np.int64))
    # month-end batches: some weaker cadres write a month's logs on its second-to-last day
    month = np.array([d.month for d in days])[di]
    batch_month = rng.random((n, 12)) < 0.2
    month_end = np.array([date(2025 + m_ // 12, m_ % 12 + 1, 1) - timedelta(days=2)
                          for m_ in range(1, 13)], dtype="datetime64[D]")
    day_arr = np.array(days, dtype="datetime64[D]")[di]
    in_batch = roster["weak"][ci] & batch_month[ci, month - 1] & (day_arr < month_end[month - 1])
    created = np.where(in_batch, month_end[month - 1].astype("datetime64[s]")
                       + np.timedelta64(54000, "s") + (x * 3600).astype("timedelta64[s]"),
                       created)
    pick = (u[3][ci, di] * len(demo.LOG_ACTS)).astype(int)
    res = (u[4][ci, di] * len(demo.LOG_RESULTS)).astype(int)
    est = (u[5][ci, di] * len(demo.ESTATES)).astype(int)
    visits = (u[5][ci, di] * np.where(np.array(roster["role"])[ci] == "网格员", 13, 6)).astype(int)
    issues = (u[4][ci, di] ** 1.8 * 4).astype(int)
    short = u[1][ci, di] * 7 % 1 < np.where(roster["weak"][ci], 0.08, 0.015)
    copy = (u[2][ci, di] * 13 % 1 < 0.01)
    building, unit = rng.integers(1, 41, m), rng.integers(1, 7, m)
    tail = rng.integers(0, len(TAILS), m)
    content = []
    for j in range(m):
        if short[j]:
            content.append(demo.LOG_SHORT[int(x[j] * len(demo.LOG_SHORT))])
            continue
        back = j - 1 - int(x[j] * 15)
        if copy[j] and back >= 0 and ci[back] == ci[j]:
            content.append(content[back])        # copied from an earlier log of the cadre
            continue
        act = demo.LOG_ACTS[pick[j]].format(e=demo.ESTATES[est[j]], n=max(1, visits[j]))
        content.append(f"{act}（{building[j]}号楼{unit[j]}单元），{demo.LOG_RESULTS[res[j]]}，"
                       f"{TAILS[tail[j]]}。")
    ids = roster["cadre_id"][ci]
    ymd = np.char.replace(np.datetime_as_string(day_arr, unit="D"), "-", "")
    written = created <= np.datetime64(CUTOFF)     # later ones are not written yet
    order = np.lexsort((ci, di))                   # then in time order
    order = order[written[order]]
    cols = dict(log_id=np.char.add(np.char.add("L", ymd), np.char.add("-", ids.astype(str)))
                .astype(object), cadre_id=ids, day=day_arr, created_at=created,
                visits=visits, issues_reported=issues, content=np.array(content, dtype=object))
    return {k: v[order] for k, v in cols.items()}


def generate_cases(roster: dict, seed: int = SEED) -> dict[str, np.ndarray]:
    from data import demo

    rng = np.random.default_rng([seed, 20251004])
    days, workday = _days()
    work = np.flatnonzero(workday)
    handlers = np.flatnonzero(roster["community_idx"] >= 0)
    per = rng.poisson(36, len(handlers))           # ~3 a month
    hi = np.repeat(handlers, per)
    m = len(hi)
    di = np.sort(rng.choice(work, m))
    reported = _stamp(days, di, (28800 + rng.random(m) * 36000).astype(np.int64))
    weak = roster["weak"][hi]
    u = rng.random((6, m))
    deadline = reported + np.timedelta64(7 * 86400, "s")
    has_deadline = u[0] >= 0.05
    close_s = (86400 * (0.5 + u[1] * np.where(weak, 14, 8))).astype(np.int64)
    closed = reported + close_s.astype("timedelta64[s]")
    never = u[2] < np.where(weak, 0.10, 0.03)
    after = closed > np.datetime64(CUTOFF)
    open_ = never | after
    responded = reported + (3600 * (1 + u[3] * 30)).astype("timedelta64[s]")
    sat = np.array(["满意", "基本满意", "不满意"], dtype=object)[
        np.searchsorted([0.78, 0.92], u[4])]
    callback = ~open_ & (u[5] < 0.85)
    nat = np.datetime64("NaT")
    ymd = np.char.replace(np.datetime_as_string(reported, unit="D"), "-", "")
    seq = np.char.zfill(np.arange(1, m + 1).astype(str), 6)
    return dict(
        case_id=np.char.add(np.char.add("K", ymd), np.char.add("-", seq)).astype(object),
        reported_at=reported,
        channel=np.array(demo.CHANNELS, dtype=object)[rng.integers(0, len(demo.CHANNELS), m)],
        category=np.array(demo.CATEGORIES, dtype=object)[
            rng.integers(0, len(demo.CATEGORIES), m)],
        community=np.array(roster["community"], dtype=object)[hi],
        grid_id=np.array(roster["grid_id"], dtype=object)[hi],
        handler_id=roster["cadre_id"][hi],
        responded_at=np.where(responded <= np.datetime64(CUTOFF), responded, nat),
        deadline_at=np.where(has_deadline, deadline, nat),
        closed_at=np.where(open_, nat, closed),
        status=np.where(open_, "办理中", "已办结").astype(object),
        resolution_level=np.where(open_, None, np.where(u[3] < 0.8, "社区", "街道")).astype(object),
        callback_resolved=np.where(callback, u[4] < 0.9, None).astype(object),
        satisfaction=np.where(callback, sat, None).astype(object))


def _lists(cols: dict, names: list[str], lo: int, hi: int, sqlite: bool) -> list[list]:
    out = []
    for name in names:
        a = cols[name][lo:hi]
        if a.dtype.kind == "M" and str(a.dtype) == "datetime64[D]":
            out.append(np.datetime_as_string(a, unit="D").tolist())
        elif a.dtype.kind == "M":
            out.append(ts_text(a, sqlite))
        elif name == "callback_resolved" and sqlite:
            out.append([None if v is None else int(v) for v in a.tolist()])
        else:
            out.append(a.tolist())
    return out


# --------------------------------------------------------------------------- store

def store_cadres(engine) -> int | None:
    """N when the store holds a complete cadres bench build of N cadres, else None."""
    return logged_rows(engine, "cadres")


def build_cadres_store(engine, n: int, seed: int = SEED, chunk: int = 100_000,
                       log=lambda msg: None) -> dict[str, float]:
    """Replace the store's contents with N cadres and their year; timings."""
    from data.store import schema as S
    from data.store.db import create_schema, drop_schema

    t0 = time.perf_counter()
    roster = generate_roster(n, seed)
    drop_schema(engine)
    create_schema(engine)
    comms = roster["communities"]
    grids = sorted({(g, roster["community"][i]) for i, g in enumerate(roster["grid_id"]) if g})
    with engine.begin() as conn:
        conn.execute(S.communities.insert(), [
            dict(name=c.name, kind=c.kind, population=c.population, households=c.households)
            for c in comms])
        conn.execute(S.grids.insert(), [dict(grid_id=g, name=f"{c}{g[-3:]}网格", community=c)
                                        for g, c in grids])
        conn.execute(S.cadres.insert(), [
            dict(cadre_id=roster["cadre_id"][i], name=roster["name"][i],
                 role=roster["role"][i], community=roster["community"][i],
                 grid_id=roster["grid_id"][i], joined_on=roster["joined_on"][i],
                 left_on=roster["left_on"][i]) for i in range(n)])
    tables = {"attendance": (S.attendance, ATTENDANCE_COLUMNS, generate_attendance(roster, seed)),
              "worklogs": (S.worklogs, WORKLOG_COLUMNS, generate_worklogs(roster, seed)),
              "cases": (S.cases, CASE_COLUMNS, generate_cases(roster, seed))}
    t_gen = time.perf_counter()
    log(f"generated {n:,} cadres and their year in {t_gen - t0:.1f} s: " + ", ".join(
        f"{name} {len(cols[columns[0]]):,}" for name, (_, columns, cols) in tables.items()))
    for name, (table, columns, cols) in tables.items():
        rows = len(cols[columns[0]])
        t_load, t_index = without_indexes(engine, table, lambda: load_table(
            engine, table, columns, lambda lo, hi, sqlite: _lists(cols, columns, lo, hi, sqlite),
            rows, chunk))
        analyse(engine, name)
        log(f"{name}: inserted in {t_load:.1f} s, indexed in {t_index:.1f} s")
    from data import demo_map
    from data.ingest.boundaries import import_geojson

    import json as _json
    outlines = demo_map.synthetic_boundaries([c.name for c in comms])
    import_geojson(engine, _json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": k}, "geometry": g}
        for k, g in outlines.items()]}, ensure_ascii=False).encode())
    log_build(engine, n, seed, "cadres")
    return dict(generate=t_gen - t0, total=time.perf_counter() - t0)


# --------------------------------------------------------------------------- reference

def reference(engine, as_of: datetime, first: date = MONTH_START,
              last: date = MONTH_END) -> dict:
    """Per cadre, the period's attendance and work-log figures from rows loaded whole into
    pandas, with the calendar straight from ``chinese_calendar`` (independent of the
    engine, metrics.calendar and metrics.roster); default work hours 08:30–17:30, no grace."""
    import chinese_calendar
    import pandas as pd
    from sqlalchemy import text

    start, end = first, min(last, as_of.date())
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    work = {d for d in days if chinese_calendar.is_workday(d)}
    with engine.connect() as conn:
        cad = pd.read_sql(text("SELECT * FROM cadres"), conn)
        att = pd.read_sql(text("SELECT * FROM attendance WHERE day >= :s AND day <= :e"), conn,
                          params={"s": start, "e": end})
        logs = pd.read_sql(text("SELECT * FROM worklogs WHERE day >= :s AND day <= :e"), conn,
                           params={"s": start, "e": end})
    for frame, cols in ((cad, ("joined_on", "left_on")), (att, ("day",)), (logs, ("day",))):
        for c in cols:
            frame[c] = pd.to_datetime(frame[c]).dt.date
    for c in ("check_in_at", "check_out_at"):
        att[c] = pd.to_datetime(att[c])
    logs["created_at"] = pd.to_datetime(logs["created_at"])
    info = cad.set_index("cadre_id")
    out: dict[str, dict] = {}

    def active(cid, d):
        j, left = info.at[cid, "joined_on"], info.at[cid, "left_on"]
        return (pd.isna(j) or j <= d) and (pd.isna(left) or left >= d)

    for cid in info.index:
        sched = [d for d in days if d in work and active(cid, d)]
        if not sched:
            continue
        out[cid] = {"attendance.scheduled_days": len(sched)}
    att = att[att["cadre_id"].isin(out)]
    att = att[att["check_in_at"].notna() & (att["check_in_at"] <= as_of)]
    att["present"] = [d in work and active(c, d) for c, d in zip(att["cadre_id"], att["day"])]
    day0 = pd.to_datetime(att["day"])
    att["out"] = att["check_out_at"].notna() & (att["check_out_at"] <= as_of)
    since = (att["check_in_at"] - day0).dt.total_seconds()
    until = (att["check_out_at"] - day0).dt.total_seconds()
    dur = (att["check_out_at"] - att["check_in_at"]).dt.total_seconds()
    logs = logs[logs["cadre_id"].isin(out) & (logs["created_at"].isna()
                                              | (logs["created_at"] <= as_of))]
    for cid, f in out.items():
        a = att[att["cadre_id"] == cid]
        p = a[a["present"]]
        both = p[p["out"] & (dur[p.index] >= 0)]
        lg = logs[logs["cadre_id"] == cid]
        logged = {d for d in lg["day"] if d in work and active(cid, d)}
        f.update({
            "attendance.present_days": len(p),
            "attendance.absent": f["attendance.scheduled_days"] - len(p),
            "attendance.rate": len(p) / f["attendance.scheduled_days"],
            "attendance.late": int((since[p.index] > 30600).sum()),
            "attendance.early_leave": int((p["out"] & (until[p.index] < 63000)).sum()),
            "attendance.missing_checkout": int((~p["out"]).sum()),
            "attendance.offday_checkins": int((~a["day"].isin(work)).sum()),
            "attendance.avg_field_hours": (dur[both.index].sum() / len(both) / 3600
                                           if len(both) else None),
            "worklogs.logs": len(lg),
            "worklogs.log_rate": len(logged) / f["attendance.scheduled_days"],
            "worklogs.visits": int(lg["visits"].fillna(0).sum()),
            "worklogs.issues_reported": int(lg["issues_reported"].fillna(0).sum()),
        })
    return out


def compare_cadres(groups: dict, ref: dict) -> list[str]:
    """Differences between the kpi report's cadre groups and the reference (its keys)."""
    diffs = []
    if set(groups) != set(ref):
        diffs.append(f"cadres differ: {sorted(set(groups) ^ set(ref))[:5]}")
    for cid in sorted(set(groups) & set(ref)):
        mine = {k: groups[cid].get(k) for k in ref[cid]}
        diffs += differences(mine, ref[cid], cid)
    return diffs


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
        import json

        report = json.loads(buf.getvalue())
        out["kpis"] = report["kpis"]
        out["groups"] = report["groups"]
    elif mode == "trace":
        import tracemalloc

        from data.store.db import get_engine
        from metrics.context import make_query
        from metrics.period import Period
        from metrics.report import kpi_report

        engine = get_engine(url)
        q = make_query(engine, Period(MONTH_START, MONTH_END), as_of=as_of)
        tracemalloc.start()
        kpi_report(engine, q, by="cadre", only=tuple(ONLY.split(",")))
        out["trace_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    elif mode == "parts":
        import dataclasses

        from data.store.db import get_engine
        from metrics import appraisal, attendance, worklogs
        from metrics.context import make_query
        from metrics.engine import compute
        from metrics.period import Period

        engine = get_engine(url)
        q = make_query(engine, Period(MONTH_START, MONTH_END), as_of=as_of)
        timings = {}
        t = time.perf_counter()
        att = compute(engine, attendance.DOMAIN, q, by=("cadre",))
        timings["attendance"] = time.perf_counter() - t
        t = time.perf_counter()
        worklogs.suspects(engine, q)
        timings["suspect logs alone"] = time.perf_counter() - t
        t = time.perf_counter()
        wl = compute(engine, worklogs.DOMAIN, q, by=("cadre",))
        timings["work logs (suspect logs included)"] = time.perf_counter() - t
        t = time.perf_counter()
        compute(engine, appraisal.HANDLED, dataclasses.replace(q, scope=()), by=("cadre",))
        timings["cases by handler"] = time.perf_counter() - t
        t = time.perf_counter()
        compute(engine, appraisal.DOMAIN, q, by=("cadre",),
                known={"attendance": att, "worklogs": wl})
        timings["appraisal (cases by handler included)"] = time.perf_counter() - t
        out["parts"] = timings
    out["rss_mb"] = rss_mb()
    return out


# --------------------------------------------------------------------------- driver

def run_cadres_bench(args) -> int:
    """Build or reuse the store, measure in subprocesses, print the table; 0 if targets met."""
    from data.store.db import get_engine

    n = int(args.cadres)
    if n < 50:
        print("--cadres 至少 50 (at least 50 cadres)", file=sys.stderr)
        return 2
    url = open_store(args, args.db or default_url(n), n, store_cadres, build_cadres_store,
                     "cadres", "cadres and one year of their records")
    repeat = repeats(args)
    as_of = CUTOFF
    say(f"measuring python cli.py {' '.join(kpi_argv('URL', as_of)[3:])}, each in a new "
        "process …")
    load_before = os.getloadavg()[0]
    colds = [child("cold", url, as_of, "cadres") for _ in range(repeat)]
    trace = child("trace", url, as_of, "cadres")
    parts = child("parts", url, as_of, "cadres")
    cold_wall, cold_rss = median_of(colds, "wall_s"), max(c["rss_mb"] for c in colds)
    engine = get_engine(url)
    ref = reference(engine, as_of)
    diffs = compare_cadres(colds[0]["groups"], ref)
    for c in colds[1:]:
        diffs += differences(c["groups"], colds[0]["groups"], "repeat")
    k = colds[0]["kpis"]
    with engine.connect() as conn:
        from sqlalchemy import func, select

        from data.store.schema import attendance, cases, worklogs
        sizes = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (attendance, worklogs, cases)}
    say("")
    say(f"store: {n:,} cadres; attendance {sizes['attendance']:,}, work logs "
        f"{sizes['worklogs']:,}, cases {sizes['cases']:,} rows (2025). October 2025: "
        f"{k['attendance.scheduled_days']:,} scheduled cadre-days, attendance rate "
        f"{k['attendance.rate']:.1%}, {k['worklogs.logs']:,} logs, {k['worklogs.suspect']:,} "
        f"suspect, {len(colds[0]['groups']):,} cadre groups, mean score "
        f"{k['appraisal.mean_score']:.2f}")
    say(f"database: {engine.dialect.name}; cold = median of {repeat} fresh processes (peak "
        f"RSS: the largest); load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after on {os.cpu_count()} CPUs")
    head = f"{'metric':<44}{'value':>10}"
    say(head)
    say("-" * len(head))
    rows = [("whole process wall time (s)", cold_wall),
            ("whole process CPU time (s)", median_of(colds, "cpu_s")),
            ("inside cli.main (s)", median_of(colds, "compute_s")),
            ("peak RSS (MB)", cold_rss),
            ("tracemalloc peak of the computation (MB)", trace["trace_peak_mb"])]
    rows += [(f"  part: {name} (s)", v) for name, v in parts["parts"].items()]
    for name, v in rows:
        say(f"{name:<44}{v:>10.3f}")
    return verdict(engine, cold_wall, cold_rss, diffs, TARGET_COLD_S, TARGET_RSS_MB)

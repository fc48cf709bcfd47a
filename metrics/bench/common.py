"""Plumbing shared by the city-scale benchmarks (one module per domain beside this one).

- the store: creating a server database the URL names, bulk loading generated column
  arrays (SQLite: driver ``executemany`` in one transaction per chunk with
  ``synchronous=OFF``; PostgreSQL: ``COPY``; others: SQLAlchemy Core), the table's indexes
  dropped during the load and rebuilt afterwards, statistics, and the ``import_log`` row
  (``source='bench'``) by which a complete build is recognised and reused;
- the children: each measurement runs in a fresh ``python -m metrics.bench --measure MODE
  --domain D`` process; the parent times the whole process and the child reports its
  peak RSS (``VmHWM``) as one line of JSON;
- comparing our figures with a pandas reference, to 1e-9, through nested tables.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from datetime import date, datetime, time as dtime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:  # ``python metrics/bench/...`` as well as ``-m metrics.bench``
    sys.path.insert(0, str(ROOT))

FIRST_DAY = date(2023, 1, 1)
LAST_DAY = date(2025, 12, 31)
CUTOFF = datetime.combine(LAST_DAY, dtime(23, 59, 59))
MEASURE_START = date(2025, 1, 1)
MEASURE_END = LAST_DAY
SEED = 7


def bench_path(name: str) -> str:
    """``sqlite:///<project>/bench/<name>.db`` (``bench/`` is git-ignored)."""
    return f"sqlite:///{ROOT / 'bench' / f'{name}.db'}"


# --------------------------------------------------------------------------- store

def ensure_database(url: str) -> None:
    """Create the server database the URL names when it does not exist yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from data.store.db import _normalise

    u = make_url(_normalise(url))
    backend = u.get_backend_name()
    if backend == "sqlite" or not u.database:
        return
    admin_db = "postgres" if backend == "postgresql" else None
    admin = create_engine(u.set(database=admin_db), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if backend == "postgresql":
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                      {"d": u.database}).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{u.database}"'))
            else:
                conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{u.database}` "
                                  "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    finally:
        admin.dispose()


def say(message: str) -> None:
    print(message, flush=True)


def verdict(engine, cold_wall: float, cold_rss: float, diffs: list, target_s: float,
            target_mb: float) -> int:
    """Say whether the cold run met its targets (judged on SQLite only, reported elsewhere)
    and whether the figures agree with the reference; the bench's exit code."""
    judged = engine.dialect.name == "sqlite"
    checks = [
        (f"cold whole process ≤ {target_s:g} s", cold_wall <= target_s
         if judged else None, f"{cold_wall:.2f} s"),
        (f"peak RSS ≤ {target_mb:g} MB", cold_rss <= target_mb if judged else None,
         f"{cold_rss:.0f} MB"),
        ("same figures as the pandas reference (1e-9)", not diffs, f"{len(diffs)} differences"),
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


def repeats(args) -> int:
    """How many cold runs of each side (``--repeat``, at least 1)."""
    return max(1, int(getattr(args, "repeat", 3) or 3))


def open_store(args, url: str, n: int, count_rows, build, noun: str,
               contents: str | None = None) -> str:
    """The normalised URL of a bench store holding exactly ``n`` ``noun``: reused when
    ``count_rows(engine)`` says so (and ``--rebuild`` is not given), else built now by
    ``build(engine, n, log=...)``; ``contents`` describes what is built (default: noun)."""
    from sqlalchemy.engine import make_url

    from data.store.db import _normalise, get_engine

    url = _normalise(url)
    shown = make_url(url).render_as_string(hide_password=True)
    ensure_database(url)
    engine = get_engine(url)
    if count_rows(engine) == n and not getattr(args, "rebuild", False):
        say(f"reusing {shown} ({n:,} {noun})")
    else:
        say(f"building {shown} with {n:,} {contents or noun} …")
        took = build(engine, n, log=lambda m: say("  " + m))
        say(f"  store built in {took['total']:.1f} s")
    engine.dispose()
    return url


def logged_rows(engine, table_name: str) -> int | None:
    """N when the store holds a complete bench build of N rows of the table at the newest
    schema version, else None (an older store is rebuilt, not upgraded)."""
    from sqlalchemy import func, inspect, select

    from data.store import migrate
    from data.store.schema import import_log, metadata

    inspector = inspect(engine)
    if not inspector.has_table("import_log") or not inspector.has_table(table_name):
        return None
    if not migrate.is_current(engine):
        return None
    with engine.connect() as conn:
        logged = conn.execute(select(import_log.c.inserted).where(
            import_log.c.source == "bench", import_log.c.table_name == table_name)
            .order_by(import_log.c.id.desc())).first()
        if logged is None:
            return None
        count = conn.execute(select(func.count())
                             .select_from(metadata.tables[table_name])).scalar_one()
    return count if count == logged[0] else None


def fresh_store_with_roster(engine, seed: int) -> None:
    """Drop every table, create the head's schema and insert the demo roster
    (communities with their populations, grids, cadres active by the last day)."""
    from data import demo
    from data.store import schema as S
    from data.store.db import create_schema, drop_schema

    drop_schema(engine)
    create_schema(engine)
    roster = demo.build_roster(seed)
    with engine.begin() as conn:
        conn.execute(S.communities.insert(), [
            dict(name=c.name, kind=c.kind, population=c.population, households=c.households)
            for c in roster.communities])
        conn.execute(S.grids.insert(), [dict(grid_id=g.grid_id, name=g.name,
                                             community=g.community) for g in roster.grids])
        conn.execute(S.cadres.insert(), [
            dict(cadre_id=c.cadre_id, name=c.name, role=c.role, community=c.community,
                 grid_id=c.grid_id, joined_on=c.joined_on,
                 left_on=c.left_on if c.left_on and c.left_on <= LAST_DAY else None)
            for c in roster.cadres if c.joined_on <= LAST_DAY])


def ts_text(arr: np.ndarray, sqlite: bool) -> list:
    """Timestamps as the text SQLAlchemy's SQLite DATETIME stores (or ISO for COPY)."""
    s = np.datetime_as_string(arr, unit="s")
    suffix = ".000000" if sqlite else ""
    return [None if v == "NaT" else v[:10] + " " + v[11:] + suffix for v in s.tolist()]


def load_table(engine, table, columns: list[str], lists_of, n: int, chunk: int) -> None:
    """Insert n rows into the table; ``lists_of(lo, hi, sqlite)`` gives rows lo..hi as one
    list of values per column (timestamps as ``ts_text``)."""
    backend = engine.dialect.name
    if backend == "sqlite":
        sql = (f'INSERT INTO {table.name} ({", ".join(columns)}) '
               f'VALUES ({", ".join("?" * len(columns))})')
        raw = engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            # a bench store can always be rebuilt: no fsync while building
            dbapi.execute("PRAGMA synchronous=OFF")
            dbapi.execute("PRAGMA cache_size=-262144")
            dbapi.execute("PRAGMA temp_store=MEMORY")
            for lo in range(0, n, chunk):
                rows = list(zip(*lists_of(lo, min(n, lo + chunk), True)))
                dbapi.execute("BEGIN")
                dbapi.executemany(sql, rows)
                dbapi.execute("COMMIT")
            dbapi.execute("PRAGMA synchronous=NORMAL")
        finally:
            raw.close()
    elif backend == "postgresql":
        raw = engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            with dbapi.cursor() as cur:
                for lo in range(0, n, chunk):
                    rows = zip(*lists_of(lo, min(n, lo + chunk), False))
                    with cur.copy(f"COPY {table.name} ({', '.join(columns)}) "
                                  "FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    dbapi.commit()
        finally:
            raw.close()
    else:
        from sqlalchemy import DateTime

        datetimes = {c.name for c in table.columns if isinstance(c.type, DateTime)}
        for lo in range(0, n, chunk):
            rows = [dict(zip(columns, r)) for r in zip(*lists_of(lo, min(n, lo + chunk),
                                                                 False))]
            for r in rows:
                for c in datetimes.intersection(r):
                    if r[c] is not None:
                        r[c] = datetime.fromisoformat(r[c])
            with engine.begin() as conn:
                conn.execute(table.insert(), rows)


def without_indexes(engine, table, load) -> tuple[float, float]:
    """Drop the table's indexes, run ``load()``, rebuild them; (load s, index s)."""
    indexes = list(table.indexes)
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn)
    t0 = time.perf_counter()
    load()
    t1 = time.perf_counter()
    with engine.begin() as conn:
        for ix in indexes:
            ix.create(conn)
    return t1 - t0, time.perf_counter() - t1


def analyse(engine, table_name: str) -> None:
    from sqlalchemy import text

    backend = engine.dialect.name
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    elif backend == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text(f"ANALYZE TABLE {table_name}"))


def log_build(engine, n: int, seed: int, table_name: str) -> None:
    """The import_log rows that mark a complete build of n rows of ``table_name``."""
    from data.store.schema import import_log

    with engine.begin() as conn:
        conn.execute(import_log.insert(), [dict(
            table_name=name, file_name=f"bench n={n} seed={seed}", source="bench",
            imported_at=CUTOFF, exported_at=CUTOFF,
            inserted=n if name == table_name else 0, updated=0, rejected=0,
            imported_by="bench")
            for name in ("communities", "grids", "cadres", table_name)])


# --------------------------------------------------------------------------- children

def query(engine, as_of: datetime):
    from metrics.context import make_query
    from metrics.period import Period

    return make_query(engine, Period(MEASURE_START, MEASURE_END), as_of=as_of)


def rss_mb() -> float:
    """This process's peak resident memory (MB). ``VmHWM`` rather than ``ru_maxrss``:
    Linux carries the parent's ``ru_maxrss`` over fork + exec, so a child started by a
    parent that has just built a million rows would report the parent's peak."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child(mode: str, url: str, as_of: datetime, domain: str = "cases") -> dict:
    """One measurement in a fresh process; its JSON with the parent's ``wall_s``."""
    cmd = [sys.executable, "-m", "metrics.bench", "--measure", mode, "--domain", domain,
           "--db", url, "--as-of", as_of.isoformat()]
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"measurement {domain} {mode} failed:\n{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["wall_s"] = wall
    # CPU seconds of the whole child (user + system, every thread): what a busy machine
    # inflates least
    data["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return data


def same(a, b, tol: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def differences(ours, theirs, where: str = "", tol: float = 1e-9) -> list[str]:
    """Every difference between two nested values (dicts with the same keys; numbers to
    ``tol``; texts, None and booleans exactly)."""
    if isinstance(ours, dict) or isinstance(theirs, dict):
        if not (isinstance(ours, dict) and isinstance(theirs, dict)):
            return [f"{where}: {ours!r} != {theirs!r}"]
        if set(ours) != set(theirs):
            return [f"{where}: keys differ {sorted(map(str, set(ours) ^ set(theirs)))[:5]}"]
        out = []
        for key in ours:
            out += differences(ours[key], theirs[key], f"{where} {key}".strip(), tol)
        return out
    numbers = (int, float)
    if (isinstance(ours, numbers) and not isinstance(ours, bool)
            and isinstance(theirs, numbers) and not isinstance(theirs, bool)):
        return [] if same(ours, theirs, tol) else [f"{where}: {ours} != {theirs}"]
    return [] if ours == theirs and type(ours) is type(theirs) else \
        [f"{where}: {ours!r} != {theirs!r}"]


def median_of(runs: list[dict], key: str) -> float:
    import statistics

    return statistics.median(r[key] for r in runs)

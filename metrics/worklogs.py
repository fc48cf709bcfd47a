"""工作日志 (``worklogs.*`` of KPI.md): the work-log domain's declaration to the engine, and
the 存疑日志 (suspect logs) with their reasons.

Rows are logs joined with the roster (role, community; the scope is the cadre's
community); the cohort date is the log's ``day``. A log written after as_of
(``created_at``) has not happened yet. The log rate counts *days*, not logs: a log counts
for the rate when it is the first log of its cadre and day (no visible log of the same
cadre and day with a smaller ``log_id``; answered from ``ix_worklogs_cadre_day``) and the day
is a scheduled day, so two logs on one day make one logged day. Scheduled days and the
suspect logs come per cadre and month as the engine's ``extra``: scheduled days from the
roster and the calendar, suspect logs from ``suspects`` below, which compares texts in
Python.

A log is suspect (存疑) when it is

- 雷同: a near-duplicate of an earlier-written log by the same cadre dated within 30 days
  of it (character 3-gram Jaccard >= ``worklogs.duplicate_similarity``; the later-written
  one is the copy; ``metrics.similarity`` finds the pairs without comparing every pair);
- 过短: shorter than ``worklogs.min_chars`` characters (whitespace trimmed);
- 补录过晚: written more than ``worklogs.late_days`` calendar days after its day;
- 月末集中补录: one of at least ``worklogs.batch_min_logs`` logs of a month's earlier days
  that the cadre wrote on the month's last two days.
"""
from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy import Engine, String, cast, exists, func, literal_column, or_, select

from data.store.schema import cadres, worklogs
from metrics import calendar, roster
from metrics.context import Query
from metrics.engine import Domain, Result, compute as engine_compute
from metrics.engine.cube import workers
from metrics.similarity import near_duplicates_bulk
from metrics.sqlfn import flag

DUPLICATE_WINDOW_DAYS = 30
REASONS = {"duplicate": "雷同", "short": "过短", "late": "补录过晚", "batch": "月末集中补录"}
CADRES_PER_THREAD = 200  # fewer cadres are not worth a second connection


def visible(q: Query) -> list:
    """Logs written by as_of (a log without a written time counts from its day)."""
    return [or_(worklogs.c.created_at.is_(None), worklogs.c.created_at <= q.as_of)]


def indicators(q: Query) -> dict:
    w = worklogs.c
    earlier = worklogs.alias("same_day")
    first = ~exists().where(earlier.c.cadre_id == w.cadre_id, earlier.c.day == w.day,
                            earlier.c.log_id < w.log_id,
                            or_(earlier.c.created_at.is_(None),
                                earlier.c.created_at <= q.as_of))
    return {
        "zero": literal_column("0"),
        "first_of_day": flag(first),
        "workday": flag(w.day.in_(calendar.workdays(q.period.start, roster.last_day(q)))),
        "active": flag(roster.active_on(w.day)),
        "visits": func.coalesce(w.visits, 0),
        "issues": func.coalesce(w.issues_reported, 0),
    }


COUNTS = {
    "scheduled": lambda i: i["zero"],   # from the roster and the calendar (extra)
    "logged_days": lambda i: i["first_of_day"] * i["workday"] * i["active"],
    "visits": lambda i: i["visits"],
    "issues_reported": lambda i: i["issues"],
    "suspect": lambda i: i["zero"],     # from the texts (extra)
}


# ---------------------------------------------------------------------------- suspect logs

@dataclass(frozen=True)
class Suspect:
    log_id: str
    cadre_id: str
    day: date
    created_at: datetime | None
    chars: int
    reasons: tuple[str, ...]          # keys of REASONS, in that order
    copies: str | None = None         # 雷同: the earlier log it copies
    copies_day: date | None = None
    similarity: float | None = None
    batch_size: int | None = None     # 月末集中补录: logs in that batch

    @property
    def why(self) -> str:
        return "、".join(REASONS[r] for r in self.reasons)


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _month_end(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1) - timedelta(days=1)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass
class _Logs:
    """Logs as columns, in written order within each cadre (numpy where it pays)."""

    log_id: np.ndarray      # object
    cadre: np.ndarray       # object
    day: np.ndarray         # datetime64[D]
    created: np.ndarray     # datetime64[s], NaT when not recorded
    content: list

    def take(self, order: np.ndarray) -> "_Logs":
        return _Logs(self.log_id[order], self.cadre[order], self.day[order],
                     self.created[order], [self.content[i] for i in order.tolist()])


SEP = "\x1f"  # the unit separator: between the fields of a log read as one text


def _read_logs(engine: Engine, q: Query, first: date, last: date, who,
               all_cadres: bool = True) -> _Logs:
    """Visible logs dated first..last of the cadres ``who`` (the roster in scope), sorted by
    cadre, written time (the day for a log without one) and log id. Each log comes back
    as one text (cadre, id, day, written time, content; the content last, so it may hold
    anything), which halves the cost of reading a month of a city's logs; the dates are
    parsed in bulk by numpy."""
    w = worklogs.c
    line = (w.cadre_id + SEP + w.log_id + SEP + cast(w.day, String()) + SEP
            + func.coalesce(cast(w.created_at, String()), "") + SEP
            + func.coalesce(w.content, ""))
    stmt = select(line).where(w.day >= first, w.day <= last, *visible(q),
                              *([] if all_cadres else [w.cadre_id.in_(list(who))]))
    with engine.connect() as conn:
        texts = conn.execute(stmt).scalars().all()
    rows = [r for r in (t.split(SEP, 4) for t in texts) if r[0] in who]
    if not rows:
        return _Logs(np.array([], dtype=object), np.array([], dtype=object),
                     np.array([], dtype="datetime64[D]"), np.array([], dtype="datetime64[s]"),
                     [])
    cadre, log_id, day, created, content = zip(*rows)
    logs = _Logs(np.array(log_id, dtype=object), np.array(cadre, dtype=object),
                 np.array(day, dtype="datetime64[D]"),
                 np.array(created, dtype="datetime64[us]").astype("datetime64[s]"),
                 list(content))
    written = np.where(np.isnat(logs.created), logs.day.astype("datetime64[s]"), logs.created)
    order = np.lexsort((_ranks(logs.log_id), written, _ranks(logs.cadre)))
    return logs.take(order)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each text's position in code-point order (the same on every database)."""
    return np.unique(values.astype(str), return_inverse=True)[1]


def suspects(engine: Engine, q: Query) -> list[Suspect]:
    """The suspect logs of the period (the cohort: dated in the period by as_of, written
    by as_of, cadre in scope), ordered by cadre and day. Every rule looks at one cadre's
    logs only, so the cadres are shared out among ``app.query_workers`` threads, each
    reading its cadres' logs on its own connection (one on an in-memory store)."""
    who = roster.read(engine, q)
    ids = sorted(who)
    n = max(1, min(workers(engine, q), len(ids) // CADRES_PER_THREAD or 1))
    parts = [{c: who[c] for c in ids[i * len(ids) // n:(i + 1) * len(ids) // n]}
             for i in range(n)]
    if n == 1:
        found = _suspects_of(engine, q, who, all_cadres=True)
    else:
        with ThreadPoolExecutor(max_workers=n) as pool:
            found = [x for part in pool.map(lambda p: _suspects_of(engine, q, p), parts)
                     for x in part]
    return sorted(found, key=lambda x: (x.cadre_id, x.day, x.log_id))


def _suspects_of(engine: Engine, q: Query, who: dict, all_cadres: bool = False
                 ) -> list[Suspect]:
    """The suspect logs of the cadres ``who``."""
    s = q.settings
    t = float(s.get_path("worklogs.duplicate_similarity"))
    min_chars = int(s.get_path("worklogs.min_chars"))
    late_days = int(s.get_path("worklogs.late_days"))
    batch_min = int(s.get_path("worklogs.batch_min_logs"))
    start, end = q.period.start, roster.last_day(q)
    if end < start:
        return []
    # originals up to 30 days before; whole months for the month-end batches
    first = min(start - timedelta(days=DUPLICATE_WINDOW_DAYS), _month_start(start))
    last = min(_month_end(end), q.as_of.date())
    logs = _read_logs(engine, q, first, last, who, all_cadres)
    if not len(logs.log_id):
        return []
    group = _ranks(logs.cadre)
    in_period = (logs.day >= np.datetime64(start)) & (logs.day <= np.datetime64(end))
    copies = {m.index: m for m in near_duplicates_bulk(
        logs.content, group, logs.day.astype(np.int64), in_period, t, DUPLICATE_WINDOW_DAYS)}
    chars = np.fromiter((len((x or "").strip()) for x in logs.content), dtype=np.int64,
                        count=len(logs.content))
    made = logs.created.astype("datetime64[D]")           # NaT stays NaT
    has_made = ~np.isnat(made)
    late = has_made & ((made - logs.day).astype(np.int64) > late_days)
    # month-end batch: written on the month's last two days for an earlier day of it
    month = logs.day.astype("datetime64[M]")
    month_last = (month + 1).astype("datetime64[D]") - 1
    batch = (has_made & (made.astype("datetime64[M]") == month) & (logs.day < made)
             & (made >= month_last - 1))
    key = group * 100_000 + month.astype(np.int64)
    batch_size = np.zeros(len(key), dtype=np.int64)
    if batch.any():
        uniq, inverse, counts = np.unique(key[batch], return_inverse=True, return_counts=True)
        batch_size[batch] = counts[inverse]
    in_batch = batch & (batch_size >= batch_min)
    flagged = in_period & ((chars < min_chars) | late | in_batch)
    flagged[list(copies)] = True
    out = []
    for i in np.flatnonzero(flagged).tolist():
        reasons = tuple(r for r, hit in (("duplicate", i in copies), ("short", chars[i] < min_chars),
                                         ("late", late[i]), ("batch", in_batch[i])) if hit)
        match = copies.get(i)
        created = logs.created[i]
        out.append(Suspect(
            logs.log_id[i], logs.cadre[i], logs.day[i].item(),
            None if np.isnat(created) else created.item(), int(chars[i]), reasons,
            copies=logs.log_id[match.original] if match else None,
            copies_day=logs.day[match.original].item() if match else None,
            similarity=match.similarity if match else None,
            batch_size=int(batch_size[i]) if in_batch[i] else None))
    return out


def extra(engine: Engine, q: Query) -> list:
    """Scheduled days (roster and calendar) and suspect logs, per cadre and month."""
    rows = roster.scheduled(engine, q, names=("scheduled",))
    found = suspects(engine, q)
    if found:
        who = roster.read(engine, ids={x.cadre_id for x in found})
        counts: dict[tuple, int] = defaultdict(int)
        for x in found:
            c = who[x.cadre_id]
            counts[(c.cadre_id, c.role, c.community, f"{x.day:%Y-%m}")] += 1
        rows += [({"cadre": k[0], "role": k[1], "community": k[2], "month": k[3]},
                  {"suspect": n}) for k, n in counts.items()]
    return rows


DOMAIN = Domain(
    name="worklogs",
    table=worklogs,
    cohort="day",
    dimensions=roster.dimensions(worklogs),
    indicators=indicators,
    counts=COUNTS,
    where=visible,
    extra=extra,
    source=lambda: roster.joined(worklogs),
    scope_column=roster.SCOPE_COLUMN,
    lanes=True,   # a city's cadres: the month's rows in date ranges side by side
)
DIMENSIONS = DOMAIN.breakdowns


def compute(engine: Engine, q: Query, by: tuple[str, ...] | None = None) -> Result:
    """Work-log figures for the query, overall and for each breakdown in ``by``."""
    return engine_compute(engine, DOMAIN, q, by)


def suspect_list(engine: Engine, q: Query) -> list[dict]:
    """The suspect logs with their cadre (id, name, role, community), why (in Chinese) and,
    for a near-duplicate, the log it copies, its day and the similarity. No log text: a
    log may name residents."""
    found = suspects(engine, q)
    who = roster.read(engine, ids={x.cadre_id for x in found}) if found else {}
    out = []
    for x in found:
        c = who[x.cadre_id]
        out.append({"log_id": x.log_id, "cadre_id": x.cadre_id, "name": c.name,
                    "role": c.role, "community": c.community, "day": x.day,
                    "created_at": x.created_at, "chars": x.chars, "why": x.why,
                    "reasons": list(x.reasons), "copies": x.copies,
                    "copies_day": x.copies_day, "similarity": x.similarity,
                    "batch_size": x.batch_size})
    return out


def logged_days(engine: Engine, q: Query, cadre_id: str) -> set[date]:
    """The scheduled days on which the cadre wrote a log (the log rate's numerator), by the
    same per-row counts as the figures."""
    if roster.require(engine, q, cadre_id) is None:
        return set()
    per_row = DOMAIN.row_counts(q)
    w = worklogs.c
    stmt = (select(w.day).select_from(DOMAIN.from_clause)
            .where(DOMAIN.cohort_filter(q), w.cadre_id == cadre_id, per_row["logged_days"] == 1))
    with engine.connect() as conn:
        return {_as_date(d) for d in conn.execute(stmt).scalars()}

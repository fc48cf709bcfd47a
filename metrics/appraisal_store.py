"""Publishing a month's cadre appraisal (考核评议) and reading it back.

``publish`` freezes a finished month: every appraised cadre's name, role, community,
score, tier, rank and parts go into ``appraisal_snapshot`` with one ``appraisal_published``
row (when, by whom, the moment the month was judged at, and the settings in force). From
then on ``month_view`` reads the month from the snapshot and recomputes it live beside it
(same moment, same settings): a cadre whose live score differs is a *revision*
(发布后数据有变动), shown next to the frozen figure, never in its place (KPI.md).

A month may be published once its data are complete (the store's 数据截至 lies past the
month's end); publishing it again needs ``force`` and replaces the snapshot.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from data.store import audit, clock
from data.store.db import data_as_of
from data.store.schema import appraisal_published, appraisal_snapshot
from metrics import appraisal
from metrics.access import cadre_name_visible
from metrics.settings import Settings, SettingsError, load_settings, validate


class PublishError(ValueError):
    """A month that cannot be published (not finished, already published): one Chinese line."""


@dataclass
class MonthView:
    """A month's appraisal as pages and exports show it."""

    month: str
    as_of: datetime
    rows: list[dict]                     # the figures shown (snapshot if published)
    published_at: datetime | None = None
    published_by: str | None = None
    live: dict[str, dict] = field(default_factory=dict)  # cadre -> live row, when published
    complete: bool = True                # the month's data reach past its end

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def revisions(self) -> dict[str, dict]:
        """Cadres whose live score differs from the frozen one (or who appear or disappear):
        cadre -> {"score": frozen, "live_score": live or None, "live_tier", "live_rank"}."""
        if not self.published:
            return {}
        out = {}
        frozen = {r["cadre_id"]: r for r in self.rows}
        for cadre_id in sorted(set(frozen) | set(self.live)):
            was, now = frozen.get(cadre_id), self.live.get(cadre_id)
            # a score that changes moves others' ranks: only the score itself is a revision
            if was and now and was["score"] == now["score"]:
                continue
            out[cadre_id] = {"score": was["score"] if was else None,
                             "live_score": now["score"] if now else None,
                             "live_tier": now["tier"] if now else None,
                             "live_rank": now["rank"] if now else None,
                             "name": (was or now)["name"]}
        return out

    def within(self, allowed: tuple[str, ...] | None) -> "MonthView":
        """The view as a viewer held to ``allowed`` communities sees it: their cadres only
        (ranks stay those within the whole sub-district); None: unchanged."""
        if allowed is None:
            return self

        def keep(r: dict) -> bool:
            return cadre_name_visible(r["community"], allowed)
        return replace(self, rows=[r for r in self.rows if keep(r)],
                       live={k: r for k, r in self.live.items() if keep(r)})

    def title(self, office: str = "") -> str:
        y, m = self.month.split("-")
        what = (f"已发布(发布于 {self.published_at:%Y-%m-%d %H:%M}, 发布时的快照)" if self.published
                else "未发布(实时计算)")
        return f"{office}{y}年{int(m)}月干部考核结果 · {what}"


def _row(r) -> dict:
    return {"cadre_id": r.cadre_id, "name": r.name, "role": r.role, "community": r.community,
            "score": float(r.score), "tier": r.tier, "rank": int(r.rank),
            "parts": json.loads(r.parts)}


def _settings_at_publication(text: str) -> Settings:
    """The settings a month was published with (current settings if they no longer load)."""
    try:
        return validate(json.loads(text), "发布时的设置")
    except (SettingsError, ValueError):
        return load_settings()


def read_published(engine: Engine, month: str) -> tuple[dict, list[dict]] | None:
    """The publication row and the frozen rows (in role and rank order), or None."""
    p, s = appraisal_published.c, appraisal_snapshot.c
    with engine.connect() as conn:
        head = conn.execute(select(appraisal_published).where(p.month == month)).first()
        if head is None:
            return None
        rows = [_row(r) for r in conn.execute(select(appraisal_snapshot)
                                              .where(s.month == month))]
    return dict(head._mapping), sorted(rows, key=appraisal.role_order)


def published_months(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(appraisal_published.c.month)
                                 .order_by(appraisal_published.c.month)).scalars())


def live_rows(engine: Engine, month: str, settings: Settings | None = None,
              as_of: datetime | None = None) -> tuple[datetime, list[dict]]:
    """The month appraised now: (the moment it is judged at, its rows)."""
    q = appraisal.month_query(engine, month, settings, as_of=as_of)
    return q.as_of, appraisal.sheet(engine, q)


def month_view(engine: Engine, month: str, settings: Settings | None = None,
               allowed: tuple[str, ...] | None = None) -> MonthView:
    """The month as pages and exports show it: the snapshot and the live figures beside it
    when published, else the live figures; ``allowed``: only the cadres of these
    communities (the viewer's limit, ``MonthView.within``)."""
    return _month_view(engine, month, settings).within(allowed)


def _month_view(engine: Engine, month: str, settings: Settings | None = None) -> MonthView:
    store_as_of = data_as_of(engine) or clock.now()
    complete = appraisal.month_complete(month, store_as_of)
    found = read_published(engine, month)
    if found is None:
        as_of, rows = live_rows(engine, month, settings)
        return MonthView(month, as_of, rows, complete=complete)
    head, rows = found
    _, live = live_rows(engine, month, _settings_at_publication(head["settings"]),
                        as_of=head["as_of"])
    return MonthView(month, head["as_of"], rows, head["published_at"], head["published_by"],
                     live={r["cadre_id"]: r for r in live}, complete=complete)


def publish(engine: Engine, month: str, settings: Settings | None = None,
            by: str | None = None, force: bool = False) -> MonthView:
    """Freeze the month's appraisal; raises PublishError when the month has not ended in
    the store's data or is published already (unless ``force``)."""
    store_as_of = data_as_of(engine) or clock.now()
    if not appraisal.month_complete(month, store_as_of):
        raise PublishError(f"{month} 尚未结束(数据截至 {store_as_of:%Y-%m-%d %H:%M}), 不能发布;"
                           "请在该月数据完整后发布")
    if read_published(engine, month) is not None and not force:
        raise PublishError(f"{month} 已发布; 如需按当前数据重新发布, 请使用 --force(原快照将被替换)")
    settings = settings or load_settings()
    q = appraisal.month_query(engine, month, settings, as_of=store_as_of)
    rows = appraisal.sheet(engine, q)
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(delete(appraisal_snapshot).where(appraisal_snapshot.c.month == month))
        conn.execute(delete(appraisal_published).where(appraisal_published.c.month == month))
        conn.execute(insert(appraisal_published), [{
            "month": month, "published_at": now, "as_of": q.as_of, "published_by": by,
            "cadres": len(rows),
            "settings": json.dumps(settings, ensure_ascii=False, sort_keys=True)}])
        if rows:
            conn.execute(insert(appraisal_snapshot), [{
                "month": month, "cadre_id": r["cadre_id"], "name": r["name"],
                "role": r["role"], "community": r["community"], "score": r["score"],
                "tier": r["tier"], "rank": r["rank"],
                "parts": json.dumps(r["parts"], ensure_ascii=False, sort_keys=True)}
                for r in rows])
        audit.record(conn, by or "(未知)", "appraisal.publish",
                     f"发布 {month} 干部考核 {len(rows)} 人" + (" (重新发布)" if force else ""),
                     at=now)
    return month_view(engine, month, settings)

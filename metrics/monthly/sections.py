"""The monthly report's sections, one builder per domain: the ONE place a domain adds its
part of the report.

A builder takes the month's ``Context`` (cached results of every domain for the month, the
month before and the month a year earlier) and returns a ``Section`` (headline figures,
charts, tables, sentences), or None when its domain has no data in the store. A new
domain writes one function here and adds one line to ``SECTIONS``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, literal, select

from metrics import case_lists, registry
from metrics.compare import changes
from metrics.context import Query
from metrics.domains import DOMAINS
from metrics.engine import Composite, Result, compute
from metrics.monthly.model import Chart, Figure, Section, Table
from metrics.monthly.text import movement, target_miss_sentence
from metrics.period import Period
from metrics.registry import REGISTRY, meets_target, target

TREND_MONTHS = 12


@dataclass
class Context:
    """The month being reported and every domain's results for it, computed once each
    (the composite appraisal reads attendance and work logs from here)."""

    engine: Engine
    month: str
    query: Query                      # the month (up to 数据截至 while it runs)
    _cache: dict = field(default_factory=dict)

    @property
    def settings(self):
        return self.query.settings

    @property
    def period(self) -> Period:
        return self.query.period

    def query_for(self, which: str) -> Query:
        """``month``, ``prev`` (环比), ``year`` (同比) or ``trend`` (the 12 months to the
        month's end); 环比 and 同比 are KPI.md's, as on the pages and cards."""
        p = self.period
        if which == "prev":   # 环比 as KPI.md and every page: equal length, just before
            return self.query.with_period(p.previous())
        if which == "year":   # 同比: the same dates a year earlier
            return self.query.with_period(p.year_earlier())
        if which == "trend":
            index = p.start.year * 12 + p.start.month - 1 - (TREND_MONTHS - 1)
            return self.query.with_period(Period(date(index // 12, index % 12 + 1, 1), p.end))
        return self.query

    def result(self, domain: str, which: str = "month", by: tuple[str, ...] = ()) -> Result:
        key = (domain, which, by)
        if key not in self._cache:
            d = DOMAINS[domain]
            known = {}
            if isinstance(d, Composite):
                known = {name: self.result(name, which, by) for name in d.inputs}
            self._cache[key] = compute(self.engine, d, self.query_for(which), by=by,
                                       known=known)
        return self._cache[key]

    def present(self, domain: str) -> bool:
        """The domain has rows in the store (whatever the month)."""
        d = DOMAINS[domain]
        if isinstance(d, Composite):
            return all(self.present(name) for name in d.inputs)
        with self.engine.connect() as conn:
            return conn.execute(select(literal(1)).select_from(d.table).limit(1)).first() \
                is not None

    def figures(self, domain: str, keys: list[str]) -> list[Figure]:
        """Headline figures with 环比, 同比 and target, from the month's results."""
        now = self.result(domain).kpis
        prev, year = self.result(domain, "prev").kpis, self.result(domain, "year").kpis
        mom, yoy = changes(now, prev), changes(now, year)
        out = []
        for key in keys:
            pit = REGISTRY[key].point_in_time
            out.append(Figure(key, now.get(key), None if pit else mom.get(key),
                              None if pit else yoy.get(key), target(key, self.settings),
                              meets_target(key, now.get(key), self.settings), not pit))
        return out

    def month_label(self, month: str | None = None) -> str:
        m = month or self.month
        return f"{int(m[:4])}年{int(m[5:])}月"


SectionBuilder = Callable[[Context], Section | None]


# ----------------------------------------------------------------------------- helpers

def _unit_table(ctx: Context, domain: str, keys: list[str], title: str,
                first: str = "社区") -> Table:
    """One row per community with the month's figures of ``keys``."""
    groups = ctx.result(domain, by=("community",)).groups.get("community", {})
    columns = [first, *[REGISTRY[k].label for k in keys]]
    rows = [[unit, *[groups[unit].get(k) for k in keys]] for unit in sorted(groups)]
    return Table(title, columns, rows, {REGISTRY[k].label: REGISTRY[k].fmt for k in keys})


def _plain(value):
    """A value from a pandas frame as the model keeps it: NaN -> None, numpy -> Python."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _sentences(figures: list[Figure]) -> list[str]:
    return [s for f in figures if (s := movement(f))]


# ----------------------------------------------------------------------------- domains

CASES_FIGURES = ["cases.total", "cases.closure_rate", "cases.on_time_rate",
                 "cases.three_rate_score", "cases.satisfaction_rate", "cases.overdue_open"]


def cases_section(ctx: Context) -> Section | None:
    if not ctx.present("cases"):
        return None
    s = ctx.settings
    section = Section("cases", "诉求办理", ctx.figures("cases", CASES_FIGURES))
    by_unit = ctx.result("cases", by=("community",))
    table = case_lists.league_table(by_unit, "community", s)
    if not table.empty:  # the unranked in name order (databases sort names differently)
        table = table.assign(_order=table["rank"].fillna(10**9).astype(float)).sort_values(
            ["_order", "unit"], kind="stable").drop(columns="_order").reset_index(drop=True)
    rank_by = case_lists.RANK_BY
    ranked = table[table["ranked"]] if not table.empty else table
    if not ranked.empty:
        section.charts.append(Chart(f"各社区{REGISTRY[rank_by].label}排名", "bar",
                                    list(ranked["unit"]), list(ranked[rank_by]), "score",
                                    target(rank_by, s), REGISTRY[rank_by].label))
    trend = ctx.result("cases", "trend", by=("month",)).groups.get("month", {})
    if trend:
        section.charts.append(Chart(f"近{len(trend)}个月办结率", "line", list(trend),
                                    [f.get("cases.closure_rate") for f in trend.values()],
                                    "pct", target("cases.closure_rate", s), "办结率"))
    # ranking: every community, ranked ones first (the page's league table)
    keys = [rank_by, "cases.total", "cases.closure_rate", "cases.on_time_rate",
            "cases.satisfaction_rate"]
    if not table.empty:
        rows = [[None if _plain(r["rank"]) is None else int(r["rank"]),
                 r["unit"], *[_plain(r[k]) for k in keys], r["note"] or ""]
                for r in table.to_dict("records")]
        section.tables.append(Table(
            "社区排名（按三率综合得分）", ["排名", "社区", *[REGISTRY[k].label for k in keys], "说明"],
            rows, {"排名": "int", **{REGISTRY[k].label: REGISTRY[k].fmt for k in keys}},
            note=f"事件数少于最小样本量({int(s.get_path('cases.min_sample'))})的社区不排名。"))
    # 失分: each part's points lost = 100 × weight × (1 − rate), adding up to 100 − score
    score_kpi = REGISTRY[rank_by]
    weights = dict(zip(score_kpi.parts, registry.weights(score_kpi, s)))
    lost_rows = []
    if not ranked.empty:
        for r in ranked.to_dict("records"):
            parts = [None if _plain(r[p]) is None else 100 * w * (1 - r[p])
                     for p, w in weights.items()]
            lost_rows.append([r["unit"], _plain(r[rank_by]),
                              None if None in parts else sum(parts), *parts])
        lost_rows.sort(key=lambda row: -(row[2] or 0))
    section.tables.append(Table(
        "失分构成（按社区，失分多者在前）",
        ["社区", "三率综合得分", "失分", *[f"{REGISTRY[p].label}失分" for p in weights]],
        lost_rows[:10], {"三率综合得分": "score", "失分": "score",
                         **{f"{REGISTRY[p].label}失分": "score" for p in weights}},
        note="失分 = 100 − 三率综合得分，按各分项权重 × (1 − 分项比率) 拆分。"))
    # backlog: overdue open cases per community, judged at 数据截至
    groups = by_unit.groups.get("community", {})
    backlog = sorted(((u, f["cases.overdue_open"]) for u, f in groups.items()
                      if f.get("cases.overdue_open")), key=lambda x: (-x[1], x[0]))
    section.tables.append(Table(
        "超期未办结工单（按社区）", ["社区", "超期未办结"], [list(b) for b in backlog],
        {"超期未办结": "count"}, note=f"截至 {ctx.query.as_of:%Y-%m-%d %H:%M}。"))
    section.sentences = _sentences(section.figures)
    if (miss := target_miss_sentence("cases.closure_rate", table, s)):
        section.sentences.append(miss)
    if (miss := target_miss_sentence(rank_by, table, s)):
        section.sentences.append(miss)
    return section


def petitions_section(ctx: Context) -> Section | None:
    if not ctx.present("petitions"):
        return None
    keys = ["petitions.total", "petitions.persons", "petitions.collective",
            "petitions.repeat_rate", "petitions.closure_rate", "petitions.on_time_rate"]
    section = Section("petitions", "信访", ctx.figures("petitions", keys))
    section.tables.append(_unit_table(ctx, "petitions", ["petitions.total", "petitions.collective",
                                                         "petitions.closure_rate"],
                                      "各社区信访"))
    section.sentences = _sentences(section.figures[:3] + section.figures[4:5])
    return section


def incidents_section(ctx: Context) -> Section | None:
    if not ctx.present("incidents"):
        return None
    keys = ["incidents.total", "incidents.criminal", "incidents.public_order",
            "incidents.per_10k"]
    section = Section("incidents", "治安警情", ctx.figures("incidents", keys))
    cats = ctx.result("incidents", by=("category",)).groups.get("category", {})
    ordered = sorted(cats.items(), key=lambda kv: (-(kv[1]["incidents.total"] or 0), kv[0]))
    if ordered:
        section.charts.append(Chart("各类警情起数", "bar", [k for k, _ in ordered],
                                    [v["incidents.total"] for _, v in ordered], "count",
                                    value_title="起数"))
    section.tables.append(_unit_table(ctx, "incidents", ["incidents.total", "incidents.criminal",
                                                         "incidents.per_10k"], "各社区警情"))
    section.sentences = _sentences(section.figures[:2])
    return section


def cadres_section(ctx: Context) -> Section | None:
    if not ctx.present("attendance"):
        return None
    section = Section("cadres", "干部考勤与日志",
                      ctx.figures("attendance", ["attendance.rate", "attendance.late",
                                                 "attendance.early_leave", "attendance.absent"]))
    if ctx.present("worklogs"):
        section.figures += ctx.figures("worklogs", ["worklogs.log_rate", "worklogs.logs",
                                                    "worklogs.suspect"])
    table = _unit_table(ctx, "attendance", ["attendance.rate", "attendance.late",
                                            "attendance.absent"], "各社区干部考勤与日志")
    if ctx.present("worklogs"):
        logs = ctx.result("worklogs", by=("community",)).groups.get("community", {})
        table.columns.append(REGISTRY["worklogs.log_rate"].label)
        table.formats[REGISTRY["worklogs.log_rate"].label] = "pct"
        for row in table.rows:
            row.append(logs.get(row[0], {}).get("worklogs.log_rate"))
    section.tables.append(table)
    section.sentences = _sentences([f for f in section.figures
                                    if f.key in ("attendance.rate", "worklogs.log_rate")])
    return section


def appraisal_section(ctx: Context) -> Section | None:
    from metrics import appraisal
    from metrics.appraisal_store import month_view

    if not ctx.present("appraisal"):
        return None
    view = month_view(ctx.engine, ctx.month, ctx.settings)
    rows = [r for r in view.rows if not ctx.query.scope or r["community"] in ctx.query.scope]
    figures = {}
    for which, month in (("month", ctx.month), ("prev", _previous_month(ctx.month)),
                         ("year", f"{int(ctx.month[:4]) - 1:04d}{ctx.month[4:]}")):
        q = appraisal.month_query(ctx.engine, month, ctx.settings, as_of=ctx.query.as_of)
        q = Query(q.period, ctx.query.scope, q.as_of, ctx.settings)
        figures[which] = compute(ctx.engine, appraisal.DOMAIN, q, by=()).kpis
    key = "appraisal.mean_score"
    now = figures["month"].get(key)
    fig = Figure(key, now, changes({key: now}, figures["prev"]).get(key),
                 changes({key: now}, figures["year"]).get(key))
    section = Section("appraisal", "干部考核", [fig],
                      note=(f"按月末时点评定（考核时点 {view.as_of:%Y-%m-%d %H:%M}）"
                            + ("；已发布，表格为发布时快照" if view.published else "")))
    tiers = appraisal.tier_names(ctx.settings)
    by_role: dict[str, dict[str, int]] = {}
    for r in rows:
        by_role.setdefault(r["role"], dict.fromkeys(tiers, 0))[r["tier"]] += 1
    section.tables.append(Table("考核等次分布（按岗位）", ["岗位", *tiers, "合计"],
                                [[role, *counts.values(), sum(counts.values())]
                                 for role, counts in by_role.items()],
                                {t: "count" for t in [*tiers, "合计"]}))
    lowest = tiers[-1]
    weak = [r for r in rows if r["tier"] == lowest]
    if weak:
        section.tables.append(Table(f"{lowest}人员", ["姓名", "岗位", "社区", "考核得分"],
                                    [[r["name"], r["role"], r["community"] or "街道", r["score"]]
                                     for r in weak], {"考核得分": "score"}))
    total = figures["month"].get("appraisal.tiers") or {}
    if total:
        section.sentences.append(
            f"本月干部平均考核得分{fig.text.replace(' ', '')}，" + "、".join(f"{t}{n}人" for t, n in total.items())
            + "。")
    return section


def _previous_month(month: str) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


#: The report's sections in order, keyed by domain. A new domain adds one line here.
SECTIONS: dict[str, SectionBuilder] = {
    "cases": cases_section,
    "petitions": petitions_section,
    "incidents": incidents_section,
    "cadres": cadres_section,
    "appraisal": appraisal_section,
}

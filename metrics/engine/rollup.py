"""Roll a domain's cube up by each breakdown and derive every figure from the registry.

Memory follows the number of groups, not of rows: the cube is a few thousand rows of
counts, and each breakdown is a sum over it. Each KPI's value comes from its registry
entry (``metrics.registry.Kpi``): a count, a rate of two sums of counts (null on a zero
denominator), a weighted score of rates, or the point-in-time backlog; the few figures
that need the durations (percentiles) come from the domain's ``derived``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, select

from data.store.schema import communities

from metrics import registry
from metrics.context import Query
from metrics.engine.composite import Composite
from metrics.engine.cube import Cube, beside, load_cube
from metrics.engine.domain import Domain
from metrics.engine.union import Union, load_union
from metrics.stats import rate

Figures = dict[str, float | int | None]
Counts = dict[str, int]

# Time-to-close bins (hours) and their labels: the one home of the histogram's bins.
DURATION_BINS_H = [0, 4, 8, 24, 48, 72, 120, 168, 240, 360, 720, np.inf]
DURATION_LABELS = ["<4小时", "4–8小时", "8–24小时", "1–2天", "2–3天", "3–5天", "5–7天",
                   "7–10天", "10–15天", "15–30天", "30天以上"]


@dataclass
class Result:
    """All figures of one domain for one query: overall, per breakdown unit, and the
    duration histogram. ``counts`` holds each unit's additive counts (the numerators and
    denominators behind its rates, for intervals and explanations)."""

    domain: str
    kpis: Figures
    totals: Counts = field(default_factory=dict)
    groups: dict[str, dict[str, Figures]] = field(default_factory=dict)
    counts: dict[str, dict[str, Counts]] = field(default_factory=dict)
    duration_hist: dict[str, int] = field(default_factory=dict)  # bin label -> rows


def _sum(counts: Counts, names: tuple[str, ...]) -> int:
    return sum(int(counts[n]) for n in names)


def figures(domain: Domain, counts: Counts, hours: np.ndarray, backlog: int | None,
            settings, population: int | None = None) -> Figures:
    """Every KPI of the domain from one group's counts, its durations in hours (sorted
    ascending), its backlog and its population, in registry order (``overall`` KPIs are
    left to ``compute``). A KPI whose ``unknown`` counts are not all 0 is null (a source
    that did not give the figure); ``divisor`` scales counts and ratios (fen to yuan)."""
    out: Figures = {}
    for kpi in registry.of_domain(domain.name):
        if kpi.kind == "overall":
            continue
        if kpi.unknown and _sum(counts, kpi.unknown):
            out[kpi.key] = None
        elif kpi.kind == "count":
            total = _sum(counts, kpi.count)
            out[kpi.key] = total / kpi.divisor if kpi.divisor != 1 else total
        elif kpi.kind == "rate":
            out[kpi.key] = rate(_sum(counts, kpi.num), _sum(counts, kpi.den))
        elif kpi.kind == "ratio":
            value = rate(_sum(counts, kpi.num), _sum(counts, kpi.den))
            out[kpi.key] = None if value is None else value / kpi.divisor
        elif kpi.kind == "backlog":
            out[kpi.key] = backlog
        elif kpi.kind == "per_capita":
            share = rate(_sum(counts, kpi.count), population)
            out[kpi.key] = None if share is None else share * kpi.per
        elif kpi.kind == "score":
            parts = [out[key] for key in kpi.parts]
            weights = registry.weights(kpi, settings)
            out[kpi.key] = None if any(p is None for p in parts) else 100 * sum(
                w * p for w, p in zip(weights, parts))
        else:
            out[kpi.key] = None
    if domain.derived:
        out.update(domain.derived(out, counts, hours, settings))
    return out


@dataclass(frozen=True)
class Population:
    """Residents (常住人口) per community in scope, for per-capita figures."""

    by_community: dict[str, int]

    @classmethod
    def read(cls, engine: Engine, q: Query) -> "Population":
        c = communities.c
        stmt = select(c.name, c.population).where(c.population.is_not(None))
        if q.scope:
            stmt = stmt.where(c.name.in_(list(q.scope)))
        with engine.connect() as conn:
            return cls({name: int(n) for name, n in conn.execute(stmt)})

    def of(self, community: str) -> int | None:
        return self.by_community.get(community)

    @property
    def total(self) -> int | None:
        return sum(self.by_community.values()) if self.by_community else None


def duration_histogram(hours: np.ndarray) -> dict[str, int]:
    counts, _ = np.histogram(hours, bins=DURATION_BINS_H)
    return dict(zip(DURATION_LABELS, counts.tolist()))


def reference_month(q: Query) -> str:
    """The month a stock is read in: that of the period's end, or of as_of if earlier."""
    return f"{min(q.period.end, q.as_of.date()):%Y-%m}"


def _stock_rows(domain, cube: Cube, q: Query) -> np.ndarray | None:
    """Per cube row, whether it lies in the reference month (None: no stocks)."""
    if not domain.stock_names:
        return None
    codes, units = cube.dims["month"]
    ref = reference_month(q)
    return np.array([units[c] == ref for c in codes.tolist()], dtype=bool)


def _at_reference(domain, cube: Cube, at_ref: np.ndarray | None) -> np.ndarray:
    """The cube's counts with each stock column kept only in reference-month rows."""
    if at_ref is None:
        return cube.counts
    counts = cube.counts.copy()
    for name in domain.stock_names:
        j = domain.count_names.index(name)
        counts[~at_ref, j] = 0
    return counts


def _roll_up(domain: Domain, cube: Cube, dim: str, hours: np.ndarray,
             duration_row: np.ndarray, settings, people: Population,
             at_ref: np.ndarray | None = None) -> tuple[dict, dict]:
    """Figures and additive counts per unit of one dimension (sorted by unit); ``hours``
    are the durations sorted ascending and ``duration_row`` their cube rows. Stocks are
    read in the reference month (``at_ref`` rows), by month in each month."""
    def population(unit: str) -> int | None:
        by_unit = domain.is_scope_dimension(dim)
        return people.of(unit) if by_unit else people.total
    names = domain.count_names
    codes, units = cube.dims[dim]
    by_unit = np.argsort(codes, kind="stable")
    sizes_rows = np.bincount(codes, minlength=len(units))  # every unit has a cube row
    matrix = cube.counts if dim == "month" else _at_reference(domain, cube, at_ref)
    sums = np.add.reduceat(matrix[by_unit], np.cumsum(sizes_rows) - sizes_rows, axis=0) \
        if len(codes) else np.zeros((0, len(names)), dtype=np.int64)
    # a stable sort by unit keeps each unit's durations sorted, in one slice
    # (small integers: numpy sorts them stably by radix, in linear time)
    unit_of_duration = codes[duration_row].astype(np.int16 if len(units) < 2**15 else np.int64)
    unit_hours = hours[np.argsort(unit_of_duration, kind="stable")]
    sizes = np.bincount(unit_of_duration, minlength=len(units))
    ends = np.cumsum(sizes)
    backlog: dict[str, int] | None = None
    if domain.backlog and dim in cube.backlog_keys:
        backlog = {}
        for unit, n in zip(cube.backlog_keys[dim], cube.backlog.tolist()):
            backlog[unit] = backlog.get(unit, 0) + n
    out, counts = {}, {}
    for i, unit in enumerate(units):
        counts[unit] = dict(zip(names, sums[i].tolist()))
        out[unit] = figures(domain, counts[unit], unit_hours[ends[i] - sizes[i]:ends[i]],
                            None if backlog is None else backlog.get(unit, 0), settings,
                            population(unit))
    for unit, n in (backlog or {}).items():  # backlog in a unit without rows in the period
        if unit not in out:
            counts[unit] = dict.fromkeys(names, 0)
            out[unit] = figures(domain, counts[unit], np.zeros(0), n, settings,
                                population(unit))
    return dict(sorted(out.items())), dict(sorted(counts.items()))


def compute(engine: Engine, domain: Domain | Composite | Union, q: Query,
            by: tuple[str, ...] | None = None, known: dict | None = None) -> Result:
    """The domain's figures for the query, overall and for each breakdown in ``by``
    (default: every breakdown of the domain). A composite domain combines other domains'
    results (``known``: those already computed for the same query, by name)."""
    by = domain.breakdowns if by is None else by
    if isinstance(domain, Composite):
        return domain.combine(engine, q, tuple(by), known or {})
    overall = beside(engine, q, domain.overall) if domain.overall else None
    cube = load_union(engine, domain, q) if isinstance(domain, Union) \
        else load_cube(engine, domain, q)
    at_ref = _stock_rows(domain, cube, q)
    people = Population.read(engine, q) if any(
        k.kind == "per_capita" for k in registry.of_domain(domain.name)) else Population({})
    order = np.argsort(cube.seconds)
    hours, duration_row = cube.seconds[order] / 3600.0, cube.duration_row[order]
    totals = dict(zip(domain.count_names,
                      _at_reference(domain, cube, at_ref).sum(axis=0).tolist()))
    backlog = int(cube.backlog.sum()) if domain.backlog else None
    result = Result(domain=domain.name,
                    kpis=figures(domain, totals, hours, backlog, q.settings, people.total),
                    totals=totals,
                    duration_hist=duration_histogram(hours) if domain.duration else {})
    for dim in by:
        result.groups[dim], result.counts[dim] = _roll_up(domain, cube, dim, hours,
                                                          duration_row, q.settings, people,
                                                          at_ref)
    if overall is not None:
        result.kpis.update(overall.result())
    return result


def merge_units(domain: Domain, result: Result, dim: str, key, settings) -> dict[str, Figures]:
    """The figures of ``dim``'s units merged by ``key(unit)`` (e.g. a category's first
    level): counts add up, rates are recomputed from the summed counts, backlogs add up.
    Figures made of durations (percentiles) cannot be merged from the roll-up and are
    null. Units in order of their merged name."""
    names = domain.count_names
    merged: dict[str, Counts] = {}
    backlog: dict[str, int | None] = {}
    backlog_keys = [k.key for k in registry.of_domain(domain.name) if k.kind == "backlog"]
    for unit, counts in result.counts.get(dim, {}).items():
        into = key(unit)
        total = merged.setdefault(into, dict.fromkeys(names, 0))
        for name in names:
            total[name] += int(counts.get(name, 0))
        figures_of_unit = result.groups.get(dim, {}).get(unit, {})
        for k in backlog_keys[:1]:
            if figures_of_unit.get(k) is not None:
                backlog[into] = (backlog.get(into) or 0) + int(figures_of_unit[k])
    out = {}
    for unit in sorted(merged):
        out[unit] = figures(domain, merged[unit], np.zeros(0), backlog.get(unit), settings)
    return out

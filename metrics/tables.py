"""Tables every domain's pages show, derived from the registry: league tables with Wilson
intervals, and lost points (失分) per row.

League table: units ranked by a KPI, each rate with its 95 % Wilson interval (from the
rate's numerator and denominator counts); units with fewer than ``<domain>.min_sample``
rows are kept but not ranked, so that a tiny unit cannot top or bottom the table by chance.

Lost points: a row's cost in a score is its share of each part it fails, times
100 × weight: a row in a part's denominator but not in its numerator costs
``100 · w / denominator``. For a rate outside the score the cost is in percentage points
(``100 / denominator``). The costs add up exactly to the gap between the unit's figure
and 100 (resp. 100 %).
"""
from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import Engine, literal, select

from metrics import registry
from metrics.context import Query
from metrics.engine import Domain, Result
from metrics.stats import wilson

LO, HI = "{key}:lo", "{key}:hi"  # league-table columns of a rate's interval


def league_table(result: Result, dim: str, settings, rank_by: str,
                 size: tuple[str, ...] = ("total",), units=None) -> pd.DataFrame:
    """Units of ``dim`` ranked by ``rank_by`` (best first), with every rate's interval.

    A unit's sample is the sum of its ``size`` counts (default: its rows; a cadre's
    scheduled days for attendance), compared with ``<domain>.min_sample``; ``units``
    limits the table to some units (the cadres of one role), ranked among themselves."""
    domain = result.domain
    min_sample = int(settings.get_path(f"{domain}.min_sample"))
    best_high = registry.get(rank_by).higher_is_better is not False
    rates = [k for k in registry.of_domain(domain) if k.is_rate]
    rows = []
    for unit, figures in result.groups.get(dim, {}).items():
        if units is not None and unit not in units:
            continue
        n = result.counts[dim][unit]
        row = {"unit": unit, **figures}
        for kpi in rates:
            ci = wilson(sum(n[c] for c in kpi.num), sum(n[c] for c in kpi.den))
            row[LO.format(key=kpi.key)], row[HI.format(key=kpi.key)] = ci or (None, None)
        size_ = sum(int(n[c]) for c in size)
        row["ranked"] = size_ >= min_sample and figures[rank_by] is not None
        row["note"] = "" if row["ranked"] else (
            f"样本不足({size_} < {min_sample})" if size_ < min_sample
            else f"{registry.get(rank_by).label}无数据")
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    ranked = table[table["ranked"]].sort_values(rank_by, ascending=not best_high, kind="stable")
    ranked = ranked.assign(rank=range(1, len(ranked) + 1))
    unranked = table[~table["ranked"]].assign(rank=None)
    return pd.concat([ranked, unranked], ignore_index=True)


def lost_points(engine: Engine, domain: Domain, q: Query, score: str, rates: tuple[str, ...],
                columns: list, joins=None, where=()) -> pd.DataFrame:
    """The cohort rows of ``q`` that cost points: ``columns`` (labelled SQL columns) plus
    ``points`` (lost in the score ``score``), ``<rate>:points`` for each of ``rates``
    (percentage points) and ``problems`` (the rates' ``miss`` words), costliest first
    (ties by the first column)."""
    score_kpi = registry.get(score)
    rate_kpis = [registry.get(k) for k in (*score_kpi.parts, *rates)]
    needed = sorted({c for k in rate_kpis for c in (*k.num, *k.den)})
    per_row = domain.row_counts(q)
    per_row["total"] = literal(1)
    stmt = (select(*columns, *[per_row[c].label(c) for c in needed])
            .select_from(joins if joins is not None else domain.table)
            .where(domain.cohort_filter(q), *where))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(),
                          columns=[c.name for c in columns] + needed)
    df[needed] = df[needed].astype("int64")
    weights = dict(zip(score_kpi.parts, registry.weights(score_kpi, q.settings)))
    df["points"] = 0.0
    missed = []
    for kpi in rate_kpis:
        in_den = df[list(kpi.den)].sum(axis=1)
        lost = in_den - df[list(kpi.num)].sum(axis=1)
        den = int(in_den.sum())
        cost = lost * (100 / den if den else 0.0)
        if kpi.key in weights:
            df["points"] += cost * weights[kpi.key]
        else:
            df[f"{kpi.key}:points"] = cost
        missed.append((kpi.miss, lost > 0))
    df["problems"] = ["、".join(word for word, flags in missed if flags.iloc[i])
                      for i in range(len(df))]
    df = df[df["problems"] != ""]
    order = ["points", *[f"{k}:points" for k in rates]]
    # ties in the first column's order (the row's id), the same on every database
    return df.sort_values([*order, columns[0].name], ascending=[False] * len(order) + [True],
                          kind="stable").reset_index(drop=True)



# The separators of hierarchical names (城乡建设-住房保障-保障性住房): hyphens, dashes, slash.
_LEVELS = re.compile(r"\s*[-－–—/>＞]\s*")


def first_level(name: str) -> str:
    """The first level of a hierarchical name ('城乡建设-住房保障-公租房' -> '城乡建设');
    a name without levels as it is."""
    head = _LEVELS.split(str(name), maxsplit=1)[0].strip()
    return head or str(name)


def has_levels(names) -> bool:
    """Whether any of ``names`` is hierarchical (so a roll-up to the first level differs)."""
    return any(first_level(n) != str(n) for n in names)

"""What needs action today: rules over a domain's figures, each giving (level, text).

The cockpit lists them and the big screen will interrupt its rotation with them. Targets
and their formats come from the registry, so a card, an alert and a chart always name the
same target the same way.
"""
from __future__ import annotations

import pandas as pd

from metrics.formatting import fmt_kpi
from metrics.registry import REGISTRY, meets_target, target

Alert = tuple[str, str]  # (level: "urgent" | "warning", text)


def backlog_alert(key: str, value: int | None, where: str) -> list[Alert]:
    """An urgent item when a point-in-time backlog is not empty."""
    if not value:
        return []
    kpi = REGISTRY[key]
    return [("urgent", f"{kpi.label} {fmt_kpi(key, value)} {kpi.unit}, 请督办(见“{where}”页)。")]


def target_misses(table: pd.DataFrame, keys: list[str], settings) -> list[Alert]:
    """A warning per ranked unit of a league table and KPI that misses its target."""
    out: list[Alert] = []
    if table.empty:
        return out
    ranked = table[table["ranked"]]
    for key in keys:
        goal = target(key, settings)
        for unit, value in zip(ranked["unit"], ranked[key]):
            if meets_target(key, value, settings) is False:
                word = "高于" if REGISTRY[key].higher_is_better is False else "低于"
                out.append(("warning", f"{unit} {REGISTRY[key].label} {fmt_kpi(key, value)}, "
                                       f"{word}目标 {fmt_kpi(key, goal)}。"))
    return out

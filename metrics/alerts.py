"""What needs action today: rules over a domain's figures, each giving (level, text).

The cockpit lists them and the big screen will interrupt its rotation with them. Targets
and their formats come from the registry, so a card, an alert and a chart always name the
same target the same way.
"""
from __future__ import annotations

from datetime import timedelta

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


def compstat_alerts(table: dict, window: str = "d28") -> list[Alert]:
    """An urgent item for each incident category (not the total) whose window is 显著上升."""
    from metrics.incidents import FLAGS, TOTAL

    names = {"wtd": "本周", "d28": "近28天", "ytd": "本年"}
    return [("urgent", f"{category}警情{names[window]} {cell['cur']} 起, 对比 {cell['prior']} 起, "
                       f"z = {cell['z']:.1f}, {FLAGS[0]}。")
            for category, cells in table.items()
            if category != TOTAL and (cell := cells[window])["flag"] == FLAGS[0]]


def collective_alerts(rows: list[dict], as_of, days: int = 7) -> list[Alert]:
    """An urgent item for each collective petition registered in the ``days`` up to as_of
    (``rows`` from ``metrics.petitions.collective_list``)."""
    since = as_of - timedelta(days=days)
    return [("urgent", f"{r['community']} {r['received_at']:%m-%d} 集体访 {r['persons']} 人"
                       f"({r['form'] or '形式未填'}, {r['category'] or '类别未填'})。")
            for r in rows if r["received_at"] > since]

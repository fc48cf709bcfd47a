"""The report's generated sentences: what rose, what fell, what missed its target.

    本月办结率96.5%，环比下降3.2个百分点，同比上升1.0个百分点，未达到93.0%的目标。
    未达到93.0%办结率目标的社区有和平社区、城东社区。
"""
from __future__ import annotations

import pandas as pd

from metrics.formatting import fmt_kpi
from metrics.monthly.model import Figure
from metrics.registry import REGISTRY, meets_target, target

FLAT = 0.0005  # changes smaller than this (0.05 points / 0.05 %) read as 持平


def change_words(key: str, change: float | None, when: str) -> str | None:
    """``环比下降3.2个百分点`` (rates, points) / ``同比增长12.5%`` (counts, relative);
    None without a comparison value."""
    if change is None:
        return None
    if abs(change) < FLAT:
        return f"{when}持平"
    if REGISTRY[key].is_rate:
        return f"{when}{'上升' if change > 0 else '下降'}{abs(change) * 100:.1f}个百分点"
    up, down = ("增长", "减少") if REGISTRY[key].fmt == "count" else ("上升", "下降")
    return f"{when}{up if change > 0 else down}{abs(change) * 100:.1f}%"


def _value_words(figure: Figure) -> str:
    text = figure.text.replace(" ", "")
    kpi = REGISTRY[figure.key]
    if kpi.fmt == "count" and kpi.unit:
        text += kpi.unit
    return text


def movement(figure: Figure) -> str | None:
    """One sentence on a headline figure: its value, 环比, 同比 and a missed target."""
    if figure.value is None:
        return None
    parts = [f"本月{figure.label}{_value_words(figure)}"]
    if figure.compare:
        parts += [w for w in (change_words(figure.key, figure.mom, "环比"),
                              change_words(figure.key, figure.yoy, "同比")) if w]
    if figure.met is False:
        word = "高于" if REGISTRY[figure.key].higher_is_better is False else "未达到"
        parts.append(f"{word}{figure.target_text.replace(' ', '')}的目标")
    return "，".join(parts) + "。"


def target_miss_sentence(key: str, table: pd.DataFrame, settings) -> str | None:
    """``未达到93.0%办结率目标的社区有A、B。`` over the ranked units of a league table;
    None when every ranked unit meets the target (or there is no target)."""
    goal = target(key, settings)
    if goal is None or table is None or table.empty:
        return None
    ranked = table[table["ranked"]]
    missed = [u for u, v in zip(ranked["unit"], ranked[key])
              if meets_target(key, v, settings) is False]
    if not missed:
        return None
    goal_text = fmt_kpi(key, goal).replace(" ", "")
    return (f"未达到{goal_text}{REGISTRY[key].label}目标的社区有{'、'.join(missed)}"
            f"（共{len(missed)}个）。")

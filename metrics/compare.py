"""环比 / 同比: the change of every KPI between a period and its comparison period."""
from __future__ import annotations

from metrics.registry import REGISTRY
from metrics.stats import point_change, relative_change


def changes(current: dict, base: dict) -> dict[str, float | None]:
    """Per key: relative change for counts and values, point change for rates."""
    out = {}
    for key, value in current.items():
        kpi = REGISTRY.get(key)
        if kpi is None or not isinstance(value, (int, float, type(None))):
            continue
        fn = point_change if kpi.is_rate else relative_change
        out[key] = fn(value, base.get(key))
    return out

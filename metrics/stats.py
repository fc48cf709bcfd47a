"""Small statistics every KPI shares: null-safe rates, Wilson intervals, percentiles, changes."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054


def rate(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when the denominator is 0 or missing."""
    if not denominator or numerator is None:
        return None
    return numerator / denominator


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation (numpy's default); None if empty."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return None
    return float(np.percentile(arr, q))


def percentile_of_sorted(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """``percentile(values, q)`` for values already sorted ascending, in O(1): numpy's
    linear method (virtual index q/100 * (n - 1), interpolated the way numpy does)."""
    n = len(values)
    if n == 0:
        return None
    index = (q / 100) * (n - 1)
    lo = math.floor(index)
    hi = min(lo + 1, n - 1)
    t = index - lo
    a, b = float(values[lo]), float(values[hi])
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def relative_change(current: float | None, base: float | None) -> float | None:
    """(current - base) / base for counts; None when base is 0 or either is missing."""
    if current is None or not base:
        return None
    return (current - base) / base


def point_change(current: float | None, base: float | None) -> float | None:
    """current - base for rates (a fraction; ×100 gives percentage points)."""
    if current is None or base is None:
        return None
    return current - base

"""The demo's synthetic community outlines around 南城街道 (菏泽, about 35.24 N, 115.47 E).

Not a survey: a 5 × 3 block of irregular quadrilaterals of roughly 0.8 × 0.7 km, one per
community, deterministic, so the 3D map has something plausible to show
before an office imports its real outlines.
"""
from __future__ import annotations

import hashlib

CENTRE = (115.47, 35.24)  # lon, lat
CELL = (0.0088, 0.0064)   # degrees: ~0.8 km east-west, ~0.7 km north-south at 35° N


def _jitter(row: int, column: int) -> tuple[float, float]:
    """A vertex's offset in cells; neighbours share vertices, so outlines tile exactly."""
    h = hashlib.sha256(f"{row}/{column}".encode()).digest()
    return (h[0] / 255 - 0.5) * 0.25, (h[1] / 255 - 0.5) * 0.25


def synthetic_boundaries(names: list[str], columns: int = 5) -> dict[str, dict]:
    """A GeoJSON Polygon per name, tiled row by row from the north-west."""
    rows = (len(names) + columns - 1) // columns
    west = CENTRE[0] - columns * CELL[0] / 2
    north = CENTRE[1] + rows * CELL[1] / 2
    out = {}
    for i, name in enumerate(names):
        r, c = divmod(i, columns)
        corners = []
        for dx, dy in ((0, 0), (1, 0), (1, 1), (0, 1)):
            jx, jy = _jitter(r + dy, c + dx)
            corners.append([round(west + (c + dx + jx * (0 < c + dx < columns)) * CELL[0], 6),
                            round(north - (r + dy + jy * (0 < r + dy < rows)) * CELL[1], 6)])
        out[name] = {"type": "Polygon", "coordinates": [[*corners, corners[0]]]}
    return out


def centre(geometry: dict) -> tuple[float, float]:
    """The mean of an outline's corners (lat, lon): where the demo puts a community."""
    ring = geometry["coordinates"][0][:-1]
    return (round(sum(p[1] for p in ring) / len(ring), 6),
            round(sum(p[0] for p in ring) / len(ring), 6))

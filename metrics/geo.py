"""Small geometry on WGS 84 coordinates: an outline's centroid and great-circle distances.

A sub-district spans a few kilometres, so the centroid is taken in the plane of longitude
and latitude (the error against a projected centroid is far below a metre at that size)
and distances by the haversine formula on a sphere of the mean Earth radius.
"""
from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def _ring_area_centroid(ring: list) -> tuple[float, float, float]:
    """Signed area and centroid (x = lon, y = lat) of a closed or open ring."""
    pts = [(float(p[0]), float(p[1])) for p in ring]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    a /= 2
    if a == 0:  # degenerate: the mean of the corners
        n = len(pts) or 1
        return 0.0, sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n
    return a, cx / (6 * a), cy / (6 * a)


def centroid(geometry: dict) -> tuple[float, float] | None:
    """(lat, lon) of the area centroid of a GeoJSON Polygon or MultiPolygon (holes
    subtracted), or None for any other geometry."""
    kind = geometry.get("type")
    polygons = ([geometry["coordinates"]] if kind == "Polygon"
                else geometry["coordinates"] if kind == "MultiPolygon" else None)
    if not polygons:
        return None
    total = sx = sy = 0.0
    means = []
    for rings in polygons:
        for i, ring in enumerate(rings):
            a, x, y = _ring_area_centroid(ring)
            a = abs(a) * (1 if i == 0 else -1)  # the first ring is the outline, others holes
            total += a
            sx += a * x
            sy += a * y
            means.append((x, y))
    if total == 0:
        return (sum(m[1] for m in means) / len(means), sum(m[0] for m in means) / len(means))
    return sy / total, sx / total


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))

"""Community outlines from a GeoJSON file, for the 3D map.

``python cli.py import boundaries FILE.geojson`` and the data page call ``import_geojson``:
features are matched to the store's communities by a name property (社区, 社区名称, name,
NAME, community — the first one present); each must be a Polygon or MultiPolygon in WGS 84
longitude/latitude. Unknown names and invalid geometries are rejected feature by feature
with the reason; a file in another coordinate system (projected metres, swapped axes) is
refused whole. The accepted outlines replace those of the same communities in one
transaction; nothing else stored changes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, delete, select

from data.store.schema import boundaries, communities

NAME_PROPERTIES = ("社区", "社区名称", "name", "NAME", "community", "Name")
# China's extent in WGS 84: anything outside is another coordinate system (or swapped axes)
LON_RANGE, LAT_RANGE = (73.0, 136.0), (3.0, 54.0)


class GeoJsonError(ValueError):
    """The file as a whole cannot be used (one Chinese line)."""


@dataclass
class BoundaryImport:
    stored: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (feature no., name, reason)


def _rings(geometry: dict) -> list[list]:
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon" and isinstance(coords, list):
        return coords
    if kind == "MultiPolygon" and isinstance(coords, list):
        return [ring for polygon in coords for ring in polygon]
    raise ValueError(f"几何类型应为 Polygon 或 MultiPolygon, 而不是 {kind!r}")


def _check_ring(ring) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValueError("多边形的环至少需要 4 个坐标点")
    for point in ring:
        if (not isinstance(point, list) or len(point) < 2
                or not all(isinstance(v, (int, float)) for v in point[:2])):
            raise ValueError("坐标点应为 [经度, 纬度] 数字")
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError("多边形的环未闭合(首尾坐标不同)")


def _in_china(ring) -> bool:
    return all(LON_RANGE[0] <= p[0] <= LON_RANGE[1] and LAT_RANGE[0] <= p[1] <= LAT_RANGE[1]
               for p in ring)


def parse_geojson(data: bytes) -> list[dict]:
    """The features of a GeoJSON FeatureCollection; GeoJsonError for a file that is not one."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeoJsonError(f"不是有效的 GeoJSON 文件(UTF-8 JSON): {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        raise GeoJsonError("GeoJSON 文件应为 FeatureCollection(含 features 列表)")
    crs = ((doc.get("crs") or {}).get("properties") or {}).get("name", "")
    if crs and not any(tag in crs for tag in ("4326", "CRS84")):
        raise GeoJsonError(f"坐标系为 {crs}, 应为 WGS 84 经纬度(EPSG:4326)")
    return doc["features"]


def import_geojson(engine: Engine, data: bytes | str | Path) -> BoundaryImport:
    """Store the outlines of a GeoJSON file (see the module docstring)."""
    if isinstance(data, (str, Path)):
        data = Path(data).read_bytes()
    features = parse_geojson(data)
    with engine.connect() as conn:
        known = set(conn.execute(select(communities.c.name)).scalars())
    result, rows, outside = BoundaryImport(), {}, 0
    for number, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {}
        name = next((str(props[p]).strip() for p in NAME_PROPERTIES if props.get(p)), "")
        try:
            if not name:
                raise ValueError(f"缺少社区名称属性({'/'.join(NAME_PROPERTIES[:3])})")
            if name not in known:
                raise ValueError("社区不在数据库中(请先导入社区)")
            rings = _rings((feature or {}).get("geometry") or {})
            for ring in rings:
                _check_ring(ring)
            if not all(_in_china(ring) for ring in rings):
                outside += 1
                raise ValueError("坐标不是中国范围内的 WGS 84 经纬度(投影坐标或经纬度颠倒?)")
        except ValueError as exc:
            result.rejected.append((number, name, str(exc)))
            continue
        rows[name] = json.dumps(feature["geometry"], ensure_ascii=False, separators=(",", ":"))
    if features and outside == len(features):
        raise GeoJsonError("所有要素的坐标都不是 WGS 84 经纬度, 请转换坐标系(EPSG:4326)后再导入")
    if rows:
        with engine.begin() as conn:
            conn.execute(delete(boundaries).where(boundaries.c.community.in_(list(rows))))
            conn.execute(boundaries.insert(), [{"community": n, "geometry": g}
                                               for n, g in rows.items()])
    result.stored = sorted(rows)
    return result


def load_boundaries(engine: Engine) -> dict[str, dict]:
    """Each community's outline as a GeoJSON geometry."""
    with engine.connect() as conn:
        return {name: json.loads(g) for name, g in conn.execute(
            select(boundaries.c.community, boundaries.c.geometry))}

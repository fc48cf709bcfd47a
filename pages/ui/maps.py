"""The 3D community map: extruded community outlines coloured and raised by a figure,
with incidents as a hexagon layer, on a plain background served from ``static/`` so the
browser fetches no base-map tiles (a government intranet has no internet)."""
from __future__ import annotations

import pydeck as pdk

from metrics.formatting import fmt_kpi
from metrics.registry import REGISTRY
from pages.ui.safe import label as text_label

BLANK_STYLE = "/app/static/blank_map_style.json"
BLANK_STYLE_DARK = "/app/static/blank_map_style_dark.json"   # the big screen's
LOW, HIGH = (198, 219, 239), (8, 69, 148)   # light to dark blue
MAX_HEIGHT_M = 600


def _colour(share: float) -> list[int]:
    return [round(a + (b - a) * share) for a, b in zip(LOW, HIGH)] + [210]


def _centre(outlines: dict[str, dict]) -> tuple[float, float]:
    points = [p for g in outlines.values() for ring in _rings(g) for p in ring]
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _rings(geometry: dict) -> list:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"][:1]
    return [polygon[0] for polygon in geometry["coordinates"]]


def community_map(outlines: dict[str, dict], values: dict[str, float | None], key: str,
                  figures: dict[str, dict], points: list[tuple[float, float]] | None = None,
                  height: int = 560, dark: bool = False, zoom: float = 13.2) -> pdk.Deck:
    """Communities extruded by ``values`` (KPI ``key``); tooltips carry ``figures`` (per
    community: KPI key -> value); ``points`` (lon, lat) of incidents as hexagons."""
    known = [v for v in values.values() if v is not None]
    low, top = (min(known), max(known)) if known else (0, 0)
    rows = []
    for name, geometry in outlines.items():
        value = values.get(name)
        # lowest to highest community: light and low to dark and high
        share = (value - low) / (top - low) if value is not None and top > low else 0.0
        tip = "<br/>".join(f"{REGISTRY[k].label}: {fmt_kpi(k, v)}"
                           for k, v in figures.get(name, {}).items())
        for ring in _rings(geometry):
            rows.append({"polygon": ring, "height": share * MAX_HEIGHT_M + 40,
                         "colour": _colour(share) if value is not None else [200, 200, 200, 160],
                         "tip": f"<b>{text_label(name)}</b><br/>{tip}"})
    layers = [pdk.Layer("PolygonLayer", rows, get_polygon="polygon", extruded=True,
                        get_elevation="height", get_fill_color="colour",
                        get_line_color=[255, 255, 255], line_width_min_pixels=1,
                        pickable=True, auto_highlight=True)]
    if points:
        layers.append(pdk.Layer("HexagonLayer", [{"lon": x, "lat": y} for x, y in points],
                                get_position=["lon", "lat"], radius=60, elevation_scale=1,
                                elevation_range=[0, 250], coverage=0.8, extruded=True,
                                opacity=0.5, pickable=False))
    lon, lat = _centre(outlines)
    view = pdk.ViewState(longitude=lon, latitude=lat, zoom=zoom, pitch=45, bearing=-12)
    return pdk.Deck(layers=layers, initial_view_state=view, map_style=BLANK_STYLE_DARK if dark else BLANK_STYLE,
                    map_provider=None, tooltip={"html": "{tip}"}, height=height)

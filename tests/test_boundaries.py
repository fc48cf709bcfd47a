"""Community outlines: GeoJSON import (matching, rejections, coordinate systems) and the
demo's synthetic outlines."""
from __future__ import annotations

import json

import pytest

from data.demo_map import synthetic_boundaries
from data.ingest.boundaries import GeoJsonError, import_geojson, load_boundaries
from tests.builders import insert

SQUARE = [[115.46, 35.24], [115.47, 35.24], [115.47, 35.25], [115.46, 35.25], [115.46, 35.24]]


def feature(name, ring=SQUARE, kind="Polygon", key="社区"):
    return {"type": "Feature", "properties": {key: name},
            "geometry": {"type": kind, "coordinates": [ring]}}


def collection(*features, crs=None):
    doc = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc, ensure_ascii=False).encode()


@pytest.fixture
def store(engine):
    insert(engine, "communities", [dict(name="和平社区", kind="社区"),
                                   dict(name="丹阳社区", kind="社区")])
    return engine


def test_import_matches_names_and_rejects_by_feature(store):
    result = import_geojson(store, collection(
        feature("和平社区"),
        feature("不存在社区"),
        feature("丹阳社区", ring=SQUARE[:-1]),                      # not closed
        feature("丹阳社区", kind="Point")))
    assert result.stored == ["和平社区"]
    assert [(n, name) for n, name, _ in result.rejected] == [
        (2, "不存在社区"), (3, "丹阳社区"), (4, "丹阳社区")]
    assert "不在数据库中" in result.rejected[0][2] and "未闭合" in result.rejected[1][2]
    assert load_boundaries(store)["和平社区"]["coordinates"][0] == SQUARE


def test_reimport_replaces_only_its_communities(store):
    import_geojson(store, collection(feature("和平社区"), feature("丹阳社区", key="name")))
    moved = [[x + 0.001, y] for x, y in SQUARE]
    import_geojson(store, collection(feature("和平社区", ring=moved)))
    stored = load_boundaries(store)
    assert stored["和平社区"]["coordinates"][0] == moved
    assert stored["丹阳社区"]["coordinates"][0] == SQUARE


@pytest.mark.parametrize("data, message", [
    (b"{not json", "不是有效的 GeoJSON"),
    (json.dumps({"type": "Feature"}).encode(), "FeatureCollection"),
    (collection(feature("和平社区"), crs="urn:ogc:def:crs:EPSG::3857"), "坐标系"),
    # projected metres (CGCS2000 / Gauss-Kruger) for every feature
    (collection(feature("和平社区", ring=[[500000, 3900000], [501000, 3900000],
                                     [501000, 3901000], [500000, 3900000]])), "WGS 84"),
])
def test_whole_file_refusals_store_nothing(store, data, message):
    import_geojson(store, collection(feature("丹阳社区")))
    with pytest.raises(GeoJsonError, match=message):
        import_geojson(store, data)
    assert list(load_boundaries(store)) == ["丹阳社区"]


def test_synthetic_outlines_tile_around_nancheng():
    names = [f"社区{i}" for i in range(15)]
    outlines = synthetic_boundaries(names)
    assert list(outlines) == names
    ring0, ring1 = outlines["社区0"]["coordinates"][0], outlines["社区1"]["coordinates"][0]
    assert ring0[0] == ring0[-1] and len(ring0) == 5
    assert ring0[1] == ring1[0] and ring0[2] == ring1[3]   # neighbours share their edge
    lons = [p[0] for o in outlines.values() for p in o["coordinates"][0]]
    lats = [p[1] for o in outlines.values() for p in o["coordinates"][0]]
    assert 115.44 < min(lons) < max(lons) < 115.50 and 35.22 < min(lats) < max(lats) < 35.26


def test_cli_import_boundaries_reports_stored_and_rejected(tmp_path, capsys):
    import cli
    from data.store.db import get_engine
    from data.store.db import create_schema

    url = f"sqlite:///{tmp_path / 'b.db'}"
    engine = get_engine(url)
    create_schema(engine)
    insert(engine, "communities", [dict(name="和平社区", kind="社区"),
                                   dict(name="丹阳社区", kind="社区")])
    good = tmp_path / "边界.geojson"
    good.write_bytes(collection(feature("和平社区"), feature("不存在社区")))
    assert cli.main(["import", "boundaries", str(good), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "导入 1 个社区，拒绝 1 个要素" in out and "已导入：和平社区" in out
    assert "第 2 个要素「不存在社区」：社区不在数据库中" in out

    projected = tmp_path / "投影.geojson"
    projected.write_bytes(collection(feature("丹阳社区"), crs="EPSG:3857"))
    assert cli.main(["import", "boundaries", str(projected), "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：投影.geojson：坐标系为 EPSG:3857") and "Traceback" not in err
    assert list(load_boundaries(engine)) == ["和平社区"]       # nothing stored lost

    unknown = tmp_path / "只有未知.geojson"
    unknown.write_bytes(collection(feature("不存在社区")))
    assert cli.main(["import", "boundaries", str(unknown), "--db", url]) == 1
    assert list(load_boundaries(engine)) == ["和平社区"]

"""Round trip: export every demo table with Chinese headers (CSV in GBK and UTF-8-BOM, and
XLSX), import the files into an empty store, and get the identical KPI JSON back (over the
real communities: the demo's planted community-less cases cannot pass import)."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd

from data.ingest.columns import TABLES
from data.store.db import create_schema, get_engine
from data.ingest.importer import import_file
from data.store.schema import DATA_TABLES
from metrics.context import make_query
from metrics.period import Period
from metrics.report import BREAKDOWNS, kpi_report
from tests.demo_store import UNTIL

FORMATS = {"cases": "xlsx", "cadres": "gbk", "grids": "xlsx"}  # the rest: UTF-8 with BOM


def export(engine, table: str, folder) -> str:
    spec = TABLES[table]
    df = pd.read_sql_table(table, engine)
    for name, col in spec.columns.items():
        if col.kind == "bool" and name in df:
            df[name] = df[name].map({True: "是", False: "否", 1: "是", 0: "否"})
    df = df.rename(columns={n: c.zh for n, c in spec.columns.items()})
    kind = FORMATS.get(table, "csv")
    if kind == "xlsx":
        path = folder / f"{table}.xlsx"
        df.to_excel(path, index=False)
    else:
        path = folder / f"{table}.csv"
        df.to_csv(path, index=False, encoding="gbk" if kind == "gbk" else "utf-8-sig")
    return str(path)


def test_export_import_gives_identical_kpis(demo_url, tmp_path):
    source = get_engine(demo_url)
    target = get_engine(f"sqlite:///{tmp_path / 'imported.db'}")
    create_schema(target)
    as_of = make_query(source, Period(UNTIL, UNTIL)).as_of
    for table in DATA_TABLES:
        if table in ("attendance", "worklogs", "benefit_payments"):
            continue  # large and not read by the cases KPIs; their import is tested elsewhere
        result = import_file(target, table, export(source, table, tmp_path),
                             exported_at=as_of)
        assert result.error is None, (table, result.error)
        if table == "cases":
            # The demo plants cases without a community (a fault the quality page finds);
            # import requires the community, so exactly those rows are rejected.
            blank = pd.read_sql("SELECT case_id FROM cases WHERE community = ''", source)
            assert result.rejected == len(blank) > 0
            assert {r.column for r in result.rejects} == {"社区"}
        else:
            assert result.rejected == 0, (table, result.rejects[:3])
    period = Period(date(2018, 1, 1), UNTIL)
    scope = pd.read_sql("SELECT name FROM communities", source)["name"].tolist()
    for by in (None, *BREAKDOWNS):
        # the domains whose tables made the round trip (cadre figures need the skipped
        # attendance and work logs)
        only = ("cases", "petitions", "incidents")
        ours = kpi_report(target, make_query(target, period, scope), by=by, only=only)
        theirs = kpi_report(source, make_query(source, period, scope), by=by, only=only)
        assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True), by

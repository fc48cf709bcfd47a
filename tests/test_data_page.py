"""数据管理 page: the inventory converts to Arrow as it is (no mixed-type columns), never
shows negative freshness without a note, and the database URL hides the password and the
SQLite file's folder; the quality panel lists records dated after 数据截至."""
from __future__ import annotations

import sqlite3
from datetime import date, datetime

import pandas as pd
import pyarrow as pa
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from data.ingest import importer as I
from data.store.db import ROOT, create_schema, get_engine
from data.store.inventory import AHEAD_NOTE, inventory_table, shown_url, table_stats
from tests.builders import insert, log_import


def test_inventory_table_is_arrow_clean_and_never_negative(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'i.db'}")
    create_schema(engine)
    insert(engine, "communities", [{"name": "城东社区"}])
    insert(engine, "cases", [
        {"case_id": "C1", "reported_at": datetime(2024, 3, 1, 9), "community": "城东社区"},
        {"case_id": "C2", "reported_at": datetime(2031, 3, 1, 9), "community": "城东社区"}])
    insert(engine, "worklogs", [{"log_id": "L1", "cadre_id": "G1", "day": date(2024, 3, 1)}])
    insert(engine, "benefit_payments", [{"recipient_id": "R1", "month": "2024-01"},
                                        {"recipient_id": "R1", "month": "2024-03"}])
    insert(engine, "insurance_enrolment", [{"community": "城东社区", "year": 2023}])
    insert(engine, "benefit_standards", [{"year": 2025, "program": "城市低保"}])
    log_import(engine, datetime(2024, 3, 10, 18, 0), table="worklogs")
    stats = table_stats(engine, date(2024, 3, 10))
    by = stats.set_index("table")
    assert by.loc["worklogs", "freshness_days"] == 9 and not by.loc["worklogs", "ahead"]
    assert pd.isna(by.loc["cases", "freshness_days"]) and by.loc["cases", "ahead"]
    shown = inventory_table(stats)
    pa.Table.from_pandas(shown)          # raises on a mixed-type column
    assert {str(t) for t in shown.dtypes} == {"string", "int64"}
    row = shown.set_index("表名").loc["cases"]
    assert (row["最新日期"], row["距数据截至(天)"], row["说明"]) == ("2031-03-01", "—", AHEAD_NOTE)
    row = shown.set_index("表名").loc["worklogs"]
    assert (row["最早日期"], row["距数据截至(天)"], row["最近导入"], row["说明"]) == \
        ("2024-03-01", "9", "2024-03-10 18:00", "")
    # months and years as they are; the month / year of 数据截至 is 0 days old, a later one ahead
    row = shown.set_index("表名").loc["benefit_payments"]
    assert (row["最早日期"], row["最新日期"], row["距数据截至(天)"]) == ("2024-01", "2024-03", "0")
    row = shown.set_index("表名").loc["insurance_enrolment"]
    assert (row["最新日期"], row["距数据截至(天)"]) == ("2023", "70")    # 2023-12-31 to 2024-03-10
    row = shown.set_index("表名").loc["benefit_standards"]
    assert (row["最新日期"], row["距数据截至(天)"], row["说明"]) == ("2025", "—", AHEAD_NOTE)
    row = shown.set_index("表名").loc["grids"]
    assert (row["记录数"], row["最新日期"], row["最近导入"], row["距数据截至(天)"]) == (0, "—", "—", "—")


@pytest.mark.parametrize("url, shown", [
    ("sqlite:////srv/zhili/private/data/zhili.db", "SQLite · zhili.db"),
    ("sqlite:///data/zhili.db", "SQLite · zhili.db"),
    ("postgresql+psycopg://zhili:s3cr%40t@db.example:5432/zhili",
     "postgresql+psycopg://zhili:***@db.example:5432/zhili"),
    ("mysql+pymysql://root:pw@127.0.0.1:3306/test?charset=utf8mb4&password=pw2",
     "mysql+pymysql://root:***@127.0.0.1:3306/test"),
    ("not a url", "（无法识别的数据库地址）"),
])
def test_shown_url(url, shown):
    assert shown_url(url) == shown


@pytest.fixture
def future_store(demo_url, tmp_path, monkeypatch):
    """A copy of the demo store with one case reported in 2031 imported into it."""
    src = sqlite3.connect(demo_url.removeprefix("sqlite:///"))
    dst_path = tmp_path / "demo_copy.db"
    dst = sqlite3.connect(dst_path)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{dst_path}"
    monkeypatch.setenv(I.SECRET_ENV, "x")
    r = I.import_file(get_engine(url), "cases",
                      "工单编号,受理时间,社区\nFUT1,2031-03-05 10:00,和平社区\n".encode(), "f.csv")
    assert r.committed
    return url


def test_data_page(future_store, monkeypatch):
    fixes = []
    real_fix = dataframe_util.fix_arrow_incompatible_column_types

    def spy(df, *a, **kw):               # called only when a frame fails to convert
        fixes.append(list(df.columns))
        return real_fix(df, *a, **kw)

    monkeypatch.setattr(dataframe_util, "fix_arrow_incompatible_column_types", spy)
    monkeypatch.setenv("ZHILI_DB_URL", future_store)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/data_status.py").run()
    assert not at.exception, at.exception
    assert fixes == []
    inventory = next(d.value for d in at.dataframe if "距数据截至(天)" in d.value.columns)
    row = inventory.set_index("表名").loc["cases"]
    assert (row["距数据截至(天)"], row["说明"]) == ("—", AHEAD_NOTE)
    assert "-" not in "".join(inventory["距数据截至(天)"].str.replace("—", ""))
    captions = [c.value for c in at.caption]
    assert any(c.startswith("数据库: SQLite · demo\\_copy\\.db") for c in captions), captions
    assert not any(str(future_store.removeprefix("sqlite:///")) in c for c in captions)
    assert any(AHEAD_NOTE in c for c in captions)
    labels = [e.label for e in at.expander]
    assert any("日期晚于数据截至：1" in label for label in labels), labels

"""File import: every file of the corpus gets its exact outcome, on all three databases.

Text files live in tests/corpus/; binary ones (GBK, BOM, XLSX, truncated XLSX, the 50 MB
CSV) are generated here. The kill test SIGKILLs an importing subprocess halfway.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from data.ingest import importer as I
from data.ingest.columns import TABLES, ZH_HEADERS
from data.store.db import get_engine, create_schema
from data.ingest.importer import import_file, preview_file, rejects_to_csv, rejects_to_xlsx
from data.store.schema import DATA_TABLES, INTERNAL_COLUMNS, import_log
from data.ingest.templates import template_xlsx
from tests.builders import insert

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
SECRET = "test-secret-不要在生产中使用"


@pytest.fixture(autouse=True)
def _secret(monkeypatch, tmp_path):
    monkeypatch.setenv(I.SECRET_ENV, SECRET)
    monkeypatch.setattr(I, "SECRETS_FILE", tmp_path / "no-secrets.toml")


def imp(engine, table, name_or_data, file_name=None, **kw):
    if isinstance(name_or_data, str) and (CORPUS / name_or_data).exists():
        path = CORPUS / name_or_data
        return import_file(engine, table, path, file_name or name_or_data, **kw)
    return import_file(engine, table, name_or_data, file_name, **kw)


def rows(engine, table, order=None):
    """The table's rows as dicts of its import columns (Zhili's bookkeeping left out)."""
    t = DATA_TABLES[table]
    cols = [c for c in t.columns if c.name not in INTERNAL_COLUMNS]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(*cols).order_by(*(t.c[c] for c in (order or [c.name for c in t.primary_key.columns])))).mappings()]


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(DATA_TABLES[table])).scalar_one()


def log_rows(engine):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(import_log).order_by(import_log.c.id)).mappings()]


@pytest.fixture
def store(engine):
    """The store with communities, grids and cadres imported from the corpus."""
    for table in ("communities", "grids", "cadres"):
        r = imp(engine, table, f"{table}.csv")
        assert r.error is None and r.rejected == 0, r.rejects
    return engine


# ---------------------------------------------------------------------------------------
# Reference tables, headers, encodings

def test_reference_tables(store):
    assert {r["name"]: (r["kind"], r["population"], r["households"]) for r in rows(store, "communities")} == {
        "城东社区": ("社区", 6800, 2300), "城西社区": ("社区", 7200, 2500), "南城管委会": ("管委会", 3000, 1000)}
    cadres = {r["cadre_id"]: r for r in rows(store, "cadres")}
    assert cadres["A002"]["joined_on"] == date(2019, 7, 1)
    assert cadres["A003"]["community"] is None and cadres["A003"]["role"] == "街道干部"
    log = log_rows(store)
    assert [(l["table_name"], l["source"], l["inserted"], l["updated"], l["rejected"]) for l in log] == [
        ("communities", "import", 3, 0, 0), ("grids", "import", 2, 0, 0), ("cadres", "import", 3, 0, 0)]
    assert log[0]["file_name"] == "communities.csv" and log[0]["exported_at"] is None


def test_gbk_csv(engine):
    data = (CORPUS / "communities.csv").read_text(encoding="utf-8").encode("gbk")
    r = imp(engine, "communities", data, "社区.csv")
    assert (r.error, r.encoding, r.inserted, r.rejected) == (None, "gbk", 3, 0)
    assert {x["name"] for x in rows(engine, "communities")} == {"城东社区", "城西社区", "南城管委会"}


def test_gb18030_only_characters(engine):
    # '㐀' (U+3400) is outside GBK but inside GB18030
    data = "社区名称,类型\n㐀社区,社区\n".encode("gb18030")
    r = imp(engine, "communities", data, "x.csv")
    assert (r.error, r.encoding, r.inserted) == (None, "gb18030", 1)
    assert rows(engine, "communities")[0]["name"] == "㐀社区"


def test_bom_csv_and_english_headers(engine):
    data = "\ufeffname,kind,population,households\n城东社区,社区,6800,2300\n".encode("utf-8")
    r = imp(engine, "communities", data, "c.csv")
    assert (r.error, r.encoding, r.inserted) == (None, "utf-8-sig", 1)
    assert r.column_mapping == {"name": "name", "kind": "kind", "population": "population",
                                "households": "households"}
    assert rows(engine, "communities") == [{"name": "城东社区", "kind": "社区", "population": 6800,
                                            "households": 2300}]


def test_unknown_columns_listed_title_row_skipped(engine):
    data = "南城街道社区花名册（导出）,,,\n社区名称,类型,备注,负责人电话\n城东社区,社区,任意,138\n".encode("gbk")
    r = imp(engine, "communities", data, "c.csv")
    assert r.error is None and r.inserted == 1
    assert r.ignored_columns == ["备注"] and r.dropped_columns == ["负责人电话"]
    assert rows(engine, "communities") == [{"name": "城东社区", "kind": "社区", "population": None,
                                            "households": None}]


def test_missing_required_column(store):
    r = imp(store, "cases", "cases_missing_column.csv")
    assert r.error == "缺少必需列：受理时间（reported_at）。请检查表头，或在映射文件中指定对应的列"
    assert (r.inserted, r.committed, count(store, "cases")) == (0, False, 0)
    assert [l["table_name"] for l in log_rows(store)] == ["communities", "grids", "cadres"]


def test_empty_file(store):
    r = imp(store, "cases", "empty.csv")
    assert r.error == "文件为空（0 字节），没有可导入的数据"
    r = imp(store, "cases", b"\n\n", "blank.csv")
    assert r.error == "文件为空：没有表头，也没有数据行"
    assert count(store, "cases") == 0


def test_header_only(store):
    r = imp(store, "cases", "cases_header_only.csv")
    assert (r.error, r.rows_read, r.inserted, r.rejected, r.committed) == (None, 0, 0, 0, True)
    assert r.warnings == ["文件只有表头，没有数据行"]


# ---------------------------------------------------------------------------------------
# Dates, booleans, validation

def test_mixed_date_formats(store):
    r = imp(store, "cases", "cases_mixed_dates.csv")
    assert r.error is None
    assert (r.rows_read, r.inserted, r.updated, r.rejected) == (9, 6, 0, 3)
    got = {x["case_id"]: x for x in rows(store, "cases")}
    assert got["M1"]["reported_at"] == datetime(2024, 3, 5, 0, 0)
    assert got["M1"]["responded_at"] == datetime(2024, 3, 5, 10, 0)
    assert got["M1"]["closed_at"] == datetime(2024, 3, 7, 16, 0)
    assert got["M2"]["reported_at"] == datetime(2024, 3, 5, 9, 5)
    assert got["M2"]["responded_at"] == datetime(2024, 3, 5, 9, 30, 15)
    assert got["M3"]["reported_at"] == datetime(2024, 3, 5, 14, 30)
    assert got["M3"]["responded_at"] == datetime(2024, 3, 5, 23, 59, 59)
    assert got["M4"]["reported_at"] == datetime(2024, 3, 5, 12, 0)      # Excel serial 45356.5
    assert got["M4"]["responded_at"] == datetime(2024, 3, 5, 18, 0)
    assert got["M5"]["reported_at"] == datetime(2024, 3, 5)
    assert got["M6"]["reported_at"] == datetime(2024, 3, 5, 8, 30)
    assert [got[k]["callback_resolved"] for k in ("M1", "M2", "M3", "M4", "M5", "M6")] == \
        [True, None, False, True, True, False]
    assert got["M4"]["satisfaction"] == "基本满意" and got["M3"]["resolution_level"] == "街道"
    assert [(x.row, x.column, x.value) for x in r.rejects] == [
        (8, "受理时间", "2024-13-05"), (9, "受理时间", "2024-03-05 25:00"),
        (10, "受理时间", "13/05/2024 01:00:00 PM")]
    assert all(x.reason.startswith("受理时间") for x in r.rejects)


def test_closed_lists_and_types(store):
    data = ("工单编号,受理时间,社区,满意度,是否解决,办结层级\n"
            "V1,2024-03-05,城东社区,很满意,是,社区\n"
            "V2,2024-03-05,城东社区,满意,也许,区里\n"
            "V3,,城东社区,,,\n"
            ",2024-03-05,城东社区,,,\n").encode()
    r = imp(store, "cases", data, "v.csv")
    assert (r.inserted, r.rejected) == (0, 4)
    assert [(x.row, x.column, x.reason) for x in r.rejects] == [
        (2, "满意度", "满意度不在允许的取值中（满意/基本满意/不满意）"),
        (3, "办结层级", "办结层级不在允许的取值中（社区/街道/上级）"),
        (3, "是否解决", "是否解决不是有效的是/否值（可用：是/否、Y/N、true/false、1/0）"),
        (4, "受理时间", "受理时间为必填项，不能为空"),
        (5, "工单编号", "工单编号为必填项，不能为空"),
    ]


def test_implausible_rows_are_stored(store):
    data = ("工单编号,受理时间,社区,办理时限,办结时间\n"
            "Q1,2024-03-05 10:00,城东社区,2024-03-01 10:00,2024-03-04 10:00\n").encode()
    r = imp(store, "cases", data, "q.csv")
    assert (r.inserted, r.rejected) == (1, 0)
    data = "人员编号,日期,签到时间,签退时间\nA001,2024-03-05,2024-03-05 08:30,2024-03-05 07:00\n".encode()
    r = imp(store, "attendance", data, "a.csv")
    assert (r.inserted, r.rejected) == (1, 0)
    from data.quality import checkout_before_checkin, closed_before_reported
    assert closed_before_reported(store)[0] == 1 and checkout_before_checkin(store)[0] == 1


def test_rows_dated_after_the_import_are_stored_and_counted(store):
    """A case reported in 2031 is a fact of the source system: stored, counted as a warning
    per column, listed by the quality check; a deadline ahead is normal."""
    data = ("工单编号,受理时间,社区,办理时限,办结时间\n"
            "F1,2031-03-05 10:00,城东社区,,\n"
            "F2,2031-03-06 10:00,城东社区,,\n"
            "F3,2031-03-07,城西社区,,\n"
            "F4,2024-03-05 10:00,城东社区,,2031-03-07 10:00\n"
            "F5,2024-03-05 10:00,城东社区,2031-03-05,\n").encode()
    pv = preview_file(store, "cases", data, "f.csv")
    assert pv.future_rows == {"reported_at": 3, "closed_at": 1}
    assert pv.warnings[0].startswith("全部 5 行中有 3 行的受理时间晚于当前时间（") and pv.notes == []
    r = imp(store, "cases", data, "f.csv")
    assert (r.error, r.inserted, r.rejected, r.committed) == (None, 5, 0, True)
    assert r.future_rows == {"reported_at": 3, "closed_at": 1}
    stamp = f"{r.imported_at:%Y-%m-%d %H:%M}"
    assert r.warnings == [
        f"有 3 行的受理时间晚于导入时间（{stamp}）：已按原样导入，请在源系统中核对（数据质量检查「日期晚于数据截至」中列出）",
        f"有 1 行的办结时间晚于导入时间（{stamp}）：已按原样导入，请在源系统中核对（数据质量检查「日期晚于数据截至」中列出）"]
    assert log_rows(store)[-1]["imported_at"] == r.imported_at
    from data.quality import dated_after_as_of
    n, found = dated_after_as_of(store)
    assert n == 4 and sorted(found["编号"]) == ["F1", "F2", "F3", "F4"]
    # dates and months count against the import day and month
    logs = "日志编号,人员编号,日期\nW1,A001,2031-01-02\nW2,A001,2024-01-02\n".encode()
    r = imp(store, "worklogs", logs, "w.csv")
    assert (r.inserted, r.future_rows) == (2, {"day": 1})


def test_unknown_references(store):
    r = imp(store, "cases", "cases_unknown_refs.csv")
    assert (r.inserted, r.rejected) == (1, 3)
    assert [(x.row, x.column, x.value, x.reason) for x in r.rejects] == [
        (3, "社区", "城北社区", "未知社区「城北社区」：社区表中不存在（请先导入社区表）"),
        (4, "承办人编号", "A999", "未知人员编号「A999」：干部表中不存在（请先导入干部表）"),
        (5, "网格编号", "G999", "未知网格「G999」：网格表中不存在（请先导入网格表）"),
    ]
    assert [x["case_id"] for x in rows(store, "cases")] == ["U1"]


def test_duplicate_keys_in_file(store):
    r = imp(store, "cases", "cases_duplicate_keys.csv")
    assert (r.inserted, r.rejected) == (2, 1)
    assert [(x.row, x.column, x.value, x.reason) for x in r.rejects] == [
        (4, "工单编号", "D1", "主键与第 2 行重复：同一文件中只导入第一次出现的行")]
    assert {x["case_id"]: x["summary"] for x in rows(store, "cases")} == {"D1": "first", "D2": "second"}


def test_formula_cells_are_text(store):
    r = imp(store, "cases", "cases_formulas.csv")
    assert (r.inserted, r.rejected) == (1, 1)
    got = rows(store, "cases")[0]
    assert got["summary"] == '=HYPERLINK("http://x","click")' and got["status"] == "=1+1"
    assert [(x.row, x.column, x.value) for x in r.rejects] == [(3, "受理时间", "=TODAY()")]
    assert "不会被计算" in r.rejects[0].reason
    wb = openpyxl.load_workbook(io.BytesIO(rejects_to_xlsx(r.rejects)))
    cell = wb.active["C2"]
    assert (cell.value, cell.data_type) == ("=TODAY()", "s")
    text = rejects_to_csv(r.rejects).decode("utf-8-sig")
    assert text.splitlines() == ["行号,列,值,原因", f"3,受理时间,'=TODAY(),{r.rejects[0].reason}"]


# ---------------------------------------------------------------------------------------
# Excel

def _xlsx(rows_: list[list], formats: dict[tuple[int, int], str] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows_:
        ws.append(r)
    for (r, c), fmt in (formats or {}).items():
        ws.cell(row=r, column=c).number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_date_cells_serials_and_formulas(store):
    data = _xlsx([
        ["工单编号", "受理时间", "社区", "办结时间", "诉求摘要", "是否解决"],
        [1001, datetime(2024, 3, 5, 9, 30), "城东社区", 45358.25, "=A2&C2", True],
        ["1002", "2024/03/06 10:00", "城西社区", None, "普通", "否"],
        ["1003", "not a date", "城西社区", None, None, None],
    ], {(2, 2): "yyyy-mm-dd hh:mm"})
    r = imp(store, "cases", data, "cases.xlsx")
    assert (r.error, r.file_format, r.encoding) == (None, "xlsx", None)
    assert (r.inserted, r.rejected) == (2, 1)
    got = {x["case_id"]: x for x in rows(store, "cases")}
    assert got["1001"]["reported_at"] == datetime(2024, 3, 5, 9, 30)
    assert got["1001"]["closed_at"] == datetime(2024, 3, 7, 6, 0)
    assert got["1001"]["summary"] == "=A2&C2"              # formula kept as text, not evaluated
    assert got["1001"]["callback_resolved"] is True and got["1002"]["callback_resolved"] is False
    assert [(x.row, x.column, x.value) for x in r.rejects] == [(4, "受理时间", "not a date")]


def test_truncated_xlsx(store):
    good = _xlsx([["工单编号", "受理时间", "社区"]] + [[f"T{i}", "2024-03-05", "城东社区"] for i in range(500)])
    r = imp(store, "cases", good[: len(good) // 2], "cut.xlsx")
    assert r.error == "XLSX 文件已损坏或不完整，无法打开（请在 Excel 中重新保存或重新导出）"
    assert count(store, "cases") == 0
    r = imp(store, "cases", b"this is not a zip", "fake.xlsx")
    assert r.error == "XLSX 文件已损坏或不完整，无法打开（请在 Excel 中重新保存或重新导出）"


def test_templates_import_cleanly(engine):
    for table in TABLES:
        data = template_xlsx(table)
        wb = openpyxl.load_workbook(io.BytesIO(data))
        ws = wb.worksheets[0]
        headers = [c.value for c in ws[1]]
        expected = [ZH_HEADERS[table][c] for c in TABLES[table].columns if c != "person_key"]
        assert headers[: len(expected)] == expected
        lists = {str(dv.sqref).split(":")[0][:-1]: dv.formula1 for dv in ws.data_validations.dataValidation}
        for j, name in enumerate(c for c in TABLES[table].columns if c != "person_key"):
            col = TABLES[table].columns[name]
            letter = openpyxl.utils.get_column_letter(j + 1)
            if col.choices:
                assert lists[letter] == '"' + ",".join(col.choices) + '"'
            if col.kind == "bool":
                assert lists[letter] == '"是,否"'
        r = import_file(engine, table, data, f"{table}.xlsx")
        assert (r.error, r.inserted, r.rejected) == (None, 1, 0), (table, r.error, r.rejects)


# ---------------------------------------------------------------------------------------
# Idempotency, updates, strict mode, transactions

def test_reimport_is_idempotent_and_updates_count_real_changes(store):
    first = imp(store, "cases", "cases_mixed_dates.csv")
    before = rows(store, "cases")
    again = imp(store, "cases", "cases_mixed_dates.csv")
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 6, 3)
    assert rows(store, "cases") == before
    # closing a case later is a normal update; a file without 满意度 keeps the stored one
    data = "工单编号,受理时间,社区,办结时间\nM2,2024-03-05 09:05,城东社区,2024-03-08 11:00\nM4,45356.5,城西社区,\n".encode()
    r = imp(store, "cases", data, "close.csv")
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 1)
    got = {x["case_id"]: x for x in rows(store, "cases")}
    assert got["M2"]["closed_at"] == datetime(2024, 3, 8, 11, 0)
    assert got["M4"]["satisfaction"] == "基本满意" and got["M2"]["summary"] == "垃圾清运"
    assert [(l["inserted"], l["updated"], l["rejected"]) for l in log_rows(store)[3:]] == [
        (6, 0, 3), (0, 0, 3), (0, 1, 0)]
    assert first.committed


def test_money_and_float_idempotent(store):
    data = "保障对象编号,保障类别,社区,起始年月,月保障金额\nB1,城市低保,城东社区,2024-01,680.1\n".encode()
    assert imp(store, "benefit_recipients", data, "b.csv").inserted == 1
    r = imp(store, "benefit_recipients", data, "b.csv")
    assert (r.inserted, r.updated, r.unchanged) == (0, 0, 1)
    assert rows(store, "benefit_recipients")[0]["monthly_amount"] == Decimal("680.10")
    data = "人员编号,日期,签到时间,纬度,经度\nA001,2024-03-05,2024-03-05 08:30,35.2336123,115.4806\n".encode()
    assert imp(store, "attendance", data, "a.csv").inserted == 1
    r = imp(store, "attendance", data, "a.csv")
    assert (r.inserted, r.updated, r.unchanged) == (0, 0, 1)


def test_strict_mode(store):
    r = imp(store, "cases", "cases_mixed_dates.csv", strict=True)
    assert (r.error, r.committed, r.inserted, r.rejected, len(r.rejects)) == (None, False, 0, 3, 3)
    assert r.summary_zh().startswith("严格模式：发现 3 行无效数据，本文件未导入任何数据")
    assert count(store, "cases") == 0 and len(log_rows(store)) == 3
    r = imp(store, "cases", "cases_duplicate_keys.csv", strict=True, chunk_size=1)
    assert (r.committed, count(store, "cases")) == (False, 0)  # the first rows were written, then rolled back
    data = "工单编号,受理时间,社区\nS1,2024-03-05,城东社区\n".encode()
    r = imp(store, "cases", data, "ok.csv", strict=True)
    assert (r.committed, r.inserted) == (True, 1)


def test_exception_mid_import_rolls_back(store):
    imp(store, "cases", "cases_duplicate_keys.csv")
    before = rows(store, "cases")

    def boom(n):
        if n == 2:
            raise RuntimeError("disk on fire")

    data = "工单编号,受理时间,社区,诉求摘要\n" + "".join(
        f"K{i},2024-03-05 09:00,城东社区,s{i}\n" for i in range(50)) + "D1,2024-03-05 09:00,城西社区,changed\n"
    r = import_file(store, "cases", data.encode(), "k.csv", chunk_size=10, on_chunk=boom)
    assert r.error.startswith("导入中断，已回滚，数据库未做任何修改（RuntimeError")
    assert (r.inserted, r.committed) == (0, False)
    assert rows(store, "cases") == before and len(log_rows(store)) == 4


KILL_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from data.store.db import get_engine
from data.ingest.importer import import_file
def hook(n):
    if n == 3:
        print("HALF", flush=True)
        time.sleep(120)
import_file(get_engine(sys.argv[2]), "cases", sys.argv[3], "big.csv", chunk_size=500, on_chunk=hook)
print("DONE", flush=True)
"""


def test_killed_import_leaves_store_unchanged(store, tmp_path):
    imp(store, "cases", "cases_duplicate_keys.csv")
    before = rows(store, "cases")
    log_before = log_rows(store)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("工单编号,受理时间,社区,诉求摘要\n")
        fh.write("D1,2024-03-05 09:00,城西社区,overwritten\n")
        for i in range(5000):
            fh.write(f"K{i},2024-03-05 09:00,城东社区,s{i}\n")
    url = store.url.render_as_string(hide_password=False)
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(ROOT), url, str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "HALF", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    time.sleep(0.2)
    assert rows(store, "cases") == before
    assert log_rows(store) == log_before
    r = imp(store, "cases", path, "big.csv")           # and the store still works
    assert (r.inserted, r.updated) == (5000, 1)


# ---------------------------------------------------------------------------------------
# Mapping files and personal data

def test_mapping_file_with_foreign_headers(store):
    r = imp(store, "cases", "foreign_cases.csv")
    assert r.error == "缺少必需列：工单编号（case_id）、受理时间（reported_at）、社区（community）。请检查表头，或在映射文件中指定对应的列"
    r = imp(store, "cases", "foreign_cases.csv", mapping=CORPUS / "foreign_cases.yaml")
    assert r.error is None
    assert (r.inserted, r.rejected) == (2, 1)
    assert r.ignored_columns == ["Operator note"] and r.dropped_columns == ["Phone"]
    assert [(x.row, x.column, x.value) for x in r.rejects] == [(4, "Opened", "31.02.2024 10:00")]
    got = {x["case_id"]: x for x in rows(store, "cases")}
    assert got["T-1"]["reported_at"] == datetime(2024, 3, 5, 9, 30)
    assert got["T-1"]["closed_at"] == datetime(2024, 3, 7, 16, 0)
    assert (got["T-1"]["community"], got["T-1"]["satisfaction"], got["T-1"]["channel"]) == ("城东社区", "满意", "12345热线")
    assert (got["T-2"]["community"], got["T-2"]["satisfaction"], got["T-2"]["closed_at"]) == ("城西社区", "不满意", None)
    # the mapping can also be given as YAML text or a dict
    r2 = imp(store, "cases", "foreign_cases.csv", mapping=(CORPUS / "foreign_cases.yaml").read_bytes())
    assert (r2.inserted, r2.unchanged, r2.rejected) == (0, 2, 1)


def test_bad_mapping_files(store):
    r = imp(store, "cases", "foreign_cases.csv", mapping={"columns": {"Ticket No": "ticket"}})
    assert r.error.startswith("映射文件把「Ticket No」映射到「ticket」，但表 cases（诉求工单）没有这一列")
    r = imp(store, "cases", "foreign_cases.csv", mapping=b"columns: [unclosed")
    assert r.error.startswith("映射文件不是有效的 YAML")
    r = imp(store, "cases", "cases_missing_column.csv", mapping={"constants": {"reported_at": "someday"}})
    assert r.error.startswith("映射文件中常量 reported_at（受理时间）的值「someday」无效")
    r = imp(store, "cases", "cases_missing_column.csv", mapping={"constants": {"reported_at": "2024-03-01"}})
    assert (r.error, r.inserted) == (None, 1)
    assert rows(store, "cases")[0]["reported_at"] == datetime(2024, 3, 1)


def test_person_key_and_phone_dropping(store):
    r = imp(store, "benefit_recipients", "recipients_personal.csv")
    assert r.error is None
    assert r.column_mapping["身份证号"] == "person_key" and r.dropped_columns == ["手机号"]
    assert (r.inserted, r.rejected) == (2, 2)
    assert [(x.row, x.column, x.value, x.reason) for x in r.rejects] == [
        (4, "身份证号", "***", "身份证号格式不正确（应为 18 位或 15 位）"),
        (5, "保障类别", "低保", "保障类别不在允许的取值中（城市低保/农村低保/特困供养/临时救助/残疾人生活补贴/重度残疾人护理补贴）"),
    ]
    got = {x["recipient_id"]: x for x in rows(store, "benefit_recipients")}
    key = lambda s: hmac.new(SECRET.encode(), s.encode(), hashlib.sha256).hexdigest()  # noqa: E731
    assert got["R1"]["person_key"] == key("370102199001011234")
    assert got["R2"]["person_key"] == key("37010219900101123X")
    assert (got["R2"]["start_month"], got["R2"]["end_month"], got["R2"]["monthly_amount"]) == \
        ("2024-02", "2024-06", Decimal("1020.50"))
    everything = json.dumps([rows(store, t) for t in DATA_TABLES] + [log_rows(store)], default=str)
    assert "370102" not in everything and "13800" not in everything
    pv = preview_file(store, "benefit_recipients", CORPUS / "recipients_personal.csv", "r.csv")
    assert pv.frame["身份证号"].tolist() == ["370***********1234", "370***********123x", "***", ""]
    assert "手机号" not in pv.frame.columns and pv.dropped_columns == ["手机号"]


def test_missing_secret_is_a_clear_error(store, monkeypatch):
    monkeypatch.delenv(I.SECRET_ENV)
    r = imp(store, "benefit_recipients", "recipients_personal.csv")
    assert r.error.startswith("文件包含身份证号列，但未配置加密密钥：请设置环境变量 ZHILI_PERSON_KEY_SECRET")
    assert count(store, "benefit_recipients") == 0
    # a secret in .streamlit/secrets.toml works too
    secrets = Path(I.SECRETS_FILE)
    secrets.write_text('[zhili]\nperson_key_secret = "from-file"\n', encoding="utf-8")
    r = imp(store, "benefit_recipients", "recipients_personal.csv")
    assert r.inserted == 2
    assert rows(store, "benefit_recipients")[0]["person_key"] == hmac.new(
        b"from-file", b"370102199001011234", hashlib.sha256).hexdigest()


def test_preview(store):
    pv = preview_file(store, "cases", CORPUS / "cases_mixed_dates.csv", "m.csv", nrows=3)
    assert (pv.error, pv.encoding, pv.file_format, pv.header_row) == (None, "utf-8", "csv", 1)
    assert pv.frame["行号"].tolist() == [2, 3, 4]
    assert pv.frame["受理时间"].tolist() == ["2024-03-05", "2024/3/5 9:05", "03/05/2024 02:30:00 PM"]
    assert pv.column_mapping["受理时间"] == "reported_at" and pv.problems == []
    assert count(store, "cases") == 0
    pv = preview_file(store, "cases", CORPUS / "cases_unknown_refs.csv", "u.csv")
    assert [p.row for p in pv.problems] == [3, 4, 5]
    pv = preview_file(store, "cases", CORPUS / "cases_missing_column.csv", "x.csv")
    assert pv.error.startswith("缺少必需列：受理时间")


def test_cli(store, tmp_path, capsys):
    from cli import main
    url = store.url.render_as_string(hide_password=False)
    rej = tmp_path / "rejects.csv"
    rc = main(["import", "cases", str(CORPUS / "cases_mixed_dates.csv"), "--db", url,
               "--rejects", str(rej), "--exported-at", "2024-03-10T18:00:00"])
    out = capsys.readouterr().out
    assert rc == 0 and "导入完成：读取 9 行，新增 6 行，更新 0 行，未变化 0 行，拒绝 3 行。" in out
    assert rej.read_text(encoding="utf-8-sig").splitlines()[0] == "行号,列,值,原因"
    assert len(rej.read_text(encoding="utf-8-sig").splitlines()) == 4
    assert log_rows(store)[-1]["exported_at"] == datetime(2024, 3, 10, 18, 0)
    rc = main(["import", "cases", str(CORPUS / "cases_missing_column.csv"), "--db", url])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip() == "错误：缺少必需列：受理时间（reported_at）。请检查表头，或在映射文件中指定对应的列"
    rc = main(["import", "cases", str(CORPUS / "cases_duplicate_keys.csv"), "--db", url, "--strict"])
    assert rc == 1


# ---------------------------------------------------------------------------------------
# A 50 MB file (SQLite; generated, not committed)

BIG_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from data.store.db import get_engine, create_schema
from data.ingest.importer import import_file
engine = get_engine(sys.argv[2])
t0 = time.perf_counter()
r = import_file(engine, "cases", sys.argv[3], "big.csv")
dt = time.perf_counter() - t0
# VmHWM is this process's own peak; ru_maxrss would carry over the forking parent's peak.
hwm_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": dt, "maxrss_mb": hwm_kb / 1024,
                  "inserted": r.inserted, "rejected": r.rejected, "error": r.error, "encoding": r.encoding}))
"""


@pytest.mark.slow
def test_50mb_csv_streams(tmp_path):
    db = tmp_path / "big.db"
    url = f"sqlite:///{db}"
    eng = get_engine(url)
    create_schema(eng)
    insert(eng, "communities", [{"name": "城东社区"}, {"name": "城西社区"}])
    path = tmp_path / "big.csv"
    n = 0
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["工单编号", "受理时间", "来源渠道", "诉求类别", "社区", "办结时间", "状态", "满意度", "诉求摘要"])
        while fh.tell() < 50 * 1024 * 1024:
            for _ in range(1000):
                n += 1
                w.writerow([f"BIG{n:08d}", f"2023-{n % 12 + 1:02d}-{n % 28 + 1:02d} 09:{n % 60:02d}:00", "12345热线",
                            "物业管理", "城东社区" if n % 3 else "城西社区", f"2023/{n % 12 + 1}/{n % 28 + 1} 17:00",
                            "已办结", "满意", "小区楼道灯长期不亮，居民夜间出行不便，希望尽快维修" * 2])
    size = path.stat().st_size
    assert size >= 50 * 1024 * 1024
    out = subprocess.run([sys.executable, "-c", BIG_CHILD, str(ROOT), url, str(path)],
                         capture_output=True, text=True, timeout=900)
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n50MB import: {size / 2**20:.1f} MB, {n} rows, {stats}")
    assert stats["error"] is None and stats["encoding"] == "gbk"
    assert (stats["inserted"], stats["rejected"]) == (n, 0)
    assert stats["maxrss_mb"] < 10 * size / 2**20 / 2   # well under 5x the file size
    assert count(eng, "cases") == n


def test_import_refreshes_planner_statistics(tmp_path):
    """After an import SQLite knows the table's statistics, so the breakdown dictionaries
    (SELECT DISTINCT of an indexed column) skip through the index instead of reading it."""
    engine = get_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    create_schema(engine)
    for table in ("communities", "grids", "cadres", "cases"):
        r = imp(engine, table, f"{table}.csv" if table != "cases" else "cases_mixed_dates.csv")
        assert r.committed and r.error is None and not r.warnings, (table, r.warnings)
    with engine.connect() as conn:
        analysed = {row[0] for row in conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
    assert {"communities", "grids", "cadres", "cases"} <= analysed


def _xls(rows_: list[list]) -> bytes:
    """An Excel 97-2003 workbook (xlwt), dates as real date cells."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("工单")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    for r, row in enumerate(rows_):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                ws.write(r, c, value, stamp)
            elif value is not None:
                ws.write(r, c, value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xls_cells(store):
    """Old-format exports: date cells, numbers as ids, booleans, empty cells, damage."""
    data = _xls([
        ["工单编号", "受理时间", "社区", "办结时间", "诉求摘要", "是否解决"],
        [2001, datetime(2024, 3, 5, 9, 30), "城东社区", datetime(2024, 3, 7, 6, 0), "路灯不亮", True],
        ["2002", "2024/03/06 10:00", "城西社区", None, None, "否"],
        ["2003", "不是日期", "城西社区", None, None, None],
    ])
    r = imp(store, "cases", data, "cases.xls")
    assert (r.error, r.file_format) == (None, "xls")
    assert (r.inserted, r.rejected) == (2, 1)
    got = {x["case_id"]: x for x in rows(store, "cases")}
    assert got["2001"]["reported_at"] == datetime(2024, 3, 5, 9, 30)
    assert got["2001"]["closed_at"] == datetime(2024, 3, 7, 6, 0)
    assert got["2001"]["summary"] == "路灯不亮" and got["2002"]["summary"] is None
    assert got["2001"]["callback_resolved"] is True and got["2002"]["callback_resolved"] is False
    assert [(x.row, x.column, x.value) for x in r.rejects] == [(4, "受理时间", "不是日期")]
    r = imp(store, "cases", b"\xd0\xcf\x11\xe0 not really a workbook", "broken.xls")
    assert r.error == "XLS 文件已损坏或不是 Excel 97-2003 工作簿，无法打开"
    assert count(store, "cases") == 2  # nothing stored is lost

"""An office's own data in, without help: presets, saved mappings, real Excel shapes, the
answers offices write, end-of-day deadlines, references created on the fly, missing fields.

The realistic files are generated here, deterministically: a GBK 12345 hotline export of
1 500 work orders (header variants, 已解决/非常满意 spellings, date-only deadlines,
communities not yet in the store) and a grid-event workbook (title row, two-row header with
a merged 处置情况, merged 所属社区 cells, a hidden row, a hidden sheet, a 合计 row), as XLSX
and XLS. Expected figures are computed from the generator's rules, not read back.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from data.ingest import importer as I
from data.ingest import synonyms as S
from data.ingest.columns import KPI_FIELDS, TABLES, target_of
from data.ingest.importer import (
    FileError, delete_mapping, find_mapping, get_mapping, import_file, list_mappings,
    mapping_from_targets, preview_file, save_mapping,
)
from data.store.schema import DATA_TABLES, INTERNAL_COLUMNS
from tests.builders import insert

SECRET = "test-secret"


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv(I.SECRET_ENV, SECRET)
    monkeypatch.setattr(I, "SECRETS_FILE", tmp_path / "no-secrets.toml")
    monkeypatch.delenv(S.SETTINGS_ENV, raising=False)   # the shipped settings.toml


@pytest.fixture
def store(engine):
    insert(engine, "communities", [{"name": "城东社区", "kind": "社区", "population": 6800},
                                   {"name": "城西社区", "kind": "社区", "population": 7200}])
    insert(engine, "grids", [{"grid_id": "G001", "name": "城东第一网格", "community": "城东社区"}])
    return engine


def rows(engine, table, order=None):
    t = DATA_TABLES[table]
    cols = [c for c in t.columns if c.name not in INTERNAL_COLUMNS]
    keys = order or [c.name for c in t.primary_key.columns]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(*cols).order_by(*(t.c[k] for k in keys))).mappings()]


def scalar(engine, stmt):
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


# ---------------------------------------------------------------------------------------
# The 12345 hotline export (GBK CSV, 1 500 rows)

HOTLINE_HEADERS = ["工单编号", "来电时间", "诉求分类", "诉求内容", "所属社区", "承办单位", "签收时间",
                   "办理时限", "办结时间", "工单状态", "回访结果", "满意度", "来电人", "来电号码"]
COMMUNITIES = ["城东社区", "城西社区", "和平社区", "幸福社区", "建设社区"]
RESOLVED = ["已解决", "已解决", "已解决", "部分解决", "未解决", ""]          # by i % 6
SATISFACTION = ["非常满意", "满意", "基本满意", "一般", "不满意"]          # by (i // 5) % 5
N_HOTLINE = 1500


def hotline_rules(i: int) -> dict:
    """Work order i (1…1500): the facts the export is written from."""
    reported = datetime(2024, 1, 1, 8, 0) + timedelta(days=i % 300, minutes=i % 600)
    closed = i % 10 != 0
    close_days = i % 9                                  # 0…8 days after reporting
    deadline_day = (reported + timedelta(days=7)).date()
    return {
        "reported": reported, "community": COMMUNITIES[i % 5], "closed": closed,
        "closed_at": datetime.combine((reported + timedelta(days=close_days)).date(),
                                      datetime.min.time()) + timedelta(hours=16) if closed else None,
        "deadline_day": deadline_day,
        "deadline_time": "17:30" if i % 7 == 0 else None,  # else a date alone
        "responded": None if i % 13 == 0 else reported + timedelta(hours=i % 30),
        "resolved_word": RESOLVED[i % 6] if closed else "",
        "satisfaction_word": SATISFACTION[(i // 5) % 5] if closed else "",
    }


def hotline_csv() -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HOTLINE_HEADERS)
    for i in range(1, N_HOTLINE + 1):
        f = hotline_rules(i)
        rep = f["reported"]
        rep_text = f"{rep:%Y/%m/%d %H:%M:%S}".replace("/0", "/") if i % 2 else f"{rep:%Y-%m-%d %H:%M}"
        deadline = f"{f['deadline_day']:%Y-%m-%d}" + (f" {f['deadline_time']}" if f["deadline_time"] else "")
        w.writerow([
            f"GD2024{i:06d}", rep_text, "城乡建设-物业管理-小区公共设施维修" if i % 3 else "社会保障-就业创业",
            f"来电人反映楼道灯不亮，联系电话1391234{i % 10000:04d}" if i % 50 == 0 else "反映小区楼道灯不亮",
            f["community"], "城东社区居委会", f"{f['responded']:%Y-%m-%d %H:%M:%S}" if f["responded"] else "",
            deadline, f"{f['closed_at']:%Y-%m-%d %H:%M:%S}" if f["closed_at"] else "",
            "已办结" if f["closed"] else "办理中", f["resolved_word"], f["satisfaction_word"],
            "张先生", f"1380000{i % 10000:04d}",
        ])
    return buf.getvalue().encode("gbk")


def test_hotline_export_through_the_cli_preset(store, tmp_path, capsys):
    from cli import main

    path = tmp_path / "12345工单导出.csv"
    path.write_bytes(hotline_csv())
    url = store.url.render_as_string(hide_password=False)
    rc = main(["import", "cases", str(path), "--db", url, "--create-missing"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "使用映射：预设「12345热线工单」" in out
    assert f"导入完成：读取 {N_HOTLINE} 行，新增 {N_HOTLINE} 行，更新 0 行，未变化 0 行，拒绝 0 行。" in out
    assert "新建社区 3 个：和平社区、幸福社区、建设社区" in out
    assert "已忽略的列（未导入）：承办单位、来电人" in out
    assert "已丢弃的个人信息列（不保存）：来电号码" in out
    assert "缺少字段：文件中没有办结层级，影响指标：小事不出社区、大事不出街道、矛盾上交率" in out
    # every row in, the new communities made (kind 社区, population empty)
    facts = [hotline_rules(i) for i in range(1, N_HOTLINE + 1)]
    cases = DATA_TABLES["cases"]
    assert scalar(store, select(func.count()).select_from(cases)) == N_HOTLINE
    comms = {r["name"]: (r["kind"], r["population"]) for r in rows(store, "communities")}
    assert comms == {"城东社区": ("社区", 6800), "城西社区": ("社区", 7200), "和平社区": ("社区", None),
                     "幸福社区": ("社区", None), "建设社区": ("社区", None)}
    # aggregates by hand: closed when i % 10 != 0 (1 350); resolved when closed and i % 6 in
    # 0, 1, 2 (已解决); on time when closed within 7 days (i % 9 <= 7): a date-only deadline is
    # the end of its day, so a case closed on the deadline day at 16:00 is on time
    closed = sum(1 for i in range(1, N_HOTLINE + 1) if i % 10)
    resolved = sum(1 for i in range(1, N_HOTLINE + 1) if i % 10 and i % 6 in (0, 1, 2))
    unresolved = sum(1 for i in range(1, N_HOTLINE + 1) if i % 10 and i % 6 in (3, 4))
    on_time = sum(1 for i in range(1, N_HOTLINE + 1) if i % 10 and i % 9 <= 7)
    on_deadline_day = sum(1 for i in range(1, N_HOTLINE + 1) if i % 10 and i % 9 == 7)
    assert (closed, resolved, unresolved, on_time, on_deadline_day) == (1350, 650, 450, 1200, 150)
    assert sum(f["closed"] for f in facts) == closed
    c = cases.c
    assert scalar(store, select(func.count()).where(c.closed_at.is_not(None))) == closed
    assert scalar(store, select(func.count()).where(c.callback_resolved.is_(True))) == resolved
    assert scalar(store, select(func.count()).where(c.callback_resolved.is_(False))) == unresolved
    assert scalar(store, select(func.count()).where(c.closed_at <= c.deadline_at)) == on_time
    # 满意度: 非常满意 → 满意, 一般 → 基本满意 (the defaults of [import.synonyms.satisfaction])
    by_sat = {s: scalar(store, select(func.count()).where(c.satisfaction == s))
              for s in ("满意", "基本满意", "不满意")}
    expect = {"满意": 0, "基本满意": 0, "不满意": 0}
    for i in range(1, N_HOTLINE + 1):
        if i % 10:
            word = SATISFACTION[(i // 5) % 5]
            expect[{"非常满意": "满意", "一般": "基本满意"}.get(word, word)] += 1
    assert by_sat == expect and sum(expect.values()) == closed
    got = {r["case_id"]: r for r in rows(store, "cases")}
    one = got["GD2024000001"]     # i = 1: a date-only deadline, 已解决 (i % 6 = 1)
    assert one["deadline_at"] == datetime(2024, 1, 9, 23, 59, 59)
    assert (one["channel"], one["community"], one["callback_resolved"]) == ("12345热线", "城西社区", True)
    seven = got["GD2024000007"]   # i = 7: deadline with a time, kept
    assert seven["deadline_at"] == datetime(2024, 1, 15, 17, 30)
    assert "1391234" not in (got["GD2024000050"]["summary"] or "")     # masked
    assert got["GD2024000013"]["responded_at"] is None
    # re-running changes nothing, and says so
    rc = main(["import", "cases", str(path), "--db", url, "--create-missing"])
    assert rc == 0 and f"未变化 {N_HOTLINE} 行" in capsys.readouterr().out


def test_hotline_preview_lists_new_communities_and_rejects(store):
    pv = preview_file(store, "cases", hotline_csv(), "12345.csv", auto_mapping=True)
    assert pv.error is None and (pv.mapping_name, pv.mapping_source) == ("12345热线工单", "preset")
    assert pv.mapping_coverage == 1.0 and pv.encoding == "gbk"
    assert pv.new_references == {"communities": ["和平社区", "幸福社区", "建设社区"]}
    # without create_missing the rows of the three new communities would be rejected
    assert (pv.rows_total, pv.rejected) == (N_HOTLINE, 900)
    pv2 = preview_file(store, "cases", hotline_csv(), "12345.csv", auto_mapping=True, create_missing=True)
    assert (pv2.rows_total, pv2.rejected, pv2.rejects) == (N_HOTLINE, 0, [])
    # every column: a field or 忽略, with its name
    assert [(c.header, c.label, c.status) for c in pv2.columns] == [
        ("工单编号", "工单编号", "mapped"), ("来电时间", "受理时间", "mapped"),
        ("诉求分类", "诉求类别", "mapped"), ("诉求内容", "诉求摘要", "mapped"),
        ("所属社区", "社区", "mapped"), ("承办单位", "忽略", "ignored"),
        ("签收时间", "签收时间", "mapped"), ("办理时限", "办理时限", "mapped"),
        ("办结时间", "办结时间", "mapped"), ("工单状态", "状态", "mapped"),
        ("回访结果", "是否解决", "mapped"), ("满意度", "满意度", "mapped"),
        ("来电人", "忽略", "ignored"), ("来电号码", "电话（丢弃，不保存）", "dropped")]
    assert pv2.headers == HOTLINE_HEADERS
    # the first rows as stored: parsed, recoded, end-of-day deadline, constants filled
    first = pv2.stored.iloc[0]
    assert first["行号"] == 2 and first["受理时间"] == "2024-01-02 08:01:00"
    assert (first["办理时限"], first["是否解决"], first["满意度"], first["来源渠道"]) == (
        "2024-01-09 23:59:59", "是", "满意", "12345热线")
    assert first["问题"] == ""
    assert [m.column for m in pv2.missing_fields] == ["resolution_level"]
    assert count_of(store, "cases") == 0 and count_of(store, "communities") == 2


def count_of(engine, table):
    return scalar(engine, select(func.count()).select_from(DATA_TABLES[table]))


def test_without_create_missing_the_rows_are_rejected_and_the_hint_given(store):
    r = import_file(store, "cases", hotline_csv(), "12345.csv", auto_mapping=True)
    assert (r.inserted, r.rejected) == (600, 900) and r.created == {}
    assert any(w.startswith("文件中有 3 个社区不在社区表中（和平社区、幸福社区、建设社区），这些行已拒绝")
               for w in r.warnings), r.warnings
    assert count_of(store, "communities") == 2


# ---------------------------------------------------------------------------------------
# The grid-event workbook: title row, two-row merged header, merged cells, hidden row and
# sheet, 合计 row

GRID_EVENTS = [  # 事件编号, 上报时间, 事件类型, 所属社区 (merged runs), 所属网格, 办结时间, 办结层级, 处置结果, 满意度
    ("SJ001", datetime(2024, 3, 1, 9, 0), "环境卫生", "城东社区", "G001", datetime(2024, 3, 2, 10, 0), "社区级", "已清理", "满意"),
    ("SJ002", datetime(2024, 3, 1, 10, 0), "占道经营", "城东社区", "G001", datetime(2024, 3, 3, 10, 0), "街道级", "已劝离", "非常满意"),
    ("SJ003", datetime(2024, 3, 2, 11, 0), "违章搭建", "城东社区", "城东第二网格", None, None, "处置中", None),
    ("SJ004", datetime(2024, 3, 2, 15, 0), "邻里纠纷", "城东社区", "城东第二网格", datetime(2024, 3, 5, 9, 0), "区级", "已调解", "一般"),
    ("SJ005", datetime(2024, 3, 3, 8, 30), "环境卫生", "城西社区", "城西第一网格", datetime(2024, 3, 3, 17, 0), "社区", "已清理", "满意"),
    ("SJ006", datetime(2024, 3, 3, 9, 30), "设施损坏", "城西社区", "城西第一网格", datetime(2024, 3, 4, 9, 0), "社区级", "已维修", "基本满意"),
    ("SJ007", datetime(2024, 3, 4, 14, 0), "环境卫生", "城西社区", "城西第一网格", datetime(2024, 3, 4, 18, 0), "社区级", "已清理", "不满意"),
]
HIDDEN_EVENT = ("SJ099", datetime(2024, 3, 4, 16, 0), "测试", "城西社区", "城西第一网格", None, None, "作废", None)
HEADER_TOP = ["事件编号", "上报时间", "事件类型", "所属社区", "所属网格", "处置情况", None, None, "满意度"]
HEADER_SUB = [None, None, None, None, None, "办结时间", "办结层级", "处置结果", None]


def grid_xlsx() -> bytes:
    """Rows: 1 title, 2–3 header, 4–7 城东社区 (merged D4:D7), 8 hidden, 9–11 城西社区 (merged
    D8:D11 over the hidden row), 12 合计. A hidden sheet comes first, a notes sheet last."""
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "原始数据"
    hidden.append(["事件编号", "上报时间", "所属社区"])
    hidden.append(["X1", datetime(2024, 1, 1), "城东社区"])
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("网格事件")
    ws.append(["南城街道网格事件处置台账（2024年3月）"])
    ws.merge_cells("A1:I1")
    ws.append(HEADER_TOP)
    ws.append(HEADER_SUB)
    for col in "ABCDEI":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("F2:H2")
    events = GRID_EVENTS[:4] + [HIDDEN_EVENT] + GRID_EVENTS[4:]
    for n, e in enumerate(events, 4):
        ws.append(list(e))
        if n not in (4, 8):
            ws.cell(row=n, column=4).value = None      # merged cells keep only the first value
    ws.merge_cells("D4:D7")
    ws.merge_cells("D8:D11")
    ws.row_dimensions[8].hidden = True
    ws.append(["合计", "7 件", None, None, None, None, None, None, None])
    notes = wb.create_sheet("说明")
    notes.append(["本表由网格化管理平台导出"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def grid_xls() -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    hidden = book.add_sheet("原始数据")
    hidden.write(0, 0, "事件编号")
    hidden.visibility = 1
    ws = book.add_sheet("网格事件")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    ws.write_merge(0, 0, 0, 8, "南城街道网格事件处置台账（2024年3月）")
    for c, h in enumerate(HEADER_TOP):
        if c in (0, 1, 2, 3, 4, 8):
            ws.write_merge(1, 2, c, c, h)
    ws.write_merge(1, 1, 5, 7, "处置情况")
    for c in (5, 6, 7):
        ws.write(2, c, HEADER_SUB[c])
    events = GRID_EVENTS[:4] + [HIDDEN_EVENT] + GRID_EVENTS[4:]
    for r, e in enumerate(events, 3):
        for c, v in enumerate(e):
            if c == 3:
                continue
            if isinstance(v, datetime):
                ws.write(r, c, v, stamp)
            elif v is not None:
                ws.write(r, c, v)
    ws.write_merge(3, 6, 3, 3, "城东社区")
    ws.write_merge(7, 10, 3, 3, "城西社区")
    ws.row(7).hidden = True
    ws.write(11, 0, "合计")
    ws.write(11, 1, "7 件")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_grid_workbook_every_row_and_column_in(store, kind):
    data = grid_xlsx() if kind == "xlsx" else grid_xls()
    name = f"网格事件.{kind}"
    pv = preview_file(store, "cases", data, name, auto_mapping=True, create_missing=True)
    assert pv.error is None, pv.error
    assert (pv.mapping_name, pv.mapping_source, pv.file_format) == ("网格事件", "preset", kind)
    assert [(s.name, s.hidden, s.chosen) for s in pv.sheets] == [
        ("原始数据", True, False), ("网格事件", False, True)] + (
        [("说明", False, False)] if kind == "xlsx" else [])
    assert pv.sheet == "网格事件" and pv.header_rows == [2, 3]
    assert pv.headers == ["事件编号", "上报时间", "事件类型", "所属社区", "所属网格", "办结时间",
                          "办结层级", "处置结果", "满意度"]
    assert [(c.header, c.label) for c in pv.columns] == [
        ("事件编号", "工单编号"), ("上报时间", "受理时间"), ("事件类型", "诉求类别"), ("所属社区", "社区"),
        ("所属网格", "网格编号"), ("办结时间", "办结时间"), ("办结层级", "办结层级"), ("处置结果", "忽略"),
        ("满意度", "满意度")]
    assert pv.ignored_columns == ["处置结果"]
    assert (pv.rows_total, pv.rejected) == (7, 0)
    assert pv.skipped_rows == [(8, "隐藏行"), (12, "合计行")]
    assert pv.new_references == {"grids": ["城东第二网格", "城西第一网格"]}
    assert "隐藏的工作表已忽略：原始数据" in pv.notes
    assert any(n.startswith("表头占两行（第 2–3 行）") for n in pv.notes)
    assert pv.stored["社区"].tolist() == ["城东社区"] * 4 + ["城西社区"] * 3   # merged cells filled down
    r = import_file(store, "cases", data, name, mapping=pv.mapping, create_missing=True)
    assert (r.error, r.inserted, r.rejected, r.rows_read) == (None, 7, 0, 7)
    assert r.created == {"grids": ["城东第二网格", "城西第一网格"]}
    assert r.skipped_rows == [(8, "隐藏行"), (12, "合计行")]
    lines = r.report_lines()
    assert "已跳过合计行 1 行（第 12 行）：合计/总计行不是数据" in lines
    assert "已跳过隐藏行 1 行（第 8 行）：Excel 中隐藏的行不导入" in lines
    assert "已忽略的列（未导入）：处置结果" in lines
    got = {x["case_id"]: x for x in rows(store, "cases")}
    assert sorted(got) == [e[0] for e in GRID_EVENTS]
    assert [got[e[0]]["community"] for e in GRID_EVENTS] == [e[3] for e in GRID_EVENTS]
    assert [got[e[0]]["resolution_level"] for e in GRID_EVENTS] == [
        "社区", "街道", None, "上级", "社区", "社区", "社区"]
    assert [got[e[0]]["satisfaction"] for e in GRID_EVENTS] == [
        "满意", "满意", None, "基本满意", "满意", "基本满意", "不满意"]
    assert got["SJ004"]["closed_at"] == datetime(2024, 3, 5, 9, 0)
    assert {got[k]["channel"] for k in got} == {"网格员上报"}
    grids = {g["grid_id"]: g["community"] for g in rows(store, "grids")}
    assert grids == {"G001": "城东社区", "城东第二网格": "城东社区", "城西第一网格": "城西社区"}


def test_sheet_choice(store):
    data = grid_xlsx()
    pv = preview_file(store, "cases", data, "g.xlsx", auto_mapping=True, sheet="原始数据")
    assert pv.sheet == "原始数据" and pv.error is None
    assert "读取的工作表「原始数据」是隐藏工作表（按指定读取）" in pv.notes
    pv = preview_file(store, "cases", data, "g.xlsx", sheet="没有这张表")
    assert pv.error == "工作簿中没有名为「没有这张表」的工作表（有：原始数据、网格事件、说明）"
    from data.ingest.reading import list_sheets
    assert [(s.name, s.chosen) for s in list_sheets(data, "g.xlsx")] == [
        ("原始数据", False), ("网格事件", True), ("说明", False)]


def test_two_row_headers_name_every_column():
    J = I._join_headers
    # the same sub-header under two headings: each keeps its heading
    names, merged = J(["事件编号", "受理情况", "受理情况", "处置情况", "处置情况"],
                      ["事件编号", "办结时间", "签收时间", "办结时间", "办结层级"])
    assert merged and names == ["事件编号", "受理情况-办结时间", "签收时间", "处置情况-办结时间", "办结层级"]
    # a CSV of a merged header: the heading over its first column, blanks to its right
    names, merged = J(["事件编号", "处置情况", "", "满意度"], ["", "办结时间", "办结层级", ""])
    assert not merged and names == ["事件编号", "办结时间", "办结层级", "满意度"]
    # a data row is not a second header row
    assert J(["工单编号", "受理时间"], ["GD1", "2024-03-05 09:00"]) is None
    data = ("事件编号,上报时间,所属社区,处置情况,,满意度\n"
            ",,,办结时间,办结层级,\n"
            "E1,2024-03-01 09:00,城东社区,2024-03-02 10:00,社区级,满意\n").encode()
    r = I._Job("cases", data, "e.csv", None, auto_mapping=True)
    assert r.plan.header_rows == [1, 2] and r.mapping.name == "网格事件"
    assert r.plan.column_mapping == {"事件编号": "case_id", "上报时间": "reported_at", "所属社区": "community",
                                     "办结时间": "closed_at", "办结层级": "resolution_level",
                                     "满意度": "satisfaction"}
    r.close()


def test_unnamed_columns_with_data_are_listed(store):
    data = "工单编号,受理时间,社区,\nU1,2024-03-05,城东社区,备注\n".encode()
    r = import_file(store, "cases", data, "u.csv")
    assert r.inserted == 1 and r.ignored_columns == ["第D列（无表头）"]


def test_total_rows_in_csv(store):
    data = "工单编号,受理时间,社区\nT1,2024-03-05,城东社区\n总计,1,\n".encode()
    r = import_file(store, "cases", data, "t.csv")
    assert (r.inserted, r.rejected, r.skipped_rows) == (1, 0, [(3, "合计行")])


# ---------------------------------------------------------------------------------------
# Saved mappings

FOREIGN = ("Ticket;Opened;Area;Kind;Rating;Memo\n"
           "T-1;05.03.2024 09:30;East;Property;Very satisfied;ok\n"
           "T-2;06.03.2024 14:05;West;Noise;Unhappy;\n").encode()


def test_save_find_list_and_use_a_mapping(store):
    pv = preview_file(store, "cases", FOREIGN, "f.csv", auto_mapping=True)
    assert pv.error.startswith("缺少必需列")        # no preset knows these headers
    # the browser's choices, by Chinese label; values and constants by label too
    mapping = mapping_from_targets("cases", {"Ticket": "工单编号", "Opened": "受理时间", "Area": "社区",
                                             "Kind": "诉求类别", "Rating": "满意度", "Memo": "忽略"})
    mapping.update({"date_formats": ["%d.%m.%Y %H:%M"], "constants": {"来源渠道": "APP"},
                    "values": {"社区": {"East": "城东社区", "West": "城西社区"},
                               "满意度": {"Very satisfied": "非常满意", "Unhappy": "不满意"}}})
    headers = ["Ticket", "Opened", "Area", "Kind", "Rating", "Memo"]
    saved = save_mapping(store, "外市系统导出", "cases", headers, mapping)
    assert (saved.name, saved.source, saved.headers) == ("外市系统导出", "saved", headers)
    # found again for the same headers (exact), then for most of them (coverage)
    match = find_mapping(store, "cases", headers)
    assert (match.name, match.source, match.exact, match.coverage) == ("外市系统导出", "saved", True, 1.0)
    name, m, source, *_ = match
    assert (name, source) == ("外市系统导出", "saved")
    match = find_mapping(store, "cases", headers[:5] + ["Other"])
    assert (match.name, match.exact, round(match.coverage, 3)) == ("外市系统导出", False, 0.833)
    assert find_mapping(store, "cases", ["Ticket", "x", "y", "z"]) is None
    assert find_mapping(store, "petitions", headers) is None
    assert [(x.name, x.source) for x in list_mappings(store, "cases")] == [
        ("外市系统导出", "saved"), ("网格事件", "preset"), ("12345热线工单", "preset")]
    assert get_mapping(store, "外市系统导出", "cases").constants == {"channel": "APP"}
    # the preview and the import use it by themselves and say so
    pv = preview_file(store, "cases", FOREIGN, "f.csv", auto_mapping=True)
    assert (pv.error, pv.mapping_name, pv.mapping_source) == (None, "外市系统导出", "saved")
    assert pv.stored["满意度"].tolist() == ["满意", "不满意"]
    assert pv.stored["受理时间"].tolist() == ["2024-03-05 09:30:00", "2024-03-06 14:05:00"]
    assert [(c.header, c.target, c.via) for c in pv.columns][-1] == ("Memo", None, "mapping")
    r = import_file(store, "cases", FOREIGN, "f.csv", auto_mapping=True)
    assert (r.inserted, r.mapping_name, r.mapping_source) == (2, "外市系统导出", "saved")
    assert "使用映射：已保存的映射「外市系统导出」" in r.report_lines()
    # saving again replaces; presets' names are taken; bad targets refused
    save_mapping(store, "外市系统导出", "cases", headers, mapping)
    assert [x.name for x in list_mappings(store, "cases")].count("外市系统导出") == 1
    with pytest.raises(FileError, match="内置预设的名称"):
        save_mapping(store, "12345热线工单", "cases", headers, mapping)
    with pytest.raises(FileError, match="没有这一列"):
        save_mapping(store, "坏的", "cases", headers, {"columns": {"Ticket": "工单号码"}})
    with pytest.raises(FileError, match="没有名为「不存在」的映射"):
        get_mapping(store, "不存在", "cases")
    assert delete_mapping(store, "外市系统导出") and not delete_mapping(store, "外市系统导出")


def test_cli_mapping_by_name_and_by_file(store, tmp_path, capsys):
    from cli import main

    url = store.url.render_as_string(hide_password=False)
    path = tmp_path / "hotline.csv"
    path.write_bytes(hotline_csv())
    rc = main(["import", "cases", str(path), "--db", url, "--mapping", "12345热线工单", "--create-missing"])
    out = capsys.readouterr().out
    assert rc == 0 and "使用映射：预设「12345热线工单」" in out
    rc = main(["import", "cases", str(path), "--db", url, "--mapping", "没有这个映射"])
    assert rc == 2 and "没有名为「没有这个映射」的映射" in capsys.readouterr().err
    yml = tmp_path / "m.yaml"
    yml.write_text("columns:\n  Ticket: 工单编号\n  Opened: 受理时间\n  Area: 社区\n"
                   "date_formats: ['%d.%m.%Y %H:%M']\nvalues:\n  社区: {East: 城东社区, West: 城西社区}\n",
                   encoding="utf-8")
    f = tmp_path / "f.csv"
    f.write_bytes(FOREIGN)
    rc = main(["import", "cases", str(f), "--db", url, "--mapping", str(yml)])
    out = capsys.readouterr().out
    assert rc == 0 and "使用映射：映射文件「m.yaml」" in out and "新增 2 行" in out
    # a standard file needs no mapping, and the CLI says none was used
    std = tmp_path / "std.csv"
    std.write_text("工单编号,受理时间,社区,签收时间,办理时限,办结时间,办结层级,是否解决,满意度\n"
                   "S1,2024-03-05,城东社区,2024-03-05 10:00,2024-03-12,2024-03-06,社区,是,满意\n",
                   encoding="utf-8")
    rc = main(["import", "cases", str(std), "--db", url])
    out = capsys.readouterr().out
    assert rc == 0 and "使用映射：无" in out and "缺少字段" not in out


def test_all_rejected_exits_nonzero(store, tmp_path, capsys):
    from cli import main

    url = store.url.render_as_string(hide_password=False)
    path = tmp_path / "bad.csv"
    path.write_text("工单编号,受理时间,社区\nB1,2024-03-05,火星社区\nB2,不是日期,城东社区\n", encoding="utf-8")
    rc = main(["import", "cases", str(path), "--db", url])
    out = capsys.readouterr().out
    assert rc == 1
    assert "所有数据行均被拒绝，未导入任何数据：读取 2 行，新增 0 行" in out
    assert count_of(store, "cases") == 0
    rc = main(["import", "cases", str(path), "--db", url, "--create-missing"])   # still a bad date
    assert rc == 0 and count_of(store, "cases") == 1
    assert "exit codes" in _help(["import", "--help"])


def _help(argv) -> str:
    import contextlib

    from cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            main(argv)
        except SystemExit:   # argparse's --help
            pass
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# Answer values

def test_synonyms_map_answers_and_an_office_extends_them(store, tmp_path, monkeypatch):
    data = ("工单编号,受理时间,社区,是否解决,满意度,办结层级\n"
            "Y1,2024-03-05,城东社区,已解决,非常满意,社区级\n"
            "Y2,2024-03-05,城东社区,部分解决,一般,街道办\n"
            "Y3,2024-03-05,城东社区,√,比较满意,区级\n"
            "Y4,2024-03-05,城东社区,×,不太满意,社区\n"
            "Y5,2024-03-05,城东社区, y ,满意,上级部门\n"
            "Y6,2024-03-05,城东社区,Ｎ,基本满意,\n"
            "Y7,2024-03-05,城东社区,解决了,五星,\n").encode()
    r = import_file(store, "cases", data, "y.csv")
    got = {x["case_id"]: (x["callback_resolved"], x["satisfaction"], x["resolution_level"])
           for x in rows(store, "cases")}
    assert got == {"Y1": (True, "满意", "社区"), "Y2": (False, "基本满意", "街道"),
                   "Y3": (True, "基本满意", "上级"), "Y4": (False, "不满意", "社区"),
                   "Y5": (True, "满意", "上级"), "Y6": (False, "基本满意", None)}
    assert [(x.row, x.column, x.reason) for x in r.rejects] == [
        (8, "是否解决", "是否解决不是有效的是/否值（可用：是/否、Y/N、true/false、1/0）"),
        (8, "满意度", "满意度不在允许的取值中（满意/基本满意/不满意）")]
    hints = [w for w in r.warnings if "[import.synonyms." in w]
    assert hints[0].startswith("是否解决有 1 种未识别的取值（解决了），这些行已拒绝（可用：是/否）")
    assert "[import.synonyms.callback_resolved]" in hints[0]
    assert "满意度有 1 种未识别的取值（五星）" in hints[1] and '"五星" = "满意"' in hints[1]
    # an office's own words: given to the call, or in its settings file
    r = import_file(store, "cases", data, "y.csv",
                    synonyms={"callback_resolved": {"解决了": "是"}, "satisfaction": {"五星": "满意", "一般": "不满意"}})
    assert (r.rejected, r.updated, r.inserted) == (0, 1, 1)
    assert rows(store, "cases")[1]["satisfaction"] == "不满意"     # Y2: 一般 read as 不满意 now
    settings = tmp_path / "settings.toml"
    settings.write_text('[import.synonyms.satisfaction]\n"五星" = "满意"   # ours\n'
                        '[import.synonyms.callback_resolved]\n"解决了" = "是"\n', encoding="utf-8")
    monkeypatch.setenv(S.SETTINGS_ENV, str(settings))
    r = import_file(store, "cases", data, "y.csv")
    assert r.rejected == 0 and rows(store, "cases")[1]["satisfaction"] == "基本满意"
    from metrics.settings import load_settings
    assert load_settings(settings).get_path("import.synonyms.satisfaction.五星") == "满意"
    # a word mapped to a value no list has: refused by the import and by the settings check
    settings.write_text('[import.synonyms.satisfaction]\n"五星" = "很好"\n', encoding="utf-8")
    r = import_file(store, "cases", data, "y.csv")
    assert r.error.endswith("import.synonyms.satisfaction.五星 取值错误, 应为 满意 / 基本满意 / 不满意 之一, 实为 '很好'")
    from metrics.settings import SettingsError
    with pytest.raises(SettingsError, match="import.synonyms.satisfaction.五星 取值错误"):
        load_settings(settings)


def test_synonym_targets_are_the_closed_lists():
    from data.ingest import columns as C
    from metrics.settings import DEFAULTS

    assert S.TARGETS["satisfaction"] == tuple(C.SATISFACTION)
    assert S.TARGETS["resolution_level"] == tuple(C.RESOLUTION_LEVELS)
    assert S.TARGETS["form"] == tuple(C.PETITION_FORMS)
    assert S.TARGETS["kind"] == tuple(C.KINDS)
    for section, table in S.DEFAULTS.items():
        assert set(table.values()) <= set(S.TARGETS[section])
        for word in table:
            # a default never shadows a value of the list itself
            assert word not in S.TARGETS[section]
    assert DEFAULTS["import"]["synonyms"] == S.DEFAULTS


def test_values_and_constants_by_chinese_label(store):
    data = "单号,时间,片区,评价\nL1,2024-03-05,东,五星\n".encode()
    mapping = {"columns": {"单号": "工单编号", "时间": "受理时间", "片区": "社区", "评价": "满意度"},
               "values": {"社区": {"东": "城东社区"}, "satisfaction": {"五星": "满意"}},
               "constants": {"来源渠道": "来访", "办理时限": "2024-03-12"}}
    r = import_file(store, "cases", data, "l.csv", mapping=mapping)
    assert (r.error, r.inserted) == (None, 1)
    got = rows(store, "cases")[0]
    assert (got["community"], got["satisfaction"], got["channel"]) == ("城东社区", "满意", "来访")
    assert got["deadline_at"] == datetime(2024, 3, 12, 23, 59, 59)
    assert target_of("cases", "受理时间") == "reported_at" and target_of("cases", "忽略") == "ignore"
    assert target_of("cases", "所属社区") == "community" and target_of("cases", "不存在") is None


# ---------------------------------------------------------------------------------------
# Deadlines: a date alone is the end of that day

def test_deadlines_given_as_a_date_are_the_end_of_the_day(store):
    data = ("工单编号,受理时间,社区,办理时限\n"
            "D1,2024-03-05 09:00,城东社区,2024-03-12\n"
            "D2,2024-03-05 09:00,城东社区,2024/3/12 17:30\n"
            "D3,2024-03-05 09:00,城东社区,2024年3月12日\n"
            "D4,2024-03-05 09:00,城东社区,2024-03-12 00:00:00\n"
            "D5,2024-03-05 09:00,城东社区,20240312\n").encode()
    assert import_file(store, "cases", data, "d.csv").inserted == 5
    assert [x["deadline_at"] for x in rows(store, "cases")] == [
        datetime(2024, 3, 12, 23, 59, 59), datetime(2024, 3, 12, 17, 30),
        datetime(2024, 3, 12, 23, 59, 59), datetime(2024, 3, 12, 23, 59, 59),
        datetime(2024, 3, 12, 23, 59, 59)]
    # petitions, and Excel date cells
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["信访编号", "登记时间", "社区", "办理时限", "办结时间"])
    ws.append(["X1", datetime(2024, 3, 1, 10, 0), "城东社区", datetime(2024, 4, 30), datetime(2024, 4, 30, 18, 0)])
    ws.append(["X2", datetime(2024, 3, 1, 10, 0), "城东社区", datetime(2024, 4, 30, 12, 0), None])
    buf = io.BytesIO()
    wb.save(buf)
    assert import_file(store, "petitions", buf.getvalue(), "p.xlsx").inserted == 2
    got = [(x["deadline_at"], x["closed_at"]) for x in rows(store, "petitions")]
    assert got == [(datetime(2024, 4, 30, 23, 59, 59), datetime(2024, 4, 30, 18, 0)),
                   (datetime(2024, 4, 30, 12, 0), None)]
    assert rows(store, "petitions")[0]["received_at"] == datetime(2024, 3, 1, 10, 0)
    # a date alone in any other time column is a moment: midnight, as before
    data = "工单编号,受理时间,社区\nM1,2024-03-05,城东社区\n".encode()
    import_file(store, "cases", data, "m.csv")
    assert [x for x in rows(store, "cases") if x["case_id"] == "M1"][0]["reported_at"] == datetime(2024, 3, 5)


# ---------------------------------------------------------------------------------------
# Missing fields and the KPIs they affect

def test_missing_fields_name_the_kpis(store):
    data = ("工单编号,受理时间,社区,办结时间,满意度,签收时间\n"
            "K1,2024-03-05,城东社区,2024-03-06,满意,\n").encode()
    r = import_file(store, "cases", data, "k.csv")
    assert {m.column: (m.absent, m.kpis) for m in r.missing_fields} == {
        "responded_at": (False, ("响应率", "三率综合得分")),
        "deadline_at": (True, ("按期办结率", "按期办结量", "超期未办结")),
        "resolution_level": (True, ("小事不出社区", "大事不出街道", "矛盾上交率")),
        "callback_resolved": (True, ("解决率", "三率综合得分")),
    }
    lines = r.report_lines()
    assert "缺少字段：文件中全部为空：签收时间，影响指标：响应率、三率综合得分" in lines
    assert "缺少字段：文件中没有办理时限，影响指标：按期办结率、按期办结量、超期未办结" in lines


def test_kpi_labels_are_those_of_the_registry():
    from metrics.registry import REGISTRY

    labels = {k.label for k in REGISTRY.values()}
    for table, fields in KPI_FIELDS.items():
        for column, kpis in fields.items():
            assert column in TABLES[table].columns
            assert set(kpis) <= labels, (table, column, set(kpis) - labels)


def test_data_does_not_import_metrics():
    import re

    root = Path(__file__).resolve().parent.parent / "data" / "ingest"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+metrics\b", text, re.M), path

"""Publishing a month's appraisal, revisions after it, and the Excel export, on three
databases (the October 2024 store of tests/cadre_store.py; scores in test_appraisal_metrics)."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from metrics import appraisal_store as store_mod
from metrics.appraisal_export import DETAIL, SUMMARY, workbook
from metrics.settings import load_settings
from tests import cadre_store as cs
from tests.builders import insert, log_import, ts

SCORES = {"c1": 68.29, "c2": 85.19, "c3": 42.85, "c4": 57.89}


@pytest.fixture
def store(engine):
    cs.build(engine)
    log_import(engine, cs.AS_OF, "attendance")
    return engine


def _values(data: bytes) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def _new_data_arrives(engine) -> None:
    """c3 turns out to have checked in on 14 October, and a later import says so."""
    insert(engine, "attendance", [cs._day("c3", date(2024, 10, 14), "08:00:00", "17:30:00")])
    log_import(engine, ts("2024-11-20 08:00"), "attendance")


def test_a_live_month_before_publication(store):
    view = store_mod.month_view(store, "2024-10", load_settings())
    assert not view.published and view.complete
    assert {r["cadre_id"]: r["score"] for r in view.rows} == SCORES
    assert view.as_of == ts("2024-10-31 23:59:59")           # judged at the month's end
    assert view.revisions() == {}
    assert "未发布(实时计算)" in view.title()
    # November has not ended in the store's data (数据截至 5 November)
    assert not store_mod.month_view(store, "2024-11", load_settings()).complete
    with pytest.raises(store_mod.PublishError, match="尚未结束"):
        store_mod.publish(store, "2024-11", load_settings())


def test_publish_freezes_and_later_data_show_as_revisions(store):
    view = store_mod.publish(store, "2024-10", load_settings(), by="测试")
    assert view.published and view.published_by == "测试"
    assert store_mod.published_months(store) == ["2024-10"]
    assert {r["cadre_id"]: r["score"] for r in view.rows} == SCORES
    frozen = store_mod.read_published(store, "2024-10")[1]
    assert frozen == view.rows and frozen[0]["parts"]["components"]["attendance_rate"]["den"] == 19
    with pytest.raises(store_mod.PublishError, match="已发布"):
        store_mod.publish(store, "2024-10", load_settings())
    before = workbook(view)

    _new_data_arrives(store)
    after = store_mod.month_view(store, "2024-10", load_settings())
    # the snapshot still holds: c3 stays 42.85 with 5 of 7 days
    assert {r["cadre_id"]: r["score"] for r in after.rows} == SCORES
    # live: c3 6/7 -> 50 x 6/7 = 42.86 + 7.14 = 50.00, shown beside it as a revision
    assert after.revisions() == {"c3": {"score": 42.85, "live_score": 50.0,
                                        "live_tier": "待改进", "live_rank": 1, "name": "王五"}}
    assert after.live["c1"]["score"] == 68.29
    # the published month's export is unchanged after new data arrived
    assert _values(workbook(after)) == _values(before)
    # published again on purpose: the new figures replace the snapshot
    again = store_mod.publish(store, "2024-10", load_settings(), force=True)
    assert {r["cadre_id"]: r["score"] for r in again.rows}["c3"] == 50.0
    assert again.revisions() == {}


def test_export_sheets_values_and_print_setup(store):
    from sqlalchemy import update

    from data.store.schema import cadres

    with store.begin() as conn:   # a name that a spreadsheet would run as a formula
        conn.execute(update(cadres).where(cadres.c.cadre_id == "c1")
                     .values(name='=HYPERLINK("http://x","y")'))
    view = store_mod.month_view(store, "2024-10", load_settings())
    data = workbook(view)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [SUMMARY, DETAIL]
    summary = wb[SUMMARY]
    assert "未发布(实时计算)" in summary["A1"].value
    header = [c.value for c in summary[2]]
    assert header[:4] == ["人员编号", "姓名", "岗位", "社区"]
    assert header[-4:] == ["扣分", "得分", "等次", "排名"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=3, values_only=True)}
    c1 = dict(zip(header, rows["c1"]))
    assert (c1["得分"], c1["等次"], c1["排名"], c1["扣分"]) == (68.29, "合格", 2, 2.0)
    assert c1["出勤率"] == pytest.approx(18 / 19, abs=1e-6) and c1["出勤率得分"] == 28.42
    assert rows["c4"][3] == "(街道)"
    # neutralised: stored as text with Excel's quote prefix, never a formula
    cell = next(c for c in summary["B"] if c.value == '=HYPERLINK("http://x","y")')
    assert cell.data_type == "s" and cell.quotePrefix
    assert not any(isinstance(c.value, str) and c.data_type == "f"
                   for ws in wb for row in ws.iter_rows() for c in row)
    for ws in wb:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
        assert ws.print_title_rows == "$2:$2"
    detail = [r for r in wb[DETAIL].iter_rows(min_row=3, values_only=True) if r[0] == "c2"]
    assert [r[3] for r in detail] == ["出勤率", "日志提交率", "办件质效", "办件满意率",
                                      "超期未办结工单", "合计"]
    assert detail[3][5] == "无数据, 不计入" and detail[3][7] == 0.0    # renormalised away
    assert detail[-1][8] == 85.19
    # points add up in the sheet as well: earned - deduction = score
    for cadre in SCORES:
        lines = [r for r in wb[DETAIL].iter_rows(min_row=3, values_only=True) if r[0] == cadre]
        earned = sum(round(r[8] * 100) for r in lines[:4])
        assert earned - round(lines[4][9] * 100) == round(lines[5][8] * 100)

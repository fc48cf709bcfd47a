"""The data page's mapping step (pages.ui.import_panel.render_file_step, driven with a file's
bytes as the upload would hand them): every header beside a drop-down of Chinese field
labels pre-filled from the preset or a saved mapping (and the step says which), the preview
and reject count following the choices, new communities created on request, 保存映射 and
the next file with the same headers getting it, 确认导入; a workbook's sheets; headers
nothing knows; headers with Markdown shown as text."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data.ingest import importer as I
from data.ingest.mappings import list_mappings
from data.store.db import create_schema, get_engine
from data.store.schema import cases, communities
from tests.builders import insert

HEADERS = "工单号,来电时间,诉求分类,所属社区,承办单位,来电号码,办结时间,回访结果,满意度,诉求内容,备注"
HOTLINE = (HEADERS + "\n"
           "GD2025001,2025-03-01 09:10,城乡建设-物业管理,和平社区,城管局,13800000000,"
           "2025-03-03 10:00,已解决,非常满意,楼道灯坏了,无\n"
           "GD2025002,2025-03-02 14:00,环境保护-噪声,新社区甲,环保局,13900000000,,,,夜间施工噪声,\n")


def _script(url: str, table: str, data: bytes, name: str) -> None:
    from data.store.db import get_engine
    from pages.ui.import_panel import render_file_step

    render_file_step(get_engine(url), table, data, name)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv(I.SECRET_ENV, "x")
    url = f"sqlite:///{tmp_path / 'panel.db'}"
    engine = get_engine(url)
    create_schema(engine)
    insert(engine, "communities", [{"name": "和平社区", "kind": "社区", "population": 9000}])
    return url


def _step(url: str, data: bytes, name: str = "12345导出.csv", table: str = "cases") -> AppTest:
    at = AppTest.from_function(_script, args=(url, table, data, name), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _by_label(at, label: str):
    return next(s for s in at.selectbox if s.label == label)


def _stored(at):
    """The preview of the rows as they will be stored (its last column is 问题)."""
    return next(d.value for d in at.dataframe if list(d.value.columns)[-1:] == ["问题"])


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_gbk_12345_export_maps_previews_saves_and_imports(store):
    at = _step(store, HOTLINE.encode("gbk"))
    assert [i.value for i in at.info][0].startswith("已套用预设「12345热线工单」：识别出 9/11 列")
    # every header of the file, in order, beside its field
    assert [s.label for s in at.selectbox] == HEADERS.split(",")
    assert _by_label(at, "来电时间").value == "reported_at"
    assert _by_label(at, "备注").value == "ignore"
    options = _by_label(at, "来电时间").options
    assert "受理时间（必填）" in options and "诉求类别" in options and options[0] == "忽略此列"
    assert any(c.value.startswith("示例：138\\*\\*\\*\\*0000") for c in at.caption)  # phones masked
    assert any("编码：GBK" in c.value for c in at.caption)
    assert _metrics(at) == {"数据行数": "2", "将导入": "1", "将被拒绝": "1"}
    stored = _stored(at)
    assert list(stored["工单编号"]) == ["GD2025001", "GD2025002"]
    assert list(stored["满意度"]) == ["满意", ""] and list(stored["来源渠道"]) == ["12345热线"] * 2
    assert "未知社区「新社区甲」" in stored["问题"].iloc[1]
    warning = next(w.value for w in at.warning if "还没有的名称" in w.value)
    assert "新社区甲" in warning
    # new communities created on request: nothing rejected any more
    at.checkbox[0].check().run()
    assert _metrics(at) == {"数据行数": "2", "将导入": "2", "将被拒绝": "0"}
    # a changed choice changes the preview: 备注 now read as 状态
    _by_label(at, "备注").set_value("status").run()
    assert not at.exception, at.exception
    assert "状态" in _stored(at).columns
    assert any("已按你的选择修改" in c.value for c in at.caption)
    # saved under a name, for the next file with these headers
    next(t for t in at.text_input if t.label == "映射名称").input("我街道12345导出").run()
    next(b for b in at.button if b.label == "保存映射").click().run()
    assert any("已保存映射「我街道12345导出」" in s.value for s in at.success)
    engine = get_engine(store)
    saved = [m for m in list_mappings(engine, "cases") if m.source == "saved"]
    assert [m.name for m in saved] == ["我街道12345导出"]
    assert saved[0].headers == HEADERS.split(",")
    # 确认导入
    at.button(key="imp_confirm").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("导入完成") for s in at.success), [e.value for e in at.error]
    from data.store import audit   # the import is in the audit trail (login off: 未登录)
    entry = audit.recent(engine, action="import")[0]
    assert entry.actor == "未登录" and entry.detail.startswith("页面导入 cases 文件 12345导出.csv: 导入完成")
    with engine.connect() as conn:
        got = dict(conn.execute(select(cases.c.case_id, cases.c.status)).all())
        names = set(conn.execute(select(communities.c.name)).scalars())
    assert got == {"GD2025001": "无", "GD2025002": None}
    assert names == {"和平社区", "新社区甲"}

    # the next file with the same headers gets the saved mapping by itself
    second = (HEADERS + "\nGD2025003,2025-03-05 08:00,城乡建设-物业管理,和平社区,城管局,,"
              ",,,电梯故障,待回访\n").encode("gbk")
    at = _step(store, second, "12345导出-3月.csv")
    assert [i.value for i in at.info][0].startswith("已套用已保存的映射「我街道12345导出」")
    assert _by_label(at, "备注").value == "status"
    assert list(_stored(at)["状态"]) == ["待回访"]


def test_headers_nothing_knows_are_mapped_by_hand(store):
    data = "编号,时间,类,片区\nA1,2025-03-01 09:10,物业,和平社区\nA2,2025-03-02 10:00,噪声,和平社区\n"
    at = _step(store, data.encode("utf-8"), "台账.csv")
    assert any("没有认出任何表头" in w.value for w in at.warning)
    assert [s.label for s in at.selectbox] == ["编号", "时间", "类", "片区"]
    assert all(s.value == "ignore" for s in at.selectbox)
    assert any("缺少必需列" in e.value for e in at.error)
    assert at.button(key="imp_confirm").disabled
    for label, target in (("编号", "case_id"), ("时间", "reported_at"), ("类", "category"),
                          ("片区", "community")):
        _by_label(at, label).set_value(target)
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert _metrics(at)["将导入"] == "2"
    assert not at.button(key="imp_confirm").disabled
    at.button(key="imp_confirm").click().run()
    assert any(s.value.startswith("导入完成") for s in at.success)
    with get_engine(store).connect() as conn:
        assert dict(conn.execute(select(cases.c.case_id, cases.c.category)).all()) == \
            {"A1": "物业", "A2": "噪声"}


def _workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本表为演示"])
    ws.append(["第二行说明", "x"])
    ws2 = wb.create_sheet("社区清单")
    ws2.append(["社区名称", "类型", "常住人口"])
    ws2.append(["东湖社区", "社区", 5000])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_workbook_with_several_sheets_asks_which(store):
    at = _step(store, _workbook(), "社区.xlsx", table="communities")
    sheet = next(s for s in at.selectbox if s.label.startswith("工作表"))
    assert sheet.options == ["说明", "社区清单"]
    sheet.set_value("社区清单").run()
    assert not at.exception, at.exception
    labels = [s.label for s in at.selectbox if not s.label.startswith("工作表")]
    assert labels == ["社区名称", "类型", "常住人口"]
    assert any("工作表：社区清单" in c.value for c in at.caption)
    assert list(_stored(at)["社区名称"]) == ["东湖社区"]


def test_markup_in_headers_and_values_is_shown_as_text(store):
    data = ("工单编号,受理时间,社区,**粗体**<b>x</b>\n"
            "C1,2025-03-01 09:10,和平社区,[链接](http://evil.example)\n").encode("utf-8")
    at = _step(store, data, "x.csv")
    label = next(s.label for s in at.selectbox if "粗体" in s.label)
    assert label == "\\*\\*粗体\\*\\*\\<b\\>x\\<\\/b\\>"
    sample = next(c.value for c in at.caption if "链接" in c.value)
    assert "\\[链接\\]\\(http" in sample


def test_a_file_for_another_table_says_which(store):
    at = _step(store, HOTLINE.encode("gbk"), table="communities")
    assert any("更像「诉求工单」表（认出 9 列）" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    assert at.button(key="imp_confirm").disabled

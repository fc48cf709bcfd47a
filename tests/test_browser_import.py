"""Real-browser check of the import's mapping step: in Debian's Chromium, upload a GBK
12345-style export on 数据管理, see every header beside its field in Chinese with the preset
named, confirm, and see the success message (tests/test_browser.py starts the server)."""
from __future__ import annotations

import os
import time

import pytest

from data.ingest import importer as I
from data.store.db import create_schema, get_engine
from data.store.office import set_office_name
from tests.builders import insert
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _serve, _settle

HOTLINE = ("工单号,来电时间,诉求分类,所属社区,承办单位,来电号码,办结时间,回访结果,满意度,诉求内容\n"
           "GD2025001,2025-03-01 09:10,城乡建设-物业管理,和平社区,城管局,13800000000,"
           "2025-03-03 10:00,已解决,非常满意,楼道灯坏了\n"
           "GD2025002,2025-03-02 14:00,环境保护-噪声,和平社区,环保局,13900000000,,,,夜间施工噪声\n")
SHOTS = os.environ.get("ZHILI_SHOTS")   # a folder: save screenshots of the step there


def _wait_text(page, text: str, timeout_s: float = 60) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout_s * 1000)


@pytest.mark.slow
def test_upload_map_and_import_in_chromium(tmp_path, monkeypatch):
    monkeypatch.setenv(I.SECRET_ENV, "browser-test")
    url = f"sqlite:///{tmp_path / 'office.db'}"
    engine = get_engine(url)
    create_schema(engine)
    set_office_name(engine, "东湖街道")          # set up: the app builds no demo
    insert(engine, "communities", [{"name": "和平社区", "kind": "社区", "population": 9000}])
    export = tmp_path / "12345工单导出.csv"
    export.write_bytes(HOTLINE.encode("gbk"))

    from playwright.sync_api import sync_playwright

    with _serve(url) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(base + "/", wait_until="domcontentloaded")
        _settle(page)
        page.goto(base + "/data", wait_until="domcontentloaded")
        _settle(page)
        assert "智理 · 东湖街道" in page.inner_text('[data-testid="stSidebar"]')
        # the box lies below the fold (the inventory lists 16 tables): bring it up first,
        # then open it by its input
        box = page.get_by_role("combobox", name="导入到哪张表")
        box.scroll_into_view_if_needed()
        time.sleep(0.5)
        box.click()
        page.get_by_role("listbox").wait_for(timeout=10_000)
        page.get_by_role("option", name="诉求工单（cases）").click()
        _settle(page)
        uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="选择数据文件")
        uploader.locator('input[type="file"]').set_input_files(str(export))
        _wait_text(page, "已套用预设「12345热线工单」")
        _settle(page)
        step = page.inner_text('[data-testid="stMain"]')
        for text in ("第 1 步：确认每一列对应的字段", "编码：GBK", "将被拒绝", "示例：楼道灯坏了"):
            assert text in step, text
        shown = {header: page.get_by_role("combobox", name=header).input_value()
                 for header in ("工单号", "来电时间", "诉求分类", "承办单位", "来电号码")}
        assert shown == {"工单号": "工单编号（必填）", "来电时间": "受理时间（必填）",
                         "诉求分类": "诉求类别", "承办单位": "忽略此列",
                         "来电号码": "电话（丢弃，不保存）"}
        assert "13800000000" not in step          # the phone column's samples are masked
        errors = page.query_selector_all('[data-testid="stException"]')
        assert not errors, [e.inner_text()[:300] for e in errors]
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            page.get_by_text("第 1 步：确认每一列对应的字段").scroll_into_view_if_needed()
            page.screenshot(path=os.path.join(SHOTS, "mapping_step.png"))
        page.get_by_role("button", name="确认导入").click()
        _wait_text(page, "导入完成")
        _settle(page)
        if SHOTS:
            page.get_by_text("导入完成").first.scroll_into_view_if_needed()
            time.sleep(0.5)
            page.screenshot(path=os.path.join(SHOTS, "imported.png"))
        assert "新增 2 行" in page.inner_text('[data-testid="stMain"]')
        browser.close()

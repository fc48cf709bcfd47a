"""The data page's 街道设置 tab: the office's own name, and removing the demo's rows.

    from pages.ui.office_panel import render_office_panel
    render_office_panel(engine)

Both changes ask for a confirmation (a checkbox) first. The name is checked by
data.store.office (2–30 characters, no markup) and escaped where it is shown. Removing the
demo deletes exactly the rows the demo generator wrote (origin 'demo'); imported rows stay,
and the app does not build the demo again afterwards. Every widget key starts with
``office_``. This module renders nothing on import.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data.store.db import resolve_url, store_version
from data.store.labels import TABLE_LABELS
from data.store.office import (
    DEFAULT_NAME, NAME_MAX, OfficeNameError, count_demo, office_name, remove_demo,
    set_office_name,
)
from pages.ui.safe import md
from pages.ui.tables import table as show_table

DONE_KEY = "office_done"   # the success line shown after the rerun that follows a change


@st.cache_data(ttl=300, max_entries=4, show_spinner=False)
def _demo_counts(url: str, _engine, version: tuple = ()) -> dict[str, int]:
    return count_demo(_engine)


def _counts_frame(counts: dict[str, int], column: str) -> pd.DataFrame:
    rows = [(f"{TABLE_LABELS.get(t, t)}（{t}）", n) for t, n in counts.items() if n]
    return pd.DataFrame(rows, columns=["数据表", column]).astype({"数据表": "string"})


def render_office_panel(engine) -> None:
    """The office's name (form with confirmation) and the demo's removal (with confirmation)."""
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    try:
        render_name_form(engine)
        render_demo_removal(engine)
    except Exception as exc:  # noqa: BLE001 — never a traceback on the page
        st.error(f"设置面板出错：{md(type(exc).__name__)}。请刷新页面后重试。")


def render_name_form(engine) -> None:
    with st.container(border=True):
        st.subheader("街道名称")
        current = office_name(engine)
        st.caption(f"当前名称：{md(current)}。名称显示在侧栏、浏览器标签页和指挥中心大屏的标题中"
                   f"（未设置时为「{DEFAULT_NAME}」）。")
        with st.form("office_name_form", border=False):
            name = st.text_input("街道名称", value=current, max_chars=NAME_MAX,
                                 key="office_name_input", placeholder="例如：东湖街道")
            confirmed = st.checkbox("确认修改街道名称", key="office_name_confirm")
            submitted = st.form_submit_button("保存名称", type="primary")
        if not submitted:
            return
        if not confirmed:
            st.warning("请先勾选“确认修改街道名称”，再点“保存名称”。")
            return
        try:
            stored = set_office_name(engine, name)
        except OfficeNameError as exc:
            st.error(md(exc))
            return
        st.session_state[DONE_KEY] = f"街道名称已改为「{md(stored)}」。"
        st.rerun()   # the sidebar and the tab title were drawn with the old name


def render_demo_removal(engine) -> None:
    with st.container(border=True):
        st.subheader("演示数据")
        counts = _demo_counts(resolve_url(), engine, store_version(engine).key)
        total = sum(counts.values())
        if not total:
            st.caption("数据库中没有演示数据：现有记录都是导入的。")
            return
        st.caption(f"数据库中有 {total:,} 行演示数据（首次启动时生成的示例）。删除后，导入的"
                   "数据（包括导入时更新过的演示记录）保持不变，演示数据也不会再自动生成。")
        show_table(_counts_frame(counts, "演示数据行数"), "office_demo_counts", title="演示数据",
                   f=None, excel=False, formats={"演示数据行数": "count"}, height="content")
        confirmed = st.checkbox(f"我确认删除全部 {total:,} 行演示数据（删除后不能恢复）",
                                key="office_demo_confirm")
        if not st.button("删除演示数据", type="primary", disabled=not confirmed,
                         key="office_demo_remove"):
            return
        with st.spinner("正在删除演示数据……"):
            result = remove_demo(engine)
        st.cache_data.clear()   # every page's figures, the inventory and these counts
        message = f"已删除演示数据 {result.total:,} 行，导入的数据未改动。"
        if result.dangling:
            parts = "、".join(f"{TABLE_LABELS.get(k.split('.')[0], k)} {n:,} 行"
                             for k, n in result.dangling.items())
            message += f"注意：{parts}引用的社区、网格或干部随演示数据删除了，请导入对应的表。"
        st.session_state[DONE_KEY] = message
        st.rerun()

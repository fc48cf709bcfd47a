"""The data page's 通知公告 tab: the big screen's notices, edited in a table and saved in
one go (data.store.notices checks every row first; nothing changes on an error).

    from pages.ui.notices_panel import render_notices_panel
    render_notices_panel(engine)

Notices can also be imported like any table (``python cli.py import notices FILE``).
Every widget key starts with ``notices_``. This module renders nothing on import.
"""
from __future__ import annotations

import streamlit as st

from data.store.notices import COLUMNS, NoticeError, all_notices, save_notices
from pages.ui.safe import md

DONE_KEY = "notices_done"


def render_notices_panel(engine) -> None:
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done)
    st.caption("大屏底部滚动显示当天有效的通知（生效日期 ≤ 当天 ≤ 截止日期；截止日期空白表示长期有效）。"
               "在表格中修改、添加（最后一行）或删除行，然后点“保存通知”。")
    frame = all_notices(engine).rename(columns=COLUMNS)
    edited = st.data_editor(
        frame, key="notices_editor", num_rows="dynamic", hide_index=True,
        width="stretch",
        column_config={
            COLUMNS["notice_id"]: st.column_config.TextColumn(help="留空自动编号", max_chars=40),
            COLUMNS["title"]: st.column_config.TextColumn(required=True, max_chars=200),
            COLUMNS["body"]: st.column_config.TextColumn(width="large"),
            COLUMNS["valid_from"]: st.column_config.DateColumn(required=True,
                                                              format="YYYY-MM-DD"),
            COLUMNS["valid_to"]: st.column_config.DateColumn(format="YYYY-MM-DD"),
        })
    if st.button("保存通知", key="notices_save", type="primary"):
        try:
            n = save_notices(engine, edited.rename(columns={v: k for k, v in COLUMNS.items()}))
        except NoticeError as exc:
            st.error(md(exc))
            return
        st.session_state[DONE_KEY] = f"已保存 {n} 条通知，大屏在下次刷新时显示。"
        st.rerun()

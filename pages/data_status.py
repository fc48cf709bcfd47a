"""数据管理: what the store holds (rows, date range, last import, freshness), file import,
data-quality findings, the big screen's notices, and the office's settings (its name,
removing the demo)."""
from __future__ import annotations

import streamlit as st

from data.store.db import resolve_url
from data.store.inventory import AHEAD_NOTE, inventory_table, shown_url, table_stats
from pages.ui.import_panel import esc, render_import_panel, render_quality_panel
from pages.ui.common import sidebar_filters, engine, page_header
from pages.ui.notices_panel import render_notices_panel
from pages.ui.office_panel import render_office_panel
from pages.ui.tables import table as show_table


def render_inventory(f) -> None:
    with st.container(border=True):
        st.subheader("数据表概况")
        stats = table_stats(engine(), f.as_of.date())
        shown = inventory_table(stats)
        show_table(shown, "data_inventory", title="数据管理-数据表概况", f=f,
                   formats={"记录数": "count"},
                   helps={"表名": "命令行导入时的表名, 如 python cli.py import cases 文件.csv"},
                   height="content")  # every table, no empty row below
        if stats["ahead"].any():
            names = "、".join(stats.loc[stats["ahead"], "label"])
            st.caption(f"{names}：{AHEAD_NOTE}（最新日期晚于数据截至 {f.as_of:%Y-%m-%d %H:%M}），"
                       "距数据截至显示为“—”；这些记录见下方“数据质量”中的「日期晚于数据截至」。")
        st.caption(f"数据库: {esc(shown_url(resolve_url()))}")


def main() -> None:
    f = sidebar_filters()
    page_header("数据管理", f)
    render_inventory(f)
    tab_import, tab_quality, tab_notices, tab_office = st.tabs(
        ["导入数据", "数据质量", "通知公告", "街道设置"])
    with tab_import:
        render_import_panel(engine())
    with tab_quality:
        render_quality_panel(engine(), f)
    with tab_notices:
        render_notices_panel(engine())
    with tab_office:
        render_office_panel(engine())


main()

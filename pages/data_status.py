"""数据管理: what the store holds (rows, date range, last import, freshness), file import and
data-quality findings."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data.store.db import resolve_url
from data.store.inventory import table_stats
from pages.ui.import_panel import render_import_panel, render_quality_panel
from pages.ui.common import sidebar_filters, engine, page_header


def render_inventory(f) -> None:
    with st.container(border=True):
        st.subheader("数据表概况")
        stats = table_stats(engine(), f.as_of.date())
        shown = pd.DataFrame({
            "数据表": stats["label"], "表名": stats["table"], "记录数": stats["rows"],
            "最早日期": stats["first"], "最新日期": stats["newest"],
            "最近导入": stats["last_import"], "距数据截至(天)": stats["freshness_days"].astype("Int64")})
        shown = shown.astype(object).where(shown.notna(), "—")
        st.dataframe(shown, hide_index=True, key="data_inventory", height=36 * 14 + 4,
                     column_config={
            "记录数": st.column_config.NumberColumn(format="localized"),
            "最近导入": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        st.caption(f"数据库: {resolve_url().split('@')[-1]}")


def main() -> None:
    f = sidebar_filters()
    page_header("数据管理", f)
    render_inventory(f)
    tab_import, tab_quality = st.tabs(["导入数据", "数据质量"])
    with tab_import:
        render_import_panel(engine())
    with tab_quality:
        render_quality_panel(engine())


main()

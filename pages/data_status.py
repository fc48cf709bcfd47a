"""数据管理: what the store holds (rows, date range, last import, freshness), file import,
data-quality findings, the big screen's notices, and the office's settings (its name,
removing the demo)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data.store import audit, clock, users

from data.store.db import resolve_url
from data.store.inventory import AHEAD_NOTE, inventory_table, shown_url, table_stats
from pages.ui.access import current_viewer, run_page
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


def render_users(f) -> None:
    st.subheader("用户")
    rows = users.listing(engine())
    if not rows:
        st.info("尚未创建用户, 未启用登录。创建第一个用户后, 每个页面都需要登录: "
                "python cli.py user add 用户名 --role leader")
    else:
        now = clock.now()
        show_table(pd.DataFrame([{
            "用户名": u.name, "角色": users.ROLES.get(u.role, u.role), "社区": u.community,
            "状态": "已停用" if u.disabled else (f"锁定至 {u.locked_until:%H:%M}" if
                                              u.locked_until and u.locked_until > now else "正常"),
            "创建时间": u.created_at} for u in rows]), "data_users", title="数据管理-用户", f=f,
            formats={"创建时间": "datetime"})
    st.caption("新增、停用用户和修改密码在命令行进行: python cli.py user add|list|disable|passwd")


def render_audit(f) -> None:
    st.subheader("操作记录")
    families = {"": "全部", **{k: v for k, v in audit.ACTIONS.items()}}
    action = st.selectbox("操作", list(families), format_func=families.get, key="data_audit_action")
    entries = audit.recent(engine(), limit=500, action=action or None)
    if not entries:
        st.caption("暂无记录")
        return
    show_table(pd.DataFrame([{"时间": e.at, "操作人": e.actor, "操作": e.label, "内容": e.detail}
                             for e in entries]), "data_audit", title="数据管理-操作记录", f=f,
               formats={"时间": "datetime"})
    st.caption(f"最近 {len(entries)} 条, 最新的在前; 命令行: python cli.py audit --limit N --action A")


def main() -> None:
    f = sidebar_filters()
    page_header("数据管理", f)
    render_inventory(f)
    viewer = current_viewer()
    names = ["导入数据", "数据质量", "通知公告", "街道设置"]
    if viewer.may("audit"):
        names += ["用户", "操作记录"]
    tabs = st.tabs(names)
    with tabs[0]:
        render_import_panel(engine(), viewer)
    with tabs[1]:
        render_quality_panel(engine(), f)
    with tabs[2]:
        render_notices_panel(engine())
    with tabs[3]:
        render_office_panel(engine())
    if viewer.may("audit"):
        with tabs[4]:
            render_users(f)
        with tabs[5]:
            render_audit(f)


run_page("data_status", main)

"""Streamlit panels for the data page: file import (with preview) and data-quality checks.

Used by the data page (pages/data_status.py):

    from pages.ui.import_panel import render_import_panel, render_quality_panel
    render_import_panel(engine)
    render_quality_panel(engine)

Everything from a file (headers, values, file names) is shown as data (st.dataframe,
st.text) or with Markdown escaped, never as HTML; errors are Chinese messages, never a
traceback. Every widget key starts with ``imp_``. This module renders nothing on import.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, time

import pandas as pd
import streamlit as st

from data.ingest.columns import TABLES
from data.ingest.importer import (
    ImportResult, Preview, import_file, person_key_secret, preview_file, rejects_to_csv,
    rejects_to_xlsx,
)
from data.ingest.parsing import encoding_label
from data.quality import run_checks
from data.ingest.templates import template_file_name, template_xlsx
from data.store import clock

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")
FORMAT_LABEL = {"csv": "CSV", "xlsx": "Excel（XLSX）", "xls": "Excel 97-2003（XLS）"}


def _esc(text: object) -> str:
    """Text safe to pass to st.error/st.info/st.caption: Markdown specials escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


esc = _esc


def _table_label(name: str) -> str:
    return f"{TABLES[name].zh}（{name}）"


def _rejects_frame(rejects) -> pd.DataFrame:
    rows = [r.as_tuple() for r in rejects]
    return pd.DataFrame(rows, columns=["行号", "列", "值", "原因"]).astype(
        {"列": "string", "值": "string", "原因": "string"})


def _mapping_frame(preview: Preview, table: str) -> pd.DataFrame:
    spec = TABLES[table]
    rows = []
    for src, dst in preview.column_mapping.items():
        zh = spec.columns[dst].zh if dst in spec.columns else dst
        if dst == "person_key":
            zh = "身份标识（由身份证号加密生成，明文不保存）"
        rows.append((src, dst, zh))
    return pd.DataFrame(rows, columns=["文件表头", "对应字段", "字段含义"]).astype("string")


def _preview(engine, table: str, data: bytes, name: str, mapping: bytes | None) -> Preview:
    digest = hashlib.sha256(data).hexdigest() + (hashlib.sha256(mapping).hexdigest() if mapping else "")
    # the refusal for want of a secret depends on the configuration, not on the file alone
    key = ("imp_preview", table, name, digest, bool(person_key_secret()))
    cached = st.session_state.get("imp_preview_cache")
    if cached and cached[0] == key:
        return cached[1]
    pv = preview_file(engine, table, data, name, mapping)
    st.session_state["imp_preview_cache"] = (key, pv)
    return pv


def _show_result(result: ImportResult) -> None:
    if result.error:
        st.error("导入失败，数据库未做任何修改：" + _esc(result.error))
        return
    if result.committed:
        st.success(_esc(result.summary_zh()))
    else:
        st.error(_esc(result.summary_zh()))
    cols = st.columns(5)
    cols[0].metric("读取行数", result.rows_read)
    cols[1].metric("新增", result.inserted)
    cols[2].metric("更新", result.updated)
    cols[3].metric("未变化", result.unchanged)
    cols[4].metric("拒绝", result.rejected)
    for w in result.warnings:
        st.warning(_esc(w))
    if result.ignored_columns:
        st.caption("已忽略的未知列：")
        st.text("、".join(result.ignored_columns))
    if result.dropped_columns:
        st.caption("已丢弃的个人信息列（不保存）：")
        st.text("、".join(result.dropped_columns))
    if result.rejects:
        st.markdown(f"**无效数据明细**（{len(result.rejects)} 条问题，涉及 {result.rejected} 行）")
        st.dataframe(_rejects_frame(result.rejects), hide_index=True, width="stretch")
        base = re.sub(r"\.[^.]*$", "", result.file_name or "import") + "_拒绝行"
        c1, c2 = st.columns(2)
        c1.download_button("下载拒绝行（CSV）", rejects_to_csv(result.rejects), f"{base}.csv",
                           "text/csv", key="imp_rejects_csv")
        c2.download_button("下载拒绝行（Excel）", rejects_to_xlsx(result.rejects), f"{base}.xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="imp_rejects_xlsx")


def render_import_panel(engine) -> None:
    """Upload a file, preview it, confirm, and see the counts and the rejects."""
    try:
        _render_import_panel(engine)
    except Exception as exc:  # noqa: BLE001 — never a traceback on the page
        st.error(f"导入面板出错：{_esc(type(exc).__name__)}。请刷新页面后重试。")


def _render_import_panel(engine) -> None:
    st.subheader("导入数据文件")
    st.caption("支持 CSV（UTF-8 / GBK 自动识别）、XLSX、XLS；中文表头或英文字段名均可，"
               "其他表头可上传映射文件（YAML）。身份证号导入时加密，电话号码不保存。")
    names = list(TABLES)
    table = st.selectbox("导入到哪张表", names, format_func=_table_label, key="imp_table")
    st.download_button(f"下载「{TABLES[table].zh}」导入模板（Excel）", template_xlsx(table),
                       template_file_name(table),
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="imp_template")
    upload = st.file_uploader("选择数据文件", type=["csv", "txt", "xlsx", "xlsm", "xls"], key="imp_file")
    mapping_file = st.file_uploader("映射文件（可选，YAML）", type=["yaml", "yml"], key="imp_mapping")
    c1, c2 = st.columns(2)
    with c1:
        has_export = st.checkbox("填写数据导出时间", key="imp_has_exported",
                                 help="源系统导出该文件的时间；数据截至以最新导出时间为准，未填写则按导入时间")
        exported_at = None
        if has_export:
            d = st.date_input("导出日期", value=clock.today(), max_value=clock.today(),
                              key="imp_exported_date")
            t = st.time_input("导出时间", value=time(0, 0), key="imp_exported_time", step=60)
            if d is not None and t is not None:
                exported_at = datetime.combine(d, t)
    with c2:
        imported_by = st.text_input("导入人（可选）", key="imp_by", max_chars=60)
        strict = st.checkbox("严格模式：有任何无效行则整个文件都不导入", key="imp_strict")

    if upload is None:
        st.info("请选择要导入的文件。")
        return
    data = upload.getvalue()
    mapping = mapping_file.getvalue() if mapping_file is not None else None
    preview = _preview(engine, table, data, upload.name, mapping)
    if preview.error:
        st.error("无法导入此文件：" + _esc(preview.error))
        return
    fmt = FORMAT_LABEL.get(preview.file_format or "", preview.file_format or "")
    enc = f"，编码：{encoding_label(preview.encoding)}" if preview.encoding else ""
    st.caption(_esc(f"文件格式：{fmt}{enc}，表头在第 {preview.header_row} 行"))
    st.markdown("**列对应关系**")
    st.dataframe(_mapping_frame(preview, table), hide_index=True, width="stretch")
    if preview.ignored_columns:
        st.caption("以下列无法识别，将被忽略：")
        st.text("、".join(preview.ignored_columns))
    if preview.dropped_columns:
        st.caption("以下个人信息列将被丢弃，不会保存：")
        st.text("、".join(preview.dropped_columns))
    st.markdown(f"**前 {len(preview.frame)} 行预览**")
    st.dataframe(preview.frame, hide_index=True, width="stretch")
    for note in preview.notes:
        st.info(_esc(note), icon=":material/shield_person:")
    for warning in preview.warnings:
        st.warning(_esc(warning), icon=":material/event_busy:")
    if preview.problems:
        st.warning(f"预览的前几行中发现 {len(preview.problems)} 个问题（导入时这些行将被拒绝）：")
        st.dataframe(_rejects_frame(preview.problems), hide_index=True, width="stretch")
    if preview.refusal:
        st.error("此文件不能导入：" + _esc(preview.refusal))

    if st.button("确认导入", type="primary", key="imp_confirm", disabled=bool(preview.refusal),
                 help="配置加密密钥后才能导入含身份证号的文件" if preview.refusal else None):
        with st.spinner("正在导入……"):
            result = import_file(engine, table, data, upload.name, mapping=mapping, strict=strict,
                                 exported_at=exported_at, imported_by=imported_by or None)
        st.session_state["imp_result"] = (upload.name, table, result)
        st.session_state.pop("imp_preview_cache", None)
        if result.committed:
            st.cache_data.clear()  # pages' cached KPI sets are stale now
    stored = st.session_state.get("imp_result")
    if stored and stored[0] == upload.name and stored[1] == table:
        _show_result(stored[2])


def render_quality_panel(engine) -> None:
    """Each data-quality check with its count and an expander listing the offending rows."""
    st.subheader("数据质量检查")
    st.caption("以下问题数据已按原样保存（它们是源系统中的事实，应在源系统中更正）；"
               "各指标如何处理它们见指标口径说明。")
    try:
        findings = run_checks(engine)
    except Exception as exc:  # noqa: BLE001
        st.error(f"数据质量检查失败：{_esc(type(exc).__name__)}")
        return
    total = sum(f.count for f in findings)
    st.metric("发现问题（处）", total)
    for f in findings:
        label = f"{f.check.title}：{'检查失败' if f.error else f.count}"
        # Material icons, not emoji: a server without an emoji font draws ✅ as a box
        icon = ":material/warning:" if f.count or f.error else ":material/check_circle:"
        with st.expander(label, expanded=False, icon=icon):
            st.caption(_esc(f.check.description))
            if f.error:
                st.error(_esc(f.error))
            elif f.count == 0:
                st.text("未发现问题。")
            else:
                if f.count > len(f.rows):
                    st.caption(f"共 {f.count} 处，仅显示前 {len(f.rows)} 处。")
                st.dataframe(f.rows, hide_index=True, width="stretch", key=f"imp_q_{f.check.key}")

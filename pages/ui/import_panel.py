"""Streamlit panels for the data page: file import with a mapping step, and data-quality
checks.

Used by the data page (pages/data_status.py):

    from pages.ui.import_panel import render_import_panel, render_quality_panel
    render_import_panel(engine)
    render_quality_panel(engine)

The import goes: choose the table, upload a file, then the mapping step
(``render_file_step(engine, table, data, file_name)``, a function of the file's bytes so a
test can drive it without an upload): the sheet when a workbook has several; every header
of the file beside a drop-down of the table's fields in Chinese (or 忽略此列), pre-filled
from the saved mapping or preset that fits the file's headers (the step says which) or
from the known headers; the first rows as they will be stored and how many rows would be
rejected, both updated when a choice changes; names of communities / grids the store does
not have, with 自动创建这些社区/网格; 保存映射 under a name (the next file with these headers
gets it by itself); then 确认导入.

Everything from a file (headers, values, sheet and file names, mapping names) is shown as
data (st.dataframe) or escaped with pages.ui.safe.md, never as Markdown or HTML; errors
are Chinese messages, never a traceback. Every widget key starts with ``imp_``. This module
renders nothing on import.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import PurePath
from typing import Any

import pandas as pd
import streamlit as st

from data.ingest import importer as I
from data.ingest import parsing as P
from data.ingest.columns import IGNORE, TABLES, target_options
from data.ingest.importer import (
    FileError, ImportResult, Preview, import_file, mapping_from_targets, person_key_secret,
    preview_file, rejects_to_csv, rejects_to_xlsx, save_mapping,
)
from data.ingest.masking import mask_text
from data.ingest.parsing import encoding_label
from data.ingest.templates import template_file_name, template_xlsx
from data.quality import run_checks
from data.store import audit, clock
from metrics.access import OPEN, OPEN_VIEWER, Viewer
from pages.ui.export import CSV, XLSX, download
from pages.ui.safe import md
from pages.ui.tables import table as show_table

FORMAT_LABEL = {"csv": "CSV", "xlsx": "Excel（XLSX）", "xls": "Excel 97-2003（XLS）"}
IGNORE_LABEL = "忽略此列"
GRID_COLUMNS = 4          # drop-downs per row of the mapping step
PREVIEW_ROWS = 20
SAMPLES = 3               # first values shown under each header
CACHE_KEY = "imp_cache"   # session state: layouts and previews of the current file
CACHE_SIZE = 8
SOURCE_WORDS = {"saved": "已保存的映射", "preset": "预设", "file": "映射文件"}
CREATABLE = ("communities", "grids")
REF_WHAT = {"communities": "社区", "grids": "网格", "cadres": "干部"}

# Kept for callers that escape with the old name (the data page); pages.ui.safe.md is the one.
esc = _esc = md


def _table_label(name: str) -> str:
    return f"{TABLES[name].zh}（{name}）"


def _rejects_frame(rejects) -> pd.DataFrame:
    rows = [r.as_tuple() for r in rejects]
    return pd.DataFrame(rows, columns=["行号", "列", "值", "原因"]).astype(
        {"列": "string", "值": "string", "原因": "string"})


# ---------------------------------------------------------------------------------------
# The file's layout: headers, the proposed field of each, the sheets, the mapping used

class _LayoutJob(I._Job):
    """The importer's own reading of a file (header row, sheet, saved mapping or preset,
    each header's field) without its check for required columns, so the mapping step can
    show every header of a file whose headers nothing knows yet. The preview
    (``preview_file``) then checks the user's choices as the import will."""

    def _plan(self, names, header_rows):
        return I._resolve_header(self.table, names, header_rows, self.mapping)


@dataclass
class Layout:
    headers: list[str] = field(default_factory=list)      # every column's header, by position
    proposed: dict[int, str] = field(default_factory=dict)  # column index -> target (or IGNORE)
    mapping: Any = None                                     # the Mapping the file was read with
    mapping_name: str | None = None
    mapping_source: str | None = None                       # 'saved' | 'preset' | 'file' | None
    sheets: list = field(default_factory=list)              # SheetInfo
    sheet: str | None = None
    file_format: str | None = None
    encoding: str | None = None
    header_rows: list[int] = field(default_factory=list)
    samples: dict[int, list[str]] = field(default_factory=dict)  # first values, masked
    error: str | None = None


def read_layout(engine, table: str, data: bytes, file_name: str, mapping=None,
                sheet: str | None = None) -> Layout:
    """How the importer reads the file's header, with the saved mapping or preset that fits
    it (or the mapping file given)."""
    out = Layout()
    job = None
    try:
        job = _LayoutJob(table, data, file_name, mapping, sheet=sheet, engine=engine,
                         auto_mapping=mapping is None)
        plan = job.plan
        out.headers = list(plan.names)
        out.proposed = {c.index: c.target or IGNORE for c in plan.choices}
        out.mapping = job.mapping
        if job.mapping.columns or job.mapping.constants or job.mapping.name:
            out.mapping_name, out.mapping_source = job.mapping.name, job.mapping.source
        out.sheets, out.sheet = list(job.opened.sheets), job.opened.sheet
        out.file_format, out.encoding = job.format, job.encoding
        out.header_rows = list(plan.header_rows)
        for _, row, _ in job.pending:   # the rows read past the header while finding it
            for i, raw in enumerate(row):
                if not P.is_blank(raw) and len(out.samples.setdefault(i, [])) < SAMPLES:
                    out.samples[i].append(mask_text(P.cell_text(raw))[:30])
    except FileError as exc:
        out.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is a message, not a traceback
        out.error = f"无法读取文件（{type(exc).__name__}）"
    finally:
        if job is not None:
            job.close()
    return out


# ---------------------------------------------------------------------------------------
# Cache of the current file's layouts and previews (session state, a few entries)

def _cached(key: tuple, make):
    cache: dict = st.session_state.setdefault(CACHE_KEY, {})
    if key not in cache:
        if len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = make()
    return cache[key]


def _forget_file() -> None:
    st.session_state.pop(CACHE_KEY, None)


def _digest(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest()[:16] if data else ""


def _mapping_key(mapping) -> str:
    if mapping is None:
        return ""
    if isinstance(mapping, dict):
        return hashlib.sha256(repr(sorted(mapping.items(), key=str)).encode()).hexdigest()[:16]
    return str(id(mapping))


# ---------------------------------------------------------------------------------------
# The panel

@dataclass
class ImportOptions:
    exported_at: datetime | None = None
    imported_by: str | None = None
    strict: bool = False


def render_import_panel(engine, viewer: Viewer = OPEN_VIEWER) -> None:
    """Choose the table, upload a file, then the mapping step and 确认导入."""
    try:
        _render_import_panel(engine, viewer)
    except Exception as exc:  # noqa: BLE001 — never a traceback on the page
        st.error(f"导入面板出错：{md(type(exc).__name__)}。请刷新页面后重试。")


def _render_import_panel(engine, viewer: Viewer) -> None:
    st.subheader("导入数据文件")
    st.caption("支持 CSV（UTF-8 / GBK 自动识别）、XLSX、XLS。上传后逐列确认每个表头对应的字段，"
               "预览无误再导入。身份证号导入时加密，电话号码不保存。")
    table = st.selectbox("导入到哪张表", list(TABLES), format_func=_table_label, key="imp_table")
    download(f"下载「{TABLES[table].zh}」导入模板（Excel）", lambda: template_xlsx(table),
             template_file_name(table), XLSX, "imp_template",
             what=f"{TABLES[table].zh}导入模板", icon=None)
    upload = st.file_uploader("选择数据文件", type=["csv", "txt", "xlsx", "xlsm", "xls"],
                              key="imp_file")
    with st.expander("更多选项：导出时间、导入人、严格模式、映射文件"):
        options, mapping_file = _render_options()
    if upload is None:
        st.info("请选择要导入的文件。")
        return
    render_file_step(engine, table, upload.getvalue(), upload.name, mapping_file=mapping_file,
                     options=options, viewer=viewer)


def _render_options() -> tuple[ImportOptions, bytes | None]:
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
    mapping_file = st.file_uploader("映射文件（可选，YAML；不上传则自动套用表头相符的预设或已保存的映射）",
                                    type=["yaml", "yml"], key="imp_mapping")
    options = ImportOptions(exported_at, imported_by or None, strict)
    return options, (mapping_file.getvalue() if mapping_file is not None else None)


def render_file_step(engine, table: str, data: bytes, file_name: str, *,
                     mapping_file: bytes | None = None,
                     options: ImportOptions | None = None,
                     viewer: Viewer = OPEN_VIEWER) -> None:
    """The mapping step for one uploaded file (its bytes), then 确认导入 and the result;
    the import and the rejects downloads go to the audit trail under ``viewer``."""
    options = options or ImportOptions()
    fid = _digest(data) + _digest(mapping_file)
    secret = bool(person_key_secret())   # the refusal depends on the configuration too

    layout = _cached(("layout", table, fid, None),
                     lambda: read_layout(engine, table, data, file_name, mapping_file))
    sheet = _choose_sheet(layout, fid)
    if sheet != layout.sheet:
        layout = _cached(("layout", table, fid, sheet),
                         lambda: read_layout(engine, table, data, file_name, mapping_file, sheet))
    if layout.error:
        st.error("无法导入此文件：" + md(layout.error))
        return
    _file_caption(layout)

    st.markdown("**第 1 步：确认每一列对应的字段**")
    _mapping_note(layout)
    _suggest_table(engine, table, data, file_name, layout, fid, mapping_file)
    step = f"{fid}_{_digest((layout.sheet or '').encode())[:6]}"
    choices = _mapping_grid(table, layout, step)
    changed = choices != layout.proposed
    if changed:
        try:
            mapping = mapping_from_targets(
                table, {layout.headers[i]: t for i, t in choices.items()}, base=layout.mapping)
        except FileError as exc:
            st.error(md(exc))
            return
        st.caption("已按你的选择修改列对应关系（尚未保存为映射）。")
    else:
        mapping = layout.mapping

    base = _cached(("preview", table, fid, layout.sheet, _mapping_key(mapping) if changed else "",
                    False, secret),
                   lambda: preview_file(engine, table, data, file_name, mapping,
                                        nrows=PREVIEW_ROWS, sheet=layout.sheet))
    create = _new_names(base, step)
    pv = base
    if create:
        pv = _cached(("preview", table, fid, layout.sheet, _mapping_key(mapping) if changed else "",
                      True, secret),
                     lambda: preview_file(engine, table, data, file_name, mapping,
                                          nrows=PREVIEW_ROWS, sheet=layout.sheet,
                                          create_missing=True))

    st.markdown("**第 2 步：预览导入后的数据**")
    ready = _render_preview(pv)
    _save_mapping_form(engine, table, layout, choices, mapping, file_name, step)

    st.markdown("**第 3 步：导入**")
    if st.button("确认导入", type="primary", key="imp_confirm", disabled=not ready,
                 help=None if ready else "请先处理上面标出的问题"):
        by = options.imported_by or (None if viewer.role == OPEN else viewer.name)
        with st.spinner("正在导入……"):
            result = import_file(engine, table, data, file_name, mapping=mapping,
                                 strict=options.strict, exported_at=options.exported_at,
                                 imported_by=by, sheet=layout.sheet,
                                 create_missing=create)
        audit.record(engine, viewer.actor, "import",
                     audit.import_detail(table, file_name, result, "页面"))
        st.session_state["imp_result"] = (fid, table, result)
        if result.committed:
            _forget_file()          # the store changed: new names are known now
            st.cache_data.clear()   # pages' cached KPI sets and the inventory are stale now
    stored = st.session_state.get("imp_result")
    if stored and stored[0] == fid and stored[1] == table:
        _show_result(stored[2], engine, viewer)


def _file_caption(layout: Layout) -> None:
    fmt = FORMAT_LABEL.get(layout.file_format or "", layout.file_format or "")
    parts = [f"文件格式：{fmt}"]
    if layout.encoding:
        parts.append(f"编码：{encoding_label(layout.encoding)}")
    if layout.sheet:
        parts.append(f"工作表：{layout.sheet}")
    rows = layout.header_rows
    if rows:
        parts.append(f"表头在第 {rows[0]} 行" if len(rows) == 1 else
                     f"表头在第 {rows[0]}–{rows[-1]} 行")
    st.caption(md("，".join(parts)))


def _choose_sheet(layout: Layout, fid: str) -> str | None:
    """A drop-down of the workbook's sheets when it has more than one (hidden and empty
    ones marked); the sheet chosen (the importer's choice by default)."""
    sheets = layout.sheets
    if len(sheets) < 2:
        return layout.sheet
    names = [s.name for s in sheets]
    marks = {s.name: ("（隐藏）" if s.hidden else "") + ("" if s.has_data else "（无数据）")
             for s in sheets}
    default = names.index(layout.sheet) if layout.sheet in names else 0
    return st.selectbox("工作表（此文件有多个工作表）", names, index=default,
                        format_func=lambda n: n + marks[n], key=f"imp_sheet_{fid}")


def _mapping_note(layout: Layout) -> None:
    known = sum(t != IGNORE for t in layout.proposed.values())
    total = len(layout.proposed)
    if layout.mapping_source in SOURCE_WORDS and layout.mapping_name:
        what = f"{SOURCE_WORDS[layout.mapping_source]}「{md(layout.mapping_name)}」"
        st.info(f"已套用{what}：识别出 {known}/{total} 列。请逐列核对，需要时修改。",
                icon=":material/auto_fix_high:")
    elif known:
        st.info(f"按表头自动识别出 {known}/{total} 列，未找到相符的预设或已保存的映射。"
                "请为其余各列选择字段，或选择“忽略此列”。", icon=":material/rule:")
    else:
        st.warning("没有认出任何表头：请为每一列选择对应的字段，或选择“忽略此列”。",
                   icon=":material/rule:")


def _known(layout: Layout) -> int:
    return sum(t != IGNORE for t in layout.proposed.values())


def _suggest_table(engine, table: str, data: bytes, file_name: str, layout: Layout, fid: str,
                   mapping_file: bytes | None) -> None:
    """When the chosen table knows few of the file's headers and another table knows more
    (its headers, a preset or a saved mapping), say which table the file looks like."""
    if mapping_file is not None or _known(layout) * 2 > len(layout.proposed):
        return

    def best() -> tuple[str | None, int]:
        scores = {t: _known(read_layout(engine, t, data, file_name, sheet=layout.sheet))
                  for t in TABLES if t != table}
        name = max(scores, key=scores.get) if scores else None
        return name, scores.get(name, 0)

    other, known = _cached(("suggest", table, fid, layout.sheet), best)
    if other and known >= 2 and known > _known(layout):
        st.warning(f"这个文件的表头更像「{TABLES[other].zh}」表（认出 {known} 列）：如果选错了表，"
                   "请在上方“导入到哪张表”中改选。", icon=":material/swap_horiz:")


def _mapping_grid(table: str, layout: Layout, step: str) -> dict[int, str]:
    """One drop-down per header (the file's header as its label, first values below);
    returns {column index: target}."""
    options = target_options(table)
    targets = [t for t, _ in options]
    labels = {t: (IGNORE_LABEL if t == IGNORE else label) for t, label in options}
    samples = layout.samples
    choices: dict[int, str] = {}
    indexes = sorted(layout.proposed)
    for start in range(0, len(indexes), GRID_COLUMNS):
        cols = st.columns(GRID_COLUMNS)
        for col, i in zip(cols, indexes[start:start + GRID_COLUMNS]):
            proposed = layout.proposed[i]
            with col:
                choice = st.selectbox(
                    md(layout.headers[i]) or f"第 {i + 1} 列", targets,
                    index=targets.index(proposed) if proposed in targets else 0,
                    format_func=labels.get, key=f"imp_col_{step}_{i}")
                choices[i] = choice
                if samples.get(i):
                    st.caption("示例：" + "、".join(md(s) for s in samples[i]))
                elif proposed == IGNORE and choice == IGNORE:
                    st.caption("未识别，默认忽略")
    return choices


def _new_names(pv: Preview, step: str) -> bool:
    """Communities / grids (and cadres) the file names but the store lacks; a checkbox to
    create the communities and grids. True when it is ticked."""
    new = {t: names for t, names in (pv.new_references or {}).items() if names}
    if not new:
        return False
    lines = []
    for t, names in new.items():
        shown = "、".join(md(n) for n in names[:30]) + ("等" if len(names) > 30 else "")
        lines.append(f"{REF_WHAT.get(t, t)}（{len(names)} 个）：{shown}")
    st.warning("文件中有数据库里还没有的名称，这些行默认会被拒绝：\n\n" + "\n\n".join(lines),
               icon=":material/add_location_alt:")
    if not any(t in new for t in CREATABLE):
        return False
    return st.checkbox("自动创建这些社区/网格", key=f"imp_create_{step}",
                       help="新建的社区类型为“社区”，常住人口待补充；网格以网格编号为名称")


def _render_preview(pv: Preview) -> bool:
    """The first rows as they will be stored, the counts and the problems; True when the
    file may be imported."""
    if pv.error:
        st.error("按当前的列对应关系还不能导入：" + md(pv.error))
        return False
    total, rejected = pv.rows_total or 0, pv.rejected or 0
    c1, c2, c3 = st.columns(3)
    c1.metric("数据行数", f"{total:,}")
    c2.metric("将导入", f"{total - rejected:,}")
    c3.metric("将被拒绝", f"{rejected:,}")
    if pv.stored is not None:
        st.caption(f"前 {len(pv.stored)} 行（按导入后的样子；“问题”列说明该行为何会被拒绝）")
        show_table(pv.stored, "imp_stored", title="导入预览", f=None, excel=False)
    if pv.rejects:
        with st.expander(f"将被拒绝的行：{rejected:,} 行（明细）"):
            show_table(_rejects_frame(pv.rejects), "imp_preview_rejects", title="将被拒绝的行",
                       f=None, excel=False)
    for line in pv.report_lines():
        if not line.startswith(("社区表中没有", "网格表中没有", "干部表中没有")):
            st.caption(md(line))
    for warning in pv.warnings:
        if warning.endswith("（命令行 --create-missing）"):
            continue   # said above, with the names and the checkbox (_new_names)
        st.warning(md(warning), icon=":material/event_busy:")
    dupes = [c for c in pv.columns if c.status == "duplicate"]
    if dupes:
        st.warning("同一字段选了多列，只导入第一列：" + "；".join(
            f"{md(c.header)}（{md(c.label)}）" for c in dupes))
    if pv.refusal:
        st.error("此文件不能导入：" + md(pv.refusal))
        return False
    return True


def _save_mapping_form(engine, table: str, layout: Layout, choices: dict[int, str], mapping,
                       file_name: str, step: str) -> None:
    """保存映射: the current choices under a name, for the next file with these headers."""
    default = layout.mapping_name if layout.mapping_source == "saved" else PurePath(file_name).stem
    with st.container(border=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        name = c1.text_input("映射名称", value=default[:60], max_chars=60, key=f"imp_map_name_{step}",
                             help="保存后，再上传表头相同的文件时自动套用")
        if not c2.button("保存映射", key=f"imp_map_save_{step}"):
            return
        try:
            data = mapping if isinstance(mapping, dict) else mapping_from_targets(
                table, {layout.headers[i]: t for i, t in choices.items()}, base=layout.mapping)
            saved = save_mapping(engine, name, table, layout.headers, data)
        except FileError as exc:
            st.error("映射未保存：" + md(exc))
            return
        st.success(f"已保存映射「{md(saved.name)}」：以后上传表头相同的文件时会自动套用。",
                   icon=":material/bookmark_added:")


def _show_result(result: ImportResult, engine, viewer: Viewer) -> None:
    if result.error:
        st.error("导入失败，数据库未做任何修改：" + md(result.error))
        return
    if result.committed and not result.all_rejected:
        st.success(md(result.summary_zh()))
    else:
        st.error(md(result.summary_zh()))
    cols = st.columns(5)
    cols[0].metric("读取行数", result.rows_read)
    cols[1].metric("新增", result.inserted)
    cols[2].metric("更新", result.updated)
    cols[3].metric("未变化", result.unchanged)
    cols[4].metric("拒绝", result.rejected)
    for line in result.report_lines():
        if not line.startswith("列对应："):
            st.caption(md(line))
    for w in result.warnings:
        st.warning(md(w))
    if result.rejects:
        st.markdown(f"**无效数据明细**（{len(result.rejects)} 条问题，涉及 {result.rejected} 行）")
        show_table(_rejects_frame(result.rejects), "imp_result_rejects", title="无效数据明细",
                   f=None, excel=False)
        base = re.sub(r"\.[^.]*$", "", result.file_name or "import") + "_拒绝行"
        c1, c2 = st.columns(2)
        with c1:
            download("下载拒绝行（CSV）", rejects_to_csv(result.rejects), f"{base}.csv", CSV,
                     "imp_rejects_csv", what=f"{result.file_name} 拒绝行", icon=None)
        with c2:
            download("下载拒绝行（Excel）", rejects_to_xlsx(result.rejects), f"{base}.xlsx", XLSX,
                     "imp_rejects_xlsx", what=f"{result.file_name} 拒绝行", icon=None)


# ---------------------------------------------------------------------------------------
# Data quality

def render_quality_panel(engine, f=None) -> None:
    """Each data-quality check with its count and an expander listing the offending rows."""
    st.subheader("数据质量检查")
    st.caption("以下问题数据已按原样保存（它们是源系统中的事实，应在源系统中更正）；"
               "各指标如何处理它们见指标口径说明。")
    try:
        findings = run_checks(engine)
    except Exception as exc:  # noqa: BLE001
        st.error(f"数据质量检查失败：{md(type(exc).__name__)}")
        return
    filters = f
    total = sum(f.count for f in findings)
    st.metric("发现问题（处）", total)
    for f in findings:
        label = f"{f.check.title}：{'检查失败' if f.error else f.count}"
        # Material icons, not emoji: a server without an emoji font draws ✅ as a box
        icon = ":material/warning:" if f.count or f.error else ":material/check_circle:"
        with st.expander(label, expanded=False, icon=icon):
            st.caption(md(f.check.description))
            if f.error:
                st.error(md(f.error))
            elif f.count == 0:
                st.text("未发现问题。")
            else:
                if f.count > len(f.rows):
                    st.caption(f"共 {f.count} 处，仅显示前 {len(f.rows)} 处。")
                show_table(f.rows, f"imp_q_{f.check.key}", title=f"数据质量-{f.check.title}",
                           f=filters, excel=filters is not None)

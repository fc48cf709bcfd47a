"""File import: CSV / XLSX / XLS exports into the store, validated, idempotent, one transaction.

``import_file`` reads a file as it comes (UTF-8 with or without BOM, GBK/GB18030; CSV, XLSX,
XLS; Chinese or canonical headers, or any header through a mapping), validates each row,
and upserts the valid rows by primary key in ONE transaction per file:

- default mode: valid rows land, invalid rows are listed in ``rejects``;
- strict mode: nothing lands if any row is invalid;
- a file-level problem (empty file, unreadable file, a missing required column, a bad
  mapping) stops the import with ``error`` set and nothing written;
- a crash or a killed process leaves the store as before (the transaction never commits).

Re-importing the same file changes nothing: rows whose values equal the stored ones are
counted as ``unchanged``, only real changes as ``updated``. Columns the file does not have
are left as stored on update (a file without 满意度 does not erase satisfaction).

Shapes of real exports (``data.ingest.reading`` reads the cells):

- the header is found among the first rows (title rows above it are skipped); a two-row
  header under merged headings (处置情况 over 办结时间 / 办结层级) gives each column its own
  name, the sub-header alone when it is unique, else "处置情况-办结时间";
- merged cells fill every cell they cover (a merged 所属社区 fills down its rows);
- hidden rows, and 合计 / 总计 / 小计 rows, are skipped and reported (``skipped_rows``);
- of a workbook, the sheet asked for (``sheet=``), else the first visible one with data;
  hidden sheets are left out with a note; ``sheets`` lists them all;
- every column is mapped, or listed by name in ``ignored_columns`` (personal data in
  ``dropped_columns``); a column with data but no header as 第K列（无表头）.

Mappings (``data.ingest.mappings``): ``mapping=`` takes a mapping file, dict, YAML text or
``Mapping``; with ``auto_mapping=True`` and no mapping, a saved mapping or shipped preset
whose headers match the file is used (``mapping_name`` / ``mapping_source`` say which).

Values: closed lists and 是/否 columns also take the answers offices write (已解决, 非常满意,
√, …) through the synonyms table (``data.ingest.synonyms``, ``[import.synonyms]`` in
settings.toml); a value found nowhere is rejected with the allowed values listed. A
deadline (办理时限) given as a date alone means the end of that day, 23:59:59.

References: a community, grid or cadre not in the store rejects the row; with
``create_missing=True`` unknown communities (kind 社区, population empty) and grids (named
by their id, in the row's community) are created in the same transaction (``created``).

Missing fields: ``missing_fields`` names the columns a KPI depends on that the imported
records lack (absent, or empty in every accepted row) and the KPIs they affect.

Personal data: an ID-number column (身份证号, 证件号码, id_number, …) becomes ``person_key``
= HMAC-SHA256(secret, ID) where the table has one, and is dropped otherwise; phone columns
are dropped. The secret comes from the environment variable ``ZHILI_PERSON_KEY_SECRET`` or
``.streamlit/secrets.toml`` ``[zhili] person_key_secret``; there is deliberately NO default:
an ID number has so little entropy that a hash under a known key is reversible, so a file
with an ID column and no configured secret is refused with a clear message (by the preview
already, before anything is confirmed). ID and phone numbers typed into free text (诉求摘要,
日志内容, 救助事由, …) are masked before they are stored (``data.ingest.masking``); the
result counts them per column.

Implausible times: rows dated after the import time (a case reported in 2031) are stored,
as every other fact of the source system, and counted per column in ``future_rows`` with a
warning; ``data.quality`` lists them. An export time later than now is refused (it would
move the store's 数据截至 into the future).

Rows are streamed in chunks (``chunk_size``), so a large CSV is never held in memory.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterator

from sqlalchemy import Engine, and_, bindparam, inspect, select, tuple_

from data.ingest import parsing as P
from data.ingest.columns import (
    CLOSED_ALIASES, DEADLINE_COLUMNS, EVENT_TIMES, ID_NUMBER, IGNORE, KPI_FIELDS, PHONE, TABLES,
    ColumnSpec, TableSpec, classify_header, normalise_header, target_label,
)
from data.ingest.mappings import (  # noqa: F401 - re-exported: the importer's API
    Mapping, MappingMatch, delete_mapping, find_mapping, get_mapping, list_mappings,
    load_mapping, mapping_from_targets, mapping_yaml, presets, save_mapping,
)
from data.ingest.masking import mask_text
from data.ingest.reading import FileError, OpenedFile, SheetInfo, Source, open_table
from data.ingest.synonyms import SynonymsError, merged as merged_synonyms, norm_value, office_synonyms
from data.store import clock
from data.store.db import SECRETS_FILE, create_schema, refresh_statistics
from data.store.migrate import StoreNotReady, require_current
from data.store.schema import DATA_TABLES, communities as communities_table, grids as grids_table
from data.store.schema import import_log

TZ = clock.TZ
SECRET_ENV = "ZHILI_PERSON_KEY_SECRET"
DEFAULT_CHUNK = 2000
LOOKUP_BATCH = 400
HEADER_SCAN_ROWS = 10
MAX_VALUE_SHOWN = 200
EXPORT_CLOCK_SKEW_S = 600   # an export time up to 10 minutes ahead of our clock is accepted
MAX_PREVIEW_REJECTS = 1000  # rejects a preview keeps (the count is always complete)
CREATABLE = ("communities", "grids")   # references create_missing may create
TOTAL_ROW = re.compile(r"^(合\s*计|总\s*计|小\s*计|共\s*计|总\s*数)[:：]?$")

SKIP_TOTAL = "合计行"
SKIP_HIDDEN = "隐藏行"


class MissingSecret(FileError):
    pass


@dataclass
class Reject:
    row: int          # row number in the file (the header row is its own number; Excel-style)
    column: str       # the file's header (or the canonical name for constants)
    value: str
    reason: str       # Chinese

    def as_tuple(self) -> tuple[int, str, str, str]:
        return (self.row, self.column, self.value, self.reason)


@dataclass
class ColumnChoice:
    """One column of the file and what becomes of it."""
    index: int                 # 0-based position in the file
    header: str                # as in the file (two header rows joined: 处置情况-办结时间)
    target: str | None         # canonical column, 'id_number', 'phone', or None (ignored)
    label: str                 # Chinese: the field's label, 身份证号（…）, 电话（…）, 忽略
    status: str                # 'mapped', 'person_key', 'dropped', 'ignored', 'duplicate', 'unnamed'
    via: str | None = None     # 'mapping' (the mapping names it) or 'builtin' (known header)
    samples: list[str] = field(default_factory=list)   # first values (masked), preview only


@dataclass
class MissingField:
    """A column KPIs depend on that the imported records lack."""
    column: str
    label: str
    kpis: tuple[str, ...]
    absent: bool               # not in the file at all (else: empty in every accepted row)

    def text(self) -> str:
        how = "文件中没有" if self.absent else "文件中全部为空："
        return f"{how}{self.label}，影响指标：{'、'.join(self.kpis)}"


@dataclass
class ImportResult:
    table: str
    file_name: str | None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rows_read: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)   # personal data, never stored
    encoding: str | None = None
    file_format: str | None = None
    column_mapping: dict[str, str] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    strict: bool = False
    committed: bool = False
    imported_at: datetime | None = None
    masked: dict[str, int] = field(default_factory=dict)       # column -> values masked
    future_rows: dict[str, int] = field(default_factory=dict)  # column -> rows after imported_at
    # the mapping used: its name, and 'saved' | 'preset' | 'file' | 'given' (None: none)
    mapping_name: str | None = None
    mapping_source: str | None = None
    columns: list[ColumnChoice] = field(default_factory=list)
    sheet: str | None = None
    sheets: list[SheetInfo] = field(default_factory=list)
    header_rows: list[int] = field(default_factory=list)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, 合计行 | 隐藏行)
    created: dict[str, list[str]] = field(default_factory=dict)       # table -> names created
    missing_fields: list[MissingField] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)             # how the file was read

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def all_rejected(self) -> bool:
        """Rows were read and every one was rejected: nothing of the file landed."""
        return self.error is None and self.rows_read > 0 and self.rejected == self.rows_read

    def summary_zh(self) -> str:
        if self.error:
            return f"导入失败：{self.error}"
        if not self.committed:
            return (f"严格模式：发现 {self.rejected} 行无效数据，本文件未导入任何数据"
                    f"（共读取 {self.rows_read} 行）。")
        parts = [f"读取 {self.rows_read} 行", f"新增 {self.inserted} 行", f"更新 {self.updated} 行",
                 f"未变化 {self.unchanged} 行", f"拒绝 {self.rejected} 行"]
        if self.all_rejected:
            return "导入完成，但所有数据行均被拒绝，未导入任何数据：" + "，".join(parts) + "。"
        return "导入完成：" + "，".join(parts) + "。"

    def report_lines(self) -> list[str]:
        """Chinese lines on everything besides the counts (the CLI prints them)."""
        out = []
        if self.mapping_name:
            out.append("使用映射：" + _mapping_words(self.mapping_source, self.mapping_name))
        if self.sheet:
            out.append(f"工作表：{self.sheet}")
        if self.column_mapping:
            out.append("列对应：" + "，".join(f"{k}→{v}" for k, v in self.column_mapping.items()))
        if self.ignored_columns:
            out.append("已忽略的列（未导入）：" + "、".join(self.ignored_columns))
        if self.dropped_columns:
            out.append("已丢弃的个人信息列（不保存）：" + "、".join(self.dropped_columns))
        out += [f"说明：{n}" for n in self.notes]
        out += _skipped_lines(self.skipped_rows)
        out += _created_lines(self.created)
        out += [f"缺少字段：{m.text()}" for m in self.missing_fields]
        return out


def _mapping_words(source: str | None, name: str | None) -> str:
    kind = {"saved": "已保存的映射", "preset": "预设", "file": "映射文件"}.get(source or "", "映射")
    return f"{kind}「{name}」" if name else kind


def _rows_text(rows: list[int], limit: int = 10) -> str:
    shown = "、".join(str(r) for r in rows[:limit])
    return f"第 {shown} 行" + (f" 等 {len(rows)} 行" if len(rows) > limit else "")


def _skipped_lines(skipped: list[tuple[int, str]]) -> list[str]:
    out = []
    totals = [r for r, why in skipped if why == SKIP_TOTAL]
    hidden = [r for r, why in skipped if why == SKIP_HIDDEN]
    if totals:
        out.append(f"已跳过合计行 {len(totals)} 行（{_rows_text(totals)}）：合计/总计行不是数据")
    if hidden:
        out.append(f"已跳过隐藏行 {len(hidden)} 行（{_rows_text(hidden)}）：Excel 中隐藏的行不导入")
    return out


def _created_lines(created: dict[str, list[str]]) -> list[str]:
    out = []
    if created.get("communities"):
        names = created["communities"]
        out.append(f"新建社区 {len(names)} 个：{'、'.join(names)}（类型 社区，常住人口待补充："
                   "请在社区表中补充人口，否则万人警情数无数据）")
    if created.get("grids"):
        names = created["grids"]
        out.append(f"新建网格 {len(names)} 个：{'、'.join(names)}（以网格编号为名称）")
    return out


# ---------------------------------------------------------------------------------------
# Personal data

ID_PATTERN = re.compile(r"^(\d{17}[\dX]|\d{15})$")


def person_key_secret() -> str | None:
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return secret
    if SECRETS_FILE.exists():
        try:
            with SECRETS_FILE.open("rb") as fh:
                secret = tomllib.load(fh).get("zhili", {}).get("person_key_secret")
        except (OSError, tomllib.TOMLDecodeError):
            return None
        return secret or None
    return None


def make_person_key(id_number: str, secret: str) -> str:
    """person_key = HMAC-SHA256(secret, normalised ID number), 64 hex characters."""
    norm = re.sub(r"\s+", "", str(id_number)).upper()
    return hmac.new(secret.encode("utf-8"), norm.encode("utf-8"), hashlib.sha256).hexdigest()


def mask_id(value: str) -> str:
    s = str(value)
    return s[:3] + "*" * max(len(s) - 7, 3) + s[-4:] if len(s) > 7 else "***"


def short_key(person_key: str | None) -> str:
    return "" if not person_key else f"{person_key[:8]}…"


# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# Header: where it is, one or two rows, what each column means

def _classify(table: str, header: str, columns: dict[str, str] | None) -> str | None:
    """classify_header, and for a joined two-row header (处置情况-办结时间) its sub-header."""
    target = classify_header(table, header, columns)
    if target is None and "-" in header:
        target = classify_header(table, header.rsplit("-", 1)[1], columns)
    return target


def _score(table: str, row: list, columns: dict[str, str] | None) -> int:
    return sum(1 for raw in row if not P.is_blank(raw)
               and _classify(table, P.cell_text(raw), columns) is not None)


def _texts(row: list) -> list[str]:
    return ["" if P.is_blank(c) else P.cell_text(c).replace("\ufeff", "") for c in row]


def _is_label(raw) -> bool:
    """A cell that can be a sub-header: text, not a number or a date."""
    if P.is_blank(raw) or not isinstance(raw, str):
        return False
    s = raw.strip()
    if re.fullmatch(r"[\d.,:/\-\s年月日时分秒]+", s):
        return False
    return True


def _join_headers(top: list, sub: list) -> tuple[list[str], bool] | None:
    """The names of a two-row header (TOP above SUB) and whether a merged heading was seen,
    or None when SUB cannot be a header row.

    A merged heading stands in every column it covers (data.ingest.reading fills merges); in
    a CSV the heading stands over its first column and the columns to its right are blank.
    A column keeps its sub-header alone when that name is unique in the header, else
    "heading-sub-header"; a column merged down both rows (事件编号) keeps its one name.
    """
    width = max(len(top), len(sub))
    top = _texts(list(top) + [None] * (width - len(top)))
    raw_sub = list(sub) + [None] * (width - len(sub))
    subs = _texts(raw_sub)
    if not any(subs) or any(s and not _is_label(r) for s, r in zip(subs, raw_sub)):
        return None
    parents = list(top)
    grouped = merged = False
    for j in range(width):
        if not subs[j] or subs[j] == top[j]:
            continue
        if top[j] and ((j > 0 and top[j - 1] == top[j]) or (j + 1 < width and top[j + 1] == top[j])):
            grouped = merged = True  # under a merged heading
        elif not top[j]:
            k = j - 1               # CSV: the heading is the nearest one to the left
            while k >= 0 and not top[k] and subs[k]:
                k -= 1
            if k >= 0 and top[k] and subs[k] and subs[k] != top[k]:
                parents[j] = top[k]
                grouped = True
        elif top[j]:
            grouped = True          # a heading over one column with its own sub-header
    if not grouped:
        return None
    names = []
    for j in range(width):
        p, s = parents[j], subs[j]
        if not s or s == p:
            names.append(p)
        elif not p:
            names.append(s)
        else:
            names.append((p, s))
    plain = [n for n in names if isinstance(n, str)]
    counts: dict[str, int] = {}
    for n in names:
        key = n[1] if isinstance(n, tuple) else n
        counts[key] = counts.get(key, 0) + 1
    out = []
    for n in names:
        if isinstance(n, tuple):
            out.append(n[1] if counts[n[1]] == 1 and n[1] not in plain else f"{n[0]}-{n[1]}")
        else:
            out.append(n)
    return out, merged


@dataclass
class _Plan:
    spec: TableSpec
    positions: dict[str, int]                 # canonical -> column index
    headers: dict[str, str]                   # canonical -> header as in the file
    id_index: int | None
    id_header: str | None
    column_mapping: dict[str, str]
    ignored: list[str]
    dropped: list[str]
    constants: dict[str, Any]                 # canonical -> parsed value
    header_row: int
    header_rows: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)        # every column's header, by index
    choices: list[ColumnChoice] = field(default_factory=list)


def _resolve_header(table: str, names: list[str], header_rows: list[int], mapping: Mapping) -> _Plan:
    spec = TABLES[table]
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    col_map: dict[str, str] = {}
    ignored: list[str] = []
    dropped: list[str] = []
    choices: list[ColumnChoice] = []
    id_index = id_header = None
    for i, header in enumerate(names):
        if not header:
            continue
        target = _classify(table, header, mapping.columns)
        h = normalise_header(header)
        via = "mapping" if h in mapping.columns or (
            "-" in header and normalise_header(header.rsplit("-", 1)[1]) in mapping.columns) else "builtin"
        if target == IGNORE or target is None:
            ignored.append(header)
            choices.append(ColumnChoice(i, header, None, "忽略", "ignored",
                                        "mapping" if target == IGNORE else None))
        elif target == PHONE:
            dropped.append(header)
            choices.append(ColumnChoice(i, header, PHONE, target_label(table, PHONE), "dropped", via))
        elif target == ID_NUMBER:
            if spec.has_person_key and id_index is None and "person_key" not in positions:
                id_index, id_header = i, header
                col_map[header] = "person_key"
                choices.append(ColumnChoice(i, header, ID_NUMBER, target_label(table, ID_NUMBER),
                                            "person_key", via))
            else:
                dropped.append(header)
                choices.append(ColumnChoice(i, header, ID_NUMBER, "身份证号（丢弃）", "dropped", via))
        elif target in positions:
            # a second column for the same field: the first one wins, this one is listed
            first = headers[target]
            ignored.append(header)
            choices.append(ColumnChoice(i, header, None, f"忽略（与「{first}」同为{spec.columns[target].zh}）",
                                        "duplicate", via))
        else:
            positions[target] = i
            headers[target] = header
            col_map[header] = target
            choices.append(ColumnChoice(i, header, target, spec.columns[target].zh, "mapped", via))
    return _Plan(spec, positions, headers, id_index, id_header, col_map, ignored, dropped, {},
                 header_rows[0], list(header_rows), list(names), choices)


def _column_name(index: int) -> str:
    """Excel's letters for a 0-based column index (A, B, …, AA)."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# ---------------------------------------------------------------------------------------
# Rows: parsed and checked

_SECRET_MSG = ("文件包含身份证号列，但未配置加密密钥：请设置环境变量 ZHILI_PERSON_KEY_SECRET，"
               "或在 .streamlit/secrets.toml 的 [zhili] 下设置 person_key_secret（身份证号不会以明文保存）")
_REF_WHAT = {"communities": "社区", "grids": "网格", "cadres": "人员编号"}


class _Validator:
    """Parses and checks rows. ``tally(values)`` of an accepted row counts its values whose
    ID or phone numbers were masked (``masked``), given ``now`` its event times later than
    that (``future``), and its filled columns (``filled``); ``new_refs`` holds the names
    not in the store (communities, grids, cadres) and, with ``create_missing``,
    ``to_create`` the rows to create for the accepted rows' new communities and grids."""

    def __init__(self, plan: _Plan, mapping: Mapping, refs: dict[str, set[str]] | None,
                 secret: str | None, now: datetime | None = None, synonyms: dict | None = None,
                 create_missing: bool = False):
        self.plan = plan
        self.spec = plan.spec
        self.mapping = mapping
        self.refs = refs
        self.secret = secret
        self.formats = mapping.date_formats
        self.synonyms = synonyms if synonyms is not None else merged_synonyms(None)
        self.create_missing = create_missing
        # columns written: those in the file, constants, person_key from an ID column
        cols = list(plan.positions) + [c for c in plan.constants if c not in plan.positions]
        if plan.id_index is not None and "person_key" not in cols:
            cols.append("person_key")
        self.columns = [c for c in self.spec.columns if c in cols]
        # checked references, communities first: a new grid lies in the row's (maybe new) community
        self._ref_order = sorted((c for c in self.columns if self.spec.columns[c].reference),
                                 key=lambda c: c != "community")
        self.masked: dict[str, int] = {}
        self.future: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.accepted = 0
        self.unknown_values: dict[str, dict[str, int]] = {}   # column -> value -> rows
        self.new_refs: dict[str, list[str]] = {}              # table -> unknown names, in order
        self.to_create: dict[str, dict[str, dict]] = {t: {} for t in CREATABLE}
        self.created: dict[str, list[str]] = {}
        self._row_masked: list[str] = []
        self._row_new: list[tuple[str, str, dict]] = []
        self.last_values: dict[str, Any] = {}
        self.now = now
        self._future_limits = {}
        if now is not None:
            limits = {"datetime": now, "date": now.date(), "month": f"{now:%Y-%m}"}
            for name in EVENT_TIMES.get(self.spec.name, ()):
                if name in self.columns:
                    self._future_limits[name] = limits[self.spec.columns[name].kind]

    def _synonym(self, section: str, raw) -> str | None:
        table = self.synonyms.get(section)
        return table.get(norm_value(P.cell_text(raw))) if table else None

    def _unknown(self, col: ColumnSpec, value: str) -> None:
        seen = self.unknown_values.setdefault(col.name, {})
        if len(seen) < 50 or value in seen:
            seen[value] = seen.get(value, 0) + 1

    def parse(self, col: ColumnSpec, raw) -> Any:
        kind = col.kind
        recode = self.mapping.values.get(col.name)
        if recode is not None:
            key = norm_value(P.cell_text(raw))
            if key in recode:
                raw = recode[key]
                if P.is_blank(raw):
                    return None
        if kind in ("str", "text"):
            value = P.cell_text(raw)
            if col.choices is not None:
                value = CLOSED_ALIASES.get(value, value)
                if value not in col.choices:
                    found = self._synonym(col.name, value)
                    if found is None:
                        self._unknown(col, value)
                        raise ValueError(f"不在允许的取值中（{'/'.join(col.choices)}）")
                    value = found
            if col.free_text:
                masked = mask_text(value)
                if masked != value:
                    self._row_masked.append(col.name)
                    value = masked
            if col.max_length and len(value) > col.max_length:
                # the limit is the schema column's length (columns.py reads type.length)
                raise ValueError(f"长度 {len(value)} 超过该列上限 {col.max_length} 个字符")
            if col.name == "person_key" and ID_PATTERN.match(value.upper()):
                return self._hash(value)
            return value
        if isinstance(raw, str) and raw.lstrip().startswith("="):
            raise ValueError("是公式或以“=”开头的文本，不会被计算，请填写数值")
        if kind == "datetime":
            if col.name in DEADLINE_COLUMNS:
                return P.parse_deadline(raw, self.formats)
            return P.parse_datetime(raw, self.formats)
        if kind == "date":
            return P.parse_date(raw, self.formats)
        if kind == "month":
            return P.parse_month(raw, self.formats)
        if kind == "bool":
            if isinstance(raw, str):
                found = self._synonym(col.name, raw) or self._synonym("bool", raw)
                raw = found or norm_value(raw) or raw
            try:
                return P.parse_bool(raw)
            except ValueError:
                self._unknown(col, P.cell_text(raw))
                raise
        if kind == "int":
            return P.parse_int(raw)
        if kind == "year":
            return P.parse_year(raw)
        if kind == "money":
            return P.parse_money(raw)
        if kind == "float":
            value = P.parse_float(raw)
            limit = 90 if col.name == "lat" else 180
            if col.name in ("lat", "lon") and abs(value) > limit:
                raise ValueError(f"超出范围（±{limit}）")
            return value
        raise AssertionError(kind)

    def _hash(self, id_number: str) -> str:
        if not self.secret:
            raise MissingSecret(_SECRET_MSG)
        return make_person_key(id_number, self.secret)

    def row(self, row_no: int, row: list) -> tuple[dict | None, list[Reject]]:
        plan, spec = self.plan, self.spec
        values: dict[str, Any] = {}
        problems: list[Reject] = []
        failed: set[str] = set()
        self._row_masked = []
        self._row_new = []
        for name in self.columns:
            col = spec.columns[name]
            idx = plan.positions.get(name)
            raw = row[idx] if idx is not None and idx < len(row) else None
            header = plan.headers.get(name) or f"{col.zh}（映射常量）"
            if P.is_blank(raw):
                if name in plan.constants:
                    values[name] = plan.constants[name]
                    continue
                if name == "person_key" and plan.id_index is not None:
                    continue  # filled from the ID column below
                values[name] = None
                continue
            try:
                values[name] = self.parse(col, raw)
            except MissingSecret:
                raise
            except ValueError as exc:
                failed.add(name)
                shown = P.cell_text(raw)
                shown = mask_id(shown) if name == "person_key" else mask_text(shown)
                problems.append(Reject(row_no, header, shown[:MAX_VALUE_SHOWN], f"{col.zh}{exc}"))
        if plan.id_index is not None and values.get("person_key") is None:
            raw = row[plan.id_index] if plan.id_index < len(row) else None
            if not P.is_blank(raw):
                if isinstance(raw, float):
                    problems.append(Reject(row_no, plan.id_header, mask_id(P.cell_text(raw)),
                                           "身份证号以数字格式保存，已丢失精度（请把该列设为文本格式后重新导出）"))
                else:
                    norm = re.sub(r"\s+", "", P.cell_text(raw)).upper()
                    if ID_PATTERN.match(norm):
                        values["person_key"] = self._hash(norm)
                    else:
                        problems.append(Reject(row_no, plan.id_header, mask_id(norm),
                                               "身份证号格式不正确（应为 18 位或 15 位）"))
        for name, default in spec.defaults.items():
            if name in values and values[name] is None:
                values[name] = default
        for name in spec.required:
            if values.get(name) is None and name not in failed:
                problems.append(Reject(row_no, plan.headers.get(name, spec.columns[name].zh), "",
                                       f"{spec.columns[name].zh}为必填项，不能为空"))
        if self.refs is not None:
            problems += self._check_refs(row_no, values)
        self.last_values = values
        if not problems:
            for ref_table, name, rec in self._row_new:
                self.to_create[ref_table][name] = rec
                self.refs.setdefault(ref_table, set()).add(name)
        return (None if problems else values), problems

    def _check_refs(self, row_no: int, values: dict) -> list[Reject]:
        spec, plan = self.spec, self.plan
        problems = []
        new_here: dict[str, set[str]] = {}
        for name in self._ref_order:
            col = spec.columns[name]
            v = values.get(name)
            if not col.reference or v is None:
                continue
            ref_table = col.reference[0]
            if v in self.refs.get(ref_table, ()) or v in new_here.get(ref_table, ()):
                continue
            seen = self.new_refs.setdefault(ref_table, [])
            if v not in seen and len(seen) < 1000:
                seen.append(v)
            header = plan.headers.get(name) or col.zh
            if self.create_missing and ref_table == "communities":
                new_here.setdefault(ref_table, set()).add(v)
                self._row_new.append((ref_table, v, {"name": v, "kind": "社区"}))
                continue
            community = values.get("community")
            if self.create_missing and ref_table == "grids" and community is not None:
                new_here.setdefault(ref_table, set()).add(v)
                self._row_new.append((ref_table, v, {"grid_id": v, "name": v, "community": community}))
                continue
            what = _REF_WHAT[ref_table]
            hint = f"（请先导入{TABLES[ref_table].zh}表）"
            if ref_table == "grids" and self.create_missing:
                hint = "（该行没有社区，无法自动新建网格）"
            problems.append(Reject(row_no, header, str(v)[:MAX_VALUE_SHOWN],
                                   f"未知{what}「{v}」：{TABLES[ref_table].zh}表中不存在{hint}"))
        return problems

    def tally(self, values: dict) -> None:
        """Count an accepted row (the one ``row`` returned last): masked values, late times,
        filled columns."""
        self.accepted += 1
        for name in self._row_masked:
            self.masked[name] = self.masked.get(name, 0) + 1
        for name, limit in self._future_limits.items():
            v = values.get(name)
            if v is not None and v > limit:
                self.future[name] = self.future.get(name, 0) + 1
        for name, v in values.items():
            if v is not None:
                self.filled[name] = self.filled.get(name, 0) + 1

    def pending_refs(self) -> dict[str, list[dict]]:
        """The reference rows to create before the accepted rows are written (then cleared)."""
        out = {}
        for t, recs in self.to_create.items():
            if recs:
                out[t] = list(recs.values())
                self.created.setdefault(t, []).extend(recs)
                recs.clear()
        return out

    def missing_fields(self) -> list[MissingField]:
        out = []
        for name, kpis in KPI_FIELDS.get(self.spec.name, {}).items():
            absent = name not in self.columns
            if absent or (self.accepted and not self.filled.get(name)):
                out.append(MissingField(name, self.spec.columns[name].zh, kpis, absent))
        return out

    def notes(self, what: str) -> list[str]:
        """Chinese lines on the masked values and the rows later than ``now`` (``what``
        names that moment, e.g. 导入时间)."""
        out = []
        if self.masked:
            n = sum(self.masked.values())
            per = "、".join(f"{self.spec.columns[c].zh} {k} 个" for c, k in self.masked.items())
            out.append(f"有 {n} 个值含身份证号或电话号码，已遮盖后保存（{per}；如 110101********1234、"
                       "139****5678），明文不保存")
        for name, k in self.future.items():
            out.append(f"有 {k} 行的{self.spec.columns[name].zh}晚于{what}（{self.now:%Y-%m-%d %H:%M}）："
                       "已按原样导入，请在源系统中核对（数据质量检查「日期晚于数据截至」中列出）")
        return out

    def ref_hints(self) -> list[str]:
        """Lines on names not in the store that the import could create."""
        if self.create_missing:
            return []
        out = []
        for t in CREATABLE:
            names = self.new_refs.get(t)
            if names:
                shown = "、".join(names[:10]) + ("等" if len(names) > 10 else "")
                out.append(f"文件中有 {len(names)} 个{_REF_WHAT[t]}不在{TABLES[t].zh}表中（{shown}），"
                           f"这些行已拒绝：可先导入{TABLES[t].zh}表，或选择自动新建（命令行 --create-missing）")
        return out

    def value_hints(self) -> list[str]:
        """Lines on values found in no list, for the columns an office's synonyms can extend."""
        from data.ingest.synonyms import TARGETS

        out = []
        for name, seen in self.unknown_values.items():
            col = self.spec.columns[name]
            section = name if name in TARGETS else ("bool" if col.kind == "bool" else None)
            if section is None:
                continue
            shown = "、".join(list(seen)[:8]) + ("等" if len(seen) > 8 else "")
            allowed = "/".join(col.choices) if col.choices else "是/否"
            example = next(iter(seen))
            out.append(f"{col.zh}有 {len(seen)} 种未识别的取值（{shown}），这些行已拒绝（可用：{allowed}）。"
                       f"如果它们是别称，可在 settings.toml 的 [import.synonyms.{section}] 中增加，"
                       f"如 \"{example}\" = \"{(col.choices or ('是',))[0]}\"")
        return out


def _load_refs(conn, spec: TableSpec) -> dict[str, set[str]]:
    needed = {c.reference for c in spec.columns.values() if c.reference}
    refs: dict[str, set[str]] = {}
    for ref_table, ref_col in needed:
        t = DATA_TABLES[ref_table]
        refs[ref_table] = {r[0] for r in conn.execute(select(t.c[ref_col]))}
    return refs


def _create_refs(conn, pending: dict[str, list[dict]]) -> None:
    if pending.get("communities"):
        conn.execute(communities_table.insert(), pending["communities"])
    if pending.get("grids"):
        conn.execute(grids_table.insert(), pending["grids"])


# ---------------------------------------------------------------------------------------
# Comparing and writing

def _norm(kind: str, v):
    if v is None:
        return None
    if kind == "money":
        return Decimal(str(v)).quantize(P.CENT)
    if kind == "float":
        return round(float(v), 9)
    if kind == "bool":
        return bool(v)
    if kind == "datetime":
        if isinstance(v, str):
            v = datetime.fromisoformat(v)
        return v.replace(microsecond=0, tzinfo=None)
    if kind == "date":
        if isinstance(v, str):
            v = date.fromisoformat(v[:10])
        return v.date() if isinstance(v, datetime) else v
    if kind in ("int", "year"):
        return int(v)
    return v


def _same(kind: str, new, stored) -> bool:
    a, b = _norm(kind, new), _norm(kind, stored)
    if kind == "float" and a is not None and b is not None:
        # MySQL/MariaDB FLOAT is single precision and comes back with 6 significant digits
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-9)
    return a == b


def _pk(spec: TableSpec, values: dict) -> tuple:
    return tuple(values[c] for c in spec.primary_key)


def _write_chunk(conn, spec: TableSpec, columns: list[str], rows: list[dict], result: ImportResult) -> None:
    """Upsert one chunk: select the existing keys, insert the new rows, update real changes."""
    table = DATA_TABLES[spec.name]
    pk_cols = [table.c[c] for c in spec.primary_key]
    existing: dict[tuple, Any] = {}
    keys = [_pk(spec, r) for r in rows]
    for i in range(0, len(keys), LOOKUP_BATCH):
        batch = keys[i:i + LOOKUP_BATCH]
        if len(pk_cols) == 1:
            cond = pk_cols[0].in_([k[0] for k in batch])
        else:
            cond = tuple_(*pk_cols).in_(batch)
        stmt = select(*pk_cols, *[table.c[c] for c in columns if c not in spec.primary_key],
                      table.c.origin).where(cond)
        for rec in conn.execute(stmt).mappings():
            key = tuple(_norm(spec.columns[c].kind, rec[c]) for c in spec.primary_key)
            existing[key] = rec
    inserts, updates, claimed = [], [], []
    for r, key in zip(rows, keys):
        nkey = tuple(_norm(spec.columns[c].kind, v) for c, v in zip(spec.primary_key, key))
        rec = existing.get(nkey)
        if rec is None:
            full = dict(r)
            for name, default in spec.defaults.items():
                if full.get(name) is None:
                    full[name] = default
            inserts.append(full)
            continue
        changed = any(not _same(spec.columns[c].kind, r[c], rec[c])
                      for c in columns if c not in spec.primary_key)
        if changed:
            updates.append(r)
        else:
            result.unchanged += 1
        if rec["origin"] is not None:   # a demo row the file confirms or updates is now the
            claimed.append(r)           # office's own: demo --remove keeps it (origin NULL)
    if inserts:
        cols = sorted({k for r in inserts for k in r})
        conn.execute(table.insert(), [{c: r.get(c) for c in cols} for r in inserts])
        result.inserted += len(inserts)
    set_cols = [c for c in columns if c not in spec.primary_key]
    if updates and set_cols:
        stmt = (table.update()
                .where(and_(*[table.c[c] == bindparam(f"k_{c}") for c in spec.primary_key]))
                .values({c: bindparam(f"v_{c}") for c in set_cols}))
        params = [{**{f"k_{c}": r[c] for c in spec.primary_key},
                   **{f"v_{c}": r.get(c) for c in set_cols}} for r in updates]
        conn.execute(stmt, params)
        result.updated += len(updates)
    if claimed:
        conn.execute(table.update()
                     .where(and_(*[table.c[c] == bindparam(f"k_{c}") for c in spec.primary_key]))
                     .values(origin=None),
                     [{f"k_{c}": r[c] for c in spec.primary_key} for r in claimed])


def _parse_exported_at(exported_at, now: datetime) -> datetime | None:
    """The export time as naive Asia/Shanghai wall time, stored exactly as given when it
    is naive; one with a UTC offset (``2024-03-10T10:00:00Z``) is converted. An export
    time later than ``now`` (beyond a few minutes of clock skew) is refused."""
    if exported_at is None or exported_at == "":
        return None
    if isinstance(exported_at, datetime):
        value = clock.to_local(exported_at)
    elif isinstance(exported_at, date):
        value = datetime(exported_at.year, exported_at.month, exported_at.day)
    else:
        text = str(exported_at).strip()
        try:
            value = clock.to_local(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            try:
                value = P.parse_datetime(text)
            except ValueError:
                raise FileError(f"导出时间「{exported_at}」格式无效，应为 YYYY-MM-DDTHH:MM:SS") from None
    if (value - now).total_seconds() > EXPORT_CLOCK_SKEW_S:
        raise FileError(f"导出时间 {value:%Y-%m-%d %H:%M:%S} 晚于当前时间 {now:%Y-%m-%d %H:%M:%S}"
                        "（北京时间）：请核对导出时间（它决定“数据截至”）")
    return value


# ---------------------------------------------------------------------------------------
# The job: open, find the header, plan, validate



# ---------------------------------------------------------------------------------------
# The job: open, find the header, choose the mapping, plan

class _Job:
    def __init__(self, table: str, path_or_bytes, file_name: str | None, mapping, *,
                 sheet: str | None = None, engine=None, auto_mapping: bool = False):
        if table not in TABLES:
            raise FileError(f"未知的表「{table}」，可用：{'、'.join(TABLES)}")
        self.table = table
        self.spec = TABLES[table]
        self.mapping = load_mapping(mapping, table)
        self.coverage: float | None = None
        self.src = Source(path_or_bytes, file_name)
        self.opened: OpenedFile = open_table(self.src, sheet or self.mapping.sheet)
        self.format, self.encoding = self.opened.format, self.opened.encoding
        self.rows = self.opened.rows
        self.skipped: list[tuple[int, str]] = []
        self.unnamed: dict[int, int] = {}        # column index without header -> first data row
        candidates = None
        if auto_mapping and mapping is None:
            candidates = list_mappings(engine, table)
        names, header_rows = self._find_header(candidates)
        if candidates is not None:
            match = find_mapping(engine, table, names)
            if match is not None and (match.exact or not self._builtin_suffices(names)):
                self.mapping, self.coverage = match.mapping, match.coverage
        self.plan = self._plan(names, header_rows)

    def close(self) -> None:
        self.opened.close()

    def _builtin_suffices(self, names: list[str]) -> bool:
        """Every header is known without a mapping (a file made from the template)."""
        heads = [n for n in names if n]
        return bool(heads) and all(_classify(self.table, h, None) is not None for h in heads)

    def _find_header(self, candidates: list[Mapping] | None) -> tuple[list[str], list[int]]:
        """The header's names (two rows joined where the file has a two-row header) and its
        row numbers; the rows above it are dropped, those read beyond it kept in ``pending``."""
        vocab = dict(self.mapping.columns)
        for m in candidates or ():
            for h, t in m.columns.items():
                vocab.setdefault(h, t)
        buffered: list[tuple[int, list, bool]] = []
        for n, row, hidden in self.rows:
            if all(P.is_blank(c) for c in row):
                continue
            buffered.append((n, row, hidden))
            if len(buffered) >= HEADER_SCAN_ROWS + 1:
                break
        if not buffered:
            raise FileError("文件为空：没有表头，也没有数据行")
        scan = buffered[:HEADER_SCAN_ROWS]
        scores = [_score(self.table, row, vocab) for _, row, _ in scan]
        best = max(range(len(scan)), key=lambda i: (scores[i], -i))
        if scores[best] == 0:
            # nothing known: the first row as wide as the widest (title rows are narrower)
            widths = [sum(not P.is_blank(c) for c in row) for _, row, _ in scan]
            best = next(i for i, w in enumerate(widths) if w >= max(2, max(widths) / 2)) \
                if max(widths) >= 2 else 0
        n, row, _ = buffered[best]
        names, header_rows, used = _texts(row), [n], best + 1
        if used < len(buffered) and buffered[used][0] == n + 1:
            joined = _join_headers(row, buffered[used][1])
            if joined is not None:
                score = _score(self.table, joined[0], vocab)
                # better known with the second row, or as well known under a merged heading
                if score > scores[best] or (joined[1] and score == scores[best] > 0):
                    names, header_rows, used = joined[0], [n, n + 1], used + 1
        self.pending = buffered[used:]
        return names, header_rows

    def _plan(self, names: list[str], header_rows: list[int]) -> _Plan:
        plan = _resolve_header(self.table, names, header_rows, self.mapping)
        # constants: parsed once; an invalid constant is a file-level error
        for name, raw in self.mapping.constants.items():
            col = self.spec.columns[name]
            try:
                plan.constants[name] = _Validator(plan, self.mapping, None, None).parse(col, raw)
            except ValueError as exc:
                raise FileError(f"映射文件中常量 {name}（{col.zh}）的值「{raw}」无效：{col.zh}{exc}") from None
        missing = [c for c in self.spec.required
                   if c not in plan.positions and c not in plan.constants]
        if missing:
            names_ = "、".join(f"{self.spec.columns[c].zh}（{c}）" for c in missing)
            raise FileError(f"缺少必需列：{names_}。请检查表头，或在映射文件中指定对应的列")
        if not plan.positions:
            raise FileError("没有识别出任何列，请检查表头或提供映射文件")
        # A missing secret is reported when the first non-empty ID number is met (an empty
        # 身份证号 column, as in the template, needs no secret).
        return plan

    def data_rows(self) -> Iterator[tuple[int, list]]:
        """The data rows: blank, hidden and total rows left out (the latter two recorded)."""
        named = len(self.plan.names)
        blank = [i for i, name in enumerate(self.plan.names) if not name]
        for n, row, hidden in self._rest():
            if all(P.is_blank(c) for c in row):
                continue
            if hidden:
                self.skipped.append((n, SKIP_HIDDEN))
                continue
            if _is_total(row):
                self.skipped.append((n, SKIP_TOTAL))
                continue
            if blank or len(row) > named:
                for i in (*blank, *range(named, len(row))):
                    if i < len(row) and i not in self.unnamed and not P.is_blank(row[i]):
                        self.unnamed[i] = n
            yield n, row

    def _rest(self) -> Iterator[tuple[int, list, bool]]:
        yield from self.pending
        yield from self.rows

    def notes(self) -> list[str]:
        out = list(self.opened.notes)
        if len(self.plan.header_rows) > 1:
            out.append(f"表头占两行（第 {self.plan.header_rows[0]}–{self.plan.header_rows[1]} 行），"
                       "合并单元格下的各列按“上级表头-列名”或列名命名")
        elif self.plan.header_row > 1:
            out.append(f"表头在第 {self.plan.header_row} 行，其上的标题行已跳过")
        return out

    def unnamed_columns(self) -> list[str]:
        return [f"第{_column_name(i)}列（无表头）" for i in sorted(self.unnamed)]


def _is_total(row: list) -> bool:
    """A 合计 / 总计 / 小计 row: one of its first three filled cells says so."""
    seen = 0
    for c in row:
        if P.is_blank(c):
            continue
        if isinstance(c, str) and TOTAL_ROW.match(c.strip()):
            return True
        seen += 1
        if seen >= 3:
            return False
    return False


def _synonyms(synonyms) -> dict:
    try:
        return office_synonyms() if synonyms is None else merged_synonyms(synonyms)
    except SynonymsError as exc:
        raise FileError(str(exc)) from None


def _scan(job: _Job, validator: _Validator, on_row: Callable[[int, list, dict | None, list], None]
          ) -> Iterator[tuple[int, dict | None, list[Reject]]]:
    """Validated data rows (duplicate keys in the file rejected after their first)."""
    spec = job.spec
    seen: dict[Any, int] = {}
    for row_no, row in job.data_rows():
        values, problems = validator.row(row_no, row)
        if values is not None:
            key = _pk(spec, values)
            k = key[0] if len(key) == 1 else key
            first = seen.get(k)
            if first is not None:
                problems = [Reject(row_no, "、".join(job.plan.headers.get(c, c) for c in spec.primary_key),
                                   "、".join(str(x) for x in key)[:MAX_VALUE_SHOWN],
                                   f"主键与第 {first} 行重复：同一文件中只导入第一次出现的行")]
                values = None
            else:
                seen[k] = row_no
        if values is not None:
            validator.tally(values)
        on_row(row_no, row, values, problems)
        yield row_no, values, problems


def _fill_result(result, job: _Job) -> None:
    """What the file and the plan say (both ImportResult and Preview have these fields)."""
    result.encoding = job.encoding
    result.file_format = job.format
    result.column_mapping = dict(job.plan.column_mapping)
    result.ignored_columns = list(job.plan.ignored)
    result.dropped_columns = list(job.plan.dropped)
    result.columns = list(job.plan.choices)
    result.sheet, result.sheets = job.opened.sheet, list(job.opened.sheets)
    result.header_rows = list(job.plan.header_rows)
    if job.mapping.columns or job.mapping.constants or job.mapping.name:
        result.mapping_name = job.mapping.name
        result.mapping_source = job.mapping.source


def _finish_result(result, job: _Job, validator: _Validator) -> None:
    """What reading every row found (both ImportResult and Preview)."""
    unnamed = job.unnamed_columns()
    result.ignored_columns += unnamed
    result.columns += [ColumnChoice(i, name, None, "忽略", "unnamed")
                       for i, name in zip(sorted(job.unnamed), unnamed)]
    result.skipped_rows = list(job.skipped)
    result.missing_fields = validator.missing_fields()
    result.notes = job.notes() + result.notes
    result.warnings.extend(validator.value_hints() + validator.ref_hints())


def import_file(engine: Engine, table: str, path_or_bytes, file_name: str | None = None,
                mapping=None, strict: bool = False, exported_at=None, imported_by: str | None = None,
                *, sheet: str | None = None, create_missing: bool = False, auto_mapping: bool = False,
                synonyms: dict | None = None, chunk_size: int = DEFAULT_CHUNK,
                on_chunk: Callable[[int], None] | None = None) -> ImportResult:
    """Import one file into TABLE in one transaction; see the module docstring.

    ``mapping``: a mapping file / dict / YAML / ``Mapping`` (a saved one or a preset from
    ``get_mapping`` or ``Preview.mapping``); ``auto_mapping``: with no mapping, use the saved
    mapping or preset matching the file's headers. ``sheet``: the worksheet to read.
    ``create_missing``: create unknown communities and grids instead of rejecting the rows.
    ``synonyms``: the office's ``[import.synonyms]`` tables (default: read from the
    settings file). Never raises for a bad file: a file-level problem is returned in
    ``result.error``. ``on_chunk(n)`` is called after each written chunk (progress; tests
    inject failures).
    """
    result = ImportResult(table=table, file_name=file_name, strict=strict)
    started = clock.now()
    job = None
    try:
        exported = _parse_exported_at(exported_at, started)
        syn = _synonyms(synonyms)
        if not inspect(engine).has_table("import_log"):
            create_schema(engine)
        else:
            try:
                require_current(engine)
            except StoreNotReady as exc:   # an old schema would refuse the longer values
                raise FileError(str(exc)) from None
        job = _Job(table, path_or_bytes, file_name, mapping, sheet=sheet, engine=engine,
                   auto_mapping=auto_mapping)
        _fill_result(result, job)
        secret = person_key_secret()
        spec = job.spec
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                refs = _load_refs(conn, spec)
                validator = _Validator(job.plan, job.mapping, refs, secret, now=started,
                                       synonyms=syn, create_missing=create_missing)
                columns = validator.columns
                chunk: list[dict] = []
                n_chunks = 0

                def write(rows_: list[dict]) -> None:
                    nonlocal n_chunks
                    _create_refs(conn, validator.pending_refs())
                    _write_chunk(conn, spec, columns, rows_, result)
                    n_chunks += 1
                    if on_chunk:
                        on_chunk(n_chunks)

                for _, values, problems in _scan(job, validator, lambda *a: None):
                    result.rows_read += 1
                    if values is None:
                        result.rejected += 1
                        result.rejects.extend(problems)
                        continue
                    if strict and result.rejected:
                        continue  # nothing will land; keep validating to list every problem
                    chunk.append(values)
                    if len(chunk) >= chunk_size:
                        write(chunk)
                        chunk = []
                if chunk and not (strict and result.rejected):
                    write(chunk)
                _finish_result(result, job, validator)
                if result.rows_read == 0:
                    result.warnings.append("文件只有表头，没有数据行")
                if strict and result.rejected:
                    trans.rollback()
                    result.inserted = result.updated = result.unchanged = 0
                    return result
                _create_refs(conn, validator.pending_refs())
                result.created = {t: names for t, names in validator.created.items() if names}
                result.imported_at = clock.now()
                conn.execute(import_log.insert().values(
                    table_name=table, file_name=(file_name or "")[:255] or None, source="import",
                    imported_at=result.imported_at, exported_at=exported,
                    inserted=result.inserted, updated=result.updated, rejected=result.rejected,
                    imported_by=(imported_by or None) and str(imported_by)[:60],
                ))
                trans.commit()
                result.committed = True
                result.masked, result.future_rows = dict(validator.masked), dict(validator.future)
                result.warnings.extend(validator.notes("导入时间"))
            except BaseException:
                if trans.is_active:
                    trans.rollback()
                raise
    except FileError as exc:
        _reset(result)
        result.error = str(exc)
    except MemoryError:
        _reset(result)
        result.error = "内存不足，文件过大：请拆分后分批导入"
    except Exception as exc:  # database errors etc.: never a traceback for the user
        _reset(result)
        result.error = f"导入中断，已回滚，数据库未做任何修改（{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}）"
    finally:
        if job is not None:
            job.close()
    if result.committed and (result.inserted or result.updated):
        try:
            refresh_statistics(engine, table)
            for t in result.created:
                refresh_statistics(engine, t)
        except Exception:  # noqa: BLE001 - the data is stored; only the planner is behind
            result.warnings.append("数据已导入，但未能更新查询统计信息（不影响结果，只影响速度）")
    return result


def _reset(result: ImportResult) -> None:
    result.inserted = result.updated = result.unchanged = 0
    result.committed = False
    result.imported_at = None
    result.created = {}


# ---------------------------------------------------------------------------------------
# Preview

@dataclass
class Preview:
    """Everything the browser's mapping step shows, without writing anything.

    The file: ``file_format``, ``encoding``, ``sheets`` (name, hidden, has_data, chosen) and
    ``sheet`` read, ``header_rows``, ``headers`` (every column's header, by position: what
    ``save_mapping`` takes). The mapping: ``columns`` (one ``ColumnChoice`` per column: its
    header, target field and Chinese label, or 忽略), ``mapping`` (the ``Mapping`` used, to
    pass to ``import_file``), ``mapping_name`` / ``mapping_source`` / ``mapping_coverage``.
    The rows: ``stored`` (the first rows as they will be stored, Chinese field labels,
    plus 行号 and 问题), ``frame`` (the first rows as in the file, mapped columns only),
    ``rows_total``, ``rejected`` (rows the import would reject), ``rejects`` (up to
    MAX_PREVIEW_REJECTS of them), ``problems`` (those among the first rows), ``skipped_rows``,
    ``new_references`` (names not in the store: {'communities': […], 'grids': […],
    'cadres': […]}), ``missing_fields``, ``notes`` and ``warnings`` (Chinese lines),
    ``refusal`` (the import would be refused as a whole: ID numbers without the secret).
    """
    table: str
    frame: Any = None                       # pandas DataFrame of the first rows (mapped columns)
    encoding: str | None = None
    file_format: str | None = None
    column_mapping: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    header_row: int | None = None
    problems: list[Reject] = field(default_factory=list)   # problems in the previewed rows
    error: str | None = None
    # the import of this file would be refused as a whole (an ID-number column and no
    # person_key secret): shown before 确认导入, which is then not offered
    refusal: str | None = None
    masked: dict[str, int] = field(default_factory=dict)   # column -> values masked (previewed rows)
    future_rows: dict[str, int] = field(default_factory=dict)  # column -> previewed rows after now
    notes: list[str] = field(default_factory=list)         # Chinese lines on the masking, the layout
    warnings: list[str] = field(default_factory=list)      # Chinese lines on rows dated after now
    # the mapping step
    headers: list[str] = field(default_factory=list)
    columns: list[ColumnChoice] = field(default_factory=list)
    mapping: Mapping | None = None
    mapping_name: str | None = None
    mapping_source: str | None = None
    mapping_coverage: float | None = None
    stored: Any = None                      # pandas DataFrame: first rows as stored
    rows_total: int | None = None
    rejected: int | None = None
    rejects: list[Reject] = field(default_factory=list)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)
    new_references: dict[str, list[str]] = field(default_factory=dict)
    missing_fields: list[MissingField] = field(default_factory=list)
    sheet: str | None = None
    sheets: list[SheetInfo] = field(default_factory=list)
    header_rows: list[int] = field(default_factory=list)

    def report_lines(self) -> list[str]:
        """Chinese lines on the layout, skipped rows, new names and missing fields."""
        out = [f"说明：{n}" for n in self.notes]
        out += _skipped_lines(self.skipped_rows)
        for t, names in self.new_references.items():
            out.append(f"{TABLES[t].zh}表中没有的{_REF_WHAT[t]}（{len(names)} 个）：{'、'.join(names[:30])}"
                       + ("等" if len(names) > 30 else ""))
        out += [f"缺少字段：{m.text()}" for m in self.missing_fields]
        return out


def _id_number_in(plan: _Plan, row: list) -> bool:
    """True when the row holds an ID number that the import would hash (and so would need
    the person_key secret): a well-formed one in the ID column or in a person_key column."""
    for idx in (plan.positions.get("person_key"), plan.id_index):
        if idx is None or idx >= len(row) or P.is_blank(row[idx]):
            continue
        raw = row[idx]
        if idx == plan.id_index and isinstance(raw, float):
            continue  # rejected for its lost precision, never hashed
        if ID_PATTERN.match(re.sub(r"\s+", "", P.cell_text(raw)).upper()):
            return True
    return False


def _shown(col: ColumnSpec, value) -> str:
    """A stored value as the preview shows it."""
    if value is None:
        return ""
    if col.name == "person_key":
        return short_key(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def preview_file(engine: Engine | None, table: str, path_or_bytes, file_name: str | None = None,
                 mapping=None, nrows: int = 20, *, sheet: str | None = None,
                 create_missing: bool = False, auto_mapping: bool = False,
                 synonyms: dict | None = None, scan_all: bool = True) -> Preview:
    """What importing the file would do, without writing anything (see ``Preview``).

    The first ``nrows`` rows are shown; with ``scan_all`` (default) every row is validated
    too, for ``rows_total``, ``rejected``, ``new_references`` and ``missing_fields``. ID
    numbers are shown masked; phone and unknown columns are not shown (only listed); free
    text is shown as it would be stored, ID and phone numbers in it masked (counted in
    ``masked``). Rows are validated against the store's references when ``engine`` is
    given. Arguments as for ``import_file``.
    """
    import pandas as pd

    pv = Preview(table=table)
    job = None
    try:
        syn = _synonyms(synonyms)
        job = _Job(table, path_or_bytes, file_name, mapping, sheet=sheet, engine=engine,
                   auto_mapping=auto_mapping)
        _fill_result(pv, job)
        pv.header_row = job.plan.header_row
        pv.headers = list(job.plan.names)
        pv.mapping, pv.mapping_coverage = job.mapping, job.coverage
        refs = None
        if engine is not None:
            try:
                if inspect(engine).has_table("communities"):
                    with engine.connect() as conn:
                        refs = _load_refs(conn, job.spec)
            except Exception:  # noqa: BLE001
                refs = None
        secret = person_key_secret()
        now = clock.now()
        validator = _Validator(job.plan, job.mapping, refs, secret or "preview-only", now=now,
                               synonyms=syn, create_missing=create_missing)
        spec = job.spec
        shown = sorted([(job.plan.headers[c], job.plan.positions[c], c) for c in job.plan.positions],
                       key=lambda x: x[1])
        if job.plan.id_index is not None:
            shown.append((job.plan.id_header, job.plan.id_index, None))
            shown.sort(key=lambda x: x[1])
        samples: dict[int, list[str]] = {}
        needs_secret = False
        records, stored = [], []
        state = {"rows": 0, "rejected": 0}

        def on_row(row_no, row, values, problems):
            nonlocal needs_secret
            state["rows"] += 1
            if problems:
                state["rejected"] += 1
                if len(pv.rejects) < MAX_PREVIEW_REJECTS:
                    pv.rejects.extend(problems)
            if not needs_secret:
                needs_secret = _id_number_in(job.plan, row)
            if len(records) >= nrows:
                return
            rec = {"行号": row_no}
            for h, i, c in shown:
                raw = row[i] if i < len(row) else None
                text = "" if P.is_blank(raw) else P.cell_text(raw)
                if i == job.plan.id_index and text:
                    text = mask_id(text)
                elif c is not None and spec.columns[c].free_text and text:
                    masked = mask_text(text)
                    if masked != text:
                        pv.masked[c] = pv.masked.get(c, 0) + 1
                        text = masked
                rec[h] = text
            records.append(rec)
            for i, raw in enumerate(row):
                if not P.is_blank(raw) and len(samples.setdefault(i, [])) < 3:
                    t = P.cell_text(raw)
                    samples[i].append(mask_id(t) if i == job.plan.id_index else mask_text(t)[:60])
            got = values if values is not None else validator.last_values
            out = {"行号": row_no}
            for c in validator.columns:
                out[spec.columns[c].zh] = _shown(spec.columns[c], got.get(c))
            out["问题"] = "；".join(p.reason for p in problems)
            stored.append(out)
            pv.problems.extend(problems)

        rows_iter = _scan(job, validator, on_row)
        for _ in rows_iter:
            if not scan_all and len(records) >= nrows:
                break
        rows_iter.close()
        _finish_result(pv, job, validator)
        if scan_all:
            pv.rows_total, pv.rejected = state["rows"], state["rejected"]
            pv.new_references = {t: names for t, names in validator.new_refs.items() if names}
        elif not secret and not needs_secret and (
                job.plan.id_index is not None or "person_key" in job.plan.positions):
            needs_secret = any(_id_number_in(job.plan, row) for _, row in job.data_rows())
        if needs_secret and not secret:
            pv.refusal = _SECRET_MSG
        for ch in pv.columns:
            ch.samples = samples.get(ch.index, [])
        pv.future_rows = dict(validator.future)
        masking = []
        if pv.masked:
            per = "、".join(f"{spec.columns[c].zh} {k} 个" for c, k in pv.masked.items())
            masking.append(f"预览的 {len(records)} 行中有 {sum(pv.masked.values())} 个值含身份证号或电话号码"
                           f"（{per}），下表已显示为遮盖后的样子；导入时同样遮盖，明文不保存")
        pv.notes = masking + pv.notes
        for c, k in pv.future_rows.items():
            where = f"全部 {state['rows']} 行" if scan_all else f"预览的 {len(records)} 行"
            pv.warnings.append(f"{where}中有 {k} 行的{spec.columns[c].zh}晚于当前时间"
                               f"（{now:%Y-%m-%d %H:%M}）：导入时按原样保存，并在数据质量检查中列出")
        pv.frame = pd.DataFrame(records, columns=["行号"] + [h for h, _, _ in shown]).astype(
            {h: "string" for h, _, _ in shown})
        labels = [spec.columns[c].zh for c in validator.columns]
        pv.stored = pd.DataFrame(stored, columns=["行号"] + labels + ["问题"]).astype(
            {h: "string" for h in labels + ["问题"]})
    except FileError as exc:
        pv.error = str(exc)
    except Exception as exc:  # noqa: BLE001
        pv.error = f"无法预览文件（{type(exc).__name__}）"
    finally:
        if job is not None:
            job.close()
    return pv



# ---------------------------------------------------------------------------------------
# Rejects reports

REJECT_HEADERS = ["行号", "列", "值", "原因"]
_FORMULA_START = ("=", "+", "@", "-")


def _csv_safe(value: str) -> str:
    """Keep a spreadsheet from evaluating a cell: prefix ' to text that looks like a formula."""
    s = str(value)
    if s.startswith(("=", "+", "@")) or (s.startswith("-") and not re.match(r"^-\d", s)):
        return "'" + s
    return s


def rejects_to_csv(rejects: list) -> bytes:
    """The rejects report as UTF-8 CSV with BOM (Excel opens it with Chinese intact)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(REJECT_HEADERS)
    for r in rejects:
        row, col, value, reason = r.as_tuple() if isinstance(r, Reject) else r
        w.writerow([row, _csv_safe(col), _csv_safe(value), reason])
    return buf.getvalue().encode("utf-8-sig")


def write_text_cell(ws, row: int, column: int, value) -> None:
    """Write a cell that stays text even if it starts with '=' (never a formula)."""
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def rejects_to_xlsx(rejects: list) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拒绝行"
    for j, h in enumerate(REJECT_HEADERS, 1):
        write_text_cell(ws, 1, j, h)
    for i, r in enumerate(rejects, 2):
        row, col, value, reason = r.as_tuple() if isinstance(r, Reject) else r
        ws.cell(row=i, column=1, value=int(row))
        write_text_cell(ws, i, 2, str(col))
        write_text_cell(ws, i, 3, str(value))
        write_text_cell(ws, i, 4, str(reason))
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 30
    ws.column_dimensions["D"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

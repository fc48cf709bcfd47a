"""File import: CSV / XLSX / XLS exports into the store, validated, idempotent, one transaction.

``import_file`` reads a file as it comes (UTF-8 with or without BOM, GBK/GB18030; CSV, XLSX,
XLS; Chinese or canonical headers, or any header through a mapping file), validates each
row, and upserts the valid rows by primary key in ONE transaction per file:

- default mode: valid rows land, invalid rows are listed in ``rejects``;
- strict mode: nothing lands if any row is invalid;
- a file-level problem (empty file, unreadable file, a missing required column, a bad
  mapping) stops the import with ``error`` set and nothing written;
- a crash or a killed process leaves the store as before (the transaction never commits).

Re-importing the same file changes nothing: rows whose values equal the stored ones are
counted as ``unchanged``, only real changes as ``updated``. Columns the file does not have
are left as stored on update (a file without 满意度 does not erase satisfaction).

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

Mapping file (YAML)::

    columns:                 # source header -> canonical column (or id_number / phone / ignore)
      工单号: case_id
      登记日期: reported_at
    constants:               # values for columns the file lacks (and for its blank cells)
      community: 城东社区
    date_formats: ["%d.%m.%Y %H:%M"]   # optional strptime formats, tried first
    values:                  # optional recoding of cell values per canonical column
      satisfaction: {非常满意: 满意}
    sheet: 工单              # optional worksheet name for XLSX/XLS (default: the first)

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
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml
from sqlalchemy import Engine, and_, bindparam, inspect, select, tuple_

from data.ingest import parsing as P
from data.ingest.columns import (
    CLOSED_ALIASES, EVENT_TIMES, ID_NUMBER, PHONE, TABLES, ColumnSpec, TableSpec,
    classify_header, normalise_header,
)
from data.ingest.masking import mask_text
from data.store import clock
from data.store.db import SECRETS_FILE, create_schema, refresh_statistics
from data.store.migrate import StoreNotReady, require_current
from data.store.schema import DATA_TABLES, import_log

TZ = clock.TZ
SECRET_ENV = "ZHILI_PERSON_KEY_SECRET"
DEFAULT_CHUNK = 2000
LOOKUP_BATCH = 400
HEADER_SCAN_ROWS = 10
MAX_VALUE_SHOWN = 200
EXPORT_CLOCK_SKEW_S = 600   # an export time up to 10 minutes ahead of our clock is accepted

csv.field_size_limit(64 * 1024 * 1024)


class FileError(Exception):
    """A file-level problem: the message is Chinese and shown to the user as is."""


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

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary_zh(self) -> str:
        if self.error:
            return f"导入失败：{self.error}"
        if not self.committed:
            return (f"严格模式：发现 {self.rejected} 行无效数据，本文件未导入任何数据"
                    f"（共读取 {self.rows_read} 行）。")
        parts = [f"读取 {self.rows_read} 行", f"新增 {self.inserted} 行", f"更新 {self.updated} 行",
                 f"未变化 {self.unchanged} 行", f"拒绝 {self.rejected} 行"]
        return "导入完成：" + "，".join(parts) + "。"


# ---------------------------------------------------------------------------------------
# Mapping files

@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)        # normalised header -> canonical
    constants: dict[str, Any] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    sheet: str | None = None


IGNORE_TARGETS = {"ignore", "忽略", "", None}


def load_mapping(mapping, table: str) -> Mapping:
    """A Mapping from a dict, YAML text/bytes, a path, or None; FileError if malformed."""
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    try:
        if isinstance(mapping, (bytes, bytearray)):
            data = yaml.safe_load(bytes(mapping).decode("utf-8-sig"))
        elif isinstance(mapping, Path) or (isinstance(mapping, str) and "\n" not in mapping
                                           and Path(mapping).suffix.lower() in (".yaml", ".yml")):
            data = yaml.safe_load(Path(mapping).read_text(encoding="utf-8-sig"))
        elif isinstance(mapping, str):
            data = yaml.safe_load(mapping)
        elif hasattr(mapping, "getvalue"):
            data = yaml.safe_load(mapping.getvalue().decode("utf-8-sig"))
        else:
            data = mapping
    except FileNotFoundError:
        raise FileError(f"找不到映射文件：{mapping}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FileError(f"映射文件不是有效的 YAML（UTF-8）：{str(exc).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FileError("映射文件格式错误：顶层应为 columns / constants 等键")
    unknown = set(data) - {"columns", "constants", "date_formats", "values", "sheet", "table"}
    if unknown:
        raise FileError(f"映射文件中有无法识别的键：{'、'.join(sorted(map(str, unknown)))}"
                        "（可用：columns、constants、date_formats、values、sheet）")
    spec = TABLES[table]
    valid = set(spec.columns) | {ID_NUMBER, PHONE}
    cols = data.get("columns") or {}
    consts = data.get("constants") or {}
    values = data.get("values") or {}
    fmts = data.get("date_formats") or []
    if not isinstance(cols, dict) or not isinstance(consts, dict) or not isinstance(values, dict):
        raise FileError("映射文件格式错误：columns、constants、values 应为“键: 值”的形式")
    if isinstance(fmts, str):
        fmts = [fmts]
    out = Mapping(sheet=data.get("sheet"), date_formats=[str(f) for f in fmts])
    for src, dst in cols.items():
        if dst in IGNORE_TARGETS:
            out.columns[normalise_header(src)] = "ignore"
            continue
        if dst not in valid:
            raise FileError(f"映射文件把「{src}」映射到「{dst}」，但表 {table}（{spec.zh}）没有这一列；"
                            f"可用列：{'、'.join(spec.columns)}")
        out.columns[normalise_header(src)] = str(dst)
    for col, value in consts.items():
        if col not in spec.columns:
            raise FileError(f"映射文件的常量「{col}」不是表 {table}（{spec.zh}）的列")
        out.constants[str(col)] = value
    for col, recode in values.items():
        if col not in spec.columns or not isinstance(recode, dict):
            raise FileError(f"映射文件 values 中「{col}」应为本表的列，且其下为“原值: 新值”")
        out.values[str(col)] = {P.cell_text(k): v for k, v in recode.items()}
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
# Reading files

class _Source:
    """The bytes of an upload or a path, readable in chunks more than once."""

    def __init__(self, path_or_bytes, file_name: str | None):
        self.path: Path | None = None
        self.data: bytes | None = None
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            self.data = bytes(path_or_bytes)
        elif isinstance(path_or_bytes, (str, Path)):
            self.path = Path(path_or_bytes)
            if not self.path.exists():
                raise FileError(f"找不到文件：{self.path}")
        elif hasattr(path_or_bytes, "getvalue"):
            self.data = path_or_bytes.getvalue()
        elif hasattr(path_or_bytes, "read"):
            self.data = path_or_bytes.read()
        else:
            raise FileError("无法读取上传的文件")
        self.file_name = file_name or (self.path.name if self.path else "")

    def size(self) -> int:
        return self.path.stat().st_size if self.path else len(self.data)

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        if self.path:
            with self.path.open("rb") as fh:
                while chunk := fh.read(size):
                    yield chunk
        else:
            for i in range(0, len(self.data), size):
                yield self.data[i:i + size]

    def head(self, n: int = 8) -> bytes:
        for chunk in self.chunks(max(n, 8)):
            return chunk[:n]
        return b""

    def binary(self):
        return self.path if self.path else io.BytesIO(self.data)

    def all_bytes(self) -> bytes:
        return self.path.read_bytes() if self.path else self.data

    def format(self) -> str:
        head = self.head(8)
        if head.startswith(b"PK\x03\x04") or head.startswith(b"PK"):
            return "xlsx"
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return "xls"
        ext = Path(self.file_name).suffix.lower()
        if ext in (".xlsx", ".xlsm"):
            return "xlsx"  # an .xlsx that is not a zip: reported as damaged below
        if ext == ".xls":
            return "xls"
        return "csv"


def _csv_rows(src: _Source, encoding: str) -> Iterator[tuple[int, list]]:
    if src.path:
        fh = src.path.open("r", encoding=encoding, newline="")
    else:
        fh = io.TextIOWrapper(io.BytesIO(src.data), encoding=encoding, newline="")
    with fh:
        first = fh.readline()
        delim = max([",", "\t", ";", "|"], key=first.count) if first else ","
        if first.count(delim) == 0:
            delim = ","
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delim)
        try:
            for n, row in enumerate(reader, 1):
                yield n, row
        except csv.Error as exc:
            raise FileError(f"CSV 格式错误（第 {reader.line_num} 行附近）：{exc}") from None


def _xlsx_rows(src: _Source, sheet: str | None) -> Iterator[tuple[int, list]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(src.binary(), read_only=True, data_only=False)
    except Exception:  # BadZipFile, KeyError, InvalidFileException, XML errors, …
        raise FileError("XLSX 文件已损坏或不完整，无法打开（请在 Excel 中重新保存或重新导出）") from None
    try:
        if sheet:
            if sheet not in wb.sheetnames:
                raise FileError(f"工作簿中没有名为「{sheet}」的工作表（有：{'、'.join(wb.sheetnames)}）")
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        try:
            for n, row in enumerate(ws.iter_rows(values_only=True), 1):
                yield n, list(row)
        except FileError:
            raise
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError, Exception) as exc:
            if isinstance(exc, GeneratorExit):
                raise
            raise FileError("XLSX 文件已损坏或不完整，读取中断（请在 Excel 中重新保存或重新导出）") from None
    finally:
        wb.close()


def _xls_rows(src: _Source, sheet: str | None) -> Iterator[tuple[int, list]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=src.all_bytes(), on_demand=True)
    except Exception:
        raise FileError("XLS 文件已损坏或不是 Excel 97-2003 工作簿，无法打开") from None
    try:
        if sheet:
            if sheet not in book.sheet_names():
                raise FileError(f"工作簿中没有名为「{sheet}」的工作表（有：{'、'.join(book.sheet_names())}）")
            ws = book.sheet_by_name(sheet)
        else:
            ws = book.sheet_by_index(0)
        for r in range(ws.nrows):
            out = []
            for cell in ws.row(r):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        out.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                    except Exception:
                        out.append(cell.value)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    out.append(bool(cell.value))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    out.append(None)
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    out.append("#错误")
                else:
                    out.append(cell.value)
            yield r + 1, out
    finally:
        book.release_resources()


def _open_rows(src: _Source, mapping: Mapping) -> tuple[str, str | None, Iterator[tuple[int, list]]]:
    fmt = src.format()
    if src.size() == 0:
        raise FileError("文件为空（0 字节），没有可导入的数据")
    if fmt == "xlsx":
        return fmt, None, _xlsx_rows(src, mapping.sheet)
    if fmt == "xls":
        return fmt, None, _xls_rows(src, mapping.sheet)
    try:
        enc = P.detect_encoding(src.chunks)
    except ValueError as exc:
        raise FileError(str(exc)) from None
    return fmt, enc, _csv_rows(src, enc)


# ---------------------------------------------------------------------------------------
# Header resolution and row validation

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


def _resolve_header(table: str, row: list, row_no: int, mapping: Mapping) -> _Plan:
    spec = TABLES[table]
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    col_map: dict[str, str] = {}
    ignored: list[str] = []
    dropped: list[str] = []
    id_index = id_header = None
    for i, raw in enumerate(row):
        if P.is_blank(raw):
            continue
        header = P.cell_text(raw).replace("\ufeff", "")
        target = classify_header(table, header, mapping.columns)
        if target == "ignore" or target is None:
            ignored.append(header)
        elif target == PHONE:
            dropped.append(header)
        elif target == ID_NUMBER:
            if spec.has_person_key and id_index is None:
                id_index, id_header = i, header
                col_map[header] = "person_key"
            else:
                dropped.append(header)
        elif target in positions:
            ignored.append(header)  # a second column for the same field: the first one wins
        else:
            positions[target] = i
            headers[target] = header
            col_map[header] = target
    return _Plan(spec, positions, headers, id_index, id_header, col_map, ignored, dropped, {}, row_no)


def _looks_like_header(table: str, row: list, mapping: Mapping) -> int:
    n = 0
    for raw in row:
        if not P.is_blank(raw) and classify_header(table, P.cell_text(raw), mapping.columns) not in (None, "ignore"):
            n += 1
    return n


class _Validator:
    """Parses and checks rows. ``tally(values)`` of an accepted row counts its values whose
    ID or phone numbers were masked (``masked``) and, given ``now``, its event times later
    than that (``future``), per column."""

    def __init__(self, plan: _Plan, mapping: Mapping, refs: dict[str, set[str]] | None,
                 secret: str | None, now: datetime | None = None):
        self.plan = plan
        self.spec = plan.spec
        self.mapping = mapping
        self.refs = refs
        self.secret = secret
        self.formats = mapping.date_formats
        # columns written: those in the file, constants, person_key from an ID column
        cols = list(plan.positions) + [c for c in plan.constants if c not in plan.positions]
        if plan.id_index is not None and "person_key" not in cols:
            cols.append("person_key")
        self.columns = [c for c in self.spec.columns if c in cols]
        self.masked: dict[str, int] = {}
        self.future: dict[str, int] = {}
        self._row_masked: list[str] = []
        self.now = now
        self._future_limits = {}
        if now is not None:
            limits = {"datetime": now, "date": now.date(), "month": f"{now:%Y-%m}"}
            for name in EVENT_TIMES.get(self.spec.name, ()):
                if name in self.columns:
                    self._future_limits[name] = limits[self.spec.columns[name].kind]

    def parse(self, col: ColumnSpec, raw) -> Any:
        kind = col.kind
        recode = self.mapping.values.get(col.name)
        if recode is not None:
            key = P.cell_text(raw)
            if key in recode:
                raw = recode[key]
                if P.is_blank(raw):
                    return None
        if kind in ("str", "text"):
            value = P.cell_text(raw)
            if col.choices is not None:
                value = CLOSED_ALIASES.get(value, value)
                if value not in col.choices:
                    raise ValueError(f"不在允许的取值中（{'/'.join(col.choices)}）")
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
            return P.parse_datetime(raw, self.formats)
        if kind == "date":
            return P.parse_date(raw, self.formats)
        if kind == "month":
            return P.parse_month(raw, self.formats)
        if kind == "bool":
            return P.parse_bool(raw)
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
            for name in self.columns:
                col = spec.columns[name]
                v = values.get(name)
                if col.reference and v is not None:
                    ref_table = col.reference[0]
                    if v not in self.refs.get(ref_table, ()):
                        what = {"communities": "社区", "grids": "网格", "cadres": "人员编号"}[ref_table]
                        problems.append(Reject(row_no, plan.headers.get(name) or col.zh, str(v)[:MAX_VALUE_SHOWN],
                                               f"未知{what}「{v}」：{TABLES[ref_table].zh}表中不存在"
                                               f"（请先导入{TABLES[ref_table].zh}表）"))
        return (None if problems else values), problems

    def tally(self, values: dict) -> None:
        """Count an accepted row (the one ``row`` returned last): masked values, late times."""
        for name in self._row_masked:
            self.masked[name] = self.masked.get(name, 0) + 1
        for name, limit in self._future_limits.items():
            v = values.get(name)
            if v is not None and v > limit:
                self.future[name] = self.future.get(name, 0) + 1

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


_SECRET_MSG = ("文件包含身份证号列，但未配置加密密钥：请设置环境变量 ZHILI_PERSON_KEY_SECRET，"
               "或在 .streamlit/secrets.toml 的 [zhili] 下设置 person_key_secret（身份证号不会以明文保存）")


def _load_refs(conn, spec: TableSpec) -> dict[str, set[str]]:
    needed = {c.reference for c in spec.columns.values() if c.reference}
    refs: dict[str, set[str]] = {}
    for ref_table, ref_col in needed:
        t = DATA_TABLES[ref_table]
        refs[ref_table] = {r[0] for r in conn.execute(select(t.c[ref_col]))}
    return refs


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

class _Job:
    def __init__(self, table: str, path_or_bytes, file_name: str | None, mapping):
        if table not in TABLES:
            raise FileError(f"未知的表「{table}」，可用：{'、'.join(TABLES)}")
        self.table = table
        self.spec = TABLES[table]
        self.mapping = load_mapping(mapping, table)
        self.src = _Source(path_or_bytes, file_name)
        self.format, self.encoding, rows = _open_rows(self.src, self.mapping)
        self.rows = rows
        self.plan = self._find_header()

    def _find_header(self) -> _Plan:
        buffered: list[tuple[int, list]] = []
        best = None
        for n, row in self.rows:
            if all(P.is_blank(c) for c in row):
                continue
            buffered.append((n, row))
            if _looks_like_header(self.table, row, self.mapping) > 0:
                best = (n, row)
                break
            if len(buffered) >= HEADER_SCAN_ROWS:
                break
        if not buffered:
            raise FileError("文件为空：没有表头，也没有数据行")
        if best is None:
            best = buffered[0]
            pending = buffered[1:]
        else:
            pending = []
        self.pending = pending
        n, row = best
        plan = _resolve_header(self.table, row, n, self.mapping)
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
            names = "、".join(f"{self.spec.columns[c].zh}（{c}）" for c in missing)
            raise FileError(f"缺少必需列：{names}。请检查表头，或在映射文件中指定对应的列")
        if not plan.positions:
            raise FileError("没有识别出任何列，请检查表头或提供映射文件")
        # A missing secret is reported when the first non-empty ID number is met (an empty
        # 身份证号 column, as in the template, needs no secret).
        return plan

    def data_rows(self) -> Iterator[tuple[int, list]]:
        yield from self.pending
        for n, row in self.rows:
            if all(P.is_blank(c) for c in row):
                continue
            yield n, row


def _fill_result(result: ImportResult, job: _Job) -> None:
    result.encoding = job.encoding
    result.file_format = job.format
    result.column_mapping = dict(job.plan.column_mapping)
    result.ignored_columns = list(job.plan.ignored)
    result.dropped_columns = list(job.plan.dropped)


def import_file(engine: Engine, table: str, path_or_bytes, file_name: str | None = None,
                mapping=None, strict: bool = False, exported_at=None, imported_by: str | None = None,
                *, chunk_size: int = DEFAULT_CHUNK,
                on_chunk: Callable[[int], None] | None = None) -> ImportResult:
    """Import one file into TABLE in one transaction; see the module docstring.

    Never raises for a bad file: a file-level problem is returned in ``result.error``.
    ``on_chunk(n)`` is called after each written chunk (progress; tests inject failures).
    """
    result = ImportResult(table=table, file_name=file_name, strict=strict)
    started = clock.now()
    try:
        exported = _parse_exported_at(exported_at, started)
        job = _Job(table, path_or_bytes, file_name, mapping)
        _fill_result(result, job)
        if not inspect(engine).has_table("import_log"):
            create_schema(engine)
        else:
            try:
                require_current(engine)
            except StoreNotReady as exc:   # an old schema would refuse the longer values
                raise FileError(str(exc)) from None
        secret = person_key_secret()
        spec = job.spec
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                refs = _load_refs(conn, spec)
                validator = _Validator(job.plan, job.mapping, refs, secret, now=started)
                columns = validator.columns
                seen: dict[Any, int] = {}
                chunk: list[dict] = []
                n_chunks = 0
                for row_no, row in job.data_rows():
                    result.rows_read += 1
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
                    if values is None:
                        result.rejected += 1
                        result.rejects.extend(problems)
                        continue
                    validator.tally(values)
                    if strict and result.rejected:
                        continue  # nothing will land; keep validating to list every problem
                    chunk.append(values)
                    if len(chunk) >= chunk_size:
                        _write_chunk(conn, spec, columns, chunk, result)
                        chunk = []
                        n_chunks += 1
                        if on_chunk:
                            on_chunk(n_chunks)
                if chunk and not (strict and result.rejected):
                    _write_chunk(conn, spec, columns, chunk, result)
                    n_chunks += 1
                    if on_chunk:
                        on_chunk(n_chunks)
                if result.rows_read == 0:
                    result.warnings.append("文件只有表头，没有数据行")
                if strict and result.rejected:
                    trans.rollback()
                    result.inserted = result.updated = result.unchanged = 0
                    return result
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
    if result.committed and (result.inserted or result.updated):
        try:
            refresh_statistics(engine, table)
        except Exception:  # noqa: BLE001 - the data is stored; only the planner is behind
            result.warnings.append("数据已导入，但未能更新查询统计信息（不影响结果，只影响速度）")
    return result


def _reset(result: ImportResult) -> None:
    result.inserted = result.updated = result.unchanged = 0
    result.committed = False
    result.imported_at = None


# ---------------------------------------------------------------------------------------
# Preview

@dataclass
class Preview:
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
    notes: list[str] = field(default_factory=list)         # Chinese lines on the masking
    warnings: list[str] = field(default_factory=list)      # Chinese lines on rows dated after now


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


def preview_file(engine: Engine | None, table: str, path_or_bytes, file_name: str | None = None,
                 mapping=None, nrows: int = 20) -> Preview:
    """The first rows, detected encoding and column mapping, without writing anything.

    ID numbers are shown masked; phone and unknown columns are not shown (only listed);
    free text is shown as it would be stored, ID and phone numbers in it masked (counted in
    ``masked``). Rows are validated against the store's references when ``engine`` is given.
    A file the import would refuse for want of the person_key secret gets ``refusal`` (the
    rest of the file is scanned for an ID number when the first rows have none).
    """
    import pandas as pd

    pv = Preview(table=table)
    try:
        job = _Job(table, path_or_bytes, file_name, mapping)
        pv.encoding, pv.file_format = job.encoding, job.format
        pv.column_mapping = dict(job.plan.column_mapping)
        pv.ignored_columns, pv.dropped_columns = list(job.plan.ignored), list(job.plan.dropped)
        pv.header_row = job.plan.header_row
        refs = None
        if engine is not None:
            try:
                if inspect(engine).has_table("communities"):
                    with engine.connect() as conn:
                        refs = _load_refs(conn, job.spec)
            except Exception:
                refs = None
        secret = person_key_secret()
        now = clock.now()
        validator = _Validator(job.plan, job.mapping, refs, secret or "preview-only", now=now)
        spec = job.spec
        shown = [(h, i, c) for h, i, c in sorted(
            [(job.plan.headers[c], job.plan.positions[c], c) for c in job.plan.positions],
            key=lambda x: x[1])]
        if job.plan.id_index is not None:
            shown.append((job.plan.id_header, job.plan.id_index, None))
            shown.sort(key=lambda x: x[1])
        needs_secret = False
        records = []
        rows_iter = job.data_rows()
        for row_no, row in rows_iter:
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
            values, problems = validator.row(row_no, row)
            pv.problems.extend(problems)
            if values is not None:
                validator.tally(values)
            needs_secret = needs_secret or _id_number_in(job.plan, row)
            if len(records) >= nrows:
                break
        if not secret and not needs_secret and (
                job.plan.id_index is not None or "person_key" in job.plan.positions):
            needs_secret = any(_id_number_in(job.plan, row) for _, row in rows_iter)
        rows_iter.close()
        if needs_secret and not secret:
            pv.refusal = _SECRET_MSG
        pv.future_rows = dict(validator.future)
        if pv.masked:
            per = "、".join(f"{spec.columns[c].zh} {k} 个" for c, k in pv.masked.items())
            pv.notes.append(f"预览的 {len(records)} 行中有 {sum(pv.masked.values())} 个值含身份证号或电话号码"
                            f"（{per}），下表已显示为遮盖后的样子；导入时同样遮盖，明文不保存")
        for c, k in pv.future_rows.items():
            pv.warnings.append(f"预览的 {len(records)} 行中有 {k} 行的{spec.columns[c].zh}晚于当前时间"
                            f"（{now:%Y-%m-%d %H:%M}）：导入时按原样保存，并在数据质量检查中列出")
        pv.frame = pd.DataFrame(records, columns=["行号"] + [h for h, _, _ in shown]).astype(
            {h: "string" for h, _, _ in shown})
    except FileError as exc:
        pv.error = str(exc)
    except Exception as exc:
        pv.error = f"无法预览文件（{type(exc).__name__}）"
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

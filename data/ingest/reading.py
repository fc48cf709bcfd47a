"""Reading a file's rows as they are laid out: CSV (any encoding), XLSX, XLS.

``open_table(source, sheet)`` returns an ``OpenedFile``: its format and encoding, the
workbook's sheets (name, hidden, has data, chosen), notes in Chinese on what was left out,
and the rows of the chosen sheet as ``(row number, cells, hidden)``, streamed.

Excel shapes handled here, so the importer sees plain rows:

- the sheet: the one asked for (``sheet=``; a hidden one only when asked for by name), else
  the first visible sheet with data; hidden sheets are listed and left out with a note;
- merged cells: every cell of a merged range carries the range's value, so a vertically
  merged 所属社区 fills down its rows and a horizontally merged heading (处置情况) stands
  over each of its columns (the importer builds "处置情况-办结时间" from two header rows);
- hidden rows (hidden by hand or by a filter) are flagged; the importer skips them.

XLSX is read with openpyxl in read-only mode (streamed); merged ranges and hidden rows,
which that mode does not expose, come from one streamed pass over the sheet's XML.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from data.ingest import parsing as P

csv.field_size_limit(64 * 1024 * 1024)
SHEET_PROBE_ROWS = 30


class FileError(Exception):
    """A file-level problem: the message is Chinese and shown to the user as is."""


class Source:
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


@dataclass
class SheetInfo:
    name: str
    hidden: bool
    has_data: bool
    chosen: bool = False


# (row number as in the file, 1-based; cells; hidden)
Row = tuple[int, list, bool]


@dataclass
class OpenedFile:
    format: str
    encoding: str | None
    rows: Iterator[Row]
    sheets: list[SheetInfo] = field(default_factory=list)
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    closer: Callable[[], None] | None = None

    def close(self) -> None:
        """Release the workbook (also done when the rows are read to the end)."""
        self.rows.close()
        if self.closer is not None:
            self.closer()
            self.closer = None


def _choose(sheets: list[SheetInfo], wanted: str | None) -> SheetInfo:
    names = [s.name for s in sheets]
    if wanted:
        for s in sheets:
            if s.name == wanted:
                return s
        raise FileError(f"工作簿中没有名为「{wanted}」的工作表（有：{'、'.join(names)}）")
    for s in sheets:
        if not s.hidden and s.has_data:
            return s
    for s in sheets:
        if not s.hidden:
            return s
    return sheets[0]


def _sheet_notes(sheets: list[SheetInfo], chosen: SheetInfo) -> list[str]:
    notes = []
    hidden = [s.name for s in sheets if s.hidden and s is not chosen]
    if hidden:
        notes.append(f"隐藏的工作表已忽略：{'、'.join(hidden)}")
    others = [s.name for s in sheets if not s.hidden and s.has_data and s is not chosen]
    if others:
        notes.append(f"工作簿有多个工作表，本次读取「{chosen.name}」；其他有数据的工作表"
                     f"（{'、'.join(others)}）未读取，可选择工作表后分别导入")
    if chosen.hidden:
        notes.append(f"读取的工作表「{chosen.name}」是隐藏工作表（按指定读取）")
    return notes


class _Merges:
    """Fills merged ranges while rows stream by: (min_col, min_row, max_col, max_row)."""

    def __init__(self, ranges: list[tuple[int, int, int, int]]):
        self.starts: dict[int, list[tuple[int, int, int]]] = {}
        for c1, r1, c2, r2 in ranges:
            if (c1, r1) != (c2, r2):
                self.starts.setdefault(r1, []).append((c1, c2, r2))
        self.active: list[tuple[int, int, int, object]] = []

    def fill(self, r: int, row: list) -> list:
        if not self.starts and not self.active:
            return row
        new = self.starts.pop(r, ())
        widest = max([c2 for c1, c2, _ in new] + [a[1] for a in self.active] + [0])
        if len(row) < widest:
            row = list(row) + [None] * (widest - len(row))
        for c1, c2, r2 in new:
            self.active.append((c1, c2, r2, row[c1 - 1]))
        keep = []
        for c1, c2, r2, value in self.active:
            for c in range(c1, c2 + 1):
                row[c - 1] = value
            if r2 > r:
                keep.append((c1, c2, r2, value))
        self.active = keep
        return row


# ---------------------------------------------------------------------------------------
# CSV

def _csv_rows(src: Source, encoding: str) -> Iterator[Row]:
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
                yield n, row, False
        except csv.Error as exc:
            raise FileError(f"CSV 格式错误（第 {reader.line_num} 行附近）：{exc}") from None


# ---------------------------------------------------------------------------------------
# XLSX

_XLSX_DAMAGED = "XLSX 文件已损坏或不完整，读取中断（请在 Excel 中重新保存或重新导出）"


def _xlsx_layout(wb, ws) -> tuple[list[tuple[int, int, int, int]], set[int]]:
    """Merged ranges and hidden rows of a read-only worksheet, from its XML (streamed)."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import range_boundaries

    merges: list[tuple[int, int, int, int]] = []
    hidden: set[int] = set()
    path = getattr(ws, "_worksheet_path", None)
    archive = getattr(wb, "_archive", None)
    if not path or archive is None:
        return merges, hidden
    with archive.open(path) as fh:
        for event, elem in iterparse(fh, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "row" and elem.get("hidden") in ("1", "true"):
                    r = elem.get("r")
                    if r and r.isdigit():
                        hidden.add(int(r))
                elif tag == "mergeCell" and elem.get("ref"):
                    try:
                        merges.append(range_boundaries(elem.get("ref")))
                    except (ValueError, TypeError):
                        pass
            elif tag in ("row", "c"):
                elem.clear()
    return merges, hidden


def _open_xlsx(src: Source, sheet: str | None) -> OpenedFile:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(src.binary(), read_only=True, data_only=False)
    except Exception:  # BadZipFile, KeyError, InvalidFileException, XML errors, …
        raise FileError("XLSX 文件已损坏或不完整，无法打开（请在 Excel 中重新保存或重新导出）") from None
    try:
        sheets = []
        for ws in wb.worksheets:
            has_data = False
            try:
                for row in ws.iter_rows(max_row=SHEET_PROBE_ROWS, values_only=True):
                    if any(not P.is_blank(c) for c in row):
                        has_data = True
                        break
            except Exception:  # noqa: BLE001 - a damaged sheet: reported when it is read
                has_data = True
            sheets.append(SheetInfo(ws.title, getattr(ws, "sheet_state", "visible") != "visible",
                                    has_data))
        if not sheets:
            raise FileError("XLSX 文件中没有工作表")
        chosen = _choose(sheets, sheet)
        chosen.chosen = True
        ws = wb[chosen.name]
        try:
            merges, hidden = _xlsx_layout(wb, ws)
        except Exception:  # noqa: BLE001 - XML errors of a damaged file
            wb.close()
            raise FileError(_XLSX_DAMAGED) from None
    except FileError:
        wb.close()
        raise
    except Exception:  # noqa: BLE001
        wb.close()
        raise FileError(_XLSX_DAMAGED) from None

    def rows() -> Iterator[Row]:
        fill = _Merges(merges)
        try:
            try:
                for n, row in enumerate(ws.iter_rows(values_only=True), 1):
                    yield n, fill.fill(n, list(row)), n in hidden
            except GeneratorExit:
                raise
            except Exception:  # noqa: BLE001 - zip/XML errors mid-file
                raise FileError(_XLSX_DAMAGED) from None
        finally:
            wb.close()

    return OpenedFile("xlsx", None, rows(), sheets, chosen.name, _sheet_notes(sheets, chosen),
                      wb.close)


# ---------------------------------------------------------------------------------------
# XLS (Excel 97-2003)

def _xls_cell(cell, datemode):
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except Exception:  # noqa: BLE001
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return "#错误"
    return cell.value


def _open_xls(src: Source, sheet: str | None) -> OpenedFile:
    import xlrd

    data = src.all_bytes()
    try:
        try:
            book = xlrd.open_workbook(file_contents=data, formatting_info=True)
        except NotImplementedError:
            book = xlrd.open_workbook(file_contents=data)
    except Exception:  # noqa: BLE001
        raise FileError("XLS 文件已损坏或不是 Excel 97-2003 工作簿，无法打开") from None
    sheets = []
    for ws in book.sheets():
        has_data = any(not P.is_blank(_xls_cell(c, book.datemode))
                       for r in range(min(ws.nrows, SHEET_PROBE_ROWS)) for c in ws.row(r))
        sheets.append(SheetInfo(ws.name, getattr(ws, "visibility", 0) != 0, has_data))
    if not sheets:
        raise FileError("XLS 文件中没有工作表")
    chosen = _choose(sheets, sheet)
    chosen.chosen = True
    ws = book.sheet_by_name(chosen.name)
    merges = [(clo + 1, rlo + 1, chi, rhi) for rlo, rhi, clo, chi in getattr(ws, "merged_cells", [])]
    info = getattr(ws, "rowinfo_map", {}) or {}
    hidden = {r + 1 for r, ri in info.items() if getattr(ri, "hidden", 0)}

    def rows() -> Iterator[Row]:
        fill = _Merges(merges)
        try:
            for r in range(ws.nrows):
                yield r + 1, fill.fill(r + 1, [_xls_cell(c, book.datemode) for c in ws.row(r)]), \
                    (r + 1) in hidden
        finally:
            book.release_resources()

    return OpenedFile("xls", None, rows(), sheets, chosen.name, _sheet_notes(sheets, chosen),
                      book.release_resources)


def open_table(src: Source, sheet: str | None = None) -> OpenedFile:
    """The file's rows (see the module docstring); FileError for an unreadable file."""
    fmt = src.format()
    if src.size() == 0:
        raise FileError("文件为空（0 字节），没有可导入的数据")
    if fmt == "xlsx":
        return _open_xlsx(src, sheet)
    if fmt == "xls":
        return _open_xls(src, sheet)
    try:
        enc = P.detect_encoding(src.chunks)
    except ValueError as exc:
        raise FileError(str(exc)) from None
    return OpenedFile("csv", enc, _csv_rows(src, enc))


def list_sheets(path_or_bytes, file_name: str | None = None) -> list[SheetInfo]:
    """The sheets of a workbook (empty for a CSV), the default one marked ``chosen``."""
    opened = open_table(Source(path_or_bytes, file_name))
    opened.close()
    return opened.sheets

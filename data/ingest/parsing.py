"""Parsing cell values from exports: encodings, dates, months, booleans, numbers.

Every parser takes a raw cell (a str from CSV; str, int, float, bool, datetime from Excel)
and returns the typed value or raises ``ValueError`` with a Chinese reason.
"""
from __future__ import annotations

import codecs
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

# ---------------------------------------------------------------------------------------
# Encodings

SAMPLE_BYTES = 1 << 20


def _decodes(read_chunks, encoding: str) -> bool:
    dec = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in read_chunks():
            dec.decode(chunk, final=False)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(read_chunks) -> str:
    """The text encoding of a CSV, never asked of the user.

    ``read_chunks()`` returns a fresh iterator over the file's bytes. Order: a BOM decides;
    otherwise the whole file must decode as UTF-8, else as GBK, else as GB18030 (a strict
    superset); failing all three, charset-normalizer's best guess on the first megabyte.
    Returns a Python codec name: 'utf-8-sig', 'utf-8', 'gbk', 'gb18030', 'utf-16', ...
    """
    head = b""
    for chunk in read_chunks():
        head = chunk[:4]
        break
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gbk", "gb18030"):
        if _decodes(read_chunks, enc):
            return enc
    from charset_normalizer import from_bytes

    sample = b""
    for chunk in read_chunks():
        sample += chunk
        if len(sample) >= SAMPLE_BYTES:
            break
    best = from_bytes(sample[:SAMPLE_BYTES]).best()
    if best is None:
        raise ValueError("无法识别文件编码（不是 UTF-8、GBK 或 GB18030 文本），请确认上传的是 CSV 文本文件")
    return best.encoding


ENCODING_LABEL = {"utf-8-sig": "UTF-8（带BOM）", "utf-8": "UTF-8", "gbk": "GBK",
                  "gb18030": "GB18030", "utf-16": "UTF-16"}


def encoding_label(enc: str | None) -> str:
    return ENCODING_LABEL.get(enc or "", enc or "")


# ---------------------------------------------------------------------------------------
# Dates

EXCEL_EPOCH = datetime(1899, 12, 30)
MIN_YEAR, MAX_YEAR = 1900, 2100
_SERIAL_MAX = 73051  # 2099-12-31

_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]+(\d{1,2})\s*[:时]\s*(\d{1,2})\s*(?:[:分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?$"
)
_MDY = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?\s*(AM|PM|am|pm|上午|下午)?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s*(\d{2}):?(\d{2})(?::?(\d{2}))?)?$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _mk(y, mo, d, h=None, mi=None, s=None) -> datetime:
    try:
        value = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        raise ValueError("不是有效的日期（月、日或时间超出范围）") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"日期年份超出 {MIN_YEAR}–{MAX_YEAR} 的范围")
    return value


def excel_serial(x: float) -> datetime:
    if not 1 <= x <= _SERIAL_MAX:
        raise ValueError("数字不在 Excel 日期序列号的范围内")
    value = EXCEL_EPOCH + timedelta(days=float(x))
    return value.replace(microsecond=0) + (timedelta(seconds=1) if value.microsecond >= 500000 else timedelta())


def parse_datetime(raw, formats: list[str] | tuple[str, ...] = ()) -> datetime:
    """A naive datetime with whole seconds from any of the formats of DATA.md.

    YYYY-MM-DD[ HH:MM[:SS]], YYYY/MM/DD …, YYYY年M月D日 …, YYYYMMDD, MM/DD/YYYY hh:mm:ss AM/PM,
    Excel date cells and Excel serial numbers; ``formats`` (strptime, from a mapping file)
    are tried first.
    """
    if isinstance(raw, datetime):
        value = raw.replace(tzinfo=None)
        if value.microsecond:
            value = value.replace(microsecond=0) + (timedelta(seconds=1) if raw.microsecond >= 500000 else timedelta())
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(f"日期年份超出 {MIN_YEAR}–{MAX_YEAR} 的范围")
        return value
    if isinstance(raw, date):
        return _mk(raw.year, raw.month, raw.day)
    if isinstance(raw, bool):
        raise ValueError("不是日期")
    if isinstance(raw, (int, float)):
        return excel_serial(raw)
    s = str(raw).strip()
    for fmt in formats:
        try:
            return parse_datetime(datetime.strptime(s, fmt))
        except ValueError:
            continue
    m = _YMD.match(s)
    if m:
        return _mk(*m.groups()[:6])
    m = _MDY.match(s)
    if m:
        mo, d, y, h, mi, sec, ampm = m.groups()
        if ampm:
            h = int(h)
            if not 1 <= h <= 12:
                raise ValueError("12 小时制的小时应为 1–12")
            pm = ampm.upper() == "PM" or ampm == "下午"
            h = (h % 12) + (12 if pm else 0)
        return _mk(y, mo, d, h, mi, sec)
    m = _COMPACT.match(s)
    if m:
        return _mk(*m.groups())
    if _NUMBER.match(s):
        return excel_serial(float(s))
    raise ValueError("无法识别的日期格式（可用：2024-03-05 14:30:00、2024/3/5、03/05/2024 02:30:00 PM、Excel 日期）")


END_OF_DAY = time(23, 59, 59)


def parse_deadline(raw, formats: list[str] | tuple[str, ...] = ()) -> datetime:
    """A deadline (办理时限): a date alone means the end of that day, 23:59:59 (DATA.md).

    "A date alone" is a text or format without a time, a date cell, a whole Excel serial
    number — and a time of exactly 00:00:00, which is how a date-only field comes out of a
    database export or an Excel date cell (a deadline at the first second of a day is never
    meant: it would make every case closed that day overdue).
    """
    value = parse_datetime(raw, formats)
    return datetime.combine(value.date(), END_OF_DAY) if value.time() == time() else value


def parse_date(raw, formats=()) -> date:
    return parse_datetime(raw, formats).date()


_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_MONTH_COMPACT = re.compile(r"^(\d{4})(\d{2})$")


def parse_month(raw, formats=()) -> str:
    """'YYYY-MM' from 'YYYY-MM', 'YYYY/M', 'YYYY年M月', 'YYYYMM' or any date (its month)."""
    if isinstance(raw, (datetime, date)):
        d = parse_datetime(raw)
        return f"{d.year:04d}-{d.month:02d}"
    s = str(raw).strip()
    for fmt in formats:
        try:
            d = datetime.strptime(s, fmt)
            return f"{d.year:04d}-{d.month:02d}"
        except ValueError:
            continue
    m = _MONTH.match(s) or _MONTH_COMPACT.match(s)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise ValueError("月份应为 1–12")
        if not MIN_YEAR <= y <= MAX_YEAR:
            raise ValueError(f"年份超出 {MIN_YEAR}–{MAX_YEAR} 的范围")
        return f"{y:04d}-{mo:02d}"
    try:
        d = parse_datetime(raw, formats)
    except ValueError:
        raise ValueError("无法识别的年月格式（应为 2024-03 或日期）") from None
    return f"{d.year:04d}-{d.month:02d}"


# ---------------------------------------------------------------------------------------
# Booleans and numbers

TRUE_WORDS = {"是", "y", "yes", "true", "1", "t", "有效", "√"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "f", "无效", "×"}


def parse_bool(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    s = str(raw).strip().lower()
    if s in ("1.0",):
        return True
    if s in ("0.0",):
        return False
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueError("不是有效的是/否值（可用：是/否、Y/N、true/false、1/0）")


def _clean_number(raw) -> str:
    s = str(raw).strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    if s.endswith("元"):
        s = s[:-1].strip()
    return s


def parse_int(raw, minimum: int | None = 0) -> int:
    if isinstance(raw, bool):
        raise ValueError("不是整数")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError("不是整数")
        value = int(raw)
    else:
        s = _clean_number(raw)
        if s.endswith("人") or s.endswith("户"):
            s = s[:-1].strip()
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValueError("不是整数") from None
        if not d.is_finite() or d != d.to_integral_value():
            raise ValueError("不是整数")
        value = int(d)
    if minimum is not None and value < minimum:
        raise ValueError(f"不能小于 {minimum}")
    if abs(value) > 2_000_000_000:
        raise ValueError("数值过大")
    return value


def parse_year(raw) -> int:
    if isinstance(raw, (datetime, date)):
        return raw.year
    s = str(raw).strip().removesuffix("年")
    value = parse_int(s if not isinstance(raw, (int, float)) else raw)
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise ValueError(f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    return value


CENT = Decimal("0.01")


def parse_money(raw) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError("不是金额")
    try:
        d = Decimal(str(raw)) if isinstance(raw, (int, float)) else Decimal(_clean_number(raw))
    except InvalidOperation:
        raise ValueError("不是有效的金额") from None
    if not d.is_finite():
        raise ValueError("不是有效的金额")
    d = d.quantize(CENT)
    if abs(d) >= Decimal("1e10"):
        raise ValueError("金额过大")
    return d


def parse_float(raw) -> float:
    if isinstance(raw, bool):
        raise ValueError("不是数字")
    try:
        value = float(raw) if isinstance(raw, (int, float)) else float(_clean_number(raw))
    except ValueError:
        raise ValueError("不是数字") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("不是数字")
    return value


def cell_text(raw) -> str:
    """A cell as text: Excel numbers that are whole become '1001', not '1001.0'."""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.strftime("%Y-%m-%d %H:%M:%S") if raw.time() != time() else raw.strftime("%Y-%m-%d")
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw).strip()


def is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())

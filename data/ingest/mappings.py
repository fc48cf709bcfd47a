"""Column mappings: mapping files, shipped presets, mappings saved in the store.

A mapping says what a foreign export's headers mean. As a YAML file (or dict, or text)::

    columns:                 # source header -> field: canonical name or Chinese label
      工单号: case_id
      来电时间: 受理时间
      承办单位: 忽略          # ignore / 忽略: listed as ignored, not imported
    constants:               # values for fields the file lacks (and for its blank cells)
      来源渠道: 12345热线
    date_formats: ["%d.%m.%Y %H:%M"]   # optional strptime formats, tried first
    values:                  # optional recoding of cell values, per field
      满意度: {五星: 满意}
    sheet: 工单              # optional worksheet (XLSX/XLS)

A field is named by its canonical name (``reported_at``) or its Chinese label of DATA.md
(``受理时间``), for columns, constants and values alike; ``身份证号`` / ``id_number`` and
``电话`` / ``phone`` name the personal-data columns. Shipped presets live in
``data/ingest/presets/*.yaml`` (the same format plus ``name``, ``table``, ``description``);
an office's own mappings are saved in the store's ``import_mappings`` table under a name,
with the headers of the file they were made for.

``find_mapping(engine, table, headers)`` picks the saved mapping or preset for a file:
one whose saved headers are exactly the file's (saved before preset), else the one that
knows the largest share of the file's headers, if that share is at least
``MATCH_THRESHOLD``, and only if with it every required field is found.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from data.ingest import parsing as P
from data.ingest.columns import (
    ID_NUMBER, IGNORE, PHONE, TABLES, classify_header, normalise_header, target_of,
)
from data.ingest.reading import FileError
from data.ingest.synonyms import norm_value

PRESET_DIR = Path(__file__).resolve().parent / "presets"
MATCH_THRESHOLD = 0.6
KEYS = ("columns", "constants", "date_formats", "values", "sheet", "table", "name", "description")


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)        # normalised header -> target
    constants: dict[str, Any] = field(default_factory=dict)      # canonical -> raw value
    date_formats: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # canonical -> {norm value: value}
    sheet: str | None = None
    # where it came from
    name: str | None = None
    source: str | None = None           # 'saved', 'preset', 'file', 'given'
    description: str | None = None
    table: str | None = None
    headers: list[str] = field(default_factory=list)    # saved: the headers it was made for
    raw: dict = field(default_factory=dict)              # as written (YAML-able)
    key: str | None = None                               # preset: its file's stem
    created_at: datetime | None = None                   # saved: when

    def to_dict(self) -> dict:
        """The mapping as written (headers as in the file), for YAML or editing."""
        return json.loads(json.dumps(self.raw, ensure_ascii=False, default=str))

    def to_yaml(self) -> str:
        return mapping_yaml(self.to_dict())

    @property
    def known_headers(self) -> set[str]:
        """Normalised headers this mapping knows (its columns, and saved headers)."""
        return set(self.columns) | {normalise_header(h) for h in self.headers}

    @property
    def label(self) -> str:
        """Chinese words for the user: 预设「…」, 已保存的映射「…」, 映射文件「…」."""
        kind = {"saved": "已保存的映射", "preset": "预设", "file": "映射文件"}.get(self.source or "", "映射")
        return f"{kind}「{self.name}」" if self.name else kind


def mapping_yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _field(table: str, name: object, what: str) -> str:
    target = target_of(table, name)
    spec = TABLES[table]
    if target is None or target in (IGNORE, ID_NUMBER, PHONE):
        raise FileError(f"映射文件的{what}「{name}」不是表 {table}（{spec.zh}）的列；可用："
                        + "、".join(f"{c}（{col.zh}）" for c, col in spec.columns.items()))
    return target


def load_mapping(mapping, table: str) -> Mapping:
    """A Mapping from a Mapping, dict, YAML text/bytes, a path, or None; FileError if
    malformed. Fields may be named in English (canonical) or Chinese (DATA.md labels)."""
    if mapping is None:
        return Mapping(table=table)
    if isinstance(mapping, Mapping):
        return mapping
    source, name = "given", None
    try:
        if isinstance(mapping, (bytes, bytearray)):
            data = yaml.safe_load(bytes(mapping).decode("utf-8-sig"))
        elif isinstance(mapping, Path) or (isinstance(mapping, str) and "\n" not in mapping
                                           and Path(mapping).suffix.lower() in (".yaml", ".yml")):
            data = yaml.safe_load(Path(mapping).read_text(encoding="utf-8-sig"))
            source, name = "file", Path(mapping).name
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
    unknown = set(data) - set(KEYS)
    if unknown:
        raise FileError(f"映射文件中有无法识别的键：{'、'.join(sorted(map(str, unknown)))}"
                        "（可用：columns、constants、date_formats、values、sheet）")
    if data.get("table") not in (None, table):
        raise FileError(f"映射「{data.get('name') or name or ''}」是表 {data['table']} 的，不能用于表 {table}")
    spec = TABLES[table]
    cols = data.get("columns") or {}
    consts = data.get("constants") or {}
    values = data.get("values") or {}
    fmts = data.get("date_formats") or []
    if not isinstance(cols, dict) or not isinstance(consts, dict) or not isinstance(values, dict):
        raise FileError("映射文件格式错误：columns、constants、values 应为“键: 值”的形式")
    if isinstance(fmts, str):
        fmts = [fmts]
    out = Mapping(sheet=data.get("sheet"), date_formats=[str(f) for f in fmts],
                  name=data.get("name") or name, source=source, table=table,
                  description=data.get("description"), raw=dict(data))
    for src, dst in cols.items():
        target = target_of(table, dst)
        if target is None:
            raise FileError(f"映射文件把「{src}」映射到「{dst}」，但表 {table}（{spec.zh}）没有这一列；"
                            f"可用列：{'、'.join(spec.columns)}（或其中文表头）")
        out.columns[normalise_header(src)] = target
    for col, value in consts.items():
        out.constants[_field(table, col, "常量")] = value
    for col, recode in values.items():
        target = _field(table, col, " values 中")
        if not isinstance(recode, dict):
            raise FileError(f"映射文件 values 中「{col}」应为本表的列，且其下为“原值: 新值”")
        out.values[target] = {norm_value(P.cell_text(k)): v for k, v in recode.items()}
    return out


# ---------------------------------------------------------------------------------------
# Presets

def presets(table: str | None = None) -> list[Mapping]:
    """The shipped presets (data/ingest/presets/*.yaml), for TABLE or all."""
    out = []
    for path in sorted(PRESET_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        t = data.get("table")
        if t not in TABLES or (table and t != table):
            continue
        m = load_mapping(data, t)
        m.source, m.name, m.key = "preset", data.get("name") or path.stem, path.stem
        m.headers = list(data.get("columns") or {})
        m.raw.setdefault("name", m.name)
        out.append(m)
    return out


# ---------------------------------------------------------------------------------------
# Saved mappings (the store's import_mappings table)

def _has_table(engine) -> bool:
    from sqlalchemy import inspect

    try:
        return inspect(engine).has_table("import_mappings")
    except Exception:  # noqa: BLE001 - no store yet, or unreachable: no saved mappings
        return False


def save_mapping(engine, name: str, table: str, headers: list, mapping) -> Mapping:
    """Save MAPPING under NAME for files with HEADERS (replacing a saved one of that name).

    MAPPING is anything ``load_mapping`` takes (dict, YAML text, Mapping, path); it is
    checked and stored as YAML. FileError for an empty name, a preset's name, a bad mapping.
    """
    from sqlalchemy import delete, insert

    from data.store import clock
    from data.store.schema import import_mappings

    name = (name or "").strip()
    if not name:
        raise FileError("请填写映射名称")
    if len(name) > 200:
        raise FileError("映射名称过长（最多 200 个字符）")
    if table not in TABLES:
        raise FileError(f"未知的表「{table}」")
    if any(p.name == name for p in presets()):
        raise FileError(f"「{name}」是内置预设的名称，请换一个名称")
    m = load_mapping(mapping, table)
    data = {k: v for k, v in m.to_dict().items() if k not in ("name", "description", "table")}
    data = {"table": table, **data}
    load_mapping(data, table)  # what is stored loads again
    heads = [P.cell_text(h) for h in headers if not P.is_blank(h)]
    with engine.begin() as conn:
        conn.execute(delete(import_mappings).where(import_mappings.c.name == name))
        conn.execute(insert(import_mappings).values(
            name=name, table_name=table, headers=json.dumps(heads, ensure_ascii=False),
            mapping=mapping_yaml(data), created_at=clock.now()))
    return get_mapping(engine, name, table)


def _saved(engine, table: str | None = None, name: str | None = None) -> list[Mapping]:
    from sqlalchemy import select

    from data.store.schema import import_mappings as t

    if engine is None or not _has_table(engine):
        return []
    stmt = select(t).order_by(t.c.created_at.desc(), t.c.name)
    if table:
        stmt = stmt.where(t.c.table_name == table)
    if name:
        stmt = stmt.where(t.c.name == name)
    out = []
    with engine.connect() as conn:
        for rec in conn.execute(stmt).mappings():
            if rec["table_name"] not in TABLES:
                continue
            try:
                m = load_mapping(yaml.safe_load(rec["mapping"]) or {}, rec["table_name"])
            except FileError:
                continue  # a mapping saved by a newer release: not offered
            m.name, m.source, m.table = rec["name"], "saved", rec["table_name"]
            m.headers = list(json.loads(rec["headers"] or "[]"))
            m.created_at = rec["created_at"]
            out.append(m)
    return out


def list_mappings(engine, table: str | None = None) -> list[Mapping]:
    """Saved mappings (newest first), then the presets; each with ``name``, ``source``
    ('saved' | 'preset'), ``table``, ``headers``, ``description``."""
    return _saved(engine, table) + presets(table)


def get_mapping(engine, name: str, table: str) -> Mapping:
    """The saved mapping or preset called NAME for TABLE (saved first); FileError if none."""
    found = _saved(engine, table, name)
    if found:
        return found[0]
    for p in presets(table):
        if name in (p.name, p.key):
            return p
    names = [m.name for m in list_mappings(engine, table)]
    raise FileError(f"没有名为「{name}」的映射（表 {table} 可用：{'、'.join(names) or '无'}）")


def delete_mapping(engine, name: str) -> bool:
    """Delete the saved mapping NAME; False when there was none."""
    from sqlalchemy import delete

    from data.store.schema import import_mappings

    if not _has_table(engine):
        return False
    with engine.begin() as conn:
        return conn.execute(delete(import_mappings).where(import_mappings.c.name == name)).rowcount > 0


class MappingMatch(NamedTuple):
    name: str
    mapping: Mapping
    source: str          # 'saved' | 'preset'
    coverage: float      # share of the file's headers the mapping knows (1.0 when exact)
    exact: bool          # the saved headers are exactly the file's


def _complete(table: str, headers: list[str], m: Mapping) -> bool:
    """With M, every required field of TABLE is found among HEADERS or its constants."""
    found = {classify_header(table, h, m.columns) for h in headers} | set(m.constants)
    return all(c in found for c in TABLES[table].required)


def find_mapping(engine, table: str, headers: list, threshold: float = MATCH_THRESHOLD
                 ) -> MappingMatch | None:
    """The saved mapping or preset for a file with HEADERS (see the module docstring)."""
    heads = [normalise_header(h) for h in headers if not P.is_blank(h)]
    if not heads:
        return None
    wanted = set(heads)
    best = None
    for rank, m in enumerate(list_mappings(engine, table)):
        saved = {normalise_header(h) for h in m.headers} if m.source == "saved" else None
        exact = bool(saved) and saved == wanted
        coverage = 1.0 if exact else sum(h in m.known_headers for h in heads) / len(heads)
        if not exact and coverage < threshold:
            continue
        if not _complete(table, list(headers), m):
            continue
        key = (exact, coverage, m.source == "saved", -rank)
        if best is None or key > best[0]:
            best = (key, MappingMatch(m.name, m, m.source, coverage, exact))
    return best[1] if best else None


def mapping_from_targets(table: str, targets: dict[str, str], base=None) -> dict:
    """A mapping dict from the browser's choices {file header: target} (target: canonical
    name, Chinese label, 'ignore'/'忽略', 'id_number', 'phone'), keeping BASE's constants,
    date formats, values and sheet. Checked: FileError for a target the table lacks."""
    base = load_mapping(base, table) if base is not None else Mapping(table=table)
    data = {k: v for k, v in base.to_dict().items() if k not in ("columns", "name", "description")}
    data["columns"] = {str(h): (IGNORE if target_of(table, t) == IGNORE else t)
                       for h, t in targets.items()}
    load_mapping(data, table)
    return data

"""An office's own installation: its name, whether the store was ever set up, and removing
the demo's rows.

    office_name(engine) -> "南城街道" until an office sets its own (``set_office_name``)
    screen_title(name)  -> "智慧南城": the big screen's title, derived from the name
    initialised(engine) -> True once anything was imported, generated, named or removed
    remove_demo(engine) -> rows removed per table (only rows with origin = 'demo')

The name lives in the ``office`` table (key ``name``) and is shown in the sidebar brand,
the browser tab and the big screen; it is validated here (2–30 characters, letters,
digits and a little punctuation, no markup), and pages still escape it (pages.ui.safe.md)
where it meets Markdown.

A store without the ``office`` table (made by a release before 0004_onboarding, not yet
upgraded) reads as the default name and writes nothing.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import Engine, Table, delete, func, inspect, select, update

from data.store import clock
from data.store.db import refresh_statistics
from data.store.schema import DATA_TABLES, import_log, metadata, office

DEFAULT_NAME = "南城街道"
NAME_KEY = "name"
DEMO_REMOVED_KEY = "demo_removed"   # when the demo was removed (the store stays "set up")
NAME_MIN, NAME_MAX = 2, 30
# Punctuation a sub-district's name may hold besides letters and digits: the middle dot of
# transliterated names, hyphens and full-width brackets (e.g. 城关镇（开发区）).
NAME_PUNCT = frozenset("·・-－—（）")
# The endings a sub-district's name carries; the big screen's 智慧… title drops them.
NAME_SUFFIXES = ("街道办事处", "街道办", "办事处", "街道", "镇", "乡")


class OfficeNameError(ValueError):
    """An unusable name; the message is one Chinese sentence saying why."""


def check_office_name(name: object) -> str:
    """The name as stored (surrounding spaces dropped), or OfficeNameError."""
    text = unicodedata.normalize("NFC", str(name or "")).strip()
    if not NAME_MIN <= len(text) <= NAME_MAX:
        raise OfficeNameError(f"街道名称应为 {NAME_MIN}–{NAME_MAX} 个字符（现为 {len(text)} 个）")
    bad = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" or ch in NAME_PUNCT or ch == " ":
            continue
        if ch not in bad:
            bad.append(ch)
    if bad:
        shown = " ".join("换行或控制字符" if unicodedata.category(c)[0] == "C"
                         else "空白" if c.isspace() else c for c in bad[:5])
        raise OfficeNameError(f"街道名称只能包含汉字、字母、数字和 ·-（），不能包含：{shown}")
    if "  " in text:
        raise OfficeNameError("街道名称中不能有连续的空格")
    return text


def _has_office(engine: Engine) -> bool:
    return inspect(engine).has_table(office.name)


def _get(conn, key: str) -> str | None:
    return conn.execute(select(office.c.value).where(office.c.key == key)).scalar_one_or_none()


def _put(conn, key: str, value: str) -> None:
    if conn.execute(update(office).where(office.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(office.insert().values(key=key, value=value))


def office_name(engine: Engine) -> str:
    """The office's name, or ``DEFAULT_NAME`` when none was set (or no office table yet).
    A stored value that no longer passes the check (edited by hand) reads as the default."""
    if not _has_office(engine):
        return DEFAULT_NAME
    with engine.connect() as conn:
        value = _get(conn, NAME_KEY)
    if value is None:
        return DEFAULT_NAME
    try:
        return check_office_name(value)
    except OfficeNameError:
        return DEFAULT_NAME


def set_office_name(engine: Engine, name: object) -> str:
    """Store the office's name (checked by ``check_office_name``); returns it as stored.
    The store must be at the newest schema (``data.store.migrate``)."""
    text = check_office_name(name)
    with engine.begin() as conn:
        _put(conn, NAME_KEY, text)
    return text


def screen_title(name: str) -> str:
    """The big screen's title for a name: 南城街道 -> 智慧南城, 东湖镇 -> 智慧东湖."""
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return "智慧" + name[:-len(suffix)]
    return "智慧" + name


def initialised(engine: Engine) -> bool:
    """True once the store was set up: something imported or generated (``import_log``),
    a name set or the demo removed (``office``). The app builds the first-start demo only
    for a store that is not; a store emptied by ``remove_demo`` stays empty."""
    names = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in (import_log, office):
            if table.name in names and conn.execute(
                    select(func.count()).select_from(table)).scalar_one():
                return True
    return False


def demo_tables() -> list[Table]:
    """Every table whose rows carry an ``origin``: the data tables in the schema's order
    (references first), then the rest (the community outlines)."""
    tables = list(DATA_TABLES.values()) + [t for t in metadata.sorted_tables
                                            if t.name not in DATA_TABLES]
    return [t for t in tables if "origin" in t.c]


@dataclass
class DemoRemoval:
    removed: dict[str, int] = field(default_factory=dict)   # table -> rows removed
    log_rows: int = 0                                      # the demo's import_log rows
    # "table.column" -> imported rows whose reference (a community, grid or cadre) went
    # with the demo (rows that referred to nothing before are not counted)
    dangling: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def count_demo(engine: Engine) -> dict[str, int]:
    """Rows marked as the demo's, per table (every table, zeros included)."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)
                                     .where(t.c.origin == "demo")).scalar_one()
                for t in demo_tables()}


def _dangling(conn) -> dict[str, int]:
    from data.ingest.columns import TABLES

    out: dict[str, int] = {}
    for name, spec in TABLES.items():
        table = DATA_TABLES[name]
        for col in spec.columns.values():
            if not col.reference or col.name not in table.c:
                continue
            ref = DATA_TABLES[col.reference[0]].c[col.reference[1]]
            c = table.c[col.name]
            n = conn.execute(select(func.count()).select_from(table).where(
                c.is_not(None), c != "", c.not_in(select(ref).scalar_subquery()))).scalar_one()
            if n:
                out[f"{name}.{col.name}"] = n
    return out


def remove_demo(engine: Engine) -> DemoRemoval:
    """Delete exactly the rows with origin = 'demo' in every table and the demo's
    ``import_log`` rows, in one transaction; imported rows (origin NULL) stay, including
    demo rows an import has since updated or confirmed (the importer clears their origin).
    The removal is noted in ``office`` (the store stays set up: the app does not rebuild the
    demo). Imported rows that referred to a removed community, grid or cadre are counted in
    ``dangling`` (import those tables to fix them)."""
    result = DemoRemoval()
    with engine.begin() as conn:
        before = _dangling(conn)
        for table in reversed(demo_tables()):   # children before their references
            n = conn.execute(delete(table).where(table.c.origin == "demo")).rowcount
            result.removed[table.name] = max(n or 0, 0)
        result.log_rows = max(conn.execute(
            delete(import_log).where(import_log.c.source == "demo")).rowcount or 0, 0)
        _put(conn, DEMO_REMOVED_KEY, clock.now().isoformat(sep=" "))
        after = _dangling(conn)
        result.dangling = {k: n - before.get(k, 0) for k, n in after.items()
                           if n > before.get(k, 0)}
    result.removed = {t.name: result.removed[t.name] for t in demo_tables()}
    for name, n in result.removed.items():
        if n:
            try:
                refresh_statistics(engine, name)
            except Exception:  # noqa: BLE001 - statistics only make queries faster
                pass
    return result

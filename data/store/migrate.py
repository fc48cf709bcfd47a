"""Store migrations: which schema version a store has, and bringing it to the head.

The revisions live in ``data/store/migrations/versions`` (hand-written, Alembic); this
module runs them programmatically: no alembic.ini, the Config points into the package
and the connection is handed to ``env.py`` in ``config.attributes``.

- ``upgrade(engine)`` brings any store to the head and is idempotent. A store made by the
  first release has its tables but no ``alembic_version``: it is recognised, stamped
  ``0001_first_release`` and upgraded. On SQLite and PostgreSQL the whole upgrade is one
  transaction (SQLite through an engine of its own that really opens one: the driver
  would otherwise commit around DDL); MariaDB/MySQL commit each DDL statement.
- ``create(engine)`` is ``db.create_schema``: a new store gets the head's tables and is
  stamped at the head (no replay of history); an existing one is upgraded.
- ``prepare_store(engine)`` is what the app runs before it uses the store: an out-of-date
  SQLite file is copied to ``<file>.bak-YYYYmmdd-HHMMSS`` next to it and upgraded; an
  out-of-date server database raises ``StoreOutdated`` naming ``python cli.py db upgrade``
  (the app does not change a shared server's schema on its own).

Reading the version (``current``, ``is_current``, ``state``) needs no Alembic import, so
the CLI and the app check it on every start for the price of two small queries.
"""
from __future__ import annotations

import shlex
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from data.store import clock

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST = "0001_first_release"
HEAD = "0008_users"
REVISIONS = (FIRST, "0002_long_text", "0003_boundaries", "0004_onboarding", "0005_appraisal",
             "0006_benefit_monthly", "0007_notices", HEAD)  # oldest first; the test checks this against versions/
VERSION_TABLE = "alembic_version"
COMMAND = "python cli.py db upgrade"

# Only one upgrade at a time in this process (Streamlit sessions start side by side).
_LOCK = threading.RLock()


class StoreNotReady(Exception):
    """The store cannot be used as it is; the message is one Chinese line for the user."""


class StoreOutdated(StoreNotReady):
    """The store's schema is older than the code's and must be upgraded first."""


class StoreTooNew(StoreNotReady):
    """The store was upgraded by a newer version of Zhili than this one."""


class UpgradeFailed(StoreNotReady):
    """An upgrade was attempted and failed."""


@dataclass(frozen=True)
class State:
    revision: str | None    # the row of alembic_version, None without one
    tables: frozenset[str]  # the store's tables of ``schema.metadata``

    @property
    def empty(self) -> bool:
        """No tables of ours yet: a new store (the demo or an import fills it)."""
        return not self.tables

    @property
    def first_release(self) -> bool:
        """Made by the first release: tables, but no version recorded."""
        return bool(self.tables) and self.revision is None

    @property
    def current(self) -> bool:
        return self.revision == HEAD

    def label(self) -> str:
        if self.first_release:
            return f"首版（未记录版本，即 {FIRST}）"
        return self.revision or "空库"


@dataclass(frozen=True)
class Upgraded:
    before: str | None   # None: a first-release store (no version recorded)
    after: str
    backup: Path | None  # the SQLite copy taken before the upgrade

    def message(self) -> str:
        was = self.before or f"首版（{FIRST}）"
        where = f"，原数据库已备份到 {self.backup}" if self.backup else ""
        return f"数据库结构已从 {was} 升级到 {self.after}{where}"


# ---------------------------------------------------------------------------------------
# Reading the version

def _state(bind: Engine | Connection) -> State:
    from data.store.schema import metadata

    names = set(inspect(bind).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        def read(conn):
            rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
            return rows[0] if len(rows) == 1 else (None if not rows else ",".join(sorted(rows)))

        if isinstance(bind, Engine):
            with bind.connect() as conn:
                revision = read(conn)
        else:
            revision = read(bind)
    return State(revision, frozenset(names & set(metadata.tables)))


def state(engine: Engine) -> State:
    return _state(engine)


def current(engine: Engine) -> str | None:
    """The store's revision, or None (a new store, or one made by the first release)."""
    return _state(engine).revision


def is_current(engine: Engine) -> bool:
    """True when the store is at the head revision."""
    return current(engine) == HEAD


def upgrade_command(engine: Engine) -> str:
    """The command line that upgrades this store (password hidden)."""
    url = engine.url.render_as_string(hide_password=True)
    return f"{COMMAND} --db {shlex.quote(url)}"


def outdated_message(engine: Engine, st: State | None = None) -> str:
    st = st or _state(engine)
    return (f"数据库结构版本为 {st.label()}，本程序需要 {HEAD}：请先运行 {upgrade_command(engine)} "
            "升级数据库（数据不会丢失，升级前建议备份）")


def _too_new_message(st: State) -> str:
    return (f"数据库结构版本 {st.revision} 不是本程序认识的版本（最新为 {HEAD}）："
            "数据库可能已被更新版本的智理升级，请更新本程序")


def require_current(engine: Engine) -> None:
    """Raise ``StoreOutdated``/``StoreTooNew`` unless the store is new or at the head."""
    st = _state(engine)
    if st.empty or st.current:
        return
    if st.revision is not None and st.revision not in REVISIONS:
        raise StoreTooNew(_too_new_message(st))
    raise StoreOutdated(outdated_message(engine, st))


# ---------------------------------------------------------------------------------------
# Running Alembic

def config(connection: Connection | None = None):
    """An Alembic Config for the package's migrations (no ini file)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite store (None for a server or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _transactional(engine: Engine) -> Engine:
    """For a SQLite file, an engine whose BEGIN really begins (DDL included), so the
    whole upgrade commits or rolls back as one; other engines as they are."""
    if sqlite_path(engine) is None:
        return engine
    eng = create_engine(engine.url, poolclass=NullPool)

    @event.listens_for(eng, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None   # the driver stops managing transactions
        dbapi_conn.execute("PRAGMA busy_timeout = 30000")

    @event.listens_for(eng, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")   # the write lock now, not halfway

    return eng


def stamp(engine: Engine, revision: str = HEAD) -> None:
    """Record ``revision`` as the store's version without running anything."""
    from alembic import command

    with engine.begin() as conn:
        command.stamp(config(conn), revision)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the store to ``revision`` (default the head); returns (before, after).

    Idempotent: a store at the head is left alone. A first-release store (tables, no
    version) is stamped ``0001_first_release`` first. Planner statistics are refreshed
    after a change (SQLite loses them when batch mode copies a table).
    """
    from alembic import command

    with _LOCK:
        eng = _transactional(engine)
        try:
            with eng.begin() as conn:
                st = _state(conn)
                if st.revision is not None and st.revision not in REVISIONS:
                    raise StoreTooNew(_too_new_message(st))
                cfg = config(conn)
                if st.first_release:
                    _check_first_release(st)
                    command.stamp(cfg, FIRST)
                command.upgrade(cfg, revision)
                after = _state(conn).revision
        finally:
            if eng is not engine:
                eng.dispose()
    if after != st.revision:
        _analyze(engine)
    return st.revision, after


# The tables of the first release (997f88f), which never changes: a store without a
# version record must have them all to be taken for one.
FIRST_RELEASE_TABLES = frozenset({
    "communities", "grids", "cadres", "cases", "petitions", "incidents", "attendance",
    "worklogs", "benefit_recipients", "benefit_payments", "relief_grants",
    "insurance_enrolment", "benefit_standards", "import_log"})


def _check_first_release(st: State) -> None:
    missing = sorted(FIRST_RELEASE_TABLES - st.tables)
    if missing:
        raise UpgradeFailed(
            f"数据库中只有部分数据表（缺少 {'、'.join(missing)}）且没有版本记录，无法判断其结构版本；"
            "请检查数据库，或换用新的空数据库")


def _analyze(engine: Engine) -> None:
    from data.store.db import refresh_statistics
    from data.store.schema import DATA_TABLES

    for name in DATA_TABLES:
        try:
            refresh_statistics(engine, name)
        except Exception:  # noqa: BLE001 - statistics only make queries faster
            pass


def create(engine: Engine) -> None:
    """``db.create_schema``: a new store gets the head's tables, stamped at the head; an
    existing store is upgraded (and any table missing from it created)."""
    from data.store.schema import metadata

    with _LOCK:
        st = _state(engine)
        if st.empty:
            metadata.create_all(engine)
            stamp(engine, HEAD)
            return
        if not st.current:
            upgrade(engine)
        metadata.create_all(engine)


def drop_version(engine: Engine) -> None:
    """Forget the version (``db.drop_schema`` drops the tables and this together)."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


# ---------------------------------------------------------------------------------------
# App start

def backup_sqlite(path: Path, now: datetime | None = None) -> Path:
    """A consistent copy of a SQLite store next to it: ``<name>.bak-YYYYmmdd-HHMMSS``
    (SQLite's online backup, so pages still in the WAL file are included). To restore it,
    stop the app and copy it over the store."""
    stamp_ = (now or clock.now()).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bak-{stamp_}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.bak-{stamp_}-{n}")
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")   # one self-contained file, no -wal
        finally:
            dst.close()
    finally:
        src.close()
    return target


def upgrade_store(engine: Engine) -> Upgraded | None:
    """Upgrade an out-of-date store, a SQLite file after a backup next to it; None when
    there was nothing to do (a new store is left to ``create_schema``). A failure is
    ``UpgradeFailed`` with one line saying what was kept."""
    with _LOCK:
        st = _state(engine)
        if st.empty or st.current:
            return None
        if st.revision is not None and st.revision not in REVISIONS:
            raise StoreTooNew(_too_new_message(st))
        path = sqlite_path(engine)
        backup = backup_sqlite(path) if path is not None else None
        try:
            before, after = upgrade(engine)
        except StoreNotReady:
            raise
        except Exception as exc:  # noqa: BLE001 - reported to the user in one line
            text_ = str(getattr(exc, "orig", None) or exc)
            first = text_.splitlines()[0][:200] if text_ else ""
            if engine.dialect.name in ("mysql", "mariadb"):
                kept = "；MariaDB/MySQL 的结构变更不能整体回滚，请修正问题后再次运行升级"
            else:
                kept = "，数据库未改动" + (f"（备份在 {backup}）" if backup else "")
            raise UpgradeFailed(f"数据库结构升级失败{kept}：{type(exc).__name__}: {first}") from exc
    return Upgraded(before, after, backup)


def prepare_store(engine: Engine) -> Upgraded | None:
    """Make the store usable by this code, before anything else touches it.

    A new (empty) store or one at the head: nothing to do (None). An out-of-date SQLite
    store: backed up next to itself, upgraded, and an ``Upgraded`` returned (the app
    shows its message). An out-of-date server database: ``StoreOutdated`` naming the
    command (the app does not change a shared server's schema on its own). A store newer
    than this code: ``StoreTooNew``. A failed upgrade: ``UpgradeFailed`` (the SQLite store
    is as before, and the backup is named).
    """
    st = _state(engine)
    if st.empty or st.current:
        return None
    if st.revision is not None and st.revision not in REVISIONS:
        raise StoreTooNew(_too_new_message(st))
    if engine.dialect.name != "sqlite":
        raise StoreOutdated(outdated_message(engine, st))
    return upgrade_store(engine)

"""Where the store is and how to connect to it: one configuration path for app, CLI and tests.

The database URL is chosen by, in order: an explicit URL (``--db``), the environment
variable ``ZHILI_DB_URL``, ``.streamlit/secrets.toml`` ``[connections.sql] url``, and the
embedded default ``sqlite:///data/zhili.db`` (relative to the project folder).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.engine import make_url

from data.store.schema import import_log, metadata

ROOT = Path(__file__).resolve().parents[2]
SECRETS_FILE = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_URL = f"sqlite:///{ROOT / 'data' / 'zhili.db'}"
ENV_VAR = "ZHILI_DB_URL"


def resolve_url(explicit: str | None = None) -> str:
    """The database URL by precedence: explicit > environment > secrets file > default."""
    if explicit:
        return explicit
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    if SECRETS_FILE.exists():
        with SECRETS_FILE.open("rb") as fh:
            url = tomllib.load(fh).get("connections", {}).get("sql", {}).get("url")
        if url:
            return url
    return DEFAULT_URL


def _normalise(url: str) -> str:
    """Pick the drivers we ship and make MySQL speak utf8mb4."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    elif u.drivername in ("mysql", "mariadb"):
        u = u.set(drivername="mysql+pymysql")
    if u.get_backend_name() in ("mysql", "mariadb") and "charset" not in u.query:
        u = u.update_query_dict({"charset": "utf8mb4"})
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.close()


class StoreMissing(Exception):
    """A SQLite store that does not exist, opened by a command that only reads it; the
    message is one Chinese line naming the file, or the folder when that is missing too."""


def sqlite_file(url: str | None = None) -> Path | None:
    """The file a SQLite URL names (None for a server, an in-memory or a ``file:`` URI
    database). Relative paths are relative to the working directory, as for SQLite."""
    u = make_url(resolve_url(url))
    if u.get_backend_name() != "sqlite":
        return None
    database = u.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def require_existing(url: str | None = None) -> None:
    """Raise ``StoreMissing`` when the URL names a SQLite file that does not exist.

    Readers (``kpi``, ``db current``) call this before ``get_engine``: ``get_engine``
    creates the file's folder and SQLite creates the file on the first connection, so a
    mistyped path would otherwise leave an empty store behind. Only the commands that
    build a store (``demo``, ``import``, ``db upgrade``) may create one."""
    path = sqlite_file(url)
    if path is None:
        return
    try:
        if path.exists():
            return
        folder = path.parent
        folder_missing = not folder.is_dir()
    except (OSError, ValueError) as exc:  # a name the file system cannot hold
        raise StoreMissing(f"数据库路径无效：{path}（{exc}）") from None
    if folder_missing:
        raise StoreMissing(f"目录不存在：{folder}（数据库 {path} 无法打开；请检查 --db 或 "
                           f"{ENV_VAR}）")
    raise StoreMissing(f"数据库文件不存在：{path}（请先运行 python cli.py demo 或 "
                       f"python cli.py import 导入数据，或用 --db 指定已有的数据库）")


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """An engine for the resolved URL (one per URL per process). For a SQLite file the
    folder is created and the file is created on the first connection: a reader that must
    not create a store checks ``require_existing`` first."""
    url = _normalise(resolve_url(url))
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """The head's schema: a new store gets its tables and is stamped at the head revision;
    an existing store is upgraded to it (``data.store.migrate``)."""
    from data.store import migrate

    migrate.create(engine)


def drop_schema(engine: Engine) -> None:
    """Drop every table of the store, its migration version included."""
    from data.store import migrate

    metadata.drop_all(engine)
    migrate.drop_version(engine)


def refresh_statistics(engine: Engine, table: str) -> None:
    """Let the planner see the table's new contents (after an import or the demo). On
    SQLite this is what lets ``SELECT DISTINCT`` of an indexed column skip through the
    index in microseconds instead of reading it whole (metrics.case_sql's dictionaries)."""
    name = engine.dialect.identifier_preparer.quote(metadata.tables[table].name)
    statement = f"ANALYZE TABLE {name}" if engine.dialect.name in ("mysql", "mariadb") \
        else f"ANALYZE {name}"
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)


def has_data(engine: Engine) -> bool:
    """True when the schema exists and at least one import or demo run is logged."""
    if not inspect(engine).has_table("import_log"):
        return False
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(import_log)).scalar_one() > 0


def tables_as_of(engine: Engine) -> dict[str, datetime]:
    """Each table's data time, as 数据截至 is the store's (``store_version``): its latest
    import's export time, or import time where none was given."""
    if not inspect(engine).has_table("import_log"):
        return {}
    latest = (select(import_log.c.table_name, func.max(import_log.c.id).label("id"))
              .group_by(import_log.c.table_name).subquery())
    stamp = func.coalesce(import_log.c.exported_at, import_log.c.imported_at)
    with engine.connect() as conn:
        rows = conn.execute(select(import_log.c.table_name, stamp)
                            .join(latest, import_log.c.id == latest.c.id)).all()
    return {name: datetime.fromisoformat(v) if isinstance(v, str) else v
            for name, v in rows if v is not None}


@dataclass(frozen=True)
class StoreVersion:
    """What the store's figures depend on, read in two small queries: 数据截至 and the
    import log's length and newest row. Any import, demo run or demo removal changes it,
    so caches keyed on it (pages/ui/common.py) show new data at once on every page."""

    as_of: datetime | None
    imports: int = 0
    last_id: int | None = None

    @property
    def key(self) -> tuple:
        return (self.imports, self.last_id, self.as_of.isoformat() if self.as_of else None)


def store_version(engine: Engine) -> StoreVersion:
    """The store's version (see StoreVersion); an empty or missing log gives as_of None.

    数据截至 is the latest logged import's export time (``import --exported-at``, the
    page's 数据导出时间), or its import time when none was given; a demo run logs its
    cutoff. So the latest import decides, also when it brings an export older than the
    data before it (KPI.md: the store knows the source system as of that export)."""
    if not inspect(engine).has_table("import_log"):
        return StoreVersion(None)
    stamp = func.coalesce(import_log.c.exported_at, import_log.c.imported_at)
    with engine.connect() as conn:
        imports, last_id = conn.execute(
            select(func.count(), func.max(import_log.c.id))).one()
        value = None
        if last_id is not None:
            value = conn.execute(select(stamp).where(import_log.c.id == last_id)).scalar()
    if isinstance(value, str):  # SQLite may return text from a coalesce
        value = datetime.fromisoformat(value)
    return StoreVersion(value, int(imports or 0), last_id)


def data_as_of(engine: Engine) -> datetime | None:
    """The store's 数据截至 (``store_version``): the latest import's export time, or its
    import time where none was given; None for an empty store."""
    return store_version(engine).as_of

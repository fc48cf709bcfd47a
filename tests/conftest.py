"""Shared fixtures: an empty store on each of the three databases Zhili must agree on.

``engine`` is parametrised over SQLite, PostgreSQL and MariaDB. Each test session gets its
own throw-away database on the servers (``zhili_t_<pid>``), so parallel runs never meet.
A server that cannot be reached is skipped with its reason on a developer's machine, and
is a failure in CI (``CI=true``) or with ``ZHILI_REQUIRE_ALL_DBS=1``: CI must not skip a
database it is meant to cover.
"""
from __future__ import annotations

import os

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


from data.store.db import create_schema, drop_schema, get_engine  # noqa: E402

SERVER_URLS = {
    "postgresql": os.environ.get("ZHILI_TEST_PG_URL",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("ZHILI_TEST_MYSQL_URL",
                              "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"),
}
DATABASES = ("sqlite", "postgresql", "mariadb")


def _require_all() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get(
        "ZHILI_REQUIRE_ALL_DBS") == "1"


def _unavailable(name: str, reason: str):
    message = f"{name} not reachable: {reason}"
    if _require_all():
        pytest.fail(message + " (CI requires every database)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def server_urls():
    """Per-session databases on each server: {name: url or Exception}."""
    made, urls = [], {}
    dbname = f"zhili_t_{os.getpid()}"
    for name, admin_url in SERVER_URLS.items():
        try:
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {dbname}"))
                conn.execute(text(f"CREATE DATABASE {dbname}"))
            made.append((admin, dbname))
            urls[name] = make_url(admin_url).set(database=dbname).render_as_string(
                hide_password=False)
        except Exception as exc:  # noqa: BLE001 - reported per test by the engine fixture
            urls[name] = exc
    yield urls
    for admin, db in made:
        for eng in list(_ENGINES.values()):
            eng.dispose()
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": db})
            conn.execute(text(f"DROP DATABASE IF EXISTS {db}"))
        admin.dispose()


_ENGINES: dict[str, object] = {}


def make_store(name: str, server_urls, tmp_path: Path):
    """An empty store with the schema on database ``name``."""
    if name == "sqlite":
        engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        url = server_urls[name]
        if isinstance(url, Exception):
            _unavailable(name, str(url).splitlines()[0])
        engine = get_engine(url)
        _ENGINES[url] = engine
        drop_schema(engine)
    create_schema(engine)
    return engine


@pytest.fixture(params=DATABASES)
def engine(request, server_urls, tmp_path):
    """An empty store (schema created) on SQLite, PostgreSQL and MariaDB in turn."""
    eng = make_store(request.param, server_urls, tmp_path)
    yield eng
    if request.param != "sqlite":
        drop_schema(eng)


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory):
    """URL of a seed-7 demo store (SQLite) up to tests.demo_store.UNTIL."""
    from tests.demo_store import build

    return build(tmp_path_factory.mktemp("demo"))


def pytest_sessionfinish(session, exitstatus):
    """In CI nothing may be skipped by mistake: a skipped test fails the run."""
    if not _require_all() or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every test must run here.",
                            red=True)
        session.exitstatus = 1

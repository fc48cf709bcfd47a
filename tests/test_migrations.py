"""Store migrations on SQLite, PostgreSQL and MariaDB: a first-release store upgrades with
every row and every figure intact, long open-list text fits, the app start and the CLI.

``tests/fixtures/first_release.db`` is a store made by the FIRST RELEASE (commit 997f88f),
built once with that release's own code and committed::

    git archive 997f88f | tar -x -C /tmp/old && cd /tmp/old
    python cli.py demo --until 2018-03-31 --db sqlite:////tmp/fr/first_release.db
    python cli.py import cases <repo>/tests/fixtures/first_release_cases.csv \\
        --db sqlite:////tmp/fr/first_release.db --exported-at 2018-04-01T08:00:00 --by fixture
    sqlite3 /tmp/fr/first_release.db "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; VACUUM;"

The import added 4 cases (one with a category of exactly 30 characters, the first
release's limit) and rejected a fifth (31 characters). Its row counts (ROWS below) are
those the two commands printed. On SQLite a copy of the file is upgraded; on the servers
the 0001 schema is created by Alembic, the fixture's rows are copied in and the version
row is dropped, so the server store looks exactly like one the first release made.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, func, inspect, select, text

import cli
from data.ingest import importer as I
from data.ingest.importer import import_file
from data.store import migrate
from data.store.db import create_schema, drop_schema, get_engine
from data.store.schema import DATA_TABLES, INTERNAL_COLUMNS, TEXT, metadata
from metrics.context import make_query
from metrics.domains import DOMAINS
from metrics.period import Period
from metrics.report import BREAKDOWNS, kpi_report
from tests.conftest import _unavailable

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "first_release.db"

# Row counts of the fixture, as printed by the first release's demo and import commands.
ROWS = {
    "communities": 15, "grids": 71, "cadres": 109, "cases": 92 + 4, "petitions": 29,
    "incidents": 297, "attendance": 6604, "worklogs": 6051, "benefit_recipients": 1301,
    "benefit_payments": 3761, "relief_grants": 16, "insurance_enrolment": 15,
    "benefit_standards": 5, "import_log": 13 + 1,
}
PERIOD = Period(date(2018, 1, 1), date(2018, 3, 31))
AS_OF = datetime(2018, 3, 31, 23, 59, 59)
CAT30 = ("城乡建设-住房保障-保障性住房-公租房分配申请-" * 3)[:30]
LONG = ("城乡建设-住房保障-保障性住房-公租房分配申请-" * 10)[:TEXT]
SECRET = "test-secret-不要在生产中使用"


@pytest.fixture(autouse=True)
def _secret(monkeypatch, tmp_path):
    monkeypatch.setenv(I.SECRET_ENV, SECRET)
    monkeypatch.setattr(I, "SECRETS_FILE", tmp_path / "no-secrets.toml")


# ---------------------------------------------------------------------------------------
# Helpers

def _server(name: str, server_urls):
    url = server_urls[name]
    if isinstance(url, Exception):
        _unavailable(name, str(url).splitlines()[0])
    engine = get_engine(url)
    drop_schema(engine)
    return engine


def _empty_store(name: str, server_urls, tmp_path: Path):
    if name == "sqlite":
        return get_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    return _server(name, server_urls)


def _fixture_engine():
    return create_engine(f"sqlite:///file:{FIXTURE}?mode=ro&uri=true")


def _copy_rows(src, dst) -> None:
    """Every row of every table of src into dst's tables (same names and columns)."""
    target, source = MetaData(), MetaData()
    target.reflect(dst)
    source.reflect(src)   # the first release's columns (not the head's: no origin)
    with src.connect() as s, dst.begin() as d:
        for name in ROWS:
            rows = [dict(r) for r in s.execute(select(source.tables[name])).mappings()]
            d.execute(target.tables[name].insert(), rows)
        if dst.dialect.name == "postgresql":   # explicit ids: move the serial on
            d.execute(text("SELECT setval(pg_get_serial_sequence('import_log', 'id'), "
                           "(SELECT max(id) FROM import_log))"))


def first_release_store(name: str, server_urls, tmp_path: Path):
    """A store as the first release made it (tables, no alembic_version), with the
    fixture's rows, on database ``name``."""
    if name == "sqlite":
        path = tmp_path / "zhili.db"
        shutil.copyfile(FIXTURE, path)
        return get_engine(f"sqlite:///{path}")
    engine = _server(name, server_urls)
    migrate.upgrade(engine, migrate.FIRST)
    assert migrate.current(engine) == migrate.FIRST
    _copy_rows(_fixture_engine(), engine)
    migrate.drop_version(engine)
    return engine


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {n: conn.execute(select(func.count()).select_from(metadata.tables[n])).scalar_one()
                for n in ROWS}


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table, through the schema's types, in a database-free order."""
    out = {}
    with engine.connect() as conn:
        for name in ROWS:
            t = metadata.tables[name]  # the columns a first-release store has too
            cols = [c for c in t.columns if c.name not in INTERNAL_COLUMNS]
            out[name] = sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr)
    return out


# the domains a first-release store can compute: benefits also reads benefit_monthly (0006)
OLD_DOMAINS = tuple(d for d in DOMAINS if d != "benefits")


def reports(engine) -> str:
    q = make_query(engine, PERIOD, as_of=AS_OF)
    return json.dumps({str(by): kpi_report(engine, q, by=by, only=OLD_DOMAINS)
                       for by in (None, *BREAKDOWNS)}, ensure_ascii=False, sort_keys=True)


def _generic(meta: MetaData) -> MetaData:
    """A reflected SQLite schema with generic types, comparable on any database."""
    for table in meta.tables.values():
        for col in table.columns:
            col.type = col.type.as_generic()
    return meta


def _diff(engine, target: MetaData) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, target)


def _mysql_collations(engine) -> set[tuple[str, str]]:
    """(table collation, column collation) pairs of every text column on MariaDB."""
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT t.table_collation, c.collation_name FROM information_schema.tables t "
            "JOIN information_schema.columns c ON c.table_schema = t.table_schema "
            "AND c.table_name = t.table_name WHERE t.table_schema = DATABASE() "
            "AND t.table_name <> 'alembic_version' AND c.collation_name IS NOT NULL")).all())


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[str, dict]:
    """Figures and rows of the fixture as the first release left it (a SQLite copy)."""
    path = tmp_path_factory.mktemp("reference") / "first_release.db"
    shutil.copyfile(FIXTURE, path)
    engine = get_engine(f"sqlite:///{path}")
    return reports(engine), snapshot(engine)


# ---------------------------------------------------------------------------------------
# Revisions and schemas

def test_revision_chain_is_the_one_migrate_knows():
    script = ScriptDirectory.from_config(migrate.config())
    chain = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert tuple(chain) == migrate.REVISIONS == ("0001_first_release", "0002_long_text",
                                                 "0003_boundaries", "0004_onboarding",
                                                 "0005_appraisal", "0006_benefit_monthly",
                                                 "0007_notices", "0008_users")
    assert script.get_current_head() == migrate.HEAD
    assert not (ROOT / "alembic.ini").exists()


def test_fixture_is_a_first_release_store():
    engine = _fixture_engine()
    assert "alembic_version" not in inspect(engine).get_table_names()
    assert counts(engine) == ROWS
    cols = {c["name"]: c["type"] for c in inspect(engine).get_columns("cases")}
    assert cols["category"].length == 30 and cols["community"].length == 60
    with engine.connect() as conn:
        imported = conn.execute(text(
            "SELECT case_id, category, status FROM cases WHERE case_id LIKE 'I2018%' "
            "ORDER BY case_id")).all()
    assert [tuple(r) for r in imported] == [
        ("I20180320-0001", CAT30, "已办结"), ("I20180321-0001", "物业管理", "办理中"),
        ("I20180325-0001", "环境卫生", "办理中"), ("I20180329-0001", "就业", "已办结")]
    assert FIXTURE.stat().st_size < 4_000_000


@pytest.mark.parametrize("name", ("sqlite", "postgresql", "mariadb"))
def test_0001_equals_the_first_release_and_head_equals_schema(name, server_urls, tmp_path):
    engine = _empty_store(name, server_urls, tmp_path)
    try:
        assert migrate.upgrade(engine, migrate.FIRST) == (None, migrate.FIRST)
        fixture = MetaData()
        fixture.reflect(_fixture_engine())
        # same tables, columns (types, lengths, NULL), primary keys and indexes
        assert _diff(engine, _generic(fixture)) == []
        if name == "mariadb":
            assert _mysql_collations(engine) == {("utf8mb4_bin", "utf8mb4_bin")}
        assert migrate.upgrade(engine) == (migrate.FIRST, migrate.HEAD)
        assert _diff(engine, metadata) == []          # schema.py is the head
        if name == "mariadb":
            assert _mysql_collations(engine) == {("utf8mb4_bin", "utf8mb4_bin")}
        lengths = {c["name"]: getattr(c["type"], "length", None)
                   for c in inspect(engine).get_columns("cases")}
        assert lengths["category"] == lengths["channel"] == lengths["status"] == TEXT == 200
        assert lengths["case_id"] == 40 and lengths["satisfaction"] == 10
        # a new store made by create_schema is the same schema, stamped at the head
        drop_schema(engine)
        assert migrate.state(engine).empty and migrate.current(engine) is None
        create_schema(engine)
        assert migrate.current(engine) == migrate.HEAD and migrate.is_current(engine)
        assert _diff(engine, metadata) == []
    finally:
        if name != "sqlite":
            drop_schema(engine)


# ---------------------------------------------------------------------------------------
# The first release's store

@pytest.mark.parametrize("name", ("sqlite", "postgresql", "mariadb"))
def test_first_release_store_upgrades_intact(name, server_urls, tmp_path, reference):
    figures, rows = reference
    engine = first_release_store(name, server_urls, tmp_path)
    try:
        st = migrate.state(engine)
        assert st.first_release and not st.current and migrate.current(engine) is None
        assert counts(engine) == ROWS
        before = snapshot(engine)
        assert before == rows                       # the copy onto a server is exact
        assert reports(engine) == figures

        assert migrate.upgrade(engine) == (None, migrate.HEAD)
        assert migrate.current(engine) == migrate.HEAD and migrate.is_current(engine)
        assert counts(engine) == ROWS
        assert snapshot(engine) == before           # every row, every value
        after = reports(engine)
        assert after == figures                     # and every figure, on every database
        kpis = json.loads(after)["None"]["kpis"]    # hand-checked: all cases are in Q1 2018
        assert (kpis["cases.total"], kpis["cases.closed"], kpis["petitions.total"]) == (96, 87, 29)
        assert json.loads(after)["category"]["groups"][CAT30]["cases.total"] == 1

        assert migrate.upgrade(engine) == (migrate.HEAD, migrate.HEAD)   # idempotent
        assert snapshot(engine) == before and migrate.current(engine) == migrate.HEAD

        # the upgraded store takes what the first release could not: a 200-character
        # category and a 200-character community name
        community = ("南城新区" * 60)[:TEXT]
        res = import_file(engine, "communities", f"社区名称,类型\n{community},社区\n".encode(),
                          "communities.csv")
        assert res.committed and res.inserted == 1, res.rejects or res.error
        res = import_file(engine, "cases", (
            "工单编号,受理时间,诉求类别,社区\n"
            f"L1,2018-03-30 09:00:00,{LONG},{community}\n").encode(), "cases.csv")
        assert res.committed and res.inserted == 1, res.rejects or res.error
        with engine.connect() as conn:
            got = conn.execute(text("SELECT category, community FROM cases "
                                    "WHERE case_id = 'L1'")).one()
        assert tuple(got) == (LONG, community)
    finally:
        if name != "sqlite":
            drop_schema(engine)


# ---------------------------------------------------------------------------------------
# Long open-list text and the importer's length check

def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8-sig") + b"\n"


def test_long_values_import_and_read_back(engine):
    assert migrate.current(engine) == migrate.HEAD      # create_schema stamps the head
    supplementary = "𠮷" * TEXT                           # 4 bytes each in UTF-8/utf8mb4
    community = ("和平里街道和平社区" * 30)[:TEXT]
    assert len(LONG) == len(supplementary) == len(community) == 200
    res = import_file(engine, "communities", _csv([["社区名称", "类型"], [community, "社区"]]),
                      "communities.csv")
    assert res.committed and res.inserted == 1, res.rejects or res.error
    channel = ("12345热线-市级平台-转办-街道-社区-网格-" * 10)[:TEXT]
    status = ("已办结-已回访-群众满意-" * 20)[:TEXT]
    header = ["工单编号", "受理时间", "来源渠道", "诉求类别", "社区", "状态", "满意度"]
    res = import_file(engine, "cases", _csv([
        header,
        ["A1", "2024-03-05 09:00", channel, LONG, community, status, "满意"],
        ["A2", "2024-03-05 10:00", "APP", supplementary, community, "办理中", ""],
        ["A3", "2024-03-05 11:00", "APP", LONG + "房", community, "", ""],          # 201
        ["A4", "2024-03-05 12:00", "APP", "新类别（不在任何清单里）", community, "", "基本满意"],
        ["A5", "2024-03-05 13:00", "APP", "物业管理", community, "", "很满意"],
        ["A" * 41, "2024-03-05 14:00", "APP", "物业管理", community, "", ""],
    ]), "cases.csv")
    assert res.committed and (res.inserted, res.rejected) == (3, 3)
    reasons = {r.row: r.reason for r in res.rejects}
    assert reasons == {
        4: "诉求类别长度 201 超过该列上限 200 个字符",
        6: "满意度不在允许的取值中（满意/基本满意/不满意）",   # closed lists only
        7: "工单编号长度 41 超过该列上限 40 个字符",
    }
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT case_id, category FROM cases ORDER BY case_id")).all())
        a1 = conn.execute(text("SELECT channel, community, status FROM cases "
                               "WHERE case_id = 'A1'")).one()
    assert got == {"A1": LONG, "A2": supplementary, "A4": "新类别（不在任何清单里）"}
    assert tuple(a1) == (channel, community, status)
    assert len(channel) == len(status) == TEXT


def test_length_limits_come_from_the_schema():
    from data.ingest.columns import TABLES

    for name, table in DATA_TABLES.items():
        for col in table.columns:
            if col.name in INTERNAL_COLUMNS:
                continue
            spec = TABLES[name].columns[col.name]
            if spec.kind == "str":
                assert spec.max_length == col.type.length, (name, col.name)
    assert TABLES["cases"].columns["category"].max_length == TEXT
    assert TABLES["cases"].columns["category"].choices is None           # open list
    assert TABLES["incidents"].columns["category"].choices is not None   # closed list


# ---------------------------------------------------------------------------------------
# The app start

def _forget_engines() -> None:
    import streamlit as st

    get_engine.cache_clear()      # caches the default URL's engine under the key None
    st.cache_resource.clear()     # pages.ui.common.engine() keeps the first engine it saw
    st.cache_data.clear()


@pytest.fixture
def app_env(monkeypatch):
    """Point the app at a store. The engine caches are emptied before and after, so this
    app gets this store and later tests (the page tests) get theirs."""
    def point(engine) -> None:
        monkeypatch.setenv("ZHILI_DB_URL", engine.url.render_as_string(hide_password=False))

    _forget_engines()
    yield point
    _forget_engines()


def test_app_start_upgrades_an_old_sqlite_store_after_a_backup(tmp_path, reference):
    engine = first_release_store("sqlite", None, tmp_path)
    done = migrate.prepare_store(engine)
    assert done is not None and (done.before, done.after) == (None, migrate.HEAD)
    backups = sorted(tmp_path.glob("zhili.db.bak-*"))
    assert backups == [done.backup] and done.backup.name.startswith("zhili.db.bak-20")
    assert str(done.backup) in done.message()
    # the backup is the store as it was: first release, no version, every row
    with sqlite3.connect(done.backup) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "alembic_version" not in tables
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == ROWS["cases"]
    assert migrate.is_current(engine) and reports(engine) == reference[0]
    assert migrate.prepare_store(engine) is None           # nothing more to do
    assert sorted(tmp_path.glob("zhili.db.bak-*")) == backups


def test_dashboard_start_upgrades_sqlite_and_says_where_the_backup_is(tmp_path, app_env):
    from streamlit.testing.v1 import AppTest

    engine = first_release_store("sqlite", None, tmp_path)
    app_env(engine)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    infos = [i.value for i in at.info]
    backups = list(tmp_path.glob("zhili.db.bak-*"))
    assert len(backups) == 1 and any(str(backups[0]) in i for i in infos), infos
    assert migrate.is_current(engine)


@pytest.mark.parametrize("name", ("postgresql", "mariadb"))
def test_app_start_stops_on_an_old_server_store(name, server_urls, tmp_path, app_env):
    from streamlit.testing.v1 import AppTest

    engine = _server(name, server_urls)
    try:
        migrate.upgrade(engine, migrate.FIRST)
        with pytest.raises(migrate.StoreOutdated) as err:
            migrate.prepare_store(engine)
        message = str(err.value)
        assert "python cli.py db upgrade --db" in message and migrate.FIRST in message
        assert "\n" not in message
        assert migrate.current(engine) == migrate.FIRST       # the app changed nothing

        app_env(engine)
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == [message]
        assert migrate.current(engine) == migrate.FIRST
    finally:
        drop_schema(engine)


def test_failed_sqlite_upgrade_leaves_the_store_as_it_was(tmp_path, reference):
    engine = first_release_store("sqlite", None, tmp_path)
    # a leftover of batch mode makes the 9th table's copy fail, after 8 tables were copied
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE _alembic_tmp_insurance_enrolment (x INTEGER)")
    with pytest.raises(migrate.UpgradeFailed) as err:
        migrate.prepare_store(engine)
    assert "数据库未改动" in str(err.value) and "zhili.db.bak-" in str(err.value)
    st = migrate.state(engine)
    assert st.first_release and st.revision is None        # not even the stamp is left
    lengths = {c["name"]: c["type"].length for c in inspect(engine).get_columns("cases")
               if hasattr(c["type"], "length")}
    assert lengths["category"] == 30                         # the cases copy was rolled back
    assert snapshot(engine) == reference[1]


def test_store_newer_than_the_code_is_refused(tmp_path, capsys):
    engine = get_engine(f"sqlite:///{tmp_path / 'new.db'}")
    create_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_future'")
    with pytest.raises(migrate.StoreTooNew):
        migrate.prepare_store(engine)
    with pytest.raises(migrate.StoreTooNew):
        migrate.upgrade(engine)
    code = cli.main(["kpi", "--db", str(engine.url), "--start", "2018-01-01", "--end", "2018-01-31"])
    err = capsys.readouterr().err
    assert code == 2 and "0099_future" in err and len(err.strip().splitlines()) == 1


def test_fresh_demo_is_current(demo_url):
    assert migrate.current(get_engine(demo_url)) == migrate.HEAD


# ---------------------------------------------------------------------------------------
# Command line

def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ("sqlite", "postgresql", "mariadb"))
def test_cli_db_current_and_upgrade_twice(name, server_urls, tmp_path, capsys):
    engine = first_release_store(name, server_urls, tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    try:
        code, out, err = run(capsys, "db", "current", "--db", url)
        assert code == 1 and "需要升级" in out and "python cli.py db upgrade --db" in out
        # kpi and import refuse an old store in one line that names the command
        for argv in (["kpi", "--db", url, "--start", "2018-01-01", "--end", "2018-03-31"],
                     ["import", "cases", str(FIXTURE.with_name("first_release_cases.csv")),
                      "--db", url]):
            code, out, err = run(capsys, *argv)
            assert code == 2 and "python cli.py db upgrade" in err, err
            assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert counts(engine) == ROWS

        code, out, err = run(capsys, "db", "upgrade", "--db", url)
        assert code == 0 and f"升级到 {migrate.HEAD}" in out, err
        code, out, err = run(capsys, "db", "upgrade", "--db", url)
        assert code == 0 and "无需升级" in out
        code, out, err = run(capsys, "db", "current", "--db", url)
        assert (code, out.strip()) == (0, f"当前版本 {migrate.HEAD} (最新)")
        assert counts(engine) == ROWS
        backups = list(tmp_path.glob("zhili.db.bak-*"))
        assert len(backups) == (1 if name == "sqlite" else 0)   # one backup, first run only
        code, out, err = run(capsys, "kpi", "--db", url, "--start", "2018-01-01",
                             "--end", "2018-03-31", "--as-of", "2018-03-31T23:59:59")
        assert code == 0 and json.loads(out)["kpis"]["cases.total"] == 96
    finally:
        if name != "sqlite":
            drop_schema(engine)


def test_cli_db_commands_in_a_process(tmp_path):
    """The real entry point: exit codes and one line each, on a copy of the fixture."""
    path = tmp_path / "zhili.db"
    shutil.copyfile(FIXTURE, path)
    url = f"sqlite:///{path}"

    def cli_run(*argv):
        p = subprocess.run([sys.executable, "cli.py", *argv, "--db", url], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout.strip(), p.stderr.strip()

    code, out, err = cli_run("db", "current")
    assert code == 1 and "首版" in out and err == ""
    code, out, err = cli_run("db", "upgrade")
    assert code == 0 and "已备份到" in out and err == ""
    assert cli_run("db", "current") == (0, f"当前版本 {migrate.HEAD} (最新)", "")
    code, out, err = cli_run("db", "frobnicate")
    assert code == 2 and "参数错误" in err and "Traceback" not in err

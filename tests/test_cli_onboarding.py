"""``cli.py init --name`` (the office's name, the store created or upgraded, the demo once)
and ``cli.py demo --remove`` (the demo's rows, per table; imported rows kept)."""
from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from functools import partial

from sqlalchemy import func, select

import cli
from data.demo import generate
from data.store import migrate, office as O
from data.store.db import ROOT, get_engine, has_data
from data.store.schema import DATA_TABLES, cases

DEMO_UNTIL = date(2018, 1, 31)   # one month of demo: every table has rows, quickly


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _small_demo(monkeypatch):
    import data.demo

    monkeypatch.setattr(data.demo, "generate", partial(generate, until=DEMO_UNTIL))


def test_cli_init_names_the_office_and_builds_the_demo_once(tmp_path, capsys, monkeypatch):
    _small_demo(monkeypatch)
    url = f"sqlite:///{tmp_path / 'i.db'}"
    code, out, err = run(capsys, "init", "--name", "东湖街道", "--db", url)
    assert code == 0, err
    assert "街道名称：东湖街道" in out and "演示数据已生成" in out and migrate.HEAD in out
    engine = get_engine(url)
    assert O.office_name(engine) == "东湖街道"
    demo = O.count_demo(engine)
    assert demo["cases"] > 0
    code, out, err = run(capsys, "init", "--name", "西湖街道", "--db", url)
    assert code == 0 and "保持不变" in out
    assert O.office_name(engine) == "西湖街道" and O.count_demo(engine) == demo

    code, out, err = run(capsys, "demo", "--remove", "--db", url)
    assert code == 0, err
    lines = out.splitlines()
    for table, n in demo.items():
        assert any(line.startswith(table + "（") and line.endswith(f"{n:,}") for line in lines), \
            (table, out)
    assert any(line.startswith("import_log（导入记录）") and line.endswith(str(len(DATA_TABLES)))
               for line in lines)
    assert f"已删除演示数据 {sum(demo.values()):,} 行" in out
    assert sum(O.count_demo(engine).values()) == 0
    code, out, _ = run(capsys, "demo", "--remove", "--db", url)
    assert code == 0 and "没有演示数据" in out


def test_cli_init_without_demo_and_bad_names(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'n.db'}"
    code, out, _ = run(capsys, "init", "--name", "东湖街道", "--no-demo", "--db", url)
    assert code == 0 and "--no-demo" in out
    engine = get_engine(url)
    assert not has_data(engine) and O.initialised(engine) and O.office_name(engine) == "东湖街道"
    code, out, err = run(capsys, "init", "--name", "<b>x</b>", "--db", url)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "街道名称无效" in err
    code, _, err = run(capsys, "init", "--db", url)
    assert code == 2 and "--name" in err
    assert O.office_name(engine) == "东湖街道"
    code, _, err = run(capsys, "demo", "--remove", "--force", "--db", url)
    assert code == 2 and "--remove" in err


def test_cli_init_upgrades_an_old_store_and_keeps_its_rows(tmp_path, capsys):
    path = tmp_path / "old.db"
    shutil.copy(ROOT / "tests" / "fixtures" / "first_release.db", path)
    src = sqlite3.connect(path)
    n_cases = src.execute("SELECT count(*) FROM cases").fetchone()[0]
    src.close()
    code, out, err = run(capsys, "init", "--name", "东湖街道", "--db", f"sqlite:///{path}")
    assert code == 0, err
    assert f"升级到 {migrate.HEAD}" in out and "备份" in out and "保持不变" in out
    engine = get_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == n_cases
    # the first release's store held an import: its rows are not marked as the demo's
    assert sum(O.count_demo(engine).values()) == 0
    assert O.office_name(engine) == "东湖街道"

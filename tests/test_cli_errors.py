"""The CLI never prints a traceback: every failure is one line on stderr and an exit code
documented in cli.py's docstring and the README (0 ok, 1 negative outcome, 2 user error,
3 database cannot be opened, 4 internal error, 130 interrupted, 141 broken pipe)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import cli
from data.demo import generate
from data.store.db import get_engine

ROOT = Path(__file__).resolve().parent.parent
KPI = ["kpi", "--start", "2019-01-01", "--end", "2019-01-31"]


@pytest.fixture(scope="module")
def tiny_url(tmp_path_factory) -> str:
    """A small demo store (a few hundred rows), built once for this module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tiny') / 'tiny.db'}"
    generate(get_engine(url), seed=3, scale=0.05, until=date(2019, 12, 31))
    return url


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------------------------------
# The database cannot be opened: exit 3

@pytest.mark.parametrize("url", ["postgresql://u@127.0.0.1:1/x", "mysql://u@127.0.0.1:1/x"])
@pytest.mark.parametrize("command", ["kpi", "db current", "db upgrade", "import"])
def test_unreachable_server_is_exit_3(capsys, url, command):
    argv = {"kpi": KPI, "db current": ["db", "current"], "db upgrade": ["db", "upgrade"],
            "import": ["import", "cases", str(ROOT / "tests/fixtures/first_release_cases.csv")]}
    code, out, err = run(capsys, *argv[command], "--db", url)
    line = one_line(err)
    assert code == 3 == cli.EXIT_DATABASE, err
    assert line.startswith("无法连接数据库") and "127.0.0.1:1" in line


def test_file_that_is_not_a_database_is_exit_3(capsys, tmp_path):
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n" * 50)
    for argv in (KPI, ["db", "current"]):
        code, _, err = run(capsys, *argv, "--db", f"sqlite:///{path}")
        assert code == 3 and "not a database" in one_line(err)


def test_missing_folder_is_named_and_not_created(capsys, tmp_path):
    folder = tmp_path / "no" / "such"
    url = f"sqlite:///{folder / 'x.db'}"
    for argv in (KPI, ["db", "current"]):
        code, _, err = run(capsys, *argv, "--db", url)
        line = one_line(err)
        assert code == 3 and line.startswith("目录不存在") and str(folder) in line, line
        assert "store is empty" not in line
    assert not (tmp_path / "no").exists()


def test_kpi_and_db_current_do_not_create_a_sqlite_file(capsys, tmp_path):
    path = tmp_path / "typo.db"
    for argv in (KPI, ["db", "current"]):
        code, _, err = run(capsys, *argv, "--db", f"sqlite:///{path}")
        assert code == 3 and "数据库文件不存在" in one_line(err)
        assert not path.exists() and list(tmp_path.iterdir()) == []


def test_only_demo_import_and_upgrade_create_a_store(capsys, tmp_path):
    code, out, err = run(capsys, "db", "upgrade", "--db", f"sqlite:///{tmp_path / 'a' / 'u.db'}")
    assert code == 0 and (tmp_path / "a" / "u.db").is_file(), err
    code, out, err = run(capsys, "import", "cases",
                         str(ROOT / "tests/fixtures/first_release_cases.csv"),
                         "--db", f"sqlite:///{tmp_path / 'b' / 'i.db'}")
    assert "Traceback" not in err and (tmp_path / "b" / "i.db").is_file()


@pytest.mark.parametrize("url", ["notaurl", "postgresql://u@h:notaport/x", "foo://x/y"])
def test_malformed_url_is_a_user_error(capsys, url):
    code, _, err = run(capsys, *KPI, "--db", url)
    assert code == 2 and one_line(err)


# ---------------------------------------------------------------------------------------
# Dates the period arithmetic cannot hold are refused, not an OverflowError

@pytest.mark.parametrize("argv", [
    ["kpi", "--start", "0001-01-01", "--end", "9999-12-31"],
    ["kpi", "--start", "9999-12-01", "--end", "9999-12-31"],
    ["kpi", "--start", "0001-01-01", "--end", "0001-01-31"],
    ["kpi", "--start", "2019-01-01", "--end", "2019-01-31", "--as-of", "0001-01-01T00:00:00"],
    ["kpi", "--start", "2019-01-01", "--end", "2019-01-31", "--as-of", "9999-12-31T23:59:59"],
    ["kpi", "--start", "2019-01-01", "--end", "2019-01-31", "--as-of",
     "0001-01-01T00:00:00+14:00"],
    ["kpi", "--start", "2019-01-01", "--end", "2019-01-31", "--as-of",
     "2100-12-31T23:59:59-10:00"],                        # 2101 in Asia/Shanghai
])
def test_out_of_range_dates_are_refused(capsys, tiny_url, argv):
    code, out, err = run(capsys, *argv, "--db", tiny_url)
    assert code == 2 and "支持范围 1900-01-01 至 2100-12-31" in one_line(err)


def test_demo_until_out_of_range_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "demo", "--db", f"sqlite:///{tmp_path / 'd.db'}",
                       "--until", "9999-12-31")
    assert code == 2 and "支持范围" in one_line(err)
    assert not (tmp_path / "d.db").exists()


@pytest.mark.parametrize("as_of", ["1900-01-01T00:00:00", "2100-12-31T23:59:59"])
def test_widest_supported_range_runs(capsys, tiny_url, as_of):
    code, out, err = run(capsys, "kpi", "--db", tiny_url, "--start", "1900-01-01",
                         "--end", "2100-12-31", "--as-of", as_of, "--by", "month")
    assert code == 0, err
    report = json.loads(out)
    assert report["period"] == {"start": "1900-01-01", "end": "2100-12-31"}
    assert report["as_of"] == as_of


def test_as_of_with_an_offset_is_shanghai_wall_time(capsys, tiny_url):
    code, out, err = run(capsys, *KPI, "--db", tiny_url, "--as-of", "2019-01-31T04:00:00+00:00")
    assert code == 0, err
    assert json.loads(out)["as_of"] == "2019-01-31T12:00:00"


# ---------------------------------------------------------------------------------------
# Communities are checked against the store

def test_unknown_community_is_refused(capsys, tiny_url):
    code, out, err = run(capsys, *KPI, "--db", tiny_url, "--community", "和平社区", "不存在社区")
    line = one_line(err)
    assert code == 2 and out == ""
    assert "未知社区" in line and "不存在社区" in line and "和平社区" in line  # known ones listed
    code, out, err = run(capsys, *KPI, "--db", tiny_url, "--community", "和平社区")
    assert code == 0 and json.loads(out)["scope"] == ["和平社区"], err


# ---------------------------------------------------------------------------------------
# Broken pipe: quiet, exit 141

def test_reader_gone_exits_quietly_in_a_process(tiny_url):
    """``python cli.py kpi ... | head -1`` where head has already gone: no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "cli.py", *KPI, "--db", tiny_url, "--by", "grid"],
                              cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120)
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141 == cli.EXIT_PIPE


def test_head_dash_1_through_a_shell(tiny_url):
    done = subprocess.run(
        f"set -o pipefail; {sys.executable} cli.py kpi --start 2019-01-01 --end 2019-12-31 "
        f"--by grid --format table --db '{tiny_url}' | head -1",
        shell=True, executable="/bin/bash", cwd=ROOT, capture_output=True, text=True,
        timeout=120)
    assert done.stdout.startswith("统计期") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode in (0, 141)   # 0 when the output fitted the pipe before head left


class _ClosedPipe:
    encoding = "utf-8"

    def write(self, _text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_broken_pipe_in_process(capsys, tiny_url, monkeypatch):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = cli.main([*KPI, "--db", tiny_url])
    monkeypatch.undo()
    assert code == 141 and capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------
# The safety net in main()

def test_unexpected_exception_is_one_line_exit_4(capsys, tiny_url, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("something broke\nsecond line\nthird")

    monkeypatch.setattr(cli, "kpi_report", boom)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    code, out, err = run(capsys, *KPI, "--db", tiny_url)
    line = one_line(err)
    assert code == 4 == cli.EXIT_INTERNAL
    assert line.startswith("内部错误: RuntimeError: something broke")
    assert "second line" not in line


def test_debug_escape_hatch_reraises(capsys, tiny_url, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("something broke")

    monkeypatch.setattr(cli, "kpi_report", boom)
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    with pytest.raises(RuntimeError, match="something broke"):
        cli.main([*KPI, "--db", tiny_url])


def test_database_lost_during_a_command_is_exit_3(capsys, tiny_url, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def lost(*_a, **_k):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(cli, "kpi_report", lost)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    code, _, err = run(capsys, *KPI, "--db", tiny_url)
    assert code == 3 and "server closed the connection" in one_line(err)


def test_interrupt_is_exit_130(capsys, tiny_url, monkeypatch):
    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "kpi_report", interrupted)
    code, _, err = run(capsys, *KPI, "--db", tiny_url)
    assert code == 130 and "中断" in one_line(err)


def test_help_returns_0_instead_of_exiting(capsys):
    code, out, _ = run(capsys, "kpi", "--help")
    assert code == 0 and "--only" in out


def test_error_message_with_newlines_and_bad_bytes_stays_one_line(capsys, tiny_url):
    code, _, err = run(capsys, *KPI, "--db", tiny_url, "--community", "甲\n乙\udcff")
    assert code == 2 and "未知社区" in one_line(err)


# ---------------------------------------------------------------------------------------
# The exit codes are documented

def _readme_command_line() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Command line", 1)[1].split("\n## ", 1)[0]


def test_every_exit_code_is_documented():
    doc = cli.__doc__
    section = _readme_command_line()
    for code in sorted(cli.EXIT_CODES):
        assert re.search(rf"^\s*{code}\s", doc, re.M), f"exit code {code} not in cli.py's docstring"
        assert re.search(rf"^\|?\s*`?{code}`?\s", section, re.M), \
            f"exit code {code} not in README's Command line section"


def test_readme_shows_only_and_db_commands():
    section = _readme_command_line()
    assert "--only" in section
    assert "db upgrade" in section and "db current" in section

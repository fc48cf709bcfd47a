"""``cli.py user`` and ``cli.py audit``: users made, listed, disabled and given a new
password from the command line, one-line Chinese errors with the documented exit codes,
and the audit trail of imports, exports and publications."""
from __future__ import annotations

import io
import re

import pytest

import cli
from data.store import audit, users
from data.store.db import create_schema, get_engine
from tests import cadre_store as cs
from tests.builders import log_import

LIMITS = dict(max_failures=5, lockout_minutes=15)


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'z.db'}"
    engine = get_engine(url)
    create_schema(engine)
    cs.build(engine)
    log_import(engine, cs.AS_OF, "attendance")
    monkeypatch.setenv("ZHILI_DB_URL", url)
    monkeypatch.setenv("ZHILI_APP_URL", "http://zhili.example:8501/")
    return engine


def run(capsys, monkeypatch, *args, stdin: str | None = None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_user_commands(db, capsys, monkeypatch):
    assert run(capsys, monkeypatch, "user", "list")[:2] == (
        0, "没有用户: 未启用登录 (login is off); 添加: python cli.py user add NAME --role leader\n")
    code, out, _ = run(capsys, monkeypatch, "user", "add", "sec", "--role", "community",
                       "--community", "A社区", "--password-stdin", stdin="s3cret-pass\n")
    assert (code, out) == (0, "已添加用户 sec (community, A社区)\n")
    code, out, _ = run(capsys, monkeypatch, "user", "add", "lobby", "--role", "screen")
    token = re.search(r"http://zhili\.example:8501/bigscreen\?token=(\S+)", out).group(1)
    assert code == 0 and users.by_token(db, token).name == "lobby"
    code, out, _ = run(capsys, monkeypatch, "user", "list")
    assert code == 0 and [line.split() for line in out.splitlines()] == [
        ["lobby", "screen", "-", "正常"], ["sec", "community", "A社区", "正常"]]
    assert users.login(db, "sec", "s3cret-pass", **LIMITS).user is not None
    code, out, _ = run(capsys, monkeypatch, "user", "passwd", "sec", "--password-stdin",
                       stdin="another-pass\n")
    assert (code, out) == (0, "已修改用户 sec 的密码 (锁定已解除)\n")
    assert users.login(db, "sec", "another-pass", **LIMITS).user is not None
    assert run(capsys, monkeypatch, "user", "disable", "sec")[:2] == (0, "已停用用户 sec\n")
    assert run(capsys, monkeypatch, "user", "disable", "sec")[:2] == (1, "用户 sec 已是停用状态\n")
    assert users.login(db, "sec", "another-pass", **LIMITS).user is None
    code, out, _ = run(capsys, monkeypatch, "audit", "--action", "user")
    assert code == 0
    assert [line.split()[3] for line in out.splitlines()] == ["停用用户", "修改密码", "新增用户",
                                                              "新增用户"]
    assert all("命令行(" in line for line in out.splitlines())


@pytest.mark.parametrize("args, stdin, message", [
    (("user", "add", "x", "--role", "boss"), None, "未知角色「boss」: 可选 leader, community, "
                                                    "reviewer, admin, screen"),
    (("user", "add", "x", "--role", "community"), None, "社区用户需要 --community 社区名称"),
    (("user", "add", "x", "--role", "community", "--community", "C社区"), None,
     "数据库中没有社区「C社区」"),
    (("user", "add", "x", "--role", "leader", "--password-stdin"), "short\n",
     "密码太短: 至少 8 个字符"),
    (("user", "add", "x", "--role", "leader", "--password-stdin"), "", "标准输入中没有密码 "
                                                                        "(--password-stdin)"),
    (("user", "add", "x"), None, "参数错误 (bad arguments): user add 需要 --role "
                                 "leader|community|reviewer|admin|screen"),
    (("user", "disable", "nobody"), None, "没有用户「nobody」"),
    (("user", "passwd", "nobody", "--password-stdin"), "whatever-pass\n", "没有用户「nobody」"),
    (("user", "disable"), None, "参数错误 (bad arguments): user disable 需要用户名"),
    (("audit", "--limit", "0"), None, "参数错误 (bad arguments): --limit 应为正整数"),
])
def test_user_errors_are_one_line_and_exit_2(db, capsys, monkeypatch, args, stdin, message):
    code, out, err = run(capsys, monkeypatch, *args, stdin=stdin)
    assert (code, out, err) == (2, "", message + "\n")


def test_imports_exports_and_publications_are_audited(db, capsys, monkeypatch, tmp_path):
    csv = tmp_path / "社区.csv"
    csv.write_text("社区名称,类型,常住人口\nC社区,社区,3000\n", encoding="utf-8")
    assert run(capsys, monkeypatch, "import", "communities", str(csv))[0] == 0
    assert run(capsys, monkeypatch, "appraisal", "publish", "--month", "2024-10")[0] == 0
    out_file = tmp_path / "考核.xlsx"
    assert run(capsys, monkeypatch, "appraisal", "export", "--month", "2024-10",
               "--out", str(out_file))[0] == 0
    entries = audit.recent(db)
    assert [e.action for e in entries] == ["export", "appraisal.publish", "import"]
    assert entries[0].detail == f"考核评议 2024-10 Excel(4 人): {out_file}"
    assert entries[1].detail == "发布 2024-10 干部考核 4 人"
    assert entries[2].detail.startswith("命令行导入 communities 文件 社区.csv: ")
    assert all(e.actor.startswith("命令行") for e in entries)
    code, out, _ = run(capsys, monkeypatch, "audit", "--limit", "1")
    assert code == 0 and len(out.splitlines()) == 1 and "导出/下载" in out

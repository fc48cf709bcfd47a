"""python cli.py import benefit_monthly FILE: Chinese or canonical headers, the monthly
report's own words, GBK or UTF-8 CSV, XLSX; the closed program list; then kpi reads it."""
from __future__ import annotations

import io
import json

import openpyxl
import pytest

import cli
from tests.builders import insert

ZH = "社区,月份,保障类别,户数,人数,支出金额,新增人数,退出人数\n"
ROWS = ("东城社区,2024-03,城市低保,11,17,10200.50,1,0\n"
        "东城社区,2024年2月,城市低保,10,16,9600,1,\n"
        "东城社区,2024-03,低保,1,1,1,,\n")          # 低保 is not a program of the list


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path):
    from data.store.db import create_schema, get_engine

    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = get_engine(url)
    create_schema(engine)
    insert(engine, "communities", [dict(name="东城社区", kind="社区", population=4000)])
    return url, engine


def _monthly(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT month, program, households, persons, spending, new, exited "
            "FROM benefit_monthly ORDER BY month").all()


def test_gbk_csv_with_chinese_headers(capsys, tmp_path, db):
    url, engine = db
    path = tmp_path / "月报.csv"
    path.write_bytes((ZH + ROWS).encode("gbk"))
    code, out, err = run(capsys, "import", "benefit_monthly", path, "--db", url)
    assert code == 0, err
    assert "保障统计月报" in out
    rows = _monthly(engine)
    assert [(r[0], r[1], r[2], r[3], float(r[4]), r[5], r[6]) for r in rows] == [
        ("2024-02", "城市低保", 10, 16, 9600.0, 1, None),
        ("2024-03", "城市低保", 11, 17, 10200.5, 1, 0)]
    code, out, _ = run(capsys, "kpi", "--db", url, "--start", "2024-02-01", "--end",
                       "2024-03-31", "--as-of", "2024-03-31T12:00:00", "--only", "benefits")
    k = json.loads(out)["kpis"]
    assert code == 0
    assert k["benefits.urban_dibao.persons"] == 17
    assert k["benefits.urban_dibao.spending"] == pytest.approx(19800.5)
    assert k["benefits.urban_dibao.exited"] is None          # February left it blank
    assert k["benefits.urban_dibao.per_1000"] == pytest.approx(17 / 4000 * 1000)


def test_canonical_headers_utf8_and_report_words(capsys, tmp_path, db):
    url, engine = db
    path = tmp_path / "m.csv"
    path.write_text("community,month,program,households,persons,spending,new,exited\n"
                    "东城社区,2024-03,特困供养,3,3,2700,,\n", encoding="utf-8-sig")
    assert run(capsys, "import", "benefit_monthly", path, "--db", url)[0] == 0
    path = tmp_path / "m2.csv"
    path.write_text("所属社区,统计月份,保障类别,保障户数,保障人数,支出(元),本月新增,本月退出\n"
                    "东城社区,2024-04,特困供养,3,3,2700,0,0\n", encoding="utf-8")
    assert run(capsys, "import", "benefit_monthly", path, "--db", url)[0] == 0
    assert [(r[0], r[3]) for r in _monthly(engine)] == [("2024-03", 3), ("2024-04", 3)]


def test_xlsx(capsys, tmp_path, db):
    url, engine = db
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年3月民政统计月报"])
    ws.append(ZH.strip().split(","))
    ws.append(["东城社区", "2024-03", "农村低保", 4, 6, 2400, 1, 1])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "月报.xlsx"
    path.write_bytes(buf.getvalue())
    code, out, err = run(capsys, "import", "benefit_monthly", path, "--db", url)
    assert code == 0, err
    assert [(r[1], r[3]) for r in _monthly(engine)] == [("农村低保", 6)]

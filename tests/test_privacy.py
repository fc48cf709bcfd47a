"""No ID or phone numbers in free text: masked at import (all three databases), never in the
SQLite file or its WAL, shown masked by the preview and the rejects, absent from the demo;
and the refusal of an ID column without the person_key secret shows in the preview."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import String, Text, select

from data.ingest import importer as I
from data.ingest.columns import TABLES
from data.ingest.importer import import_file, preview_file
from data.ingest.masking import mask_text
from data.store.db import create_schema, get_engine
from data.store.schema import DATA_TABLES
from tests.builders import insert

CORPUS = Path(__file__).resolve().parent / "corpus"

ID_A = "110101199003071234"
ID_X = "37010219851231002X"
ID_OLD = "110101900307123"
MOBILE = "13912345678"
MOBILE_B = "18655554444"
LANDLINE = "0530-5566778"
ORDER = "12345678901234567890"          # a 20-digit order number: not a personal number
RAW = [ID_A, ID_X, ID_OLD, MOBILE, MOBILE_B, "5566778"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch, tmp_path):
    monkeypatch.setenv(I.SECRET_ENV, "test-secret")
    monkeypatch.setattr(I, "SECRETS_FILE", tmp_path / "no-secrets.toml")


@pytest.mark.parametrize("text, masked", [
    (f"来电人{MOBILE}反映", "来电人139****5678反映"),
    (f"身份证{ID_A}，", "身份证110101********1234，"),
    (f"证号{ID_X.lower()}号", "证号370102********002x号"),
    (f"旧证{ID_OLD}", "旧证110101******123"),
    (f"座机{LANDLINE}", "座机0530-***6778"),
    ("电话(0530)12345678", "电话(0530)****5678"),
    ("+86 139-1234-5678 或 139 1234 5678", "+86 139****5678 或 139****5678"),
    ("１３９１２３４５６７８", "139****5678"),
    ("110101 19900307 1234", "110101********1234"),
    (f"{MOBILE}、{MOBILE_B}", "139****5678、186****4444"),
    # not personal numbers: longer digit runs, hotlines, dates, ids, amounts, coordinates
    (f"订单号{ORDER}", f"订单号{ORDER}"),
    ("工单2024113912345678", "工单2024113912345678"),
    ("拨打12345热线", "拨打12345热线"),
    ("2024-03-05 09:30:00", "2024-03-05 09:30:00"),
    ("C20200315-0007", "C20200315-0007"),
    ("金额1,020.50元，坐标115.4705123", "金额1,020.50元，坐标115.4705123"),
    ("编号00012345678", "编号00012345678"),
    ("", ""),
])
def test_mask_text(text, masked):
    assert mask_text(text) == masked


def _personal_csv() -> bytes:
    return (
        "工单编号,受理时间,社区,诉求摘要,状态\n"
        f"P1,2024-03-05 09:00,城东社区,来电人{MOBILE}反映楼道灯不亮，身份证{ID_A},办理中\n"
        f"P2,2024-03-05 10:00,城东社区,\"居民（身份证号{ID_X}，电话{LANDLINE}）咨询低保\",已办结\n"
        f"P3,2024-03-05 11:00,城东社区,旧身份证{ID_OLD}；订单号{ORDER},回访{MOBILE_B}\n"
        "P4,2024-03-05 12:00,城东社区,路灯不亮,办理中\n"
    ).encode("utf-8")


def _sqlite(path: Path):
    engine = get_engine(f"sqlite:///{path}")
    create_schema(engine)
    return engine


def _store(engine):
    insert(engine, "communities", [{"name": "城东社区", "kind": "社区"}])
    insert(engine, "cadres", [{"cadre_id": "A001", "name": "张三"}])
    return engine


def test_free_text_is_masked_on_import(engine):
    _store(engine)
    r = import_file(engine, "cases", _personal_csv(), "cases.csv")
    assert (r.error, r.inserted, r.rejected) == (None, 4, 0)
    assert r.masked == {"status": 1, "summary": 3}
    assert any(w.startswith("有 4 个值含身份证号或电话号码，已遮盖后保存（诉求摘要 3 个、状态 1 个")
               for w in r.warnings), r.warnings
    t = DATA_TABLES["cases"]
    with engine.connect() as conn:
        got = dict(conn.execute(select(t.c.case_id, t.c.summary)).all())
        status = dict(conn.execute(select(t.c.case_id, t.c.status)).all())
    assert got == {
        "P1": "来电人139****5678反映楼道灯不亮，身份证110101********1234",
        "P2": "居民（身份证号370102********002X，电话0530-***6778）咨询低保",
        "P3": f"旧身份证110101******123；订单号{ORDER}",
        "P4": "路灯不亮",
    }
    assert status["P3"] == "回访186****4444"
    # a re-import of the same file changes nothing: the masked values equal the stored ones
    again = import_file(engine, "cases", _personal_csv(), "cases.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    # work logs and relief reasons too
    logs = (f"日志编号,人员编号,日期,日志内容\nL1,A001,2024-03-05,走访低保户，户主电话{MOBILE}，身份证{ID_A}\n")
    r = import_file(engine, "worklogs", logs.encode(), "logs.csv")
    assert (r.error, r.inserted, r.masked) == (None, 1, {"content": 1})
    reliefs = f"救助编号,社区,救助日期,救助金额,救助事由\nG1,城东社区,2024-03-05,500,因病致困（联系人{MOBILE_B}）\n"
    r = import_file(engine, "relief_grants", reliefs.encode(), "r.csv")
    assert (r.error, r.inserted, r.masked) == (None, 1, {"reason": 1})
    with engine.connect() as conn:
        assert conn.execute(select(DATA_TABLES["worklogs"].c.content)).scalar_one() == \
            "走访低保户，户主电话139****5678，身份证110101********1234"
        assert conn.execute(select(DATA_TABLES["relief_grants"].c.reason)).scalar_one() == \
            "因病致困（联系人186****4444）"


def test_no_raw_number_in_the_sqlite_file_or_wal(tmp_path):
    db = tmp_path / "p.db"
    engine = _store(_sqlite(db))
    r = import_file(engine, "cases", _personal_csv(), "cases.csv")
    assert r.committed and r.inserted == 4
    wal = Path(str(db) + "-wal")
    assert wal.exists() and wal.stat().st_size > 0   # the import's pages are in the WAL
    for path in (db, wal):
        data = path.read_bytes()
        for raw in RAW:
            assert raw.encode() not in data, (path.name, raw)
    written = db.read_bytes() + wal.read_bytes()
    assert "139****5678".encode() in written and ORDER.encode() in written  # what was stored


def test_rejected_rows_show_masked_values(tmp_path):
    engine = _store(_sqlite(tmp_path / "r.db"))
    long_text = f"电话{MOBILE}" + "很长的诉求" * 50
    data = (f"工单编号,受理时间,社区,来源渠道\nR1,2024-03-05,城东社区,{long_text}\n"
            f"R2,{MOBILE},城东社区,APP\n").encode()
    r = import_file(engine, "cases", data, "r.csv")
    assert r.rejected == 2
    assert [x.value[:13] for x in r.rejects] == ["电话139****5678", "139****5678"]
    assert all(MOBILE not in x.value for x in r.rejects)


def test_preview_shows_the_masking(tmp_path):
    engine = _store(_sqlite(tmp_path / "v.db"))
    pv = preview_file(engine, "cases", _personal_csv(), "cases.csv")
    assert pv.error is None and pv.refusal is None
    assert pv.frame["诉求摘要"].tolist()[:2] == [
        "来电人139****5678反映楼道灯不亮，身份证110101********1234",
        "居民（身份证号370102********002X，电话0530-***6778）咨询低保"]
    assert pv.frame["状态"].tolist()[2] == "回访186****4444"
    assert pv.masked == {"summary": 3, "status": 1}
    assert pv.notes[0].startswith("预览的 4 行中有 4 个值含身份证号或电话号码（诉求摘要 3 个、状态 1 个）")
    text = pv.frame.to_csv()
    assert not any(raw in text for raw in RAW)


def test_preview_refuses_an_id_column_without_secret(tmp_path, monkeypatch):
    """The import refuses a file with ID numbers when no person_key secret is configured;
    the preview says so before 确认导入."""
    monkeypatch.delenv(I.SECRET_ENV)
    engine = _sqlite(tmp_path / "s.db")
    insert(engine, "communities", [{"name": "城东社区"}, {"name": "城西社区"}])
    pv = preview_file(engine, "benefit_recipients", CORPUS / "recipients_personal.csv", "r.csv")
    assert pv.error is None and pv.frame is not None and len(pv.frame) == 4
    assert pv.refusal == I._SECRET_MSG
    assert pv.refusal.startswith("文件包含身份证号列，但未配置加密密钥：请设置环境变量 ZHILI_PERSON_KEY_SECRET")
    r = import_file(engine, "benefit_recipients", CORPUS / "recipients_personal.csv", "r.csv")
    assert r.error == pv.refusal
    # the first ID number far down the file: the preview still finds it
    head = "保障对象编号,身份证号,保障类别,社区,起始年月\n"
    rows = "".join(f"R{i},,城市低保,城东社区,2024-01\n" for i in range(60))
    late = head + rows + f"R99,{ID_A},城市低保,城东社区,2024-01\n"
    pv = preview_file(engine, "benefit_recipients", late.encode(), "late.csv")
    assert pv.refusal == I._SECRET_MSG and len(pv.frame) == 20
    # an empty ID column (the template) needs no secret, in the preview as in the import
    pv = preview_file(engine, "benefit_recipients", (head + rows).encode(), "empty.csv")
    assert pv.refusal is None
    assert import_file(engine, "benefit_recipients", (head + rows).encode(), "empty.csv").inserted == 60
    # with a secret there is nothing to refuse
    monkeypatch.setenv(I.SECRET_ENV, "s")
    assert preview_file(engine, "benefit_recipients", late.encode(), "late.csv").refusal is None


def test_demo_has_no_personal_numbers(demo_url):
    """Every text column of the demo store (but the random hex person_key) is free of ID
    and phone numbers."""
    engine = get_engine(demo_url)
    found = []
    with engine.connect() as conn:
        for name, table in DATA_TABLES.items():
            cols = [c for c in table.columns if isinstance(c.type, (String, Text))
                    and c.name != "person_key"]
            for col in cols:
                for (value,) in conn.execute(select(col).distinct()):
                    if value and mask_text(value) != value:
                        found.append((name, col.name, value))
    assert found == []
    assert any(TABLES[t].columns[c].free_text for t in TABLES for c in TABLES[t].columns)


def test_free_text_columns():
    free = {t: sorted(c.name for c in spec.columns.values() if c.free_text) for t, spec in TABLES.items()}
    assert free["cases"] == ["category", "channel", "status", "summary"]
    assert free["worklogs"] == ["content"] and free["relief_grants"] == ["reason"]
    assert free["incidents"] == ["subtype"] and free["petitions"] == ["category"]
    # identifiers and references are never rewritten
    assert not any(TABLES[t].columns[c].free_text for t, c in (
        ("cases", "case_id"), ("cases", "community"), ("cases", "handler_id"),
        ("benefit_recipients", "household_id"), ("benefit_recipients", "person_key")))

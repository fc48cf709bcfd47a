"""An office's own data in: its name (data.store.office, the data page), the demo's rows
removed exactly (data.store.office.remove_demo, the data page) on SQLite,
PostgreSQL and MariaDB, imported rows (new, and demo rows an import updated or confirmed)
kept, and the app not rebuilding the demo in a store that was set up."""
from __future__ import annotations

import sqlite3
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from data.demo import generate
from data.ingest import importer as I
from data.store import office as O
from data.store.db import ROOT, create_schema, get_engine, has_data
from data.store.schema import DATA_TABLES, cases, communities, import_log, office
from tests.test_pages import PAGES

DEMO_UNTIL = date(2018, 1, 31)   # one month of demo: every table has rows, quickly


# ---------------------------------------------------------------------------------------
# The name

@pytest.mark.parametrize("name", ["东湖街道", "城关镇（开发区）", "  北关街道 ", "Lakeside", "二七"])
def test_good_names_are_stored_trimmed(name):
    assert O.check_office_name(name) == name.strip()


@pytest.mark.parametrize("name, why", [
    ("", "2–30"), ("东", "2–30"), ("街" * 31, "2–30"),
    ("**东湖**街道", "*"), ("<b>东湖</b>", "<"), ("[东湖](http://x)", "["),
    ("东湖:material/home:", ":"), ("东湖\n# 街道", "控制字符"), ("东湖`街道`", "`"),
    ("东湖  街道", "连续的空格"),
])
def test_bad_names_are_refused_with_the_reason(name, why):
    with pytest.raises(O.OfficeNameError) as exc:
        O.check_office_name(name)
    assert why in str(exc.value)


@pytest.mark.parametrize("name, title", [
    ("南城街道", "智慧南城"), ("东湖镇", "智慧东湖"), ("城关街道办事处", "智慧城关"),
    ("Lakeside", "智慧Lakeside"), ("街道", "智慧街道"),
])
def test_screen_title(name, title):
    assert O.screen_title(name) == title


def test_name_defaults_sets_and_survives_an_old_store(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'n.db'}")
    assert O.office_name(engine) == O.DEFAULT_NAME          # no tables at all yet
    assert not O.initialised(engine)
    create_schema(engine)
    assert O.office_name(engine) == O.DEFAULT_NAME and not O.initialised(engine)
    assert O.set_office_name(engine, " 东湖街道 ") == "东湖街道"
    assert O.set_office_name(engine, "西湖街道") == "西湖街道"   # updated, not a second row
    assert O.office_name(engine) == "西湖街道" and O.initialised(engine)
    with engine.begin() as conn:                             # edited by hand into markup
        conn.execute(office.update().values(value="<script>"))
    assert O.office_name(engine) == O.DEFAULT_NAME


# ---------------------------------------------------------------------------------------
# Removing the demo, on three databases

COMMUNITIES_CSV = "社区名称,类型,常住人口,户数\n我的社区,社区,1234,456\n{claimed},社区,999,333\n"
CASES_CSV = ("工单编号,受理时间,诉求类别,社区\n"
             "MY-1,2018-01-15 09:30:00,自建类别,我的社区\n"
             "{updated},{updated_at},导入后的类别,{claimed}\n")


def _demo_case(engine, *where) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(cases).where(cases.c.origin == "demo", *where)
                                 .order_by(cases.c.case_id).limit(1)).mappings().one())


def _confirm_csv(row: dict) -> str:
    """A file repeating a demo case's values exactly (it is ``unchanged`` on import)."""
    return (f"工单编号,受理时间,诉求类别,社区\n{row['case_id']},"
            f"{row['reported_at']:%Y-%m-%d %H:%M:%S},{row['category']},{row['community']}\n")


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in O.demo_tables()}


def test_remove_demo_keeps_exactly_the_imported_rows(engine, monkeypatch):
    monkeypatch.setenv(I.SECRET_ENV, "x")
    generate(engine, until=DEMO_UNTIL)
    demo = O.count_demo(engine)
    assert all(demo[t] for t in demo), demo                 # every table has demo rows
    assert demo == _counts(engine)                           # and only demo rows
    updated = _demo_case(engine, cases.c.community != "")
    claimed = updated["community"]     # a demo community the communities file updates
    confirmed = _demo_case(engine, cases.c.community == claimed,
                           cases.c.case_id != updated["case_id"])

    r = I.import_file(engine, "communities",
                      COMMUNITIES_CSV.format(claimed=claimed).encode(), "c.csv")
    assert (r.committed, r.inserted, r.updated) == (True, 1, 1), r.summary_zh()
    r = I.import_file(engine, "cases", CASES_CSV.format(
        updated=updated["case_id"], updated_at=f"{updated['reported_at']:%Y-%m-%d %H:%M:%S}",
        claimed=claimed).encode(), "cases.csv")
    assert (r.committed, r.inserted, r.updated) == (True, 1, 1), r.summary_zh()
    r = I.import_file(engine, "cases", _confirm_csv(confirmed).encode(), "same.csv")
    assert (r.committed, r.unchanged) == (True, 1), r.summary_zh()
    before = _counts(engine)

    result = O.remove_demo(engine)

    expected = {t: demo[t] for t in demo}
    expected["communities"] -= 1                 # the one the communities file updated
    expected["cases"] -= 2                       # one updated, one confirmed by a file
    assert result.removed == expected
    assert result.log_rows == len(DATA_TABLES)
    after = _counts(engine)
    assert after == {t: before[t] - expected[t] for t in before}
    assert after["cases"] == 3 and after["communities"] == 2
    assert sum(O.count_demo(engine).values()) == 0
    with engine.connect() as conn:
        kept = {row.case_id: row for row in conn.execute(select(cases))}
        assert set(kept) == {"MY-1", updated["case_id"], confirmed["case_id"]}
        assert (kept["MY-1"].category, kept["MY-1"].community, kept["MY-1"].reported_at) == \
            ("自建类别", "我的社区", datetime(2018, 1, 15, 9, 30))
        assert kept[updated["case_id"]].category == "导入后的类别"
        assert kept[updated["case_id"]].status == updated["status"]   # not in the file: kept
        assert kept[confirmed["case_id"]].category == confirmed["category"]
        assert all(row.origin is None for row in kept.values())
        pops = dict(conn.execute(select(communities.c.name, communities.c.population)).all())
        assert pops == {"我的社区": 1234, claimed: 999}
        sources = conn.execute(select(import_log.c.source, func.count())
                               .group_by(import_log.c.source)).all()
        assert dict(sources) == {"import": 3}
    # the kept cases still name the demo's grids and handlers, which went with the demo
    assert set(result.dangling) <= {"cases.grid_id", "cases.handler_id"}
    # a second removal finds nothing and changes nothing
    again = O.remove_demo(engine)
    assert again.total == 0 and again.log_rows == 0 and _counts(engine) == after
    assert O.initialised(engine)


def test_a_store_emptied_by_removal_is_set_up_and_not_rebuilt(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'e.db'}")
    generate(engine, until=DEMO_UNTIL)
    O.remove_demo(engine)
    assert not has_data(engine)          # nothing logged any more ...
    assert O.initialised(engine)         # ... but the store was set up: no demo at start
    with engine.connect() as conn:
        assert conn.execute(select(office.c.key)).scalars().all() == [O.DEMO_REMOVED_KEY]


# ---------------------------------------------------------------------------------------
# The app

@pytest.fixture
def demo_copy(demo_url, tmp_path, monkeypatch):
    """A copy of the shared demo store, named by ZHILI_DB_URL for the app."""
    src = sqlite3.connect(demo_url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(tmp_path / "copy.db")
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setenv("ZHILI_DB_URL", url)
    return url


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _sidebar_brand(at) -> str:
    return next(m.value for m in at.sidebar.markdown if m.value.startswith("### 智理"))


def test_data_page_renames_the_office_after_confirmation(demo_copy):
    at = _app()
    assert _sidebar_brand(at) == "### 智理 · 南城街道"
    at.switch_page("pages/data_status.py").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    at.text_input(key="office_name_input").input("东湖街道")
    at.button[[b.label for b in at.button].index("保存名称")].click().run()
    assert any("勾选" in w.value for w in at.warning)
    assert O.office_name(get_engine(demo_copy)) == "南城街道"
    at.text_input(key="office_name_input").input("东湖*街道")
    at.checkbox(key="office_name_confirm").check()
    at.button[[b.label for b in at.button].index("保存名称")].click().run()
    assert any("不能包含" in e.value for e in at.error)
    at.text_input(key="office_name_input").input("东湖街道")
    at.button[[b.label for b in at.button].index("保存名称")].click().run()
    assert not at.exception, at.exception
    assert O.office_name(get_engine(demo_copy)) == "东湖街道"
    assert any("东湖街道" in s.value for s in at.success)
    assert _sidebar_brand(at) == "### 智理 · 东湖街道"
    at.switch_page("pages/bigscreen.py").run()
    assert any('<span class="zl-title">智慧东湖 · 指挥中心</span>' in h.proto.body for h in at.html)


def test_data_page_removes_the_demo_after_confirmation(demo_copy):
    engine = get_engine(demo_copy)
    total = sum(O.count_demo(engine).values())
    at = _app()
    at.switch_page("pages/data_status.py").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    button = at.button(key="office_demo_remove")
    assert button.disabled
    at.checkbox(key="office_demo_confirm").check().run()
    at.button(key="office_demo_remove").click().run()
    assert not at.exception, at.exception
    assert any(f"已删除演示数据 {total:,} 行" in s.value for s in at.success)
    assert sum(O.count_demo(engine).values()) == 0
    assert any("没有演示数据" in c.value for c in at.caption)
    # the next start does not build the demo again, and every page runs on the empty store
    for page in PAGES.values():
        at = _app()
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    assert not has_data(engine) and sum(_counts(engine).values()) == 0

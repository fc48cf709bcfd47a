"""The big screen: its rotation (playlist, dwell, alerts inserted next and repeated each
cycle), its rules, freshness, notices, and every slide in AppTest — with no name of a
cadre, no case text and no ID on any slide."""
from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data.store.db import ROOT, get_engine, tables_as_of
from data.store.notices import NoticeError, all_notices, current_notices, save_notices
from metrics import screen
from metrics.settings import load_settings
from metrics.slides import ALERT, SLIDES
from tests.builders import insert, log_import, ts

SETTINGS = load_settings().with_overrides({"bigscreen.playlist": ["overview", "ranking", "map"],
                                           "bigscreen.dwell.map": 45})


def test_rotation_follows_the_playlist_and_puts_a_new_alert_next():
    state: dict = {}
    shown = [screen.next_slide(state, SETTINGS, frozenset()) for _ in range(4)]
    assert shown == ["overview", "ranking", "map", "overview"]
    # a rule breaks while "overview" shows: the alert slide comes next, then the rotation
    # goes on where it was, and the next cycle opens with the alert
    breaking = frozenset({"超期未办结工单 120 件"})
    shown = [screen.next_slide(state, SETTINGS, breaking) for _ in range(6)]
    assert shown == [ALERT.id, "ranking", "map", ALERT.id, "overview", "ranking"]
    # a second rule: next again
    both = breaking | {"刑事警情 显著上升"}
    assert screen.next_slide(state, SETTINGS, both) == ALERT.id
    assert screen.next_slide(state, SETTINGS, both) == "map"
    # the rules stop breaking: the alert slide queued for the next cycle is skipped
    assert [screen.next_slide(state, SETTINGS, frozenset()) for _ in range(3)] == [
        "overview", "ranking", "map"]


def test_dwell_per_slide_default_alert_and_url_override():
    assert screen.dwell("map", SETTINGS) == 45
    assert screen.dwell("overview", SETTINGS) == 30          # rotate_seconds
    assert screen.dwell(ALERT.id, SETTINGS) == 20            # alert_seconds
    assert screen.dwell("map", SETTINGS, override=3) == 3
    assert screen.rotation(SETTINGS, alerting=True) == [ALERT.id, "overview", "ranking", "map"]


def test_last_workday_follows_the_official_calendar():
    assert screen.last_workday(date(2026, 11, 28)) == date(2026, 11, 27)   # Saturday
    assert screen.last_workday(date(2025, 10, 5)) == date(2025, 9, 30)     # 国庆 holiday
    assert screen.last_workday(date(2025, 10, 11)) == date(2025, 10, 11)   # 调休 Saturday


def test_score_misses_name_each_part_by_what_it_misses():
    counts = {"responded": 8, "response_known": 10, "resolved": 5, "callbacks": 7,
              "satisfied": 6}
    assert screen.score_misses(counts) == {"未及时响应": 2, "回访未解决": 2, "回访不满意": 1}


def _model(compstat_flag="平稳", overdue=50, collective=()):
    cell = {"cur": 9, "prior": 1, "change": 8.0, "z": 4.0, "flag": compstat_flag}
    return {"as_of": ts("2024-03-10 12:00"),
            "compstat": {"刑事": {"d28": cell}, "TOTAL": {"d28": {**cell, "flag": "平稳"}}},
            "collective_week": list(collective),
            "tiles": [{"key": "cases.overdue_open", "value": overdue}]}


def test_alert_rules():
    settings = load_settings()          # cases.targets.overdue_open = 100
    assert screen.alerts(_model(), settings) == []
    texts = [t for _, t in screen.alerts(_model("显著上升", 101), settings)]
    assert texts[0].startswith("刑事警情近28天 9 起, 对比 1 起, z = 4.0, 显著上升")
    assert texts[1] == "超期未办结工单 101 件, 超过目标上限 100 件, 请督办。"
    assert screen.alerts(_model(overdue=100), settings) == []     # at the target: no alert
    recent = {"received_at": ts("2024-03-08 09:00"), "community": "和平社区", "persons": 12,
              "form": "来访", "category": "征地拆迁"}
    old = {**recent, "received_at": ts("2024-03-03 11:00")}      # 7 days and 1 hour before
    assert [t for _, t in screen.alerts(_model(collective=[recent, old]), settings)] == [
        "和平社区 03-08 集体访 12 人(来访, 征地拆迁)。"]


def test_age_hours_in_shanghai_time():
    assert screen.age_hours(datetime(2026, 11, 27, 8, 0), now=datetime(2026, 11, 28, 9, 30)) \
        == pytest.approx(25.5)
    assert screen.age_hours(None) is None


# ------------------------------------------------------------------------- store parts

def test_tables_as_of_and_current_notices(engine):
    log_import(engine, ts("2024-03-01 08:00"), "cases")
    log_import(engine, ts("2024-03-02 09:30"), "cases")
    log_import(engine, ts("2024-02-20 17:00"), "incidents")
    assert tables_as_of(engine) == {"cases": ts("2024-03-02 09:30"),
                                    "incidents": ts("2024-02-20 17:00")}
    insert(engine, "notices", [
        dict(notice_id="N1", title="疾控提示", body="接种流感疫苗", valid_from=date(2024, 3, 1),
             valid_to=date(2024, 3, 10)),
        dict(notice_id="N2", title="防汛", valid_from=date(2024, 3, 10)),          # no end
        dict(notice_id="N3", title="已过期", valid_from=date(2024, 1, 1),
             valid_to=date(2024, 3, 9)),
        dict(notice_id="N4", title="未生效", valid_from=date(2024, 3, 11)),
    ])
    # the first and last days are inside; newest first
    assert current_notices(engine, date(2024, 3, 10)) == [
        {"title": "防汛", "body": ""}, {"title": "疾控提示", "body": "接种流感疫苗"}]
    assert current_notices(engine, date(2024, 3, 9)) == [
        {"title": "疾控提示", "body": "接种流感疫苗"}, {"title": "已过期", "body": ""}]


def test_save_notices_checks_every_row_before_replacing(engine):
    insert(engine, "notices", [dict(notice_id="N001", title="旧通知", valid_from=date(2024, 1, 1))])
    edited = pd.DataFrame([
        {"notice_id": "N001", "title": "旧通知（修改）", "body": None,
         "valid_from": date(2024, 1, 1), "valid_to": None},
        {"notice_id": None, "title": "新通知", "body": "内容",
         "valid_from": "2024-03-01", "valid_to": "2024-03-31"},
    ])
    assert save_notices(engine, edited) == 2
    stored = all_notices(engine)
    assert list(stored["notice_id"]) == ["N002", "N001"]          # the new one got N002
    assert stored.iloc[0]["valid_to"] == date(2024, 3, 31)
    bad = pd.concat([edited, pd.DataFrame([{"notice_id": None, "title": "倒置",
                                            "valid_from": "2024-05-02",
                                            "valid_to": "2024-05-01"}])])
    with pytest.raises(NoticeError, match="第 3 行 截止日期：2024-05-01 早于生效日期 2024-05-02"):
        save_notices(engine, bad)
    with pytest.raises(NoticeError, match="第 1 行 标题：不能为空"):
        save_notices(engine, pd.DataFrame([{"title": " ", "valid_from": "2024-01-01"}]))
    assert len(all_notices(engine)) == 2                           # nothing changed


# ------------------------------------------------------------------------------ AppTest

def _screen(demo_url, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("ZHILI_DB_URL", demo_url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page("pages/bigscreen.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _texts(at) -> str:
    """Everything a slide puts on the screen: HTML, chart specs and map data."""
    parts = [h.proto.body for h in at.html]
    parts += [c.proto.spec for c in at.get("plotly_chart")]
    parts += [d.proto.json for d in at.get("deck_gl_json_chart")]
    return "\n".join(parts)


def _private(demo_url) -> list[str]:
    """What must never reach the screen: cadre names, case summaries, log contents, IDs."""
    from data.store.schema import benefit_recipients, cadres, cases, petitions, worklogs

    engine = get_engine(demo_url)
    with engine.connect() as conn:
        values = [*conn.execute(select(cadres.c.name)).scalars(),
                  *conn.execute(select(cases.c.summary).where(cases.c.summary.is_not(None))
                                .limit(300)).scalars(),
                  *conn.execute(select(worklogs.c.content).limit(300)).scalars(),
                  *conn.execute(select(cases.c.case_id).limit(300)).scalars(),
                  *conn.execute(select(petitions.c.petition_id).limit(300)).scalars(),
                  *conn.execute(select(benefit_recipients.c.person_key).limit(300)).scalars()]
    return [v for v in values if v and len(v) >= 2]


@pytest.mark.parametrize("slide", [*SLIDES, ALERT.id])
def test_every_slide_runs_and_shows_nothing_private(demo_url, monkeypatch, slide):
    at = _screen(demo_url, monkeypatch, slide=slide)
    text = _texts(at)
    title = SLIDES[slide].title if slide in SLIDES else ALERT.title
    assert f'<span class="zl-slide">{title}' in text
    assert "数据截至 2019-12-31" in text and "通知公告" in text
    leaks = [v for v in _private(demo_url) if v in text]
    assert not leaks, leaks[:5]


def test_slides_follow_the_playlist_when_the_dwell_is_up(demo_url, monkeypatch):
    import time

    at = _screen(demo_url, monkeypatch, dwell="1")
    order = screen.rotation(load_settings(), alerting=bool(
        screen.alerts(screen.model(get_engine(demo_url), datetime(2019, 12, 31, 23, 59, 59),
                                   load_settings()), load_settings())))
    seen = []
    for _ in range(len(order)):
        bar = next(h.proto.body for h in at.html if 'class="zl-bar"' in h.proto.body)
        seen.append(bar.split('<span class="zl-slide">')[1].split("<")[0])
        time.sleep(1.0)
        at.run()
        assert not at.exception, at.exception
    titles = [SLIDES[s].title if s in SLIDES else ALERT.title for s in order]
    assert seen == titles


def test_bad_url_parameters_are_named_not_fatal(demo_url, monkeypatch):
    at = _screen(demo_url, monkeypatch, dwell="soon", slide="nope")
    bar = next(h.proto.body for h in at.html if 'class="zl-bar"' in h.proto.body)
    assert "dwell 参数应为 1–3600 的秒数，已忽略" in bar and "slide 参数不是已知的幻灯片，已忽略" in bar


def test_overview_tiles_match_the_metrics(demo_url, monkeypatch):
    from metrics.formatting import fmt_kpi

    at = _screen(demo_url, monkeypatch, slide="overview")
    m = screen.model(get_engine(demo_url), datetime(2019, 12, 31, 23, 59, 59), load_settings())
    tiles = next(h.proto.body for h in at.html if 'class="zl-tiles"' in h.proto.body)
    for t in m["tiles"]:
        assert f'>{fmt_kpi(t["key"], t["value"])}</div>' in tiles, t["key"]
    plot = json.loads(next(c.proto.spec for c in at.get("plotly_chart")))
    assert plot["data"][0]["y"] == [r["value"] for r in m["cases_trend"]]


def test_data_page_edits_the_notices(demo_url, monkeypatch, tmp_path):
    import sqlite3

    copy = tmp_path / "demo.db"
    src, dst = sqlite3.connect(demo_url.removeprefix("sqlite:///")), sqlite3.connect(copy)
    src.backup(dst)          # the store may be in WAL mode: a file copy could miss rows
    src.close()
    dst.close()
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("ZHILI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    at.switch_page("pages/data_status.py").run()
    assert not at.exception, at.exception
    editor = at.data_editor[0]
    assert sorted(editor.value["标题"]) == ["冬季安全", "政务服务", "疾控提示", "（已过期）汛期值班安排"]
    at.session_state["notices_editor"] = {"edited_rows": {}, "deleted_rows": [0],
                                   "added_rows": [{"标题": "<b>停水通知</b>",
                                                   "生效日期": "2019-12-30"}]}
    at.button(key="notices_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("已保存" in s.value for s in at.success)
    shown = {n["title"] for n in current_notices(get_engine(url), date(2019, 12, 31))}
    assert "<b>停水通知</b>" in shown and len(all_notices(get_engine(url))) == 4


def test_notices_import_like_any_table(tmp_path, capsys):
    import cli
    from data.store.db import create_schema

    url = f"sqlite:///{tmp_path / 'n.db'}"
    create_schema(get_engine(url))
    path = tmp_path / "通知.csv"
    path.write_bytes("通知编号,标题,内容,生效日期,截止日期\n"
                     "T1,疾控提示,=流感疫苗接种,2024/3/1,2024年3月31日\n"
                     "T2,,缺标题,2024-03-01,\n"
                     "T3,防汛,,03/05/2024 08:00:00 AM,\n".encode("gbk"))
    assert cli.main(["import", "notices", str(path), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "第 3 行 [标题]" in out                      # the row without a title is rejected
    assert current_notices(get_engine(url), date(2024, 3, 31)) == [
        {"title": "防汛", "body": ""}, {"title": "疾控提示", "body": "=流感疫苗接种"}]


def test_screen_script_reloads_the_page_on_the_setting():
    from pages.ui.screen import script

    assert "var hours = 6;" in script(6.0) and "var hours = 0;" in script(0)
    assert "RELOAD_HOURS" not in script(1.5) and "var hours = 1.5;" in script(1.5)


def test_one_computation_serves_every_open_screen(demo_url, monkeypatch):
    """Ten screens open mean one model computation, not ten (st.cache_data is shared by
    every session of the server)."""
    import streamlit as st

    calls = []
    real = screen.model

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(screen, "model", counting)
    st.cache_data.clear()
    for _ in range(3):
        _screen(demo_url, monkeypatch, slide="overview")
    assert len(calls) == 1

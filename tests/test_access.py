"""Users, roles and the audit trail (issue 16): password hashes, lockout, the scope a viewer
is held to in ``metrics`` (Query intersects it; lists, rosters, appraisal and cadre names
obey it), on SQLite, PostgreSQL and MariaDB. Figures are those of tests/cadre_store.py
(A社区: c1 张三, c2 李四; B社区: c3 王五; 街道: c4 赵六)."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from data.store import audit, users
from data.store.schema import users as users_table
from metrics import appraisal, appraisal_store, attendance, case_lists, roster, worklogs
from metrics.access import (HIDDEN_NAME, OPEN_VIEWER, PAGES, OutOfScope, Viewer,
                            cadre_name_visible, restrict)
from metrics.context import Query, make_query
from metrics.engine import compute
from metrics.period import Period
from metrics.settings import load_settings
from tests import cadre_store as cs
from tests.builders import insert, log_import, ts

OCTOBER = Period(date(2024, 10, 1), date(2024, 10, 31))
LIMITS = dict(max_failures=5, lockout_minutes=15)
NOW = ts("2026-11-28 09:00")


def q(scope=(), allowed=None):
    return Query(OCTOBER, tuple(scope), cs.AS_OF, load_settings(), allowed)


# ------------------------------------------------------------------ rules, no database

def test_restrict_intersects_and_never_widens():
    assert restrict((), None) == ()
    assert restrict(("A社区", "B社区"), None) == ("A社区", "B社区")
    assert restrict((), ("A社区",)) == ("A社区",)                 # empty: the limit
    assert restrict(("B社区", "A社区"), ("A社区",)) == ("A社区",)  # intersection
    with pytest.raises(OutOfScope, match="只能查看: A社区"):
        restrict(("B社区",), ("A社区",))                          # never silently all
    with pytest.raises(OutOfScope):
        restrict((), ())                                           # no community at all


def test_query_holds_its_limit_through_copies():
    query = q(("B社区", "A社区"), ("A社区",))
    assert query.scope == ("A社区",) and query.allowed == ("A社区",)
    assert dataclasses.replace(query, scope=()).scope == ("A社区",)
    with pytest.raises(OutOfScope):
        dataclasses.replace(query, scope=("B社区",))
    assert hash(q((), ("A社区",))) != hash(q(("A社区",)))        # cache keys differ
    assert q(("B社区",)).scope == ("B社区",)                      # no limit: as asked


def test_role_page_map():
    leader, community = Viewer("l", "leader"), Viewer("s", "community", "A社区")
    reviewer, admin, screen = Viewer("r", "reviewer"), Viewer("a", "admin"), Viewer("t", "screen")
    assert leader.pages() == list(PAGES) and OPEN_VIEWER.pages() == list(PAGES)
    assert community.pages() == ["cockpit", "cases", "safety", "benefits", "cadres", "appraisal",
                                 "glossary"]
    assert reviewer.pages() == ["cases", "cadres", "appraisal", "glossary"]
    assert admin.pages() == ["glossary", "data_status"]
    assert screen.pages() == ["bigscreen"]
    assert community.allowed == ("A社区",) and leader.allowed is None and screen.allowed is None
    assert [v.may("publish") for v in (leader, community, reviewer, admin, screen)] == \
        [True, False, True, False, False]
    assert [v.may("audit") for v in (leader, community, reviewer, admin, screen)] == \
        [True, False, False, True, False]


def test_cadre_names_only_for_the_cadres_own_community():
    assert cadre_name_visible("B社区", None)           # leader, reviewer, admin
    assert cadre_name_visible("A社区", ("A社区",))
    assert not cadre_name_visible("B社区", ("A社区",))
    assert not cadre_name_visible(None, ("A社区",))    # a 街道 cadre


# ------------------------------------------------------------------ users and passwords

def test_password_is_stored_only_as_an_argon2_hash(engine):
    users.add(engine, "boss", "leader", password="correct horse")
    with engine.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert users.login(engine, "boss", "correct horse", **LIMITS).user.role == "leader"
    assert users.login(engine, "boss", "wrong horse!", **LIMITS).user is None
    assert users.login(engine, "nobody", "correct horse", **LIMITS).reason == "用户名或密码错误"


def test_user_rules(engine):
    insert(engine, "communities", [dict(name="A社区", kind="社区")])
    with pytest.raises(users.UserError, match="未知角色"):
        users.add(engine, "x", "boss", password="12345678")
    with pytest.raises(users.UserError, match="需要 --community"):
        users.add(engine, "x", "community", password="12345678")
    with pytest.raises(users.UserError, match="没有社区「C社区」"):
        users.add(engine, "x", "community", "C社区", password="12345678")
    with pytest.raises(users.UserError, match="只有 community"):
        users.add(engine, "x", "leader", "A社区", password="12345678")
    with pytest.raises(users.UserError, match="太短"):
        users.add(engine, "x", "leader", password="1234567")
    users.add(engine, "sec", "community", "A社区", password="12345678")
    with pytest.raises(users.UserError, match="已存在"):
        users.add(engine, "sec", "leader", password="12345678")
    token = users.add(engine, "lobby", "screen")
    assert len(token) >= 40 and users.by_token(engine, token).name == "lobby"
    assert users.by_token(engine, token + "x") is None
    assert users.login(engine, "lobby", "", **LIMITS).user is None    # no password login
    assert users.disable(engine, "lobby") and not users.disable(engine, "lobby")
    assert users.by_token(engine, token) is None
    assert [u.name for u in users.listing(engine)] == ["lobby", "sec"]


def test_five_wrong_passwords_lock_the_account(engine):
    users.add(engine, "sec", "leader", password="right password")
    for i in range(1, 5):
        r = users.login(engine, "sec", "wrong", now=NOW + timedelta(seconds=i), **LIMITS)
        assert r.user is None and r.reason == "用户名或密码错误"
    r = users.login(engine, "sec", "wrong", now=NOW + timedelta(seconds=5), **LIMITS)
    assert "锁定 15 分钟" in r.reason
    assert users.get(engine, "sec").locked_until == NOW + timedelta(seconds=5, minutes=15)
    # locked: even the right password is refused until 15 minutes have passed
    r = users.login(engine, "sec", "right password",
                    now=NOW + timedelta(minutes=15, seconds=4), **LIMITS)
    assert r.user is None and "锁定至" in r.reason
    r = users.login(engine, "sec", "right password",
                    now=NOW + timedelta(minutes=15, seconds=6), **LIMITS)
    assert r.user is not None and users.get(engine, "sec").failed_logins == 0
    # a good password resets the count: four wrong ones later do not lock
    for i in range(4):
        users.login(engine, "sec", "wrong", now=NOW + timedelta(hours=1), **LIMITS)
    assert users.get(engine, "sec").locked_until is None
    # an administrator's new password lifts a lockout
    users.login(engine, "sec", "wrong", now=NOW + timedelta(hours=1), **LIMITS)
    assert users.get(engine, "sec").locked_until is not None
    users.set_password(engine, "sec", "a new password")
    assert users.login(engine, "sec", "a new password", now=NOW + timedelta(hours=1),
                       **LIMITS).user is not None


def test_the_audit_trail_records_logins_and_user_changes(engine):
    users.add(engine, "sec", "leader", password="right password", by="命令行(root)")
    users.login(engine, "sec", "wrong", **LIMITS)
    users.login(engine, "sec", "right password", **LIMITS)
    users.disable(engine, "sec", by="命令行(root)")
    users.login(engine, "sec", "right password", **LIMITS)
    audit.record(engine, "sec", "export", "考核评议 2024-10 Excel")
    rows = [(e.actor, e.action) for e in audit.recent(engine)]
    assert rows == [("sec", "export"), ("sec", "login.fail"), ("命令行(root)", "user.disable"),
                    ("sec", "login.ok"), ("sec", "login.fail"), ("命令行(root)", "user.add")]
    assert [e.detail for e in audit.recent(engine, action="login")] == [
        "用户已停用", "登录成功(角色 leader)", "密码错误(连续第 1 次)"]
    assert len(audit.recent(engine, limit=2)) == 2
    assert [e.label for e in audit.recent(engine, action="user.add")] == ["新增用户"]


# ------------------------------------------------------------------ scope in the metrics

@pytest.fixture
def store(engine):
    cs.build(engine)
    log_import(engine, cs.AS_OF, "attendance")
    return engine


def test_figures_of_a_limited_viewer_are_its_communitys(store):
    s = load_settings()
    mine = compute(store, attendance.DOMAIN, q(allowed=("A社区",)), by=("cadre", "community"))
    asked = compute(store, attendance.DOMAIN, q(("A社区",)), by=("cadre", "community"))
    assert mine.kpis == asked.kpis
    assert set(mine.groups["cadre"]) == {"c1", "c2"}
    assert set(mine.groups["community"]) == {"A社区"}
    # 19 + 9 scheduled days of c1 and c2, whatever else was asked for
    crafted = make_query(store, OCTOBER, scope=("A社区", "B社区"), as_of=cs.AS_OF, settings=s,
                         allowed=("A社区",))
    assert crafted.scope == ("A社区",)
    assert compute(store, attendance.DOMAIN, crafted, by=()).kpis[
        "attendance.scheduled_days"] == 28
    with pytest.raises(OutOfScope):
        make_query(store, OCTOBER, scope=("B社区",), as_of=cs.AS_OF, allowed=("A社区",))


def test_rosters_and_cadre_lists_stay_inside(store):
    limited = q(allowed=("A社区",))
    assert [c["cadre_id"] for c in roster.listing(store, limited)] == ["c1", "c2"]
    assert {x["cadre_id"] for x in worklogs.suspect_list(store, limited)} <= {"c1", "c2"}
    assert attendance.cadre_days(store, limited, "c1")
    for fn in (attendance.cadre_days, worklogs.logged_days,
               lambda e, qq, c: appraisal.handled_cases(e, qq, c)):
        with pytest.raises(OutOfScope):
            fn(store, limited, "c3")          # B社区's cadre by a crafted id
        with pytest.raises(OutOfScope):
            fn(store, limited, "c4")          # a 街道 cadre
    # a leader who chose B社区 gets nothing for an A cadre, not an error
    assert attendance.cadre_days(store, q(("B社区",)), "c1") == []
    # the handled cases of an A cadre include its case in B社区 (as in its score)
    assert "k2" in {c["case_id"] for c in appraisal.handled_cases(store, limited, "c1")}


def test_case_lists_and_handler_names(store):
    # an open overdue case in B社区 handled by c1 (A社区)
    insert(store, "cases", [dict(case_id="k9", handler_id="c1", community="B社区",
                                 reported_at=ts("2024-10-08 09:00"),
                                 deadline_at=ts("2024-10-10 18:00"))])
    every = case_lists.overdue_backlog(store, q())
    assert dict(zip(every["case_id"], every["handler"]))["k9"] == "张三"
    b_only = case_lists.overdue_backlog(store, q(allowed=("B社区",)))
    assert list(b_only["case_id"]) == ["k9"] and list(b_only["handler"]) == [HIDDEN_NAME]
    a_only = case_lists.overdue_backlog(store, q(allowed=("A社区",)))
    assert set(a_only["community"]) == {"A社区"} and set(a_only["handler"]) == {"张三"}
    lost = case_lists.lost_point_cases(store, q(allowed=("B社区",)), "B社区")
    assert set(lost["handler"]) == {HIDDEN_NAME}
    with pytest.raises(OutOfScope):
        case_lists.lost_point_cases(store, q(allowed=("A社区",)), "B社区")


def test_appraisal_rows_of_a_limited_viewer_keep_street_ranks(store):
    s = load_settings()
    full = appraisal_store.month_view(store, "2024-10", s)
    mine = appraisal_store.month_view(store, "2024-10", s, allowed=("A社区",))
    assert {r["cadre_id"]: (r["score"], r["rank"]) for r in mine.rows} == {
        "c1": (68.29, 2), "c2": (85.19, 1)}
    assert [r for r in full.rows if r["community"] == "A社区"] == mine.rows
    assert [r["cadre_id"] for r in appraisal_store.month_view(
        store, "2024-10", s, allowed=("B社区",)).rows] == ["c3"]
    # published: the snapshot is filtered the same way, and the publication is audited
    appraisal_store.publish(store, "2024-10", s, by="审核员")
    mine = appraisal_store.month_view(store, "2024-10", s, allowed=("A社区",))
    assert mine.published and [r["cadre_id"] for r in mine.rows] == ["c2", "c1"]
    assert [(e.actor, e.detail) for e in audit.recent(store, action="appraisal")] == [
        ("审核员", "发布 2024-10 干部考核 4 人")]
    month_q = appraisal.month_query(store, "2024-10", s, allowed=("A社区",))
    assert month_q.scope == ("A社区",)

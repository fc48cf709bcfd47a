"""Data-quality checks: each finds exactly the planted faults, on all three databases."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from data import quality as Q
from tests.builders import insert, log_import, ts

KEY_A = "a" * 64
KEY_B = "b" * 64


@pytest.fixture
def store(engine):
    insert(engine, "communities", [{"name": "城东社区", "kind": "社区"}, {"name": "城西社区", "kind": "社区"}])
    insert(engine, "cases", [
        # fine
        {"case_id": "C1", "reported_at": ts("2024-03-01 09:00:10"), "community": "城东社区",
         "closed_at": ts("2024-03-02 09:00"), "deadline_at": ts("2024-03-05 09:00"), "summary": "路灯不亮"},
        # duplicate of C1: same summary, community, minute
        {"case_id": "C2", "reported_at": ts("2024-03-01 09:00:50"), "community": "城东社区", "summary": "路灯不亮"},
        # same summary, next minute: not a duplicate
        {"case_id": "C3", "reported_at": ts("2024-03-01 09:01:00"), "community": "城东社区", "summary": "路灯不亮"},
        # closed before reported, deadline before reported
        {"case_id": "C4", "reported_at": ts("2024-03-03 10:00"), "community": "城西社区",
         "closed_at": ts("2024-03-03 09:00"), "deadline_at": ts("2024-03-02 10:00"), "summary": "噪音"},
        # community not in communities, and empty community
        {"case_id": "C5", "reported_at": ts("2024-03-04 10:00"), "community": "不存在社区", "summary": "a"},
        {"case_id": "C6", "reported_at": ts("2024-03-04 11:00"), "community": "", "summary": "b"},
        # reported in the future (2031 for 2021), with a deadline after it: one finding
        {"case_id": "C7", "reported_at": ts("2031-03-04 11:00"), "community": "城东社区",
         "deadline_at": ts("2031-03-14 11:00"), "summary": "c7"},
        # a deadline ahead is normal
        {"case_id": "C8", "reported_at": ts("2024-03-04 12:00"), "community": "城东社区",
         "deadline_at": ts("2031-03-14 11:00"), "summary": "c8"},
    ])
    insert(engine, "petitions", [
        {"petition_id": "P1", "received_at": ts("2024-03-01 10:00"), "community": "城东社区",
         "closed_at": ts("2024-02-28 10:00")},
        {"petition_id": "P2", "received_at": ts("2024-03-01 10:00"), "community": "城东社区",
         "closed_at": ts("2024-03-08 10:00"), "deadline_at": ts("2024-04-30 10:00")},
        # closed in the future
        {"petition_id": "P3", "received_at": ts("2024-03-01 10:00"), "community": "城东社区",
         "closed_at": ts("2031-03-08 10:00")},
    ])
    insert(engine, "attendance", [
        {"cadre_id": "G1", "day": date(2024, 3, 1), "check_in_at": ts("2024-03-01 08:20"),
         "check_out_at": ts("2024-03-01 17:40")},
        {"cadre_id": "G1", "day": date(2024, 3, 4), "check_in_at": ts("2024-03-04 08:20"),
         "check_out_at": ts("2024-03-04 07:40")},
        {"cadre_id": "G2", "day": date(2024, 3, 4), "check_in_at": ts("2024-03-04 08:20")},
        {"cadre_id": "G3", "day": date(2031, 1, 2), "check_in_at": ts("2031-01-02 08:20")},
    ])
    insert(engine, "worklogs", [
        {"log_id": "L1", "cadre_id": "G1", "day": date(2024, 3, 1), "content": "走访三户居民，了解诉求"},
        {"log_id": "L2", "cadre_id": "G1", "day": date(2024, 3, 1), "content": "走访三户居民，了解诉求"},
        {"log_id": "L3", "cadre_id": "G1", "day": date(2024, 3, 1), "content": "走访三户居民，了解诉求"},
        {"log_id": "L4", "cadre_id": "G2", "day": date(2024, 3, 1), "content": "走访三户居民，了解诉求"},
        {"log_id": "L5", "cadre_id": "G1", "day": date(2024, 3, 2), "content": "走访三户居民，了解诉求"},
        {"log_id": "L6", "cadre_id": "G3", "day": date(2024, 3, 2), "created_at": ts("2031-01-02 18:00"),
         "content": "入户走访"},
    ])
    insert(engine, "benefit_recipients", [
        {"recipient_id": "R1", "person_key": KEY_A, "program": "城市低保", "community": "城东社区",
         "start_month": "2023-01", "end_month": "2023-12", "monthly_amount": Decimal("700")},
        {"recipient_id": "R2", "person_key": KEY_A, "program": "特困供养", "community": "城东社区",
         "start_month": "2023-12", "end_month": None},
        {"recipient_id": "R3", "person_key": KEY_B, "program": "农村低保", "community": "城西社区",
         "start_month": "2023-01", "end_month": "2023-06"},
        {"recipient_id": "R4", "person_key": KEY_B, "program": "特困供养", "community": "城西社区",
         "start_month": "2023-07", "end_month": None},
    ])
    insert(engine, "benefit_payments", [
        {"recipient_id": "R1", "month": "2023-06", "amount": Decimal("700.00")},
        {"recipient_id": "R1", "month": "2024-01", "amount": Decimal("700.00")},   # after end
        {"recipient_id": "R3", "month": "2022-12", "amount": Decimal("500.00")},   # before start
        {"recipient_id": "RX", "month": "2023-05", "amount": Decimal("500.00")},   # unknown
        {"recipient_id": "R3", "month": "2023-02", "amount": Decimal("650.01")},   # above standard
        {"recipient_id": "R3", "month": "2023-03", "amount": Decimal("650.00")},   # equal: fine
    ])
    insert(engine, "benefit_standards", [
        {"year": 2023, "program": "城市低保", "monthly_amount": Decimal("750.00")},
        {"year": 2023, "program": "农村低保", "monthly_amount": Decimal("650.00")},
        {"year": 2022, "program": "农村低保", "monthly_amount": Decimal("400.00")},
    ])
    return engine


def test_duplicates(store):
    n, rows = Q.duplicate_worklogs(store)
    assert n == 1
    assert rows.iloc[0].tolist()[0] == "G1" and rows.iloc[0]["重复篇数"] == 3
    assert (rows.iloc[0]["日志编号(最小)"], rows.iloc[0]["日志编号(最大)"]) == ("L1", "L3")
    n, rows = Q.duplicate_cases(store)
    assert n == 1
    assert rows.iloc[0]["重复件数"] == 2 and rows.iloc[0]["受理时间(分钟)"] == "2024-03-01 09:00"
    assert (rows.iloc[0]["工单编号(最小)"], rows.iloc[0]["工单编号(最大)"]) == ("C1", "C2")


def test_time_order_checks(store):
    n, rows = Q.closed_before_reported(store)
    assert n == 2 and sorted(rows["编号"]) == ["C4", "P1"]
    n, rows = Q.deadline_before_reported(store)
    assert n == 1 and rows["编号"].tolist() == ["C4"]
    n, rows = Q.checkout_before_checkin(store)
    assert n == 1 and rows.iloc[0]["人员编号"] == "G1"
    assert str(rows.iloc[0]["日期"])[:10] == "2024-03-04"


def test_cases_without_community(store):
    n, rows = Q.cases_without_community(store)
    assert n == 2 and sorted(rows["工单编号"]) == ["C5", "C6"]


def test_benefit_checks(store):
    n, rows = Q.payments_outside_spell(store)
    assert n == 3
    got = {(r["保障对象编号"], r["发放年月"], r["问题"]) for _, r in rows.iterrows()}
    assert got == {("R1", "2024-01", "晚于终止年月"), ("R3", "2022-12", "早于起始年月"),
                   ("RX", "2023-05", "无此保障对象")}
    n, rows = Q.dibao_and_tekun(store)
    assert n == 1  # KEY_A overlaps in 2023-12; KEY_B's spells do not touch
    r = rows.iloc[0]
    assert (r["低保对象编号"], r["特困对象编号"], r["重叠起始年月"], r["重叠终止年月"]) == ("R1", "R2", "2023-12", "2023-12")
    assert r["身份标识(前8位)"] == "aaaaaaaa…"
    assert not rows.astype(str).apply(lambda col: col.str.contains(KEY_A)).any().any()
    n, rows = Q.amounts_above_standard(store)
    # R3 2023-02 (650.01 > 650) and R3 2022-12 (500 > 400 of 2022)
    assert n == 2
    assert sorted(rows["发放年月"]) == ["2022-12", "2023-02"]


def test_run_checks_on_empty_store(engine):
    findings = Q.run_checks(engine)
    assert [f.check.key for f in findings] == [c.key for c in Q.CHECKS]
    assert all(f.error is None and f.count == 0 and f.rows.empty for f in findings)


def test_run_checks_counts(store):
    counts = {f.check.key: f.count for f in Q.run_checks(store)}
    assert counts == {"duplicate_worklogs": 1, "duplicate_cases": 1, "closed_before_reported": 2,
                      "deadline_before_reported": 1, "cases_without_community": 2,
                      "checkout_before_checkin": 1, "payments_outside_spell": 3,
                      "dibao_and_tekun": 1, "amounts_above_standard": 2, "dated_after_as_of": 4}


def test_dated_after_as_of(store):
    """Records dated after 数据截至 (here: now, no import logged) are listed, one row per
    record with its first such column; deadlines ahead are not."""
    n, rows = Q.dated_after_as_of(store)
    assert n == 4
    got = {(r["类别"], r["编号"], r["字段"], str(r["日期"])) for _, r in rows.iterrows()}
    assert got == {("诉求工单", "C7", "受理时间", "2031-03-04 11:00:00"),
                   ("信访", "P3", "办结时间", "2031-03-08 10:00:00"),
                   ("干部考勤", "G3", "日期", "2031-01-02"),
                   ("工作日志", "L6", "填报时间", "2031-01-02 18:00:00")}
    check = next(c for c in Q.CHECKS if c.key == "dated_after_as_of")
    assert check.title == "日期晚于数据截至" and "2031" in check.description


def test_dated_after_as_of_follows_the_store(store):
    """The reference is the store's 数据截至 when it is earlier than now."""
    log_import(store, ts("2024-03-03 12:00"))
    assert Q.future_reference(store) == ts("2024-03-03 12:00")
    n, rows = Q.dated_after_as_of(store)
    assert sorted(rows["编号"]) == ["C5", "C6", "C7", "C8", "G1", "G2", "G3", "L6", "P2", "P3"]
    assert n == 10 and set(rows["数据截至"]) == {"2024-03-03 12:00"}

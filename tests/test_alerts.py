"""Alert rules: targets missed, backlog, CompStat 显著上升, recent collective petitions."""
from __future__ import annotations

import pandas as pd

from metrics.alerts import backlog_alert, collective_alerts, compstat_alerts, target_misses
from metrics.settings import load_settings
from tests.builders import ts


def test_target_misses_and_backlog():
    table = pd.DataFrame([
        {"unit": "A社区", "ranked": True, "cases.closure_rate": 0.95, "cases.escalated_share": 0.2},
        {"unit": "B社区", "ranked": True, "cases.closure_rate": 0.90, "cases.escalated_share": 0.0},
        {"unit": "C社区", "ranked": False, "cases.closure_rate": 0.10, "cases.escalated_share": 0.9}])
    settings = load_settings().with_overrides({"cases.targets.closure_rate": 0.93})
    assert target_misses(table, ["cases.closure_rate"], settings) == [
        ("warning", "B社区 办结率 90.0%, 低于目标 93.0%。")]   # C is not ranked
    assert backlog_alert("cases.overdue_open", 0, "诉求办理") == []
    assert backlog_alert("cases.overdue_open", 1234, "诉求办理") == [
        ("urgent", "超期未办结 1,234 件, 请督办(见“诉求办理”页)。")]


def cell(cur, prior, z, flag):
    return {"cur": cur, "prior": prior, "change": None, "z": z, "flag": flag}


def test_compstat_alerts_name_sharp_rises_only():
    table = {"刑事": {"d28": cell(9, 1, 4.0, "显著上升")},
             "治安": {"d28": cell(4, 1, 2.0, "上升")},
             "TOTAL": {"d28": cell(13, 2, 4.4, "显著上升")}}
    assert compstat_alerts(table) == [
        ("urgent", "刑事警情近28天 9 起, 对比 1 起, z = 4.0, 显著上升。")]


def test_collective_alerts_last_seven_days():
    rows = [dict(community="A社区", received_at=ts("2024-03-24 09:00"), persons=6, form="来访",
                 category="征地拆迁"),
            dict(community="B社区", received_at=ts("2024-03-25 10:00"), persons=5, form=None,
                 category=None)]
    assert collective_alerts(rows, ts("2024-03-31 09:00")) == [
        ("urgent", "B社区 03-25 集体访 5 人(形式未填, 类别未填)。")]

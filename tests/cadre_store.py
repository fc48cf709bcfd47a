"""A hand-made store for the cadre domains (attendance, work logs, appraisal): October 2024.

October 2024 by the official calendar: 1–7 October is the National Day holiday and
Saturday 12 October a make-up working day (调休上班), so its 19 workdays are
8 9 10 11 12 | 14 15 16 17 18 | 21 22 23 24 25 | 28 29 30 31.
as_of is 2024-11-05 12:00 unless a test says otherwise.

Cadres (communities A社区 with an outline, B社区 without one):

- c1 张三, 网格员, A社区, since 2020: scheduled all 19 days;
- c2 李四, 网格员, A社区, joins on Monday 21 October: 21–25, 28–31 = 9 days;
- c3 王五, 社区干部, B社区, leaves on Tuesday 15 October: 8–12, 14, 15 = 7 days;
- c4 赵六, 街道干部, no community: 19 days.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert as sql_insert

from data.store.schema import boundaries
from tests.builders import insert, ts

AS_OF = ts("2024-11-05 12:00")
OCTOBER_WORKDAYS = [date(2024, 10, d) for d in (8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 21, 22,
                                                  23, 24, 25, 28, 29, 30, 31)]
# A社区's outline: a square whose centroid is (35.21, 115.41)
A_OUTLINE = ('{"type":"Polygon","coordinates":[[[115.40,35.20],[115.42,35.20],'
             '[115.42,35.22],[115.40,35.22],[115.40,35.20]]]}')
CENTRE = (35.21, 115.41)

CADRES = [
    dict(cadre_id="c1", name="张三", role="网格员", community="A社区", joined_on=date(2020, 1, 1)),
    dict(cadre_id="c2", name="李四", role="网格员", community="A社区",
         joined_on=date(2024, 10, 21)),
    dict(cadre_id="c3", name="王五", role="社区干部", community="B社区",
         joined_on=date(2019, 5, 1), left_on=date(2024, 10, 15)),
    dict(cadre_id="c4", name="赵六", role="街道干部", joined_on=date(2018, 1, 1)),
]


def at(d: date, hhmmss: str) -> datetime:
    return datetime.combine(d, datetime.strptime(hhmmss, "%H:%M:%S").time())


def _day(cadre: str, d: date, cin: str | None, cout: str | None, lat=CENTRE[0],
         lon=CENTRE[1]) -> dict:
    return dict(cadre_id=cadre, day=d, check_in_at=at(d, cin) if cin else None,
                check_out_at=at(d, cout) if cout else None, lat=lat, lon=lon)


def oct_(n: int) -> date:
    return date(2024, 10, n)


def attendance_rows() -> list[dict]:
    rows = []
    # c1: 08:00:00–17:30:00 (9.5 h) on every workday, except:
    special = {
        8: ("08:30:00", "17:30:00"),    # on time to the second: not late, not early (9 h)
        9: ("08:30:01", "17:30:00"),    # late by one second (32 399 s)
        10: ("08:00:00", "17:29:59"),   # early by one second (34 199 s)
        11: ("08:00:00", None),         # no check-out
        12: ("08:10:00", "17:40:00"),   # the make-up Saturday, 9.5 h
        14: None,                       # absent
    }
    for d in OCTOBER_WORKDAYS:
        times = special.get(d.day, ("08:00:00", "17:30:00"))
        if times is None:
            continue
        lat = 35.2185 if d.day == 15 else CENTRE[0]   # 15th: ~945 m north, within 1 km
        rows.append(_day("c1", d, *times, lat=lat))
    rows.append(_day("c1", oct_(3), "09:00:00", "11:00:00"))   # National Day: off-day check-in
    rows.append(_day("c1", oct_(13), "10:00:00", None))        # Sunday: off-day check-in
    # c2: before joining (18th, not scheduled: not counted anywhere), then 21–30
    # (absent on the 31st); on the 22nd ~1.8 km east of A社区's centre: far
    rows.append(_day("c2", oct_(18), "08:00:00", "17:30:00"))
    for n in (21, 22, 23, 24, 25, 28, 29, 30):
        rows.append(_day("c2", oct_(n), "08:20:00", "17:35:00",
                         lon=115.43 if n == 22 else CENTRE[1]))
    # c3: 8–12 present, absent 14 and 15, a record after leaving (16th: not counted);
    # far away, but B社区 has no outline: not listed as far
    for n in (8, 9, 10, 11, 12, 16):
        rows.append(_day("c3", oct_(n), "08:05:00", "17:30:00", lat=35.30, lon=115.60))
    # c4 (no community): every workday
    for d in OCTOBER_WORKDAYS:
        rows.append(_day("c4", d, "08:00:00", "17:30:00"))
    return rows


# Log texts: X has 30 characters and 28 distinct 3-grams. X_END changes its last
# character (one gram differs: J = 27/29 = 0.931 >= 0.9); X_MID changes its 15th character
# (three grams differ: J = 25/31 = 0.806 < 0.9).
X = "东风路三号楼走访独居老人询问用药饮食并登记回访单跟进物业维修"
X_END = X[:-1] + "甲"
X_MID = X[:14] + "乙" + X[15:]
TEXTS = {  # other logs: long (>= 15 characters) and unlike each other
    "a": "巡查南湖小区消防通道发现电动车占道已通知物业清理",
    "b": "在幸福里社区宣传城乡居民医保参保政策发放资料四十份",
    "c": "调解七号楼楼上楼下漏水纠纷双方达成维修协议并签字",
    "d": "核查低保家庭收入变化情况入户两家材料已报街道审核",
    "e": "陪同就业困难人员到人社窗口登记求职意向并推荐岗位",
    "f": "组织志愿者清理老旧小区楼道杂物共清运垃圾三车左右",
    "g": "对辖区出租房屋开展安全检查发现隐患两处已督促整改",
    "h": "入户回访上周办结工单的居民对处理结果表示基本满意",
    "i": "参加街道网格化工作例会汇报本月民情台账更新的进展",
    "j": "排查学校周边路灯和井盖损坏情况拍照上报城管部门处理",
    "k": "走访残疾人家庭宣传两项补贴政策协助准备申请材料一份",
    "m": "收集居民对停车难问题的意见建议整理后提交社区两委",
    "n": "检查农贸市场周边占道经营情况劝离流动摊贩六处摊位",
    "p": "协助开展人口信息采集核对新迁入住户三户信息已录入",
    "z": "到金色家园小区了解加装电梯意愿统计同意户数与楼层",
    "v": "走访退役军人家庭送去慰问品并了解就业和医疗方面需求",
}


def _log(log_id, cadre, d: date, created: str | None, content, visits=None, issues=None):
    return dict(log_id=log_id, cadre_id=cadre, day=d,
                created_at=datetime.fromisoformat(created) if created else None,
                content=content, visits=visits, issues_reported=issues)


def worklog_rows() -> list[dict]:
    return [
        # c1 ---------------------------------------------------------------------------
        _log("L01", "c1", oct_(8), "2024-10-08 18:00", X, visits=3, issues=1),
        _log("L02", "c1", oct_(9), "2024-10-09 18:00", X_END, visits=2),   # 雷同 of L01
        _log("L03", "c1", oct_(9), "2024-10-09 19:00", TEXTS["a"], issues=2),  # 2nd log of the 9th
        _log("L04", "c1", oct_(10), "2024-10-10 18:00", "走访"),            # 过短 (2 characters)
        _log("L05", "c1", oct_(11), "2024-10-13 09:00", TEXTS["b"]),        # 补录过晚: 2 days
        _log("L06", "c1", oct_(12), "2024-10-13 10:00", TEXTS["c"]),        # 1 day: in time
        _log("L07", "c1", oct_(3), "2024-10-03 12:00", TEXTS["d"]),         # holiday: not in the rate
        _log("L08", "c1", oct_(15), "2024-10-15 18:00", X_MID, visits=5),  # J 0.806: not 雷同
        # a month-end batch: six logs of earlier days written on 30 and 31 October
        # (each also more than a day late)
        _log("L21", "c1", oct_(21), "2024-10-30 10:00", TEXTS["e"]),
        _log("L22", "c1", oct_(22), "2024-10-30 10:01", TEXTS["f"]),
        _log("L23", "c1", oct_(23), "2024-10-30 10:02", TEXTS["g"]),
        _log("L24", "c1", oct_(24), "2024-10-30 10:03", TEXTS["h"]),
        _log("L25", "c1", oct_(25), "2024-10-30 10:04", TEXTS["i"]),
        _log("L28", "c1", oct_(28), "2024-10-31 09:00", TEXTS["j"]),
        # c2: before joining (counts as a log, not for the rate), then the 21st and 22nd;
        # four earlier days written on 30 October: fewer than 5, no batch (but late)
        _log("M18", "c2", oct_(18), "2024-10-18 18:00", TEXTS["k"], visits=1),
        _log("M21", "c2", oct_(21), "2024-10-21 18:00", TEXTS["m"], visits=4),
        _log("M22", "c2", oct_(22), "2024-10-22 18:00", TEXTS["n"]),
        _log("M23", "c2", oct_(23), "2024-10-30 18:00", TEXTS["p"]),
        _log("M24", "c2", oct_(24), "2024-10-30 18:01", TEXTS["z"] + "二"),
        _log("M25", "c2", oct_(25), "2024-10-30 18:02", TEXTS["v"] + "三"),
        _log("M28", "c2", oct_(28), "2024-10-30 18:03", TEXTS["a"] + "四"),
        # c3: one log on the 8th; one after leaving (16th: a log, not for the rate)
        _log("N08", "c3", oct_(8), "2024-10-08 17:00", TEXTS["b"], issues=1),
        _log("N16", "c3", oct_(16), "2024-10-16 17:00", TEXTS["c"]),
        # c4: the 8th copies 8 September (30 days earlier: 雷同); the 7th repeats
        # 6 September (31 days: not 雷同); a log of the 11th written after as_of
        _log("P0906", "c4", date(2024, 9, 6), "2024-09-06 18:00", TEXTS["v"]),
        _log("P0908", "c4", date(2024, 9, 8), "2024-09-08 18:00", TEXTS["z"]),
        _log("P07", "c4", oct_(7), "2024-10-07 18:00", TEXTS["v"]),
        _log("P08", "c4", oct_(8), "2024-10-08 18:00", TEXTS["z"], visits=2),
        _log("P09", "c4", oct_(9), None, TEXTS["d"]),                   # no written time
        _log("P10", "c4", oct_(10), "2024-10-10 18:00", TEXTS["e"]),
        _log("P11", "c4", oct_(11), "2024-11-06 09:00", TEXTS["f"]),    # after as_of
    ]


def case_rows() -> list[dict]:
    """Cases handled by c1 and c2 (none by c3, c4)."""
    def case(case_id, handler, reported, deadline=None, closed=None, satisfaction=None,
             community="A社区"):
        return dict(case_id=case_id, handler_id=handler, community=community,
                    reported_at=ts(reported), deadline_at=ts(deadline) if deadline else None,
                    closed_at=ts(closed) if closed else None, satisfaction=satisfaction)
    return [
        case("k1", "c1", "2024-10-08 09:00", "2024-10-15 18:00", "2024-10-10 10:00", "满意"),
        # late, dissatisfied; in B社区: the scope applies to the cadre, not the case
        case("k2", "c1", "2024-10-09 09:00", "2024-10-12 18:00", "2024-10-20 10:00", "不满意",
             community="B社区"),
        case("k3", "c1", "2024-10-20 09:00", "2024-10-25 18:00"),          # open, overdue
        case("k4", "c1", "2024-10-22 09:00", None, "2024-10-23 10:00", "基本满意"),
        case("k5", "c1", "2024-09-01 09:00", "2024-09-10 18:00"),          # September, overdue
        case("k6", "c2", "2024-10-22 09:00", "2024-10-31 18:00", "2024-10-25 10:00"),
    ]


def build(engine) -> None:
    insert(engine, "communities", [dict(name="A社区", kind="社区", population=5000),
                                   dict(name="B社区", kind="社区", population=4000)])
    insert(engine, "cadres", CADRES)
    insert(engine, "attendance", attendance_rows())
    insert(engine, "worklogs", worklog_rows())
    insert(engine, "cases", case_rows())
    with engine.begin() as conn:
        conn.execute(sql_insert(boundaries), [{"community": "A社区", "geometry": A_OUTLINE}])


def field_seconds_c1() -> int:
    """c1's seconds on duty over present days with both times (17 days)."""
    return 32400 + 32399 + 34199 + 34200 + 13 * 34200


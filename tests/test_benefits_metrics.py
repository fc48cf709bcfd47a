"""benefits.* against a hand-made store on three databases; every expected figure is
worked out in the comments.

A社区 (1 000 residents) keeps recipient lists; B社区 (2 000) hands in only monthly
statistics; C社区 (500) has nothing. as_of 2024-03-31 18:00 unless said otherwise.

Recipient lists (A社区):
- r1  城市低保 k1 h1  2024-03..2024-03   starts and ends in the same month; paid 03: 700
- r2a 城市低保 k2 h1  2024-01..2024-01   paid 01: 600, and 02: 600 (outside any spell)
- r2b 城市低保 k2 h1  2024-03..open      the same person after a gap; paid 03: 600
- r5  城市低保 k5 --  2023-06..open      no household (a household of its own);
                                         paid 01: 700, 02: 700, 03: 800 (above 750)
- r3  农村低保 k3 h3  2024-02..2024-04   paid 02: 400, 03: 400
- r4  特困供养 k3 h4  2024-03..open      the same person as r3; paid 03: 900
Relief grants (A社区): g1 2024-03-05 1 000, g2 2024-02-10 500.
Monthly statistics:
- B社区 城市低保 01: 10 户 15 人 9 000 元 新增 2 退出 1; 02: 10 户 16 人 9 600 元 新增 1 退出 (blank);
  03: 11 户 17 人 10 200.50 元 新增 1 退出 0; B社区 临时救助 03: 2 人 1 600 元.
- A社区 城市低保 03: 99 人 99 999 元 — the list covers A社区 城市低保 in March: ignored.
- A社区 农村低保 01: 2 户 3 人 1 500 元 (新增/退出 blank) — the list has no 农村低保 in
  January for A社区 (r3 starts in February): used.
Standards 2024: 城市低保 750, 农村低保 500, 特困供养 1 000. Insurance 2024: A 760 / 800,
B 1 700 / 1 800; 2023: A 700 / 790 (another year). 残疾人生活补贴 has no recipients at all.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from metrics import benefits as m
from metrics.context import Query
from metrics.period import Period
from metrics.settings import load_settings
from tests.builders import insert, ts

AS_OF = ts("2024-03-31 18:00")
MARCH = Period(date(2024, 3, 1), date(2024, 3, 31))
Q1 = Period(date(2024, 1, 1), date(2024, 3, 31))
POPULATION = 1000 + 2000 + 500

RECIPIENTS = [
    dict(recipient_id="r1", person_key="k1", household_id="h1", program="城市低保",
         community="A社区", start_month="2024-03", end_month="2024-03"),
    dict(recipient_id="r2a", person_key="k2", household_id="h1", program="城市低保",
         community="A社区", start_month="2024-01", end_month="2024-01"),
    dict(recipient_id="r2b", person_key="k2", household_id="h1", program="城市低保",
         community="A社区", start_month="2024-03"),
    dict(recipient_id="r5", person_key="k5", program="城市低保", community="A社区",
         start_month="2023-06"),
    dict(recipient_id="r3", person_key="k3", household_id="h3", program="农村低保",
         community="A社区", start_month="2024-02", end_month="2024-04"),
    dict(recipient_id="r4", person_key="k3", household_id="h4", program="特困供养",
         community="A社区", start_month="2024-03"),
]
PAYMENTS = [("r1", "2024-03", "700"), ("r2a", "2024-01", "600"), ("r2a", "2024-02", "600"),
            ("r2b", "2024-03", "600"), ("r5", "2024-01", "700"), ("r5", "2024-02", "700"),
            ("r5", "2024-03", "800"), ("r3", "2024-02", "400"), ("r3", "2024-03", "400"),
            ("r4", "2024-03", "900")]
MONTHLY = [
    dict(community="B社区", month="2024-01", program="城市低保", households=10, persons=15,
         spending=Decimal("9000"), new=2, exited=1),
    dict(community="B社区", month="2024-02", program="城市低保", households=10, persons=16,
         spending=Decimal("9600"), new=1),
    dict(community="B社区", month="2024-03", program="城市低保", households=11, persons=17,
         spending=Decimal("10200.50"), new=1, exited=0),
    dict(community="B社区", month="2024-03", program="临时救助", persons=2,
         spending=Decimal("1600")),
    dict(community="A社区", month="2024-03", program="城市低保", households=50, persons=99,
         spending=Decimal("99999"), new=9, exited=9),
    dict(community="A社区", month="2024-01", program="农村低保", households=2, persons=3,
         spending=Decimal("1500")),
]


@pytest.fixture
def store(engine):
    insert(engine, "communities", [dict(name="A社区", kind="社区", population=1000),
                                   dict(name="B社区", kind="社区", population=2000),
                                   dict(name="C社区", kind="社区", population=500)])
    insert(engine, "benefit_recipients", RECIPIENTS)
    insert(engine, "benefit_payments", [dict(recipient_id=i, month=mo, amount=Decimal(a))
                                        for i, mo, a in PAYMENTS])
    insert(engine, "relief_grants", [
        dict(grant_id="g1", community="A社区", granted_on=date(2024, 3, 5), amount=Decimal("1000"),
             reason="因病致困"),
        dict(grant_id="g2", community="A社区", granted_on=date(2024, 2, 10), amount=Decimal("500"),
             reason="突发火灾")])
    insert(engine, "benefit_monthly", MONTHLY)
    insert(engine, "benefit_standards", [
        dict(year=2024, program="城市低保", monthly_amount=Decimal("750")),
        dict(year=2024, program="农村低保", monthly_amount=Decimal("500")),
        dict(year=2024, program="特困供养", monthly_amount=Decimal("1000"))])
    insert(engine, "insurance_enrolment", [
        dict(community="A社区", year=2024, required=800, enrolled=760),
        dict(community="B社区", year=2024, required=1800, enrolled=1700),
        dict(community="A社区", year=2023, required=790, enrolled=700)])
    return engine


def q(period=MARCH, as_of=AS_OF, scope=()):
    return Query(period, tuple(scope), as_of, load_settings())


def test_march(store):
    k = m.compute(store, q(), by=()).kpis
    u = "benefits.urban_dibao"
    # active in March: A r1 r2b r5 (r2a ended in January) + B 17 (A's 99 ignored)
    assert k[f"{u}.persons"] == 3 + 17
    assert k[f"{u}.households"] == 2 + 11              # A: h1 (r1, r2b), r5 alone
    assert k[f"{u}.new"] == 2 + 1                      # r1, r2b; B 1
    assert k[f"{u}.exited"] == 1 + 0                   # r1; B 0
    assert k[f"{u}.spending"] == pytest.approx(700 + 600 + 800 + 10200.50)
    assert k[f"{u}.avg_monthly_per_person"] == pytest.approx(12300.50 / (3 + 17))
    assert k[f"{u}.per_1000"] == pytest.approx(20 / POPULATION * 1000)
    r = "benefits.rural_dibao"
    assert (k[f"{r}.persons"], k[f"{r}.households"], k[f"{r}.new"], k[f"{r}.exited"]) == (1, 1, 0, 0)
    assert k[f"{r}.spending"] == pytest.approx(400) and k[f"{r}.avg_monthly_per_person"] == 400
    t = "benefits.tekun"
    assert (k[f"{t}.persons"], k[f"{t}.new"], k[f"{t}.spending"]) == (1, 1, 900)
    tr = "benefits.temporary_relief"
    assert k[f"{tr}.cases"] == 1 + 2 and k[f"{tr}.persons"] == 3   # g1; B 2
    assert k[f"{tr}.spending"] == pytest.approx(2600)
    assert k[f"{tr}.avg_monthly_per_person"] == pytest.approx(2600 / 3)
    # a program with no recipients: counts 0, the average has no denominator
    d = "benefits.disability_living"
    assert (k[f"{d}.persons"], k[f"{d}.households"], k[f"{d}.spending"]) == (0, 0, 0)
    assert k[f"{d}.avg_monthly_per_person"] is None and k[f"{d}.per_1000"] == 0
    assert k["benefits.medical_insurance.enrolment_rate"] == pytest.approx(2460 / 2600)
    # r5's 800 > 750 in March; k3 in 农村低保 (r3) and 特困 (r4) in March
    assert k["benefits.exceptions"] == 2


def test_quarter_flows_and_unknown(store):
    result = m.compute(store, q(Q1), by=())
    k = result.kpis
    u = "benefits.urban_dibao"
    assert k[f"{u}.persons"] == 20                      # a stock: March
    assert k[f"{u}.new"] == 3 + (2 + 1 + 1)             # r1 r2a r2b; B
    assert k[f"{u}.exited"] is None                     # B left 退出 blank in February
    # A: r1 700, r2a 600 + 600 (outside its spell: paid, and an exception), r2b 600,
    # r5 700 + 700 + 800; B 9 000 + 9 600 + 10 200.50
    assert k[f"{u}.spending"] == pytest.approx(4700 + 28800.50)
    assert k[f"{u}.avg_monthly_per_person"] == pytest.approx(33500.50 / (7 + 48))
    r = "benefits.rural_dibao"
    # January from A's monthly statistics (no list rows then), February and March from r3
    assert k[f"{r}.persons"] == 1
    assert k[f"{r}.new"] is None and k[f"{r}.exited"] is None
    assert k[f"{r}.spending"] == pytest.approx(1500 + 400 + 400)
    assert k[f"{r}.avg_monthly_per_person"] == pytest.approx(2300 / (3 + 2))
    tr = "benefits.temporary_relief"
    assert (k[f"{tr}.cases"], k[f"{tr}.persons"]) == (4, 3)
    assert k[f"{tr}.avg_monthly_per_person"] == pytest.approx(3100 / 4)
    # r2a's February payment, r5's March amount, k3's March double enrolment
    assert k["benefits.exceptions"] == 3
    assert (result.totals["exc_outside"], result.totals["exc_above"],
            result.totals["exc_double"]) == (1, 1, 1)
    assert m.sources(result.totals, "urban_dibao") == ["名单", "月报统计"]
    assert m.sources(result.totals, "tekun") == ["名单"]


def test_by_community_and_sources(store):
    result = m.compute(store, q(Q1), by=("community",))
    groups, counts = result.groups["community"], result.counts["community"]
    assert set(groups) == {"A社区", "B社区"}             # C社区 has no rows
    a, b = groups["A社区"], groups["B社区"]
    assert (a["benefits.urban_dibao.persons"], a["benefits.urban_dibao.households"]) == (3, 2)
    assert (b["benefits.urban_dibao.persons"], b["benefits.urban_dibao.households"]) == (17, 11)
    assert a["benefits.urban_dibao.per_1000"] == pytest.approx(3.0)
    assert b["benefits.urban_dibao.per_1000"] == pytest.approx(8.5)
    assert a["benefits.urban_dibao.exited"] == 2 and b["benefits.urban_dibao.exited"] is None
    assert a["benefits.medical_insurance.enrolment_rate"] == pytest.approx(760 / 800)
    assert b["benefits.medical_insurance.enrolment_rate"] == pytest.approx(1700 / 1800)
    assert (a["benefits.exceptions"], b["benefits.exceptions"]) == (3, 0)
    assert m.sources(counts["A社区"], "urban_dibao") == ["名单"]
    assert m.sources(counts["A社区"], "rural_dibao") == ["名单", "月报统计"]
    assert m.sources(counts["B社区"], "urban_dibao") == ["月报统计"]


def test_by_month(store):
    groups = m.compute(store, q(Q1), by=("month",)).groups["month"]
    assert list(groups) == ["2024-01", "2024-02", "2024-03"]
    persons = [groups[mo]["benefits.urban_dibao.persons"] for mo in groups]
    assert persons == [2 + 15, 1 + 16, 3 + 17]          # Jan r2a r5; Feb r5; Mar r1 r2b r5
    assert groups["2024-02"]["benefits.urban_dibao.spending"] == pytest.approx(600 + 700 + 9600)
    assert groups["2024-01"]["benefits.rural_dibao.persons"] == 3      # monthly statistics
    assert [groups[mo]["benefits.exceptions"] for mo in groups] == [0, 1, 2]


def test_as_of_before_the_end_and_scope(store):
    k = m.compute(store, q(Q1, as_of=ts("2024-02-15 12:00")), by=()).kpis
    assert k["benefits.urban_dibao.persons"] == 17       # February: r5 + B 16
    assert k["benefits.urban_dibao.spending"] == pytest.approx(1300 + 1300 + 9000 + 9600)
    assert k["benefits.exceptions"] == 1                 # r2a's February payment
    k = m.compute(store, q(Q1, scope=["B社区"]), by=()).kpis
    assert k["benefits.urban_dibao.persons"] == 17
    assert k["benefits.urban_dibao.spending"] == pytest.approx(28800.50)
    assert k["benefits.urban_dibao.per_1000"] == pytest.approx(17 / 2000 * 1000)
    assert k["benefits.exceptions"] == 0


def test_exceptions_list(store):
    rows = m.exceptions_list(store, q(Q1))
    assert [(row["rule"], row["recipient"], row["month"]) for row in rows] == [
        ("发放月份不在保障期内", "r2a", "2024-02"),
        ("同月同时享受低保和特困供养", "r3", "2024-03"),
        ("发放金额高于当年标准", "r5", "2024-03"),
    ]
    assert all(len(row["person"]) <= 9 for row in rows)   # 8 characters and …
    assert sum(row["findings"] for row in rows) == 3


# ------------------------------------------------------------------ both sources agree

CLEAN = [  # (id, key, household, program, community, start, end, amount)
    ("c1", "p1", "h1", "城市低保", "A社区", "2023-11", None, 600),
    ("c2", "p2", "h1", "城市低保", "A社区", "2024-02", "2024-05", 600),
    ("c3", "p3", "h3", "城市低保", "B社区", "2023-01", "2024-02", 550),
    ("c4", "p4", "h4", "农村低保", "B社区", "2024-03", None, 420),
    ("c5", "p5", "h5", "特困供养", "A社区", "2022-05", "2024-04", 980),
    ("c6", "p6", "h6", "残疾人生活补贴", "B社区", "2024-01", "2024-01", 90),
]
GRANTS = [("t1", "A社区", date(2024, 1, 20), 800), ("t2", "A社区", date(2024, 3, 2), 1200),
          ("t3", "B社区", date(2024, 3, 9), 500)]
MONTHS = ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def monthly_from_lists() -> list[dict]:
    """The monthly statistics an office would report for CLEAN and GRANTS (written here
    from the definitions, independently of the engine)."""
    cells: dict = {}
    for rid, _key, hh, program, comm, start, end, amount in CLEAN:
        for month in MONTHS:
            if start <= month and (end is None or end >= month):
                c = cells.setdefault((comm, month, program), dict(
                    community=comm, month=month, program=program, hh=set(), persons=0,
                    spending=Decimal(0), new=0, exited=0))
                c["hh"].add(hh)
                c["persons"] += 1
                c["spending"] += amount
                c["new"] += start == month
                c["exited"] += end == month
    for _gid, comm, day, amount in GRANTS:
        c = cells.setdefault((comm, f"{day:%Y-%m}", "临时救助"), dict(
            community=comm, month=f"{day:%Y-%m}", program="临时救助", hh=set(), persons=0,
            spending=Decimal(0), new=None, exited=None))
        c["persons"] += 1
        c["spending"] += amount
    return [{**{k: v for k, v in c.items() if k != "hh"}, "households": len(c["hh"]) or None}
            for c in cells.values()]


def _base(engine):
    insert(engine, "communities", [dict(name="A社区", kind="社区", population=1200),
                                   dict(name="B社区", kind="社区", population=800)])


@pytest.mark.parametrize("period", [Period(date(2024, 1, 1), date(2024, 3, 31)),
                                    Period(date(2024, 2, 1), date(2024, 2, 29)),
                                    Period(date(2023, 12, 1), date(2024, 5, 31))])
def test_both_sources_give_the_same_figures(engine, period):
    _base(engine)
    as_of = ts("2024-06-30 23:00")
    insert(engine, "benefit_recipients", [
        dict(recipient_id=i, person_key=k, household_id=h, program=p, community=c,
             start_month=s, end_month=e) for i, k, h, p, c, s, e, _a in CLEAN])
    insert(engine, "benefit_payments", [
        dict(recipient_id=i, month=mo, amount=Decimal(a)) for i, _k, _h, _p, _c, s, e, a in CLEAN
        for mo in MONTHS if s <= mo and (e is None or e >= mo)])
    insert(engine, "relief_grants", [dict(grant_id=i, community=c, granted_on=d,
                                          amount=Decimal(a)) for i, c, d, a in GRANTS])
    from_lists = m.compute(engine, q(period, as_of), by=("community", "month"))
    with engine.begin() as conn:
        for table in ("benefit_payments", "benefit_recipients", "relief_grants"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    insert(engine, "benefit_monthly", monthly_from_lists())
    from_monthly = m.compute(engine, q(period, as_of), by=("community", "month"))
    assert from_lists.kpis["benefits.urban_dibao.persons"] > 0
    _same(from_lists.kpis, from_monthly.kpis)
    for dim in ("community", "month"):
        assert set(from_lists.groups[dim]) == set(from_monthly.groups[dim])
        for unit in from_lists.groups[dim]:
            _same(from_lists.groups[dim][unit], from_monthly.groups[dim][unit])
    assert m.sources(from_lists.totals) == ["名单"] and m.sources(from_monthly.totals) == ["月报统计"]


def _same(a: dict, b: dict):
    assert set(a) == set(b)
    for key, value in a.items():
        assert b[key] == pytest.approx(value) if value is not None else b[key] is None, key


# ------------------------------------------------------------------ the monthly report

def test_monthly_report_and_its_workbook(store):
    import io

    import openpyxl
    import pandas as pd

    from metrics import benefits_report as rep

    frame = rep.monthly_report(store, "2024-03", q())
    urban = frame.set_index("保障类别").loc["城市低保"]
    assert (urban["户数"], urban["人数"], urban["支出"]) == (13, 20, pytest.approx(12300.50))
    assert urban["上月人数"] == 1 + 16                       # February: r5, B 16
    assert urban["上月支出"] == pytest.approx(600 + 700 + 9600)
    assert urban["同期人数"] == 0 and pd.isna(urban["人数同比"])   # nobody in March 2023
    assert urban["人数环比"] == pytest.approx(20 / 17 - 1)
    assert (urban["新增"], urban["退出"], urban["来源"]) == (3, 1, "名单、月报统计")
    relief = frame.set_index("保障类别").loc["临时救助"]
    assert relief["人数"] == 3 and pd.isna(relief["户数"]) and pd.isna(relief["新增"])
    title = rep.report_title("2024-03", ("=HYPERLINK(\"x\")",), AS_OF, "南城街道")
    wb = openpyxl.load_workbook(io.BytesIO(rep.report_xlsx(frame, title)))
    ws = wb.active
    assert ws["A1"].value == "南城街道民生保障统计月报"
    assert ws["A3"].value.startswith("范围 =HYPERLINK") and ws["A3"].data_type == "s"
    header = [c.value for c in ws[len(title) + 2]]
    assert header == list(frame.columns)
    first = [c.value for c in ws[len(title) + 3]]
    assert first[:5] == ["城市低保", "名单、月报统计", 13, 20, 12300.5]
    assert not any(isinstance(c.value, str) and c.value.startswith("=") and c.data_type == "f"
                   for row in ws.iter_rows() for c in row)

"""Deterministic demo data for Zhili (智理): a plausible 南城街道 (牡丹区, 菏泽) from 2018 on.

Used on first start when no store exists (and by ``cli.py demo``), for screenshots,
training and benchmarks. ``generate(engine, seed, scale, until)`` fills every table of
``data.store.schema`` and logs one ``import_log`` row per table (source ``'demo'``).

Determinism
-----------
- The roster (communities, grids, cadres, which communities are better or worse, which
  cadres are weaker) depends on the seed only.
- Each day's records (cases, petitions, incidents, attendance, work logs) depend only on
  (seed, day, table): every day has its own ``numpy.random.default_rng([seed, ordinal,
  table_code])``. Benefit recipients and relief grants depend only on (seed, month);
  insurance enrolment on (seed, year). Record ids derive from the day / month
  (``C20200315-0007``, ``B202003U004``...).
- A record's whole lifecycle (response, deadline, closure, callback) is drawn with it;
  anything later than the cutoff is then removed as not yet happened (``closed_at`` /
  ``responded_at`` after the cutoff become NULL, callback / satisfaction /
  resolution_level with them, status ``办理中``; cadres who join later are absent, a
  ``left_on`` after the cutoff is NULL, end_month after the cutoff month is NULL).
  So a fixed past window gives the same figures whenever the demo is generated, and the
  same seed + until gives identical tables.
- The cutoff is ``until`` 23:59:59, or now when no ``until`` is given: Asia/Shanghai wall
  time in whole seconds (``data.store.clock``), whatever the server's time zone, so the
  demo's 数据截至 and a later import's stamp are on the same clock.
- ``scale`` multiplies the volumes of cases, petitions, incidents, benefit recipients and
  relief grants (the cadre roster, hence attendance and work logs, stays the same).

Calibration (DATA.md): 15 units (1 管委会 + 14 社区) with ~100 000 residents; the
platform's cases total ~1 450 in 2018-2020 with a closure rate of ~95 %, then grow to
~3 000 a year; petitions fall from ~100 (2018) to ~35 a year; police incidents from
~1 500 to ~900 a year; most cases close at community level.

Deliberate data faults (for the data-quality page)
--------------------------------------------------
Each of these is planted once per calendar year, on a day / month drawn from
(seed, year, fault), so every full year of demo data holds one of each:

- cases: ``closed_at`` before ``reported_at`` (negative duration);
- cases: status ``已办结`` but ``closed_at`` NULL;
- cases: ``closed_at`` set (before the cutoff) but status ``办理中``;
- cases: ``deadline_at`` before ``reported_at``;
- cases: ``community`` empty (``''``, no grid);
- attendance: ``check_out_at`` before ``check_in_at``;
- worklogs: a second log by the same cadre on the same day with identical content
  (log_id suffix ``-2``);
- benefit_payments: a payment for the month before the recipient's start_month (outside
  the active spell);
- benefit_recipients: one person_key active in 城市低保 and in 特困供养 from the same month
  (recipient_id suffix ``X``);
- benefit_recipients / payments: a 城市低保 amount above that year's standard
  (recipient_id suffix ``H``).

Two ways in for benefits: ``MONTHLY_ONLY`` (the 管委会) keeps no recipient lists. Its
recipients and relief grants are drawn like everyone else's (so the other communities'
data do not depend on this) and then handed in as monthly statistics (benefit_monthly:
persons active, households, payments, new and exited per program and month), as an office
that only receives the civil-affairs monthly report would have them. The planted faults
always land in a community with lists.

Personal data: no free text (summaries, log contents, relief reasons) and no name holds an
ID or phone number (tests/test_privacy.py scans a demo store with data.ingest.masking), and
``person_key`` is a random 64-hex key, not a hash of any ID number.

Besides these, normal noise that KPIs must handle: a few responses later than 24 h, late
closures, ~4 % of cases settled only 20–240 days after their deadline (积案; so the open
backlog at the cutoff is mostly recent) and ~0.4 % never closed, cases without deadline,
petitions without deadline, invalid incidents, late arrivals, early leaves, missing
check-outs, absences, off-day check-ins, short logs (< 15 characters), logs filed days
later, a few check-ins 2–3 km from the cadre's community, and now and then a weaker
cadre who writes a whole month's logs on its second-to-last day (月末集中补录).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Callable

import chinese_calendar
import numpy as np
from sqlalchemy import Boolean, Date, DateTime, Engine, Float, Numeric, Table

from data.demo_map import centre, synthetic_boundaries
from data.store import clock
from data.store import schema as S
from data.store.db import create_schema, drop_schema, has_data, refresh_statistics

START = date(2018, 1, 1)

# table codes for the per-day random streams (never change: they define the demo)
T_ROSTER, T_CASES, T_PETITIONS, T_INCIDENTS = 1, 2, 3, 4
T_ATTENDANCE, T_WORKLOGS, T_BENEFITS, T_RELIEF, T_INSURANCE, T_FAULTS = 5, 6, 7, 8, 9, 10
T_BATCH = 11

# fault codes
F_NEG_DURATION, F_STATUS_NO_CLOSE, F_CLOSED_STATUS_OPEN, F_DEADLINE_BEFORE = 1, 2, 3, 4
F_EMPTY_COMMUNITY, F_CHECKOUT_BEFORE, F_DUP_LOG = 5, 6, 7
F_PAYMENT_OUTSIDE, F_DIBAO_TEKUN, F_ABOVE_STANDARD = 8, 9, 10


class DemoExistsError(RuntimeError):
    """The store already holds data and ``force`` was not given."""

    def __init__(self) -> None:
        super().__init__(
            "数据库中已有数据，未覆盖；如需重新生成演示数据请使用 force（--force）。 "
            "The store already holds data; pass force=True (--force) to replace it "
            "with demo data."
        )


def _rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng([int(k) for k in keys])


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def _month_str(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}"


def _month_index(y: int, m: int) -> int:
    return y * 12 + (m - 1)


def _month_of(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


# ---------------------------------------------------------------------------- calendar

@lru_cache(maxsize=None)
def _is_workday(d: date) -> bool:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:  # outside the package's coverage: Mon-Fri
        return d.weekday() < 5


@lru_cache(maxsize=None)
def _holiday_name(d: date) -> str | None:
    try:
        on, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        return None
    return name if on else None


def _case_day_factor(d: date) -> float:
    name = _holiday_name(d)
    if name == chinese_calendar.Holiday.spring_festival.value:
        return 0.22
    if name:
        return 0.45
    return 1.0 if _is_workday(d) else 0.45


def _season(d: date) -> float:
    """+1 in mid-July, -1 in mid-January."""
    return math.cos(2 * math.pi * (d.timetuple().tm_yday - 196) / 365.25)


def _incident_day_factor(d: date) -> float:
    f = 1.0 + 0.25 * _season(d)
    if _holiday_name(d) == chinese_calendar.Holiday.spring_festival.value:
        f *= 1.15
    return f


def _petition_day_factor(d: date) -> float:
    return 1.0 if _is_workday(d) else 0.12


@lru_cache(maxsize=None)
def _year_norm(kind: str, year: int) -> float:
    fn = {"cases": _case_day_factor, "incidents": _incident_day_factor,
          "petitions": _petition_day_factor}[kind]
    d, total = date(year, 1, 1), 0.0
    while d.year == year:
        total += fn(d)
        d += timedelta(days=1)
    return total


CASES_PER_YEAR = {2018: 430, 2019: 490, 2020: 545, 2021: 1000, 2022: 1500, 2023: 2000,
                  2024: 2500, 2025: 2900, 2026: 3000}
PETITIONS_PER_YEAR = {2018: 100, 2019: 72, 2020: 52, 2021: 42, 2022: 38, 2023: 36,
                      2024: 35, 2025: 34, 2026: 34}
INCIDENTS_PER_YEAR = {2018: 1500, 2019: 1320, 2020: 1130, 2021: 1020, 2022: 960,
                      2023: 930, 2024: 910, 2025: 900, 2026: 890}


def _per_year(table: dict[int, float], year: int) -> float:
    return table.get(year, table[max(table)])


# ---------------------------------------------------------------------------- roster

COMMUNITY_NAMES = [
    "和平社区", "丹阳社区", "南华社区", "桂陵社区", "双河社区", "中华社区", "南京路社区",
    "东方红社区", "青年社区", "育才社区", "花园社区", "赵楼社区", "王浩屯社区", "曹州社区",
]
COMMITTEE_NAME = "南城新区社区管委会"
RURAL_COMMUNITIES = ("赵楼社区", "王浩屯社区", COMMITTEE_NAME)  # former villages
ESTATES = [
    "和平家园", "丹阳花园", "南华小区", "桂陵苑", "双河新村", "牡丹园", "锦绣华庭", "书香门第",
    "阳光新城", "天香公馆", "南城新苑", "富春花园", "金域蓝湾", "惠民小区", "曹州府邸",
    "万福安置区", "青年路家属院", "中华新居", "东方名苑", "育才花园", "赵楼安置小区",
    "王浩屯回迁楼",
]
SURNAMES = list("王李张刘赵孙陈杨高朱徐马郭周吕孟田胡郑吴袁何程曹韩冯董潘魏谢宋于姜段")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华红玉兰建国志新文斌宁凯浩晨雪梅鹏飞")


@dataclass
class Community:
    name: str
    kind: str
    population: int
    households: int
    lat: float
    lon: float
    quality: float  # -1 (weak) .. +1 (strong)


@dataclass
class Grid:
    grid_id: str
    name: str
    community: str


@dataclass
class Cadre:
    idx: int
    cadre_id: str
    name: str
    role: str
    community: str | None
    grid_id: str | None
    joined_on: date
    left_on: date | None
    weak: bool
    lat: float
    lon: float

    def active(self, d: date) -> bool:
        return self.joined_on <= d and (self.left_on is None or self.left_on >= d)


@dataclass
class Roster:
    communities: list[Community]
    grids: list[Grid]
    cadres: list[Cadre]
    by_grid: dict[str, list[Cadre]] = field(default_factory=dict)
    by_comm: dict[str, list[Cadre]] = field(default_factory=dict)
    grids_of: dict[str, list[Grid]] = field(default_factory=dict)
    comm: dict[str, Community] = field(default_factory=dict)


STREET_LAT, STREET_LON = 35.2318, 115.4705


@lru_cache(maxsize=16)
def build_roster(seed: int) -> Roster:
    """Communities, grids and cadres: a function of the seed only."""
    rng = _rng(seed, T_ROSTER)
    names = [COMMITTEE_NAME] + COMMUNITY_NAMES
    raw = rng.uniform(4500, 9500, len(names))
    raw[0] = rng.uniform(2500, 3500)  # the committee area is the newest and smallest
    pops = np.round(raw / raw.sum() * 100_000 * rng.uniform(0.99, 1.01)).astype(int)
    qualities = np.linspace(-1, 1, len(names))
    rng.shuffle(qualities)
    communities = []
    outlines = synthetic_boundaries(names)
    for i, name in enumerate(names):
        pop = int(pops[i])
        households = int(round(pop / rng.uniform(2.6, 2.8)))
        rng.uniform(-0.022, 0.022, 2)  # the draws of the first demo's random positions
        lat, lon = centre(outlines[name])  # now: the middle of its synthetic outline
        communities.append(Community(
            name=name, kind="管委会" if i == 0 else "社区", population=pop,
            households=households, lat=lat, lon=lon, quality=float(qualities[i])))
    grids: list[Grid] = []
    for ci, c in enumerate(communities, start=1):
        for gi in range(1, int(rng.integers(4, 6)) + 1):
            grids.append(Grid(f"G{ci:02d}{gi:02d}", f"{c.name}第{gi}网格", c.name))

    used: set[str] = set()

    def person_name() -> str:
        while True:
            n = SURNAMES[int(rng.integers(len(SURNAMES)))] + "".join(
                GIVEN[int(rng.integers(len(GIVEN)))] for _ in range(int(rng.integers(1, 3))))
            if n not in used:
                used.add(n)
                return n

    cadres: list[Cadre] = []

    def add(role: str, community: str | None, grid_id: str | None, joined: date,
            lat: float, lon: float) -> Cadre:
        c = Cadre(len(cadres), f"GB{len(cadres) + 1:04d}", person_name(), role, community,
                  grid_id, joined, None, False, lat, lon)
        cadres.append(c)
        return c

    def old_join() -> date:
        return date(2008, 1, 1) + timedelta(days=int(rng.integers(0, 3650)))

    for _ in range(8):
        add("街道干部", None, None, old_join(), STREET_LAT, STREET_LON)
    for c in communities:
        add("社区书记", c.name, None, old_join(), c.lat, c.lon)
        add("社区干部", c.name, None, old_join(), c.lat, c.lon)
    for g in grids:
        c = next(x for x in communities if x.name == g.community)
        add("网格员", c.name, g.grid_id, old_join(), c.lat, c.lon)
    initial = list(cadres)
    # a few leave and are replaced (same post) some weeks later
    leavers = rng.choice([c for c in initial if c.role in ("社区干部", "网格员", "街道干部")],
                         size=7, replace=False)
    for c in sorted(leavers, key=lambda x: x.idx):
        c.left_on = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 7 * 365)))
        add(c.role, c.community, c.grid_id,
            c.left_on + timedelta(days=int(rng.integers(15, 60))), c.lat, c.lon)
    # the street office takes on two more staff as the platform grows
    for y in (2021, 2023):
        add("街道干部", None, None, date(y, 3, 1) + timedelta(days=int(rng.integers(0, 60))),
            STREET_LAT, STREET_LON)
    # weaker cadres: clearly more late arrivals, fewer logs, slower cases
    pool = [c for c in cadres if c.role in ("网格员", "社区干部")]
    for c in rng.choice(pool, size=8, replace=False):
        c.weak = True

    r = Roster(communities, grids, cadres)
    r.comm = {c.name: c for c in communities}
    for g in grids:
        r.grids_of.setdefault(g.community, []).append(g)
    for c in cadres:
        if c.grid_id:
            r.by_grid.setdefault(c.grid_id, []).append(c)
        if c.community:
            r.by_comm.setdefault(c.community, []).append(c)
    return r


def _handler(r: Roster, community: str, grid_id: str | None, d: date, u: float) -> str | None:
    if grid_id and u < 0.72:
        for c in r.by_grid.get(grid_id, ()):
            if c.active(d):
                return c.cadre_id
    role = "社区书记" if u > 0.92 else "社区干部"
    for wanted in (role, "社区书记"):
        for c in r.by_comm.get(community, ()):
            if c.role == wanted and c.active(d):
                return c.cadre_id
    return None


# ---------------------------------------------------------------------------- faults

@lru_cache(maxsize=None)
def _fault_day(seed: int, year: int, fault: int) -> date:
    """The workday of ``year`` on which ``fault`` is planted."""
    d = date(year, 1, 1) + timedelta(days=int(_rng(seed, year, T_FAULTS, fault).integers(20, 340)))
    while not _is_workday(d):
        d += timedelta(days=1)
    return d


def _faults_on(seed: int, d: date, faults: tuple[int, ...]) -> list[int]:
    return [f for f in faults if _fault_day(seed, d.year, f) == d]


@lru_cache(maxsize=None)
def _fault_month(seed: int, year: int, fault: int) -> int:
    return int(_rng(seed, year, T_FAULTS, fault).integers(2, 13))


# ---------------------------------------------------------------------------- cases

CHANNELS = ["APP", "微信", "12345热线", "来访", "网格员上报"]
STUCK_SHARE = 0.1  # of the cases not closed in the normal course: never closed at all
CHANNEL_P = [0.24, 0.20, 0.26, 0.10, 0.20]
CATEGORIES = ["征地拆迁", "物业管理", "就业", "环境卫生", "市政设施", "邻里纠纷", "社会保障",
              "治安隐患", "违章建筑", "其他"]
CATEGORY_P = [0.17, 0.19, 0.12, 0.11, 0.10, 0.08, 0.08, 0.05, 0.05, 0.05]
DEADLINE_DAYS = {"征地拆迁": 15, "物业管理": 7, "就业": 10, "环境卫生": 3, "市政设施": 5,
                 "邻里纠纷": 7, "社会保障": 10, "治安隐患": 3, "违章建筑": 15, "其他": 7}
SUMMARIES = {
    "征地拆迁": ["反映{e}拆迁补偿款发放进度慢", "咨询{e}安置房分配政策", "反映{e}回迁房交付延期",
             "反映{e}片区拆迁后临时过渡费未到位", "咨询棚户区改造征收补偿标准",
             "反映{e}拆迁后建筑垃圾未清运"],
    "物业管理": ["反映{e}电梯故障长期未修", "反映{e}物业收费不透明", "反映{e}楼道照明损坏",
             "反映{e}地下车库积水", "反映{e}小区无物业管理、垃圾堆积", "反映{e}门禁系统损坏",
             "反映{e}二次供水水压不足"],
    "就业": ["咨询公益性岗位报名条件", "咨询失业登记及就业补贴申领", "申请就业困难人员援助",
           "咨询创业担保贷款政策", "咨询技能培训报名", "反映{e}附近企业拖欠务工人员工资"],
    "环境卫生": ["反映{e}周边垃圾清运不及时", "反映{e}路边占道经营油烟扰民", "反映{e}下水道堵塞异味",
             "反映{e}绿化带杂草丛生", "反映{e}周边夜间施工噪音扰民"],
    "市政设施": ["反映{e}门前路灯不亮", "反映{e}路面塌陷坑洼", "反映{e}井盖缺失存在安全隐患",
             "反映{e}周边雨后积水", "建议{e}附近增设公交站点"],
    "邻里纠纷": ["反映{e}楼上漏水邻里协商未果", "反映{e}邻居占用公共楼道堆物", "反映{e}宠物扰民纠纷",
             "反映{e}停车位占用纠纷"],
    "社会保障": ["咨询城乡居民医保参保缴费", "咨询低保申请办理流程", "咨询残疾人补贴申领",
             "咨询高龄津贴发放", "咨询养老保险待遇认证"],
    "治安隐患": ["反映{e}消防通道被占用", "反映{e}电动车楼道充电隐患", "反映{e}周边监控损坏",
             "反映{e}夜间有可疑人员徘徊"],
    "违章建筑": ["反映{e}楼顶私搭乱建", "反映{e}一楼住户私自扩建院墙", "反映{e}绿地被占用搭建棚屋"],
    "其他": ["建议{e}增设健身器材", "咨询老年食堂开放时间", "反映{e}流浪犬较多", "建议增设便民服务点"],
}
HOUR_P = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.5, 2, 5, 11, 13, 12, 10, 6, 5, 10, 11, 10, 8,
                   5, 4, 3, 2.5, 2, 1.5])
HOUR_P = HOUR_P / HOUR_P.sum()


def _cases_for_day(seed: int, scale: float, d: date, r: Roster) -> list[dict]:
    rng = _rng(seed, d.toordinal(), T_CASES)
    lam = _per_year(CASES_PER_YEAR, d.year) * _case_day_factor(d) / _year_norm("cases", d.year)
    n = int(rng.poisson(lam * scale))
    faults = _faults_on(seed, d, (F_NEG_DURATION, F_STATUS_NO_CLOSE, F_CLOSED_STATUS_OPEN,
                                  F_DEADLINE_BEFORE, F_EMPTY_COMMUNITY))
    n = max(n, len(faults))
    if n == 0:
        return []
    comms = r.communities
    cw = np.array([c.population for c in comms], float)
    cw[0] *= 0.8
    cw /= cw.sum()
    ci = rng.choice(len(comms), size=n, p=cw)
    hours = rng.choice(24, size=n, p=HOUR_P)
    secs = rng.integers(0, 3600, n)
    chan = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    cat = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_P)
    u = rng.random((n, 14)).tolist()
    z = rng.standard_normal((n, 2)).tolist()
    offsets = sorted(int(h) * 3600 + int(s) for h, s in zip(hours, secs))
    day0 = datetime.combine(d, time())
    rows = []
    for k in range(n):
        c = comms[int(ci[k])]
        q = c.quality
        gl = r.grids_of[c.name]
        g = gl[int(u[k][0] * len(gl))]
        handler = _handler(r, c.name, g.grid_id, d, u[k][1])
        weak = handler is not None and r.cadres[int(handler[2:]) - 1].weak
        category = CATEGORIES[int(cat[k])]
        channel = CHANNELS[int(chan[k])]
        reported = day0 + timedelta(seconds=offsets[k])
        # response: median ~1.5 h, a few beyond 24 h
        p_slow = 0.025 - 0.015 * q + (0.06 if weak else 0)
        if u[k][2] < p_slow:
            resp_s = int(86400 + u[k][3] * 3 * 86400)
        else:
            resp_s = int(min(20 * 3600, 60 + math.exp(8.6 - 0.35 * q + (0.6 if weak else 0)
                                                      + 0.9 * z[k][0])))
        responded = reported + timedelta(seconds=resp_s)
        dl_days = DEADLINE_DAYS[category]
        deadline = None if u[k][4] < 0.02 else reported + timedelta(days=dl_days)
        # closure
        p_never = 0.042 - 0.022 * q + (0.05 if weak else 0)
        closed = None
        level = None
        if u[k][5] >= p_never:
            lu = u[k][6]
            level = "社区" if lu < 0.76 + 0.04 * q else ("街道" if lu < 0.955 else "上级")
            p_late = 0.07 - 0.05 * q + (0.18 if weak else 0) + (0.08 if level == "上级" else 0)
            span = dl_days * 86400
            if u[k][7] < p_late:
                dur = span * (1.0 + 0.05 + 0.8 * u[k][8] ** 2)
            else:
                dur = span * (0.05 + 0.9 * u[k][8] ** (1.6 + 0.4 * q))
                if level != "社区":
                    dur = max(dur, span * 0.3)
            closed = max(responded + timedelta(minutes=10), reported + timedelta(seconds=int(dur)))
        elif u[k][7] >= STUCK_SHARE:  # 积案: settled 20..240 days after its deadline
            level = "街道" if u[k][6] < 0.6 else "上级"
            closed = reported + timedelta(seconds=int((dl_days + 20 + 220 * u[k][8]) * 86400))
        resolved = sat = None
        if closed is not None and u[k][9] < 0.85:
            p_unres = 0.08 - 0.05 * q + (0.08 if weak else 0)
            resolved = bool(u[k][10] >= p_unres)
            p_bad = (0.05 - 0.035 * q + (0.08 if weak else 0)) * (1 if resolved else 3.5)
            su = u[k][11]
            sat = "不满意" if su < p_bad else ("基本满意" if su < p_bad + 0.2 else "满意")
        text = SUMMARIES[category][int(u[k][12] * len(SUMMARIES[category]))]
        summary = text.format(e=ESTATES[int(u[k][13] * len(ESTATES))])
        rows.append(dict(
            case_id=f"C{d:%Y%m%d}-{k + 1:04d}", reported_at=reported, channel=channel,
            category=category, community=c.name, grid_id=g.grid_id, handler_id=handler,
            responded_at=responded, deadline_at=deadline, closed_at=closed,
            status="已办结" if closed else "办理中", resolution_level=level,
            callback_resolved=resolved, satisfaction=sat, summary=summary))
    for j, f in enumerate(faults):
        row = rows[j % n]
        rep = row["reported_at"]
        if f == F_NEG_DURATION:
            row.update(closed_at=rep - timedelta(hours=3 + j), status="已办结",
                       resolution_level=row["resolution_level"] or "社区")
        elif f == F_DEADLINE_BEFORE:
            row["deadline_at"] = rep - timedelta(days=2)
        elif f == F_EMPTY_COMMUNITY:
            row.update(community="", grid_id=None)
        elif f == F_STATUS_NO_CLOSE:
            row["_fault"] = f
        elif f == F_CLOSED_STATUS_OPEN:
            row["_fault"] = f
            if row["closed_at"] is None or row["closed_at"] < rep:
                row.update(closed_at=rep + timedelta(days=1), resolution_level="社区")
    return rows


def _trim_case(row: dict, cutoff: datetime) -> dict:
    if row["responded_at"] and row["responded_at"] > cutoff:
        row["responded_at"] = None
    if row["closed_at"] and row["closed_at"] > cutoff:
        row.update(closed_at=None, status="办理中", resolution_level=None,
                   callback_resolved=None, satisfaction=None)
    f = row.pop("_fault", None)
    if f == F_STATUS_NO_CLOSE:
        row.update(closed_at=None, status="已办结", callback_resolved=None, satisfaction=None)
    elif f == F_CLOSED_STATUS_OPEN and row["closed_at"] is not None:
        row["status"] = "办理中"
    return row


# ---------------------------------------------------------------------------- petitions

FORMS = ["来信", "来访", "网上", "电话"]
PETITION_CATEGORIES = ["征地拆迁", "物业管理", "劳动保障", "城乡建设", "涉法涉诉", "社会保障",
                       "环境保护", "其他"]
PETITION_CATEGORY_P = [0.28, 0.15, 0.14, 0.12, 0.09, 0.09, 0.06, 0.07]


def _petitions_for_day(seed: int, scale: float, d: date, r: Roster) -> list[dict]:
    rng = _rng(seed, d.toordinal(), T_PETITIONS)
    lam = (_per_year(PETITIONS_PER_YEAR, d.year) * _petition_day_factor(d)
           / _year_norm("petitions", d.year))
    n = int(rng.poisson(lam * scale))
    if n == 0:
        return []
    online = min(0.45, 0.15 + 0.04 * (d.year - 2018))
    fp = np.array([0.22, 0.53 - online + 0.15, online, 0.10])
    fp /= fp.sum()
    comms = r.communities
    cw = np.array([c.population * (1.4 - 0.5 * c.quality) for c in comms])
    cw /= cw.sum()
    ci = rng.choice(len(comms), size=n, p=cw)
    form = rng.choice(4, size=n, p=fp)
    cat = rng.choice(len(PETITION_CATEGORIES), size=n, p=PETITION_CATEGORY_P)
    persons = rng.choice([1, 2, 3, 4, 5, 6, 8, 12, 20], size=n,
                         p=[0.58, 0.2, 0.1, 0.05, 0.02, 0.02, 0.015, 0.01, 0.005])
    u = rng.random((n, 8))
    rows = []
    for k in range(n):
        received = datetime.combine(d, time(8)) + timedelta(seconds=int(u[k][0] * 9.5 * 3600))
        deadline = None if u[k][1] < 0.06 else received + timedelta(days=60)
        closed = None
        if u[k][2] >= 0.03:
            if u[k][3] < 0.08:
                days = 60 + u[k][4] * 40
            else:
                days = 3 + u[k][4] ** 1.3 * 55
            closed = received + timedelta(seconds=int(days * 86400))
        rows.append(dict(
            petition_id=f"X{d:%Y%m%d}-{k + 1:02d}", received_at=received,
            form=FORMS[int(form[k])], category=PETITION_CATEGORIES[int(cat[k])],
            community=comms[int(ci[k])].name, persons=int(persons[k]),
            is_repeat=bool(u[k][5] < 0.12), is_leapfrog=bool(u[k][6] < 0.05),
            deadline_at=deadline, closed_at=closed))
    return rows


# ---------------------------------------------------------------------------- incidents

INCIDENT_TYPES = {
    "刑事": (0.08, ["盗窃", "诈骗", "故意伤害", "抢夺", "毁坏财物"]),
    "治安": (0.20, ["殴打他人", "寻衅滋事", "赌博", "扰乱公共秩序", "噪音扰民"]),
    "治安灾害事故": (0.04, ["触电", "溺水", "高空坠物", "燃气泄漏"]),
    "交通事故": (0.15, ["机动车事故", "非机动车事故", "车辆剐蹭", "行人受伤"]),
    "火灾": (0.02, ["居民楼火灾", "车辆起火", "电动车起火", "垃圾着火"]),
    "群众求助": (0.31, ["走失寻人", "开锁求助", "老人跌倒", "醉酒求助", "物品遗失"]),
    "举报投诉": (0.12, ["噪音举报", "违法经营举报", "占道经营", "涉黄涉赌举报"]),
    "其它": (0.08, ["纠纷调解", "咨询", "重复报警", "误报"]),
}
INC_CATS = list(INCIDENT_TYPES)
INC_P = np.array([INCIDENT_TYPES[c][0] for c in INC_CATS])
INC_P /= INC_P.sum()
INC_HOUR = np.array([3, 2.2, 1.6, 1.2, 1, 1, 1.5, 2.5, 3.5, 4, 4, 4.2, 4.2, 4, 4, 4.2, 4.5,
                     5, 5.5, 6, 6, 5.5, 4.5, 3.5])
INC_EVENING = np.array([1.5, 0.8, 0.3] + [0] * 15 + [1, 2.5, 3.5, 3.5, 3, 2.5])


def _incidents_for_day(seed: int, scale: float, d: date, r: Roster) -> list[dict]:
    rng = _rng(seed, d.toordinal(), T_INCIDENTS)
    lam = (_per_year(INCIDENTS_PER_YEAR, d.year) * _incident_day_factor(d)
           / _year_norm("incidents", d.year))
    n = int(rng.poisson(lam * scale))
    if n == 0:
        return []
    hp = INC_HOUR + max(0.0, _season(d)) * INC_EVENING
    hp = hp / hp.sum()
    comms = r.communities
    cw = np.array([c.population * (1.25 - 0.35 * c.quality) for c in comms])
    cw /= cw.sum()
    ci = rng.choice(len(comms), size=n, p=cw)
    cat = rng.choice(len(INC_CATS), size=n, p=INC_P)
    secs = np.sort(rng.choice(24, size=n, p=hp) * 3600 + rng.integers(0, 3600, n))
    u = rng.random((n, 2))
    jit = rng.normal(0, 0.0012, (n, 2))  # within ~150 m of the community's middle
    day0 = datetime.combine(d, time())
    rows = []
    for k in range(n):
        c = comms[int(ci[k])]
        category = INC_CATS[int(cat[k])]
        subs = INCIDENT_TYPES[category][1]
        rows.append(dict(
            incident_id=f"J{d:%Y%m%d}-{k + 1:04d}",
            occurred_at=day0 + timedelta(seconds=int(secs[k])), category=category,
            subtype=subs[int(u[k][0] * len(subs))], community=c.name,
            is_valid=bool(u[k][1] >= 0.03),
            lat=round(c.lat + float(jit[k, 0]), 6), lon=round(c.lon + float(jit[k, 1]), 6)))
    return rows


# ---------------------------------------------------------------------------- attendance, logs

def _attendance_for_day(seed: int, d: date, r: Roster) -> list[dict]:
    rng = _rng(seed, d.toordinal(), T_ATTENDANCE)
    m = len(r.cadres)
    u = rng.random((m, 8)).tolist()
    jit = rng.normal(0, 0.0008, (m, 2)).tolist()
    workday = _is_workday(d)
    day0 = datetime.combine(d, time())
    bad = _faults_on(seed, d, (F_CHECKOUT_BEFORE,))
    rows = []
    for c in r.cadres:
        if not c.active(d):
            continue
        x = u[c.idx]
        if workday:
            if x[0] < (0.05 if c.weak else 0.012):
                continue  # absent
            if x[1] < (0.22 if c.weak else 0.035):
                cin = 8 * 3600 + 30 * 60 + 60 + int(x[2] * 55 * 60)  # late
            else:
                cin = 8 * 3600 + 8 * 60 + int(x[2] * 21 * 60)
            if x[3] < (0.012 if c.weak else 0.004):
                cin = 8 * 3600 + 30 * 60 + int(x[2] * 30 * 60)  # both rare & stray
            if x[4] < (0.08 if c.weak else 0.02):
                cout = None  # forgot to check out
            elif x[5] < (0.09 if c.weak else 0.025):
                cout = 15 * 3600 + 30 * 60 + int(x[6] * 115 * 60)  # early leave
            else:
                cout = 17 * 3600 + 30 * 60 + int(x[6] ** 1.5 * 60 * 60)
        else:
            if x[0] >= 0.02:
                continue
            cin = 8 * 3600 + 30 * 60 + int(x[2] * 90 * 60)
            cout = 12 * 3600 + int(x[6] * 5 * 3600)
        # now and then a community cadre checks in far from the community (2–3 km)
        away = workday and c.community is not None and x[7] < (0.02 if c.weak else 0.002)
        shift = (0.0135 + 0.009 * x[6]) * (1 if x[2] < 0.5 else -1) if away else 0.0
        rows.append(dict(
            cadre_id=c.cadre_id, day=d, check_in_at=day0 + timedelta(seconds=cin),
            check_out_at=None if cout is None else day0 + timedelta(seconds=cout),
            lat=round(c.lat + jit[c.idx][0] + shift, 6),
            lon=round(c.lon + jit[c.idx][1] + shift, 6)))
    if bad and rows:
        row = rows[len(rows) // 2]
        row["check_out_at"] = row["check_in_at"] - timedelta(hours=1, minutes=12)
    return rows


LOG_ACTS = [
    "走访{e}{n}户居民，了解家庭生活情况", "入户看望{e}独居老人，询问身体和用药情况",
    "排查{e}消防通道堵塞和电动车充电隐患", "在{e}宣传城乡居民医保参保缴费政策",
    "调解{e}楼上楼下漏水纠纷", "协助开展{e}人口信息采集和核对", "巡查网格内环境卫生和占道经营",
    "收集居民对{e}物业服务的意见建议", "核查{e}低保家庭收入和人口变化", "跟进{e}拆迁安置户的过渡费发放",
    "陪同就业困难人员到人社窗口登记", "组织{e}志愿者清理楼道杂物", "对{e}出租房屋开展安全检查",
    "走访{e}残疾人家庭，宣传补贴政策", "参加街道网格化工作例会", "整理民情台账并更新网格信息",
    "排查{e}周边路灯和井盖损坏情况", "入户回访上周办结工单的居民",
]
LOG_RESULTS = ["已登记并上报平台", "现场协调解决", "已联系物业处理", "居民表示满意", "将持续跟进",
               "已转社区两委研究", "问题已销号", "已录入系统", "暂未发现异常"]
LOG_SHORT = ["正常走访。", "巡查网格", "无异常", "入户走访。", "同上", "参加会议。"]


@lru_cache(maxsize=4096)
def _batch_month(seed: int, y: int, m: int) -> frozenset[int]:
    """The weaker cadres (by index) who write a month's logs only at its end (月末集中补录):
    a function of the seed and the month."""
    u = _rng(seed, T_BATCH, _month_index(y, m)).random(len(build_roster(seed).cadres))
    return frozenset(c.idx for c in build_roster(seed).cadres if c.weak and u[c.idx] < 0.2)


def _worklogs_for_day(seed: int, d: date, r: Roster) -> list[dict]:
    if not _is_workday(d):
        return []
    month_end = date(d.year + d.month // 12, d.month % 12 + 1, 1) - timedelta(days=1)
    batch = _batch_month(seed, d.year, d.month) if d < month_end - timedelta(days=1) \
        else frozenset()
    rng = _rng(seed, d.toordinal(), T_WORKLOGS)
    m = len(r.cadres)
    u = rng.random((m, 9)).tolist()
    dup = _faults_on(seed, d, (F_DUP_LOG,))
    day0 = datetime.combine(d, time())
    rows = []
    for c in r.cadres:
        if not c.active(d):
            continue
        x = u[c.idx]
        if x[0] >= (0.66 if c.weak else 0.93):
            continue
        lag = x[1]
        if lag < (0.70 if c.weak else 0.86):
            created = day0 + timedelta(seconds=int(17.5 * 3600 + x[2] * 4.5 * 3600))
        elif lag < (0.85 if c.weak else 0.96):
            created = day0 + timedelta(days=1, seconds=int(8 * 3600 + x[2] * 3 * 3600))
        else:
            created = day0 + timedelta(days=2 + int(x[3] * 4), seconds=int(9 * 3600 + x[2] * 8 * 3600))
        if c.idx in batch:  # written on the month's second-to-last day
            created = datetime.combine(month_end - timedelta(days=1), time(15)) + \
                timedelta(minutes=d.day * 3, seconds=int(x[2] * 120))
        visits = int(x[4] * (13 if c.role == "网格员" else 6))
        issues = int(x[5] ** 1.8 * 4)
        if x[6] < (0.08 if c.weak else 0.015):
            content = LOG_SHORT[int(x[7] * len(LOG_SHORT))]
        else:
            a1 = LOG_ACTS[int(x[7] * len(LOG_ACTS))]
            a2 = LOG_ACTS[int(x[8] * len(LOG_ACTS))]
            e = ESTATES[int(x[3] * len(ESTATES))]
            parts = [a1.format(e=e, n=max(visits, 1))]
            if a2 != a1 and x[2] < 0.7:
                parts.append(a2.format(e=ESTATES[int(x[2] * len(ESTATES))], n=max(visits, 1)))
            parts.append(LOG_RESULTS[int(x[5] * len(LOG_RESULTS))])
            content = "，".join(parts) + "。"
        rows.append(dict(log_id=f"L{d:%Y%m%d}-{c.cadre_id}", cadre_id=c.cadre_id, day=d,
                         created_at=created, visits=visits, issues_reported=issues,
                         content=content))
    if dup and rows:
        src = rows[len(rows) // 3]
        rows.append(dict(src, log_id=src["log_id"] + "-2",
                         created_at=src["created_at"] + timedelta(minutes=7)))
    return rows


# ---------------------------------------------------------------------------- benefits

PROGRAMS = {  # code, new recipients / month, mean spell (months), initial stock
    "城市低保": ("U", 8.0, 38, 300),
    "农村低保": ("R", 2.6, 50, 130),
    "特困供养": ("T", 0.9, 90, 70),
    "残疾人生活补贴": ("D", 6.0, 66, 380),
    "重度残疾人护理补贴": ("N", 5.5, 70, 360),
}
STANDARD_2018 = {"城市低保": 620, "农村低保": 400, "特困供养": 806, "残疾人生活补贴": 70,
                 "重度残疾人护理补贴": 80}
STANDARD_STEP = {"城市低保": 22.5, "农村低保": 27.5, "特困供养": 29.25, "残疾人生活补贴": 3.75,
                 "重度残疾人护理补贴": 2.5}
MONTHLY_ONLY = COMMITTEE_NAME  # hands in monthly statistics instead of recipient lists
RELIEF_REASONS = ["因病致困", "意外事故", "突发火灾", "因学致困", "生活困难", "自然灾害", "失业致困"]


def standard(program: str, year: int) -> float:
    """Monthly standard (元) of a program in a year (2018 base, yearly steps)."""
    return float(round(STANDARD_2018[program] + STANDARD_STEP[program] * max(0, year - 2018)))


def _hexkey(rng: np.random.Generator) -> str:
    a, b = rng.integers(0, 2**63, 2)
    return f"{int(a):016x}{int(b):016x}"


def _recipients_for_month(seed: int, scale: float, mi: int, r: Roster,
                          cutoff_mi: int) -> tuple[list[dict], list[dict]]:
    """Recipients starting in month ``mi`` (the first month also brings the stock) and all
    their payments up to the cutoff month."""
    y, m = _month_of(mi)
    rng = _rng(seed, mi, T_BENEFITS)
    comms = r.communities
    recipients: list[tuple] = []  # (id, key, household, program, community, start_mi, end_mi, ratio)
    for program, (code, rate, mean, stock) in PROGRAMS.items():
        if program == "农村低保":
            cands = [c for c in comms if c.name in RURAL_COMMUNITIES]
        else:
            cands = comms
        cw = np.array([c.population * (1.2 - 0.3 * c.quality) for c in cands])
        cw /= cw.sum()
        batches = [("", int(rng.poisson(rate * scale)), False)]
        if mi == _month_index(2018, 1):
            batches.insert(0, ("S", int(round(stock * scale)), True))
        for prefix, count, is_stock in batches:
            seq = 0
            while seq < count:
                size = 1
                if code in ("U", "R"):
                    size = int(rng.choice([1, 2, 3], p=[0.55, 0.3, 0.15]))
                size = min(size, count - seq)
                comm = cands[int(rng.choice(len(cands), p=cw))].name
                start = mi - int(rng.integers(1, 72)) if is_stock else mi
                end = mi + int(rng.geometric(1 / mean)) - 1
                household = f"H{int(rng.integers(0, 2**40)):010x}"
                base = float(rng.uniform(0.3, 1.0)) if code in ("U", "R") else 1.0
                for _ in range(size):
                    seq += 1
                    ratio = round(base, 3)
                    recipients.append((f"B{y:04d}{m:02d}{code}{prefix}{seq:03d}", _hexkey(rng),
                                       household, program, comm, start, end, ratio))
    payments_outside = []
    if _fault_month(seed, y, F_ABOVE_STANDARD) == m:
        comm = _with_lists(comms, int(rng.integers(len(comms))))
        recipients.append((f"B{y:04d}{m:02d}UH", _hexkey(rng), f"H{int(rng.integers(0, 2**40)):010x}",
                           "城市低保", comm, mi, mi + 30, 1.25))
    if _fault_month(seed, y, F_DIBAO_TEKUN) == m:
        comm = _with_lists(comms, int(rng.integers(len(comms))))
        key, hh = _hexkey(rng), f"H{int(rng.integers(0, 2**40)):010x}"
        recipients.append((f"B{y:04d}{m:02d}UX", key, hh, "城市低保", comm, mi, mi + 14, 0.6))
        recipients.append((f"B{y:04d}{m:02d}TX", key, hh, "特困供养", comm, mi, mi + 40, 1.0))
    if _fault_month(seed, y, F_PAYMENT_OUTSIDE) == m:
        for rec in recipients:
            if rec[5] == mi and rec[3] == "城市低保" and rec[4] != MONTHLY_ONLY:
                payments_outside.append(rec[0])
                break
    rec_rows, pay_rows = [], []
    first = _month_index(2018, 1)
    for rid, key, hh, program, comm, start, end, ratio in recipients:
        sy, sm = _month_of(start)
        amount0 = round(standard(program, max(sy, 2018)) * ratio)
        rec_rows.append(dict(
            recipient_id=rid, person_key=key, household_id=hh, program=program, community=comm,
            start_month=_month_str(sy, sm),
            end_month=_month_str(*_month_of(end)) if end <= cutoff_mi else None,
            monthly_amount=_money(amount0)))
        for pm in range(max(start, first), min(end, cutoff_mi) + 1):
            py, pmo = _month_of(pm)
            pay_rows.append(dict(recipient_id=rid, month=_month_str(py, pmo),
                                 amount=_money(round(standard(program, py) * ratio))))
        if rid in payments_outside:
            py, pmo = _month_of(start - 1)
            pay_rows.append(dict(recipient_id=rid, month=_month_str(py, pmo),
                                 amount=_money(amount0)))
    return rec_rows, pay_rows


def _with_lists(comms, i: int) -> str:
    """The i-th community, or the next one where that is the monthly-only community."""
    name = comms[i].name
    return comms[(i + 1) % len(comms)].name if name == MONTHLY_ONLY else name


def _monthly_statistics(recs: list[dict], pays: list[dict], grants: list[dict]):
    """MONTHLY_ONLY's recipients, payments and grants turned into benefit_monthly rows
    (persons active in the month, their households, the month's payments, starts and
    ends; 临时救助: the month's grants and their amounts); the lists without them."""
    mine = {r["recipient_id"]: r for r in recs if r["community"] == MONTHLY_ONLY}
    cells: dict[tuple[str, str], dict] = {}

    def cell(month: str, program: str) -> dict:
        return cells.setdefault((month, program), dict(
            community=MONTHLY_ONLY, month=month, program=program, households=set(),
            persons=0, spending=Decimal("0.00"), new=0, exited=0))

    months = sorted({p["month"] for p in pays} | {g["granted_on"].strftime("%Y-%m")
                                                   for g in grants})
    for r in mine.values():
        for month in months:
            if r["start_month"] <= month and (r["end_month"] is None or r["end_month"] >= month):
                c = cell(month, r["program"])
                c["persons"] += 1
                c["households"].add(r["household_id"])
                c["new"] += r["start_month"] == month
                c["exited"] += r["end_month"] == month
    for p in pays:
        r = mine.get(p["recipient_id"])
        if r is not None:
            cell(p["month"], r["program"])["spending"] += p["amount"]
    relief = [g for g in grants if g["community"] == MONTHLY_ONLY]
    for g in relief:
        c = cell(g["granted_on"].strftime("%Y-%m"), "临时救助")
        c["persons"] += 1
        c["spending"] += g["amount"]
    rows = []
    for (month, program), c in sorted(cells.items()):
        relief_row = program == "临时救助"
        rows.append({**c, "households": None if relief_row else len(c["households"]),
                     "new": None if relief_row else c["new"],
                     "exited": None if relief_row else c["exited"]})
    return (rows, [r for r in recs if r["recipient_id"] not in mine],
            [p for p in pays if p["recipient_id"] not in mine],
            [g for g in grants if g["community"] != MONTHLY_ONLY])


def _relief_for_month(seed: int, scale: float, mi: int, r: Roster, cutoff: datetime) -> list[dict]:
    y, m = _month_of(mi)
    rng = _rng(seed, mi, T_RELIEF)
    n = int(rng.poisson(4.0 * scale))
    ndays = ((date(y + (m == 12), m % 12 + 1, 1)) - date(y, m, 1)).days
    rows = []
    comms = r.communities
    for k in range(n):
        d = date(y, m, 1) + timedelta(days=int(rng.integers(0, ndays)))
        comm = comms[int(rng.integers(len(comms)))].name
        amount = float(rng.choice([500, 800, 1000, 1200, 1500, 2000, 3000, 5000],
                                  p=[0.15, 0.2, 0.2, 0.1, 0.15, 0.1, 0.07, 0.03]))
        reason = RELIEF_REASONS[int(rng.integers(len(RELIEF_REASONS)))]
        key = _hexkey(rng)
        if d <= cutoff.date():
            rows.append(dict(grant_id=f"R{y:04d}{m:02d}-{k + 1:02d}", person_key=key,
                             community=comm, granted_on=d, amount=_money(amount), reason=reason))
    return rows


# ---------------------------------------------------------------------------- driver

def _days(cutoff: datetime):
    d = START
    while d <= cutoff.date():
        yield d
        d += timedelta(days=1)


def _sqlite_column(col, values: list) -> list:
    """What SQLAlchemy's SQLite types would store, without their per-row overhead."""
    t = col.type
    if isinstance(t, DateTime):  # SQLAlchemy's SQLite DATETIME text (microsecond always 0)
        return [None if v is None else v.isoformat(" ") + ".000000" for v in values]
    if isinstance(t, Date):
        return [None if v is None else v.isoformat() for v in values]
    if isinstance(t, Numeric) and not isinstance(t, Float):
        return [None if v is None else float(v) for v in values]
    if isinstance(t, Boolean):
        return [None if v is None else int(v) for v in values]
    return values


def _insert(engine: Engine, table: Table, rows: list[dict], chunk: int = 20000) -> None:
    """Bulk insert in one transaction. SQLite takes a driver-level executemany and
    PostgreSQL (psycopg) a COPY (the Core path spends most of its time building
    parameters); other databases use Core executemany."""
    if not rows:
        return
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            keys = list(rows[0])
            sql = (f'INSERT INTO "{table.name}" ({", ".join(chr(34) + k + chr(34) for k in keys)}) '
                   f'VALUES ({", ".join("?" * len(keys))})')
            data = list(zip(*(_sqlite_column(table.c[k], [row[k] for row in rows])
                              for k in keys)))
            for i in range(0, len(data), chunk):
                conn.exec_driver_sql(sql, data[i:i + chunk])
        elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            keys = list(rows[0])
            q = engine.dialect.identifier_preparer.quote
            cur = conn.connection.driver_connection.cursor()
            try:
                with cur.copy(f"COPY {q(table.name)} ({', '.join(q(k) for k in keys)}) "
                              "FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[k] for k in keys])
            finally:
                cur.close()
        else:
            for i in range(0, len(rows), chunk):
                conn.execute(table.insert(), rows[i:i + chunk])


# The big screen's ticker: notices of the kind a 街道 shows (a CDC health notice, a 防汛
# call, a 政务 notice), dated relative to the last day so a fresh demo always has current ones.
DEMO_NOTICES = (
    ("疾控提示：流感高发季，请老年人和儿童尽快接种流感疫苗，出现发热症状及时就医。", 7, 60),
    ("冬季安全：请各社区排查燃气、电动车入户充电隐患，防范火灾和一氧化碳中毒。", 3, 30),
    ("政务服务：社区便民服务站工作日 8:30—17:30 办理低保、临时救助申请。", 30, None),
    ("（已过期）汛期值班安排", 200, -120),
)


def _notices(last_day: date) -> list[dict]:
    rows = []
    for i, (text, since, days) in enumerate(DEMO_NOTICES, start=1):
        title, _, body = text.partition("：")
        rows.append(dict(notice_id=f"N{i:03d}", title=title, body=body or None,
                         valid_from=last_day - timedelta(days=since),
                         valid_to=None if days is None else last_day + timedelta(days=days)))
    return rows


def generate(engine: Engine, seed: int = 7, scale: float = 1.0, until: date | None = None,
             force: bool = False, progress: Callable[[float, str], None] | None = None,
             now: datetime | None = None) -> dict[str, int]:
    """Fill the store with demo data up to the cutoff; returns rows per table."""
    if has_data(engine):
        if not force:
            raise DemoExistsError()
        drop_schema(engine)
    elif force:
        drop_schema(engine)
    create_schema(engine)
    if until is not None:
        cutoff = datetime.combine(until, time(23, 59, 59))
    else:
        cutoff = clock.to_local(now) if now is not None else clock.now()
    cutoff_mi = _month_index(cutoff.year, cutoff.month)
    report = progress or (lambda _f, _m: None)
    r = build_roster(seed)
    counts: dict[str, int] = {}
    days = list(_days(cutoff))

    def step(frac: float, label: str) -> None:
        report(frac, f"正在生成 {label}…")

    def put(table: Table, rows: list[dict]) -> None:
        for row in rows:  # demo rows are marked, so that demo --remove finds exactly them
            row["origin"] = "demo"
        _insert(engine, table, rows)
        counts[table.name] = len(rows)

    step(0.0, "社区、网格与干部")
    put(S.communities, [dict(name=c.name, kind=c.kind, population=c.population,
                             households=c.households) for c in r.communities])
    put(S.boundaries, [dict(community=name, geometry=json.dumps(g, separators=(",", ":")))
                       for name, g in synthetic_boundaries([c.name for c in r.communities]).items()])
    put(S.grids, [dict(grid_id=g.grid_id, name=g.name, community=g.community) for g in r.grids])
    put(S.cadres, [dict(cadre_id=c.cadre_id, name=c.name, role=c.role, community=c.community,
                        grid_id=c.grid_id, joined_on=c.joined_on,
                        left_on=c.left_on if c.left_on and c.left_on <= cutoff.date() else None)
                   for c in r.cadres if c.joined_on <= cutoff.date()])

    step(0.05, "工单")
    rows = []
    for d in days:
        for row in _cases_for_day(seed, scale, d, r):
            if row["reported_at"] <= cutoff:
                rows.append(_trim_case(row, cutoff))
    put(S.cases, rows)

    step(0.15, "信访")
    rows = []
    for d in days:
        for row in _petitions_for_day(seed, scale, d, r):
            if row["received_at"] <= cutoff:
                if row["closed_at"] and row["closed_at"] > cutoff:
                    row["closed_at"] = None
                rows.append(row)
    put(S.petitions, rows)

    step(0.2, "警情")
    rows = [row for d in days for row in _incidents_for_day(seed, scale, d, r)
            if row["occurred_at"] <= cutoff]
    put(S.incidents, rows)

    step(0.3, "考勤")
    rows = []
    for d in days:
        for row in _attendance_for_day(seed, d, r):
            if row["check_in_at"] > cutoff:
                continue
            if row["check_out_at"] and row["check_out_at"] > cutoff:
                row["check_out_at"] = None
            rows.append(row)
    put(S.attendance, rows)

    step(0.55, "工作日志")
    rows = [row for d in days for row in _worklogs_for_day(seed, d, r)
            if row["created_at"] <= cutoff]
    put(S.worklogs, rows)

    step(0.75, "民生保障")
    recs, pays, grants = [], [], []
    for mi in range(_month_index(2018, 1), cutoff_mi + 1):
        a, b = _recipients_for_month(seed, scale, mi, r, cutoff_mi)
        recs += a
        pays += b
        grants += _relief_for_month(seed, scale, mi, r, cutoff)
    monthly, recs, pays, grants = _monthly_statistics(recs, pays, grants)
    put(S.benefit_recipients, recs)
    step(0.85, "民生保障发放")
    put(S.benefit_payments, pays)
    put(S.relief_grants, grants)
    put(S.benefit_monthly, monthly)

    step(0.95, "医保与标准")
    ins = []
    for y in range(2018, cutoff.year + 1):
        rng = _rng(seed, y, T_INSURANCE)
        u = rng.random((len(r.communities), 2))
        for i, c in enumerate(r.communities):
            required = int(round(c.population * (0.88 + 0.04 * u[i, 0]) * (1 + 0.004 * (y - 2018))))
            rate = 0.955 + 0.015 * c.quality + 0.015 * u[i, 1] + 0.002 * min(y - 2018, 5)
            ins.append(dict(community=c.name, year=y, required=required,
                            enrolled=int(round(required * min(rate, 0.99)))))
    put(S.insurance_enrolment, ins)
    put(S.benefit_standards, [dict(year=y, program=p, monthly_amount=_money(standard(p, y)))
                              for y in range(2018, cutoff.year + 1) for p in STANDARD_2018])
    put(S.notices, _notices(cutoff.date()))

    for name in S.DATA_TABLES:
        counts.setdefault(name, 0)
    with engine.begin() as conn:
        conn.execute(S.import_log.insert(), [
            dict(table_name=name, file_name=f"demo seed={seed}", source="demo",
                 imported_at=cutoff, exported_at=cutoff, inserted=counts[name], updated=0,
                 rejected=0, imported_by="demo")
            for name in S.DATA_TABLES])
    for name in S.DATA_TABLES:
        refresh_statistics(engine, name)
    report(1.0, "演示数据已生成")
    return {name: counts[name] for name in S.DATA_TABLES}

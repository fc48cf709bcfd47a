"""The KPI registry: every figure's key, 中文名, definition, unit, format and *how it is
made*, declared once (in the manner of dbt MetricFlow).

A KPI is one of these kinds:

- ``count``: the sum of one or more of its domain's additive counts;
- ``rate``: ``num`` ÷ ``den`` (each a sum of counts), null when ``den`` is 0; changes are
  in percentage points and league tables give its Wilson interval;
- ``score``: 100 × the weighted sum of ``parts`` (rates) with weights from settings
  (``weights``: the settings table, one weight per part), null if any part is null;
- ``backlog``: point-in-time, judged at as_of, not per period (no 环比/同比);
- ``per_capita``: the sum of ``count`` ÷ the population of the unit (or of the scope) ×
  ``per`` (万人警情数: per = 10 000), null without a population;
- ``ratio``: ``num`` ÷ ``den`` like a rate but not a share (money per person-month):
  null when ``den`` is 0, changes are relative, no Wilson interval;
- ``value``: computed by its domain (percentiles of the durations, a mean, the cadre
  appraisal's composite scores); changes are relative;
- ``overall``: computed by its domain's own query for the whole scope only (CompStat);
  not in breakdown groups, no 环比/同比.

The engine (``metrics.engine``), league tables, 环比/同比, targets, the glossary page,
cards and exports all read this registry; the keys are exactly those of
../shared/spec/KPI.md. Definitions are the spec's words plus the choices Zhili made where
the spec is silent (marked 口径说明).
"""
from __future__ import annotations

from dataclasses import dataclass

from data.ingest.columns import PROGRAM_CODES

FORMATS = ("pct", "count", "hours", "score", "money", "per", "text", "table")
KINDS = ("count", "rate", "ratio", "score", "backlog", "per_capita", "value", "overall")

# Domain key -> its Chinese name (page sections, glossary, report headings).
DOMAINS = {"cases": "诉求办理", "petitions": "信访", "incidents": "治安警情",
           "attendance": "干部考勤", "worklogs": "工作日志", "appraisal": "干部考核",
           "benefits": "民生保障"}


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str          # 中文名 shown on pages
    definition: str     # 口径, shown on hover and on the glossary page
    fmt: str            # one of FORMATS
    kind: str           # one of KINDS
    higher_is_better: bool | None = True
    count: tuple[str, ...] = ()   # count: the counts it sums
    num: tuple[str, ...] = ()     # rate: numerator counts
    den: tuple[str, ...] = ()     # rate: denominator counts
    parts: tuple[str, ...] = ()   # score: the rates it weighs
    weights: str = ""             # score: settings table of the weights, one per part
    miss: str = ""                # rate: what a row in den but not in num is called (失分原因)
    unit: str = ""                # shown after counts in sentences (件, 人次)
    per: int = 0                  # per_capita: per how many residents
    divisor: int = 1              # count, ratio: the sum is divided by it (fen -> 元: 100)
    unknown: tuple[str, ...] = () # counts of rows that lack the figure: null when not 0

    @property
    def domain(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The key without its domain (the settings' name for its target)."""
        return self.key.split(".", 1)[1]

    @property
    def is_rate(self) -> bool:
        return self.kind == "rate"

    @property
    def point_in_time(self) -> bool:
        return self.kind == "backlog"


def _count(key, label, definition, counts=None, higher=True, unit="件"):
    return Kpi(key, label, definition, "count", "count", higher,
               count=tuple(counts or (key.split(".", 1)[1],)), unit=unit)


def _rate(key, label, definition, num, den, higher=True, miss=""):
    return Kpi(key, label, definition, "pct", "rate", higher, num=tuple(num), den=tuple(den),
               miss=miss)


_COHORT = "按受理时间(reported_at)归入统计期; 晚于数据截至时间的时间戳视为尚未发生。"
_CLOSED = "办结以办结时间(closed_at)不为空且不晚于数据截至时间为准, 状态文字不作依据。"
_LEVELED = "填写了办结层级的已办结工单"

CASES = [
    _count("cases.total", "受理量", f"统计期内受理的工单数。{_COHORT}", higher=None),
    _count("cases.closed", "办结量", f"统计期内受理且已办结的工单数。{_CLOSED}"),
    _rate("cases.closure_rate", "办结率", "办结量 ÷ 受理量。受理量为 0 时无数据(—)。",
          ["closed"], ["total"], miss="未办结"),
    _count("cases.on_time_closed", "按期办结量", "办结时间不晚于办理时限的已办结工单数。"),
    _rate("cases.on_time_rate", "按期办结率",
          "按期办结量 ÷ (有办理时限的已办结工单 + 截至数据截至时间已超过时限仍未办结的工单)。"
          "无办理时限的工单不计入分子分母。仅以已办结为分母会使近期统计期虚高。",
          ["on_time_closed"], ["closed_with_deadline", "open_past_deadline"], miss="超期"),
    Kpi("cases.overdue_open", "超期未办结",
        "积压口径, 不按统计期: 数据截至时间前受理、截至该时间仍未办结且已超过办理时限的全部工单"
        "(受社区范围筛选)。按月分组时不适用。", "count", "backlog", False, unit="件"),
    Kpi("cases.median_hours_to_close", "办理时长中位数(小时)",
        "已办结工单(办结时间减受理时间)的中位数, 线性插值; 办结早于受理的异常工单不计入。",
        "hours", "value", False),
    Kpi("cases.p90_hours_to_close", "办理时长P90(小时)", "同上集合的第90百分位数, 线性插值。",
        "hours", "value", False),
    _rate("cases.response_rate", "响应率",
          "签收时间减受理时间不超过响应时限(默认24小时, 见设置)的工单数 ÷ 响应情况已知的工单数。"
          "已办结却没有签收时间的工单(来源系统未记录签收)响应情况未知, 分子分母均不计; "
          "未办结且未签收的工单计为未响应; 签收晚于数据截至时间视为未签收。"
          "有工单不计入时, 页面注明“基于 N/M 件”。",
          ["responded"], ["response_known"], miss="未及时响应"),
    _count("cases.callbacks", "有效回访量",
           "有满意度评价的工单数。口径说明: 回访发生在办结之后, 故只计截至数据截至时间已办结的工单。"),
    _rate("cases.resolution_rate", "解决率", "回访结果为已解决(是否解决=是)的工单数 ÷ 有效回访量。",
          ["resolved"], ["callbacks"], miss="回访未解决"),
    _rate("cases.satisfaction_rate", "满意率", "(满意 + 基本满意) ÷ 有效回访量。",
          ["satisfied"], ["callbacks"], miss="回访不满意"),
    Kpi("cases.three_rate_score", "三率综合得分",
        "100 × (响应率×0.10 + 解决率×0.50 + 满意率×0.40), 权重见设置; 任一分项无数据则无数据。",
        "score", "score", parts=("cases.response_rate", "cases.resolution_rate",
                                 "cases.satisfaction_rate"), weights="cases.weights"),
    _rate("cases.community_level_share", "小事不出社区", f"办结层级为社区的已办结工单 ÷ {_LEVELED}。",
          ["level_community"], ["leveled"]),
    _rate("cases.street_level_share", "大事不出街道",
          f"办结层级为社区或街道的已办结工单 ÷ {_LEVELED}。",
          ["level_community", "level_street"], ["leveled"]),
    _rate("cases.escalated_share", "矛盾上交率", f"办结层级为上级的已办结工单 ÷ {_LEVELED}。",
          ["level_escalated"], ["leveled"], higher=False),
]

_RECEIVED = "按登记时间(received_at)归入统计期。"
PETITIONS = [
    _count("petitions.total", "信访件数", f"统计期内登记的信访件数。{_RECEIVED}", higher=False),
    _count("petitions.persons", "信访人次", "各件信访人数之和; 人数缺失的按 1 人计。",
           higher=False, unit="人次"),
    _count("petitions.collective", "集体访", "人数不少于集体访人数门槛(默认5人, 见设置)的信访件数。",
           higher=False),
    _rate("petitions.repeat_rate", "重复信访率", "标记为重复访的信访件数 ÷ 信访件数; 未填写视为否。",
          ["repeat"], ["total"], higher=False),
    _count("petitions.leapfrog", "越级访", "标记为越级访的信访件数; 未填写视为否。", higher=False),
    _rate("petitions.closure_rate", "信访办结率",
          "已办结(办结时间不晚于数据截至时间)的信访件数 ÷ 信访件数。",
          ["closed"], ["total"], miss="未办结"),
    _rate("petitions.on_time_rate", "信访按期办结率",
          "办结时间不晚于办理时限的件数 ÷ (已办结件数 + 截至数据截至时间已超过时限仍未办结的件数)。"
          "未填写办理时限的, 以登记时间加法定办理期限(默认60天, 见设置)为时限。",
          ["on_time_closed"], ["closed", "open_past_deadline"], miss="超期"),
]

_VALID = "只计有效警情(是否有效=是); 按接警时间(occurred_at)归入统计期。"
INCIDENTS = [
    _count("incidents.total", "警情总数", f"统计期内的有效警情数。{_VALID}", higher=False,
           unit="起"),
    _count("incidents.criminal", "刑事警情", f"警情类别为刑事的有效警情数。{_VALID}",
           higher=False, unit="起"),
    _count("incidents.public_order", "治安警情", f"警情类别为治安的有效警情数。{_VALID}",
           higher=False, unit="起"),
    Kpi("incidents.per_10k", "万人警情数",
        "警情总数 ÷ 所选社区常住人口 × 10 000; 按社区分组时用该社区人口。缺少人口数据时无数据(—)。",
        "per", "per_capita", False, count=("total",), per=10_000),
    Kpi("incidents.compstat", "CompStat 表",
        "各警情类别及合计: 本周累计(周一至数据截至日)、近28天(截至数据截至日的28天)、本年累计"
        "(1月1日至数据截至日), 各与364天前的同一窗口(本周、近28天)或上年同日期(本年)比较; "
        "给出当前数、对比数、相对变化与泊松检验值 z = 2(√当前 − √对比)。",
        "table", "overall", None),
    Kpi("incidents.trend_flag", "趋势判定",
        "由 z 判定: z ≥ 3 显著上升, 1 ≤ z < 3 上升, −1 < z < 1 平稳, z ≤ −1 下降(阈值见设置)。"
        "口径说明: 总体指标取合计行的近28天判定; 各类别的判定见 CompStat 表。",
        "text", "overall", None),
]

_SCHEDULED = ("应出勤: 干部在职期间(入职日期 ≤ 当日, 离职日期为空或 ≥ 当日)的工作日, 工作日按国务院公布的"
              "节假日安排(含调休上班日)计; 超出日历数据覆盖年份的按周一至周五计并提示。"
              "统计期截至数据截至日; 社区范围按干部所属社区; 不在干部名册中的人员记录不计。")
_ON_DUTY = "出勤日: 应出勤日有签到(签到时间不晚于数据截至时间)。"
ATTENDANCE = [
    _count("attendance.scheduled_days", "应出勤天数", f"统计期内各干部应出勤天数之和(人·天)。{_SCHEDULED}",
           counts=["scheduled"], higher=None, unit="天"),
    _count("attendance.present_days", "实际出勤天数", f"应出勤日中有签到的天数。{_ON_DUTY}",
           counts=["present"], unit="天"),
    _rate("attendance.rate", "出勤率", "实际出勤天数 ÷ 应出勤天数; 非工作日打卡不计入。",
          ["present"], ["scheduled"], miss="缺勤"),
    _count("attendance.late", "迟到次数",
           "出勤日中签到时间晚于上班时间加宽限(默认 08:30, 宽限 0 分钟, 见设置)的天数; "
           "08:30:00 签到不算迟到, 08:30:01 算迟到。", higher=False, unit="次"),
    _count("attendance.early_leave", "早退次数",
           "出勤日中签退时间早于下班时间减宽限(默认 17:30)的天数; 未签退的不计早退。",
           higher=False, unit="次"),
    _count("attendance.missing_checkout", "未签退次数",
           "出勤日中没有签退(或签退晚于数据截至时间)的天数。", higher=False, unit="次"),
    _count("attendance.absent", "缺勤天数", "应出勤日中没有签到的天数(应出勤天数 − 实际出勤天数)。",
           higher=False, unit="天"),
    _count("attendance.offday_checkins", "非工作日打卡",
           "非工作日(周末、法定节假日, 调休上班日除外)的签到次数; 只作展示, 不计入出勤率。",
           higher=None, unit="次"),
    Kpi("attendance.avg_field_hours", "日均在岗时长",
        "既有签到又有签退的出勤日, (签退时间 − 签到时间)的平均值(小时)。"
        "口径说明: 签退早于签到的异常记录不计入。", "hours", "value"),
]

WORKLOGS = [
    _count("worklogs.logs", "日志篇数",
           "日期在统计期内的工作日志篇数; 填报时间晚于数据截至时间的视为尚未填报; "
           "社区范围按干部所属社区。", counts=["total"], higher=None, unit="篇"),
    _rate("worklogs.log_rate", "日志提交率",
          "应出勤日中至少写了 1 篇日志的天数 ÷ 应出勤天数(同一天多篇只计 1 天)。" + _SCHEDULED,
          ["logged_days"], ["scheduled"], miss="未写日志"),
    _count("worklogs.visits", "走访户数", "统计期内日志所记走访户数之和; 未填写按 0 计。",
           unit="户"),
    _count("worklogs.issues_reported", "上报问题数", "统计期内日志所记上报问题数之和; 未填写按 0 计。",
           unit="个"),
    _count("worklogs.suspect", "存疑日志",
           "统计期内的日志中属于下列任一情形的篇数: 雷同 — 与同一干部日期相差 30 天以内、"
           "较早填写的另一篇日志的字符三元组 Jaccard 相似度 ≥ 0.9(见设置), 较晚填写的一篇计为存疑; "
           "过短 — 去掉首尾空白后少于 15 个字(见设置); 补录过晚 — 填报日期比日志日期晚 1 天以上(见设置); "
           "月末集中补录 — 干部在某月最后两天补填的该月此前日期的日志达 5 篇以上(见设置)时, 这些日志均存疑。",
           higher=False, unit="篇"),
]

_COMPONENTS = ("出勤率(权重默认 30)、日志提交率(30)、办件质效(30, 承办工单的办结率与按期办结率的平均值, "
               "只有一项有数据时取该项)和办件满意率(10, 承办工单的满意率)")
APPRAISAL = [
    Kpi("appraisal.score", "考核得分",
        f"每名干部、每个统计期: {_COMPONENTS}的加权得分, 满分 100, 再减去扣分。"
        "各分项得分 = 权重 × 该项比率, 四舍五入到 0.01 分; 失分 = 权重 − 得分。"
        "口径说明: 某分项无数据(如没有承办工单、没有回访)时该项不计, 其权重按比例分配给其余分项"
        "(按最大余数法保留两位小数, 权重合计仍为 100), 使各人满分相同。"
        "扣分: 截至数据截至时间每件承办的超期未办结工单扣 1 分(见设置), 合计不超过 20 分, 且得分不低于 0。"
        "承办工单按干部为承办人统计, 不受社区范围限制; 干部按其所属社区纳入范围。"
        "统计期内没有应出勤日的干部不参加考核。", "score", "value"),
    Kpi("appraisal.tier", "考核等次",
        "按得分: ≥ 90 优秀, ≥ 80 良好, ≥ 60 合格, 其余待改进(阈值见设置)。", "text", "value", None),
    Kpi("appraisal.rank", "岗位内排名",
        "在同一岗位(街道干部/社区书记/社区干部/网格员)内按得分从高到低排名, 1 为最好; 得分相同名次相同"
        "(下一名次顺延)。", "count", "value", False),
    Kpi("appraisal.parts", "得分构成",
        "各分项的比率、权重、得分与失分, 各扣分项的件数与扣分; 各分项得分之和减扣分恰为考核得分。",
        "table", "value", None),
    Kpi("appraisal.mean_score", "平均考核得分", "参加考核的干部考核得分的平均值。", "score", "value"),
    Kpi("appraisal.tiers", "考核等次分布", "优秀、良好、合格、待改进各等次的干部人数。",
        "table", "value", None),
]

_SOURCE = ("来源: 有保障对象名单(保障对象、发放记录、临时救助记录)的社区、类别和月份用名单, "
           "否则用民政统计月报(同一社区、类别、月份两者都有时以名单为准)。")
_REFERENCE = "统计期末月份(数据截至日早于期末时为数据截至月份)"
_ACTIVE = ("在保: 起始年月 ≤ 该月, 且终止年月为空或 ≥ 该月; 发放记录不使保障对象在保。")


def _program_kpis(zh: str, code: str) -> list[Kpi]:
    """The KPIs of KPI.md every benefit program has (benefits.<code>.*), from its counts."""
    key, c = f"benefits.{code}", f"{code}."
    if zh == "临时救助":
        return [
            _count(f"{key}.cases", f"{zh}·救助人次", f"统计期内救助日期在期内的临时救助次数"
                   f"(月报统计: 各月人数之和)。{_SOURCE}", counts=[c + "cases"], higher=None,
                   unit="人次"),
            _count(f"{key}.persons", f"{zh}·当月救助人次", f"{_REFERENCE}内的临时救助次数"
                   f"(月报统计: 该月人数)。{_SOURCE}", counts=[c + "persons"], higher=None,
                   unit="人次"),
            Kpi(f"{key}.spending", f"{zh}·支出(元)", f"统计期内临时救助金额之和。{_SOURCE}",
                "money", "count", None, count=(c + "spending_fen",), divisor=100),
            Kpi(f"{key}.avg_monthly_per_person", f"{zh}·次均救助(元)",
                f"支出 ÷ 救助人次。{_SOURCE}", "money", "ratio", None,
                num=(c + "spending_fen",), den=(c + "person_months",), divisor=100),
            Kpi(f"{key}.per_1000", f"{zh}·千人救助数",
                f"当月救助人次 ÷ 常住人口 × 1000; 按社区分组时用该社区人口。{_SOURCE}", "per",
                "per_capita", None, count=(c + "persons",), per=1000),
        ]
    return [
        _count(f"{key}.persons", f"{zh}·保障人数", f"{_REFERENCE}在保的保障对象人数(月报统计: "
               f"该月人数)。{_ACTIVE}{_SOURCE}", counts=[c + "persons"], higher=None, unit="人"),
        _count(f"{key}.households", f"{zh}·保障户数", f"上述保障对象中不同户编号的户数(无户编号的"
               f"按一人一户), 各社区之和(月报统计: 该月户数)。{_SOURCE}", counts=[c + "households"],
               higher=None, unit="户"),
        Kpi(f"{key}.new", f"{zh}·新增", f"起始年月在统计期内(不晚于数据截至月份)的保障对象数"
            f"(月报统计: 各月新增人数之和; 有月份未填报新增人数时无数据)。{_SOURCE}", "count", "count",
            None, count=(c + "new",), unit="人", unknown=(c + "new_missing",)),
        Kpi(f"{key}.exited", f"{zh}·退出", f"终止年月在统计期内(不晚于数据截至月份)的保障对象数"
            f"(月报统计: 各月退出人数之和; 有月份未填报退出人数时无数据)。{_SOURCE}", "count", "count",
            None, count=(c + "exited",), unit="人", unknown=(c + "exited_missing",)),
        Kpi(f"{key}.spending", f"{zh}·支出(元)", f"发放年月在统计期内的发放金额之和(含保障期外的"
            f"发放, 另列入异常数据; 月报统计: 各月支出金额之和)。{_SOURCE}", "money", "count", None,
            count=(c + "spending_fen",), divisor=100),
        Kpi(f"{key}.avg_monthly_per_person", f"{zh}·月人均支出(元)",
            f"支出 ÷ 期内发放的人·月数(月报统计: 支出 ÷ 各月人数之和)。无发放时无数据。{_SOURCE}",
            "money", "ratio", None, num=(c + "spending_fen",), den=(c + "person_months",),
            divisor=100),
        Kpi(f"{key}.per_1000", f"{zh}·千人保障数",
            f"保障人数 ÷ 常住人口 × 1000; 按社区分组时用该社区人口, 缺少人口数据时无数据(—)。{_SOURCE}",
            "per", "per_capita", None, count=(c + "persons",), per=1000),
    ]


BENEFITS = [
    *[k for zh, code in PROGRAM_CODES.items() for k in _program_kpis(zh, code)],
    _rate("benefits.medical_insurance.enrolment_rate", "医疗保险参保率",
          f"已参保人数 ÷ 应参保人数, 取{_REFERENCE}所在年度的医保参保数据; 按社区分组时为该社区的。",
          ["enrolled"], ["required"], miss="未参保"),
    _count("benefits.exceptions", "异常数据",
           "名单中的下列情形, 发放年月或所在月份在统计期内的: 发放月份不在保障期内(每笔发放计 1 条); "
           "发放金额高于该类别当年月标准(每笔发放计 1 条); 同一身份标识同月同时在保城市/农村低保与"
           "特困供养(每人每月计 1 条)。", counts=["exceptions"], higher=False, unit="条"),
]

REGISTRY: dict[str, Kpi] = {k.key: k for k in (*CASES, *PETITIONS, *INCIDENTS, *ATTENDANCE,
                                               *WORKLOGS, *APPRAISAL, *BENEFITS)}

COMMON_RULES = [
    ("统计期", "起止日期均含当日(北京时间)。每条记录按其归属日期(受理、登记、接警等时间)归入统计期。"),
    ("数据截至", "判断“已办结”“未办结”“超期”的时点, 默认为最近一次导入或生成数据的时间。"
     "晚于该时点的时间戳视为尚未发生。时间范围预设(本月、上月……)自该日期起算。"),
    ("比率", "取值 0–1, 页面以百分数显示一位小数; 分母为 0 时显示“—”, 不显示 0%。"),
    ("环比 / 同比", "环比: 紧邻统计期之前、等长的期间; 同比: 上一年同日期(2月29日对应2月28日)。"
     "数量的变化为相对变化(%), 比率的变化为百分点。"),
    ("小样本", "排名时给出各比率的 95% Wilson 置信区间; 事件数少于最小样本量(默认10)的单位"
     "照常显示但不参与排名。"),
]


def get(key: str) -> Kpi:
    return REGISTRY[key]


def keys(prefix: str) -> list[str]:
    return [k for k in REGISTRY if k.startswith(prefix + ".")]


def of_domain(domain: str) -> list[Kpi]:
    return list(_BY_DOMAIN.get(domain, ()))


# each domain's KPIs in registry order (the engine asks once per breakdown unit)
_BY_DOMAIN: dict[str, tuple[Kpi, ...]] = {}
for _kpi in REGISTRY.values():
    _BY_DOMAIN[_kpi.domain] = (*_BY_DOMAIN.get(_kpi.domain, ()), _kpi)


def weights(kpi: Kpi, settings) -> list[float]:
    """A score's weights from settings, one per part (named after the part's rate without
    ``_rate``: ``cases.weights.response`` for ``cases.response_rate``)."""
    table = settings.get_path(kpi.weights)
    return [float(table[part.split(".", 1)[1].removesuffix("_rate")]) for part in kpi.parts]


def target(key: str, settings):
    """The KPI's target from settings (``<domain>.targets.<name>``), or None."""
    kpi = REGISTRY[key]
    return settings.get_path(f"{kpi.domain}.targets.{kpi.name}")


def meets_target(key: str, value, settings) -> bool | None:
    """Whether a value meets its KPI's target (at or above it, or at or below it for a
    KPI where lower is better); None without a value or a target."""
    goal = target(key, settings)
    if goal is None or value is None:
        return None
    return value <= goal if REGISTRY[key].higher_is_better is False else value >= goal

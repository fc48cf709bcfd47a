"""The KPI registry: every figure's key, 中文名, definition, unit and format, declared once.

The glossary page, the metric cards' hover help, the CLI table and the exports all read
this registry; the keys are exactly those of ../shared/spec/KPI.md. Definitions are the
spec's words plus the choices Zhili made where the spec is silent (marked 口径说明).
"""
from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("pct", "count", "hours", "score", "money", "per")


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str          # 中文名 shown on pages
    definition: str     # 口径, shown on hover and on the glossary page
    fmt: str            # one of FORMATS
    kind: str           # "rate" (fraction, changes in points) or "count"/"value" (relative)
    higher_is_better: bool | None = True
    domain: str = ""

    @property
    def is_rate(self) -> bool:
        return self.kind == "rate"


_COHORT = "按受理时间(reported_at)归入统计期; 晚于数据截至时间的时间戳视为尚未发生。"
_CLOSED = "办结以办结时间(closed_at)不为空且不晚于数据截至时间为准, 状态文字不作依据。"

CASES = [
    Kpi("cases.total", "受理量", f"统计期内受理的工单数。{_COHORT}", "count", "count", None),
    Kpi("cases.closed", "办结量", f"统计期内受理且已办结的工单数。{_CLOSED}", "count", "count"),
    Kpi("cases.closure_rate", "办结率", "办结量 ÷ 受理量。受理量为 0 时无数据(—)。", "pct", "rate"),
    Kpi("cases.on_time_closed", "按期办结量", "办结时间不晚于办理时限的已办结工单数。", "count", "count"),
    Kpi("cases.on_time_rate", "按期办结率",
        "按期办结量 ÷ (有办理时限的已办结工单 + 截至数据截至时间已超过时限仍未办结的工单)。"
        "无办理时限的工单不计入分子分母。仅以已办结为分母会使近期统计期虚高。", "pct", "rate"),
    Kpi("cases.overdue_open", "超期未办结",
        "积压口径, 不按统计期: 数据截至时间前受理、截至该时间仍未办结且已超过办理时限的全部工单"
        "(受社区范围筛选)。按月分组时不适用。", "count", "count", False),
    Kpi("cases.median_hours_to_close", "办理时长中位数(小时)",
        "已办结工单(办结时间减受理时间)的中位数, 线性插值; 办结早于受理的异常工单不计入。",
        "hours", "value", False),
    Kpi("cases.p90_hours_to_close", "办理时长P90(小时)", "同上集合的第90百分位数, 线性插值。",
        "hours", "value", False),
    Kpi("cases.response_rate", "响应率",
        "签收时间减受理时间不超过响应时限(默认24小时, 见设置)的工单数 ÷ 受理量; "
        "签收晚于数据截至时间视为未签收。", "pct", "rate"),
    Kpi("cases.callbacks", "有效回访量",
        "有满意度评价的工单数。口径说明: 回访发生在办结之后, 故只计截至数据截至时间已办结的工单。",
        "count", "count"),
    Kpi("cases.resolution_rate", "解决率", "回访结果为已解决(是否解决=是)的工单数 ÷ 有效回访量。",
        "pct", "rate"),
    Kpi("cases.satisfaction_rate", "满意率", "(满意 + 基本满意) ÷ 有效回访量。", "pct", "rate"),
    Kpi("cases.three_rate_score", "三率综合得分",
        "100 × (响应率×0.10 + 解决率×0.50 + 满意率×0.40), 权重见设置; 任一分项无数据则无数据。",
        "score", "value"),
    Kpi("cases.community_level_share", "小事不出社区",
        "办结层级为社区的已办结工单 ÷ 填写了办结层级的已办结工单。", "pct", "rate"),
    Kpi("cases.street_level_share", "大事不出街道",
        "办结层级为社区或街道的已办结工单 ÷ 填写了办结层级的已办结工单。", "pct", "rate"),
    Kpi("cases.escalated_share", "矛盾上交率",
        "办结层级为上级的已办结工单 ÷ 填写了办结层级的已办结工单。", "pct", "rate", False),
]

REGISTRY: dict[str, Kpi] = {k.key: k for k in CASES}
for _k in CASES:
    object.__setattr__(_k, "domain", "诉求办理")

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

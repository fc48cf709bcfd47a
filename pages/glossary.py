"""指标口径: every KPI's definition, rendered from the registry the metrics use."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.registry import COMMON_RULES, DOMAINS, of_domain
from pages.ui.access import run_page
from pages.ui.common import sidebar_filters, page_header, settings
from pages.ui.export import excel_button

UNITS = {"pct": "比率(%)", "count": "件/次", "hours": "小时", "score": "分", "money": "元",
         "per": "每千人/万人", "text": "文字", "table": "表"}
KINDS = {"count": "数量(按统计期)", "rate": "比率(分子÷分母, 环比为百分点)",
         "score": "加权得分", "backlog": "时点数(按数据截至, 无环比)",
         "per_capita": "人均数(数量÷人口)", "value": "统计值",
         "overall": "全范围统计(不分组, 无环比)"}


def main() -> None:
    f = sidebar_filters()
    page_header("指标口径", f, "每个数字只有一个口径, 页面、命令行与导出共用")
    with st.container(border=True):
        st.subheader("通用规则")
        for name, text in COMMON_RULES:
            st.markdown(f"**{name}**")
            st.text(text)
    for domain, title in DOMAINS.items():
        with st.container(border=True):
            st.subheader(title)
            # a kind or format added to the registry later shows by its key, not a KeyError
            rows = [{"指标": k.label, "键名": k.key, "口径": k.definition,
                     "单位": UNITS.get(k.fmt, k.fmt), "类型": KINDS.get(k.kind, k.kind)}
                    for k in of_domain(domain)]
            if not rows:
                st.caption("暂无指标")
                continue
            st.table(pd.DataFrame(rows).set_index("指标"))  # wraps long definitions
            excel_button(pd.DataFrame(rows), f"指标口径-{title}", f, key=f"glossary_{domain}_xlsx")
    with st.expander("当前设置(settings.toml)"):
        st.json(dict(settings()), expanded=False)


run_page("glossary", main)

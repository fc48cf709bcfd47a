"""指标口径: every KPI's definition, rendered from the registry the metrics use."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.registry import COMMON_RULES, DOMAINS, of_domain
from pages.ui.common import sidebar_filters, page_header, settings

UNITS = {"pct": "比率(%)", "count": "件/次", "hours": "小时", "score": "分", "money": "元",
         "per": "每千人/万人"}
KINDS = {"count": "数量(按统计期)", "rate": "比率(分子÷分母, 环比为百分点)",
         "score": "加权得分", "backlog": "时点数(按数据截至, 无环比)", "value": "统计值"}


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
            rows = [{"指标": k.label, "键名": k.key, "口径": k.definition, "单位": UNITS[k.fmt],
                     "类型": KINDS[k.kind]} for k in of_domain(domain)]
            st.table(pd.DataFrame(rows).set_index("指标"))  # wraps long definitions
    with st.expander("当前设置(settings.toml)"):
        st.json(dict(settings()), expanded=False)


main()

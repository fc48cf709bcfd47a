"""Issue 14's page-side work: every table with a 导出Excel button whose file has the title,
the period, scope and 数据截至, Chinese headers, numbers as numbers in the page's formats
and neutralised text; "—" for missing values; Chinese month axes with partial months
marked; sparklines following the target; the 街道-wide 失分工单; the Arrow conversion of
every table without Streamlit's fallback."""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data.store.db import ROOT
from metrics.formatting import COLUMN_FORMATS, fmt_interval, month_label
from metrics.period import Period
from metrics.tables import first_level, has_levels
from metrics.xlsx import EXCEL_FORMATS
from pages.ui import charts
from pages.ui.export import context_line, excel_bytes, file_name
from pages.ui.tables import arrow_ready, column_config


@dataclass(frozen=True)
class _Filters:
    period: Period
    scope: tuple[str, ...]
    as_of: datetime


F = _Filters(Period(date(2026, 11, 1), date(2026, 11, 27)), ("和平社区", "=1+2社区"),
             datetime(2026, 11, 27, 8, 0))


# --- the file ---------------------------------------------------------------------------------

def test_excel_file_has_title_context_headers_numbers_and_safe_text():
    frame = pd.DataFrame({
        "排名": pd.array([1, 2, None], dtype="Int64"),
        "社区": ["和平社区", "@SUM(A1)", "+1社区"],
        "办结率": [0.9651, 0.5, None],
        "受理量": [1234, 7, 0],
        "三率综合得分": [92.14, 80.0, None],
        "受理时间": [datetime(2026, 11, 2, 9, 30), None, datetime(2026, 11, 3, 10, 0)],
    })
    data = excel_bytes(frame, "诉求办理-社区排名", context_line(F),
                       {"排名": "int", "办结率": "cases.closure_rate", "受理量": "cases.total",
                        "三率综合得分": "cases.three_rate_score", "受理时间": "datetime"})
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.title == "诉求办理-社区排名"
    assert ws["A1"].value == "诉求办理-社区排名"
    assert ws["A2"].value == ("统计期 2026-11-01 至 2026-11-27 · 范围 和平社区、=1+2社区 · "
                              "数据截至 2026-11-27 08:00")
    assert [c.value for c in ws[4]] == list(frame.columns)
    assert ws["A5"].value == 1 and ws["A7"].value is None            # a missing rank: empty
    assert ws["B6"].value == "@SUM(A1)" and ws["B6"].quotePrefix and ws["B6"].data_type == "s"
    assert ws["B7"].quotePrefix and not ws["B5"].quotePrefix
    assert ws["C5"].value == 0.9651 and ws["C5"].number_format == "0.0%"
    assert ws["D5"].value == 1234 and ws["D5"].number_format == "#,##0"
    assert ws["E5"].value == 92.14 and ws["E5"].number_format == "#,##0.0"
    assert ws["F5"].value == datetime(2026, 11, 2, 9, 30)
    assert ws["F5"].number_format == "yyyy-mm-dd hh:mm"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)   # no formulas
    assert file_name("诉求办理-失分工单/全街道", F) == "诉求办理-失分工单_全街道_2026-11-27.xlsx"


def test_page_and_excel_formats_have_one_home():
    assert {k for k in COLUMN_FORMATS} <= set(EXCEL_FORMATS)
    assert EXCEL_FORMATS["pct"] == "0.0%" and EXCEL_FORMATS["hours"] == "#,##0.0"
    config = column_config({"办结率": "pct", "日期": "date", "受理量": "cases.total"},
                           helps={"办结率": "说明"}, extra={"日期": {"width": 80}})
    assert config["办结率"]["type_config"]["format"] == "percent"
    assert config["办结率"]["type_config"]["step"] == 0.001 and config["办结率"]["help"] == "说明"
    assert config["日期"]["type_config"]["format"] == "YYYY-MM-DD"
    assert config["日期"]["width"] == 80
    assert config["受理量"]["type_config"]["format"] == "localized"


def test_mixed_columns_become_one_type_for_arrow():
    import pyarrow as pa

    frame = pd.DataFrame({"金额": [Decimal("12.50"), None, 3.0], "编号": ["a", 7, None],
                          "文字": ["x", "y", None]})
    out = arrow_ready(frame)
    pa.Table.from_pandas(out)   # no error
    assert out["金额"].tolist()[0] == 12.5 and pd.isna(out["金额"].tolist()[1])
    assert out["编号"].tolist()[:2] == ["a", "7"] and pd.isna(out["编号"].tolist()[2])
    assert out["文字"] is frame["文字"] or out["文字"].tolist()[:2] == ["x", "y"]


# --- words and labels -------------------------------------------------------------------------

def test_month_labels_mark_partial_months():
    period = Period(date(2025, 11, 29), date(2026, 11, 28))
    assert period.partial_months() == {"2025-11": (29, 30), "2026-11": (1, 28)}
    assert Period(date(2026, 2, 1), date(2026, 2, 28)).partial_months() == {}
    assert month_label("2026-01") == "2026年1月" and month_label("合计") == "合计"
    assert charts.month_labels(["2025-11", "2025-12", "2026-11"], period) == [
        "2025年11月*", "2025年12月", "2026年11月*"]
    assert charts.partial_note(["2025-11", "2025-12", "2026-11"], period) == (
        "带 * 号的月份不完整, 只含统计期内的日子: 2025年11月(29–30日)、2026年11月(1–28日)")
    assert charts.partial_note(["2026-02"], Period(date(2026, 2, 1), date(2026, 2, 28))) is None


def test_one_month_trend_is_one_category_not_a_time_axis():
    months = pd.DataFrame({"unit": ["2026-11"], "cases.total": [12],
                           "cases.closure_rate": [0.5]})
    fig = charts.volume_and_rate(charts.by_month(months, Period(date(2026, 11, 1),
                                                                date(2026, 11, 27))),
                                 charts.LIGHT, x="unit", bars="cases.total",
                                 line="cases.closure_rate")
    assert fig.layout.xaxis.type == "category"
    assert list(fig.data[0].x) == ["2026年11月*"]


def test_interval_and_levels():
    assert fmt_interval(0.931, 0.9724) == "93.1%–97.2%"
    assert fmt_interval(None, 0.5) == "—" and fmt_interval(float("nan"), 0.5) == "—"
    assert first_level("城乡建设-住房保障-保障性住房-公租房分配申请") == "城乡建设"
    assert first_level("城乡建设－住房保障") == "城乡建设" and first_level("就业") == "就业"
    assert has_levels(["就业", "城乡建设/住房"]) and not has_levels(["就业", "物业管理"])


def test_long_names_are_not_cut_on_share_bars():
    df = pd.DataFrame({"name": ["城乡建设-住房保障-保障性住房-公租房分配申请",
                                "城乡建设-住房保障-保障性住房-廉租房分配申请"],
                       "total": [3, 2]})
    spec = charts.share_bars(df, charts.LIGHT, label="name", value="total").to_dict()
    assert spec["encoding"]["y"]["axis"]["labelLimit"] == 0


# --- the pages --------------------------------------------------------------------------------

PAGES = ["pages/cockpit.py", "pages/cases.py", "pages/safety.py", "pages/benefits.py",
         "pages/cadres.py", "pages/appraisal.py", "pages/data_status.py", "pages/glossary.py"]


@pytest.fixture(scope="module")
def runs(demo_url):
    """Each page once on the demo store, with Streamlit's log of Arrow fallbacks."""
    import os

    old = os.environ.get("ZHILI_DB_URL")
    os.environ["ZHILI_DB_URL"] = demo_url
    records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Catch(level=logging.WARNING)
    logging.getLogger("streamlit").addHandler(handler)
    try:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.run()
        out = {}
        for page in PAGES:
            start = len(records)
            at.switch_page(page).run()
            assert not at.exception, (page, at.exception)
            out[page] = (_snapshot(at), [r.getMessage() for r in records[start:]])
        yield out
    finally:
        logging.getLogger("streamlit").removeHandler(handler)
        if old is None:
            os.environ.pop("ZHILI_DB_URL", None)
        else:
            os.environ["ZHILI_DB_URL"] = old


def _snapshot(at) -> dict:
    """What a page showed (the AppTest moves on to the next page); editors (the notices
    on the data page) are input, not tables to export, and are left out."""
    tables = [d for d in at.dataframe if d.editing_mode == "read_only"]
    return {
        "placeholders": [d.proto.placeholder for d in tables],
        "downloads": [e.proto.label for e in at.get("download_button")],
        "metrics": {m.label.split(" :")[0]: (m.label, m.proto.color) for m in at.metric},
        "charts": [e.proto.spec for e in at.get("plotly_chart")],
        "selectboxes": {s.key: s.value for s in at.selectbox if s.key},
        "captions": [c.value for c in at.caption],
        "frames": [d.value for d in tables],
    }


def test_every_table_has_an_excel_button_and_shows_missing_as_dash(runs):
    for page in PAGES:
        shot, _ = runs[page]
        labels = shot["downloads"]
        if page == "pages/cockpit.py":
            # the ranking behind the chart, and the monthly report's two files
            assert sorted(labels) == ["下载 PDF", "下载 Word", "导出Excel"]
            continue
        if page == "pages/glossary.py":    # st.table of each domain's definitions
            assert labels.count("导出Excel") >= 3, labels
            continue
        assert shot["frames"], page
        assert set(shot["placeholders"]) == {"—"}, page
        excel = [x for x in labels if x == "导出Excel"]
        # on the data page the demo rows to delete (a confirmation, not data) have none
        exempt = sum("演示数据行数" in f.columns for f in shot["frames"])
        assert len(excel) >= len(shot["frames"]) - exempt, (page, labels)
        for frame in shot["frames"]:
            assert not [c for c in frame.columns if not isinstance(c, str) or c.isascii()], (
                page, list(frame.columns))   # Chinese headers only


def test_no_arrow_conversion_fallback_on_any_page(runs):
    for page in PAGES:
        _, messages = runs[page]
        assert not [m for m in messages if "Arrow" in m], (page, messages)


def test_cases_page_month_axis_street_wide_lost_points_and_interval_names(runs, demo_url):
    import json

    from data.store.db import data_as_of, get_engine
    from metrics.period import preset_period

    period = preset_period("近12个月", data_as_of(get_engine(demo_url)).date())
    shot, _ = runs["pages/cases.py"]
    trend = json.loads(shot["charts"][0])
    x = trend["data"][0]["x"]
    months = period.months()
    assert x == charts.month_labels(months, period)
    assert x[0] == month_label(months[0]) + ("*" if period.start.day != 1 else "")
    assert trend["layout"]["xaxis"]["type"] == "category"
    if period.partial_months():
        assert charts.partial_note(months, period) in shot["captions"]
    # 失分工单 starts with the whole 街道, costliest first, each case with its community
    assert shot["selectboxes"]["cases_lost_community"] == "全街道"
    lost = next(f for f in shot["frames"] if "三率得分扣分" in f.columns)
    assert "社区" in lost.columns
    assert lost["三率得分扣分"].is_monotonic_decreasing
    # 可信区间, not Wilson: a column per rate, in plain words
    league = next(f for f in shot["frames"] if "办结率可信区间" in f.columns)
    assert not [c for c in league.columns if "Wilson" in c or "95%区间" in c]


def test_sparkline_colour_follows_the_target(runs):
    """Streamlit draws the sparkline in the delta's colour: green when the KPI meets its
    target, red when it misses it, whatever the direction of 环比."""
    from streamlit.proto.Metric_pb2 import Metric

    shot, _ = runs["pages/cases.py"]
    colours = []
    for name in ("办结率", "按期办结率", "响应率", "满意率", "解决率", "三率综合得分"):
        label, colour = shot["metrics"][name]
        met = "✓ 达标" in label
        assert colour == (Metric.MetricColor.GREEN if met else Metric.MetricColor.RED), name
        colours.append(colour)
    assert len(set(colours)) == 2   # the demo meets some targets and misses others

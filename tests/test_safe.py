"""Data is text, never markup: pages.ui.safe with hostile strings, and the chart builders
that pass store names through it. (What the browser makes of it: tests/test_browser.py.)"""
from __future__ import annotations

import json
import re
import string

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from pages.ui import charts
from pages.ui.safe import WJ, clip, label, md
from tests.hostile_store import CATEGORIES, CHANNELS, HOSTILE, MORE_COMMUNITIES

ALL = HOSTILE + MORE_COMMUNITIES + CATEGORIES + CHANNELS + (
    "<http://x>", "https://x.com", "www.X.com", "x@y.cn", ":smile:", ":streamlit:",
    ":green-badge[✓]", "1. 列表", "- 列表", "> 引用", "    代码", "a\n# 标题", "a  \nb",
    "\\*转义\\*", "&amp;", "&#60;b&#62;", "x\x00y", "![图](http://x/a.png)", "<!-- c -->",
    "a|b\n-|-\nc|d", "[x]: http://x", "$$x$$", "\\(x\\)",
)
PUNCT = set(string.punctuation)


def _unescape(text: str) -> str:
    """What a CommonMark renderer shows for ``md`` output: each backslash pair is its
    character, the word joiners are invisible."""
    return re.sub(r"\\(.)", r"\1", text).replace(WJ, "")


def _bare(text: str) -> str:
    """``text`` with every backslash-escaped pair removed: what Markdown could still parse."""
    return re.sub(r"\\.", "", text)


@pytest.mark.parametrize("raw", ALL, ids=range(len(ALL)))
def test_md_leaves_no_markup(raw):
    out = md(raw)
    # every ASCII punctuation character reaches the renderer escaped...
    assert not PUNCT & set(_bare(out)), out
    # ...no control character starts a block or hides in the text...
    assert not re.search(r"[\x00-\x1f\x7f]", out), out
    # ...the patterns Streamlit applies after parsing (emoji, :material/…:, autolinks) are
    # broken by a word joiner...
    shown = re.sub(r"\\(.)", r"\1", out)
    assert not re.search(r":[\w+-]", shown), shown
    assert not re.search(r"https?://|www\.|@\w", shown, re.IGNORECASE), shown
    # ...and the reader sees exactly the characters typed (control characters as spaces).
    assert _unescape(out) == re.sub(r"[\x00-\x1f\x7f]", " ", raw)


def test_md_examples():
    assert md("**粗体**") == r"\*\*粗体\*\*"
    assert md("<script>") == r"\<script\>"
    assert md(":red[红]") == "\\:" + WJ + r"red\[红\]"
    assert md("[链接](javascript:alert(1))") == (r"\[链接\]\(javascript\:" + WJ
                                               + r"alert\(1\)\)")
    assert md(12.5) == r"12\.5"
    assert md("普通文字") == "普通文字"


@pytest.mark.parametrize("raw", ALL, ids=range(len(ALL)))
def test_label_is_plotly_text(raw):
    out = label(raw)
    assert not re.search(r"[<>\"']", out), out
    # the only entities left are ours, and decoding them gives the text back
    assert re.sub(r"&(?!amp;|lt;|gt;|#34;|#39;)", "", out) == out
    decoded = (out.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"')
               .replace("&#39;", "'").replace("&amp;", "&"))
    assert decoded == re.sub(r"[\x00-\x1f\x7f]", " ", raw)


def test_clip_shortens_and_escapes():
    assert clip("x" * 100) == "x" * 40 + "…"
    assert clip("<b>") == r"\<b\>"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_md_round_trips_any_text(raw):
    out = md(raw)
    assert not PUNCT & set(_bare(out))
    assert _unescape(out) == re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", raw)


def _plotly_strings(fig) -> list[str]:
    spec = json.loads(fig.to_json())
    return [str(v) for trace in spec["data"] for k in ("x", "y", "labels")
            for v in (trace.get(k) or []) if isinstance(v, str)]


def test_chart_builders_escape_store_names():
    names = list(HOSTILE)
    df = pd.DataFrame({"unit": names, "cases.three_rate_score": [90.0] * len(names)})
    bars = _plotly_strings(charts.ranked_bars(df, charts.LIGHT, label="unit",
                                              value="cases.three_rate_score", target=85.0))
    pie = _plotly_strings(charts.pie(pd.DataFrame({"name": names, "total": [1] * len(names)}),
                                     charts.DARK, label="name", value="total"))
    for shown in (bars, pie):
        assert set(shown) >= {label(n) for n in names}
        assert not any("<" in s for s in shown), shown

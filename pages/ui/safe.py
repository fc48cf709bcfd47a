"""Data is text, never markup: the one place that makes a value from the store or the URL
safe to show where Streamlit or a chart would otherwise interpret it.

- ``md(text)`` for anything Streamlit renders as Markdown (st.markdown, st.caption,
  st.warning/info/error/success, st.subheader, metric and page_link labels);
- ``label(text)`` for plotly strings (tick labels, hover, text, legend), which plotly reads
  as its small HTML dialect (``<b>``, ``<i>``, ``<a href>``, ``<br>``, entities).

Altair/vega draws text as SVG or canvas text and its tooltip escapes HTML, so altair
labels take the value as it is. Text we format ourselves (numbers, our own Chinese
sentences) is not data and needs neither.
"""
from __future__ import annotations

import re

# Every ASCII punctuation character: CommonMark lets each be backslash-escaped to a literal,
# and escaping all of them is simpler to trust than a list of the ones that matter today.
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
# Control characters (NUL, newlines, tabs, DEL, C1) would start new Markdown blocks
# (headings, lists, code) or reach the page invisibly: each becomes one space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Streamlit applies some rules to the *text* after Markdown has been parsed, where a
# backslash escape is already gone: emoji shortcodes (:smile:), material icons
# (:material/home:), :streamlit:, and GFM literal autolinks (http://…, www.…, a@b.cn).
# An invisible WORD JOINER after ':' and '@' and between 'www' and '.' breaks each pattern
# without changing what the reader sees.
WJ = "\u2060"
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)


def md(text: object) -> str:
    """``text`` as Streamlit Markdown that shows exactly these characters: no link, no
    emphasis, no colour or icon directive, no HTML, no heading, list or code block."""
    raw = _CONTROL.sub(" ", str(text)).replace(":", ":" + WJ).replace("@", "@" + WJ)
    return _MD_PUNCT.sub(r"\\\1", _WWW.sub(r"\1" + WJ, raw))


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}
_HTML_RE = re.compile("[&<>\"']")


def label(text: object) -> str:
    """``text`` for a plotly string: its tags and entities shown as typed. Quotes become
    numeric references, the only kind plotly decodes besides &amp; &lt; &gt;."""
    return _HTML_RE.sub(lambda m: _HTML[m.group()], _CONTROL.sub(" ", str(text)))


def clip(text: object, limit: int = 40) -> str:
    """A value from outside (the URL) shortened for a one-line message, then ``md``."""
    raw = _CONTROL.sub(" ", str(text))
    return md(raw if len(raw) <= limit else raw[:limit] + "…")

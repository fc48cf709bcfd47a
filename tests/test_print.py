"""Printing 诉求办理 to A4 (Chromium's print-to-PDF, as Ctrl+P does): no sidebar, toolbar or
buttons on paper, each card's lines whole (before, the comparison line broke into one
character per line), columns side by side and no chart wider than the paper. Checked on
the print-media DOM and on the PDF's text (pypdf)."""
from __future__ import annotations

import re
import unicodedata

import pytest

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _settle, server  # noqa: F401

A4_LANDSCAPE_PT = (842, 595)  # the paper Chromium used, in points (1/72 inch), ±1
SIDEBAR_WORDS = ("时间范围", "社区范围", "指挥中心大屏", "干部考勤与日志")
PRINT_STATE = """() => {
  const shown = sel => [...document.querySelectorAll(sel)].filter(
      e => getComputedStyle(e).display !== 'none' && e.getClientRects().length);
  const lines = e => Math.round(e.getBoundingClientRect().height
      / parseFloat(getComputedStyle(e).lineHeight || '20'));
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const right = main.getBoundingClientRect().right;
  return {
    sidebar: shown('[data-testid="stSidebar"], [data-testid="stHeader"]').length,
    buttons: shown('[data-testid="stDownloadButton"], [data-testid="stElementToolbar"]').length,
    deltaLines: shown('[data-testid="stMetricDelta"], [data-testid="stMetricDeltaDescription"]')
        .map(e => [e.innerText, lines(e)]),
    columnRows: shown('[data-testid="stHorizontalBlock"]').map(
        e => getComputedStyle(e).display + ' ' + getComputedStyle(e).flexWrap),
    tooWide: shown('.js-plotly-plot, [data-testid="stDataFrame"]').filter(
        e => e.getBoundingClientRect().right > right + 2).length,
  };
}"""


def _text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        width, height = (float(v) for v in page.mediabox[2:])
        assert abs(width - A4_LANDSCAPE_PT[0]) <= 1 and abs(height - A4_LANDSCAPE_PT[1]) <= 1
    # the CJK font maps some glyphs to Kangxi radicals (⽐ for 比): NFKC folds them back
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in reader.pages))


@pytest.mark.slow
def test_cases_page_prints_to_a4_without_sidebar_and_with_whole_cards(server):  # noqa: F811
    pytest.importorskip("pypdf")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(server + "/cases", wait_until="domcontentloaded")
        _settle(page)
        page.emulate_media(media="print")
        page.wait_for_timeout(1000)   # charts follow their new width
        state = page.evaluate(PRINT_STATE)
        pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
        browser.close()

    assert state["sidebar"] == 0 and state["buttons"] == 0, state
    assert len(state["deltaLines"]) >= 14, state["deltaLines"]   # 7 cards × delta + note
    broken = [(t, n) for t, n in state["deltaLines"] if n > 3]
    assert not broken, broken          # a line of a card never becomes a column of characters
    assert state["columnRows"] and all(r == "flex nowrap" for r in state["columnRows"]), state
    assert state["tooWide"] == 0, state

    text = _text(pdf)
    for word in SIDEBAR_WORDS:
        assert word not in text, f"sidebar text {word!r} printed"
    assert "导出Excel" not in text
    assert "诉求办理" in text and "社区排名" in text and "月度趋势" in text
    # every compared card's 环比 on one line: '环比 -3.0 个百分点' (rates) or '环比 +3.6%'
    deltas = re.findall(r"环比 [+-]\d+\.\d( 个百分点|%)", text)
    assert len(deltas) >= 7, text[:2000]
    assert not re.search(r"环\s*\n\s*比", text)

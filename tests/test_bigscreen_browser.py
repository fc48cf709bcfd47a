"""The big screen in a real browser (Debian's headless Chromium, driven by playwright):

- every slide at 1920×1080 and 3840×2160: no error box, the slide filled (its panels reach
  the ticker), no text under 18 px at 1080p, the layout twice as large at 2160p;
- a soak run with ``?dwell=3``: every slide is seen, no error box ever, and after a warm-up
  cycle the server's resident memory grows by at most 10 % and the page's JS heap by at
  most 25 %. ``ZHILI_SOAK_SECONDS`` sets its length (default 240 s; the README reports a
  long run made with it) and ``ZHILI_SOAK_LOG`` a file for its samples every 5 minutes.

Screenshots go to ``ZHILI_SHOTS`` when set (else the test's temporary folder).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from metrics.settings import load_settings
from metrics.slides import ALERT, SLIDES
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _serve

# performance.memory, and window.gc() so that the heap is measured without garbage
ARGS = [*CHROMIUM_ARGS, "--enable-precise-memory-info", "--js-flags=--expose-gc"]
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# every text element that shows characters, with its rendered size
TEXT_SIZES = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim() || el.closest('script,style,noscript')) continue;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    // 1×1 clipped: visually hidden (Streamlit's skip link for screen readers)
    if (r.width <= 1 || r.height <= 1 || cs.visibility === 'hidden' || cs.display === 'none')
      continue;
    if (r.bottom < 0 || r.top > innerHeight) continue;
    out.push([parseFloat(cs.fontSize), node.textContent.trim().slice(0, 30)]);
  }
  return out;
}"""
PANELS_BOTTOM = """() => Math.max(...[...document.querySelectorAll(
  '[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stVerticalBlock"][height]')]
  .map(e => e.getBoundingClientRect().bottom))"""


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _heap_mb(page) -> float:
    """The page's JS heap after a garbage collection (what it really keeps)."""
    page.evaluate("() => window.gc()")
    return page.evaluate("() => performance.memory.usedJSHeapSize") / 1e6


def _slide_title(page) -> str:
    return page.inner_text(".zl-slide").split("\n")[0].strip()


def _wait_slide(page, scale: float, timeout_s: float = 90) -> None:
    """Until the top bar is drawn at ``scale`` and the charts have drawn."""
    page.wait_for_selector(f'.zl-bar[data-scale="{scale:g}"]', timeout=timeout_s * 1000)
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .every(p => p.querySelector('.main-svg'))""", timeout=timeout_s * 1000)
    time.sleep(1.5)


def _shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ZHILI_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
def test_every_slide_at_1080p_and_2160p(demo_url, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = _shots_dir(tmp_path)
    slides = [*SLIDES, ALERT.id]
    with _serve(demo_url, with_pid=True) as (base, _pid), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for width, height, scale in ((1920, 1080, 1), (3840, 2160, 2)):
            page = browser.new_page(viewport={"width": width, "height": height})
            for slide in slides:
                page.goto(f"{base}/bigscreen?slide={slide}")
                _wait_slide(page, scale)
                assert not page.query_selector_all(ERRORS), (slide, width)
                title = SLIDES[slide].title if slide in SLIDES else ALERT.title
                assert _slide_title(page) == title
                # filled: the panels reach down to the ticker (52 px at 1080p)
                bottom = page.evaluate(PANELS_BOTTOM)
                assert bottom >= height - (52 + 90) * scale, (slide, width, bottom)
                sizes = page.evaluate(TEXT_SIZES)
                small = [(s, t) for s, t in sizes if s < 18 * scale - 0.01]
                assert not small, (slide, width, small[:5])
                page.screenshot(path=str(shots / f"{slide}_{width}x{height}.png"))
            page.close()
        browser.close()


@pytest.mark.slow
def test_soak_every_slide_seen_memory_flat(demo_url, tmp_path):
    from playwright.sync_api import sync_playwright

    seconds = float(os.environ.get("ZHILI_SOAK_SECONDS", "240"))
    titles = {SLIDES[s].title for s in load_settings().get_path("bigscreen.playlist")}
    with _serve(demo_url, with_pid=True) as (base, pid), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{base}/bigscreen?dwell=3")
        _wait_slide(page, 1)
        seen, errors = set(), []
        start = last_log = time.monotonic()
        warm_rss = warm_heap = None
        log = os.environ.get("ZHILI_SOAK_LOG")   # a long run's samples, every 5 minutes
        while time.monotonic() - start < seconds:
            time.sleep(1)
            if log and time.monotonic() - last_log >= 300:
                last_log = time.monotonic()
                with open(log, "a", encoding="utf-8") as fh:
                    fh.write(f"{last_log - start:.0f}s rss={_rss_mb(pid):.1f}MB "
                             f"heap={_heap_mb(page):.1f}MB slides={len(seen)} "
                             f"errors={len(errors)}\n")
            try:
                seen.add(_slide_title(page))
            except Exception:  # noqa: BLE001 - between two slides the bar is redrawn
                pass
            if page.query_selector_all(ERRORS):
                errors.append(page.inner_text("body")[:300])
            if warm_rss is None and titles <= seen:        # one whole cycle: warmed up
                time.sleep(3)
                warm_rss = _rss_mb(pid)
                warm_heap = _heap_mb(page)
        end_rss = _rss_mb(pid)
        end_heap = _heap_mb(page)
        browser.close()
    report = (f"soak {seconds:.0f}s: slides {len(seen)}; server RSS {warm_rss:.0f} -> "
              f"{end_rss:.0f} MB; JS heap {warm_heap:.1f} -> {end_heap:.1f} MB")
    print(report)
    (tmp_path / "soak.txt").write_text(report)
    assert not errors, errors[:3]
    assert titles <= seen, titles - seen
    assert end_rss <= warm_rss * 1.10, report
    assert end_heap <= warm_heap * 1.25, report

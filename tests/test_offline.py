"""Offline: a government intranet reaches no outside host, so no page may ask for one.

A real browser (Debian's Chromium through playwright, as in tests/test_browser.py) visits
every page of dashboard.py's navigation (read from the file, so a new page is covered when
it is listed) and opens the cockpit's 月度报告 menu, recording every request of the browser
context (pages, workers, favicons, fonts, map styles, chart libraries, telemetry). Any host
other than the app's own fails the test, and so does a failed request or an error status
from the app itself (the 404s and failed name lookups a blocked intranet shows).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from data.store.db import ROOT
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _serve, _settle


PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")


def every_path() -> list[str]:
    """"/" (the cockpit) and each page's url_path in dashboard.py."""
    source = (ROOT / "dashboard.py").read_text(encoding="utf-8")
    return ["/", *[f"/{p}" for p in re.findall(r'url_path="([^"]+)"', source)]]


def test_every_page_of_the_navigation_is_visited():
    paths = every_path()
    for page in ("/cases", "/safety", "/cadres", "/appraisal", "/bigscreen", "/glossary",
                 "/data", "/overview"):
        assert page in paths


@pytest.mark.slow
def test_no_page_requests_an_outside_host(demo_url):
    from playwright.sync_api import sync_playwright

    with _serve(demo_url) as base:
        own = urlsplit(base).netloc
        requests, failed, errors = [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            context.on("request", lambda r: requests.append(r.url))
            # a request cut short by the next navigation (net::ERR_ABORTED) is not a failure
            context.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
                       and failed.append(f"{r.url} {r.failure}"))
            # Streamlit's client looks for its server under the page's path first
            # (/cases/_stcore/health → 404, then /_stcore/health): those probes are its own
            context.on("response", lambda r: r.status >= 400 and not PROBE.search(r.url)
                       and errors.append(f"{r.status} {r.url}"))
            page = context.new_page()
            for path in every_path():
                page.goto(base + path, wait_until="domcontentloaded")
                _settle(page)
                page.wait_for_timeout(1500)   # late requests: favicons, fonts, map tiles
            page.goto(base + "/", wait_until="domcontentloaded")
            _settle(page)
            page.get_by_role("button", name="月度报告").click()
            page.get_by_text("下载 Word").wait_for()
            page.wait_for_timeout(1000)
            browser.close()
    outside = sorted({u for u in requests
                      if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                      and urlsplit(u).netloc != own})
    assert not outside, outside
    assert len(requests) > 50   # the recording did record
    assert not failed, failed
    assert not errors, errors

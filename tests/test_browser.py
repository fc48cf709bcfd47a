"""Real-browser check: start the dashboard on a demo store, open every page in Debian's
headless Chromium (playwright drives it; nothing is downloaded), and fail on an error box,
an exception or a chart that never draws."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from data.store.db import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# A direct link first: it must still run inside the entrypoint frame.
PATHS = ["/cases", "/", "/overview", "/bigscreen", "/glossary", "/data"]
CHARTS_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg'))
    && [...document.querySelectorAll('.vega-embed')].every(v => v.querySelector('canvas, svg'))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_url):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium not installed (apt-get install -y chromium fonts-noto-cjk)")
    port = _free_port()
    env = {**os.environ, "ZHILI_DB_URL": demo_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def _settle(page, timeout_s: float = 60) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet = None
    while time.monotonic() < deadline:
        busy = page.query_selector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')
        if busy:
            quiet = None
        elif quiet is None:
            quiet = time.monotonic()
        elif time.monotonic() - quiet > 1.0:
            break
        time.sleep(0.2)
    page.wait_for_function(CHARTS_DRAWN, timeout=max(1000, (deadline - time.monotonic()) * 1000))


@pytest.mark.slow
def test_every_page_draws_without_errors(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        for path in PATHS:
            page.goto(server + path, wait_until="domcontentloaded")
            _settle(page)
            errors = [e.inner_text()[:200] for e in page.query_selector_all(
                '[data-testid="stException"], [data-testid="stAlertContentError"]')]
            assert not errors, f"{path}: {errors}"
            charts = page.query_selector_all(".js-plotly-plot, .vega-embed")
            metrics = page.query_selector_all('[data-testid="stMetric"]')
            if path in ("/", "/overview", "/cases", "/bigscreen"):
                assert charts, f"{path}: no chart drawn"
            if path in ("/", "/overview", "/cases"):
                assert len(metrics) >= 6, f"{path}: {len(metrics)} metrics"
                nav = page.inner_text('[data-testid="stSidebarNav"]')
                assert "诉求办理" in nav and "cockpit" not in nav, nav
            page.screenshot(path=str(tmp_path / f"{path.strip('/') or 'home'}.png"))
        browser.close()

"""Real browser, login on (issue 16): a community user opens a link to another community
on every page, logs in at the form it lands on, and sees its own community only; the pages
its role does not open show nothing of theirs. Same conventions as tests/test_browser.py
(Debian's Chromium driven by playwright; nothing downloaded)."""
from __future__ import annotations

import sqlite3
from urllib.parse import urlencode, urlsplit

import pytest

from data.store import users
from data.store.db import get_engine
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, NOT_FOUND, _serve, _settle

OWN, OTHER = "和平社区", "中华社区"
PASSWORD = "password123"
# path -> the page's title: the link opens that page once the login succeeds
PATHS = {"/": "领导驾驶舱", "/overview": "领导驾驶舱", "/cases": "诉求办理", "/safety": "信访与警情",
         "/benefits": "民生保障", "/cadres": "干部考勤与日志", "/appraisal": "考核评议", "/glossary": "指标口径"}
REFUSED = {"/data": "数据表概况", "/bigscreen": "指挥中心"}   # a page and a text of its own
# the page's text without its alerts (the URL notice names the community it refused),
# with the text drawn inside charts
SHOWN = """() => {
  let text = document.body.innerText;
  for (const a of document.querySelectorAll('[data-testid="stAlertContainer"]'))
    text = text.split(a.innerText).join('');
  const svg = [...document.querySelectorAll('svg')].map(s => s.textContent).join('\\n');
  return text + '\\n' + svg;
}"""


@pytest.fixture(scope="module")
def login_server(demo_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser_access")
    with sqlite3.connect(demo_url.removeprefix("sqlite:///")) as src, \
            sqlite3.connect(folder / "demo.db") as dst:
        src.backup(dst)
    url = f"sqlite:///{folder / 'demo.db'}"
    users.add(get_engine(url), "boss", "leader", password=PASSWORD)
    users.add(get_engine(url), "sec", "community", OWN, password=PASSWORD)
    with _serve(url) as base:
        yield base


def _login(page, name: str) -> None:
    page.wait_for_selector('input[aria-label="用户名"]', timeout=60_000)
    page.fill('input[aria-label="用户名"]', name)
    page.fill('input[aria-label="密码"]', PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector('input[aria-label="密码"]', state="detached", timeout=60_000)


@pytest.mark.slow
def test_community_user_cannot_see_another_community_by_any_link(login_server, tmp_path):
    from playwright.sync_api import sync_playwright

    query = "?" + urlencode([("community", OTHER), ("period", "近12个月")])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        for path, title in PATHS.items():
            page.goto(login_server + path + query, wait_until="domcontentloaded")
            _settle(page)
            # a new browser session: the login form and nothing else
            assert not page.query_selector('[data-testid="stMetric"]'), path
            assert OTHER not in page.evaluate(SHOWN) and OWN not in page.evaluate(SHOWN)
            _login(page, "sec")
            _settle(page)
            assert not page.query_selector('[data-testid="stException"]'), path
            errors = [e.inner_text() for e in page.query_selector_all(
                '[data-testid="stAlertContentError"]')]
            assert not errors, f"{path}: {errors}"
            assert page.inner_text("h1") == title, path
            alerts = page.inner_text('[data-testid="stMain"]')
            assert f"链接中的社区「{OTHER}」不在当前账号的查看范围内" in alerts, path
            shown = page.evaluate(SHOWN)
            assert OTHER not in shown, f"{path}: {OTHER} shown"
            if path != "/glossary":
                assert f"范围 {OWN}" in shown, path
            page.screenshot(path=str(tmp_path / f"{path.strip('/') or 'home'}.png"),
                            full_page=True)
        nav = page.inner_text('[data-testid="stSidebarNav"]')
        assert "数据管理" not in nav and "指挥中心大屏" not in nav, nav
        for path, own_text in REFUSED.items():
            page.goto(login_server + path + query, wait_until="domcontentloaded")
            _settle(page)
            _login(page, "sec")
            _settle(page)
            shown = page.evaluate(SHOWN)
            assert own_text not in shown and OTHER not in shown, path
            # not in its navigation: Streamlit says so and opens the default page instead
            assert (urlsplit(page.url).path != path or NOT_FOUND in page.content()
                    or "无权查看此页面" in shown), path
        browser.close()

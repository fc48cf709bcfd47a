"""Login, the current viewer and each page's check (the rules: ``metrics.access``).

- No user in the store: login is off, everyone is ``OPEN_VIEWER`` and every page carries
  the 未启用登录 banner (``guard``).
- Users exist: ``gate()`` (dashboard.py, before the navigation) shows the 用户名/密码
  form until a login succeeds; a ``?token=…`` link logs a ``screen`` user in without it.
  A login lasts ``auth.session_hours``; a disabled or removed user is out at the next
  page load (the user is read from the store on every run).
- Every page starts with ``guard("<page key>")``: no viewer, or a role that does not open
  the page (a direct link), stops the page before it reads any figure.

Logins (success, failure, token), logouts and lockouts go to the audit trail
(``data.store.audit``), as ``record(what, detail)`` does for a page's downloads.

This module does not import ``pages.ui.common``: dashboard.py calls ``gate()`` before
``st.navigation``, and common's import then would rerun the script (its pages-folder
switch) and drop the messages of that first run.
"""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from data.store import audit, clock, users
from metrics.access import OPEN, OPEN_VIEWER, PAGES, OutOfScope, Viewer
from data.store.db import get_engine, resolve_url
from metrics.settings import load_settings as settings
from pages.ui.safe import md

SESSION = "_auth"          # {"name", "at"}: who logged in this browser session, and when
NOTICE = "_auth_notice"    # a line for the login form (session expired, logged out)


def engine():
    """The store of the URL in force now (get_engine keeps one engine per URL)."""
    return get_engine(resolve_url())


# our own constant style sheet: no sidebar on the login form
HIDE_SIDEBAR = ('<style>[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"]'
                ' { display: none !important; }</style>')
ROLE_NAMES = {"leader": "领导", "community": "社区", "reviewer": "考核", "admin": "管理员",
              "screen": "大屏", OPEN: "未登录"}


def _logout(notice: str | None = None) -> None:
    st.session_state.pop(SESSION, None)
    if notice:
        st.session_state[NOTICE] = notice


def _token_login(token: str) -> bool:
    user = users.by_token(engine(), token)
    if user is None:
        audit.record(engine(), "(大屏令牌)", "login.fail", "无效或已停用的大屏令牌")
        st.session_state[NOTICE] = "链接中的大屏令牌无效或已停用"
        return False
    st.session_state[SESSION] = {"name": user.name, "at": clock.now()}
    audit.record(engine(), user.name, "login.token", "大屏令牌登录")
    return True


def current_viewer() -> Viewer | None:
    """Who is looking now: ``OPEN_VIEWER`` when login is off, the logged-in user, or None
    (nobody logged in, the login expired, the user was disabled)."""
    if not users.any_users(engine()):
        return OPEN_VIEWER
    auth = st.session_state.get(SESSION)
    if auth is None:
        token = st.query_params.get("token")
        if not token or not _token_login(token):
            return None
        auth = st.session_state[SESSION]
    user = users.get(engine(), auth["name"])
    if user is None or user.disabled:
        _logout("该用户已停用, 请联系管理员")
        return None
    hours = settings().get_path("auth.session_hours")
    if clock.now() - auth["at"] > timedelta(hours=hours):
        _logout(f"登录已超过 {hours:g} 小时, 请重新登录")
        return current_viewer() if st.query_params.get("token") else None
    return Viewer(user.name, user.role, user.community)


def login_form() -> None:
    """The 用户名/密码 form; a success reruns the app logged in. No sidebar (nothing in it
    before a login)."""
    st.html(HIDE_SIDEBAR)
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("智理 · 登录")
        notice = st.session_state.pop(NOTICE, None)
        if notice:
            st.info(md(notice), icon=":material/info:")
        with st.form("login", border=True):
            name = st.text_input("用户名", key="login_name", max_chars=60)
            password = st.text_input("密码", type="password", key="login_password")
            sent = st.form_submit_button("登录", type="primary", width="stretch")
        if sent:
            s = settings()
            result = users.login(engine(), name.strip(), password,
                                 max_failures=s.get_path("auth.max_failures"),
                                 lockout_minutes=s.get_path("auth.lockout_minutes"))
            if result.user is None:
                st.error(md(result.reason), icon=":material/lock:")
            else:
                st.session_state[SESSION] = {"name": result.user.name, "at": clock.now()}
                st.rerun()
        st.caption("账号由管理员在命令行创建: python cli.py user add 用户名 --role 角色")


def gate(pages: list) -> Viewer:
    """dashboard.py, before the navigation: the viewer, or the login form and a stop.
    Without a viewer ``pages`` are registered with a hidden navigation and none is run:
    the link's path and query stay, and the page opens once the login succeeds."""
    viewer = current_viewer()
    if viewer is None:
        st.navigation(pages, position="hidden")
        login_form()
        st.stop()
    return viewer


def guard(page: str, banner: bool = True) -> Viewer:
    """The first line of every page: stop unless the viewer may open ``page`` (a key of
    ``metrics.access.PAGES``); login off: the 未启用登录 banner (``banner=False``: the page
    shows it itself, as the big screen does in its top bar)."""
    assert page in PAGES, page
    viewer = current_viewer()
    if viewer is None:
        st.warning("请先登录: 打开首页, 输入用户名和密码后再访问此页面。", icon=":material/lock:")
        st.stop()
    if not viewer.may_open(page):
        st.error(f"当前账号({md(viewer.name)}, 角色 {ROLE_NAMES.get(viewer.role, viewer.role)})"
                 "无权查看此页面。", icon=":material/block:")
        st.stop()
    if viewer.role == OPEN and banner:
        st.warning("未启用登录: 任何能打开此网址的人都能看到全部数据。创建第一个用户后即需登录:"
                   " python cli.py user add 用户名 --role leader", icon=":material/lock_open:")
    return viewer


def sidebar_user(viewer: Viewer) -> None:
    """Who is logged in, and 退出登录 (nothing when login is off)."""
    if viewer.role == OPEN:
        return
    with st.sidebar:
        where = f" · {md(viewer.community)}" if viewer.community else ""
        st.caption(f"当前用户 **{md(viewer.name)}**({ROLE_NAMES.get(viewer.role, viewer.role)}"
                   f"{where})")
        if st.button("退出登录", key="logout", icon=":material/logout:"):
            audit.record(engine(), viewer.actor, "logout", "退出登录")
            _logout("已退出登录")
            st.rerun()


def record(action: str, detail: str) -> None:
    """One audit row for what the current viewer just did (a page's download button's
    ``on_click``)."""
    viewer = current_viewer() or OPEN_VIEWER
    audit.record(engine(), viewer.actor, action, detail)


def run_page(page: str, main, banner: bool = True) -> None:
    """A page's last line: ``guard(page)``, then ``main()``; a request outside the viewer's
    communities that reaches the metrics (a crafted widget value or link) ends in one
    clear message, not a traceback and never another community's figures."""
    guard(page, banner)
    try:
        main()
    except OutOfScope as exc:
        st.error(md(exc), icon=":material/block:")

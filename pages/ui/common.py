"""What every page shares: the store, the shared filters (kept in the URL, checked: a bad
value in a link is replaced or dropped with a notice, never an exception), cached KPI
computations, the 数据截至 banner and metric cards with their definitions on hover."""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import select

from data.store import clock
from data.store.db import get_engine, resolve_url, store_version
from data.store.schema import communities
from metrics.domains import DOMAINS
from metrics.engine import Result, compute
from metrics.compare import changes
from metrics.access import restrict
from metrics.context import Query
from metrics.formatting import NULL, fmt_change, fmt_kpi
from metrics.period import PRESETS, Period, preset_period
from metrics.registry import REGISTRY, meets_target, target
from metrics.settings import load_settings
from pages.ui.safe import clip, md



def _leave_pages_folder_mode() -> None:
    """Run pages only inside the entrypoint's frame (st.navigation in dashboard.py).

    Streamlit treats a ``pages/`` folder as old-style auto-discovered pages until the first
    ``st.navigation`` call of the process; a first visit by direct link (``/cases``) would
    then run the page alone, without the frame. Switch that mode off and rerun, so the
    entrypoint runs and routes the same URL.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_pages_folder_mode()
CACHE_TTL = load_settings().get_path("app.cache_ttl_seconds")
DEFAULT_PRESET = load_settings().get_path("app.default_period")


def engine():
    """The store's engine for the URL in force now (ZHILI_DB_URL, secrets or the default)."""
    return _engine(resolve_url())


@st.cache_resource(max_entries=4)
def _engine(url: str):
    return get_engine(url)


@st.cache_resource(ttl=CACHE_TTL)
def settings():
    return load_settings()


def store_state(url: str) -> tuple[datetime, tuple]:
    """(数据截至, the store's version key), read on every run (two one-row queries), never
    cached: every cached figure below takes the version among its arguments, so an import
    from the CLI or another page shows on every page at the next run, not after
    ``app.cache_ttl_seconds``."""
    version = store_version(engine())
    return version.as_of or clock.now(), version.key


def store_as_of(url: str) -> datetime:
    return store_state(url)[0]


@st.cache_data(ttl=CACHE_TTL, max_entries=8)
def community_names(url: str, version: tuple = ()) -> list[str]:
    with engine().connect() as conn:
        return list(conn.execute(select(communities.c.name).order_by(
            communities.c.kind.desc(), communities.c.name)).scalars())


@dataclass(frozen=True)
class Filters:
    period: Period
    preset: str
    scope: tuple[str, ...]
    as_of: datetime
    notices: tuple[str, ...] = ()  # one-line Chinese notes on URL values changed or dropped
    version: tuple = ()            # the store's version (store_state): part of every cache key
    allowed: tuple[str, ...] | None = None  # the viewer's communities (None: all)

    def query(self) -> Query:
        return Query(self.period, self.scope, self.as_of, settings(), self.allowed)


CUSTOM = "自定义"
# The custom range's floor: the date widget needs one, and no governance platform of the
# sub-district has records before it. The ceiling is the store's 数据截至.
MIN_DATE = date(2000, 1, 1)


@dataclass(frozen=True)
class UrlFilters:
    preset: str
    custom: tuple[date, date] | None  # only for 自定义
    scope: tuple[str, ...]
    notices: tuple[str, ...]


def _quote(value: str) -> str:
    return f"「{clip(value)}」"


def clamp_range(start: date, end: date, latest: date, notices: list[str],
                what: str = "链接中的") -> tuple[date, date]:
    """``start..end`` inside ``MIN_DATE..latest`` with start <= end; every change named in
    ``notices``."""
    floor = min(MIN_DATE, latest)
    for name, value in (("开始", start), ("结束", end)):
        if value < floor:
            notices.append(f"{what}{name}日期 {value} 早于 {floor}, 已调整为 {floor}")
        elif value > latest:
            notices.append(f"{what}{name}日期 {value} 晚于数据截至 {latest}, 已调整为 {latest}")
    start, end = (min(max(d, floor), latest) for d in (start, end))
    if end < start:
        notices.append(f"{what}结束日期 {end} 早于开始日期 {start}, 已对调")
        start, end = end, start
    return start, end


def read_url_filters(params: Mapping[str, list[str]], names: list[str],
                     latest: date, allowed: tuple[str, ...] | None = None) -> UrlFilters:
    """The filters a link asks for (``params``: every value of each query key), checked
    against the store: an unknown period, a malformed or out-of-range date or an unknown
    community is replaced or dropped, each with a one-line notice (values escaped); so is a
    community outside the viewer's ``allowed`` ones."""
    notices: list[str] = []

    def last(key: str) -> str | None:
        values = list(params.get(key) or [])
        if len(values) > 1:
            notices.append(f"链接中的 {key} 出现 {len(values)} 次, 已使用最后一个值"
                           f"{_quote(values[-1])}")
        return values[-1] if values else None

    preset = last("period")
    if preset is None:
        preset = DEFAULT_PRESET
    elif preset not in PRESETS:
        notices.append(f"链接中的时间范围{_quote(preset)}无法识别, 已改用「{DEFAULT_PRESET}」")
        preset = DEFAULT_PRESET
    raw = {"开始": last("start"), "结束": last("end")}
    custom = None
    if preset == CUSTOM:
        default = {"开始": preset_period("本年", latest).start, "结束": latest}
        picked = {}
        for name, text in raw.items():
            picked[name] = default[name]
            if text is None:
                continue
            try:
                picked[name] = date.fromisoformat(text)
            except ValueError:
                notices.append(f"链接中的{name}日期{_quote(text)}不是有效日期(应为 YYYY-MM-DD), "
                               f"已改用 {default[name]}")
        custom = clamp_range(picked["开始"], picked["结束"], latest, notices)
    elif any(v is not None for v in raw.values()):
        notices.append(f"链接中的起止日期只用于「{CUSTOM}」时间范围, 已忽略")
    scope, unknown, denied = [], [], []
    for name in params.get("community") or []:
        if name not in names:
            unknown.append(name)
        elif allowed is not None and name not in allowed:
            denied.append(name)
        elif name not in scope:
            scope.append(name)
    if denied:
        notices.append(f"链接中的社区「{'、'.join(clip(d) for d in denied[:3])}」不在当前账号的"
                       f"查看范围内, 已忽略; 显示{'、'.join(clip(a) for a in allowed or ())}的数据")
    if unknown:
        shown = "、".join(clip(u) for u in unknown[:3]) + ("等" if len(unknown) > 3 else "")
        notices.append(f"链接中的社区「{shown}」不存在, 已忽略"
                       + (f"(共 {len(unknown)} 个)" if len(unknown) > 1 else ""))
    return UrlFilters(preset, custom, tuple(scope), tuple(notices))


def _forget_url_notices() -> None:
    """A filter changed by hand: the notes about the link no longer apply."""
    st.session_state["f_notices"] = ()


def _init_from_url(names: list[str], latest: date, allowed) -> None:
    """First run of a session: take the filters from the URL so a copied link reproduces it."""
    if st.session_state.get("_filters_ready"):
        return
    qp = st.query_params
    wanted = read_url_filters({k: qp.get_all(k) for k in ("period", "start", "end",
                                                          "community")}, names, latest,
                              allowed)
    st.session_state["f_preset"] = wanted.preset
    if wanted.custom:
        st.session_state["f_custom"] = wanted.custom
    st.session_state["f_scope"] = list(wanted.scope)
    st.session_state["f_notices"] = wanted.notices
    st.session_state["_filters_ready"] = True


def sidebar_filters() -> Filters:
    """Draw the shared sidebar filters (every page calls this first); mirrored in the URL.
    Notes on URL values that were changed or dropped travel in ``Filters.notices`` and
    ``page_header`` shows them."""
    from pages.ui.access import current_viewer

    viewer = current_viewer()
    if viewer is None:   # a page without its guard(): never figures without a login
        st.warning("请先登录。")
        st.stop()
    allowed = viewer.allowed
    url = resolve_url()
    as_of, version = store_state(url)
    latest = as_of.date()
    names = community_names(url, version)
    _init_from_url(names, latest, allowed)
    if allowed is not None:   # the viewer's communities only, whatever the state holds
        names = [n for n in names if n in allowed]
        picked = st.session_state.get("f_scope")
        if picked and any(n not in names for n in picked):
            st.session_state["f_scope"] = [n for n in picked if n in names]
    # Streamlit keys a widget by the page that draws it, so another page's selectbox would
    # start from its first option: hand the values over as plain session state first.
    for key in ("f_preset", "f_scope"):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    notices = list(st.session_state.get("f_notices", ()))
    with st.sidebar:
        st.caption(f"数据截至 **{as_of:%Y-%m-%d %H:%M}**")
        preset = st.selectbox("时间范围", PRESETS, key="f_preset", on_change=_forget_url_notices)
        if preset == CUSTOM:
            wanted = st.session_state.get("f_custom") or (
                preset_period("本年", latest).start, latest)
            # a range from an earlier session state may lie outside a newer store's dates
            default = clamp_range(*wanted, latest, notices, what="所选")
            picked = st.date_input("起止日期", value=default, key="f_custom_input",
                                   min_value=min(MIN_DATE, latest), max_value=latest,
                                   on_change=_forget_url_notices)
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                default = clamp_range(*picked, latest, notices, what="所选")
            st.session_state["f_custom"] = default
            period = Period(*default)
        else:
            period = preset_period(preset, latest)
        scope = st.multiselect("社区范围", names, key="f_scope",
                               placeholder="、".join(allowed) if allowed else "全部社区",
                               on_change=_forget_url_notices)
        st.caption(f"统计期 {period.label()}")
    params = {"period": preset}
    if preset == CUSTOM:
        params.update(start=period.start.isoformat(), end=period.end.isoformat())
    if scope:
        params["community"] = list(scope)
    st.query_params.from_dict(params)
    return Filters(period, preset, tuple(sorted(restrict(scope, allowed))), as_of,
                   tuple(dict.fromkeys(notices)), version, allowed)


@st.cache_data(ttl=CACHE_TTL, max_entries=64, show_spinner="正在计算指标…")
def domain_result(domain: str, url: str, start: date, end: date, scope: tuple[str, ...],
                  as_of: datetime, by: tuple[str, ...] | None, version: tuple = (),
                  allowed: tuple[str, ...] | None = None) -> Result:
    q = Query(Period(start, end), scope, as_of, settings(), allowed)
    return compute(engine(), DOMAINS[domain], q, by=by)


def result_for(domain: str, f: Filters, period: Period | None = None,
               by: tuple[str, ...] | None = None) -> Result:
    """A domain's figures for the filters (or another period), by ``by`` (default: all)."""
    p = period or f.period
    return domain_result(domain, resolve_url(), p.start, p.end, f.scope, f.as_of, by,
                         f.version, f.allowed)


def cases_for(f: Filters, period: Period | None = None,
              by: tuple[str, ...] | None = None) -> Result:
    return result_for("cases", f, period, by)


def group_frame(result: Result, dim: str) -> pd.DataFrame:
    """One row per unit of a breakdown (``unit`` column plus every KPI key)."""
    return pd.DataFrame([{"unit": unit, **figures}
                         for unit, figures in result.groups.get(dim, {}).items()])


PRINT_CSS = Path(__file__).with_name("print.css")


def page_header(title: str, f: Filters, subtitle: str | None = None) -> None:
    """Title plus the line every page carries: period, scope and 数据截至; and the print
    style (A4, no sidebar or toolbar, cards and tables whole: ``print.css``)."""
    st.html(PRINT_CSS)
    st.title(title)
    scope = "、".join(md(c) for c in f.scope) if f.scope else "全部社区"
    st.caption(f"统计期 {f.period.label()} · 范围 {scope} · 数据截至 {f.as_of:%Y-%m-%d %H:%M}"
               + (f" · {subtitle}" if subtitle else ""))
    for notice in f.notices:  # already escaped where they quote the URL
        st.warning(notice, icon=":material/link_off:")


def target_badge(key: str, value) -> str:
    """The label's ':green-badge[✓ 达标]' / ':red-badge[✗ 未达标]' (colour and words,
    never colour alone) against the KPI's target from settings; '' without one."""
    met = meets_target(key, value, settings())
    if met is None:
        return ""
    return " :green-badge[✓ 达标]" if met else " :red-badge[✗ 未达标]"


def kpi_card(key: str, current: dict, prev: dict | None, year_ago: dict | None,
             trend: list | None = None) -> None:
    """A bordered metric: met / missed target as a badge in its title, value, 环比 delta
    and 同比 (the target's value is in the description and the tooltip), and the monthly
    trend as a sparkline.

    Streamlit draws the sparkline and the delta in one colour. A KPI with a target takes
    it from the target: green when met, red when missed (the badge says so in words);
    one without a target from the 环比 direction (green = better, red = worse). The arrow
    always gives the direction of change. Point-in-time figures (judged at as_of, not per
    period) get no period comparison.
    """
    kpi = REGISTRY[key]
    value = current.get(key)
    goal = target(key, settings())
    compare = not kpi.point_in_time
    mom = changes({key: value}, prev or {}).get(key) if compare and prev is not None else None
    yoy = changes({key: value}, year_ago or {}).get(key) if compare and year_ago else None
    notes = [f"同比 {fmt_change(key, yoy) or NULL}"] if compare else []
    if goal is not None:
        notes.append(f"目标 {fmt_kpi(key, goal)}")
    help_text = kpi.definition + (f"\n\n目标: {fmt_kpi(key, goal)}(见设置)" if goal is not None
                                  else "")
    delta, arrow, colour = None, "off", "gray"
    if compare:
        delta = f"环比 {fmt_change(key, mom) or NULL}"
        if mom:  # the sign is inside the text, so direction and colour are set here
            arrow = "up" if mom > 0 else "down"
            if kpi.higher_is_better is not None:
                colour = "green" if (mom > 0) == kpi.higher_is_better else "red"
    met = meets_target(key, value, settings())
    if met is not None:  # the sparkline (and delta) follow the target: met or missed
        colour = "green" if met else "red"
    st.metric(kpi.label + target_badge(key, value), fmt_kpi(key, value), delta=delta,
              delta_arrow=arrow, delta_color=colour, help=help_text, border=True,
              chart_data=trend or None, chart_type="line",
              delta_description=" · ".join(notes) or None)


def kpi_row(keys: list[str], result: Result, prev: Result, year_ago: Result,
            months: pd.DataFrame) -> None:
    """A horizontal row of ``kpi_card``s, each with its monthly trend where it has one."""
    with st.container(horizontal=True):
        for key in keys:
            trend = None
            if not months.empty and not REGISTRY[key].point_in_time:
                trend = months[key].dropna().tolist()
            kpi_card(key, result.kpis, prev.kpis, year_ago.kpis, trend=trend)


def empty_state(df: pd.DataFrame | None, message: str = "本期无数据") -> bool:
    """Show an explicit empty state; True when there is nothing to draw."""
    if df is None or len(df) == 0:
        st.caption(message)
        return True
    return False


@st.cache_data(ttl=CACHE_TTL, max_entries=64, show_spinner="正在计算指标…")
def _cached_call(name: str, url: str, start: date, end: date, scope: tuple[str, ...],
                 as_of: datetime, version: tuple = (),
                 allowed: tuple[str, ...] | None = None):
    module, function = name.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), function)
    return fn(engine(), Query(Period(start, end), scope, as_of, settings(), allowed))


def cached(fn, f: Filters, period: Period | None = None):
    """``fn(engine, query)`` for the filters (a metrics list or table), cached like the
    domain results; ``fn`` must be a module-level function of ``metrics``."""
    p = period or f.period
    return _cached_call(f"{fn.__module__}.{fn.__qualname__}", resolve_url(), p.start, p.end,
                        f.scope, f.as_of, f.version, f.allowed)

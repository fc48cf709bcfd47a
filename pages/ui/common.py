"""What every page shares: the store, the shared filters (kept in the URL), cached KPI
computations, the 数据截至 banner and metric cards with their definitions on hover."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import streamlit as st
from sqlalchemy import select

from data.store.db import data_as_of, get_engine, resolve_url
from data.store.schema import communities
from metrics.domains import DOMAINS
from metrics.engine import Result, compute
from metrics.compare import changes
from metrics.context import Query
from metrics.formatting import NULL, fmt_change, fmt_kpi
from metrics.period import PRESETS, Period, PeriodError, preset_period
from metrics.registry import REGISTRY, meets_target, target
from metrics.settings import load_settings



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


@st.cache_resource
def engine():
    return get_engine()


@st.cache_resource(ttl=CACHE_TTL)
def settings():
    return load_settings()


@st.cache_data(ttl=CACHE_TTL, max_entries=8)
def store_as_of(url: str) -> datetime:
    return data_as_of(engine()) or datetime.now().replace(microsecond=0)


@st.cache_data(ttl=CACHE_TTL, max_entries=8)
def community_names(url: str) -> list[str]:
    with engine().connect() as conn:
        return list(conn.execute(select(communities.c.name).order_by(
            communities.c.kind.desc(), communities.c.name)).scalars())


@dataclass(frozen=True)
class Filters:
    period: Period
    preset: str
    scope: tuple[str, ...]
    as_of: datetime

    def query(self) -> Query:
        return Query(self.period, self.scope, self.as_of, settings())


def _init_from_url(names: list[str]) -> None:
    """First run of a session: take the filters from the URL so a copied link reproduces it."""
    if st.session_state.get("_filters_ready"):
        return
    qp = st.query_params
    preset = qp.get("period", DEFAULT_PRESET)
    st.session_state["f_preset"] = preset if preset in PRESETS else DEFAULT_PRESET
    try:
        st.session_state["f_custom"] = (date.fromisoformat(qp["start"]),
                                        date.fromisoformat(qp["end"]))
    except (KeyError, ValueError):
        pass
    scope = [c for c in qp.get_all("community") if c in names]
    st.session_state["f_scope"] = scope
    st.session_state["_filters_ready"] = True


def sidebar_filters() -> Filters:
    """Draw the shared sidebar filters (every page calls this first); mirrored in the URL."""
    url = resolve_url()
    as_of = store_as_of(url)
    names = community_names(url)
    _init_from_url(names)
    with st.sidebar:
        st.caption(f"数据截至 **{as_of:%Y-%m-%d %H:%M}**")
        preset = st.selectbox("时间范围", PRESETS, key="f_preset")
        if preset == "自定义":
            default = st.session_state.get("f_custom") or (
                preset_period("本年", as_of.date()).start, as_of.date())
            picked = st.date_input("起止日期", value=default, key="f_custom_input",
                                   max_value=as_of.date())
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                st.session_state["f_custom"] = tuple(picked)
            start, end = st.session_state.get("f_custom", default)
            try:
                period = Period(start, end)
            except PeriodError as exc:
                st.error(str(exc))
                period = preset_period("本年", as_of.date())
        else:
            period = preset_period(preset, as_of.date())
        scope = st.multiselect("社区范围", names, key="f_scope", placeholder="全部社区")
        st.caption(f"统计期 {period.label()}")
    params = {"period": preset}
    if preset == "自定义":
        params.update(start=period.start.isoformat(), end=period.end.isoformat())
    if scope:
        params["community"] = list(scope)
    st.query_params.from_dict(params)
    return Filters(period, preset, tuple(sorted(scope)), as_of)



@st.cache_data(ttl=CACHE_TTL, max_entries=64, show_spinner="正在计算指标…")
def domain_result(domain: str, url: str, start: date, end: date, scope: tuple[str, ...],
                  as_of: datetime, by: tuple[str, ...] | None) -> Result:
    q = Query(Period(start, end), scope, as_of, settings())
    return compute(engine(), DOMAINS[domain], q, by=by)


def result_for(domain: str, f: Filters, period: Period | None = None,
               by: tuple[str, ...] | None = None) -> Result:
    """A domain's figures for the filters (or another period), by ``by`` (default: all)."""
    p = period or f.period
    return domain_result(domain, resolve_url(), p.start, p.end, f.scope, f.as_of, by)


def cases_for(f: Filters, period: Period | None = None,
              by: tuple[str, ...] | None = None) -> Result:
    return result_for("cases", f, period, by)


def group_frame(result: Result, dim: str) -> pd.DataFrame:
    """One row per unit of a breakdown (``unit`` column plus every KPI key)."""
    return pd.DataFrame([{"unit": unit, **figures}
                         for unit, figures in result.groups.get(dim, {}).items()])


def page_header(title: str, f: Filters, subtitle: str | None = None) -> None:
    """Title plus the line every page carries: period, scope and 数据截至."""
    st.title(title)
    scope = "、".join(f.scope) if f.scope else "全部社区"
    st.caption(f"统计期 {f.period.label()} · 范围 {scope} · 数据截至 {f.as_of:%Y-%m-%d %H:%M}"
               + (f" · {subtitle}" if subtitle else ""))


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
    and 同比 (the target's value is in the description and the tooltip).

    Point-in-time figures (judged at as_of, not per period) get no period comparison.
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

"""Workdays: the official Chinese calendar, 调休 make-up days included.

Holidays and make-up working days (a Saturday or Sunday worked in exchange for a longer
holiday) come from the ``chinesecalendar`` package (pinned in requirements.txt; the State
Council publishes each year's arrangement in the autumn and the package follows). A day
outside the years the package covers is a workday from Monday to Friday, and every figure
built on such a day carries a warning (``coverage_warning``) that the pages show.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from chinese_calendar.constants import holidays as _HOLIDAYS, workdays as _WORKDAYS

# The years the package knows (its tables start on 1 January of the first year and end
# with the arrangements of the last year).
FIRST_YEAR = min(d.year for d in (*_HOLIDAYS, *_WORKDAYS))
LAST_YEAR = max(d.year for d in (*_HOLIDAYS, *_WORKDAYS))


def covered(d: date) -> bool:
    """Whether the official calendar covers the day."""
    return FIRST_YEAR <= d.year <= LAST_YEAR


@lru_cache(maxsize=100_000)
def is_workday(d: date) -> bool:
    """A working day: the official calendar (调休 included), else Monday to Friday."""
    if covered(d):
        return chinese_calendar.is_workday(d)
    return d.weekday() < 5


def holiday_name(d: date) -> str | None:
    """The official holiday's Chinese name on a day off (春节, 国庆节, ...), else None."""
    if not covered(d):
        return None
    on, name = chinese_calendar.get_holiday_detail(d)
    if not on or not name:
        return None
    return HOLIDAY_NAMES.get(name, name)


HOLIDAY_NAMES = {  # the package names holidays in English
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节", "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def is_makeup_day(d: date) -> bool:
    """A Saturday or Sunday worked by official arrangement (调休上班)."""
    return covered(d) and d.weekday() >= 5 and chinese_calendar.is_workday(d)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@lru_cache(maxsize=256)
def _workdays(start: date, end: date) -> tuple[date, ...]:
    return tuple(d for d in days(start, end) if is_workday(d))


def workdays(start: date, end: date) -> list[date]:
    """The workdays of ``start..end`` (inclusive), ascending; empty when end < start."""
    if end < start:
        return []
    return list(_workdays(start, end))


class Workdays:
    """The workdays of a span, counted fast between any two dates inside it."""

    def __init__(self, start: date, end: date):
        self.ordinals = [d.toordinal() for d in workdays(start, end)]

    def count(self, first: date, last: date) -> int:
        """Workdays in ``first..last`` (inclusive); 0 when last < first."""
        if last < first:
            return 0
        return (bisect_right(self.ordinals, last.toordinal())
                - bisect_left(self.ordinals, first.toordinal()))


def coverage_warning(start: date, end: date) -> str | None:
    """A Chinese sentence when part of ``start..end`` lies outside the official calendar
    (those days count Monday to Friday as workdays), else None."""
    if covered(start) and covered(end):
        return None
    return (f"官方节假日安排目前只覆盖 {FIRST_YEAR}–{LAST_YEAR} 年; 统计期内其他年份的日期按周一至"
            "周五为工作日计算(未考虑法定节假日与调休), 应出勤天数可能有偏差。")

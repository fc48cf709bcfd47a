"""Report periods: inclusive local date ranges, presets counted from as_of, 环比 and 同比."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


class PeriodError(ValueError):
    """A period that cannot exist (end before start, unknown preset)."""


@dataclass(frozen=True)
class Period:
    """Inclusive local dates ``start..end``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"结束日期 {self.end} 早于开始日期 {self.start} (end before start)")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_dt(self) -> datetime:
        return datetime.combine(self.start, time.min)

    @property
    def end_exclusive_dt(self) -> datetime:
        """Midnight after ``end``: records are in the period when ``start_dt <= t < this``."""
        return datetime.combine(self.end + timedelta(days=1), time.min)

    def previous(self) -> "Period":
        """环比: the period of equal length that ends the day before ``start``."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def year_earlier(self) -> "Period":
        """同比: the same dates one year earlier (29 Feb maps to 28 Feb)."""
        return Period(shift_years(self.start, -1), shift_years(self.end, -1))

    def months(self) -> list[str]:
        """The 'YYYY-MM' months the period touches, in order."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    def partial_months(self) -> dict[str, tuple[int, int]]:
        """The months the period covers only in part ('YYYY-MM' -> first and last day
        covered): a first month entered after its 1st, a last month left before its end."""
        out = {}
        for month in self.months():
            y, m = int(month[:4]), int(month[5:])
            first = max(self.start, date(y, m, 1))
            last = min(self.end, month_end(y, m))
            if first.day != 1 or last != month_end(y, m):
                out[month] = (first.day, last.day)
        return out


def shift_years(d: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 Feb becomes 28 Feb in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


PRESETS = ("本月", "上月", "本季度", "本年", "近12个月", "自定义")


def preset_period(name: str, as_of: date) -> Period:
    """A named preset counted from the as_of date (inclusive of it)."""
    if name == "本月":
        return Period(as_of.replace(day=1), as_of)
    if name == "上月":
        first = as_of.replace(day=1)
        last = first - timedelta(days=1)
        return Period(last.replace(day=1), last)
    if name == "本季度":
        q_month = 3 * ((as_of.month - 1) // 3) + 1
        return Period(date(as_of.year, q_month, 1), as_of)
    if name == "本年":
        return Period(date(as_of.year, 1, 1), as_of)
    if name == "近12个月":
        return Period(shift_years(as_of, -1) + timedelta(days=1), as_of)
    raise PeriodError(f"未知的时间范围预设: {name!r} (unknown preset)")

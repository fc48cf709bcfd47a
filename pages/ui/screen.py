"""Building blocks of the big screen (指挥中心大屏): its style sheet and script, the top
bar, panels with their freshness line, tiles, tables and the notices ticker.

The screen is designed for 1920×1080 CSS pixels and drawn at the window's size: a small
script of ours measures the window, keeps the scale (window ÷ 1920×1080, in quarter
steps) in a cookie and reloads once when it changes; the page then multiplies every size
— style sheet, panel and chart heights, chart fonts — by it (``scale()``), so a 3840×2160
screen shows the same layout twice as large and every chart measures its own box. The
script also keeps the clock live in Asia/Shanghai time and touches nothing else. (CSS
zoom or transforms would break plotly's own measuring.) Every value from the store goes through
``esc`` (HTML) before it meets markup here.
"""
from __future__ import annotations

import html
import re
from datetime import datetime

from pages.ui import charts

THEME = charts.DARK
WIDTH, HEIGHT = 1920, 1080
WEEKDAYS = "一二三四五六日"
PANEL_GAP = 14
COOKIE = "zl_scale"
MIN_SCALE, MAX_SCALE = 0.5, 4.0
_PX = re.compile(r"(\d+(?:\.\d+)?)px")
_STYLE = re.compile(r'style="([^"]*)"')
PAGE_PAD = 18        # the page's left and right padding


_CSS = f"""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header,
[data-testid="stToolbar"], [data-testid="stDecoration"], footer,
[data-testid="stStatusWidget"] {{ display: none !important; }}
html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
  background: {THEME.background} !important; color: {THEME.text} !important; }}
html, body {{ overflow: hidden !important; }}
.block-container {{ padding: 10px {PAGE_PAD}px 0 {PAGE_PAD}px !important;
  max-width: 100% !important; }}
[data-testid="stVerticalBlock"] {{ gap: {PANEL_GAP}px !important; }}
.stApp p, .stApp span, .stApp div {{ color: {THEME.text}; }}
[data-testid="stVerticalBlockBorderWrapper"] > div,
div[data-testid="stVerticalBlock"][style*="border"] {{ border-color: #23324a !important; }}
.zl-bar {{ display: flex; align-items: center; justify-content: space-between;
  height: 64px; padding: 0 12px; border-bottom: 2px solid #1c3a66;
  background: linear-gradient(90deg, #0e2444, #0b1526 50%, #0e2444); }}
.zl-title {{ font-size: 36px; font-weight: 700; letter-spacing: 4px; color: #8fd3ff !important; }}
.zl-slide {{ font-size: 30px; font-weight: 600; color: #ffd43b !important; }}
.zl-slide small {{ font-size: 20px; color: #9fb3c8 !important; margin-left: 10px; }}
.zl-time {{ display: flex; gap: 28px; align-items: baseline; font-size: 24px; }}
.zl-clock {{ font-size: 38px; font-weight: 700; font-variant-numeric: tabular-nums;
  color: #ffffff !important; }}
.zl-asof {{ font-size: 20px; color: #9fb3c8 !important; }}
.zl-note {{ font-size: 20px; color: #ffa94d !important; }}
.zl-panel-head {{ display: flex; justify-content: space-between; align-items: baseline;
  margin: 0 0 6px 0; }}
.zl-panel-title {{ font-size: 26px; font-weight: 700; color: #8fd3ff !important; }}
.zl-fresh {{ font-size: 18px; color: #9fb3c8 !important; }}
.zl-stale {{ font-size: 18px; font-weight: 700; color: #fff !important; background: #c92a2a;
  padding: 2px 10px; border-radius: 4px; margin-left: 8px; }}
.zl-tiles {{ display: grid; grid-template-columns: repeat(5, 1fr); gap: {PANEL_GAP}px; }}
.zl-tile {{ background: #12223a; border: 1px solid #23324a; border-radius: 8px;
  padding: 14px 18px; }}
.zl-tile-label {{ font-size: 24px; color: #9fb3c8 !important; }}
.zl-tile-value {{ font-size: 60px; font-weight: 700; line-height: 1.15;
  font-variant-numeric: tabular-nums; }}
.zl-tile-value.good {{ color: #69db7c !important; }}
.zl-tile-value.bad {{ color: #ff6b6b !important; }}
.zl-tile-change {{ font-size: 19px; line-height: 1.45; color: #c5d3e0 !important; }}
.zl-table {{ width: 100%; border-collapse: collapse; font-size: 22px;
  font-variant-numeric: tabular-nums; }}
.zl-table th {{ text-align: right; color: #9fb3c8; font-weight: 600; padding: 6px 10px;
  border-bottom: 2px solid #23324a; font-size: 20px; }}
.zl-table td {{ text-align: right; padding: 6px 10px; border-bottom: 1px solid #1a2a44; }}
.zl-table th:first-child, .zl-table td:first-child {{ text-align: left; }}
.zl-up2 {{ color: #fff !important; background: #c92a2a; padding: 1px 8px; border-radius: 4px; }}
.zl-up {{ color: #ffa94d !important; font-weight: 700; }}
.zl-flat {{ color: #c5d3e0 !important; }}
.zl-down {{ color: #69db7c !important; font-weight: 700; }}
.zl-big {{ font-size: 88px; font-weight: 800; line-height: 1.1; }}
.zl-caption {{ font-size: 20px; color: #9fb3c8 !important; }}
.zl-alert {{ background: #3b0d0d; border: 3px solid #ff6b6b; border-radius: 10px;
  padding: 18px 26px; margin-bottom: 14px; font-size: 34px; font-weight: 700;
  color: #ffe3e3 !important; }}
.zl-notice {{ border-left: 6px solid #ffd43b; padding: 10px 20px; margin-bottom: 16px;
  background: #12223a; }}
.zl-notice b {{ font-size: 40px; color: #ffd43b !important; }}
.zl-notice div {{ font-size: 32px; margin-top: 6px; line-height: 1.5; }}
.zl-today {{ text-align: center; padding-top: 60px; }}
.zl-today .zl-live-clock {{ font-size: 150px; font-weight: 800; color: #ffffff !important;
  font-variant-numeric: tabular-nums; }}
.zl-today .zl-live-date {{ font-size: 44px; color: #8fd3ff !important; }}
.zl-today .zl-day-note {{ font-size: 34px; color: #ffd43b !important; margin-top: 30px; }}
.zl-ticker {{ position: fixed; left: 0; right: 0; bottom: 0; height: 52px; overflow: hidden;
  background: #0e2444; border-top: 2px solid #1c3a66; z-index: 1000; display: flex;
  align-items: center; }}
.zl-ticker-label {{ flex: none; padding: 0 18px; font-size: 24px; font-weight: 700;
  color: #0b1526 !important; background: #ffd43b; height: 100%; display: flex;
  align-items: center; }}
.zl-ticker-track {{ flex: 1; overflow: hidden; white-space: nowrap; }}
.zl-ticker-text {{ display: inline-block; padding-left: 100%; font-size: 24px;
  animation: zl-scroll var(--zl-ticker-seconds, 60s) linear infinite; }}
@keyframes zl-scroll {{ from {{ transform: translateX(0); }} to {{ transform: translateX(-100%); }} }}
.zl-dots span {{ display: inline-block; width: 14px; height: 14px; border-radius: 7px;
  margin: 0 4px; background: #23324a; }}
.zl-dots span.on {{ background: #ffd43b; }}
</style>
"""

# Our own code (no data in it): the window's scale (see the module docstring), the clock,
# date and weekday live in Asia/Shanghai time whatever the TV's own zone, and a fresh page
# load every RELOAD hours (``bigscreen.reload_hours``; 0: never), which bounds whatever a
# browser keeps over weeks. Runs once per browser page, however often Streamlit redraws.
_SCRIPT = f"""
<script>
(function () {{
  if (window.__zhiliScreen) {{ return; }}
  window.__zhiliScreen = true;
  function fit() {{
    var z = Math.round(4 * Math.min(window.innerWidth / {WIDTH},
                                    window.innerHeight / {HEIGHT})) / 4;
    z = Math.min(Math.max(z, {MIN_SCALE}), {MAX_SCALE});
    var bar = document.querySelector('.zl-bar');
    var drawn = bar ? parseFloat(bar.getAttribute('data-scale')) : z;
    if (z !== drawn && sessionStorage.getItem('zl-scale-tried') !== String(z)) {{
      sessionStorage.setItem('zl-scale-tried', String(z));
      document.cookie = '{COOKIE}=' + z + '; path=/; max-age=31536000; SameSite=Strict';
      window.location.reload();
    }}
  }}
  var fmt = new Intl.DateTimeFormat('zh-CN', {{timeZone: 'Asia/Shanghai', hour12: false,
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    second: '2-digit', weekday: 'short'}});
  function tick() {{
    var p = {{}};
    fmt.formatToParts(new Date()).forEach(function (x) {{ p[x.type] = x.value; }});
    document.querySelectorAll('.zl-live-clock').forEach(function (c) {{
      c.textContent = p.hour + ':' + p.minute + ':' + p.second; }});
    document.querySelectorAll('.zl-live-date').forEach(function (d) {{
      d.textContent = p.year + '年' + p.month + '月' + p.day + '日 ' + p.weekday; }});
  }}
  window.addEventListener('resize', fit);
  setTimeout(fit, 1500);
  var hours = RELOAD_HOURS;
  if (hours > 0) {{ setTimeout(function () {{ window.location.reload(); }}, hours * 3600 * 1000); }}
  setInterval(tick, 1000);
  tick();
}})();
</script>
"""


def script(reload_hours: float) -> str:
    """Our script with the reload period filled in (a number from the validated settings)."""
    return _SCRIPT.replace("RELOAD_HOURS", f"{float(reload_hours):g}")


def read_scale(cookies) -> float:
    """The window's scale from the cookie our script sets (1 without one or when bad)."""
    try:
        value = float(cookies.get(COOKIE, 1))
    except (TypeError, ValueError):
        return 1.0
    return min(max(value, MIN_SCALE), MAX_SCALE) if value == value else 1.0


def _times(text: str, scale: float) -> str:
    return _PX.sub(lambda m: f"{float(m.group(1)) * scale:g}px", text)


def css(scale: float) -> str:
    """The style sheet with every size multiplied by ``scale``."""
    return _times(_CSS, scale)


def scaled(body: str, scale: float) -> str:
    """HTML of ours with the sizes in its style attributes multiplied by ``scale`` (text
    outside style attributes, data included, is left alone)."""
    return _STYLE.sub(lambda m: f'style="{_times(m.group(1), scale)}"', body)


def esc(value: object) -> str:
    """A value from the store as HTML text."""
    return html.escape(str(value), quote=True)


def date_line(now: datetime) -> str:
    return f"{now:%Y年%m月%d日} 星期{WEEKDAYS[now.weekday()]}"


def top_bar(title: str, slide_title: str, index: int, total: int, now: datetime,
            as_of: datetime, note: str = "", scale: float = 1.0) -> str:
    """Title, the slide's name and place, date and weekday, live clock and 数据截至."""
    dots = "".join(f'<span class="{"on" if i == index else ""}"></span>' for i in range(total))
    note_html = f'<span class="zl-note">{esc(note)}</span>' if note else ""
    return (f'<div class="zl-bar" data-scale="{scale:g}"><span class="zl-title">{esc(title)}</span>'
            f'<span class="zl-slide">{esc(slide_title)}<small class="zl-dots">{dots}</small>'
            f'</span>{note_html}<span class="zl-time"><span class="zl-live-date">{date_line(now)}'
            f'</span><span class="zl-clock zl-live-clock">{now:%H:%M:%S}</span>'
            f'<span class="zl-asof">数据截至 {as_of:%Y-%m-%d %H:%M}</span></span></div>')


def today_panel(now: datetime, note: str) -> str:
    """A large live clock with the date and a line about the day (a holiday, a workday)."""
    return (f'<div class="zl-today"><div class="zl-live-clock">{now:%H:%M:%S}</div>'
            f'<div class="zl-live-date">{date_line(now)}</div>'
            f'<div class="zl-day-note">{esc(note)}</div></div>')


def age_text(hours: float | None) -> str:
    if hours is None:
        return "无导入记录"
    if hours < 1:
        return f"{max(int(hours * 60), 0)} 分钟前"
    if hours < 48:
        return f"{hours:.0f} 小时前"
    return f"{hours / 24:.0f} 天前"


def panel_head(title: str, stamp: datetime | None, hours: float | None, stale_hours: float,
               period: str = "") -> str:
    """A panel's title and how old its data is; a red 数据未更新 badge past stale_hours."""
    when = f"数据 {stamp:%m-%d %H:%M} · {age_text(hours)}" if stamp else age_text(None)
    badge = ('<span class="zl-stale">数据未更新</span>'
             if hours is None or hours > stale_hours else "")
    period_html = f"{esc(period)} · " if period else ""
    return (f'<div class="zl-panel-head"><span class="zl-panel-title">{esc(title)}</span>'
            f'<span class="zl-fresh">{period_html}{when}{badge}</span></div>')


def tiles(items: list[dict]) -> str:
    """Tiles of (label, value text, change lines (one per line of ``change``), met) in a
    five-column grid."""
    cells = []
    for t in items:
        state = {True: " good", False: " bad"}.get(t.get("met"), "")
        cells.append(f'<div class="zl-tile"><div class="zl-tile-label">{esc(t["label"])}</div>'
                     f'<div class="zl-tile-value{state}">{esc(t["value"])}</div>'
                     + "".join(f'<div class="zl-tile-change">{esc(line)}</div>'
                               for line in t["change"].split("\n")) + "</div>")
    return f'<div class="zl-tiles">{"".join(cells)}</div>'


def table(headers: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    """A plain table; every cell is text, escaped here; ``classes`` colours cells."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = classes[i] if classes else [""] * len(row)
        body.append("<tr>" + "".join(
            f'<td><span class="{c}">{esc(v)}</span></td>' if c else f"<td>{esc(v)}</td>"
            for v, c in zip(row, cls)) + "</tr>")
    return f'<table class="zl-table"><tr>{head}</tr>{"".join(body)}</table>'


def ticker(notices: list[dict]) -> str:
    """The current notices scrolling along the bottom (speed follows their length)."""
    if not notices:
        text = "暂无通知公告"
    else:
        text = "　　◆　　".join(f'{n["title"]}：{n["body"]}' if n["body"] else n["title"]
                              for n in notices)
    seconds = max(30, len(text) // 3)
    return (f'<div class="zl-ticker"><span class="zl-ticker-label">通知公告</span>'
            f'<div class="zl-ticker-track"><span class="zl-ticker-text" '
            f'style="--zl-ticker-seconds: {seconds}s">{esc(text)}</span></div></div>')

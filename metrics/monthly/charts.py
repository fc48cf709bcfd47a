"""The report's charts as PNG images, drawn without a browser: an altair (Vega-Lite) spec
rendered by vl-convert, with the CJK font's folder registered so Chinese labels draw.
Nothing is fetched: vl-convert bundles Vega and draws with local fonts."""
from __future__ import annotations

from functools import lru_cache

import altair as alt
import pandas as pd

from metrics.formatting import fmt_value
from metrics.monthly import fonts
from metrics.monthly.model import Chart

BLUE, GREY, RED = "#1f6feb", "#868e96", "#e03131"
WIDTH = 620  # px at scale 1; the image is drawn at 2× for print
D3_FORMATS = {"pct": ".0%", "count": ",d", "score": ".0f", "per": ".1f", "hours": ".0f"}


@lru_cache(maxsize=1)
def _converter():
    import vl_convert as vlc

    for folder in fonts.font_dirs():
        vlc.register_font_directory(folder)
    return vlc


def chart_spec(chart: Chart) -> alt.Chart:
    df = pd.DataFrame({"label": chart.labels, "value": chart.values,
                       "text": [fmt_value(v, chart.fmt).replace(" ", "") for v in chart.values]})
    axis_format = D3_FORMATS.get(chart.fmt, "")
    if chart.kind == "bar":
        base = alt.Chart(df).encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=200)),
            x=alt.X("value:Q", title=chart.value_title or None,
                    axis=alt.Axis(format=axis_format)))
        layers = [base.mark_bar(color=BLUE),
                  base.mark_text(align="left", dx=3, fontSize=11).encode(text="text:N")]
        height = max(120, 22 * len(df))
    else:
        base = alt.Chart(df).encode(
            x=alt.X("label:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=chart.value_title or None,
                    axis=alt.Axis(format=axis_format), scale=alt.Scale(zero=False)))
        layers = [base.mark_line(color=BLUE, point=True),
                  base.mark_text(dy=-10, fontSize=10).encode(text="text:N")]
        height = 220
    if chart.target is not None:
        rule = alt.Chart(pd.DataFrame({"t": [chart.target]}))
        enc = {"x": "t:Q"} if chart.kind == "bar" else {"y": "t:Q"}
        layers.append(rule.mark_rule(color=RED, strokeDash=[5, 4]).encode(**enc))
    family = fonts.chart_family()
    return (alt.layer(*layers).properties(width=WIDTH, height=height, title=chart.title)
            .configure(font=family)
            .configure_title(font=family, fontSize=14, anchor="start")
            .configure_view(stroke=None))


def chart_png(chart: Chart, scale: float = 2.0) -> bytes:
    """The chart as PNG bytes."""
    return _converter().vegalite_to_png(chart_spec(chart).to_json(), scale=scale)

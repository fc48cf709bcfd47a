"""The big screen's slides (指挥中心大屏): each slide's id, Chinese title and the domains
whose data it shows (the domains name their tables for the freshness badge).

The one home of the slide list: settings (``bigscreen.playlist``, ``bigscreen.dwell``),
the screen's model (metrics/screen.py) and the page (pages/bigscreen.py) all read it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slide:
    id: str
    title: str
    tables: tuple[str, ...]   # store tables whose data time the slide's panels show (the
    #                           oldest of those that have one: a source an office does not
    #                           use, e.g. recipient lists beside monthly statistics, is left out)


SLIDES: dict[str, Slide] = {s.id: s for s in (
    Slide("overview", "全域总览", ("cases", "petitions", "incidents", "attendance")),
    Slide("cases_trend", "诉求办理趋势", ("cases",)),
    Slide("ranking", "社区三率排名", ("cases",)),
    Slide("backlog", "失分与积压", ("cases",)),
    Slide("petitions", "信访态势", ("petitions",)),
    Slide("compstat", "警情研判", ("incidents",)),
    Slide("heatmap", "警情时段分布", ("incidents",)),
    Slide("map", "三维社区地图", ("incidents", "cases")),
    Slide("attendance", "今日干部在岗", ("attendance",)),
    Slide("benefits", "民生保障", ("benefit_payments", "benefit_monthly")),
    Slide("notices", "通知公告", ("notices",)),
)}

#: Inserted into the rotation while a rule breaks (not part of the playlist).
ALERT = Slide("alert", "预警", ("cases", "petitions", "incidents"))

DEFAULT_PLAYLIST = tuple(SLIDES)

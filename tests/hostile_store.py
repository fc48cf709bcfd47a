"""A demo store whose names are hostile: communities, case categories and channels that
would become links, bold text, colour, icons or HTML if a page treated data as markup.

The names are written straight into the store (not through the importer), so the pages'
own escaping is what is tested, whatever the importer accepts.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from data.store.db import get_engine
from data.store.schema import cases, communities, metadata

# The six names every check looks for: each must show exactly as typed.
HOSTILE = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[链接](javascript:alert(1))",
    '=HYPERLINK("http://x","y")',
    "**粗体**",
    ":red[红]",
)
# More markup for the remaining communities, categories and channels.
MORE_COMMUNITIES = (
    ":material/home: 社区", "_斜体_社区", "www.x.com 社区", "a@x.cn 社区", "~~删除~~社区",
    "$x^2$ 社区", "# 标题社区", "| 表 | 格 |", "<b>管委会</b>",
)
CATEGORIES = (
    "<i>斜体类别</i>", "[类别](http://x)", "**粗体类别**", ":blue[蓝色类别]",
    ":material/home:", "<script>alert(2)</script>", "&lt;实体&gt;", "http://x.com/类别",
    "<a href=\"http://x\">类别</a>", "`代码`类别",
)
CHANNELS = ("<a href=\"http://x\">渠道</a>", ":smile: 渠道", "$E=mc^2$", "<b>粗体渠道</b>",
            "[渠道](http://x)")


def _tables_with(column: str):
    return [t for t in metadata.sorted_tables if column in t.columns]


def make_hostile(url: str) -> dict[str, list[str]]:
    """Rename every community (in every table), case category and case channel of the store
    at ``url`` to hostile names; return {"communities"|"categories"|"channels": new names}."""
    engine = get_engine(url)
    with engine.begin() as conn:
        old = list(conn.execute(select(communities.c.name).order_by(
            communities.c.kind.desc(), communities.c.name)).scalars())
        new_names = (HOSTILE + MORE_COMMUNITIES)[:len(old)]
        renamed = dict(zip(old, new_names))
        for before, after in renamed.items():
            conn.execute(update(communities).where(communities.c.name == before)
                         .values(name=after))
            for table in _tables_with("community"):
                conn.execute(update(table).where(table.c.community == before)
                             .values(community=after))
        out = {"communities": list(renamed.values())}
        for column, key, names in (("category", "categories", CATEGORIES),
                                   ("channel", "channels", CHANNELS)):
            col = cases.c[column]
            values = sorted(v for v in conn.execute(select(col).distinct()).scalars() if v)
            mapping = dict(zip(values, names))
            for before, after in mapping.items():
                conn.execute(update(cases).where(col == before).values({column: after}))
            out[key] = list(mapping.values())
    return out


def build(folder: Path) -> str:
    """A seed-7 demo store (tests.demo_store) with hostile names, in folder; its URL."""
    from tests.demo_store import build as build_demo

    url = build_demo(folder)
    make_hostile(url)
    return url

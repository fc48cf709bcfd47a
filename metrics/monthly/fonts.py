"""The Chinese font the PDF embeds and the charts draw with.

Looked up in order: the file named by ``ZHILI_CJK_FONT`` (a .ttf/.otf/.ttc), Noto Sans CJK
SC from Debian's ``fonts-noto-cjk`` (/usr/share/fonts/opentype/noto/, CFF outlines in a
TTC: fpdf2 embeds a subset), then other common CJK fonts. None found: ``FontMissing`` with
one Chinese line saying what to install.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ENV = "ZHILI_CJK_FONT"
FAMILY = "Noto Sans CJK SC"
CANDIDATES = [  # (regular, bold) — bold may be missing
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
     "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", None),
]
MISSING = (f"未找到中文字体，无法生成 PDF 报告：请安装 Noto Sans CJK（Debian/Ubuntu: "
           f"apt-get install fonts-noto-cjk），或用环境变量 {ENV} 指定一个中文字体文件"
           f"（.ttf/.otf/.ttc）；Word 报告不受影响")


class FontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int   # the face in a collection (.ttc)
    family: str  # its family name (for the charts)


def _face(path: str) -> FontFile | None:
    """The Simplified Chinese face of a font file (collections hold JP, KR, SC, TC …)."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.lower().endswith((".ttc", ".otc")):
            faces = [f["name"].getDebugName(1) or "" for f in TTCollection(path, lazy=True)]
        else:
            faces = [TTFont(path, lazy=True)["name"].getDebugName(1) or ""]
    except Exception:  # noqa: BLE001 - unreadable or not a font
        return None
    for i, name in enumerate(faces):
        if name.endswith(" SC") or "SC" in name.split():
            return FontFile(path, i, name)
    return FontFile(path, 0, faces[0]) if faces else None


@lru_cache(maxsize=1)
def cjk_fonts() -> tuple[FontFile, FontFile | None]:
    """(regular, bold or None) of the first CJK font found; FontMissing otherwise."""
    own = os.environ.get(ENV)
    if own:
        face = _face(own) if Path(own).is_file() else None
        if face is None:
            raise FontMissing(f"{ENV} 指定的字体文件「{own}」不存在或无法读取；" + MISSING)
        return face, None
    for regular, bold in CANDIDATES:
        if Path(regular).is_file() and (face := _face(regular)):
            return face, (_face(bold) if bold and Path(bold).is_file() else None)
    raise FontMissing(MISSING)


def font_dirs() -> list[str]:
    """Folders of the CJK fonts found (for the chart renderer); [] when there is none."""
    try:
        regular, bold = cjk_fonts()
    except FontMissing:
        return []
    return sorted({str(Path(f.path).parent) for f in (regular, bold) if f})


def chart_family() -> str:
    try:
        return cjk_fonts()[0].family
    except FontMissing:
        return "sans-serif"

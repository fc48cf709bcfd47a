"""The monthly report as a PDF (fpdf2): A4 portrait, the CJK font embedded as a subset
(fpdf2 subsets TrueType and CFF/OpenType faces, Noto Sans CJK's TTC included), charts as
PNG images, tables that repeat their header on a new page, page numbers."""
from __future__ import annotations

import io

from metrics.monthly import fonts
from metrics.monthly.charts import chart_png
from metrics.monthly.docx import FIGURE_COLUMNS
from metrics.monthly.model import Report, Section, Table

FAMILY = "cjk"
MARGIN = 18  # mm
GREY = (90, 90, 90)


def _pdf(report: Report):
    from fpdf import FPDF

    regular, bold = fonts.cjk_fonts()

    class _Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, "", 8)
            self.set_text_color(*GREY)
            self.cell(0, 6, f"{report.title} · 第 {self.page_no()} 页 / 共 {{nb}} 页",
                      align="C")
            self.set_text_color(0, 0, 0)

    pdf = _Doc(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font(FAMILY, "", regular.path, collection_font_number=regular.index)
    b = bold or regular
    pdf.add_font(FAMILY, "B", b.path, collection_font_number=b.index)
    pdf.set_title(report.title)
    pdf.set_author(report.office)
    pdf.set_creator("智理 Zhili")
    pdf.set_lang("zh-CN")
    return pdf


def _heading(pdf, text: str, size: float) -> None:
    if pdf.get_y() > pdf.h - 50:  # no heading alone at the foot of a page
        pdf.add_page()
    pdf.set_font(FAMILY, "B", size)
    pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font(FAMILY, "", 10)


def _note(pdf, text: str) -> None:
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*GREY)
    from fpdf.enums import WrapMode

    pdf.multi_cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FAMILY, "", 10)


def _grid(pdf, columns: list[str], rows: list[list[str]], numeric: set[int]) -> None:
    """A table: text columns (not in ``numeric``) wider and left-aligned, numbers right."""
    from fpdf.enums import WrapMode

    pdf.set_font(FAMILY, "", 8.5)
    n = len(columns)
    widths = [1.0 if j in numeric else 1.7 for j in range(n)]
    align = tuple("RIGHT" if j in numeric else "LEFT" for j in range(n))
    with pdf.table(col_widths=widths, text_align=align, wrapmode=WrapMode.CHAR,
                   line_height=5, padding=(0.8, 1.2), repeat_headings=1,
                   headings_style=_bold_face()) as table:
        for values in [columns, *rows]:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.ln(3)
    pdf.set_font(FAMILY, "", 10)


def _bold_face():
    from fpdf.fonts import FontFace

    return FontFace(family=FAMILY, emphasis="BOLD", fill_color=(235, 240, 248))


def _data_table(pdf, table: Table) -> None:
    _heading(pdf, table.title, 11)
    if not table.rows:
        pdf.multi_cell(0, 5, "本月无。", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    else:
        _grid(pdf, table.columns, table.text_rows(),
              {j for j, c in enumerate(table.columns) if c in table.formats})
    if table.note:
        _note(pdf, table.note)
        pdf.ln(2)


def _section(pdf, section: Section) -> None:
    pdf.ln(2)
    _heading(pdf, section.title, 15)
    if section.note:
        _note(pdf, section.note)
    if section.figures:
        _grid(pdf, FIGURE_COLUMNS, [[f.label, f.text, f.mom_text, f.yoy_text, f.target_text,
                                      f.met_text] for f in section.figures], {1, 2, 3, 4})
    width = pdf.w - 2 * MARGIN
    for chart in section.charts:
        png = chart_png(chart)
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            height = width * im.height / im.width
        if pdf.get_y() + height > pdf.h - MARGIN:
            pdf.add_page()
        pdf.image(io.BytesIO(png), x=MARGIN, w=width)
        pdf.ln(3)
    for table in section.tables:
        _data_table(pdf, table)


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes; ``fonts.FontMissing`` (one Chinese line) without a CJK font."""
    pdf = _pdf(report)
    pdf.add_page()
    _heading(pdf, report.title, 18)
    for line in report.meta_lines():
        _note(pdf, line)
    pdf.ln(3)
    _heading(pdf, "本月要点", 15)
    for sentence in report.highlights() or ["本月无数据。"]:
        pdf.set_x(MARGIN)
        pdf.multi_cell(0, 5.5, "• " + sentence, new_x="LMARGIN", new_y="NEXT")
    for section in report.sections:
        _section(pdf, section)
    return bytes(pdf.output())

"""The monthly report as a Word document (python-docx): A4, Chinese fonts named for East
Asian text (Word and WPS substitute a local one), headline tables, charts as images,
rankings, 失分 and backlog tables, the generated sentences."""
from __future__ import annotations

import io

from metrics.monthly.charts import chart_png
from metrics.monthly.model import Report, Section, Table

FONT = "Microsoft YaHei"    # East Asian font named in the file (Word on Windows has it)
FIGURE_COLUMNS = ["指标", "本月", "环比", "同比", "目标", "是否达标"]


def _east_asian(style_or_run, name: str = FONT) -> None:
    from docx.oxml.ns import qn

    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), name)


def _table(doc, columns: list[str], rows: list[list[str]], numeric=frozenset({1, 2, 3, 4})):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, columns):
        cell.text = ""
        run = cell.paragraphs[0].add_run(name)
        run.bold = True
        run.font.size = Pt(9)
    for values in rows:
        cells = table.add_row().cells
        for j, (cell, value) in enumerate(zip(cells, values)):
            cell.text = ""
            par = cell.paragraphs[0]
            par.add_run(value).font.size = Pt(9)
            if j in numeric:
                par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return table


def _data_table(doc, table: Table) -> None:
    doc.add_paragraph(table.title, style="Heading 3")
    if not table.rows:
        doc.add_paragraph("本月无。")
    else:
        _table(doc, table.columns, table.text_rows(),
               {j for j, c in enumerate(table.columns) if c in table.formats})
    if table.note:
        doc.add_paragraph(table.note, style="Caption")


def _section(doc, section: Section) -> None:
    from docx.shared import Cm

    doc.add_heading(section.title, level=1)
    if section.note:
        doc.add_paragraph(section.note, style="Caption")
    if section.figures:
        _table(doc, FIGURE_COLUMNS, [[f.label, f.text, f.mom_text, f.yoy_text, f.target_text,
                                       f.met_text] for f in section.figures])
    for chart in section.charts:
        doc.add_picture(io.BytesIO(chart_png(chart)), width=Cm(16))
    for table in section.tables:
        _data_table(doc, table)


def render_docx(report: Report) -> bytes:
    from docx import Document
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.left_margin = sec.right_margin = Mm(20)
    sec.top_margin = sec.bottom_margin = Mm(20)
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Caption",
                 "List Bullet"):
        _east_asian(doc.styles[name])
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.core_properties.title = report.title
    doc.core_properties.author = report.office
    doc.add_heading(report.title, level=0)
    for line in report.meta_lines():
        doc.add_paragraph(line, style="Caption")
    doc.add_heading("本月要点", level=1)
    for sentence in report.highlights() or ["本月无数据。"]:
        doc.add_paragraph(sentence, style="List Bullet")
    for section in report.sections:
        _section(doc, section)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()

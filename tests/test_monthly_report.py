"""月度报告: `cli.py report` writes DOCX and PDF for a demo month whose figures are those of
`cli.py kpi` for the same month (环比 and 同比 as KPI.md and the pages: the 30 days before
November 2019 are 2 to 31 October; appraisal judged at the month's end, as on 考核评议); the report's model is the same on SQLite,
PostgreSQL and MariaDB; the PDF embeds its Chinese font; errors are one Chinese line."""
from __future__ import annotations

import io
import json
import re

import pytest

import cli
from data.demo import generate
from metrics.formatting import NULL, fmt_kpi
from metrics.monthly import build_report
from metrics.monthly.docx import FIGURE_COLUMNS
from metrics.registry import REGISTRY
from tests.demo_store import UNTIL

MONTH = "2019-11"
PERIODS = {"month": ("2019-11-01", "2019-11-30"), "prev": ("2019-10-02", "2019-10-31"),
           "year": ("2018-11-01", "2018-11-30")}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def kpi(capsys, url, which, *extra) -> dict:
    start, end = PERIODS[which]
    code, out, err = run(capsys, "kpi", "--db", url, "--start", start, "--end", end, *extra)
    assert code == 0, err
    return json.loads(out)["kpis"]


def change_text(key: str, now, base) -> str:
    """环比/同比 worked out from two CLI outputs: points for rates, relative for the rest."""
    if now is None or base is None:
        return NULL
    if REGISTRY[key].is_rate:
        return f"{(now - base) * 100:+.1f} 个百分点"
    if base == 0:
        return NULL
    return f"{(now / base - 1) * 100:+.1f}%"


@pytest.fixture(scope="module")
def files(demo_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    out = {}
    for fmt in ("docx", "pdf"):
        path = folder / f"report.{fmt}"
        assert cli.main(["report", "--db", demo_url, "--month", MONTH, "--out", str(path)]) == 0
        out[fmt] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def expected(demo_url):
    """Every headline figure the report must show, from `cli.py kpi` (run in-process)."""
    import contextlib

    got = {}
    for which in PERIODS:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            start, end = PERIODS[which]
            assert cli.main(["kpi", "--db", demo_url, "--start", start, "--end", end]) == 0
        got[which] = json.loads(buf.getvalue())["kpis"]
    # appraisal: judged at the end of each month (the 考核评议 page's moment)
    # (its 环比 is the month before: the appraisal is monthly)
    for which, start, end in (("month", "2019-11-01", "2019-11-30"),
                              ("prev", "2019-10-01", "2019-10-31"),
                              ("year", "2018-11-01", "2018-11-30")):
        as_of = f"{end}T23:59:59"
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert cli.main(["kpi", "--db", demo_url, "--start", start, "--end", end,
                             "--only", "appraisal", "--as-of", as_of]) == 0
        got[which]["appraisal.mean_score"] = json.loads(buf.getvalue())["kpis"][
            "appraisal.mean_score"]
    return got


def figure_rows(expected) -> dict[str, list[str]]:
    """Label -> [本月, 环比, 同比] as the report must print them."""
    rows = {}
    for key in ("cases.total", "cases.closure_rate", "cases.on_time_rate",
                "cases.three_rate_score", "cases.satisfaction_rate", "petitions.total",
                "petitions.closure_rate", "incidents.total", "incidents.criminal",
                "incidents.per_10k", "attendance.rate", "attendance.late",
                "worklogs.log_rate", "worklogs.suspect", "appraisal.mean_score"):
        now = expected["month"][key]
        rows[REGISTRY[key].label] = [fmt_kpi(key, now),
                                     change_text(key, now, expected["prev"][key]),
                                     change_text(key, now, expected["year"][key])]
    key = "cases.overdue_open"  # point in time: no comparison
    rows[REGISTRY[key].label] = [fmt_kpi(key, expected["month"][key]), NULL, NULL]
    return rows


def test_docx_figures_are_the_cli_figures(files, expected):
    import docx

    doc = docx.Document(io.BytesIO(files["docx"]))
    shown = {}
    for table in doc.tables:
        cells = [[c.text for c in row.cells] for row in table.rows]
        if cells[0] == FIGURE_COLUMNS:
            for row in cells[1:]:
                shown[row[0]] = row[1:4]
    want = figure_rows(expected)
    assert {label: shown.get(label) for label in want} == want
    # a hand check of one line: the demo's November 2019
    assert shown["受理量"] == ["41", "+13.9%", "+36.7%"]   # 41 vs 36 and 30 cases (SQL count)
    assert shown["办结率"][0] == "95.1%"
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "南城街道2019年11月社区治理月度报告" in text
    assert f"数据截至 {UNTIL} 23:59（北京时间）" in text
    m = expected["month"]
    closure = f"{m['cases.closure_rate'] * 100:.1f}%"
    points = (m["cases.closure_rate"] - expected["prev"]["cases.closure_rate"]) * 100
    assert (f"本月办结率{closure}，环比{'上升' if points > 0 else '下降'}{abs(points):.1f}个百分点"
            in text)
    assert "本月满意率87.5%，环比下降12.5个百分点，同比下降12.5个百分点，未达到90.0%的目标。" in text
    # A4
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert len(doc.inline_shapes) == 2   # the charts as images (no community ranked: samples < 10)


def test_pdf_figures_are_the_cli_figures_with_the_font_embedded(files, expected):
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(files["pdf"]))
    # pypdf reads fpdf2's two-byte CID codes with a NUL before each character (poppler's
    # pdftotext does not): both, and the layout's spaces, are dropped before comparing
    text = re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))
    for label, (now, mom, yoy) in figure_rows(expected).items():
        assert re.sub(r"\s+", "", label + now + mom + yoy) in text, label
    assert "南城街道2019年11月社区治理月度报告" in text
    assert "本月满意率87.5%，环比下降12.5个百分点" in text
    # A4 portrait, every font embedded (a subset of Noto Sans CJK)
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts.add(str(font["/BaseFont"]))
    assert fonts and all("NotoSansCJK" in f for f in fonts), fonts


def test_scope_and_errors(capsys, demo_url, tmp_path):
    out = tmp_path / "r.docx"
    code, stdout, err = run(capsys, "report", "--db", demo_url, "--month", MONTH,
                            "--community", "和平社区", "--out", str(out))
    assert code == 0, err
    report = build_report(__import__("data.store.db", fromlist=["get_engine"]).get_engine(
        demo_url), MONTH, ("和平社区",))
    want = kpi(capsys, demo_url, "month", "--community", "和平社区")
    assert report.section("cases").figure("cases.total").value == want["cases.total"]
    assert report.scope_text == "和平社区"
    for argv, needle in [
        (["--month", "2020-01", "--out", str(out)], "2020-01 晚于数据截至 2019-12-31 23:59"),
        (["--month", MONTH, "--out", str(tmp_path / "r.txt")], "--out 应以 .docx 或 .pdf 结尾"),
        (["--month", "2019-13", "--out", str(out)], "月份格式应为 YYYY-MM"),
        (["--month", MONTH, "--community", "无此社区", "--out", str(out)], "无此社区"),
    ]:
        code, stdout, err = run(capsys, "report", "--db", demo_url, *argv)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, (argv, err)


def test_pdf_without_a_cjk_font_says_what_to_install(capsys, demo_url, tmp_path, monkeypatch):
    from metrics.monthly import fonts

    monkeypatch.setenv(fonts.ENV, str(tmp_path / "none.ttf"))
    fonts.cjk_fonts.cache_clear()
    try:
        code, _, err = run(capsys, "report", "--db", demo_url, "--month", MONTH,
                           "--out", str(tmp_path / "r.pdf"))
    finally:
        monkeypatch.delenv(fonts.ENV)
        fonts.cjk_fonts.cache_clear()
    assert code == 2 and "未找到中文字体" in err and "apt-get install fonts-noto-cjk" in err
    assert "none.ttf" in err and len(err.strip().splitlines()) == 1


def model_values(report) -> list:
    """Everything the report states, as plain values (floats rounded to 9 places)."""
    def plain(v):
        return round(v, 9) if isinstance(v, float) else v

    out = []
    for s in report.sections:
        out.append((s.domain, s.title, s.note, tuple(s.sentences)))
        out += [(f.key, plain(f.value), plain(f.mom), plain(f.yoy), f.target, f.met)
                for f in s.figures]
        out += [(c.title, tuple(c.labels), tuple(plain(v) for v in c.values)) for c in s.charts]
        out += [(t.title, tuple(t.columns), tuple(tuple(plain(v) for v in row) for row in t.rows))
                for t in s.tables]
    return out


def test_same_report_model_on_every_database(engine, demo_url):
    from data.store.db import get_engine

    generate(engine, seed=7, until=UNTIL, force=True)
    ours = build_report(engine, MONTH)
    theirs = build_report(get_engine(demo_url), MONTH)
    assert [s.domain for s in ours.sections] == ["cases", "petitions", "incidents", "cadres",
                                                "appraisal"]
    assert ours.as_of == theirs.as_of
    assert model_values(ours) == model_values(theirs)

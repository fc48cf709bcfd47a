"""The CLI's JSON shape, its errors, and identical KPI JSON on SQLite, PostgreSQL, MariaDB."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import cli
from data.demo import generate
from metrics.context import make_query
from metrics.period import Period
from metrics.registry import keys
from metrics.report import BREAKDOWNS, kpi_report

ROOT = Path(__file__).resolve().parent.parent
from tests.demo_store import UNTIL


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kpi_json_shape(capsys, demo_url):
    code, out, _ = run(capsys, "kpi", "--db", demo_url, "--start", "2018-01-01",
                       "--end", "2019-12-31", "--by", "community", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"period", "as_of", "scope", "kpis", "groups"}
    assert report["period"] == {"start": "2018-01-01", "end": "2019-12-31"}
    assert report["as_of"] == f"{UNTIL.isoformat()}T23:59:59"
    assert set(keys("cases")) <= set(report["kpis"])
    assert len(report["groups"]) >= 15
    for community, values in report["groups"].items():
        assert set(keys("cases")) <= set(values), community
    closed = report["kpis"]["cases.closed"]
    assert closed == sum(v["cases.closed"] for v in report["groups"].values())
    assert report["kpis"]["cases.closure_rate"] == pytest.approx(
        closed / report["kpis"]["cases.total"])


def test_kpi_scope_and_as_of(capsys, demo_url):
    code, out, _ = run(capsys, "kpi", "--db", demo_url, "--start", "2019-01-01", "--end",
                       "2019-03-31", "--community", "和平社区", "--as-of", "2019-02-01T00:00:00")
    report = json.loads(out)
    assert code == 0 and report["scope"] == ["和平社区"]
    assert report["as_of"] == "2019-02-01T00:00:00"
    assert report["kpis"]["cases.total"] > 0   # January's cases exist as of 1 February


@pytest.mark.parametrize("argv, needle", [
    (["kpi", "--start", "2020-13-01", "--end", "2020-12-31"], "YYYY-MM-DD"),
    (["kpi", "--start", "2020-02-01", "--end", "2020-01-01"], "早于"),
    (["kpi", "--start", "2020-01-01", "--end", "2020-01-31", "--by", "street"], "参数错误"),
    (["frobnicate"], "参数错误"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, demo_url, argv, needle):
    code, out, err = run(capsys, *argv[:1], *(["--db", demo_url] if argv[0] == "kpi" else []),
                         *argv[1:])
    assert code == 2 and needle in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("only, domains", [
    (None, None),                                   # every domain of metrics.domains
    ("incidents", ("incidents",)),
    ("cases,petitions", ("cases", "petitions")),
    (" petitions , incidents,petitions", ("petitions", "incidents")),
])
def test_kpi_only_domains(capsys, demo_url, only, domains):
    from metrics.domains import DOMAINS

    argv = ["kpi", "--db", demo_url, "--start", "2019-01-01", "--end", "2019-03-31"]
    code, out, err = run(capsys, *argv, *(["--only", only] if only else []))
    assert code == 0, err
    kpis = json.loads(out)["kpis"]
    assert {key.split(".", 1)[0] for key in kpis} == set(domains or DOMAINS)
    for domain in domains or ("cases", "petitions", "incidents"):
        assert set(keys(domain)) <= set(kpis)


@pytest.mark.parametrize("only", ["crimes", "cases,crimes", ",", "CASES"])
def test_kpi_only_unknown_domain_lists_the_valid_ones(capsys, demo_url, only):
    code, out, err = run(capsys, "kpi", "--db", demo_url, "--start", "2019-01-01",
                         "--end", "2019-03-31", "--only", only)
    assert code == 2 and out == ""
    line = err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "--only" in line and "cases、petitions、incidents" in line


def test_kpi_by_choices_are_the_report_breakdowns(capsys, demo_url):
    kpi = cli.build_parser()._subparsers._group_actions[0].choices["kpi"]
    by = next(a for a in kpi._actions if a.dest == "by")
    assert tuple(by.choices) == BREAKDOWNS and "form" in BREAKDOWNS
    code, out, err = run(capsys, "kpi", "--db", demo_url, "--start", "2019-01-01",
                         "--end", "2019-12-31", "--only", "petitions", "--by", "form")
    assert code == 0, err
    groups = json.loads(out)["groups"]
    assert groups and all(set(keys("petitions")) <= set(v) for v in groups.values())


def test_kpi_table_prints_compstat_as_a_table(capsys, demo_url):
    code, out, err = run(capsys, "kpi", "--db", demo_url, "--start", "2019-01-01",
                         "--end", "2019-12-31", "--only", "incidents", "--format", "table")
    assert code == 0, err
    assert "{'" not in out and "{\"" not in out              # no raw dict anywhere
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if "本周累计" in line)
    assert lines[head].split() == ["类别", "本周累计", "近28天", "本年累计"]
    cell = r"\d+/\d+ (?:[+-]\d+\.\d%|—) z=-?\d+\.\d\d (?:显著上升|上升|平稳|下降)"
    row = re.compile(rf"^\s+(\S+)\s+{cell}\s+{cell}\s+{cell}$")
    rows = [row.match(line) for line in lines[head + 1:head + 10]]
    assert all(rows), lines[head + 1:head + 10]
    assert [m.group(1) for m in rows][0] == "刑事" and rows[-1].group(1) == "合计"
    # the figures are those of the JSON report
    code, out, _ = run(capsys, "kpi", "--db", demo_url, "--start", "2019-01-01",
                       "--end", "2019-12-31", "--only", "incidents")
    report = json.loads(out)["kpis"]
    total = report["incidents.compstat"]["TOTAL"]["d28"]
    assert f"{total['cur']}/{total['prior']} " in lines[head + 9]
    flag = next(line for line in lines if line.rstrip().endswith("incidents.trend_flag"))
    assert report["incidents.trend_flag"] in flag


def test_table_lines_for_nested_values():
    """Any value that is not a number prints readably: a grid, name/value rows, JSON."""
    cell = {"cur": 3, "prior": 2, "change": 0.5, "z": 0.6411, "flag": "平稳"}
    empty = {"cur": 0, "prior": 0, "change": None, "z": 0.0, "flag": "平稳"}
    lines = cli._kpi_lines({
        "incidents.compstat": {"刑事": {"wtd": cell, "d28": empty, "ytd": cell},
                               "TOTAL": {"wtd": cell, "d28": empty, "ytd": cell}},
        "incidents.trend_flag": "平稳",
        "x.distribution": {"优秀": 93, "良好": 8, "待改进": None},
        "x.rows": [[1, 2], [3, 4]],
    })
    text = "\n".join(lines)
    assert "{'" not in text and "    [[1, 2], [3, 4]]" in lines     # other shapes: JSON
    assert any(line.split() == ["刑事", "3/2", "+50.0%", "z=0.64", "平稳", "0/0", "—",
                                "z=0.00", "平稳", "3/2", "+50.0%", "z=0.64", "平稳"]
               for line in lines), text
    assert any(line.split()[:1] == ["合计"] for line in lines)
    assert any(line.split() == ["优秀", "93"] for line in lines)
    assert any(line.split() == ["待改进", "—"] for line in lines)
    assert any(line.split()[-2:] == ["平稳", "incidents.trend_flag"] for line in lines)


def test_same_kpi_json_on_every_database(engine, demo_url):
    """The seed-7 demo up to UNTIL gives the same JSON, for every breakdown, everywhere."""
    from data.store.db import get_engine

    generate(engine, seed=7, until=UNTIL, force=True)
    reference = get_engine(demo_url)
    period = Period(date(2018, 1, 1), UNTIL)
    for by in (None, *BREAKDOWNS):
        ours = kpi_report(engine, make_query(engine, period), by=by)
        theirs = kpi_report(reference, make_query(reference, period), by=by)
        assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True), by


@pytest.mark.slow
def test_bench_runs_end_to_end_on_a_small_store(tmp_path):
    """The benchmark builds a store, measures in fresh processes and checks its figures
    against the pandas reference (at this size the speed ratios mean nothing)."""
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    done = subprocess.run([sys.executable, "cli.py", "bench", "--cases", "3000", "--repeat", "1",
                           "--db", url], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert "in the measured year" in done.stdout
    assert "[OK] same figures as the pandas reference (1e-9): 0 differences" in done.stdout
    again = subprocess.run([sys.executable, "cli.py", "bench", "--cases", "3000", "--repeat", "1",
                            "--db", url], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "reusing" in again.stdout

"""The CLI's JSON shape, its errors, and identical KPI JSON on SQLite, PostgreSQL, MariaDB."""
from __future__ import annotations

import json
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

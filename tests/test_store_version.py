"""Figures agree and times are Beijing time:

- ``import --exported-at`` sets 数据截至 (the latest import decides), for the CLI, the
  report and the pages;
- every time shown is Asia/Shanghai whatever the server's zone: on a UTC and a New York
  server the big screen's 数据截至 (of an import just made) and 刷新于 agree, and the
  sidebar shows the same 数据截至;
- the pages' caches are keyed on the store's version: after a CLI import the next run of
  a page shows the new figure at once (not after ``app.cache_ttl_seconds``).
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

import cli
from data.store.db import ROOT, data_as_of, get_engine, store_version

CSV = "工单编号,受理时间,社区\nSV-1,2019-12-30 10:00:00,和平社区\nSV-2,2019-12-30 11:00:00,和平社区\n"


@pytest.fixture
def store(demo_url, tmp_path):
    """A copy of the demo store (数据截至 2019-12-31 23:59:59) and a cases file."""
    path = tmp_path / "store.db"
    with sqlite3.connect(demo_url.removeprefix("sqlite:///")) as src, \
            sqlite3.connect(path) as dst:
        src.backup(dst)   # the WAL's pages included
    csv = tmp_path / "cases.csv"
    csv.write_text(CSV, encoding="utf-8")
    return f"sqlite:///{path}", csv


def _cli(*argv) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "cli.py", *argv], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


def test_exported_at_sets_data_as_of(store, capsys):
    url, csv = store
    engine = get_engine(url)
    before = store_version(engine)
    assert before.as_of == datetime(2019, 12, 31, 23, 59, 59)
    # an export older than the demo's cutoff: 数据截至 is the export time (it was ignored)
    _cli("import", "cases", str(csv), "--db", url, "--exported-at", "2019-12-30T18:00:00")
    after = store_version(engine)
    assert after.as_of == datetime(2019, 12, 30, 18, 0) == data_as_of(engine)
    assert after.imports == before.imports + 1 and after.last_id > before.last_id
    kpi = json.loads(_cli("kpi", "--db", url, "--start", "2019-12-01", "--end", "2019-12-31",
                          "--only", "cases").stdout)
    assert kpi["as_of"] == "2019-12-30T18:00:00"
    # an export time with a UTC offset is Beijing wall time
    _cli("import", "cases", str(csv), "--db", url, "--exported-at", "2019-12-31T02:00:00Z")
    assert data_as_of(engine) == datetime(2019, 12, 31, 10, 0)
    # an import without one: its import time, in Beijing
    _cli("import", "cases", str(csv), "--db", url)
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs((data_as_of(engine) - now).total_seconds()) < 120


CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from streamlit.testing.v1 import AppTest
from data.ingest.importer import import_file
from data.store.db import get_engine
engine = get_engine(sys.argv[2])
result = import_file(engine, "cases", sys.argv[3].encode(), "now.csv")
assert result.error is None, result.error
at = AppTest.from_file(sys.argv[1] + "/dashboard.py", default_timeout=120)
at.run()
sidebar = [c.value for c in at.sidebar.caption if "数据截至" in c.value]
at.switch_page("pages/bigscreen.py").run()
assert not at.exception, at.exception
screen = [h.proto.body for h in at.html if 'class="zl-bar"' in h.proto.body]
print(json.dumps({"sidebar": sidebar, "screen": screen}, ensure_ascii=False))
"""


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_times_shown_are_beijing_time_on_any_server(store, tz):
    url, csv = store
    env = {**os.environ, "TZ": tz, "ZHILI_DB_URL": url}
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), url, CSV], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    (screen,) = got["screen"]
    as_of = datetime.strptime(re.search(r"数据截至 (\d{4}-\d\d-\d\d \d\d:\d\d)", screen).group(1), "%Y-%m-%d %H:%M")
    refreshed = re.search(r'class="zl-clock zl-live-clock">(\d\d:\d\d:\d\d)<', screen).group(1)
    refreshed = datetime.combine(now.date(), datetime.strptime(refreshed, "%H:%M:%S").time())
    assert abs((as_of - now).total_seconds()) < 180, (tz, screen, now)
    assert abs((refreshed - as_of).total_seconds()) < 180, (tz, screen)
    assert [f"数据截至 **{as_of:%Y-%m-%d %H:%M}**"] == got["sidebar"]


def _shown(at) -> dict[str, str]:
    return {m.label.split(" :")[0]: m.value for m in at.metric}


def test_an_import_shows_on_the_next_run_not_after_the_cache_ttl(store, monkeypatch):
    url, csv = store
    monkeypatch.setenv("ZHILI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params["period"] = "本月"
    at.run()
    assert not at.exception, at.exception
    before = int(_shown(at)["受理量"].replace(",", ""))
    # the same 数据截至 (so the same period and as_of): only the store's version changes
    _cli("import", "cases", str(csv), "--db", url, "--exported-at", "2019-12-31T23:59:59")
    at.run()
    assert not at.exception, at.exception
    assert int(_shown(at)["受理量"].replace(",", "")) == before + 2
    at.switch_page("pages/cases.py").run()
    assert not at.exception, at.exception
    assert int(_shown(at)["受理量"].replace(",", "")) == before + 2

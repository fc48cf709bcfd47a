"""One clock: stored and shown times are Asia/Shanghai wall time whatever the server's zone.

The end-to-end test runs a demo generation and imports in fresh processes with ``TZ=UTC``
and ``TZ=Asia/Shanghai``: 数据截至 must not move when a file is imported after the demo
(it jumped 8 hours ahead on a UTC server when the demo used the machine's local time and
the importer Asia/Shanghai), and an export time is stored exactly as given.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from data.ingest import importer as I
from data.store import clock
from data.store.db import get_engine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHANGHAI = ZoneInfo("Asia/Shanghai")

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from datetime import datetime, timedelta
from sqlalchemy import select
from data import demo
from data.store import clock
from data.store.db import data_as_of, get_engine
from data.store.schema import import_log
from data.ingest.importer import import_file

demo.START = clock.today() - timedelta(days=2)   # a short demo: the cutoff is what counts
engine = get_engine(sys.argv[2])
demo.generate(engine, seed=7)
after_demo = data_as_of(engine)
yesterday = (clock.now() - timedelta(days=1)).strftime("%Y-%m-%d 10:00:00")
csv = f"工单编号,受理时间,社区\nTZ1,{yesterday},和平社区\n".encode()
first = import_file(engine, "cases", csv, "a.csv")
after_import = data_as_of(engine)
second = import_file(engine, "cases", csv, "b.csv", exported_at="2024-03-10T18:00:00")
third = import_file(engine, "cases", csv, "c.csv", exported_at="2024-03-10T10:00:00Z")
with engine.connect() as conn:
    log = [dict(r) for r in conn.execute(select(import_log).order_by(import_log.c.id)).mappings()]
print(json.dumps({
    "after_demo": after_demo.isoformat(), "after_import": after_import.isoformat(),
    "errors": [first.error, second.error, third.error],
    "demo_stamps": sorted({(str(r["imported_at"]), str(r["exported_at"])) for r in log
                           if r["source"] == "demo"}),
    "imports": [(str(r["imported_at"]), str(r["exported_at"])) for r in log if r["source"] == "import"],
}))
"""


def _run(tz: str, tmp_path) -> dict:
    url = f"sqlite:///{tmp_path / ('store_' + tz.replace('/', '_') + '.db')}"
    env = {**os.environ, "TZ": tz}
    out = subprocess.run([sys.executable, "-c", CHILD, ROOT, url], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("tz", ["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def test_as_of_is_shanghai_wall_time_in_any_server_zone(tz, tmp_path):
    got = _run(tz, tmp_path)
    now = datetime.now(SHANGHAI).replace(tzinfo=None)
    after_demo = datetime.fromisoformat(got["after_demo"])
    after_import = datetime.fromisoformat(got["after_import"])
    assert got["errors"] == [None, None, None]
    # the demo's cutoff and the import's stamp: Asia/Shanghai now, and no jump between them
    assert abs((after_demo - now).total_seconds()) < 60, (tz, after_demo, now)
    assert abs((after_import - now).total_seconds()) < 60, (tz, after_import, now)
    assert abs((after_import - after_demo).total_seconds()) < 60, (tz, after_demo, after_import)
    assert after_demo.microsecond == 0 and after_import.microsecond == 0
    ((imported, exported),) = got["demo_stamps"]
    assert imported == exported == str(after_demo)
    # export times: a naive one exactly as given, one in UTC as Asia/Shanghai wall time
    assert [e for _, e in got["imports"]] == ["None", "2024-03-10 18:00:00", "2024-03-10 18:00:00"]
    for imported, _ in got["imports"]:
        assert abs((datetime.fromisoformat(imported) - now).total_seconds()) < 60


def test_clock_is_shanghai_naive_whole_seconds():
    now = clock.now()
    assert now.tzinfo is None and now.microsecond == 0
    real = datetime.now(SHANGHAI).replace(tzinfo=None)
    assert abs((real - now).total_seconds()) < 5
    assert clock.today() in (real.date(), (real - timedelta(seconds=5)).date())
    aware = datetime(2024, 3, 10, 10, 0, 0, 700000, tzinfo=timezone.utc)
    assert clock.to_local(aware) == datetime(2024, 3, 10, 18, 0)
    assert clock.to_local(datetime(2024, 3, 10, 18, 0, 0, 5)) == datetime(2024, 3, 10, 18, 0)


def test_export_time_in_the_future_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(I.SECRET_ENV, "x")
    engine = get_engine(f"sqlite:///{tmp_path / 'f.db'}")
    data = "社区名称,类型\n城东社区,社区\n".encode()
    ahead = clock.now() + timedelta(hours=8)
    r = I.import_file(engine, "communities", data, "c.csv", exported_at=ahead)
    assert r.error.startswith(f"导出时间 {ahead:%Y-%m-%d %H:%M:%S} 晚于当前时间 ")
    assert r.error.endswith("（北京时间）：请核对导出时间（它决定“数据截至”）")
    assert not r.committed
    # a few minutes of clock skew between the source system and this server are fine
    r = I.import_file(engine, "communities", data, "c.csv", exported_at=clock.now() + timedelta(minutes=2))
    assert r.error is None and r.committed
    r = I.import_file(engine, "communities", data, "c.csv", exported_at=date(2024, 3, 10))
    assert r.error is None and r.committed

"""Property: whatever ``kpi`` is given (random and hostile dates, communities, breakdowns,
domains, database URLs, formats), the CLI answers with a documented exit code, at most one
line on stderr and never a traceback; a success in JSON is valid JSON with the asked shape.

Runs ``cli.main(argv)`` in this process against a tiny SQLite store built once; database
URLs are drawn from a fixed list (the store, a missing file and folder, a file that is not a
database, closed local ports, malformed URLs) so no example touches the network or the
project's own store, and the missing paths are checked to stay missing.
"""
from __future__ import annotations

import json
import string
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import cli
from data.demo import generate
from data.store.db import get_engine
from metrics.domains import DOMAINS
from metrics.report import BREAKDOWNS

COMMUNITIES = ("和平社区", "南华社区", "东方红社区")   # in the seed-3 demo
DOCUMENTED = {0, 1, 2, 3, 4, 130, 141}               # cli.py's docstring, README
JUNK = st.text(max_size=12)                          # any Unicode, control characters too


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("props")
    url = f"sqlite:///{folder / 'tiny.db'}"
    generate(get_engine(url), seed=3, scale=0.05, until=date(2019, 12, 31))
    not_a_db = folder / "notes.txt"
    not_a_db.write_text("这不是数据库\n" * 100, encoding="utf-8")
    missing = {"file": folder / "missing.db", "folder": folder / "nowhere" / "x.db"}
    bad_urls = [
        f"sqlite:///{missing['file']}", f"sqlite:///{missing['folder']}",
        f"sqlite:///{not_a_db}", "postgresql://u@127.0.0.1:1/x", "mysql://u@127.0.0.1:1/x",
        "notaurl", "foo://x/y", "postgresql://u@h:notaport/x", "sqlite:///:memory:",
    ]
    return {"url": url, "bad_urls": bad_urls, "missing": missing}


def _iso(value) -> str:
    return value.isoformat()


# Sane values: with only these, kpi must succeed (exit 0).
SANE_START = st.dates(min_value=date(2017, 1, 1), max_value=date(2020, 12, 31))
SANE_DAYS = st.integers(min_value=0, max_value=800)
OFFSETS = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                            max_value=timedelta(hours=23, minutes=59)))
SANE = {
    "as_of": st.one_of(st.none(), st.datetimes(
        min_value=datetime(2017, 1, 1), max_value=datetime(2020, 12, 31),
        timezones=st.one_of(st.none(), OFFSETS)).map(lambda d: d.isoformat(timespec="seconds"))),
    "community": st.one_of(st.none(), st.lists(st.sampled_from(COMMUNITIES), min_size=1,
                                               max_size=3)),
    "by": st.one_of(st.none(), st.sampled_from(BREAKDOWNS)),
    "only": st.one_of(st.none(), st.lists(st.sampled_from(tuple(DOMAINS)), min_size=1,
                                          max_size=4).map(lambda names: " , ".join(names))),
    "format": st.sampled_from([None, "json", "table"]),
}

# Hostile values: random text, extremes, near misses.
ODD_DATES = st.sampled_from(["", "0000-00-00", "2019-02-29", "2019-1-1", "1899-12-31",
                             "2101-01-01", "0001-01-01", "9999-12-31", "9999-12-01", "今天",
                             "2019-01-01T00:00:00", "-1", "2019-13-01", "٢٠١٩-٠١-٠١"])
HOSTILE_DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(_iso), ODD_DATES, JUNK)
DOMAIN_NAMES = st.one_of(st.sampled_from(tuple(DOMAINS)),
                         st.sampled_from(["", " ", "CASES", "case", "all"]), JUNK)
HOSTILE = {
    "start": HOSTILE_DATES,
    "end": HOSTILE_DATES,
    "as_of": st.one_of(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                                    timezones=st.one_of(st.none(), OFFSETS)).map(_iso),
                       ODD_DATES, JUNK),
    "community": st.lists(st.one_of(st.sampled_from(COMMUNITIES), JUNK), min_size=1,
                          max_size=2).filter(lambda names: not set(names) <= set(COMMUNITIES)),
    "by": st.one_of(st.sampled_from(["", "street", "COMMUNITY", "month,grid"]), JUNK),
    "only": st.one_of(st.lists(DOMAIN_NAMES, min_size=1, max_size=4).map(",".join), JUNK),
    "format": st.one_of(st.sampled_from(["", "csv", "JSON"]), JUNK),
    "missing": st.sampled_from(["start", "end"]),
}
DB_TEXT = st.text(alphabet=string.printable + "数据库", min_size=1, max_size=20).filter(
    lambda s: ":" not in s)   # never a URL: nothing reaches the network or the default store
FIELDS = ("start", "end", "as_of", "community", "by", "only", "format", "db", "missing")


def _argv(url, start, end, as_of, community, by, only, fmt, missing) -> list[str]:
    argv = ["kpi", f"--db={url}"]
    if missing != "start":
        argv.append(f"--start={start}")
    if missing != "end":
        argv.append(f"--end={end}")
    if as_of is not None:
        argv.append(f"--as-of={as_of}")
    if community is not None:
        if all(c in COMMUNITIES for c in community):
            argv += ["--community", *community]
        else:
            argv.append(f"--community={community[0]}")   # '=': a value, whatever it starts with
    if by is not None:
        argv.append(f"--by={by}")
    if only is not None:
        argv.append(f"--only={only}")
    if fmt is not None:
        argv.append(f"--format={fmt}")
    return argv


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), hostile=st.sets(st.sampled_from(FIELDS), max_size=2))
def test_kpi_never_crashes(capsys, store, data, hostile):
    """Each example makes up to two arguments hostile and keeps the rest sane, so hostile
    values reach the computation, not only the parser."""
    def draw(name):
        return data.draw(HOSTILE[name] if name in hostile else SANE[name], label=name)

    if "start" in hostile:
        start = data.draw(HOSTILE["start"], label="start")
    else:
        start = data.draw(SANE_START, label="start")
    if "end" in hostile:
        end = data.draw(HOSTILE["end"], label="end")
    else:
        end = start + timedelta(days=data.draw(SANE_DAYS, label="days")) \
            if isinstance(start, date) else data.draw(SANE_START, label="end")
    start, end = (v.isoformat() if isinstance(v, date) else v for v in (start, end))
    url = data.draw(st.one_of(st.sampled_from(store["bad_urls"]), DB_TEXT), label="db") \
        if "db" in hostile else store["url"]
    missing = data.draw(HOSTILE["missing"], label="missing") if "missing" in hostile else None
    as_of, community, by, only, fmt = (draw(n) for n in ("as_of", "community", "by", "only",
                                                         "format"))
    argv = _argv(url, start, end, as_of, community, by, only, fmt, missing)
    code = cli.main(argv)
    out, err = capsys.readouterr()

    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    assert code in DOCUMENTED, (argv, code, err)
    assert code not in (4, 130, 141), (argv, err)        # no bug, nothing interrupted
    assert len(err.strip().splitlines()) <= 1, (argv, err)
    if not hostile:
        assert code == 0, (argv, err)                      # sane arguments succeed
    if code == 0:
        assert err == "", (argv, err)
        if fmt in (None, "json"):
            report = json.loads(out)
            assert set(report) >= {"period", "as_of", "scope", "kpis"}
            assert report["period"] == {"start": date.fromisoformat(start).isoformat(),
                                        "end": date.fromisoformat(end).isoformat()}
            wanted = [n.strip() for n in only.split(",") if n.strip()] if only else DOMAINS
            assert {k.split(".", 1)[0] for k in report["kpis"]} == set(wanted), argv
            assert ("groups" in report) == (by is not None)
            given_ = community if set(community or ()) <= set(COMMUNITIES) else community[:1]
            assert report["scope"] == sorted(set(given_ or ()))
        else:
            assert out.startswith("统计期") and "{'" not in out
    else:
        assert err.strip(), (argv, code)
    assert not store["missing"]["file"].exists()        # kpi never creates a store
    assert not store["missing"]["folder"].parent.exists()


def test_documented_codes_are_the_cli_codes():
    assert cli.EXIT_CODES == DOCUMENTED

"""Settings: one table of defaults and types (metrics/settings.py), checked at load.

Each bad file below differs from a good one in one place; the error must be one line naming
the file, the dotted key and the reason.
"""
from __future__ import annotations

import re
import tomllib

import pytest

from cli import main as cli_main
from metrics.settings import (DEFAULTS, ENV_VAR, SCHEMA, SETTINGS_FILE, Settings,
                              SettingsError, load_settings, schema_keys)


def _write(tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def _dotted(tree: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in tree.items():
        out |= _dotted(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
    return out


# --- the shipped file -------------------------------------------------------------------

def test_shipped_file_loads_and_equals_the_defaults():
    settings = load_settings(SETTINGS_FILE)
    assert isinstance(settings, Settings)
    assert settings == DEFAULTS


def test_shipped_file_lists_every_key_with_a_comment():
    with SETTINGS_FILE.open("rb") as fh:
        assert _dotted(tomllib.load(fh)) == set(schema_keys())
    for line in SETTINGS_FILE.read_text(encoding="utf-8").splitlines():
        if re.match(r'^\s*("[^"]+"|\w+)\s*=', line):
            assert "#" in line, f"settings.toml key without a comment: {line!r}"


def test_keys_future_domains_need_are_there():
    s = load_settings()
    assert s.get_path("petitions.default_deadline_days") == 60
    assert s.get_path("petitions.collective_persons") == 5
    assert s.get_path("worklogs.duplicate_similarity") == 0.9
    assert s.get_path("bigscreen.stale_hours") == 24
    assert (s.get_path("attendance.work_start"), s.get_path("attendance.work_end")) == (
        "08:30", "17:30")
    assert list(s.get_path("appraisal.tiers")) == ["优秀", "良好", "合格"]


# --- merging over the defaults ----------------------------------------------------------

def test_missing_keys_take_their_defaults(tmp_path):
    s = load_settings(_write(tmp_path, "[cases]\nresponse_hours = 48\n"))
    assert s.get_path("cases.response_hours") == 48
    assert s.get_path("cases.min_sample") == 10           # from DEFAULTS
    assert s.get_path("bigscreen.rotate_seconds") == 30   # a whole missing section
    assert load_settings(_write(tmp_path, "")) == DEFAULTS


def test_a_default_argument_is_harmless():
    s = load_settings()
    assert s.get_path("cases.response_hours", 999) == 24  # known key: the file wins
    assert s.get_path("cases.no_such_key", 7) == 7         # unknown: the caller's default


def test_schema_and_defaults_mirror_each_other():
    assert _dotted(DEFAULTS) == set(schema_keys()) == _dotted(SCHEMA)


# --- bad files --------------------------------------------------------------------------

def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    message = _error(tmp_path, "[cases]\nrespons_hours = 24\n")
    assert "cases.respons_hours" in message and "未知" in message
    assert "cases.response_hours" in message  # did you mean


def test_unknown_section(tmp_path):
    message = _error(tmp_path, "[incident]\nz_rise = 1.0\n")
    assert "incident" in message and "未知" in message


def test_wrong_type(tmp_path):
    message = _error(tmp_path, '[app]\nquery_workers = "2"\n')
    assert "app.query_workers" in message and "类型错误" in message
    message = _error(tmp_path, "[cases]\nmin_sample = true\n")
    assert "cases.min_sample" in message and "类型错误" in message
    message = _error(tmp_path, "[cases]\nweights = 0.5\n")
    assert "cases.weights" in message and "表" in message


def test_out_of_range(tmp_path):
    message = _error(tmp_path, "[cases]\nresponse_hours = 0\n")
    assert "cases.response_hours" in message and "超出范围" in message
    message = _error(tmp_path, "[cases.targets]\nclosure_rate = 93\n")  # percent, not fraction
    assert "cases.targets.closure_rate" in message and "≤ 1" in message
    message = _error(tmp_path, "[cases.weights]\nresponse = -0.1\nresolution = 0.7\n"
                               "satisfaction = 0.4\n")
    assert "cases.weights.response" in message and "≥ 0" in message


def test_weights_must_sum_to_one(tmp_path):
    message = _error(tmp_path, "[cases.weights]\nresponse = 0.2\nresolution = 0.5\n"
                               "satisfaction = 0.4\n")
    assert "cases.weights" in message and "之和应为 1" in message
    # within 1e-9 is fine (0.1 + 0.2 + 0.7 is not exactly 1.0 in binary)
    ok = load_settings(_write(tmp_path, "[cases.weights]\nresponse = 0.1\nresolution = 0.2\n"
                                        "satisfaction = 0.7\n"))
    assert ok.get_path("cases.weights.satisfaction") == 0.7


def test_appraisal_weights_sum_to_100_and_tiers_descend(tmp_path):
    message = _error(tmp_path, "[appraisal.weights]\nattendance_rate = 40\n")
    assert "appraisal.weights" in message and "100" in message
    message = _error(tmp_path, '[appraisal.tiers]\n"良好" = 95\n')
    assert "appraisal.tiers" in message and "递减" in message


def test_bad_time(tmp_path):
    message = _error(tmp_path, '[attendance]\nwork_start = "8:30"\n')
    assert "attendance.work_start" in message and "HH:MM" in message
    message = _error(tmp_path, '[attendance]\nwork_end = "24:00"\n')
    assert "attendance.work_end" in message
    message = _error(tmp_path, '[attendance]\nwork_start = "18:00"\n')  # after 17:30
    assert "attendance.work_end" in message and "晚于" in message


def test_syntax_error_names_the_line(tmp_path):
    message = _error(tmp_path, "[cases]\nmin_sample = 10\nresponse_hours = = 24\n")
    assert "第 3 行" in message and "语法" in message


def test_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="不存在"):
        load_settings(tmp_path / "nope.toml")


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


# --- ZHILI_SETTINGS ---------------------------------------------------------------------

def test_env_var_names_the_file(tmp_path, monkeypatch):
    path = _write(tmp_path, "[cases]\nmin_sample = 3\n")
    monkeypatch.setenv(ENV_VAR, str(path))
    assert load_settings().get_path("cases.min_sample") == 3
    assert load_settings(SETTINGS_FILE).get_path("cases.min_sample") == 10  # explicit wins


def test_env_var_bad_file_says_where_it_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert ENV_VAR in str(info.value) and "missing.toml" in str(info.value)


# --- overrides --------------------------------------------------------------------------

def test_overrides_are_checked():
    base = load_settings()
    changed = base.with_overrides({"cases.min_sample": 3})
    assert changed.get_path("cases.min_sample") == 3 and base.get_path("cases.min_sample") == 10
    with pytest.raises(SettingsError, match="cases.respons_hours"):
        base.with_overrides({"cases.respons_hours": 12})
    with pytest.raises(SettingsError, match="之和"):
        base.with_overrides({"cases.weights.response": 0.5})
    three = base.with_overrides({"cases.weights.response": 0.5, "cases.weights.resolution": 0.25,
                                 "cases.weights.satisfaction": 0.25})
    assert three.get_path("cases.weights") == {"response": 0.5, "resolution": 0.25,
                                               "satisfaction": 0.25}


# --- the CLI ----------------------------------------------------------------------------

def test_cli_bad_settings_one_line_exit_2(tmp_path, monkeypatch, capsys, demo_url):
    monkeypatch.setenv(ENV_VAR, str(_write(tmp_path, "[cases]\nrespons_hours = 24\n")))
    code = cli_main(["kpi", "--db", demo_url, "--start", "2019-01-01", "--end", "2019-01-31"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "cases.respons_hours" in err and "Traceback" not in err


@pytest.mark.parametrize("playlist, message", [
    ([], "不能为空"),
    (["overview", "nope"], "未知的取值 'nope'"),
    (["overview", "overview"], "有重复的取值"),
    ("overview", "类型错误"),
])
def test_bigscreen_playlist_is_checked(playlist, message):
    with pytest.raises(SettingsError, match=message):
        load_settings().with_overrides({"bigscreen.playlist": playlist})

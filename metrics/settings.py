"""The one settings file (settings.toml): every SLA, weight, target, threshold and work hour.

``SCHEMA`` below is the single table of every setting: its default (the value KPI.md
names), its type and its allowed range. ``DEFAULTS`` is the same tree holding the default
values only. ``load_settings()`` reads the file, rejects what the schema does not allow and
merges the file over the defaults, so ``settings.get_path("cases.response_hours")`` always
finds a value for a known key (a second ``default`` argument is accepted and ignored then).

A bad file never reaches a KPI: an unknown key (a typo like ``cases.respons_hours``), a
wrong type, a value out of range, weights that do not add up or a TOML syntax error raise
``SettingsError`` with one Chinese line naming the file, the dotted key and the reason.
"""
from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from data.ingest import synonyms as _synonyms
from metrics.period import PRESETS
from metrics.slides import DEFAULT_PLAYLIST, SLIDES

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "settings.toml"
ENV_VAR = "ZHILI_SETTINGS"
WEIGHT_SUM_TOLERANCE = 1e-9


class SettingsError(ValueError):
    """A settings file or override the schema does not allow (message: one Chinese line)."""


@dataclass(frozen=True)
class Key:
    """One setting: default value, type and allowed range.

    ``kind`` is one of: ``int``, ``float`` (an integer is accepted too), ``bool``, ``str``,
    ``hhmm`` (a "HH:MM" text), ``list`` (an array of texts, each one of ``choices``, at
    least one, none twice). ``low``/``high`` bound numbers (inclusive unless
    ``low_open``); ``choices`` closes a text to a list.
    """

    default: Any
    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | None = None

    def range_text(self) -> str:
        lo = "" if self.low is None else f"{'>' if self.low_open else '≥'} {_num(self.low)}"
        hi = "" if self.high is None else f"≤ {_num(self.high)}"
        return "、".join(x for x in (lo, hi) if x)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class Open(dict):
    """A table whose keys an office chooses (the import synonyms): the keys listed are the
    defaults, any other key is allowed too and checked against ``item``."""

    def __init__(self, item: Key, entries: dict[str, Key]):
        super().__init__(entries)
        self.item = item


def _synonym_tables() -> dict[str, Open]:
    """[import.synonyms.<column>]: value as offices write it = value as stored (the defaults
    and the allowed values come from data/ingest/synonyms.py)."""
    out = {}
    for section, targets in _synonyms.TARGETS.items():
        item = Key("", "str", choices=targets)
        out[section] = Open(item, {word: Key(value, "str", choices=targets)
                                   for word, value in _synonyms.DEFAULTS[section].items()})
    return out


def _rate(default: float) -> Key:
    return Key(default, "float", 0, 1)


def _points(default: float) -> Key:
    return Key(default, "float", 0, 100)


# Every setting. settings.toml lists the same keys (a test checks the two agree).
SCHEMA: dict[str, Any] = {
    "cases": {
        "response_hours": Key(24, "float", 0, 720, low_open=True),
        "min_sample": Key(10, "int", 1, 1_000_000),
        "weights": {  # three must sum to 1
            "response": _rate(0.10),
            "resolution": _rate(0.50),
            "satisfaction": _rate(0.40),
        },
        "targets": {
            "closure_rate": _rate(0.93),
            "on_time_rate": _rate(0.90),
            "response_rate": _rate(0.95),
            "resolution_rate": _rate(0.85),
            "satisfaction_rate": _rate(0.90),
            "three_rate_score": _points(85.0),
            "overdue_open": Key(100, "int", 0, 1_000_000),
        },
        "lost_points": {
            "overdue_listed": Key(True, "bool"),
        },
    },
    "petitions": {
        "default_deadline_days": Key(60, "int", 1, 366),
        "collective_persons": Key(5, "int", 2, 10_000),
    },
    "incidents": {
        "z_sharp_rise": Key(3.0, "float", 0, 50, low_open=True),
        "z_rise": Key(1.0, "float", 0, 50, low_open=True),
    },
    "benefits": {
        "targets": {
            "medical_insurance": {"enrolment_rate": _rate(0.95)},  # 医疗保险参保率
        },
    },
    "attendance": {
        "work_start": Key("08:30", "hhmm"),
        "work_end": Key("17:30", "hhmm"),
        "grace_minutes": Key(0, "int", 0, 240),
        "min_sample": Key(10, "int", 1, 1_000_000),
        "max_distance_km": Key(1.0, "float", 0, 1000, low_open=True),
    },
    "worklogs": {
        "min_chars": Key(15, "int", 0, 10_000),
        "late_days": Key(1, "int", 0, 366),
        "duplicate_similarity": Key(0.9, "float", 0, 1, low_open=True),
        "batch_min_logs": Key(5, "int", 2, 1_000),
        "min_sample": Key(10, "int", 1, 1_000_000),
    },
    "appraisal": {
        "weights": {  # four must sum to 100
            "attendance_rate": _points(30),
            "log_rate": _points(30),
            "case_handling": _points(30),
            "case_satisfaction_rate": _points(10),
        },
        "deductions": {
            "per_overdue_case": _points(1.0),
            "max_total": _points(20.0),
        },
        "tiers": {  # lower bounds, strictly descending; below 合格 is 待改进
            "优秀": _points(90),
            "良好": _points(80),
            "合格": _points(60),
        },
    },
    "app": {
        "cache_ttl_seconds": Key(600, "int", 1, 86_400),
        "query_workers": Key(2, "int", 1, 64),
        "default_period": Key("近12个月", "str", choices=tuple(p for p in PRESETS if p != "自定义")),
    },
    "bigscreen": {
        "rotate_seconds": Key(30, "int", 5, 3_600),
        "refresh_seconds": Key(300, "int", 10, 86_400),
        "stale_hours": Key(24, "float", 0, 720, low_open=True),
        "playlist": Key(list(DEFAULT_PLAYLIST), "list", choices=tuple(SLIDES)),
        "dwell": {slide: Key(0, "int", 0, 3_600) for slide in SLIDES},
        "alert_seconds": Key(20, "int", 5, 3_600),
        "reload_hours": Key(6.0, "float", 0, 168),
    },
    "auth": {
        "max_failures": Key(5, "int", 1, 100),
        "lockout_minutes": Key(15.0, "float", 0, 10_080, low_open=True),
        "session_hours": Key(8.0, "float", 0, 720, low_open=True),
    },
    "import": {
        "synonyms": _synonym_tables(),
    },
}


def _defaults(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: _defaults(v) if isinstance(v, dict) else v.default for k, v in schema.items()}


DEFAULTS: dict[str, Any] = _defaults(SCHEMA)


def schema_keys(schema: dict[str, Any] = SCHEMA, prefix: str = "") -> list[str]:
    """Every dotted key of the schema, in order."""
    out: list[str] = []
    for k, v in schema.items():
        out += schema_keys(v, f"{prefix}{k}.") if isinstance(v, dict) else [prefix + k]
    return out


# ---------------------------------------------------------------------------------------
# Checks


class _Invalid(Exception):
    """(dotted key, reason), turned into a SettingsError naming the source."""

    def __init__(self, key: str, reason: str):
        super().__init__(key, reason)
        self.key, self.reason = key, reason


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_TYPE_NAMES = {"int": "整数", "float": "数值", "bool": "布尔值 true/false",
               "str": "文本", "hhmm": '"HH:MM" 格式的时间文本', "list": "文本数组"}


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, (int, float)):
        return "数值"
    if isinstance(value, str):
        return "文本"
    if isinstance(value, dict):
        return "表"
    if isinstance(value, list):
        return "数组"
    return type(value).__name__


def _check_value(dotted: str, key: Key, value: Any) -> None:
    kind = key.kind
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "hhmm": isinstance(value, str),
        "list": isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok:
        raise _Invalid(dotted, f"类型错误, 应为{_TYPE_NAMES[kind]}, 实为{_toml_type(value)} {value!r}")
    if kind == "list":
        unknown = [v for v in value if v not in key.choices]
        if not value or unknown or len(set(value)) < len(value):
            why = (f"未知的取值 {unknown[0]!r}" if unknown else "不能为空" if not value
                   else "有重复的取值")
            raise _Invalid(dotted, f"{why}, 应为 {' / '.join(key.choices)} 中的若干个")
        return
    if kind == "hhmm":
        if not _HHMM.match(value):
            raise _Invalid(dotted, f'时间格式错误, 应为 "HH:MM"(00:00–23:59), 实为 {value!r}')
        return
    if kind in ("int", "float"):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Invalid(dotted, f"取值错误, 应为有限数值, 实为 {value!r}")
        below = key.low is not None and (value <= key.low if key.low_open else value < key.low)
        above = key.high is not None and value > key.high
        if below or above:
            raise _Invalid(dotted, f"超出范围, 应 {key.range_text()}, 实为 {value!r}")
    if key.choices is not None and value not in key.choices:
        raise _Invalid(dotted, f"取值错误, 应为 {' / '.join(key.choices)} 之一, 实为 {value!r}")


def _check_tree(data: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> None:
    """Unknown keys, types and ranges of a (partial) settings tree."""
    for name, value in data.items():
        dotted = prefix + name
        if name not in schema and isinstance(schema, Open):  # an office's own key
            _check_value(dotted, schema.item, value)
            continue
        if name not in schema:
            hint = difflib.get_close_matches(name, list(schema), n=1, cutoff=0.6)
            known = "、".join(schema)
            where = prefix.rstrip(".") or "顶层"
            raise _Invalid(dotted, "是未知的设置项" + (f", 是否应为 {prefix}{hint[0]}?" if hint
                                                   else f" ({where} 可用: {known})"))
        spec = schema[name]
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise _Invalid(dotted, f"类型错误, 应为表 [{dotted}], 实为{_toml_type(value)} {value!r}")
            _check_tree(value, spec, dotted + ".")
        else:
            _check_value(dotted, spec, value)


def _weights_sum(section: str, total: float) -> Callable[[dict], None]:
    def check(s: dict) -> None:
        weights = s[section.split(".")[0]][section.split(".")[1]]
        got = sum(weights.values())
        if abs(got - total) > WEIGHT_SUM_TOLERANCE * max(1.0, total):
            parts = " + ".join(f"{k} {_num(v)}" for k, v in weights.items())
            raise _Invalid(section, f"权重之和应为 {_num(total)}, 实为 {parts} = {got:.10g}")
    return check


def _tiers_descending(s: dict) -> None:
    tiers = s["appraisal"]["tiers"]
    names = list(SCHEMA["appraisal"]["tiers"])
    for upper, lower in zip(names, names[1:]):
        if not tiers[upper] > tiers[lower]:
            raise _Invalid("appraisal.tiers", f"等级下限应从高到低递减, 实为 {upper} {_num(tiers[upper])}"
                                              f" ≤ {lower} {_num(tiers[lower])}")


def _work_hours(s: dict) -> None:
    a = s["attendance"]
    if not a["work_start"] < a["work_end"]:
        raise _Invalid("attendance.work_end", f"下班时间应晚于上班时间, 实为 {a['work_start']}"
                                              f"–{a['work_end']}")


def _z_order(s: dict) -> None:
    i = s["incidents"]
    if not i["z_sharp_rise"] > i["z_rise"]:
        raise _Invalid("incidents.z_sharp_rise", f"应大于 incidents.z_rise, 实为 "
                                                 f"{_num(i['z_sharp_rise'])} ≤ {_num(i['z_rise'])}")


def _deduction_cap(s: dict) -> None:
    d = s["appraisal"]["deductions"]
    if d["per_overdue_case"] > d["max_total"]:
        raise _Invalid("appraisal.deductions.per_overdue_case",
                       f"不应大于 max_total, 实为 {_num(d['per_overdue_case'])} > "
                       f"{_num(d['max_total'])}")


# Rules across keys, checked on the merged settings.
CROSS_CHECKS: tuple[Callable[[dict], None], ...] = (
    _weights_sum("cases.weights", 1.0),
    _weights_sum("appraisal.weights", 100.0),
    _tiers_descending,
    _work_hours,
    _z_order,
    _deduction_cap,
)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = _deep_copy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _deep_copy(d: dict) -> dict:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def validate(data: dict[str, Any], source: str) -> "Settings":
    """Check a settings tree against SCHEMA and merge it over DEFAULTS.

    ``source`` names where the values came from in the error message (设置文件 PATH,
    设置覆盖项).
    """
    try:
        _check_tree(data, SCHEMA)
        merged = _merge(DEFAULTS, data)
        for check in CROSS_CHECKS:
            check(merged)
    except _Invalid as bad:
        raise SettingsError(f"{source}: {bad.key} {bad.reason}") from None
    return Settings(merged)


# ---------------------------------------------------------------------------------------


class Settings(dict):
    """Nested settings with dotted access: ``settings.get_path("cases.weights.response")``.

    Settings from ``load_settings()`` hold every key of SCHEMA, so a known key needs no
    default; ``default`` is returned only for a key that is not there.
    """

    def get_path(self, dotted: str, default: Any = None) -> Any:
        node: Any = self
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def with_overrides(self, overrides: dict[str, Any]) -> "Settings":
        """A checked copy with dotted keys replaced, e.g. ``{"cases.weights.response": 0.2}``.

        Raises SettingsError like a bad file would (the weights are checked after all
        overrides are applied, so change the three together).
        """
        tree: dict[str, Any] = {}
        for dotted, value in overrides.items():
            *parents, leaf = dotted.split(".")
            node = tree
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise SettingsError(f"设置覆盖项: {dotted} 与其他覆盖项冲突")
            node[leaf] = value
        return validate(_merge(self, tree), "设置覆盖项")


def _syntax_line(exc: tomllib.TOMLDecodeError) -> str:
    found = re.search(r"line (\d+)", str(exc))
    return f"第 {found.group(1)} 行" if found else "某处"


def settings_path(path: str | Path | None = None) -> Path:
    """PATH, else $ZHILI_SETTINGS, else the project's settings.toml."""
    return Path(path or os.environ.get(ENV_VAR) or SETTINGS_FILE)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from PATH, else $ZHILI_SETTINGS, else the project's settings.toml.

    The file is checked against SCHEMA and merged over DEFAULTS; any problem raises
    SettingsError with one Chinese line naming the file, the key and the reason.
    """
    origin = f" (环境变量 {ENV_VAR})" if not path and os.environ.get(ENV_VAR) else ""
    path = settings_path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"设置文件不存在: {path}{origin}") from None
    except OSError as exc:
        raise SettingsError(f"设置文件无法读取: {path}{origin}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"设置文件 {path} 不是 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"设置文件 {path} {_syntax_line(exc)} TOML 语法错误: "
                            f"{str(exc).splitlines()[0]}") from None
    return validate(data, f"设置文件 {path}{origin}")

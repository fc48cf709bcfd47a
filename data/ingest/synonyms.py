"""Answer values offices use, mapped onto the closed lists and 是/否 (``[import.synonyms]``).

Real exports answer 是否解决 with 已解决 / 未解决 / 部分解决, 满意度 with a five-step scale
(非常满意 … 非常不满意), booleans with √/×, Y/N or 有效/无效. The importer maps such a value
onto the value the store keeps through one table per column, here as defaults and in
``settings.toml`` under ``[import.synonyms.<column>]``, where an office adds its own words
or changes a default (``metrics/settings.py`` checks the file; this module reads only that
section, so ``data/`` needs nothing from ``metrics/``).

Sections: ``bool`` applies to every 是/否 column (是否解决, 是否重复访, 是否有效, …); the others
to the column of that canonical name in any table. A value is compared with its surrounding
and inner white space removed, full-width letters made half-width and letters lower-cased,
so ``Ｙ``, `` y `` and ``Y`` are one value. A value found in no table is still rejected with the
allowed values listed. Order of the look-up for a cell: the mapping file's ``values``, then
the column's table here, then (for 是/否 columns) ``bool``, then the built-in words
(是/否, Y/N, yes/no, true/false, 1/0, 有效/无效, √/×).

Defaults, and why:

- 是否解决: 已解决 / 解决 / 基本解决 → 是; 未解决 / 没解决 / 部分解决 → 否. 解决率 counts a case
  as resolved only when the resident says so: a partial resolution is not a resolution (the
  strict reading of the 三率 appraisal), while 基本解决 is the usual "resolved" answer of
  the 12345 callback script.
- 满意度: 非常满意 → 满意; 比较满意 / 一般 → 基本满意; 不太满意 / 非常不满意 → 不满意 (the
  five-step scale of 12345 callbacks). Looser words (很满意, 还行) are not guessed: they are
  rejected until an office says what they mean. 一般 ("so-so") is the middle step of a five-step scale, which the
  three-step scale of KPI.md calls 基本满意 (it counts as satisfied in 满意率 as 基本满意
  does); an office that reads 一般 as 不满意 changes that one line.
- 办结层级: 社区级 / 村居 / 居委会 → 社区; 街道级 / 街道办 / 镇街 → 街道; 区级 / 县级 / 市级 / 区直部门
  / 上级部门 → 上级.
- 信访形式: 网信 / 网上信访 / 网络 → 网上; 走访 / 来访接待 → 来访; 书信 / 来信件 → 来信; 电话信访 → 电话.
- 类型 (communities): 居委会 / 社区居委会 → 社区; 社区管委会 → 管委会.
- 是/否 (every boolean column): ✓ ✔ 对 有 → 是; ✗ ✘ 错 无 → 否 (on top of the built-in words).
"""
from __future__ import annotations

import os
import tomllib
import unicodedata
from pathlib import Path

# The values each section may map to (the closed lists of data.ingest.columns; a test checks
# they agree). Kept literal so that metrics/settings.py can import this module cheaply.
TARGETS: dict[str, tuple[str, ...]] = {
    "bool": ("是", "否"),
    "callback_resolved": ("是", "否"),
    "satisfaction": ("满意", "基本满意", "不满意"),
    "resolution_level": ("社区", "街道", "上级"),
    "form": ("来信", "来访", "网上", "电话"),
    "kind": ("社区", "管委会"),
}

# Section -> {value as offices write it: value as stored}. settings.toml lists the same.
DEFAULTS: dict[str, dict[str, str]] = {
    "bool": {"✓": "是", "✔": "是", "对": "是", "有": "是",
             "✗": "否", "✘": "否", "错": "否", "无": "否"},
    "callback_resolved": {"已解决": "是", "解决": "是", "基本解决": "是",
                          "未解决": "否", "没解决": "否", "部分解决": "否"},
    "satisfaction": {"非常满意": "满意", "比较满意": "基本满意", "一般": "基本满意",
                     "不太满意": "不满意", "非常不满意": "不满意"},
    "resolution_level": {"社区级": "社区", "村居": "社区", "居委会": "社区",
                         "街道级": "街道", "街道办": "街道", "镇街": "街道",
                         "区级": "上级", "县级": "上级", "市级": "上级", "区直部门": "上级",
                         "上级部门": "上级"},
    "form": {"网信": "网上", "网上信访": "网上", "网络": "网上", "走访": "来访", "来访接待": "来访",
             "书信": "来信", "来信件": "来信", "电话信访": "电话"},
    "kind": {"居委会": "社区", "社区居委会": "社区", "社区管委会": "管委会"},
}

SETTINGS_ENV = "ZHILI_SETTINGS"  # the same file metrics.settings reads
SETTINGS_FILE = Path(__file__).resolve().parent.parent.parent / "settings.toml"


class SynonymsError(ValueError):
    """The settings file's [import.synonyms] is unusable (message: one Chinese line)."""


def norm_value(value: object) -> str:
    """A cell value as compared with the synonyms: NFKC, no white space, lower case."""
    s = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return "".join(s.split()).lower()


def _check(section: str, table: object, source: str) -> dict[str, str]:
    if section not in TARGETS:
        raise SynonymsError(f"{source}: import.synonyms.{section} 是未知的同义词表"
                            f"（可用：{'、'.join(TARGETS)}）")
    if not isinstance(table, dict):
        raise SynonymsError(f"{source}: import.synonyms.{section} 应为表（\"原值\" = \"标准值\"）")
    out = {}
    for key, value in table.items():
        if not isinstance(value, str) or value not in TARGETS[section]:
            raise SynonymsError(f"{source}: import.synonyms.{section}.{key} 取值错误, 应为 "
                                f"{' / '.join(TARGETS[section])} 之一, 实为 {value!r}")
        out[str(key)] = value
    return out


def merged(over: dict | None) -> dict[str, dict[str, str]]:
    """DEFAULTS with an office's tables (``{section: {word: value}}``) merged over them,
    checked; keys normalised for look-up (``norm_value``)."""
    tables = {s: dict(t) for s, t in DEFAULTS.items()}
    for section, table in (over or {}).items():
        tables.setdefault(section, {}).update(_check(section, table, "同义词表"))
    return {s: {norm_value(k): v for k, v in t.items()} for s, t in tables.items()}


def settings_file() -> Path:
    return Path(os.environ.get(SETTINGS_ENV) or SETTINGS_FILE)


def office_synonyms(path: str | Path | None = None) -> dict[str, dict[str, str]]:
    """The synonyms in force: DEFAULTS, with the settings file's ``[import.synonyms]`` over
    them (normalised keys). A missing file means the defaults; an unreadable file or a bad
    entry raises SynonymsError (the app and the CLI also refuse such a file at start)."""
    path = Path(path) if path else settings_file()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return merged(None)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SynonymsError(f"设置文件 {path} 无法读取: {str(exc).splitlines()[0]}") from None
    section = data.get("import", {})
    section = section.get("synonyms", {}) if isinstance(section, dict) else {}
    if not isinstance(section, dict):
        raise SynonymsError(f"设置文件 {path}: import.synonyms 应为表")
    for name, table in section.items():
        _check(name, table, f"设置文件 {path}")
    return merged(section)

"""Load the one settings file (settings.toml) that holds every SLA, weight and threshold."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "settings.toml"
ENV_VAR = "ZHILI_SETTINGS"


class Settings(dict):
    """Nested settings with dotted access: ``settings.get_path("cases.weights.response")``."""

    def get_path(self, dotted: str, default: Any = None) -> Any:
        node: Any = self
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def with_overrides(self, overrides: dict[str, Any]) -> "Settings":
        """A copy with dotted keys replaced, e.g. ``{"cases.weights.response": 0.2}``."""
        copy = Settings(_deep_copy(self))
        for dotted, value in overrides.items():
            *parents, leaf = dotted.split(".")
            node = copy
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return copy


def _deep_copy(d: dict) -> dict:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from PATH, else $ZHILI_SETTINGS, else the project's settings.toml."""
    path = Path(path or os.environ.get(ENV_VAR) or SETTINGS_FILE)
    with path.open("rb") as fh:
        return Settings(tomllib.load(fh))

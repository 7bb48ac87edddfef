"""Typed settings read from environment variables.

Every setting the platform reads from the environment is declared here once, with its type,
default and help text. ``zwfw settings_table`` prints them as the README's configuration table,
and a test keeps the README in step with this list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


class SettingError(ValueError):
    """An environment variable holds a value of the wrong shape."""


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type
    default: Any
    help: str
    shown_default: str | None = None

    def read(self) -> Any:
        raw = os.environ.get(self.name)
        if raw is None or raw == "":
            return self.default
        return _parse(self.name, self.kind, raw)


def _parse(name: str, kind: type, raw: str) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise SettingError(f"{name}: expected a boolean (true/false), got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingError(f"{name}: expected an integer, got {raw!r}") from None
    if kind is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


REGISTRY: dict[str, Setting] = {}


def declare(
    name: str, kind: type, default: Any, help: str, shown_default: str | None = None
) -> Any:
    """Declare a setting and return its current value.

    ``shown_default`` replaces a machine-dependent default (a path) in the README table.
    """
    setting = Setting(name, kind, default, help, shown_default)
    REGISTRY[name] = setting
    return setting.read()


def markdown_table() -> str:
    """The configuration table of the README, generated from the declarations."""
    lines = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for setting in REGISTRY.values():
        default = setting.shown_default or setting.default
        if isinstance(default, list):
            default = ",".join(default)
        shown = f"`{default}`" if default not in (None, "") else "—"
        lines.append(f"| `{setting.name}` | {setting.kind.__name__} | {shown} | {setting.help} |")
    return "\n".join(lines)

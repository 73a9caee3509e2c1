"""Set a few keys in CometBFT's generated ``config.toml`` without losing its comments.

The standard library reads TOML but does not write it, and the generated file documents every
setting, so we replace single ``key = value`` lines in place and then re-read the result with
``tomllib`` to prove that each key now holds exactly the value we meant.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping

TomlScalar = str | int | bool
Key = tuple[str, str]
"""(section, key); the section is ``""`` for top-level keys."""

_SECTION = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"^([A-Za-z0-9_-]+)\s*=")


def set_values(text: str, values: Mapping[Key, TomlScalar]) -> str:
    """Return ``text`` with each (section, key) line set to its new value.

    Raises:
        KeyError: a key is not already in the file (so a misspelt setting cannot pass silently).
        ValueError: the edited file does not read back with the values we set.
    """
    remaining = dict(values)
    section = ""
    lines: list[str] = []
    for original in text.splitlines(keepends=True):
        header = _SECTION.match(original)
        assignment = _ASSIGNMENT.match(original)
        if header:
            section = header.group(1).strip()
        elif assignment and (section, assignment.group(1)) in remaining:
            key = assignment.group(1)
            lines.append(f"{key} = {_render(remaining.pop((section, key)))}\n")
            continue
        lines.append(original)
    if remaining:
        raise KeyError(f"not found in config.toml: {sorted(remaining)}")
    edited = "".join(lines)
    _verify(edited, values)
    return edited


def _render(value: TomlScalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)  # a JSON string literal is a valid TOML basic string


def _verify(text: str, values: Mapping[Key, TomlScalar]) -> None:
    parsed = tomllib.loads(text)
    for (section, key), expected in values.items():
        table = parsed.get(section, {}) if section else parsed
        if table.get(key) != expected:
            raise ValueError(
                f"config.toml [{section}] {key} reads back as {table.get(key)!r}, not {expected!r}"
            )

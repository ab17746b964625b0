"""Prompt templates: Jinja2 files in the ``prompts`` package, rendered with ``StrictUndefined``.

A variable missing from ``render`` is an error, never an empty string. Templates hold all prompt prose;
Python code passes data (JSON-serialisable values are dumped compactly with ``| tojson``).
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

import jinja2


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("prompts"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters["tojson"] = _compact_json
    return env


def render(template: str, /, **variables: Any) -> str:
    """Render ``prompts/<template>.md.j2``; ``jinja2.UndefinedError`` when a variable is missing."""
    return environment().get_template(f"{template}.md.j2").render(**variables).strip()

"""Reading a spec file (.yaml, .toml, .json) into plain data, with one-line ``SpecError`` messages.

A key written twice in one mapping is refused (YAML and JSON would silently keep the second; TOML refuses
it itself): the line of both is named for YAML, so the user sees which of the two was meant to win.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from agent.core.optuna_script import optuna_script_spec
from agent.errors import SpecError


class _DuplicateKey(ValueError):
    """A mapping holds one key twice (the message is the whole fix-it line, less the file name)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *base': its keys may be overridden here
                continue
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader reports it below
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise _DuplicateKey(
                    f"key {key!r} appears twice (lines {first} and {line}), and only one would count; keep one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"key {key!r} appears twice in one object, and only one would count; keep one")
        out[key] = value
    return out


def read_spec_file(path: Path) -> Any:
    """The data in spec file ``path``; ``SpecError`` (one line with the fix) when it cannot be read."""
    if not path.exists():
        raise SpecError(f"spec file {path} does not exist; check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SpecError(f"cannot read spec file {path} ({reason}); give a UTF-8 .yaml, .toml or .json file") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix == ".json":
            return json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as exc:
        raise SpecError(f"{path.name}: {exc}") from None
    # ValueError: TOML/JSON syntax, and YAML scalars that look like impossible dates (2020-13-45)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(f"{path.name}: cannot parse ({first}); fix the syntax") from None
    if path.suffix == ".py":  # an Optuna script runs as it is; otherwise a newcomer's first try: the script itself
        found = optuna_script_spec(path)
        if found is not None:
            return found
        raise SpecError(
            f"{path.name} is a training script, not a spec: write a spec.yaml that runs it (command: [python, "
            f"{path.name}], objective: {{metric: ..., direction: ...}}, space: {{...}}; README, 'Describe a study'), "
            f'or ask in words with an LLM: tunesmith tune "tune the learning rate of {path.name} for val_loss"'
        )
    raise SpecError(f"{path.name}: unknown spec format; use .yaml, .toml or .json")

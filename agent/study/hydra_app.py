"""Hydra apps (``@hydra.main``) run with ``pass_args: name=value``: a check, before trial 1, that each override
names a key of the app's config.

Hydra rejects ``lr=0.01`` when its config has no ``lr`` (``Could not override 'lr'``), in every trial alike. The
primary config is read from the decorator's literal ``config_path`` and ``config_name`` (beside the script);
a config with a ``defaults`` list is composed from groups at run time, so it is not judged (the doctor stops
such a study after three identical failures, with the same hint). ``+KEY`` (add) and ``~KEY`` (delete)
overrides are Hydra's own way to name a key the config lacks, and are never refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from agent.core.spec import StudySpec
from agent.study.script import ScriptScan, read_scan

_DECORATOR = re.compile(r"hydra\.main\s*\(([^)]*)\)|@main\s*\(([^)]*)\)")
_KWARG = re.compile(r"""(config_path|config_name)\s*=\s*(['"])([^'"]*)\2""")


def hydra_app(spec: StudySpec, scan: ScriptScan | None = None) -> bool:
    """Whether ``spec`` passes ``name=value`` overrides to a script that is a Hydra app (``@hydra.main``)."""
    if spec.arg_style != "name=value" or spec.function or not spec.command:
        return False
    scan = read_scan(spec, scan)
    return scan is not None and scan.uses_hydra


def primary_config(scan: ScriptScan) -> Path | None:
    """The YAML file of the app's primary config, when the decorator names both literally and it exists."""
    m = _DECORATOR.search(scan.text)
    if m is None:
        return None
    kwargs = {k: v for k, _, v in _KWARG.findall(m.group(1) or m.group(2) or "")}
    if "config_path" not in kwargs or "config_name" not in kwargs:
        return None
    name = kwargs["config_name"]
    path = scan.path.parent / kwargs["config_path"] / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    return path if path.is_file() else None


def _primary(scan: ScriptScan) -> tuple[Path, dict[str, Any]] | None:
    """The app's primary config file and content, when it can be read whole: a literal config without a
    ``defaults`` list (which composes groups at run time) that parses as a mapping."""
    path = primary_config(scan) if scan.uses_hydra else None
    if path is None:
        return None
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # Hydra will say what is wrong with it
    if not isinstance(config, dict) or "defaults" in config:
        return None
    return path, config


def config_keys(scan: ScriptScan) -> list[str] | None:
    """The leaf keys of a Hydra app's primary config (``optimizer.lr``), or None (``_primary``)."""
    found = _primary(scan)
    return None if found is None else _leaves(found[1])


def _leaves(config: dict[str, Any]) -> list[str]:
    return sorted(k for k in _keys(config) if not isinstance(_get(config, k), dict))


def _keys(node: Any, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return [prefix] if prefix else []
    out = [prefix] if prefix else []
    for key, value in node.items():
        out += _keys(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def _get(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def hydra_keys_problem(spec: StudySpec, scan: ScriptScan | None = None) -> str | None:
    """Why ``pass_args: name=value`` would fail every trial (one line with the fix), or None (module docstring)."""
    if spec.arg_style != "name=value" or spec.function or not spec.command:
        return None
    scan = read_scan(spec, scan)
    found = _primary(scan) if scan is not None else None
    if scan is None or found is None:
        return None
    path, config = found
    keys = set(_keys(config))
    missing = [n for n in [*spec.space.names, *spec.fixed] if not n.startswith(("+", "~")) and n not in keys]
    if not missing:
        return None
    rel = path.relative_to(scan.path.parent) if path.is_relative_to(scan.path.parent) else path
    return (
        f"{rel} has no key {', '.join(missing[:4])} (it has {', '.join(_leaves(config)[:6])}); with pass_args: "
        f"name=value Hydra would reject it in every trial: add it to the config, name the param +{missing[0]} to "
        "add it, or rename the param to one of its keys (nested keys with dots)"
    )

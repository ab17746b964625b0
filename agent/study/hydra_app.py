"""Hydra apps (``@hydra.main``) run with ``pass_args: name=value``: a check, before trial 1, that each override
names a key of the app's config (or one of its config groups), and that each choice of a group param is one of
the group's options.

Hydra rejects ``lr=0.01`` when its config has no ``lr`` (``Could not override 'lr'``), in every trial alike. The
primary config is read from the decorator's literal ``config_path`` and ``config_name`` (beside the script). A
config with a ``defaults`` list is composed from groups: when Hydra can be imported here it is composed with
Hydra's own compose API (no override, nothing resolved, no code of the app run) and judged like a plain one;
otherwise it is not judged (the doctor stops such a study after three identical failures, with the same hint).
``+KEY`` (add) and ``~KEY`` (delete) overrides are Hydra's own way to name a key the config lacks, and are never
refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.core.space import CategoricalParam
from agent.core.spec import StudySpec
from agent.study.script import ScriptScan, read_scan

_DECORATOR = re.compile(r"hydra\.main\s*\(([^)]*)\)|@main\s*\(([^)]*)\)")
_KWARG = re.compile(r"""(config_path|config_name)\s*=\s*(['"])([^'"]*)\2""")


@dataclass(frozen=True)
class AppConfig:
    """What a Hydra app's config holds: its primary file, the config (composed when it has a defaults list)
    and the config groups its defaults list selects (``optimizer``: the key of ``optimizer=sgd``)."""

    path: Path
    config: dict[str, Any]
    root: Path  # the config folder (the decorator's config_path): config groups are its subfolders
    groups: frozenset[str] = frozenset()
    composed: bool = False

    def names(self) -> set[str]:
        """Every name an override may set: keys at every depth (``optimizer``, ``optimizer.lr``) and groups."""
        return set(_keys(self.config)) | set(self.groups)


def hydra_app(spec: StudySpec, scan: ScriptScan | None = None) -> bool:
    """Whether ``spec`` passes ``name=value`` overrides to a script that is a Hydra app (``@hydra.main``)."""
    if spec.arg_style != "name=value" or spec.function or not spec.command:
        return False
    scan = read_scan(spec, scan)
    return scan is not None and scan.uses_hydra


def _decorated(scan: ScriptScan) -> tuple[Path, str] | None:
    """The decorator's config folder and config name (without ``.yaml``), when it names both literally."""
    m = _DECORATOR.search(scan.text)
    if m is None:
        return None
    kwargs = {k: v for k, _, v in _KWARG.findall(m.group(1) or m.group(2) or "")}
    if "config_path" not in kwargs or "config_name" not in kwargs:
        return None
    name = kwargs["config_name"]
    return scan.path.parent / kwargs["config_path"], name.removesuffix(".yaml").removesuffix(".yml")


def primary_config(scan: ScriptScan) -> Path | None:
    """The YAML file of the app's primary config, when the decorator names both literally and it exists."""
    found = _decorated(scan)
    if found is None:
        return None
    folder, name = found
    path = folder / f"{name}.yaml"
    return path if path.is_file() else None


def config_text(scan: ScriptScan) -> tuple[str, str] | None:
    """The primary config file of a Hydra app, as (path relative to the script, text), for the model to read."""
    path = primary_config(scan) if scan.uses_hydra else None
    if path is None:
        return None
    try:
        return _rel(path, scan), path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def app_config(scan: ScriptScan) -> AppConfig | None:
    """The app's config when it can be known before a trial runs: a plain primary config, or one with a
    ``defaults`` list that Hydra (importable here) composes; None otherwise (module docstring)."""
    path = primary_config(scan) if scan.uses_hydra else None
    if path is None:
        return None
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # Hydra will say what is wrong with it
    if not isinstance(config, dict):
        return None
    if "defaults" not in config:
        return AppConfig(path, config, path.parent)
    return _compose(path, scan)


def _compose(path: Path, scan: ScriptScan) -> AppConfig | None:
    """Compose the config at ``path`` as Hydra would with no override, or None when Hydra cannot be imported
    here or cannot compose it (each trial then reports Hydra's own error)."""
    try:
        from hydra import compose, initialize_config_dir
        from omegaconf import OmegaConf
    except ImportError:
        return None
    folder, name = _decorated(scan) or (path.parent, path.stem)
    try:
        # The context clears Hydra's global state on exit; resolve=False: no interpolation or resolver runs.
        with initialize_config_dir(config_dir=str(folder.resolve()), version_base=None, job_name="check"):
            composed = OmegaConf.to_container(compose(config_name=name, return_hydra_config=True), resolve=False)
    except Exception:  # a config Hydra cannot compose fails every trial with Hydra's own message
        return None
    if not isinstance(composed, dict):
        return None
    hydra_node = composed.pop("hydra", None)
    choices = _get(hydra_node, "runtime.choices")
    groups = {str(g) for g in choices if not str(g).startswith("hydra/")} if isinstance(choices, dict) else set()
    return AppConfig(path, {str(k): v for k, v in composed.items()}, folder, frozenset(groups), composed=True)


def config_keys(scan: ScriptScan) -> list[str] | None:
    """The leaf keys of a Hydra app's config (``optimizer.lr``) and its groups, or None (``app_config``)."""
    found = app_config(scan)
    return None if found is None else sorted({*_leaves(found.config), *found.groups})


def _rel(path: Path, scan: ScriptScan) -> str:
    return str(path.relative_to(scan.path.parent) if path.is_relative_to(scan.path.parent) else path)


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
    """Why ``pass_args: name=value`` would fail every trial, or some, (one line with the fix), or None (module
    docstring)."""
    if spec.arg_style != "name=value" or spec.function or not spec.command:
        return None
    scan = read_scan(spec, scan)
    found = app_config(scan) if scan is not None else None
    if scan is None or found is None:
        return None
    names = found.names()
    missing = [n for n in [*spec.space.names, *spec.fixed] if not n.startswith(("+", "~")) and n not in names]
    rel = _rel(found.path, scan)
    if missing:
        whose = f"the config {rel} composes" if found.composed else rel
        return (
            f"{whose} has no key {', '.join(missing[:4])} (it has "
            f"{', '.join(sorted({*_leaves(found.config), *found.groups})[:6])}); with pass_args: name=value Hydra "
            f"would reject it in every trial: add it to the config, name the param +{missing[0]} to add it, or "
            "rename the param to one of its keys (nested keys with dots)"
        )
    return _group_choice_problem(spec, found, rel)


def _group_choice_problem(spec: StudySpec, found: AppConfig, rel: str) -> str | None:
    """A categorical param naming a config group must choose among the group's option files: Hydra fails each
    trial that picks another (``Could not find 'optimizer/rmsprop'``). Options are read from the primary
    config's folder only; a group whose folder is not there (a search path plugin) is not judged."""
    for name, param in spec.space.params.items():
        folder = found.root / name
        if name not in found.groups or not folder.is_dir() or not isinstance(param, CategoricalParam):
            continue
        options = sorted(p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
        unknown = [str(c) for c in param.choices if str(c) not in options]
        if unknown:
            where = str(Path(rel).parent / name) if found.root == found.path.parent else str(folder)
            return (
                f"{name}: {', '.join(unknown[:4])} is not an option of the config group {name} ({where} has "
                f"{', '.join(options[:8])}); Hydra would fail each trial that picks it: add the option file or "
                "remove the choice"
            )
    return None

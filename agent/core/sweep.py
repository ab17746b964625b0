"""A Weights & Biases sweep configuration read as a tunesmith spec: ``tunesmith tune sweep.yaml`` runs it.

A mapping is a W&B sweep when it has ``parameters:`` and no ``space:``. Its keys become spec keys:

- ``program: train.py`` -> ``command: [python, train.py]``; W&B's default command (``${env} ${interpreter}
  ${program} ${args}``) passes the params as flags, so ``pass_args: true``. A ``command:`` list is read with its
  macros: ``${interpreter}`` -> python, ``${program}`` -> the program, ``${args}`` -> ``pass_args: true``,
  ``${args_json_file}`` -> nothing (tunesmith always writes the params file, ``TUNESMITH_PARAMS``), ``${env}``
  dropped; ``${args_no_hyphens}`` (``name=value``, for Hydra apps) -> ``pass_args: name=value``; ``${args_json}``
  is refused with the fix.
- ``method``: ``bayes`` -> ``strategy: auto``, ``random`` -> ``random``, ``grid`` -> ``grid`` (every
  configuration once; each parameter needs ``values``, or a ``q`` step).
- ``metric: {name, goal}`` as is (``target`` is refused: tunesmith stops on its budget, not on a value).
- ``parameters``: ``value`` -> ``fixed``; ``values`` -> categorical (``probabilities`` refused); ``min``/``max``
  with ``distribution`` ``uniform``, ``int_uniform``, ``log_uniform_values`` (log), ``q_uniform`` (``q`` ->
  ``step``), ``log_uniform`` (W&B's bounds are natural-log exponents: ``exp(min)..exp(max)``), ``categorical``,
  ``constant``; other distributions (normal, beta, inv_log_uniform, ...) and nested ``parameters`` are refused.
- ``run_cap`` -> ``budget.max_trials``; ``early_terminate: {type: hyperband, min_iter, eta}`` -> ``pruner``
  (Optuna's Hyperband); ``description`` -> ``task``; ``project`` and ``entity`` (where W&B logs) are dropped.

Any other tunesmith key may sit beside them (``budget``, ``workers``, ``task`` ...). Errors are ``ValueError``
with one line naming the key and the fix (the spec loader prefixes ``spec:``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_METHODS = {"bayes": "auto", "random": "random", "grid": "grid"}
_DROPPED = ("project", "entity")


def is_sweep(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` is a W&B sweep configuration (module docstring) rather than a tunesmith spec."""
    return "parameters" in data and "space" not in data


def from_sweep(data: Mapping[str, Any]) -> dict[str, Any]:
    """The tunesmith spec mapping of the W&B sweep configuration ``data``; ``ValueError`` on what has no
    equivalent."""
    d = {k: v for k, v in data.items() if k not in _DROPPED}
    out: dict[str, Any] = {}
    program = d.pop("program", None)
    command = d.pop("command", None)
    if command is not None:
        out.update(_command(command, program))
    elif program is not None:
        out.update(command=["python", str(program)], pass_args=True)
    method = d.pop("method", None)
    if method is not None:
        if method not in _METHODS:
            raise ValueError(f"method: '{method}' is not a W&B sweep method; use bayes, random or grid")
        out["strategy"] = _METHODS[method]
    metric = d.get("metric")
    if isinstance(metric, Mapping) and "target" in metric:
        raise ValueError("metric.target: tunesmith stops on its budget, not on a value; remove target")
    run_cap = d.pop("run_cap", None)
    if run_cap is not None:
        budget = dict(d.pop("budget", None) or {})
        budget.setdefault("max_trials", run_cap)
        out["budget"] = budget
    early = d.pop("early_terminate", None)
    if early is not None:
        out["pruner"] = _pruner(early)
    description = d.pop("description", None)
    if description is not None and "task" not in d:
        out["task"] = str(description)
    space, fixed = _parameters(d.pop("parameters"))
    out["space"] = space
    if fixed:
        out["fixed"] = {**fixed, **dict(d.pop("fixed", None) or {})}
    return {**d, **out}


def _command(command: Any, program: Any) -> dict[str, Any]:
    if not isinstance(command, list):
        raise ValueError("command: a W&B sweep command is a list, e.g. [${env}, ${interpreter}, ${program}, ${args}]")
    argv: list[str] = []
    pass_args: bool | str = False
    for item in map(str, command):
        if item == "${env}" or item == "${args_json_file}":
            continue
        if item == "${interpreter}":
            argv.append("python")
        elif item == "${program}":
            if program is None:
                raise ValueError("command uses ${program} but the sweep has no program: add program: train.py")
            argv.append(str(program))
        elif item == "${args}":
            pass_args = True
        elif item == "${args_no_hyphens}":
            pass_args = "name=value"
        elif item == "${args_json}":
            raise ValueError(
                f"command: {item} has no tunesmith equivalent; use ${{args}} (--name value flags) or read the "
                "params file (tunesmith.params(), or json.load(open(os.environ['TUNESMITH_PARAMS'])))"
            )
        else:
            argv.append(item)
    return {"command": argv, "pass_args": pass_args}


def _pruner(early: Any) -> dict[str, Any]:
    if not isinstance(early, Mapping) or early.get("type") != "hyperband":
        raise ValueError("early_terminate: only type: hyperband is supported (min_iter, eta)")
    unknown = sorted(set(early) - {"type", "min_iter", "eta", "max_iter", "s", "strict"})
    if unknown:
        raise ValueError(f"early_terminate: unknown key '{unknown[0]}'; use min_iter and eta")
    pruner: dict[str, Any] = {"type": "hyperband", "min_resource": int(early.get("min_iter", 1))}
    if "eta" in early:
        pruner["reduction_factor"] = int(early["eta"])
    if "max_iter" in early:
        pruner["max_resource"] = int(early["max_iter"])
    return pruner


def _parameters(parameters: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise ValueError("parameters: a mapping of names to {min, max} / {values} / {value}")
    space: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    for name, raw in parameters.items():
        if not isinstance(raw, Mapping):
            raise ValueError(f"parameters.{name}: expected {{min, max}}, {{values: [...]}} or {{value: x}}")
        p = dict(raw)
        if "parameters" in p:
            raise ValueError(f"parameters.{name}: nested parameters are not supported; flatten them (e.g. {name}_lr)")
        if "probabilities" in p:
            raise ValueError(f"parameters.{name}: probabilities are not supported; remove them (choices are uniform)")
        distribution = p.pop("distribution", None)
        if "value" in p or distribution == "constant":
            fixed[str(name)] = p.get("value")
            continue
        space[str(name)] = _param(str(name), p, distribution)
    return space, fixed


def _param(name: str, p: dict[str, Any], distribution: Any) -> dict[str, Any]:
    if distribution in (None, "categorical") or "values" in p:
        if distribution == "categorical" and "values" not in p:
            raise ValueError(f"parameters.{name}: distribution categorical needs values: [...]")
        return p
    if distribution == "uniform":
        return {"type": "float", **p}
    if distribution == "int_uniform":
        return {"type": "int", **p}
    if distribution == "log_uniform_values":
        return {"type": "float", "log": True, **p}
    if distribution == "q_uniform":
        q = p.pop("q", 1.0)
        return {"type": "float", "step": q, **p}
    if distribution == "log_uniform":  # W&B: min and max are exponents of e
        if "min" not in p or "max" not in p:
            raise ValueError(f"parameters.{name}: log_uniform needs min and max (natural-log exponents)")
        return {"type": "float", "log": True, "low": math.exp(p.pop("min")), "high": math.exp(p.pop("max")), **p}
    raise ValueError(
        f"parameters.{name}: distribution '{distribution}' is not supported; use uniform, int_uniform, "
        "log_uniform_values, q_uniform, log_uniform or values"
    )

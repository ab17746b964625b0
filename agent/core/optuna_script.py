"""An Optuna script read as a tunesmith spec (``tunesmith tune search.py``): what ``optuna.create_study`` and
``study.optimize`` say (direction, pruner, sampler and seed, budget, parallel trials, the first enqueued trial),
read from the source without running it. The space itself is read by ``define_by_run.suggested_space``.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

from agent.core.define_by_run import find_function, module_constants, takes_trial
from agent.errors import SpecError

_PRUNERS = {"MedianPruner": "median", "HyperbandPruner": "hyperband", "SuccessiveHalvingPruner": "asha"}
_SAMPLERS = {
    "TPESampler": "tpe",
    "GPSampler": "gp",
    "CmaEsSampler": "cmaes",
    "RandomSampler": "random",
    "QMCSampler": "qmc",
}


def optuna_script_spec(path: Path) -> dict[str, Any] | None:
    """The spec of an Optuna script run as it is (``tunesmith tune search.py``), or None when ``path`` holds no
    objective to run: the function ``study.optimize(FN, n_trials=N, timeout=T)`` names (else a top-level
    define-by-run ``objective``), the direction, pruner and sampler (with its seed) of
    ``optuna.create_study(...)``, the budget and ``n_jobs`` (parallel trials), and the first
    ``study.enqueue_trial({...})`` as the default. Its
    ``if __name__ == "__main__":`` block never runs (run_function.py loads the file under another name). Without
    a sampler the strategy is tunesmith's ``auto``."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute | ast.Name)]
    optimize = next((c for c in calls if _called(c) == "optimize" and c.args), None)
    create = next((c for c in calls if _called(c) == "create_study"), None)
    target = optimize.args[0] if optimize is not None else None
    name = target.id if isinstance(target, ast.Name) else "objective"
    fn = find_function(tree, name)
    if fn is None or not takes_trial(fn):
        return None
    constants = module_constants(tree)
    keywords = {k.arg: k.value for c in (create, optimize) if c is not None for k in c.keywords if k.arg}
    if optimize is not None and len(optimize.args) > 1:  # study.optimize(objective, 100): n_trials by position
        keywords.setdefault("n_trials", optimize.args[1])

    def _literal(node: ast.expr | None) -> Any:  # a literal, or a module-level name bound to one (N_TRIALS)
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return _literal_of(node)

    if "directions" in keywords:
        raise SpecError(
            f"{path.name}: create_study(directions=...) is a multi-objective study; tunesmith tunes one metric: "
            "return one value, or give a spec with objective: {metric, direction}"
        )
    spec: dict[str, Any] = {
        "name": path.stem,
        "function": f"{path.name}:{name}",
        "objective": {"metric": "value", "direction": _literal(keywords.get("direction")) or "minimize"},
        "budget": {"max_trials": _literal(keywords.get("n_trials")) or 20},
    }
    jobs = _literal(keywords.get("n_jobs"))
    if isinstance(jobs, int) and (jobs > 1 or jobs == -1):  # Optuna's threads: tunesmith's parallel trials
        spec["workers"] = jobs if jobs > 1 else max(1, os.cpu_count() or 1)
    timeout = _literal(keywords.get("timeout"))
    if isinstance(timeout, int | float):
        spec["budget"]["max_time"] = float(timeout)
    pruner = keywords.get("pruner")
    kind = _PRUNERS.get(_called(pruner)) if isinstance(pruner, ast.Call) else None
    if kind is not None:
        spec["pruner"] = {"type": kind}
    sampler = keywords.get("sampler")
    grid = _literal(sampler.args[0]) if isinstance(sampler, ast.Call) and _called(sampler) == "GridSampler" else None
    if isinstance(grid, dict) and grid:  # GridSampler({name: [values]}): exactly those values, each once
        spec["strategy"] = "grid"
        spec["space"] = {str(k): {"type": "categorical", "choices": list(v)} for k, v in grid.items()}
        if _literal(keywords.get("n_trials")) is None:
            del spec["budget"]["max_trials"]  # the whole grid (agent/core/spec.py)
    elif isinstance(sampler, ast.Call) and _called(sampler) in _SAMPLERS:  # the person's choice of sampler stands
        spec["strategy"] = _SAMPLERS[_called(sampler)]
    given = sampler.keywords if isinstance(sampler, ast.Call) else []
    seed = next((_literal(k.value) for k in given if k.arg == "seed"), None)
    if isinstance(seed, int) and "strategy" in spec:
        spec["seed"] = seed
    enqueued = next((c for c in calls if _called(c) == "enqueue_trial" and c.args), None)
    first = _literal(enqueued.args[0]) if enqueued is not None else None
    on_grid = not isinstance(grid, dict) or all(v in grid.get(k, [v]) for k, v in (first or {}).items())
    if isinstance(first, dict) and first and on_grid:
        spec["default"] = first  # Optuna's enqueued first trial is tunesmith's default: run first
    return spec


def _called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _literal_of(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None

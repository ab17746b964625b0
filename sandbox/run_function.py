"""Run a Python objective function as a trial. Standalone, standard library only, run by path::

    python -u run_function.py package.module:function
    python -u run_function.py /path/to/script.py:function

The working directory goes first on ``sys.path`` (where this script's own folder would be, so the
sandbox modules never shadow the user's); a script file's folder comes next. A script file is loaded
under the module name ``tunesmith_objective``, never ``__main__``, so its ``if __name__ == "__main__":``
block (which typically starts the tuning itself) does not run again inside every trial.

The function is called as ``fn(params)`` with the trial's parameters (``TUNESMITH_PARAMS``), or, when it is
written for Optuna (its first parameter is ``trial``), as ``fn(trial)`` with a trial whose ``suggest_*`` return
those parameters (optuna_trial.py). What it returns is reported with ``final=True``: a number as
``{<TUNESMITH_OBJECTIVE>: value}`` (the metric name defaults to ``objective``), a dict as its metrics; ``None``
means the function reported by itself. An exception propagates: Python prints the traceback on stderr and
exits with status 1; Optuna's ``TrialPruned`` ends the trial quietly (status 0), as pruned: one it raised
without being asked to stop is reported with ``PRUNED_KEY`` (report.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

OBJECTIVE_MODULE = "tunesmith_objective"
DEFAULT_OBJECTIVE = "objective"


def _load_file(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path!r} as Python source; give a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    return module


def load_function(
    target: str, *, module_name: str = OBJECTIVE_MODULE, add_to_path: bool = True
) -> Callable[[dict[str, Any]], Any]:
    """Resolve ``module.path:function`` or ``/path/file.py:function`` (relative paths from the cwd).
    A file is loaded as ``module_name``; ``add_to_path`` puts its folder on ``sys.path`` first."""
    module_ref, sep, name = target.rpartition(":")
    if not sep or not module_ref or not name:
        raise ValueError(f"function {target!r} must look like 'package.module:function' or 'path/to/file.py:function'")
    if module_ref.endswith(".py") or os.sep in module_ref:
        path = os.path.abspath(module_ref)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"objective file {path!r} does not exist; fix the function path")
        if add_to_path:
            sys.path.insert(1, os.path.dirname(path))  # a script's sibling modules import as they would
        loaded = sys.modules.get(module_name)
        same = loaded is not None and getattr(loaded, "__file__", None) == path
        module = loaded if same and loaded is not None else _load_file(path, module_name)
    else:
        module = importlib.import_module(module_ref)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise AttributeError(f"{module_ref!r} has no function {name!r}; check the spelling in 'function'")
    return fn  # type: ignore[no-any-return]


def _report_module() -> ModuleType:
    # Loaded from the file beside this one, so a user package called ``sandbox`` cannot get in the way.
    here = os.path.dirname(os.path.abspath(__file__))
    return _load_file(os.path.join(here, "report.py"), "tunesmith_report")


def report_result(result: Any, report: Callable[..., None], objective: str) -> None:
    """Report what the objective function returned (see module docstring)."""
    if result is None:
        return
    if hasattr(result, "item") and callable(result.item):  # numpy / torch scalars
        result = result.item()
    if isinstance(result, dict):
        metrics = dict(result)
        metrics.pop("final", None)
        report(final=True, **metrics)
    elif isinstance(result, int | float) and not isinstance(result, bool):
        report(final=True, **{objective: result})
    else:
        raise TypeError(
            f"the objective function returned {type(result).__name__}; return a number, a dict "
            "of metrics, or None after calling report() yourself"
        )


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: run_function.py package.module:function | path/file.py:function")
    sys.path[0] = os.getcwd()  # replaces this script's folder (see module docstring)
    reporting = _report_module()
    fn = load_function(argv[1])
    objective = os.environ.get("TUNESMITH_OBJECTIVE") or DEFAULT_OBJECTIVE
    here = os.path.dirname(os.path.abspath(__file__))
    optuna_trial = _load_file(os.path.join(here, "optuna_trial.py"), "tunesmith_optuna_trial")
    if not optuna_trial.takes_trial(fn):
        report_result(fn(reporting.params()), reporting.report, objective)
        return
    trial = optuna_trial.SuggestTrial(reporting.params(), reporting.report, reporting.should_stop, objective)
    try:
        result = fn(trial)
    except Exception as exc:
        if type(exc).__name__ != "TrialPruned":  # optuna.TrialPruned, without importing optuna
            raise
        if not reporting.should_stop():  # it pruned itself: say so (tunesmith's own stop is known already)
            reporting.report(**{reporting.PRUNED_KEY: 1})
        print(f"the objective raised TrialPruned at trial.params {trial.params}", file=sys.stderr)
        return
    if isinstance(result, int | float) and not isinstance(result, bool) and trial.numeric_attrs():
        result = {objective: result, **trial.numeric_attrs()}
    report_result(result, reporting.report, objective)


if __name__ == "__main__":
    main(sys.argv)

"""The ``trial`` an Optuna objective gets when tunesmith runs it (``def objective(trial): ...``). Standard library
only; loaded by path by run_function.py.

tunesmith chose the trial's params before it started (agent/core/define_by_run.py read the space from the
function's ``suggest_*`` calls), so each ``suggest_*`` returns the param of that name, cast as Optuna would.
``report(value, step)`` reports the objective at ``step`` (what tunesmith's pruners judge) and
``should_prune()`` is ``should_stop()``: tunesmith asked the trial to stop. Raising Optuna's ``TrialPruned``
after it ends the trial as pruned (run_function.py). ``set_user_attr`` values are reported with the result,
numbers as metrics.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any


class SuggestTrial:
    """Answers an Optuna objective's ``trial.suggest_*`` calls from tunesmith's params (module docstring)."""

    def __init__(
        self, params: dict[str, Any], report: Callable[..., None], should_stop: Callable[[], bool], objective: str
    ) -> None:
        self._params = dict(params)
        self._report = report
        self._should_stop = should_stop
        self._objective = objective
        self.params: dict[str, Any] = {}  # what was suggested so far, as Optuna's trial.params
        self.user_attrs: dict[str, Any] = {}
        trial_id = os.environ.get("TUNESMITH_TRIAL_ID", "")
        self.number = int(trial_id) if trial_id.isdigit() else 0

    def _get(self, name: str) -> Any:
        if name not in self._params:
            known = ", ".join(sorted(self._params)[:8])
            raise KeyError(
                f"trial.suggest_*('{name}'): the study's space has no param '{name}' (it has {known}); add it to "
                "the spec's space, or let tunesmith read the space from the function (no space: in the spec)"
            )
        value = self._params[name]
        self.params[name] = value
        return value

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        return float(self._get(name))

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return int(self._get(name))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._get(name)

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        return float(self._get(name))

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        return float(self._get(name))

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        return float(self._get(name))

    def report(self, value: float, step: int) -> None:
        self._report(step=int(step), **{self._objective: float(value)})

    def should_prune(self) -> bool:
        return bool(self._should_stop())

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = value

    def numeric_attrs(self) -> dict[str, float]:
        """The user attributes that are numbers, reported as metrics with the result."""
        return {
            k: float(v) for k, v in self.user_attrs.items() if isinstance(v, int | float) and not isinstance(v, bool)
        }


def takes_trial(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is an Optuna objective: its first parameter is named ``trial`` or annotated ``Trial``
    (the rule agent/core/define_by_run.py applies to the source)."""
    import inspect

    try:
        first = next(iter(inspect.signature(fn).parameters.values()), None)
    except (TypeError, ValueError):
        return False
    if first is None:
        return False
    annotation = first.annotation if isinstance(first.annotation, str) else getattr(first.annotation, "__name__", "")
    return first.name == "trial" or str(annotation).split(".")[-1].strip("'\"") in ("Trial", "BaseTrial", "FrozenTrial")

"""Objectives used by engine tests through the in-process fake executor."""

from __future__ import annotations

from typing import Any


def quadratic(params: dict[str, Any]) -> float:
    return -((params["x"] - 0.3) ** 2) - (0.1 if params.get("k") == "b" else 0.0)


def fails_when_large(params: dict[str, Any]) -> float:
    if params["x"] > 0.5:
        raise RuntimeError("x too large")
    return params["x"]


def no_metric(params: dict[str, Any]) -> dict[str, float]:
    return {"other": 1.0}


def knn_like(params: dict[str, Any]) -> float:
    """A cheap stand-in with scikit-learn kNN's parameter names (so ``auto``'s kNN prior applies)."""
    return abs(params["n_neighbors"] - 9) + abs(params["p"] - 2) / 10


def constant(params: dict[str, Any]) -> float:
    """Ignores its params, as a script does whose params never arrive."""
    return 0.5


def quadratic_lr(params: dict[str, Any]) -> float:
    """A loss whose optimum is at lr = 2e-3 (log scale); the other params barely matter."""
    import math

    return (math.log10(float(params["lr"])) - math.log10(2e-3)) ** 2 + 0.01 * float(params.get("dropout", 0.0))


def optuna_objective(trial: Any) -> float:
    """Written for Optuna: its space is read from the suggest calls (agent/core/define_by_run.py)."""
    x = trial.suggest_float("x", -4.0, 4.0)
    kind = trial.suggest_categorical("kind", ["plain", "shifted"])
    shift = trial.suggest_int("shift", 1, 3) if kind == "shifted" else 0
    n_layers = trial.suggest_int("n_layers", 1, 2)
    width = 0
    for i in range(n_layers):
        width += trial.suggest_int(f"units_l{i}", 1, 4)
    for step in range(3):
        trial.report((x - 1.0) ** 2 + shift + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise RuntimeError("optuna.TrialPruned stands here")
    trial.set_user_attr("width", width)
    return (x - 1.0) ** 2 + shift + 0.01 * width


class TrialPruned(Exception):
    """Stands for ``optuna.TrialPruned`` (optuna is not imported by the trial)."""


def self_pruning(trial: Any) -> float:
    """An Optuna objective with its own pruning rule."""
    x = trial.suggest_float("x", 0.0, 1.0)
    trial.report(x, 0)
    if x > 0.5:
        raise TrialPruned()
    return x

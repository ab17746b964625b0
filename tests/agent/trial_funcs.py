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

"""Synthetic test functions with known minima: cheap to evaluate, so strategy overhead dominates.

No held-out split: the validation loss is also the test loss. Each function's domain is chosen so
the default configuration (the centre of the domain) is *not* the optimum: a default-first strategy
gets no free win.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from agent.core.space import SearchSpace
from evals.problems.base import Evaluation, Problem


def branin(x: Sequence[float]) -> float:
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x: Sequence[float]) -> float:
    z = np.asarray(x, dtype=float)
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (z - _H6_P) ** 2, axis=1))))


def rosenbrock(x: Sequence[float]) -> float:
    z = np.asarray(x, dtype=float)
    return float(np.sum(100.0 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2))


def ackley(x: Sequence[float]) -> float:
    z = np.asarray(x, dtype=float)
    d = len(z)
    return float(
        -20 * np.exp(-0.2 * np.sqrt(np.sum(z**2) / d)) - np.exp(np.sum(np.cos(2 * np.pi * z)) / d) + 20 + math.e
    )


#: name -> (function, bounds per dimension, known minimum)
FUNCTIONS: dict[str, tuple[Callable[[Sequence[float]], float], list[tuple[float, float]], float]] = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887),
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6, -3.32237),
    "rosenbrock10": (rosenbrock, [(-5.0, 10.0)] * 10, 0.0),
    "ackley5": (ackley, [(-15.0, 30.0)] * 5, 0.0),
}


class SyntheticProblem(Problem):
    family = "synthetic"
    group = "synthetic"

    def __init__(self, name: str) -> None:
        if name not in FUNCTIONS:
            raise ValueError(f"unknown synthetic function {name}; choose one of {', '.join(FUNCTIONS)}")
        self.name = name
        self.fn, self.bounds, self.minimum = FUNCTIONS[name]
        self._space = SearchSpace.from_dict(
            {f"x{i}": {"type": "float", "low": lo, "high": hi} for i, (lo, hi) in enumerate(self.bounds)}
        )

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def default(self) -> dict[str, Any]:
        return {f"x{i}": (lo + hi) / 2 for i, (lo, hi) in enumerate(self.bounds)}

    @property
    def has_test(self) -> bool:
        return False

    @property
    def task(self) -> str:
        return (
            f"the {self.name} synthetic test function in {len(self.bounds)} dimensions (a black box to minimise; "
            "no model or data, so prior knowledge of hyperparameters does not apply)"
        )

    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        x = [float(params[f"x{i}"]) for i in range(len(self.bounds))]
        return Evaluation(loss=self.fn(x))

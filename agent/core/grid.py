"""The grid of a finite search space: every value of each parameter (categorical choices, ints by step,
floats with a ``step``), and every valid configuration (conditional parameters only where active).

Used by the ``grid`` strategy (agent/strategies/grid.py), the spec's check that a grid study can run, and the
strategies' search for an untried configuration when a sampler keeps repeating itself.
"""

from __future__ import annotations

import math
from typing import Any

from agent.core.space import CategoricalParam, FloatParam, IntParam, SearchSpace

#: the most configurations a grid study may list (beyond this, a sampler serves better)
GRID_LIMIT = 100_000


def is_finite(space: SearchSpace) -> bool:
    """Whether every parameter takes finitely many values."""
    return infinite_param(space) is None


def infinite_param(space: SearchSpace) -> str | None:
    """The first parameter with infinitely many values (a float without ``step``), or None."""
    return next((n for n, p in space.params.items() if isinstance(p, FloatParam) and p.step is None), None)


def values(p: FloatParam | IntParam | CategoricalParam) -> list[Any]:
    """Every value ``p`` takes (a float's by its step, from low)."""
    if isinstance(p, CategoricalParam):
        return list(p.choices)
    if isinstance(p, IntParam):
        return list(range(p.low, p.high + 1, p.step))
    assert p.step is not None
    steps = math.floor((p.high - p.low) / p.step + 1e-9)
    return [round(p.low + k * p.step, 12) for k in range(steps + 1)]


def all_configs(space: SearchSpace, limit: int) -> list[dict[str, Any]] | None:
    """Every valid configuration of a finite space, in a fixed order; None if there are over ``limit``."""
    if not is_finite(space) or math.prod(len(values(p)) for p in space.params.values()) > limit:
        return None
    configs: list[dict[str, Any]] = [{}]
    for name in space.order:  # parents first, so is_active sees every parent's value
        grid = values(space.params[name])
        grown: list[dict[str, Any]] = []
        for c in configs:
            if space.is_active(name, c):
                grown.extend({**c, name: v} for v in grid)
            else:
                grown.append(c)
        configs = grown
    return configs


def grid_problem(space: SearchSpace) -> str | None:
    """Why ``strategy: grid`` cannot list ``space`` (one line with the fix), or None."""
    name = infinite_param(space)
    if name is not None:
        return (
            f"strategy grid needs every parameter to take finitely many values, and {name} is a float without "
            f"step; give {name} a step or choices, or use another strategy (auto, random, ...)"
        )
    if math.prod(len(values(p)) for p in space.params.values()) > GRID_LIMIT:
        return (
            f"strategy grid: the space has over {GRID_LIMIT:,} configurations; use coarser steps or fewer choices, "
            "or a sampler (auto)"
        )
    return None

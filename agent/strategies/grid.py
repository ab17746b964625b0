"""``GridStrategy`` (``strategy: grid``): every configuration of a finite space, each once, as W&B's ``method:
grid``, Ray Tune's ``grid_search`` and Optuna's ``GridSampler`` do.

The configurations (agent/core/grid.py: conditional parameters only where active) are visited in one seeded
random order, as Optuna's GridSampler visits them, so a study stopped early has spread over the grid instead of
sweeping one corner. ``ask`` returns the next untried ones in that order: a configuration tried by anyone (the
default, an LLM, a person) counts as tried; a cancelled trial does not. When every configuration has been
tried ``ask`` returns none, and the study ends as ``exhausted``. A spec with ``strategy: grid`` and no
``max_trials`` runs the whole grid (agent/core/spec.py).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from agent.core.grid import GRID_LIMIT, all_configs, grid_problem
from agent.core.records import Trial
from agent.core.space import SearchSpace, config_key
from agent.strategies.base import Strategy
from agent.strategies.optuna_bridge import tried_keys


class GridStrategy(Strategy):
    """Lists a finite space's configurations in a seeded order and proposes the untried ones (module docstring)."""

    name = "grid"

    def __init__(self, *, direction: str, seed: int | None = None, budget: int | None = None) -> None:
        super().__init__(direction=direction, seed=seed, budget=budget)
        self._order: tuple[str, list[dict[str, Any]]] | None = None  # (space key, configurations in order)

    def _configs(self, space: SearchSpace) -> list[dict[str, Any]]:
        key = repr(space.model_dump())
        if self._order is None or self._order[0] != key:  # listed once per space (an approved edit lists anew)
            configs = all_configs(space, GRID_LIMIT)
            if configs is None:
                raise ValueError(grid_problem(space) or "the space cannot be listed as a grid")
            random.Random(self.seed or 0).shuffle(configs)
            self._order = (key, configs)
        return self._order[1]

    def ask(self, space: SearchSpace, history: Sequence[Trial], n: int = 1) -> list[dict[str, Any]]:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        tried = tried_keys(space, history)
        out: list[dict[str, Any]] = []
        for config in self._configs(space):
            if len(out) == n:
                break
            if config_key(config) not in tried:
                out.append(config)
        return out

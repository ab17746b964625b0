"""Strategy names and the one factory that turns a name into a ``Strategy``.

``STRATEGIES`` equals ``agent.core.spec.STRATEGY_NAMES`` (a test pins it): the spec validates names
without importing Optuna, and this module builds them.
"""

from __future__ import annotations

from agent.strategies.auto import AutoStrategy
from agent.strategies.base import Strategy
from agent.strategies.grid import GridStrategy
from agent.strategies.optuna_strategy import SAMPLER_NAMES, OptunaStrategy

#: every strategy name, the default first
STRATEGIES: tuple[str, ...] = ("auto", *SAMPLER_NAMES, "grid")


def make_strategy(name: str, *, direction: str, seed: int | None = None, budget: int | None = None) -> Strategy:
    """The strategy called ``name``; ValueError naming the valid ones for anything else."""
    if name == "auto":
        return AutoStrategy(direction=direction, seed=seed, budget=budget)
    if name == "grid":
        return GridStrategy(direction=direction, seed=seed, budget=budget)
    if name in SAMPLER_NAMES:
        return OptunaStrategy(name, direction=direction, seed=seed, budget=budget)
    raise ValueError(f"unknown strategy '{name}'; choose one of {', '.join(STRATEGIES)}")

"""Classical proposal strategies (the ``Strategy`` seam), all backed by Optuna's samplers.

Importing this package imports Optuna (not torch: the GP sampler loads it on first use). Imports only
``agent.errors`` and ``agent.core``.
"""

from agent.strategies.auto import AutoStrategy
from agent.strategies.base import Strategy
from agent.strategies.optuna_strategy import OptunaStrategy
from agent.strategies.registry import STRATEGIES, make_strategy

__all__ = ["STRATEGIES", "AutoStrategy", "OptunaStrategy", "Strategy", "make_strategy"]

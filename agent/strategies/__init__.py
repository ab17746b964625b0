"""Classical proposal strategies (the ``Strategy`` seam), all backed by Optuna's samplers."""

from agent.strategies.base import Strategy

__all__ = ["Strategy"]

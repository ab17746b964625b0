"""Where configurations come from: the ``Proposer`` seam the engine asks for new trials.

The engine itself runs the spec's default first and re-runs interrupted trials; every other trial comes
from its proposer. ``StrategyProposer`` wraps a classical ``Strategy``; the LLM hybrid (agent/hybrid/proposer.py)
is another proposer that falls back to one. The engine validates every draft against the space before
it runs, whoever proposed it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.records import Proposer as ProposerKind
from agent.core.records import Trial, TrialDraft
from agent.core.space import SearchSpace
from agent.strategies.base import Strategy


@dataclass(frozen=True)
class ProposalContext:
    """What a proposer may look at when asked for trials."""

    space: SearchSpace
    history: Sequence[Trial]
    direction: str
    metric: str
    remaining: int | None  # trials left in the budget (None: unbounded), including the ones asked for


class Proposer(abc.ABC):
    """Where the engine gets new trials (module docstring); ``propose`` is the one required method."""

    name: str = "proposer"

    @abc.abstractmethod
    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        """Up to ``n`` drafts (fewer means 'nothing to propose right now'; an empty list ends the study
        only when nothing is running)."""

    def attach(self, host: Any) -> None:
        """Called once by the engine that will ask this proposer (``host`` is the ``StudyEngine``: its
        ``emit``, ``set_space``, ``store``, ``control``, ``study_dir``). Default: nothing."""

    def observe(self, trial: Trial, history: Sequence[Trial]) -> None:
        """A trial finished (any state). Default: nothing."""

    def close(self) -> None:
        """Release resources (network clients ...). Default: nothing."""


class StrategyProposer(Proposer):
    """Every trial from one classical strategy."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.name = strategy.name

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        label = self.strategy.label(ctx.space, ctx.history)
        configs = self.strategy.ask(ctx.space, ctx.history, n)
        return [TrialDraft(params=c, proposer=ProposerKind.STRATEGY, strategy=label) for c in configs]

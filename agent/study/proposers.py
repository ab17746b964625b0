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
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agent.core.events import EventData
from agent.core.records import Event, ProposerKind, Trial, TrialDraft
from agent.core.space import SearchSpace
from agent.core.spec import StudySpec
from agent.strategies.base import Strategy
from agent.study.store.base import TrialStore

if TYPE_CHECKING:
    from agent.study.pbt_explore import ExploreContext


class Stoppable(Protocol):
    def stop(self, reason: str) -> None: ...


class ProposerHost(Protocol):
    """What a proposer may use of the engine that asks it (``Proposer.attach``): the ``StudyEngine``, or an
    eval harness's stand-in. Space edits go through ``set_space`` with their provenance."""

    @property
    def spec(self) -> StudySpec: ...
    @property
    def space(self) -> SearchSpace: ...
    @property
    def store(self) -> TrialStore: ...
    @property
    def study_dir(self) -> Path: ...
    @property
    def control(self) -> Stoppable: ...
    @property
    def seed(self) -> int | None: ...

    def emit(self, data: EventData, *, trial: int | None = None) -> Event: ...

    def set_space(self, space: SearchSpace, *, rationale: str, source: str) -> None: ...

    def stop_trial(self, number: int, reason: str, *, source: str = "agent") -> bool: ...


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

    def attach(self, host: ProposerHost) -> None:
        """Called once by the engine that will ask this proposer (``ProposerHost``). Default: nothing."""

    def observe(self, trial: Trial, history: Sequence[Trial]) -> None:
        """A trial finished (any state). Default: nothing."""

    def explore(self, ctx: ExploreContext) -> TrialDraft | None:
        """Population Based Training's explore step for ``ctx.member``, which continues from member
        ``ctx.donor``'s checkpoint: the donor's params with some of ``ctx.mutable`` changed, with a rationale.
        It is validated (in the space, only mutable params changed); None or an invalid draft leaves it to
        perturbation (agent/study/pbt.py). Default: None."""
        return None

    def close(self) -> None:
        """Release resources (network clients ...). Default: nothing."""


class StrategyProposer(Proposer):
    """Every trial from one classical strategy."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.name = strategy.name

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        label = self.strategy.label(ctx.space, ctx.history)
        note = self.strategy.note(ctx.space, ctx.history)
        configs = self.strategy.ask(ctx.space, ctx.history, n)
        return [
            TrialDraft(params=c, proposer=ProposerKind.STRATEGY, strategy=label, rationale=note if i == 0 else None)
            for i, c in enumerate(configs)
        ]

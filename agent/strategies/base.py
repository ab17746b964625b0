"""The ``Strategy`` seam: propose configurations from the history.

``ask(space, history, n)`` returns ``n`` configurations, each valid for ``space`` (exactly the active
parameters, in range). ``history`` holds every trial so far, including RUNNING ones (pending
proposals a batch strategy should spread away from). A strategy keeps no state that can drift from
``history``: two calls with equal arguments on equally-constructed strategies return the same
configurations, in any process (seeded), and a strategy rebuilt from the store mid-study continues
exactly as the original would.

Failed and timed-out trials reach the strategy as infeasible (scored worse than any real result),
pruned ones with their last intermediate value; none are hidden.

A strategy's own sequence (its seeds, its quasi-random index, its random start-up design) advances with
``own_trials(history)``: trials proposed by an LLM or a person are learnt from but do not take the strategy's
draws, so with or without them the strategy's own points are the same sequence.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from agent.core.records import FOREIGN_PROPOSERS, History, Trial
from agent.core.space import SearchSpace


def own_trials(history: Sequence[Trial]) -> int:
    """Trials of ``history`` that count in the strategy's own sequence (all but LLM- and user-proposed)."""
    if isinstance(history, History):  # the engine's snapshot carries the count: O(1) at any study size
        return len(history) - history.foreign
    by = Counter(map(attrgetter("proposer"), history))  # C-speed, but a pass over the whole history
    return len(history) - sum(by[k] for k in FOREIGN_PROPOSERS)


def foreign_complete(history: Sequence[Trial]) -> int:
    """Complete trials proposed by an LLM or a person (a start-up design counts them, so it adds them)."""
    return sum(1 for t in history if t.proposer in FOREIGN_PROPOSERS and t.ok)


class Strategy(abc.ABC):
    """Proposes configurations from the history alone (contract in the module docstring); subclasses
    implement ``ask``, and every one passes tests/agent/strategies/test_strategy_contract.py."""

    #: short name stored with every trial it proposes ("tpe", "gp", "auto:gp" ...)
    name: str = "strategy"

    def __init__(self, *, direction: str, seed: int | None = None, budget: int | None = None) -> None:
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
        self.direction = direction
        self.seed = seed
        self.budget = budget

    @abc.abstractmethod
    def ask(self, space: SearchSpace, history: Sequence[Trial], n: int = 1) -> list[dict[str, Any]]:
        """``n`` new valid configurations given ``history``."""

    def label(self, space: SearchSpace, history: Sequence[Trial]) -> str:
        """The name to record for the proposals of the next ``ask`` (``auto`` says which it chose)."""
        return self.name

    def note(self, space: SearchSpace, history: Sequence[Trial]) -> str | None:
        """A rationale for the first proposal of the next ``ask`` (a prior says where it comes from); None:
        the proposals speak for themselves."""
        return None

"""``AutoStrategy``: the default. Picks one of the Optuna samplers per ask, by space and progress.

The choice is a pure function of ``(space, history, budget)`` (``choose``), re-made on every ask;
since every sampler rebuilds its state from the history, switching mid-study loses nothing. The
rules, first match wins (thresholds are starting points for the benchmark work in ``evals/``):

=====================================================  ========  =========================================
when                                                   sampler   why
=====================================================  ========  =========================================
the space has conditional parameters                   tpe       GP and CMA-ES model only the parameters
                                                                 that are always active; TPE (group)
                                                                 models each sub-space
more than ``GP_MAX_DIMS`` parameters                   tpe       GP fits slowly and poorly in high dims
fewer than ``GP_MAX_TRIALS`` trials so far             gp        clearly the best at small budgets on
                                                                 bayesmark-type problems; TPE ties with
                                                                 random there. Covers whole studies with
                                                                 a budget <= ``GP_MAX_TRIALS``.
later, every parameter continuous, 2+ of them          cmaes     cheap per trial, keeps converging where
                                                                 GP's cost grows cubically
later, otherwise                                       tpe       scales to many trials, any space
=====================================================  ========  =========================================

"Trials so far" counts every trial in the history but cancelled ones (running ones included: a
batch proposed now will be evaluated alongside them). A parameter is continuous when it is a float,
or an int with at least ``CONTINUOUS_INT_VALUES`` values (CMA-ES rounds ints; few-valued ones stall it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.records import Trial, TrialState
from agent.space import FloatParam, IntParam, SearchSpace
from agent.strategies.base import Strategy
from agent.strategies.optuna_strategy import OptunaStrategy

#: bumped whenever the rules change (the eval harness recomputes cached ``auto`` results of older versions)
VERSION = "1"

GP_MAX_TRIALS = 100
GP_MAX_DIMS = 20
CONTINUOUS_INT_VALUES = 16


def _continuous(space: SearchSpace) -> bool:
    for p in space.params.values():
        if isinstance(p, IntParam) and (p.high - p.low) // p.step + 1 >= CONTINUOUS_INT_VALUES:
            continue
        if not isinstance(p, FloatParam):
            return False
    return True


def choose(space: SearchSpace, history: Sequence[Trial], budget: int | None = None) -> str:
    """The sampler ``auto`` uses for the next proposals (see the module's rule table).

    ``budget`` is accepted so rules may use it; today's rules need only the trials so far, which
    already make a study with a budget <= ``GP_MAX_TRIALS`` use GP throughout.
    """
    done = sum(t.state is not TrialState.CANCELLED for t in history)
    if space.is_conditional() or len(space) > GP_MAX_DIMS:
        return "tpe"
    if done < GP_MAX_TRIALS:
        return "gp"
    if _continuous(space) and len(space) >= 2:
        return "cmaes"
    return "tpe"


class AutoStrategy(Strategy):
    """Delegates each ask to the sampler ``choose`` picks; ``label`` says which ("auto:gp")."""

    name = "auto"

    def __init__(self, *, direction: str, seed: int | None = None, budget: int | None = None) -> None:
        super().__init__(direction=direction, seed=seed, budget=budget)
        # One instance per sampler; all are stateless, this only saves re-building them.
        self._delegates: dict[str, OptunaStrategy] = {}

    def delegate(self, space: SearchSpace, history: Sequence[Trial]) -> OptunaStrategy:
        """The strategy that the next ``ask`` with these arguments will use."""
        name = choose(space, history, self.budget)
        if name not in self._delegates:
            self._delegates[name] = OptunaStrategy(
                name, direction=self.direction, seed=self.seed, budget=self.budget
            )
        return self._delegates[name]

    def ask(self, space: SearchSpace, history: Sequence[Trial], n: int = 1) -> list[dict[str, Any]]:
        return self.delegate(space, history).ask(space, history, n)

    def label(self, space: SearchSpace, history: Sequence[Trial]) -> str:
        return f"auto:{choose(space, history, self.budget)}"

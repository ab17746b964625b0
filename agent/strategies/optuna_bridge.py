"""Translation between tunesmith's space/trials and Optuna's distributions/frozen trials.

Choices that shape what the samplers learn (each is part of the ``Strategy`` contract):

* Categorical parameters reach Optuna as the *index* of the choice. Optuna compares choices with
  ``==`` (``True == 1``) and allows only a few types; indices sidestep both, and every sampler treats
  categorical values as unordered anyway.
* A history trial is used only when its params, restricted to the current space's parameters, form
  a valid configuration. After a space edit, trials outside the new ranges, or lacking a new
  parameter, are skipped: a partial trial would make Optuna's intersection search space (GP, CMA-ES)
  drop the new parameter for the rest of the study.
* FAILED and TIMEOUT trials, and COMPLETE ones without a finite value, are told as COMPLETE with an
  *infeasible value*: the worst real result moved further by 10 % of the observed spread. Telling
  them as Optuna FAIL would hide them (samplers ignore FAIL) and the strategy would propose the same
  crashing region again; a value far beyond the real ones would instead flatten a GP's standardised
  targets. Before any real result exists there is no scale, so they are told as FAIL.
* PRUNED trials keep their last value as one intermediate value at ``last_step`` (TPE ranks pruned
  trials by it); RUNNING ones are told as RUNNING, so TPE's constant liar and GP's pending-point
  handling spread a batch away from them; CANCELLED ones are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from agent.core.records import Trial, TrialState
from agent.core.space import CategoricalParam, FloatParam, IntParam, SearchSpace, config_key

#: how much further than the worst real result an infeasible trial is scored, relative to the spread
INFEASIBLE_MARGIN = 0.1


def distribution(p: FloatParam | IntParam | CategoricalParam) -> BaseDistribution:
    """The Optuna distribution of one parameter (the same object for history and for new trials)."""
    if isinstance(p, CategoricalParam):
        return CategoricalDistribution(tuple(range(len(p.choices))))
    if isinstance(p, IntParam):
        return IntDistribution(p.low, p.high, log=p.log, step=p.step)
    if p.step is None:
        return FloatDistribution(p.low, p.high, log=p.log)
    # Optuna wants high on the step grid; our space allows a range that is not a multiple of step.
    steps = math.floor((p.high - p.low) / p.step + 1e-9)
    return FloatDistribution(p.low, p.low + steps * p.step, step=p.step)


def distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    return {name: distribution(space.params[name]) for name in space.order}


def tried_keys(space: SearchSpace, history: Sequence[Trial]) -> set[str]:
    """``config_key`` of every configuration tried (cancelled trials were not), as the space writes it."""
    keys = set()
    for t in history:
        if t.state is not TrialState.CANCELLED:
            params = {k: v for k, v in t.params.items() if k in space.params}
            keys.add(config_key(params if space.validate_config(params) else space.normalise(params)))
    return keys


def _choice_index(choices: Sequence[Any], value: Any) -> int | None:
    for i, c in enumerate(choices):
        # ``type(...) is`` first: a choice list [True, 1] must not confuse the two (as in agent.core.space).
        if (type(c) is type(value) and c == value) or (
            isinstance(c, int | float)
            and isinstance(value, int | float)
            and not isinstance(c, bool)
            and not isinstance(value, bool)
            and c == value
        ):
            return i
    return None


def to_optuna(p: FloatParam | IntParam | CategoricalParam, dist: BaseDistribution, value: Any) -> Any:
    """A valid config value as Optuna stores it; None when it does not fit ``dist``."""
    if isinstance(p, CategoricalParam):
        return _choice_index(p.choices, value)
    if not isinstance(dist, FloatDistribution | IntDistribution):  # distribution() builds one per param type
        raise TypeError(f"{p!r} needs a numeric distribution, got {dist!r}")
    if isinstance(p, IntParam):
        v: float = int(value)
    else:
        v = min(max(float(value), dist.low), dist.high)  # the space's tolerance is looser than Optuna's
        if dist.step is not None:
            v = min(dist.low + round((v - dist.low) / dist.step) * dist.step, dist.high)
    return v if dist._contains(v) else None


def from_optuna(p: FloatParam | IntParam | CategoricalParam, value: Any) -> Any:
    if isinstance(p, CategoricalParam):
        return p.choices[int(value)]
    return int(value) if isinstance(p, IntParam) else float(value)


def suggest(trial: optuna.Trial, name: str, p: FloatParam | IntParam | CategoricalParam) -> Any:
    """Ask ``trial`` for parameter ``name`` with the distribution history uses; the space's value."""
    dist = distribution(p)
    if isinstance(dist, CategoricalDistribution):
        choices: list[int] = [int(c) for c in dist.choices]  # type: ignore[arg-type]
        index = trial.suggest_categorical(name, choices)
        return from_optuna(p, index)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if not isinstance(dist, FloatDistribution):
        raise TypeError(f"{name}: expected a float distribution, got {dist!r}")
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


def infeasible_value(history: Sequence[Trial], direction: str) -> float | None:
    """The score told for failed trials: worse than every real result; None before any exists."""
    values = [t.value for t in history if t.ok and t.value is not None]
    if not values:
        return None
    lo, hi = min(values), max(values)
    margin = INFEASIBLE_MARGIN * (hi - lo) or max(INFEASIBLE_MARGIN * abs(lo), 1e-6)
    return lo - margin if direction == "maximize" else hi + margin


def frozen_trial(
    t: Trial, space: SearchSpace, dists: Mapping[str, BaseDistribution], infeasible: float | None
) -> FrozenTrial | None:
    """``t`` as an Optuna trial for the current space; None when it must be skipped."""
    if t.state is TrialState.CANCELLED:
        return None
    params = {k: v for k, v in t.params.items() if k in space.params}
    if space.validate_config(params):
        return None
    internal: dict[str, Any] = {}
    for name, value in space.normalise(params).items():
        converted = to_optuna(space.params[name], dists[name], value)
        if converted is None:
            return None
        internal[name] = converted

    state, value, intermediate = OptunaState.COMPLETE, None, None
    if t.state is TrialState.RUNNING:
        state = OptunaState.RUNNING
    elif t.state is TrialState.PRUNED:
        state = OptunaState.PRUNED
        if t.value is not None and math.isfinite(t.value):
            intermediate = {t.last_step or 0: t.value}
    elif t.ok:
        value = t.value
    elif infeasible is not None:  # failed, timed out, or complete without a usable value
        value = infeasible
    else:
        state = OptunaState.FAIL
    try:
        return optuna.trial.create_trial(
            state=state,
            value=value,
            params=internal,
            distributions={n: dists[n] for n in internal},
            intermediate_values=intermediate,
        )
    except ValueError:  # Optuna's own checks are stricter in corners we do not foresee: skip, never crash
        return None


def frozen_history(history: Sequence[Trial], space: SearchSpace, direction: str) -> list[tuple[Trial, FrozenTrial]]:
    """Every usable history trial, by number, with its Optuna form."""
    dists = distributions(space)
    infeasible = infeasible_value(history, direction)
    out = []
    for t in sorted(history, key=lambda t: t.number):
        frozen = frozen_trial(t, space, dists, infeasible)
        if frozen is not None:
            out.append((t, frozen))
    return out

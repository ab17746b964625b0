"""PBT's explore step: how a member's params change when it continues from a better member's checkpoint.

Each mutable param is, with ``resample_probability``, drawn anew from the space; otherwise a number is multiplied
by one of the ``perturb`` factors (clipped to its range, on its grid) and a choice moves to a neighbouring
choice. A proposer may explore instead (``Proposer.explore`` with an ``ExploreContext``: the LLM hybrid); the
scheduler (agent/study/pbt.py) validates its answer and falls back to ``explore``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.records import TrialDraft
from agent.core.space import CategoricalParam, FloatParam, IntParam, SearchSpace, same_value
from agent.core.spec import SchedulerSpec

__all__ = ["ExploreContext", "Explorer", "explore"]


@dataclass(frozen=True)
class ExploreContext:
    """What a proposer sees when asked to explore for a member (``Proposer.explore``)."""

    member: int
    donor: int
    step: int
    donor_params: Mapping[str, Any]
    mutable: Sequence[str]
    space: SearchSpace
    metric: str
    direction: str
    population: Sequence[tuple[int, Mapping[str, Any], float]]  # (member, params, value at step), best first


Explorer = Callable[[ExploreContext], TrialDraft | None]


def explore(
    params: Mapping[str, Any], space: SearchSpace, spec: SchedulerSpec, rng: random.Random
) -> tuple[dict[str, Any], dict[str, str]]:
    """Perturb or resample ``spec.mutable`` of ``params`` (module docstring); (new params, what changed)."""
    new = dict(params)
    ops: dict[str, str] = {}
    for name in spec.mutable:
        p = space.params[name]
        current = params.get(name)
        if current is None or rng.random() < spec.resample_probability:
            new[name], ops[name] = space.sample_param(name, rng), "resample"
        elif isinstance(p, CategoricalParam):
            at = next((i for i, c in enumerate(p.choices) if same_value(current, c)), None)
            if at is None:
                new[name], ops[name] = space.sample_param(name, rng), "resample"
                continue
            shift = rng.choice((-1, 1))
            new[name] = p.choices[min(max(at + shift, 0), len(p.choices) - 1)]
            ops[name] = "shift left" if shift < 0 else "shift right"
        else:
            factor = rng.choice(spec.perturb)
            new[name], ops[name] = _scaled(p, float(current) * factor), f"* {factor:g}"
    return space.normalise(new), ops


def _scaled(p: FloatParam | IntParam, value: float) -> float | int:
    value = min(max(value, p.low), p.high)
    if isinstance(p, IntParam):
        return min(p.high, max(p.low, p.low + p.step * round((value - p.low) / p.step)))
    if p.step is not None:
        k = min(round((value - p.low) / p.step), math.floor((p.high - p.low) / p.step + 1e-9))
        return p.low + p.step * k
    return value

"""What the peer adapters share: importing a peer, the losses they are told, grids, seeding.

* ``require`` imports a peer's module or raises ``TunesmithError`` with the install command (one line).
* ``told_losses`` is the history as a peer sees it: finished trials whose parameters fit the space, each with
  the loss to tell (always minimised). Complete trials tell their value; failed and timed-out ones (and
  complete ones without a finite value) tell the infeasible value of ``optuna_bridge.infeasible_value`` (the
  worst real result moved further by 10 % of the spread), or are held back while no real result exists;
  pruned ones tell their last value; running and cancelled ones are not told.
* A float with a ``step``, or an int with ``step > 1``, is handed to a peer as the integer index ``k`` of
  ``low + k * step`` (neither HEBO nor ConfigSpace has a float grid).
* ``seeded`` seeds the process-global generators (numpy, torch, random) a peer draws from and restores them.
"""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

from agent.core.records import Trial, TrialState
from agent.core.space import CategoricalParam, FloatParam, IntParam, SearchSpace
from agent.errors import TunesmithError
from agent.strategies.optuna_bridge import infeasible_value
from evals.peers import missing


def require(module: str, *, contender: str, install: str) -> ModuleType:
    """``import module``, or a one-line ``TunesmithError`` naming the contender and the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise TunesmithError(missing(contender, exc.name or module, install)) from None


def told_losses(history: Sequence[Trial], space: SearchSpace, direction: str) -> list[tuple[Trial, float]]:
    """Every finished trial to tell a peer, by number, with its loss (see the module docstring)."""
    infeasible = infeasible_value(history, direction)
    sign = -1.0 if direction == "maximize" else 1.0
    out = []
    for t in sorted(history, key=lambda t: t.number):
        if not t.state.finished or t.state is TrialState.CANCELLED or not fits(t, space):
            continue
        if t.ok or (t.state is TrialState.PRUNED and t.value is not None and math.isfinite(t.value)):
            value: float | None = t.value
        elif t.state is TrialState.PRUNED:
            continue  # pruned before its first report: nothing learnt
        else:
            value = infeasible
        if value is not None:
            out.append((t, sign * value))
    return out


def fits(trial: Trial, space: SearchSpace) -> bool:
    """Whether ``trial``'s parameters (restricted to the space) form a valid configuration of ``space``."""
    return not space.validate_config({k: v for k, v in trial.params.items() if k in space.params})


def choice_index(p: CategoricalParam, value: Any) -> int:
    """The index of ``value`` among ``p.choices`` (``True`` and ``1`` stay apart, as in ``agent.core.space``)."""
    for i, c in enumerate(p.choices):
        if type(c) is type(value) and c == value:
            return i
    for i, c in enumerate(p.choices):
        numbers = [x for x in (c, value) if isinstance(x, int | float) and not isinstance(x, bool)]
        if len(numbers) == 2 and c == value:
            return i
    raise ValueError(f"{value!r} is not one of {p.choices!r}")  # told trials fit the space (``fits``)


def grid_size(p: FloatParam | IntParam) -> int | None:
    """The number of steps of a gridded parameter (``low + k * step``, k = 0..size); None when not gridded."""
    if isinstance(p, IntParam):
        return (p.high - p.low) // p.step if p.step > 1 else None
    if p.step is None:
        return None
    return math.floor((p.high - p.low) / p.step + 1e-9)


def to_index(p: FloatParam | IntParam, value: Any) -> int:
    """The grid index of a value of a gridded parameter (``grid_size`` is not None)."""
    return round((float(value) - p.low) / _step(p))


def from_index(p: FloatParam | IntParam, k: Any) -> float | int:
    """The value at grid index ``k`` (rounded, and kept on the grid)."""
    index: int = min(max(round(float(k)), 0), grid_size(p) or 0)
    if isinstance(p, IntParam):
        return p.low + index * p.step
    return min(round(p.low + index * _step(p), 12), p.high)


def _step(p: FloatParam | IntParam) -> float:
    if p.step is None:
        raise ValueError(f"{p!r} has no grid")  # a bug in an adapter: only gridded parameters are indexed
    return p.step


def clip(p: FloatParam | IntParam, value: Any) -> float | int:
    """A peer's number as the space's value: in range (a peer's transforms may overshoot by rounding)."""
    if isinstance(p, IntParam):
        return int(min(max(round(float(value)), p.low), p.high))
    return float(min(max(float(value), p.low), p.high))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed numpy's, torch's and Python's global generators for one ask; restore them afterwards."""
    import torch

    np_state, py_state, torch_state = np.random.get_state(), random.getstate(), torch.random.get_rng_state()
    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
        torch.random.set_rng_state(torch_state)

"""What a person asks of a study beyond its table: parameter importance and the data behind the plots.

Both faces use these (the terminal chat draws them as text or writes SVG files, the web page shows the
same SVG), so the two always agree. Everything is computed from stored trials; nothing here runs trials.

* ``importance``: Optuna's fANOVA evaluator on an in-memory Optuna study built from the complete trials
  (through the same translation the strategies use). Conditional parameters that are absent from some
  trials are left out, as Optuna does. Needs at least ``MIN_TRIALS_FOR_IMPORTANCE`` complete trials.
* ``history``: each counted trial's value in order, and the best so far (direction-aware).
* ``parallel``: every complete trial's parameters, each axis scaled to [0, 1] (log axes in log space,
  categorical axes by choice index), with the value.
* ``curves``: the objective's reported values by step, per trial.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.core.records import MetricPoint, Trial, better
from agent.core.space import CategoricalParam, FloatParam, SearchSpace

MIN_TRIALS_FOR_IMPORTANCE = 4


class Importance(BaseModel):
    model_config = ConfigDict(frozen=True)
    scores: dict[str, float]  # parameter -> share of the variance it explains (sums to ~1), largest first
    trials: int  # complete trials used
    note: str | None = None  # why some or all parameters are missing


_CACHE: dict[tuple[Any, ...], Importance] = {}
_CACHE_SIZE = 16


def importance(trials: Sequence[Trial], space: SearchSpace, direction: str, *, seed: int = 0) -> Importance:
    """fANOVA importances of the parameters, from the complete trials.

    Seconds of work for a few hundred trials, so results are cached by their inputs: a live page asking
    again after every event recomputes only when a complete trial was added or the space changed.
    """
    ok = [t for t in trials if t.ok]
    key = (tuple((t.number, t.value) for t in ok), space.model_dump_json(), direction, seed)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _importance(ok, space, direction, seed)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = cached
    return cached


def _importance(ok: list[Trial], space: SearchSpace, direction: str, seed: int) -> Importance:
    if len(ok) < MIN_TRIALS_FOR_IMPORTANCE:
        return Importance(
            scores={},
            trials=len(ok),
            note=(f"importance needs at least {MIN_TRIALS_FOR_IMPORTANCE} complete trials; {len(ok)} so far"),
        )
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    from agent.strategies.optuna_bridge import frozen_history

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    frozen = [f for _, f in frozen_history(ok, space, direction)]
    if len(frozen) < MIN_TRIALS_FOR_IMPORTANCE:
        return Importance(scores={}, trials=len(frozen), note="too few trials fit the current search space")
    study = optuna.create_study(direction="maximize" if direction == "maximize" else "minimize")
    study.add_trials(frozen)
    try:
        scores = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    except (ValueError, RuntimeError) as exc:  # e.g. every trial has the same value
        return Importance(scores={}, trials=len(frozen), note=f"importance cannot be computed yet ({exc})")
    missing = [n for n in space.names if n not in scores]
    note = None
    if missing:
        note = "left out (not set in every trial, e.g. conditional): " + ", ".join(missing)
    return Importance(scores={k: float(v) for k, v in scores.items()}, trials=len(frozen), note=note)


def history(trials: Sequence[Trial], direction: str) -> list[dict[str, Any]]:
    """One row per finished, counted trial: number, value (None if failed), best so far, state."""
    rows: list[dict[str, Any]] = []
    best: float | None = None
    for t in trials:
        if not t.state.counts:
            continue
        value = t.value if t.ok else None
        if value is not None and (best is None or better(value, best, direction)):
            best = value
        rows.append(
            {"trial": t.number, "value": value, "best": best, "state": t.state.value, "proposer": t.proposer.value}
        )
    return rows


def axis_position(space: SearchSpace, name: str, value: Any) -> float | None:
    """``value`` of parameter ``name`` placed on [0, 1] along its axis; None when it does not fit."""
    p = space.params.get(name)
    if p is None or value is None:
        return None
    if isinstance(p, CategoricalParam):
        for i, c in enumerate(p.choices):
            if c == value and type(c) is type(value):
                return i / max(1, len(p.choices) - 1)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    lo, hi, v = float(p.low), float(p.high), float(value)
    if p.log and lo > 0 and v > 0:
        lo, hi, v = math.log(lo), math.log(hi), math.log(v)
    return min(1.0, max(0.0, (v - lo) / (hi - lo)))


def axis_ticks(space: SearchSpace, name: str) -> list[tuple[float, str]]:
    """Labels along one parallel-coordinates axis: (position in [0, 1], text)."""
    p = space.params[name]
    if isinstance(p, CategoricalParam):
        n = max(1, len(p.choices) - 1)
        return [(i / n, str(c)) for i, c in enumerate(p.choices)]
    fmt: Callable[[float], str] = (lambda v: f"{v:.3g}") if isinstance(p, FloatParam) else (lambda v: str(int(v)))
    return [(0.0, fmt(p.low)), (1.0, fmt(p.high))]


def parallel(trials: Sequence[Trial], space: SearchSpace) -> dict[str, Any]:
    """Axes (the space's parameters) and one line per complete trial."""
    lines = []
    for t in trials:
        if not t.ok:
            continue
        lines.append(
            {
                "trial": t.number,
                "value": t.value,
                "points": {n: axis_position(space, n, t.params.get(n)) for n in space.names},
            }
        )
    return {"axes": [{"name": n, "ticks": axis_ticks(space, n)} for n in space.names], "lines": lines}


def curve(points: Sequence[MetricPoint], metric: str) -> list[tuple[float, float]]:
    """(step, value) of the objective in one trial's reports (the report's index when it has no step; a
    step-less final report lands on the last step instead of adding a point past the end)."""
    out: list[tuple[float, float]] = []
    for i, p in enumerate(points):
        v = p.values.get(metric)
        if v is None or not math.isfinite(v):
            continue
        if p.step is None and p.final and out:
            if out[-1][1] != v:
                out[-1] = (out[-1][0], float(v))
            continue
        out.append((float(p.step if p.step is not None else i), float(v)))
    return out

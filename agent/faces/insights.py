"""What a person asks of a study beyond its table: parameter importance and the data behind the plots.

Both faces use these (the terminal chat draws them as text or writes SVG files, the web page shows the
same SVG), so the two always agree. Everything is computed from stored trials; nothing here runs trials.

* ``importance``: one of two Optuna evaluators on an in-memory Optuna study of the complete trials.
  ``fanova`` (the default): Optuna's fANOVA, seeded, on the trials as the strategies see them; the share of
  the objective's variance each parameter explains. ``ped-anova``: Optuna's PED-ANOVA exactly as
  optuna-dashboard computes it, on the trials exactly as ``tunesmith export -f optuna`` writes them, so the
  page and the dashboard rank alike; it says which parameters' values reach the top 10 % of trials.
  The two answer different questions and may rank differently. Conditional parameters that are absent
  from some trials are left out, as Optuna does. Needs ``MIN_TRIALS_FOR_IMPORTANCE`` complete trials.
* ``history``: each counted trial's value in order, and the best so far (direction-aware).
* ``parallel``: every complete trial's parameters, each axis scaled to [0, 1] (log axes in log space,
  categorical axes by choice index), with the value.
* ``curves``: the objective's reported values by step, per trial.

plotdata.py has the data of the slice, contour, EDF and timeline plots.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent.core.records import MetricPoint, Trial, better
from agent.core.space import CategoricalParam, FloatParam, SearchSpace

MIN_TRIALS_FOR_IMPORTANCE = 4
Method = Literal["fanova", "ped-anova"]
METHODS: tuple[Method, ...] = ("fanova", "ped-anova")
LABELS = {"fanova": "fANOVA", "ped-anova": "PED-ANOVA"}
MEANINGS = {
    "fanova": "share of the objective's variance each parameter explains; optuna-dashboard shows PED-ANOVA instead",
    "ped-anova": "which parameters' values reach the top 10 % of trials, as optuna-dashboard computes it",
}


class Importance(BaseModel):
    model_config = ConfigDict(frozen=True)
    scores: dict[str, float]  # parameter -> importance (sums to ~1), largest first
    trials: int  # complete trials used
    note: str | None = None  # why some or all parameters are missing
    method: Method = "fanova"
    seed: int | None = None  # fANOVA's forest seed; None for PED-ANOVA (deterministic)

    @property
    def label(self) -> str:
        return LABELS[self.method]

    @property
    def meaning(self) -> str:
        """One line: what the scores measure, and how they relate to optuna-dashboard's."""
        return f"{self.label}: {MEANINGS[self.method]}"


_CACHE: dict[tuple[Any, ...], Importance] = {}
_CACHE_SIZE = 16


def importance(
    trials: Sequence[Trial], space: SearchSpace, direction: str, *, seed: int = 0, method: Method = "fanova"
) -> Importance:
    """Importances of the parameters from the complete trials, by ``method`` (module docstring).

    Seconds of work for a few hundred trials, so results are cached by their inputs: a live page asking
    again after every event recomputes only when a complete trial was added or the space changed.
    """
    if method not in METHODS:
        raise ValueError(f"unknown importance method {method!r}; choose one of {', '.join(METHODS)}")
    ok = [t for t in trials if t.ok]
    key = (tuple((t.number, t.value) for t in ok), space.model_dump_json(), direction, seed, method)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _importance(ok, space, direction, seed) if method == "fanova" else _ped_anova(ok, space, direction)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = cached
    return cached


def _too_few(n: int, method: Method, seed: int | None) -> Importance | None:
    if n >= MIN_TRIALS_FOR_IMPORTANCE:
        return None
    note = f"importance needs at least {MIN_TRIALS_FOR_IMPORTANCE} complete trials; {n} so far"
    return Importance(scores={}, trials=n, note=note, method=method, seed=seed)


def _finish(scores: dict[str, float], n: int, space: SearchSpace, method: Method, seed: int | None) -> Importance:
    missing = [name for name in space.names if name not in scores]
    note = None
    if missing:
        note = "left out (not set in every trial, e.g. conditional): " + ", ".join(missing)
    return Importance(scores=scores, trials=n, note=note, method=method, seed=seed)


def _importance(ok: list[Trial], space: SearchSpace, direction: str, seed: int) -> Importance:
    few = _too_few(len(ok), "fanova", seed)
    if few is not None:
        return few
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    from agent.strategies.optuna_bridge import frozen_history

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    frozen = [f for _, f in frozen_history(ok, space, direction)]
    if len(frozen) < MIN_TRIALS_FOR_IMPORTANCE:
        note = "too few trials fit the current search space"
        return Importance(scores={}, trials=len(frozen), note=note, method="fanova", seed=seed)
    study = optuna.create_study(direction="maximize" if direction == "maximize" else "minimize")
    study.add_trials(frozen)
    try:
        scores = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    except (ValueError, RuntimeError) as exc:  # e.g. every trial has the same value
        note = f"importance cannot be computed yet ({exc})"
        return Importance(scores={}, trials=len(frozen), note=note, method="fanova", seed=seed)
    return _finish({k: float(v) for k, v in scores.items()}, len(frozen), space, "fanova", seed)


def _ped_anova(ok: list[Trial], space: SearchSpace, direction: str) -> Importance:
    few = _too_few(len(ok), "ped-anova", None)
    if few is not None:
        return few
    import warnings

    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

    from agent.study.export_optuna import frozen_trials

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize" if direction == "maximize" else "minimize")
    study.add_trials(frozen_trials(ok, space, {}, ""))  # the trials as the Optuna export writes them

    def target(t: optuna.trial.FrozenTrial) -> float:  # PED-ANOVA looks for low targets, as the dashboard's
        value = float(t.values[0])
        return -value if direction == "maximize" else value

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = get_param_importances(study, target=target, evaluator=PedAnovaImportanceEvaluator())
    except (ValueError, RuntimeError) as exc:
        note = f"importance cannot be computed yet ({exc})"
        return Importance(scores={}, trials=len(ok), note=note, method="ped-anova")
    return _finish({k: float(v) for k, v in scores.items()}, len(ok), space, "ped-anova", None)


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


def axis_value(space: SearchSpace, name: str, pos: float) -> Any:
    """The value of parameter ``name`` at ``pos`` in [0, 1] along its axis (inverse of ``axis_position``;
    a categorical axis gives the nearest choice)."""
    p = space.params[name]
    if isinstance(p, CategoricalParam):
        return p.choices[round(pos * max(1, len(p.choices) - 1))]
    lo, hi = float(p.low), float(p.high)
    if p.log and lo > 0:
        return math.exp(math.log(lo) + pos * (math.log(hi) - math.log(lo)))
    return lo + pos * (hi - lo)


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

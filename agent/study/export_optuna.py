"""A study as an Optuna storage (``sqlite:///FILE``) that ``optuna-dashboard`` shows truthfully.

Contract of ``write_optuna``:

* One Optuna trial per tunesmith trial, added in number order, so Optuna's trial N is tunesmith's #N
  (user attribute ``tunesmith_trial`` says so too). States map complete -> COMPLETE, pruned -> PRUNED,
  running -> RUNNING, and failed, timeout and cancelled -> FAIL (Optuna has no others; the tunesmith
  state and the reason are user attributes).
* Each keeps its real start and end (``datetime_start``/``datetime_complete``, naive local time as Optuna
  stores them), so the dashboard's timeline and durations are the study's.
* Params in the current search space carry their distributions (categorical ones their real choices);
  a param outside it (the space was edited since) is kept in the ``params_outside_space`` attribute.
* The objective is named (``set_metric_names``); the study's user attributes hold the spec, strategy,
  folder, when the export was taken (it is a snapshot) and how its importance differs from the page's.
* Intermediate values are the objective's reported values by step (the report index when no step).
"""

from __future__ import annotations

import math
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.records import MetricPoint, Trial, TrialState
from agent.core.space import CategoricalParam, FloatParam, SearchSpace

if TYPE_CHECKING:
    import optuna

    from agent.core.spec import StudySpec

IMPORTANCE_NOTE = (
    "optuna-dashboard ranks parameters with PED-ANOVA (which values reach the top 10 % of trials); "
    "tunesmith's page shows fANOVA (the share of the variance of the objective each explains) unless you pick "
    "PED-ANOVA there, which then matches this dashboard"
)


def distributions(space: SearchSpace) -> dict[str, Any]:
    """Optuna distributions of ``space`` (categorical ones with their real choices, for display)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, p in space.params.items():
        if isinstance(p, FloatParam):
            out[name] = FloatDistribution(p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, CategoricalParam):
            out[name] = CategoricalDistribution(p.choices)
        else:
            out[name] = IntDistribution(p.low, p.high, log=p.log, step=p.step)
    return out


def _fits(dist: Any, value: Any) -> bool:
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


def _local(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts)


def frozen_trials(
    trials: list[Trial], space: SearchSpace, curves: dict[int, list[MetricPoint]], metric: str
) -> list[optuna.trial.FrozenTrial]:
    """Every trial as an Optuna ``FrozenTrial``, in number order (module docstring)."""
    import optuna

    ostate = optuna.trial.TrialState
    states = {
        TrialState.COMPLETE: ostate.COMPLETE,
        TrialState.PRUNED: ostate.PRUNED,
        TrialState.RUNNING: ostate.RUNNING,
        TrialState.FAILED: ostate.FAIL,
        TrialState.TIMEOUT: ostate.FAIL,
        TrialState.CANCELLED: ostate.FAIL,
    }
    dists = distributions(space)
    out = []
    for t in sorted(trials, key=lambda t: t.number):
        state = states[t.state]
        if state == ostate.COMPLETE and not t.ok:
            state = ostate.FAIL  # complete without a usable value: Optuna refuses a COMPLETE without one
        params = {k: v for k, v in t.params.items() if k in dists and _fits(dists[k], v)}
        outside = {k: v for k, v in t.params.items() if k not in params}
        inter = {}
        for i, p in enumerate(curves.get(t.number, [])):
            v = p.values.get(metric)
            if v is not None and math.isfinite(v):
                inter[p.step if p.step is not None else i] = float(v)
        attrs: dict[str, Any] = {
            "tunesmith_trial": t.number,
            "tunesmith_state": t.state.value,
            "proposer": t.proposer.value,
            "strategy": t.strategy or "",
            "reason": t.reason or "",
            "duration_s": t.duration,
        }
        if outside:
            attrs["params_outside_space"] = outside
        if t.rationale:
            attrs["rationale"] = t.rationale
        frozen = optuna.trial.create_trial(
            state=state,
            value=t.value if state == ostate.COMPLETE else None,
            params=params,
            distributions={k: dists[k] for k in params},
            intermediate_values=inter,
            user_attrs=attrs,
        )
        start = _local(t.started_at if t.started_at is not None else t.created_at)
        frozen.datetime_start = start
        if state.is_finished():
            frozen.datetime_complete = _local(t.finished_at) or start
        out.append(frozen)
    return out


def study_attrs(spec: StudySpec | None, folder: Path | None, metric: str, direction: str) -> dict[str, Any]:
    """What the Optuna study says about where it came from."""
    taken = time.strftime("%Y-%m-%d %H:%M:%S")
    where = str(folder) if folder is not None else "the study folder"
    attrs: dict[str, Any] = {
        "source": "tunesmith",
        "metric": metric,
        "direction": direction,
        "exported_at": taken,
        "snapshot": f"a snapshot of {where} taken {taken}; trials finished since are not here: run "
        "'tunesmith export' or 'tunesmith dashboard' again",
        "importance": IMPORTANCE_NOTE,
    }
    if folder is not None:
        attrs["folder"] = str(folder)
    if spec is not None:
        attrs["strategy"] = spec.strategy
        attrs["spec"] = spec.to_dict()
    return attrs


def write_optuna(
    trials: list[Trial],
    out: Path,
    *,
    curves: dict[int, list[MetricPoint]],
    space: SearchSpace,
    direction: str,
    metric: str,
    name: str,
    spec: StudySpec | None = None,
    folder: Path | None = None,
) -> Path:
    """Write the trials as one Optuna study named ``name`` into ``sqlite:///out`` (replaced if it exists)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if out.exists():
        out.unlink()
    study = optuna.create_study(
        storage=f"sqlite:///{out}", study_name=name, direction="maximize" if direction == "maximize" else "minimize"
    )
    if metric:
        with warnings.catch_warnings():  # experimental in Optuna 4, and what names the objective
            warnings.simplefilter("ignore")
            study.set_metric_names([metric])
    for key, value in study_attrs(spec, folder, metric, direction).items():
        study.set_user_attr(key, value)
    study.add_trials(frozen_trials(trials, space, curves, metric))
    return out

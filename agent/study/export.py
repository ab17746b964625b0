"""Export a study: a pandas DataFrame, CSV / JSON / Parquet files, or an Optuna storage.

The Optuna export writes ``sqlite:///FILE`` with one Optuna study (same name as ours) holding every
finished trial with its distributions, intermediate values of the objective and our provenance as user
attributes, so ``optuna-dashboard sqlite:///FILE`` shows it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.records import MetricPoint, Trial, TrialState
from agent.core.space import CategoricalParam, FloatParam, SearchSpace
from agent.errors import TunesmithError

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "json", "parquet", "optuna")


def trial_rows(trials: list[Trial]) -> list[dict[str, Any]]:
    rows = []
    for t in trials:
        row: dict[str, Any] = {
            "trial": t.number,
            "state": t.state.value,
            "value": t.value,
            "proposer": t.proposer.value,
            "strategy": t.strategy,
            "model": t.model,
            "rationale": t.rationale,
            "retry_of": t.retry_of,
            "duration_s": t.duration,
            "failure": t.failure.value if t.failure else None,
            "reason": t.reason,
        }
        row.update({f"param_{k}": v for k, v in t.params.items()})
        row.update({f"metric_{k}": v for k, v in t.metrics.items()})
        rows.append(row)
    return rows


def to_dataframe(trials: list[Trial]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(trial_rows(trials))


def export(
    trials: list[Trial],
    fmt: str,
    out: Path,
    *,
    curves: dict[int, list[MetricPoint]] | None = None,
    space: SearchSpace | None = None,
    direction: str = "maximize",
    metric: str = "",
    name: str = "tunesmith",
) -> Path:
    """Write ``trials`` to ``out`` in ``fmt``; returns the path written."""
    if fmt not in FORMATS:
        raise TunesmithError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "optuna":
        if space is None:
            raise TunesmithError("the optuna export needs the search space")
        return _to_optuna(trials, out, curves or {}, space, direction, metric, name)
    if fmt == "json":
        data = []
        for row, t in zip(trial_rows(trials), trials, strict=True):
            row["params"] = t.params
            row["metrics"] = t.metrics
            if curves is not None:
                row["curve"] = [p.model_dump(mode="json") for p in curves.get(t.number, [])]
            data.append({k: v for k, v in row.items() if not k.startswith(("param_", "metric_"))})
        out.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        return out
    df = to_dataframe(trials)
    if fmt == "csv":
        df.to_csv(out, index=False)
    else:
        for col in df.columns:  # parquet needs one type per column; mixed categoricals become text
            if df[col].dtype == object:
                df[col] = df[col].map(lambda v: None if v is None else str(v))
        df.to_parquet(out, index=False)
    return out


def _distributions(space: SearchSpace) -> dict[str, Any]:
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


def _to_optuna(
    trials: list[Trial],
    out: Path,
    curves: dict[int, list[MetricPoint]],
    space: SearchSpace,
    direction: str,
    metric: str,
    name: str,
) -> Path:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if out.exists():
        out.unlink()
    storage = f"sqlite:///{out}"
    study = optuna.create_study(
        storage=storage, study_name=name, direction="maximize" if direction == "maximize" else "minimize"
    )
    dists = _distributions(space)
    states = {
        TrialState.COMPLETE: optuna.trial.TrialState.COMPLETE,
        TrialState.PRUNED: optuna.trial.TrialState.PRUNED,
        TrialState.FAILED: optuna.trial.TrialState.FAIL,
        TrialState.TIMEOUT: optuna.trial.TrialState.FAIL,
    }
    frozen = []
    for t in trials:
        state = states.get(t.state)
        if state is None:
            continue
        params = {k: v for k, v in t.params.items() if k in dists and dists[k]._contains(dists[k].to_internal_repr(v))}
        inter = {}
        for i, p in enumerate(curves.get(t.number, [])):
            v = p.values.get(metric)
            if v is not None and math.isfinite(v):
                inter[p.step if p.step is not None else i] = v
        ok = state == optuna.trial.TrialState.COMPLETE and t.value is not None
        frozen.append(
            optuna.trial.create_trial(
                state=state,
                value=t.value if ok else None,
                params=params,
                distributions={k: dists[k] for k in params},
                intermediate_values=inter,
                user_attrs={
                    "tunesmith_trial": t.number,
                    "proposer": t.proposer.value,
                    "reason": t.reason or "",
                    "strategy": t.strategy or "",
                },
            )
        )
    study.add_trials(frozen)
    return out

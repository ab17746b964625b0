"""A study as Weights & Biases runs, written offline (``tunesmith export DIR -f wandb``): nothing leaves the
machine until you run ``wandb sync``.

Contract of ``write_wandb``:

* One offline run per trial, in number order, named ``trial-N``, in the project and group named after the
  study (so the W&B UI shows the study as one group), ``job_type`` = the trial's state, tags = its state and
  proposer. ``config`` holds the params (with the spec's ``fixed`` ones, and ``tunesmith_trial``).
* The reported curve is the run's history (each report at its step; the report index when it gave none);
  the summary holds the final metrics, the state, the objective's value, the duration, the reason and the
  proposer's rationale. A trial that did not complete finishes with exit code 1.
* Runs are written under ``out/wandb/offline-run-*`` (``out``: default the study folder's ``wandb``); upload
  them with ``wandb sync OUT/wandb/offline-run-*``. No API key is read or needed. Re-exporting writes new
  runs (W&B offline runs cannot be replaced); export into an empty folder to avoid duplicates.
* Needs ``wandb`` (``pip install 'tunesmith[tracking]'``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from agent.core.records import MetricPoint, Trial
from agent.errors import TunesmithError


def write_wandb(
    trials: list[Trial],
    out: Path,
    *,
    curves: dict[int, list[MetricPoint]],
    metric: str,
    name: str,
    fixed: dict[str, Any] | None = None,
) -> str:
    """Write one offline W&B run per trial under ``out`` (module docstring); returns what to print."""
    try:
        import wandb
    except ImportError:
        raise TunesmithError(
            "the wandb export needs wandb; install it with: pip install 'tunesmith[tracking]'"
        ) from None
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(trials, key=lambda t: t.number)
    try:
        for t in ordered:
            log_trial(wandb, t, curves.get(t.number, []), out=out, name=name, metric=metric, fixed=fixed or {})
    finally:
        wandb.teardown()
    return f"{out / 'wandb'} ({len(ordered)} offline runs; upload: wandb sync {out / 'wandb'}/offline-run-*)"


def settings(wandb: Any) -> Any:
    """W&B settings for runs written from tunesmith's process: nothing on the console, no system stats."""
    return wandb.Settings(silent=True, console="off", x_disable_stats=True, x_disable_meta=True)


def log_trial(
    wandb: Any,
    t: Trial,
    curve: list[MetricPoint],
    *,
    out: Path,
    name: str,
    metric: str,
    fixed: dict[str, Any],
    mode: str = "offline",
) -> None:
    """Write one trial as a W&B run under ``out`` (module docstring), in ``mode`` (offline unless asked)."""
    run = wandb.init(
        mode=mode,
        dir=str(out),
        project=name,
        group=name,
        name=f"trial-{t.number}",
        job_type=t.state.value,
        tags=[t.state.value, t.proposer.value],
        config={**fixed, **t.params, "tunesmith_trial": t.number},
        reinit="finish_previous",
        settings=settings(wandb),
    )
    last = -1
    for i, point in enumerate(curve):
        step = point.step if point.step is not None else i
        step = max(step, last + 1)  # W&B needs increasing steps; a repeated step goes on to the next
        values = {k: v for k, v in point.values.items() if math.isfinite(v)}
        if values:
            run.log(values, step=step)
            last = step
    summary: dict[str, Any] = {k: v for k, v in t.metrics.items() if math.isfinite(v)}
    summary.update(
        state=t.state.value,
        proposer=t.proposer.value,
        duration_s=t.duration,
        reason=t.reason,
        rationale=t.rationale,
    )
    if t.value is not None and math.isfinite(t.value):
        summary[metric] = t.value
    run.summary.update({k: v for k, v in summary.items() if v is not None})
    run.finish(exit_code=0 if t.ok else 1)

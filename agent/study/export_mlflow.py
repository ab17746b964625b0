"""A study as MLflow runs, for teams that track experiments in MLflow (``tunesmith export DIR -f mlflow``).

Contract of ``write_mlflow``:

* The experiment is named after the study (created when missing). One parent run stands for the study (its
  strategy, objective and best value; ``tunesmith.kind = study``) and one nested run per trial
  (``mlflow.parentRunId``; run name ``trial-N``), in number order.
* A trial run has the trial's params (with the spec's ``fixed`` ones, which every trial got too), its
  reported curve as metric history (each value at its step, the report index when it gave none, with its
  real time), its final metrics, and tags for its number, state, proposer,
  strategy, reason and rationale. Its start and end are the trial's. Status: complete -> FINISHED, failed and
  timeout -> FAILED, pruned and cancelled -> KILLED, running -> RUNNING. Values that are not finite are left
  out (MLflow's stores disagree on them).
* Re-exporting the same study folder replaces its earlier runs in that experiment (they are deleted, as the
  MLflow UI deletes: recoverable until garbage-collected), so an export is a snapshot, never a duplicate.
* ``uri`` is any MLflow tracking URI (``sqlite:///mlflow.db``, ``file:///path/mlruns``, ``http://host:5000``);
  a plain path becomes ``sqlite:///PATH``. Only ``mlflow-skinny`` is needed (``pip install 'tunesmith[tracking]'``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.records import MetricPoint, Trial, TrialState, best_trial
from agent.errors import TunesmithError

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from agent.core.spec import StudySpec

STATUS = {
    TrialState.COMPLETE: "FINISHED",
    TrialState.FAILED: "FAILED",
    TrialState.TIMEOUT: "FAILED",
    TrialState.PRUNED: "KILLED",
    TrialState.CANCELLED: "KILLED",
}
_TAG_CHARS = 5000  # MLflow keeps tag values up to 8,000 characters


def tracking_uri(target: str | Path) -> str:
    """``target`` as a tracking URI: a URI is kept, a plain path becomes ``sqlite:///ABSOLUTE_PATH``."""
    text = str(target)
    if "://" in text or text.startswith("sqlite:"):
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def millis(ts: float | None) -> int | None:
    return None if ts is None else int(ts * 1000)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def write_mlflow(
    trials: list[Trial],
    uri: str,
    *,
    curves: dict[int, list[MetricPoint]],
    metric: str,
    direction: str,
    name: str,
    spec: StudySpec | None = None,
    folder: Path | None = None,
    fixed: dict[str, Any] | None = None,
) -> str:
    """Write the study's runs to the MLflow tracking store at ``uri`` (module docstring); returns the URI and
    experiment as one string to print."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise TunesmithError(
            "the mlflow export needs MLflow; install it with: pip install 'tunesmith[tracking]'"
        ) from None
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # not its "creating tables" lines on our terminal
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(name)
    experiment = found.experiment_id if found is not None else client.create_experiment(name)
    source = str(folder) if folder is not None else name
    _delete_earlier(client, experiment, source)
    ordered = sorted(trials, key=lambda t: t.number)
    starts = [t.started_at for t in ordered if t.started_at is not None]
    ends = [t.finished_at for t in ordered if t.finished_at is not None]
    parent = client.create_run(
        experiment,
        start_time=millis(min(starts)) if starts else None,
        run_name=name,
        tags={"tunesmith.kind": "study", "tunesmith.folder": source},
    )
    pid = parent.info.run_id
    study_params = {"metric": metric, "direction": direction, "trials": len(ordered)}
    if spec is not None:
        study_params.update(strategy=spec.strategy, seed=spec.seed)
    best = best_trial(ordered, direction)
    study_metrics = {f"best_{metric}": best.value} if best is not None and best.value is not None else {}
    log_to_run(
        client, pid, params=study_params, metrics=study_metrics, tags={"tunesmith.best_trial": best and best.number}
    )
    for t in ordered:
        log_trial_run(client, experiment, pid, t, curves.get(t.number, []), source, fixed or {})
    client.set_terminated(pid, status="FINISHED", end_time=millis(max(ends)) if ends else None)
    return f"{uri} (experiment '{name}', {len(ordered)} trial runs under the run '{name}')"


def _delete_earlier(client: MlflowClient, experiment: str, source: str) -> None:
    if "'" in source:
        return  # MLflow's filter grammar has no escape for it: an earlier export stays (rare: a quote in a path)
    for run in client.search_runs([experiment], filter_string=f"tags.`tunesmith.folder` = '{source}'"):
        client.delete_run(run.info.run_id)


def log_trial_run(
    client: MlflowClient,
    experiment: str,
    parent: str,
    t: Trial,
    curve: list[MetricPoint],
    source: str,
    fixed: dict[str, Any],
) -> None:
    run = client.create_run(
        experiment,
        start_time=millis(t.started_at or t.created_at),
        run_name=f"trial-{t.number}",
        tags={"mlflow.parentRunId": parent, "tunesmith.folder": source, "tunesmith.trial": str(t.number)},
    )
    tags: dict[str, Any] = {
        "tunesmith.state": t.state.value,
        "tunesmith.proposer": t.proposer.value,
        "tunesmith.strategy": t.strategy,
        "tunesmith.reason": t.reason,
        "tunesmith.rationale": t.rationale,
        "tunesmith.retry_of": t.retry_of,
    }
    history: list[tuple[str, float, int, int]] = []
    seen: set[str] = set()
    for i, point in enumerate(curve):
        step = point.step if point.step is not None else i
        for key, value in point.values.items():
            history.append((key, value, millis(point.time) or 0, step))
            seen.add(key)
    last_step = history[-1][3] if history else 0
    end = millis(t.finished_at) or int(time.time() * 1000)
    for key, value in t.metrics.items():
        if key not in seen:  # a final metric the curve does not hold: logged once, at the last step
            history.append((key, value, end, last_step))
    log_to_run(client, run.info.run_id, params={**fixed, **t.params}, history=history, tags=tags)
    if t.state is not TrialState.RUNNING:
        client.set_terminated(run.info.run_id, status=STATUS.get(t.state, "KILLED"), end_time=end)


def log_to_run(
    client: MlflowClient,
    run_id: str,
    *,
    params: dict[str, Any],
    tags: dict[str, Any],
    metrics: dict[str, float] | None = None,
    history: list[tuple[str, float, int, int]] | None = None,
) -> None:
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    rows = list(history or []) + [(k, v, now, 0) for k, v in (metrics or {}).items()]
    metric_rows = [Metric(k, float(v), ts, step) for k, v, ts, step in rows if math.isfinite(v)]
    param_rows = [Param(str(k), str(v)[:6000]) for k, v in params.items() if v is not None]
    tag_rows = [RunTag(k, str(v)[:_TAG_CHARS]) for k, v in tags.items() if v is not None and v != ""]
    for chunk in _chunks(param_rows, 100):
        client.log_batch(run_id, params=list(chunk))
    for chunk in _chunks(tag_rows, 100):
        client.log_batch(run_id, tags=list(chunk))
    for chunk in _chunks(metric_rows, 1000):
        client.log_batch(run_id, metrics=list(chunk))

"""Export a study: a pandas DataFrame, CSV / JSON / Parquet files, an Optuna storage, or the runs of an
experiment tracker (MLflow: export_mlflow.py; Weights & Biases, offline: export_wandb.py).

Every format keeps what happened: one row per trial whatever its state (a failed, pruned, timed-out or
cancelled trial keeps its params beside its reason), with its start and end times (``started_at``,
``finished_at``: UTC; in the DataFrame and Parquet as timestamps, in CSV and JSON as ISO 8601 text) and
its duration. The Optuna export (export_optuna.py) writes ``sqlite:///FILE`` for ``optuna-dashboard``.

``export_session`` is the one call a face needs: it passes everything the study folder knows (the
current space, the spec, the folder) so the exported file says where it came from.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.records import MetricPoint, Trial
from agent.core.space import SearchSpace
from agent.errors import TunesmithError

if TYPE_CHECKING:
    import pandas as pd

    from agent.core.spec import StudySpec
    from agent.study.session import Session

FORMATS = ("csv", "json", "parquet", "optuna")
TRACKERS = ("mlflow", "wandb")
SUFFIXES = {"csv": "csv", "json": "json", "parquet": "parquet", "optuna": "optuna.db"}
TIME_COLUMNS = ("started_at", "finished_at")


def _utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def trial_rows(trials: list[Trial]) -> list[dict[str, Any]]:
    """One flat row per trial, in number order: state, value, provenance, times (UTC datetimes), the
    failure reason, then ``param_NAME`` and ``metric_NAME`` columns (params for every state)."""
    rows = []
    for t in sorted(trials, key=lambda t: t.number):
        row: dict[str, Any] = {
            "trial": t.number,
            "state": t.state.value,
            "value": t.value,
            "proposer": t.proposer.value,
            "strategy": t.strategy,
            "model": t.model,
            "started_at": _utc(t.started_at),
            "finished_at": _utc(t.finished_at),
            "duration_s": t.duration,
            "failure": t.failure.value if t.failure else None,
            "reason": t.reason,
            "rationale": t.rationale,
            "retry_of": t.retry_of,
        }
        if t.lineage is not None:  # a segment of Population Based Training (agent/study/pbt.py)
            lin = t.lineage
            row.update(
                member=lin.member,
                segment=lin.kind,
                parent=lin.parent,
                parent_member=lin.parent_member,
                start_step=lin.start_step,
            )
        for key in ("duplicate_of", "equivalent_to"):  # a result copied from another trial (dedupe.py)
            if key in t.info:
                row[key] = t.info[key]
        row.update({f"param_{k}": v for k, v in t.params.items()})
        row.update({f"metric_{k}": v for k, v in t.metrics.items()})
        rows.append(row)
    return rows


def to_dataframe(trials: list[Trial]) -> pd.DataFrame:
    """``trial_rows`` as a DataFrame; ``started_at``/``finished_at`` are ``datetime64[ns, UTC]``."""
    import pandas as pd

    df = pd.DataFrame(trial_rows(trials))
    for col in TIME_COLUMNS:
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True)
    return df


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
    spec: StudySpec | None = None,
    folder: Path | None = None,
) -> Path:
    """Write ``trials`` to ``out`` in ``fmt``; returns the path written. ``spec`` and ``folder`` (when
    given) are recorded in the Optuna study's user attributes."""
    if fmt not in FORMATS:
        raise TunesmithError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "optuna":
        if space is None:
            raise TunesmithError("the optuna export needs the search space")
        from agent.study.export_optuna import write_optuna

        return write_optuna(
            trials,
            out,
            curves=curves or {},
            space=space,
            direction=direction,
            metric=metric,
            name=name,
            spec=spec,
            folder=folder,
        )
    if fmt == "json":
        out.write_text(json.dumps(_json_rows(trials, curves), indent=2, default=str), encoding="utf-8")
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


def _json_rows(trials: list[Trial], curves: dict[int, list[MetricPoint]] | None) -> list[dict[str, Any]]:
    by_number = {t.number: t for t in trials}
    data = []
    for row in trial_rows(trials):
        t = by_number[row["trial"]]
        for col in TIME_COLUMNS:
            row[col] = row[col].isoformat() if row[col] is not None else None
        row["params"] = t.params
        row["metrics"] = t.metrics
        if curves is not None:
            row["curve"] = [p.model_dump(mode="json") for p in curves.get(t.number, [])]
        data.append({k: v for k, v in row.items() if not k.startswith(("param_", "metric_"))})
    return data


def export_session(session: Session, fmt: str, out: Path) -> Path:
    """Export the study ``session`` holds with all it knows: its trials, their curves (JSON and Optuna),
    the current search space, the spec and the folder."""
    spec = session.state.refresh().spec
    trials = session.trials()
    curves = {t.number: session.metrics(t.number) for t in trials} if fmt in ("json", "optuna") else None
    return export(
        trials,
        fmt,
        out,
        curves=curves,
        space=session.state.space,
        direction=spec.direction,
        metric=spec.metric,
        name=spec.name or session.dir.name,
        spec=spec,
        folder=session.dir,
    )


def export_to_tracker(session: Session, fmt: str, target: str | None = None) -> str:
    """Write the study ``session`` holds to an experiment tracker: ``mlflow`` (``target``: a tracking URI or a
    path, default ``sqlite:///DIR/mlflow.db``) or ``wandb`` (offline runs under ``target``, default the study
    folder). Returns one line saying where it went and how to look."""
    if fmt not in TRACKERS:
        raise TunesmithError(f"unknown tracker '{fmt}'; choose one of {', '.join(TRACKERS)}")
    spec = session.state.refresh().spec
    trials = session.trials()
    curves = {t.number: session.metrics(t.number) for t in trials}
    name = spec.name or session.dir.name
    if fmt == "mlflow":
        from agent.study.export_mlflow import tracking_uri, write_mlflow

        uri = tracking_uri(target or session.dir / "mlflow.db")
        return write_mlflow(
            trials,
            uri,
            curves=curves,
            metric=spec.metric,
            direction=spec.direction,
            name=name,
            spec=spec,
            folder=session.dir,
            fixed=spec.fixed,
        )
    from agent.study.export_wandb import write_wandb

    folder = Path(target) if target else session.dir
    return write_wandb(trials, folder, curves=curves, metric=spec.metric, name=name, fixed=spec.fixed)

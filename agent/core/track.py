"""``track:`` of a spec: experiment trackers a study logs to while it runs, each trial as it ends.

``track: {wandb: PROJECT}`` (or ``true``: the study's name): one W&B run per trial, offline under ``DIR/wandb``
unless ``WANDB_MODE=online`` is set where tunesmith runs (agent/study/track_wandb.py).

``track: {mlflow: TARGET}``: ``TARGET`` is an MLflow tracking URI (``sqlite:///mlflow.db``,
``file:///abs/mlruns``, ``http://host:5000``), a path (a SQLite store; relative to the spec file's folder), or
``true`` (``DIR/mlflow.db`` in the study folder). Credentials never go in the URI (the spec is stored in the study
folder and shown by every face): MLflow reads them from ``MLFLOW_TRACKING_USERNAME`` / ``..._PASSWORD`` /
``..._TOKEN`` in tunesmith's environment, which trials never see. agent/study/tracking.py logs; the runs are
the ones ``tunesmith export DIR -f mlflow`` writes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@]*@", re.IGNORECASE)


class TrackSpec(BaseModel):
    """Where a study logs live (module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mlflow: str | bool | None = Field(
        default=None, description="MLflow tracking URI or path (true: DIR/mlflow.db); each trial logged as it ends"
    )
    wandb: str | bool | None = Field(
        default=None,
        description="W&B project (true: the study's name); offline runs in DIR/wandb unless WANDB_MODE=online",
    )

    @field_validator("mlflow")
    @classmethod
    def _no_credentials(cls, value: str | bool | None) -> str | bool | None:
        if isinstance(value, str) and _USERINFO.match(value.strip()):
            raise ValueError(
                "the tracking URI holds credentials; remove user:password@ and set MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) where tunesmith runs"
            )
        if isinstance(value, str) and not value.strip():
            raise ValueError("the tracking URI is empty; give a URI, a path, or true for DIR/mlflow.db")
        return value.strip() if isinstance(value, str) else value or None

    @field_validator("wandb")
    @classmethod
    def _project(cls, value: str | bool | None) -> str | bool | None:
        if isinstance(value, str) and (not value.strip() or "/" in value):
            raise ValueError("the W&B project is a name (no '/'); give it, or true for the study's name")
        return value.strip() if isinstance(value, str) else value or None


def resolve_track(track: Any, base: Path) -> Any:
    """``track`` (raw spec data) with a relative path for ``mlflow`` made absolute against ``base``."""
    if not isinstance(track, dict) or not isinstance(track.get("mlflow"), str):
        return track
    target = track["mlflow"].strip()
    if "://" in target or target.startswith("sqlite:") or not target:
        return track
    path = Path(target).expanduser()
    return {**track, "mlflow": str(path if path.is_absolute() else (base / path).resolve())}

"""``WandbSink``: the ``TrackerSink`` (agent/study/tracking.py) of ``track: {wandb: ...}``.

Each finished trial becomes a W&B run laid out as ``tunesmith export DIR -f wandb`` lays it out
(agent/study/export_wandb.py): project and group named after the study (or the project the spec names), run
``trial-N``, config = params, history = the curve, summary = final metrics and state. Runs are offline under
``DIR/wandb`` (``wandb sync DIR/wandb/offline-run-*`` uploads them) unless ``WANDB_MODE=online`` is set where
tunesmith runs (with W&B's own login or ``WANDB_API_KEY``, which trials never see). The trials logged are
listed in ``DIR/wandb/tunesmith-logged.json``, so a resumed study does not log one twice. W&B has no study
run: the study's best value is in the trials' summaries.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from agent.core.records import MetricPoint, Trial
from agent.errors import require
from agent.study.export_wandb import log_trial

if TYPE_CHECKING:
    from agent.core.spec import StudySpec

LOGGED = "tunesmith-logged.json"


class WandbSink:
    """Logs a study's trials as W&B runs as they end (module docstring)."""

    name = "wandb"
    later = "-f wandb"

    def __init__(self, project: str | bool, *, spec: StudySpec, folder: Path) -> None:
        require("wandb", "tracking")  # refused before the study runs, not in the background thread
        self.project = project if isinstance(project, str) else (spec.name or folder.name)
        self.spec = spec
        self.out = folder
        self.mode = "online" if os.environ.get("WANDB_MODE", "").lower() == "online" else "offline"
        self._logged: list[int] = []

    @property
    def record(self) -> Path:
        return self.out / "wandb" / LOGGED

    def open(self) -> set[int]:
        try:
            self._logged = [int(n) for n in json.loads(self.record.read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError):
            self._logged = []
        return set(self._logged)

    def trial(self, trial: Trial, curve: list[MetricPoint]) -> None:
        import wandb

        self.out.mkdir(parents=True, exist_ok=True)
        log_trial(
            wandb,
            trial,
            curve,
            out=self.out,
            name=self.project,
            metric=self.spec.metric,
            fixed=self.spec.fixed,
            mode=self.mode,
        )
        self._logged.append(trial.number)
        tmp = self.record.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._logged), encoding="utf-8")
        tmp.replace(self.record)

    def close(self, best: Trial | None, status: str) -> None:
        import wandb

        wandb.teardown()

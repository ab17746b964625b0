"""``MlflowSink``: the ``TrackerSink`` (agent/study/tracking.py) of ``track: {mlflow: URI}``.

Runs are laid out as ``tunesmith export DIR -f mlflow`` lays them out (agent/study/export_mlflow.py): an
experiment named after the study, one parent run for the study (``tunesmith.kind = study``, tagged with the
study folder) and one nested run per trial (``trial-N``). On resume the parent run of the same folder is found
and continued, and the trials it already holds are not logged again. An export later replaces these runs with
its snapshot, so live logging and export never duplicate each other.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.records import MetricPoint, Trial
from agent.errors import require
from agent.study.export_mlflow import log_to_run, log_trial_run, millis, tracking_uri

_HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from agent.core.spec import StudySpec


class MlflowSink:
    """Logs a study's trials to the MLflow tracking store ``target`` as they end (module docstring)."""

    name = "mlflow"

    def __init__(self, target: str | bool, *, spec: StudySpec, folder: Path) -> None:
        require("mlflow", "tracking")  # refused before the study runs, not in the background thread
        self.uri = tracking_uri(folder / "mlflow.db" if target is True else str(target))
        self.later = f"-f mlflow -o {self.uri}"
        self.spec = spec
        self.folder = folder
        self.experiment_name = spec.name or folder.name
        self._client: MlflowClient | None = None
        self._experiment = ""
        self._parent = ""

    @property
    def source(self) -> str:
        return str(self.folder)

    def open(self) -> set[int]:
        from mlflow.tracking import MlflowClient

        logging.getLogger("mlflow").setLevel(logging.WARNING)
        # MLflow's HTTP client retries a dead server for minutes by default; a live log should rather give up
        # soon and leave the runs to an export (the person's own settings win).
        for name, value in _HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        client = self._client = MlflowClient(tracking_uri=self.uri)
        found = client.get_experiment_by_name(self.experiment_name)
        self._experiment = found.experiment_id if found is not None else client.create_experiment(self.experiment_name)
        runs = self._runs(client)
        parents = [r for r in runs if r.data.tags.get("tunesmith.kind") == "study"]
        if parents:  # a resumed study: its run goes on
            self._parent = max(parents, key=lambda r: r.info.start_time or 0).info.run_id
            client.update_run(self._parent, status="RUNNING")
            return {
                int(r.data.tags["tunesmith.trial"])
                for r in runs
                if r.data.tags.get("mlflow.parentRunId") == self._parent and "tunesmith.trial" in r.data.tags
            }
        run = client.create_run(
            self._experiment,
            start_time=int(time.time() * 1000),
            run_name=self.experiment_name,
            tags={"tunesmith.kind": "study", "tunesmith.folder": self.source},
        )
        self._parent = run.info.run_id
        params: dict[str, Any] = {"metric": self.spec.metric, "direction": self.spec.direction}
        params.update(strategy=self.spec.strategy, seed=self.spec.seed)
        log_to_run(client, self._parent, params=params, tags={})
        return set()

    def _runs(self, client: MlflowClient) -> list[Any]:
        if "'" in self.source:
            return []  # MLflow's filter grammar has no escape for it: a resumed study starts a new run
        found: list[Any] = []
        token = None
        while True:
            page = client.search_runs(
                [self._experiment],
                filter_string=f"tags.`tunesmith.folder` = '{self.source}'",
                max_results=1000,
                page_token=token,
            )
            found += list(page)
            token = page.token
            if not token:
                return found

    def trial(self, trial: Trial, curve: list[MetricPoint]) -> None:
        assert self._client is not None, "open() first"
        log_trial_run(self._client, self._experiment, self._parent, trial, curve, self.source, self.spec.fixed)

    def close(self, best: Trial | None, status: str) -> None:
        assert self._client is not None, "open() first"
        metrics = {f"best_{self.spec.metric}": best.value} if best is not None and best.value is not None else {}
        tags = {"tunesmith.best_trial": best.number if best is not None else None}
        log_to_run(self._client, self._parent, params={}, metrics=metrics, tags=tags)
        self._client.set_terminated(self._parent, status=status, end_time=millis(time.time()))

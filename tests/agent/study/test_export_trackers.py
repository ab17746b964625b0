"""Exports to experiment trackers keep the truth: MLflow runs (nested under the study's run) and offline W&B
runs carry every trial's params, curve by step, final metrics, state and reason; a re-export to MLflow
replaces the study's runs instead of adding copies; nothing needs a network or a key."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import MetricPoint
from agent.study.export_mlflow import tracking_uri, write_mlflow
from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec
from tests.agent.study.test_export import STATES, history
from tests.conftest import run_cli

CURVES = {
    0: [MetricPoint(step=0, values={"acc": 0.05, "loss": 2.0}), MetricPoint(step=3, values={"acc": 0.0})],
    5: [MetricPoint(step=None, values={"acc": 0.4}), MetricPoint(step=None, values={"acc": 0.5})],
}


def test_mlflow_runs_nest_under_the_study_with_curves_states_and_reasons(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(tmp_path / "mlflow.db")
    assert uri == f"sqlite:///{tmp_path / 'mlflow.db'}" and tracking_uri("http://h:5000") == "http://h:5000"
    trials = history()
    for _ in range(2):  # the second export replaces the first
        write_mlflow(
            trials, uri, curves=CURVES, metric="acc", direction="maximize", name="n", folder=tmp_path, fixed={"e": 3}
        )
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("n")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == len(STATES) + 1  # not twice as many
    (study,) = [r for r in runs if r.data.tags.get("tunesmith.kind") == "study"]
    assert study.data.metrics == {"best_acc": 0.6} and study.data.tags["tunesmith.best_trial"] == "6"
    by_trial = {int(r.data.tags["tunesmith.trial"]): r for r in runs if "tunesmith.trial" in r.data.tags}
    assert sorted(by_trial) == list(range(len(STATES)))
    for number, run in by_trial.items():
        t = trials[number]
        assert run.data.tags["mlflow.parentRunId"] == study.info.run_id and run.info.run_name == f"trial-{number}"
        assert run.data.tags["tunesmith.state"] == STATES[number]
        assert run.data.params == {"x": str(t.params["x"]), "k": "b", "e": "3"}
        assert run.info.start_time == int((t.started_at or 0) * 1000)
    statuses = [by_trial[n].info.status for n in range(len(STATES))]
    assert statuses == ["FINISHED", "KILLED", "FAILED", "FINISHED", "FAILED", "KILLED", "FINISHED", "RUNNING"]
    assert by_trial[2].data.tags["tunesmith.reason"] == "failed because"
    steps = [(m.step, m.value) for m in client.get_metric_history(by_trial[0].info.run_id, "acc")]
    assert sorted(steps) == [(0, 0.05), (3, 0.0)]  # each report at its own step
    assert [m.step for m in client.get_metric_history(by_trial[5].info.run_id, "acc")] == [0, 1]  # no step: index


def test_wandb_offline_runs_hold_config_history_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    from agent.study.export_wandb import write_wandb

    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_DISABLE_GIT", "true")
    message = write_wandb(history(), tmp_path, curves=CURVES, metric="acc", name="n", fixed={"e": 3})
    assert "wandb sync" in message
    runs = sorted((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == len(STATES)
    files = [next(r.glob("run-*.wandb")) for r in runs]
    assert all(f.stat().st_size > 0 for f in files)
    # the data as W&B's own protobuf records, read back from the offline files
    seen = {}
    for f in files:
        recs = wandb_records(f)
        (run,) = [r.run for r in recs if r.HasField("run")]
        config = {i.key: json.loads(i.value_json) for i in run.config.update}
        history_steps = [r.history.step.num for r in recs if r.HasField("history")]
        summary = {i.key: json.loads(i.value_json) for r in recs if r.HasField("summary") for i in r.summary.update}
        seen[config["tunesmith_trial"]] = (run, config, history_steps, summary)
    assert sorted(seen) == list(range(len(STATES)))
    run, config, steps, summary = seen[0]
    assert run.display_name == "trial-0" and run.run_group == "n" and run.project == "n"
    assert config["x"] == 0.0 and config["k"] == "b" and config["e"] == 3
    assert steps == [0, 3] and summary["state"] == "complete" and summary["acc"] == 0.0
    _, _, _, failed = seen[2]
    assert failed["state"] == "failed" and failed["reason"] == "failed because"


def wandb_records(path: Path) -> list[Any]:
    """The records of a ``.wandb`` file: a 7-byte header (``:W&B``, magic, version), then LevelDB's log format
    (32 KiB blocks of chunks: crc32, length, type FULL/FIRST/MIDDLE/LAST) holding serialized ``Record``s."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, chunks, parts = 7, [], b""
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # a block's tail too short for a header is padding
            pos += 32768 - pos % 32768
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 1:
            chunks.append(chunk)
        elif kind in (2, 3):
            parts += chunk
        elif kind == 4:
            chunks.append(parts + chunk)
            parts = b""
    out = []
    for chunk in chunks:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(chunk)
        out.append(record)
    return out


def test_cli_exports_a_study_to_mlflow(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    session = Session.create(small_spec(budget={"max_trials": 3}), tmp_path / "study")
    session.close()
    Runner(session.dir).start().join()
    res = run_cli("export", str(session.dir), "-f", "mlflow")
    assert res.returncode == 0, res.stderr
    assert f"wrote sqlite:///{session.dir / 'mlflow.db'} (experiment 'steer', 3 trial runs" in res.stdout
    assert "INFO" not in res.stderr
    bad = run_cli("export", str(session.dir), "-f", "comet")
    assert bad.returncode != 0 and "unknown export format 'comet'" in bad.stderr


def test_a_missing_tracker_package_is_one_line_with_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from agent.errors import TunesmithError
    from agent.study.export_wandb import write_wandb

    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # an import of it fails, as when not installed
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(TunesmithError, match=r"pip install 'tunesmith\[tracking\]'"):
        write_mlflow(history(), "sqlite:///x.db", curves={}, metric="acc", direction="maximize", name="n")
    with pytest.raises(TunesmithError, match=r"pip install 'tunesmith\[tracking\]'"):
        write_wandb(history(), tmp_path, curves={}, metric="acc", name="n")

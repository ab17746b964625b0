"""Live logging to a tracker (``track:``): each trial is logged once as it ends, a resumed study goes on in the
same runs, and a failing or dead tracker is said once while the study goes on. The real MLflow runs against a
SQLite store and a dead HTTP port; no network, no key."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.core.events import TrackerFailed, payload
from agent.core.records import EventKind, MetricPoint, Trial
from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.study.session import Session
from agent.study.tracking import LiveTracker
from sandbox.fake import InProcessExecutor
from tests.agent.faces.conftest import small_spec
from tests.conftest import run_cli


class FakeSink:
    """A tracker that remembers what it was given, and may fail from its ``fail_at``-th trial on."""

    name = "fake"

    def __init__(self, held: set[int] | None = None, fail_at: int | None = None) -> None:
        self.held = set(held or ())
        self.fail_at = fail_at
        self.trials: list[tuple[int, int]] = []  # (number, points in its curve)
        self.closed: list[tuple[int | None, str]] = []
        self.threads: set[str] = set()

    def open(self) -> set[int]:
        self.threads.add(threading.current_thread().name)
        return set(self.held)

    def trial(self, trial: Trial, curve: list[MetricPoint]) -> None:
        if self.fail_at is not None and len(self.trials) >= self.fail_at:
            raise ConnectionError("tracking server said 503")
        self.trials.append((trial.number, len(curve)))

    def close(self, best: Trial | None, status: str) -> None:
        self.closed.append((best.number if best else None, status))


def _run(session: Session, sink: FakeSink, errors: list[str]) -> None:
    tracker = LiveTracker(
        sink,
        read=lambda n: (session.store.trial(n), session.store.metrics(n)),
        trials=session.store.trials,
        direction=session.spec.direction,
        on_error=errors.append,
    )
    session.run(executor=InProcessExecutor(capacity=2), observers=[tracker], tick=0.01)


def test_each_trial_is_logged_once_in_the_background_and_a_resume_skips_what_the_tracker_holds(
    tmp_path: Path,
) -> None:
    session = Session.create(small_spec(budget={"max_trials": 5}, workers=2), tmp_path / "s")
    sink, errors = FakeSink(), []
    _run(session, sink, errors)
    assert sorted(n for n, _ in sink.trials) == [0, 1, 2, 3, 4]
    assert all(points == 4 for _, points in sink.trials)  # its 3 steps and its result
    best = session.best()
    assert sink.closed == [(best.number if best else None, "FINISHED")] and errors == []
    assert sink.threads == {"tracker-fake"}  # not the engine's thread
    session.close()
    again = Session.open(tmp_path / "s")
    again.state.set_budget(again.spec.budget.model_copy(update={"max_trials": 7}), rationale="more", source="test")
    resumed = FakeSink(held={0, 1, 2, 3, 4})
    _run(again, resumed, errors)
    assert sorted(n for n, _ in resumed.trials) == [5, 6]


def test_a_failing_tracker_is_said_once_and_the_study_goes_on(tmp_path: Path) -> None:
    session = Session.create(small_spec(budget={"max_trials": 6}), tmp_path / "s")
    sink, errors = FakeSink(fail_at=2), []
    _run(session, sink, errors)
    assert len(session.trials()) == 6  # every trial ran
    assert [n for n, _ in sink.trials] == [0, 1] and sink.closed == []  # left alone after its failure
    assert errors == ["ConnectionError: tracking server said 503"]


def test_track_takes_a_uri_a_path_or_true_and_refuses_credentials_in_the_uri(tmp_path: Path) -> None:
    base = small_spec().to_dict()
    assert load_spec({**base, "track": {"mlflow": "runs/ml.db"}}, base_dir=tmp_path).track.mlflow == str(  # type: ignore[union-attr]
        tmp_path / "runs" / "ml.db"
    )
    uri = load_spec({**base, "track": {"mlflow": "http://127.0.0.1:5000"}})
    assert uri.track is not None and uri.track.mlflow == "http://127.0.0.1:5000" and load_spec(uri.to_dict()) == uri
    with pytest.raises(SpecError, match="holds credentials; remove user:password@ and set MLFLOW_TRACKING_USERNAME"):
        load_spec({**base, "track": {"mlflow": "https://me:s3cret@mlflow.example.com"}})
    with pytest.raises(SpecError, match=r"track.neptune: unknown key 'neptune'; allowed keys: mlflow, wandb"):
        load_spec({**base, "track": {"neptune": True}})
    with pytest.raises(SpecError, match=r"track.wandb: the W&B project is a name \(no '/'\)"):
        load_spec({**base, "track": {"wandb": "team/project"}})


SCRIPT = """
import tunesmith
p = tunesmith.params()
for step in range(3):
    tunesmith.report(step=step, loss=(p["x"] - 0.3) ** 2 + 1.0 / (step + 1))
"""


def _study(tmp_path: Path, track: Any, trials: int = 4, **trackers: Any) -> Path:
    (tmp_path / "train.py").write_text(SCRIPT)
    spec = {
        "name": "live",
        "objective": {"metric": "loss", "direction": "minimize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": trials},
        "strategy": "random",
        "seed": 0,
        "track": {"mlflow": track, **trackers},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path / "spec.yaml"


def test_a_study_logs_to_mlflow_as_it_runs_and_goes_on_in_the_same_runs_after_resume(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    res = run_cli("tune", str(_study(tmp_path, True)), "--dir", str(tmp_path / "s"), "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / 's' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("live")
    assert experiment is not None

    def runs() -> tuple[Any, dict[int, Any]]:
        found = client.search_runs([experiment.experiment_id])
        (study,) = [r for r in found if r.data.tags.get("tunesmith.kind") == "study"]
        return study, {int(r.data.tags["tunesmith.trial"]): r for r in found if "tunesmith.trial" in r.data.tags}

    study, trials = runs()
    assert sorted(trials) == [0, 1, 2, 3] and study.info.status == "FINISHED"
    stored = Session.open(tmp_path / "s", readonly=True)
    for number, run in trials.items():
        t = stored.store.trial(number)
        assert run.data.params == {"x": str(t.params["x"])} and run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == study.info.run_id
        assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [0, 1, 2]
    best = stored.best()
    assert best is not None and study.data.metrics == {"best_loss": best.value}
    res = run_cli("resume", str(tmp_path / "s"), "--trials", "6", "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    resumed, trials = runs()
    assert resumed.info.run_id == study.info.run_id and sorted(trials) == list(range(6))  # no copies
    res = run_cli("export", str(tmp_path / "s"), "-f", "mlflow")  # a snapshot replaces the live runs
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(client.search_runs([experiment.experiment_id])) == 7


def test_a_dead_tracking_server_is_said_once_with_the_export_to_run_later(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run_cli("tune", str(_study(tmp_path, f"http://127.0.0.1:{port}")), "--dir", str(tmp_path / "s"))
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout + res.stderr
    assert out.count("logging to mlflow failed: MlflowException") == 1
    assert f"tunesmith export {tmp_path / 's'} -f mlflow -o http://127.0.0.1:{port}` writes its runs later" in out
    assert "done (budget): 4 trials" in res.stdout
    failed = Session.open(tmp_path / "s", readonly=True).events(EventKind.TRACKER_FAILED)
    assert len(failed) == 1 and payload(failed[0], TrackerFailed).tracker == "mlflow"


def test_a_study_logs_offline_wandb_runs_as_it_runs_and_a_resume_adds_only_the_new_trials(tmp_path: Path) -> None:
    pytest.importorskip("wandb")
    import json

    from tests.agent.study.test_export_trackers import wandb_records

    env = {"WANDB_API_KEY": "", "WANDB_DISABLE_GIT": "true", "WANDB_MODE": "offline"}
    res = run_cli("tune", str(_study(tmp_path, None, wandb="sweep-demo")), "--dir", str(tmp_path / "s"), env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert run_cli("resume", str(tmp_path / "s"), "--trials", "6", "-q", env=env).returncode == 0
    runs = sorted((tmp_path / "s" / "wandb").glob("offline-run-*"))
    assert len(runs) == 6  # four, then the two new ones: none twice
    assert json.loads((tmp_path / "s" / "wandb" / "tunesmith-logged.json").read_text()) == list(range(6))
    stored = Session.open(tmp_path / "s", readonly=True)
    for folder in runs:
        records = wandb_records(next(folder.glob("run-*.wandb")))
        (run,) = [r.run for r in records if r.HasField("run")]
        config = {i.key: json.loads(i.value_json) for i in run.config.update}
        trial = stored.store.trial(config["tunesmith_trial"])
        assert run.project == "sweep-demo" and run.display_name == f"trial-{trial.number}"
        assert config["x"] == trial.params["x"]
        assert [r.history.step.num for r in records if r.HasField("history")] == [0, 1, 2]

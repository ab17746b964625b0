"""Helpers shared by the sandbox tests (requests, waiting for events, process-tree checks)."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import ExecutorEvent, Report, TrialExecutor, TrialOutcome, TrialRequest

REPO = Path(__file__).resolve().parents[2]


def function_request(tmp_path: Path, name: str, trial_id: str = "t1", **kw: Any) -> TrialRequest:
    """A request for ``tests.sandbox.trial_funcs:<name>`` whose objective metric is ``score``."""
    kw.setdefault("grace", 2.0)
    return TrialRequest(
        trial_id=trial_id,
        params=kw.pop("params", {}),
        trial_dir=str(tmp_path / trial_id),
        workdir=str(REPO),
        function=f"tests.sandbox.trial_funcs:{name}",
        env={"TUNESMITH_OBJECTIVE": "score"},
        **kw,
    )


def script_request(tmp_path: Path, body: str, trial_id: str = "t1", **kw: Any) -> TrialRequest:
    """A command request running ``body`` (dedented) as a Python script from ``tmp_path``."""
    path = tmp_path / f"{trial_id}_script.py"
    path.write_text(textwrap.dedent(body))
    kw.setdefault("grace", 1.0)
    return TrialRequest(
        trial_id=trial_id,
        params=kw.pop("params", {}),
        trial_dir=str(tmp_path / trial_id),
        workdir=str(tmp_path),
        command=[sys.executable, str(path)],
        **kw,
    )


def run_until_done(ex: TrialExecutor, timeout: float = 30.0) -> tuple[list[TrialOutcome], list[Report]]:
    """Collect events until nothing runs any more."""
    outcomes: list[TrialOutcome] = []
    reports: list[Report] = []
    deadline = time.monotonic() + timeout
    while ex.running or not outcomes:
        assert time.monotonic() < deadline, "trials did not finish in time"
        events: list[ExecutorEvent] = ex.wait(timeout=1.0)
        for ev in events:
            (outcomes if isinstance(ev, TrialOutcome) else reports).append(ev)  # type: ignore[arg-type]
    for ev in ex.wait(timeout=0):
        (outcomes if isinstance(ev, TrialOutcome) else reports).append(ev)  # type: ignore[arg-type]
    return outcomes, reports


def wait_outcome(ex: TrialExecutor, trial_id: str, timeout: float = 30.0) -> TrialOutcome:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in ex.wait(timeout=0.5):
            if isinstance(ev, TrialOutcome) and ev.trial_id == trial_id:
                return ev
    raise AssertionError(f"no outcome for trial {trial_id} within {timeout} s")


def wait_running(ex: TrialExecutor, trial_id: str, timeout: float = 20.0) -> Report:
    """Wait for the first report of ``trial_id`` (the trial is then surely running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in ex.wait(timeout=0.5):
            if isinstance(ev, Report) and ev.trial_id == trial_id:
                return ev
            assert not isinstance(ev, TrialOutcome), f"trial ended early: {ev}"
    raise AssertionError(f"trial {trial_id} reported nothing within {timeout} s")


def assert_tree_gone(outcome: TrialOutcome) -> None:
    """No process of the trial's group, nor its supervisor, is left (zombies included)."""
    for key in ("pgid", "supervisor_pid"):
        pgid = outcome.info.get(key)
        if pgid is None:
            continue
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)


def pid_alive(pid: int) -> bool:
    """True for a live process; a zombie counts as dead."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 3.0) -> bool:
    """Whether ``pid`` is dead (or a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def tune_lr_study(tmp_path: Path, script: str, metric: str) -> Any:
    """Write ``script`` as train.py and tune its ``lr`` (2 random trials, minimising ``metric``) through the
    real CLI; returns the finished study's read-only session (every trial must have completed)."""
    import yaml

    from agent.core.records import TrialState
    from agent.study.session import Session
    from tests.conftest import run_cli

    (tmp_path / "train.py").write_text(script)
    spec = {
        "objective": {"metric": metric, "direction": "minimize"},
        "command": ["python", "train.py"],
        "space": {"lr": {"type": "float", "low": 0.01, "high": 0.5, "log": True}},
        "budget": {"max_trials": 2, "trial_timeout": "3m"},
        "strategy": "random",
        "seed": 0,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = run_cli("tune", str(tmp_path / "spec.yaml"), "--dir", str(tmp_path / "s"), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "warning" not in res.stdout  # a callback counts as reporting to tunesmith
    session = Session.open(tmp_path / "s", readonly=True)
    trials = session.trials()
    assert len(trials) == 2 and all(t.state is TrialState.COMPLETE for t in trials)
    assert trials[0].value != trials[1].value  # each trial's lr reached the model
    return session


def run_stopped(tmp_path: Path, script: str) -> str:
    """Run ``script`` as a trial whose stop was already asked (``STOP`` exists, lr 0.1); it must exit 0 and
    acknowledge the stop. Returns its stdout."""
    import json
    import subprocess

    (tmp_path / "train.py").write_text(script)
    (tmp_path / "STOP").write_text("")
    (tmp_path / "params.json").write_text(json.dumps({"lr": 0.1}))
    env = {
        "TUNESMITH_STOP_FILE": str(tmp_path / "STOP"),
        "TUNESMITH_REPORT_FILE": str(tmp_path / "reports.jsonl"),
        "TUNESMITH_PARAMS": str(tmp_path / "params.json"),
        "PYTHONPATH": str(REPO),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    done = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert (tmp_path / "STOP.seen").exists()  # and tunesmith is told the trial acted on it
    return done.stdout.decode()

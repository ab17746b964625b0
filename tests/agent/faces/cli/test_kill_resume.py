"""kill -9 of tunesmith at any moment, then ``tunesmith resume``: nothing lost, nothing run twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from agent.core.records import FailureKind, TrialState
from agent.study.store.sqlite import SQLiteStore
from tests.conftest import ROOT, run_cli

SCRIPT = """
import json, os, time
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "pid"), "w").write(str(os.getpid()))
time.sleep(0.4 + p["x"])
print("TUNESMITH_REPORT " + json.dumps({"y": p["x"]}))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _wait_for(study: Path, complete: int, running: int, timeout: float = 120.0) -> None:
    """Poll the store until at least ``complete`` trials completed and ``running`` are running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (study / "study.db").exists():
            try:
                store = SQLiteStore(study / "study.db", readonly=True)
                trials = store.trials()
                store.close()
            except Exception:  # the schema may not exist yet
                trials = []
            states = [t.state for t in trials]
            if states.count(TrialState.COMPLETE) >= complete and states.count(TrialState.RUNNING) >= running:
                return
        time.sleep(0.05)
    raise AssertionError(f"study never reached {complete} complete and {running} running trials")


def test_kill_9_then_resume_finishes_the_budget_exactly(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    spec = {
        "name": "kill",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 0.6}},
        "budget": {"max_trials": 10},
        "workers": 2,
        "strategy": "random",
        "seed": 0,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    study = tmp_path / "study"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    snapshots: list[dict[int, float]] = []
    # two kills while trials run: after 3 completed trials, then during the resume after 5
    for complete in (3, 5):
        args = ["tune", str(tmp_path / "spec.yaml"), "--dir", str(study)] if not snapshots else ["resume", str(study)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent.faces.cli", *args, "--quiet"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(study, complete, running=1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        status = json.loads(run_cli("status", str(study), "--json").stdout)
        assert status["status"] == "interrupted" and status["states"]["interrupted"] >= 1, status
        assert "running" not in status["states"]  # nothing runs once tunesmith is dead
        store = SQLiteStore(study / "study.db", readonly=True)
        snapshots.append({t.number: t.value for t in store.trials() if t.state is TrialState.COMPLETE})
        running = [t for t in store.trials() if t.state is TrialState.RUNNING]
        store.close()
        time.sleep(1.0)  # the supervisors notice their parent died and kill the trials
        for t in running:
            pid_file = study / "trials" / f"{t.number:04d}" / "pid"
            if pid_file.exists():
                assert not _alive(int(pid_file.read_text())), f"trial {t.number} outlived tunesmith"
    assert snapshots[0], "the first run should have completed some trials before the kill"

    res = run_cli("resume", str(study), "--quiet")
    assert res.returncode == 0, res.stderr
    store = SQLiteStore(study / "study.db", readonly=True)
    trials = store.trials()
    assert sum(t.state.counts for t in trials) == 10
    assert [t.number for t in trials] == list(range(len(trials)))
    for snap in snapshots:  # every completed trial kept, unchanged
        for number, value in snap.items():
            assert trials[number].state is TrialState.COMPLETE and trials[number].value == value
    interrupted = [t for t in trials if t.failure is FailureKind.INTERRUPTED]
    assert interrupted, "a kill during a run must leave interrupted trials"
    for t in interrupted:
        reruns = [r for r in trials if r.retry_of == t.number]
        assert len(reruns) <= 1
        if t.retry_of is None:
            assert len(reruns) == 1 and reruns[0].params == t.params
    assert store.events("study_resumed")
    assert json.loads(run_cli("status", str(study), "--json").stdout)["done"] == 10
    store.close()


def test_sigterm_stops_the_study_like_ctrl_c(tmp_path: Path) -> None:
    """``kill`` (or ``timeout``, a service manager) stops tunesmith cleanly: trials stopped and recorded as
    interrupted, the study marked interrupted, exit 130 with how to continue; resume finishes the budget."""
    (tmp_path / "train.py").write_text(SCRIPT)
    spec = {
        "name": "term",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.5, "high": 0.6}},
        "budget": {"max_trials": 4},
        "workers": 2,
        "strategy": "random",
        "seed": 0,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    study = tmp_path / "study"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "tune", str(tmp_path / "spec.yaml"), "--dir", str(study), "--quiet"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(study, 0, running=2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"tunesmith resume {study}" in stderr and "Traceback" not in stderr
    status = json.loads(run_cli("status", str(study), "--json").stdout)
    assert status["status"] == "interrupted" and status["states"]["running"] == 0, status
    store = SQLiteStore(study / "study.db", readonly=True)
    stopped = [t for t in store.trials() if t.failure is FailureKind.INTERRUPTED]
    store.close()
    assert stopped
    for t in stopped:
        pid_file = study / "trials" / f"{t.number:04d}" / "pid"
        if pid_file.exists():  # the trial got as far as starting
            assert not _alive(int(pid_file.read_text())), f"trial {t.number} outlived tunesmith"
    res = run_cli("resume", str(study), "--quiet")
    assert res.returncode == 0 and "done (budget): 4 trials" in res.stdout, res.stderr

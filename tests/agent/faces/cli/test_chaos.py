"""Chaos: SIGKILL tunesmith at 20 random moments of a two-worker study, resuming after each.

Twelve kills land at a random time after the study showed activity (startup, proposing, trials running,
outcomes being written); eight land certainly mid-write, inside a random store transaction before its
COMMIT (tests/agent/faces/cli/chaos_hook.py). At the end the study holds exactly its budget of finished trials, no
duplicate trial or proposal (apart from the one re-run of an interrupted trial), every trial seen
complete after any kill is still complete with the same value and metrics, SQLite's integrity check
passes, and no trial process is left.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from agent.core.records import FailureKind, TrialState
from agent.study.store.sqlite import SQLiteStore
from tests.conftest import ROOT, run_cli
from tests.sandbox.studyrun import assert_nothing_left, token

BUDGET = 240
KILLS = 20
MID_WRITE = {3, 5, 8, 11, 13, 15, 17, 19}  # rounds whose kill comes from inside a write transaction

TRAIN = """
import json, os, sys, time
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
for step in range(15):                      # many small reports: the store is written to most of the time
    print("TUNESMITH_REPORT " + json.dumps({"step": step, "y": p["x"] * (step + 1) - p["z"] ** 2}), flush=True)
    time.sleep(0.01)
"""


def _snapshot(study: Path) -> tuple[dict[int, tuple[float | None, list[object]]], int, str]:
    with SQLiteStore(study, readonly=True) as store:
        done = {
            t.number: (t.value, [p.model_dump() for p in store.metrics(t.number)])
            for t in store.trials()
            if t.state is TrialState.COMPLETE
        }
        return done, len(store.events()), store.integrity_check()


def _events(study: Path) -> int:
    try:
        with SQLiteStore(study, readonly=True) as store:
            return len(store.events())
    except Exception:  # not created yet, or caught mid-creation
        return -1


@pytest.mark.slow
def test_kill_9_at_20_random_moments_then_resume(tmp_path: Path) -> None:
    seed = int(os.environ.get("TUNESMITH_CHAOS_SEED", random.SystemRandom().randrange(10**6)))
    rng = random.Random(seed)
    print(f"chaos seed {seed} (rerun with TUNESMITH_CHAOS_SEED={seed})")
    mark = token()
    (tmp_path / "train.py").write_text(TRAIN)
    spec = {
        "name": "chaos",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py", mark],
        "workers": 2,
        "strategy": "tpe",
        "seed": seed,
        "space": {"x": {"type": "float", "low": 0, "high": 1}, "z": {"type": "float", "low": -1, "high": 1}},
        "default": {"x": 0.5, "z": 0.0},
        "budget": {"max_trials": BUDGET, "trial_timeout": 30},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    study = tmp_path / "study"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    snapshots = []
    for round_ in range(KILLS):
        args = ["tune", str(tmp_path / "spec.json"), "--dir", str(study)] if round_ == 0 else ["resume", str(study)]
        before = _events(study)
        if round_ in MID_WRITE:
            cmd = [sys.executable, "-m", "tests.agent.faces.cli.chaos_hook", str(rng.randint(2, 120)), *args, "--quiet"]
        else:
            cmd = [sys.executable, "-m", "agent.faces.cli", *args, "--quiet"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if round_ in MID_WRITE:
            proc.wait(timeout=120)
            assert proc.returncode == -signal.SIGKILL, f"round {round_}: the hook did not fire: {proc.stderr}"
        else:
            deadline = time.monotonic() + 60
            while _events(study) <= before and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 2.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        done, events, integrity = _snapshot(study)
        assert integrity == "ok", f"round {round_}: {integrity}"
        snapshots.append(done)
        print(
            f"round {round_}: {'mid-write' if round_ in MID_WRITE else 'timed'} kill, {len(done)} complete, "
            f"{events} events"
        )
    assert len(snapshots[-1]) < BUDGET, "the study ended before the last kill; raise BUDGET"

    res = run_cli("resume", str(study), "--quiet")
    assert res.returncode == 0, res.stderr
    with SQLiteStore(study, readonly=True) as store:
        trials = store.trials()
        metrics = {t.number: [p.model_dump() for p in store.metrics(t.number)] for t in trials}
        assert store.integrity_check() == "ok"
        assert 1 <= len(store.events("study_resumed")) <= KILLS

    assert sum(t.state.counts for t in trials) == BUDGET
    assert [t.number for t in trials] == list(range(len(trials)))  # no duplicate or missing ids
    assert not any(t.state is TrialState.RUNNING for t in trials)
    folders = sorted(p.name for p in (study / "trials").iterdir())
    assert len(folders) == len(set(folders)) and set(folders) <= {f"{t.number:04d}" for t in trials}
    by_params: dict[str, list[int]] = defaultdict(list)
    for t in trials:
        by_params[json.dumps(t.params, sort_keys=True)].append(t.number)
    for numbers in by_params.values():  # a proposal runs once, or is re-run
        if len(numbers) > 1:  # once after an interruption
            first, *reruns = numbers
            assert trials[first].failure is FailureKind.INTERRUPTED and len(reruns) == 1, numbers
            assert trials[reruns[0]].retry_of == first, numbers
    for snap in snapshots:  # completed trials intact
        for number, (value, points) in snap.items():
            assert trials[number].state is TrialState.COMPLETE and trials[number].value == value
            assert metrics[number] == points
    assert_nothing_left(mark)

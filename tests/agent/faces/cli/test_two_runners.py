"""Two tunesmith processes on one study folder: the second refuses with a clear message, the first is
unharmed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from agent.core.records import TrialState
from agent.study.store.sqlite import SQLiteStore
from tests.conftest import ROOT, run_cli

TRAIN = """
import json, os, time
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
here = os.path.dirname(os.path.abspath(__file__))
for _ in range(600):                     # hold the study open until the test has tried a second runner
    if os.path.exists(os.path.join(here, "release")):
        break
    time.sleep(0.05)
print("TUNESMITH_REPORT " + json.dumps({"y": p["x"]}))
"""


def test_second_process_on_a_running_study_refuses_and_the_first_finishes(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    spec = {
        "name": "two",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "budget": {"max_trials": 6},
        "workers": 2,
        "strategy": "random",
        "seed": 2,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    study = tmp_path / "study"
    first = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "tune", str(tmp_path / "spec.json"), "--dir", str(study), "--quiet"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (study / "trials" / "0000" / "status.json").exists():
            assert time.monotonic() < deadline and first.poll() is None, "the first run did not start a trial"
            time.sleep(0.05)
        second = run_cli("resume", str(study), "--trials", "8")
        third = run_cli("tune", str(tmp_path / "spec.json"), "--dir", str(study))
        assert first.poll() is None, "the first run ended before the second one tried"
        (tmp_path / "release").touch()
        _out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert f"is being run by pid {first.pid}" in " ".join(second.stderr.split())
    assert third.returncode == 2 and "already holds a study" in " ".join(third.stderr.split())
    assert first.returncode == 0, err
    with SQLiteStore(study, readonly=True) as store:
        trials = store.trials()
        assert store.integrity_check() == "ok"
    assert sum(t.state.counts for t in trials) == 6 and all(t.state is TrialState.COMPLETE for t in trials)
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 6

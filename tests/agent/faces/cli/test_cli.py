"""The real CLI on a small real study: tune, status, best, show, export, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli

SCRIPT = """
import json, os, sys
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
if p["x"] > 0.9:
    sys.exit("boom: x too large")
for step in range(3):
    print("TUNESMITH_REPORT " + json.dumps({"step": step, "score": -(p["x"] - 0.25) ** 2 - 0.01 * (2 - step)}))
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(SCRIPT)
    spec = {
        "name": "cli-test",
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "default": {"x": 0.5},
        "budget": {"max_trials": 6, "trial_timeout": 30},
        "strategy": "random",
        "seed": 3,
        "workers": 2,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_tune_then_read_the_study(spec_file: Path, tmp_path: Path) -> None:
    study = tmp_path / "study"
    res = run_cli("tune", str(spec_file), "--dir", str(study), "--trials", "5")
    assert res.returncode == 0, res.stderr
    assert "done (budget): 5 trials" in res.stdout
    assert "#0" in res.stdout and "default" in res.stdout

    status = json.loads(run_cli("status", str(study), "--json").stdout)
    assert status["done"] == 5 and status["budget"] == 5 and status["proposers"]["default"] == 1

    best = json.loads(run_cli("best", str(study), "--json").stdout)
    assert set(best) >= {"value", "params", "trial"}

    shown = run_cli("show", str(study), "0")
    assert shown.returncode == 0 and "default" in shown.stdout and "curve: 3 reports" in shown.stdout
    assert "complete" in run_cli("show", str(study)).stdout

    for fmt in ("csv", "json", "parquet", "optuna"):
        out = tmp_path / f"out.{fmt}"
        res = run_cli("export", str(study), "--format", fmt, "-o", str(out))
        assert res.returncode == 0, res.stderr
        assert out.stat().st_size > 0
    import optuna

    loaded = optuna.load_study(study_name="cli-test", storage=f"sqlite:///{tmp_path / 'out.optuna'}")
    assert len(loaded.trials) == 5


def test_json_mode_streams_one_object_per_trial(spec_file: Path, tmp_path: Path) -> None:
    res = run_cli("tune", str(spec_file), "--dir", str(tmp_path / "s"), "--trials", "3", "--json")
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(lines) == 4 and "summary" in lines[-1]
    assert {"trial", "state", "value", "params"} <= set(lines[0])


def test_errors_are_one_line_with_exit_2(spec_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(spec_file.read_text().replace("budget:", "budgett:"))
    res = run_cli("tune", str(bad))
    assert res.returncode == 2
    assert "did you mean 'budget'" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("status", str(tmp_path / "nowhere"))
    assert res.returncode == 2 and "not a study folder" in res.stderr
    res = run_cli("tune", "tune lr of train.py for val_acc")
    assert res.returncode == 2 and "OPENAI_BASE_URL" in res.stderr


def test_a_missing_spec_file_is_named_even_with_a_space_in_its_path(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agent.faces.cli.app import app

    for name in ("nope.yaml", "my spec.yaml", "configs/My Spec.TOML"):
        res = CliRunner().invoke(
            app,
            ["tune", name],
            env={"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "", "TUNESMITH_CONFIG": str(tmp_path / "none.toml")},
        )
        assert res.exit_code == 2 and f"spec file {name} does not exist; check the path" in res.output, res.output
        assert "LLM" not in res.output  # not mistaken for a request in plain words


def test_resume_trials_is_a_new_total_and_says_so(spec_file: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agent.faces.cli.app import app

    study = tmp_path / "s"
    assert CliRunner().invoke(app, ["tune", str(spec_file), "--dir", str(study), "--trials", "2"]).exit_code == 0
    res = CliRunner().invoke(app, ["resume", str(study), "--trials", "2"])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "2 trials are already done; pass more than 2 (e.g. --trials 4 for 2 more)" in res.output


def test_second_runner_is_refused(spec_file: Path, tmp_path: Path) -> None:
    from agent.study.folder import StudyLock

    study = tmp_path / "s"
    assert run_cli("tune", str(spec_file), "--dir", str(study), "--trials", "1").returncode == 0
    with StudyLock(study):
        res = run_cli("resume", str(study), "--trials", "2")
    assert res.returncode == 2 and "is being run by pid" in res.stderr


def test_dashboard_serves_the_study_on_loopback(spec_file: Path, tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import ROOT

    study = tmp_path / "s"
    assert run_cli("tune", str(spec_file), "--dir", str(study), "--trials", "2").returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "dashboard", str(study), "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "dashboard did not start"
                time.sleep(0.3)
        assert "cli-test" in body
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a loaded machine: the server is slow to stop, not wrong
            proc.kill()
            proc.wait(timeout=10)

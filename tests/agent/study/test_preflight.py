"""What would fail every local trial alike fails before the study folder exists (``wiring.preflight``), and
again before the first trial of a resumed run: strict sandbox paths, a command that is not there, GPUs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.core.spec import load_spec
from agent.errors import ResourceError, SandboxError
from agent.study.session import Session
from agent.study.wiring import ExecutorChoice, preflight
from tests.conftest import run_cli
from tests.sandbox.studyrun import need_strict


def spec(tmp_path: Path, **extra: Any) -> Any:
    (tmp_path / "train.py").write_text(
        "import tunesmith\nopen('ran', 'w')\ntunesmith.report(y=tunesmith.params()['x'])\n"
    )
    data = {
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": 2},
        **extra,
    }
    return load_spec(data, base_dir=tmp_path)


def test_a_missing_read_path_fails_before_anything_runs(tmp_path: Path) -> None:
    s = spec(tmp_path, isolation="strict", read_paths=["../no-such-data"])
    with pytest.raises(SandboxError, match=r"read_paths: .*no-such-data does not exist; create it or remove it"):
        preflight(s, None, tmp_path / "study")
    assert not (tmp_path / "study").exists()


@pytest.mark.parametrize("read_path", ["~", "/"])
def test_a_read_path_that_exposes_home_fails_before_the_first_trial(tmp_path: Path, read_path: str) -> None:
    need_strict()
    s = spec(tmp_path, isolation="strict", read_paths=[read_path])
    with pytest.raises(SandboxError, match="contains your home folder"):
        preflight(s, None, tmp_path / "study")
    assert preflight(s, ExecutorChoice(kind="ray")) is None  # each Ray node checks for itself
    session = Session.create(s, tmp_path / "study")  # created without the faces' preflight: run() checks
    with pytest.raises(SandboxError, match="contains your home folder"):
        session.run()
    assert session.trials() == [] and not (tmp_path / "ran").exists()


def test_a_command_not_on_path_fails_before_the_first_trial(tmp_path: Path) -> None:
    s = spec(tmp_path, command=["no-such-trainer-xyz", "--fast"])
    with pytest.raises(SandboxError, match="command 'no-such-trainer-xyz' not found on PATH"):
        preflight(s)


def test_gpus_that_are_not_there_fail_before_the_folder_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.study import gpus

    monkeypatch.setattr(gpus, "_from_smi", lambda *a: (None, "nvidia-smi is not on PATH"))
    monkeypatch.setattr(gpus, "_from_torch", lambda: (None, "torch sees no CUDA/ROCm device"))
    with pytest.raises(ResourceError, match="no GPU found"):
        preflight(spec(tmp_path, gpus="auto", gpus_per_trial=1), None, tmp_path / "study")


def test_cli_strict_with_home_readable_is_one_line_and_leaves_no_folder(tmp_path: Path) -> None:
    need_strict()
    spec(tmp_path)
    (tmp_path / "spec.yaml").write_text(
        "objective: {metric: y, direction: maximize}\ncommand: [python, train.py]\n"
        "space: {x: {low: 0.0, high: 1.0}}\nisolation: strict\nread_paths: ['/']\nbudget: 20\n"
    )
    res = run_cli("tune", str(tmp_path / "spec.yaml"), "--dir", str(tmp_path / "study"))
    assert res.returncode == 2 and "contains your home folder" in res.stderr, res.stdout + res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "study").exists() and not (tmp_path / "ran").exists()

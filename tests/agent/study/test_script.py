"""What tunesmith reads of a training script: how it takes params, what it reports; a setup whose params could
never reach the script is refused before the study folder exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.study.script import params_problem, scan_text
from agent.study.session import Session
from tests.agent.hybrid.test_request import ARGPARSE_SCRIPT


def test_the_scan_tells_flags_params_file_and_reported_metrics_apart() -> None:
    scan = scan_text(ARGPARSE_SCRIPT)
    assert scan.flags == {"lr", "weight_decay", "hidden", "optimizer"}
    assert scan.reported == {"train_loss", "val_acc"} and not scan.reads_params_file
    assert "step" not in scan.params and "val_acc" not in scan.params and "lr" in scan.params
    other = scan_text("import tunesmith\np = tunesmith.params()\ntunesmith.report(step=1, acc=p['lr'])\n")
    assert other.reads_params_file and other.reported == {"acc"} and other.params == ["lr"]


def _spec(tmp_path: Path, **extra: object) -> dict[str, object]:
    (tmp_path / "train.py").write_text(ARGPARSE_SCRIPT)
    return {
        "objective": {"metric": "val_acc", "direction": "maximize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "space": {"lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True}},
        **extra,
    }


def test_flags_without_pass_args_are_refused_before_anything_runs(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path))
    problem = params_problem(spec)
    assert problem is not None and "--lr" in problem and "pass_args: true" in problem
    with pytest.raises(SpecError, match="add pass_args: true"):
        Session.create(spec, tmp_path / "study")
    assert not (tmp_path / "study").exists()
    assert params_problem(load_spec(_spec(tmp_path, pass_args=True))) is None

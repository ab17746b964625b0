"""A broken setup with the real CLI: it stops early and says why (at the end of ``tune`` and in ``status``),
``tune`` exits non-zero when nothing completed, and a user's folder or a damaged study is never written."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from agent.core.records import MetricPoint, TrialDraft
from agent.core.records import ProposerKind as Kind
from agent.core.spec import load_spec
from agent.faces.cli.app import app
from agent.study.folder import LOCK_NAME
from agent.study.session import Session
from tests.conftest import run_cli


def write_study(tmp_path: Path, script: str, **extra: Any) -> Path:
    (tmp_path / "train.py").write_text(script)
    spec = {
        "objective": {"metric": "val_acc", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True}},
        "budget": {"max_trials": 30},
        "strategy": "random",
        "seed": 0,
        **extra,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path / "spec.yaml"


def test_a_metric_never_reported_stops_after_three_trials_says_why_and_exits_1(tmp_path: Path) -> None:
    spec = write_study(tmp_path, "print('TUNESMITH_REPORT {\"score\": 0.9}')\n")
    res = run_cli("tune", str(spec), "--dir", str(tmp_path / "s"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "finished without reporting 'val_acc' (reported: score)" in res.stdout
    assert "done (broken_setup): 3 trials" in res.stdout
    assert "stopped: 3 trials (#0, #1, #2) failed the same way and none completed" in res.stdout
    status = run_cli("status", str(tmp_path / "s"))
    assert "broken_setup" in status.stdout and "stopped: 3 trials (#0, #1, #2)" in status.stdout
    info = json.loads(run_cli("status", str(tmp_path / "s"), "--json").stdout)
    assert info["done"] == 3 and "reported: score" in info["stop_reason"]


def test_params_that_never_reach_the_script_stop_it_with_the_fix(tmp_path: Path) -> None:
    spec = write_study(tmp_path, "print('TUNESMITH_REPORT {\"val_acc\": 0.75}')\n")
    res = run_cli("tune", str(spec), "--dir", str(tmp_path / "s"), "--json")
    assert res.returncode == 1, res.stdout + res.stderr
    summary = json.loads(res.stdout.splitlines()[-1])["summary"]
    assert summary["reason"] == "broken_setup" and summary["trials"] == 3
    assert "bit-identical results (val_acc=0.75" in summary["message"] and "pass_args: true" in summary["message"]


def test_no_completed_trial_exits_1_and_a_one_value_step_is_warned(tmp_path: Path) -> None:
    script = (
        "import json, os, sys\nsys.exit('diverged at lr=%s' % json.load(open(os.environ['TUNESMITH_PARAMS']))['lr'])\n"
    )
    space = {
        "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "wd": {"type": "float", "low": 0.0, "high": 0.01, "step": 0.05},
    }
    spec = write_study(tmp_path, script, space=space, budget={"max_trials": 3}, default={"lr": 0.01, "wd": 0.0})
    res = run_cli("tune", str(spec), "--dir", str(tmp_path / "s"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "done (budget): 3 trials" in res.stdout and "no trial completed successfully" in res.stdout
    assert "warning: space.wd: step 0.05 leaves one value (0) in [0, 0.01]" in res.stderr


def test_tune_never_writes_into_the_specs_own_folder(tmp_path: Path) -> None:
    spec = write_study(tmp_path, "print('TUNESMITH_REPORT {\"val_acc\": 0.75}')\n")
    spec.write_text("# my notes, kept\n" + spec.read_text())
    before = spec.read_text()
    for folder in (".", str(tmp_path)):
        res = run_cli("tune", str(spec), "--dir", folder, cwd=tmp_path)
        assert res.returncode == 2 and "is not empty and holds no study" in res.stderr, res.stderr
    assert spec.read_text() == before and sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml", "train.py"]


def test_an_empty_study_db_gets_the_same_instruction_from_tune_and_resume(tmp_path: Path) -> None:
    spec = write_study(tmp_path, "print('TUNESMITH_REPORT {\"val_acc\": 0.75}')\n")
    study = tmp_path / "s"
    study.mkdir()
    (study / "study.db").touch()
    for args in (("tune", str(spec), "--dir", str(study)), ("resume", str(study))):
        res = run_cli(*args)
        assert res.returncode == 2, res.stderr
        assert f"holds no usable study (study.db is empty (0 bytes)); delete it (rm -r {study})" in res.stderr
    assert (study / "study.db").stat().st_size == 0


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_show_tells_a_dead_trial_as_interrupted_and_prints_the_whole_curve(tmp_path: Path) -> None:
    spec = write_study(tmp_path, "print('TUNESMITH_REPORT {\"val_acc\": 0.75}')\n")
    session = Session.create(load_spec(spec), tmp_path / "s")
    trial = session.store.create_trial(TrialDraft(params={"lr": 0.01}, proposer=Kind.STRATEGY))
    session.store.add_metrics(trial.number, [MetricPoint(step=i, values={"val_acc": i / 100}) for i in range(12)])
    session.store.set_meta("status", "running")
    session.close()
    (tmp_path / "s" / LOCK_NAME).write_text(f"pid {_dead_pid()} on {socket.gethostname()}")
    runner = CliRunner()
    table = runner.invoke(app, ["show", str(tmp_path / "s")])
    assert table.exit_code == 0 and "interrupted" in table.output and "running" not in table.output
    one = runner.invoke(app, ["show", str(tmp_path / "s"), "0"])
    assert "trial #0 interrupted" in one.output and "curve: 12 reports" in one.output
    assert all(f"step {i}:" in one.output for i in range(12)), one.output


DASHED_SCRIPT = """
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("-l", "--learning-rate", type=float, default=0.1)
p.add_argument("--num-layers", type=int, default=2)
a = p.parse_args()
print("TUNESMITH_REPORT", json.dumps({"val_acc": 1.0 - abs(a.learning_rate - 0.01) - 0.01 * a.num_layers}))
"""


def test_flags_the_script_spells_with_dashes_reach_it_with_pass_args(tmp_path: Path) -> None:
    space = {
        "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "num_layers": {"type": "int", "low": 1, "high": 4},
    }
    spec = write_study(tmp_path, DASHED_SCRIPT, space=space, pass_args=True, budget={"max_trials": 4})
    res = run_cli("tune", str(spec), "--dir", str(tmp_path / "s"), "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    trials = Session.open(tmp_path / "s", readonly=True).store.trials()
    assert len(trials) == 4 and all(t.ok for t in trials)
    assert {round(t.value or 0, 6) for t in trials} == {
        round(1.0 - abs(t.params["learning_rate"] - 0.01) - 0.01 * t.params["num_layers"], 6) for t in trials
    }


def test_a_param_the_script_has_no_flag_for_is_refused_before_anything_runs(tmp_path: Path) -> None:
    space = {
        "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1},
        "dropout": {"type": "float", "low": 0, "high": 0.5},
    }
    spec = write_study(tmp_path, DASHED_SCRIPT, space=space, pass_args=True)
    res = run_cli("tune", str(spec), "--dir", str(tmp_path / "s"))
    assert res.returncode != 0 and not (tmp_path / "s").exists()
    assert "train.py has no flag for --dropout (it declares --learning-rate, --num-layers)" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_flags_argparse_rejects_stop_the_study_after_three_trials_whatever_the_values(tmp_path: Path) -> None:
    # Flags built at run time: the scan cannot see them all, so the doctor catches what argparse rejects.
    script = DASHED_SCRIPT.replace(
        'p.add_argument("--num-layers", type=int, default=2)',
        "p.add_argument(f\"--{'num-layers'}\", type=int, default=2)",
    )
    space = {
        "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1},
        "dropout": {"type": "float", "low": 0, "high": 0.5},
    }
    spec = write_study(tmp_path, script, space=space, pass_args=True)
    res = run_cli("tune", str(spec), "--dir", str(tmp_path / "s"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "done (broken_setup): 3 trials" in res.stdout
    assert "unrecognized arguments: --dropout" in res.stdout and "the script's parser must declare each" in res.stdout

"""Secrets: a key planted in tunesmith's environment reaches no trial (under either profile) and appears in
nothing a study writes: the study folder (database, logs, trial folders), exports, and the CLI's output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.faces.cli.app import app
from tests.conftest import run_cli
from tests.sandbox.studyrun import need_strict

PLANTED = {
    "OPENAI_API_KEY": "sk-planted-0123456789abcdef",
    "ANTHROPIC_API_KEY": "sk-ant-planted-4242",
    "HF_TOKEN": "hf_planted_7777",
    "WANDB_API_KEY": "planted-wandb-9999",
    "DB_PASSWORD": "planted-pw-5555",
}

TRAIN = """
import json, os, sys
env = dict(os.environ)
print(json.dumps(env))                                   # stdout log
print(json.dumps(env), file=sys.stderr)                  # stderr log and the stored stderr tail
with open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "env.json"), "w") as fh:
    json.dump(env, fh)                                   # an artifact
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
print("TUNESMITH_REPORT " + json.dumps({"y": p["x"], "env_vars": len(env)}))
if p["x"] > 0.8:
    sys.exit("failing on purpose: " + json.dumps(env))   # the failure reason shown by 'show'
"""


@pytest.mark.parametrize("isolation", ["process", "strict"])
def test_a_planted_key_is_absent_from_everything_a_study_wrote(tmp_path: Path, isolation: str) -> None:
    if isolation == "strict":
        need_strict()
    (tmp_path / "train.py").write_text(TRAIN)
    spec = {
        "name": "secrets",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "budget": {"max_trials": 4},
        "workers": 2,
        "strategy": "random",
        "seed": 5,
        "isolation": isolation,
        "default": {"x": 0.9},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    study, exports = tmp_path / "study", tmp_path / "exports"
    exports.mkdir()
    # In-process CLI (the same commands, without paying interpreter start-up nine times); CliRunner puts
    # the planted keys into os.environ while each command runs, so the trials inherit them as usual.
    runner = CliRunner()
    env = {**PLANTED, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "COLUMNS": "200"}
    commands = [
        ["tune", str(tmp_path / "spec.json"), "--dir", str(study)],
        ["status", str(study), "--json"],
        ["show", str(study)],
        ["show", str(study), "0"],
        ["best", str(study), "--json"],
    ]
    commands += [
        ["export", str(study), "--format", f, "-o", str(exports / f"out.{f}")]
        for f in ("csv", "json", "parquet", "optuna")
    ]
    outputs = [runner.invoke(app, args, env=env) for args in commands]
    for args, res in zip(commands, outputs, strict=True):
        assert res.exit_code == 0, (args, res.output)
    assert "failing on purpose" in outputs[3].output  # the failed default trial's stderr tail is shown

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "study.db-wal" or p.name == "study.db" for p in written)
    blob = b"".join(p.read_bytes() for p in written) + "".join(o.output for o in outputs).encode()
    for name, value in PLANTED.items():
        assert value.encode() not in blob, f"{name}'s value leaked"
    for env_file in study.glob("trials/*/env.json"):
        seen = json.loads(env_file.read_text())
        assert not set(PLANTED) & set(seen), env_file
        assert "OPENAI_BASE_URL" not in seen  # tunesmith's own LLM settings stay with tunesmith
    assert len(list(study.glob("trials/*/env.json"))) == 4


def test_a_key_passed_by_name_reaches_the_trial(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    spec = {
        "name": "pass",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0, "high": 0.5}},
        "budget": {"max_trials": 1},
        "env": {"pass": ["HF_TOKEN"]},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    res = run_cli("tune", str(tmp_path / "spec.json"), "--dir", str(tmp_path / "s"), env=PLANTED)
    assert res.returncode == 0, res.stderr
    (env_file,) = (tmp_path / "s").glob("trials/*/env.json")
    seen = json.loads(env_file.read_text())
    assert seen["HF_TOKEN"] == PLANTED["HF_TOKEN"] and "OPENAI_API_KEY" not in seen
    assert os.environ.get("HF_TOKEN") != PLANTED["HF_TOKEN"]  # planted only in the child's environment

"""Choosing the strict profile: its preflight fails the study before the first trial (no bubblewrap, no user
namespaces), the CLI says so in one line with the fix, and a study can be resumed under strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.core.spec import load_spec
from agent.errors import SandboxError
from agent.study.session import Session
from sandbox import strict
from sandbox.launch import profile_problem
from tests.conftest import run_cli
from tests.sandbox.studyrun import need_strict

SPEC = {
    "name": "s",
    "objective": {"metric": "y", "direction": "maximize"},
    "command": ["python", "train.py"],
    "space": {"x": {"type": "float", "low": 0, "high": 1}},
    "budget": {"max_trials": 2},
    "isolation": "strict",
}


def test_missing_bubblewrap_fails_the_study_before_the_first_trial(tmp_path: Path, no_bwrap: None) -> None:
    (tmp_path / "train.py").write_text("open('ran', 'w')\n")
    session = Session.create(load_spec(SPEC, base_dir=tmp_path), tmp_path / "study")
    with pytest.raises(SandboxError, match=r"needs bubblewrap.*apt-get install bubblewrap.*isolation: process"):
        session.run()
    assert session.trials() == [] and not (tmp_path / "ran").exists()


def test_cli_strict_without_bubblewrap_is_one_line_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("open('ran', 'w')\n")
    (tmp_path / "spec.json").write_text(json.dumps({**SPEC, "isolation": "process"}))
    bare = tmp_path / "bin"
    bare.mkdir()
    res = run_cli(
        "tune",
        str(tmp_path / "spec.json"),
        "--dir",
        str(tmp_path / "study"),
        "--isolation",
        "strict",
        env={"PATH": str(bare)},
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    line = " ".join(res.stderr.split())
    assert "error: isolation 'strict' needs bubblewrap" in line and "apt-get install bubblewrap" in line
    assert not (tmp_path / "ran").exists() and not (tmp_path / "study").exists()  # no empty study left behind


def test_no_user_namespaces_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bubblewrap present but the kernel refuses namespaces (a fake bwrap that answers as the real one does
    on such machines, since this machine allows them)."""
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the kernel "
        "does not allow non-privileged user namespaces.' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(strict, "find_bwrap", lambda: str(fake))
    strict.preflight.cache_clear()
    try:
        problem = profile_problem("strict")
    finally:
        strict.preflight.cache_clear()
    assert problem is not None and "cannot create a sandbox here" in problem
    assert "non-privileged user namespaces" in problem and "kernel.unprivileged_userns_clone=1" in problem


def test_unknown_isolation_in_the_cli_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    res = run_cli("tune", str(tmp_path / "spec.json"), "--isolation", "vm", "--dir", str(tmp_path / "s"))
    assert res.returncode == 2 and "isolation" in res.stderr and "'vm'" in res.stderr
    assert "process" in res.stderr and "strict" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_resume_can_switch_a_study_to_strict(tmp_path: Path) -> None:
    need_strict()
    from typer.testing import CliRunner

    from agent.faces.cli.app import app

    (tmp_path / "train.py").write_text("print('TUNESMITH_REPORT {\"y\": 1}')\n")
    (tmp_path / "spec.json").write_text(json.dumps({**SPEC, "isolation": "process", "budget": {"max_trials": 1}}))
    runner, study = CliRunner(), tmp_path / "study"
    assert runner.invoke(app, ["tune", str(tmp_path / "spec.json"), "--dir", str(study)]).exit_code == 0
    res = runner.invoke(app, ["resume", str(study), "--trials", "2", "--isolation", "strict"])
    assert res.exit_code == 0, res.output
    launches = [json.loads((study / "trials" / n / "launch.json").read_text()) for n in ("0000", "0001")]
    assert [bool(launch.get("strict")) for launch in launches] == [False, True]
    assert Session.open(study, readonly=True).spec.isolation == "strict"

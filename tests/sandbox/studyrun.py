"""Run a one-trial study of a given script through the real engine, store and executor (for the hostile-trial
and secrets tests), and check that nothing of it is left running."""

from __future__ import annotations

import os
import shutil
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import Trial
from agent.core.spec import load_spec
from agent.study.session import Session
from sandbox.launch import profile_problem

PROFILES = ("process", "strict")


def need_strict() -> None:
    """Skip when bubblewrap is not installed (CI installs it: .ci/run); fail when it is but cannot work."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    problem = profile_problem("strict")
    assert problem is None, problem


def token() -> str:
    """A unique word to put on a trial's command line, to find its processes later."""
    return f"hostile-{uuid.uuid4().hex[:12]}"


def run_study(
    tmp_path: Path,
    body: str,
    isolation: str,
    *,
    mark: str | None = None,
    study: Path | None = None,
    fixed: dict[str, Any] | None = None,
    budget: dict[str, Any] | None = None,
    plant: Callable[[Path], None] | None = None,
    **spec: Any,
) -> tuple[Trial, Session]:
    """Run ``body`` (dedented Python) as the single trial of a new study; its objective is ``score``.
    The script gets ``mark`` as its one argument. The study folder defaults to ``work/studies/s``, inside
    the trial's workdir: the hardest case for hiding it. ``plant(study folder)`` runs before the trial."""
    if isolation == "strict":
        need_strict()
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "attack.py").write_text(textwrap.dedent(body))
    data = {
        "name": "hostile",
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "attack.py", mark or token()],
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "default": {"x": 0.5},
        "fixed": fixed or {},
        "budget": {"max_trials": 1, "trial_timeout": 30, **(budget or {})},
        "isolation": isolation,
        "seed": 0,
        "grace_period": 1.0,
        **spec,
    }
    session = Session.create(load_spec(data, base_dir=work), study or work / "studies" / "s")
    if plant is not None:  # e.g. another trial's folder: a new study must start in an empty folder
        plant(session.dir)
    session.run()
    trials = session.trials()
    assert len(trials) == 1, trials
    return trials[0], session


def processes_with(mark: str) -> list[int]:
    """Pids of live processes whose command line contains ``mark`` (zombies excluded)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark.encode() in cmdline and state != "Z":
            found.append(int(name))
    return found


def assert_nothing_left(mark: str, wait: float = 3.0) -> None:
    deadline = time.monotonic() + wait
    while (left := processes_with(mark)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"processes of the trial outlived it: {left}"

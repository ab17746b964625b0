"""Helpers shared by the sandbox tests (requests, waiting for events, process-tree checks)."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import ExecutorEvent, Report, TrialExecutor, TrialOutcome, TrialRequest

REPO = Path(__file__).resolve().parents[2]


def function_request(tmp_path: Path, name: str, trial_id: str = "t1", **kw: Any) -> TrialRequest:
    """A request for ``tests.sandbox.trial_funcs:<name>`` whose objective metric is ``score``."""
    kw.setdefault("grace", 2.0)
    return TrialRequest(
        trial_id=trial_id,
        params=kw.pop("params", {}),
        trial_dir=str(tmp_path / trial_id),
        workdir=str(REPO),
        function=f"tests.sandbox.trial_funcs:{name}",
        env={"TUNESMITH_OBJECTIVE": "score"},
        **kw,
    )


def script_request(tmp_path: Path, body: str, trial_id: str = "t1", **kw: Any) -> TrialRequest:
    """A command request running ``body`` (dedented) as a Python script from ``tmp_path``."""
    path = tmp_path / f"{trial_id}_script.py"
    path.write_text(textwrap.dedent(body))
    kw.setdefault("grace", 1.0)
    return TrialRequest(
        trial_id=trial_id,
        params=kw.pop("params", {}),
        trial_dir=str(tmp_path / trial_id),
        workdir=str(tmp_path),
        command=[sys.executable, str(path)],
        **kw,
    )


def run_until_done(ex: TrialExecutor, timeout: float = 30.0) -> tuple[list[TrialOutcome], list[Report]]:
    """Collect events until nothing runs any more."""
    outcomes: list[TrialOutcome] = []
    reports: list[Report] = []
    deadline = time.monotonic() + timeout
    while ex.running or not outcomes:
        assert time.monotonic() < deadline, "trials did not finish in time"
        events: list[ExecutorEvent] = ex.wait(timeout=1.0)
        for ev in events:
            (outcomes if isinstance(ev, TrialOutcome) else reports).append(ev)  # type: ignore[arg-type]
    for ev in ex.wait(timeout=0):
        (outcomes if isinstance(ev, TrialOutcome) else reports).append(ev)  # type: ignore[arg-type]
    return outcomes, reports


def wait_outcome(ex: TrialExecutor, trial_id: str, timeout: float = 30.0) -> TrialOutcome:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in ex.wait(timeout=0.5):
            if isinstance(ev, TrialOutcome) and ev.trial_id == trial_id:
                return ev
    raise AssertionError(f"no outcome for trial {trial_id} within {timeout} s")


def wait_running(ex: TrialExecutor, trial_id: str, timeout: float = 20.0) -> Report:
    """Wait for the first report of ``trial_id`` (the trial is then surely running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in ex.wait(timeout=0.5):
            if isinstance(ev, Report) and ev.trial_id == trial_id:
                return ev
            assert not isinstance(ev, TrialOutcome), f"trial ended early: {ev}"
    raise AssertionError(f"trial {trial_id} reported nothing within {timeout} s")


def assert_tree_gone(outcome: TrialOutcome) -> None:
    """No process of the trial's group, nor its supervisor, is left (zombies included)."""
    for key in ("pgid", "supervisor_pid"):
        pgid = outcome.info.get(key)
        if pgid is None:
            continue
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)


def pid_alive(pid: int) -> bool:
    """True for a live process; a zombie counts as dead."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 3.0) -> bool:
    """Whether ``pid`` is dead (or a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True

"""``runner_gone``: when does a study recorded as running have no process behind it?"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from agent.study.folder import LOCK_NAME, StudyLock, runner_gone


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_runner_on_this_machine_is_gone(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text(f"pid {_dead_pid()} on {socket.gethostname()}")
    assert runner_gone(tmp_path)


def test_a_live_runner_is_not_gone(tmp_path: Path) -> None:
    with StudyLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"pid {os.getpid()} on {socket.gethostname()}"
        assert not runner_gone(tmp_path)


def test_when_it_cannot_be_told_the_study_is_not_declared_dead(tmp_path: Path) -> None:
    assert not runner_gone(tmp_path)  # no lock file
    for text in (f"pid {_dead_pid()} on another-host", f"pid {_dead_pid()}", "garbage", ""):
        (tmp_path / LOCK_NAME).write_text(text)
        assert not runner_gone(tmp_path), text

"""A kill -9 of tunesmith leaves no trial running: the supervisor notices its parent is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.sandbox.helpers import REPO, pid_alive

PARENT = """
    import sys
    from sandbox.base import TrialRequest
    from sandbox.local_executor import LocalExecutor

    tmp = sys.argv[1]
    trial = "import os, time; open('trial.pid', 'w').write(str(os.getpid())); time.sleep(1000)"
    ex = LocalExecutor()
    ex.submit(TrialRequest("k", {}, tmp + "/k", tmp, command=[sys.executable, "-c", trial]))
    ex.wait(None)  # blocks until killed
"""


def test_kill_9_of_the_parent_kills_the_trial(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PARENT), str(tmp_path)], cwd=REPO)
    pid_file = tmp_path / "trial.pid"
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < deadline and parent.poll() is None, "the trial never started"
            time.sleep(0.02)
        trial_pid = int(pid_file.read_text())
        assert pid_alive(trial_pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    # The trial led its own process group: wait until that group is empty, zombies included.
    deadline = time.monotonic() + 3
    while True:
        try:
            os.killpg(trial_pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the trial outlived its parent by more than 3 s"
        time.sleep(0.02)

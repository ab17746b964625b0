"""Small process-control helpers of the local executor (private to the package)."""

from __future__ import annotations

import json
import os
import signal
from typing import Any


def read_status(path: str) -> dict[str, Any]:
    """The supervisor's ``status.json``; {} when it is missing or half-written."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def send_signal(pid: int, sig: int) -> None:
    """Signal ``pid``; a process already gone is not an error."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_group(pgid: object) -> None:
    """SIGKILL process group ``pgid`` if it is a plausible group id (never 0, 1 or None); an empty or
    foreign group is not an error."""
    if isinstance(pgid, int) and pgid > 1:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def has_exited(pid: int) -> bool:
    """Whether child ``pid`` has exited, without reaping it."""
    # Peek without reaping (WNOWAIT): the zombie must keep the group id alive until we kill the group.
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except (ChildProcessError, AttributeError):
        return True

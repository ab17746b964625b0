"""Bad input to `tunesmith chat`, `serve` and `steer` gets one line that says how to fix it."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import run_cli


def test_chat_on_a_folder_that_is_not_a_study(tmp_path: Path) -> None:
    res = run_cli("chat", str(tmp_path), "--no-live")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "is not a study" in res.stderr or "no study named" in res.stderr


def test_serve_on_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run_cli("serve", "--root", str(tmp_path), "--port", str(port), timeout=60)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr and "(0 picks a free one)" in res.stderr


def test_steer_with_a_bad_action_or_folder(tmp_path: Path) -> None:
    res = run_cli("steer", str(tmp_path), "explode")
    assert res.returncode == 2 and "unknown action 'explode'; use stop, pause, resume or budget" in res.stderr
    res = run_cli("steer", str(tmp_path), "stop")
    assert res.returncode == 2 and "not a study folder" in res.stderr

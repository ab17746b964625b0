"""``tunesmith serve`` keeps the token the person chose (``TUNESMITH_TOKEN`` or ``--token``) across restarts,
so a bookmarked link keeps working; without one it makes a new token each start and says how to keep it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, run_cli

TOKEN = "my-own-token-1234567890"


def start(root: Path, *args: str, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
    """``tunesmith serve ARGS`` on a free port; returns the process and its first lines, up to the chat's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUNESMITH_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "serve", "--root", str(root), "--port", "0", *args],
        cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT), "COLUMNS": "300", "TUNESMITH_CONFIG": str(root / "none.toml"), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while not any(line.startswith("chat:") for line in lines):
        assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
        lines.append(proc.stdout.readline())
    return proc, lines


def link_of(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("open: ")).split()[1]


def get(request: urllib.request.Request) -> int:
    """The status of ``request``, once the server listens (it prints its link just before)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return int(resp.status)
        except urllib.error.URLError:
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(10)


def test_a_token_from_the_environment_survives_a_restart(tmp_path: Path) -> None:
    links = []
    for _ in range(2):
        proc, lines = start(tmp_path, TUNESMITH_TOKEN=TOKEN)
        try:
            link = link_of(lines)
            assert "export TUNESMITH_TOKEN" not in "".join(lines)  # kept already: no advice to keep it
            request = urllib.request.Request(link.split("/?")[0] + "/api/studies", headers={"X-Tunesmith-Token": TOKEN})
            assert get(request) == 200
            links.append(link.split("?")[1])
        finally:
            stop(proc)
    assert links == [f"token={TOKEN}"] * 2


def test_the_token_option_a_random_token_and_a_weak_one(tmp_path: Path) -> None:
    proc, lines = start(tmp_path, "--token", TOKEN)
    stop(proc)
    assert link_of(lines).endswith(f"?token={TOKEN}")
    proc, lines = start(tmp_path)
    stop(proc)
    token = link_of(lines).split("?token=")[1]
    assert token != TOKEN and f"the same link after a restart: export TUNESMITH_TOKEN={token} (or --token)" in "".join(
        lines
    )
    weak = run_cli("serve", "--root", str(tmp_path), "--port", "0", "--token", "short")
    assert weak.returncode == 2 and "must be 16 or more characters of A-Z a-z 0-9" in weak.stderr

"""Bad input to `tunesmith chat`, `serve` and `steer` gets one line that says how to fix it."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from agent.faces.cli.app import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    return res.exit_code, res.output


def test_chat_on_a_folder_that_is_not_a_study(tmp_path: Path) -> None:
    code, out = run("chat", str(tmp_path), "--no-live")
    assert code == 2 and out.count("\n") == 1 and f"{tmp_path} is not a study folder (no study.db)" in out


def test_serve_on_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out = run("serve", "--root", str(tmp_path), "--port", str(port))
    assert code == 2 and out.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out and "(0 picks a free one)" in out


def test_steer_with_a_bad_action_or_folder(tmp_path: Path) -> None:
    code, out = run("steer", str(tmp_path), "explode")
    assert code == 2 and "unknown action 'explode'; use stop, pause, resume or budget" in out
    code, out = run("steer", str(tmp_path), "stop")
    assert code == 2 and "not a study folder" in out


def test_chat_and_serve_with_an_endpoint_but_no_model(tmp_path: Path) -> None:
    env = {
        "COLUMNS": "300",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "TUNESMITH_CONFIG": str(tmp_path / "x.toml"),
        "TUNESMITH_MODEL": "",
        "OPENAI_MODEL": "",
    }
    for args in (["chat", "--no-live"], ["serve", "--root", str(tmp_path), "--port", "0"]):
        res = runner.invoke(app, args, env=env)
        assert res.exit_code == 2 and res.output.count("\n") == 1 and "pass --model NAME" in res.output

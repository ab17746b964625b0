"""The terminal chat driven through a pseudo-terminal (pexpect), as a person would use it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec
from tests.conftest import ROOT

PROMPT = "tunesmith> "
SLOW_TRAIN = """
import json, os, time
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
for step in range(40):
    time.sleep(0.1)
    print("TUNESMITH_REPORT " + json.dumps({"step": step, "score": p["x"] * step}), flush=True)
"""


def spawn(*args: str, cwd: Path, extra: dict[str, str] | None = None) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUNESMITH_"))}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="160", TERM="xterm", TUNESMITH_CONFIG=str(cwd / "no-config.toml"))
    env.update(extra or {})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agent.faces.cli", "chat", *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 160),
    )
    child.expect_exact(PROMPT)
    return child


def say(child: pexpect.spawn, line: str, *expected: str) -> str:
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)
    child.expect_exact(PROMPT)
    return str(child.before)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    session = Session.create(small_spec(budget={"max_trials": 4}), tmp_path_factory.mktemp("chat") / "study")
    session.close()
    Runner(session.dir).start().join()
    return session.dir


def test_slash_commands_and_free_text_without_an_llm(finished: Path) -> None:
    child = spawn(str(finished), "--no-live", cwd=finished.parent)
    assert "no LLM: slash-commands only" in str(child.before)
    say(child, "/status", "finished — trials 4/4")
    say(child, "/best", "best: trial #")
    say(child, "why did trial 1 fail?", "free text needs an LLM and none is configured; to connect one, set")
    assert "--model NAME" in str(child.before)  # the complete recipe, as 'tune' gives it
    say(child, "/trial 99", "no trial #99; /trials lists them")
    say(child, "/budget trials=6", "proposed: budget max_trials=6", "/approve")
    say(child, "/approve", "approved: budget max_trials=6", "budget changed")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert Session.open(finished, readonly=True).spec.budget.max_trials == 6


def test_the_scripted_llm_answers_through_tools(finished: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [
                {"tool_calls": [{"name": "inspect_trial", "arguments": {"trial": 1}}]},
                {"text": "Trial 1 completed; it was proposed by the random strategy."},
                {
                    "tool_calls": [
                        {
                            "name": "edit_space",
                            "arguments": {
                                "action": "narrow",
                                "param": "x",
                                "high": 0.5,
                                "rationale": "the best x is small",
                            },
                        }
                    ]
                },
                {"text": "Send /approve to keep x below 0.5."},
            ]
        )
    )
    child = spawn(str(finished), "--no-live", "--llm-script", str(script), cwd=finished.parent)
    assert "LLM connected" in str(child.before)
    say(child, "why did trial 1 run?", "Trial 1 completed; it was proposed by the random strategy.")
    say(
        child,
        "keep x below 0.5",
        "proposed: search space narrow x high=0.5 — the best x is small",
        "Send /approve to keep x below 0.5.",
    )
    assert Session.open(finished, readonly=True).store.get_meta("space") is None  # nothing before approval
    say(child, "/reject", "dropped")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_free_text_through_a_real_openai_compatible_endpoint(finished: Path) -> None:
    from tests.fake_openai import FakeOpenAI, text, tool

    script = [tool("query_history", {"order": "best", "limit": 3}), text("Trial 2 is the best so far.")]
    with FakeOpenAI(script) as server:
        child = spawn(
            str(finished),
            "--no-live",
            "--model",
            "fake-model",
            cwd=finished.parent,
            extra={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-secret-123"},
        )
        assert "LLM connected" in str(child.before)
        say(child, "which trial is best?", "Trial 2 is the best so far.")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        requests = list(server.requests)
    assert len(requests) == 2
    names = {t["function"]["name"] for t in requests[0]["tools"]}
    assert {"query_history", "inspect_trial", "edit_space", "steer", "propose_budget"} <= names
    assert "run_trials" not in names
    tool_reply = [m for m in requests[1]["messages"] if m["role"] == "tool"]
    assert tool_reply and '"trial"' in tool_reply[0]["content"]
    assert "sk-test-secret-123" not in json.dumps(requests)


def test_an_unreachable_endpoint_is_said_plainly(finished: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    child = spawn(str(finished), "--no-live", "--model", "m", cwd=finished.parent, extra={"OPENAI_BASE_URL": url})
    banner = str(child.before)
    assert "LLM connected" not in banner
    assert f"LLM UNREACHABLE: cannot reach {url} (Connection refused)" in banner
    say(child, "hello?", "no answer: the LLM endpoint failed")
    say(child, "/best", "best: trial #")
    child.sendline("/quit")
    child.expect(pexpect.EOF)


def test_ctrl_c_leaves_a_study_run_from_the_chat_resumable(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SLOW_TRAIN)
    spec = {
        "name": "slow",
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": 20, "trial_timeout": 60},
        "strategy": "random",
        "seed": 0,
        "workers": 2,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    child = spawn("--root", str(tmp_path / "studies"), cwd=tmp_path)
    say(child, "/start spec.yaml trials=20", "started slow-", "strategy random, 20 trials")
    say(child, "/status", "running here")
    child.sendintr()
    child.expect_exact("interrupted.")
    child.expect_exact("stopped. Continue with: tunesmith resume ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    (study,) = (tmp_path / "studies").iterdir()
    session = Session.open(study, readonly=True)
    trials = session.trials()
    assert session.status()["status"] == "stopped" and trials
    assert all(t.state.value != "running" for t in trials)
    interrupted = [t for t in trials if t.failure is not None and t.failure.value == "interrupted"]
    assert interrupted  # the two running trials were cancelled as interrupted: re-run once on resume
    assert not any("supervisor.py" in " ".join(p) for p in _children_of_nobody(study))


def _children_of_nobody(study: Path) -> list[list[str]]:
    """Command lines of processes still working in the study folder (none should be left)."""
    import psutil

    left = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if str(study) in " ".join(proc.info["cmdline"] or []) or str(study) in (proc.info["cwd"] or ""):
                left.append(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return left


def test_help_names_quit_and_tab_completes_commands(finished: Path) -> None:
    child = spawn(str(finished), "--no-live", cwd=finished.parent)
    child.send("/he\t")  # Tab completes the command: /help
    child.expect_exact("/help ")
    child.sendline("")
    child.expect_exact("/quit")
    child.expect_exact("Tab completes a command")
    child.expect_exact(PROMPT)
    child.send("/stat\t")
    child.sendline("")
    child.expect_exact("finished — trials 4/")  # (an earlier test raised the budget)
    child.expect_exact(PROMPT)
    child.send("/export pa\t")  # and the word after it: a format, a plot, a study
    child.expect_exact("/export parquet ")
    child.sendcontrol("u")  # clear the line instead of running it
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_pages_chat_help_has_no_quit(finished: Path) -> None:
    from agent.faces.catalog import SpecCatalog
    from agent.faces.chat.conversation import Conversation
    from agent.faces.handle import Handles

    handles = Handles("web")
    try:
        page = Conversation(root=finished.parent, handles=handles, catalog=SpecCatalog([]), pinned=True)
        terminal = Conversation(root=finished.parent, handles=handles, catalog=SpecCatalog([]))
        assert "/quit" not in page.ask("/help") and "/quit" in terminal.ask("/help")
    finally:
        handles.close()

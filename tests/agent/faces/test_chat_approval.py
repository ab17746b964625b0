"""A chat model never causes a side effect the person has not approved, and every call it makes is shown.

Starting, stopping, pausing or resuming a study only become proposals that wait for /approve, like budget
and space changes; an answer that broke (endpoint failure, garbage, no final answer) says so instead of
showing leftover prose; without a model, free text gets the complete recipe to connect one.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from agent.errors import LLMBadResponse, LLMUnavailable
from agent.faces.catalog import SpecCatalog
from agent.faces.chat.assistant import MAX_STEPS, LLMAssistant
from agent.faces.chat.conversation import NO_LLM, Conversation
from agent.faces.handle import Handles
from agent.llm.base import Completion, ToolCall
from agent.llm.scripted import ScriptedClient
from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec

WRITER = """
import json, os
from pathlib import Path
Path(__file__).with_name("ran.txt").write_text("the command ran")
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
print("TUNESMITH_REPORT " + json.dumps({"score": p["x"]}))
"""


def writer_catalog(folder: Path) -> tuple[SpecCatalog, Path]:
    """A catalog with one spec, 'writer', whose command writes ``ran.txt`` (the side effect to watch)."""
    (folder / "writer").mkdir(parents=True)
    (folder / "writer" / "train.py").write_text(WRITER)
    spec = {
        "name": "writer",
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": 1, "trial_timeout": 60},
        "strategy": "random",
        "seed": 0,
    }
    (folder / "writer" / "spec.yaml").write_text(yaml.safe_dump(spec))
    return SpecCatalog([folder]), folder / "writer" / "ran.txt"


def conv_with(
    root: Path, steps: list[object], catalog: SpecCatalog | None = None, source: str = "terminal"
) -> Conversation:
    client = ScriptedClient(steps, exhausted=Completion(text="done."))  # type: ignore[arg-type]
    return Conversation(
        root=root,
        handles=Handles(source),
        catalog=catalog or SpecCatalog([]),
        assistant=LLMAssistant(client),
        allow_paths=True,
    )


def finished_study(directory: Path) -> Path:
    session = Session.create(small_spec(budget={"max_trials": 4}), directory)
    session.close()
    Runner(session.dir).start().join()
    return session.dir


def call(name: str, **arguments: object) -> Completion:
    return Completion(tool_calls=[ToolCall(id=name, name=name, arguments=arguments)])


def test_a_model_start_study_is_only_proposed_until_the_person_approves(tmp_path: Path) -> None:
    catalog, marker = writer_catalog(tmp_path / "specs")
    study = finished_study(tmp_path / "studies" / "open")
    conv = conv_with(tmp_path / "studies", [call("start_study", spec="writer")], catalog)
    conv.open(str(study))
    answer = conv.ask("summarize trial 3")
    time.sleep(0.3)  # a started trial would have written its file by now
    assert not marker.exists(), "the model's start_study ran a command nobody approved"
    assert [p.name for p in (tmp_path / "studies").iterdir()] == ["open"]  # no new study folder either
    assert "[model called start_study(spec=writer)]" in answer
    assert "proposed: start a study 'writer'" in answer and "python train.py" in answer  # what would run
    assert "send /approve to start it" in answer and answer.rstrip().endswith("done.")
    assert conv.handle is not None and conv.handle.dir == study

    started = conv.ask("/approve")
    assert started.startswith("started writer-"), started
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the approved study never ran"
        time.sleep(0.05)
    conv.close()


def test_a_proposed_start_can_be_rejected(tmp_path: Path) -> None:
    catalog, marker = writer_catalog(tmp_path / "specs")
    conv = conv_with(tmp_path / "studies", [call("start_study", spec="writer", trials=1)], catalog)
    assert "proposed: start a study 'writer'" in conv.ask("start the writer study")
    assert conv.ask("/reject") == "dropped the proposed study"
    assert conv.ask("/approve").startswith("no study is open")
    assert not marker.exists() and not (tmp_path / "studies").exists()


def test_a_model_steer_stop_waits_for_approval_and_then_stops_a_study_run_elsewhere(
    study_dir: Path, runner: Runner
) -> None:
    runner.start()  # stands in for 'tunesmith tune' in another terminal
    conv = conv_with(study_dir.parent, [call("steer", action="stop")])
    conv.open(str(study_dir))
    answer = conv.ask("how is it going?")
    assert "[model called steer(action=stop)]" in answer
    assert "proposed: stop the study" in answer and "/approve" in answer
    assert conv.handle is not None
    assert conv.handle.running() and not conv.handle.events("command")  # nothing was sent to the study
    pending = conv.handle.store.events("change_proposed")[-1].data
    assert pending["op"] == "stop" and pending["by"] == "model"
    approved = conv.ask("/approve")
    assert approved.startswith("approved: stop the study"), approved
    assert runner.join().reason == "stopped"


def test_pause_and_resume_from_a_model_are_proposals_too(study_dir: Path, runner: Runner) -> None:
    runner.start()
    steps = [
        call("steer", action="pause", rationale="let me look"),
        Completion(text="ok"),
        call("steer", action="resume"),
    ]
    conv = conv_with(study_dir.parent, steps)
    conv.open(str(study_dir))
    assert "proposed: pause the study (running trials finish, no new ones start) — let me look" in conv.ask("hold on")
    assert conv.handle is not None and not conv.handle.paused()
    assert conv.ask("/approve").startswith("approved: pause the study")
    assert conv.handle.paused()
    assert "proposed: resume the study" in conv.ask("go on")
    assert conv.handle.paused()
    assert conv.ask("/approve").startswith("approved: resume the study")
    assert not conv.handle.paused()
    assert conv.handle.send("stop").ok
    runner.join()


def test_every_call_the_model_makes_is_shown_not_only_its_prose(tmp_path: Path) -> None:
    study = finished_study(tmp_path / "study")
    conv = conv_with(
        study.parent,
        [
            Completion(
                tool_calls=[
                    ToolCall(id="a", name="inspect_trial", arguments={"trial": 1}),
                    ToolCall(id="b", name="no_such_tool", arguments={}),
                ]
            ),
            Completion(text="Trial 1 completed."),
        ],
    )
    conv.open(str(study))
    answer = conv.ask("summarize trial 1")
    assert "[model called inspect_trial(trial=1)]" in answer
    assert "[model called no_such_tool() — refused: unknown tool 'no_such_tool'" in answer
    assert answer.rstrip().endswith("Trial 1 completed.")


def test_a_failed_endpoint_shows_no_leftover_prose(tmp_path: Path) -> None:
    study = finished_study(tmp_path / "study")
    broken = ToolCall(id="x", name="inspect_trial", arguments=None, raw_arguments="{oops", error="not JSON")
    conv = conv_with(
        study.parent,
        [Completion(text="Everything is fine, I stopped it.", tool_calls=[broken]), LLMUnavailable("HTTP 502")],
    )
    conv.open(str(study))
    answer = conv.ask("how is it going?")
    assert "Everything is fine" not in answer
    assert "no answer: the LLM endpoint failed (HTTP 502)" in answer
    assert "[model called inspect_trial({oops) — refused:" in answer  # what it tried is still shown
    assert conv.ask("/best").startswith("best: trial #")  # the chat stays usable


def test_garbage_answers_say_so(tmp_path: Path) -> None:
    study = finished_study(tmp_path / "study")
    conv = conv_with(study.parent, [Completion(text="  \x1b[2J  ")])
    conv.open(str(study))
    assert conv.ask("hello?").startswith("no answer: the model sent an empty answer")
    looping = conv_with(study.parent, [call("nope")] * (MAX_STEPS + 1))
    looping.open(str(study))
    answer = looping.ask("hello?")
    assert f"no answer: the model did not finish after {MAX_STEPS} rounds of tool calls" in answer
    bad = conv_with(study.parent, [LLMBadResponse("the endpoint answered without any choice")])
    bad.open(str(study))
    assert bad.ask("hi").startswith("no answer: the LLM endpoint failed (the endpoint answered without any choice)")


def test_model_text_reaches_the_terminal_without_control_sequences(tmp_path: Path) -> None:
    conv = conv_with(tmp_path, [Completion(text="fine\x1b]0;pwned\x07 \x1b[31mred\x1b[0m")])
    answer = conv.ask("hi")
    assert "\x1b" not in answer and "\x07" not in answer and answer.startswith("fine")


def test_free_text_without_an_llm_gives_the_complete_recipe(tmp_path: Path) -> None:
    conv = Conversation(root=tmp_path, handles=Handles("terminal"), catalog=SpecCatalog([]))
    answer = conv.ask("why did trial 1 fail?")
    assert answer == NO_LLM and "\n" not in answer
    for part in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "--model", "config.toml", "/help"):
        assert part in answer, part


def test_a_hostile_endpoint_in_the_web_chat_can_only_propose(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from agent.faces.chat.assistant import connect
    from agent.faces.web.app import create_app
    from tests.fake_openai import FakeOpenAI, Reply, status, text

    catalog, marker = writer_catalog(tmp_path / "specs")
    root = tmp_path / "studies"
    session = Session.create(small_spec(), root / "busy")
    session.close()
    runner = Runner(session.dir).start()  # a study 'tunesmith tune' runs in another terminal
    (tmp_path / "config.toml").write_text("[llm]\nretries = 0\n")
    hostile = Reply(content="All good.", calls=[("start_study", {"spec": "writer"}), ("steer", {"action": "stop"})])
    try:
        with FakeOpenAI([hostile, text("done.")], then=status(500)) as server:
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            monkeypatch.setenv("TUNESMITH_MODEL", "fake-model")
            monkeypatch.setenv("TUNESMITH_CONFIG", str(tmp_path / "config.toml"))
            app = create_app(root, "tok", catalog=catalog, assistant_factory=connect)
            with TestClient(app, base_url="http://127.0.0.1") as web:
                ask = {"X-Tunesmith-Token": "tok"}
                answer = web.post("/api/chat", headers=ask, json={"text": "summarize trial 3", "study": "busy"}).text
                assert "[model called start_study(spec=writer)]" in answer and "python train.py" in answer
                assert "[model called steer(action=stop)]" in answer and "proposed: stop the study" in answer
                assert answer.endswith("All good.\n\ndone.")
                time.sleep(0.3)
                assert not marker.exists() and [p.name for p in root.iterdir()] == ["busy"]
                assert runner.thread.is_alive()  # not stopped
                pending = web.get("/api/studies/busy", headers=ask).json()["pending"]
                assert pending["summary"].startswith("stop the study") and pending["source"] == "web's chat model"
                failed = web.post("/api/chat", headers=ask, json={"text": "and now?", "study": "busy"}).text
                assert failed.startswith("no answer: the LLM endpoint failed") and "done." not in failed
                assert runner.thread.is_alive()
    finally:
        runner.session.control.stop()
        runner.join()


def test_approve_decides_the_newest_proposal_and_a_button_decides_the_one_it_shows(tmp_path: Path) -> None:
    from agent.faces.chat import approvals

    catalog, marker = writer_catalog(tmp_path / "specs")
    study = finished_study(tmp_path / "studies" / "open")
    conv = conv_with(tmp_path / "studies", [call("start_study", spec="writer"), Completion(text="ok")], catalog)
    conv.open(str(study))
    assert conv.handle is not None
    conv.ask("start the writer study")  # the model proposes a start ...
    conv.ask("/budget trials=6")  # ... then the person proposes a budget: the newest, decided first
    assert conv.ask("/approve").startswith("approved: budget max_trials=6")
    assert conv.ask("/reject") == "dropped the proposed study"

    conv.ask("/budget trials=7")
    stale = approvals.pending(conv.handle)
    assert stale is not None
    conv.ask("/budget trials=8")
    refused = conv.ask(f"/approve {stale.id}")  # a page still showing the older proposal
    assert refused == "that proposal is no longer waiting; the one waiting now is: budget max_trials=8"
    assert conv.handle.spec.budget.max_trials == 6 and not marker.exists()

"""Free-text chat through the agent's own tools: space edits wait for /approve and reach the running engine,
and a request in plain words becomes a study only after approval."""

from __future__ import annotations

import time
from pathlib import Path

from agent.faces.catalog import SpecCatalog
from agent.faces.chat.assistant import LLMAssistant
from agent.faces.chat.conversation import Conversation
from agent.faces.handle import Handles
from agent.llm.base import Completion, ToolCall
from agent.llm.scripted import ScriptedClient
from agent.study.session import Session
from tests.agent.faces.conftest import Runner

NARROW = ToolCall(
    id="e",
    name="edit_space",
    arguments={"action": "narrow", "param": "x", "high": 0.2, "rationale": "every good trial has x < 0.2"},
)


def chat(root: Path, source: str, steps: list[Completion] | None = None) -> Conversation:
    assistant = LLMAssistant(ScriptedClient(steps)) if steps is not None else None
    return Conversation(
        root=root, handles=Handles(source), catalog=SpecCatalog([]), assistant=assistant, allow_paths=True
    )


def test_an_agent_space_edit_waits_and_an_approval_elsewhere_reaches_the_running_engine(
    study_dir: Path, runner: Runner
) -> None:
    runner.start()
    terminal = chat(study_dir.parent, "terminal", [Completion(tool_calls=[NARROW]), Completion(text="Proposed.")])
    terminal.open(str(study_dir))
    answer = terminal.ask("keep x below 0.2")
    assert "proposed: search space narrow x high=0.2 — every good trial has x < 0.2" in answer
    assert answer.endswith("Proposed.")
    assert terminal.handle is not None and terminal.handle.space.params["x"].high == 1.0  # type: ignore[union-attr]

    web = chat(study_dir.parent, "web")
    web.open(study_dir.name)
    assert web.handle is not None
    status = web.handle.store.events("space_edit_proposed")
    assert len(status) == 1 and status[0].data["source"] == "llm"
    approved = web.ask("/approve")
    assert approved.startswith("approved: search space: narrow x high=0.2"), approved
    assert web.handle.space.params["x"].high == 0.2  # type: ignore[union-attr]
    edited = web.handle.store.events("space_edited")[-1]
    assert edited.data["source"] == "web"  # applied by the engine (the runner's thread), sent from the web face
    decided = web.handle.store.events("space_edit_decided")
    assert decided[-1].data["approved"] is True and decided[-1].data["status"] == "applied"
    assert web.ask("/approve").startswith("nothing to approve")
    before = len(web.handle.trials())
    deadline = time.monotonic() + 20
    while len(web.handle.trials()) < before + 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert all(t.params["x"] <= 0.2 for t in web.handle.trials()[before + 1 :])  # new trials use the new space
    assert web.handle.send("stop").ok
    runner.join()


def test_an_agent_space_edit_can_be_rejected(study_dir: Path) -> None:
    conv = chat(study_dir.parent, "terminal", [Completion(tool_calls=[NARROW]), Completion(text="ok")])
    conv.open(str(study_dir))
    conv.ask("narrow x")
    assert conv.ask("/reject").startswith("dropped: search space: narrow x")
    assert conv.handle is not None and conv.handle.space.params["x"].high == 1.0  # type: ignore[union-attr]
    assert conv.ask("/approve").startswith("nothing to approve")


TRAIN = """
import json, os
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
print("TUNESMITH_REPORT " + json.dumps({"acc": 1 - (p["lr"] - 0.01) ** 2}))
"""


def test_a_request_in_plain_words_becomes_a_study_after_approval(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TUNESMITH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TUNESMITH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(TRAIN)
    request = "tune lr of train.py for acc, maximize, 3 trials"
    draft = {
        "script": "train.py",
        "metric": "acc",
        "direction": "maximize",
        "max_trials": 3,
        "params": [{"name": "lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True}],
    }
    conv = chat(
        tmp_path / "studies",
        "terminal",
        [
            Completion(tool_calls=[ToolCall(id="d", name="draft_study", arguments={"request": request})]),
            Completion(tool_calls=[ToolCall(id="s", name="submit_spec", arguments=draft)]),  # draft_spec's own call
            Completion(text="I drafted it; approve to start."),
        ],
    )
    answer = conv.ask(request)
    assert "proposed: start a study" in answer and "maximize acc" in answer and "3 trials" in answer
    assert "send /approve to start it" in answer and answer.endswith("I drafted it; approve to start.")
    assert not (tmp_path / "studies").exists() or not any((tmp_path / "studies").iterdir())  # nothing yet
    started = conv.ask("/approve")
    assert started.startswith("started "), started
    assert conv.handle is not None
    deadline = time.monotonic() + 60
    while conv.handle.running() or conv.handle.status()["done"] < 3:
        assert time.monotonic() < deadline, conv.ask("/status")
        time.sleep(0.1)
    session = Session.open(conv.handle.dir, readonly=True)
    assert session.spec.llm is not None and session.status()["done"] == 3
    assert session.events("llm_missing")  # an LLM study without an endpoint now: the strategy carried it
    conv.close()


def test_the_chat_model_sees_the_task_and_the_space_and_its_tokens_count_with_the_study(study_dir: Path) -> None:
    from agent.llm.usage import MeteredClient, UsageMeter

    scripted = ScriptedClient([Completion(text="x near 0.3 is best.")])
    meter = UsageMeter()
    assistant = LLMAssistant(MeteredClient(scripted, meter), meter=meter, temperature=0.0)
    conv = Conversation(
        root=study_dir.parent,
        handles=Handles("terminal"),
        catalog=SpecCatalog([]),
        assistant=assistant,
        allow_paths=True,
    )
    conv.open(str(study_dir))
    assert conv.ask("what is best?").endswith("x near 0.3 is best.")
    system = scripted.requests[0][0][0].content or ""
    assert "The task:" in system and "Search space now:" in system and '"name":"x"' in system.replace(" ", "")
    usage = Session.open(study_dir, readonly=True).status()["chat_usage"]
    assert usage["calls"] == 1 and usage["total_tokens"] > 0

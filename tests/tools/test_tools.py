"""The tools over a session (as chat and the web page use them), their schemas, and the LangChain export."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from agent.core.records import ProposerKind
from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.hybrid.actions import session_toolbox
from agent.hybrid.space_edit import approve_all, decide_pending, pending_edits
from agent.study.session import Session
from sandbox.fake import InProcessExecutor
from tests.agent.llm.helpers import SPEC
from tools.summary import summarize
from tools.toolbox import ALL_TOOLS, build_toolbox


@pytest.fixture
def finished(tmp_path: Path) -> Session:
    session = Session.create(load_spec({**SPEC, "budget": {"max_trials": 10}}), tmp_path / "s")
    session.run(executor=InProcessExecutor())
    return session


def data(result) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(result.content)


def test_schemas_are_json_schema_objects_and_run_trials_knows_the_space(finished: Session) -> None:
    box = session_toolbox(finished)
    specs = {s["name"]: s for s in box.specs()}
    assert set(specs) == {cls.name for cls in ALL_TOOLS}
    for s in specs.values():
        assert s["parameters"]["type"] == "object" and len(s["description"]) < 250
        json.dumps(s)
    params = specs["run_trials"]["parameters"]["$defs"]["Config"]["properties"]["params"]
    assert params["properties"]["batch_size"] == {"enum": [16, 32, 64, 128, 256, 512]}
    assert params["properties"]["lr"]["description"] == "log scale"
    assert params["required"] == ["lr", "batch_size", "optimizer"]  # momentum is conditional
    assert "only when optimizer in ['sgd']" in params["properties"]["momentum"]["description"]


def test_query_history_and_inspect_trial(finished: Session) -> None:
    box = session_toolbox(finished)
    out = data(box.call("query_history", {"order": "best", "limit": 3}))
    values = [t["value"] for t in out["trials"]]
    assert len(values) == 3 and values == sorted(values, reverse=True)
    assert out["summary"]["trials"] == 10 and "by_proposer" in out["summary"]
    failed = data(box.call("query_history", {"state": "failed", "summary": False}))
    assert all(t["state"] == "failed" for t in failed["trials"])
    small = data(box.call("query_history", {"where": {"lr": {"high": 0.001}}, "order": "recent"}))
    assert all(t["params"]["lr"] <= 0.001 for t in small["trials"])
    oom = next(t for t in finished.trials() if t.failure is not None)
    detail = data(box.call("inspect_trial", {"trial": oom.number}))
    assert detail["failure"] == "oom" and "stderr_tail" in detail and "«untrusted stderr" in detail["stderr_tail"]
    missing = box.call("inspect_trial", {"trial": 99})
    assert missing.mistake == "unknown_trial" and "numbered 0 to 9" in missing.content
    assert box.call("query_history", {"limit": 500}).mistake == "bad_arguments"
    assert box.call("nope", {}).mistake == "unknown_tool"


def test_ask_optimizer_gives_valid_candidates(finished: Session) -> None:
    out = data(session_toolbox(finished).call("ask_optimizer", {"n": 2}))
    assert len(out["candidates"]) == 2
    assert all(finished.spec.space.validate_config(c) == [] for c in out["candidates"])


def test_edit_space_pending_then_approved_applies_with_provenance(finished: Session) -> None:
    box = session_toolbox(finished)
    res = data(
        box.call("edit_space", {"action": "narrow", "param": "lr", "high": 0.001, "rationale": "keep lr below 1e-3"})
    )
    assert res["status"] == "pending"
    [(proposal, edit)] = pending_edits(finished.store)
    assert edit.high == 0.001
    editor = box.tools["edit_space"].actions.editor  # type: ignore[attr-defined]
    result = decide_pending(editor, finished.store, proposal, approve=True)
    assert result.status == "applied" and pending_edits(finished.store) == []
    stored = finished.store.get_meta("space")
    assert stored["params"]["lr"]["high"] == 0.001
    edited = finished.events("space_edited")[-1]
    assert edited.data["source"] == "user" and "keep lr below 1e-3" in edited.data["rationale"]
    with pytest.raises(SpecError, match="no space edit"):
        decide_pending(editor, finished.store, proposal, approve=True)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        ({"action": "narrow", "param": "lr", "low": 1e-6}, "must lie inside"),
        ({"action": "widen", "param": "batch_size", "choices": [16]}, "must include all"),
        ({"action": "freeze", "param": "optimizer", "value": "rmsprop"}, "not one of"),
        ({"action": "add", "param": "lr", "type": "float", "low": 0, "high": 1}, "already exists"),
        ({"action": "add", "param": "--evil", "type": "float", "low": 0, "high": 1}, "not a valid parameter name"),
        ({"action": "narrow", "param": "dropout", "high": 0.1}, "no parameter 'dropout'"),
    ],
)
def test_invalid_edits_are_refused_with_a_reason(finished: Session, edit: dict, why: str) -> None:
    res = session_toolbox(finished, approve=approve_all).call("edit_space", {**edit, "rationale": "r"})
    assert res.mistake == "invalid_edit" and why in res.content
    assert finished.store.get_meta("space") is None


def test_freeze_and_add(finished: Session) -> None:
    box = session_toolbox(finished, approve=approve_all)
    assert (
        data(
            box.call(
                "edit_space", {"action": "freeze", "param": "optimizer", "value": "adam", "rationale": "sgd never wins"}
            )
        )["status"]
        == "applied"
    )
    out = data(
        box.call(
            "edit_space",
            {"action": "add", "param": "warmup", "type": "int", "low": 0, "high": 10, "rationale": "warm up"},
        )
    )
    names = {p["name"]: p for p in out["space"]}
    assert names["optimizer"]["choices"] == ["adam"] and names["warmup"]["type"] == "int"


def test_run_trials_queues_into_a_running_study(tmp_path: Path) -> None:
    spec = load_spec({**SPEC, "function": "tests.tools.slow:objective", "budget": {"max_trials": 6}, "default": None})
    session = Session.create(spec, tmp_path / "s")
    box = session_toolbox(session)
    idle = data(
        box.call(
            "run_trials",
            {"configs": [{"params": {"lr": 0.01, "batch_size": 16, "optimizer": "adam"}, "rationale": "user idea"}]},
        )
    )
    assert idle["accepted"] == [] and "not running" in idle["note"]
    runner = threading.Thread(target=session.run, kwargs={"executor": InProcessExecutor()})
    runner.start()
    while session.store.get_meta("status") != "running":
        time.sleep(0.01)
    wanted = {"lr": 0.0123, "batch_size": 16, "optimizer": "adam"}
    out = data(
        box.call(
            "run_trials",
            {"configs": [{"params": wanted, "rationale": "user idea"}, {"params": {"lr": 7.0}, "rationale": "bad"}]},
        )
    )
    runner.join(timeout=60)
    assert len(out["accepted"]) == 1 and out["rejected"][0]["config"] == 1
    ran = [t for t in session.trials() if t.params == wanted]
    assert len(ran) == 1 and ran[0].proposer is ProposerKind.USER and ran[0].rationale == "user idea"


def test_read_only_toolbox_offers_only_reading_tools(finished: Session) -> None:
    watcher = Session.open(finished.dir, readonly=True)
    box = session_toolbox(watcher, read_only=True)
    assert box.names == ["query_history", "inspect_trial", "ask_optimizer"]
    full = session_toolbox(watcher)
    res = data(full.call("edit_space", {"action": "narrow", "param": "lr", "high": 0.01, "rationale": "r"}))
    assert res["status"] == "rejected"


def test_langchain_tools_call_the_same_tools(finished: Session) -> None:
    from tools.langchain import to_langchain

    tools = {t.name: t for t in to_langchain(session_toolbox(finished))}
    assert set(tools) == {cls.name for cls in ALL_TOOLS}
    out = json.loads(tools["query_history"].invoke({"limit": 2, "summary": False}))
    assert len(out["trials"]) == 2
    assert "error" in json.loads(tools["inspect_trial"].invoke({"trial": 999}))
    # arguments LangChain itself refuses come back as the same observation, not an exception
    wrong = json.loads(tools["query_history"].invoke({"top_k": 2}))
    assert wrong["error"].startswith("query_history: ") and "top_k" in wrong["error"]
    schema = tools["run_trials"].args_schema.model_json_schema()  # type: ignore[union-attr]
    assert "configs" in schema["properties"]


def test_summary_stays_bounded_as_history_grows() -> None:
    from tools.protocol import TrialView

    def views(n: int) -> list[TrialView]:
        return [
            TrialView(
                number=i,
                state="failed" if i % 7 == 0 else "complete",
                params={"lr": 1e-3 * (i + 1), "batch_size": 32},
                value=None if i % 7 == 0 else i / n,
                proposer="llm" if i % 3 else "strategy",
                reason="exited with code 1: boom" if i % 7 == 0 else None,
                failure="crash" if i % 7 == 0 else None,
            )
            for i in range(n)
        ]

    space = [
        {"name": "lr", "type": "float", "low": 1e-5, "high": 1.0},
        {"name": "batch_size", "type": "categorical", "choices": [32]},
    ]
    sizes = [len(json.dumps(summarize(views(n), direction="maximize", space=space))) for n in (20, 200, 2000)]
    assert max(sizes) - min(sizes) < 200, sizes


def test_build_toolbox_rejects_unknown_names(finished: Session) -> None:
    with pytest.raises(ValueError, match="unknown tools"):
        build_toolbox(session_toolbox(finished).tools["finish"].actions, only=["finish", "rm"])


def test_freezing_a_parent_drops_children_that_can_never_be_active_again(finished: Session) -> None:
    box = session_toolbox(finished, approve=approve_all)
    out = data(box.call("edit_space", {"action": "freeze", "param": "optimizer", "value": "adam", "rationale": "r"}))
    assert "momentum" not in {p["name"] for p in out["space"]}


def test_the_summarys_recent_trials_never_repeat_its_top_trials() -> None:
    from tools.protocol import TrialView

    trials = [
        TrialView(number=i, state="complete", params={"lr": 0.1 * i}, value=float(v), proposer="strategy")
        for i, v in enumerate([5, 4, 9, 1, 8, 7, 2])
    ]
    out = summarize(trials, direction="minimize", top_k=3, recent=3)
    assert [t["trial"] for t in out["top"]] == [3, 6, 1]
    # the three latest trials are 4, 5, 6; 6 is in "top", so the latest three not in it are 2, 4, 5
    assert [t["trial"] for t in out["recent"]] == [2, 4, 5]
    assert summarize(trials, direction="minimize", top_k=3, recent=0)["recent"] == []

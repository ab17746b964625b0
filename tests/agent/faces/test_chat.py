"""The conversation behind both chat faces: slash-commands without an LLM, approvals, the scripted LLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import LLMUnavailable
from agent.faces.catalog import SpecCatalog
from agent.faces.chat.assistant import LLMAssistant, load_script
from agent.faces.chat.conversation import NO_LLM, Conversation
from agent.faces.handle import Handles
from agent.llm.base import Completion, ToolCall
from agent.llm.scripted import ScriptedClient
from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec


def make_finished(directory: Path) -> Path:
    """A finished 5-trial study on the fake executor."""
    session = Session.create(small_spec(budget={"max_trials": 5}), directory)
    session.close()
    Runner(session.dir).start().join()
    return session.dir


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    return make_finished(tmp_path / "study")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished study for the tests that only read it."""
    return make_finished(tmp_path_factory.mktemp("shared") / "study")


def conv_for(study: Path | None, source: str = "terminal", assistant=None) -> Conversation:  # type: ignore[no-untyped-def]
    handles = Handles(source)
    conv = Conversation(
        root=study.parent if study else Path("/nonexistent"),
        handles=handles,
        catalog=SpecCatalog([]),
        assistant=assistant,
        allow_paths=True,
    )
    if study is not None:
        conv.open(str(study))
    return conv


def test_slash_commands_answer_without_an_llm(shared: Path) -> None:
    conv = conv_for(shared)
    assert "trials 5/5" in conv.ask("/status") and "finished" in conv.ask("/status")
    best = conv.ask("/best")
    assert best.startswith("best: trial #") and "x:" in best
    table = conv.ask("/trials 2")
    assert len(table.splitlines()) == 4 and "earlier trials not shown" in table
    detail = conv.ask("/trial 0")
    assert "trial #0: complete" in detail and "proposer: default" in detail and "curve:" in detail
    assert "x: float [0.0, 1.0]" in conv.ask("/space")
    assert "max_trials=5" in conv.ask("/budget")
    assert "lr" not in conv.ask("/importance") and "importance" in conv.ask("/importance")
    assert "/status" in conv.ask("/help")


def test_free_text_without_an_llm_says_how_to_connect_one(shared: Path) -> None:
    answer = conv_for(shared).ask("why did trial 1 fail?")
    assert answer == NO_LLM and "OPENAI_BASE_URL" in answer and "\n" not in answer


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/nope", "unknown command /nope; /help lists them"),
        ("/trial", "which trial? e.g. /trial 3"),
        ("/trial abc", "the trial number must be a whole number, got 'abc'"),
        ("/trial 99", "no trial #99; /trials lists them"),
        ("/space nope high=1", "no parameter 'nope'; the space has x, k"),
        ("/space x high", "expected key=value, got 'high'; e.g. /space lr high=1e-3"),
        ("/space x low=2", "low (2) must be < high (1)"),
        ("/budget trials=0", "budget.max_trials"),
        ("/budget cats=3", "unknown budget key 'cats'"),
        ("/export xls", "unknown format 'xls'; choose one of csv, json, parquet, optuna, mlflow, wandb"),
        ("/plot pie", "unknown plot 'pie'"),
        ("/approve", "nothing to approve: no change is waiting"),
        ('/trial "3', "cannot read that command"),
    ],
)
def test_mistakes_get_one_line_that_says_how_to_fix_them(shared: Path, line: str, expected: str) -> None:
    answer = conv_for(shared).ask(line)
    assert expected in answer and "\n" not in answer


def test_commands_that_need_a_study_say_how_to_open_one(tmp_path: Path) -> None:
    conv = Conversation(root=tmp_path, handles=Handles("t"), catalog=SpecCatalog([]))
    assert conv.ask("/best").startswith("no study is open: /studies lists them")
    assert "no studies under" in conv.ask("/studies")
    assert "no study named 'x'" in conv.ask("/open x")
    assert "no spec named 'nope'" in conv.ask("/start nope")


def test_a_change_proposed_in_one_face_is_approved_in_another(finished: Path) -> None:
    terminal, web = conv_for(finished, "terminal"), conv_for(finished, "web")
    proposed = terminal.ask("/budget trials=7 timeout=10m")
    assert proposed.startswith("proposed: budget max_trials=7, trial_timeout=10m") and "/approve" in proposed
    assert terminal.handle is not None and terminal.handle.spec.budget.max_trials == 5  # nothing changed yet
    approved = web.ask("/approve")
    assert "approved: budget" in approved and "budget changed" in approved
    assert terminal.handle.spec.budget.max_trials == 7 and terminal.handle.spec.budget.trial_timeout == 600
    assert web.ask("/approve").startswith("nothing to approve")
    kinds = [e.kind for e in terminal.handle.events()]
    last = len(kinds) - 1 - kinds[::-1].index("budget_changed")
    assert kinds.index("change_proposed") < kinds.index("change_approved") < last
    chats = [e.data["source"] for e in terminal.handle.events("chat")]
    assert chats == ["terminal", "web", "web"]  # each face sees what the other said


def test_space_proposals_can_be_rejected(finished: Path) -> None:
    conv = conv_for(finished)
    assert conv.ask("/space x high=0.2").startswith("proposed: search space x: high=0.2")
    assert conv.ask("/reject").startswith("dropped: search space x")
    assert conv.handle is not None and conv.handle.space.params["x"].high == 1.0  # type: ignore[union-attr]
    conv.ask("/space k choices=a")
    assert "search space changed (2 parameters)" in conv.ask("/approve")
    assert conv.handle.space.params["k"].choices == ["a"]  # type: ignore[union-attr]


def test_export_and_plots_write_into_the_study_folder(finished: Path) -> None:
    conv = conv_for(finished)
    assert f"wrote {finished / 'export.csv'}" in conv.ask("/export")
    assert (finished / "export.csv").read_text().count("\n") == 6
    out = conv.ask("/export mlflow")  # a tracker: its store inside the study folder, read back by MLflow itself
    assert out.startswith(f"wrote sqlite:///{finished / 'mlflow.db'}") and "5 trial runs" in out
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{finished / 'mlflow.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name != "Default"]
    assert len(client.search_runs([experiment.experiment_id])) == 6  # the study's run and one per trial
    out = conv.ask("/plot")
    assert "best so far: " in out
    for kind in ("history", "importance", "parallel", "curves"):
        assert (finished / "plots" / f"{kind}.svg").read_text().startswith("<svg")


def test_the_llm_answers_through_tools_and_changes_need_approval(finished: Path) -> None:
    client = ScriptedClient(
        [
            Completion(tool_calls=[ToolCall(id="a", name="inspect_trial", arguments={"trial": 0})]),
            Completion(text="Trial 0 was the spec's default; it completed."),
            Completion(
                tool_calls=[
                    ToolCall(id="b", name="propose_budget", arguments={"max_trials": 9, "rationale": "more room"})
                ]
            ),
            Completion(text="I proposed 9 trials."),
            Completion(
                tool_calls=[
                    ToolCall(id="c", name="no_such_tool", arguments={}),
                    ToolCall(id="d", name="inspect_trial", arguments={"trial": "x"}),
                ]
            ),
            Completion(text="ok"),
        ]
    )
    conv = conv_for(finished, assistant=LLMAssistant(client))
    assert conv.ask("why did trial 0 run first?") == (
        "[model called inspect_trial(trial=0)]\nTrial 0 was the spec's default; it completed."
    )  # every call the model makes is shown, then its answer
    tool_msg = client.requests[1][0][-1]
    assert tool_msg.role == "tool" and '"state":"complete"' in (tool_msg.content or "")
    assert '"by":"default"' in (tool_msg.content or "")
    names = {t.name for t in client.requests[0][1]}
    assert names >= {
        "query_history",
        "inspect_trial",
        "edit_space",  # the agent's own tools
        "propose_budget",
        "steer",
        "study_status",
        "parameter_importance",
    }  # the chat's
    assert "run_trials" not in names and "draft_study" in names  # terminal only
    answer = conv.ask("give it more trials")
    assert "proposed: budget max_trials=9" in answer and "I proposed 9 trials." in answer
    assert conv.handle is not None and conv.handle.spec.budget.max_trials == 5  # not before /approve
    assert "budget changed" in conv.ask("/approve") and conv.handle.spec.budget.max_trials == 9
    conv.ask("do two wrong things")
    observations = [m.content for m in client.requests[-1][0] if m.role == "tool"][-2:]
    assert observations[0] is not None and observations[0].startswith("error: unknown tool 'no_such_tool'")
    assert observations[1] is not None and "inspect_trial: trial: Input should be a valid integer" in observations[1]


def test_an_llm_that_fails_leaves_one_line_and_the_chat_usable(finished: Path) -> None:
    conv = conv_for(finished, assistant=LLMAssistant(ScriptedClient([LLMUnavailable("connection refused")])))
    answer = conv.ask("hello?")
    assert answer == "no answer: the LLM endpoint failed (connection refused). Ask again, or use slash-commands (/help)"
    assert conv.ask("/best").startswith("best: trial #")


def test_scripts_load_from_json(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps([{"tool_calls": [{"name": "study_status"}]}, {"text": "fine"}]))
    client = load_script(path)
    first = client.complete([])
    assert first.tool_calls[0].name == "study_status" and client.complete([]).text == "fine"
    assert "nothing more" in (client.complete([]).text or "")

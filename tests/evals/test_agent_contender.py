"""The ``agent`` contender: the LLM agent in the benchmark harness, through the real OpenAI client against the
fake server on 127.0.0.1; and a clear error without an endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.errors import TunesmithError
from agent.strategies.registry import make_strategy
from evals.contenders import ContenderContext, get_contender
from evals.harness import Unit, run_unit
from evals.problems import get_problem
from tests.fake_openai import FakeOpenAI, Reply, text, tool


def _wanted(body: dict[str, Any]) -> int:
    for m in reversed(body["messages"]):
        content = m.get("content") or ""
        if m["role"] == "user" and "Propose " in content:
            return int(content.rsplit("Propose ", 1)[1].split()[0])
    return 1


def _endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base_url: str | None) -> None:
    monkeypatch.setenv("TUNESMITH_CONFIG", str(tmp_path / "none.toml"))
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "TUNESMITH_MODEL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    if base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "dummy")
        monkeypatch.setenv("TUNESMITH_MODEL", "fake-model")


def test_the_agent_runs_a_unit_with_its_tokens_and_never_sees_test_losses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[str] = []
    problem = get_problem("DT_diabetes_mse")  # has a held-out split; one evaluation takes milliseconds
    sampler = make_strategy("random", direction="minimize", seed=5)

    def reply(body: dict[str, Any], n: int) -> Reply:
        seen.append(json.dumps(body))
        if not body.get("tools"):
            return text("Deeper trees overfit so far.")
        configs = [
            {"params": p, "rationale": "a shallow tree first"} for p in sampler.ask(problem.space, [], _wanted(body))
        ]
        return tool("run_trials", {"configs": configs})

    with FakeOpenAI(reply) as server:
        _endpoint(monkeypatch, tmp_path, server.base_url)
        result = run_unit(Unit(problem="DT_diabetes_mse", contender="agent", seed=0, budget=7, batch=2))
    evals = result["evals"]
    assert len(evals) == 7 and result["invalid"] == 0
    assert evals[0]["proposer"] == "default"
    assert any(e["proposer"] == "llm" for e in evals)
    assert result["tokens"]["prompt"] > 0 and result["tokens"]["completion"] > 0
    # the model is shown validation losses only: no held-out value appears in any request
    test_losses = {f"{e['test_loss']:.4f}" for e in evals if e["test_loss"] != e["loss"]}
    assert len(test_losses) >= 3 and not any(v in body for v in test_losses for body in seen)
    assert any(f"{evals[0]['loss']:.4f}"[:6] in body for body in seen)  # while validation losses are shown


def test_without_an_endpoint_the_agent_contender_says_how_to_connect_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _endpoint(monkeypatch, tmp_path, None)
    problem = get_problem("branin")
    ctx = ContenderContext(
        problem="branin", space=problem.space, default=problem.default, direction="minimize", seed=0, budget=4, batch=1
    )
    with pytest.raises(TunesmithError, match="needs an LLM endpoint: to connect one, set OPENAI_BASE_URL"):
        get_contender("agent").build(ctx)


def test_a_dead_endpoint_falls_back_to_auto_and_the_unit_finishes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with FakeOpenAI(lambda body, n: Reply(status=500)) as server:
        _endpoint(monkeypatch, tmp_path, server.base_url)
        (tmp_path / "none.toml").write_text("[llm]\nretries = 0\n")
        result = run_unit(Unit(problem="branin", contender="agent", seed=1, budget=5, batch=1))
    assert len(result["evals"]) == 5 and result["invalid"] == 0
    assert {e["proposer"] for e in result["evals"][1:]} == {"strategy"}


def test_an_eval_run_that_approves_a_space_edit_applies_it() -> None:
    """The eval host honours the same ``set_space(space, rationale=, source=)`` contract as the engine."""
    from agent.core.records import Trial, TrialState
    from agent.hybrid.space_edit import approve_all
    from agent.llm.base import Completion
    from agent.llm.scripted import ScriptedClient
    from agent.study.proposers import ProposalContext
    from evals.llm_contender import make_eval_proposer
    from tests.agent.llm.helpers import call

    problem = get_problem("branin")
    ctx = ContenderContext(
        problem="branin", space=problem.space, default=problem.default, direction="minimize", seed=0, budget=6, batch=1
    )
    name = problem.space.names[0]
    edit = {"action": "narrow", "param": name, "low": 0.0, "high": 5.0, "rationale": "the good region"}
    config = {"params": {**problem.default, name: 1.0}, "rationale": "inside the narrowed range"}
    client = ScriptedClient(
        [
            Completion(tool_calls=[call("edit_space", edit)]),
            Completion(tool_calls=[call("run_trials", {"configs": [config]}, 1)]),
        ],
        exhausted=Completion(content="done"),
    )
    proposer = make_eval_proposer(ctx, client=client, approve=approve_all)
    try:
        first = Trial(number=0, params=dict(problem.default), state=TrialState.COMPLETE, value=1.0)
        proposer.observe(first, [first])
        drafts = proposer.propose(
            ProposalContext(space=problem.space, history=[first], direction="minimize", metric="loss", remaining=5), 1
        )
        host = proposer.eval_host
        assert host.space.params[name].high == 5.0  # type: ignore[union-attr]
        edited = host.store.events("space_edited")
        assert len(edited) == 1 and edited[0].data["source"] == "llm"
        assert drafts and drafts[0].params[name] == 1.0
    finally:
        proposer.close()


def test_eval_reports_the_agent_against_auto_with_tokens_share_and_early_scores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from evals.cli import run_eval

    problem = get_problem("branin")
    sampler = make_strategy("random", direction="minimize", seed=2)
    prompts: list[str] = []

    def reply(body: dict[str, Any], n: int) -> Reply:
        if not body.get("tools"):
            return text("the corners look worse.")
        prompts.append(body["messages"][0]["content"])
        configs = [{"params": p, "rationale": "spread out"} for p in sampler.ask(problem.space, [], _wanted(body))]
        return tool("run_trials", {"configs": configs})

    with FakeOpenAI(reply) as server:
        _endpoint(monkeypatch, tmp_path, server.base_url)
        summary = run_eval(
            out_dir=tmp_path / "run",
            suite="synthetic",
            problems="branin",
            split=None,
            strategies="agent,auto",
            seeds=1,
            budget="6",
            batch="1",
            workers=1,
            baselines=None,
            plots=False,
        )
    report = (tmp_path / "run" / "report.md").read_text()
    assert "### The LLM agent" in report and "fake-model" in report and "LLM share of evals" in report
    assert "| 2 evals | 5 evals |" in report  # the anytime table
    assert "unknown (no price)" in report  # no price for fake-model: not a made-up $0
    assert problem.task in prompts[0]
    assert set(summary["protocols"]["6x1"]["val"]["means"]) == {"agent", "auto"}

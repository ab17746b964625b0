"""Shared pieces of the agent tests: a small conditional space, policies for scripted models, checks."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agent.core.records import ProposerKind
from agent.core.spec import StudySpec, load_spec
from agent.hybrid.proposer import HybridConfig, HybridProposer
from agent.hybrid.space_edit import Approver, leave_pending
from agent.llm.base import Completion, LLMClient, Message, ToolCall, ToolSpec
from agent.llm.usage import MeteredClient, UsageMeter
from agent.strategies.registry import make_strategy
from agent.study.engine import StudyEngine
from agent.study.hooks import RunSummary
from agent.study.proposers import StrategyProposer
from agent.study.store.memory import MemoryStore
from sandbox.fake import InProcessExecutor

SPEC: dict[str, Any] = {
    "name": "hybrid-test",
    "objective": {"metric": "score", "direction": "maximize"},
    "function": "tests.agent.hybrid.trial_funcs:objective",
    "space": {
        "lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
        "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128, 256, 512]},
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
        "momentum": {"type": "float", "low": 0.0, "high": 0.99, "when": {"optimizer": ["sgd"]}},
    },
    "default": {"lr": 0.001, "batch_size": 64, "optimizer": "adam"},
    "budget": {"max_trials": 8},
    "strategy": "random",
    "seed": 7,
}


def make_spec(**extra: Any) -> StudySpec:
    return load_spec({**SPEC, **extra})


def good_configs() -> itertools.count[int]:
    return itertools.count()


def nth_config(i: int) -> dict[str, Any]:
    """Distinct, valid configurations (adam; lr walks over a grid)."""
    return {"lr": round(1e-4 * (1.7 ** (i % 12)), 8), "batch_size": [32, 64, 128][i % 3], "optimizer": "adam"}


def call(name: str, args: dict[str, Any] | str, i: int = 0) -> ToolCall:
    if isinstance(args, str):
        return ToolCall(id=f"c{i}", name=name, raw_arguments=args, error="arguments are not valid JSON")
    return ToolCall(id=f"c{i}", name=name, arguments=args, raw_arguments=json.dumps(args))


def wanted(messages: Sequence[Message]) -> int:
    """How many configurations the last decision prompt asked for."""
    for m in reversed(messages):
        if m.role == "user" and m.content and "Propose " in m.content:
            return int(m.content.rsplit("Propose ", 1)[1].split()[0])
    return 1


class Policy:
    """A well-behaved scripted model: reflects when asked, otherwise proposes the next distinct configs.
    ``before`` lets a test inject replies (misbehaviour) ahead of the good ones."""

    def __init__(self, before: Sequence[Completion | Exception] = (), then: Callable[..., Completion] | None = None):
        self.before = list(before)
        self.then = then
        self.counter = itertools.count()
        self.requests: list[list[Message]] = []

    def __call__(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Completion:
        self.requests.append(list(messages))
        if not tools:
            return Completion(text="Adam with lr near 1e-3 works; large batches run out of memory.")
        if self.before:
            step = self.before.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        if self.then is not None:
            return self.then(messages, tools)
        k = wanted(messages)
        configs = [
            {"params": nth_config(next(self.counter)), "rationale": "prior knowledge: moderate lr"} for _ in range(k)
        ]
        return Completion(tool_calls=[call("run_trials", {"configs": configs})])


class PolicyClient(LLMClient):
    def __init__(self, policy: Policy, model: str = "scripted-model") -> None:
        self.policy = policy
        self.model = model

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), **kw: Any) -> Completion:
        out = self.policy(messages, tools)
        return out.model_copy(update={"model": out.model or self.model})


def run_hybrid(
    client: LLMClient,
    tmp_path: Path,
    *,
    spec: StudySpec | None = None,
    workers: int = 1,
    approve: Approver = leave_pending,
    config: HybridConfig | None = None,
    meter: UsageMeter | None = None,
    store: MemoryStore | None = None,
) -> tuple[MemoryStore, RunSummary, HybridProposer]:
    spec = spec or make_spec()
    store = store or MemoryStore()
    strategy = make_strategy(spec.strategy, direction=spec.direction, seed=spec.seed, budget=spec.budget.max_trials)
    if meter is not None:
        client = MeteredClient(client, meter)
    hybrid = HybridProposer(
        client=client,
        fallback=StrategyProposer(strategy),
        config=config or HybridConfig.from_spec(spec.llm),
        approve=approve,
        meter=meter,
    )
    engine = StudyEngine(
        spec=spec,
        store=store,
        executor=InProcessExecutor(capacity=workers),
        proposer=hybrid,
        study_dir=tmp_path,
        tick=0.02,
    )
    summary = engine.run()
    return store, summary, hybrid


def assert_sound(store: MemoryStore, spec: StudySpec, *, edited: bool = False) -> None:
    """Budget finished, every trial valid for the space it ran in, nothing invalid reached the engine."""
    trials = store.trials()
    assert sum(t.state.counts for t in trials) == spec.budget.max_trials, [t.state for t in trials]
    assert not store.events("invalid_proposal")
    if not edited:
        for t in trials:
            assert spec.space.validate_config(t.params) == [], (t.number, t.params)
    for t in trials:
        if t.proposer is ProposerKind.LLM:
            assert t.model and t.rationale, t

"""The LLM agent as a benchmark contender: a ``HybridProposer`` on an in-memory host.

``tunesmith eval --strategies agent,...`` asks its proposer exactly as it asks Optuna's samplers (same
problems, seeds, budget, batches). The hybrid normally lives in a ``StudyEngine``; here ``EvalHost`` gives
it the slice of the engine it uses (spec, store, space, ``emit``, ``control``), with trials recorded into a
``MemoryStore`` as the harness reports them, so the model's tools (history, inspect, curves) see what they
would see in a real study. Space edits stay pending (a benchmark's space is fixed), and held-out losses
never reach it: trials carry the validation loss only.

The endpoint comes from the usual settings (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``TUNESMITH_MODEL``,
the config file); the fallback is ``auto``. Tokens are reported per unit through ``usage``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from agent.core.events import EventData
from agent.core.records import Event, MetricPoint, Trial, TrialDraft
from agent.core.space import SearchSpace
from agent.core.spec import StudySpec, load_spec
from agent.hybrid.proposer import HybridConfig, HybridProposer
from agent.hybrid.space_edit import Approver, leave_pending
from agent.llm.base import LLMClient
from agent.llm.factory import build_stack
from agent.llm.settings import resolve_settings
from agent.llm.usage import MeteredClient, UsageMeter
from agent.strategies.registry import make_strategy
from agent.study.proposers import StrategyProposer
from agent.study.state import StudyState
from agent.study.store.memory import MemoryStore


class EvalContext(Protocol):
    """What the harness hands a contender factory (``evals.contenders.ContenderContext``)."""

    @property
    def problem(self) -> str: ...
    @property
    def space(self) -> SearchSpace: ...
    @property
    def default(self) -> dict[str, Any]: ...
    @property
    def direction(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def budget(self) -> int: ...
    @property
    def batch(self) -> int: ...
    @property
    def task(self) -> str: ...


class _Control:
    def __init__(self) -> None:
        self.stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        self.stop_reason = reason


class EvalHost:
    """The engine surface a ``HybridProposer`` uses (``attach``'s contract), without trial processes."""

    def __init__(self, spec: StudySpec, study_dir: Path) -> None:
        self.store = MemoryStore()
        self.state = StudyState(self.store, spec)  # no folder: a benchmark writes no spec.yaml
        self.study_dir = study_dir
        self.control = _Control()

    @property
    def spec(self) -> StudySpec:
        return self.state.spec

    @property
    def space(self) -> SearchSpace:
        return self.state.space

    @property
    def seed(self) -> int | None:
        return self.spec.seed

    def emit(self, data: EventData, *, trial: int | None = None) -> Event:
        return self.store.record(data, trial=trial)

    def set_space(self, space: SearchSpace, *, rationale: str, source: str) -> None:
        self.state.set_space(space, rationale=rationale, source=source)

    def stop_trial(self, number: int, reason: str, *, source: str = "agent") -> bool:
        return False  # the harness evaluates each configuration at once: nothing is ever running

    def record(self, trial: Trial) -> None:
        """Mirror a finished trial of the harness (same number) into the store, its loss as one metric point."""
        while len(self.store.trials()) <= trial.number:
            self.store.create_trial(TrialDraft(params=trial.params, proposer=trial.proposer))
        self.store.update_trial(trial)
        if trial.value is not None and not self.store.metrics(trial.number):
            self.store.add_metrics(trial.number, [MetricPoint(step=trial.last_step or 0, values={"loss": trial.value})])


class EvalAgentProposer(HybridProposer):
    """``HybridProposer`` plus what the harness reads: ``usage`` (tokens) and ``observe`` (trial records)."""

    def __init__(self, *, host: EvalHost, **kw: Any) -> None:
        super().__init__(**kw)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.eval_host = host
        self.attach(host)

    @property
    def usage(self) -> Any:
        from agent.llm.base import Usage

        t = self.meter.snapshot() if self.meter else {}
        return Usage(prompt_tokens=int(t.get("prompt_tokens", 0)), completion_tokens=int(t.get("completion_tokens", 0)))

    @property
    def cost(self) -> dict[str, Any]:
        """USD spent (``known`` is False when the model has no price) and the model, for the report."""
        t = self.meter.snapshot() if self.meter else {}
        return {"usd": float(t.get("cost", 0.0)), "known": bool(t.get("cost_known", True)), "model": self.client.model}

    def observe(self, trial: Trial, history: Sequence[Trial]) -> None:
        self.eval_host.record(trial)

    def close(self) -> None:
        super().close()
        if self._tmp is not None:
            self._tmp.cleanup()


def eval_spec(ctx: EvalContext) -> StudySpec:
    """A spec that describes the benchmark problem to the model (it is never run as a command)."""
    spec = load_spec(
        {
            "name": ctx.problem,
            "task": ctx.task or f"the benchmark problem {ctx.problem}",
            "objective": {"metric": "loss", "direction": ctx.direction},
            "function": f"evals.problems:{ctx.problem}",  # evaluated in-process by the harness; shown, never run
            "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
            "budget": {"max_trials": ctx.budget},
            "workers": ctx.batch,
            "seed": ctx.seed,
        }
    )
    return spec.model_copy(update={"space": ctx.space, "default": dict(ctx.default)})


def make_eval_proposer(
    ctx: EvalContext,
    *,
    client: LLMClient | None = None,
    config: HybridConfig | None = None,
    approve: Approver = leave_pending,
) -> EvalAgentProposer:
    """The ``agent`` contender for one unit. ``client`` replaces the configured endpoint (tests); ``approve``
    decides the model's space edits (default: they stay pending, so every contender searches the same space)."""
    spec = eval_spec(ctx)
    meter = UsageMeter()
    client = build_stack(resolve_settings(), meter=meter).client if client is None else MeteredClient(client, meter)
    tmp = tempfile.TemporaryDirectory(prefix="tunesmith-eval-")
    host = EvalHost(spec, Path(tmp.name))
    fallback = StrategyProposer(make_strategy("auto", direction=ctx.direction, seed=ctx.seed, budget=ctx.budget))
    proposer = EvalAgentProposer(
        host=host, client=client, fallback=fallback, config=config or HybridConfig(), meter=meter, approve=approve
    )
    proposer._tmp = tmp
    return proposer

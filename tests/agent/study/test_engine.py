"""The engine with fakes: order of proposals, budget, failures as data, recovery, validation, control."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import FailureKind, Trial, TrialDraft, TrialState
from agent.core.records import ProposerKind as Kind
from agent.core.spec import StudySpec, load_spec
from agent.strategies.registry import make_strategy
from agent.study.engine import StudyEngine
from agent.study.hooks import StudyControl
from agent.study.proposers import ProposalContext, Proposer, StrategyProposer
from agent.study.store.memory import MemoryStore
from sandbox.fake import InProcessExecutor


def make_spec(fn: str = "quadratic", **extra: Any) -> StudySpec:
    data: dict[str, Any] = {
        "objective": {"metric": "y", "direction": "maximize"},
        "function": f"tests.agent.trial_funcs:{fn}",
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}, "k": {"choices": ["a", "b"]}},
        "default": {"x": 0.5, "k": "a"},
        "budget": {"max_trials": 6},
        "strategy": "random",
        "seed": 1,
    }
    data.update(extra)
    return load_spec(data)


def engine(
    spec: StudySpec, store: MemoryStore, tmp_path: Path, proposer: Proposer | None = None, workers: int = 1, **kw: Any
) -> StudyEngine:
    proposer = proposer or StrategyProposer(
        make_strategy(spec.strategy, direction=spec.direction, seed=1, budget=spec.budget.max_trials)
    )
    return StudyEngine(
        spec=spec,
        store=store,
        executor=InProcessExecutor(capacity=workers),
        proposer=proposer,
        study_dir=tmp_path,
        tick=0.05,
        **kw,
    )


def test_default_first_then_strategy_until_budget(tmp_path: Path) -> None:
    store = MemoryStore()
    summary = engine(make_spec(), store, tmp_path).run()
    trials = store.trials()
    assert summary.reason == "budget" and summary.counted == 6 and len(trials) == 6
    assert trials[0].proposer is Kind.DEFAULT and trials[0].params == {"x": 0.5, "k": "a"}
    assert all(t.proposer is Kind.STRATEGY and t.strategy == "random" for t in trials[1:])
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert summary.best is not None and summary.best.value == max(t.value for t in trials)  # type: ignore[type-var]
    kinds = [e.kind for e in store.events()]
    assert kinds[0] == "study_started" and kinds[-1] == "study_finished"
    assert kinds.count("trial_started") == kinds.count("trial_finished") == 6


def test_failures_are_data_and_the_study_goes_on(tmp_path: Path) -> None:
    store = MemoryStore()
    engine(make_spec("fails_when_large", budget={"max_trials": 8}), store, tmp_path, workers=2).run()
    trials = store.trials()
    assert len(trials) == 8
    failed = [t for t in trials if t.state is TrialState.FAILED]
    assert failed and all(t.failure is FailureKind.CRASH and "x too large" in (t.stderr_tail or "") for t in failed)
    assert all(t.params["x"] > 0.5 for t in failed)


def test_no_metric_is_a_failure(tmp_path: Path) -> None:
    store = MemoryStore()
    engine(make_spec("no_metric", budget={"max_trials": 2}), store, tmp_path).run()
    assert {t.failure for t in store.trials()} == {FailureKind.NO_METRIC}


def test_recovery_reruns_interrupted_trials_once(tmp_path: Path) -> None:
    store = MemoryStore()
    spec = make_spec(budget={"max_trials": 4})
    t0 = store.create_trial(TrialDraft(params={"x": 0.5, "k": "a"}, proposer=Kind.DEFAULT))
    store.update_trial(t0.model_copy(update={"state": TrialState.COMPLETE, "value": -0.04}))
    lost = store.create_trial(TrialDraft(params={"x": 0.1, "k": "b"}, proposer=Kind.STRATEGY))
    again = store.create_trial(TrialDraft(params={"x": 0.2, "k": "b"}, proposer=Kind.STRATEGY, retry_of=0))
    engine(spec, store, tmp_path).run()
    trials = store.trials()
    assert trials[lost.number].state is TrialState.CANCELLED
    assert trials[lost.number].failure is FailureKind.INTERRUPTED
    retries = [t for t in trials if t.retry_of == lost.number]
    assert len(retries) == 1 and retries[0].params == lost.params and retries[0].state is TrialState.COMPLETE
    assert not [t for t in trials if t.retry_of == again.number]  # a re-run is not re-run again
    assert sum(t.state.counts for t in trials) == 4
    assert sum(t.proposer is Kind.DEFAULT for t in trials) == 1  # the default is not repeated on resume


class Liar(Proposer):
    """Proposes out-of-range configurations only."""

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        return [TrialDraft(params={"x": 7.0, "k": "z"}, proposer=Kind.LLM)] * n


def test_invalid_proposals_never_run(tmp_path: Path) -> None:
    store = MemoryStore()
    summary = engine(make_spec(default=None), store, tmp_path, proposer=Liar()).run()
    assert store.trials() == []
    assert summary.reason == "exhausted"
    assert store.events("invalid_proposal")


def test_stop_control(tmp_path: Path) -> None:
    store = MemoryStore()
    control = StudyControl()
    seen: list[str] = []

    def observer(event: Any) -> None:
        seen.append(event.kind)
        if event.kind == "trial_finished" and seen.count("trial_finished") == 2:
            control.stop("enough")

    summary = engine(make_spec(), store, tmp_path, observers=[observer], control=control).run()
    assert summary.reason == "stopped"
    assert sum(t.state.counts for t in store.trials()) == 2


class Recorder(StrategyProposer):
    def __init__(self) -> None:
        super().__init__(make_strategy("random", direction="maximize", seed=0))
        self.observed: list[Trial] = []

    def observe(self, trial: Trial, history: Sequence[Trial]) -> None:
        self.observed.append(trial)


def test_proposer_observes_every_finished_trial(tmp_path: Path) -> None:
    store = MemoryStore()
    rec = Recorder()
    engine(make_spec(budget={"max_trials": 3}), store, tmp_path, proposer=rec).run()
    assert [t.number for t in rec.observed] == [0, 1, 2]


@pytest.mark.parametrize("workers", [1, 3])
def test_parallel_workers_respect_the_budget(tmp_path: Path, workers: int) -> None:
    store = MemoryStore()
    engine(make_spec(budget={"max_trials": 7}), store, tmp_path, workers=workers).run()
    assert len(store.trials()) == 7
    assert len({t.number for t in store.trials()}) == 7


class Interleaver(StrategyProposer):
    """Every third ask answers with a configuration 'from the LLM' instead of the strategy's."""

    def __init__(self, strategy: Any) -> None:
        super().__init__(strategy)
        self.asks = 0

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        self.asks += 1
        if self.asks % 3 == 0:
            return [TrialDraft(params={"x": 0.001 * self.asks, "k": "b"}, proposer=Kind.LLM)]
        return super().propose(ctx, n)


def test_llm_trials_do_not_take_the_strategys_draws_in_a_running_study(tmp_path: Path) -> None:
    # the engine hands proposers a snapshot that carries its count of LLM/user trials (records.History)
    spec = make_spec(budget={"max_trials": 12}, strategy="qmc")
    alone, mixed = MemoryStore(), MemoryStore()
    engine(spec, alone, tmp_path / "a").run()
    interleaver = Interleaver(make_strategy("qmc", direction=spec.direction, seed=1, budget=12))
    engine(spec, mixed, tmp_path / "b", proposer=interleaver).run()
    own = [t.params for t in mixed.trials() if t.proposer is Kind.STRATEGY]
    assert any(t.proposer is Kind.LLM for t in mixed.trials())
    assert own == [t.params for t in alone.trials() if t.proposer is Kind.STRATEGY][: len(own)]

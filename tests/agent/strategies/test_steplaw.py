"""The Step Law prior (Li et al. 2025): the formula, the first proposal after the default, and the warnings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from agent.core.records import ProposerKind
from agent.core.spec import load_spec
from agent.core.task import TaskSpec
from agent.strategies.registry import make_strategy
from agent.strategies.steplaw import LABEL, StepLawFirst, step_law, steplaw_warnings
from agent.study.engine import StudyEngine
from agent.study.proposers import StrategyProposer
from agent.study.store.memory import MemoryStore
from sandbox.fake import InProcessExecutor


def test_the_formula_is_the_papers() -> None:
    # eta(N, D) = 1.79 N^-0.713 D^0.307, B(D) = 0.58 D^0.571 (Li et al. 2025, eq. 1-2); their 1B/100B example
    law = step_law(1e9, 1e11)
    assert law.lr == pytest.approx(1.79 * 1e9**-0.713 * 1e11**0.307)
    assert law.lr == pytest.approx(1.63e-3, rel=0.01)
    assert law.batch_tokens == pytest.approx(1.108e6, rel=0.01)  # about a million tokens per batch
    small = step_law(1.25e8, 2.5e9)
    assert math.log(small.lr / law.lr) == pytest.approx(
        -0.713 * math.log(1.25e8 / 1e9) + 0.307 * math.log(2.5e9 / 1e11)
    )
    with pytest.raises(ValueError):
        step_law(0, 1e9)


TASK = {
    "description": "a 125M GPT on OpenWebText",
    "kind": "llm_pretraining",
    "model_params": "125M",
    "tokens": "2.5B",
    "seq_len": 1024,
}


def _spec(**extra: object) -> object:
    return load_spec(
        {
            "task": TASK,
            "objective": {"metric": "y", "direction": "minimize"},
            "function": "tests.agent.trial_funcs:quadratic_lr",
            "space": {
                "lr": {"type": "float", "low": 1e-5, "high": 1e-2, "log": True},
                "batch_size": {"type": "categorical", "choices": [64, 128, 256, 512]},
                "dropout": {"type": "float", "low": 0.0, "high": 0.3},
            },
            "default": {"lr": 3e-4, "batch_size": 256, "dropout": 0.1},
            "budget": {"max_trials": 4},
            "strategy": "random",
            "seed": 0,
            **extra,
        }
    )


def test_the_laws_point_is_proposed_right_after_the_default(tmp_path: Path) -> None:
    spec = _spec()
    task = TaskSpec.model_validate(TASK)
    law = step_law(1.25e8, 2.5e9)
    store = MemoryStore()
    strategy = StepLawFirst(make_strategy("random", direction="minimize", seed=0), task, spec.default)  # type: ignore[attr-defined]
    StudyEngine(
        spec=spec,
        store=store,
        executor=InProcessExecutor(),
        proposer=StrategyProposer(strategy),
        study_dir=tmp_path,  # type: ignore[arg-type]
    ).run()
    trials = store.trials()
    assert trials[0].proposer is ProposerKind.DEFAULT
    first = trials[1]
    assert first.strategy == LABEL and first.params["lr"] == pytest.approx(law.lr)
    assert first.params["batch_size"] == 128  # nearest choice to 0.58*D^0.571/1024 (about 132 sequences)
    assert first.params["dropout"] == 0.1  # from the default
    assert "1.79*N^-0.713*D^0.307" in (first.rationale or "") and "N=1.25e+08" in (first.rationale or "")
    assert [t.strategy for t in trials[2:]] == ["random", "random"]  # once only


def test_a_law_outside_the_space_is_warned_with_a_range() -> None:
    task = TaskSpec.model_validate(TASK)
    spec = _spec(space={"lr": {"type": "float", "low": 1e-5, "high": 1e-4, "log": True}}, default=None)
    warnings = steplaw_warnings(spec.space, task)  # type: ignore[attr-defined]
    assert len(warnings) == 1 and "lr: the Step Law's optimum" in warnings[0] and "outside the space" in warnings[0]
    assert steplaw_warnings(spec.space, TaskSpec(description="no kind")) == []  # type: ignore[attr-defined]


def test_the_session_wires_the_prior_and_the_llm_is_told(tmp_path: Path) -> None:
    from agent.hybrid.context import task_context
    from agent.study.session import Session

    spec = _spec()
    session = Session.create(spec, tmp_path / "s")  # type: ignore[arg-type]
    assert isinstance(session.default_proposer().strategy, StepLawFirst)  # type: ignore[attr-defined]
    assert "Step Law (Li et al. 2025)" in task_context(spec)  # type: ignore[arg-type]

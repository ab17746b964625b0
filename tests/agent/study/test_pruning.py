"""Early stopping: Optuna's pruners behind the engine's ``Pruner`` seam, live and replayed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.core.records import MetricPoint, Trial, TrialDraft, TrialState
from agent.core.records import ProposerKind as Kind
from agent.core.spec import load_spec
from agent.study.engine import StudyEngine
from agent.study.proposers import ProposalContext, Proposer
from agent.study.pruning import OptunaPruner, make_optuna_pruner
from agent.study.store.memory import MemoryStore
from sandbox.fake import InProcessExecutor


def spec(**pruner: Any) -> Any:
    return load_spec(
        {
            "objective": {"metric": "y", "direction": "maximize"},
            "function": "tests.agent.scale_funcs:curve",
            "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
            "budget": {"max_trials": 12},
            "strategy": "random",
            "seed": 3,
            "pruner": pruner or None,
        }
    )


def points(values: list[float], metric: str = "y") -> list[MetricPoint]:
    return [MetricPoint(step=i + 1, values={metric: v}) for i, v in enumerate(values)]


def finished(number: int, values: list[float], state: TrialState = TrialState.COMPLETE) -> Trial:
    return Trial(number=number, params={"x": values[-1]}, state=state, value=values[-1], last_step=len(values))


CURVES = {0: [0.5, 0.7, 0.8, 0.85], 1: [0.6, 0.75, 0.82, 0.9], 2: [0.4, 0.6, 0.7, 0.72]}


def test_asha_stops_a_trial_below_the_rung_and_explains() -> None:
    history = [finished(n, c) for n, c in CURVES.items()]
    pruner = make_optuna_pruner(
        spec(type="asha", min_resource=1, reduction_factor=3), curves=lambda n: points(CURVES[n])
    )
    assert pruner is not None
    bad = Trial(number=3, params={"x": 0.1})
    reason = pruner.check(bad, points([0.1]), [*history, bad])
    assert reason is not None and "ASHA" in reason and "step 1" in reason and "y=0.1" in reason
    assert "rank 4 of 4" in reason and "best 0.6" in reason
    good = Trial(number=4, params={"x": 0.9})
    assert pruner.check(good, points([0.65]), [*history, bad, good]) is None


def test_replayed_history_decides_like_a_live_run() -> None:
    """A resumed study's pruner (replaying stored curves) reaches the decisions a live one reached."""
    s = spec(type="asha", min_resource=1, reduction_factor=2)
    live = make_optuna_pruner(s)
    assert live is not None
    history: list[Trial] = []
    for n, curve in CURVES.items():
        t = Trial(number=n, params={})
        history.append(t)
        for k in range(1, len(curve) + 1):
            live.check(t, points(curve[:k]), history)
        history[-1] = finished(n, curve)
    replayed = make_optuna_pruner(s, curves=lambda n: points(CURVES[n]))
    blind = make_optuna_pruner(s)  # no stored curves: finished trials are known by their last value only
    assert replayed is not None and blind is not None
    for number, values, stops in ((3, [0.45], True), (4, [0.65], False), (5, [0.65, 0.62], True)):
        probe = Trial(number=number, params={})
        decisions = [p.check(probe, points(values), [*history, probe]) is not None for p in (live, replayed)]
        assert decisions == [stops, stops]
    probe = Trial(number=3, params={})
    assert blind.check(probe, points([0.45]), [*history, probe]) is None  # it cannot see the rung values


def test_median_waits_for_startup_trials_then_prunes_below_median() -> None:
    s = spec(type="median", warmup_steps=2)
    curves = {n: [0.5 + n / 100] * 4 for n in range(5)}
    pruner = make_optuna_pruner(s, curves=lambda n: points(curves[n]))
    assert pruner is not None
    early = [finished(n, curves[n]) for n in range(4)]
    probe = Trial(number=4, params={})
    assert pruner.check(probe, points([0.1, 0.1, 0.1]), [*early, probe]) is None  # only 4 completed
    pruner = make_optuna_pruner(s, curves=lambda n: points(curves[n]))
    assert pruner is not None
    done = [finished(n, curves[n]) for n in range(5)]
    probe = Trial(number=5, params={})
    assert pruner.check(probe, points([0.1]), [*done, probe]) is None  # warm-up: steps before 2
    reason = pruner.check(probe, points([0.1, 0.1]), [*done, probe])
    assert reason is not None and "median" in reason


def test_minimize_direction_prunes_the_high_losses() -> None:
    s = load_spec(
        {
            "objective": {"metric": "loss", "direction": "minimize"},
            "function": "m:f",
            "space": {"x": {"type": "float", "low": 0, "high": 1}},
            "pruner": {"type": "asha"},
        }
    )
    curves = {0: [1.0, 0.5], 1: [0.9, 0.4], 2: [1.1, 0.6]}
    pruner = make_optuna_pruner(s, curves=lambda n: points(curves[n], "loss"))
    assert pruner is not None
    history = [finished(n, c) for n, c in curves.items()]
    assert pruner.check(Trial(number=3, params={}), points([5.0], "loss"), history) is not None
    assert pruner.check(Trial(number=4, params={}), points([0.2], "loss"), history) is None


def test_final_reports_and_other_metrics_are_not_curve_points() -> None:
    pruner = make_optuna_pruner(spec(type="asha"))
    assert isinstance(pruner, OptunaPruner)
    t = Trial(number=0, params={})
    assert (
        pruner.check(
            t, [MetricPoint(step=1, values={"loss": 1.0}), MetricPoint(step=None, values={"y": 0.3}, final=True)], [t]
        )
        is None
    )


@pytest.mark.parametrize("kind, word", [("asha", "ASHA"), ("hyperband", "Hyperband"), ("median", "median")])
def test_spec_types_build_optuna_pruners(kind: str, word: str) -> None:
    pruner = make_optuna_pruner(spec(type=kind))
    assert isinstance(pruner, OptunaPruner) and word in pruner.label
    assert make_optuna_pruner(spec(type="none")) is None and make_optuna_pruner(spec()) is None


class Fixed(Proposer):
    """Proposes x from a list, in order."""

    def __init__(self, xs: list[float]) -> None:
        self.xs = list(xs)

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        out = [TrialDraft(params={"x": x}, proposer=Kind.USER) for x in self.xs[:n]]
        del self.xs[:n]
        return out


def test_engine_prunes_hopeless_trials_and_keeps_their_curves(tmp_path: Path) -> None:
    s = spec(type="asha", min_resource=1, reduction_factor=2)
    store = MemoryStore()
    xs = [0.9, 0.8, 0.1, 0.95, 0.05, 0.2]
    engine = StudyEngine(
        spec=s,
        store=store,
        executor=InProcessExecutor(1),
        proposer=Fixed(xs),
        study_dir=tmp_path,
        tick=0.05,
        pruner=make_optuna_pruner(s, store.metrics),
    )
    engine.run()
    trials = store.trials()
    assert [t.params["x"] for t in trials] == xs
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert {t.params["x"] for t in pruned} >= {0.1, 0.05, 0.2}
    assert next(t for t in trials if t.params["x"] == 0.95).state is TrialState.COMPLETE
    for t in pruned:
        curve = store.metrics(t.number)
        assert curve and len(curve) < 9 and t.value == curve[-1].values["y"]
        assert t.reason and t.reason.startswith("early-stopped by ASHA")
    assert len(store.events("prune_requested")) == len(pruned)
    assert trials[0].state is TrialState.COMPLETE and len(store.metrics(0)) >= 9


NEVER_POLLS = """
import argparse, time
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
x = parser.parse_args().x
for step in range(1, 9):
    time.sleep(0.15)
    print('TUNESMITH_REPORT {"step": %d, "y": %f}' % (step, x * (1 - 0.5**step)), flush=True)
"""


def test_asha_ends_pruned_trials_of_a_script_that_never_polls_well_before_their_end(tmp_path: Path) -> None:
    """The issue's case: params as flags, a report per step, no should_stop(); the 5 s grace period would
    outlast every remaining step, so only an immediate SIGTERM saves the compute."""
    from sandbox.local_executor import LocalExecutor

    (tmp_path / "train.py").write_text(NEVER_POLLS)
    s = load_spec(
        {
            "objective": {"metric": "y", "direction": "maximize"},
            "command": ["python", "train.py"],
            "workdir": str(tmp_path),
            "pass_args": True,
            "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
            "budget": {"max_trials": 4},
            "pruner": {"type": "asha", "min_resource": 1, "reduction_factor": 3},
            "grace_period": 5.0,
        }
    )
    store = MemoryStore()
    with LocalExecutor(1) as executor:
        StudyEngine(
            spec=s,
            store=store,
            executor=executor,
            proposer=Fixed([0.9, 0.2, 0.95, 0.1]),
            study_dir=tmp_path / "study",
            tick=0.05,
            pruner=make_optuna_pruner(s, store.metrics),
        ).run()
    trials = {t.params["x"]: t for t in store.trials()}
    assert {x for x, t in trials.items() if t.state is TrialState.PRUNED} == {0.2, 0.1}
    for x in (0.2, 0.1):
        assert len(store.metrics(trials[x].number)) < 5  # stopped at step 1 of 8
    for x in (0.9, 0.95):
        assert trials[x].state is TrialState.COMPLETE and len(store.metrics(trials[x].number)) == 8

"""The harness: same seam as the engine, default first, batches, failures, hidden test losses, caching."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import ProposerKind as Kind
from agent.core.records import Trial, TrialDraft, TrialState
from agent.strategies import make_strategy
from agent.study.proposers import ProposalContext, Proposer, StrategyProposer
from evals import harness
from evals.contenders import Contender, ContenderContext, register_contender
from evals.harness import Unit, run_unit, run_units
from evals.problems import QuadraticProblem
from tests.sandbox.helpers import REPO, pid_alive, wait_dead


class Recorder(Proposer):
    """Proposes random configs and records every context it was given; has a token ``usage``."""

    name = "recorder"

    def __init__(self, ctx: ContenderContext, invalid_first: bool = False) -> None:
        self.inner = StrategyProposer(make_strategy("random", direction=ctx.direction, seed=ctx.seed))
        self.seen: list[list[Trial]] = []
        self.observed = 0
        self.invalid_first = invalid_first

        class Usage:
            prompt_tokens, completion_tokens = 7, 3

        self.usage = Usage()

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        self.seen.append(list(ctx.history))
        drafts = self.inner.propose(ctx, n)
        if self.invalid_first and len(self.seen) == 1:
            drafts[0] = TrialDraft(params={"x0": 7.0, "x1": 0.1}, proposer=Kind.LLM)
        return drafts

    def observe(self, trial: Trial, history: Sequence[Trial]) -> None:
        self.observed += 1


RECORDERS: list[Recorder] = []


def _build(ctx: ContenderContext, **kw: Any) -> Proposer:
    RECORDERS.append(Recorder(ctx, **kw))
    return RECORDERS[-1]


register_contender(Contender("test-recorder", _build, default_first=True))
register_contender(Contender("test-invalid", lambda ctx: _build(ctx, invalid_first=True)))


def test_default_first_then_batches_with_pending_trials() -> None:
    problem = QuadraticProblem()
    r = run_unit(Unit("quadratic", "test-recorder", 0, 10, 4), problem)
    rec = RECORDERS[-1]
    assert [e["round"] for e in r["evals"]] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert r["evals"][0]["params"] == problem.default and r["evals"][0]["proposer"] == "default"
    # round 0: asked for 3 with the default pending (RUNNING); later rounds see only finished trials
    assert [t.state for t in rec.seen[0]] == [TrialState.RUNNING]
    assert len(rec.seen[1]) == 4 and all(t.state is TrialState.COMPLETE for t in rec.seen[1])
    assert rec.observed == 10 and r["tokens"] == {"prompt": 7, "completion": 3}
    assert len(r["ask_s"]) == 3 and r["protocol"] == "3x4"


def test_held_out_losses_never_reach_the_proposer() -> None:
    r = run_unit(Unit("quadratic", "test-recorder", 0, 6, 2), QuadraticProblem())
    seen = [t for history in RECORDERS[-1].seen for t in history if t.state is TrialState.COMPLETE]
    assert seen
    for t in seen:
        row = r["evals"][t.number]
        assert t.value == row["loss"] != row["test_loss"] and set(t.metrics) == {"loss"}


def test_failed_evaluations_become_failed_trials() -> None:
    problem = QuadraticProblem(fail_above=0.5)
    r = run_unit(Unit("quadratic", "tpe", 1, 12, 1), problem)
    failed = [e for e in r["evals"] if e["state"] == "failed"]
    assert failed and all(e["loss"] is None and "x0=" in e["reason"] for e in failed)
    assert len(r["evals"]) == 12


def test_invalid_proposals_are_dropped_like_the_engine_does() -> None:
    r = run_unit(Unit("quadratic", "test-invalid", 0, 4, 2), QuadraticProblem())
    assert r["invalid"] == 1 and all(e["params"]["x0"] <= 1.0 for e in r["evals"])


def test_default_only_control_stops_after_one_evaluation() -> None:
    r = run_unit(Unit("quadratic", "default", 0, 30, 1), QuadraticProblem())
    assert len(r["evals"]) == 1 and r["evals"][0]["proposer"] == "default"


def test_same_seed_same_proposals_for_every_contender_input() -> None:
    a = run_unit(Unit("branin", "tpe", 3, 6, 1))
    b = run_unit(Unit("branin", "tpe", 3, 6, 1))
    assert [e["params"] for e in a["evals"]] == [e["params"] for e in b["evals"]]
    assert Unit("branin", "tpe", 3, 6, 1).study_seed() == Unit("branin", "gp", 3, 6, 1).study_seed()
    assert Unit("branin", "tpe", 3, 6, 1).study_seed() != Unit("hartmann6", "tpe", 3, 6, 1).study_seed()


def test_results_are_cached_and_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    units = [Unit("branin", "random", s, 5, 1) for s in range(3)]
    first = run_units(units[:2], tmp_path)
    calls: list[Unit] = []
    real = harness.run_unit
    monkeypatch.setattr(harness, "run_unit", lambda u, p=None: calls.append(u) or real(u, p))
    again = run_units(units, tmp_path)
    assert calls == [units[2]]  # only the missing unit ran
    assert again[:2] == first
    # a result made by another version of the contender is recomputed
    path = harness.unit_path(tmp_path, units[0])
    path.write_text(json.dumps({**json.loads(path.read_text()), "version": "old"}))
    run_units(units, tmp_path)
    assert calls == [units[2], units[0]]


def test_parallel_workers_give_the_same_results(tmp_path: Path) -> None:
    units = [Unit("branin", "random", s, 4, 2) for s in range(2)]
    serial = run_units(units, tmp_path / "a")
    parallel = run_units(units, tmp_path / "b", workers=2)
    strip = [{k: v for k, v in r.items() if k not in ("wall_s", "ask_s", "evals")} for r in serial]
    assert strip == [{k: v for k, v in r.items() if k not in ("wall_s", "ask_s", "evals")} for r in parallel]
    assert [[e["loss"] for e in r["evals"]] for r in serial] == [[e["loss"] for e in r["evals"]] for r in parallel]


def test_per_epoch_curves_are_kept() -> None:
    from evals.problems.base import Evaluation

    class Curvy(QuadraticProblem):
        def evaluate(self, params: dict[str, Any]) -> Evaluation:  # type: ignore[override]
            loss = super().evaluate(params).loss
            return Evaluation(loss=loss, test_loss=loss, curve=[loss + 1.0, loss + 0.5, loss])

    r = run_unit(Unit("quadratic", "random", 0, 2, 1), Curvy())
    assert all(len(e["curve"]) == 3 and e["curve"][-1] == e["loss"] for e in r["evals"])


def test_a_bug_in_a_contender_names_the_unit(tmp_path: Path) -> None:
    class Broken(Proposer):
        def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
            raise ZeroDivisionError("oops")

    register_contender(Contender("test-broken", lambda ctx: Broken()))
    with pytest.raises(harness.UnitFailed, match="unit branin__test-broken__s0__4x1 failed: ZeroDivisionError"):
        run_units([Unit("branin", "test-broken", 0, 4, 1)], tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_eval_leaves_no_worker_running(tmp_path: Path) -> None:
    """SIGKILL of the eval process (no ``finally`` runs) takes its pool's workers with it: none goes on
    computing a unit nobody will read."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from evals.harness import worker_pool\n"
        "if __name__ == '__main__':\n"
        "    pool = worker_pool(1)\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    pool.submit(time.sleep, 120)\n"
        "    time.sleep(120)\n",
        encoding="utf-8",
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = 0
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        os.kill(worker, 0)  # running
        parent.kill()
        parent.wait(10)
        assert wait_dead(worker, timeout=20)
    finally:
        parent.kill()
        if worker and pid_alive(worker):  # the failing case: leave no orphan behind
            os.kill(worker, signal.SIGKILL)

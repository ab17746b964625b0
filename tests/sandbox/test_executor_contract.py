"""One contract suite for every ``TrialExecutor``: the real ``LocalExecutor`` and the shipped fake."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.base import TrialExecutor
from sandbox.fake import InProcessExecutor
from sandbox.local_executor import LocalExecutor
from tests.sandbox.helpers import (
    assert_tree_gone,
    function_request,
    run_until_done,
    wait_outcome,
    wait_running,
)

Factory = Callable[[int], TrialExecutor]


@pytest.fixture(params=["local", "fake"])
def make_executor(request: pytest.FixtureRequest) -> Iterator[Factory]:
    made: list[TrialExecutor] = []

    def make(capacity: int = 1) -> TrialExecutor:
        ex: TrialExecutor = LocalExecutor(capacity) if request.param == "local" else InProcessExecutor(capacity)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.close()


def test_reports_stream_in_order_then_exited(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    ex.submit(function_request(tmp_path, "steps", params={"n": 4}))
    (outcome,), streamed = run_until_done(ex)
    assert outcome.status == "exited" and outcome.returncode == 0 and outcome.signal is None
    assert [r.metrics["score"] for r in outcome.reports] == [0.0, 0.1, 0.2, 0.3, 0.3]
    assert [r.step for r in outcome.reports] == [0, 1, 2, 3, None]
    assert [r.final for r in outcome.reports] == [False] * 4 + [True]
    assert streamed == list(outcome.reports)
    assert outcome.started_at <= outcome.finished_at
    assert_tree_gone(outcome)


def test_raising_trial_fails_with_traceback(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    ex.submit(function_request(tmp_path, "boom"))
    (outcome,), _ = run_until_done(ex)
    assert outcome.status == "exited" and outcome.returncode == 1
    assert "ValueError: boom from the trial" in outcome.stderr_tail
    assert outcome.reports == ()
    assert_tree_gone(outcome)


def test_capacity_is_enforced(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    ex.submit(function_request(tmp_path, "sleeper", "a"))
    assert ex.running == ["a"]
    with pytest.raises(RuntimeError, match="slots are busy"):
        ex.submit(function_request(tmp_path, "steps", "b"))
    ex.cancel("a", "test over")
    assert wait_outcome(ex, "a").status == "cancelled"
    assert ex.running == []
    ex.submit(function_request(tmp_path, "steps", "b"))  # the slot is free again
    assert wait_outcome(ex, "b").status == "exited"


def test_cancel_ends_cancelled(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    ex.submit(function_request(tmp_path, "sleeper"))
    wait_running(ex, "t1")
    t0 = time.monotonic()
    ex.cancel("t1", "not needed")
    outcome = wait_outcome(ex, "t1")
    assert time.monotonic() - t0 < 1.5  # SIGTERM ends it well before the grace period
    assert outcome.status == "cancelled" and outcome.reason == "not needed"
    assert outcome.reports[0].metrics == {"score": 0.0}
    ex.cancel("t1", "again")  # a finished id is ignored
    ex.cancel("nope", "unknown")  # so is an unknown one
    assert_tree_gone(outcome)


def test_stop_asks_the_trial_then_ends_stopped(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    ex.submit(function_request(tmp_path, "sleeper", grace=10.0))
    wait_running(ex, "t1")
    t0 = time.monotonic()
    ex.cancel("t1", "pruned at step 0", stop=True)
    outcome = wait_outcome(ex, "t1")
    assert time.monotonic() - t0 < 5.0  # the trial saw the stop request: no need to wait out the grace
    assert outcome.status == "stopped" and outcome.reason == "pruned at step 0"
    assert_tree_gone(outcome)


def test_wait_with_nothing_running_returns_promptly(make_executor: Factory) -> None:
    ex = make_executor(2)
    t0 = time.monotonic()
    assert ex.wait(timeout=5.0) == []
    assert ex.wait(timeout=None) == []
    assert time.monotonic() - t0 < 0.5


def test_close_is_idempotent_and_ends_running_trials(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    ex.submit(function_request(tmp_path, "sleeper"))
    wait_running(ex, "t1")
    ex.close()
    ex.close()
    assert ex.running == []
    outcome = wait_outcome(ex, "t1", timeout=1.0)
    assert outcome.status == "cancelled"
    assert_tree_gone(outcome)
    with pytest.raises(RuntimeError, match="closed"):
        ex.submit(function_request(tmp_path, "steps", "t2"))


def test_parallel_trials_all_finish(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(3)
    for i in range(3):
        ex.submit(function_request(tmp_path, "steps", f"p{i}", params={"n": 2 + i}))
    assert set(ex.running) <= {"p0", "p1", "p2"}  # fake trials may be done already
    outcomes, _ = run_until_done(ex)
    assert sorted(o.trial_id for o in outcomes) == ["p0", "p1", "p2"]
    for o in outcomes:
        n = 2 + int(o.trial_id[1])
        assert o.status == "exited" and o.returncode == 0
        assert math.isclose(o.reports[-1].metrics["score"], (n - 1) / 10) and o.reports[-1].final
        assert_tree_gone(o)


def test_timeout_ends_timeout(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    ex.submit(function_request(tmp_path, "sleeper", timeout=1.0, grace=0.5))
    (outcome,), _ = run_until_done(ex)
    assert outcome.status == "timeout"
    assert 0.9 <= outcome.finished_at - outcome.started_at < 4.0
    assert_tree_gone(outcome)


def test_command_or_function_required(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(1)
    request = function_request(tmp_path, "steps")
    with pytest.raises(ValueError, match="exactly one"):
        ex.submit(type(request)(**{**request.__dict__, "function": None}))


def test_cancel_right_after_submit(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(2)
    ex.submit(function_request(tmp_path, "sleeper", "a"))
    ex.cancel("a", "changed my mind")  # the process may not even have started yet
    (outcome,), _ = run_until_done(ex)
    assert (outcome.status, outcome.reason) == ("cancelled", "changed my mind")
    assert_tree_gone(outcome)


def test_duplicate_running_id_is_refused(make_executor: Factory, tmp_path: Path) -> None:
    ex = make_executor(2)
    ex.submit(function_request(tmp_path, "sleeper", "a"))
    with pytest.raises(RuntimeError, match="already running"):
        ex.submit(function_request(tmp_path, "sleeper", "a"))
    ex.cancel("a", "done")
    run_until_done(ex)

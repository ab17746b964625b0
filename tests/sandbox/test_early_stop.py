"""Early stops (``cancel(stop=True)``) that save compute for scripts that never poll, a grace sized by the
trial's own steps, and the ``stop_seen`` fact that tells a pruned trial from one that finished its run.

The scripts sleep about 0.2 s per step and print ``TUNESMITH_REPORT`` lines (or use the report helper);
margins are generous: these check that a trial ended well before its natural end, not how fast.
"""

from __future__ import annotations

import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import TrialState
from agent.study.outcome import classify
from sandbox.base import STOP_GRACE_FLOOR, Report, TrialOutcome, TrialRequest, stop_grace
from sandbox.local_executor import LocalExecutor
from tests.sandbox.helpers import REPO, assert_tree_gone, run_until_done
from tests.sandbox.studyrun import need_strict

#: 100 steps of 0.2 s (20 s in all), one printed report per step, no should_stop() anywhere
NEVER_POLLS = """
    import time
    for step in range(1, 101):
        time.sleep(0.2)
        print('TUNESMITH_REPORT {"step": %d, "score": %f}' % (step, step / 100), flush=True)
"""


@pytest.fixture
def ex() -> Iterator[LocalExecutor]:
    executor = LocalExecutor(capacity=1)
    yield executor
    executor.close()


def request(tmp_path: Path, body: str, isolation: str = "process", **kw: Any) -> TrialRequest:
    """``body`` run from ``tmp_path/work``, its folder in ``tmp_path/study/trials/t1`` (hidden under strict)."""
    if isolation == "strict":
        need_strict()
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "train.py").write_text(textwrap.dedent(body))
    return TrialRequest(
        trial_id="t1",
        params={},
        trial_dir=str(tmp_path / "study" / "trials" / "t1"),
        workdir=str(work),
        command=[sys.executable, "train.py"],
        hide=(str(tmp_path / "study"),),
        isolation=isolation,
        **kw,
    )


def reports_then_stop(ex: LocalExecutor, req: TrialRequest, after: int) -> tuple[TrialOutcome, float]:
    """Submit ``req``, ask it to stop once ``after`` reports came; (its outcome, seconds from stop to end)."""
    ex.submit(req)
    seen = 0
    deadline = time.monotonic() + 20
    while seen < after:
        assert time.monotonic() < deadline, "the trial did not report in time"
        for ev in ex.wait(timeout=0.5):
            assert not isinstance(ev, TrialOutcome), f"trial ended early: {ev}"
            seen += 1
    asked = time.monotonic()
    ex.cancel("t1", "pruned at step 2", stop=True)
    (outcome,), _ = run_until_done(ex, timeout=40)
    assert_tree_gone(outcome)
    return outcome, time.monotonic() - asked


@pytest.mark.parametrize("isolation", ["process", "strict"])
def test_a_script_that_never_polls_is_stopped_at_once(ex: LocalExecutor, tmp_path: Path, isolation: str) -> None:
    """SIGTERM comes with the stop file, not after the grace: a 30 s grace would outlast the whole run."""
    outcome, took = reports_then_stop(ex, request(tmp_path, NEVER_POLLS, isolation, grace=30.0), after=2)
    assert (outcome.status, outcome.signal) == ("stopped", signal.SIGTERM)
    assert len(outcome.reports) < 50 and took < 10  # its natural end is 100 reports, 20 s
    assert outcome.info["stop_seen"] is False
    assert classify(outcome, "score")["state"] is TrialState.PRUNED


def test_the_grace_of_a_stop_is_about_two_steps_not_the_whole_grace_period(ex: LocalExecutor, tmp_path: Path) -> None:
    ignores_sigterm = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + textwrap.dedent(NEVER_POLLS)
    outcome, took = reports_then_stop(ex, request(tmp_path, ignores_sigterm, grace=30.0), after=3)
    assert (outcome.status, outcome.signal) == ("stopped", signal.SIGKILL)
    assert took < 10  # max(1 s, 2 x 0.2 s) before SIGKILL; the grace period is 30 s, its natural end 20 s


def test_a_script_that_polls_finishes_its_step_and_says_it_stopped(ex: LocalExecutor, tmp_path: Path) -> None:
    """should_stop() turns the SIGTERM into a request: the step ends, the script exits 0, and the outcome
    says it acted on the stop (so it is pruned, not complete)."""
    polls = """
        import time
        from sandbox.report import report, should_stop
        for step in range(1, 101):
            time.sleep(0.2)
            report(step=step, score=step / 100)
            if should_stop():
                print("stopping after step", step)
                break
    """
    outcome, took = reports_then_stop(ex, request(tmp_path, polls, grace=30.0), after=2)
    assert (outcome.status, outcome.returncode, outcome.signal) == ("stopped", 0, None), outcome.stderr_tail
    assert "stopping after step" in outcome.stdout_tail and took < 10
    assert outcome.info["stop_seen"] is True
    assert classify(outcome, "score")["state"] is TrialState.PRUNED


def test_a_trial_that_finished_its_run_before_the_stop_is_complete(ex: LocalExecutor, tmp_path: Path) -> None:
    """Its last step was reported and it was only saving when the stop came: it ends with status 0 without
    acting on the stop, so its whole curve counts (complete, eligible for best)."""
    finished = """
        import os, time
        from sandbox.report import report, should_stop
        should_stop()  # polls once: from now on a SIGTERM is a request, not death
        for step in range(1, 4):
            report(step=step, score=step / 10)
        stop, end = os.environ["TUNESMITH_STOP_FILE"], time.monotonic() + 20
        while not os.path.exists(stop) and time.monotonic() < end:  # "saving the model"
            time.sleep(0.05)
    """
    outcome, _ = reports_then_stop(ex, request(tmp_path, finished, grace=30.0), after=3)
    assert (outcome.status, outcome.returncode, outcome.info["stop_seen"]) == ("stopped", 0, False)
    fields = classify(outcome, "score")
    assert (fields["state"], fields["value"], fields["reason"]) == (TrialState.COMPLETE, 0.3, None)
    assert fields["info"]["late_stop"] == "pruned at step 2"


def report_at(step: int | None, t: float) -> Report:
    return Report("t1", {"y": 1.0}, step, time=t)


def test_stop_grace_is_two_mean_steps_between_a_floor_and_the_grace_period() -> None:
    assert stop_grace(30.0, [], 100.0) == 30.0  # nothing reported yet: no idea how long a step is
    steps = [report_at(s, 100.0 + 3 * s) for s in (1, 2, 3)]
    assert stop_grace(30.0, steps, 100.0) == pytest.approx(6.0)
    assert stop_grace(5.0, steps, 100.0) == 5.0  # never more than the grace period
    fast = [report_at(s, 100.0 + 0.1 * s) for s in (1, 2, 3)]
    assert stop_grace(30.0, fast, 100.0) == STOP_GRACE_FLOOR
    assert stop_grace(0.3, fast, 100.0) == 0.3  # a grace period under the floor wins
    twice = [report_at(1, 101.0), report_at(1, 101.5), report_at(2, 104.0)]  # two reports at step 1
    assert stop_grace(30.0, twice, 100.0) == pytest.approx(6.0)
    assert stop_grace(30.0, [report_at(None, 104.0)], 100.0) == pytest.approx(8.0)  # first step from the start


def test_a_script_that_polled_ignores_a_late_sigterm_while_it_exits(tmp_path: Path) -> None:
    """The executor writes the stop file, then signals: a script that saw the file and returned can get the
    SIGTERM during Python's finalisation, after its handlers are reset to the default action (which made a
    finished trial die of SIGTERM, -15, under load). At a normal exit SIGTERM is ignored instead."""
    import os
    import subprocess

    script = textwrap.dedent(
        """
        import atexit, os, signal
        # registered first, so it runs after tunesmith's exit hook (LIFO)
        atexit.register(lambda: print("ignored at exit:", signal.getsignal(signal.SIGTERM) is signal.SIG_IGN))
        from sandbox.report import should_stop
        assert should_stop() is False
        print("handler installed:", getattr(signal.getsignal(signal.SIGTERM), "tunesmith_stop", False))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "TUNESMITH_STOP_FILE": str(tmp_path / "STOP")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert "handler installed: True" in out and "ignored at exit: True" in out
    # outside tunesmith nothing is installed, so nothing changes at exit
    env.pop("TUNESMITH_STOP_FILE")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert "handler installed: False" in out and "ignored at exit: False" in out

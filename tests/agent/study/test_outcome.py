"""Every way a trial can end maps to one state with a reason (agent/study/outcome.py)."""

from __future__ import annotations

import signal

import pytest

from agent.core.records import FailureKind, TrialState
from agent.study.outcome import classify, objective_value
from sandbox.base import Report, TrialOutcome


def outcome(
    status: str = "exited",
    rc: int | None = 0,
    sig: int | None = None,
    reports: tuple = (),
    stderr: str = "",
    **kw: object,
) -> TrialOutcome:
    return TrialOutcome(
        trial_id="1",
        status=status,
        returncode=rc,
        signal=sig,
        reports=reports,  # type: ignore[arg-type]
        stderr_tail=stderr,
        started_at=1.0,
        finished_at=2.0,
        **kw,
    )  # type: ignore[arg-type]


def r(step: int | None, final: bool = False, **m: float) -> Report:
    return Report(trial_id="1", metrics=m, step=step, final=final)


def test_last_value_wins_unless_final() -> None:
    assert objective_value([r(1, acc=0.5), r(2, acc=0.7)], "acc") == (0.7, 2)
    assert objective_value([r(1, acc=0.5, final=True), r(2, acc=0.7)], "acc") == (0.5, 1)
    assert objective_value([r(1, loss=0.5)], "acc") == (None, None)


@pytest.mark.parametrize(
    ("o", "state", "failure", "fragment"),
    [
        (outcome(reports=(r(1, acc=0.9),)), TrialState.COMPLETE, None, None),
        (
            outcome(rc=3, stderr="Traceback...\nValueError: bad lr\n"),
            TrialState.FAILED,
            FailureKind.CRASH,
            "code 3: ValueError: bad lr",
        ),
        (outcome(rc=None, sig=signal.SIGSEGV), TrialState.FAILED, FailureKind.SIGNAL, "SIGSEGV"),
        (outcome(rc=1, stderr="MemoryError\n", memory_limited=True), TrialState.FAILED, FailureKind.OOM, "memory"),
        (outcome(rc=None, sig=signal.SIGKILL, memory_limited=True), TrialState.FAILED, FailureKind.OOM, "memory"),
        (
            outcome(rc=1, stderr="torch.OutOfMemoryError: CUDA out of memory"),
            TrialState.FAILED,
            FailureKind.OOM,
            "memory",
        ),
        (outcome(reports=(r(1, acc=float("nan")),)), TrialState.FAILED, FailureKind.NAN, "nan"),
        (outcome(reports=(r(1, acc=float("inf")),)), TrialState.FAILED, FailureKind.NAN, "inf"),
        (outcome(reports=(r(1, loss=1.0),)), TrialState.FAILED, FailureKind.NO_METRIC, "tunesmith.report(acc="),
        (outcome(status="timeout", rc=None), TrialState.TIMEOUT, FailureKind.TIMEOUT, "timeout"),
        (
            outcome(status="launch_error", rc=None, reason="no such file: trian.py"),
            TrialState.FAILED,
            FailureKind.LAUNCH,
            "trian.py",
        ),
        (outcome(status="lost", rc=None), TrialState.FAILED, FailureKind.LOST, "lost"),
        (outcome(status="stopped", rc=None, reports=(r(3, acc=0.4),), reason="asha"), TrialState.PRUNED, None, "asha"),
        (outcome(status="cancelled", rc=None, reason="user"), TrialState.CANCELLED, None, "user"),
    ],
)
def test_states(o: TrialOutcome, state: TrialState, failure: FailureKind | None, fragment: str | None) -> None:
    fields = classify(o, "acc", timeout=10)
    assert fields["state"] is state
    assert fields.get("failure") == failure
    if fragment:
        assert fragment in fields["reason"]
        assert "\n" not in fields["reason"]
    if state is TrialState.COMPLETE:
        assert fields["value"] == 0.9
    if state is TrialState.PRUNED:
        assert fields["value"] == 0.4 and fields["last_step"] == 3


LATE = (r(11, acc=0.8), r(12, acc=0.9))  # the stop was asked at step 11; the trial still reported step 12


@pytest.mark.parametrize(
    ("o", "state"),
    [
        # it ended by itself, successfully, without acting on the stop: its run was over, the stop came late
        (outcome(status="stopped", reports=LATE, reason="asha", info={"stop_seen": False}), TrialState.COMPLETE),
        # it acted on the stop (should_stop() returned True), so its curve was cut short
        (outcome(status="stopped", reports=LATE, reason="asha", info={"stop_seen": True}), TrialState.PRUNED),
        # killed by the stop's SIGTERM, or failing: the stop took effect
        (outcome(status="stopped", rc=-15, sig=15, reports=LATE, info={"stop_seen": False}), TrialState.PRUNED),
        (outcome(status="stopped", rc=1, reports=LATE, info={"stop_seen": False}), TrialState.PRUNED),
        # an executor that cannot tell whether the trial saw the stop: pruned, as before
        (outcome(status="stopped", reports=LATE, reason="asha"), TrialState.PRUNED),
        # no finite objective: nothing to complete with
        (outcome(status="stopped", reports=(r(1, loss=1.0),), info={"stop_seen": False}), TrialState.PRUNED),
    ],
)
def test_a_stopped_trial_that_finished_its_run_anyway_is_complete(o: TrialOutcome, state: TrialState) -> None:
    fields = classify(o, "acc")
    assert fields["state"] is state
    if state is TrialState.COMPLETE:
        assert (fields["value"], fields["reason"], fields["failure"]) == (0.9, None, None)
        assert fields["info"]["late_stop"] == "asha"
    else:
        assert fields["reason"]

"""The setup doctor: a study whose trials fail (or measure) identically whatever the params stops early,
says why in one line, records it, and otherwise never gets in the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.core.records import EventKind, FailureKind, Trial, TrialState
from agent.study.doctor import SetupDoctor, failure_key
from agent.study.store.memory import MemoryStore
from tests.agent.study.test_engine import engine, make_spec


def test_a_metric_never_reported_stops_after_three_identical_failures(tmp_path: Path) -> None:
    store = MemoryStore()
    summary = engine(make_spec("no_metric", budget={"max_trials": 30}), store, tmp_path).run()
    trials = store.trials()
    assert summary.reason == "broken_setup" and len(trials) == 3
    assert all(t.failure is FailureKind.NO_METRIC for t in trials)
    assert trials[0].reason is not None and "finished without reporting 'y' (reported: other)" in trials[0].reason
    message = summary.message or ""
    assert message.startswith("stopped: 3 trials (#0, #1, #2) failed the same way and none completed")
    assert "(reported: other)" in message and f"tunesmith resume {tmp_path}" in message and "\n" not in message
    (event,) = store.events(EventKind.IDENTICAL_FAILURES)
    assert event.data["message"] == message and event.data["trials"] == [0, 1, 2]
    assert store.events(EventKind.STUDY_FINISHED)[-1].data["message"] == message


def test_params_that_change_nothing_stop_after_three_different_configurations(tmp_path: Path) -> None:
    store = MemoryStore()
    summary = engine(make_spec("constant", budget={"max_trials": 20}), store, tmp_path).run()
    trials = store.trials()
    assert summary.reason == "broken_setup" and len(trials) == 3 and all(t.ok for t in trials)
    assert "bit-identical results (y=0.5" in (summary.message or "") and "pass_args: true" in (summary.message or "")
    assert [e.trial for e in store.events(EventKind.IDENTICAL_METRICS)] == [2]


def test_broken_setup_after_0_never_stops(tmp_path: Path) -> None:
    store = MemoryStore()
    spec = make_spec("constant", budget={"max_trials": 5}, broken_setup_after=0)
    summary = engine(spec, store, tmp_path).run()
    assert summary.reason == "budget" and len(store.trials()) == 5 and summary.message is None


def test_a_larger_threshold_waits_longer(tmp_path: Path) -> None:
    store = MemoryStore()
    summary = engine(make_spec("no_metric", budget={"max_trials": 9}, broken_setup_after=5), store, tmp_path).run()
    assert summary.reason == "broken_setup" and len(store.trials()) == 5


# ------------------------------------------------------------------ the rules, one by one
def failed(number: int, reason: str = "exited with code 1: ImportError: no module named torchh", **kw: Any) -> Trial:
    fields: dict[str, Any] = {"state": TrialState.FAILED, "failure": FailureKind.CRASH, "reason": reason}
    return Trial(number=number, params={"x": number / 10}, **{**fields, **kw})


def complete(number: int, value: float, x: float | None = None) -> Trial:
    return Trial(number=number, params={"x": number / 10 if x is None else x}, state=TrialState.COMPLETE, value=value)


def doctor(after: int = 3) -> SetupDoctor:
    return SetupDoctor(after=after, metric="y", curve=lambda n: [], study_dir=Path("/s"))


def test_failures_after_a_success_or_that_differ_or_may_not_repeat_do_not_stop() -> None:
    history = [complete(0, 1.0), failed(1), failed(2), failed(3)]
    assert doctor().check(history[-1], history) is None  # something completed: the params matter
    history = [failed(0, "exited with code 1: x=0.1 too large"), failed(1, "exited with code 1: x=0.2 too large")]
    history.append(failed(2, "exited with code 1: x=0.3 too large"))
    assert doctor().check(history[-1], history) is None
    history = [
        failed(n, "ran past the trial timeout", state=TrialState.TIMEOUT, failure=FailureKind.TIMEOUT) for n in range(4)
    ]
    assert doctor().check(history[-1], history) is None  # a timeout depends on the config
    oom = [failed(n, "ran out of memory", failure=FailureKind.OOM) for n in range(4)]
    assert doctor().check(oom[-1], oom) is None


def test_a_study_resumed_after_a_fix_is_not_stopped_for_the_old_failures() -> None:
    history = [failed(0), failed(1), failed(2), failed(3, "exited with code 1: KeyError: 'lr'")]
    assert doctor().check(history[-1], history) is None
    history.append(failed(4))  # ... but the old failure again is
    found = doctor().check(history[-1], history)
    assert found is not None and found.trials == (0, 1, 2, 4)


def test_identical_results_need_different_configurations_and_no_variation() -> None:
    retries = [complete(0, 0.5, x=0.1), complete(1, 0.5, x=0.1), complete(2, 0.5, x=0.1)]
    assert doctor().check(retries[-1], retries) is None  # one configuration re-run proves nothing
    varied = [complete(0, 0.5), complete(1, 0.7), complete(2, 0.5), complete(3, 0.5)]
    doc = doctor()
    assert doc.check(varied[2], varied[:3]) is None and doc.check(varied[3], varied) is None
    same = [complete(0, 0.5), complete(1, 0.5), complete(2, 0.5)]
    assert doctor().check(same[-1], same) is not None
    assert doctor(after=0).check(same[-1], same) is None


def test_values_echoed_after_flags_do_not_make_failures_differ() -> None:
    history = [
        failed(n, f"exited with code 2: train.py: error: unrecognized arguments: --dropout {n / 7} --x={n}")
        for n in range(3)
    ]
    found = doctor().check(history[-1], history)
    assert found is not None and found.trials == (0, 1, 2) and "must declare each" in found.message
    assert failure_key("argument --lr: invalid float value: 'abc'") == "argument --lr: invalid float value: 'abc'"
    assert failure_key("exited with code 1: x=0.1 too large") == "exited with code 1: x=0.1 too large"
    clock = "OSError: [Errno 30] Read-only file system: 'outputs/{}/13-19-{}'"  # a run folder named by the clock
    assert failure_key(clock.format("2026-12-06", 49)) == failure_key(clock.format("2026-12-07", 50))
    assert failure_key("at 2026-12-06T13:19:49.5 failed") == "at <time> failed"

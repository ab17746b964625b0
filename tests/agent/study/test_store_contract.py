"""The ``TrialStore`` contract, run against every implementation."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.core.records import Event, MetricPoint, ProposerKind, Trial, TrialDraft, TrialState
from agent.study.store import MemoryStore, SQLiteStore, TrialStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrialStore]:
    s: TrialStore = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "study")
    yield s
    s.close()


def draft(**params: object) -> TrialDraft:
    return TrialDraft(params=dict(params), proposer=ProposerKind.STRATEGY, strategy="tpe")


def test_numbers_are_0_1_2_and_trials_start_running(store: TrialStore) -> None:
    made = [store.create_trial(draft(lr=0.1 * i)) for i in range(3)]
    assert [t.number for t in made] == [0, 1, 2]
    assert all(t.state is TrialState.RUNNING for t in made)
    assert made[1].params == {"lr": 0.1} and made[1].strategy == "tpe"
    assert store.trials() == made


def test_update_replaces_the_record(store: TrialStore) -> None:
    t = store.create_trial(draft(lr=0.1))
    done = t.model_copy(update={"state": TrialState.COMPLETE, "value": 0.9, "metrics": {"acc": 0.9}})
    store.update_trial(done)
    assert store.trials() == [done]
    assert store.trial(0) == done
    failed = done.model_copy(update={"state": TrialState.FAILED, "value": None, "reason": "boom"})
    store.update_trial(failed)
    assert store.trial(0).state is TrialState.FAILED and store.trial(0).reason == "boom"


def test_unknown_trial_raises_keyerror(store: TrialStore) -> None:
    with pytest.raises(KeyError):
        store.update_trial(Trial(number=7, params={}))
    with pytest.raises(KeyError):
        store.trial(7)
    with pytest.raises(KeyError):
        store.add_metrics(7, [MetricPoint(values={"x": 1.0})])


def test_metrics_keep_insertion_order_and_nan(store: TrialStore) -> None:
    a, b = store.create_trial(draft(x=1)), store.create_trial(draft(x=2))
    store.add_metrics(a.number, [MetricPoint(step=s, values={"loss": 1.0 / (s + 1)}) for s in (3, 1, 2)])
    store.add_metrics(b.number, [MetricPoint(step=0, values={"loss": float("nan")})])
    store.add_metrics(a.number, [MetricPoint(values={"loss": 0.1}, final=True)])
    got = store.metrics(a.number)
    assert [p.step for p in got] == [3, 1, 2, None]
    assert got[-1].final and not got[0].final
    assert math.isnan(store.metrics(b.number)[0].values["loss"])
    assert store.metrics(99) == []


def test_events_ids_increase_and_filter(store: TrialStore) -> None:
    e1 = store.add_event("trial_started", {"n": 0}, trial=0)
    e2 = store.add_event("fallback", {"why": "timeout"})
    e3 = store.add_event("trial_started", trial=1)
    assert isinstance(e1, Event) and e1.id < e2.id < e3.id
    assert store.events() == [e1, e2, e3]
    assert store.events("trial_started") == [e1, e3]
    assert store.events(after=e1.id) == [e2, e3]
    assert store.events("trial_started", after=e1.id) == [e3]
    assert store.events(after=e3.id) == []
    assert e3.data == {} and e1.trial == 0 and e2.trial is None


def test_meta_json_round_trip(store: TrialStore) -> None:
    assert store.get_meta("spec") is None and store.get_meta("spec", 5) == 5
    value = {"a": [1, 2.5, None, True, "x"], "nested": {"k": {}}}
    store.set_meta("spec", value)
    assert store.get_meta("spec") == value
    store.set_meta("spec", "replaced")
    assert store.get_meta("spec") == "replaced"
    # A tuple comes back as a list: both stores round-trip through JSON.
    store.set_meta("t", (1, 2))
    assert store.get_meta("t") == [1, 2]
    with pytest.raises(TypeError):
        store.set_meta("bad", object())


def test_trials_are_ordered_validated_models(store: TrialStore) -> None:
    for i in range(5):
        store.create_trial(draft(i=i))
    store.update_trial(store.trial(3).model_copy(update={"state": TrialState.COMPLETE, "value": 1.0}))
    trials = store.trials()
    assert [t.number for t in trials] == list(range(5))
    assert all(type(t) is Trial for t in trials)
    assert trials[3].state is TrialState.COMPLETE and isinstance(trials[3].proposer, ProposerKind)
    trials.clear()  # a returned list is the caller's own
    assert len(store.trials()) == 5


def test_concurrent_threads_get_distinct_numbers(store: TrialStore) -> None:
    def work() -> None:
        for _ in range(10):
            store.create_trial(draft())
            store.trials()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [t.number for t in store.trials()] == list(range(40))


def test_close_is_idempotent(store: TrialStore) -> None:
    store.close()
    store.close()

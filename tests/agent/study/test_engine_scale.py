"""The engine's scale hooks: an agent stopping a trial with a reason, and devices limiting launches."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import Event, TrialState
from agent.core.spec import load_spec
from agent.study.engine import StudyEngine
from agent.study.gpus import GpuPool
from agent.study.store.memory import MemoryStore
from agent.study.wiring import make_resources
from sandbox.fake import InProcessExecutor
from sandbox.ray_executor import RayExecutor


def spec(fn: str, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "objective": {"metric": "y", "direction": "maximize"},
        "function": f"tests.agent.scale_funcs:{fn}",
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": 3},
        "strategy": "random",
        "seed": 0,
    }
    data.update(extra)
    return load_spec(data)


def engine(s: Any, store: MemoryStore, tmp_path: Path, workers: int = 1, **kw: Any) -> StudyEngine:
    from agent.strategies.registry import make_strategy
    from agent.study.proposers import StrategyProposer

    proposer = StrategyProposer(make_strategy("random", direction="maximize", seed=0, budget=None))
    return StudyEngine(
        spec=s, store=store, executor=InProcessExecutor(workers), proposer=proposer, study_dir=tmp_path, tick=0.05, **kw
    )


def test_stop_trial_ends_it_pruned_with_the_reason_and_its_curve(tmp_path: Path) -> None:
    store = MemoryStore()
    box: dict[str, Any] = {}

    def observer(event: Event) -> None:
        if event.kind == "trial_started" and event.trial == 0:
            box["ok"] = eng.stop_trial(0, "loss diverged at step 0")

    eng = engine(spec("slow", budget={"max_trials": 1}, fixed={"seconds": 30}), store, tmp_path, observers=[observer])
    eng.run()
    (trial,) = store.trials()
    assert box["ok"] is True
    assert trial.state is TrialState.PRUNED and trial.reason == "loss diverged at step 0"
    assert trial.duration is not None and trial.duration < 10
    (ev,) = store.events("stop_requested")
    assert ev.trial == 0 and ev.data == {"reason": "loss diverged at step 0", "source": "agent"}
    assert eng.stop_trial(0, "again") is False  # finished: nothing to stop
    assert eng.stop_trial(42, "unknown") is False
    with pytest.raises(ValueError, match="needs a reason"):
        eng.stop_trial(0, "  ")


def test_stop_trial_from_another_thread(tmp_path: Path) -> None:
    store = MemoryStore()
    started = threading.Event()

    def observer(event: Event) -> None:
        if event.kind == "trial_started":
            started.set()

    eng = engine(spec("slow", budget={"max_trials": 1}, fixed={"seconds": 30}), store, tmp_path, observers=[observer])
    runner = threading.Thread(target=eng.run)
    runner.start()
    assert started.wait(20)
    assert eng.stop_trial(0, "the user asked in chat", source="user")
    runner.join(20)
    assert not runner.is_alive()
    (trial,) = store.trials()
    assert trial.state is TrialState.PRUNED and trial.reason == "the user asked in chat"
    assert store.events("stop_requested")[0].data["source"] == "user"


def test_gpu_slots_limit_parallel_trials_and_are_given_back(tmp_path: Path) -> None:
    store = MemoryStore()
    pool = GpuPool([0, 1], per_trial=1.0)
    s = spec("gpu_echo", budget={"max_trials": 6}, workers=4, fixed={"seconds": 0.3})
    eng = engine(s, store, tmp_path, workers=4, resources=pool)
    eng.run()
    trials = store.trials()
    assert len(trials) == 6 and all(t.state is TrialState.COMPLETE for t in trials)
    assert all(t.info["gpus"] in ([0], [1], (0,), (1,)) for t in trials)
    spans = [(t.metrics["start"], t.metrics["end"]) for t in trials]
    most = max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)
    assert most == 2  # 4 workers, but only 2 GPUs
    assert pool.holding() == {} and pool.available() == 2


def test_shared_gpu_packs_two_trials_per_device(tmp_path: Path) -> None:
    store = MemoryStore()
    pool = GpuPool([3], per_trial=0.5)
    s = spec("gpu_echo", budget={"max_trials": 4}, workers=4, fixed={"seconds": 0.3})
    engine(s, store, tmp_path, workers=4, resources=pool).run()
    trials = store.trials()
    assert all(list(t.info["gpus"]) == [3] for t in trials)
    spans = [(t.metrics["start"], t.metrics["end"]) for t in trials]
    assert max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans) == 2


def test_ray_schedules_its_own_devices() -> None:
    s = spec("gpu_echo", gpus=[0], gpus_per_trial=0.5)
    fake_ray = object.__new__(RayExecutor)  # only the class attribute matters here
    assert make_resources(s, fake_ray) is None

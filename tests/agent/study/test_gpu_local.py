"""GPU trials on the local executor with a faked device list: placement through CUDA_VISIBLE_DEVICES,
and a timed-out or stopped trial's whole process tree gone before its GPU goes to the next trial."""

from __future__ import annotations

import itertools
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from agent.core.records import Event, TrialDraft, TrialState
from agent.core.records import ProposerKind as Kind
from agent.core.spec import load_spec
from agent.study.engine import StudyEngine
from agent.study.gpus import GpuPool
from agent.study.proposers import ProposalContext, Proposer
from agent.study.store.memory import MemoryStore
from sandbox.local_executor import LocalExecutor

TRIAL = textwrap.dedent("""
    import json, os, signal, subprocess, sys, time
    mode = json.load(open(os.environ["TUNESMITH_PARAMS"]))["mode"]
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    report = {"step": 0, "y": 1.0, "pid": os.getpid(), "child": child.pid,
              "gpu": float(os.environ["CUDA_VISIBLE_DEVICES"]), "threads": float(os.environ["OMP_NUM_THREADS"]),
              "pci_order": float(os.environ.get("CUDA_DEVICE_ORDER") == "PCI_BUS_ID")}
    print("TUNESMITH_REPORT " + json.dumps(report), flush=True)
    if mode == "hang":  # holds the GPU, ignores SIGTERM: only SIGKILL of the whole tree frees it
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
    child.kill()
""")


class Modes(Proposer):
    def __init__(self, modes: list[str]) -> None:
        self.modes = list(modes)

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        out = [TrialDraft(params={"mode": m}, proposer=Kind.USER) for m in self.modes[:n]]
        del self.modes[:n]
        return out


def test_gpu_is_released_only_after_the_whole_tree_is_gone(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(TRIAL)
    spec = load_spec(
        {
            "objective": {"metric": "y", "direction": "maximize"},
            "command": [sys.executable, str(script)],
            "space": {"mode": {"choices": ["hang", "ok"]}},
            "budget": {"max_trials": 3, "trial_timeout": 1.5},
            "workers": 2,
            "threads_per_trial": 3,
            "gpus": [7],
            "gpus_per_trial": 1,
            "grace_period": 0.5,
        },
        base_dir=tmp_path,
    )
    store = MemoryStore()
    pool = GpuPool([7], per_trial=1)
    stops: list[bool] = []

    def stop_after_first_report() -> None:
        # Stopped only once it has reported (its pids are checked below): on a loaded machine a stop sent at
        # its start can land before the script prints anything.
        deadline = time.monotonic() + 60
        while not store.metrics(1) and time.monotonic() < deadline:
            time.sleep(0.02)
        stops.append(eng.stop_trial(1, "the agent saw enough"))

    def observer(event: Event) -> None:
        if event.kind == "trial_started" and event.trial == 1:
            threading.Thread(target=stop_after_first_report, daemon=True).start()

    eng = StudyEngine(
        spec=spec,
        store=store,
        executor=LocalExecutor(2),
        proposer=Modes(["hang", "hang", "ok"]),
        study_dir=tmp_path / "study",
        resources=pool,
        observers=[observer],
        tick=0.1,
    )
    try:
        eng.run()
    finally:
        eng.executor.close()
    trials = store.trials()
    assert [t.state for t in trials] == [TrialState.TIMEOUT, TrialState.PRUNED, TrialState.COMPLETE]
    assert stops == [True] and trials[1].reason == "the agent saw enough"
    for t in trials:
        first: dict[str, Any] = store.metrics(t.number)[0].values
        assert first["gpu"] == 7 and first["pci_order"] == 1 and first["threads"] == 3
        assert list(t.info["gpus"]) == [7]
        for pid in (int(first["pid"]), int(first["child"])):
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # one GPU, gpus_per_trial 1: each trial started only after the previous one (and its tree) was gone
    for before, after in itertools.pairwise(trials):
        assert before.finished_at is not None and after.started_at is not None
        assert after.started_at >= before.finished_at
    assert pool.holding() == {}

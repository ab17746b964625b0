"""Every failure kind, end to end: real trial processes through the engine end in the right state,
with a reason, and leave no process behind."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from agent.core.records import FailureKind, TrialDraft, TrialState
from agent.core.records import ProposerKind as Kind
from agent.core.spec import load_spec
from agent.study.engine import StudyEngine
from agent.study.proposers import ProposalContext, Proposer
from agent.study.store.memory import MemoryStore
from sandbox.local_executor import LocalExecutor

SCRIPT = r"""
import json, os, signal, subprocess, sys, time
mode = json.load(open(os.environ["TUNESMITH_PARAMS"]))["mode"]
def report(v):
    print("TUNESMITH_REPORT " + json.dumps({"y": v}), flush=True)
if mode == "ok":
    report(1.0)
elif mode == "crash":
    raise ValueError("learning rate too high")
elif mode == "signal":
    os.kill(os.getpid(), signal.SIGSEGV)
elif mode == "hang":
    time.sleep(600)
elif mode == "oom":
    hog = [bytearray(50 * 2**20) for _ in range(100)]
elif mode == "nan":
    print('TUNESMITH_REPORT {"y": NaN}', flush=True)
elif mode == "nometric":
    print("all done, forgot to report")
elif mode == "flood":
    chunk = b"x" * 2**20 + b"\n"
    for _ in range(1024):
        sys.stdout.buffer.write(chunk)
    report(2.0)
elif mode == "grandchild":
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "grandchild"), "w").write(str(p.pid))
    report(3.0)
"""

EXPECTED: dict[str, tuple[TrialState, FailureKind | None]] = {
    "ok": (TrialState.COMPLETE, None),
    "crash": (TrialState.FAILED, FailureKind.CRASH),
    "signal": (TrialState.FAILED, FailureKind.SIGNAL),
    "hang": (TrialState.TIMEOUT, FailureKind.TIMEOUT),
    "oom": (TrialState.FAILED, FailureKind.OOM),
    "nan": (TrialState.FAILED, FailureKind.NAN),
    "nometric": (TrialState.FAILED, FailureKind.NO_METRIC),
    "flood": (TrialState.COMPLETE, None),
    "grandchild": (TrialState.COMPLETE, None),
}


class UserList(Proposer):
    """Proposes a fixed list of configurations, as a user would."""

    def __init__(self, configs: list[dict[str, Any]]) -> None:
        self.configs = list(configs)

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        out, self.configs = self.configs[:n], self.configs[n:]
        return [TrialDraft(params=c, proposer=Kind.USER) for c in out]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_each_failure_kind_ends_in_its_state(tmp_path: Path) -> None:
    (tmp_path / "trial.py").write_text(SCRIPT)
    modes = list(EXPECTED)
    spec = load_spec(
        {
            "objective": {"metric": "y", "direction": "maximize"},
            "command": ["python", "trial.py"],
            "space": {"mode": {"choices": modes}},
            "budget": {"max_trials": len(modes), "trial_timeout": 12, "memory_mb": 1024},
            "workers": 3,
            "grace_period": 1.0,
        },
        base_dir=tmp_path,
    )
    store = MemoryStore()
    engine = StudyEngine(
        spec=spec,
        store=store,
        executor=LocalExecutor(capacity=3),
        proposer=UserList([{"mode": m} for m in modes]),
        study_dir=tmp_path,
        tick=0.1,
    )
    summary = engine.run()
    engine.executor.close()
    assert summary.reason == "budget"
    by_mode = {t.params["mode"]: t for t in store.trials()}
    for mode, (state, failure) in EXPECTED.items():
        t = by_mode[mode]
        assert (t.state, t.failure) == (state, failure), f"{mode}: {t.state} {t.failure} {t.reason}"
        if state is not TrialState.COMPLETE:
            assert t.reason and "\n" not in t.reason
    assert "learning rate too high" in (by_mode["crash"].reason or "")
    assert "SIGSEGV" in (by_mode["signal"].reason or "")
    assert "MemoryError" in (by_mode["oom"].stderr_tail or "")
    flood_log = tmp_path / "trials" / f"{by_mode['flood'].number:04d}" / "stdout.log"
    assert flood_log.stat().st_size < 3 * 2**20
    time.sleep(0.2)
    for t in store.trials():
        pgid = t.info.get("pgid")
        if pgid:
            try:
                os.killpg(int(pgid), 0)
                raise AssertionError(f"process group of trial {t.number} ({t.params['mode']}) survived")
            except ProcessLookupError:
                pass
    grandchild = tmp_path / "trials" / f"{by_mode['grandchild'].number:04d}" / "grandchild"
    assert _gone(int(grandchild.read_text()))

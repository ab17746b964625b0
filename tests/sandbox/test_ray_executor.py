"""The Ray executor on a real two-node cluster on 127.0.0.1 (a head and a worker node, 1 CPU each).

Ray is heavy on a small machine, so the default run keeps to these few tests on one cluster; the lost
node test kills the worker node and therefore runs last. More (CLI, engine on a lost node) are slow.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import Report, TrialOutcome, TrialRequest
from scripts.raycluster import LocalRayCluster

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

from sandbox.ray_executor import RayExecutor  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ex(cluster: LocalRayCluster, tmp_path: Path) -> Iterator[RayExecutor]:
    executor = RayExecutor(cluster.address, capacity=2, scratch_root=str(tmp_path / "nodes"))
    yield executor
    executor.close()


def request(tmp_path: Path, fn: str, trial_id: str, **kw: Any) -> TrialRequest:
    kw.setdefault("grace", 1.0)
    return TrialRequest(
        trial_id=trial_id,
        params=kw.pop("params", {}),
        trial_dir=str(tmp_path / trial_id),
        workdir=str(REPO),
        function=f"tests.sandbox.ray_funcs:{fn}",
        env={"TUNESMITH_OBJECTIVE": "score"},
        num_cpus=1,
        **kw,
    )


def collect(ex: RayExecutor, n: int, timeout: float = 120) -> tuple[dict[str, TrialOutcome], list[Report]]:
    outcomes: dict[str, TrialOutcome] = {}
    reports: list[Report] = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < n:
        if time.monotonic() >= deadline:  # show where the executor's watcher threads are stuck
            import faulthandler

            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        assert time.monotonic() < deadline, f"only {sorted(outcomes)} of {n} trials ended in {timeout} s"
        for ev in ex.wait(1.0):
            if isinstance(ev, TrialOutcome):
                outcomes[ev.trial_id] = ev
            else:
                reports.append(ev)
    return outcomes, reports


def placed(ex: RayExecutor, *ids: str, timeout: float = 120) -> dict[str, dict[str, Any]]:
    """Wait until each trial has started on a node (reports seen meanwhile are dropped)."""
    deadline = time.monotonic() + timeout
    while not all(ex.placement(i) for i in ids):
        assert time.monotonic() < deadline, "trials did not start on the cluster"
        ex.wait(0.3)
    return {i: ex.placement(i) or {} for i in ids}


def gone(pid: int) -> bool:
    import psutil

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


def test_trials_stream_while_running_and_bring_their_folder_back(ex: RayExecutor, tmp_path: Path) -> None:
    release = tmp_path / "release"
    for name in ("a", "b"):
        ex.submit(request(tmp_path, "waiter", name, params={"release": str(release), "name": name}))
    streamed: dict[str, Report] = {}
    deadline = time.monotonic() + 120
    while len(streamed) < 2:
        assert time.monotonic() < deadline, "no report streamed from the cluster"
        for ev in ex.wait(1.0):
            assert isinstance(ev, Report), f"a trial ended before it was released: {ev}"
            streamed[ev.trial_id] = ev
    assert sorted(ex.running) == ["a", "b"]  # reports arrived while both still run
    nodes = {ex.placement(i)["node_id"] for i in ("a", "b")}  # type: ignore[index]
    assert len(nodes) == 2  # 1 CPU per node, 1 CPU per trial: one trial on each node
    release.touch()
    outcomes, _ = collect(ex, 2)
    for name, out in outcomes.items():
        assert out.status == "exited" and out.returncode == 0, out.stderr_tail
        assert [r.step for r in out.reports] == [0, 1, None] and out.reports[-1].final
        folder = tmp_path / name
        assert out.info["trial_dir"] == str(folder) and out.info["ray_node_id"] in nodes
        assert out.info["node_trial_dir"] != str(folder)  # it ran in a scratch folder of the node
        assert (folder / "model.txt").read_text() == f"weights of {name}\n"
        assert (folder / "plots" / "curve.csv").is_file()
        assert f"hello from {name}" in (folder / "stdout.log").read_text()
        assert "a warning on stderr" in (folder / "stderr.log").read_text()
        assert (folder / "reports.jsonl").is_file() and "a warning on stderr" in out.stderr_tail
        assert not Path(out.info["node_trial_dir"]).exists()  # the node cleaned up after sending it


def test_stop_cancel_and_timeout_are_carried_out_on_the_node(ex: RayExecutor, tmp_path: Path) -> None:
    ex.submit(request(tmp_path, "sleeper", "stop"))
    ex.submit(request(tmp_path, "sleeper", "cancel"))
    placed(ex, "stop", "cancel")
    ex.cancel("stop", "asha: below the rung", stop=True)
    ex.cancel("cancel", "the user withdrew it")
    outcomes, reports = collect(ex, 2)
    assert outcomes["stop"].status == "stopped" and outcomes["stop"].reason == "asha: below the rung"
    assert outcomes["cancel"].status == "cancelled" and outcomes["cancel"].reason == "the user withdrew it"
    pids = [
        int(r.metrics["pid"]) for r in reports + [r for o in outcomes.values() for r in o.reports] if "pid" in r.metrics
    ]
    assert pids and all(gone(p) for p in pids)
    ex.submit(request(tmp_path, "sleeper", "slow", timeout=1.5))
    out = collect(ex, 1)[0]["slow"]
    assert out.status == "timeout" and "1.5 s timeout" in (out.reason or "")
    assert out.reports and gone(int(out.reports[0].metrics["pid"]))


def test_an_impossible_request_fails_at_once(ex: RayExecutor, tmp_path: Path) -> None:
    ex.submit(request(tmp_path, "sleeper", "huge", num_gpus=4.0))
    outcomes, _ = collect(ex, 1, timeout=10)
    assert outcomes["huge"].status == "launch_error"
    assert "no node of the Ray cluster has 1 CPUs and 4 GPUs" in (outcomes["huge"].reason or "")


def test_a_lost_node_is_a_lost_trial_and_the_rest_goes_on(
    cluster: LocalRayCluster, ex: RayExecutor, tmp_path: Path
) -> None:
    """Runs last in this module: it kills the worker node."""
    worker = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "worker0" in n["Resources"])
    # long enough that the doomed trial cannot finish while the node is being killed on a loaded machine
    ex.submit(request(tmp_path, "sleeper", "p", params={"seconds": 20}))
    ex.submit(request(tmp_path, "sleeper", "q", params={"seconds": 20}))
    # Wait until both run and have reported, keeping every event: each sleeper reports once, at its start,
    # so a report dropped while waiting (as ``placed`` does) would leave nothing to wait for but its end.
    reported: set[str] = set()
    ended: list[object] = []
    deadline = time.monotonic() + 120
    while not ({"p", "q"} <= reported and ex.placement("p") and ex.placement("q")):
        assert time.monotonic() < deadline, f"the trials did not start and report (reported: {reported})"
        for ev in ex.wait(0.5):
            if isinstance(ev, Report):
                reported.add(ev.trial_id)
            else:
                ended.append(ev)
    assert not ended, ended  # nothing ended before the node is killed
    where = {i: ex.placement(i) or {} for i in ("p", "q")}
    doomed = next(i for i, p in where.items() if p["node_id"] == worker)
    survivor = "q" if doomed == "p" else "p"
    cluster.kill_worker(0)
    outcomes, _ = collect(ex, 2)
    lost = outcomes[doomed]
    assert lost.status == "lost" and "was lost" in (lost.reason or "") and lost.info["ray_node_id"] == worker, lost
    assert lost.reports and lost.reports[0].step == 0  # what streamed before the loss is kept
    assert outcomes[survivor].status == "exited"
    ex.submit(request(tmp_path, "sleeper", "after", params={"seconds": 0}))
    outcomes, _ = collect(ex, 1)
    assert outcomes["after"].status == "exited"

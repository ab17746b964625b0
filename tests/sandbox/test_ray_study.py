"""Whole studies on a two-node Ray cluster (slow): the CLI with --executor ray and ASHA, resume on the
same cluster, and a node lost in the middle of a study."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.core.records import FailureKind, TrialState
from agent.core.spec import load_spec
from agent.study.session import Session
from scripts.raycluster import LocalRayCluster

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]

from sandbox.ray_executor import RayExecutor  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def spec_data(**extra: Any) -> dict[str, Any]:
    return {
        "name": "ray-study",
        "objective": {"metric": "score", "direction": "maximize"},
        "function": "tests.sandbox.ray_funcs:curve",
        "workdir": str(REPO),
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "fixed": {"steps": 6, "pause": 0.2},
        "budget": {"max_trials": 8},
        "workers": 2,
        "threads_per_trial": 1,
        "strategy": "random",
        "seed": 4,
        **extra,
    }


def test_cli_tunes_on_the_cluster_with_asha_and_resumes_there(
    cluster: LocalRayCluster, tmp_path: Path, cli: Any
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(spec_data(pruner={"type": "asha", "min_resource": 1, "reduction_factor": 2})))
    study = tmp_path / "study"
    done = cli(
        "tune",
        str(spec),
        "--dir",
        str(study),
        "--executor",
        "ray",
        "--ray-address",
        cluster.address,
        "--json",
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["summary"]["trials"] == 8
    session = Session.open(study, readonly=True)
    trials = session.trials()
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert pruned and all(t.reason and "ASHA" in t.reason and session.metrics(t.number) for t in pruned)
    assert all(t.info["executor"] == "ray" and t.info["ray_node_id"] for t in trials)
    assert len({t.info["ray_node_id"] for t in trials}) == 2  # both nodes ran trials
    assert all((Path(t.info["trial_dir"]) / "stdout.log").is_file() for t in trials)
    assert session.store.get_meta("executor") == {"kind": "ray", "ray_address": cluster.address}
    session.close()
    more = cli("resume", str(study), "--trials", "10", "--json", timeout=300)
    assert more.returncode == 0, more.stderr
    session = Session.open(study, readonly=True)
    later = session.trials()[8:]
    assert len(later) == 2 and all(t.info.get("executor") == "ray" for t in later)


def test_a_node_lost_mid_study_fails_one_trial_and_the_study_finishes(cluster: LocalRayCluster, tmp_path: Path) -> None:
    """Kills the worker node: runs last."""
    worker = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "worker0" in n["Resources"])
    spec = load_spec(spec_data(budget={"max_trials": 5}, fixed={"steps": 8, "pause": 0.5}))
    session = Session.create(spec, tmp_path / "study")
    executor = RayExecutor(cluster.address, capacity=2)
    killed: list[str] = []

    def killer() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for trial_id in executor.running:
                where = executor.placement(trial_id)
                if where and where["node_id"] == worker:
                    time.sleep(1.0)  # let it report first
                    cluster.kill_worker(0)
                    killed.append(trial_id)
                    return
            time.sleep(0.2)

    thread = threading.Thread(target=killer)
    thread.start()
    summary = session.run(executor=executor)
    thread.join()
    assert killed, "no trial was placed on the worker node"
    trials = session.trials()
    lost = session.store.trial(int(killed[0]))
    assert lost.state is TrialState.FAILED and lost.failure is FailureKind.LOST
    assert lost.reason and "was lost" in lost.reason and session.metrics(lost.number)
    assert summary.reason == "budget" and summary.counted == 5
    assert sum(t.state is TrialState.COMPLETE for t in trials) == 4

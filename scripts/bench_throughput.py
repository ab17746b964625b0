"""Throughput of no-op trials: tunesmith's local and Ray executors, and Ray Tune, with 1, 2 and 4 workers.

One run, this machine: a throw-away Ray cluster (one node, 4 logical CPUs) on 127.0.0.1, then per
worker count w:
  A. tunesmith, local executor (``workers: w``): the trivial function ``scripts/noop_trial.py:noop`` as
     function trials (each one a sandboxed process, as always);
  B. tunesmith, Ray executor (capacity w) on the cluster: the same trials, each a Ray task running the
     same sandbox on the node;
  C. Ray Tune on the same cluster: ``Tuner`` with the same trivial function (in-process in Ray's trial
     actors), ``max_concurrent_trials=w``, its defaults otherwise.
Reports trials per second (first start to last end) and the ratios, and writes BENCHMARKS.md.

    python scripts/bench_throughput.py -n 40
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine, write_section  # noqa: E402
from scripts.raycluster import LocalRayCluster  # noqa: E402

WORKERS = (1, 2, 4)


def tunesmith_rate(n: int, workers: int, root: Path, executor: Any = None) -> float:
    """Trials per second of a study of ``n`` no-op trials (first trial start to last trial end)."""
    from agent.records import Event
    from agent.session import Session
    from agent.spec import load_spec

    spec = load_spec({
        "name": f"noop-{workers}", "objective": {"metric": "objective", "direction": "maximize"},
        "function": "scripts.noop_trial:noop", "workdir": str(ROOT),
        "space": {"a": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": n}, "strategy": "random", "seed": 0, "workers": workers, "threads_per_trial": 1,
    })
    session = Session.create(spec, root / f"{'ray' if executor else 'local'}-{workers}")
    marks: list[float] = []

    def observer(event: Event) -> None:
        if event.kind in ("trial_started", "trial_finished"):
            marks.append(time.perf_counter())

    summary = session.run(executor=executor, observers=[observer])
    assert summary.counted == n and all(t.ok for t in session.trials()), "a no-op trial failed"
    session.close()
    return n / (marks[-1] - marks[0])


def ray_tune_rate(n: int, workers: int, root: Path) -> float:
    from ray import tune

    def trivial(config: dict[str, Any]) -> dict[str, float]:  # the same body as scripts/noop_trial.py
        return {"objective": 1.0}

    tuner = tune.Tuner(trivial, param_space={"a": tune.uniform(0.0, 1.0)},
                       tune_config=tune.TuneConfig(num_samples=n, max_concurrent_trials=workers,
                                                   metric="objective", mode="max"),
                       run_config=tune.RunConfig(storage_path=str(root / "ray-tune"), name=f"noop-{workers}",
                                                 verbose=0))
    results = tuner.fit()
    assert len(results) == n and not results.errors, "a Ray Tune trial failed"
    frame = results.get_dataframe()
    starts = frame["timestamp"] - frame["time_total_s"]
    return n / max(1e-9, float(frame["timestamp"].max() - starts.min()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=40, help="trials per measurement")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    import ray

    from sandbox.ray_executor import RayExecutor, connect

    rows = []
    with tempfile.TemporaryDirectory() as tmp, LocalRayCluster(Path(tmp) / "cluster", head_cpus=4,
                                                               worker_cpus=[]) as cluster:
        connect(cluster.address)
        try:
            for w in WORKERS:
                local = tunesmith_rate(args.n, w, Path(tmp))
                on_ray = tunesmith_rate(args.n, w, Path(tmp), executor=RayExecutor(cluster.address, capacity=w))
                tuned = ray_tune_rate(args.n, w, Path(tmp))
                rows.append((w, local, on_ray, tuned))
                print(f"workers {w}: local {local:.2f}/s, tunesmith-ray {on_ray:.2f}/s, ray tune {tuned:.2f}/s",
                      flush=True)
        finally:
            ray.shutdown()
    lines = ["| workers | tunesmith local | tunesmith on Ray | Ray Tune | local / Ray | tunesmith-Ray / Ray Tune "
             "(per-trial time of Ray Tune ÷ ours) |",
             "|---|---|---|---|---|---|"]
    for w, local, on_ray, tuned in rows:
        lines.append(f"| {w} | {local:.2f} trials/s ({1e3 / local:.0f} ms/trial) | {on_ray:.2f} trials/s "
                     f"({1e3 / on_ray:.0f} ms) | {tuned:.2f} trials/s ({1e3 / tuned:.0f} ms) | {local / on_ray:.2f}x "
                     f"| {on_ray / tuned:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("Throughput of no-op trials: local, Ray, Ray Tune (issue 6)",
                      f"Command: `python scripts/bench_throughput.py -n {args.n}`, {time.strftime('%Y-%m-%d')}, "
                      f"{machine()}, Ray {ray.__version__}; one run, {args.n} trials per cell, all in the same "
                      "run. Ray: a one-node cluster on 127.0.0.1 with 4 logical CPUs started by the script; every "
                      "trial asks 1 CPU. tunesmith runs `scripts/noop_trial.py:noop` as sandboxed function trials "
                      "(a process per trial); Ray Tune runs the same one-line function in its trial actors with "
                      "its defaults (loggers included). Rate = trials / (first start to last end). 1-minute load "
                      f"average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at the end (other jobs shared "
                      "the cores).\n\n" + text)


if __name__ == "__main__":
    main()

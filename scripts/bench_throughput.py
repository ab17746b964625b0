"""Throughput of no-op trials: tunesmith's local and Ray executors, and Ray Tune, with 1, 2 and 4 workers.

One run, this machine: a throw-away Ray cluster (one node, 4 logical CPUs) on 127.0.0.1, then per
worker count w:
  A. tunesmith, local executor (``workers: w``): the trivial function ``scripts/noop_trial.py:noop`` as
     function trials (each one a sandboxed process, as always);
  B. tunesmith, Ray executor (capacity w) on the cluster: the same trials, each a Ray task running the
     same sandbox on the node;
  C. Ray Tune on the same cluster: ``Tuner`` with the same trivial function (in-process in Ray's trial
     actors), ``max_concurrent_trials=w``, its defaults otherwise (a new actor per trial);
  D. the same with ``reuse_actors=True`` (Ray Tune's fastest setting for tiny trials).
Reports trials per second, from the first start to the last end of the function (it returns both times,
so every runner is timed the same way), and the ratios; writes BENCHMARKS.md.

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


def rate(starts: list[float], ends: list[float]) -> float:
    """Trials per second from the first function start to the last function end."""
    return len(starts) / max(1e-9, max(ends) - min(starts))


def tunesmith_rate(n: int, workers: int, root: Path, executor: Any = None) -> float:
    """Trials per second of a study of ``n`` no-op trials."""
    from agent.core.spec import load_spec
    from agent.study.session import Session

    spec = load_spec(
        {
            "name": f"noop-{workers}",
            "objective": {"metric": "objective", "direction": "maximize"},
            "function": "scripts.noop_trial:noop",
            "workdir": str(ROOT),
            "space": {"a": {"type": "float", "low": 0.0, "high": 1.0}},
            "budget": {"max_trials": n},
            "strategy": "random",
            "seed": 0,
            "workers": workers,
            "threads_per_trial": 1,
        }
    )
    session = Session.create(spec, root / f"{'ray' if executor else 'local'}-{workers}")
    summary = session.run(executor=executor)
    trials = session.trials()
    assert summary.counted == n and all(t.ok for t in trials), "a no-op trial failed"
    session.close()
    return rate([t.metrics["t0"] for t in trials], [t.metrics["t1"] for t in trials])


def ray_tune_rate(n: int, workers: int, root: Path, reuse: bool = False) -> float:
    from ray import tune

    def trivial(config: dict[str, Any]) -> dict[str, float]:  # the same body as scripts/noop_trial.py
        t0 = time.time()
        return {"objective": 1.0, "t0": t0, "t1": time.time()}

    tuner = tune.Tuner(
        trivial,
        param_space={"a": tune.uniform(0.0, 1.0)},
        tune_config=tune.TuneConfig(
            num_samples=n, max_concurrent_trials=workers, metric="objective", mode="max", reuse_actors=reuse
        ),
        run_config=tune.RunConfig(storage_path=str(root / "ray-tune"), name=f"noop-{workers}-{reuse}", verbose=0),
    )
    results = tuner.fit()
    assert len(results) == n and not results.errors, "a Ray Tune trial failed"
    frame = results.get_dataframe()
    return rate(list(frame["t0"]), list(frame["t1"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=40, help="trials per measurement")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    import ray

    from sandbox.ray_executor import RayExecutor, connect

    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalRayCluster(Path(tmp) / "cluster", head_cpus=4, worker_cpus=[]) as cluster,
    ):
        connect(cluster.address)
        try:
            for w in WORKERS:
                local = tunesmith_rate(args.n, w, Path(tmp))
                on_ray = tunesmith_rate(args.n, w, Path(tmp), executor=RayExecutor(cluster.address, capacity=w))
                tuned = ray_tune_rate(args.n, w, Path(tmp))
                reused = ray_tune_rate(args.n, w, Path(tmp), reuse=True)
                rows.append((w, local, on_ray, tuned, reused))
                print(
                    f"workers {w}: local {local:.2f}/s, tunesmith-ray {on_ray:.2f}/s, ray tune {tuned:.2f}/s, "
                    f"reusing actors {reused:.2f}/s",
                    flush=True,
                )
        finally:
            ray.shutdown()
    lines = [
        "| workers | tunesmith local | tunesmith on Ray | Ray Tune (defaults) | Ray Tune (reuse_actors) "
        "| local ÷ Ray rate | tunesmith-Ray ÷ Ray Tune rate (defaults / reuse_actors) |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(rate: float) -> str:
        return f"{rate:.2f} trials/s ({1e3 / rate:.0f} ms/trial)"

    for w, local, on_ray, tuned, reused in rows:
        lines.append(
            f"| {w} | {cell(local)} | {cell(on_ray)} | {cell(tuned)} | {cell(reused)} "
            f"| {local / on_ray:.2f}x | {on_ray / tuned:.2f}x / {on_ray / reused:.2f}x |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(
            "Throughput of no-op trials: local, Ray, Ray Tune (issue 6)",
            f"Command: `python scripts/bench_throughput.py -n {args.n}`, {time.strftime('%Y-%m-%d')}, "
            f"{machine()}, Ray {ray.__version__}; one run, {args.n} trials per cell, all in the same "
            "run, no warm-up (cold starts of Ray worker processes count for tunesmith and Ray Tune alike). "
            "Ray: a one-node cluster on 127.0.0.1 with 4 logical CPUs started by the script; every "
            "trial asks 1 CPU. tunesmith runs `scripts/noop_trial.py:noop` as sandboxed function trials "
            "(a process per trial); Ray Tune runs the same one-line function in its trial actors with "
            "its defaults (loggers included). Rate = trials / (first function start to last function "
            f"end). 1-minute load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at the end "
            "(other jobs shared the cores). Spans begin at the first function start, so the first "
            "worker/actor start-up lies outside them; later cold starts (more workers or actors starting "
            "after it) lie inside. With `reuse_actors` Ray Tune calls the function in an already running "
            "actor: no process and no sandbox per trial.\n\n" + text,
        )


if __name__ == "__main__":
    main()

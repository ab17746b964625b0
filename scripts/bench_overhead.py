"""Per-trial orchestration overhead of tunesmith (``make bench``).

Measured in one run, on this machine:
  A. bare loop: ``subprocess.run`` of the no-op trial command (the cost of starting the process);
  B. tunesmith: the same command as trials of a study (random strategy, 1 worker), with 0, 1,000 and
     10,000 trials already stored (``--sizes``), per-trial cycle = time between consecutive trial launches;
  C. Optuna ``study.optimize`` on a trivial in-process objective (no process at all), per trial.
Reports medians, tunesmith's added cost (B - A) and ratios, and writes them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine, write_section  # noqa: E402

NOOP = [sys.executable, "-c", "print('TUNESMITH_REPORT {\"x\": 1.0}')"]


def bare(n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(NOOP, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def tunesmith_cycle(n: int, prefill: int, root: Path) -> tuple[float, float]:
    """(median, p90) seconds between consecutive trial launches with ``prefill`` stored trials."""
    from agent.core.records import ProposerKind, TrialDraft, TrialState
    from agent.core.spec import load_spec
    from agent.study.session import Session

    spec = load_spec(
        {
            "name": f"bench-{prefill}",
            "objective": {"metric": "x", "direction": "maximize"},
            "command": NOOP,
            "space": {"a": {"type": "float", "low": 0.0, "high": 1.0}},
            "budget": {"max_trials": prefill + n},
            "strategy": "random",
            "seed": 0,
            "workers": 1,
            "broken_setup_after": 0,  # the no-op trial returns the same value whatever its params, on purpose
        }
    )
    session = Session.create(spec, root / f"study-{prefill}")
    for i in range(prefill):
        t = session.store.create_trial(TrialDraft(params={"a": i / max(1, prefill)}, proposer=ProposerKind.STRATEGY))
        session.store.update_trial(
            t.model_copy(
                update={
                    "state": TrialState.COMPLETE,
                    "value": i / max(1, prefill),
                    "started_at": time.time(),
                    "finished_at": time.time(),
                }
            )
        )
    starts: list[float] = []

    def observer(event: object) -> None:
        if getattr(event, "kind", "") == "trial_started":
            starts.append(time.perf_counter())

    session.run(observers=[observer])
    gaps = [b - a for a, b in itertools.pairwise(starts)][2:]  # skip warm-up
    session.close()
    return statistics.median(gaps), statistics.quantiles(gaps, n=10)[-1]


def optuna_per_trial(n: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    t0 = time.perf_counter()
    study.optimize(lambda tr: tr.suggest_float("a", 0, 1), n_trials=n)
    return (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=60, help="trials per measurement")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    ap.add_argument("--sizes", type=int, nargs="+", default=[0, 1000, 10000], help="stored trials per row")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    a = bare(args.n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for prefill in args.sizes:
            med, p90 = tunesmith_cycle(args.n, prefill, Path(tmp))
            rows.append((prefill, med, p90))
    c = optuna_per_trial(1000)
    lines = [
        f"- bare `subprocess.run` of the no-op trial: median {a * 1e3:.1f} ms",
        f"- Optuna `study.optimize`, trivial in-process objective: {c * 1e3:.2f} ms per trial",
        "",
        "| stored trials | tunesmith per trial (median) | p90 | added vs bare (median) | ratio vs bare "
        "| ratio vs Optuna |",
        "|---|---|---|---|---|---|",
    ]
    for prefill, med, p90 in rows:
        lines.append(
            f"| {prefill} | {med * 1e3:.1f} ms | {p90 * 1e3:.1f} ms | {(med - a) * 1e3:+.1f} ms | "
            f"{med / a:.2f}x | {med / c:.0f}x |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(
            "Per-trial orchestration overhead (issue: foundation)",
            f"Command: `make bench` (`python scripts/bench_overhead.py -n {args.n}`), "
            f"{time.strftime('%Y-%m-%d')}, {machine()}; one run, {args.n} trials per row, "
            "random strategy, 1 worker, no-op trial printing one report; "
            f"1-minute load average at start {load:.1f} (other jobs shared the cores).\n\n" + text,
        )


if __name__ == "__main__":
    main()

"""Per-trial overhead of ``isolation: strict`` (bubblewrap sandbox) versus ``process`` (part of ``make bench``).

Measured in one run, on this machine, with the same no-op trial (a Python one-liner printing one report):
  A. executor round trip: ``LocalExecutor.submit`` to the trial's outcome, one trial at a time, the two
     profiles interleaved trial by trial (so machine load hits both alike);
  B. study cycle: time between consecutive trial launches of a study (random strategy, 1 worker), what a
     user sees; two studies per profile, alternating.
Reports medians and p90s, strict minus process (the sandbox's cost per trial) and strict / process, and
writes them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine, write_section  # noqa: E402

NOOP = [sys.executable, "-c", "print('TUNESMITH_REPORT {\"x\": 1.0}')"]
PROFILES = ("process", "strict")


def round_trips(n: int, root: Path) -> dict[str, list[float]]:
    from sandbox.base import TrialOutcome, TrialRequest
    from sandbox.local_executor import LocalExecutor

    times: dict[str, list[float]] = {p: [] for p in PROFILES}
    with LocalExecutor(capacity=1) as ex:
        for i in range(n + 2):  # the first two of each are warm-up
            for profile in PROFILES:
                req = TrialRequest(
                    f"{profile}-{i}",
                    {},
                    str(root / "rt" / "trials" / f"{profile}-{i}"),
                    str(root),
                    command=NOOP,
                    isolation=profile,
                    hide=(str(root / "rt"),),
                )
                t0 = time.perf_counter()
                ex.submit(req)
                while not any(isinstance(ev, TrialOutcome) for ev in ex.wait(timeout=10)):
                    pass
                if i >= 2:
                    times[profile].append(time.perf_counter() - t0)
    return times


def study_cycles(n: int, profile: str, root: Path) -> list[float]:
    from agent.core.spec import load_spec
    from agent.study.session import Session

    spec = load_spec(
        {
            "name": f"bench-{profile}",
            "objective": {"metric": "x", "direction": "maximize"},
            "command": NOOP,
            "space": {"a": {"type": "float", "low": 0.0, "high": 1.0}},
            "budget": {"max_trials": n + 2},
            "strategy": "random",
            "seed": 0,
            "workers": 1,
            "isolation": profile,
        },
        base_dir=root,
    )
    session = Session.create(spec, Path(tempfile.mkdtemp(dir=root)) / "study")
    starts: list[float] = []

    def observer(event: object) -> None:
        if getattr(event, "kind", "") == "trial_started":
            starts.append(time.perf_counter())

    session.run(observers=[observer])
    session.close()
    return [b - a for a, b in itertools.pairwise(starts)][1:]  # skip warm-up


def _row(label: str, times: dict[str, list[float]]) -> str:
    med = {p: statistics.median(t) for p, t in times.items()}
    p90 = {p: statistics.quantiles(t, n=10)[-1] for p, t in times.items()}
    return (
        f"| {label} | {med['process'] * 1e3:.1f} ms (p90 {p90['process'] * 1e3:.1f}) | "
        f"{med['strict'] * 1e3:.1f} ms (p90 {p90['strict'] * 1e3:.1f}) | "
        f"{(med['strict'] - med['process']) * 1e3:+.1f} ms | {med['strict'] / med['process']:.2f}x |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=40, help="trials per profile and measurement")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    from sandbox.launch import profile_problem

    problem = profile_problem("strict")
    if problem is not None:
        raise SystemExit(f"cannot measure strict isolation here: {problem}")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trips = round_trips(args.n, root)
        cycles: dict[str, list[float]] = {p: [] for p in PROFILES}
        for _ in range(2):
            for profile in PROFILES:
                cycles[profile] += study_cycles(args.n // 2, profile, root)
    lines = [
        "| measurement | process (median) | strict (median) | strict - process | strict / process |",
        "|---|---|---|---|---|",
        _row("executor round trip, no-op trial", trips),
        _row("study cycle per trial (1 worker)", cycles),
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(
            "Strict vs process isolation: per-trial overhead (issue 7)",
            f"Command: `python scripts/bench_strict.py -n {args.n}` (part of `make bench`), "
            f"{time.strftime('%Y-%m-%d')}, {machine()}, bubblewrap sandbox as root with a pids cgroup; "
            f"one run, {args.n} trials per profile and row (round trips interleaved trial by trial, "
            "study cycles from two alternating studies per profile), no-op Python trial printing one "
            f"report; 1-minute load average at start {load:.1f} (other jobs shared the cores).\n\n" + text,
        )


if __name__ == "__main__":
    main()

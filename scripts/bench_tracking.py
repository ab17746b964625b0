"""What live logging to a tracker (``track:``) costs a study (``make bench-tracking``).

Measured in one run, on this machine, on the same no-op trial as ``make bench`` (random strategy, 1 worker):
  A. no tracker;
  B. ``track: {mlflow: true}`` (a SQLite tracking store in the study folder);
  C. ``track: {wandb: true}`` (offline runs in the study folder).
Per-trial cycle (time between consecutive trial launches, median and p90: what the engine's thread pays) and
the whole run's wall time including the end-of-study flush of the background thread; ratios against A. Writes
the table to BENCHMARKS.md.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_overhead import NOOP  # noqa: E402
from scripts.benchlib import machine, write_section  # noqa: E402


def run(n: int, track: dict[str, Any] | None, root: Path) -> tuple[float, float, float, int]:
    """(median cycle, p90 cycle, wall seconds, tracker failures) for ``n`` no-op trials."""
    from agent.core.spec import load_spec
    from agent.study.session import Session

    data: dict[str, Any] = {
        "name": f"bench-track-{next(iter(track)) if track else 'none'}",
        "objective": {"metric": "x", "direction": "maximize"},
        "command": NOOP,
        "space": {"a": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": n},
        "strategy": "random",
        "seed": 0,
        "broken_setup_after": 0,  # the no-op trial returns one value whatever its params, on purpose
    }
    if track:
        data["track"] = track
    session = Session.create(load_spec(data), root / data["name"])
    starts: list[float] = []

    def observer(event: object) -> None:
        if getattr(event, "kind", "") == "trial_started":
            starts.append(time.perf_counter())

    t0 = time.perf_counter()
    session.run(observers=[observer])
    wall = time.perf_counter() - t0
    failures = len(session.events("tracker_failed"))
    session.close()
    gaps = [b - a for a, b in itertools.pairwise(starts)][2:]  # skip warm-up
    return statistics.median(gaps), statistics.quantiles(gaps, n=10)[-1], wall, failures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=40, help="trials per study")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_DISABLE_GIT", "true")
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        trackers = (("none", None), ("mlflow (SQLite)", {"mlflow": True}), ("wandb (offline)", {"wandb": True}))
        for label, track in trackers:
            med, p90, wall, failures = run(args.n, track, Path(tmp))
            rows.append((label, med, p90, wall, failures))
    base_med, base_wall = rows[0][1], rows[0][3]
    lines = [
        "| tracker | per-trial cycle (median) | p90 | ratio vs none | study wall time (incl. flush) | ratio | "
        "tracker failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, med, p90, wall, failures in rows:
        lines.append(
            f"| {label} | {med * 1e3:.1f} ms | {p90 * 1e3:.1f} ms | {med / base_med:.2f}x | {wall:.2f} s | "
            f"{wall / base_wall:.2f}x | {failures} |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(
            "Live tracking overhead (track:)",
            f"Command: `make bench-tracking` (`python scripts/bench_tracking.py -n {args.n}`), "
            f"{time.strftime('%Y-%m-%d')}, {machine()}; one run, {args.n} no-op trials per study, random strategy, "
            f"1 worker; 1-minute load average at start {load:.1f} (other jobs shared the cores). The tracker logs "
            "in a background thread: the per-trial cycle is what the study pays while it runs, the wall time "
            "adds the end-of-study flush.\n\n" + text,
        )


if __name__ == "__main__":
    main()

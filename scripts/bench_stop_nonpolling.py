"""Early stopping for a script that never polls ``should_stop()``: the same studies with and without ASHA.

The trial is ``scripts/curve_trial.py``: parameters as flags (``pass_args: true``), one report per epoch,
``--epochs`` epochs of ``--epoch-seconds`` each, no ``should_stop()`` anywhere, so only a signal can end it
early. For each seed, one study without a pruner and one with ASHA (``pruner: {type: asha, min_resource:
2, reduction_factor: 3}``) run the same trial budget with the seeded random strategy (so both arms try the
same configurations) and the spec's default ``grace_period`` (5 s). Per arm: epochs run (reports
received, summed over trials), trial-seconds (each trial's wall time, summed), pruned trials, pruned trials
that still ran every epoch, trials recorded complete although a stop was requested (they had finished
their run), and the best ``val_acc`` of a complete trial; the ratios are baseline / ASHA, from the same
run. Writes a section of BENCHMARKS.md unless --no-write.

    python scripts/bench_stop_nonpolling.py --seeds 3 --trials 16 --workers 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine, write_section  # noqa: E402

ASHA = {"type": "asha", "min_resource": 2, "reduction_factor": 3}
TITLE = "Early stopping a script that does not poll should_stop() (hardening 6)"


def spec_data(seed: int, trials: int, workers: int, epochs: int, epoch_seconds: float) -> dict[str, Any]:
    return {
        "name": f"nonpolling-{seed}",
        "objective": {"metric": "val_acc", "direction": "maximize"},
        "command": ["python", "curve_trial.py"],
        "workdir": str(ROOT / "scripts"),
        "pass_args": True,
        "space": {
            "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "width": {"type": "int", "low": 16, "high": 256, "log": True},
        },
        "fixed": {"epochs": epochs, "epoch_seconds": epoch_seconds},
        "budget": {"max_trials": trials},
        "workers": workers,
        "threads_per_trial": 1,
        "strategy": "random",
        "seed": seed,
    }


def run_arm(data: dict[str, Any], pruner: dict[str, Any] | None, folder: Path, epochs: int) -> dict[str, float]:
    from agent.core.records import EventKind, TrialState
    from agent.core.spec import load_spec
    from agent.study.session import Session

    if pruner is not None:
        data = {**data, "pruner": pruner}
    session = Session.create(load_spec(data), folder)
    t0 = time.perf_counter()
    session.run()
    wall = time.perf_counter() - t0
    trials = session.trials()
    curves = {t.number: len(session.metrics(t.number)) for t in trials}
    asked = {e.trial for e in session.events(EventKind.PRUNE_REQUESTED)}
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    best = session.best()
    out = {
        "epochs": float(sum(curves.values())),
        "seconds": sum((t.finished_at or 0.0) - (t.started_at or 0.0) for t in trials),
        "wall": wall,
        "pruned": float(len(pruned)),
        "pruned_full": float(sum(curves[t.number] >= epochs for t in pruned)),
        "late": float(sum(t.number in asked and t.state is TrialState.COMPLETE for t in trials)),
        "best": best.value if best is not None and best.value is not None else float("nan"),
    }
    session.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--epoch-seconds", type=float, default=0.25)
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            data = spec_data(seed, args.trials, args.workers, args.epochs, args.epoch_seconds)
            full = run_arm(data, None, Path(tmp) / f"full-{seed}", args.epochs)
            asha = run_arm(data, ASHA, Path(tmp) / f"asha-{seed}", args.epochs)
            rows.append((seed, full, asha))
            print(f"seed {seed}: without {full}  ASHA {asha}", flush=True)
    lines = [
        "| seed | epochs without | epochs with ASHA | ratio | trial-s without | trial-s with ASHA | ratio "
        "| pruned | pruned that ran every epoch | complete after a late stop | best without | best with ASHA |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for seed, full, asha in rows:
        lines.append(
            f"| {seed} | {full['epochs']:.0f} | {asha['epochs']:.0f} | {full['epochs'] / asha['epochs']:.2f}x "
            f"| {full['seconds']:.1f} | {asha['seconds']:.1f} | {full['seconds'] / asha['seconds']:.2f}x "
            f"| {asha['pruned']:.0f}/{args.trials} | {asha['pruned_full']:.0f} | {asha['late']:.0f} "
            f"| {full['best']:.4f} | {asha['best']:.4f} |"
        )

    fulls, ashas = [r[1] for r in rows], [r[2] for r in rows]

    def total(arm: list[dict[str, float]], key: str) -> float:
        return sum(a[key] for a in arm)

    saved = 1 - total(ashas, "epochs") / total(fulls, "epochs")
    lines += [
        "",
        f"Total: {total(fulls, 'epochs'):.0f} epochs without early stopping, {total(ashas, 'epochs'):.0f} with ASHA "
        f"(**{total(fulls, 'epochs') / total(ashas, 'epochs'):.2f}x fewer, {saved:.0%} of the epochs saved**); "
        f"{total(fulls, 'seconds'):.0f} trial-seconds without, {total(ashas, 'seconds'):.0f} with "
        f"({total(fulls, 'seconds') / total(ashas, 'seconds'):.2f}x); study wall time "
        f"{total(fulls, 'wall'):.0f} s without, {total(ashas, 'wall'):.0f} s with; mean best val_acc "
        f"{statistics.mean(a['best'] for a in fulls):.4f} without, "
        f"{statistics.mean(a['best'] for a in ashas):.4f} with.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(
            TITLE,
            f"Command: `python scripts/bench_stop_nonpolling.py --seeds {args.seeds} --trials {args.trials} "
            f"--workers {args.workers}`, {time.strftime('%Y-%m-%d')}, {machine()}. Trial: "
            f"`scripts/curve_trial.py` ({args.epochs} epochs of {args.epoch_seconds:g} s, parameters as flags, "
            "one report per epoch, never polls `should_stop()`); "
            f"{args.trials} trials per study, {args.workers} workers, seeded random strategy (both arms try the "
            f"same configurations), default `grace_period` (5 s), seeds 0..{args.seeds - 1}, both arms of a seed "
            f"in the same run. ASHA = `pruner: {ASHA}`. Epochs = reports received; trial-s = trial wall times "
            "summed. 1-minute load average "
            f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at the end (other jobs shared the cores).\n\n" + text,
        )


if __name__ == "__main__":
    main()

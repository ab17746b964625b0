"""Multi-fidelity on the PyTorch example: the same studies with and without ASHA early stopping.

For each seed, runs ``examples/torch-mlp/spec.yaml`` (20 epochs per full trial, its own strategy) twice
with the same trial budget: once without a pruner, once with ASHA (``pruner: {type: asha,
min_resource: 2, reduction_factor: 3}``). Reports, per arm, the epochs actually trained (reports
received, summed over trials) and the best validation accuracy of a complete trial, and the ratio of
epochs without / with early stopping, measured in the same run. Writes BENCHMARKS.md unless --no-write.

    python scripts/bench_multifidelity.py --trials 16 --seeds 3 --workers 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine, write_section  # noqa: E402

SPEC = ROOT / "examples" / "torch-mlp" / "spec.yaml"
ASHA = {"type": "asha", "min_resource": 2, "reduction_factor": 3}


def run_arm(seed: int, trials: int, workers: int, pruner: dict[str, object] | None, root: Path) -> dict[str, float]:
    from agent.core.records import TrialState
    from agent.core.spec import load_spec
    from agent.study.session import Session

    data = load_spec(SPEC).to_dict()
    data.update(seed=seed, workers=workers, threads_per_trial=1)
    data["budget"] = {**data.get("budget", {}), "max_trials": trials}
    if pruner is not None:
        data["pruner"] = pruner
    spec = load_spec(data)
    session = Session.create(spec, root / f"{'asha' if pruner else 'full'}-{seed}")
    t0 = time.perf_counter()
    session.run()
    wall = time.perf_counter() - t0
    trials_done = session.trials()
    epochs = sum(len(session.metrics(t.number)) for t in trials_done)
    best = session.best()
    pruned = sum(t.state is TrialState.PRUNED for t in trials_done)
    session.close()
    return {
        "epochs": float(epochs),
        "best": best.value if best and best.value is not None else float("nan"),
        "pruned": float(pruned),
        "wall": wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            full = run_arm(seed, args.trials, args.workers, None, Path(tmp))
            asha = run_arm(seed, args.trials, args.workers, ASHA, Path(tmp))
            rows.append((seed, full, asha))
            print(f"seed {seed}: full {full}  asha {asha}", flush=True)
    lines = [
        "| seed | epochs without | epochs with ASHA | ratio | best val_acc without | best val_acc with ASHA "
        "| pruned trials | wall without | wall with |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for seed, full, asha in rows:
        lines.append(
            f"| {seed} | {full['epochs']:.0f} | {asha['epochs']:.0f} | {full['epochs'] / asha['epochs']:.2f}x "
            f"| {full['best']:.4f} | {asha['best']:.4f} | {asha['pruned']:.0f}/{args.trials} "
            f"| {full['wall']:.0f} s | {asha['wall']:.0f} s |"
        )
    total_full = sum(r[1]["epochs"] for r in rows)
    total_asha = sum(r[2]["epochs"] for r in rows)
    best_full = statistics.mean(r[1]["best"] for r in rows)
    best_asha = statistics.mean(r[2]["best"] for r in rows)
    lines += [
        "",
        f"Total: {total_full:.0f} epochs without early stopping, {total_asha:.0f} with ASHA: "
        f"**{total_full / total_asha:.2f}x fewer epochs**; mean best val_acc {best_full:.4f} without, "
        f"{best_asha:.4f} with (difference {best_asha - best_full:+.4f}).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(
            "Multi-fidelity: ASHA on the PyTorch example (issue 6)",
            f"Command: `python scripts/bench_multifidelity.py --trials {args.trials} --seeds {args.seeds} "
            f"--workers {args.workers}`, {time.strftime('%Y-%m-%d')}, {machine()}. "
            f"`examples/torch-mlp` (digits MLP, 20 epochs per full trial, the spec's own strategy), "
            f"{args.trials} trials per study, {args.workers} workers, 1 thread per trial, seeds "
            f"0..{args.seeds - 1}; both arms of a seed in the same run. ASHA = `pruner: {ASHA}`. "
            "Epochs = reports received (a stopped trial may finish the epoch it was in). "
            f"Best = best complete trial. 1-minute load average {load_start:.1f} at start, "
            f"{os.getloadavg()[0]:.1f} at the end (other jobs shared the cores).\n\n" + text,
        )


if __name__ == "__main__":
    main()

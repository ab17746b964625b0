"""Functional fingerprints on a space with redundancy: compute saved, and the same best found.

The PyTorch example (``examples/torch-mlp``, 20 epochs of batch 16, one hidden layer) tuned over a space
where some params do not change the function trained: ``momentum`` is used only by ``sgd`` (and not declared
conditional, as happens), and ``log_every`` only changes what is printed. 3 x 3 x 2 x 3 x 3 = 162
configurations compute 36 functions.
The script reports its fingerprint after the first epoch (``tunesmith.fingerprint(logits)``).

Per seed, the same seeded random search twice: without fingerprints (``fingerprint: false`` in ``fixed``)
and with them. Trials are deterministic (one thread, seeded), so an equivalent trial stopped after its first
epoch records exactly the result it would have computed: the per-trial values and the best must agree
between the arms, and the compute saved is the epochs (and trial seconds) not trained.

    python scripts/bench_dedupe.py --seeds 3 --trials 30 --workers 2
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

from scripts.benchlib import machine  # noqa: E402

EPOCHS = 20
SPACE = {
    "lr": {"choices": [0.001, 0.003, 0.01]},
    "hidden": {"choices": [64, 128, 256]},
    "optimizer": {"choices": ["adamw", "sgd"]},
    "momentum": {"choices": [0.0, 0.5, 0.9]},
    "log_every": {"choices": [0, 5, 10]},
}


def run_arm(seed: int, trials: int, workers: int, fingerprint: bool, root: Path) -> dict[str, Any]:
    from agent.core.spec import load_spec
    from agent.study.session import Session

    data = {
        "name": "redundant",
        "objective": {"metric": "val_acc", "direction": "maximize"},
        "command": ["python", "train.py"],
        "workdir": str(ROOT / "examples" / "torch-mlp"),
        "space": SPACE,
        "fixed": {"epochs": EPOCHS, "depth": 1, "batch_size": 16, "dropout": 0.0, "fingerprint": fingerprint},
        "budget": {"max_trials": trials},
        "strategy": "random",
        "seed": seed,
        "workers": workers,
        "threads_per_trial": 1,
    }
    session = Session.create(load_spec(data), root / f"{'fp' if fingerprint else 'plain'}-{seed}")
    t0 = time.perf_counter()
    session.run()
    wall = time.perf_counter() - t0
    done = session.trials()
    best = session.best()
    out = {
        "epochs": sum(len(session.metrics(t.number)) for t in done),
        "trial_s": sum(t.duration or 0.0 for t in done),
        "wall": wall,
        "best": best.value if best else None,
        "best_params": best.params if best else None,
        "equivalent": sum(1 for t in done if "equivalent_to" in t.info),
        "values": [(t.params, t.value) for t in done],
        "status": session.status()["duplicates"],
    }
    session.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    load_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            plain = run_arm(seed, args.trials, args.workers, False, Path(tmp))
            fp = run_arm(seed, args.trials, args.workers, True, Path(tmp))
            same = sum(1 for a, b in zip(plain["values"], fp["values"], strict=True) if a == b)
            rows.append((seed, plain, fp, same))
            print(
                f"seed {seed}: plain {plain['epochs']} epochs best {plain['best']}; fingerprints {fp['epochs']} "
                f"epochs best {fp['best']}, {fp['equivalent']} equivalent, {same}/{args.trials} identical",
                flush=True,
            )
    lines = [
        "| seed | epochs without | epochs with | saved | trial-s without | trial-s with | equivalent trials "
        "| trials with the same params and value in both arms | best without | best with |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for seed, plain, fp, same in rows:
        saved = 1 - fp["epochs"] / plain["epochs"]
        lines.append(
            f"| {seed} | {plain['epochs']} | {fp['epochs']} | {saved:.0%} | {plain['trial_s']:.0f} "
            f"| {fp['trial_s']:.0f} | {fp['equivalent']}/{args.trials} | {same}/{args.trials} "
            f"| {plain['best']:.4f} | {fp['best']:.4f} |"
        )
    tot_plain = sum(r[1]["epochs"] for r in rows)
    tot_fp = sum(r[2]["epochs"] for r in rows)
    ts_plain = sum(r[1]["trial_s"] for r in rows)
    ts_fp = sum(r[2]["trial_s"] for r in rows)
    lines += [
        "",
        f"Total: {tot_plain} epochs without fingerprints, {tot_fp} with ({1 - tot_fp / tot_plain:.0%} saved); "
        f"{ts_plain:.0f} trial-seconds without, {ts_fp:.0f} with ({1 - ts_fp / ts_plain:.0%} saved); the same best "
        f"in {sum(r[1]['best'] == r[2]['best'] for r in rows)} of {len(rows)} seeds.",
    ]
    print(
        f"\nCommand: `python scripts/bench_dedupe.py --seeds {args.seeds} --trials {args.trials} --workers "
        f"{args.workers}`, {time.strftime('%Y-%m-%d')}, {machine()}; 1-minute load average {load_start:.1f} at "
        f"start, {os.getloadavg()[0]:.1f} at the end.\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

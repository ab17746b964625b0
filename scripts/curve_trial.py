"""A training script that never polls ``should_stop()``: the trial of ``scripts/bench_stop_nonpolling.py``.

Takes its parameters as ``--name value`` flags (``pass_args: true``), "trains" ``--epochs`` epochs of
``--epoch_seconds`` each (a sleep: the benchmark measures tunesmith, not arithmetic) and prints one
``TUNESMITH_REPORT`` line per epoch. Standard library only; deterministic for given flags.

``val_acc`` rises towards a quality that peaks at ``lr`` = 1e-2 and grows with ``width``, plus a little
noise seeded by the flags, so learning curves rank configurations the way their final values do.
"""

from __future__ import annotations

import argparse
import math
import random
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--epoch_seconds", type=float, default=0.25)
    args = ap.parse_args()
    rng = random.Random(f"{args.lr}:{args.width}")
    quality = 0.5 + 0.45 * math.exp(-((math.log10(args.lr) + 2) ** 2) / 2) * (0.7 + 0.3 * math.log2(args.width) / 8)
    for epoch in range(1, args.epochs + 1):
        time.sleep(args.epoch_seconds)
        acc = quality * (1 - 0.6 * math.exp(-epoch / 3)) + rng.gauss(0, 0.005)
        print(f'TUNESMITH_REPORT {{"step": {epoch}, "val_acc": {acc:.6f}}}', flush=True)


if __name__ == "__main__":
    main()

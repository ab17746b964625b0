"""Run harness units in the background into a run folder (the same units ``tunesmith eval`` would run).

    .venv/bin/python scripts/run_units_bg.py --out runs/test-A --problems a,b --strategies tpe,gp --seeds 5

Used to start the contenders that do not depend on ``auto`` while ``auto`` is still being designed on the
dev split; ``tunesmith eval`` with the same folder later finds these units cached and adds the rest.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from evals.harness import Unit, run_units

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--problems", required=True)
    ap.add_argument("--strategies", required=True)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--protocols", default="30x1,128x8")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    protos = [tuple(int(x) for x in p.split("x")) for p in args.protocols.split(",")]
    # problem-major: at any moment the finished problems have every protocol, seed and strategy
    units = [
        Unit(p, c, s, b, k)
        for p in args.problems.split(",")
        for b, k in protos
        for s in range(args.seeds)
        for c in args.strategies.split(",")
    ]
    t0, done = time.time(), [0]

    def progress(unit: Unit, result: dict, cached: bool) -> None:
        done[0] += 1
        took = "cached" if cached else f"{result['wall_s']:.0f}s"
        print(f"{time.time() - t0:7.0f}s [{done[0]}/{len(units)}] {unit.key} {took}", flush=True)

    run_units(units, Path(args.out), workers=args.workers, on_done=progress)


if __name__ == "__main__":
    main()

"""Do two contenders (or a contender and a committed run) evaluate the same configurations, eval by eval?

    .venv/bin/python scripts/same_proposals.py --protocol 16x8 auto@v5 auto@v8 kNN_iris_nll:0 SVM_iris_nll:1
    .venv/bin/python scripts/same_proposals.py --protocol 16x8 benchmarks/eval-test/evals.parquet:auto auto \\
        DT_wine_acc:2

Each side is a contender name (run now with ``evals.harness.run_unit``; ``auto@NAME`` are the variants of
``scripts/tune_auto_dev.py``) or ``EVALS_PARQUET:contender`` (a committed run's evaluations). For each
``problem:seed`` it prints the first evaluation whose loss differs (``None``: all equal) and both best losses.
Use it when a rule change claims to leave a protocol's proposals unchanged: the claim is then checked, and the
earlier run's results stand for the new rule (BENCHMARKS.md, "auto v8").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scripts.tune_auto_dev  # noqa: F401  (registers the auto@NAME variants)
from evals.harness import Unit, run_unit


def losses(side: str, problem: str, seed: int, budget: int, batch: int) -> list[float]:
    """The validation losses of one unit, in evaluation order, from a committed run or a run now."""
    path, _, contender = side.rpartition(":")
    if path.endswith(".parquet"):
        import pandas as pd

        frame = pd.read_parquet(path)
        rows = frame[
            (frame.problem == problem)
            & (frame.contender == contender)
            & (frame.seed == seed)
            & (frame.protocol == f"{-(-budget // batch)}x{batch}")
        ].sort_values("n")
        if rows.empty:
            sys.exit(f"{path} has no unit {problem} seed {seed} of {contender}")
        return [round(float(v), 9) for v in rows.loss]
    return [round(float(e["loss"]), 9) for e in run_unit(Unit(problem, side, seed, budget, batch))["evals"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--protocol", required=True, help="ROUNDSxBATCH, e.g. 30x1 or 16x8")
    ap.add_argument("left", help="contender, or EVALS_PARQUET:contender")
    ap.add_argument("right", help="contender, or EVALS_PARQUET:contender")
    ap.add_argument("units", nargs="+", help="problem:seed")
    args = ap.parse_args()
    rounds, batch = (int(x) for x in args.protocol.split("x"))
    for unit in args.units:
        problem, _, seed = unit.partition(":")
        a = losses(args.left, problem, int(seed), rounds * batch, batch)
        b = losses(args.right, problem, int(seed), rounds * batch, batch)
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        print(
            f"{problem} s{seed} {args.protocol}: first difference at eval {first} of {len(a)}/{len(b)}; "
            f"best {min(a):.6g} / {min(b):.6g}",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Measure ONE ``auto`` variant designed on dev (``scripts/tune_auto_dev.py``) on named TEST problems, once.

    .venv/bin/python scripts/measure_auto_variant.py --variant v8-iw --baseline v8 --problems a,b --seeds 5

The variant and a baseline variant (``--baseline``; today's default, ``auto@v10``, unless given) run side by side
in the same environment, so their pairing is exact (committed eval units drift when re-run: GP numerics). This
is the "measured once on test" step of the design process: run it after the design is fixed on dev, report the
result whatever it is, and do not adjust the design to it. The scores and the units' cost are also written to
``--out`` (``scores.parquet``, ``units.csv``) for ``scripts/combine_runs.py --override``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.tune_auto_dev import run_scored  # importing it registers the auto@VARIANT contenders (workers too)


def main() -> None:
    from evals.report import final_scores
    from evals.split import split_of
    from evals.stats import paired

    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", required=True)
    ap.add_argument("--baseline", default="v10")
    ap.add_argument("--problems", required=True)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--protocols", default="30x1")
    ap.add_argument("--out", default="runs/test-variant")
    args = ap.parse_args()
    problems = args.problems.split(",")
    split = split_of()
    if any(split[p] != "test" for p in problems):
        sys.exit(f"not test-split problems: {[p for p in problems if split[p] != 'test']}")
    names = [f"auto@{args.variant}", f"auto@{args.baseline}"]
    protos = []
    for text in args.protocols.split(","):
        rounds, batch = (int(x) for x in text.split("x"))
        protos.append((rounds * batch, batch))
    scores = run_scored(problems, names, protos, args.seeds, Path(args.out), args.workers)
    for protocol in sorted(scores.protocol.unique()):
        for objective in ("val", "test"):
            wide = final_scores(scores, protocol, objective)
            a, b = wide[names[0]].to_numpy(), wide[names[1]].to_numpy()
            p = paired(a, b)
            print(
                f"== {protocol} {objective}: {names[0]} {a.mean():.1f}, {names[1]} {b.mean():.1f}; "
                f"W/T/L {p.wins}/{p.ties}/{p.losses} diff {p.mean_diff:+.1f} p={p.p_value:.3f}"
            )
        print(final_scores(scores, protocol, "val").groupby(level=0).mean().round(1).to_string())


if __name__ == "__main__":
    main()

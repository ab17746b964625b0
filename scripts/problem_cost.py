"""The cost rule that picks which test problems an eval run can afford, before any result on them is seen.

For every problem of a split that the given unit cache has no ``auto`` unit for, the mean wall time of N
random configurations (seeded, so every run times the same configurations), cheapest first. Run it with
one thread per process, as the eval workers run::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python scripts/problem_cost.py --split test --ran runs/test-27

Timings move with the load of the machine; the rule compares problems measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.strategies.registry import make_strategy
from evals.problems import SUITES, get_problem
from evals.split import split_of


def ran(cache: Path | None) -> set[str]:
    """Problems that have an ``auto`` unit in ``cache`` (a unit cache of ``tunesmith eval``)."""
    if cache is None:
        return set()
    out = set()
    for f in (cache / "units").glob("*.json"):
        unit = json.loads(f.read_text(encoding="utf-8"))
        if str(unit["contender"]).startswith("auto"):
            out.add(unit["problem"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="bayesmark")
    ap.add_argument("--split", choices=["dev", "test"], default="test")
    ap.add_argument("--ran", type=Path, help="unit cache whose problems are skipped")
    ap.add_argument("-n", type=int, default=4, help="random configurations per problem")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    skip, splits = ran(args.ran), split_of()
    rows = []
    for name in SUITES[args.suite]:
        if splits[name] != args.split or name in skip:
            continue
        problem = get_problem(name)
        configs = make_strategy("random", direction="minimize", seed=args.seed).ask(problem.space, [], args.n)
        start = time.perf_counter()
        for c in configs:
            problem.evaluate(c)
        rows.append(((time.perf_counter() - start) / args.n, name))
        print(f"{name:24s} {rows[-1][0]:.3f} s", file=sys.stderr, flush=True)
    print("cheapest first:")
    for seconds, name in sorted(rows):
        print(f"{name:24s} {seconds:.3f} s")


if __name__ == "__main__":
    main()

"""Paired tables over contenders that ran in different ``tunesmith eval`` runs (same problems and seeds).

    .venv/bin/python scripts/combine_runs.py --protocol 16x8 --reference auto \\
        runs/test-16x8/scores.parquet:auto benchmarks/eval-test/scores.parquet:gp,tpe

Each argument is ``SCORES_PARQUET[:contender,contender...]`` (no list: every contender of that file). Only the
(problem, seed) units present for every chosen contender are compared, so a partial run compares on what it
has. Prints markdown: the summary and the paired table (``evals.report``) for validation and held-out test, then
the cost of those same units (ask time per unit and per round) from each run's ``units.parquet``/``units.csv``
beside its scores, where there is one.
``--override SCORES_PARQUET:contender=alias`` replaces the alias's units by the contender's wherever that file
has them (same problem, seed and protocol), in the scores and in the cost: e.g. a new ``auto`` version measured
only on the problems its rules change (``scripts/measure_auto_variant.py``), beside the committed ``auto``
units of the problems where its proposals are the old version's.
Use it when re-running an expensive contender would cost hours and its code has not changed since (say so
next to the numbers: a GP's scores are not bit-for-bit reproducible across runs).
``--plots DIR`` also writes, over the same paired units, the mean score against evaluations
(``curves-PROTOCOL.png``) and the per-problem heatmap (``heatmap-PROTOCOL.png``) of ``tunesmith eval``'s report,
and prints the per-problem table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from evals.report import (
    cost_table,
    final_scores,
    paired_table,
    per_problem_table,
    plot_curves,
    plot_heatmap,
    summary_table,
)


def load(arg: str) -> pd.DataFrame:
    path, _, names = arg.partition(":")
    frame = pd.read_parquet(path)
    if names:
        frame = frame[frame.contender.isin(names.split(","))]
    return frame


def load_units(arg: str) -> pd.DataFrame | None:
    """The per-unit cost rows beside a scores file (``units.parquet`` or ``units.csv``), same contender filter."""
    path, _, names = arg.partition(":")
    folder = Path(path).parent
    for name, read in (("units.parquet", pd.read_parquet), ("units.csv", pd.read_csv)):
        if (folder / name).exists():
            frame = read(folder / name)
            return frame[frame.contender.isin(names.split(","))] if names else frame
    return None


def override_spec(arg: str) -> tuple[str, str, str]:
    """``(path, contender, alias)`` of an ``--override`` argument ``PATH:contender=alias``."""
    path, _, spec = arg.partition(":")
    name, _, alias = spec.partition("=")
    if not (name and alias):
        raise SystemExit(f"--override {arg!r}: expected SCORES_PARQUET:contender=alias")
    return path, name, alias


def override(frame: pd.DataFrame, new: pd.DataFrame | None, alias: str) -> pd.DataFrame:
    """``frame`` with the alias's rows replaced by ``new``'s (renamed to the alias) on the units ``new`` has."""
    if new is None:  # no cost rows beside the overriding scores file
        return frame
    new = new.assign(contender=alias)
    keys = ["problem", "seed", "protocol"]
    have = pd.MultiIndex.from_frame(new[keys])
    mine = frame.contender.eq(alias).to_numpy() & pd.MultiIndex.from_frame(frame[keys]).isin(have)
    return pd.concat([frame[~mine], new], ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sources", nargs="+", help="SCORES_PARQUET[:contender,...]")
    ap.add_argument("--protocol", required=True, help="e.g. 30x1 or 16x8")
    ap.add_argument("--reference", required=True, help="the contender compared against each other one")
    ap.add_argument("--override", action="append", default=[], help="SCORES_PARQUET:contender=alias (repeatable)")
    ap.add_argument("--plots", type=Path, help="write the curves and heatmap of the paired units to this folder")
    args = ap.parse_args()
    scores = pd.concat([load(s) for s in args.sources], ignore_index=True)
    overrides = [override_spec(arg) for arg in args.override]
    for path, name, alias in overrides:
        scores = override(scores, load(f"{path}:{name}"), alias)
    order = list(dict.fromkeys(scores.contender))
    paired = None
    for objective in ("val", "test"):
        wide = final_scores(scores, args.protocol, objective).dropna()
        table, _ = summary_table(wide, order)
        pairs, _ = paired_table(wide, args.reference, order)
        print(f"\n### {args.protocol}, {objective}: {len(wide)} paired units\n\n{table}\n\n{pairs}")
        paired = set(wide.index) if paired is None else paired
    costs = [u for u in (load_units(s) for s in args.sources) if u is not None]
    if costs and paired:
        units = pd.concat(costs, ignore_index=True)
        for path, name, alias in overrides:  # the cost rows beside each overriding scores file
            units = override(units, load_units(f"{path}:{name}"), alias)
        units = units[units.protocol == args.protocol]
        units = units[[(p, s) in paired for p, s in zip(units.problem, units.seed, strict=True)]]
        print(f"\n### {args.protocol}, cost over the paired units\n\n{cost_table(units, order)}")
    if args.plots and paired:
        plots(scores, args.protocol, order, paired, args.plots)


def plots(scores: pd.DataFrame, protocol: str, order: list[str], paired: set[tuple[str, int]], folder: Path) -> None:
    """The report's curves and heatmap, and the per-problem table (printed), over the paired units only."""
    units = pd.MultiIndex.from_frame(scores[["problem", "seed"]])
    sub = scores[units.isin(list(paired)) & scores.protocol.eq(protocol).to_numpy()]
    folder.mkdir(parents=True, exist_ok=True)
    plot_curves(sub, protocol, order, folder / f"curves-{protocol}.png")
    plot_heatmap(sub, protocol, order, folder / f"heatmap-{protocol}.png")
    print(f"\n### {protocol}, mean validation score per problem\n\n{per_problem_table(sub, protocol, order)}")


if __name__ == "__main__":
    main()

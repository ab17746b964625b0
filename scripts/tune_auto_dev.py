"""Design ``auto`` on the DEV split only: run rule variants against gp/tpe and print paired comparisons.

    .venv/bin/python scripts/tune_auto_dev.py --seeds 3 --workers 2 [--variants a,b] [--problems @all|...]

Variants are ``AutoConfig`` settings registered as contenders ``auto@NAME`` (default configuration first,
as the ``auto`` contender). Results are cached in ``runs/dev`` (resumable). Test-split problems are refused.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.strategies.auto import AutoConfig, AutoStrategy
from agent.strategies.priors import PRIORS_PATH
from agent.study.proposers import StrategyProposer
from evals.contenders import Contender, ContenderContext, register_contender

#: the cheapest dev problem of each group (evaluation cost measured on 2026-11-27) + dev synthetic + torch
DEV_PROBLEMS = [
    "DT_diabetes_mae",
    "MLP-adam_iris_acc",
    "MLP-sgd_iris_nll",
    "RF_diabetes_mae",
    "SVM_diabetes_mae",
    "ada_wine_nll",
    "kNN_diabetes_mae",
    "lasso_diabetes_mae",
    "linear_diabetes_mse",
    "ackley5",
    "rosenbrock10",
    "torch-mlp_digits_acc",
]

#: the dev problems the v6 design was checked on (23 with baselines, 2026-12-06) ...
OLDER_DEV = [
    "DT_breast_acc",
    "DT_diabetes_mae",
    "DT_iris_acc",
    "SVM_breast_acc",
    "SVM_breast_nll",
    "SVM_diabetes_mae",
    "SVM_iris_nll",
    "ackley5",
    "kNN_breast_acc",
    "kNN_diabetes_mae",
    "kNN_iris_acc",
    "kNN_iris_nll",
    "kNN_wine_acc",
    "lasso_diabetes_mae",
    "lasso_diabetes_mse",
    "lasso_iris_acc",
    "lasso_iris_nll",
    "lasso_wine_acc",
    "linear_breast_nll",
    "linear_diabetes_mae",
    "linear_diabetes_mse",
    "linear_wine_nll",
    "rosenbrock10",
]
#: ... and the harder ones (8-9-d MLPs and random forests) v7 was designed on. v7 led on these alone and lost on
#: test: judge a design on both sets together (``--problems @all``), as the test split mixes both kinds
HARDER_DEV = [
    "RF_wine_acc",
    "RF_wine_nll",
    "RF_breast_nll",
    "MLP-adam_wine_nll",
    "MLP-sgd_wine_acc",
    "MLP-adam_breast_acc",
    "MLP-adam_breast_nll",
    "MLP-sgd_iris_nll",
    "MLP-adam_iris_acc",
]
PRESETS = {"@cheap": DEV_PROBLEMS, "@older": OLDER_DEV, "@harder": HARDER_DEV, "@all": OLDER_DEV + HARDER_DEV}

VARIANTS: dict[str, AutoConfig] = {
    # v1 was meant as the first rule table but ran GP after 2 trials (gp_startup did not exist yet): a
    # 2-trial start-up, which stalls on plateaus (DT): kept to read its cached results.
    "v1": AutoConfig(startup="gp", min_startup=0, max_startup=0, warp=None, gp_max_trials=100),
    "v2": AutoConfig(min_startup=5, max_startup=8),
    "nowarp": AutoConfig(min_startup=5, max_startup=8, warp=None),
    # auto v4 (the default): v3 without its batch rule
    "gp10": AutoConfig(startup="gp", min_startup=0, max_startup=0, warp=None, gp_startup=10, batch_startup=None),
    "start10": AutoConfig(min_startup=10, max_startup=10),
    "start10-nowarp": AutoConfig(min_startup=10, max_startup=10, warp=None),
    "copula10": AutoConfig(min_startup=10, max_startup=10, warp="copula"),
    "gp10b": AutoConfig(startup="gp", min_startup=0, max_startup=0, warp=None, gp_startup=10, batch_startup=8),
    # auto v3 (= gp10b) with the output warping of v2, against outliers such as a poor default configuration
    "gp10b-yj": AutoConfig(
        startup="gp", min_startup=0, max_startup=0, warp="yeo-johnson", gp_startup=10, batch_startup=8
    ),
    # session 2026-11-27b, on the enlarged dev split: a shorter random start-up; a GP/TPE batch portfolio
    "gp5b": AutoConfig(startup="gp", min_startup=0, max_startup=0, warp=None, gp_startup=5, batch_startup=8),
    # session 2026-12-06: v5 (the default) and v6, whose default and priors add to GP's start-up design
    "v5": AutoConfig(startup_adds=False, warp=None),
    "v6": AutoConfig(startup_adds=True, warp=None, round_startup=False),
    # v8: v6 with the added start-up ending at a round boundary in batches (the same proposals as v6 at 30x1)
    "v8": AutoConfig(startup_adds=True, warp=None, round_startup=True),
    # v6 without the hand-over past GP_MAX_TRIALS (GP to the end): the quality cost of the hand-over (issue 21)
    "nohandover": AutoConfig(startup_adds=True, gp_max_trials=10**9, warp=None),
    # session 2026-12-06b, on the harder dev problems (8-9-d MLPs, where TPE led): output warping, a GP/TPE
    # hedge, a portfolio by rank of proposals, TPE from 8 dimensions
    "warp-cop": AutoConfig(warp="copula"),
    "warp-yj": AutoConfig(warp="yeo-johnson"),  # = v7: best on these dev problems, lost to v6 on test: not kept
    "v7": AutoConfig(warp="yeo-johnson"),
    "tpe3": AutoConfig(tpe_every=3, warp=None),
    "tpe2": AutoConfig(tpe_every=2, warp=None),
    "port": AutoConfig(portfolio=True, warp=None),
    "tpe8d": AutoConfig(tpe_min_dims=8, warp=None),
    "yj-port": AutoConfig(warp="yeo-johnson", portfolio=True),
    "yj-8d": AutoConfig(warp="yeo-johnson", tpe_min_dims=8),
    # session 2026-12-06c: v8 with a GP whose inputs are warped (Kumaraswamy CDF per parameter, fitted by MAP)
    "v8-iw": AutoConfig(startup_adds=True, warp=None, round_startup=True, input_warping=True),
    # session 2026-12-06d: v8 with warm-start priors for the MLP families too (built from their dev problems)
    "v9": AutoConfig(priors=9),
    # session 2026-12-07: v9 with the tree prior rebuilt from all 10 tree dev problems (3 configurations)
    "v10": AutoConfig(),
    "gp10b-tpe2": AutoConfig(
        startup="gp", min_startup=0, max_startup=0, warp=None, gp_startup=10, batch_startup=8, batch_tpe=2
    ),
}


#: the variants measured before v9 (and with priors) replay v5's priors only, not the MLP ones v9 added
for _name in (
    "v6",
    "v8",
    "nohandover",
    "warp-cop",
    "warp-yj",
    "v7",
    "tpe3",
    "tpe2",
    "port",
    "tpe8d",
    "yj-port",
    "yj-8d",
    "v8-iw",
):
    VARIANTS[_name] = dataclasses.replace(VARIANTS[_name], priors=8)


def _builder(config: AutoConfig):  # type: ignore[no-untyped-def]
    def build(ctx: ContenderContext) -> StrategyProposer:
        return StrategyProposer(AutoStrategy(direction=ctx.direction, seed=ctx.seed, budget=ctx.budget, config=config))

    return build


#: cached units are keyed by the configuration and the priors it reads (a rebuilt priors.json recomputes them)
_PRIORS_DIGEST = hashlib.sha256(PRIORS_PATH.read_bytes()).hexdigest()[:12] if PRIORS_PATH.exists() else "none"

for _name, _config in VARIANTS.items():  # at import: spawned workers re-import this module
    _version = f"{_config!r} priors:{_PRIORS_DIGEST}"
    register_contender(Contender(f"auto@{_name}", _builder(_config), default_first=True, version=_version))


def run_scored(
    problems: list[str], names: list[str], protos: list[tuple[int, int]], seeds: int, out: Path, workers: int
) -> Any:
    """Run (or read cached) every (problem, budget x batch, seed, contender) unit, printing progress; their scores,
    also written to ``out/scores.parquet`` with the units' cost in ``out/units.csv`` (for
    ``scripts/combine_runs.py``)."""
    from evals.harness import Unit, run_units
    from evals.report import scores_frame, units_frame
    from evals.scoring import load_baselines

    units = [Unit(p, c, s, b, k) for p in problems for b, k in protos for s in range(seeds) for c in names]
    done = [0]

    def progress(unit: Unit, result: dict[str, object], cached: bool) -> None:
        done[0] += 1
        took = "cached" if cached else f"{result['wall_s']:.0f}s"
        print(f"[{done[0]}/{len(units)}] {unit.key} {took}", flush=True)

    results = run_units(units, out, workers=workers, on_done=progress)
    scores = scores_frame(results, load_baselines())
    scores.to_parquet(out / "scores.parquet")
    units_frame(results).to_csv(out / "units.csv", index=False)
    return scores


def main() -> None:
    from evals.report import final_scores
    from evals.split import split_of
    from evals.stats import bootstrap_ci, paired

    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="v2")
    ap.add_argument("--others", default="gp,tpe")
    ap.add_argument("--problems", default="@cheap", help="names, or the presets " + ", ".join(PRESETS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--protocols", default="30x1,128x8")
    ap.add_argument("--out", default="runs/dev")
    args = ap.parse_args()
    problems = [p for name in args.problems.split(",") for p in PRESETS.get(name, [name])]
    split = split_of()
    if any(split[p] != "dev" for p in problems):
        sys.exit(f"refusing test-split problems: {[p for p in problems if split[p] != 'dev']}")
    names = [f"auto@{v}" for v in args.variants.split(",")] + args.others.split(",")
    protos = [(int(p.split("x")[0]), int(p.split("x")[1])) for p in args.protocols.split(",")]
    scores = run_scored(problems, names, protos, args.seeds, Path(args.out), args.workers)
    for protocol in sorted(scores.protocol.unique()):
        for objective in ("val", "test"):
            wide = final_scores(scores, protocol, objective)
            print(f"\n== {protocol} {objective}: mean score [95% CI]")
            for c in names:
                lo, hi = bootstrap_ci(wide[c].to_numpy())
                print(f"  {c:22s} {wide[c].mean():6.1f} [{lo:5.1f}, {hi:5.1f}]")
            for c in names:
                for other in args.others.split(","):
                    if c == other or c in args.others.split(","):
                        continue
                    p = paired(wide[c].to_numpy(), wide[other].to_numpy())
                    print(
                        f"  {c} vs {other}: W/T/L {p.wins}/{p.ties}/{p.losses} win rate {p.win_rate:.2f} "
                        f"diff {p.mean_diff:+.1f} p={p.p_value:.3f}"
                    )
        wide = final_scores(scores, protocol, "val")
        print(f"\n== {protocol} per problem (val)")
        print(wide.groupby(level=0).mean().round(1).to_string())


if __name__ == "__main__":
    main()

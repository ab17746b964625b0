"""Build ``agent/strategies/priors.json`` (auto's warm-start priors) from the *dev* split only.

Input: the random-search evaluations behind the scoring baselines (``tunesmith eval-baselines`` caches every
evaluation with its configuration in ``<cache>/units``; the commands are in evals/data/baselines.json). For
every group of dev bayesmark problems that share one set of parameter names (kNN; SVM; DT and RF; the
linear classifiers lasso and linear; the linear regressors of each kind):

1. candidates: the ``--top`` best configurations of each problem's random evaluations;
2. every candidate and the problem's default are evaluated on every problem of the group (the candidate's
   own problem reuses its recorded loss), and each loss is normalized as bayesmark scores it
   ((loss - best) / (clip - best), bounded to [-1, 1], with the committed baselines);
3. greedy portfolio: repeatedly add the candidate that most lowers the mean over the group's problems of
   min(default, chosen so far, candidate); stop at ``--k`` or when nothing improves.

``--problems`` rebuilds only the groups of the named dev problems (from those problems' evaluations) for the
version ``--since`` and keeps every other prior of ``--out``, each with the command that built it (a group's prior
of an earlier version too: ``auto`` applies the newest its version allows).

``--lopo`` also prints a leave-one-problem-out estimate (the portfolio built without a problem, scored on it;
with ``--by-dataset``, built without every problem of the held-out problem's data set, since ``X_breast_acc``
and ``X_breast_nll`` share their good configurations)
against the expected best of the default and as many random configurations, so ``--k`` is chosen on held-out
dev problems. Test problems are never read. Run with one thread per process::

    OMP_NUM_THREADS=1 .venv/bin/python scripts/build_priors.py --cache runs/baselines --lopo
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.strategies.auto import VERSION as AUTO_VERSION
from agent.strategies.priors import PRIORS_PATH
from evals.baselines import DEFAULT_EVALS, baseline_units
from evals.harness import load_cached
from evals.problems import SUITES, get_problem
from evals.scoring import load_baselines, normalized
from evals.split import split_of
from scripts.benchlib import machine


def _loss(args: tuple[str, dict[str, Any]]) -> float:
    name, config = args
    try:
        return float(get_problem(name).evaluate(config).loss)
    except Exception:  # a configuration that fails on another data set scores as the worst
        return float("inf")


def dev_evals(cache: Path) -> dict[str, list[tuple[float, dict[str, Any]]]]:
    """``(loss, configuration)`` of the cached baseline evaluations of every dev bayesmark problem that has
    a baseline, best first."""
    baselines, split = load_baselines(), split_of()
    out = {}
    for name in SUITES["bayesmark"]:
        if split[name] != "dev" or name not in baselines:
            continue
        result = load_cached(cache, baseline_units([name], DEFAULT_EVALS)[0])
        if result is not None:
            out[name] = sorted(
                ((e["loss"], e["params"]) for e in result["evals"] if e["loss"] is not None), key=lambda e: e[0]
            )
    return out


def dev_groups(names: list[str]) -> dict[frozenset[str], list[str]]:
    """``names`` grouped by their search space's parameter names."""
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for name in names:
        groups[frozenset(get_problem(name).space.params)].append(name)
    return groups


def greedy(norm: np.ndarray, default: np.ndarray, cands: list[int], k: int) -> list[int]:
    """Indices (rows of ``norm``: candidates x problems) of the greedy portfolio among ``cands``."""
    chosen: list[int] = []
    cur = default.copy()
    for _ in range(k):
        gains = [(np.minimum(cur, norm[c]).mean(), c) for c in cands if c not in chosen]
        if not gains:
            break
        value, best = min(gains)
        if value >= cur.mean() - 1e-12:
            break
        chosen.append(best)
        cur = np.minimum(cur, norm[best])
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("runs/baselines"))
    ap.add_argument("--top", type=int, default=8, help="candidates per problem")
    ap.add_argument("--k", type=int, default=3, help="configurations per prior (at most)")
    ap.add_argument("--lopo", action="store_true", help="print the leave-one-problem-out estimate")
    ap.add_argument("--by-dataset", action="store_true", help="--lopo holds out the problem's whole data set")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=PRIORS_PATH)
    ap.add_argument(
        "--since", type=int, default=int(AUTO_VERSION), help="the auto version that introduces these priors"
    )
    ap.add_argument("--problems", help="comma-separated dev problems: rebuild only their groups, keep the others")
    args = ap.parse_args()
    baselines, evals = load_baselines(), dev_evals(args.cache)
    if args.problems:
        wanted = args.problems.split(",")
        if missing := [name for name in wanted if name not in evals]:
            sys.exit(
                f"no cached random evaluations of the dev problems {missing} in {args.cache}/units (test problems "
                "are never read); run their eval-baselines command from evals/data/baselines.json first"
            )
        evals = {name: e for name, e in evals.items() if name in wanted}
    groups = dev_groups(list(evals))
    if not groups:
        sys.exit(
            f"no random evaluations of dev problems in {args.cache}/units; run the eval-baselines "
            "commands listed in evals/data/baselines.json first (they cache every evaluation there)"
        )
    priors, lopo_rows = [], []
    command = "OMP_NUM_THREADS=1 .venv/bin/python scripts/build_priors.py " + " ".join(sys.argv[1:])
    with ProcessPoolExecutor(args.workers) as pool:
        for names, problems in sorted(groups.items(), key=lambda kv: sorted(kv[1])):
            cands = [(p, cfg, loss) for p in problems for loss, cfg in evals[p][: args.top]]
            jobs = [(q, cfg) for p, cfg, _ in cands for q in problems if q != p]
            jobs += [(q, get_problem(q).default) for q in problems]
            it = iter(list(pool.map(_loss, jobs)))  # consumed in the order of ``jobs``
            norm = np.zeros((len(cands), len(problems)))
            for i, (p, _, loss) in enumerate(cands):
                for j, q in enumerate(problems):
                    b = baselines[q]
                    norm[i, j] = normalized(loss if q == p else next(it), b.clip, b.best)
            default = np.array([normalized(next(it), baselines[q].clip, baselines[q].best) for q in problems])
            chosen = greedy(norm, default, list(range(len(cands))), args.k)
            priors.append(
                {
                    "params": sorted(names),
                    "from": problems,
                    "command": command,
                    "date": dt.date.today().isoformat(),
                    "since": args.since,
                    "configs": [cands[c][1] for c in chosen],
                    "dev_mean_score": {
                        "default": round(100 * (1 - default.mean()), 2),
                        "default+prior": round(
                            100 * (1 - np.minimum.reduce([default, *(norm[c] for c in chosen)]).mean()), 2
                        ),
                    },
                }
            )
            print(f"{'/'.join(sorted(names))}: {len(chosen)} configurations from {', '.join(problems)}", flush=True)
            if args.lopo and len(problems) > 1:
                lopo_rows += _lopo(problems, cands, norm, default, evals, baselines, args.k, args.by_dataset)
    if args.lopo:
        _print_lopo(lopo_rows, args.k, "data set" if args.by_dataset else "problem")
    if args.problems:
        priors = _kept(args.out, {frozenset(p["params"]) for p in priors}, args.since) + priors
    args.out.write_text(
        json.dumps(
            {
                "about": "auto's warm-start priors (agent/strategies/priors.py), built from dev problems only",
                "machine": machine(),
                "priors": priors,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


def _kept(path: Path, rebuilt: set[frozenset[str]], since: int) -> list[dict[str, Any]]:
    """The priors of ``path`` but those of a ``rebuilt`` group built for the same version ``since`` (which the
    rebuild replaces), each with the command that built it. A group's prior from an earlier version stays, so
    ``AutoConfig(priors=N)`` still replays version N."""
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    kept = [p for p in data["priors"] if frozenset(p["params"]) not in rebuilt or p.get("since", 0) != since]
    for p in kept:  # files written before priors carried their own command
        p.setdefault("command", data.get("command"))
        p.setdefault("date", data.get("date"))
    return kept


def _lopo(
    problems: list[str],
    cands: list[tuple[str, dict[str, Any], float]],
    norm: np.ndarray,
    default: np.ndarray,
    evals: dict[str, list[tuple[float, dict[str, Any]]]],
    baselines: Any,
    k: int,
    by_dataset: bool = False,
) -> list[tuple[str, int, float, float]]:
    """``(problem, K, prior score, random score)``: default + the first K of a portfolio built without the
    problem (``by_dataset``: without any problem of its data set), against the expected score of default + K
    random configurations (over the 512 evaluations)."""
    rows = []
    rng = np.random.default_rng(0)
    for j, held in enumerate(problems):
        out = {q for q in problems if q == held or (by_dataset and _dataset(q) == _dataset(held))}
        keep = [i for i, q in enumerate(problems) if q not in out]
        own = [i for i, c in enumerate(cands) if c[0] not in out]
        if not keep:
            continue
        chosen = greedy(norm[:, keep], default[keep], own, k)
        b = baselines[held]
        pool = np.array([normalized(loss, b.clip, b.best) for loss, _ in evals[held]])
        for kk in range(1, k + 1):
            prior = min([default[j], *(norm[c, j] for c in chosen[:kk])])
            draws = rng.choice(pool, size=(4000, kk)).min(axis=1)
            rand = float(np.minimum(draws, default[j]).mean())
            rows.append((held, kk, 100 * (1 - prior), 100 * (1 - rand)))
    return rows


def _dataset(problem: str) -> str:
    """The data set of a bayesmark problem name (``MODEL_DATASET_METRIC``)."""
    return problem.split("_")[1]


def _print_lopo(rows: list[tuple[str, int, float, float]], k: int, held: str = "problem") -> None:
    print(f"\nleave-one-{held.replace(' ', '')}-out (dev): score of best(default + K configurations), prior vs random")
    for kk in range(1, k + 1):
        sel = [r for r in rows if r[1] == kk]
        diff = np.array([r[2] - r[3] for r in sel])
        print(
            f"K={kk}: prior {np.mean([r[2] for r in sel]):6.1f}  random {np.mean([r[3] for r in sel]):6.1f}"
            f"  diff {diff.mean():+5.1f}  prior better on {int((diff > 0).sum())}/{len(sel)}"
        )
    for r in rows:
        if r[1] == k:
            print(f"  {r[0]:22s} prior {r[2]:6.1f}  random {r[3]:6.1f}")


if __name__ == "__main__":
    main()

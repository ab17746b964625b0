"""The reference values of scoring: a long random search per problem, run once by our code, committed.

For each problem, ``n`` configurations drawn by the ``random`` strategy (seed ``BASELINE_SEED``, which no
benchmark seed uses) are evaluated by the harness. From them:

* ``clip`` = the median validation loss (a failed evaluation counts as +inf, so failures push it up),
* ``best`` = the lowest validation loss,
* ``clip_test`` / ``best_test`` = the same over the held-out losses (validation again for problems
  without a held-out split),
* ``eval_s`` = the mean seconds of one evaluation on the machine that ran it (to plan runs).

They are stored in ``evals/data/baselines.json`` with every command that made entries, the date and machine; ``tunesmith
eval-baselines`` (re)creates the entries of the problems it is given and keeps the others.
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evals.harness import Unit, run_units
from evals.scoring import BASELINES_PATH

BASELINE_SEED = 1_000_003
DEFAULT_EVALS = 512


def baseline_units(problems: Sequence[str], n: int) -> list[Unit]:
    # One round of n: the random strategy ignores history, so this is n independent draws.
    return [Unit(problem=p, contender="random", seed=BASELINE_SEED, budget=n, batch=n) for p in problems]


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """The baseline entry of one problem from its random-search unit."""
    evals = result["evals"]
    val = [math.inf if e["loss"] is None else float(e["loss"]) for e in evals]
    test = [
        v if e["test_loss"] is None or e["loss"] is None else float(e["test_loss"])
        for v, e in zip(val, evals, strict=True)
    ]
    return {
        "n": len(evals),
        "failed": sum(e["loss"] is None for e in evals),
        "clip": statistics.median(val),
        "best": min(val),
        "clip_test": statistics.median(test),
        "best_test": min(test),
        "eval_s": statistics.fmean(float(e["eval_s"]) for e in evals),
    }


def build(
    problems: Sequence[str],
    n: int,
    cache: Path,
    *,
    workers: int,
    command: str,
    path: Path = BASELINES_PATH,
    machine: str | None = None,
    on_done: Callable[[Unit, dict[str, Any], bool], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume from ``cache``) the random searches and merge their entries into ``path``."""
    results = run_units(baseline_units(problems, n), cache, workers=workers, on_done=on_done)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {"problems": {}}
    entries = data["problems"]
    for r in results:
        entry = summarize(r)
        if not all(math.isfinite(entry[k]) for k in ("clip", "best", "clip_test", "best_test")):
            raise RuntimeError(
                f"{r['problem']}: over half of the random configurations failed; the problem "
                "is broken, fix it before scoring against it"
            )
        entries[r["problem"]] = entry
    # Every command that contributed entries is kept, so the whole file can be regenerated.
    commands = [c for c in data.get("commands", [data["command"]] if "command" in data else []) if c != command]
    data.pop("command", None)
    data.update(
        {
            "about": "clip = median and best = minimum of n random-search evaluations per problem "
            "(see evals/baselines.py)",
            "commands": [*commands, command],
            "date": time.strftime("%Y-%m-%d"),
            "machine": machine or platform.platform(),
            "seed": BASELINE_SEED,
            "problems": dict(sorted(entries.items())),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data

"""Time to result, as AlgoPerf scores training methods ("Benchmarking Neural Network Training Algorithms").

For each problem a **target** score: the default configuration's score plus ``fraction`` of the gap between
it and 100 (the reference best of the problem's long random search; see evals/scoring.py). A default at or
above 100 keeps its own score as the target. Without a default evaluation in the run (no contender ran it
first), the target is ``fraction * 100`` (from the median random configuration).

For each unit: the **evaluations** and the **wall time** (ask time of the rounds plus evaluation time,
cumulated in order) until its validation score first reaches the target; never reaching it counts as
infinite.

**Performance profile** (Dolan and Moré, as AlgoPerf uses it): for each (problem, seed, protocol) the fastest
contender's time to target is the reference; a contender's profile at tau is the fraction of those units it
solved within tau times that reference. A curve that rises early and high is fast on many problems; one
that never reaches 1 failed to hit the target somewhere.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.scoring import Baseline, perf_trace, score

FRACTION = 0.5
TAUS = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0]


def targets(
    results: Sequence[Mapping[str, Any]], baselines: Mapping[str, Baseline], fraction: float = FRACTION
) -> dict[str, float]:
    """The target validation score of each problem of ``results`` (module docstring)."""
    defaults: dict[str, float] = {}
    for r in results:
        for e in r["evals"]:
            if e.get("proposer") == "default" and e.get("loss") is not None:
                defaults.setdefault(r["problem"], float(e["loss"]))
    out: dict[str, float] = {}
    for problem in {r["problem"] for r in results}:
        base = baselines[problem]
        if problem in defaults:
            s = score(defaults[problem], base.clip, base.best)
            out[problem] = s if s >= 100 else s + fraction * (100 - s)
        else:
            out[problem] = fraction * 100
    return out


def time_to_target(result: Mapping[str, Any], baseline: Baseline, target: float) -> tuple[int | None, float | None]:
    """(evaluations, seconds) until the unit's validation score first reaches ``target``; (None, None): never."""
    evals = result["evals"]
    batch = int(result["batch"])
    trace = perf_trace(evals, batch)
    asks = list(result.get("ask_s") or [])
    elapsed = 0.0
    for i, e in enumerate(evals):
        if i % batch == 0:
            elapsed += float(asks[i // batch]) if i // batch < len(asks) else 0.0
        elapsed += float(e.get("eval_s") or 0.0)
        if score(trace[i], baseline.clip, baseline.best) >= target - 1e-9:
            return i + 1, elapsed
    return None, None


def ttr_rows(
    results: Sequence[Mapping[str, Any]], baselines: Mapping[str, Baseline], fraction: float = FRACTION
) -> list[dict[str, Any]]:
    """One row per unit: problem, contender, seed, protocol, target, evals and seconds to it (None: never)."""
    goal = targets(results, baselines, fraction)
    rows = []
    for r in results:
        n, s = time_to_target(r, baselines[r["problem"]], goal[r["problem"]])
        rows.append(
            {
                "problem": r["problem"],
                "contender": r["contender"],
                "seed": r["seed"],
                "protocol": r["protocol"],
                "target": goal[r["problem"]],
                "evals": n,
                "seconds": s,
            }
        )
    return rows


def profile(rows: Sequence[Mapping[str, Any]], key: str = "seconds") -> dict[str, list[float]]:
    """``{contender: [fraction of units solved within tau x the fastest, for tau in TAUS]}`` (module docstring)."""
    units: dict[tuple[str, int, str], dict[str, float]] = {}
    for r in rows:
        value = r[key]
        units.setdefault((r["problem"], r["seed"], r["protocol"]), {})[r["contender"]] = (
            math.inf if value is None else max(float(value), 1e-9)
        )
    contenders = sorted({r["contender"] for r in rows})
    out: dict[str, list[float]] = {}
    for c in contenders:
        fractions = []
        for tau in TAUS:
            solved = total = 0
            for by in units.values():
                fastest = min(by.values())
                if c not in by:
                    continue
                total += 1
                solved += math.isfinite(fastest) and by[c] <= tau * fastest
            fractions.append(solved / total if total else 0.0)
        out[c] = fractions
    return out


def ttr_table(rows: Sequence[Mapping[str, Any]], order: Sequence[str], protocol: str) -> str:
    """Markdown: per contender, units that reached the target, and the median evaluations and seconds to it."""
    lines = [
        "| strategy | reached the target | median evaluations to it | median seconds to it |",
        "|---|---:|---:|---:|",
    ]
    for c in order:
        mine = [r for r in rows if r["contender"] == c and r["protocol"] == protocol]
        if not mine:
            continue
        hit = [r for r in mine if r["evals"] is not None]
        evals = f"{statistics.median(r['evals'] for r in hit):.0f}" if hit else "-"
        secs = f"{statistics.median(r['seconds'] for r in hit):.2f}" if hit else "-"
        lines.append(f"| {c} | {len(hit)}/{len(mine)} | {evals} | {secs} |")
    return "\n".join(lines)


def plot_profile(rows: Sequence[Mapping[str, Any]], order: Sequence[str], protocol: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = profile([r for r in rows if r["protocol"] == protocol])
    fig, ax = plt.subplots(figsize=(7, 4))
    for c in order:
        if c in data:
            ax.step(TAUS, data[c], where="post", label=c)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("tau: within this factor of the fastest contender's time to target")
    ax.set_ylabel("fraction of (problem, seed) units")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Performance profile, time to target ({protocol})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


TEXT = (
    "Time to result (AlgoPerf's measure): per problem, the target is the default configuration's score plus "
    f"{int(FRACTION * 100)} % of its gap to 100 (the reference best); a unit's time to it counts evaluations, "
    "and seconds of ask plus evaluation time, until its validation score first reaches it. The performance "
    "profile plots, for each factor tau, the fraction of (problem, seed) units a strategy solved within tau "
    "times the fastest strategy's time on that unit (seconds): high and early is better; below 1 at the right "
    "end means some targets were never reached."
)


def section(
    results: Sequence[Mapping[str, Any]],
    baselines: Mapping[str, Baseline],
    order: Sequence[str],
    out: Path | None,
    protocols: Sequence[str],
) -> str:
    """The report's "Time to result" section (markdown); writes the profile plots under ``out/plots``."""
    rows = ttr_rows(results, baselines)
    parts = ["### Time to result\n", TEXT, ""]
    for protocol in protocols:
        parts += [f"**{protocol}**\n", ttr_table(rows, order, protocol), ""]
        if out is not None:
            plot_profile(rows, order, protocol, out / "plots" / f"profile_{protocol}.png")
            parts.append(f"![performance profile, {protocol}](plots/profile_{protocol}.png)\n")
    return "\n".join(parts)

"""Tables, statistics and plots of an evaluation run: ``scores_frame`` -> ``write_report``.

Writes into the run folder: ``evals.parquet``/``.csv`` (one row per evaluation), ``scores.parquet``/``.csv``
(one row per unit, objective and checkpoint), ``report.md`` and ``plots/*.png``. The statistics pair the
reference contender (the first one given, ``auto`` by default) with each other over (problem, seed) units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evals.scoring import OBJECTIVES, Baseline, unit_scores
from evals.stats import bootstrap_ci, paired

SCORE_NOTE = (
    "A score of 0 is as good as the median random configuration and 100 reaches the best loss a long random "
    "search found (the problem's baseline in evals/data/baselines.json). Above 100 means a loss lower than that "
    "search's best: possible on problems it did not solve, and capped at 200 (bayesmark's clipping)."
)
OBJECTIVE_TITLES = {"val": "validation (what the optimizer saw)", "test": "held-out test (generalization)"}


def checkpoints(budget: int, batch: int) -> list[int]:
    """Evaluation counts at which a unit is scored: every evaluation, or every round's end when batched."""
    if batch <= 1:
        return list(range(1, budget + 1))
    return sorted({min(budget, t * batch) for t in range(1, -(-budget // batch) + 1)})


def evals_frame(results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for r in results:
        for e in r["evals"]:
            rows.append(
                {
                    "problem": r["problem"],
                    "contender": r["contender"],
                    "seed": r["seed"],
                    "protocol": r["protocol"],
                    "n": e["n"] + 1,
                    "round": e["round"],
                    "loss": e["loss"],
                    "test_loss": e["test_loss"],
                    "state": e["state"],
                    "proposer": e["proposer"],
                    "strategy": e["strategy"],
                    "eval_s": e["eval_s"],
                }
            )
    return pd.DataFrame(rows)


def scores_frame(results: Sequence[Mapping[str, Any]], baselines: Mapping[str, Baseline]) -> pd.DataFrame:
    """One row per (unit, objective, checkpoint) with the bayesmark score."""
    rows = []
    for r in results:
        cps = checkpoints(int(r["budget"]), int(r["batch"]))
        per_obj = unit_scores(r, baselines[r["problem"]], cps)
        for objective in OBJECTIVES:
            for n, s in zip(cps, per_obj[objective], strict=True):
                rows.append(
                    {
                        "problem": r["problem"],
                        "contender": r["contender"],
                        "seed": r["seed"],
                        "protocol": r["protocol"],
                        "objective": objective,
                        "evals": n,
                        "score": s,
                        "final": n == cps[-1],
                    }
                )
    return pd.DataFrame(rows)


def units_frame(results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for r in results:
        tokens = r.get("tokens") or {}
        rows.append(
            {
                "problem": r["problem"],
                "contender": r["contender"],
                "seed": r["seed"],
                "protocol": r["protocol"],
                "evaluations": len(r["evals"]),
                "failed": sum(e["state"] != "complete" for e in r["evals"]),
                "invalid": r.get("invalid", 0),
                "ask_s": sum(r["ask_s"]),
                "eval_s": sum(e["eval_s"] for e in r["evals"]),
                "wall_s": r["wall_s"],
                "tokens": tokens.get("prompt", 0) + tokens.get("completion", 0) if tokens else None,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------- tables
def _fmt(x: float, digits: int = 1) -> str:
    return "n/a" if pd.isna(x) else f"{x:.{digits}f}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def final_scores(scores: pd.DataFrame, protocol: str, objective: str) -> pd.DataFrame:
    """(problem, seed) x contender table of final scores."""
    sub = scores[(scores.protocol == protocol) & (scores.objective == objective) & scores.final]
    return sub.pivot_table(index=["problem", "seed"], columns="contender", values="score")


def summary_table(wide: pd.DataFrame, order: Sequence[str]) -> tuple[str, dict[str, float]]:
    rows, means = [], {}
    for c in sorted((c for c in order if c in wide), key=lambda c: -wide[c].mean()):
        col = wide[c].dropna()
        lo, hi = bootstrap_ci(col.to_numpy())
        means[c] = float(col.mean())
        rows.append([c, _fmt(col.mean()), f"[{_fmt(lo)}, {_fmt(hi)}]", _fmt(col.median()), str(col.size)])
    return _md_table(["strategy", "mean score", "95% bootstrap CI", "median", "units"], rows), means


#: the significance level the report's wording assumes
ALPHA = 0.05


def min_p_value(differing: int) -> float:
    """The smallest two-sided p-value an exact Wilcoxon signed-rank test can give with ``differing`` non-tied
    pairs (every pair favouring one side): ``2 / 2**n``. Below 6 pairs it is above 0.05."""
    return min(1.0, 2.0 / 2**differing) if differing > 0 else 1.0


def paired_table(wide: pd.DataFrame, reference: str, order: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The paired comparisons as a table; a warning line follows for each pair with too few differing units
    to ever reach p < 0.05, whatever the scores."""
    rows, out, warnings = [], {}, []
    for c in order:
        if c == reference or c not in wide or reference not in wide:
            continue
        both = wide[[reference, c]].dropna()
        p = paired(both[reference].to_numpy(), both[c].to_numpy())
        out[c] = p
        rows.append(
            [
                f"{reference} vs {c}",
                f"{p.wins}/{p.ties}/{p.losses}",
                _fmt(100 * p.win_rate) + " %",
                f"{p.mean_diff:+.2f}",
                f"{p.p_value:.3g}",
            ]
        )
        differing = p.wins + p.losses
        if min_p_value(differing) > ALPHA:
            warnings.append(
                f"Warning: {reference} vs {c} has only {differing} unit(s) that differ; the Wilcoxon test cannot "
                f"reach p < {ALPHA:g} with fewer than 6 whatever the scores (its smallest p here is "
                f"{min_p_value(differing):.3g}). Run more seeds or problems before reading a winner."
            )
    header = ["pair", "win/tie/loss", "win rate (a tie counts half)", "mean score difference", "Wilcoxon p"]
    table = _md_table(header, rows)
    return ("\n\n".join([table, *warnings]) if warnings else table), out


def per_problem_table(scores: pd.DataFrame, protocol: str, order: Sequence[str]) -> str:
    sub = scores[(scores.protocol == protocol) & (scores.objective == "val") & scores.final]
    table = sub.pivot_table(index="problem", columns="contender", values="score", aggfunc="mean")
    cols = [c for c in order if c in table]
    rows = [[p, *(_fmt(table.loc[p, c]) for c in cols)] for p in table.index]
    return _md_table(["problem", *cols], rows)


ANYTIME = (2, 5, 10, 20, 30)


def anytime_table(scores: pd.DataFrame, protocol: str, order: Sequence[str], objective: str = "val") -> str:
    """Mean score after 2, 5, 10, 20 and 30 evaluations (the last checkpoint at or before each), per contender:
    where an LLM's prior knowledge shows, it shows early."""
    sub = scores[(scores.protocol == protocol) & (scores.objective == objective)]
    points = [n for n in ANYTIME if n <= sub.evals.max()] if len(sub) else []
    rows = []
    for c in order:
        g = sub[sub.contender == c]
        if g.empty:
            continue
        cells = []
        for n in points:
            at = g[g.evals <= n]
            if at.empty:
                cells.append("-")
                continue
            last = at[at.evals == at.evals.max()]
            cells.append(_fmt(last.score.mean()))
        rows.append([str(c), *cells])
    return _md_table(["strategy", *[f"{n} evals" for n in points]], rows)


def agent_table(results: Sequence[Mapping[str, Any]], order: Sequence[str]) -> str:
    """For contenders that used an LLM: tokens and USD per study, the LLM's share of the evaluations, and how
    many evaluations of each proposer improved the study's best (in evaluation order)."""
    rows = []
    for c in order:
        runs = [r for r in results if r["contender"] == c and r.get("tokens")]
        if not runs:
            continue
        tokens = [r["tokens"]["prompt"] + r["tokens"]["completion"] for r in runs]
        costs = [r.get("cost") or {} for r in runs]
        known = all(x.get("known", False) for x in costs)
        usd = sum(float(x.get("usd", 0.0)) for x in costs) / len(runs)
        n_llm = n_all = 0
        improved: dict[str, int] = {}
        for r in runs:
            best = None
            for e in r["evals"]:
                who = e["proposer"]
                n_all += 1
                n_llm += who == "llm"
                if e["state"] == "complete" and (best is None or e["loss"] < best):
                    if best is not None:
                        improved[who] = improved.get(who, 0) + 1
                    best = e["loss"]
        models = sorted({str(x.get("model")) for x in costs if x.get("model")})
        rows.append(
            [
                str(c),
                ", ".join(models) or "-",
                f"{sum(tokens) / len(runs):.0f}",
                f"${usd:.4f}" if known else "unknown (no price)",
                f"{n_llm / max(1, n_all):.0%}",
                ", ".join(f"{k} {v}" for k, v in sorted(improved.items())) or "-",
            ]
        )
    return _md_table(
        ["strategy", "model", "tokens / study", "USD / study", "LLM share of evals", "improvements of the best by"],
        rows,
    )


def cost_table(units: pd.DataFrame, order: Sequence[str]) -> str:
    """Mean cost per unit by protocol and contender; "ask s / round" is the proposer's time per round of the
    protocol ("16x8": 16 rounds of 8), what a user waits between batches for the strategy alone."""
    rows = []
    for (protocol, c), g in units.groupby(["protocol", "contender"]):
        if c not in order:
            continue
        tokens = g["tokens"].dropna()
        rounds = int(str(protocol).split("x")[0])
        rows.append(
            [
                protocol,
                str(c),
                _fmt(g["ask_s"].mean(), 2),
                _fmt(g["ask_s"].mean() / rounds, 3),
                _fmt(g["eval_s"].mean(), 1),
                _fmt(g["failed"].mean(), 2),
                str(int(tokens.sum())) if len(tokens) else "-",
            ]
        )
    header = ["protocol", "strategy", "ask s / unit", "ask s / round", "eval s / unit", "failed evals / unit", "tokens"]
    return _md_table(header, rows)


# ------------------------------------------------------------------------- plots
def plot_curves(scores: pd.DataFrame, protocol: str, order: Sequence[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, objective in zip(axes, OBJECTIVES, strict=True):
        sub = scores[(scores.protocol == protocol) & (scores.objective == objective)]
        for i, c in enumerate(order):
            g = sub[sub.contender == c].groupby("evals")["score"].mean()
            if len(g):
                # ten colours, then dashed: more than ten contenders (a combined table) stay distinguishable
                style = {"color": f"C{i % 10}", "linestyle": ("-", "--", ":")[i // 10 % 3]}
                ax.plot(g.index, g.to_numpy(), label=c, marker="." if len(g) < 40 else None, **style)
        ax.set_title(f"{protocol}: {objective}")
        ax.set_xlabel("evaluations")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean score")
    fig.suptitle("score: 0 = median random configuration, 100 = best of the long random search", fontsize=9)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_heatmap(scores: pd.DataFrame, protocol: str, order: Sequence[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = scores[(scores.protocol == protocol) & (scores.objective == "val") & scores.final]
    table = sub.pivot_table(index="problem", columns="contender", values="score", aggfunc="mean")
    table = table[[c for c in order if c in table]]
    fig, ax = plt.subplots(figsize=(1.1 * len(table.columns) + 3, 0.32 * len(table) + 1.5))
    values = table.to_numpy()
    top = max(100.0, float(table.max().max()))
    im = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0, vmax=top)
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(table.index)), table.index, fontsize=7)
    for i in range(len(table.index)):
        for j in range(len(table.columns)):
            v = table.iat[i, j]
            if not pd.isna(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6, color="w" if v < 60 else "k")
    fig.colorbar(im, ax=ax, label="mean score")
    ax.set_title(f"final validation score, {protocol}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------- report
def write_report(
    results: Sequence[Mapping[str, Any]],
    baselines: Mapping[str, Baseline],
    out: Path,
    *,
    order: Sequence[str],
    header: str = "",
    plots: bool = True,
) -> dict[str, Any]:
    """Write the data files, the plots and ``report.md``; returns the headline numbers (and ``markdown``)."""
    scores = scores_frame(results, baselines)
    units = units_frame(results)
    evals = evals_frame(results)
    for name, frame in (("evals", evals), ("scores", scores), ("units", units)):
        frame.to_csv(out / f"{name}.csv", index=False)
        frame.to_parquet(out / f"{name}.parquet", index=False)
    reference = order[0]
    parts = [header] if header else []
    summary: dict[str, Any] = {"protocols": {}}
    (out / "plots").mkdir(exist_ok=True)
    for protocol in sorted(scores.protocol.unique(), key=lambda p: int(p.split("x")[1])):
        parts.append(f"### Protocol {protocol} (rounds x batch)\n")
        proto_summary: dict[str, Any] = {}
        for objective in OBJECTIVES:
            wide = final_scores(scores, protocol, objective)
            table, means = summary_table(wide, order)
            ptable, pairs = paired_table(wide, reference, order)
            proto_summary[objective] = {"means": means, "pairs": pairs}
            parts += [
                f"**Final score, {OBJECTIVE_TITLES[objective]}**\n",
                SCORE_NOTE,
                "",
                table,
                "",
                f"Paired over (problem, seed) units, {reference} against each:\n",
                ptable,
                "",
            ]
        summary["protocols"][protocol] = proto_summary
        if plots:
            plot_curves(scores, protocol, order, out / "plots" / f"score_vs_evals_{protocol}.png")
            plot_heatmap(scores, protocol, order, out / "plots" / f"heatmap_{protocol}.png")
            parts += [
                f"![score vs evaluations, {protocol}](plots/score_vs_evals_{protocol}.png)\n",
                f"![per-problem scores, {protocol}](plots/heatmap_{protocol}.png)\n",
            ]
        parts += [
            f"**Mean validation score after n evaluations, {protocol}** (the default's share of the gain shows "
            "early; a score is clipped at the median random configuration)\n",
            anytime_table(scores, protocol, order),
            "",
        ]
        parts += [
            f"<details><summary>Per-problem mean final validation score, {protocol}</summary>\n",
            per_problem_table(scores, protocol, order),
            "\n</details>\n",
        ]
    parts += ["### Cost\n", cost_table(units, order), ""]
    if any(r.get("tokens") for r in results):
        parts += ["### The LLM agent\n", agent_table(results, order), ""]
    from evals.ttr import section as ttr_section

    protocols = sorted(scores.protocol.unique(), key=lambda p: int(p.split("x")[1]))
    parts += [ttr_section(results, baselines, order, out if plots else None, protocols), ""]
    markdown = "\n".join(parts)
    (out / "report.md").write_text(markdown + "\n", encoding="utf-8")
    summary["markdown"] = markdown
    return summary

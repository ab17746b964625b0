"""Population Based Training against ASHA and plain search at equal compute (epochs trained).

Two tasks: the PyTorch example (``examples/torch-mlp``: digits MLP, 20 epochs, val_acc) and a training where
a learning-rate schedule matters (``scripts/schedule_task.py``: SGD on a noisy linear regression, 20 epochs,
val_loss). Per task and seed, three studies from the same seeded random strategy (so their first
configurations are the same):

- **plain**: ``P`` trials trained to the end (``P`` x 20 epochs, the compute budget);
- **ASHA**: ``pruner: {type: asha, min_resource: 2, reduction_factor: 3}``, new trials launched until the
  epochs reported reach the budget (running trials finish, so it may end slightly above);
- **PBT**: ``scheduler: {type: pbt, population: P, interval: I, mutable: [...]}``.

Epochs = reports received, summed over trials (a PBT segment that continues at a checkpoint trains only the
epochs after it). Best = the best complete trial. Prints a markdown table (and writes nothing).

    python scripts/bench_pbt.py --seeds 3 --workers 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine  # noqa: E402

ASHA = {"type": "asha", "min_resource": 2, "reduction_factor": 3}
EPOCHS = 20


def task_spec(task: str) -> tuple[dict[str, Any], list[str]]:
    """The spec of ``task`` (without scheduler or pruner) and its mutable params."""
    from agent.core.spec import load_spec

    if task == "torch-mlp":
        data = load_spec(ROOT / "examples" / "torch-mlp" / "spec.yaml").to_dict()
        data.pop("default", None)
        return data, ["lr", "weight_decay", "dropout"]
    data = {
        "name": "schedule",
        "objective": {"metric": "val_loss", "direction": "minimize"},
        "command": ["python", "scripts/schedule_task.py"],
        "workdir": str(ROOT),
        "space": {"lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True}},
        "fixed": {"epochs": EPOCHS, "steps": 100, "pause": 0.1},
    }
    return data, ["lr"]


class EpochCap:
    """Observer: once the trials have reported ``budget`` epochs, no new trial is launched."""

    def __init__(self, session: Any, budget: int) -> None:
        self.session, self.budget, self.capped = session, budget, False

    def __call__(self, event: Any) -> None:
        from agent.core.records import EventKind

        if self.capped or event.kind not in (EventKind.TRIAL_FINISHED, EventKind.TRIAL_STARTED):
            return
        trials = self.session.trials()
        if sum(len(self.session.metrics(t.number)) for t in trials) >= self.budget:
            engine = self.session.engine
            budget = engine.spec.budget.model_copy(update={"max_trials": len(trials)})
            engine.set_budget(budget, rationale="the epoch budget is spent", source="bench")
            self.capped = True


def run_arm(task: str, arm: str, seed: int, population: int, interval: int, workers: int, root: Path) -> dict[str, Any]:
    from agent.core.records import TrialState
    from agent.core.spec import load_spec
    from agent.study.session import Session

    data, mutable = task_spec(task)
    data.update(seed=seed, workers=workers, threads_per_trial=1, strategy="random")
    budget = population * EPOCHS
    data["budget"] = {**data.get("budget", {}), "max_trials": population if arm != "asha" else 10 * population}
    if arm == "asha":
        data["pruner"] = ASHA
    if arm == "pbt":
        data["scheduler"] = {
            "type": "pbt",
            "population": population,
            "interval": interval,
            "mutable": mutable,
            "max_step": EPOCHS,
        }
    session = Session.create(load_spec(data), root / f"{task}-{arm}-{seed}")
    observers = [EpochCap(session, budget)] if arm == "asha" else []
    t0 = time.perf_counter()
    session.run(observers=observers)
    wall = time.perf_counter() - t0
    trials = session.trials()
    epochs = sum(len(session.metrics(t.number)) for t in trials)
    best = session.best()
    out: dict[str, Any] = {
        "epochs": float(epochs),
        "best": best.value if best and best.value is not None else float("nan"),
        "trials": float(len(trials)),
        "pruned": float(sum(t.state is TrialState.PRUNED for t in trials)),
        "wall": wall,
        "schedule": "",
    }
    if arm == "pbt" and best is not None:
        from agent.faces.lineage import schedule

        name = mutable[0]
        stretches = schedule(best, trials, session.metrics, session.spec.metric)
        out["schedule"] = " → ".join(f"{s.params[name]:.3g} ({s.first}-{s.last})" for s in stretches)
    session.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="schedule,torch-mlp")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--population", type=int, default=8)
    ap.add_argument("--interval", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    load_start = os.getloadavg()[0]
    arms = ("plain", "asha", "pbt")
    results: dict[tuple[str, str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks.split(","):
            for seed in range(args.seeds):
                for arm in arms:
                    r = run_arm(task, arm, seed, args.population, args.interval, args.workers, Path(tmp))
                    results[(task, arm, seed)] = r
                    print(f"{task} seed {seed} {arm}: {r}", flush=True)
    lines = []
    for task in args.tasks.split(","):
        metric = "val_acc (max)" if task == "torch-mlp" else "val_loss (min)"
        lines += [
            f"**{task}** ({metric}; budget {args.population} x {EPOCHS} = {args.population * EPOCHS} epochs)",
            "",
            "| seed | best plain | best ASHA | best PBT | epochs plain / ASHA / PBT | trials ASHA (pruned) | "
            "PBT segments | wall plain / ASHA / PBT |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for seed in range(args.seeds):
            p, a, b = (results[(task, arm, seed)] for arm in arms)
            lines.append(
                f"| {seed} | {p['best']:.4f} | {a['best']:.4f} | {b['best']:.4f} "
                f"| {p['epochs']:.0f} / {a['epochs']:.0f} / {b['epochs']:.0f} | {a['trials']:.0f} ({a['pruned']:.0f}) "
                f"| {b['trials']:.0f} | {p['wall']:.0f} / {a['wall']:.0f} / {b['wall']:.0f} s |"
            )
        means = [statistics.mean(results[(task, arm, s)]["best"] for s in range(args.seeds)) for arm in arms]
        lines += ["", f"Mean best: plain {means[0]:.4f}, ASHA {means[1]:.4f}, PBT {means[2]:.4f}.", ""]
        name = task_spec(task)[1][0]
        lines += [f"The {name} schedule (epochs) behind PBT's best:", ""]
        lines += [f"- seed {seed}: {results[(task, 'pbt', seed)]['schedule']}" for seed in range(args.seeds)] + [""]
    print(
        f"\nCommand: `python scripts/bench_pbt.py --tasks {args.tasks} --seeds {args.seeds} --population "
        f"{args.population} --interval {args.interval} --workers {args.workers}`, {time.strftime('%Y-%m-%d')}, "
        f"{machine()}; 1-minute load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at the end.\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

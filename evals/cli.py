"""``tunesmith eval`` and ``tunesmith eval-baselines``: registered on agent's typer app by ``tunesmith.cli``.

(agent/ must not import evals/, so the commands are added from the facade package, which may.)
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from agent.errors import TunesmithError

err = Console(stderr=True, highlight=False, soft_wrap=True)  # one-line errors stay one line (and copyable)
out = Console(highlight=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _csv(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(t) for t in _csv(text)]
    except ValueError:
        raise TunesmithError(f"{what} must be integers separated by commas, e.g. 30,128; got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise TunesmithError(f"{what} must be >= 1; got {text!r}")
    return values


def select_problems(suite: str, problems: str | None, split: str | None) -> list[str]:
    """The problems a command runs: ``--problems`` (checked) or the suite's, then filtered by ``--split``."""
    from evals.problems import get_problem, suite_problems
    from evals.split import select

    names = _csv(problems) or suite_problems(suite)
    for name in names:
        get_problem(name)  # unknown names fail here, with a hint
    if split is not None:
        names = select(names, split)
        if not names:
            raise TunesmithError(f"none of the selected problems is in the {split} split; see 'tunesmith eval --list'")
    return names


def protocols(budget: str, batch: str) -> list[tuple[int, int]]:
    """(budget, batch) pairs from the comma lists of ``--budget`` and ``--batch``: one batch per budget, or a
    single batch for all of them. One budget with several batches (``--budget 30`` with the default
    ``--batch 1,8``) takes the first batch, as the default pairs it with the first budget."""
    budgets, batches = _ints(budget, "--budget"), _ints(batch, "--batch")
    if len(budgets) == 1 and len(batches) > 1:
        batches = batches[:1]
    if len(batches) == 1:
        batches = batches * len(budgets)
    if len(budgets) != len(batches):
        raise TunesmithError(
            f"--budget lists {len(budgets)} values and --batch {len(batches)}; give one batch per "
            "budget (e.g. --budget 30,128 --batch 1,8) or a single batch"
        )
    for b, k in zip(budgets, batches, strict=True):
        if k > b:
            raise TunesmithError(f"--batch {k} is larger than --budget {b}; a batch must fit in the budget")
    return list(zip(budgets, batches, strict=True))


def _progress() -> Progress:
    # The bar advances by expected cost (so the ETA is not skewed by cheap units); the count is of units.
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]}/{task.fields[units]} units"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _unit_counter(progress: Progress, name: str, total: float, units: int) -> Callable[[float], None]:
    """A task on ``progress``; the returned ``tick(cost)`` marks one more unit done, advancing the bar by cost."""
    task = progress.add_task(name, total=total, done=0, units=units)
    done = [0]

    def tick(cost: float) -> None:
        done[0] += 1
        progress.update(task, advance=cost, done=done[0])

    return tick


def list_problems() -> None:
    import json

    from rich.table import Table

    from evals.problems import SUITES, get_problem
    from evals.scoring import BASELINES_PATH
    from evals.split import split_of

    try:
        base = json.loads(BASELINES_PATH.read_text(encoding="utf-8"))["problems"]
    except FileNotFoundError:
        base = {}
    split = split_of()
    table = Table(title="benchmark problems")
    for col in ("problem", "family", "group", "split", "dims", "baseline", "eval s"):
        table.add_column(col)
    for name in SUITES["all"]:
        p = get_problem(name)
        b = base.get(name)
        table.add_row(
            name,
            p.family,
            p.group,
            split[name],
            str(len(p.space)),
            "yes" if b else "-",
            f"{b['eval_s']:.2f}" if b else "",
        )
    out.print(table)
    out.print("suites: " + ", ".join(f"{k} ({len(v)})" for k, v in SUITES.items()))


_Out = Annotated[Path | None, typer.Option("--out", help="run folder: cache, results, report.md")]
_Problems = Annotated[str | None, typer.Option("--problems", help="comma-separated names (default: the suite)")]
_Strategies = Annotated[
    str | None,
    typer.Option(
        "--strategies",
        help="comma-separated; the first is the reference (default: auto,tpe,gp,cmaes,qmc,random,"
        "default,random+default)",
    ),
]
_Budget = Annotated[str, typer.Option("--budget", help="evaluations per study; a list runs several protocols")]
_Baselines = Annotated[Path | None, typer.Option("--baselines", help="baselines JSON (default: the committed one)")]
_List = Annotated[bool, typer.Option("--list", help="list the problems, their split and baselines, and exit")]


def eval_command(
    out_dir: _Out = None,
    suite: Annotated[str, typer.Option("--suite", help="bayesmark | synthetic | torch | all")] = "bayesmark",
    problems: _Problems = None,
    split: Annotated[str | None, typer.Option("--split", help="dev | test (see evals/split.py)")] = None,
    strategies: _Strategies = None,
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="seeds 0..N-1 per problem and protocol")] = 5,
    first_seed: Annotated[
        int,
        typer.Option(
            "--first-seed",
            min=0,
            help="start the seeds here (seeds F..F+N-1): add seeds to an earlier run, or split one across machines",
        ),
    ] = 0,
    budget: _Budget = "30,128",
    batch: Annotated[str, typer.Option("--batch", help="evaluations per round, one per budget")] = "1,8",
    workers: Annotated[int, typer.Option("--workers", help="worker processes")] = 1,
    baselines: _Baselines = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="skip the PNG plots")] = False,
    list_: _List = False,
    model: Annotated[
        str | None, typer.Option("--model", help="the LLM of the 'agent' contender (endpoint: OPENAI_BASE_URL)")
    ] = None,
) -> None:
    """Benchmark strategies on a suite: resumable, parallel; writes results and a report with plots."""
    if list_:
        list_problems()
        return
    if model:
        import os

        os.environ["TUNESMITH_MODEL"] = model  # read by the agent contender, in this process and its workers
    from evals.harness import UnitFailed

    try:
        if out_dir is None:
            raise TunesmithError("--out DIR is required: the folder for the cache, results and report")
        summary = run_eval(
            out_dir=out_dir,
            suite=suite,
            problems=problems,
            split=split,
            strategies=strategies,
            seeds=seeds,
            first_seed=first_seed,
            budget=budget,
            batch=batch,
            workers=workers,
            baselines=baselines,
            plots=not no_plots,
        )
    except TunesmithError as exc:
        raise _fail(str(exc)) from None
    except UnitFailed as exc:  # a strategy's own bug: one line, and the finished units stay cached
        raise _fail(
            f"{exc}; the finished units are kept in {out_dir}: drop that strategy (--strategies) or fix it, then "
            "run the same command again to resume"
        ) from None
    except KeyboardInterrupt:
        err.print(f"interrupted; finished units are kept. Run the same command again to resume ({out_dir}).")
        raise typer.Exit(130) from None
    out.print(f"wrote {out_dir}/report.md")
    for protocol, info in summary["protocols"].items():
        means = info["val"]["means"]
        out.print(f"{protocol}: " + ", ".join(f"{c} {m:.1f}" for c, m in sorted(means.items(), key=lambda x: -x[1])))


def run_eval(
    *,
    out_dir: Path,
    suite: str,
    problems: str | None,
    split: str | None,
    strategies: str | None,
    seeds: int,
    budget: str,
    batch: str,
    workers: int,
    baselines: Path | None,
    plots: bool = True,
    first_seed: int = 0,
) -> dict[str, Any]:
    """What ``tunesmith eval`` does, callable from Python; returns ``report.write_report``'s summary.

    Seeds ``first_seed .. first_seed + seeds - 1`` run per problem and protocol; a unit's seed is its identity
    in the cache, so runs over disjoint seed ranges combine (``scripts/combine_runs.py``) into one paired table.
    """
    from evals.contenders import DEFAULT_CONTENDERS, get_contender
    from evals.harness import Unit, run_units
    from evals.report import write_report
    from evals.scoring import BASELINES_PATH, load_baselines

    names = select_problems(suite, problems, split)
    contenders = _csv(strategies) or list(DEFAULT_CONTENDERS)
    for c in contenders:
        get_contender(c)
    protos = protocols(budget, batch)
    base_path = baselines or BASELINES_PATH
    base = load_baselines(base_path)
    missing = [n for n in names if n not in base]
    if missing:
        raise TunesmithError(
            f"no baseline for {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} in "
            f"{base_path}; create them with: tunesmith eval-baselines --problems {','.join(missing)}"
        )
    if workers < 1:
        raise TunesmithError(f"--workers must be >= 1, got {workers}")
    if seeds < 1 or first_seed < 0:
        raise TunesmithError(f"--seeds must be >= 1 and --first-seed >= 0, got {seeds} and {first_seed}")
    seed_range = range(first_seed, first_seed + seeds)
    units = [Unit(p, c, s, b, k) for b, k in protos for p in names for s in seed_range for c in contenders]
    weights = _weights(units, base_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _progress() as progress:
        tick = _unit_counter(progress, "eval", sum(weights.values()), len(units))
        results = run_units(units, out_dir, workers=workers, on_done=lambda u, r, c: tick(weights[u]))
    command = "tunesmith " + shlex.join(sys.argv[1:]) if sys.argv and "tunesmith" in sys.argv[0] else "(Python API)"
    header = (
        f"Command: `{command}`  \nDate: {time.strftime('%Y-%m-%d')}, machine: {machine_line()}  \n"
        f"Problems ({len(names)}): {', '.join(names)}  \n"
        f"Seeds: {seeds} ({seed_range[0]}..{seed_range[-1]}); protocols: "
        f"{', '.join(f'{-(-b // k)}x{k}' for b, k in protos)}; strategies: {', '.join(contenders)}\n"
    )
    return write_report(results, base, out_dir, order=contenders, header=header, plots=plots)


def _weights(units: list[Any], base_path: Path) -> dict[Any, float]:
    """Expected cost of each unit (evaluations x seconds per evaluation), so the ETA is not skewed by cheap units."""
    import json

    per_eval = {n: b.get("eval_s", 1.0) for n, b in json.loads(base_path.read_text())["problems"].items()}
    return {u: max(0.05, u.budget * per_eval.get(u.problem, 1.0)) + 0.05 * u.budget for u in units}


def baselines_command(
    suite: Annotated[str, typer.Option("--suite")] = "all",
    problems: Annotated[str | None, typer.Option("--problems", help="comma-separated names")] = None,
    split: Annotated[str | None, typer.Option("--split", help="dev | test")] = None,
    evals: Annotated[int, typer.Option("--evals", min=2, help="random evaluations per problem")] = 512,
    workers: Annotated[int, typer.Option("--workers", min=1)] = 1,
    cache: Annotated[Path, typer.Option("--cache", help="resumable unit cache")] = Path("runs/baselines"),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="baselines JSON to update")] = None,
) -> None:
    """(Re)create the scoring baselines (long random search) of the given problems; others are kept."""
    from evals.baselines import build
    from evals.scoring import BASELINES_PATH

    try:
        names = select_problems(suite, problems, split)
        command = "tunesmith eval-baselines " + shlex.join(sys.argv[2:])
        with _progress() as progress:
            tick = _unit_counter(progress, "baselines", len(names), len(names))
            build(
                names,
                evals,
                cache,
                workers=workers,
                command=command,
                path=output or BASELINES_PATH,
                machine=machine_line(),
                on_done=lambda u, r, c: tick(1),
            )
    except TunesmithError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        err.print("interrupted; finished problems are cached. Run the same command again to resume.")
        raise typer.Exit(130) from None
    out.print(f"wrote {output or BASELINES_PATH} ({len(names)} problems)")


def machine_line() -> str:
    """CPU model, cores and Python version, in one line (scripts/benchlib.machine uses it too)."""
    import os
    import platform

    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def register(app: typer.Typer) -> None:
    """Add the eval commands to ``app`` (agent's CLI)."""
    app.command("eval")(eval_command)
    app.command("eval-baselines")(baselines_command)

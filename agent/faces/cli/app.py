"""``tunesmith`` commands: tune, resume, status, best, show, export.

Every ``TunesmithError`` becomes one line on stderr and exit status 2; Ctrl-C leaves the study
resumable and exits 130. Other product surfaces register their commands here too (chat, serve, eval).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.errors import TunesmithError
from agent.faces.cli.scale import ExecutorOpt, RayAddressOpt, apply_executor_choice, executor_choice
from agent.faces.format import fmt_params, fmt_value
from agent.faces.live import run_live
from agent.study.proposers import Proposer
from agent.study.session import Session

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="tunesmith: hyperparameter tuning that explains itself. See README.md.",
)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages never wrap: paths stay copyable
out = Console(highlight=False, soft_wrap=True)

DirArg = Annotated[Path, typer.Argument(help="a study folder (holds study.db)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
IsolationOpt = Annotated[str | None, typer.Option("--isolation", help="process|strict (bubblewrap sandbox)")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # one line, however long
    return typer.Exit(code)


def run_session(session: Session, *, quiet: bool, as_json: bool, proposer: Proposer | None = None) -> None:
    """Run with the live display (``faces.live.run_live``); Ctrl-C exits 130, the study resumable."""
    try:
        run_live(session, quiet=quiet, as_json=as_json, proposer=proposer, out=out, err=err)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command()
def tune(
    spec: Annotated[
        str | None, typer.Argument(help="a spec file (.yaml/.toml/.json) or a request in plain words (needs an LLM)")
    ] = None,
    dir: Annotated[Path | None, typer.Option("--dir", help="study folder (default: studies/NAME-TIME)")] = None,
    trials: Annotated[int | None, typer.Option("--trials", help="max trials (overrides the spec)")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="trials in parallel")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="auto|random|qmc|tpe|gp|cmaes")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    isolation: IsolationOpt = None,
    network: Annotated[bool | None, typer.Option("--network/--no-network", help="strict: allow network")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="only the summary")] = False,
    as_json: JsonOpt = False,
    model: Annotated[str | None, typer.Option("--model", help="LLM to use (OpenAI-compatible; see README)")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="approve the drafted spec and space edits")] = False,
    replay: Annotated[
        Path | None, typer.Option("--replay", help="re-run a study offline from its LLM recording")
    ] = None,
    executor: ExecutorOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Tune from a spec file (classical, no LLM needed) or from a request in plain words (with an LLM)."""
    from agent.core.spec import load_spec

    try:
        choice = executor_choice(executor, ray_address)
        overrides: dict[str, Any] = {
            "max_trials": trials,
            "workers": workers,
            "strategy": strategy,
            "seed": seed,
            "isolation": isolation,
            "network": network,
        }
        path = Path(spec) if spec else None
        is_file = path is not None and path.is_file()
        if spec is None and replay is None:
            raise TunesmithError(
                "give a spec file or a request in plain words, e.g. tunesmith tune examples/sklearn-digits/spec.yaml"
            )
        if spec is not None and not is_file and (" " not in spec.strip() or _looks_like_a_file(spec)):
            raise TunesmithError(_not_a_spec_message(spec))
        loaded = load_spec(path) if is_file and path is not None else None
        if loaded is None or loaded.llm is not None or model is not None or replay is not None:
            from agent.faces.cli.llm_tune import tune_with_llm

            tune_with_llm(
                None if is_file else spec,
                loaded,
                dir=dir,
                overrides=overrides,
                model=model,
                yes=yes,
                replay=replay,
                quiet=quiet,
                as_json=as_json,
                executor=choice,
            )
            return
        assert loaded is not None
        if any(v is not None for v in overrides.values()):
            data = loaded.to_dict()
            for k, v in overrides.items():
                if v is not None:
                    (data.setdefault("budget", {}) if k == "max_trials" else data)[k] = v
            loaded = load_spec(data)
        from agent.study.wiring import preflight

        preflight(loaded, choice)  # a study that cannot start leaves no folder behind
        session = Session.create(loaded, dir)
        apply_executor_choice(session, choice)
        run_session(session, quiet=quiet, as_json=as_json)
    except TunesmithError as exc:
        raise fail(str(exc)) from None


def _looks_like_a_file(text: str) -> bool:
    return text.strip().lower().endswith((".yaml", ".yml", ".toml", ".json"))  # "my spec.yaml" is no request


def _not_a_spec_message(text: str) -> str:
    return f"spec file {text} does not exist; check the path (e.g. examples/sklearn-digits/spec.yaml)"


@app.command()
def resume(
    dir: DirArg,
    trials: Annotated[int | None, typer.Option("--trials", help="raise the trial budget to this total")] = None,
    isolation: IsolationOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    as_json: JsonOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="approve the LLM's space edits")] = False,
    executor: ExecutorOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Continue a study: interrupted trials are re-run once, then the budget is finished."""
    try:
        choice = executor_choice(executor, ray_address)
        session = Session.open(dir)
        apply_executor_choice(session, choice)
        done = sum(1 for t in session.trials() if t.state.counts)
        if trials is not None and trials <= done:  # --trials is the new total, not a number of extra trials
            raise TunesmithError(
                f"--trials {trials} is the new total budget, and {done} trials are already done; "
                f"pass more than {done} (e.g. --trials {done + trials} for {trials} more)"
            )
        if trials is not None or isolation is not None:
            session.update_spec(max_trials=trials, isolation=isolation)
        proposer = None
        if session.spec.llm is not None:  # the study used an LLM: use it again if one is configured
            from agent.faces.cli.llm_tune import resume_proposer

            proposer = resume_proposer(session, yes=yes)
        run_session(session, quiet=quiet, as_json=as_json, proposer=proposer)
    except TunesmithError as exc:
        raise fail(str(exc)) from None


@app.command()
def status(dir: DirArg, as_json: JsonOpt = False) -> None:
    """Progress, states, best trial and fallbacks of a study (safe while it runs)."""
    try:
        info = Session.open(dir, readonly=True).status()
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
        return
    states = ", ".join(f"{k} {v}" for k, v in info["states"].items() if v)
    out.print(f"[bold]{escape(info['dir'])}[/]  {info['status']}")
    if info["status"] == "interrupted":
        out.print(f"[yellow]no process is running it now[/]; continue with: tunesmith resume {escape(info['dir'])}")
    out.print(f"trials {info['done']}/{info['budget'] or '∞'}  ({states or 'none yet'})")
    out.print(
        "proposed by "
        + (", ".join(f"{k} {v}" for k, v in info["proposers"].items()) or "-")
        + f"; fallbacks {info['fallbacks']}"
        + (f" (last: {escape(str(info['last_fallback']))})" if info.get("last_fallback") else "")
    )
    best = info["best"]
    if best:
        out.print(
            f"best #{best['trial']} {info['metric']}={fmt_value(best['value'])} ({info['direction']})  "
            f"{escape(fmt_params(best['params'], 200))}"
        )
    usage = info.get("usage")
    if usage:
        unpriced = "" if usage.get("cost_known", True) else " (no price for this model; add one under llm.prices)"
        out.print(f"LLM usage: {usage.get('total_tokens', 0)} tokens, ${usage.get('cost', 0.0):.4f}{unpriced}")


@app.command()
def best(dir: DirArg, as_json: JsonOpt = False) -> None:
    """The best trial: value, params, trial number."""
    try:
        session = Session.open(dir, readonly=True)
        trial = session.best()
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    if trial is None:
        raise fail(f"no trial of {dir} completed successfully yet; see 'tunesmith show {dir}'", code=1)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "trial": trial.number,
                    "value": trial.value,
                    "params": trial.params,
                    "metric": session.spec.metric,
                    "metrics": trial.metrics,
                }
            )
            + "\n"
        )
        return
    out.print(f"#{trial.number} {session.spec.metric}={fmt_value(trial.value)}")
    for k, v in trial.params.items():
        out.print(f"  {k}: {v}")


@app.command()
def show(dir: DirArg, trial: Annotated[int | None, typer.Argument(help="one trial's number")] = None) -> None:
    """All trials as a table, or one trial in detail (curve, reason, stderr tail, log paths)."""
    try:
        session = Session.open(dir, readonly=True)
        trials = session.trials()
        if trial is None:
            _table(session, trials)
            return
        t = session.store.trial(trial)
    except KeyError:
        raise fail(f"no trial #{trial} in {dir}; 'tunesmith show {dir}' lists them") from None
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    out.print(f"[bold]trial #{t.number}[/] {t.state.value}  {session.spec.metric}={fmt_value(t.value)}")
    for label, value in (
        ("proposer", t.proposer.value),
        ("strategy", t.strategy),
        ("model", t.model),
        ("rationale", t.rationale),
        ("retry of", t.retry_of),
        ("reason", t.reason),
        ("duration", f"{t.duration:.2f} s" if t.duration is not None else None),
        ("folder", t.info.get("trial_dir")),
    ):
        if value is not None:
            out.print(f"{label:>10}: {escape(str(value))}")
    out.print("    params: " + escape(json.dumps(t.params)))
    curve = session.metrics(t.number)
    if curve:
        out.print(f"     curve: {len(curve)} reports")
        for p in curve[-10:]:
            out.print(f"            step {p.step}: " + ", ".join(f"{k}={fmt_value(v)}" for k, v in p.values.items()))
    if t.stderr_tail:
        out.print("stderr tail:")
        out.print(escape(t.stderr_tail[-1500:]), markup=False)


def _table(session: Session, trials: list[Any]) -> None:
    table = Table(title=str(session.dir))
    for col in ("#", "state", session.spec.metric, "proposer", "time", "params / reason"):
        table.add_column(col)
    for t in trials:
        detail = fmt_params(t.params, 80) if t.state.value == "complete" else (t.reason or fmt_params(t.params, 80))
        table.add_row(
            str(t.number),
            t.state.value,
            fmt_value(t.value),
            t.proposer.value if t.proposer.value != "strategy" else (t.strategy or "strategy"),
            f"{t.duration:.1f}s" if t.duration is not None else "",
            escape(detail),
        )
    out.print(table)


@app.command()
def export(
    dir: DirArg,
    format: Annotated[str, typer.Option("--format", "-f", help="csv|json|parquet|optuna")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file to write")] = None,
) -> None:
    """Write the trials as CSV/JSON/Parquet, or as an Optuna storage for optuna-dashboard."""
    from agent.study.export import export as do_export

    try:
        session = Session.open(dir, readonly=True)
        trials = session.trials()
        suffix = {"optuna": "optuna.db"}.get(format, format)
        target = output or session.dir / f"export.{suffix}"
        curves = {t.number: session.metrics(t.number) for t in trials} if format in ("json", "optuna") else None
        path = do_export(
            trials,
            format,
            target,
            curves=curves,
            space=session.spec.space,
            direction=session.spec.direction,
            metric=session.spec.metric,
            name=session.spec.name or session.dir.name,
        )
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    out.print(f"wrote {path}" + (f"  (view: optuna-dashboard sqlite:///{path})" if format == "optuna" else ""))


@app.command()
def dashboard(
    dir: DirArg,
    port: Annotated[int, typer.Option("--port")] = 8080,
    host: Annotated[str, typer.Option("--host", help="bind address (default: loopback only)")] = "127.0.0.1",
) -> None:
    """Export the study to an Optuna storage and serve it with optuna-dashboard."""
    from agent.errors import require
    from agent.study.export import export as do_export

    try:
        require("optuna_dashboard", "dashboard")
        session = Session.open(dir, readonly=True)
        trials = session.trials()
        path = do_export(
            trials,
            "optuna",
            session.dir / "export.optuna.db",
            curves={t.number: session.metrics(t.number) for t in trials},
            space=session.spec.space,
            direction=session.spec.direction,
            metric=session.spec.metric,
            name=session.spec.name or session.dir.name,
        )
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    import optuna_dashboard

    out.print(f"optuna-dashboard on http://{host}:{port} (a snapshot of {session.dir}; Ctrl-C to stop)")
    optuna_dashboard.run_server(f"sqlite:///{path}", host=host, port=port)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (kill, timeout, a service manager) stops a study like Ctrl-C: trials stopped and recorded.
    A second SIGTERM during that clean-up ends the process at once (its trials die with it)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    app()


from agent.faces.cli import chat, serve, steer  # noqa: E402, F401 - they register their commands on app

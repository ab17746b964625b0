"""``tunesmith`` commands: tune, resume, status, best, show, export, dashboard.

Every ``TunesmithError`` becomes one line on stderr and exit status 2; Ctrl-C leaves the study
resumable and exits 130; a run of ``tune`` or ``resume`` that ends with no completed trial, or that
stopped on a broken setup (agent/study/doctor.py), exits 1 so that scripts and CI see it. Other
product surfaces register their commands here too (chat, serve, steer, plot and ls in look.py, eval).
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

from agent.errors import TunesmithError
from agent.faces.cli.help import WholeHelp
from agent.faces.cli.scale import ExecutorOpt, RayAddressOpt, apply_executor_choice, executor_choice
from agent.faces.format import cost_text, fmt_params, fmt_value
from agent.faces.live import face_name, run_live
from agent.study.progress import ttr_line
from agent.study.proposers import Proposer
from agent.study.session import Session

app = typer.Typer(
    cls=WholeHelp,
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
    """Run with the live display (``faces.live.run_live``); Ctrl-C exits 130, the study resumable. Exits 1
    when no trial has completed or the study stopped on a broken setup."""
    try:
        summary = run_live(session, quiet=quiet, as_json=as_json, proposer=proposer, out=out, err=err)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if summary.best is None or summary.reason == "broken_setup":
        raise typer.Exit(1)


@app.command()
def tune(
    spec: Annotated[
        str | None,
        typer.Argument(
            help="a spec file (.yaml/.toml/.json), an Optuna script (.py), or a request in plain words (needs an LLM)"
        ),
    ] = None,
    dir: Annotated[Path | None, typer.Option("--dir", help="study folder (default: studies/NAME-TIME)")] = None,
    trials: Annotated[int | None, typer.Option("--trials", help="max trials (overrides the spec)")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="trials in parallel")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="auto|random|qmc|tpe|gp|cmaes|grid")] = None,
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
    from agent.core.spec import load_spec, with_overrides

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
        if loaded is not None:
            from agent.strategies.steplaw import steplaw_warnings
            from agent.study.script import unread_params_warnings, unreported_warning

            warnings = [
                *loaded.space.warnings(),
                *steplaw_warnings(loaded.space, loaded.task),
                *unread_params_warnings(loaded),
                *filter(None, [unreported_warning(loaded)]),
            ]
            for warning in warnings:
                err.print(f"[yellow]warning:[/] {escape(warning)}")
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
            loaded = with_overrides(loaded, **overrides)
        from agent.study.wiring import preflight

        preflight(loaded, choice, dir)  # a study that cannot start leaves no folder behind
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
    from agent.faces.cli.look import paused_by
    from agent.study.steering import describe_budget

    try:
        session = Session.open(dir, readonly=True)
        info = session.status()
        info["paused_by"] = paused_by(session)
        info["limits"] = describe_budget(session.spec.budget)
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
        return
    states = ", ".join(f"{k} {v}" for k, v in info["states"].items() if v)
    out.print(f"[bold]{escape(info['dir'])}[/]  {info['status']}")
    if info.get("paused_by"):
        out.print(
            f"[bold yellow]paused by {escape(face_name(info['paused_by']))}[/]: running trials finish, no new ones "
            f"start; continue with: tunesmith steer {escape(info['dir'])} resume"
        )
    if info["status"] == "interrupted":
        out.print(f"[yellow]no process is running it now[/]; continue with: tunesmith resume {escape(info['dir'])}")
    if info.get("stop_reason"):
        out.print(f"[bold red]{escape(info['stop_reason'])}[/]")
    out.print(f"trials {info['done']}/{info['budget'] or '∞'}  ({states or 'none yet'})")
    if info.get("limits"):
        out.print("limits: " + escape(info["limits"]))
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
        out.print(f"LLM usage: {usage.get('total_tokens', 0)} tokens, {cost_text(usage)}")
    chat_usage = info.get("chat_usage")  # (not ``chat``: that name is the chat command's module, imported below)
    if chat_usage:
        out.print(
            f"chat usage: {chat_usage.get('total_tokens', 0)} tokens in {chat_usage.get('calls', 0)} calls, "
            f"{cost_text(chat_usage)}"
        )
    dup = info.get("duplicates") or {}
    if any(dup.values()):
        out.print(
            f"duplicates: {dup.get('refused', 0)} proposals refused (tried before), {dup.get('reused', 0)} given an "
            f"earlier result, {dup.get('equivalent', 0)} trials stopped as equivalent (functional fingerprint)"
        )
    ttr = ttr_line(info.get("time_to_result"))
    if ttr:
        out.print(ttr)
    model = info.get("model") or {}
    finish = model.get("finish")
    if finish and finish["kind"] == "setup_broken":
        out.print(f"[bold yellow]the model says the setup is broken:[/] {escape(finish['recommendation'])}")
    elif finish:
        out.print(f"[bold]the model's recommendation:[/] {escape(finish['recommendation'])}")
    if model.get("last_note"):
        out.print(f"[dim]the model's last note: {escape(model['last_note'])}[/]")


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
def show(
    dir: DirArg,
    trial: Annotated[int | None, typer.Argument(help="one trial's number")] = None,
    context: Annotated[
        bool, typer.Option("--context", help="the task context every LLM prompt of this study starts with")
    ] = False,
    lineage: Annotated[
        bool, typer.Option("--lineage", help="Population Based Training: each member's segments and the schedule")
    ] = False,
    as_json: JsonOpt = False,
    sort: Annotated[
        str | None, typer.Option("--sort", help="number|value|duration|state (value: best first; default: number)")
    ] = None,
    top: Annotated[int | None, typer.Option("--top", help="only the first N rows (alone: the N best)")] = None,
) -> None:
    """All trials as a table (sorted, the top N), or one trial in detail: times, exit code, max RSS, CPU
    time, the whole curve, reason and stderr tail."""
    from agent.faces.cli import trials_view

    try:
        session = Session.open(dir, readonly=True)
        trials = session.trials()
        if lineage:
            from agent.faces.lineage import lineage_lines

            spec = session.spec
            mutable = spec.scheduler.mutable if spec.scheduler else list(spec.space.names)
            for line in lineage_lines(
                trials, session.metrics, metric=spec.metric, direction=spec.direction, mutable=mutable
            ):
                out.print(line, markup=False, highlight=False)
            return
        if context:
            from agent.hybrid.context import task_context

            out.print(task_context(session.spec, metrics={m for t in trials for m in t.metrics}), markup=False)
            return
        if trial is None:
            rows = trials_view.ordered(trials, sort, top, session.spec.direction)
            if as_json:
                sys.stdout.write(json.dumps([trials_view.row(session, t) for t in rows]) + "\n")
            else:
                shown = f" ({len(rows)} of {len(trials)}, by {sort or 'value'})" if len(rows) < len(trials) else ""
                out.print(trials_view.table(session, rows, title=f"{session.dir}{shown}"))
            return
        t = session.store.trial(trial)
        curve = session.metrics(t.number)
    except KeyError:
        raise fail(f"no trial #{trial} in {dir}; 'tunesmith show {dir}' lists them") from None
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(trials_view.detail_json(session, t, curve)) + "\n")
        return
    for line in trials_view.detail_lines(session, t, curve):
        out.print(line, highlight=False)
    if t.stderr_tail:
        out.print("stderr tail:")
        out.print(t.stderr_tail[-1500:], markup=False, highlight=False)


@app.command()
def export(
    dir: DirArg,
    format: Annotated[
        str, typer.Option("--format", "-f", help="csv|json|parquet|optuna, or a tracker: mlflow|wandb")
    ] = "csv",
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="file to write; mlflow: a tracking URI or a path (default sqlite:///DIR/mlflow.db); wandb: a folder",
        ),
    ] = None,
) -> None:
    """Write the trials as CSV/JSON/Parquet, as an Optuna storage for optuna-dashboard, or as MLflow or
    (offline) Weights & Biases runs."""
    from agent.study.export import TRACKERS, export_session, export_to_tracker

    try:
        session = Session.open(dir, readonly=True)
        if format in TRACKERS:
            out.print(f"wrote {export_to_tracker(session, format, output)}")
            return
        suffix = {"optuna": "optuna.db"}.get(format, format)
        target = Path(output) if output else session.dir / f"export.{suffix}"
        path = export_session(session, format, target)
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
    from agent.study.export import export_session

    try:
        require("optuna_dashboard", "dashboard")
        session = Session.open(dir, readonly=True)
        path = export_session(session, "optuna", session.dir / "export.optuna.db")
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


from agent.faces.cli import chat, look, serve, steer  # noqa: E402, F401 - they register their commands on app

"""``tunesmith tune`` with an LLM: a request in plain words, a spec with an ``llm`` section, ``--model``, or
``--replay DIR``; and ``resume`` of such studies. Registered through ``tune``/``resume`` in app.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.markup import escape

from agent.core.records import EventKind
from agent.core.spec import StudySpec, load_spec
from agent.errors import StudyError, TunesmithError
from agent.faces.cli.scale import apply_executor_choice
from agent.faces.format import cost_text
from agent.hybrid.request import draft_spec
from agent.hybrid.setup import approver, interactive, make_hybrid, open_stack
from agent.llm.cache import load_recording
from agent.llm.settings import HOW_TO_CONNECT, LLMSettings, resolve_settings
from agent.study.proposers import Proposer
from agent.study.session import Session
from agent.study.wiring import ExecutorChoice, preflight


def _with_overrides(spec: StudySpec, overrides: dict[str, Any], llm: dict[str, Any]) -> StudySpec:
    data = spec.to_dict()
    for key, value in overrides.items():
        if value is not None:
            (data.setdefault("budget", {}) if key == "max_trials" else data)[key] = value
    section = dict(data.get("llm") or {})
    for key, value in llm.items():  # the model and endpoint used, so that resume finds them (never the key)
        if value is not None and key not in section:
            section[key] = value
    data["llm"] = section
    return load_spec(data)


def _show(spec: StudySpec, notes: str | None, warnings: list[str]) -> None:
    from agent.faces.cli.app import out

    shown = {
        k: v
        for k, v in spec.to_dict().items()
        if k not in ("env", "isolation", "network", "grace_period", "gpus_per_trial", "pass_args", "fixed")
    }
    shown["llm"] = {k: v for k, v in shown.get("llm", {}).items() if k in ("model", "base_url")}
    out.print("[bold]drafted spec[/] (saved with the study when it runs):")
    out.print(f"params reach the script as {_pass_text(spec)}")
    out.print(escape(yaml.safe_dump(shown, sort_keys=False).rstrip()), markup=True)
    if notes:
        out.print(f"[dim]model's notes: {escape(notes)}[/]")
    for w in warnings:
        out.print(f"[yellow]warning:[/] {escape(w)}")


def _pass_text(spec: StudySpec) -> str:
    if spec.function:
        return "function arguments"
    if spec.arg_style == "--name=value":
        return "--name=value Python literals (pass_args: --name=value) and the params file (TUNESMITH_PARAMS)"
    if spec.arg_style == "name=value":
        return "name=value overrides, Hydra style (pass_args: name=value) and the params file (TUNESMITH_PARAMS)"
    if spec.pass_args:
        return "--name value flags (pass_args: true) and the params file (TUNESMITH_PARAMS)"
    return "the params file only (TUNESMITH_PARAMS; tunesmith.params() reads it; pass_args: false)"


def save_draft(spec: StudySpec, folder: Path) -> Path:
    """Write a declined draft to a new file in ``folder`` (never over an existing one); returns its path."""
    stem = f"tunesmith-draft-{spec.name or 'study'}"
    for i in range(1000):
        path = folder / (f"{stem}.yaml" if i == 0 else f"{stem}-{i}.yaml")
        try:
            with path.open("x", encoding="utf-8") as fh:
                fh.write(yaml.safe_dump(spec.to_dict(), sort_keys=False))
            return path
        except FileExistsError:
            continue
    raise TunesmithError(f"cannot save the draft in {folder}: too many drafts there; remove some")


def _settings(model: str | None, spec: StudySpec | None, request: str | None) -> LLMSettings:
    settings = resolve_settings(model=model, spec_llm=spec.llm if spec else None)
    if not settings.configured:
        what = "plain-words requests need an LLM" if request else "this study asks for an LLM (--model or llm:)"
        raise TunesmithError(
            f"{what}; {HOW_TO_CONNECT}; or run a spec file classically, e.g. tunesmith tune "
            "examples/sklearn-digits/spec.yaml"
        )
    return settings


def tune_with_llm(
    request: str | None,
    spec: StudySpec | None,
    *,
    dir: Path | None,
    overrides: dict[str, Any],
    model: str | None,
    yes: bool,
    replay: Path | None,
    quiet: bool,
    as_json: bool,
    executor: ExecutorChoice | None = None,
) -> None:
    """Draft (or load) the spec, create the study, and run it with the hybrid proposer (on ``executor``)."""
    from agent.faces.cli.app import err, out, run_session

    recording = None
    if replay is not None:
        old = Session.open(replay, readonly=True)
        recording = load_recording(replay)
        request = request or old.store.get_meta("request")
        spec = spec or old.spec
        overrides = {**overrides, "seed": overrides.get("seed") if overrides.get("seed") is not None else old.seed}
        settings = resolve_settings(model=model, spec_llm=old.spec.llm)
        old.close()
    else:
        settings = _settings(model, spec, request)
    ask = interactive() and not as_json
    stack = open_stack(settings, spec, replay=recording)
    try:
        if request is not None:
            drafted = draft_spec(
                request,
                stack.client,
                ask=typer.prompt if ask else None,
                trials=overrides.get("max_trials"),
                llm=settings.study_section(),
            )
            if spec is None:  # with --replay the recorded study's spec is run; the draft only replays the call
                spec = drafted.spec
                if not as_json:
                    _show(spec, drafted.notes, drafted.warnings)
                if ask and not yes and not typer.confirm("Run this study?", default=True):
                    saved = save_draft(spec, Path.cwd())
                    err.print(f"not run; the draft is saved as {saved}: edit it, then run: tunesmith tune {saved}")
                    raise typer.Exit(1)
        assert spec is not None
        spec = _with_overrides(spec, overrides, settings.public())
        preflight(spec, executor)  # a study that cannot start leaves no folder behind
        session = Session.create(spec, dir, request=request)
        apply_executor_choice(session, executor)
        stack.cache.record_to(session.dir)
        if replay is not None:
            session.store.set_meta("replay_of", str(replay.resolve()))
        if not as_json:
            out.print(
                f"[bold]LLM[/] {escape(stack.model or '?')} proposes a share of the trials "
                f"(from {escape(settings.base_url or 'api.openai.com')}"
                f"{', replayed from ' + escape(str(replay)) if replay else ''})"
            )
        proposer = make_hybrid(session, stack, approve=approver(yes=yes, ask=typer.confirm if ask else None))
        run_session(session, quiet=quiet, as_json=as_json, proposer=proposer)
        if not as_json:
            _usage_line(session, replayed=replay is not None)
            if replay is not None and stack.cache.mismatches:
                err.print(
                    f"[yellow]replay:[/] {stack.cache.mismatches} request(s) differed from the recording "
                    "(answered in recorded order)"
                )
    finally:
        stack.close()


def _usage_line(session: Session, *, replayed: bool = False) -> None:
    from agent.faces.cli.app import out

    usage = session.store.get_meta("usage") or {}
    fallbacks = len(session.store.events(EventKind.FALLBACK))
    spent = f"{usage.get('total_tokens', 0)} tokens, {cost_text(usage)}"
    if replayed:  # the recorded answers were reused: the numbers are the original run's, nothing was spent now
        spent = f"replayed from the recording, nothing spent now (the original run: {spent})"
    out.print(f"LLM: {usage.get('calls', 0)} calls, {spent}; fallbacks to the strategy: {fallbacks}")


def resume_proposer(session: Session, *, yes: bool) -> Proposer | None:
    """The hybrid for a study that used an LLM (None: classical). Without an LLM now, the strategy carries on."""
    from agent.faces.cli.app import err

    if session.spec.llm is None:
        return None
    settings = resolve_settings(spec_llm=session.spec.llm)
    if not settings.configured:
        err.print(
            f"[yellow]warning:[/] this study used an LLM but none is configured now; the classical strategy "
            f"continues; {HOW_TO_CONNECT}"
        )
        return None
    stack = open_stack(settings, session.spec)
    try:
        stack.cache.record_to(session.dir)
    except OSError as exc:
        raise StudyError(f"cannot write the LLM recording in {session.dir}: {exc}") from None
    return make_hybrid(session, stack, approve=approver(yes=yes, ask=typer.confirm if interactive() else None))

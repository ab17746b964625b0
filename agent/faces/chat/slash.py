"""The slash-commands: everything a person can do in a chat without any LLM.

Each handler takes the conversation and the words after the command and returns plain text. The user's
mistakes (unknown command, bad number, no study open) come back as one line that says how to fix it;
they never raise. Budget and space changes are proposed and wait for ``/approve`` (see approvals.py), and
so does a study a model proposed to start (``Conversation.pending_start``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.errors import TunesmithError
from agent.faces import insights, plots
from agent.faces.chat import approvals, files, text
from agent.study.steering import BUDGET_KEYS

if TYPE_CHECKING:
    from agent.faces.chat.conversation import Conversation, StartProposal
    from agent.faces.handle import StudyHandle

Handler = Callable[["Conversation", list[str]], str]

HELP: list[tuple[str, str]] = [
    ("/status", "progress, states, best so far, where the study runs"),
    ("/best", "the best trial and its parameters"),
    ("/trials [N]", "the last N trials (default 15)"),
    ("/trial N", "one trial: value, rationale, failure reason, curve, log tail"),
    ("/stop", "stop the study (running trials are re-run once on resume)"),
    ("/pause", "let running trials finish, start no new ones"),
    ("/resume", "continue a paused study, or run a stopped one in this process"),
    ("/space [NAME key=value ...]", "show the search space, or propose a change: /space lr high=1e-3"),
    ("/budget [key=value ...]", "show the budget, or propose one: /budget trials=40 timeout=10m time=2h"),
    ("/approve [ID]", "apply the latest proposal: budget, space, stop/pause/resume, a new study (/reject drops it)"),
    ("/importance", "which parameters matter most (fANOVA)"),
    ("/plot [KIND ...]", "plots as SVG into DIR/plots/ (on the page: links): " + "|".join(plots.ALL_KINDS)),
    (
        "/export [csv|json|parquet|optuna|mlflow|wandb]",
        "the trials as a file in the study folder (on the page: a link), or to MLflow / W&B offline runs there",
    ),
    ("/start SPEC [strategy=NAME trials=N workers=N seed=N]", "create a study from a spec and run it"),
    ("/studies", "the studies under the root folder"),
    ("/open STUDY", "switch to another study"),
    ("/help", "this list"),
]
#: only in the terminal (the REPL handles it before the slash-commands); Ctrl-D leaves too
TERMINAL_HELP = ("/quit", "leave the chat (also /exit or Ctrl-D); a study this chat runs stops, resumable")
BUDGET_ALIASES = {"trials": "max_trials", "time": "max_time", "timeout": "trial_timeout", "memory": "memory_mb"}
EXPORT_FORMATS = ("csv", "json", "parquet", "optuna", "mlflow", "wandb")


class UserError(TunesmithError):
    """A mistake in what the person typed; shown as one line."""


def _needs_study(conv: Conversation) -> StudyHandle:
    if conv.handle is None:
        raise UserError("no study is open: /studies lists them, /open STUDY opens one, /start SPEC starts one")
    return conv.handle


def _int(word: str, what: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise UserError(f"{what} must be a whole number, got {word!r}") from None


def _scalar(word: str) -> Any:
    low = word.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(word)
        except ValueError:
            pass
    return word


def _pairs(words: list[str], usage: str) -> dict[str, str]:
    out = {}
    for w in words:
        key, sep, value = w.partition("=")
        if not sep or not key or not value:
            raise UserError(f"expected key=value, got {w!r}; e.g. {usage}")
        out[key] = value
    return out


# ------------------------------------------------------------------ reading
def cmd_help(conv: Conversation, args: list[str]) -> str:
    shown = HELP if conv.pinned else [*HELP, TERMINAL_HELP]  # the page's chat has nothing to leave
    width = max(len(c) for c, _ in shown)
    lines = [f"{c:<{width}}  {d}" for c, d in shown]
    lines.append("anything else is sent to the LLM (questions, steering, starting a study from a request)")
    if not conv.pinned:
        lines.append("Tab completes a command; Up and Down recall earlier lines")
    return "\n".join(lines)


def cmd_status(conv: Conversation, args: list[str]) -> str:
    return text.status_text(_needs_study(conv).status())


def cmd_best(conv: Conversation, args: list[str]) -> str:
    h = _needs_study(conv)
    return text.best_text(h.best(), h.spec.metric)


def cmd_trials(conv: Conversation, args: list[str]) -> str:
    h = _needs_study(conv)
    limit = _int(args[0], "N") if args else 15
    return text.trials_text(h.trials(), h.spec.metric, max(1, limit))


def cmd_trial(conv: Conversation, args: list[str]) -> str:
    h = _needs_study(conv)
    if not args:
        raise UserError("which trial? e.g. /trial 3")
    number = _int(args[0].lstrip("#"), "the trial number")
    try:
        t = h.trial(number)
    except KeyError:
        raise UserError(f"no trial #{number}; /trials lists them") from None
    return text.trial_text(t, h.metrics(number), h.spec.metric, files.log_tail(h.dir, number, "stdout", 10))


def cmd_importance(conv: Conversation, args: list[str]) -> str:
    h = _needs_study(conv)
    return text.importance_text(insights.importance(h.trials(), h.space, h.spec.direction))


def render_plot(h: StudyHandle, kind: str) -> str:
    """One plot of study handle ``h`` as SVG with the default options (see agent/faces/plots.py)."""
    return plots.render(h, kind)


def download_link(h: StudyHandle, what: str) -> str:
    """Where the web page downloads ``what`` of ``h``'s study (``plots/KIND`` or ``export/FORMAT``): a
    path on the page's own server, which the page turns into a download link."""
    return f"/api/studies/{h.dir.name}/{what}"


def cmd_plot(conv: Conversation, args: list[str]) -> str:
    h = _needs_study(conv)
    kinds = args or list(plots.kinds_for(h.spec))
    unknown = [k for k in kinds if k not in plots.kinds_for(h.spec)]
    if unknown:
        raise UserError(f"unknown plot {unknown[0]!r}; choose one of {', '.join(plots.kinds_for(h.spec))}")
    rows = insights.history(h.trials(), h.spec.direction)
    best = [r["best"] for r in rows if r["best"] is not None]
    lines = [f"best so far: {text.sparkline(best)}"] if best else []
    if conv.pinned:  # the web page: links to download, not paths on the server's disk
        links = [download_link(h, f"plots/{kind}?download=svg") for kind in kinds]
        return "\n".join([*lines, "download: " + " ".join(links)])
    if not h.writable:
        raise UserError(f"{h.dir} is read-only here; cannot write plots")
    written = []
    for kind in kinds:
        svg = render_plot(h, kind)
        path = files.writable_inside(h.dir, "plots", f"{kind}.svg")
        path.write_text(svg, encoding="utf-8")
        written.append(str(path))
    return "\n".join([*lines, "wrote " + ", ".join(written), "(open them in a browser)"])


def cmd_export(conv: Conversation, args: list[str]) -> str:
    from agent.study.export import SUFFIXES, TRACKERS, export_session, export_to_tracker

    h = _needs_study(conv)
    fmt = args[0] if args else "csv"
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if fmt in TRACKERS:  # the person typed it: the tracker's store goes inside the study folder, as the CLI's
        if not h.writable:
            raise UserError(f"{h.dir} is read-only here; cannot export to {fmt}")
        return f"wrote {export_to_tracker(h.session, fmt)}"
    if conv.pinned:  # the web page: a link to download, not a path on the server's disk
        hint = "  (view: optuna-dashboard sqlite:///FILE)" if fmt == "optuna" else ""
        return f"download: {download_link(h, f'export/{fmt}')}{hint}"
    target = files.writable_inside(h.dir, f"export.{SUFFIXES[fmt]}")
    path = export_session(h.session, fmt, target)
    hint = f"  (view: optuna-dashboard sqlite:///{path})" if fmt == "optuna" else ""
    return f"wrote {path}{hint}"


# ------------------------------------------------------------------ steering
def _steer(conv: Conversation, op: str) -> str:
    return _needs_study(conv).send(op).message


def cmd_space(conv: Conversation, args: list[str]) -> str:
    h = _needs_study(conv)
    space = h.space
    if not args:
        return text.space_text(space)
    name, changes = args[0], _pairs(args[1:], "/space lr high=1e-3")
    if name not in space.params:
        raise UserError(f"no parameter {name!r}; the space has {', '.join(space.names)}")
    if not changes:
        raise UserError(f"what should change? e.g. /space {name} low=... high=... (or choices=a,b)")
    data = space.model_dump(mode="json")
    param = dict(data["params"][name])
    for key, value in changes.items():
        if key not in ("low", "high", "log", "step", "choices"):
            raise UserError(f"cannot change {key!r}; change low, high, log, step or choices")
        param[key] = [_scalar(v) for v in value.split(",")] if key == "choices" else _scalar(value)
    data["params"][name] = param
    summary = f"search space {name}: " + ", ".join(f"{k}={v}" for k, v in changes.items())
    from agent.study.steering import parse_space

    parse_space(data)  # refuse an impossible space now, not at approval time
    return approvals.propose(
        h, "set_space", {"space": data, "rationale": f"asked in chat: /space {' '.join(args)}"}, summary
    )


def cmd_budget(conv: Conversation, args: list[str]) -> str:
    from agent.study.steering import describe_budget, merged_budget

    h = _needs_study(conv)
    if not args:
        return "budget: " + describe_budget(h.spec.budget)
    changes: dict[str, Any] = {}
    for key, value in _pairs(args, "/budget trials=40 timeout=10m").items():
        full = BUDGET_ALIASES.get(key, key)
        if full not in BUDGET_KEYS:
            raise UserError(f"unknown budget key {key!r}; use trials, time, timeout or memory")
        changes[full] = _scalar(value)
    merged_budget(h.spec.budget, changes)  # refuse a bad budget now
    summary = "budget " + ", ".join(f"{k}={v}" for k, v in changes.items())
    return approvals.propose(h, "set_budget", {"budget": changes}, summary)


def _latest_start(conv: Conversation, args: list[str]) -> StartProposal | None:
    """The proposed start, when /approve or /reject decides it rather than a proposal in the study's log."""
    proposed = conv.pending_start
    if proposed is None or args:  # '/approve ID' names a proposal in the log (the page's button)
        return None
    h = conv.handle
    waiting = approvals.pending(h) if h is not None and h.writable else None
    return proposed if waiting is None or waiting.id <= proposed.after else None


def _proposal_id(args: list[str]) -> int | None:
    return _int(args[0].lstrip("#"), "the proposal id") if args else None


def cmd_approve(conv: Conversation, args: list[str]) -> str:
    start = _latest_start(conv, args)
    if start is not None:
        conv.pending_start = None
        return conv.start_spec(start.spec)
    return approvals.approve(_needs_study(conv), _proposal_id(args)).message


def cmd_reject(conv: Conversation, args: list[str]) -> str:
    if _latest_start(conv, args) is not None:
        conv.pending_start = None
        return "dropped the proposed study"
    return approvals.reject(_needs_study(conv), _proposal_id(args)).message


# ------------------------------------------------------------------ studies
def cmd_studies(conv: Conversation, args: list[str]) -> str:
    from agent.faces.catalog import list_studies

    found = list_studies(conv.root)
    if not found:
        return f"no studies under {conv.root} yet; /start SPEC starts one"
    return "\n".join(f"  {p.name}" for p in found)


def cmd_open(conv: Conversation, args: list[str]) -> str:
    if not args:
        raise UserError("which study? /studies lists them")
    handle = conv.open(args[0])
    if conv.pinned:  # the web page's conversation stays with its study: link to the other one
        return f"{text.status_text(handle.status())}\nopen it: {conv.link(handle)}"
    return cmd_status(conv, [])


def cmd_start(conv: Conversation, args: list[str]) -> str:
    if not args:
        names = ", ".join(conv.catalog.names()) or "none found"
        raise UserError(f"which spec? e.g. /start sklearn-digits (known: {names})")
    options = _pairs(args[1:], "/start sklearn-digits strategy=tpe trials=10")
    unknown = sorted(set(options) - {"strategy", "trials", "workers", "seed"})
    if unknown:
        raise UserError(f"unknown option {unknown[0]!r}; use strategy, trials, workers or seed")
    overrides: dict[str, Any] = {k: _scalar(v) for k, v in options.items()}
    reply = conv.start(args[0], overrides)
    return reply


COMMANDS: dict[str, Handler] = {
    "help": cmd_help,
    "status": cmd_status,
    "best": cmd_best,
    "trials": cmd_trials,
    "trial": cmd_trial,
    "stop": lambda c, a: _steer(c, "stop"),
    "pause": lambda c, a: _steer(c, "pause"),
    "resume": lambda c, a: _steer(c, "resume"),
    "space": cmd_space,
    "budget": cmd_budget,
    "approve": cmd_approve,
    "reject": cmd_reject,
    "importance": cmd_importance,
    "plot": cmd_plot,
    "export": cmd_export,
    "studies": cmd_studies,
    "open": cmd_open,
    "start": cmd_start,
}


def run(conv: Conversation, line: str) -> str:
    """Run one slash-command line; always returns text."""
    try:
        words = shlex.split(line[1:])
    except ValueError as exc:
        return f"cannot read that command ({exc}); check the quotes"
    if not words:
        return cmd_help(conv, [])
    name, args = words[0].lower(), words[1:]
    handler = COMMANDS.get(name)
    if handler is None:
        return f"unknown command /{name}; /help lists them"
    try:
        return handler(conv, args)
    except TunesmithError as exc:
        return str(exc)

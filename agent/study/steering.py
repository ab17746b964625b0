"""Steering a study from any process: commands travel through the study's own event log.

A face (chat, web page, CLI) that wants a study to stop, pause, resume, change its budget or its search
space appends a ``command`` event ``{op, args, source}`` to ``study.db``. The one process running the study
(it holds the study lock) polls them every tick through ``CommandInbox`` (wired by ``Session.run``) and
answers each with a ``command_done`` event ``{command: <id>, ok, message}``. Because both travel through
the event log, every client following the study sees who asked for what and what came of it.

Contract:

* A command is applied at most once, by the engine that was running when it was posted. Commands left
  unanswered by an engine that died, or posted while none ran, are answered ``expired`` by the next
  engine at its start and never applied late (a stale "stop" must not stop a study resumed days later).
* ``send`` applies budget and space changes directly to the stored spec when no engine runs (the next
  run uses them); ``stop``/``pause``/``resume`` need a running engine and say so otherwise.
* Arguments are validated twice: by ``Command`` before posting, and by the engine before applying.
  A rejected command is answered ``ok: false`` with a one-line reason; it never crashes the engine.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.core.durations import duration_text
from agent.core.events import CommandDone, CommandPosted, payload
from agent.core.messages import one_line
from agent.core.records import EventKind
from agent.core.space import SearchSpace
from agent.core.spec import Budget
from agent.errors import SpecError, TunesmithError
from agent.study.folder import LOCK_NAME
from agent.study.store.base import TrialStore

if TYPE_CHECKING:
    from agent.study.engine import StudyEngine

Op = Literal["stop", "pause", "resume", "set_budget", "set_space"]
BUDGET_KEYS = ("max_trials", "max_time", "trial_timeout", "memory_mb")


class Command(BaseModel):
    """A steering request as posted to the event log."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    op: Op
    args: dict[str, Any] = Field(default_factory=dict)
    source: str = Field(default="user", max_length=40, description="which face sent it: chat, web, cli ...")


class Reply(BaseModel):
    """The outcome of a command: ``ok`` and a one-line message a person can act on."""

    model_config = ConfigDict(frozen=True)
    ok: bool
    message: str
    command: int | None = None


def merged_budget(current: Budget, changes: dict[str, Any]) -> Budget:
    """``current`` with ``changes`` applied (``None`` clears a limit); SpecError with one line otherwise."""
    unknown = sorted(set(changes) - set(BUDGET_KEYS))
    if unknown:
        raise SpecError(f"budget: unknown key {unknown[0]!r}; use {', '.join(BUDGET_KEYS)}")
    try:
        return Budget.model_validate({**current.model_dump(), **changes})
    except ValidationError as exc:
        raise SpecError(one_line(exc, prefix="budget")) from None


def parse_space(data: Any) -> SearchSpace:
    """A search space from its JSON form ({params: {...}} or {name: {...}}); SpecError with one line."""
    if isinstance(data, dict) and "params" not in data:
        data = {"params": data}
    try:
        return SearchSpace.model_validate(data)
    except ValidationError as exc:
        raise SpecError(one_line(exc, prefix="space")) from None


def check(command: Command, *, budget: Budget) -> Budget | SearchSpace | None:
    """Validate ``command``'s arguments; the new budget or space it carries (None for stop/pause/resume)."""
    if command.op == "set_budget":
        return merged_budget(budget, command.args.get("budget", {}))
    if command.op == "set_space":
        return parse_space(command.args.get("space"))
    return None


def is_running(directory: Path) -> bool:
    """Whether some process holds the study lock of ``directory`` right now (it runs the study).

    On Linux this reads ``/proc/locks`` and takes no lock itself, so asking never gets in the way of a
    runner starting at that moment. Elsewhere it probes with a shared, non-blocking ``flock`` that is
    released at once: a runner holds the lock exclusively, so the probe fails exactly while one runs.
    """
    path = directory / LOCK_NAME
    try:
        st = path.stat()
    except OSError:
        return False
    held = _held_in_proc_locks(st.st_dev, st.st_ino)
    if held is not None:
        return held
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed in finally
    except OSError:
        return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        fh.close()  # closing drops the probe's shared lock, if it got one
    return False


def _held_in_proc_locks(dev: int, ino: int) -> bool | None:
    """Whether /proc/locks lists an exclusive flock on the file (None when /proc/locks cannot be read)."""
    try:
        text = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    wanted = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    for line in text.splitlines():
        fields = line.split()
        if "->" in fields:  # a waiter blocked on a lock, not a holder
            continue
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[3] == "WRITE" and fields[5] == wanted:
            return True
    return False


def post(store: TrialStore, command: Command) -> int:
    """Append ``command`` to the event log; returns its event id."""
    return store.record(CommandPosted(op=command.op, args=command.args, source=command.source)).id


def wait_reply(
    store: TrialStore,
    command_id: int,
    *,
    timeout: float = 15.0,
    interval: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
) -> Reply | None:
    """The engine's answer to command ``command_id``, or None if none came within ``timeout`` seconds."""
    deadline = clock() + timeout
    while True:
        for ev in store.events(EventKind.COMMAND_DONE, after=command_id):
            done = payload(ev, CommandDone)
            if done.command == command_id:
                return Reply(ok=done.ok, message=done.message, command=command_id)
        if clock() >= deadline:
            return None
        time.sleep(interval)


class CommandInbox:
    """The engine's side of the channel (the engine's ``steering`` collaborator).

    Build it while holding the study lock: commands already in the log then are expired on the first
    poll; later ones are applied in order. Reads the log at most every ``interval`` seconds.
    """

    def __init__(
        self, store: TrialStore, *, interval: float = 0.2, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.interval = interval
        self.clock = clock
        posted = store.events(EventKind.COMMAND)
        self._after = posted[-1].id if posted else 0
        answered = {payload(ev, CommandDone).command for ev in store.events(EventKind.COMMAND_DONE)}
        self._stale = [ev.id for ev in posted if ev.id not in answered]
        self._next_poll = 0.0

    def poll(self, engine: StudyEngine) -> None:
        """Apply the commands posted since the last poll (and expire stale ones on the first)."""
        now = self.clock()
        if now < self._next_poll:
            return
        self._next_poll = now + self.interval
        for stale in self._stale:
            engine.emit(
                CommandDone(
                    command=stale,
                    ok=False,
                    message="expired: the study was not running when this was sent; send it again",
                )
            )
        self._stale = []
        for ev in self.store.events(EventKind.COMMAND, after=self._after):
            self._after = ev.id
            reply = self._apply(engine, ev.data)
            op = ev.data.get("op")  # as posted: any face may write the log, so it may not be a valid op
            engine.emit(
                CommandDone(command=ev.id, ok=reply.ok, message=reply.message, op=op if isinstance(op, str) else None)
            )

    @staticmethod
    def _apply(engine: StudyEngine, data: dict[str, Any]) -> Reply:
        try:
            command = Command.model_validate(data)
            new = check(command, budget=engine.spec.budget)
        except ValidationError as exc:
            return Reply(ok=False, message=f"rejected: {one_line(exc, prefix='command')}")
        except TunesmithError as exc:
            return Reply(ok=False, message=f"rejected: {exc}")
        who = command.source
        if command.op == "stop":
            engine.control.stop(f"stopped from {who}")
            return Reply(ok=True, message="stopping: running trials are cancelled and re-run once on resume")
        if command.op == "pause":
            engine.control.pause()
            return Reply(ok=True, message="paused: running trials finish, no new ones start until resume")
        if command.op == "resume":
            engine.control.resume()
            return Reply(ok=True, message="resumed: new trials start again")
        rationale = str(command.args.get("rationale") or f"changed from {who}")
        if isinstance(new, Budget):
            engine.set_budget(new, rationale=rationale, source=who)
            return Reply(
                ok=True,
                message="budget changed: "
                + describe_budget(new)
                + " (a new trial timeout applies to trials started from now on)",
            )
        if not isinstance(new, SearchSpace):  # check() returns a Budget or a SearchSpace for the ops above
            raise TypeError(f"unexpected change {new!r} for {command.op}")
        engine.set_space(new, rationale=rationale, source=who)
        return Reply(ok=True, message=f"search space changed ({len(new)} parameters); new trials use it")


def describe_budget(budget: Budget) -> str:
    """``max_trials=40, trial_timeout=2m``: durations as people write them (``duration_text``), not seconds."""

    def shown(key: str, value: Any) -> str:
        if key in ("max_time", "trial_timeout"):
            return duration_text(value)
        return f"{value:g}" if isinstance(value, float) else str(value)

    parts = [f"{k}={shown(k, v)}" for k, v in budget.model_dump().items() if v is not None]
    return ", ".join(parts) or "no limits"

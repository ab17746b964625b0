"""``StudyHandle``: one study folder as a face (chat, web page) holds it — read it, run it here, steer it.

The same handle works whichever process runs the study: the terminal chat, the web server, or a plain
``tunesmith tune`` in another terminal. Reading goes to ``study.db``; steering goes through the command
channel of ``agent.study.steering`` when an engine runs, and straight to the stored spec when none does.
``start_here`` runs the study in a background thread of this process (``BackgroundRun``); ``close``
stops such a run the way Ctrl-C does, so the study stays resumable.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from agent.core.events import CommandDone, payload
from agent.core.records import Event, EventKind, MetricPoint, Trial
from agent.core.space import SearchSpace
from agent.core.spec import StudySpec
from agent.errors import StudyError, TunesmithError
from agent.study.session import Session
from agent.study.steering import (
    Command,
    Reply,
    describe_budget,
    is_running,
    merged_budget,
    parse_space,
    post,
    wait_reply,
)
from agent.study.store.base import TrialStore

REPLY_TIMEOUT_S = 15.0


class BackgroundRun:
    """``Session.run`` in a thread of this process; ``stop`` leaves the study resumable."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.error: str | None = None
        self.reason: str | None = None
        self._thread = threading.Thread(target=self._main, name=f"study-{session.dir.name}", daemon=True)

    def _main(self) -> None:
        from agent.hybrid.setup import proposer_for

        try:
            self.reason = self.session.run(proposer=proposer_for(self.session)).reason
        except TunesmithError as exc:
            self.error = str(exc)
        except BaseException as exc:  # a bug of ours: keep it visible to the face instead of a dead thread
            self.error = f"the study stopped on an internal error: {type(exc).__name__}: {exc}"
            raise
        finally:
            self.session.close()

    def start(self, *, wait: float = 10.0) -> None:
        """Start, and return once the run holds the study lock (or has already ended)."""
        self._thread.start()
        deadline = time.monotonic() + wait
        while self._thread.is_alive() and not is_running(self.session.dir) and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, reason: str = "interrupted: the chat or web app was closed", timeout: float = 60.0) -> None:
        self.session.control.stop(reason)
        self._thread.join(timeout)


class StudyHandle:
    def __init__(self, directory: Path, *, source: str) -> None:
        self.dir = directory.expanduser().resolve()
        self.source = source
        self.writable = os.access(self.dir, os.W_OK)
        self.session = Session.open(self.dir, readonly=not self.writable)
        self.run: BackgroundRun | None = None

    @classmethod
    def create(cls, spec: StudySpec, directory: Path | None, *, source: str) -> StudyHandle:
        """A new study folder for ``spec`` (not started); what would fail every trial fails here, before a folder
        exists (``wiring.preflight``), as for ``tunesmith tune``."""
        from agent.study.wiring import preflight

        preflight(spec, None, directory)
        session = Session.create(spec, directory)
        session.close()
        return cls(session.dir, source=source)

    # --------------------------------------------------------------- reading
    @property
    def store(self) -> TrialStore:
        return self.session.store

    @property
    def spec(self) -> StudySpec:
        """The spec as stored now (another process may have changed its budget)."""
        return self.session.state.refresh().spec

    @property
    def space(self) -> SearchSpace:
        return self.session.state.refresh().space

    def running(self) -> bool:
        return is_running(self.dir)

    def paused(self) -> bool:
        """Whether the running engine was paused (from the event log, so every face agrees)."""
        if not self.running():
            return False
        started = max(
            (e.id for k in (EventKind.STUDY_STARTED, EventKind.STUDY_RESUMED) for e in self.store.events(k)[-1:]),
            default=0,
        )
        state = False
        for ev in self.store.events(EventKind.COMMAND_DONE, after=started):
            done = payload(ev, CommandDone)
            if done.ok and done.op in ("pause", "resume"):
                state = done.op == "pause"
        return state

    def status(self) -> dict[str, Any]:
        _ = self.spec  # refresh the budget before summarising
        info = self.session.status()
        running = self.running()
        info.update(
            running=running,
            paused=self.paused() if running else False,
            here=self.run is not None and self.run.alive,
            id=self.dir.name,
            error=self.run.error if self.run else None,
        )
        if not running and info["status"] == "running":
            info["status"] = "interrupted"  # the runner died without saying so; 'resume' continues it
        return info

    def trials(self) -> list[Trial]:
        return self.session.trials()

    def trial(self, number: int) -> Trial:
        return self.session.store.trial(number)

    def metrics(self, number: int) -> list[MetricPoint]:
        return self.session.metrics(number)

    def best(self) -> Trial | None:
        _ = self.spec
        return self.session.best()

    def events(self, kind: EventKind | None = None, *, after: int = 0) -> list[Event]:
        return self.session.events(kind, after=after)

    # -------------------------------------------------------------- steering
    def send(self, op: str, args: dict[str, Any] | None = None, *, timeout: float = REPLY_TIMEOUT_S) -> Reply:
        """Ask for ``op`` wherever the study runs; a Reply says what came of it (never raises for the user's
        mistakes)."""
        try:
            command = Command.model_validate({"op": op, "args": args or {}, "source": self.source})
        except ValueError as exc:
            return Reply(ok=False, message=f"unknown command {op!r}: {str(exc).splitlines()[0]}")
        if not self.writable:
            return Reply(ok=False, message=f"{self.dir} is read-only here; steering needs write access to it")
        if self.running():
            command_id = post(self.store, command)
            reply = wait_reply(self.store, command_id, timeout=timeout)
            return reply or Reply(
                ok=False,
                command=command_id,
                message=(f"no answer from the running study within {timeout:g} s; it may be busy — check /status"),
            )
        if command.op == "resume":
            return self.start_here()
        if command.op in ("stop", "pause"):
            return Reply(ok=False, message="the study is not running; /resume starts it again")
        try:
            return self._apply_offline(command)
        except TunesmithError as exc:
            return Reply(ok=False, message=f"rejected: {exc}")

    def _apply_offline(self, command: Command) -> Reply:
        rationale = str(command.args.get("rationale") or f"changed from {command.source}")
        if command.op == "set_budget":
            budget = merged_budget(self.spec.budget, command.args.get("budget", {}))
            self.session.state.set_budget(budget, rationale=rationale, source=command.source)
            return Reply(ok=True, message=f"budget changed: {describe_budget(budget)} (used when the study runs)")
        space = parse_space(command.args.get("space"))
        self.session.state.set_space(space, rationale=rationale, source=command.source)
        return Reply(ok=True, message=f"search space changed ({len(space)} parameters); used when the study runs")

    def start_here(self) -> Reply:
        """Run (or resume) the study in this process, in the background."""
        if self.running():
            return Reply(ok=False, message="the study is already running; /pause or /stop it instead")
        if not self.writable:
            return Reply(ok=False, message=f"{self.dir} is read-only here; running it needs write access")
        spec = self.spec
        done = sum(1 for t in self.trials() if t.state.counts)
        cap = spec.budget.max_trials
        if cap is not None and done >= cap:
            return Reply(
                ok=False,
                message=f"the budget is spent ({done}/{cap} trials); raise it first, e.g. "
                f"/budget trials={cap + 10}, then /approve and /resume",
            )
        try:
            run = BackgroundRun(Session.open(self.dir))
        except StudyError as exc:
            return Reply(ok=False, message=str(exc))
        self.run = run
        run.start()
        if run.error:
            return Reply(ok=False, message=run.error)
        return Reply(ok=True, message=f"running in this process ({done}/{cap or '∞'} trials done so far)")

    def close(self) -> None:
        """Stop a run this handle started (interrupted trials re-run on resume), then release the store."""
        if self.run is not None and self.run.alive:
            self.run.stop()
        self.session.close()


class Handles:
    """The study handles of one process (a chat or the web server), one per folder.

    ``close`` stops every run started from this process, so the studies stay resumable.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._by_dir: dict[Path, StudyHandle] = {}
        self._lock = threading.Lock()

    def get(self, directory: Path) -> StudyHandle:
        key = directory.expanduser().resolve()
        with self._lock:
            handle = self._by_dir.get(key)
            if handle is None:
                handle = self._by_dir[key] = StudyHandle(key, source=self.source)
            return handle

    def create(self, spec: StudySpec, directory: Path | None) -> StudyHandle:
        handle = StudyHandle.create(spec, directory, source=self.source)
        with self._lock:
            self._by_dir[handle.dir] = handle
        return handle

    def running_here(self) -> list[StudyHandle]:
        with self._lock:
            return [h for h in self._by_dir.values() if h.run is not None and h.run.alive]

    def close(self) -> None:
        with self._lock:
            handles, self._by_dir = list(self._by_dir.values()), {}
        for handle in handles:
            handle.close()

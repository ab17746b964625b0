"""``LocalExecutor``: runs each trial as a local process tree under ``supervisor.py``.

Per trial, ``submit`` writes ``params.json`` and ``launch.json`` into the trial folder and starts
``python -I -S supervisor.py launch.json`` in a new session; the supervisor starts the trial in its own
process group, enforces the rlimits, kills the whole tree when the trial ends or tunesmith dies, and
writes ``status.json`` (see its docstring). One watcher thread per trial then

- reads stdout and stderr into bounded logs (``output.OutputCapture``) and streams ``Report`` events
  parsed from stdout and from ``reports.jsonl`` (polled every ``REPORT_POLL`` s) as they arrive;
- enforces the timeout and carries out cancels: SIGTERM, ``grace`` seconds, SIGKILL of the trial group
  (asked of the supervisor, so it can still reap the tree and write the status; if it does not, the
  watcher kills both groups itself after ``KILL_CONFIRM`` s). An early stop writes the stop file and
  sends SIGTERM at once too, with ``base.stop_grace`` (about two of the trial's steps, at most
  ``grace``) before SIGKILL, and its outcome says in ``info['stop_seen']`` whether the trial acted on
  it (``should_stop()`` returned True to it, which leaves ``STOP.seen`` in the trial folder);
- wakes the moment the supervisor exits (a pidfd in the same ``select``), kills anything left in its
  group without waiting for the pipes to close, and emits one ``TrialOutcome``.

A command that cannot start is reported as a ``launch_error`` outcome from ``submit`` itself, without
starting a process. Linux is the supported platform (pidfd, subreaper, /proc); elsewhere the executor
degrades to polling and to killing the trial's group only.
"""

from __future__ import annotations

import fcntl
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox._proc import has_exited, kill_group, read_status, send_signal
from sandbox._runs import RunTable
from sandbox.base import Report, TrialOutcome, TrialRequest, stop_grace
from sandbox.launch import (
    WANDB_PARAMS,
    build_argv,
    build_env,
    launch_file,
    launch_problem,
    max_tasks,
    trial_paths,
    wandb_params,
)
from sandbox.output import HEAD_BYTES, TAIL_BYTES, OutputCapture, ParsedReport, ReportFile, open_untrusted
from sandbox.strict import CONTROL_FILES, setup_error

SUPERVISOR = str(Path(__file__).resolve().with_name("supervisor.py"))
REPORT_POLL = 0.2  # seconds between reads of reports.jsonl
DRAIN_TIMEOUT = 1.0  # after the trial ended, how long to wait for pipes held open by escaped processes
KILL_CONFIRM = 2.0  # after asking the supervisor to SIGKILL, when to kill everything ourselves
TAIL_CHARS = 4000
_PIPE_SIZE = 1 << 18  # bigger pipes: fewer wake-ups when a trial prints a lot
_F_SETPIPE_SZ = 1031
_EXIT, _WAKE = object(), object()  # selector keys that are not output pipes

__all__ = ["SUPERVISOR", "LocalExecutor"]


@dataclass(eq=False)
class _Run:
    """Bookkeeping of one running trial; fields below ``reports`` are guarded by the executor lock."""

    request: TrialRequest
    proc: subprocess.Popen[bytes]
    started_at: float
    deadline: float | None  # monotonic time the timeout fires
    wake_r: int
    wake_w: int
    reports: list[Report] = field(default_factory=list)
    ending: tuple[str, str] | None = None  # (status, reason) once we decided to end it
    kill_grace: float | None = None  # seconds from SIGTERM to SIGKILL, when not ``request.grace``
    term_at: float | None = None
    kill_at: float | None = None
    backstop_at: float | None = None


class LocalExecutor(RunTable["_Run"]):
    """Runs up to ``capacity`` trials at once as local processes (see module docstring).

    ``head_bytes``/``tail_bytes``: how much of each of stdout/stderr is kept in the trial's logs;
    ``tail_chars``: length of the tails in the outcome; ``python``: interpreter for the supervisor and
    for function trials; ``nofile``/``fsize_mb``: optional limits on open files and on the size of any
    file a trial writes.

    ``request.memory_mb`` becomes RLIMIT_AS, a limit on *virtual* memory: right for plain CPU code
    (allocations fail with MemoryError), wrong for CUDA or JAX, which reserve huge address ranges up
    front; leave it unset for GPU trials. ``request.network`` is not enforced by this executor.
    Reports stream in arrival order; ``TrialOutcome.reports`` merges stdout and file reports by time
    (the trial's own timestamp for file reports, arrival for stdout ones) and every one of them was
    streamed before the outcome.
    """

    def __init__(
        self,
        capacity: int = 1,
        *,
        head_bytes: int = HEAD_BYTES,
        tail_bytes: int = TAIL_BYTES,
        tail_chars: int = TAIL_CHARS,
        python: str = sys.executable,
        nofile: int | None = None,
        fsize_mb: int | None = None,
    ) -> None:
        super().__init__(capacity)
        self._head_bytes, self._tail_bytes, self._tail_chars = head_bytes, tail_bytes, tail_chars
        self._python = python
        self._rlimits: dict[str, int] = {}
        if nofile is not None:
            self._rlimits["nofile"] = nofile
        if fsize_mb is not None:
            self._rlimits["fsize"] = fsize_mb << 20
        self._threads: set[threading.Thread] = set()  # watchers still running

    # ------------------------------------------------------------------ the seam
    def submit(self, request: TrialRequest) -> None:
        with self._lock:
            self._check(request)
            started = time.time()
            try:
                run = self._start(request, started)
            except OSError as exc:
                run = (
                    f"could not start the trial: {exc}; check that {request.trial_dir} is writable and "
                    "the machine has free memory and processes"
                )
            if isinstance(run, str):
                self._launch_error(request, run, started)
                return
            self._runs[request.trial_id] = run
            thread = threading.Thread(target=self._watch, args=(run,), name=f"trial-{request.trial_id}", daemon=True)
            self._threads.add(thread)
            thread.start()

    def cancel(self, trial_id: str, reason: str, *, stop: bool = False) -> None:
        with self._lock:
            run = self._runs.get(trial_id)
            if run is None:
                return
            if run.ending is None:
                run.ending = ("stopped" if stop else "cancelled", reason)
                # SIGTERM at once, also for an early stop: a script that never polls should_stop() would
                # otherwise run on (and use the compute the stop was meant to save) for the whole grace.
                run.term_at = time.monotonic()
                if stop:
                    run.kill_grace = stop_grace(run.request.grace, list(run.reports), run.started_at)
                    try:  # the trial owns its folder: never follow a link or block on a FIFO it planted
                        with open_untrusted(trial_paths(run.request.trial_dir)["STOP"], write=True) as fh:
                            fh.write(reason.encode())
                    except OSError:
                        pass
            self._wake(run)

    def close(self) -> None:
        with self._lock:
            first = not self._closed
            self._closed = True
            ids = list(self._runs)
        if first:
            for trial_id in ids:
                self.cancel(trial_id, "executor closed")
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join()

    # ------------------------------------------------------------------ starting
    def _start(self, request: TrialRequest, started: float) -> _Run | str:
        """Start ``request``; a ``_Run``, or the reason it cannot start (no process was spawned)."""
        paths = trial_paths(request.trial_dir)
        os.makedirs(request.trial_dir, exist_ok=True)
        for stale in ("reports.jsonl", "STOP", "STOP.seen", "status.json"):  # a re-used folder: no old results
            try:
                os.unlink(paths[stale])
            except FileNotFoundError:
                pass
        with open(paths["params.json"], "w", encoding="utf-8") as fh:
            json.dump(request.params, fh)
        with open(paths[WANDB_PARAMS], "w", encoding="utf-8") as fh:
            json.dump(wandb_params(request.params), fh)
        argv, env = build_argv(request, self._python), build_env(request)
        problem = launch_problem(request, argv, env, self._python)
        if problem is not None:
            return problem
        launch = launch_file(request, argv, self._rlimits, self._python)
        launch.update(parent_pid=os.getpid(), status_path=paths["status.json"])
        with open(paths["launch.json"], "w", encoding="utf-8") as fh:
            json.dump(launch, fh)
        if request.isolation == "strict":  # bound read-only over themselves, so they must exist
            for name in CONTROL_FILES:
                open(os.path.join(request.trial_dir, name), "a").close()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        try:
            proc = subprocess.Popen(
                [self._python, "-I", "-S", SUPERVISOR, paths["launch.json"]],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=request.trial_dir,
                start_new_session=True,
            )
        except OSError:
            os.close(wake_r)
            os.close(wake_w)
            raise
        for pipe in (proc.stdout, proc.stderr):
            try:
                fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)  # type: ignore[union-attr]
            except OSError:
                pass  # over the per-user pipe quota: the default size works too
        deadline = time.monotonic() + request.timeout if request.timeout is not None else None
        return _Run(request, proc, started, deadline, wake_r, wake_w)

    @staticmethod
    def _wake(run: _Run) -> None:
        try:
            os.write(run.wake_w, b"!")
        except (BlockingIOError, OSError):
            pass  # already woken (pipe full) or already finished

    # ------------------------------------------------------------------ watching
    def _watch(self, run: _Run) -> None:
        try:
            outcome = self._follow(run)
        except BaseException as exc:  # our own bug: end the trial and say so rather than hang the agent
            for pgid in (self._trial_pgid(run), run.proc.pid):
                kill_group(pgid)
            run.proc.wait()
            outcome = TrialOutcome(
                run.request.trial_id,
                "lost",
                reason=f"internal error in the local executor: {exc!r}",
                stderr_tail=traceback.format_exc()[-self._tail_chars :],
                started_at=run.started_at,
                finished_at=time.time(),
            )
        with self._lock:  # cancel() writes to the wake pipe under this lock only while the run is listed
            del self._runs[run.request.trial_id]
            self._threads.discard(threading.current_thread())
            os.close(run.wake_r)
            os.close(run.wake_w)
            self._events.put(outcome)

    def _follow(self, run: _Run) -> TrialOutcome:
        req, proc = run.request, run.proc
        assert proc.stdout is not None and proc.stderr is not None
        paths = trial_paths(req.trial_dir)
        out = OutputCapture(
            paths["stdout.log"],
            head_bytes=self._head_bytes,
            tail_bytes=self._tail_bytes,
            on_report=lambda p: self._add_report(run, p),
        )
        err = OutputCapture(paths["stderr.log"], head_bytes=self._head_bytes, tail_bytes=self._tail_bytes)
        report_file = ReportFile(paths["reports.jsonl"], on_report=lambda p: self._add_report(run, p))
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout.fileno(), selectors.EVENT_READ, out)
        sel.register(proc.stderr.fileno(), selectors.EVENT_READ, err)
        sel.register(run.wake_r, selectors.EVENT_READ, _WAKE)
        pidfd: int | None = None
        try:
            pidfd = os.pidfd_open(proc.pid)
            sel.register(pidfd, selectors.EVENT_READ, _EXIT)
        except (AttributeError, OSError):
            pass  # no pidfd: poll for the exit instead (old kernel, not Linux)
        next_poll = time.monotonic() + REPORT_POLL
        try:
            while True:
                due = min(next_poll, self._next_action(run))
                if pidfd is None:
                    due = min(due, time.monotonic() + 0.02)
                exited = self._pump(sel, max(0.0, due - time.monotonic()), run)
                if exited or (pidfd is None and has_exited(proc.pid)):
                    break
                now = time.monotonic()
                self._escalate(run, now)
                if now >= next_poll:
                    report_file.poll()
                    next_poll = now + REPORT_POLL
            finished = time.time()
            status = read_status(paths["status.json"])
            # Whatever the supervisor did not reap: the trial's group (if it could not confirm it clean),
            # then its own group. Its zombie keeps its pid, so that group id cannot have been reused.
            if not status.get("clean"):
                kill_group(status.get("pgid"))
            kill_group(proc.pid)
            proc.wait()
            # Now only the pipes matter (the pidfd stays readable, which would make this loop spin).
            for fd in (run.wake_r, pidfd):
                if fd is not None:
                    sel.unregister(fd)
            drain_until = time.monotonic() + DRAIN_TIMEOUT
            while sel.get_map() and time.monotonic() < drain_until:
                self._pump(sel, drain_until - time.monotonic(), run)
        finally:
            sel.close()
            out.close()
            err.close()
            proc.stdout.close()
            proc.stderr.close()
            if pidfd is not None:
                os.close(pidfd)
        report_file.poll(final=True)
        return self._outcome(run, status, finished, out, err)

    def _pump(self, sel: selectors.BaseSelector, timeout: float, run: _Run) -> bool:
        """One select round: feed output, swallow wake-ups; True when the supervisor has exited."""
        exited = False
        for key, _ in sel.select(timeout):
            if key.data is _EXIT:
                exited = True
            elif key.data is _WAKE:
                os.read(run.wake_r, 4096)
            else:
                data = os.read(key.fd, _PIPE_SIZE)
                if data:
                    key.data.feed(data)
                else:
                    sel.unregister(key.fd)
        return exited

    def _add_report(self, run: _Run, parsed: ParsedReport) -> None:
        report = Report(
            run.request.trial_id,
            parsed.metrics,
            parsed.step,
            parsed.final,
            parsed.time if parsed.time is not None else time.time(),
        )
        run.reports.append(report)
        self._events.put(report)

    def _next_action(self, run: _Run) -> float:
        with self._lock:
            times = [run.term_at, run.kill_at, run.backstop_at]
            if run.ending is None:
                times.append(run.deadline)
            return min((t for t in times if t is not None), default=float("inf"))

    def _escalate(self, run: _Run, now: float) -> None:
        """Timeout and cancel, step by step: SIGTERM, then (after ``grace``, or an early stop's
        ``kill_grace``) SIGKILL via the supervisor, then (after ``KILL_CONFIRM``) SIGKILL of both groups by us."""
        with self._lock:
            req = run.request
            if run.ending is None and run.deadline is not None and now >= run.deadline:
                run.ending = ("timeout", f"ran past its {req.timeout:g} s timeout")
                run.term_at = now
            if run.term_at is not None and now >= run.term_at:
                grace = run.kill_grace if run.kill_grace is not None else req.grace
                run.term_at, run.kill_at = None, now + grace
                send_signal(run.proc.pid, signal.SIGTERM)  # the supervisor forwards it to the trial's group
            if run.kill_at is not None and now >= run.kill_at:
                run.kill_at, run.backstop_at = None, now + KILL_CONFIRM
                send_signal(run.proc.pid, signal.SIGUSR1)  # "SIGKILL the trial group now"
            if run.backstop_at is not None and now >= run.backstop_at:
                run.backstop_at = None
                kill_group(self._trial_pgid(run))
                kill_group(run.proc.pid)

    @staticmethod
    def _trial_pgid(run: _Run) -> int | None:
        pgid = read_status(trial_paths(run.request.trial_dir)["status.json"]).get("pgid")
        return pgid if isinstance(pgid, int) else None

    def _outcome(
        self, run: _Run, status: dict[str, Any], finished: float, out: OutputCapture, err: OutputCapture
    ) -> TrialOutcome:
        req, proc = run.request, run.proc
        with self._lock:
            ending = run.ending
        returncode, sig = status.get("returncode"), status.get("signal")
        reason: str | None = None
        sandbox_error = (
            setup_error(returncode, err.tail_text(4096), err.total_bytes) if req.isolation == "strict" else None
        )
        if status.get("launch_error"):
            state, reason = "launch_error", str(status["launch_error"])
        elif sandbox_error is not None and ending is None:
            state, reason = "launch_error", sandbox_error
        elif status.get("state") != "finished":  # the supervisor itself was killed or crashed
            returncode = proc.returncode
            sig = -returncode if returncode is not None and returncode < 0 else None
            if ending is not None:
                state, reason = ending
            else:
                state, reason = (
                    "lost",
                    (
                        f"the trial's supervisor ended unexpectedly (exit status "
                        f"{proc.returncode}); the trial was killed; see stderr"
                    ),
                )
        elif ending is not None:
            state, reason = ending
        else:
            state = "exited"
        info = {
            "pgid": status.get("pgid"),
            "supervisor_pid": proc.pid,
            "trial_dir": req.trial_dir,
            "stdout_bytes": out.total_bytes,
            "stderr_bytes": err.total_bytes,
        }
        for key in ("user_time", "system_time"):
            if key in status:
                info[key] = status[key]
        for name, capture in (("stdout", out), ("stderr", err)):
            if capture.write_error:
                info[f"{name}_log_error"] = capture.write_error
        if status.get("proc_limit_hit"):
            info["process_limit"] = max_tasks(req)
        if ending is not None and ending[0] == "stopped":
            info["stop_seen"] = os.path.lexists(trial_paths(req.trial_dir)["STOP.seen"])
        return TrialOutcome(
            req.trial_id,
            state,  # type: ignore[arg-type]
            returncode=returncode,
            signal=sig,
            reports=tuple(sorted(run.reports, key=lambda r: r.time)),
            stdout_tail=out.tail_text(self._tail_chars),
            stderr_tail=err.tail_text(self._tail_chars),
            started_at=run.started_at,
            finished_at=finished,
            reason=reason,
            memory_limited=req.memory_mb is not None,
            max_rss_kb=status.get("max_rss_kb"),
            info=info,
        )

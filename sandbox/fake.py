"""``InProcessExecutor``: the fake ``TrialExecutor`` shipped beside the seam, for tests of the agent.

It runs function trials (``request.function`` = ``'module:function'`` or ``'/path/file.py:function'``)
by calling ``fn(params)`` in a worker thread of the calling process: fast and deterministic, no
processes. It follows the seam's contract like ``LocalExecutor`` does (checked by one shared test suite):

- a returned number is reported as ``{TUNESMITH_OBJECTIVE: value}`` (from ``request.env``, default
  ``objective``) with ``final=True``, a returned dict as its metrics, ``None`` as nothing;
- inside the function, ``fake_report(step=..., **metrics)`` streams reports and ``fake_should_stop()``
  says whether the trial was cancelled, stopped or timed out;
- an exception ends the trial ``exited`` with return code 1 and the traceback as ``stderr_tail``
  (``SystemExit(n)`` with code n); raising ``FakeTimeout`` ends it ``timeout``;
- ``request.timeout`` and ``cancel`` end the trial at once (outcome ``timeout``/``cancelled``/
  ``stopped``); a thread cannot be killed, so its later reports and result are dropped;
- command trials are not supported: they end ``launch_error``.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from sandbox._runs import RunTable
from sandbox.base import EndStatus, Report, TrialOutcome, TrialRequest
from sandbox.run_function import DEFAULT_OBJECTIVE, load_function, report_result

__all__ = ["FakeTimeout", "InProcessExecutor", "current_trial_id", "fake_report", "fake_should_stop"]


class FakeTimeout(Exception):
    """Raise inside a fake trial to end it with status 'timeout'."""


@dataclass(eq=False)
class _FakeRun:
    executor: InProcessExecutor
    request: TrialRequest
    started_at: float
    reports: list[Report] = field(default_factory=list)
    done: bool = False  # the outcome was emitted; anything later from the thread is dropped
    stop: threading.Event = field(default_factory=threading.Event)


_local = threading.local()


def _current() -> _FakeRun | None:
    run: _FakeRun | None = getattr(_local, "run", None)
    return run


def current_trial_id() -> str | None:
    """The id of the fake trial running in this thread, or None outside one."""
    run = _current()
    return run.request.trial_id if run is not None else None


def fake_report(step: int | None = None, *, final: bool = False, **metrics: Any) -> None:
    """Report ``metrics`` from inside a function run by ``InProcessExecutor`` (like ``report()``)."""
    run = _current()
    if run is None:
        raise RuntimeError("fake_report() works only inside a function run by InProcessExecutor")
    if not metrics:
        raise ValueError("fake_report() needs at least one metric, e.g. fake_report(step=1, loss=0.5)")
    values = {k: float(v.item() if hasattr(v, "item") else v) for k, v in metrics.items()}
    run.executor._add_report(run, Report(run.request.trial_id, values, step, final, time.time()))


def fake_should_stop() -> bool:
    """True once the fake trial running in this thread was cancelled, stopped or timed out."""
    run = _current()
    return run is not None and run.stop.is_set()


class InProcessExecutor(RunTable["_FakeRun"]):
    """Runs up to ``capacity`` function trials at once in threads of this process (module docstring)."""

    def __init__(self, capacity: int = 1, *, tail_chars: int = 4000) -> None:
        super().__init__(capacity)
        self._tail_chars = tail_chars

    def submit(self, request: TrialRequest) -> None:
        with self._lock:
            self._check(request)
            run = _FakeRun(self, request, time.time())
            if request.function is None:
                self._launch_error(
                    request,
                    "the in-process fake executor runs function trials only; use LocalExecutor for commands",
                    run.started_at,
                    trial_dir=False,
                )
                return
            self._runs[request.trial_id] = run
        threading.Thread(target=self._work, args=(run,), name=f"fake-trial-{request.trial_id}", daemon=True).start()
        if request.timeout is not None:
            timer = threading.Timer(
                request.timeout,
                self._finish,
                args=(run, "timeout"),
                kwargs={"reason": f"ran past its {request.timeout:g} s timeout"},
            )
            timer.daemon = True
            timer.start()

    def cancel(self, trial_id: str, reason: str, *, stop: bool = False) -> None:
        with self._lock:
            run = self._runs.get(trial_id)
        if run is not None:
            self._finish(run, "stopped" if stop else "cancelled", reason=reason)

    def close(self) -> None:
        """Cancel what still runs. Worker threads are not joined: they may never return."""
        with self._lock:
            self._closed = True
        super().close()

    # ------------------------------------------------------------------ the worker
    def _work(self, run: _FakeRun) -> None:
        request = run.request
        _local.run = run
        status: EndStatus = "exited"
        returncode: int | None = 0
        stderr = ""
        try:
            assert request.function is not None
            fn = load_function(
                request.function, module_name=f"tunesmith_fake_{abs(hash(request.function))}", add_to_path=False
            )
            result = fn(dict(request.params))
            objective = request.env.get("TUNESMITH_OBJECTIVE") or DEFAULT_OBJECTIVE
            report_result(result, fake_report, objective)
        except FakeTimeout:
            status, returncode = "timeout", None
        except SystemExit as exc:
            code = exc.code
            returncode = code if isinstance(code, int) else (0 if code is None else 1)
            stderr = "" if isinstance(code, int) or code is None else str(code)
        except BaseException:
            returncode, stderr = 1, traceback.format_exc()
        finally:
            _local.run = None
        self._finish(run, status, returncode=returncode, stderr=stderr)

    def _add_report(self, run: _FakeRun, report: Report) -> None:
        with self._lock:
            if not run.done:
                run.reports.append(report)
                self._events.put(report)

    def _finish(
        self,
        run: _FakeRun,
        status: EndStatus,
        *,
        returncode: int | None = None,
        reason: str | None = None,
        stderr: str = "",
    ) -> None:
        """Emit the outcome once; whatever comes second (a late result after a cancel) is dropped."""
        with self._lock:
            if run.done:
                return
            run.done = True
            run.stop.set()
            self._runs.pop(run.request.trial_id, None)
            self._events.put(
                TrialOutcome(
                    run.request.trial_id,
                    status,
                    returncode=returncode,
                    reports=tuple(run.reports),
                    stderr_tail=stderr[-self._tail_chars :],
                    started_at=run.started_at,
                    finished_at=time.time(),
                    reason=reason,
                    memory_limited=run.request.memory_mb is not None,
                    info={"trial_dir": run.request.trial_dir},
                )
            )
